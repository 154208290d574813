// #/studies?… — server-side search and paging (GET /admin/api/studies): never the whole list.
import { api } from './api.js';
import { h, table } from './dom.js';
import { STUDY_HEADERS, studyRows } from './overview.js';

const FIELDS = [
  ['uid', 'Study Instance UID', 'text', 38],
  ['accession', 'Accession', 'text', 14],
  ['patientId', 'Patient ID', 'text', 14],
  ['dateFrom', 'Study date from', 'date'],
  ['dateTo', 'Study date to', 'date'],
];
const PAGE = 25;

export async function studies(main, params) {
  const form = h('form', { class: 'search', id: 'search' },
    FIELDS.map(([name, label, type, size]) => h('label', {}, label, h('input', { name, type, size, value: params.get(name) ?? '' }))),
    h('label', {}, 'State', h('select', { name: 'state' }, ['', 'pending', 'published', 'failed'].map((s) => h('option', { value: s, selected: params.get('state') === s }, s || 'any')))),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
    h('button', { type: 'button', onclick: () => (location.hash = '#/studies') }, 'Clear'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim() !== '') q.set(k, String(v).trim());
    location.hash = `#/studies${q.size ? `?${q}` : ''}`;
  });
  const results = h('div', { id: 'results' });
  main.replaceChildren(h('h1', {}, 'Studies'), form, results);

  async function refresh() {
    const q = new URLSearchParams(params);
    const offset = Number(q.get('offset') ?? 0);
    q.set('limit', String(PAGE));
    const page = await api.get(`/studies?${q}`);
    const go = (to) => {
      const next = new URLSearchParams(params);
      next.set('offset', String(Math.max(0, to)));
      location.hash = `#/studies?${next}`;
    };
    const last = Math.min(page.total, offset + page.studies.length);
    const pager = h('div', { class: 'pager' },
      h('button', { type: 'button', disabled: offset === 0, onclick: () => go(offset - PAGE) }, '‹ Previous'),
      h('span', { id: 'page-info' }, page.total === 0 ? 'No study matches.' : `${offset + 1}–${last} of ${page.total}`),
      h('button', { type: 'button', disabled: last >= page.total, onclick: () => go(offset + PAGE) }, 'Next ›'),
    );
    results.replaceChildren(pager, table(STUDY_HEADERS, studyRows(page.studies), 'No study matches.'));
    return page;
  }
  await refresh();
  return { refresh };
}

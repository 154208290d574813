// #/failures — every failed study with its reason, and Republish all with progress.
import { api } from './api.js';
import { fill, h, personName, studyLink, table, time } from './dom.js';

const PAGE = 100;

export async function failures(main) {
  let running = null; // { done, total } while Republish all runs

  async function republishAll(button) {
    button.disabled = true;
    const first = await api.get(`/studies?state=failed&limit=${PAGE}`);
    running = { done: 0, total: first.total, errors: 0 };
    const tried = new Set();
    let page = first;
    // Each republished study leaves the failed state, so the first page is always the rest.
    while (page.studies.some((s) => !tried.has(s.studyInstanceUid))) {
      for (const s of page.studies) {
        if (tried.has(s.studyInstanceUid)) continue;
        tried.add(s.studyInstanceUid);
        try {
          await api.post(`/studies/${encodeURIComponent(s.studyInstanceUid)}/republish`);
        } catch {
          running.errors += 1;
        }
        running.done += 1;
        running.total = Math.max(running.total, running.done);
        paintProgress();
      }
      page = await api.get(`/studies?state=failed&limit=${PAGE}`);
    }
    paintProgress(true);
    running = null;
    await refresh();
  }

  const progress = h('div', { id: 'progress' });
  function paintProgress(finished = false) {
    if (!running) return progress.replaceChildren();
    progress.replaceChildren(
      h('div', { class: 'row' }, h('progress', { max: running.total || 1, value: running.done }),
        h('span', {}, finished ? `Done: ${running.done} republished${running.errors ? `, ${running.errors} refused` : ''}.` : `Republishing ${running.done} of ${running.total}…`)),
    );
  }

  async function refresh() {
    const page = await api.get(`/studies?state=failed&limit=${PAGE}`);
    const button = h('button', { class: 'primary', id: 'republish-all', disabled: page.total === 0 || running !== null, onclick: (e) => republishAll(e.currentTarget) }, 'Republish all');
    fill(main, 
      h('h1', {}, `Failures (${page.total})`),
      h('div', { class: 'row' }, button, progress),
      table(['Study Instance UID', 'Patient', 'Patient ID', 'Last received', ['Attempts', 'num'], 'Reason'],
        page.studies.map((s) => h('tr', {}, h('td', {}, studyLink(s.studyInstanceUid)), h('td', {}, personName(s.patientName)), h('td', {}, s.patientId ?? ''), h('td', {}, time(s.lastReceivedAt)), h('td', { class: 'num' }, s.publish.attempts), h('td', { class: 'wrap' }, s.publish.lastError ?? ''))),
        'No failed study.'),
      page.total > page.studies.length ? h('p', { class: 'muted' }, `The ${page.studies.length} most recent of ${page.total}; search all with state "failed" on the Studies page.`) : null,
    );
  }
  await refresh();
  return { refresh: () => (running ? Promise.resolve() : refresh()) };
}

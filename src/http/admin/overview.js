// #/ — is it flowing: ingest per minute, studies by state, queue, reachability, the latest studies.
import { api } from './api.js';
import { badge, dicomDate, fill, h, personName, studyLink, table, time, truncate } from './dom.js';

function card(label, value, extra = {}) {
  return h('div', { class: 'card', ...extra }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

/** Bars of instances per minute (SVG, drawn here: no chart library). */
function chart(minutes) {
  const W = 600, H = 80, max = Math.max(1, ...minutes.map((m) => m.instances));
  const bw = W / minutes.length;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  minutes.forEach((m, i) => {
    const r = document.createElementNS(svg.namespaceURI, 'rect');
    const bh = (m.instances / max) * H;
    r.setAttribute('x', String(i * bw + 1));
    r.setAttribute('y', String(H - bh));
    r.setAttribute('width', String(Math.max(1, bw - 2)));
    r.setAttribute('height', String(bh));
    const t = document.createElementNS(svg.namespaceURI, 'title');
    t.textContent = `${time(m.minute)}: ${m.instances}`;
    r.append(t);
    svg.append(r);
  });
  const total = minutes.reduce((n, m) => n + m.instances, 0);
  const peak = Math.max(0, ...minutes.map((m) => m.instances));
  return h('div', { class: 'chart', id: 'ingest' },
    h('div', { class: 'muted' }, `Instances received per minute, last hour (this process): ${total} in all, at most ${peak} a minute`),
    svg,
    h('div', { class: 'axis-labels muted' }, h('span', {}, '−60 min'), h('span', {}, 'now')));
}

export function studyRows(studies) {
  return studies.map((s) =>
    h('tr', { 'data-study': s.studyInstanceUid },
      h('td', {}, badge(s.publish.state)),
      h('td', {}, studyLink(s.studyInstanceUid)),
      h('td', {}, personName(s.patientName)),
      h('td', {}, s.patientId ?? ''),
      h('td', {}, s.accessionNumber ?? ''),
      h('td', {}, dicomDate(s.studyDate)),
      h('td', {}, (s.modalities ?? []).join(', ')),
      h('td', { class: 'num' }, s.numberOfSeries),
      h('td', { class: 'num' }, s.numberOfInstances),
      h('td', {}, time(s.lastReceivedAt)),
      h('td', { class: 'wrap' }, truncate(s.publish.lastError ?? s.publish.note ?? '')),
    ),
  );
}

export const STUDY_HEADERS = ['State', 'Study Instance UID', 'Patient', 'Patient ID', 'Accession', 'Study date', 'Modalities', ['Series', 'num'], ['Instances', 'num'], 'Last received', 'Last error / note'];

export async function overview(main) {
  async function refresh() {
    const o = await api.get('/overview');
    const reach = Object.entries(o.reachability).map(([name, r]) =>
      card(name === 'fhirServer' ? 'FHIR server' : 'Redis', h('span', { class: `badge ${r.ok ? 'ok' : 'bad'}`, title: r.detail }, r.ok ? 'reachable' : 'unreachable'), { id: `reach-${name}` }),
    );
    fill(main, 
      h('h1', {}, 'Overview'),
      h('div', { class: 'cards' },
        card('Published', h('a', { href: '#/studies?state=published' }, o.studies.published), { id: 'count-published' }),
        card('Pending', h('a', { href: '#/studies?state=pending' }, o.studies.pending), { id: 'count-pending' }),
        card('Failed', h('a', { href: '#/failures' }, o.studies.failed), { id: 'count-failed' }),
        card('Queue: instances', o.queue.instances),
        card('Queue: publishes', o.queue.publishes),
        ...reach,
        card('Mode', h('span', { class: 'value small' }, o.mode)),
      ),
      h('h2', {}, 'Ingest'),
      chart(o.ingestPerMinute),
      h('h2', {}, 'Most recent studies'),
      table(STUDY_HEADERS, studyRows(o.recent), 'No study received yet.'),
      o.fhirServer ? h('p', { class: 'muted' }, `FHIR server: ${o.fhirServer}`) : h('p', { class: 'muted' }, 'No FHIR server configured: resources are kept in the store and served at /fhir.'),
    );
  }
  await refresh();
  return { refresh };
}

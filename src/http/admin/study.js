// #/studies/{uid} — one study: what it holds, how its publishes went, what the FHIR server said, Republish.
import { api } from './api.js';
import { badge, dicomDate, fill, h, json, kv, personName, table, time } from './dom.js';

export async function study(main, uid) {
  let notice = null;

  async function republish(button) {
    button.disabled = true;
    try {
      const r = await api.post(`/studies/${encodeURIComponent(uid)}/republish`);
      notice = h('p', { class: 'muted', id: 'republish-notice' }, `Republish requested (was ${r.previousState}); the study is pending until the publish is done.`);
    } catch (err) {
      notice = h('div', { class: 'error', id: 'republish-notice' }, `Republish failed: ${err.message}`);
    }
    await refresh();
  }

  async function refresh() {
    const s = await api.get(`/studies/${encodeURIComponent(uid)}`);
    const p = s.publish;
    // A refresh keeps the instance lists the user opened.
    const open = [...main.querySelectorAll('details')].map((d) => d.open);
    const button = h('button', { class: 'primary', id: 'republish', onclick: (e) => republish(e.currentTarget) }, 'Republish');
    fill(main, 
      h('h1', {}, 'Study ', h('span', { class: 'mono' }, uid), ' ', h('span', { id: 'state' }, badge(p.state))),
      h('div', { class: 'row' }, button, h('a', { href: '#/studies' }, '‹ all studies')),
      notice,
      p.lastError ? h('div', {}, h('h2', {}, 'Last error'), h('div', { class: 'error', id: 'last-error' }, p.lastError)) : null,
      p.note ? h('p', { class: 'muted' }, p.note) : null,
      h('h2', {}, 'Study'),
      kv([
        ['Patient', personName(s.patient?.patientName)],
        ['Patient ID', s.patient?.patientId],
        ['Birth date', dicomDate(s.patient?.patientBirthDate)],
        ['Accession', s.study?.accessionNumber],
        ['Study date', dicomDate(s.study?.studyDate)],
        ['Description', s.study?.studyDescription],
        ['Calling AE (last instance)', s.callingAeTitle],
        ['Series / instances', `${s.numberOfSeries} / ${s.numberOfInstances}`],
        ['First received', time(s.firstReceivedAt)],
        ['Last received', time(s.lastReceivedAt)],
        ['Attempts since last change', String(p.attempts)],
        ['Published at', time(p.publishedAt)],
        ['FHIR server', s.fhirServer ?? 'none (built-in endpoint)'],
        ['ImagingStudy id', p.resourceId],
      ]),
      h('h2', {}, 'Series'),
      table(['Number', 'Modality', 'Description', 'Series Instance UID', ['Instances', 'num'], 'SOP Instance UIDs'],
        s.series.map((se) => h('tr', {},
          h('td', {}, se.seriesNumber ?? ''),
          h('td', {}, se.modality ?? ''),
          h('td', {}, se.seriesDescription ?? ''),
          h('td', { class: 'mono' }, se.seriesInstanceUid),
          h('td', { class: 'num' }, se.instances.length),
          h('td', {}, h('details', {}, h('summary', {}, 'show'), h('div', { class: 'mono' }, se.instances.map((i) => h('div', {}, `${i.instanceNumber ?? '–'}  ${i.sopInstanceUid}`))))),
        )), 'No instances (all rejected).'),
      h('h2', {}, 'Publish history'),
      table(['Finished', 'Outcome', ['HTTP', 'num'], ['Duration ms', 'num'], 'Error'],
        s.history.map((a) => h('tr', {}, h('td', {}, time(a.at)), h('td', {}, badge(a.outcome)), h('td', { class: 'num' }, a.httpStatus ?? ''), h('td', { class: 'num' }, a.durationMs ?? ''), h('td', { class: 'wrap' }, a.error ?? ''))),
        'No publish attempt recorded yet.'),
      h('h2', {}, 'Last generated ImagingStudy'),
      s.imagingStudy ? json(s.imagingStudy) : h('p', { class: 'muted' }, 'None generated yet.'),
      s.manifest ? h('div', {}, h('h2', {}, 'Manifest'), json(s.manifest)) : null,
    );
    main.querySelectorAll('details').forEach((d, i) => (d.open = open[i] ?? false));
  }
  await refresh();
  return { refresh };
}

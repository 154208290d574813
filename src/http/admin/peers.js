// #/peers — configured AE titles and peers, and every calling AE this process has seen.
import { api } from './api.js';
import { fill, h, json, table, time } from './dom.js';

export async function peers(main) {
  async function refresh() {
    const p = await api.get('/peers');
    fill(main, 
      h('h1', {}, 'Peers'),
      h('h2', {}, 'This bridge'),
      table(['Called AE titles', 'Allowed callers'], [h('tr', {}, h('td', { class: 'mono' }, p.aeTitles.join(', ')), h('td', { class: 'mono' }, p.acceptsAny ? 'any (no allowlist, no peers)' : p.allowedCallers.join(', ') || '(peers only)'))]),
      h('h2', {}, 'Configured peers'),
      table(['AE title', 'Host', 'Settings'], p.peers.map(({ aeTitle, host, ...rest }) => h('tr', {}, h('td', { class: 'mono' }, aeTitle), h('td', {}, host ?? 'any'), h('td', { class: 'mono wrap' }, Object.keys(rest).length ? JSON.stringify(rest) : ''))), 'No peer configured.'),
      h('h2', {}, 'Calling AEs seen'),
      table(['Calling AE', 'Address', 'Last association', ['Associations today', 'num'], ['Instances today', 'num'], ['Rejected today', 'num'], 'Rejections (reason: count)', 'Last rejection'],
        p.seen.map((s) => h('tr', { 'data-ae': s.callingAeTitle },
          h('td', { class: 'mono' }, s.callingAeTitle || '(empty)'),
          h('td', { class: 'mono' }, s.address),
          h('td', {}, time(s.lastAssociationAt)),
          h('td', { class: 'num' }, s.associationsToday),
          h('td', { class: 'num' }, s.instancesToday),
          h('td', { class: 'num' }, s.rejectedToday),
          h('td', {}, Object.entries(s.rejectionsToday).map(([r, n]) => `${r}: ${n}`).join(', ')),
          h('td', {}, s.lastRejection ? `${time(s.lastRejection.at)} ${s.lastRejection.reason}` : ''),
        )), 'No association yet.'),
      h('p', { class: 'muted' }, `Seen by ${p.seenBy}; "today" is the UTC day.`),
    );
  }
  await refresh();
  return { refresh };
}

export async function config(main) {
  const c = await api.get('/config');
  fill(main, h('h1', {}, 'Configuration'), h('p', { class: 'muted' }, 'The effective configuration, secrets masked as check-config masks them.'), h('div', { id: 'config' }, json(c)));
  return { refresh: async () => {} };
}

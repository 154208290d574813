// DOM and formatting helpers of the console. Text goes in as text nodes only (no innerHTML): the data may hold anything.

/** h('td', { class: 'num' }, 'text', node, …): an element; attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A table: headers (a string, or [text, className]) and rows of cells. */
export function table(headers, rows, empty = 'None.') {
  const head = h('tr', {}, headers.map((c) => (Array.isArray(c) ? h('th', { class: c[1] }, c[0]) : h('th', {}, c))));
  const body = rows.length > 0 ? rows : [h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, empty))];
  return h('table', {}, h('thead', {}, head), h('tbody', {}, body));
}

/** Key/value table of [label, value] pairs (values undefined are left out). */
export function kv(pairs) {
  return h('table', { class: 'kv' }, h('tbody', {}, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

export const badge = (state) => h('span', { class: `badge ${state}` }, state);

/** DICOM PN {alphabetic: 'DOE^JANE'} → 'DOE, JANE'. */
export function personName(pn) {
  const text = typeof pn === 'string' ? pn : pn?.alphabetic;
  if (!text) return '';
  const [family, ...rest] = text.split('^');
  return rest.filter(Boolean).length ? `${family}, ${rest.filter(Boolean).join(' ')}` : family;
}

/** DICOM DA 20240301 → 2024-03-01. */
export const dicomDate = (da) => (/^\d{8}$/.test(da ?? '') ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6)}` : (da ?? ''));

/** ISO time → local 'YYYY-MM-DD HH:MM:SS'. */
export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export const studyLink = (uid) => h('a', { href: `#/studies/${encodeURIComponent(uid)}`, class: 'mono' }, uid);

export const truncate = (text, n = 120) => (text && text.length > n ? `${text.slice(0, n - 1)}…` : (text ?? ''));

/** Replaces the children of `el`, leaving out null/undefined/false (replaceChildren would write "null"). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export const json = (value) => h('pre', { class: 'json' }, JSON.stringify(value, null, 2));

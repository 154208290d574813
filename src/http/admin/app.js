// The console: hash routes, the login form, and a refresh every few seconds (polling: no long-lived connection to keep).
import { api, Unauthorized } from './api.js';
import { h } from './dom.js';
import { failures } from './failures.js';
import { overview } from './overview.js';
import { config, peers } from './peers.js';
import { studies } from './studies.js';
import { study } from './study.js';

const REFRESH_MS = 5000;
const main = document.getElementById('main');
let view = null;
let generation = 0;

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const one = /^\/studies\/(.+)$/.exec(path);
  if (one) return { name: 'studies', open: () => study(main, decodeURIComponent(one[1])) };
  if (path === '/studies') return { name: 'studies', open: () => studies(main, params) };
  if (path === '/failures') return { name: 'failures', open: () => failures(main) };
  if (path === '/peers') return { name: 'peers', open: () => peers(main) };
  if (path === '/config') return { name: 'config', open: () => config(main) };
  return { name: 'overview', open: () => overview(main) };
}

function stamp() {
  document.getElementById('updated').textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
}

function showError(err) {
  if (err instanceof Unauthorized) return showLogin();
  main.replaceChildren(h('div', { class: 'error' }, err.message));
}

async function show() {
  const mine = ++generation;
  const r = route();
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.route === r.name);
  try {
    const opened = await r.open();
    if (mine === generation) {
      view = opened;
      stamp();
    }
  } catch (err) {
    if (mine === generation) showError(err);
  }
}

function showLogin(message) {
  view = null;
  const input = h('input', { type: 'password', name: 'token', id: 'token', autocomplete: 'current-password', placeholder: 'ADMIN_TOKEN', required: true });
  const form = h('form', { class: 'login', id: 'login' },
    h('h1', {}, 'Log in'),
    h('p', { class: 'muted' }, 'This bridge needs its admin token (ADMIN_TOKEN).'),
    message ? h('div', { class: 'error' }, message) : null,
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api.login(input.value);
      await paintSession();
      await show();
    } catch (err) {
      showLogin(err instanceof Unauthorized ? 'Wrong token.' : err.message);
    }
  });
  main.replaceChildren(form);
  input.focus();
}

async function paintSession() {
  const el = document.getElementById('session');
  const s = await api.session();
  if (!s.tokenRequired) el.replaceChildren('open on loopback (no ADMIN_TOKEN)');
  else if (s.authenticated) {
    el.replaceChildren(`logged in (${s.grant})`, s.grant === 'session' ? h('button', { type: 'button', id: 'logout', onclick: async () => { await api.logout(); await paintSession(); showLogin(); } }, 'Log out') : '');
  } else el.replaceChildren('not logged in');
  return s;
}

async function start() {
  const s = await paintSession();
  window.addEventListener('hashchange', show);
  if (!s.authenticated) showLogin();
  else await show();
  setInterval(async () => {
    if (!view || document.hidden) return;
    const mine = generation;
    try {
      await view.refresh();
      if (mine === generation) stamp();
    } catch (err) {
      if (mine === generation) showError(err);
    }
  }, REFRESH_MS);
}

start().catch(showError);

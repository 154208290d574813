// The console's calls of /admin/api/ (README, "Admin console"). The session cookie goes along by itself.

export class Unauthorized extends Error {}

async function call(method, path, body) {
  const res = await fetch(`/admin/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (res.status === 401) throw new Unauthorized(data?.error ?? 'login required');
  if (!res.ok) throw new Error(data?.error ?? `HTTP ${res.status}`);
  return data;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body) => call('POST', path, body),
  session: () => call('GET', '/session'),
  login: (token) => call('POST', '/session', { token }),
  logout: () => call('DELETE', '/session'),
};

import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether a listener bound to `host` is reachable from this machine only:
 * 127.0.0.0/8, ::1 (also IPv4-mapped) and the name `localhost`. A wildcard
 * (0.0.0.0, ::), any other address and any other name are not.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const mapped = h.startsWith('::ffff:') && isIP(h.slice(7)) === 4 ? h.slice(7) : h;
  const family = isIP(mapped);
  if (family === 0) return false;
  return LOOPBACK.check(mapped, family === 4 ? 'ipv4' : 'ipv6');
}

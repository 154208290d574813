/**
 * Which connections make room for a new one. A connection is in one of
 * three pools, each bounded on its own, so that none can starve another:
 *  - pending: no complete A-ASSOCIATE-RQ yet (Sta2), nothing known of the
 *    caller but its address; bounded in all and per address, and short-lived
 *    (the Sta2 ARTIM). They never take an association slot: idle sockets
 *    cannot lock the modalities out.
 *  - associated: accepted associations, bounded by maxAssociations at
 *    A-ASSOCIATE time (A-ASSOCIATE-RJ beyond), not here.
 *  - closing: past the association (RJ, RP or A-ABORT sent), waiting for the
 *    transport to close; bounded.
 * When a pool is full, its oldest connection is closed: a new caller always
 * gets its chance, and a flood wears out only itself (per address first).
 */

export type ConnectionPhase = 'pending' | 'associated' | 'closing';

export interface AdmittedConnection {
  readonly address: string;
  readonly phase: ConnectionPhase;
}

export interface AdmissionLimits {
  maxPending: number;
  maxPendingPerAddress: number;
  maxClosing: number;
}

export interface Eviction<T> {
  connection: T;
  reason: 'pending from this address' | 'pending in all' | 'closing';
}

/** The connections to close before admitting one from `address`, given the open ones oldest first. */
export function evictionsFor<T extends AdmittedConnection>(open: Iterable<T>, address: string, limits: AdmissionLimits): Eviction<T>[] {
  const pendingByAddress = new Map<string, T[]>();
  let pending = 0;
  const closing: T[] = [];
  for (const c of open) {
    if (c.phase === 'pending') {
      pending++;
      const list = pendingByAddress.get(c.address);
      if (list) list.push(c);
      else pendingByAddress.set(c.address, [c]);
    } else if (c.phase === 'closing') closing.push(c);
  }
  const out: Eviction<T>[] = [];
  const own = pendingByAddress.get(address);
  if (own !== undefined && own.length >= limits.maxPendingPerAddress) out.push({ connection: own[0]!, reason: 'pending from this address' });
  else if (pending >= limits.maxPending) {
    // The address holding the most pending connections gives up its oldest.
    let busiest: T[] = [];
    for (const list of pendingByAddress.values()) if (list.length > busiest.length) busiest = list;
    out.push({ connection: busiest[0]!, reason: 'pending in all' });
  }
  if (closing.length >= limits.maxClosing) out.push({ connection: closing[0]!, reason: 'closing' });
  return out;
}

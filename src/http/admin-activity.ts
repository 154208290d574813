/**
 * What the admin console shows of the DICOM side that the store does not
 * keep: instances received per minute over the last hour, and the calling
 * AEs seen. Both are memory of this process, bounded, and start empty at a
 * restart; in the distributed mode each process shows what its own SCP saw
 * (the console of a worker shows none).
 */

const MINUTE_MS = 60_000;
/** Minutes the ingest chart covers. */
export const INGEST_MINUTES = 60;
/** Calling AEs remembered at most (the least recently seen go first): any AE title can call. */
const MAX_PEERS = 500;

export interface IngestMinute {
  /** ISO start of the minute. */
  minute: string;
  instances: number;
}

/** A ring of per-minute counts of received instances. */
export class IngestRate {
  private readonly counts = new Array<number>(INGEST_MINUTES).fill(0);
  /** The minute (epoch ms / 60000) each slot counts. */
  private readonly minutes = new Array<number>(INGEST_MINUTES).fill(-1);

  constructor(private readonly now: () => number = Date.now) {}

  record(instances = 1): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    const slot = minute % INGEST_MINUTES;
    if (this.minutes[slot] !== minute) {
      this.minutes[slot] = minute;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += instances;
  }

  /** The last hour, oldest minute first, the current minute last. */
  lastHour(): IngestMinute[] {
    const current = Math.floor(this.now() / MINUTE_MS);
    const out: IngestMinute[] = [];
    for (let minute = current - INGEST_MINUTES + 1; minute <= current; minute++) {
      const slot = minute % INGEST_MINUTES;
      out.push({ minute: new Date(minute * MINUTE_MS).toISOString(), instances: this.minutes[slot] === minute ? this.counts[slot]! : 0 });
    }
    return out;
  }
}

export interface PeerSeen {
  callingAeTitle: string;
  /** IP address its last association came from. */
  address: string;
  /** ISO time of its last association request (accepted or rejected). */
  lastAssociationAt: string;
  /** UTC day (YYYY-MM-DD) the counts below are of. */
  day: string;
  associationsToday: number;
  instancesToday: number;
  rejectedToday: number;
  /** Rejected associations of the day by reason (unknown-calling-ae, congestion, …). */
  rejectionsToday: Record<string, number>;
  lastRejection?: { at: string; reason: string };
}

/** Every calling AE seen by this process's SCP. */
export class PeerActivity {
  private readonly peers = new Map<string, PeerSeen>();

  constructor(private readonly now: () => number = Date.now) {}

  accepted(callingAeTitle: string, address: string): void {
    this.touch(callingAeTitle, address).associationsToday += 1;
  }

  rejected(callingAeTitle: string, address: string, reason: string): void {
    const peer = this.touch(callingAeTitle, address);
    peer.rejectedToday += 1;
    peer.rejectionsToday[reason] = (peer.rejectionsToday[reason] ?? 0) + 1;
    peer.lastRejection = { at: peer.lastAssociationAt, reason };
  }

  instance(callingAeTitle: string): void {
    const peer = this.peers.get(callingAeTitle);
    if (peer) this.today(peer).instancesToday += 1;
  }

  /** Most recently seen first. */
  list(): PeerSeen[] {
    return [...this.peers.values()].map((p) => ({ ...this.today(p), rejectionsToday: { ...p.rejectionsToday } })).reverse();
  }

  private touch(callingAeTitle: string, address: string): PeerSeen {
    const at = new Date(this.now()).toISOString();
    let peer = this.peers.get(callingAeTitle);
    if (peer) this.peers.delete(callingAeTitle); // re-inserted last: the map stays in order of last association
    peer ??= { callingAeTitle, address, lastAssociationAt: at, day: at.slice(0, 10), associationsToday: 0, instancesToday: 0, rejectedToday: 0, rejectionsToday: {} };
    peer.address = address;
    peer.lastAssociationAt = at;
    this.peers.set(callingAeTitle, this.today(peer));
    while (this.peers.size > MAX_PEERS) this.peers.delete(this.peers.keys().next().value as string);
    return peer;
  }

  /** Starts the day's counts over when the UTC day changed. */
  private today(peer: PeerSeen): PeerSeen {
    const day = new Date(this.now()).toISOString().slice(0, 10);
    if (peer.day !== day) {
      peer.day = day;
      peer.associationsToday = 0;
      peer.instancesToday = 0;
      peer.rejectedToday = 0;
      peer.rejectionsToday = {};
    }
    return peer;
  }
}

import { BlockList, isIP } from 'node:net';

/** A configured sending peer (modality or PACS), as in the YAML `peers` list. */
export interface PeerConfig {
  aeTitle: string;
  /** Address or CIDR the peer connects from; absent: any address. */
  host?: string;
  /** Issuer of Patient ID to assume when its datasets carry none. */
  defaultIssuer?: string;
  /** IANA timezone of the peer's local times. */
  timezone?: string;
  /** Concurrent associations of this peer. */
  maxAssociations?: number;
}

/** Strips the IPv4-mapped IPv6 prefix that dual-stack sockets report. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function blockListOf(spec: string): BlockList {
  const list = new BlockList();
  const [address, prefix] = spec.split('/');
  const family = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) list.addAddress(address!, family);
  else list.addSubnet(address!, Number(prefix), family);
  return list;
}

/** True when `spec` is an IP address or a CIDR block. */
export function isAddressSpec(spec: string): boolean {
  const [address, prefix, extra] = spec.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

/**
 * Which calling AE titles may associate, from where, and with which
 * settings. Built from `dicom.allowedCallers` and `peers`; replaced whole on
 * SIGHUP, so running associations keep the table they started with.
 */
export class PeerTable {
  private readonly byAeTitle = new Map<string, { peer: PeerConfig; hosts?: BlockList }>();

  constructor(
    peers: readonly PeerConfig[],
    allowedCallers: readonly string[] = [],
  ) {
    for (const aeTitle of allowedCallers) this.byAeTitle.set(aeTitle, { peer: { aeTitle } });
    for (const peer of peers) {
      this.byAeTitle.set(peer.aeTitle, { peer, hosts: peer.host ? blockListOf(peer.host) : undefined });
    }
  }

  /** No peers and no allowlist: any calling AE title is accepted. */
  get acceptsAny(): boolean {
    return this.byAeTitle.size === 0;
  }

  get size(): number {
    return this.byAeTitle.size;
  }

  peer(aeTitle: string): PeerConfig | undefined {
    return this.byAeTitle.get(aeTitle)?.peer;
  }

  isAllowed(callingAeTitle: string, peerAddress: string): boolean {
    if (this.acceptsAny) return true;
    const entry = this.byAeTitle.get(callingAeTitle);
    if (!entry) return false;
    if (!entry.hosts) return true;
    const address = normaliseAddress(peerAddress);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return entry.hosts.check(address, family);
  }
}

/**
 * DICOM over TLS (PS3.15 Annex B, the BCP 195 Secure Transport Connection
 * Profile): TLS 1.2 or later, the BCP 195 (RFC 7525 / RFC 9325) cipher
 * suites, certificates from PEM files. Used by the SCP's TLS listener
 * (./scp.ts) and the C-ECHO SCU (./echo-scu.ts). File contents are read
 * here and never logged; errors name the file, not what is in it.
 */
import { readFileSync } from 'node:fs';
import type { SecureContextOptions, TlsOptions, ConnectionOptions, TLSSocket } from 'node:tls';

/**
 * BCP 195 cipher suites (OpenSSL names): ECDHE / DHE key exchange with
 * AES-GCM only; the TLS 1.3 suites are always offered when TLS 1.3 is used.
 */
export const BCP195_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
].join(':');

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

/** The TLS listener of the SCP: PEM files, as configured under dicom.tls. */
export interface ScpTlsOptions {
  /** 0 = the OS picks. */
  port: number;
  certFile: string;
  keyFile: string;
  /** CA bundle that client certificates must chain to (required with requireClientCert). */
  caFile?: string;
  /** Ask for a client certificate and refuse the handshake without a valid one. */
  requireClientCert: boolean;
  /** Default TLSv1.2 (BCP 195). */
  minVersion?: TlsMinVersion;
}

/** A TLS file that cannot be read: names the key and the file, never the contents. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
}

function readPem(what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsFileError(`${what} ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** tls.createServer options for the SCP's TLS listener (reads the files now). */
export function serverTlsOptions(options: ScpTlsOptions, handshakeTimeoutMs: number): TlsOptions {
  const secure: SecureContextOptions = {
    cert: readPem('certFile', options.certFile),
    key: readPem('keyFile', options.keyFile),
    ...(options.caFile !== undefined ? { ca: readPem('caFile', options.caFile) } : {}),
    minVersion: options.minVersion ?? 'TLSv1.2',
    ciphers: BCP195_CIPHERS,
    honorCipherOrder: true,
  };
  return {
    ...secure,
    requestCert: options.requireClientCert,
    rejectUnauthorized: options.requireClientCert,
    handshakeTimeout: handshakeTimeoutMs,
  };
}

/** The requestor side (C-ECHO SCU): contents, as Node's tls.connect takes them. */
export interface ClientTlsOptions {
  /** Trusted CAs (PEM); unset: Node's bundled CAs. */
  ca?: string | Buffer;
  /** Client certificate and key (PEM), for an SCP that requires one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name checked against the server certificate (default: the host). */
  servername?: string;
  minVersion?: TlsMinVersion;
}

/** Reads --ca / --cert / --key style files into ClientTlsOptions. */
export function readClientTlsFiles(files: { caFile?: string; certFile?: string; keyFile?: string }): ClientTlsOptions {
  return {
    ...(files.caFile !== undefined ? { ca: readPem('CA file', files.caFile) } : {}),
    ...(files.certFile !== undefined ? { cert: readPem('certificate file', files.certFile) } : {}),
    ...(files.keyFile !== undefined ? { key: readPem('key file', files.keyFile) } : {}),
  };
}

export function clientTlsOptions(host: string, port: number, options: ClientTlsOptions): ConnectionOptions {
  const isIp = /^[0-9.]+$/.test(host) || host.includes(':');
  const servername = options.servername ?? (isIp ? undefined : host);
  return {
    host,
    port,
    minVersion: options.minVersion ?? 'TLSv1.2',
    ciphers: BCP195_CIPHERS,
    rejectUnauthorized: true,
    ...(servername !== undefined ? { servername } : {}),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
  };
}

/** Subject CN (and issuer CN) of the peer certificate, for logs; undefined without one. */
export function peerCertificateSummary(socket: TLSSocket): { subject?: string; issuer?: string } | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const cn = (name: unknown): string | undefined => {
    const value = (name as Record<string, unknown> | undefined)?.CN;
    return Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : undefined;
  };
  const subject = cn(cert.subject);
  const issuer = cn(cert.issuer);
  return { ...(subject !== undefined ? { subject } : {}), ...(issuer !== undefined ? { issuer } : {}) };
}

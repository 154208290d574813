import { parseArgs } from 'node:util';
import { AssociationError, DEFAULT_ECHO_TIMEOUT_MS, echo } from '../dimse/echo-scu.js';
import { describeStatus } from '../dimse/reasons.js';
import { TlsFileError, readClientTlsFiles, type ClientTlsOptions } from '../dimse/tls.js';
import { EXIT, type Command } from './types.js';

const USAGE = `dicom-fhir-bridge echo HOST PORT [options]

Verification SCU (C-ECHO), like DCMTK's echoscu: opens an association to
HOST:PORT (plain TCP, or TLS with --tls), proposes the Verification SOP
Class, sends one C-ECHO-RQ, waits for the C-ECHO-RSP, releases.

parameters:
  HOST                      hostname or address of the SCP
  PORT                      TCP port of the SCP (DICOM: 104 or 11112; DICOM TLS: 2762)

network options:
  -aet, --aet TITLE         calling AE title (default: ECHOSCU)
  -aec, --aec TITLE         called AE title (default: ANY-SCP)
  --timeout MS              timeout of each wait, in milliseconds (default: ${DEFAULT_ECHO_TIMEOUT_MS}):
                              TCP connect and TLS handshake, A-ASSOCIATE-AC/RJ,
                              C-ECHO-RSP, A-RELEASE-RP

transport layer security (TLS) options (PS3.15 BCP 195 profile: TLS 1.2 or
later, ECDHE/DHE with AES-GCM cipher suites):
  --tls                     use TLS; the server certificate is verified
                              against --ca (or Node's CA bundle without it) and
                              its name or IP address against HOST (or --servername)
  --ca FILE                 PEM file of the CA(s) trusted for the server certificate
  --cert FILE               PEM client certificate, for an SCP that requires one
  --key FILE                PEM private key of --cert (not encrypted)
  --servername NAME         name checked against the server certificate and
                              sent as SNI (default: HOST when it is a name)
  --tls13                   require TLS 1.3 (default: TLS 1.2 or later)

other options:
  -h, --help                print this help text and exit

output:
  success: "C-ECHO to TITLE@HOST:PORT: Success (0000H) in N ms" on stdout;
  failure: "C-ECHO to TITLE@HOST:PORT failed: REASON" on stderr, e.g.
    association rejected by ...: Rejected Permanent, Source: Service User,
      Reason: Calling AE Title Not Recognized
    connection refused by HOST:PORT
    no A-ASSOCIATE-AC or -RJ from ... within N ms
    association aborted by ...: Source: Service Provider, Reason: Unexpected PDU

exit codes:
  0   C-ECHO answered with status Success (0000H)
  1   any failure: connection refused or closed, TLS handshake failure,
      timeout, association rejected or aborted, Verification not accepted,
      a status other than Success; a --ca/--cert/--key file not readable
  64  usage error (missing HOST or PORT, bad port, bad option, --cert
      without --key, --ca/--cert/--key/--servername/--tls13 without --tls)`;

function usageError(message: string): number {
  process.stderr.write(`echo: ${message}\n\n${USAGE}\n`);
  return EXIT.usage;
}

/** DCMTK spells the AE title options with one dash: accept -aet/-aec as --aet/--aec. */
function normalize(args: string[]): string[] {
  return args.map((a) => (a === '-aet' ? '--aet' : a === '-aec' ? '--aec' : a));
}

export const echoCommand: Command = {
  name: 'echo',
  summary: 'C-ECHO an SCP (plain or TLS), like echoscu; exit 0 on success',
  usage: USAGE,
  async run(rawArgs) {
    const { values, positionals } = parseArgs({
      args: normalize(rawArgs),
      allowPositionals: true,
      options: {
        aet: { type: 'string' },
        aec: { type: 'string' },
        timeout: { type: 'string' },
        tls: { type: 'boolean' },
        ca: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        servername: { type: 'string' },
        tls13: { type: 'boolean' },
      },
    });
    if (positionals.length !== 2) return usageError(positionals.length < 2 ? 'HOST and PORT are required' : `unexpected argument ${positionals[2]}`);
    const [host, portText] = positionals as [string, string];
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return usageError(`PORT must be 1..65535, not ${portText}`);
    let timeoutMs = DEFAULT_ECHO_TIMEOUT_MS;
    if (values.timeout !== undefined) {
      timeoutMs = Number(values.timeout);
      if (!/^\d+$/.test(values.timeout) || timeoutMs < 1) return usageError(`--timeout must be a positive number of milliseconds, not ${values.timeout}`);
    }
    const callingAeTitle = values.aet ?? 'ECHOSCU';
    const calledAeTitle = values.aec ?? 'ANY-SCP';
    for (const [option, title] of [['--aet', callingAeTitle], ['--aec', calledAeTitle]] as const) {
      if (title.trim().length === 0 || title.length > 16 || !/^[\x20-\x5b\x5d-\x7e]+$/.test(title))
        return usageError(`${option}: an AE title is 1 to 16 printable ASCII characters without backslash`);
    }
    const tlsOnly = (['ca', 'cert', 'key', 'servername', 'tls13'] as const).filter((k) => values[k] !== undefined);
    if (!values.tls && tlsOnly.length > 0) return usageError(`--${tlsOnly[0]} needs --tls`);
    if ((values.cert === undefined) !== (values.key === undefined)) return usageError('--cert and --key go together');

    const target = `${calledAeTitle}@${host}:${port}`;
    let tls: ClientTlsOptions | undefined;
    if (values.tls) {
      try {
        tls = {
          ...readClientTlsFiles({
            ...(values.ca !== undefined ? { caFile: values.ca } : {}),
            ...(values.cert !== undefined ? { certFile: values.cert } : {}),
            ...(values.key !== undefined ? { keyFile: values.key } : {}),
          }),
          ...(values.servername !== undefined ? { servername: values.servername } : {}),
          ...(values.tls13 ? { minVersion: 'TLSv1.3' as const } : {}),
        };
      } catch (err) {
        if (!(err instanceof TlsFileError)) throw err;
        process.stderr.write(`C-ECHO to ${target} failed: ${err.message}\n`);
        return EXIT.failure;
      }
    }
    try {
      const result = await echo({ host, port, callingAeTitle, calledAeTitle, ...(tls ? { tls } : {}), timeoutMs });
      const status = `${describeStatus(result.status)} (${result.status.toString(16).padStart(4, '0').toUpperCase()}H)`;
      const line = `C-ECHO to ${target}: ${status} in ${Math.round(result.rttMs)} ms\n`;
      if (result.status === 0) {
        process.stdout.write(line);
        return EXIT.ok;
      }
      process.stderr.write(line);
      return EXIT.failure;
    } catch (err) {
      const message = err instanceof AssociationError ? err.message : `${(err as Error).message ?? String(err)}`;
      process.stderr.write(`C-ECHO to ${target} failed: ${message}\n`);
      return EXIT.failure;
    }
  },
};

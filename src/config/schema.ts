import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { z } from 'zod';
import { isAddressSpec } from './peers.js';

/** IANA timezone names that this Node's Intl knows. */
function isIanaTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const aeTitle = z
  .string()
  .trim()
  .min(1)
  .max(16, 'an AE title has at most 16 characters')
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'an AE title is printable ASCII without backslash');
const timezone = z.string().refine(isIanaTimezone, { message: 'an IANA timezone name such as Europe/Paris or UTC' });
const peer = z
  .object({
    aeTitle,
    /** Address or CIDR the peer connects from; absent: any. */
    host: z.string().refine(isAddressSpec, { message: 'an IP address or CIDR block such as 10.1.2.0/24' }).optional(),
    /** Issuer of Patient ID assumed when the peer's datasets carry none. */
    defaultIssuer: z.string().min(1).optional(),
    /** IANA timezone of the peer's local times. */
    timezone: timezone.optional(),
    /** Concurrent associations of this peer. */
    maxAssociations: z.coerce.number().int().positive().optional(),
  })
  .strict();
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), { message: 'an http:// or https:// URL' })
  .transform((u) => u.replace(/\/+$/, ''));
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z
  .object({
    dicom: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: port.default(11112),
        /** Called AE titles the bridge answers to. */
        aeTitles: z.array(aeTitle).min(1).default(['FHIRBRIDGE']),
        /** Calling AE titles allowed; empty accepts any (a warning says so at start). */
        allowedCallers: z.array(aeTitle).default([]),
        maxAssociations: positiveInt.default(32),
        maxPduLength: z.coerce.number().int().min(4096).max(16 * 1024 * 1024).default(262_144),
        headerCapBytes: z.coerce.number().int().min(64 * 1024).default(16 * 1024 * 1024),
        artimTimeoutMs: positiveInt.default(30_000),
        idleTimeoutMs: positiveInt.default(300_000),
        /** Preferred transfer syntaxes, most preferred first; empty keeps the built-in order. */
        transferSyntaxPreference: z.array(z.string().regex(/^[0-9.]+$/)).default([]),
        /** Plain TCP listener on dicom.port; false: TLS only (needs dicom.tls.certFile and keyFile). */
        plain: z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()).default(true),
        /** DICOM TLS listener (PS3.15 BCP 195 profile: TLS 1.2+), on its own port; enabled by certFile + keyFile. */
        tls: z
          .object({
            /** 2762: the registered dicom-tls port; 0 = the OS picks. */
            port: port.default(2762),
            certFile: z.string().min(1).optional(),
            keyFile: z.string().min(1).optional(),
            /** CA bundle client certificates must chain to (required with requireClientCert). */
            caFile: z.string().min(1).optional(),
            /** Ask for a client certificate and refuse the handshake without one the CA signed. */
            requireClientCert: z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()).default(false),
            minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
          })
          .strict()
          .default({})
          .superRefine((t, ctx) => {
            const problem = (key: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message });
            if (t.keyFile !== undefined && t.certFile === undefined) problem('certFile', 'keyFile is set without certFile');
            if (t.certFile !== undefined && t.keyFile === undefined) problem('keyFile', 'certFile is set without keyFile');
            if (t.requireClientCert && t.caFile === undefined) problem('caFile', 'requireClientCert needs caFile (the CA client certificates must chain to)');
            for (const key of ['certFile', 'keyFile', 'caFile'] as const) {
              const file = t[key];
              if (file === undefined) continue;
              try {
                if (!statSync(file).isFile()) problem(key, `${file} is not a file`);
                else accessSync(file, fsConstants.R_OK);
              } catch (err) {
                const code = (err as NodeJS.ErrnoException).code;
                problem(key, code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? 'error'})`);
              }
            }
          }),
      })
      .strict()
      .superRefine((d, ctx) => {
        const tlsEnabled = d.tls.certFile !== undefined && d.tls.keyFile !== undefined;
        if (!d.plain && !tlsEnabled)
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['plain'], message: 'false needs the TLS listener (dicom.tls.certFile and keyFile): nothing would listen' });
        if (d.plain && tlsEnabled && d.port !== 0 && d.tls.port === d.port)
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['tls', 'port'], message: `must differ from dicom.port (${d.port})` });
      })
      .default({}),
    fhir: z
      .object({
        /** Unset: publish nowhere, keep the generated resources in the store. */
        baseUrl: httpUrl.optional(),
        version: z.enum(['R4', 'R5', 'STU3']).default('R4'),
        requestTimeoutMs: positiveInt.default(30_000),
        patient: z
          .object({
            /** System of Patient ID when no issuer maps to one: a URI. */
            defaultSystem: z.string().url().default('urn:dicom-fhir-bridge:patient-id'),
            /** Issuer of Patient ID (0010,0021) to identifier system URI. */
            issuerSystems: z.record(z.string(), z.string().url()).default({}),
            /** ImagingStudy.subject: identifier (logical reference), lookup (search Patient), create (transaction). */
            strategy: z.enum(['identifier', 'lookup', 'create']).default('identifier'),
          })
          .strict()
          .default({}),
        basedOn: z.enum(['off', 'accession']).default('off'),
        /**
         * R4 only: key images of Key Object Selection Documents as Basic resources with the R5
         * ImagingSelection cross-version extensions ('extensions'), or not at all ('off'; the KOS
         * stays a KO series of the ImagingStudy). R5 always writes ImagingSelection, STU3 ImagingManifest.
         */
        keyImages: z.enum(['off', 'extensions']).default('off'),
        /** DICOMweb (WADO-RS) base URL for the Endpoint resource; unset: no endpoint. */
        dicomWebBaseUrl: httpUrl.optional(),
        /** Backoff of retried publishes (network errors, 408, 429, 5xx): exponential with jitter, capped. */
        retry: z
          .object({
            baseDelayMs: positiveInt.default(1_000),
            maxDelayMs: positiveInt.default(300_000),
          })
          .strict()
          .default({})
          .refine((r) => r.maxDelayMs >= r.baseDelayMs, { message: 'maxDelayMs must be at least baseDelayMs', path: ['maxDelayMs'] }),
        /** Authorization of FHIR requests. Secrets: bearerToken, clientSecret (masked by check-config, never logged). */
        auth: z
          .object({
            type: z.enum(['none', 'bearer', 'client-credentials', 'smart-backend']).default('none'),
            /** bearer: the token (FHIR_BEARER_TOKEN), or tokenFile (re-read when it changes). */
            bearerToken: z.string().min(1).optional(),
            tokenFile: z.string().min(1).optional(),
            /** client-credentials, smart-backend: OAuth 2.0 token endpoint. */
            tokenUrl: httpUrl.optional(),
            clientId: z.string().min(1).optional(),
            /** client-credentials: the secret, or a file holding it. */
            clientSecret: z.string().min(1).optional(),
            clientSecretFile: z.string().min(1).optional(),
            /** client-credentials: HTTP Basic (client_secret_basic) or form fields (client_secret_post). */
            clientAuthMethod: z.enum(['basic', 'post']).default('basic'),
            scope: z.string().min(1).optional(),
            /** smart-backend: private key (PKCS#8 PEM or JWK), its algorithm and key id. */
            privateKeyFile: z.string().min(1).optional(),
            alg: z.enum(['RS384', 'ES384']).default('RS384'),
            kid: z.string().min(1).optional(),
          })
          .strict()
          .default({})
          .superRefine((auth, ctx) => {
            const need = (ok: boolean, key: string, message: string) => {
              if (!ok) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message });
            };
            if (auth.type === 'bearer') {
              need(auth.bearerToken !== undefined || auth.tokenFile !== undefined, 'bearerToken', 'bearer needs bearerToken (FHIR_BEARER_TOKEN) or tokenFile');
            }
            if (auth.type === 'client-credentials' || auth.type === 'smart-backend') {
              need(auth.tokenUrl !== undefined, 'tokenUrl', `required for ${auth.type}`);
              need(auth.clientId !== undefined, 'clientId', `required for ${auth.type}`);
            }
            if (auth.type === 'client-credentials') {
              need(auth.clientSecret !== undefined || auth.clientSecretFile !== undefined, 'clientSecret', 'client-credentials needs clientSecret or clientSecretFile');
            }
            if (auth.type === 'smart-backend') {
              need(auth.privateKeyFile !== undefined, 'privateKeyFile', 'required for smart-backend');
              need(auth.kid !== undefined, 'kid', 'required for smart-backend');
            }
          }),
        /** Extra headers on every FHIR request (values are not logged). */
        headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name'), z.string()).default({}),
        /** TLS to the FHIR server (and token endpoint): CA bundle, client certificate (mutual TLS). */
        tls: z
          .object({
            caFile: z.string().min(1).optional(),
            certFile: z.string().min(1).optional(),
            keyFile: z.string().min(1).optional(),
            rejectUnauthorized: z
              .preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean())
              .default(true),
          })
          .strict()
          .default({})
          .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
            message: 'certFile and keyFile go together (mutual TLS)',
            path: ['keyFile'],
          }),
      })
      .strict()
      .default({}),
    /** Known sending peers: AE title, optional address, defaults for their data. Reloaded on SIGHUP. */
    peers: z.array(peer).default([]),
    /** Timezone of DICOM local times without (0008,0201), when the peer has none. */
    timezone: timezone.default(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'),
    pipeline: z
      .object({
        debounceMs: z.coerce.number().int().min(0).default(2_000),
        maxDelayMs: z.coerce.number().int().min(0).default(30_000),
        /**
         * Embedded mode: full fsyncs each commit that acknowledges C-STOREs (survives power
         * loss); normal survives a process crash (kill -9) but not power loss, and ingests faster.
         */
        dataSync: z.enum(['full', 'normal']).default('full'),
      })
      .strict()
      .default({}),
    /** Unset: embedded mode (SQLite in dataDir). */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    redis: z
      .object({
        /** Prefix of every Redis key; several bridges can share one Redis with different prefixes. */
        prefix: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . -').default('dfb'),
        /** A job held by a worker that stops renewing its lock (crash) is handed out again after this. */
        lockDurationMs: z.coerce.number().int().min(1000).default(30_000),
      })
      .strict()
      .default({}),
    dataDir: z.string().min(1).default('./data'),
    http: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8080),
      })
      .strict()
      .default({}),
    /** The built-in read-only FHIR endpoint at /fhir on the HTTP port. */
    fhirEndpoint: z
      .object({
        /** auto: on when fhir.baseUrl is unset; on: also beside an external FHIR server; off. */
        enabled: z.enum(['auto', 'on', 'off']).default('auto'),
        /** When set, /fhir requests need `Authorization: Bearer <token>`. */
        bearerToken: z.string().min(16, 'at least 16 characters').optional(),
        /** Public base URL used in Bundle links (e.g. https://bridge.example.org/fhir); default from the Host header. */
        publicBaseUrl: httpUrl.optional(),
      })
      .strict()
      .default({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.pipeline.maxDelayMs < config.pipeline.debounceMs) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['pipeline', 'maxDelayMs'],
        message: `must be at least pipeline.debounceMs (${config.pipeline.debounceMs})`,
      });
    }
  });

export type BridgeConfig = z.infer<typeof configSchema>;
export type BridgeConfigInput = z.input<typeof configSchema>;

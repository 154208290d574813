import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { z } from 'zod';
import { isLoopbackHost } from './loopback.js';
import { maskUrlCredentials } from './mask.js';
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

/*
 * `.describe()` texts say what a key allows: load.ts quotes them in every
 * problem line (numbers, enums and booleans are described from the schema).
 * Checks whose message says everything (two keys involved, a missing file)
 * carry `params: { selfContained: true }`.
 */
const aeTitle = z
  .string()
  .trim()
  .min(1)
  .max(16, 'an AE title has at most 16 characters')
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'an AE title is printable ASCII without backslash')
  .describe('an AE title: 1 to 16 characters, printable ASCII without backslash');
const timezone = z
  .string()
  .refine(isIanaTimezone, (v) => ({ message: `'${v}' is not an IANA timezone name` }))
  .describe('an IANA timezone name such as Europe/Paris or UTC');
const flag = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const text = (allowed: string) => z.string().min(1).describe(allowed);
const file = (what: string) => z.string().min(1).describe(`the path of ${what}`);
const peer = z
  .object({
    aeTitle,
    /** Address or CIDR the peer connects from; absent: any. */
    host: z
      .string()
      .refine(isAddressSpec, (v) => ({ message: `'${v}' is not an IP address or CIDR block` }))
      .describe('an IP address or CIDR block such as 10.1.2.0/24')
      .optional(),
    /** Issuer of Patient ID assumed when the peer's datasets carry none. */
    defaultIssuer: text('an Issuer of Patient ID (0010,0021), not empty').optional(),
    /** IANA timezone of the peer's local times. */
    timezone: timezone.optional(),
    /** Concurrent associations of this peer. */
    maxAssociations: z.coerce.number().int().positive().optional(),
  })
  .strict();
/** Credentials in a URL would be logged and sent where they do not belong: they go in fhir.auth or fhir.headers. */
function hasUserinfo(u: string): boolean {
  try {
    const url = new URL(u);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), (v) => ({ message: `'${v}' is not an http:// or https:// URL` }))
  .refine((u) => !hasUserinfo(u), (v) => ({
    message:
      `${maskUrlCredentials(v)}: user:password in the URL is not supported; give credentials with fhir.auth ` +
      '(FHIR_AUTH_TYPE=bearer with FHIR_BEARER_TOKEN, or client-credentials) or fhir.headers (FHIR_HEADERS, e.g. {"Authorization":"Basic …"})',
  }))
  .describe('an http:// or https:// URL without user:password')
  .transform((u) => u.replace(/\/+$/, ''));
/** Placeholders of manifest.viewerUrlTemplate (src/fhir/mado/endpoints.ts fills them). */
const VIEWER_PLACEHOLDERS = ['studyUid', 'accession', 'patientId'];
function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}
/** `system|value` of an Identifier. */
const systemValue = z
  .string()
  .regex(/^[a-z][a-z0-9+.-]*:[^|\s]+\|[^|]+$/i, 'not system|value')
  .describe('system|value of an identifier, e.g. urn:oid:1.2.3.4|HOSP-A')
  .transform((v) => ({ system: v.slice(0, v.indexOf('|')), value: v.slice(v.indexOf('|') + 1) }));
/** `system|code|display` of a Coding (display optional). */
const coding = z
  .string()
  .regex(/^[a-z][a-z0-9+.-]*:[^|\s]+\|[^|\s]+(\|[^|]+)?$/i, 'not system|code|display')
  .describe('system|code|display of a coding, e.g. http://snomed.info/sct|22232009|Hospital')
  .transform((v) => {
    const [system = '', code = '', display] = v.split('|');
    return { system, code, ...(display ? { display } : {}) };
  });
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z
  .object({
    dicom: z
      .object({
        host: text('an IP address or host name to bind, e.g. 0.0.0.0 (every interface) or 127.0.0.1').default('0.0.0.0'),
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
        /** A new connection's time for its whole A-ASSOCIATE-RQ (and the TLS handshake). */
        associateRequestTimeoutMs: positiveInt.default(5_000),
        /** Connections without a complete A-ASSOCIATE-RQ yet, in all and per address; apart from maxAssociations. */
        maxPendingConnections: positiveInt.default(64),
        maxPendingConnectionsPerAddress: positiveInt.default(16),
        /** A DIMSE message must complete within messageTimeoutMs + its bytes / minTransferRate (bytes per second). */
        messageTimeoutMs: positiveInt.default(30_000),
        minTransferRate: positiveInt.default(16_384),
        /** Preferred transfer syntaxes, most preferred first; empty keeps the built-in order. */
        transferSyntaxPreference: z
          .array(z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'a transfer syntax UID is digits and dots').describe('a transfer syntax UID such as 1.2.840.10008.1.2.1'))
          .default([]),
        /** Plain TCP listener on dicom.port; false: TLS only (needs dicom.tls.certFile and keyFile). */
        plain: flag.default(true),
        /** DICOM TLS listener (PS3.15 BCP 195 profile: TLS 1.2+), on its own port; enabled by certFile + keyFile. */
        tls: z
          .object({
            /** 2762: the registered dicom-tls port; 0 = the OS picks. */
            port: port.default(2762),
            certFile: file('a readable PEM certificate file').optional(),
            keyFile: file('a readable PEM private key file').optional(),
            /** CA bundle client certificates must chain to (required with requireClientCert). */
            caFile: file('a readable PEM CA bundle').optional(),
            /** Ask for a client certificate and refuse the handshake without one the CA signed. */
            requireClientCert: flag.default(false),
            minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
          })
          .strict()
          .default({})
          .superRefine((t, ctx) => {
            // The file problems say what is wrong with the file itself: an existing, readable file is what is allowed.
            const problem = (key: string, message: string, selfContained = false) =>
              ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message, ...(selfContained ? { params: { selfContained } } : {}) });
            if (t.keyFile !== undefined && t.certFile === undefined) problem('certFile', 'keyFile is set without certFile', true);
            if (t.certFile !== undefined && t.keyFile === undefined) problem('keyFile', 'certFile is set without keyFile', true);
            if (t.requireClientCert && t.caFile === undefined) problem('caFile', 'requireClientCert needs caFile (the CA client certificates must chain to)', true);
            for (const key of ['certFile', 'keyFile', 'caFile'] as const) {
              const file = t[key];
              if (file === undefined) continue;
              try {
                if (!statSync(file).isFile()) problem(key, `${file} is not a file`, true);
                else accessSync(file, fsConstants.R_OK);
              } catch (err) {
                const code = (err as NodeJS.ErrnoException).code;
                problem(key, code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? 'error'})`, true);
              }
            }
          }),
      })
      .strict()
      .superRefine((d, ctx) => {
        const tlsEnabled = d.tls.certFile !== undefined && d.tls.keyFile !== undefined;
        if (!d.plain && !tlsEnabled)
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['plain'], params: { selfContained: true }, message: 'false needs the TLS listener (dicom.tls.certFile and keyFile): nothing would listen' });
        if (d.plain && tlsEnabled && d.port !== 0 && d.tls.port === d.port)
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['tls', 'port'], params: { selfContained: true }, message: `must differ from dicom.port (${d.port})` });
      })
      .default({}),
    fhir: z
      .object({
        /** Unset: publish nowhere, keep the generated resources in the store. */
        baseUrl: httpUrl.optional(),
        version: z.enum(['R4', 'R5', 'STU3']).default('R4'),
        requestTimeoutMs: positiveInt.default(30_000),
        /** Largest FHIR response body read; a larger answer is an error (retried), not buffered. */
        maxResponseBytes: positiveInt.default(8 * 1024 * 1024),
        patient: z
          .object({
            /** System of Patient ID when no issuer maps to one: a URI. */
            defaultSystem: z.string().url().describe('an absolute URI such as urn:oid:1.2.3 or https://hospital.example/mrn').default('https://dicom-fhir-bridge.example/fhir/sid/patient-id'),
            /** Issuer of Patient ID (0010,0021) to identifier system URI. */
            issuerSystems: z
              .record(z.string(), z.string().url().describe('an absolute URI such as urn:oid:1.2.3 or https://hospital.example/mrn'))
              .describe('a mapping of Issuer of Patient ID to identifier system URI, e.g. {"HOSP_A":"urn:oid:1.2.3"}')
              .default({}),
            /** ImagingStudy.subject: identifier (logical reference), lookup (search Patient), create (transaction). */
            strategy: z.enum(['identifier', 'lookup', 'create']).default('identifier'),
          })
          .strict()
          .default({}),
        /** ImagingStudy.basedOn by the accession; unset: the version's mapping (R5 accession, R4/STU3 off). */
        basedOn: z.enum(['off', 'accession']).optional(),
        /** R4/R5 ImagingStudy.location as a display-only Reference(Location) from (0040,0243) / (0008,1040), or none. */
        location: z.enum(['display', 'off']).default('display'),
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
          .refine((r) => r.maxDelayMs >= r.baseDelayMs, { message: 'maxDelayMs must be at least baseDelayMs', path: ['maxDelayMs'], params: { selfContained: true } }),
        /** Authorization of FHIR requests. Secrets: bearerToken, clientSecret (masked by check-config, never logged). */
        auth: z
          .object({
            type: z.enum(['none', 'bearer', 'client-credentials', 'smart-backend']).default('none'),
            /** bearer: the token (FHIR_BEARER_TOKEN), or tokenFile (re-read when it changes). */
            bearerToken: text('the token, not empty').optional(),
            tokenFile: file('a file holding the token').optional(),
            /** client-credentials, smart-backend: OAuth 2.0 token endpoint. */
            tokenUrl: httpUrl.optional(),
            clientId: text('the OAuth client id, not empty').optional(),
            /** client-credentials: the secret, or a file holding it. */
            clientSecret: text('the client secret, not empty').optional(),
            clientSecretFile: file('a file holding the client secret').optional(),
            /** client-credentials: HTTP Basic (client_secret_basic) or form fields (client_secret_post). */
            clientAuthMethod: z.enum(['basic', 'post']).default('basic'),
            scope: text('space-separated scopes such as system/ImagingStudy.cu').optional(),
            /** smart-backend: private key (PKCS#8 PEM or JWK), its algorithm and key id. */
            privateKeyFile: file('a PKCS#8 PEM or JWK private key file').optional(),
            alg: z.enum(['RS384', 'ES384']).default('RS384'),
            kid: text('the key id registered with the server, not empty').optional(),
          })
          .strict()
          .default({})
          .superRefine((auth, ctx) => {
            const need = (ok: boolean, key: string, message: string) => {
              if (!ok) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message, params: { selfContained: true } });
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
        headers: z
          .record(
            z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not an HTTP header name').describe('an HTTP header name (RFC 9110 token)'),
            z.string().describe('a header value (text)'),
          )
          .describe('a mapping of HTTP header names to values, e.g. {"X-Api-Key":"…"}')
          .default({}),
        /** TLS to the FHIR server (and token endpoint): CA bundle, client certificate (mutual TLS). */
        tls: z
          .object({
            caFile: file('a PEM CA bundle').optional(),
            certFile: file('a PEM client certificate').optional(),
            keyFile: file('a PEM private key').optional(),
            rejectUnauthorized: flag.default(true),
          })
          .strict()
          .default({})
          .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
            message: 'certFile and keyFile go together (mutual TLS)',
            path: ['keyFile'],
            params: { selfContained: true },
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
        /**
         * Embedded mode: how long a C-STORE waits for its record's commit before it is refused
         * (A700H), and how long a database call may go unanswered before the storage counts as
         * stalled (/readyz 503; further C-STOREs refused at once until a call returns). Also the
         * deadline of each call of the built-in FHIR endpoint's index (fhir-index.sqlite, in its own
         * worker: a read or search not answered in time gets 503, a put is a retried publish).
         */
        storageCommitTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(10_000),
      })
      .strict()
      .default({}),
    /** Embedded mode: what studies published long enough ago still keep (sqlite/retention.ts). */
    retention: z
      .object({
        /** Unset: nothing is purged. */
        publishedDays: z.coerce.number().positive().describe('a positive number of days (fractions allowed, e.g. 30 or 0.5)').optional(),
        intervalMs: z.coerce.number().int().min(1000).default(3_600_000),
        batchSize: z.coerce.number().int().min(1).max(10_000).default(100),
      })
      .strict()
      .default({}),
    /** Unset: embedded mode (SQLite in dataDir). */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'not a redis:// or rediss:// URL')
      .describe('a redis:// or rediss:// URL such as redis://127.0.0.1:6379')
      .optional(),
    redis: z
      .object({
        /** Prefix of every Redis key; several bridges can share one Redis with different prefixes. */
        prefix: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a prefix is letters, digits, _ . -').describe('letters, digits, _ . - (at least one)').default('dfb'),
        /** A job held by a worker that stops renewing its lock (crash) is handed out again after this. */
        lockDurationMs: z.coerce.number().int().min(1000).default(30_000),
      })
      .strict()
      .default({}),
    dataDir: file('a directory (created if missing)').default('./data'),
    http: z
      .object({
        host: text('an IP address or host name to bind, e.g. 127.0.0.1 (loopback)').default('127.0.0.1'),
        port: port.default(8080),
        /**
         * The HTTP API's token (ADMIN_TOKEN): when set, every path with patient data or that
         * changes state needs `Authorization: Bearer <token>`; required when host is not loopback.
         */
        adminToken: z.string().min(16, 'at least 16 characters').describe('a token of at least 16 characters').optional(),
      })
      .strict()
      .default({}),
    /** The built-in read-only FHIR endpoint at /fhir on the HTTP port. */
    fhirEndpoint: z
      .object({
        /** auto: on when fhir.baseUrl is unset; on: also beside an external FHIR server; off. */
        enabled: z.enum(['auto', 'on', 'off']).default('auto'),
        /** When set, /fhir requests need `Authorization: Bearer <token>`. */
        bearerToken: z.string().min(16, 'at least 16 characters').describe('a token of at least 16 characters').optional(),
        /** Public base URL used in Bundle links (e.g. https://bridge.example.org/fhir); default from the Host header. */
        publicBaseUrl: httpUrl.optional(),
      })
      .strict()
      .default({}),
    /**
     * IHE RAD MADO FHIR Imaging Study Manifest (docs/mado.md): per study, a document Bundle and
     * its MHD DocumentReference, published after the ImagingStudy. R4 only.
     */
    manifest: z
      .object({
        /** off, or mado: keep and publish the MADO manifest of every study. */
        format: z.enum(['off', 'mado']).default('off'),
        /** SOP Class UIDs kept out of the manifest (the ImagingStudy keeps them). */
        excludeSopClasses: z.array(z.string().trim().regex(/^[0-9]+(\.[0-9]+)*$/, 'a SOP Class UID is digits and dots').describe('a SOP Class UID such as 1.2.840.10008.5.1.4.1.1.88.33')).default([]),
        /** Series whose Series Description matches (case-insensitive) are kept out of the manifest. */
        excludeSeriesDescription: z
          .string()
          .min(1)
          .refine(isRegExp, (v) => ({ message: `'${v}' is not a regular expression` }))
          .describe('a regular expression such as ^preliminary')
          .optional(),
        /** Web viewer URL with {studyUid}, {accession}, {patientId}: a MadoWebViewerEndpoint on the study. */
        viewerUrlTemplate: z
          .string()
          .refine((t) => /^https?:\/\/[^\s]+$/.test(t) && [...t.matchAll(/\{([^}]*)\}/g)].every((m) => VIEWER_PLACEHOLDERS.includes(m[1] ?? '')), (v) => ({
            message: `'${v}' is not an http(s) URL whose placeholders are {studyUid}, {accession}, {patientId}`,
          }))
          .describe('an http(s) URL with {studyUid}, {accession} or {patientId}, e.g. https://viewer.example/ohif/viewer?StudyInstanceUIDs={studyUid}')
          .optional(),
        /** MadoCreatorOrganization: the organization that shares the manifests. */
        organizationName: text('the name of the organization, not empty').default('Imaging department'),
        organizationIdentifier: systemValue.optional(),
        /** System of the accession number identifier when (0008,0051) gives none (the profile requires one). */
        accessionSystem: z.string().url().describe('an absolute URI such as urn:oid:1.2.3.4').default('urn:dicom-fhir-bridge:accession'),
        /** DocumentReference.context.facilityType and practiceSetting (MHD: 1..1). */
        facilityType: coding.default('http://snomed.info/sct|22232009|Hospital'),
        practiceSetting: coding.default('http://snomed.info/sct|394914008|Radiology'),
      })
      .strict()
      .default({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** auto: human-readable (pino-pretty) when stdout is a terminal, JSON lines otherwise. */
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
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
        params: { selfContained: true },
        message: `must be at least pipeline.debounceMs (${config.pipeline.debounceMs})`,
      });
    }
    if (config.retention.publishedDays !== undefined && config.redisUrl) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['retention', 'publishedDays'],
        params: { selfContained: true },
        message: 'retention applies to the embedded store only: unset it with redisUrl (REDIS_URL) (README, Operations: Retention)',
      });
    }
    // src/http/access.ts: off loopback, patient data and republish need a token.
    if (config.manifest.format === 'mado' && config.fhir.version !== 'R4') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['manifest', 'format'],
        params: { selfContained: true },
        message: `mado needs fhir.version R4 (FHIR_VERSION=R4): MADO profiles are FHIR R4, ${config.fhir.version} is not supported yet`,
      });
    }
    if (!isLoopbackHost(config.http.host) && config.http.adminToken === undefined && config.fhirEndpoint.bearerToken === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['http', 'host'],
        params: { selfContained: true },
        message:
          `'${config.http.host}' is not loopback, and no token is set: /studies, /status, republish and /fhir would be open to the network; ` +
          'set http.adminToken (ADMIN_TOKEN, at least 16 characters), or bind HTTP_HOST=127.0.0.1',
      });
    }
  });

export type BridgeConfig = z.infer<typeof configSchema>;
export type BridgeConfigInput = z.input<typeof configSchema>;

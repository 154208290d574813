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
      })
      .strict()
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
          })
          .strict()
          .default({}),
        basedOn: z.enum(['off', 'accession']).default('off'),
        /** DICOMweb (WADO-RS) base URL for the Endpoint resource; unset: no endpoint. */
        dicomWebBaseUrl: httpUrl.optional(),
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

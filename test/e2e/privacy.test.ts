/**
 * No patient identifiers in the logs, at any level up to info, in both modes:
 * a study with recognisable patient values (name, Patient ID, birth date,
 * accession) is published to
 * - a FHIR server whose OperationOutcome diagnostics quote the rejected
 *   content (answered 500 twice, then 422): the retry and failed lines carry
 *   the issue codes and a redacted text; the full text is in lastError,
 *   served only behind the access model;
 * - the test FHIR server with two Patients of the study's identifier
 *   (FHIR_PATIENT_STRATEGY=lookup): the study fails without the Patient ID in
 *   the log.
 * The first server is a stand-in (a real one rarely echoes on demand); the
 * second is the Medplum test server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server.js';
import { generateStudy, removeStudy, type GeneratedStudy } from '../support/generate-study.js';
import { run } from '../support/run.js';
import { storescu } from './helpers.js';
import { MODES, ModeEnvironment } from './modes.js';

const TOKEN = 'privacy-test-admin-token-000001';
const NAME = 'PRIVACYCANARY^HORTENSE';
const PATIENT_ID = 'PID4MR1CANARY';
const BIRTH_DATE = '19010203';
const ACCESSION = 'ACCCANARY77';
/** Nothing of these may appear in a log line. */
const FORBIDDEN = ['PRIVACYCANARY', 'HORTENSE', PATIENT_ID, BIRTH_DATE, '1901-02-03', ACCESSION];

/** A FHIR server that quotes what it refuses: 500 for the first `failures` writes, 422 after. */
async function echoingFhirServer(failures: number): Promise<{ baseUrl: string; writes: () => number; close: () => Promise<void> }> {
  let writes = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/fhir+json' });
        res.end(text);
      };
      const url = req.url ?? '/';
      if (url.endsWith('/metadata')) {
        return send(200, {
          resourceType: 'CapabilityStatement',
          status: 'active',
          fhirVersion: '4.0.1',
          kind: 'instance',
          format: ['json'],
          rest: [{ mode: 'server', resource: ['ImagingStudy', 'Patient'].map((type) => ({ type, conditionalUpdate: true, conditionalCreate: true })) }],
        });
      }
      if (req.method === 'GET') return send(200, { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] });
      writes += 1;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      const patient = (body.entry ?? []).map((e: any) => e.resource).find((r: any) => r?.resourceType === 'Patient') ?? {};
      const family = patient.name?.[0]?.family ?? '';
      const given = patient.name?.[0]?.given?.[0] ?? '';
      const id = patient.identifier?.[0]?.value ?? '';
      const system = patient.identifier?.[0]?.system ?? '';
      const study = (body.entry ?? []).map((e: any) => e.resource).find((r: any) => r?.resourceType === 'ImagingStudy') ?? {};
      const accession = (study.identifier ?? []).find((i: any) => i.type?.coding?.[0]?.code === 'ACSN')?.value ?? '';
      const diagnostics =
        `Patient "${family}, ${given}" born ${patient.birthDate} conflicts with identifier ${system}|${id}; ` +
        `existing patient ${family} ${given} (${id}) accession ${accession} dob ${patient.birthDate?.replace(/-/g, '')}`;
      const status = writes <= failures ? 500 : 422;
      send(status, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: status === 500 ? 'exception' : 'business-rule', diagnostics, expression: ['Patient.identifier'] }],
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`,
    writes: () => writes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function expectNoPatientData(output: string): void {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  expect(lines.length).toBeGreaterThan(3);
  for (const line of lines) for (const value of FORBIDDEN) expect(line, `log line leaks ${value}`).not.toContain(value);
}

const publishLines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.includes('"msg":"study publish"'))
    .map((l) => JSON.parse(l) as Record<string, any>);

let study: GeneratedStudy;
beforeAll(async () => {
  study = await generateStudy({ series: 1, instances: 2, patientId: PATIENT_ID, patientName: NAME, accession: ACCESSION });
  for (const file of study.files) {
    const changed = await run('dcmodify', ['-nb', '-m', `(0010,0030)=${BIRTH_DATE}`, file]);
    expect(changed.code, changed.stderr).toBe(0);
  }
});
afterAll(async () => {
  await removeStudy(study.dir);
});

describe.each(MODES)('%s mode', (mode) => {
  const modes = new ModeEnvironment(mode);
  afterAll(() => modes.close());

  describe('a FHIR server that quotes the patient in its OperationOutcome', () => {
    let fhir: Awaited<ReturnType<typeof echoingFhirServer>>;
    let bridge: BridgeProcess;
    beforeAll(async () => {
      fhir = await echoingFhirServer(2);
      bridge = await startBridgeProcess({
        env: await modes.env({
          FHIR_BASE_URL: fhir.baseUrl,
          FHIR_PATIENT_STRATEGY: 'create',
          FHIR_RETRY_BASE_DELAY_MS: '100',
          FHIR_RETRY_MAX_DELAY_MS: '200',
          PUBLISH_DEBOUNCE_MS: '100',
          ADMIN_TOKEN: TOKEN,
          LOG_LEVEL: 'info',
        }),
      });
    });
    afterAll(async () => {
      await bridge?.stop();
      bridge?.cleanup();
      await fhir?.close();
    });

    it('logs issue codes and a redacted text; the full text only behind the token', async () => {
      const sent = await storescu(bridge, study.files);
      expect(sent.code, sent.stderr).toBe(0);
      const get = async (path: string, token?: string) => {
        const res = await fetch(`http://127.0.0.1:${bridge.httpPort}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        return { status: res.status, body: await res.json() as any };
      };
      const failed = await eventually(async () => {
        const r = await get(`/studies/${study.studyInstanceUid}`, TOKEN);
        return r.body.publishState === 'failed' ? r.body : undefined;
      }, 60_000, 'study failed after the retries');
      // The server's whole text is kept for the administrator...
      expect(failed.lastError).toContain(PATIENT_ID);
      expect(failed.lastError).toContain('PRIVACYCANARY');
      expect(fhir.writes()).toBe(3);
      // ...who alone sees it.
      for (const path of [`/studies/${study.studyInstanceUid}`, '/studies?state=failed', '/status']) {
        const r = await get(path);
        expect(r.status).toBe(401);
        expect(JSON.stringify(r.body)).not.toContain(PATIENT_ID);
      }
      await bridge.stop();
      const output = bridge.output();
      expectNoPatientData(output);
      const lines = publishLines(output);
      const retries = lines.filter((l) => l.status === 'retry');
      const end = lines.filter((l) => l.status === 'failed');
      expect(retries).toHaveLength(2);
      expect(end).toHaveLength(1);
      expect(retries[0]!.issues).toEqual([{ severity: 'error', code: 'exception', expression: ['Patient.identifier'] }]);
      expect(end[0]!.issues).toEqual([{ severity: 'error', code: 'business-rule', expression: ['Patient.identifier'] }]);
      expect(end[0]!.httpStatus).toBe(422);
      expect(end[0]!.error).toMatch(/conflicts with identifier https:\/\/dicom-fhir-bridge\.example\/fhir\/sid\/patient-id\|\[redacted\]/);
    });
  });

  describe('FHIR_PATIENT_STRATEGY=lookup with two Patients of the identifier (Medplum)', () => {
    let fhir: TestFhirServer;
    let bridge: BridgeProcess;
    beforeAll(async () => {
      fhir = await startFhirServer();
      for (const given of ['A', 'B']) {
        const created = await fhir.request('POST', 'Patient', {
          resourceType: 'Patient',
          identifier: [{ system: 'https://dicom-fhir-bridge.example/fhir/sid/patient-id', value: PATIENT_ID }],
          name: [{ family: 'PRIVACYCANARY', given: [given] }],
        });
        expect(created.status).toBe(201);
      }
      bridge = await startBridgeProcess({
        env: await modes.env({ FHIR_BASE_URL: fhir.baseUrl, FHIR_PATIENT_STRATEGY: 'lookup', PUBLISH_DEBOUNCE_MS: '100', LOG_LEVEL: 'info' }),
      });
    });
    afterAll(async () => {
      await bridge?.stop();
      bridge?.cleanup();
      await fhir?.close();
    });

    it('fails the study naming the match count, without the Patient ID in the log', async () => {
      const sent = await storescu(bridge, study.files);
      expect(sent.code, sent.stderr).toBe(0);
      const failed = await eventually(async () => {
        const r = await bridge.get(`/studies/${study.studyInstanceUid}`);
        return r.body?.publishState === 'failed' ? r.body : undefined;
      }, 60_000, 'study failed');
      expect(failed.lastError).toBe(`2 Patients match identifier https://dicom-fhir-bridge.example/fhir/sid/patient-id|${PATIENT_ID}`);
      await bridge.stop();
      const output = bridge.output();
      expectNoPatientData(output);
      const [line] = publishLines(output).filter((l) => l.status === 'failed');
      expect(line!.error).toBe('2 Patients match identifier https://dicom-fhir-bridge.example/fhir/sid/patient-id|[redacted]');
    });
  });
});

describe('credentials in FHIR_BASE_URL', () => {
  it('start and check-config refuse them with exit 2, showing the URL masked and never the password', async () => {
    const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
    for (const command of ['start', 'check-config']) {
      const result = await run(process.execPath, [cli, command], {
        env: { FHIR_BASE_URL: 'https://bridge:Pa55-w0rd-canary@fhir.example.org/fhir', DATA_DIR: '/nonexistent/never-opened' },
        timeoutMs: 20_000,
      });
      expect(result.code, command).toBe(2);
      expect(result.stderr).toContain('fhir.baseUrl (FHIR_BASE_URL): https://***@fhir.example.org/fhir: user:password in the URL is not supported');
      expect(result.stdout + result.stderr).not.toContain('Pa55-w0rd-canary');
      expect(result.stdout + result.stderr).not.toContain('bridge:');
    }
  });
});

/**
 * The daemon beside an import, as the import e2e tests run it: in embedded
 * mode DATA_DIR is one process's, so the daemon is stopped while the import
 * runs and started again after (it then publishes what was queued); in Redis
 * mode the import runs beside it.
 */
import { expect } from 'vitest';
import { eventually, startBridgeProcess, type BridgeProcess } from '../support/bridge-process.js';
import type { RunResult } from '../support/run.js';
import { importCli } from '../import/cli.js';
import type { TestFhirServer } from '../support/fhir-server.js';
import { imagingStudies } from './helpers.js';
import type { Mode } from './modes.js';

export class ImportDaemon {
  /** The running daemon, if any. */
  bridge: BridgeProcess | undefined;

  /** `config`: DATA_DIR and environment, read when they are needed (set in beforeAll). */
  constructor(
    private readonly mode: Mode,
    private readonly config: () => { dataDir: string; env: Record<string, string> },
  ) {}

  /** Starts the daemon unless it runs. */
  async start(): Promise<BridgeProcess> {
    const { dataDir, env } = this.config();
    this.bridge ??= await startBridgeProcess({ dataDir, env, readyTimeoutMs: 60_000 });
    return this.bridge;
  }

  /** Stops the daemon (exit code 0) if it runs. */
  async stop(): Promise<void> {
    if (!this.bridge) return;
    expect(await this.bridge.stop()).toBe(0);
    this.bridge = undefined;
  }

  /** Embedded mode: stops the daemon, whose DATA_DIR an import is about to take; Redis mode: nothing. */
  async stopForImport(): Promise<void> {
    if (this.mode === 'embedded') await this.stop();
  }

  /** `dicom-fhir-bridge import ARGS` as the mode allows, the daemon running afterwards. */
  async import(args: string[]): Promise<RunResult> {
    await this.stopForImport();
    const { dataDir, env } = this.config();
    const result = await importCli(args, { ...env, DATA_DIR: dataDir });
    await this.start();
    return result;
  }

  /** Waits until the daemon's queues are empty and no study is pending. */
  drained() {
    return eventually(
      async () => {
        const { body } = await this.bridge!.get('/status');
        return body.queue.instances === 0 && body.queue.publishes === 0 && body.studies.pending === 0 ? body : undefined;
      },
      60_000,
      'queue drained',
    );
  }
}


/**
 * The check of a study sent live (description LIVE, accession LIVEACC, 3 instances) and also imported
 * from an archive holding it as ARCHIVE / OLDACC: one ImagingStudy, with the live values.
 */
export async function expectLiveValuesKept(fhir: TestFhirServer, studyInstanceUid: string): Promise<void> {
  const [resource, ...more] = await imagingStudies(fhir, studyInstanceUid);
  expect(more).toHaveLength(0);
  expect(resource.description).toBe('LIVE');
  expect(resource.numberOfInstances).toBe(3);
  expect(resource.identifier.some((id: any) => id.value === 'LIVEACC')).toBe(true);
  expect(resource.identifier.some((id: any) => id.value === 'OLDACC')).toBe(false);
}

/**
 * A real DICOMweb server for tests: Debian's Orthanc with its DICOMweb plugin
 * (orthanc-dicomweb), on free 127.0.0.1 ports, with a fresh storage and
 * index directory and a JSON configuration in a temp directory; no remote
 * access, no authentication. Stopped by PID (SIGTERM, then SIGKILL).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startProcess, type StartedProcess } from './processes.js';

const ORTHANC = '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface StartOrthancOptions {
  /** DICOM AE title of Orthanc (default ORTHANC). */
  aeTitle?: string;
  /** Orthanc's DicomModalities: AE title → [aet, host, port] peers it may C-STORE/C-MOVE to. */
  modalities?: Record<string, [string, string, number]>;
  /** More keys of Orthanc's JSON configuration (e.g. AuthenticationEnabled, RegisteredUsers). */
  config?: Record<string, unknown>;
  readyTimeoutMs?: number;
}

export interface UploadedInstance {
  /** Orthanc's instance id. */
  ID: string;
  ParentStudy: string;
  Status: string;
}

export interface TestOrthanc {
  /** e.g. http://127.0.0.1:PORT (Orthanc's REST API). */
  httpUrl: string;
  /** e.g. http://127.0.0.1:PORT/dicom-web (the DICOMweb root, no trailing slash). */
  dicomWebUrl: string;
  dicomPort: number;
  aeTitle: string;
  readonly pid: number;
  /** POST /instances with a Part 10 file. */
  upload(file: string): Promise<UploadedInstance>;
  /** SIGTERM (SIGKILL after 10 s), then the directory is removed. */
  stop(): Promise<void>;
}

export async function startOrthanc(options: StartOrthancOptions = {}): Promise<TestOrthanc> {
  const [httpPort, dicomPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'dfb-orthanc-'));
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  const config = {
    Name: 'dfb-test',
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aeTitle,
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpBindAddress: '127.0.0.1',
    DicomBindAddress: '127.0.0.1',
    DicomModalities: options.modalities ?? {},
    DicomAlwaysAllowFind: true,
    StableAge: 1,
    ...options.config,
  };
  const configFile = join(dir, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let proc: StartedProcess;
  try {
    proc = await startProcess(ORTHANC, [configFile]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  try {
    await httpAnswers(`${httpUrl}/system`, options.readyTimeoutMs ?? 60_000, proc);
  } catch (err) {
    await proc.stop('SIGKILL', 5_000);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    httpUrl,
    dicomWebUrl: `${httpUrl}/dicom-web`,
    dicomPort,
    aeTitle,
    pid: proc.pid,
    async upload(file) {
      const res = await fetch(`${httpUrl}/instances`, { method: 'POST', body: await readFile(file), headers: { 'Content-Type': 'application/dicom' } });
      const body = (await res.json()) as UploadedInstance;
      if (res.status !== 200) throw new Error(`Orthanc POST /instances ${file}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    stop() {
      stopped ??= (async () => {
        await proc.stop('SIGTERM', 10_000);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** Ready once HTTP answers at all (401 too: the configuration may enable authentication). */
async function httpAnswers(url: string, timeoutMs: number, proc: StartedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`Orthanc (pid ${proc.pid}) not ready within ${timeoutMs} ms at ${url}: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

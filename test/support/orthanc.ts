/**
 * A real Orthanc (Debian `orthanc` + `orthanc-dicomweb`) for tests: fresh
 * storage in a temp directory, HTTP and DICOM on free loopback ports, no
 * authentication, C-FIND allowed from any AE (DicomAlwaysAllowFind). Stopped
 * by PID (SIGTERM, then SIGKILL) and its directory removed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startProcess } from './processes.js';

export interface StartOrthancOptions {
  /** DicomAet (default ORTHANC). */
  aeTitle?: string;
  /** More keys of Orthanc's JSON configuration. */
  config?: Record<string, unknown>;
  readyTimeoutMs?: number;
}

export interface TestOrthanc {
  /** e.g. http://127.0.0.1:PORT (REST API). */
  httpUrl: string;
  /** e.g. http://127.0.0.1:PORT/dicom-web (no trailing slash). */
  dicomWebUrl: string;
  dicomPort: number;
  aeTitle: string;
  /** POST /instances with the file; resolves with Orthanc's answer (ID, ParentStudy, Status). */
  upload(file: string): Promise<{ ID: string; ParentStudy: string; Status: string }>;
  stop(): Promise<void>;
}

export async function startOrthanc(options: StartOrthancOptions = {}): Promise<TestOrthanc> {
  const dir = await mkdtemp(join(tmpdir(), 'dfb-orthanc-'));
  const httpPort = await freePort();
  const dicomPort = await freePort();
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  const config = {
    Name: 'test',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aeTitle,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpBindAddress: '127.0.0.1',
    DicomBindAddress: '127.0.0.1',
    DicomAlwaysAllowFind: true,
    DicomAlwaysAllowStore: true,
    DicomCheckCalledAet: false,
    Plugins: ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
    ...options.config,
  };
  const configFile = join(dir, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const proc = await startProcess('Orthanc', [configFile]);
  // Ready once HTTP answers at all (401 too: the configuration may enable authentication).
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    const answered = await fetch(`${httpUrl}/system`).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await proc.kill9();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`Orthanc not ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    httpUrl,
    dicomWebUrl: `${httpUrl}/dicom-web`,
    dicomPort,
    aeTitle,
    async upload(file) {
      const res = await fetch(`${httpUrl}/instances`, { method: 'POST', body: await readFile(file), headers: { 'content-type': 'application/dicom' } });
      const body = await res.text();
      if (!res.ok) throw new Error(`Orthanc POST /instances ${file}: HTTP ${res.status} ${body}`);
      return JSON.parse(body) as { ID: string; ParentStudy: string; Status: string };
    },
    async stop() {
      await proc.stop('SIGTERM', 10_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import { spawn } from 'node:child_process';
import { eventually, type BridgeProcess } from '../support/bridge-process.js';
import type { TestFhirServer } from '../support/fhir-server.js';
import { run } from '../support/run.js';

/** storescu from AE MODALITY to the bridge, with extra options before the address. */
export function storescu(bridge: BridgeProcess, paths: string[], extra: string[] = []) {
  return run('storescu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, ...extra, '127.0.0.1', String(bridge.dicomPort), ...paths], {
    timeoutMs: 180_000,
  });
}

/** Every ImagingStudy of the Study Instance UID on the test FHIR server. */
export async function imagingStudies(fhir: TestFhirServer, studyUid: string): Promise<any[]> {
  const bundle = await fhir.search(`ImagingStudy?identifier=${encodeURIComponent(`urn:dicom:uid|urn:oid:${studyUid}`)}`);
  return (bundle.entry ?? []).map((e: any) => e.resource);
}

/** Waits until the bridge reports the study published with `instances` instances. */
export async function published(bridge: BridgeProcess, studyUid: string, instances: number, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const { status, body } = await bridge.get(`/studies/${studyUid}`);
      return status === 200 && body.publishState === 'published' && body.numberOfInstances === instances ? body : undefined;
    },
    timeoutMs,
    `study ${studyUid} published with ${instances} instances`,
  );
}

/** Waits until the FHIR server holds exactly one ImagingStudy of the study, with `instances` instances. */
export async function publishedOnServer(fhir: TestFhirServer, studyUid: string, instances: number, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const found = await imagingStudies(fhir, studyUid);
      return found.length === 1 && found[0].numberOfInstances === instances ? found[0] : undefined;
    },
    timeoutMs,
    `ImagingStudy ${studyUid} with ${instances} instances on the FHIR server`,
  );
}

/** echoscu from AE MODALITY to the bridge. */
export function echoscu(bridge: BridgeProcess, timeoutMs = 30_000) {
  return run('echoscu', ['-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort)], { timeoutMs });
}

/** The statuses of `storescu -v`'s Store Responses, in order ("Success", "Out of Resources", ...). */
export function storeResponses(stderr: string): string[] {
  return [...stderr.matchAll(/Received Store Response \(([^)]*)\)/g)].map((m) => m[1]!);
}

/**
 * storescu -v from AE MODALITY of `files` to the bridge, tracking which files got a Success response
 * (storescu names each file before sending it); `onAck` is called with the count after each one.
 */
export function storescuTracked(
  bridge: Pick<BridgeProcess, 'aeTitle' | 'dicomPort'>,
  files: string[],
  onAck: (count: number) => void,
): Promise<{ code: number | null; acknowledged: Set<string> }> {
  const acknowledged = new Set<string>();
  const sender = spawn('storescu', ['-v', '-aet', 'MODALITY', '-aec', bridge.aeTitle, '127.0.0.1', String(bridge.dicomPort), ...files], {
    env: { ...process.env, TCP_NODELAY: '1' },
  });
  let current: string | undefined;
  let buffered = '';
  const onData = (d: Buffer) => {
    buffered += d.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const sending = /Sending file: (.+)$/.exec(line);
      if (sending) current = sending[1]!.trim();
      if (/Received Store Response \(Success\)/.test(line) && current) {
        acknowledged.add(current);
        onAck(acknowledged.size);
      }
    }
  };
  sender.stdout.on('data', onData);
  sender.stderr.on('data', onData);
  return new Promise((res) => sender.on('close', (code) => res({ code, acknowledged })));
}

/**
 * The files a DICOMDIR references (PS3.10 8.6, PS3.3 F.3): every directory
 * record of the Directory Record Sequence (0004,1220) with a Referenced File
 * ID (0004,1500), a path of CS components relative to the DICOMDIR's folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import dicomParser from 'dicom-parser';
import { errorMessage } from '../errors.js';
import { NotDicomError } from './part10.js';

export async function dicomdirFiles(path: string): Promise<string[]> {
  const bytes = await readFile(path);
  let dataSet;
  try {
    dataSet = dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  } catch (err) {
    throw new NotDicomError(`cannot parse DICOMDIR: ${typeof err === 'string' ? err : errorMessage(err)}`);
  }
  const records = dataSet.elements['x00041220']?.items ?? [];
  const base = dirname(resolve(path));
  const files: string[] = [];
  for (const item of records) {
    const id = item.dataSet?.string('x00041500');
    if (!id) continue;
    // Components are separated by backslashes (multi-valued CS); never leave the DICOMDIR's folder.
    const parts = id.split('\\').map((p) => p.trim()).filter((p) => p !== '' && p !== '.' && p !== '..');
    if (parts.length > 0) files.push(join(base, ...parts));
  }
  return files;
}

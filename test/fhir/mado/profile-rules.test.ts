/**
 * The MADO profile rules the bridge implements, one row per FSH rule, each
 * naming the FSH file and line it checks (docs/mado/fsh/, CC-BY-4.0, IHE).
 * SUSHI cannot resolve the IHE MHD parent offline and Medplum's validator
 * cannot load #profile slicing discriminators (docs/mado.md), so the rules
 * are encoded here: every row is a FHIRPath expression (@medplum/core)
 * evaluated on every resource of its type in each scenario's manifest
 * Bundle and DocumentReference, and must give `true`. The invariants
 * mado-reqproc-1 and mado-docref-1 are read from the FSH itself.
 *
 * Variables: %resource is the resource under test, %bundle the manifest Bundle.
 */
import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import { describe, expect, test } from 'vitest';
import type { StudyState } from '../../../src/dicom/study-state.js';
import { MADO_EXTENSION, MADO_PROFILE, XVER_DOCUMENT_REFERENCE } from '../../../src/fhir/mado/canonicals.js';
import { manifestDocumentReference } from '../../../src/fhir/mado/document-reference.js';
import { mapManifest } from '../../../src/fhir/mado/manifest.js';
import type { ManifestOptions } from '../../../src/fhir/mado/options.js';
import { fullStudy, minimalStudy, withStudy } from '../fixtures.js';
import { echoStudy, manifestOptions } from './fixtures.js';
import { fshLine } from './fsh.js';

type ResourceType = 'Bundle' | 'Composition' | 'ImagingStudy' | 'Patient' | 'Endpoint' | 'Device' | 'Organization' | 'ServiceRequest' | 'DocumentReference';

interface Rule {
  /** FSH file under docs/mado/fsh/ and 1-based line of the rule. */
  fsh: string;
  line: number;
  /** Text the cited line contains (keeps the citation honest when the FSH changes). */
  quote: string;
  type: ResourceType;
  /** Only resources with this meta.profile (Endpoints: WADO vs web viewer). */
  profile?: string;
  expr: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const PAYLOAD_TYPE = 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type';
const P = MADO_PROFILE;

/** The entry of %bundle whose fullUrl `ref` is has profile `profile`. */
const refersTo = (ref: string, profile: string) => `${ref}.all($this in %bundle.entry.where(resource.meta.profile contains '${profile}').fullUrl)`;
/** An Identifier (path `id`) per MadoAccessionNumberIdentifier. */
const accessionIdentifier = (id: string) =>
  `${id}.all(system.exists() and value.exists() and type.coding.where(system = '${V2_0203}' and code = 'ACSN').count() = 1 and type.coding.where(system = '${DCM}' and code = '121022').count() = 1)`;
/** An Identifier (path `id`) per MadoStudyInstanceUidIdentifier. */
const studyUidIdentifier = (id: string) =>
  `${id}.all(system = 'urn:dicom:uid' and value.startsWith('urn:oid:') and type.coding.where(system = '${DCM}' and code = '110180').count() = 1)`;

/** Expression of an FSH Invariant (the `Expression:` line after `Invariant: key`). */
function invariant(file: string, line: number): string {
  const m = /^Expression:\s*"(.*)"\s*$/.exec(fshLine(file, line));
  if (!m?.[1]) throw new Error(`no invariant expression at ${file}:${line}`);
  return m[1];
}

const BUNDLE = 'profiles/Bundle-Mado.fsh';
const COMP = 'profiles/Composition-Mado.fsh';
const IS = 'profiles/ImagingStudy-MADO.fsh';
const DEV = 'profiles/Device-MadoCreator.fsh';
const WADO = 'profiles/Endpoint-wado-rs.fsh';
const WEB = 'profiles/Endpoint-webviewer.fsh';
const ACSN = 'profiles/Identifier-AccessionNumberIdentifier.fsh';
const SUID = 'profiles/Identifier-StudyInstanceUid.fsh';
const SR = 'profiles/ServiceRequest-RequestedProcedure.fsh';
const PAT = 'profiles/Patient-MadoPatient.fsh';
const MHD = 'mhd/MHD-documentreference.fsh';
const count = (type: string, profile?: string) => `entry.resource.ofType(${type})${profile ? `.where(meta.profile contains '${profile}')` : ''}.count()`;

export const RULES: Rule[] = [
  // MadoFhirBundle
  { fsh: BUNDLE, line: 10, quote: '* identifier 1..1 MS', type: 'Bundle', expr: `identifier.count() = 1 and identifier.system = 'urn:dicom:uid' and identifier.value.startsWith('urn:oid:2.25.')` },
  { fsh: BUNDLE, line: 13, quote: '* timestamp 1..1 MS', type: 'Bundle', expr: 'timestamp.exists()' },
  { fsh: BUNDLE, line: 15, quote: '* type = #document', type: 'Bundle', expr: `type = 'document'` },
  { fsh: BUNDLE, line: 17, quote: '* total ..0', type: 'Bundle', expr: 'total.empty()' },
  { fsh: BUNDLE, line: 19, quote: '* entry 3..*', type: 'Bundle', expr: 'entry.count() >= 3 and entry.all(fullUrl.startsWith(\'urn:uuid:\') and resource.exists())' },
  { fsh: BUNDLE, line: 27, quote: 'composition 1..1 MS', type: 'Bundle', expr: `${count('Composition')} = 1 and entry.first().resource is Composition` },
  { fsh: BUNDLE, line: 28, quote: 'imaging-study 1..1 MS', type: 'Bundle', expr: `${count('ImagingStudy')} = 1` },
  { fsh: BUNDLE, line: 29, quote: 'patient 0..1 MS', type: 'Bundle', expr: `${count('Patient')} <= 1` },
  { fsh: BUNDLE, line: 30, quote: 'wado-endpoint 1..* MS', type: 'Bundle', expr: `${count('Endpoint', P.wadoEndpoint)} >= 1` },
  { fsh: BUNDLE, line: 31, quote: 'web-endpoint 0..* MS', type: 'Bundle', expr: `${count('Endpoint', P.webViewerEndpoint)} >= 0` },
  { fsh: BUNDLE, line: 32, quote: 'creator 1..1 MS', type: 'Bundle', expr: `${count('Device', P.creator)} = 1` },
  { fsh: BUNDLE, line: 33, quote: 'creator-organization 0..1 MS', type: 'Bundle', expr: `${count('Organization', P.creatorOrganization)} <= 1` },
  { fsh: BUNDLE, line: 34, quote: 'requested-procedure 0..* MS', type: 'Bundle', expr: `${count('ServiceRequest')} = ${count('ServiceRequest', P.requestedProcedure)}` },
  { fsh: BUNDLE, line: 36, quote: 'entry[composition].resource only MadoComposition', type: 'Bundle', expr: `entry.resource.ofType(Composition).all(meta.profile contains '${P.composition}')` },
  { fsh: BUNDLE, line: 39, quote: 'entry[imaging-study].resource only MadoImagingStudy', type: 'Bundle', expr: `entry.resource.ofType(ImagingStudy).all(meta.profile contains '${P.imagingStudy}')` },
  { fsh: BUNDLE, line: 42, quote: 'entry[patient].resource only MadoPatient', type: 'Bundle', expr: `entry.resource.ofType(Patient).all(meta.profile contains '${P.patient}')` },
  { fsh: BUNDLE, line: 45, quote: 'entry[creator].resource only MadoCreator', type: 'Bundle', expr: `entry.resource.ofType(Device).all(meta.profile contains '${P.creator}')` },
  { fsh: BUNDLE, line: 48, quote: 'entry[creator-organization].resource only MadoCreatorOrganization', type: 'Bundle', expr: `entry.resource.ofType(Organization).all(meta.profile contains '${P.creatorOrganization}')` },
  { fsh: BUNDLE, line: 51, quote: 'entry[wado-endpoint].resource only MadoWadoEndpoint', type: 'Bundle', expr: `entry.resource.ofType(Endpoint).all((meta.profile contains '${P.wadoEndpoint}') or (meta.profile contains '${P.webViewerEndpoint}'))` },
  { fsh: BUNDLE, line: 57, quote: 'entry[requested-procedure].resource only MadoRequestedProcedure', type: 'Bundle', expr: `entry.resource.ofType(ServiceRequest).all(meta.profile contains '${P.requestedProcedure}')` },

  // MadoComposition
  { fsh: COMP, line: 8, quote: '* text 1..1 MS', type: 'Composition', expr: 'text.div.exists()' },
  { fsh: COMP, line: 10, quote: 'status from MadoNarrativeNotEmpty (required)', type: 'Composition', expr: `text.status != 'empty'` },
  { fsh: COMP, line: 11, quote: '* identifier 1..1 MS', type: 'Composition', expr: 'identifier.count() = 1 and identifier.value = %bundle.identifier.value and identifier.system = %bundle.identifier.system' },
  { fsh: COMP, line: 14, quote: '* type 1..1 MS', type: 'Composition', expr: 'type.coding.exists()' },
  { fsh: COMP, line: 19, quote: '* subject 1..1 MS', type: 'Composition', expr: 'subject.count() = 1' },
  { fsh: COMP, line: 20, quote: '* subject only Reference( MadoPatient )', type: 'Composition', expr: refersTo('subject.reference', P.patient) },
  { fsh: COMP, line: 21, quote: '* date 1..1 MS', type: 'Composition', expr: 'date = %bundle.timestamp' },
  { fsh: COMP, line: 27, quote: 'author contains source-organization 1..1 and source-device 1..1', type: 'Composition', expr: `author.count() = 2` },
  { fsh: COMP, line: 28, quote: '* author[source-device] only Reference( MadoCreator )', type: 'Composition', expr: `author.reference.where($this in %bundle.entry.where(resource.meta.profile contains '${P.creator}').fullUrl).count() = 1` },
  { fsh: COMP, line: 30, quote: '* author[source-organization] only Reference( MadoCreatorOrganization )', type: 'Composition', expr: `author.reference.where($this in %bundle.entry.where(resource.meta.profile contains '${P.creatorOrganization}').fullUrl).count() = 1` },
  { fsh: COMP, line: 39, quote: '* event contains imaging-study 1..1 MS', type: 'Composition', expr: 'event.detail.count() = 1' },
  { fsh: COMP, line: 40, quote: '* event[imaging-study].detail only Reference( MadoImagingStudy )', type: 'Composition', expr: refersTo('event.detail.reference', P.imagingStudy) },
  { fsh: COMP, line: 45, quote: '* text 1..1 MS', type: 'Composition', expr: `section.count() = %bundle.entry.resource.ofType(ImagingStudy).series.count() and section.all(text.div.exists() and text.status != 'empty')` },

  // MadoImagingStudy (and its identifier profiles)
  { fsh: IS, line: 12, quote: '* identifier contains study-instance-uid 1..1 MS', type: 'ImagingStudy', expr: `identifier.where(type.coding.where(code = '110180').exists()).count() = 1` },
  { fsh: IS, line: 13, quote: '* identifier[study-instance-uid] only MadoStudyInstanceUidIdentifier', type: 'ImagingStudy', expr: studyUidIdentifier(`identifier.where(type.coding.where(code = '110180').exists())`) },
  { fsh: SUID, line: 9, quote: '* system = "urn:dicom:uid"', type: 'ImagingStudy', expr: `identifier.where(type.coding.where(code = '110180').exists()).system = 'urn:dicom:uid'` },
  { fsh: SUID, line: 16, quote: '* coding[dcm] = $dicomOntology#110180', type: 'ImagingStudy', expr: `identifier.where(system = 'urn:dicom:uid').type.coding.where(system = '${DCM}' and code = '110180').count() = 1` },
  { fsh: IS, line: 16, quote: 'MadoAnatomicalRegionExtension named anatomical-region 0..* MS', type: 'ImagingStudy', expr: `extension.where(url = '${MADO_EXTENSION.anatomicalRegion}').all(value.coding.exists())` },
  { fsh: IS, line: 24, quote: '* subject 1..1 MS', type: 'ImagingStudy', expr: 'subject.count() = 1' },
  { fsh: IS, line: 25, quote: '* subject only Reference( MadoPatient )', type: 'ImagingStudy', expr: refersTo('subject.reference', P.patient) },
  { fsh: IS, line: 29, quote: '* basedOn contains order 0..1 MS', type: 'ImagingStudy', expr: 'basedOn.where(identifier.exists()).count() <= 1' },
  { fsh: IS, line: 30, quote: '* basedOn[order] only MadoReferencedAccessionNumberIdentifier', type: 'ImagingStudy', expr: accessionIdentifier('basedOn.identifier') },
  { fsh: ACSN, line: 9, quote: '* system 1..1', type: 'ServiceRequest', expr: `identifier.where(type.coding.where(code = '121022').exists()).all(system.exists())` },
  { fsh: ACSN, line: 11, quote: '* value 1..1', type: 'ServiceRequest', expr: `identifier.where(type.coding.where(code = '121022').exists()).all(value.exists())` },
  { fsh: ACSN, line: 18, quote: '* coding[v2-0203-coding] = $v2-0203#ACSN', type: 'ServiceRequest', expr: `identifier.type.coding.where(system = '${V2_0203}' and code = 'ACSN').count() = 1` },
  { fsh: ACSN, line: 19, quote: '* coding[dcm] = $dicomOntology#121022', type: 'ServiceRequest', expr: `identifier.type.coding.where(system = '${DCM}' and code = '121022').count() = 1` },
  { fsh: IS, line: 35, quote: '* endpoint[webviewer] only Reference(MadoWebViewerEndpoint)', type: 'ImagingStudy', expr: `%bundle.entry.where(resource.meta.profile contains '${P.webViewerEndpoint}').fullUrl.all($this in %resource.endpoint.reference)` },
  { fsh: IS, line: 42, quote: '* obeys mado-reqproc-1', type: 'ImagingStudy', expr: invariant(IS, 77) },
  { fsh: IS, line: 43, quote: '* numberOfSeries 1..1 MS', type: 'ImagingStudy', expr: 'numberOfSeries = series.count()' },
  { fsh: IS, line: 46, quote: '* uid 1..1 MS', type: 'ImagingStudy', expr: 'series.all(uid.exists())' },
  { fsh: IS, line: 50, quote: '* numberOfInstances 1..1 MS', type: 'ImagingStudy', expr: 'series.all(numberOfInstances = instance.count())' },
  { fsh: IS, line: 58, quote: '* endpoint contains wado 1..* MS', type: 'ImagingStudy', expr: 'series.all(endpoint.count() >= 1)' },
  { fsh: IS, line: 59, quote: '* endpoint[wado] only Reference(MadoWadoEndpoint)', type: 'ImagingStudy', expr: `series.all(endpoint.reference.where($this in %bundle.entry.where(resource.meta.profile contains '${P.wadoEndpoint}').fullUrl).exists())` },
  { fsh: IS, line: 61, quote: '* instance 1..*', type: 'ImagingStudy', expr: 'series.all(instance.count() >= 1)' },
  { fsh: IS, line: 62, quote: '* uid 1..1 MS', type: 'ImagingStudy', expr: 'series.instance.all(uid.exists())' },
  { fsh: IS, line: 68, quote: 'MadoNumberOfFrames named number-of-frames 0..1 MS', type: 'ImagingStudy', expr: `series.instance.all(extension.where(url = '${MADO_EXTENSION.numberOfFrames}').count() <= 1 and extension.where(url = '${MADO_EXTENSION.numberOfFrames}').all(value >= 1))` },
  { fsh: IS, line: 69, quote: 'MadoKeyObjectDocumentTitle named ko-document-title 0..1 MS', type: 'ImagingStudy', expr: `series.instance.all(extension.where(url = '${MADO_EXTENSION.keyObjectDocumentTitle}').count() <= 1 and extension.where(url = '${MADO_EXTENSION.keyObjectDocumentTitle}').all(value.coding.exists()))` },

  // MadoPatient
  { fsh: PAT, line: 8, quote: '* identifier MS', type: 'Patient', expr: 'identifier.all(system.exists() and value.exists())' },

  // MadoCreator, MadoCreatorOrganization
  { fsh: DEV, line: 13, quote: '* type 1..1 MS', type: 'Device', expr: 'type.count() = 1' },
  { fsh: DEV, line: 15, quote: '^fixedUri = Canonical( MadoDeviceType )', type: 'Device', expr: `type.coding.system = 'https://profiles.ihe.net/RAD/MADO/CodeSystem/MadoDeviceType'` },
  { fsh: DEV, line: 17, quote: '^fixedCode = #mado-creator', type: 'Device', expr: `type.coding.code = 'mado-creator'` },
  { fsh: DEV, line: 18, quote: '* type.coding 1..1', type: 'Device', expr: 'type.coding.count() = 1' },
  { fsh: DEV, line: 19, quote: '* manufacturer MS', type: 'Device', expr: 'manufacturer.exists()' },
  { fsh: DEV, line: 21, quote: '* owner only Reference( MadoCreatorOrganization )', type: 'Device', expr: refersTo('owner.reference', P.creatorOrganization) },
  { fsh: DEV, line: 28, quote: '* name MS', type: 'Organization', expr: 'name.exists()' },

  // MadoWadoEndpoint
  { fsh: WADO, line: 10, quote: 'MadoRetrieveLocationUIDExtension named retrieve-location-uid 1..1 MS', type: 'Endpoint', profile: P.wadoEndpoint, expr: `extension.where(url = '${MADO_EXTENSION.retrieveLocationUid}').count() = 1 and extension.where(url = '${MADO_EXTENSION.retrieveLocationUid}').value.matches('^[0-2](\\\\.(0|[1-9][0-9]*))+$')` },
  { fsh: WADO, line: 11, quote: '* status = #active', type: 'Endpoint', profile: P.wadoEndpoint, expr: `status = 'active'` },
  { fsh: WADO, line: 19, quote: '^fixedUri = http://terminology.hl7.org/CodeSystem/endpoint-connection-type', type: 'Endpoint', profile: P.wadoEndpoint, expr: `connectionType.system = 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type'` },
  { fsh: WADO, line: 21, quote: '^fixedCode = #dicom-wado-rs', type: 'Endpoint', profile: P.wadoEndpoint, expr: `connectionType.code = 'dicom-wado-rs'` },
  { fsh: WADO, line: 31, quote: '* payloadType contains text-wado 1..1', type: 'Endpoint', profile: P.wadoEndpoint, expr: `payloadType.where(text = 'DICOM WADO-RS').count() = 1` },
  { fsh: WADO, line: 40, quote: '* coding contains none 1..1', type: 'Endpoint', profile: P.wadoEndpoint, expr: `payloadType.where(text = 'DICOM WADO-RS').coding.where(system = '${PAYLOAD_TYPE}' and code = 'none').count() = 1` },
  { fsh: WADO, line: 46, quote: '* text = "DICOM WADO-RS"', type: 'Endpoint', profile: P.wadoEndpoint, expr: `payloadType.text contains 'DICOM WADO-RS'` },
  { fsh: WADO, line: 98, quote: '* address MS', type: 'Endpoint', profile: P.wadoEndpoint, expr: `address.exists() and (address.startsWith('http://') or address.startsWith('https://'))` },

  // MadoWebViewerEndpoint
  { fsh: WEB, line: 12, quote: '* payloadType contains type-none 1..1', type: 'Endpoint', profile: P.webViewerEndpoint, expr: `payloadType.where(coding.system = '${PAYLOAD_TYPE}' and coding.code = 'none').count() = 1` },
  { fsh: WEB, line: 14, quote: '* coding 1..1', type: 'Endpoint', profile: P.webViewerEndpoint, expr: `payloadType.where(coding.code = 'none').coding.count() = 1` },
  { fsh: WEB, line: 21, quote: '* payloadMimeType = #text/html', type: 'Endpoint', profile: P.webViewerEndpoint, expr: `payloadMimeType.exists() and payloadMimeType.all($this = 'text/html')` },
  { fsh: WEB, line: 22, quote: '* address MS', type: 'Endpoint', profile: P.webViewerEndpoint, expr: `address.contains(%bundle.entry.resource.ofType(ImagingStudy).identifier.where(system = 'urn:dicom:uid').value.replace('urn:oid:', ''))` },

  // MadoRequestedProcedure
  { fsh: SR, line: 10, quote: '* identifier contains accession-number 1..1 MS', type: 'ServiceRequest', expr: `identifier.where(type.coding.where(code = '121022').exists()).count() = 1` },
  { fsh: SR, line: 11, quote: '* identifier[accession-number] only MadoAccessionNumberIdentifier', type: 'ServiceRequest', expr: accessionIdentifier(`identifier.where(type.coding.where(code = '121022').exists())`) },
  { fsh: SR, line: 48, quote: '* status 1..1', type: 'ServiceRequest', expr: 'status.exists()' },
  { fsh: SR, line: 50, quote: '* intent 1..1', type: 'ServiceRequest', expr: 'intent.exists()' },

  // MadoFhirDocumentReference (MHD envelope)
  { fsh: MHD, line: 91, quote: '* obeys mado-docref-1', type: 'DocumentReference', expr: invariant(MHD, 153) },
  { fsh: MHD, line: 17, quote: '* masterIdentifier', type: 'DocumentReference', expr: 'masterIdentifier.value = %bundle.identifier.value and masterIdentifier.system = %bundle.identifier.system' },
  { fsh: MHD, line: 35, quote: '* content 1..1', type: 'DocumentReference', expr: 'content.count() = 1' },
  { fsh: MHD, line: 36, quote: '* attachment 1..1', type: 'DocumentReference', expr: 'content.attachment.count() = 1 and content.attachment.url.exists() and content.attachment.data.empty()' },
  { fsh: MHD, line: 37, quote: '* contentType = #application/fhir+json', type: 'DocumentReference', expr: `content.attachment.contentType = 'application/fhir+json'` },
  { fsh: MHD, line: 44, quote: '^fixedUri = http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode', type: 'DocumentReference', expr: `content.format.system = 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode'` },
  { fsh: MHD, line: 46, quote: '^fixedCode = #urn:ihe:rad:MADO:fhir-manifest:2026', type: 'DocumentReference', expr: `content.format.code = 'urn:ihe:rad:MADO:fhir-manifest:2026'` },
  { fsh: MHD, line: 52, quote: 'extension-DocumentReference.content.profile named profile 1..*', type: 'DocumentReference', expr: `content.extension.where(url = '${XVER_DOCUMENT_REFERENCE.contentProfile}').count() >= 1` },
  { fsh: MHD, line: 56, quote: '* valueCanonical = Canonical( MadoFhirBundle )', type: 'DocumentReference', expr: `content.extension.where(url = '${XVER_DOCUMENT_REFERENCE.contentProfile}').extension.where(url = 'value[x]').value = '${P.bundle}'` },
  { fsh: MHD, line: 92, quote: '* identifier 1..*', type: 'DocumentReference', expr: 'identifier.count() >= 1' },
  { fsh: MHD, line: 94, quote: 'bodySite-for-R4 named bodysite 0..1 MS', type: 'DocumentReference', expr: `extension.where(url = '${XVER_DOCUMENT_REFERENCE.bodySite}').count() <= 1` },
  { fsh: MHD, line: 95, quote: '* extension[bodysite].extension[concept] 1..1', type: 'DocumentReference', expr: `extension.where(url = '${XVER_DOCUMENT_REFERENCE.bodySite}').all(extension.where(url = 'concept').count() = 1)` },
  { fsh: MHD, line: 102, quote: 'modality-for-R4 named modality 1..1 MS', type: 'DocumentReference', expr: `extension.where(url = '${XVER_DOCUMENT_REFERENCE.modality}').count() = 1 and extension.where(url = '${XVER_DOCUMENT_REFERENCE.modality}').value.coding.exists()` },
  { fsh: MHD, line: 104, quote: '* type 1..1 MS', type: 'DocumentReference', expr: 'type.coding.exists()' },
  { fsh: MHD, line: 106, quote: '* category 1..1 MS', type: 'DocumentReference', expr: 'category.count() = 1' },
  { fsh: MHD, line: 109, quote: '* subject 1..1 MS', type: 'DocumentReference', expr: 'subject.count() = 1' },
  { fsh: MHD, line: 115, quote: '* author[source-device] only Reference( MadoCreator )', type: 'DocumentReference', expr: `author.reference.where($this.startsWith('#') and %resource.contained.where(meta.profile contains '${P.creator}').exists()).exists() and author.count() <= 2` },
  { fsh: MHD, line: 117, quote: '* author[source-organization] only Reference( MadoCreatorOrganization )', type: 'DocumentReference', expr: `contained.where(meta.profile contains '${P.creatorOrganization}').all(('#' + id) in %resource.author.reference)` },
  { fsh: MHD, line: 128, quote: '* language 1..1 MS', type: 'DocumentReference', expr: 'content.attachment.language.exists()' },
  { fsh: MHD, line: 129, quote: '* creation 1..1 MS', type: 'DocumentReference', expr: 'content.attachment.creation.exists()' },
  { fsh: MHD, line: 132, quote: '* context 1..1', type: 'DocumentReference', expr: 'context.count() = 1' },
  { fsh: MHD, line: 133, quote: '* facilityType 1..1 MS', type: 'DocumentReference', expr: 'context.facilityType.coding.exists()' },
  { fsh: MHD, line: 135, quote: '* practiceSetting 1..1 MS', type: 'DocumentReference', expr: 'context.practiceSetting.coding.exists()' },
  { fsh: MHD, line: 138, quote: '* period 1..1 MS', type: 'DocumentReference', expr: 'context.period.count() = 1' },
  { fsh: MHD, line: 139, quote: '* start 1..1', type: 'DocumentReference', expr: `context.period.start.exists() or context.period._start.extension.where(url = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason').exists()` },
  { fsh: MHD, line: 143, quote: '* related contains study-instance-uid 1..1 MS and accession-number 0..1 MS', type: 'DocumentReference', expr: `context.related.where(identifier.type.coding.where(code = '110180').exists()).count() = 1 and context.related.where(identifier.type.coding.where(code = '121022').exists()).count() <= 1` },
  { fsh: MHD, line: 144, quote: '* related[study-instance-uid] only MadoReferencedStudyInstanceUidIdentifier', type: 'DocumentReference', expr: studyUidIdentifier(`context.related.identifier.where(type.coding.where(code = '110180').exists())`) },
  { fsh: MHD, line: 146, quote: '* related[accession-number] only MadoReferencedAccessionNumberIdentifier', type: 'DocumentReference', expr: accessionIdentifier(`context.related.identifier.where(type.coding.where(code = '121022').exists())`) },
];

interface Scenario {
  name: string;
  state: StudyState;
  options: ManifestOptions;
}

const SCENARIOS: Scenario[] = [
  { name: 'echo study (accession, viewer, DICOMweb URL, KOS, SR kept out)', state: echoStudy(), options: manifestOptions() },
  { name: 'full CT study', state: fullStudy(), options: manifestOptions({ sharing: { excludeSopClasses: [] } }) },
  { name: 'minimal study (no accession, no viewer, no DICOMweb URL)', state: minimalStudy(), options: manifestOptions({ dicomWebBaseUrl: undefined, viewerUrlTemplate: undefined }) },
  { name: 'study with only a Study Description', state: withStudy(minimalStudy(), { studyDescription: 'CT head', accessionNumber: 'A-7' }), options: manifestOptions() },
];

type Json = Record<string, any>;

function resourcesOf(bundle: Json, docRef: Json): Json[] {
  return [bundle, ...(bundle.entry ?? []).map((e: Json) => e.resource), docRef];
}

function evaluate(rule: Rule, resource: Json, bundle: Json): unknown[] {
  const typed = toTypedValue(resource);
  return evalFhirPathTyped(rule.expr, [typed], { '%resource': typed, '%bundle': toTypedValue(bundle) }).map((v) => v.value);
}

describe('the rule table cites the FSH', () => {
  test.each(RULES.map((r) => [`${r.fsh}:${r.line}`, r] as const))('%s says what the rule checks', (_at, rule) => {
    expect(fshLine(rule.fsh, rule.line)).toContain(rule.quote);
  });
});

describe.each(SCENARIOS)('MADO profile rules: $name', ({ state, options }) => {
  const manifest = mapManifest(state, options);
  const docRef = manifestDocumentReference({
    summary: manifest.summary,
    bundleUrl: 'https://fhir.example/fhir/Bundle/b1',
    subject: { reference: 'Patient/p1' },
    imagingStudyReference: 'ImagingStudy/s1',
    options,
  });
  const resources = resourcesOf(manifest.bundle, docRef);

  test.each(RULES.map((r) => [`${r.fsh}:${r.line} ${r.type}: ${r.expr.slice(0, 60)}`, r] as const))('%s', (_name, rule) => {
    const targets = resources.filter((r) => r.resourceType === rule.type && (!rule.profile || r.meta?.profile?.includes(rule.profile)));
    for (const target of targets) {
      expect({ at: `${rule.fsh}:${rule.line}`, result: evaluate(rule, target, manifest.bundle) }).toEqual({ at: `${rule.fsh}:${rule.line}`, result: [true] });
    }
  });
});

describe('the rules are not vacuous', () => {
  const manifest = mapManifest(echoStudy(), manifestOptions());
  const docRef = manifestDocumentReference({
    summary: manifest.summary,
    bundleUrl: 'https://fhir.example/fhir/Bundle/b1',
    subject: { reference: 'Patient/p1' },
    imagingStudyReference: 'ImagingStudy/s1',
    options: manifestOptions(),
  });
  const resources = resourcesOf(manifest.bundle, docRef);

  test('every rule has a resource to check in the echo study', () => {
    const unmatched = RULES.filter((rule) => !resources.some((r) => r.resourceType === rule.type && (!rule.profile || r.meta?.profile?.includes(rule.profile))));
    expect(unmatched.map((r) => `${r.fsh}:${r.line}`)).toEqual([]);
  });

  // Breaking what a rule checks makes it fail: the expressions are not true by construction.
  const broken: Array<[string, number, (b: Json, d: Json) => void]> = [
    [IS, 42, (b) => { const s = b.entry.find((e: Json) => e.resource.resourceType === 'ImagingStudy').resource; s.procedureCode = [{ coding: [{ system: 'http://snomed.info/sct', code: '40701008' }] }]; }],
    [MHD, 91, (_b, d) => { d.identifier = [{ system: 'urn:ietf:rfc:3986', value: 'urn:uuid:x' }]; }],
    [BUNDLE, 27, (b) => { b.entry.push(b.entry.shift()); }],
    [IS, 50, (b) => { b.entry.find((e: Json) => e.resource.resourceType === 'ImagingStudy').resource.series[0].numberOfInstances = 99; }],
    [WADO, 21, (b) => { b.entry.find((e: Json) => e.resource.meta?.profile?.includes(P.wadoEndpoint)).resource.connectionType.code = 'dicom-qido-rs'; }],
    [MHD, 46, (_b, d) => { d.content[0].format.code = 'urn:ihe:rad:MADO:kos-manifest:2026'; }],
    [COMP, 40, (b) => { b.entry[0].resource.event[0].detail = [{ reference: b.entry.find((e: Json) => e.resource.resourceType === 'Patient').fullUrl }]; }],
    [SR, 11, (b) => { b.entry.find((e: Json) => e.resource.resourceType === 'ServiceRequest').resource.identifier[0].type.coding.shift(); }],
  ];
  test.each(broken)('%s:%i fails on a manifest that breaks it', (fsh, line, breakIt) => {
    const bundle = structuredClone(manifest.bundle) as Json;
    const doc = structuredClone(docRef) as Json;
    breakIt(bundle, doc);
    const rule = RULES.find((r) => r.fsh === fsh && r.line === line)!;
    const results = resourcesOf(bundle, doc)
      .filter((r) => r.resourceType === rule.type && (!rule.profile || r.meta?.profile?.includes(rule.profile)))
      .map((r) => evaluate(rule, r, bundle));
    expect(results.some((r) => r[0] !== true)).toBe(true);
  });
});

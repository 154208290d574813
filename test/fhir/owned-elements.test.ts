import { describe, expect, it, test } from 'vitest';
import { CONFORMANCE, FHIR_VERSIONS } from '../../src/fhir/conformance.js';
import { mapImagingStudy } from '../../src/fhir/map-imaging-study.js';
import { mergeImagingStudy, ownedElements, renderOwnedElementsMarkdown, sameContent } from '../../src/fhir/owned-elements.js';
import { fullStudy, options } from './fixtures.js';

const R4 = () => mapImagingStudy(fullStudy(), options({ fhirVersion: 'R4', basedOn: 'accession', endpointReference: 'Endpoint/e1' })) as any;

/** What the server holds after another client edited the bridge's resource. */
function editedByOthers(generated: Record<string, any>): any {
  return {
    ...structuredClone(generated),
    id: 'abc',
    meta: { versionId: '7', lastUpdated: '2024-07-05T10:00:00Z', tag: [{ system: 'urn:site', code: 'reviewed' }] },
    note: [{ text: 'priors requested' }],
    encounter: { reference: 'Encounter/9' },
    extension: [{ url: 'urn:site:ext', valueString: 'kept' }],
    identifier: [...generated.identifier, { system: 'urn:site:other', value: 'X-1' }],
    basedOn: [...generated.basedOn, { reference: 'ServiceRequest/sr-7' }],
    endpoint: [...generated.endpoint, { reference: 'Endpoint/site-viewer' }],
    series: generated.series.map((s: any, i: number) => (i === 0 ? { ...s, extension: [{ url: 'urn:site:series', valueBoolean: true }] } : s)),
  };
}

describe('owned elements (derived from the conformance table)', () => {
  test.each(FHIR_VERSIONS)('%s: every conformance row is owned in one of the three ways', (v) => {
    const owned = ownedElements(v);
    for (const row of CONFORMANCE) {
      const path = row.element[v];
      if (path === undefined) continue;
      const top = /^[A-Za-z]+/.exec(path)![0];
      const where = top === 'series' ? owned.keyed.series : top in owned.shared ? owned.shared[top] : owned.whole;
      expect(where, path).toBeDefined();
    }
    expect(owned.whole).not.toContain('note');
    expect(owned.whole).not.toContain('extension');
    expect(owned.whole).not.toContain('meta');
  });

  it('R4: whole elements, shared arrays with filters, keyed series', () => {
    const owned = ownedElements('R4');
    expect(owned.whole.sort()).toEqual(
      ['description', 'interpreter', 'location', 'modality', 'numberOfInstances', 'numberOfSeries', 'procedureCode', 'reasonCode', 'referrer', 'started', 'status', 'subject'].sort(),
    );
    expect(owned.shared.identifier).toEqual(['identifier[system=urn:dicom:uid]', 'identifier[type.coding.code=ACSN]', 'identifier[!system][!type]']);
    expect(owned.shared.basedOn).toEqual(['basedOn[identifier.type.coding.code=ACSN]']);
    expect(owned.shared.endpoint).toEqual([]);
    expect(owned.keyed.series).toContain('instance');
    expect(owned.keyed['series.instance']!.sort()).toEqual(['number', 'sopClass', 'title', 'uid']);
  });

  it('R5 has no interpreter; STU3 owns uid, accession, patient', () => {
    expect(ownedElements('R5').whole).not.toContain('interpreter');
    expect(ownedElements('STU3').whole).toEqual(expect.arrayContaining(['uid', 'accession', 'patient', 'availability', 'modalityList']));
  });
});

describe('mergeImagingStudy', () => {
  it("keeps others' note, encounter, extension, meta.tag, identifiers, basedOn and endpoint members, and series extensions", () => {
    const generated = R4();
    const server = editedByOthers(generated);
    const next = { ...R4(), numberOfInstances: 99, description: 'new description' };
    const merged = mergeImagingStudy(server, next, 'R4') as Record<string, any>;
    expect(merged.id).toBe('abc');
    expect(merged.meta).toEqual({ tag: [{ system: 'urn:site', code: 'reviewed' }] });
    expect(merged.note).toEqual([{ text: 'priors requested' }]);
    expect(merged.encounter).toEqual({ reference: 'Encounter/9' });
    expect(merged.extension).toEqual([{ url: 'urn:site:ext', valueString: 'kept' }]);
    expect(merged.numberOfInstances).toBe(99);
    expect(merged.description).toBe('new description');
    expect(merged.identifier).toEqual([...generated.identifier, { system: 'urn:site:other', value: 'X-1' }]);
    expect(merged.basedOn).toEqual([...generated.basedOn, { reference: 'ServiceRequest/sr-7' }]);
    expect(merged.endpoint).toEqual([{ reference: 'Endpoint/e1' }, { reference: 'Endpoint/site-viewer' }]);
    expect(merged.series[0].extension).toEqual([{ url: 'urn:site:series', valueBoolean: true }]);
    expect(merged.series).toHaveLength(generated.series.length);
  });

  it("replaces the bridge's own members: a changed accession and a removed description, an old endpoint it wrote before", () => {
    const before = R4();
    const server: any = { ...editedByOthers(before), endpoint: [{ reference: 'Endpoint/old' }, { reference: 'Endpoint/site-viewer' }] };
    const previous = { ...before, endpoint: [{ reference: 'Endpoint/old' }] };
    const state = fullStudy();
    state.study.accessionNumber = 'ACC-43';
    delete state.study.studyDescription;
    const next = mapImagingStudy(state, options({ fhirVersion: 'R4', basedOn: 'accession', endpointReference: 'Endpoint/e1' })) as any;
    const merged = mergeImagingStudy(server, next, 'R4', previous) as Record<string, any>;
    const acsn = merged.identifier.filter((i: any) => i.type?.coding?.[0]?.code === 'ACSN');
    expect(acsn.map((i: any) => i.value)).toEqual(['ACC-43']);
    expect(merged.basedOn.map((b: any) => b.identifier?.value ?? b.reference)).toEqual(['ACC-43', 'ServiceRequest/sr-7']);
    expect(merged).not.toHaveProperty('description');
    expect(merged.endpoint).toEqual([{ reference: 'Endpoint/e1' }, { reference: 'Endpoint/site-viewer' }]);
  });

  it('drops series and instances the bridge did not receive; instance counts are the bridge’s', () => {
    const generated = R4();
    const server: any = { ...editedByOthers(generated), series: [...generated.series, { uid: '9.9.9', modality: { code: 'OT' }, instance: [] }] };
    const merged = mergeImagingStudy(server, R4(), 'R4') as Record<string, any>;
    expect(merged.series.map((s: any) => s.uid)).toEqual(generated.series.map((s: any) => s.uid));
  });

  it('a merge of what the server already holds is the same content (no write needed)', () => {
    const generated = R4();
    const server = editedByOthers(generated);
    const merged = mergeImagingStudy(server, R4(), 'R4', generated);
    expect(sameContent(merged as any, server)).toBe(true);
    expect(sameContent(mergeImagingStudy(server, { ...R4(), numberOfInstances: 1 }, 'R4') as any, server)).toBe(false);
  });

  it('STU3: foreign identifiers survive, the Study ID is the bridge’s', () => {
    const stu3 = mapImagingStudy(fullStudy(), options({ fhirVersion: 'STU3' })) as any;
    const server: any = { ...stu3, id: 'x', identifier: [...(stu3.identifier ?? []), { system: 'urn:site', value: 'S-1' }] };
    const merged = mergeImagingStudy(server, stu3, 'STU3') as Record<string, any>;
    expect(merged.identifier).toEqual([...(stu3.identifier ?? []), { system: 'urn:site', value: 'S-1' }]);
    expect(merged.uid).toBe(stu3.uid);
  });

  it("location: the bridge's when it writes one; with none written (FHIR_LOCATION=off, or no location in the DICOM) another client's is kept", () => {
    const server: any = { ...editedByOthers(R4()), location: { reference: 'Location/site-room-1' } };
    const written = mergeImagingStudy(server, R4(), 'R4') as Record<string, any>;
    expect(written.location).toEqual({ display: 'PET-CT room 2' });
    const off = mapImagingStudy(fullStudy(), options({ fhirVersion: 'R4', location: 'off' })) as any;
    expect(off).not.toHaveProperty('location');
    expect((mergeImagingStudy(server, off, 'R4') as Record<string, any>).location).toEqual({ reference: 'Location/site-room-1' });
  });

  it('renders the owned elements for the README', () => {
    const md = renderOwnedElementsMarkdown();
    expect(md).toMatch(/\| R4 \| .*`subject`/);
    expect(md).toMatch(/`identifier\[system=urn:dicom:uid\]`/);
    expect(md.split('\n').filter((l) => /^\| (STU3|R4|R5) \|/.test(l))).toHaveLength(3);
  });
});

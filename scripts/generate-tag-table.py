#!/usr/bin/python3
"""Generate src/dicom/data/tags.json: the attributes the bridge reads.

Source: pydicom's data dictionary (pydicom.datadict.DicomDictionary), itself
generated from DICOM PS3.6 Table 6-1. For each keyword of READ below: its tag
(in dicom-parser's `xggggeeee` key form), name, VR and VM, in tag order. Only
the attributes listed here are in the table, and src/dicom reads nothing
else (test/dicom/tags.test.ts checks both ways).

Usage: /usr/bin/python3 scripts/generate-tag-table.py [--check]
  --check  exit 1 if the committed JSON differs from what would be generated.
"""
import json
import sys
from pathlib import Path

from pydicom.datadict import DicomDictionary, keyword_dict

# Keywords (PS3.6) of every attribute src/dicom reads, by where it is read.
READ = [
    # record-extractor.ts: the InstanceRecord (mapping.md)
    'SpecificCharacterSet', 'SOPClassUID', 'SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID',
    'PatientName', 'PatientID', 'IssuerOfPatientID', 'IssuerOfPatientIDQualifiersSequence', 'PatientBirthDate',
    'PatientSex',
    'StudyDate', 'StudyTime', 'TimezoneOffsetFromUTC', 'AccessionNumber', 'IssuerOfAccessionNumberSequence', 'StudyID',
    'StudyDescription', 'ReferringPhysicianName', 'NameOfPhysiciansReadingStudy', 'ProcedureCodeSequence',
    'RequestedProcedureCodeSequence', 'RequestedProcedureDescription', 'ReasonForTheRequestedProcedure', 'ReasonForRequestedProcedureCodeSequence',
    'SeriesNumber', 'Modality', 'SeriesDescription', 'BodyPartExamined', 'Laterality', 'ImageLaterality', 'SeriesDate',
    'SeriesTime', 'PerformingPhysicianName', 'OperatorsName', 'AnatomicRegionSequence',
    'PerformedLocation', 'InstitutionalDepartmentName',
    'InstanceNumber', 'ContentLabel', 'DocumentTitle', 'ConceptNameCodeSequence', 'NumberOfFrames', 'StructureSetLabel',
    # attribute-macros.ts: Code Sequence Macro (PS3.3 Table 8.8-1), Hierarchic Designator Macro (Table 10-17)
    'CodeValue', 'CodingSchemeDesignator', 'CodingSchemeVersion', 'CodeMeaning', 'LongCodeValue', 'URNCodeValue',
    'LocalNamespaceEntityID', 'UniversalEntityID', 'UniversalEntityIDType',
    # key-object.ts: Key Object Selection Document (PS3.3 A.35.4, C.17.3, C.17.6, TID 2010)
    'ContentDate', 'ContentTime', 'RetrieveAETitle', 'RetrieveURL', 'CurrentRequestedProcedureEvidenceSequence',
    'ReferencedSeriesSequence', 'ReferencedSOPSequence', 'ReferencedSOPClassUID', 'ReferencedSOPInstanceUID',
    'ReferencedFrameNumber', 'ReferencedSegmentNumber', 'ContentSequence', 'ValueType',
    'AuthorObserverSequence', 'ObserverType', 'PersonName', 'TextValue',
]


def build():
    if len(set(READ)) != len(READ):
        raise SystemExit('duplicate keyword in READ')
    rows = []
    for keyword in READ:
        tag = keyword_dict.get(keyword)
        if tag is None:
            raise SystemExit(f'{keyword}: not in the data dictionary')
        vr, vm, name, retired, _ = DicomDictionary[tag]
        if retired:
            raise SystemExit(f'{keyword}: retired')
        if len(vr) != 2:
            # "US or SS", "OB or OW": the reader needs one VR per attribute.
            raise SystemExit(f'{keyword}: VR {vr!r} is not one VR')
        rows.append((tag, keyword, {'tag': f'x{tag:08x}', 'name': name, 'vr': vr, 'vm': vm}))
    rows.sort(key=lambda row: row[0])
    return {keyword: entry for _, keyword, entry in rows}


def main() -> int:
    out = Path(__file__).resolve().parent.parent / 'src' / 'dicom' / 'data' / 'tags.json'
    text = json.dumps(build(), indent=1, ensure_ascii=False) + '\n'
    if '--check' in sys.argv:
        if not out.exists() or out.read_text('utf-8') != text:
            print(f'stale: {out}', file=sys.stderr)
            return 1
        return 0
    out.write_text(text, 'utf-8')
    print(f'wrote {out} ({len(READ)} attributes)')
    return 0


if __name__ == '__main__':
    sys.exit(main())

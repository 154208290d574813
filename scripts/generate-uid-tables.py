#!/usr/bin/python3
"""Generate src/dicom/data/transfer-syntaxes.json and storage-sop-classes.json.

Source 1: pydicom's UID dictionary (pydicom.\_uid_dict.UID_dictionary), itself
generated from DICOM PS3.6 Table A-1. Debian bookworm ships pydicom 2.3.1
(standard 2022a or so), so entries the standard added later are listed in
SUPPLEMENT below, as data, with their source.

Usage: /usr/bin/python3 scripts/generate-uid-tables.py [--check]
  --check  exit 1 if the committed JSON differs from what would be generated.
"""
import json
import re
import sys
from pathlib import Path

from pydicom._uid_dict import UID_dictionary

# Entries of PS3.6 Table A-1 missing from pydicom 2.3.1.
# Source: DICOM PS3.6 Table A-1 (current edition) as transcribed in
# pydicom main `src/pydicom/_uid_dict.py` (auto-generated from the PS3.6 XML),
# cross-checked against pydicom/pynetdicom reference docs (HTJ2K, JPEG XL,
# Confocal Microscopy), Orthanc DicomTransferSyntaxes.json (JPEG XL) and the
# Aspose.Medical UID list (Deflated Image Frame Compression, Height Map and
# Label Map Segmentation). Tuples: (uid, name, type, retired).
SUPPLEMENT = [
    # Transfer syntaxes (PS3.5 Section 10 and Annex A; PS3.6 Table A-1)
    ('1.2.840.10008.1.2.4.100.1', 'Fragmentable MPEG2 Main Profile / Main Level', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.101.1', 'Fragmentable MPEG2 Main Profile / High Level', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.102.1', 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.103.1', 'Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.104.1', 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.105.1', 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.106.1', 'Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.112', 'JPEG XL', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000 Image Compression', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.204', 'JPIP HTJ2K Referenced', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.4.205', 'JPIP HTJ2K Referenced Deflate', 'Transfer Syntax', False),
    ('1.2.840.10008.1.2.8.1', 'Deflated Image Frame Compression', 'Transfer Syntax', False),
    # Storage SOP classes (PS3.4 Table B.5-1; PS3.6 Table A-1)
    ('1.2.840.10008.5.1.4.1.1.6.3', 'Photoacoustic Image Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.9.1.4', 'General 32-bit ECG Waveform Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.11.12', 'Variable Modality LUT Softcopy Presentation State Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.66.7', 'Label Map Segmentation Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.66.8', 'Height Map Segmentation Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.77.1.8', 'Confocal Microscopy Image Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.77.1.9', 'Confocal Microscopy Tiled Pyramidal Image Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.88.77', 'Waveform Annotation SR Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.201.1', 'Inventory Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.481.23', 'Enhanced RT Image Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.481.24', 'Enhanced Continuous RT Image Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.481.25', 'RT Patient Position Acquisition Instruction Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.601.3', 'Thermography Image Storage', 'SOP Class', False),
    ('1.2.840.10008.5.1.4.1.1.601.4', 'Thermography Multi-frame Image Storage', 'SOP Class', False),
]

IMPLICIT_VR = {'1.2.840.10008.1.2', '1.2.840.10008.1.20'}
BIG_ENDIAN = {'1.2.840.10008.1.2.2'}
# Whole dataset deflated (PS3.5 A.5; JPIP Referenced Deflate A.6 uses it too).
DEFLATED = {'1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.4.95', '1.2.840.10008.1.2.4.205'}
# JPIP referenced: no pixel data in the dataset (Pixel Data Provider URL).
JPIP = {'1.2.840.10008.1.2.4.94', '1.2.840.10008.1.2.4.95', '1.2.840.10008.1.2.4.204', '1.2.840.10008.1.2.4.205'}

STORAGE_NAME = re.compile(r'Storage( - (For Presentation|For Processing|Trial))?( SOP Class)?$')
NOT_STORAGE = ('Media Storage Directory Storage', 'Storage Commitment')


def encapsulated(uid: str) -> bool:
    """Pixel Data encoded as encapsulated fragments (PS3.5 A.4)."""
    if uid in JPIP:
        return False
    return (uid.startswith('1.2.840.10008.1.2.4.')
            or uid in ('1.2.840.10008.1.2.5', '1.2.840.10008.1.2.1.98', '1.2.840.10008.1.2.8.1'))


def uid_key(uid: str):
    return [int(p) for p in uid.split('.')]


def build():
    entries = {uid: (v[0], v[1], v[3] == 'Retired') for uid, v in UID_dictionary.items()}
    for uid, name, kind, retired in SUPPLEMENT:
        entries.setdefault(uid, (name, kind, retired))

    transfer = []
    storage = []
    for uid in sorted(entries, key=uid_key):
        name, kind, retired = entries[uid]
        if kind == 'Transfer Syntax':
            transfer.append({
                'uid': uid,
                'name': name,
                'explicitVr': uid not in IMPLICIT_VR,
                'littleEndian': uid not in BIG_ENDIAN,
                'deflated': uid in DEFLATED,
                'encapsulated': encapsulated(uid),
                'retired': retired,
            })
        elif kind == 'SOP Class' and STORAGE_NAME.search(name) and not name.startswith(NOT_STORAGE):
            storage.append({'uid': uid, 'name': name, 'retired': retired})
    return transfer, storage


def dump(obj) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + '\n'


def main() -> int:
    out = Path(__file__).resolve().parent.parent / 'src' / 'dicom' / 'data'
    transfer, storage = build()
    files = {out / 'transfer-syntaxes.json': dump(transfer), out / 'storage-sop-classes.json': dump(storage)}
    if '--check' in sys.argv:
        stale = [str(p) for p, text in files.items() if not p.exists() or p.read_text('utf-8') != text]
        for p in stale:
            print(f'stale: {p}', file=sys.stderr)
        return 1 if stale else 0
    out.mkdir(parents=True, exist_ok=True)
    for p, text in files.items():
        p.write_text(text, 'utf-8')
        print(f'wrote {p}')
    print(f'{len(transfer)} transfer syntaxes, {len(storage)} storage SOP classes')
    return 0


if __name__ == '__main__':
    sys.exit(main())

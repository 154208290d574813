#!/usr/bin/python3
"""Prints, as one JSON array, what pydicom and dcmdump read from each sample
file under the given directories (recursively): the four UIDs the bridge
requires and the Patient Name component groups. Used by the dicom tests as
the reference to compare the sink's records with."""
import json
import os
import subprocess
import sys

import pydicom

UIDS = ('StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID')


def describe(path):
    with open(path, 'rb') as f:
        head = f.read(132)
    entry = {'path': path, 'part10': len(head) == 132 and head[128:132] == b'DICM'}
    dump = subprocess.run(['dcmdump', '-q', path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env={**os.environ, 'LC_ALL': 'C'})
    entry['dcmdumpOk'] = dump.returncode == 0
    try:
        ds = pydicom.dcmread(path, force=not entry['part10'])
        meta = getattr(ds, 'file_meta', None)
        entry['transferSyntax'] = (str(meta.get('TransferSyntaxUID', '')) or None) if meta else None
        entry['uids'] = {k: (str(ds.get(k)).strip('\0 ') if ds.get(k) else None) for k in UIDS}
        if 'PatientName' in ds and ds.PatientName:
            pn = ds.PatientName
            groups = list(pn.components) + ['', '', '']
            entry['patientName'] = {'alphabetic': groups[0], 'ideographic': groups[1], 'phonetic': groups[2]}
        entry['pydicomOk'] = True
    except Exception as e:  # deliberately broken samples
        entry['pydicomOk'] = False
        entry['error'] = type(e).__name__
    return entry


def main():
    out = []
    for root in sys.argv[1:]:
        for dirpath, _, names in sorted(os.walk(root)):
            for name in sorted(names):
                if name.endswith(('.txt', '.json', '.dump', '.gz', '.py')):
                    continue
                out.append(describe(os.path.join(dirpath, name)))
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""Reads a JSON array of {charset, hex, vr} from stdin and prints, as one JSON
array, what pydicom decodes each value to (Dataset.decode with that Specific
Character Set): the reference for the table-driven decoding tests."""
import json
import sys
import warnings

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

# One attribute of each VR the tests use.
TAG_OF_VR = {'LO': 0x00100020, 'PN': 0x00100010, 'SH': 0x00080050, 'UT': 0x0040A160}


def decode(case):
    ds = Dataset()
    ds.add(DataElement(0x00080005, 'CS', case['charset'].split('\\')))
    ds.add(DataElement(TAG_OF_VR[case['vr']], case['vr'], bytes.fromhex(case['hex'])))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ds.decode()
    return str(ds[TAG_OF_VR[case['vr']]].value)


json.dump([decode(c) for c in json.load(sys.stdin)], sys.stdout, ensure_ascii=False)

#!/usr/bin/python3
"""Writes synthetic CT instances for bench/ingest.mjs.

usage: make-instances.py OUTDIR COUNT ROWS COLS
One study, one series, COUNT instances of ROWSxCOLS 16-bit pixels,
Explicit VR Little Endian. Pixel values are random so nothing compresses.
"""
import os
import sys

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def main() -> None:
    out, count, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 4096, size=(rows, cols), dtype=np.uint16).tobytes()
    for i in range(count):
        sop = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = sop
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.PatientName = "Bench^Patient"
        ds.PatientID = "BENCH1"
        ds.Modality = "CT"
        ds.StudyDate = "20240101"
        ds.SeriesNumber = 1
        ds.InstanceNumber = i + 1
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = rows, cols
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = pixels
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(os.path.join(out, f"img{i:05d}.dcm"), write_like_original=False)


if __name__ == "__main__":
    main()

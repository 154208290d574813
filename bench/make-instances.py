#!/usr/bin/python3
"""Writes synthetic CT instances for bench/ingest.mjs.

usage: make-instances.py OUTDIR COUNT ROWS COLS
One study, one series, COUNT instances of ROWSxCOLS 16-bit pixels,
Explicit VR Little Endian. Pixel values are random so nothing compresses.
"""
import array
import os
import random
import sys

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def main() -> None:
    out, count, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    # The standard library only (Debian's python3-pydicom does not bring numpy): random 12-bit values, little endian.
    rng = random.Random(1)
    values = array.array("H", (rng.randrange(4096) for _ in range(rows * cols)))
    if sys.byteorder == "big":
        values.byteswap()
    pixels = values.tobytes()
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

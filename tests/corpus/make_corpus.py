"""Build tests/corpus/: one tiny file (or folder) per way a damaged input once broke a reader.

Run from the project root: ``python tests/corpus/make_corpus.py``. It rewrites the corpus
files and ``expected.json`` (corpus path -> reader and the words its InputError must hold);
``tests/test_corpus.py`` checks every entry. The files are committed so the reproducers stay
fixed even if the writers they start from change.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pydicom

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent.parent))

from dsaviewer.io.writers import write_avi, write_dicom_xa  # noqa: E402

EXPECTED: dict[str, dict[str, str]] = {}


def entry(name: str, reader: str, words: str) -> Path:
    EXPECTED[name] = {"reader": reader, "words": words}
    path = ROOT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- video: AVI ------------------------------------------------------------------------------


def small_avi(path: Path) -> bytes:
    frames = (np.arange(2 * 16 * 16) % 251).astype(np.uint8).reshape(2, 16, 16)
    write_avi(path, frames, fps=10)
    data = path.read_bytes()
    path.unlink()
    return data


def make_avi(scratch: Path) -> None:
    data = bytearray(small_avi(scratch / "small.avi"))
    avih = data.index(b"avih") + 8
    strh = data.index(b"strh") + 8
    # dwTotalFrames in avih and dwLength in strh claim 2**31 frames.
    huge = bytearray(data)
    struct.pack_into("<I", huge, avih + 16, 2**31)
    struct.pack_into("<I", huge, strh + 32, 2**31)
    entry("video/avi_claims_2e31_frames.avi", "load_video", "declares").write_bytes(huge)
    # A valid RIFF header, then zeros where the chunks should be: FFmpeg scans them all.
    zeros = bytes(data[: data.index(b"LIST")]) + bytes(64 * 1024)
    entry("video/avi_header_then_zeros.avi", "load_video", "no chunk header").write_bytes(zeros)


# --- video: DICOM ----------------------------------------------------------------------------


def small_dicom(scratch: Path, frames: int = 8) -> pydicom.Dataset:
    pixels = (np.arange(frames * 8 * 8) % 200).astype(np.uint8).reshape(frames, 8, 8)
    path = write_dicom_xa(scratch / "small.dcm", pixels, fps=10)
    return pydicom.dcmread(path)


def save(dataset: pydicom.Dataset, name: str, reader: str, words: str) -> None:
    dataset.save_as(entry(name, reader, words), enforce_file_format=False)


def make_dicom(scratch: Path) -> None:
    dataset = small_dicom(scratch)
    dataset.file_meta.TransferSyntaxUID = ""
    save(dataset, "video/dicom_empty_transfer_syntax.dcm", "load_video", "TransferSyntaxUID")

    dataset = small_dicom(scratch)
    del dataset.PixelData
    dataset.SOPClassUID = ["1.2.840.10008.5.1.4.1.1.12.1", "1.2.3"]
    save(dataset, "video/dicom_two_sop_classes.dcm", "load_video", "SOPClassUID")

    dataset = small_dicom(scratch)
    dataset.Rows = 1  # 8 frames of 8x8 would read as 64 frames of 1x8
    save(dataset, "video/dicom_rows_1.dcm", "load_video", "pixel data is 512 bytes")

    dataset = small_dicom(scratch, frames=16)
    dataset.NumberOfFrames = 8  # twice the declared frames in PixelData
    save(dataset, "video/dicom_pixel_data_too_long.dcm", "load_video", "1024 bytes")

    dataset = small_dicom(scratch)
    dataset.NumberOfFrames = 2**31 - 1
    save(dataset, "video/dicom_claims_2e31_frames.dcm", "load_video", "declares 2147483647")

    dataset = small_dicom(scratch)
    dataset.NumberOfFrames = "0"
    save(dataset, "video/dicom_zero_frames.dcm", "load_video", "NumberOfFrames")

    # An element with a VR no standard defines ("ZZ"): pydicom fails on first access.
    buffer = io.BytesIO()
    small_dicom(scratch).save_as(buffer, enforce_file_format=True)
    data = bytearray(buffer.getvalue())
    modality = data.index(b"\x08\x00\x60\x00CS")  # (0008,0060) Modality, explicit VR
    data[modality + 4 : modality + 6] = b"ZZ"
    entry("video/dicom_unknown_vr.dcm", "load_video", "value type").write_bytes(data)


# --- video: frame folder ---------------------------------------------------------------------


def png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        import zlib

        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def make_frames() -> None:
    folder = entry("video/frames_60000px", "load_video", "1 to 16384 pixels a side")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "0000.png").write_bytes(png_declaring(60000, 60000))
    folder = entry("video/frames_17000px_wide", "load_video", "17000×1000")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "0000.png").write_bytes(png_declaring(17000, 1000))


# --- Labelme ---------------------------------------------------------------------------------


def labelme(**changes: object) -> dict:
    document = {
        "version": "5.9.1",
        "flags": {"key_frame": True},
        "shapes": [
            {
                "label": "tumor",
                "points": [[2.0, 2.0], [10.0, 2.0], [10.0, 10.0]],
                "group_id": None,
                "description": "",
                "shape_type": "polygon",
                "flags": {},
                "mask": None,
            }
        ],
        "imagePath": "0000.png",
        "imageData": None,
        "imageHeight": 16,
        "imageWidth": 16,
    }
    document.update(changes)
    return document


def write_json(name: str, reader: str, words: str, text: str) -> None:
    entry(name, reader, words).write_text(text, encoding="utf-8")


def make_labelme() -> None:
    write_json("labelme/deep.json", "read_labelme", "nested 2000 levels",
               "[" * 2000 + "]" * 2000)
    document = json.dumps(labelme(imageHeight=12345))
    write_json("labelme/huge_integer.json", "read_labelme", "integer of 5000 digits",
               document.replace("12345", "9" * 5000))
    write_json("labelme/nan_point.json", "read_labelme", "NaN",
               json.dumps(labelme()).replace("10.0, 10.0", "NaN, 10.0"))
    write_json("labelme/float_overflow.json", "read_labelme", "out of range",
               json.dumps(labelme()).replace("10.0, 10.0", "1e999, 10.0"))
    write_json("labelme/null_in_image_path.json", "read_labelme", "null byte",
               json.dumps(labelme(imagePath="0000\u0000.png")))
    write_json("labelme/image_path_outside.json", "read_labelme", "outside the case folder",
               json.dumps(labelme(imagePath="../../../etc/passwd")))
    circle = labelme()
    circle["shapes"][0].update(shape_type="circle", points=[[8.0, 8.0], [900000.0, 8.0]])
    write_json("labelme/huge_circle.json", "read_labelme", "outside the 16×16 image",
               json.dumps(circle))
    rng = np.random.default_rng(19)
    scribble = labelme(imageHeight=1024, imageWidth=1024)
    scribble["shapes"][0]["points"] = np.round(rng.random((6000, 2)) * 1023).tolist()
    write_json("labelme/random_scribble.json", "read_labelme", "outlines add up",
               json.dumps(scribble, separators=(",", ":")))
    write_json("labelme/height_as_text.json", "read_labelme", "'imageHeight'",
               json.dumps(labelme(imageHeight="16")))
    write_json("labelme/bad_name.json", "read_frame_labels", "NNNN.json",
               json.dumps(labelme()))


# --- viewer state and recovery ---------------------------------------------------------------


def state(**changes: object) -> dict:
    document = {
        "format": "dsaviewer-viewer-state",
        "format_version": 1,
        "video": {"source": "video.avi", "frames": 8, "height": 16, "width": 16},
        "key_frame_override": None,
        "clinical": None,
        "analysis": None,
    }
    document.update(changes)
    return document


def state_folder(name: str, words: str, text: str) -> None:
    folder = entry(name, "read_case_state", words)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "state.json").write_text(text, encoding="utf-8")


def make_state() -> None:
    state_folder("state/deep", "nested", json.dumps(state(analysis="X")).replace(
        '"X"', "[" * 5000 + "]" * 5000))
    state_folder("state/infinite_frames", "Infinity",
                 json.dumps(state()).replace('"frames": 8', '"frames": Infinity'))
    state_folder("state/huge_integer", "digits",
                 json.dumps(state()).replace('"frames": 8', '"frames": ' + "7" * 4400))
    state_folder("state/frames_as_float", "frames",
                 json.dumps(state()).replace('"frames": 8', '"frames": 8.5'))
    state_folder("state/missing_height", "height",
                 json.dumps(state(video={"source": "v.avi", "frames": 8, "width": 16})))
    state_folder("state/null_in_arrays_name", "not valid",
                 json.dumps(state(analysis={"arrays": "analysis-\u0000x", "details": {}})))
    state_folder("state/arrays_outside", "not valid",
                 json.dumps(state(analysis={"arrays": "analysis-../../x", "details": {}})))


def npz(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def recovery_entries(**changes: bytes) -> dict[str, bytes]:
    packed = np.packbits(np.zeros((16, 16), bool))
    entries = {
        "format.npy": npy(np.array("dsaviewer-mask-recovery-1")),
        "frame_index.npy": npy(np.array(3, np.int64)),
        "shape.npy": npy(np.array((16, 16), np.int64)),
        "written_at.npy": npy(np.array("2026-01-01T00:00:00+00:00")),
        "tumor.npy": npy(packed),
        "liver.npy": npy(packed),
    }
    entries.update(changes)
    return entries


def recovery_folder(name: str, words: str, data: bytes) -> None:
    folder = entry(name, "read_recovery", words)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "0003.npz").write_bytes(data)


def make_recovery() -> None:
    # One byte of data under a header that declares 4e12 bytes.
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "|u1", "fortran_order": False, "shape": (4 * 10**12,)}
    )
    claimed = buffer.getvalue() + b"\0"
    recovery_folder("recovery/npy_claims_4e12_bytes", "declares 4000000000000",
                    npz(recovery_entries(**{"tumor.npy": claimed})))
    bomb = npy(np.zeros(80 * 1024**2, np.uint8))
    recovery_folder("recovery/zip_bomb", "unpacks to more than",
                    npz(recovery_entries(**{"tumor.npy": bomb})))
    recovery_folder("recovery/float_mask", "packed pixels",
                    npz(recovery_entries(**{"tumor.npy": npy(np.zeros(32, np.float32))})))
    recovery_folder("recovery/not_a_zip", "not a zip archive", b"PK\x03\x04" + bytes(60))


# --- clinical.csv ----------------------------------------------------------------------------

HEADER = "case_id,age,sex,hbv,afp,pt,child_pugh,ascites,tbil,alb,ast,alt,crp,bclc,response"
ROW = "c1,61,F,1,1520.5,12.8,6,0,18.6,40.7,52,38,3.1,B,1"


def make_clinical() -> None:
    def csv(name: str, words: str, text: str) -> None:
        entry(name, "read_clinical_csv", words).write_text(text, encoding="utf-8")

    csv("clinical/dropped_column.csv", "lacks the column(s) tbil",
        HEADER.replace(",tbil", "") + "\n" + ROW.replace(",18.6", "") + "\n")
    csv("clinical/renamed_column.csv", "'tbil_mgdl'",
        HEADER.replace("tbil", "tbil_mgdl") + "\n" + ROW + "\n")
    csv("clinical/short_row.csv", "line 3 has 13 cells",
        HEADER + "\n" + ROW + "\n" + ROW.replace("c1", "c2").rsplit(",", 2)[0] + "\n")
    csv("clinical/truncated_last_line.csv", "line 3",
        HEADER + "\n" + ROW + "\n" + ROW.replace("c1", "c2")[:20])
    csv("clinical/underscore_number.csv", "'1_000' is not a number",
        HEADER + "\n" + ROW.replace("1520.5", "1_000") + "\n")
    csv("clinical/huge_number.csv", "...' is not a finite number for AFP",
        HEADER + "\n" + ROW.replace("1520.5", "1" + "0" * 400) + "\n")


def main() -> None:
    scratch = ROOT / ".scratch"
    scratch.mkdir(exist_ok=True)
    try:
        make_avi(scratch)
        make_dicom(scratch)
        make_frames()
        make_labelme()
        make_state()
        make_recovery()
        make_clinical()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    (ROOT / "expected.json").write_text(json.dumps(EXPECTED, indent=1) + "\n", encoding="utf-8")
    print(f"{len(EXPECTED)} reproducers in {ROOT}")


if __name__ == "__main__":
    main()

"""Seed inputs and mutations for fuzzing the readers (``make fuzz`` and the Hypothesis tests).

A *seed* is a small valid input of one reader: a file, or a folder for the readers that take
one. A *mutation* changes one file of a copy of it: byte-level damage (flips, interesting
integers, inserted, deleted or repeated chunks, truncation, padding) or structure-aware damage
(JSON values of the wrong type, huge, deep or non-finite; CSV columns dropped or renamed, rows
cut short, numbers written "1_000"). Everything is driven by a ``random.Random``, so a run is
reproducible from its seed.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsaviewer.io.calibration import catheter_calibration
from dsaviewer.io.case_state import CaseState, SavedAnalysis, VideoIdentity, write_case_state
from dsaviewer.io.clinical import ClinicalRow, ClinicalVariables, write_clinical_csv
from dsaviewer.io.labelme import write_labelme
from dsaviewer.io.recovery import write_recovery_frame
from dsaviewer.io.writers import write_avi, write_dicom_xa, write_frame_folder

READERS = ("load_video", "read_labelme", "read_clinical_csv", "read_case_state", "read_recovery")
SHARED_DICOM = Path(__file__).resolve().parents[3] / "shared" / "data" / "dicom"


@dataclass(frozen=True)
class Seed:
    """A valid input: ``path`` is what the reader is given, ``target`` the file to mutate
    (``path`` itself or a file inside it), ``kind`` picks the structure-aware mutations."""

    name: str
    reader: str
    path: Path
    target: Path
    kind: str  # "bytes", "json" or "csv"


def frames(count: int = 8, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(count * size)
    base = np.linspace(30, 220, size * size).reshape(size, size)
    return np.stack([np.clip(base + rng.normal(0, 8, base.shape) + 3 * t, 0, 255)
                     for t in range(count)]).astype(np.uint8)


def write_seeds(folder: Path, real_dicom: bool = True) -> list[Seed]:
    """Write the generated seeds into ``folder`` (and list the real DICOM files beside the
    project, when present, as read-only seeds)."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds: list[Seed] = []

    def add(name: str, reader: str, path: Path, target: Path | None = None, kind="bytes"):
        seeds.append(Seed(name, reader, path, target or path, kind))

    add("avi", "load_video", write_avi(folder / "run.avi", frames(), fps=7.5))
    add("dicom-xa", "load_video", write_dicom_xa(folder / "run.dcm", frames(), fps=7.5,
                                                 pixel_spacing_mm=(0.3, 0.3)))
    add("dicom-xa-16bit", "load_video", write_dicom_xa(
        folder / "run16.dcm", frames(4).astype(np.uint16) * 16, fps=4, bits_stored=12,
        monochrome="MONOCHROME1"))
    pngs = write_frame_folder(folder / "frames", frames(3))
    add("frame-folder", "load_video", pngs, pngs / "0001.png")
    if real_dicom and SHARED_DICOM.is_dir():
        for path in sorted(SHARED_DICOM.glob("*.dcm")):
            add(f"real:{path.name}", "load_video", path)

    masks = {"tumor": np.zeros((48, 48), bool), "liver": np.zeros((48, 48), bool)}
    masks["liver"][8:40, 6:42] = True
    masks["tumor"][18:26, 20:30] = True
    masks["tumor"][30:33, 10:12] = True  # small: written as a mask shape
    labels = write_labelme(folder / "labels" / "0007.json", frames(1)[0], masks,
                           flags={"key_frame": True})
    add("labelme", "read_labelme", labels, kind="json")

    table = write_clinical_csv(folder / "clinical.csv", {
        "c1": ClinicalRow(ClinicalVariables(age=61, sex="F", hbv=1, afp=1520.5, pt=12.8,
                                            child_pugh=6, ascites=0, tbil=18.6, alb=40.7,
                                            ast=52, alt=38, crp=3.1, bclc="B"), 1),
        "c2": ClinicalRow(ClinicalVariables(age=48, sex="M", afp=0.7), 0),
        "c3": ClinicalRow(ClinicalVariables(), None),
    })
    add("clinical", "read_clinical_csv", table, kind="csv")

    rng = np.random.default_rng(3)
    state_folder = folder / "viewer"
    stored = write_case_state(state_folder, CaseState(
        video=VideoIdentity("video.avi", 8, (48, 48)),
        key_frame_override=5,
        clinical=ClinicalVariables(age=70, sex="M", tbil=20.5),
        calibration=catheter_calibration(15.0, 5.0),  # mutations reach its reader too
        analysis=SavedAnalysis(
            tumor_probability=rng.random((48, 48)).astype(np.float32),
            liver_probability=rng.random((48, 48)).astype(np.float32),
            tumor_mask=masks["tumor"], liver_mask=masks["liver"],
            details={"key_frame": 5, "device": "CPU", "timings_ms": {"total": 12.5}},
        ),
    ))
    add("state", "read_case_state", state_folder, state_folder / "state.json", kind="json")
    arrays = state_folder / str(stored.analysis.stored_as)
    add("state-array", "read_case_state", state_folder, arrays / "tumor_probability.png")

    recovery = folder / "recovery"
    path = write_recovery_frame(recovery, 3, masks)
    add("recovery", "read_recovery", recovery, path)
    return seeds


def copy_seed(seed: Seed, into: Path) -> tuple[Path, Path]:
    """A fresh copy of ``seed`` in ``into``: (what the reader gets, the file to mutate)."""
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    if seed.path.is_dir():
        path = into / seed.path.name
        shutil.copytree(seed.path, path)
        return path, path / seed.target.relative_to(seed.path)
    path = into / seed.path.name
    shutil.copyfile(seed.path, path)
    if seed.reader == "read_labelme":  # its image, beside it
        image = seed.path.with_suffix(".png")
        if image.exists():
            shutil.copyfile(image, into / image.name)
    return path, path


# --- byte mutations --------------------------------------------------------------------------

INTERESTING_32 = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                  0xFFFFFFFF, 60000, 2**31 - 1)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3))):
        _BYTE_MUTATIONS[rng.randrange(len(_BYTE_MUTATIONS))](buffer, rng)
    return bytes(buffer)


def _flip(buffer: bytearray, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 8)):
        if buffer:
            buffer[rng.randrange(len(buffer))] ^= 1 << rng.randrange(8)


def _interesting(buffer: bytearray, rng: random.Random) -> None:
    if len(buffer) < 4:
        return
    # Headers hold the sizes: aim at the first kilobyte more often than not.
    limit = len(buffer) - 4 if rng.random() < 0.3 else min(len(buffer) - 4, 1024)
    at = rng.randint(0, limit)
    value = rng.choice(INTERESTING_32)
    order = rng.choice(("little", "big"))
    width = rng.choice((2, 4))
    buffer[at:at + width] = (value % (1 << (8 * width))).to_bytes(width, order)


def _insert(buffer: bytearray, rng: random.Random) -> None:
    at = rng.randint(0, len(buffer))
    chunk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    buffer[at:at] = chunk


def _delete(buffer: bytearray, rng: random.Random) -> None:
    if buffer:
        at = rng.randrange(len(buffer))
        del buffer[at:at + rng.randint(1, 256)]


def _repeat(buffer: bytearray, rng: random.Random) -> None:
    if buffer:
        at = rng.randrange(len(buffer))
        chunk = buffer[at:at + rng.randint(1, 512)]
        buffer[at:at] = chunk * rng.randint(1, 8)


def _truncate(buffer: bytearray, rng: random.Random) -> None:
    del buffer[rng.randint(0, len(buffer)):]


def _pad(buffer: bytearray, rng: random.Random) -> None:
    buffer.extend(bytes([rng.choice((0, 0xFF))]) * rng.choice((16, 4096, 1 << 20)))


_BYTE_MUTATIONS: tuple[Callable[[bytearray, random.Random], None], ...] = (
    _flip, _flip, _interesting, _interesting, _insert, _delete, _repeat, _truncate, _pad,
)


# --- JSON mutations --------------------------------------------------------------------------

NASTY_JSON_TEXT = (
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "9" * 5000, "[" * 3000 + "]" * 3000,
    '"\\u0000"', '"../../../etc/passwd"', '"C:\\\\x.png"', "null", "true", "{}", "[]", '""',
    "-1", "0", "2147483648", "1.5", '"16"', json.dumps([[1.0, 2.0]] * 5000),
    json.dumps([[i * 997 % 1024, i * 613 % 1024] for i in range(20000)]), '"' + "A" * 4096 + '"',
)


def mutate_json(text: str, rng: random.Random) -> str:
    """Replace one value of the document (found by walking it) with something nasty, delete a
    key, or fall back to byte damage of the text."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # damaged by an earlier mutation
        return mutate_bytes(text.encode(), rng).decode("utf-8", "replace")
    choice = rng.random()
    if choice < 0.15:
        return mutate_bytes(text.encode(), rng).decode("utf-8", "replace")
    holders = list(_containers(document))
    holder = rng.choice(holders)
    keys = list(holder) if isinstance(holder, dict) else list(range(len(holder)))
    if not keys:
        return text
    key = rng.choice(keys)
    if isinstance(holder, dict) and choice < 0.3:
        del holder[key]
        return json.dumps(document)
    marker = "__FUZZ_VALUE__"
    holder[key] = marker
    return json.dumps(document).replace(json.dumps(marker), rng.choice(NASTY_JSON_TEXT), 1)


def _containers(value):
    if isinstance(value, dict | list):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from _containers(item)


# --- CSV mutations ---------------------------------------------------------------------------


def mutate_csv(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    choice = rng.randrange(7)
    cells = [line.split(",") for line in lines]
    if choice == 0:  # drop a column
        column = rng.randrange(len(cells[0]))
        return "\n".join(",".join(c[:column] + c[column + 1:]) for c in cells) + "\n"
    if choice == 1:  # rename a header cell
        column = rng.randrange(len(cells[0]))
        cells[0][column] = cells[0][column] + rng.choice(("_mgdl", " (ng/mL)", "X"))
        return "\n".join(",".join(c) for c in cells) + "\n"
    if choice == 2:  # cut a row short
        row = rng.randrange(1, len(cells))
        cells[row] = cells[row][: rng.randrange(len(cells[row]))]
        return "\n".join(",".join(c) for c in cells) + "\n"
    if choice == 3:  # truncate the file
        return text[: rng.randrange(len(text))]
    if choice == 4:  # a number as some people write it
        row, column = rng.randrange(1, len(cells)), rng.randrange(1, len(cells[0]))
        if column < len(cells[row]):
            cells[row][column] = rng.choice(("1_000", "1e999", "nan", "1,5", "0x10", "½", "",
                                             "9" * 400, "-0", " 12 ", "inf", "1e-320"))
        return "\n".join(",".join(c) for c in cells) + "\n"
    if choice == 5:  # an extra cell or column
        row = rng.randrange(len(cells))
        cells[row].append("extra")
        return "\n".join(",".join(c) for c in cells) + "\n"
    return mutate_bytes(text.encode(), rng).decode("utf-8", "replace")


def mutate_file(target: Path, kind: str, rng: random.Random) -> None:
    """Damage ``target`` in place with one mutation suited to its ``kind``."""
    data = target.read_bytes()
    structured = {"json": mutate_json, "csv": mutate_csv}.get(kind)
    if structured is not None and rng.random() < 0.75:
        try:
            target.write_text(structured(data.decode("utf-8", "replace"), rng), encoding="utf-8")
            return
        except (ValueError, IndexError, RecursionError):
            pass  # an earlier mutation left too little structure: damage the bytes instead
    target.write_bytes(mutate_bytes(data, rng))

"""Property-based fuzzing of the five readers (the fast profile; ``make fuzz`` runs the long
one): whatever a damaged file holds, a reader either returns what the file declares or raises
InputError. Hypothesis drives the mutations of small valid seeds (tests/fuzz/seeds.py) and
builds JSON and CSV content of its own."""

from __future__ import annotations

import csv
import io
import json
import random
import tempfile
from pathlib import Path

import pydicom
import pytest
from fuzz.seeds import copy_seed, mutate_file, write_seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsaviewer.errors import InputError
from dsaviewer.io.case_state import read_case_state
from dsaviewer.io.clinical import CLINICAL_CSV_COLUMNS, read_clinical_csv
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.recovery import read_recovery
from dsaviewer.io.video import load_video

FAST = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SEEDS = write_seeds(Path(tempfile.mkdtemp(prefix="dsaviewer-seeds-")), real_dicom=False)
SCRATCH = Path(tempfile.mkdtemp(prefix="dsaviewer-fuzz-"))


def seeds_of(reader: str) -> list:
    return [seed for seed in SEEDS if seed.reader == reader]


def mutated(seed, number: int) -> Path:
    path, target = copy_seed(seed, SCRATCH / "input")
    mutate_file(target, seed.kind, random.Random(number))
    return path


def refused_or(read, path: Path):
    """The reader's value, or None when it refused the input with an InputError."""
    try:
        return read(path)
    except InputError as error:
        assert error.source is not None and "Traceback" not in str(error)
        return None


@FAST
@given(st.sampled_from(seeds_of("load_video")), st.integers(0, 2**32))
def test_a_damaged_video_is_read_as_declared_or_refused(seed, number) -> None:
    path = mutated(seed, number)
    video = refused_or(load_video, path)
    if video is not None and video.source_format == "dicom":
        header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        declared = (int(header.get("NumberOfFrames") or 1), header.Rows, header.Columns)
        assert video.frames.shape == declared


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=5),
    max_leaves=20,
)
LABELME_KEYS = ("shapes", "flags", "imagePath", "imageData", "imageHeight", "imageWidth")
SHAPE_KEYS = ("label", "points", "shape_type", "mask")


@FAST
@given(st.sampled_from(LABELME_KEYS + SHAPE_KEYS), json_values)
def test_a_labelme_file_with_any_value_anywhere_is_read_or_refused(key, value) -> None:
    (seed,) = seeds_of("read_labelme")
    path, _ = copy_seed(seed, SCRATCH / "input")
    document = json.loads(path.read_text(encoding="utf-8"))
    holder = document["shapes"][0] if key in SHAPE_KEYS else document
    holder[key] = value
    path.write_text(json.dumps(document), encoding="utf-8")
    annotation = refused_or(read_labelme, path)
    if annotation is not None:
        assert {mask.shape for mask in annotation.masks.values()} == {annotation.image_shape}


@FAST
@given(st.integers(0, 2**32))
def test_a_damaged_labelme_file_is_read_or_refused(number) -> None:
    (seed,) = seeds_of("read_labelme")
    refused_or(read_labelme, mutated(seed, number))


cells = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=8)


@FAST
@given(st.lists(st.sampled_from(CLINICAL_CSV_COLUMNS + ("ward",)), min_size=1, max_size=17,
                unique=True),
       st.lists(st.lists(cells, max_size=17), max_size=4))
def test_any_clinical_table_is_read_whole_or_refused(header, rows) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])
    path = SCRATCH / "clinical.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    table = refused_or(read_clinical_csv, path)
    if table is not None:  # accepted: every variable column was there, every row complete
        assert set(CLINICAL_CSV_COLUMNS) - {"response"} <= set(header)
        assert all(len(row) == len(header) for row in rows if any(c.strip() for c in row))


@FAST
@given(st.sampled_from(seeds_of("read_case_state")), st.integers(0, 2**32))
def test_a_damaged_viewer_state_is_read_or_refused(seed, number) -> None:
    refused_or(read_case_state, mutated(seed, number))


@FAST
@given(st.sampled_from(("video", "key_frame_override", "clinical", "analysis", "calibration")),
       json_values)
def test_a_viewer_state_with_any_value_is_read_or_refused(key, value) -> None:
    (seed,) = [seed for seed in seeds_of("read_case_state") if seed.kind == "json"]
    folder, state = copy_seed(seed, SCRATCH / "input")
    document = json.loads(state.read_text(encoding="utf-8"))
    document[key] = value
    state.write_text(json.dumps(document), encoding="utf-8")
    refused_or(read_case_state, folder)


@FAST
@given(st.integers(0, 2**32))
def test_damaged_recovery_files_never_stop_a_case_from_opening(number) -> None:
    (seed,) = seeds_of("read_recovery")
    recovery = read_recovery(mutated(seed, number))  # never raises
    assert recovery is None or len(recovery.frames) + len(recovery.problems) == 1


@pytest.fixture(autouse=True, scope="module")
def _remove_scratch():
    yield
    import shutil

    shutil.rmtree(SCRATCH, ignore_errors=True)
    shutil.rmtree(SEEDS[0].path.parent, ignore_errors=True)

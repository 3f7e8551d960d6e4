"""Reader limits and clean-ups beyond the fixed reproducers of tests/corpus/: the decode time
budget, the shape point limit, support logging of unexpected errors, and leftovers of killed
saves removed at the next save or open."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.case_state import (
    LEFTOVER_AGE_S,
    CaseState,
    VideoIdentity,
    read_case_state,
    write_case_state,
)
from dsaviewer.io.labelme import MAX_SHAPE_POINTS, read_labelme
from dsaviewer.io.video import load_video
from dsaviewer.io.video_file import read_video_file
from dsaviewer.io.writers import write_avi

CORPUS = Path(__file__).resolve().parent / "corpus"


def test_decoding_past_the_time_budget_is_refused_with_a_clear_message(tmp_path):
    path = write_avi(tmp_path / "run.avi", np.zeros((6, 16, 16), np.uint8), fps=10)
    assert read_video_file(path).n_frames == 6
    with pytest.raises(InputError, match="decoding took too long") as raised:
        read_video_file(path, time_budget_s=0.0)
    assert raised.value.source == str(path)


def test_a_shape_with_more_points_than_the_limit_is_refused(tmp_path):
    angles = np.linspace(0, 2 * np.pi, MAX_SHAPE_POINTS + 1, endpoint=False)
    points = np.stack([50 + 40 * np.cos(angles), 50 + 40 * np.sin(angles)], axis=1)
    document = {
        "shapes": [{"label": "tumor", "shape_type": "polygon", "points": points.tolist()}],
        "imageHeight": 100,
        "imageWidth": 100,
    }
    path = tmp_path / "0000.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError, match=f"at most {MAX_SHAPE_POINTS}"):
        read_labelme(path)
    document["shapes"][0]["points"] = points[::100].tolist()  # under the limit: read as drawn
    path.write_text(json.dumps(document), encoding="utf-8")
    assert read_labelme(path).masks["tumor"][50, 50]


def test_an_unexpected_foreign_error_is_logged_with_its_traceback(caplog):
    path = CORPUS / "video" / "dicom_unknown_vr.dcm"
    with caplog.at_level(logging.ERROR, logger="dsaviewer.io"), pytest.raises(InputError):
        load_video(path)
    (record,) = caplog.records
    assert str(path) in record.getMessage() and record.exc_info is not None


def _leftovers(folder: Path) -> tuple[Path, Path]:
    staging = folder / ".analysis-0123456789ab.part"
    staging.mkdir(parents=True)
    (staging / "tumor_mask.png").write_bytes(b"half")
    state_part = folder / ".state.0123456789abcdef0123456789abcdef.part.json"
    state_part.write_text("{", encoding="utf-8")
    return staging, state_part


def _age(*paths: Path) -> None:
    old = time.time() - LEFTOVER_AGE_S - 60
    for path in paths:
        os.utime(path, (old, old))


def test_leftovers_of_a_killed_save_are_removed_at_the_next_open(tmp_path):
    folder = tmp_path / "viewer"
    stored = write_case_state(folder, CaseState(video=VideoIdentity("v.avi", 4, (8, 8))))
    staging, state_part = _leftovers(folder)
    # A save in progress elsewhere may own young temporary files: they stay.
    assert read_case_state(folder) == stored
    assert staging.exists() and state_part.exists()
    _age(staging, state_part)
    assert read_case_state(folder) == stored
    assert sorted(entry.name for entry in folder.iterdir()) == ["state.json"]


def test_leftovers_of_a_killed_save_are_removed_at_the_next_save(tmp_path):
    folder = tmp_path / "viewer"
    staging, state_part = _leftovers(folder)
    _age(staging, state_part)
    write_case_state(folder, CaseState(key_frame_override=3))
    assert sorted(entry.name for entry in folder.iterdir()) == ["state.json"]
    assert read_case_state(folder).key_frame_override == 3

"""The one rule for "which frame do the labels flag as key frame", on real Labelme files."""

from __future__ import annotations

import numpy as np
import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.key_frame_labels import NO_FLAGGED_KEY_FRAME, labelled_key_frame
from dsaviewer.io.labelme import write_labelme
from dsaviewer.io.writers import write_frame_folder

SIDE = 48


def case_with_flags(root, flags: dict[int, bool]):
    """A frame-folder case whose labels/NNNN.json carry ``{"key_frame": flag}``."""
    rng = np.random.default_rng(len(flags))
    frames = rng.integers(0, 255, (12, SIDE, SIDE), dtype=np.uint8)
    write_frame_folder(root / "frames", frames)
    liver = np.zeros((SIDE, SIDE), bool)
    liver[10:30, 10:30] = True
    for index, flagged in flags.items():
        write_labelme(root / "labels" / f"{index:04d}.json", frames[index], {"liver": liver},
                      flags={"key_frame": flagged})
    return open_case(root)


def test_the_one_flagged_file_names_the_key_frame(tmp_path):
    case = case_with_flags(tmp_path / "c", {2: False, 7: True, 9: False})
    assert labelled_key_frame(case) == 7
    assert labelled_key_frame(case, required=True) == 7


def test_no_flagged_file_is_no_key_frame_or_an_error_when_one_is_required(tmp_path):
    case = case_with_flags(tmp_path / "c", {2: False, 5: False})
    assert labelled_key_frame(case) is None
    with pytest.raises(InputError, match="no labels file is flagged") as error:
        labelled_key_frame(case, required=True)
    assert error.value.reason == NO_FLAGGED_KEY_FRAME


def test_several_flagged_files_are_an_error_naming_them_not_the_first_one(tmp_path):
    case = case_with_flags(tmp_path / "c", {3: True, 4: False, 8: True})
    with pytest.raises(InputError, match=r"frames \[3, 8\] are flagged") as error:
        labelled_key_frame(case)
    assert error.value.source == str(tmp_path / "c" / "labels")


def test_an_unreadable_label_file_is_an_error_not_a_skipped_flag(tmp_path):
    case = case_with_flags(tmp_path / "c", {3: True})
    (tmp_path / "c" / "labels" / "0005.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(InputError, match="0005.json"):
        labelled_key_frame(open_case(case.root))

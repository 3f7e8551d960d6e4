"""One frame-number convention wherever a person reads a number: frames count from 1 on
screen, files keep the contract's 0-based NNNN, and a message naming a file shows both."""

from __future__ import annotations

from dsaviewer.app.case_session import frame_file_text, frame_number, frame_numbers_text
from dsaviewer.io.frame_labels import label_json_path


def test_screen_numbers_count_from_one_and_files_keep_their_index(tmp_path):
    assert frame_number(0) == 1
    assert frame_numbers_text([6, 7, 17]) == "7, 8, 18"
    text = frame_file_text(17)
    assert text == "frame 18 (file 0017)"
    assert label_json_path(tmp_path, 17).stem in text

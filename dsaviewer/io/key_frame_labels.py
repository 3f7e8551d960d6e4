"""Which frame a case's labels flag as the key frame: one rule for the viewer,
``dsaviewer analyze --key-frame labels``, training, dataset export and the self-test.

The rule: the frame whose Labelme file carries ``{"key_frame": true}`` is the labelled key
frame. No flagged file: the labels name no key frame (None). Several flagged files: the labels
contradict each other, an InputError naming the frames; no caller guesses which one was meant.
What a caller does with "none" or the error is its own (the viewer notes it and chooses the
key frame automatically; analyze and training refuse the case; export warns).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dsaviewer.errors import InputError
from dsaviewer.io.case_folder import LABELS_FOLDER_NAME, Case
from dsaviewer.io.labelme import read_labelme

NO_FLAGGED_KEY_FRAME = 'no labels file is flagged {"key_frame": true}'


def flagged_key_frame(
    flagged: Mapping[int, bool], where: str | Path | None = None, required: bool = False
) -> int | None:
    """The labelled key frame given each labelled frame's key-frame flag (frame index ->
    flagged). None when no frame is flagged, or InputError if ``required``; InputError
    (about ``where``) when several are."""
    frames = sorted(index for index, is_key in flagged.items() if is_key)
    if len(frames) > 1:
        raise InputError(f'frames {frames} are flagged {{"key_frame": true}}; one frame may be',
                         where)
    if not frames and required:
        raise InputError(NO_FLAGGED_KEY_FRAME, where)
    return frames[0] if frames else None


def labelled_key_frame(case: Case, required: bool = False) -> int | None:
    """The key frame ``case``'s label files flag, as :func:`flagged_key_frame` decides;
    InputError as well for a label file that cannot be read, since its flag is unknown."""
    flags = {index: read_labelme(path).is_key_frame for index, path in case.label_files.items()}
    return flagged_key_frame(flags, case.root / LABELS_FOLDER_NAME, required)

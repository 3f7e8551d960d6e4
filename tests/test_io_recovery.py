"""Crash-recovery files: round trip, where they live, what survives a crash in the middle of a
save (run in a real child process that dies half-way), and unwritable folders."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dsaviewer.io.case_folder import open_case
from dsaviewer.io.frame_labels import read_frame_labels, write_frame_labels
from dsaviewer.io.recovery import (
    discard_recovery,
    find_recovery,
    read_recovery,
    recovery_folder_for,
    remove_recovery_frame,
    write_recovery_frame,
)
from dsaviewer.io.user_data import video_data_folder
from dsaviewer.io.writers import write_frame_folder

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def random_masks(seed: int, shape=(45, 61)) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"tumor": rng.random(shape) < 0.2, "liver": rng.random(shape) < 0.6}


def make_case(root: Path, shape=(45, 61)) -> Path:
    frames = np.random.default_rng(0).integers(0, 255, (5, *shape), dtype=np.uint8)
    write_frame_folder(root / "frames", frames)
    return root


def test_round_trip_in_the_case_viewer_folder(tmp_path):
    case = make_case(tmp_path / "case7")
    folder = recovery_folder_for(case)
    assert folder == case / "viewer" / "recovery"
    masks = {3: random_masks(1), 0: random_masks(2)}
    before = datetime.datetime.now(datetime.timezone.utc)
    for frame, frame_masks in masks.items():
        write_recovery_frame(folder, frame, frame_masks)

    recovery = find_recovery(case)
    assert [frame.frame_index for frame in recovery.frames] == [0, 3]
    for frame in recovery.frames:
        for label in ("tumor", "liver"):
            assert np.array_equal(frame.masks[label], masks[frame.frame_index][label])
        assert before - datetime.timedelta(seconds=1) <= frame.written_at
        assert frame.written_at <= datetime.datetime.now(datetime.timezone.utc)
    assert recovery.latest == max(frame.written_at for frame in recovery.frames)
    assert recovery.problems == ()
    assert open_case(case).label_files == {}  # recovery is no label: training ignores it

    remove_recovery_frame(folder, 0)
    assert [frame.frame_index for frame in read_recovery(folder).frames] == [3]
    discard_recovery(folder)
    assert find_recovery(case) is None and not folder.exists()


def test_a_video_file_keeps_its_recovery_in_its_user_folder_not_beside_it(tmp_path):
    video = tmp_path / "run1.avi"
    video.write_bytes(b"not read here")
    assert recovery_folder_for(video) == video_data_folder(video) / "recovery"


def test_unreadable_files_are_reported_not_raised(tmp_path):
    folder = tmp_path / "recovery"
    write_recovery_frame(folder, 1, random_masks(3))
    (folder / "0002.npz").write_bytes(b"garbage, as after a disk error")
    (folder / "notes.txt").write_text("not ours")
    recovery = read_recovery(folder)
    assert [frame.frame_index for frame in recovery.frames] == [1]
    assert len(recovery.problems) == 1 and "0002.npz" in recovery.problems[0]
    discard_recovery(folder)
    assert (folder / "notes.txt").exists()  # only our files are removed


def test_bad_masks_are_refused(tmp_path):
    with pytest.raises(ValueError, match="bool"):
        write_recovery_frame(tmp_path, 0, {"tumor": np.zeros((4, 4), np.uint8),
                                           "liver": np.zeros((4, 4), bool)})
    with pytest.raises(ValueError, match="differ"):
        write_recovery_frame(tmp_path, 0, {"tumor": np.zeros((4, 4), bool),
                                           "liver": np.zeros((4, 5), bool)})
    assert list(tmp_path.iterdir()) == []


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    from dsaviewer.io import frame_labels, recovery

    case, which = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(99)
    masks = {"tumor": rng.random((45, 61)) < 0.3, "liver": rng.random((45, 61)) < 0.5}
    image = np.full((45, 61), 80, np.uint8)
    real_replace, calls = os.replace, []

    def dying_replace(source, target):
        calls.append(target)
        # Die like a killed process: no finally blocks, no clean-up, temporary files stay.
        # (a label file's existing image is kept, so the first replace is the JSON's)
        if len(calls) == 1:
            os._exit(17)
        real_replace(source, target)

    os.replace = dying_replace
    if which == "labels":
        frame_labels.write_frame_labels(case + "/labels", 2, image, masks, {"key_frame": True})
    else:
        recovery.write_recovery_frame(case + "/viewer/recovery", 2, masks)
    """
)


def crash_while_writing(case: Path, which: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(case), which],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 17, result.stderr


def test_a_crash_half_way_through_saving_labels_keeps_the_old_file_and_the_recovery(tmp_path):
    case = make_case(tmp_path / "case1")
    old = random_masks(5)
    image = np.full((45, 61), 80, np.uint8)
    write_frame_labels(case / "labels", 2, image, old, {"key_frame": True})
    unsaved = random_masks(6)
    write_recovery_frame(recovery_folder_for(case), 2, unsaved)

    crash_while_writing(case, "labels")  # killed while replacing the JSON

    assert any(path.name.endswith(".part.json") for path in (case / "labels").iterdir())
    labels = read_frame_labels(case / "labels" / "0002.json")
    for label in ("tumor", "liver"):
        assert np.array_equal(labels.annotation.masks[label], old[label])
    assert list(open_case(case).label_files) == [2]  # the leftover is no label file
    (frame,) = find_recovery(case).frames
    for label in ("tumor", "liver"):
        assert np.array_equal(frame.masks[label], unsaved[label])


def test_a_crash_half_way_through_a_recovery_write_keeps_the_previous_copy(tmp_path):
    case = make_case(tmp_path / "case1")
    previous = random_masks(8)
    write_recovery_frame(recovery_folder_for(case), 2, previous)

    crash_while_writing(case, "recovery")

    folder = recovery_folder_for(case)
    assert any(path.name.endswith(".part.npz") for path in folder.iterdir())
    recovery = find_recovery(case)
    assert recovery.problems == ()
    (frame,) = recovery.frames
    assert np.array_equal(frame.masks["tumor"], previous["tumor"])
    discard_recovery(folder)
    assert not folder.exists()  # the leftover temporary file went too


def test_an_unwritable_folder_raises_and_keeps_the_previous_copy(tmp_path):
    blocked = tmp_path / "recovery"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(OSError):
        write_recovery_frame(blocked, 0, random_masks(1))
    assert blocked.read_text() == "a file where the folder should be"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="needs POSIX permissions, not root"
)
def test_a_read_only_folder_raises_and_keeps_the_previous_copy(tmp_path):
    folder = tmp_path / "recovery"
    write_recovery_frame(folder, 0, random_masks(1))
    folder.chmod(0o555)
    try:
        with pytest.raises(OSError):
            write_recovery_frame(folder, 0, random_masks(2))
    finally:
        folder.chmod(0o755)
    (frame,) = read_recovery(folder).frames
    assert np.array_equal(frame.masks["tumor"], random_masks(1)["tumor"])

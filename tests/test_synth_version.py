"""The generator's output is pinned to GENERATOR_VERSION (training/synth/version.py).

The pin is a fingerprint of cases 0 and 1 of seed 5 per mix, not a hash of their bytes:
numpy's exp and log differ in the last bits between CPUs (its AVX-512 and AVX2 code paths),
which rounds a few pixels of a frame to the next grey level on one machine and not on another.
The fingerprint keeps what a change of the generator moves: the key frame, each frame's and
each label's 8 x 8 grid of block means, and the truth to 6 significant digits (the dataset
files write 6 decimals). Frames compare within 0.05 grey levels per 32 x 32-pixel block (about
50 pixels one level apart), labels within 1 % of a block; a changed vessel, tumor or noise draw
moves blocks by far more.

After a deliberate change of the generator, set GENERATOR_VERSION to its date and rewrite the
fingerprints: ``python tests/test_synth_version.py``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from training.synth.case import SyntheticCase, generate_case
from training.synth.options import SynthOptions, broad_options
from training.synth.version import GENERATOR_VERSION

SMALL = (((256, 256), 1.0),)
FINGERPRINTS = Path(__file__).parent / "synth" / "fingerprints.json"
GRID = 8
FRAME_TOLERANCE = 0.05  # grey levels, per block mean
LABEL_TOLERANCE = 0.01  # fraction of a block

MIXES = {
    "default": SynthOptions(sizes=SMALL),
    "broad": broad_options(sizes=SMALL),
    # Short runs without a tumor: their key frame follows the liver's blush alone.
    "broad, tumor-free slow runs": broad_options(
        sizes=SMALL, families=(("phenotype", "none"), ("acquisition", "slow"))),
}


def block_means(images: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` -> ``(N, GRID, GRID)`` means of equal blocks."""
    count, height, width = images.shape
    blocks = images.reshape(count, GRID, height // GRID, GRID, width // GRID)
    return blocks.astype(np.float64).mean(axis=(2, 4))


def frame_blocks(frames: np.ndarray) -> list:
    return np.round(block_means(frames), 3).tolist()


def label_blocks(label: np.ndarray) -> list:
    return np.round(block_means(label[None]), 4).tolist()


def fingerprint(case: SyntheticCase) -> dict:
    return {
        "key_frame": int(case.key_frame),
        "frames": frame_blocks(case.frames),
        "labels": [{"frame_index": int(labels.frame_index), "tumor": label_blocks(labels.tumor),
                    "liver": label_blocks(labels.liver)} for labels in case.labels],
        "truth": _rounded(asdict(case.truth)),
    }


def case_fingerprint(options: SynthOptions, index: int) -> dict:
    return fingerprint(generate_case(5, index, options))


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def differences(expected: dict, found: dict) -> list[str]:
    """What differs beyond the tolerances, in words (empty: the same case)."""
    problems = []
    if found["key_frame"] != expected["key_frame"]:
        problems.append(f"key frame {found['key_frame']} != {expected['key_frame']}")
    if json.dumps(found["truth"], sort_keys=True, default=str) != json.dumps(
            expected["truth"], sort_keys=True, default=str):
        problems.append("truth differs")
    frames, stored = np.asarray(found["frames"]), np.asarray(expected["frames"])
    if frames.shape != stored.shape:
        problems.append(f"frames {frames.shape} != {stored.shape}")
    elif np.abs(frames - stored).max() > FRAME_TOLERANCE:
        problems.append(f"frames differ by up to {np.abs(frames - stored).max():.3f} grey levels")
    if [label["frame_index"] for label in found["labels"]] != [
            label["frame_index"] for label in expected["labels"]]:
        problems.append("labelled frames differ")
    else:
        for label, stored_label in zip(found["labels"], expected["labels"], strict=True):
            for part in ("tumor", "liver"):
                gap = np.abs(np.asarray(label[part]) - np.asarray(stored_label[part])).max()
                if gap > LABEL_TOLERANCE:
                    problems.append(f"{part} label of frame {label['frame_index']} differs "
                                    f"by {gap:.4f} of a block")
    return problems


def write_fingerprints() -> None:
    FINGERPRINTS.parent.mkdir(exist_ok=True)
    table = {"generator_version": GENERATOR_VERSION,
             "cases": {mix: [case_fingerprint(options, index) for index in (0, 1)]
                       for mix, options in MIXES.items()}}
    FINGERPRINTS.write_text(json.dumps(table, separators=(",", ":")) + "\n")


@pytest.mark.parametrize("mix", sorted(MIXES))
def test_the_generator_writes_the_cases_of_its_version(mix: str) -> None:
    stored = json.loads(FINGERPRINTS.read_text())
    assert stored["generator_version"] == GENERATOR_VERSION, (
        f"{FINGERPRINTS} holds version {stored['generator_version']}'s cases: rewrite it")
    for index, expected in enumerate(stored["cases"][mix]):
        problems = differences(expected, case_fingerprint(MIXES[mix], index))
        assert not problems, (
            f"the generator no longer writes case {index} of version {GENERATOR_VERSION} "
            f"({'; '.join(problems)}): datasets made from the same recipe now differ. Set "
            "GENERATOR_VERSION in training/synth/version.py to the date of this change and run "
            "python tests/test_synth_version.py.")


def test_the_fingerprint_sees_a_change_that_a_cpu_does_not_make() -> None:
    case = generate_case(5, 0, MIXES["default"])
    expected = fingerprint(case)
    frames = case.frames.astype(np.int16)
    # A CPU's rounding: a few pixels one grey level apart.
    rounded = frames.copy()
    rounded.reshape(-1)[::40_000] += 1
    assert differences(expected, {**expected, "frames": frame_blocks(rounded)}) == []
    # A generator's change: a 6 x 6-pixel spot 20 levels brighter in one frame.
    changed = frames.copy()
    changed[case.key_frame, 100:106, 100:106] += 20
    assert differences(expected, {**expected, "frames": frame_blocks(changed)}) == [
        "frames differ by up to 0.703 grey levels"]
    tumor = case.labels[0].tumor.copy()
    tumor[50:54, 50:54] = ~tumor[50:54, 50:54]
    moved = [{**expected["labels"][0], "tumor": label_blocks(tumor)}, *expected["labels"][1:]]
    assert differences(expected, {**expected, "labels": moved}) == [
        f"tumor label of frame {case.labels[0].frame_index} differs by 0.0156 of a block"]


if __name__ == "__main__":
    write_fingerprints()
    print(f"wrote {FINGERPRINTS} for generator version {GENERATOR_VERSION}")

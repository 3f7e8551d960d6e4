"""The generator's output is pinned to GENERATOR_VERSION (training/synth/version.py)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import numpy as np
import pytest

from training.synth.case import generate_case
from training.synth.options import SynthOptions, broad_options
from training.synth.version import GENERATOR_VERSION

SMALL = (((256, 256), 1.0),)

# sha256 (first 16 hex digits) of the frames, key frame, labels and truth of cases 0 and 1
# of seed 5, as generator version 2026-12-07 writes them. The truth's floats count to 10
# significant digits: numpy's exp and log differ in the last bits between CPUs (its AVX-512
# and AVX2 code paths), and the dataset files write them to 6 decimals.
DIGESTS = {
    "default": ("c5246405433827b8", "88bea52f68acd902"),
    "broad": ("92c18f12ecdb453f", "95bc3b6f351d6770"),
    "broad, tumor-free slow runs": ("d261ff4e3385f51e", "2f1c66dafd503ad5"),
}


def case_digest(options: SynthOptions, index: int) -> str:
    case = generate_case(5, index, options)
    digest = hashlib.sha256(case.frames.tobytes())
    digest.update(str(case.key_frame).encode())
    for labels in case.labels:
        digest.update(str(labels.frame_index).encode())
        digest.update(np.packbits(labels.tumor).tobytes())
        digest.update(np.packbits(labels.liver).tobytes())
    digest.update(json.dumps(_rounded(asdict(case.truth)), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


MIXES = {
    "default": SynthOptions(sizes=SMALL),
    "broad": broad_options(sizes=SMALL),
    # Short runs without a tumor: their key frame follows the liver's blush alone.
    "broad, tumor-free slow runs": broad_options(
        sizes=SMALL, families=(("phenotype", "none"), ("acquisition", "slow"))),
}


@pytest.mark.parametrize("mix", sorted(MIXES))
def test_the_generator_writes_the_cases_of_its_version(mix: str) -> None:
    options = MIXES[mix]
    found = tuple(case_digest(options, index) for index in (0, 1))
    assert found == DIGESTS[mix], (
        f"the generator no longer writes the cases of version {GENERATOR_VERSION}: datasets "
        "made from the same recipe now differ. Set GENERATOR_VERSION in "
        "training/synth/version.py to the date of this change and update DIGESTS here."
    )

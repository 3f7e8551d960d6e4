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

# sha256 (first 16 hex digits) of the frames, labels and truth of cases 0 and 1 of seed 5,
# as generator version 2026-12-06 writes them.
DIGESTS = {
    "default": ("ad0d1901cca87e97", "5352cc35924a8e3e"),
    "broad": ("79118804fcc941c9", "cf797137dfdd0b69"),
}


def case_digest(options: SynthOptions, index: int) -> str:
    case = generate_case(5, index, options)
    digest = hashlib.sha256(case.frames.tobytes())
    for labels in case.labels:
        digest.update(np.packbits(labels.tumor).tobytes())
        digest.update(np.packbits(labels.liver).tobytes())
    digest.update(json.dumps(asdict(case.truth), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("mix", ["default", "broad"])
def test_the_generator_writes_the_cases_of_its_version(mix: str) -> None:
    options = broad_options(sizes=SMALL) if mix == "broad" else SynthOptions(sizes=SMALL)
    found = tuple(case_digest(options, index) for index in (0, 1))
    assert found == DIGESTS[mix], (
        f"the generator no longer writes the cases of version {GENERATOR_VERSION}: datasets "
        "made from the same recipe now differ. Set GENERATOR_VERSION in "
        "training/synth/version.py to the date of this change and update DIGESTS here."
    )

"""Tiny preprocessed cases for the training tests, built directly as ``CaseRecord``s.

Each clip is a dark field with a liver-shaped ellipse that brightens slowly and one or two
round tumors that stain late and brightly (so the frame difference k−9 → k shows them);
the key frame and k+1, k+2 are labelled. Small enough that a training step takes
milliseconds.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.dataset import CaseRecord, LabelledFrame

N_CLINICAL = 13


def tiny_record(index: int, size: int = 64, n_frames: int = 14, seed: int = 0) -> CaseRecord:
    rng = np.random.default_rng([seed, index])
    liver = np.zeros((size, size), np.uint8)
    centre = (int(size * rng.uniform(0.4, 0.6)), int(size * rng.uniform(0.4, 0.6)))
    cv2.ellipse(liver, centre, (size // 3, size // 4), float(rng.uniform(0, 180)), 0, 360, 1, -1)
    tumor = np.zeros((size, size), np.uint8)
    for _ in range(1 + index % 2):
        offset = rng.integers(-size // 8, size // 8 + 1, 2)
        cv2.circle(tumor, (centre[0] + int(offset[0]), centre[1] + int(offset[1])),
                   int(rng.integers(3, 7)), 1, -1)
    tumor &= liver
    key_frame = n_frames - 3
    time = np.clip((np.arange(n_frames) - 3) / (key_frame - 3), 0.0, 1.0)[:, None, None]
    clip = 0.1 + 0.25 * time * liver + 0.5 * time**2 * tumor
    clip = clip + rng.normal(0.0, 0.02, clip.shape)
    labelled = tuple(
        LabelledFrame(frame, tumor.astype(bool), liver.astype(bool))
        for frame in (key_frame, key_frame + 1, key_frame + 2)
    )
    clinical = rng.normal(size=N_CLINICAL).astype(np.float32)
    burden = tumor.sum() / (np.pi * 5**2)
    response = int(rng.random() < 1.0 / (1.0 + np.exp(2.0 * (burden - 1.2) - clinical[0])))
    return CaseRecord(
        case_id=f"case{index:03d}",
        clip=np.round(np.clip(clip, 0.0, 1.0) * 255).astype(np.uint8),
        key_frame=key_frame,
        labelled=labelled,
        clinical_values=clinical,
        clinical_present=np.ones(N_CLINICAL, np.float32),
        response=response,
    )


def tiny_records(n: int, size: int = 64, seed: int = 0) -> list[CaseRecord]:
    return [tiny_record(index, size, seed=seed) for index in range(n)]

"""One synthetic patient without any image: tumors, clinical chart and TACE response.

Drawn from its own random stream, so the clinical rows and responses of a dataset can be
produced (and tested) without rendering a single frame, and are identical to the ones
written beside the rendered videos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.clinical import ClinicalValues, recorded_values, sample_clinical
from training.synth.options import SynthOptions
from training.synth.response import response_probability
from training.synth.tumors import TumorBurden, TumorSpec, sample_tumor_specs, tumor_burden


@dataclass(frozen=True)
class Patient:
    tumors: tuple[TumorSpec, ...]
    burden: TumorBurden
    clinical: ClinicalValues  # complete: what the response model reads
    recorded: dict[str, int | float | str | None]  # as charted: some values missing (None)
    response_probability: float
    response: int  # 1 responder (CR/PR), 0 non-responder


def sample_patient(
    rng: np.random.Generator, options: SynthOptions, specs: list[TumorSpec] | None = None
) -> Patient:
    """``specs``: the tumors when a broad-mix phenotype chose them (else drawn here)."""
    if specs is None:
        specs = sample_tumor_specs(rng, options.max_tumors, options.p_rich_blood)
    burden = tumor_burden(specs)
    clinical = sample_clinical(rng, burden)
    probability = response_probability(burden, clinical)
    return Patient(
        tumors=tuple(specs),
        burden=burden,
        clinical=clinical,
        recorded=recorded_values(rng, clinical),
        response_probability=probability,
        response=int(rng.random() < probability),
    )

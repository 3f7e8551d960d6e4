"""Synthetic liver DSA runs for TACE: the data the project trains, tests and demonstrates on.

No clinical DSA data set is public, so the project renders its own, physically motivated:
a hepatic arterial tree filling from a catheter tip, tumor stains that spread, darken and
sharpen (hypervascular and faint hypovascular ones), parenchymal blush, gastrointestinal
blush that mimics tumors, breathing and drift with their misregistration, quantum noise,
detector blur, the collimator's border and burned-in text; with ground-truth key frame,
tumor and liver masks, clinical variables and a TACE response from a documented model.
docs/synthetic-data.md describes the model.

    case = generate_case(seed=0, index=3)          # one case in memory
    write_dataset("data/synth", n=500, seed=0)     # case folders + clinical.csv + truth.csv
"""

from training.synth.case import SyntheticCase, generate_case, generate_patient
from training.synth.dataset_writer import DatasetSummary, write_dataset
from training.synth.options import SynthOptions

__all__ = [
    "DatasetSummary",
    "SynthOptions",
    "SyntheticCase",
    "generate_case",
    "generate_patient",
    "write_dataset",
]

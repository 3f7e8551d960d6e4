"""The clinical input of the response model (DSA-Net Model 2): a fixed-length float vector.

Each variable becomes one feature, in :data:`CLINICAL_FEATURE_NAMES` order:

- Continuous variables are standardised, ``(t(x) - mean) / sd``, with the cohort statistics of
  DSA-Net Table 1 (DESIGN.md), so the MLP sees values near [-3, 3] whatever the unit.
  ``t`` is the identity for age, prothrombin time and albumin, which the table summarises by
  mean ± SD. AFP, CRP, bilirubin, AST and ALT are right-skewed over decades (AFP from 1 to
  over 10^5 ng/mL), so ``t(x) = log10(1 + x)``; the ``1 +`` keeps a measured 0 finite.
- The Child-Pugh score (5-9) is ordinal and standardised as a number.
- Binary variables are 0/1: male sex, HBV infection, ascites, BCLC stage B.

A missing value is imputed with the cohort mean: 0 after standardising, the cohort prevalence
for a binary variable. Because imputation alone would let the model mistake "not measured" for
"average", :func:`clinical_feature_vector` also returns a presence indicator per feature
(1 measured, 0 missing); the response model takes ``concatenate([values, present])``.

Where Table 1 gives no mean ± SD, the statistics below are derived from it under stated
assumptions (log-normal labs): bilirubin's 18.6 ± 16.6 µmol/L fitted by a log-normal; for AFP
(44 % >= 200 ng/mL), AST (58 % >= 40 IU/L), ALT (51 % >= 40 IU/L) and CRP (87 % >= 1 mg/L)
the mean of ``t`` follows from the stated fraction above the threshold and an assumed spread
of ``t`` (AFP 1.3 decades, AST and ALT 0.3, CRP 0.4); Child-Pugh assumes 72/20/5/2/1 % with
scores 5/6/7/8/9. Training a model on another cohort should keep these constants (they define
the input scale the weights were trained on) or retrain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsaviewer.io.clinical import ClinicalVariables


@dataclass(frozen=True)
class _Standardised:
    feature: str
    variable: str
    mean: float
    sd: float
    logarithmic: bool = False

    def encode(self, value: float) -> float:
        transformed = math.log10(1.0 + value) if self.logarithmic else value
        return (transformed - self.mean) / self.sd

    @property
    def imputed(self) -> float:
        return 0.0


@dataclass(frozen=True)
class _Binary:
    feature: str
    variable: str
    positive: str | int
    prevalence: float

    def encode(self, value: str | int) -> float:
        return 1.0 if value == self.positive else 0.0

    @property
    def imputed(self) -> float:
        return self.prevalence


_FEATURES: tuple[_Standardised | _Binary, ...] = (
    _Standardised("age", "age", 55.0, 11.9),
    _Binary("sex_male", "sex", "M", 0.906),
    _Binary("hbv", "hbv", 1, 0.876),
    _Standardised("log_afp", "afp", 2.107, 1.3, logarithmic=True),
    _Standardised("pt", "pt", 12.8, 5.9),
    _Standardised("child_pugh", "child_pugh", 5.4, 0.76),
    _Binary("ascites", "ascites", 1, 0.071),
    _Standardised("log_tbil", "tbil", 1.181, 0.305, logarithmic=True),
    _Standardised("alb", "alb", 40.7, 5.0),
    _Standardised("log_ast", "ast", 1.673, 0.3, logarithmic=True),
    _Standardised("log_alt", "alt", 1.620, 0.3, logarithmic=True),
    _Standardised("log_crp", "crp", 0.752, 0.4, logarithmic=True),
    _Binary("bclc_b", "bclc", "B", 0.89),
)

CLINICAL_FEATURE_NAMES: tuple[str, ...] = tuple(spec.feature for spec in _FEATURES)
"""Names of the values; the presence indicators follow the same order."""


def clinical_feature_vector(variables: ClinicalVariables) -> tuple[np.ndarray, np.ndarray]:
    """``(values, present)``, two float32 vectors of ``len(CLINICAL_FEATURE_NAMES)``: the
    encoded variables (missing ones imputed to the cohort mean) and 1/0 presence flags."""
    values = np.empty(len(_FEATURES), dtype=np.float32)
    present = np.empty(len(_FEATURES), dtype=np.float32)
    for index, spec in enumerate(_FEATURES):
        value = getattr(variables, spec.variable)
        present[index] = value is not None
        values[index] = spec.imputed if value is None else spec.encode(value)
    return values, present

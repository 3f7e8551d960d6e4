"""The clinical feature vector: standardised with the DSA-Net cohort, imputed, flagged."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dsaviewer.core.clinical_features import CLINICAL_FEATURE_NAMES, clinical_feature_vector
from dsaviewer.io.clinical import CLINICAL_FIELDS, ClinicalVariables, parse_clinical

COMPLETE = ClinicalVariables(
    age=55,
    sex="M",
    hbv=1,
    afp=150.0,
    pt=12.8,
    child_pugh=5,
    ascites=0,
    tbil=18.6,
    alb=40.7,
    ast=45.0,
    alt=40.0,
    crp=4.0,
    bclc="B",
)


def feature(values: np.ndarray, name: str) -> float:
    return float(values[CLINICAL_FEATURE_NAMES.index(name)])


def test_one_feature_per_variable_float32():
    values, present = clinical_feature_vector(COMPLETE)
    assert len(CLINICAL_FEATURE_NAMES) == len(CLINICAL_FIELDS) == len(set(CLINICAL_FEATURE_NAMES))
    assert values.dtype == present.dtype == np.float32
    assert values.shape == present.shape == (len(CLINICAL_FEATURE_NAMES),)
    assert np.all(present == 1)


def test_mean_patient_is_near_zero_and_table_sd_is_one():
    values, _ = clinical_feature_vector(COMPLETE)
    for name in ("age", "pt", "alb"):
        assert feature(values, name) == pytest.approx(0.0, abs=1e-6)
    # cohort typical values of the skewed labs land within half an SD of the centre
    for name in ("log_afp", "log_tbil", "log_ast", "log_alt", "log_crp", "child_pugh"):
        assert abs(feature(values, name)) < 0.6, name
    one_sd_older = dataclasses.replace(COMPLETE, age=55 + 11.9)
    assert feature(clinical_feature_vector(one_sd_older)[0], "age") == pytest.approx(1.0)


def test_binary_variables_are_zero_or_one():
    values, _ = clinical_feature_vector(COMPLETE)
    assert [feature(values, n) for n in ("sex_male", "hbv", "ascites", "bclc_b")] == [1, 1, 0, 1]
    other = dataclasses.replace(COMPLETE, sex="F", hbv=0, ascites=1, bclc="A")
    values, _ = clinical_feature_vector(other)
    assert [feature(values, n) for n in ("sex_male", "hbv", "ascites", "bclc_b")] == [0, 0, 1, 0]


def test_skewed_labs_are_logarithmic():
    low = clinical_feature_vector(dataclasses.replace(COMPLETE, afp=99.0))[0]
    high = clinical_feature_vector(dataclasses.replace(COMPLETE, afp=9999.0))[0]
    mid = clinical_feature_vector(dataclasses.replace(COMPLETE, afp=999.0))[0]
    # equal steps per decade of (1 + AFP)
    step_low = feature(mid, "log_afp") - feature(low, "log_afp")
    step_high = feature(high, "log_afp") - feature(mid, "log_afp")
    assert step_low == pytest.approx(step_high, rel=1e-5) and step_low > 0


def test_missing_values_are_imputed_and_flagged():
    values, present = clinical_feature_vector(ClinicalVariables())
    assert np.all(present == 0)
    assert np.all(np.isfinite(values))
    binary = ("sex_male", "hbv", "ascites", "bclc_b")
    for name in CLINICAL_FEATURE_NAMES:
        if name in binary:
            assert 0 < feature(values, name) < 1, name  # the cohort prevalence
        else:
            assert feature(values, name) == 0.0, name

    partly = dataclasses.replace(COMPLETE, afp=None, sex=None)
    values, present = clinical_feature_vector(partly)
    complete_values, _ = clinical_feature_vector(COMPLETE)
    missing = [CLINICAL_FEATURE_NAMES.index(n) for n in ("log_afp", "sex_male")]
    assert list(np.flatnonzero(present == 0)) == sorted(missing)
    others = np.setdiff1d(np.arange(len(values)), missing)
    assert np.array_equal(values[others], complete_values[others])


@pytest.mark.parametrize("spec", [s for s in CLINICAL_FIELDS if s.kind != "choice"], ids=str)
def test_every_plausible_extreme_stays_finite_and_ordered(spec):
    low = clinical_feature_vector(parse_clinical({spec.name: spec.minimum}))[0]
    high = clinical_feature_vector(parse_clinical({spec.name: spec.maximum}))[0]
    changed = np.flatnonzero(low != high)
    assert len(changed) == 1  # one variable drives one feature
    assert np.all(np.isfinite(low)) and np.all(np.isfinite(high))
    assert high[changed[0]] > low[changed[0]]
    assert math.isfinite(float(np.abs(high).max())) and np.abs(high).max() < 50

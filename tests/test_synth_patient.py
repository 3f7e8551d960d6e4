"""Synthetic patients without rendering: tumor statistics, the DSA-Net cohort's clinical
variables and the TACE response model."""

from __future__ import annotations

import numpy as np
import pytest

from dsaviewer.io.clinical import parse_clinical
from training.synth import SynthOptions, generate_patient
from training.synth.clinical import ClinicalValues
from training.synth.response import IMAGE_FEATURES, response_features, response_logit
from training.synth.tumors import DIAMETER_RANGE, TumorBurden, sample_tumor_specs, tumor_burden

N_PATIENTS = 1000


@pytest.fixture(scope="module")
def patients():
    return [generate_patient(seed=11, index=i) for i in range(N_PATIENTS)]


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    positive, negative = scores[labels == 1], scores[labels == 0]
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + 0.5 * ties)


def test_tumor_sizes_counts_and_vascularity_follow_dsa_ltdnet() -> None:
    rng = np.random.default_rng(0)
    specs = [sample_tumor_specs(rng, 10, SynthOptions().p_rich_blood) for _ in range(3000)]
    counts = np.array([len(s) for s in specs])
    diameters = np.array([t.diameter for s in specs for t in s])
    rich = np.array([t.rich for s in specs for t in s])
    assert counts.min() >= 1 and counts.max() <= 10
    assert counts.mean() == pytest.approx(760 / 488, abs=0.1)  # 1.56 tumors per sample
    assert diameters.min() >= DIAMETER_RANGE[0] and diameters.max() <= DIAMETER_RANGE[1]
    assert diameters.mean() == pytest.approx(69.37, abs=6.0)  # px at 1021 x 788
    assert (diameters < 20).mean() > 0.03 and (diameters > 150).mean() > 0.01  # both tails exist
    assert rich.mean() == pytest.approx(548 / 760, abs=0.03)
    assert all(s == sorted(s, key=lambda t: -t.diameter) for s in specs)


def test_responder_rate_is_near_the_cohorts_55_percent(patients) -> None:
    responses = np.array([p.response for p in patients])
    probabilities = np.array([p.response_probability for p in patients])
    assert probabilities.mean() == pytest.approx(0.554, abs=0.03)
    assert responses.mean() == pytest.approx(0.554, abs=0.05)


def test_clinical_marginals_match_dsa_net_table_1(patients) -> None:
    values = [p.clinical for p in patients]

    def share(predicate) -> float:
        return float(np.mean([predicate(v) for v in values]))

    assert np.mean([v.age for v in values]) == pytest.approx(55.0, abs=1.5)
    assert share(lambda v: v.sex == "M") == pytest.approx(0.906, abs=0.03)
    assert share(lambda v: v.hbv == 1) == pytest.approx(0.876, abs=0.03)
    assert share(lambda v: v.afp >= 200) == pytest.approx(0.441, abs=0.05)
    assert share(lambda v: v.child_pugh == 5) == pytest.approx(0.722, abs=0.05)
    assert share(lambda v: v.child_pugh >= 7) == pytest.approx(0.103, abs=0.04)
    assert share(lambda v: v.ascites == 1) == pytest.approx(0.071, abs=0.025)
    assert np.mean([v.tbil for v in values]) == pytest.approx(18.6, abs=2.5)
    assert np.mean([v.alb for v in values]) == pytest.approx(40.7, abs=1.0)
    assert share(lambda v: v.ast >= 40) == pytest.approx(0.58, abs=0.05)
    assert share(lambda v: v.alt >= 40) == pytest.approx(0.514, abs=0.05)
    assert share(lambda v: v.crp >= 1) == pytest.approx(0.869, abs=0.04)
    assert share(lambda v: v.bclc == "B") == pytest.approx(0.889, abs=0.04)


def test_child_pugh_agrees_with_its_components(patients) -> None:
    for patient in patients:
        values = patient.clinical
        assert 5 <= values.child_pugh <= 9
        if values.child_pugh == 5:  # every component scores its minimum
            assert values.ascites == 0 and values.tbil < 34 and values.alb > 35
        if values.ascites:
            assert values.child_pugh >= 6


def test_charted_values_are_valid_and_a_few_are_missing(patients) -> None:
    missing = 0
    for patient in patients:
        variables = parse_clinical(patient.recorded)  # raises on an implausible value
        missing += len(variables.missing())
        complete = patient.clinical.as_dict()
        for name, value in patient.recorded.items():
            assert value is None or value == complete[name]
    rate = missing / (len(patients) * len(patients[0].recorded))
    assert 0.01 < rate < 0.05


def test_response_model_directions_and_bayes_auc(patients) -> None:
    typical = ClinicalValues(
        age=55,
        sex="M",
        hbv=1,
        afp=100.0,
        pt=12.5,
        child_pugh=5,
        ascites=0,
        tbil=15.0,
        alb=42.0,
        ast=45,
        alt=40,
        crp=3.0,
        bclc="B",
    )
    small = TumorBurden(count=1, total_diameter_cm=2.0, largest_diameter_cm=2.0, rich_fraction=1.0)
    large = TumorBurden(count=4, total_diameter_cm=20.0, largest_diameter_cm=8.0, rich_fraction=1.0)
    poor = TumorBurden(count=1, total_diameter_cm=2.0, largest_diameter_cm=2.0, rich_fraction=0.0)
    sick = ClinicalValues(**{**typical.as_dict(), "child_pugh": 8, "ascites": 1, "afp": 5000.0})

    def logit(burden: TumorBurden, clinical: ClinicalValues) -> float:
        return response_logit(response_features(burden, clinical))

    assert logit(small, typical) > logit(large, typical)
    assert logit(small, typical) > logit(poor, typical)
    assert logit(small, typical) > logit(small, sick)

    responses = np.array([p.response for p in patients])
    bayes = _auc(np.array([p.response_probability for p in patients]), responses)
    image_only = _auc(
        np.array(
            [
                response_logit(response_features(p.burden, p.clinical), only=IMAGE_FEATURES)
                for p in patients
            ]
        ),
        responses,
    )
    assert 0.74 < bayes < 0.87  # DSA-Net with ground-truth masks and clinical data: 0.80
    assert 0.62 < image_only < bayes


def test_patients_are_reproducible_and_independent_of_the_rest() -> None:
    assert generate_patient(3, 7) == generate_patient(3, 7)
    assert generate_patient(3, 7) != generate_patient(3, 8)
    assert generate_patient(3, 7) != generate_patient(4, 7)
    burden = tumor_burden(list(generate_patient(3, 7).tumors))
    assert burden == generate_patient(3, 7).burden

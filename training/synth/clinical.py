"""Clinical variables of a synthetic patient, drawn to match the DSA-Net cohort (Table 1,
all 605 patients) with the correlations a hepatologist expects.

Two latent factors tie the variables together: *liver dysfunction* (bilirubin up, albumin
down, prothrombin time up, ascites more likely) and *tumor burden* (taken from the
patient's tumors: AFP, AST and CRP rise with it). The Child-Pugh score is not drawn but
computed from its components (bilirubin, albumin, prothrombin prolongation, ascites; no
encephalopathy, an exclusion criterion), and patients above B9 are redrawn (Child-Pugh C
was excluded), which gives the cohort's 72 / 18 / 6 / 3 / 1 % for scores 5-9. BCLC A is
mostly a single small tumor with good liver function.

Marginals reproduced (cohort in brackets): age 55 +- 12 [55.0 +- 11.9], male 91 % [90.6],
HBV 88 % [87.6], AFP >= 200 ng/mL 44 % [44.1], PT 12.8 +- ~3 s [12.8 +- 5.9, a heavy tail],
ascites 7 % [7.1], TBIL 18.6 +- 16 umol/L [18.6 +- 16.6], ALB 40.7 +- 5 g/L [40.7],
AST >= 40 58 % [58.0], ALT >= 40 51 % [51.4], CRP >= 1 87 % [86.9], BCLC B 89 % [88.9].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.tumors import TumorBurden

CLINICAL_FIELDS = (
    "age",
    "sex",
    "hbv",
    "afp",
    "pt",
    "child_pugh",
    "ascites",
    "tbil",
    "alb",
    "ast",
    "alt",
    "crp",
    "bclc",
)
# Chance that a recorded value is missing (chart gaps); demographics are rarely missing.
_MISSING = {name: 0.03 for name in CLINICAL_FIELDS} | {"age": 0.01, "sex": 0.005}
# Mean and SD of log(total tumor diameter in cm) under sample_tumor_specs' defaults, to
# standardise the burden factor (measured over 20,000 draws).
BURDEN_LOG_MEAN, BURDEN_LOG_SD = 1.17, 0.83
_PT_CONTROL_S = 12.0  # normal prothrombin time; prolongation scores Child-Pugh


@dataclass(frozen=True)
class ClinicalValues:
    """One patient's variables, complete (the truth), in the units of DESIGN.md's table."""

    age: int
    sex: str  # "M" / "F"
    hbv: int  # 0 / 1
    afp: float  # ng/mL
    pt: float  # s
    child_pugh: int  # 5-9
    ascites: int  # 0 / 1
    tbil: float  # umol/L
    alb: float  # g/L
    ast: float  # IU/L
    alt: float  # IU/L
    crp: float  # mg/L
    bclc: str  # "A" / "B"

    def as_dict(self) -> dict[str, int | float | str]:
        return {name: getattr(self, name) for name in CLINICAL_FIELDS}


def burden_factor(burden: TumorBurden) -> float:
    """Tumor burden standardised over the synthetic cohort (0 = typical)."""
    # A broad-mix case without tumors counts as the smallest burden (a 5 mm nodule).
    total = max(burden.total_diameter_cm, 0.5)
    return (np.log(total) - BURDEN_LOG_MEAN) / BURDEN_LOG_SD


def sample_clinical(rng: np.random.Generator, burden: TumorBurden) -> ClinicalValues:
    z_burden = burden_factor(burden)
    age = int(round(np.clip(rng.normal(55.0, 11.9), 18, 90)))
    sex = "M" if rng.random() < 0.906 else "F"
    hbv = int(rng.random() < 0.876)

    while True:
        dysfunction = rng.normal()
        # Rounded as a laboratory reports them (and clipped to what one reports), before
        # they are scored, so the chart's Child-Pugh agrees with the chart's values.
        tbil = round(
            min(float(np.exp(2.64 + 0.78 * (0.6 * dysfunction + 0.8 * rng.normal()))), 600.0), 1
        )
        alb = round(float(40.7 - 5.0 * (0.55 * dysfunction + 0.835 * rng.normal())), 1)
        pt = 12.4 + 1.3 * (0.5 * dysfunction + 0.866 * rng.normal())
        if rng.random() < 0.04:
            pt += rng.exponential(6.0)
        pt = round(min(float(pt), 60.0), 1)
        ascites = int(rng.random() < _sigmoid(-3.2 + 1.3 * dysfunction))
        child_pugh = _child_pugh(tbil, alb, pt, ascites)
        if child_pugh <= 9:
            break

    afp = float(10 ** (2.05 + 1.25 * (0.85 * rng.normal() + 0.45 * z_burden)))
    shared_enzymes = rng.normal()
    ast = float(
        np.exp(
            np.log(44.5)
            + 0.55
            * (0.6 * shared_enzymes + 0.3 * dysfunction + 0.3 * z_burden + 0.68 * rng.normal())
        )
    )
    alt = float(np.exp(np.log(40.5) + 0.6 * (0.7 * shared_enzymes + 0.714 * rng.normal())))
    crp = float(np.exp(np.log(3.9) + 1.2 * (0.9 * rng.normal() + 0.3 * z_burden)))

    small_single = burden.count == 1 and burden.largest_diameter_cm < 5.0
    few_small = burden.count <= 3 and burden.largest_diameter_cm < 3.0
    p_bclc_a = 0.17 if (small_single or few_small) and child_pugh <= 6 else 0.02
    bclc = "A" if rng.random() < p_bclc_a else "B"
    return ClinicalValues(
        age=age,
        sex=sex,
        hbv=hbv,
        afp=round(min(afp, 1e6), 1),
        pt=pt,
        child_pugh=child_pugh,
        ascites=ascites,
        tbil=tbil,
        alb=alb,
        ast=round(min(ast, 5000.0)),
        alt=round(min(alt, 5000.0)),
        crp=round(min(crp, 300.0), 2),
        bclc=bclc,
    )


def recorded_values(
    rng: np.random.Generator, values: ClinicalValues
) -> dict[str, int | float | str | None]:
    """The values as the chart has them: a few missing at random (None)."""
    return {
        name: None if rng.random() < _MISSING[name] else value
        for name, value in values.as_dict().items()
    }


def _child_pugh(tbil: float, alb: float, pt: float, ascites: int) -> int:
    bilirubin_points = 1 if tbil < 34 else 2 if tbil <= 50 else 3
    albumin_points = 1 if alb > 35 else 2 if alb >= 28 else 3
    prolongation = pt - _PT_CONTROL_S
    pt_points = 1 if prolongation < 4 else 2 if prolongation <= 6 else 3
    ascites_points = 2 if ascites else 1
    encephalopathy_points = 1
    return bilirubin_points + albumin_points + pt_points + ascites_points + encephalopathy_points


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))

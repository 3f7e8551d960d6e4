"""The broad mix: what real hepatic angiography varies in beyond the papers' cohort, grouped
into named *families* so that a model can be trained on all values but one and tested on
the one it never saw (docs/synthetic-data.md, "Families").

Every case of the broad mix (``SynthOptions(variety=True)``) draws exactly one value per
family from its own random stream, so a case belongs to one value of each family and the
family split is a pure function of (seed, index). The values:

- ``territory``: where the catheter injects, hence which part of the liver blushes.
- ``liver``: where the liver lies in the field, its size and projection.
- ``phenotype``: how many tumors, how large, how vascular.
- ``distractor``: the extra-hepatic blush or dense object that the run also shows.
- ``acquisition``: dose, frame rate and length, image processing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.tumors import DIAMETER_RANGE, TumorSpec

FAMILIES: dict[str, tuple[str, ...]] = {
    "territory": (
        "celiac",
        "common_hepatic",
        "proper_hepatic",
        "right_hepatic",
        "left_hepatic",
        "segmental",
        "replaced_right_sma",
    ),
    "liver": ("typical", "small", "displaced", "partly_outside", "oblique", "magnified"),
    "phenotype": (
        "classic",
        "none",
        "solitary_small",
        "multifocal",
        "large_necrotic",
        "infiltrative",
        "hypovascular",
        "ap_shunt",
    ),
    "distractor": (
        "none",
        "splenic",
        "pancreatic_gda",
        "renal",
        "gallbladder",
        "phrenic",
        "lipiodol_coils",
        "wires",
        "bone_residue",
    ),
    "acquisition": ("standard", "low_dose", "high_dose", "fast", "slow", "edge_enhanced"),
}
# Territories that blush the whole liver (the label is the whole liver in the field).
WHOLE_LIVER_TERRITORIES = ("celiac", "common_hepatic", "proper_hepatic")
# Territories on one side of Cantlie's line (training/synth/territory.py).
LOBAR_TERRITORIES = ("right_hepatic", "left_hepatic", "replaced_right_sma")
FAST_FPS, SLOW_FPS = (4.0, 7.5), (1.0, 2.0)
# Low-rate programmes stop early: 8-11 frames leave fewer than 9 frames before the key frame,
# so the temporal stack k-9..k is padded (see ground_truth.first_key_frame_candidate).
FAST_FRAMES, SLOW_FRAMES = (30, 40), (8, 16)


@dataclass(frozen=True)
class Variety:
    """One value per family (see :data:`FAMILIES`)."""

    territory: str
    liver: str
    phenotype: str
    distractor: str
    acquisition: str

    def families(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FAMILIES}


def parse_family_value(text: str) -> tuple[str, str]:
    """``"territory=segmental"`` -> ``("territory", "segmental")``; a ValueError naming every
    family's values for anything else."""
    family, _, value = text.partition("=")
    if value not in FAMILIES.get(family, ()):
        raise ValueError(
            f"{text!r} is not FAMILY=VALUE with a value of "
            + "; ".join(f"{name}: {', '.join(values)}" for name, values in FAMILIES.items())
        )
    return family, value


def sample_variety(rng: np.random.Generator, forced: dict[str, str] | None = None) -> Variety:
    """Uniform over each family's values; ``forced`` fixes some families (tests, figures)."""
    forced = forced or {}
    unknown = {name: value for name, value in forced.items() if value not in FAMILIES.get(name, ())}
    if unknown:
        raise ValueError(f"unknown family values {unknown}; families are {FAMILIES}")
    drawn = {name: str(values[rng.integers(len(values))]) for name, values in FAMILIES.items()}
    return Variety(**{**drawn, **forced})


def phenotype_specs(rng: np.random.Generator, phenotype: str) -> list[TumorSpec] | None:
    """The tumors of a phenotype, largest first; None for ``classic`` (the papers' cohort,
    :func:`training.synth.tumors.sample_tumor_specs`)."""
    if phenotype == "classic":
        return None
    specs: list[TumorSpec] = []
    if phenotype == "solitary_small":  # one 5-12 mm nodule, either vascularity
        rich = bool(rng.random() < 0.5)
        specs.append(_spec(rng, float(rng.uniform(12.5, 30.0)), rich))
    elif phenotype == "multifocal":  # 6-15 nodules, mostly small
        for _ in range(int(rng.integers(6, 16))):
            diameter = float(np.clip(30.0 * np.exp(rng.normal(0.0, 0.5)), 12.5, 110.0))
            specs.append(_spec(rng, diameter, bool(rng.random() < 0.75)))
    elif phenotype == "large_necrotic":  # one 7-11 cm mass, necrotic centre, 0-4 satellites
        diameter = float(rng.uniform(175.0, 275.0))
        mass = _spec(rng, diameter, True)
        specs.append(_replace(mass, necrosis=float(rng.uniform(0.45, 0.75)), lobulation=0.08))
        for _ in range(int(rng.integers(0, 5))):  # within 2 cm of the mass (tumors.py)
            satellite = _spec(rng, float(rng.uniform(12.5, 35.0)), True)
            specs.append(_replace(satellite, satellite=True))
    elif phenotype == "infiltrative":  # ill-defined, irregular, faint
        for _ in range(int(rng.integers(1, 3))):
            spec = _spec(rng, float(rng.uniform(80.0, 200.0)), False)
            specs.append(
                _replace(
                    spec,
                    strength=float(rng.uniform(0.1, 0.22)),
                    aspect=float(rng.uniform(1.4, 2.4)),
                    lobulation=float(rng.uniform(0.18, 0.28)),
                )
            )
    elif phenotype == "hypovascular":  # every tumor faint and slow
        for _ in range(int(rng.integers(1, 4))):
            diameter = float(np.clip(50.0 * np.exp(rng.normal(0.0, 0.6)), 15.0, 180.0))
            specs.append(_spec(rng, diameter, False))
    elif phenotype == "ap_shunt":  # hypervascular, with early portal filling (variety layers)
        for _ in range(int(rng.integers(1, 3))):
            specs.append(_spec(rng, float(rng.uniform(50.0, 150.0)), True))
    elif phenotype != "none":
        raise ValueError(f"unknown phenotype {phenotype!r}")
    specs.sort(key=lambda spec: -spec.diameter)
    return specs


def _spec(rng: np.random.Generator, diameter: float, rich: bool) -> TumorSpec:
    necrosis = float(rng.uniform(0.3, 0.6)) if diameter > 90 and rng.random() < 0.4 else 0.0
    if rich:
        strength = rng.uniform(0.45, 1.0) * (diameter / 69.0) ** 0.25
    else:
        strength = rng.uniform(0.08, 0.2)
    return TumorSpec(
        diameter=float(max(diameter, DIAMETER_RANGE[0])),
        rich=rich,
        necrosis=necrosis,
        strength=float(np.clip(strength, 0.06, 1.2)),
        aspect=float(rng.uniform(1.0, 1.45)),
        lobulation=float(rng.uniform(0.02, 0.07) if rich else rng.uniform(0.05, 0.12)),
    )


def _replace(spec: TumorSpec, **changes: float | bool) -> TumorSpec:
    return TumorSpec(**{**vars(spec), **changes})

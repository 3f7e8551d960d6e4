"""The named synthetic datasets that the weights' manifests and docs/evaluation*.md are
measured on, each as the one ``synth`` command (fixed seed) that makes it.

The generator is deterministic in (seed, case index, options) under one generator version
(training/synth/version.py), so a set made again from its recipe under the version its
synth.json records holds the same cases, and a result in the docs can be checked or a run
continued on a machine that has none of the data: ``python -m training datasets data
broad_test``.
"""

from __future__ import annotations

from dataclasses import dataclass

# The frame sizes every broad-mix set of the evaluation was made with.
BROAD_SIZES = "512x512:0.6,1021x788:0.25,1024x1024:0.15"


@dataclass(frozen=True)
class DatasetRecipe:
    name: str
    synth_arguments: str  # what follows ``python -m training synth OUT``
    purpose: str


RECIPES: tuple[DatasetRecipe, ...] = (
    # Training and calibration data (the shipped weights' manifest and the runs in the docs).
    DatasetRecipe("default_train", "--n 300 --seed 1", "segmentation training, the papers' mix"),
    DatasetRecipe("broad_train", f"--mix broad --n 600 --seed 11 --sizes {BROAD_SIZES}",
                  "segmentation training, the broad mix"),
    DatasetRecipe("small_train", "--mix broad --n 300 --seed 13 --family phenotype=solitary_small "
                  f"--sizes {BROAD_SIZES}", "segmentation training, one 5-12 mm nodule each"),
    DatasetRecipe("broad_train2", f"--mix broad --n 800 --seed 61 --sizes {BROAD_SIZES}",
                  "segmentation training, more broad cases (runs-after-v6.md, MD)"),
    DatasetRecipe("resp_default", "--n 1000 --seed 41", "response training, the papers' mix"),
    DatasetRecipe("resp_broad2", f"--mix broad --n 700 --seed 42 --sizes {BROAD_SIZES}",
                  "response training, the broad mix"),
    DatasetRecipe("calib_default", "--n 200 --seed 31", "response calibration, the papers' mix"),
    DatasetRecipe("calib_broad", f"--mix broad --n 200 --seed 32 --sizes {BROAD_SIZES}",
                  "response calibration, the broad mix"),
    DatasetRecipe("presence_free", "--mix broad --n 200 --seed 71 --family phenotype=none "
                  f"--sizes {BROAD_SIZES}",
                  "fitting a tumor-presence decision: tumor-free broad runs (runs-after-v9.md)"),
    # Test sets: never trained, calibrated or chosen on.
    DatasetRecipe("test300", "--n 300 --seed 777", "internal test set (300)"),
    DatasetRecipe("test_internal", "--n 100 --seed 777",
                  "internal test, its first 100 cases (the run comparisons)"),
    DatasetRecipe("broad_test", f"--mix broad --n 300 --seed 12 --sizes {BROAD_SIZES}",
                  "broad test (per-family tables)"),
    DatasetRecipe("fresh_broad5", f"--mix broad --n 300 --seed 55 --sizes {BROAD_SIZES}",
                  "fresh broad 300 (run comparisons)"),
    DatasetRecipe("resp_default3", "--n 500 --seed 51", "fresh default 500 (response tests)"),
    DatasetRecipe("presence_test", "--mix broad --n 400 --seed 72 --family phenotype=none "
                  f"--sizes {BROAD_SIZES}",
                  "tumor-presence specificity test: tumor-free broad runs (runs-after-v9.md)"),
    DatasetRecipe("resp_broad3", f"--mix broad --n 500 --seed 52 --sizes {BROAD_SIZES}",
                  "fresh broad 500 (response and segmentation tests)"),
)


def find_recipe(name: str) -> DatasetRecipe:
    for recipe in RECIPES:
        if recipe.name == name:
            return recipe
    known = ", ".join(recipe.name for recipe in RECIPES)
    raise ValueError(f"no dataset recipe named {name!r}; the recipes are: {known}")

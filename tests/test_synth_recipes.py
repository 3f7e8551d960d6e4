"""The named dataset recipes and ``python -m training datasets``."""

from __future__ import annotations

import json
import shutil

import pytest

from training.__main__ import main as training_main
from training.synth import recipes
from training.synth.case_writer import read_manifest
from training.synth.cli import synth_options
from training.synth.recipes import DatasetRecipe, find_recipe
from training.synth.recipes_cli import synth_arguments
from training.synth.version import GENERATOR_VERSION

TINY = "--n 2 --seed 9 --sizes 256x256 --formats png"


@pytest.fixture
def tiny_recipes(monkeypatch):
    """Two small recipes in place of the real ones (hundreds of cases each)."""
    table = (
        DatasetRecipe("tiny_default", TINY, "a test"),
        DatasetRecipe("tiny_broad", f"--mix broad {TINY} --family phenotype=solitary_small",
                      "a test"),
    )
    monkeypatch.setattr(recipes, "RECIPES", table)
    monkeypatch.setattr("training.synth.recipes_cli.RECIPES", table)
    return table


def test_every_recipe_is_a_valid_synth_command_with_its_own_seed(tmp_path, capsys) -> None:
    names = [recipe.name for recipe in recipes.RECIPES]
    assert len(set(names)) == len(names)
    for recipe in recipes.RECIPES:  # synth's own parser and option checks accept each one
        synth_options(synth_arguments(recipe, tmp_path / recipe.name, workers=1))
    assert training_main(["datasets", "--list"]) == 0
    listed = capsys.readouterr().out
    for recipe in recipes.RECIPES:
        assert f"synth OUT {recipe.synth_arguments}" in listed
    # test300 and test_internal are one set (the second its first 100 cases); no other pair
    # of recipes shares a seed, so no test case is also a training case.
    seeds = {}
    for recipe in recipes.RECIPES:
        words = recipe.synth_arguments.split()
        seeds.setdefault(words[words.index("--seed") + 1], []).append(recipe.name)
    shared = [group for group in seeds.values() if len(group) > 1]
    assert shared == [["test300", "test_internal"]]


def test_documented_sets_keep_their_seeds() -> None:
    # The docs' numbers were measured on these exact sets; changing one silently would
    # make every comparison with them meaningless.
    assert find_recipe("broad_test").synth_arguments.startswith("--mix broad --n 300 --seed 12 ")
    assert find_recipe("test_internal").synth_arguments == "--n 100 --seed 777"
    assert "--seed 55 " in find_recipe("fresh_broad5").synth_arguments


def test_datasets_makes_keeps_and_remakes(tmp_path, tiny_recipes, capsys) -> None:
    assert training_main(["datasets", str(tmp_path), "all"]) == 0
    for recipe in tiny_recipes:
        manifest = read_manifest(tmp_path / recipe.name)
        assert manifest is not None and manifest["seed"] == 9 and len(manifest["cases"]) == 2
    broad = read_manifest(tmp_path / "tiny_broad")
    assert broad["options"]["families"] == [["phenotype", "solitary_small"]]
    manifest_path = tmp_path / "tiny_default" / "synth.json"
    written = manifest_path.stat().st_mtime_ns

    capsys.readouterr()
    assert training_main(["datasets", str(tmp_path), "tiny_default"]) == 0
    assert "already holds tiny_default; kept" in capsys.readouterr().err
    assert manifest_path.stat().st_mtime_ns == written

    # A case folder gone: the set is made again.
    case_id = json.loads(manifest_path.read_text())["cases"][0]
    shutil.rmtree(tmp_path / "tiny_default" / case_id)
    assert training_main(["datasets", str(tmp_path), "tiny_default"]) == 0
    assert "making" in capsys.readouterr().err
    assert (tmp_path / "tiny_default" / case_id).is_dir()


def test_datasets_refuses_a_folder_of_the_users_and_leaves_it(tmp_path, tiny_recipes, capsys):
    folder = tmp_path / "tiny_default"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert training_main(["datasets", str(tmp_path), "tiny_default"]) == 1
    err = capsys.readouterr().err
    assert "not empty and holds no synthetic dataset" in err and "not made: tiny_default" in err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"seed": 10}, "holds another dataset (seed 10"),
        ({"generator_version": "2026-11-30"}, "made by generator version 2026-11-30, not"),
        ({"generator_version": None}, "does not record its generator version"),
    ],
)
def test_a_different_dataset_is_kept_unless_remade(tmp_path, tiny_recipes, capsys, change, said):
    assert training_main(["datasets", str(tmp_path), "tiny_default"]) == 0
    manifest_path = tmp_path / "tiny_default" / "synth.json"
    manifest = json.loads(manifest_path.read_text())
    for key, value in change.items():
        manifest.pop(key) if value is None else manifest.__setitem__(key, value)
    manifest_path.write_text(json.dumps(manifest))
    capsys.readouterr()

    assert training_main(["datasets", str(tmp_path), "tiny_default"]) == 1
    assert said in capsys.readouterr().err
    assert json.loads(manifest_path.read_text()) == manifest  # left as it was

    assert training_main(["datasets", str(tmp_path), "tiny_default", "--remake"]) == 0
    remade = json.loads(manifest_path.read_text())
    assert remade["seed"] == 9 and remade["generator_version"] == GENERATOR_VERSION


def test_datasets_names_an_unknown_recipe(tmp_path, tiny_recipes, capsys) -> None:
    assert training_main(["datasets", str(tmp_path), "tiny_default", "broad_tset"]) == 2
    assert "no dataset recipe named 'broad_tset'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())

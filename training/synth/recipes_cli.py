"""Make the named datasets of the evaluation from their recipes (training/synth/recipes.py).

python -m training datasets --list
python -m training datasets data broad_test test_internal --workers 2
python -m training datasets data all

Each NAME is written to OUT/NAME with its recipe's synth command. A folder that already
holds exactly that dataset (same seed, cases, options and generator version) is kept. One
that holds another synthetic dataset, or this one from another generator version, is named
and left as it is unless --remake says to replace it: a test set made again silently would
no longer be the set earlier results were measured on. Any other non-empty folder is
refused, as by synth.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from training.synth import cli as synth_cli
from training.synth.case_writer import read_manifest
from training.synth.recipes import RECIPES, DatasetRecipe, find_recipe
from training.synth.version import GENERATOR_VERSION

# What a folder can hold that the recipe simply makes (again): nothing, or part of this set.
MISSING = "holds no synthetic dataset"
INCOMPLETE = "lacks some of its case folders"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("out", nargs="?", help="folder that gets one dataset folder per NAME")
    parser.add_argument("names", nargs="*", metavar="NAME", help="recipe names, or 'all'")
    parser.add_argument("--list", action="store_true", help="print the recipes and stop")
    parser.add_argument("--workers", type=int, default=1, help="processes to use (default 1)")
    parser.add_argument("--remake", action="store_true",
                        help="replace a synthetic dataset in OUT/NAME that differs from the recipe")


def run(args: argparse.Namespace) -> int:
    if args.list:
        for recipe in RECIPES:
            print(f"{recipe.name:15s} synth OUT {recipe.synth_arguments}")
            print(f"{'':15s} {recipe.purpose}")
        return 0
    if not args.out or not args.names:
        print("datasets: give OUT and at least one NAME (see --list)", file=sys.stderr)
        return 2
    try:
        names = [r.name for r in RECIPES] if args.names == ["all"] else args.names
        recipes = [find_recipe(name) for name in names]
    except ValueError as error:
        print(f"datasets: {error}", file=sys.stderr)
        return 2
    failed = []
    for recipe in recipes:
        folder = Path(args.out) / recipe.name
        synth_args = synth_arguments(recipe, folder, args.workers)
        difference = difference_from_recipe(folder, synth_args)
        if difference is None:
            print(f"datasets: {folder} already holds {recipe.name}; kept", file=sys.stderr)
            continue
        if difference not in (MISSING, INCOMPLETE) and not args.remake:
            print(f"datasets: {folder} {difference}; kept as it is (--remake replaces it)",
                  file=sys.stderr)
            failed.append(recipe.name)
            continue
        print(f"datasets: making {folder}: synth {recipe.synth_arguments}", file=sys.stderr)
        if synth_cli.run(synth_args) != 0:
            failed.append(recipe.name)
    if failed:
        print(f"datasets: not made: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def synth_arguments(recipe: DatasetRecipe, folder: Path, workers: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="synth")
    synth_cli.add_arguments(parser)
    return parser.parse_args(
        [str(folder), *shlex.split(recipe.synth_arguments), "--workers", str(workers), "--quiet"]
    )


def difference_from_recipe(folder: Path, synth_args: argparse.Namespace) -> str | None:
    """None if ``folder``'s manifest records this very dataset (seed, case range, options as
    JSON stores them, generator version, every case folder present); else what differs."""
    manifest = read_manifest(folder)
    if manifest is None:
        return MISSING
    options = json.loads(json.dumps(asdict(synth_cli.synth_options(synth_args))))
    indices = [synth_args.start, synth_args.start + synth_args.n]
    if (manifest.get("seed"), manifest.get("indices")) != (synth_args.seed, indices):
        return (f"holds another dataset (seed {manifest.get('seed')}, cases "
                f"{manifest.get('indices')}; the recipe: seed {synth_args.seed}, cases {indices})")
    if manifest.get("options") != options:
        return "holds a dataset of the same seed with other options"
    version = manifest.get("generator_version")
    if version is None:
        return ("does not record its generator version (written before versions were "
                "recorded): its cases may differ from the recipe's")
    if version != GENERATOR_VERSION:
        return (f"was made by generator version {version}, not {GENERATOR_VERSION}: other "
                "cases from the same seed")
    cases = manifest.get("cases", [])
    if len(cases) != synth_args.n or not all((folder / str(case)).is_dir() for case in cases):
        return INCOMPLETE
    return None

"""Make the named datasets of the evaluation from their recipes (training/synth/recipes.py).

python -m training datasets --list
python -m training datasets data broad_test test_internal --workers 2
python -m training datasets data all

Each NAME is written to OUT/NAME with its recipe's synth command. A folder that already
holds exactly that dataset (same seed, cases and options) is kept; one that holds another
synthetic dataset is made again; any other non-empty folder is refused, as by synth.
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("out", nargs="?", help="folder that gets one dataset folder per NAME")
    parser.add_argument("names", nargs="*", metavar="NAME", help="recipe names, or 'all'")
    parser.add_argument("--list", action="store_true", help="print the recipes and stop")
    parser.add_argument("--workers", type=int, default=1, help="processes to use (default 1)")


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
        if already_made(folder, synth_args):
            print(f"datasets: {folder} already holds {recipe.name}; kept", file=sys.stderr)
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


def already_made(folder: Path, synth_args: argparse.Namespace) -> bool:
    """Whether ``folder``'s manifest records this very dataset: seed, case range and options
    (compared as the manifest stores them, in JSON)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return False
    options = json.loads(json.dumps(asdict(synth_cli.synth_options(synth_args))))
    cases = manifest.get("cases", [])
    return (
        manifest.get("seed") == synth_args.seed
        and manifest.get("indices") == [synth_args.start, synth_args.start + synth_args.n]
        and manifest.get("options") == options
        and len(cases) == synth_args.n
        and all((folder / str(case_id)).is_dir() for case_id in cases)
    )

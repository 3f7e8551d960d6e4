"""``python -m training <command> …``: each command lives in its own module, imported only
when it runs so that ``--help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from dsaviewer.errors import InputError

# command name -> module exposing ``add_arguments(parser)`` and ``run(args) -> int``
COMMANDS = {
    "synth": "training.synth.cli",
    "export-onnx": "training.export_onnx",
    "train-seg": "training.cli_train_seg",
    "train-response": "training.cli_train_response",
    "evaluate-seg": "training.cli_evaluate_seg",
    "compare-seg": "training.cli_compare_seg",
    "evaluate-response": "training.cli_evaluate_response",
    "calibrate-response": "training.calibrate_response",
    "combine-weights": "training.combine_weights",
    "ablation": "training.cli_ablation",
    "fine-tune": "training.cli_fine_tune",
    "synth-figure": "training.synth.figure",
    "plots": "training.cli_plots",
    "synth-negatives": "training.synth.negatives_cli",
    "datasets": "training.synth.recipes_cli",
    "fit-scope": "training.fit_scope",
    "evaluate-scope": "training.evaluate_scope",
    "lesion-visibility": "training.cli_lesion_visibility",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m training")
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, module_name in COMMANDS.items():
        if argv and argv[0] != name:
            sub.add_parser(name)  # listed in --help without importing it
            continue
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=module.__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    return run_command(args.command, modules[args.command].run, args)


def run_command(
    name: str, run: Callable[[argparse.Namespace], int], args: argparse.Namespace
) -> int:
    """Every command's error handling: bad data, options or checkpoints (InputError) end the
    command with the message on stderr and exit status 2, without a traceback."""
    try:
        return run(args)
    except InputError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

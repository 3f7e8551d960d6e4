"""Generator options for small low-rate (`slow`) runs of one broad-mix family combination:
the short runs whose key frame the tests of the generator and of the viewer's rule check."""

from __future__ import annotations

from training.synth.options import SynthOptions, broad_options


def slow_run_options(territory: str = "proper_hepatic", phenotype: str = "classic",
                     size: int = 256) -> SynthOptions:
    """Typical liver, no distractor, AVI, ``size`` x ``size``."""
    return broad_options(
        sizes=(((size, size), 1.0),),
        formats=(("avi", 1.0),),
        families=(
            ("territory", territory),
            ("liver", "typical"),
            ("phenotype", phenotype),
            ("distractor", "none"),
            ("acquisition", "slow"),
        ),
    )

"""What a synthetic dataset may contain: frame sizes, file formats and how often each
difficulty appears. One frozen dataclass so a dataset is reproducible from (seed, options)."""

from __future__ import annotations

from dataclasses import dataclass

# (width, height). 1021 x 788 is the size both papers state for their DSA videos.
PAPER_SIZE = (1021, 788)
DEFAULT_SIZES: tuple[tuple[tuple[int, int], float], ...] = (
    (PAPER_SIZE, 0.6),
    ((1024, 1024), 0.2),
    ((512, 512), 0.2),
)
VIDEO_FORMATS = ("avi", "dcm", "png")
DEFAULT_FORMATS: tuple[tuple[str, float], ...] = (("avi", 0.8), ("dcm", 0.12), ("png", 0.08))


@dataclass(frozen=True)
class SynthOptions:
    """Probabilities are per case. ``sizes`` and ``formats`` are (value, weight) pairs; weights
    need not sum to one."""

    sizes: tuple[tuple[tuple[int, int], float], ...] = DEFAULT_SIZES
    formats: tuple[tuple[str, float], ...] = DEFAULT_FORMATS
    frames: tuple[int, int] = (20, 30)
    # Acquisition and display.
    p_zoom: float = 0.2  # enlarged field of view (the operator's magnification)
    p_inverted: float = 0.15  # contrast bright on dark
    p_round_collimator: float = 0.3
    p_text: float = 0.6  # burned-in frame counter and side marker
    p_high_bit_dicom: float = 0.5  # DICOM cases stored with 10 or 12 bits instead of 8
    # Distractors and motion.
    p_gi: float = 0.6  # at least one gastrointestinal blush
    p_gi_on_liver_edge: float = 0.3  # that blush overlaps the liver's inferior edge
    p_breath: float = 0.4  # a breathing event somewhere in the run
    p_end_breath: float = 0.3  # the patient breathes again in the last frames
    p_drift: float = 0.5  # slow drift of the whole body
    p_heart: float = 0.35  # the heart border in the field, pulsating
    # Tumors.
    p_rich_blood: float = 548 / 760  # DSA-LTDNet: 548 of 760 tumors hypervascular
    max_tumors: int = 10
    # The broad mix (training/synth/variety.py): one value of each family per case.
    variety: bool = False
    families: tuple[tuple[str, str], ...] = ()  # (family, value) pairs forced on every case

    def __post_init__(self) -> None:
        if not self.sizes or any(w <= 0 or h <= 0 or p < 0 for (w, h), p in self.sizes):
            raise ValueError(f"sizes must be positive (width, height) pairs, not {self.sizes}")
        unknown = [name for name, _ in self.formats if name not in VIDEO_FORMATS]
        if not self.formats or unknown:
            raise ValueError(f"formats must be among {VIDEO_FORMATS}, not {self.formats}")
        low, high = self.frames
        if not 12 <= low <= high:
            raise ValueError(f"frame count range must satisfy 12 <= low <= high, not {self.frames}")
        for name, value in vars(self).items():
            if name.startswith("p_") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], not {value}")
        if self.families and not self.variety:
            raise ValueError("families can only be forced in the broad mix (variety=True)")
        if not 1 <= self.max_tumors <= 10:
            raise ValueError(f"max_tumors must be 1..10, not {self.max_tumors}")


def broad_options(**changes: object) -> SynthOptions:
    """The broad mix: every family of :mod:`training.synth.variety`, and the display
    variants (inverted, round collimator, text) more often than in the papers' cohort."""
    settings: dict[str, object] = {
        "variety": True,
        "p_inverted": 0.3,
        "p_round_collimator": 0.4,
        "p_text": 0.7,
    }
    settings.update(changes)
    return SynthOptions(**settings)  # type: ignore[arg-type]

"""How many millimetres a pixel spans in the patient, and where that figure came from.

An angiogram is a projection: the detector records the anatomy enlarged by the beam's
divergence, so DICOM's Imager Pixel Spacing (0018,1164), measured at the detector, overstates
every length by the magnification (typically 1.1-1.4). The calibration divides it by the
Estimated Radiographic Magnification Factor (0018,1114), or else by the ratio of the source
distances SID / SOD ((0018,1110) / (0018,1111)). Pixel Spacing (0028,0030) is already in the
patient and is used as it is. AVI and PNG runs carry no spacing at all: the user calibrates
them, by drawing across the catheter and giving its French size (1 Fr = 1/3 mm outer
diameter), or by typing the millimetres per pixel.

Every measurement shows :attr:`Calibration.label` beside it, so a reader knows whether a
length was corrected for magnification, read from a catheter, or typed in. A calibration a
person made is saved with the case (:func:`calibration_document`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsaviewer.errors import InputError

MM_PER_FRENCH = 1.0 / 3.0
# Catheters used in TACE run from 2 Fr microcatheters to 10 Fr guides; a wider range catches
# a typo (50 for 5.0) before it silently scales every measurement tenfold.
FRENCH_RANGE = (1.0, 12.0)
MM_PER_PX_RANGE = (0.01, 5.0)
_MAGNIFICATION_RANGE = (1.0, 3.0)


@dataclass(frozen=True)
class Calibration:
    """``mm_per_px`` (row, column) in the patient's plane as far as known, and ``source``,
    a short description of how it was found."""

    mm_per_px: tuple[float, float]
    source: str
    corrected: bool = True  # False: detector spacing without a magnification correction

    @property
    def label(self) -> str:
        """What to show beside a measurement: ``0.154 mm/px, DICOM imager spacing ÷ 1.20``."""
        row, col = self.mm_per_px
        value = f"{row:.3f}" if math.isclose(row, col) else f"{row:.3f} x {col:.3f}"
        return f"{value} mm/px, {self.source}"


def dicom_calibration(
    imager_spacing: tuple[float, float] | None,
    pixel_spacing: tuple[float, float] | None = None,
    magnification: float | None = None,
    source_to_detector: float | None = None,
    source_to_patient: float | None = None,
) -> Calibration | None:
    """The calibration a DICOM file's tags give (see the module text); None without any
    spacing. Implausible magnifications (outside 1-3) are ignored, not applied."""
    if imager_spacing is None:
        if pixel_spacing is None:
            return None
        return Calibration(_pair(pixel_spacing), "DICOM pixel spacing (patient plane)")
    factor, how = None, ""
    if magnification is not None and _plausible(magnification):
        factor, how = magnification, f"÷ magnification {magnification:.2f} (0018,1114)"
    elif source_to_detector and source_to_patient:
        ratio = source_to_detector / source_to_patient
        if _plausible(ratio):
            factor = ratio
            how = f"÷ SID/SOD {source_to_detector:.0f}/{source_to_patient:.0f} mm = {ratio:.2f}"
    row, col = _pair(imager_spacing)
    if factor is None:
        return Calibration((row, col), "DICOM imager spacing, not corrected for magnification",
                           corrected=False)
    return Calibration((row / factor, col / factor), f"DICOM imager spacing {how}")


def catheter_calibration(length_px: float, french: float) -> Calibration:
    """From a line drawn across a catheter of ``french`` size (outer diameter french / 3 mm)
    that spans ``length_px`` pixels. InputError for a size or length that cannot be one."""
    if not (FRENCH_RANGE[0] <= french <= FRENCH_RANGE[1]):
        raise InputError(f"{french:g} Fr is not a catheter size; allowed "
                         f"{FRENCH_RANGE[0]:g}-{FRENCH_RANGE[1]:g} Fr", "catheter size")
    if not (math.isfinite(length_px) and length_px >= 2):
        raise InputError("draw across the catheter's whole width (at least 2 pixels)",
                         "catheter line")
    diameter = french * MM_PER_FRENCH
    scale = diameter / length_px
    _check_scale(scale, "catheter line")
    return Calibration((scale, scale),
                       f"catheter {french:g} Fr ({diameter:.2f} mm) over {length_px:.1f} px")


def manual_calibration(mm_per_px: float) -> Calibration:
    """Millimetres per pixel as typed by the user."""
    _check_scale(mm_per_px, "mm per pixel")
    return Calibration((mm_per_px, mm_per_px), "entered by hand")


def calibration_document(calibration: Calibration) -> dict[str, Any]:
    """``calibration`` as JSON values, for the case's saved state."""
    return {"mm_per_px": [float(value) for value in calibration.mm_per_px],
            "source": calibration.source, "corrected": calibration.corrected}


def calibration_from_document(value: Any, where: str | Path) -> Calibration:
    """The calibration :func:`calibration_document` wrote. InputError naming ``where`` (the
    file it was read from) when the entry is malformed or its scale out of range."""
    if not isinstance(value, dict):
        raise InputError("the 'calibration' entry must hold mm_per_px, source and corrected",
                         where)
    pair, source, corrected = value.get("mm_per_px"), value.get("source"), value.get("corrected")
    numbers = isinstance(pair, list) and len(pair) == 2 and all(
        isinstance(number, int | float) and not isinstance(number, bool) for number in pair)
    if not numbers:
        raise InputError(f"the calibration's mm_per_px must be two numbers, not "
                         f"{_shown(pair)}", where)
    if not isinstance(source, str) or not 0 < len(source) <= 200:
        raise InputError("the calibration's source must be a short text", where)
    if not isinstance(corrected, bool):
        raise InputError(f"the calibration's corrected must be true or false, not "
                         f"{_shown(corrected)}", where)
    try:
        scales = (float(pair[0]), float(pair[1]))  # OverflowError: an integer beyond floats
        for scale in scales:
            _check_scale(scale, "mm per pixel")
    except OverflowError as error:
        raise InputError("the calibration's mm_per_px are out of range", where) from error
    except InputError as error:
        raise InputError(f"the calibration: {error.reason}", where) from error
    return Calibration(scales, source, corrected)


def _shown(value: Any) -> str:
    """``value`` as a message shows it: a damaged file may hold a megabyte in one entry."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_scale(scale: float, source: str) -> None:
    low, high = MM_PER_PX_RANGE
    if not (math.isfinite(scale) and low <= scale <= high):
        raise InputError(f"{scale:.4g} mm per pixel is outside {low}-{high}", source)


def _plausible(factor: float) -> bool:
    return math.isfinite(factor) and _MAGNIFICATION_RANGE[0] <= factor <= _MAGNIFICATION_RANGE[1]


def _pair(values: tuple[float, float]) -> tuple[float, float]:
    return float(values[0]), float(values[1])

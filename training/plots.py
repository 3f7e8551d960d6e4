"""ROC and calibration plots as PNG, drawn with OpenCV (matplotlib is not a dependency).

Both plots share unit axes [0, 1] x [0, 1] with a grid every 0.2, the diagonal (chance for
ROC, perfect calibration for the reliability diagram) and a legend in the lower right.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from dsaviewer.core.metrics_classification import CalibrationBins, RocCurve
from dsaviewer.io.writers import replace_atomically

SIZE = 640
_MARGIN_LEFT, _MARGIN_BOTTOM, _MARGIN_TOP, _MARGIN_RIGHT = 80, 70, 50, 30
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BLACK, _GREY, _LIGHT = (0, 0, 0), (128, 128, 128), (225, 225, 225)
# BGR: blue, orange, green, red, purple (the usual qualitative palette).
COLOURS = ((180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148))


class _Axes:
    def __init__(self, title: str, x_label: str, y_label: str) -> None:
        self.image = np.full((SIZE, SIZE, 3), 255, np.uint8)
        self.x0, self.x1 = _MARGIN_LEFT, SIZE - _MARGIN_RIGHT
        self.y0, self.y1 = SIZE - _MARGIN_BOTTOM, _MARGIN_TOP  # y0 is the bottom (value 0)
        for tick in np.linspace(0.0, 1.0, 6):
            x, y = self.point(tick, tick)
            cv2.line(self.image, (x, self.y0), (x, self.y1), _LIGHT, 1, cv2.LINE_AA)
            cv2.line(self.image, (self.x0, y), (self.x1, y), _LIGHT, 1, cv2.LINE_AA)
            self.text(f"{tick:.1f}", (x - 12, self.y0 + 22), 0.45)
            self.text(f"{tick:.1f}", (self.x0 - 38, y + 5), 0.45)
        cv2.rectangle(self.image, (self.x0, self.y1), (self.x1, self.y0), _BLACK, 1)
        self.text(title, (self.x0, _MARGIN_TOP - 18), 0.6, 2)
        self.text(x_label, ((self.x0 + self.x1) // 2 - 6 * len(x_label) // 2, SIZE - 22), 0.5)
        label = np.full((30, 8 * len(y_label) + 20, 3), 255, np.uint8)
        cv2.putText(label, y_label, (5, 20), _FONT, 0.5, _BLACK, 1, cv2.LINE_AA)
        rotated = cv2.rotate(label, cv2.ROTATE_90_COUNTERCLOCKWISE)
        top = max(0, (self.y0 + self.y1) // 2 - rotated.shape[0] // 2)
        height = min(rotated.shape[0], SIZE - top)
        self.image[top:top + height, 8:8 + rotated.shape[1]] = rotated[:height]
        self.legend_rows = 0

    def point(self, x: float, y: float) -> tuple[int, int]:
        return (int(round(self.x0 + x * (self.x1 - self.x0))),
                int(round(self.y0 - y * (self.y0 - self.y1))))

    def polyline(self, xs: np.ndarray, ys: np.ndarray, colour: tuple[int, int, int],
                 thickness: int = 2) -> None:
        points = np.array([self.point(x, y) for x, y in zip(xs, ys, strict=True)], np.int32)
        cv2.polylines(self.image, [points], False, colour, thickness, cv2.LINE_AA)

    def dashed_diagonal(self) -> None:
        for start in np.arange(0.0, 1.0, 0.04):
            cv2.line(self.image, self.point(start, start), self.point(start + 0.02, start + 0.02),
                     _GREY, 1, cv2.LINE_AA)

    def text(self, text: str, origin: tuple[int, int], scale: float, thickness: int = 1,
             colour: tuple[int, int, int] = _BLACK) -> None:
        cv2.putText(self.image, text, origin, _FONT, scale, colour, thickness, cv2.LINE_AA)

    def legend(self, text: str, colour: tuple[int, int, int] | None) -> None:
        """One legend row, stacked upwards from the lower right; no line when no colour."""
        y = self.y0 - 18 - 24 * self.legend_rows
        x = self.x1 - 330
        if colour is not None:
            cv2.line(self.image, (x, y - 5), (x + 30, y - 5), colour, 3, cv2.LINE_AA)
        self.text(text, (x + 40, y), 0.5)
        self.legend_rows += 1

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        with replace_atomically(target) as temporary:
            if not cv2.imwrite(str(temporary), self.image):
                raise OSError(f"OpenCV could not write {target}")
        return target


def draw_roc(
    path: str | Path,
    curves: Sequence[tuple[str, RocCurve, float]],
    bayes_auc: float | None = None,
) -> Path:
    """ROC curves ``(name, curve, auc)`` as a PNG; the Bayes-optimal AUC noted if known."""
    axes = _Axes("ROC curve", "1 - specificity (false-positive rate)", "sensitivity")
    axes.dashed_diagonal()
    entries: list[tuple[str, tuple[int, int, int] | None]] = []
    for index, (name, curve, auc) in enumerate(curves):
        colour = COLOURS[index % len(COLOURS)]
        # One point per distinct score, so straight segments draw the empirical staircase
        # (a diagonal step only where scores tie across the classes).
        axes.polyline(curve.fpr, curve.tpr, colour)
        entries.append((f"{name}: AUC {auc:.3f}", colour))
    if bayes_auc is not None:
        entries.append((f"(Bayes-optimal AUC {bayes_auc:.3f})", None))
    for text, colour in reversed(entries):
        axes.legend(text, colour)
    return axes.save(path)


def draw_calibration(path: str | Path, models: Sequence[tuple[str, CalibrationBins]]) -> Path:
    """Reliability diagram: observed responder rate against mean predicted probability per
    bin, each bin a dot whose area follows its number of cases."""
    axes = _Axes("Calibration", "mean predicted probability", "observed responder rate")
    axes.dashed_diagonal()
    entries = []
    for index, (name, bins) in enumerate(models):
        colour = COLOURS[index % len(COLOURS)]
        used = bins.counts > 0
        if used.any():
            axes.polyline(bins.mean_predicted[used], bins.observed_rate[used], colour, 1)
            largest = bins.counts.max()
            for x, y, count in zip(bins.mean_predicted[used], bins.observed_rate[used],
                                   bins.counts[used], strict=True):
                radius = int(round(3 + 9 * np.sqrt(count / largest)))
                cv2.circle(axes.image, axes.point(x, y), radius, colour, -1, cv2.LINE_AA)
        ece = bins.expected_calibration_error if used.any() else float("nan")
        entries.append((f"{name}: ECE {ece:.3f}", colour))
    for text, colour in reversed(entries):
        axes.legend(text, colour)
    return axes.save(path)


"""The one-page case summary: key frame with overlays, lesion table, clinical values and the
response prediction, painted with QPainter on an A4 page (150 dpi) for a PNG file. Runs in a
worker: it only needs plain data and a QImage."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from dsaviewer.core.lesions import Lesion
from dsaviewer.gui.docks.lesion_table import COLUMNS, lesion_cells
from dsaviewer.gui.docks.response_panel import RESEARCH_NOTE, prediction_lines
from dsaviewer.inference.results import ResponsePrediction
from dsaviewer.io.clinical import CLINICAL_FIELDS, ClinicalVariables, format_value

PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi
_MARGIN = 60
_INK = QColor(20, 20, 20)
_MUTED = QColor(110, 110, 110)
_WARN = QColor(170, 95, 0)
_MAX_LESION_ROWS = 12


@dataclass(frozen=True)
class SummaryContent:
    title: str  # the case: folder or file name
    header: str  # patient and study line ("" when the file has none)
    image: QImage  # the key frame with overlays
    image_caption: str
    lesions: Sequence[Lesion]
    clinical: ClinicalVariables
    clinical_source: str
    prediction: ResponsePrediction | None
    prediction_state: str  # e.g. out of date; "" when current
    analysis_text: str  # device, time
    notes: Sequence[str]


def render_summary(content: SummaryContent) -> QImage:
    page = QImage(*PAGE_SIZE, QImage.Format.Format_RGB32)
    page.fill(QColor("white"))
    painter = QPainter(page)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    width = PAGE_SIZE[0] - 2 * _MARGIN
    y = float(_MARGIN)

    y = _text(painter, y, f"DSA case summary — {content.title}", 26, bold=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    y = _text(painter, y, f"{content.header}   ·   generated {stamp}".strip(" ·"), 14,
              color=_MUTED)
    y = _boxed_note(painter, y + 8, RESEARCH_NOTE, width)

    # Key frame on the left, prediction and clinical values on the right.
    side = 640
    target = QRectF(_MARGIN, y + 12, side, side)
    scaled = content.image.size().scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio)
    target.setSize(scaled.toSizeF())
    painter.drawImage(target, content.image)
    painter.setPen(QPen(_MUTED, 1))
    painter.drawRect(target)
    _text(painter, target.bottom() + 4, content.image_caption, 13, color=_MUTED)

    column_x = _MARGIN + side + 30
    column_w = width - side - 30
    right = _text(painter, y + 12, "TACE response (DSA-Net Model 2)", 17, bold=True, x=column_x)
    if content.prediction is None:
        right = _text(painter, right, "No prediction", 15, x=column_x)
    else:
        for number, line in enumerate(prediction_lines(content.prediction)):
            right = _text(painter, right, line, 15 if number == 0 else 13, bold=number == 0,
                          x=column_x, width=column_w)
    if content.prediction_state:
        right = _text(painter, right, content.prediction_state, 13, color=_WARN, x=column_x,
                      width=column_w)
    right = _text(painter, right + 16, f"Clinical variables ({content.clinical_source})", 17,
                  bold=True, x=column_x)
    for spec in CLINICAL_FIELDS:
        value = getattr(content.clinical, spec.name)
        if spec.kind == "choice" and value is not None:
            shown = spec.choice_labels[spec.choices.index(value)]
        else:
            text = format_value(spec, value)
            shown = f"{text} {spec.unit}".strip() if text else "missing"
        right = _pair(painter, right, spec.label, shown, column_x, column_w,
                      missing=value is None)

    y = max(target.bottom() + 30, right) + 16
    y = _text(painter, y, "Lesions", 17, bold=True)
    y = _lesion_table(painter, y, content.lesions, width)
    y = _text(painter, y + 12, content.analysis_text, 13, color=_MUTED)
    for note in content.notes:
        y = _text(painter, y, f"Note: {note}", 13, color=_WARN, width=width)
    painter.end()
    return page


def _font(size: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(size)
    font.setBold(bold)
    return font


def _text(
    painter: QPainter,
    y: float,
    text: str,
    size: int,
    bold: bool = False,
    color: QColor = _INK,
    x: float = _MARGIN,
    width: float = PAGE_SIZE[0] - 2 * _MARGIN,
) -> float:
    """Draw wrapped ``text`` at (x, y); return the y below it."""
    painter.setFont(_font(size, bold))
    painter.setPen(color)
    flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
    bounds = painter.boundingRect(QRectF(x, y, width, 10_000), flags, text)
    painter.drawText(bounds, flags, text)
    return bounds.bottom() + size * 0.35


def _pair(painter: QPainter, y: float, label: str, value: str, x: float, width: float,
          missing: bool) -> float:
    painter.setFont(_font(13))
    painter.setPen(_MUTED)
    painter.drawText(QRectF(x, y, width * 0.55, 20), Qt.AlignmentFlag.AlignLeft, label)
    painter.setPen(_MUTED if missing else _INK)
    painter.drawText(QRectF(x + width * 0.55, y, width * 0.45, 20), Qt.AlignmentFlag.AlignLeft,
                     value)
    return y + 21


def _boxed_note(painter: QPainter, y: float, text: str, width: float) -> float:
    painter.setFont(_font(14, bold=True))
    flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
    bounds = painter.boundingRect(QRectF(_MARGIN + 10, y + 8, width - 20, 1000), flags, text)
    box = QRectF(_MARGIN, y, width, bounds.height() + 16)
    painter.setPen(QPen(_WARN, 2))
    painter.setBrush(QColor(255, 244, 225))
    painter.drawRect(box)
    painter.setPen(_WARN)
    painter.drawText(bounds, flags, text)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    return box.bottom()


def _lesion_table(painter: QPainter, y: float, lesions: Sequence[Lesion], width: float) -> float:
    if not lesions:
        return _text(painter, y, "No lesion found (or no analysis yet).", 13, color=_MUTED)
    shares = (0.07, 0.14, 0.16, 0.18, 0.14, 0.31)
    lefts = [_MARGIN + width * sum(shares[:i]) for i in range(len(shares))]
    rows = [COLUMNS, *(lesion_cells(lesion) for lesion in lesions[:_MAX_LESION_ROWS])]
    for number, cells in enumerate(rows):
        painter.setFont(_font(13, bold=number == 0))
        flagged = number > 0 and lesions[number - 1].flagged
        painter.setPen(_WARN if flagged else _INK)
        for left, share, text in zip(lefts, shares, cells, strict=True):
            painter.drawText(QRectF(left, y, width * share, 20), Qt.AlignmentFlag.AlignLeft, text)
        y += 22
        if number == 0:
            painter.setPen(QPen(_MUTED, 1))
            painter.drawLine(QRectF(_MARGIN, y - 3, width, 0).topLeft(),
                             QRectF(_MARGIN, y - 3, width, 0).topRight())
    if len(lesions) > _MAX_LESION_ROWS:
        y = _text(painter, y, f"… and {len(lesions) - _MAX_LESION_ROWS} smaller lesions", 13,
                  color=_MUTED)
    return y

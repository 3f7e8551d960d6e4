"""Is this run inside the scope the models were made and validated for (hepatic DSA runs)?

One decision for the viewer, the command line and the packaged program, in two parts:

- **From the file, when it says so** (DICOM only; AVI and PNG carry no metadata): a Modality
  that is not angiography is *refused* (the file can be viewed, not analysed); body part,
  study, series and protocol descriptions that name another region, and a run stored
  unsubtracted, *flag* the case.
- **From the image, always**: the scope score of :mod:`dsaviewer.inference.scope_score`, the
  probability that the models' own outputs look like those of a hepatic DSA run.

A flagged case is analysed, and its result says it is out of scope with the reasons; a
refused case gets no result, only :class:`OutOfScopeError` with a one-line reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dsaviewer.errors import InputError
from dsaviewer.inference.results import ScopeDecision
from dsaviewer.io.dicom import MASK_FRAMES_KEY

# Modalities the models accept: X-ray angiography and radiofluoroscopy.
ANGIOGRAPHY_MODALITIES = ("XA", "RF")
# Other modalities by the name a clinician uses; these are refused.
OTHER_MODALITIES = {
    "US": "ultrasound",
    "IVUS": "intravascular ultrasound",
    "MR": "MR (magnetic resonance)",
    "CT": "CT",
    "CR": "plain radiograph (computed radiography)",
    "DX": "plain radiograph (digital X-ray)",
    "MG": "mammography",
    "NM": "nuclear medicine",
    "PT": "PET",
    "OCT": "optical coherence tomography",
    "OP": "ophthalmic photograph",
    "ES": "endoscopy",
    "XC": "photograph",
    "ECG": "ECG",
}
# The regions other than the liver that angiography is done for; a word stem (regular
# expression) per region, matched at the start of a word in upper case.
OTHER_REGIONS = {
    "heart / coronary arteries": r"CARDI|CORONAR|HEART|ECHOCARD|VENTRIC|MYOCARD|PTCA"
    r"|LAD\b|LCA\b|RCA\b",
    "head / cerebral arteries": r"HEAD\b|BRAIN|CEREBR|CAROTI|INTRACRAN|NEURO|SKULL|CRANI|VERTEBRAL",
    "peripheral arteries (limbs)": r"PERIPHER|LOWER LIMB|UPPER LIMB|LEG\b|LEGS\b|ARM\b|POPLIT"
    r"|TIBIA|EXTREMIT|RUN-?OFF|FOOT|HAND\b|KNEE",
    "kidneys / renal arteries": r"RENAL|KIDNEY|NEPHR",
}
# Words that name the liver or its treatment: a description naming these is not flagged for
# also naming another region (e.g. "TACE via the right femoral artery ... renal function").
LIVER_WORDS = r"LIVER|HEPAT|TACE|CHEMOEMBOL|HCC|CELIAC|COELIAC"
# The DICOM fields whose text names the region.
REGION_KEYWORDS = (
    "BodyPartExamined",
    "StudyDescription",
    "SeriesDescription",
    "ProtocolName",
    "PerformedProcedureStepDescription",
)


class OutOfScopeError(InputError):
    """The file is not something the models analyse (e.g. an ultrasound or MR file): no
    result is made. It can still be viewed."""


def file_scope(metadata: Mapping[str, str], source: object = None) -> list[str]:
    """The reasons the file's own metadata puts the run outside the models' scope (flags;
    empty when it says nothing against it). Raises :class:`OutOfScopeError` for a modality
    that is not angiography."""
    modality = metadata.get("Modality", "").strip().upper()
    if modality and modality not in ANGIOGRAPHY_MODALITIES:
        details = ", ".join([f"Modality {modality}", *_descriptions(metadata)])
        name = OTHER_MODALITIES.get(modality)
        what = f"{name} file ({details})" if name else f"file of {details}"
        raise OutOfScopeError(
            f"not analysed: this is {_article(what)} {what}, not an X-ray "
            "angiography run; the models analyse liver angiography (XA/RF) only. It can still "
            "be viewed.",
            None if source is None else str(source),
        )
    reasons = []
    region = other_region(metadata)
    if region is not None:
        region_name, field, text = region
        reasons.append(
            f"the file says it shows the {region_name} ({field} \"{text}\"), not the liver"
        )
    if needs_subtraction(metadata) and not mask_frames(metadata):
        reasons.append(
            "the run is stored unsubtracted (Recommended Viewing Mode SUB) and the file names "
            "no mask frames to subtract"
        )
    elif "NATIVE" in _words(metadata.get("ImageType", "")):
        reasons.append("the file says the run is not subtracted (Image Type NATIVE)")
    return reasons


def needs_subtraction(metadata: Mapping[str, str]) -> bool:
    """The file stores native frames and asks for them to be viewed subtracted."""
    return metadata.get("RecommendedViewingMode", "").strip().upper() == "SUB"


def mask_frames(metadata: Mapping[str, str]) -> list[int]:
    """The 0-based mask frames the file gives for subtraction (empty when none)."""
    text = metadata.get(MASK_FRAMES_KEY, "")
    return [int(number) - 1 for number in text.split("\\") if number.strip().isdigit()]


def other_region(metadata: Mapping[str, str]) -> tuple[str, str, str] | None:
    """(region, DICOM field, its text) for the first description naming a region other than
    the liver, None when none does or when the descriptions name the liver."""
    texts = [(key, metadata.get(key, "").strip()) for key in REGION_KEYWORDS]
    texts = [(key, text) for key, text in texts if text]
    if any(re.search(rf"\b(?:{LIVER_WORDS})", text.upper()) for _, text in texts):
        return None
    for key, text in texts:
        for region, pattern in OTHER_REGIONS.items():
            if re.search(rf"\b(?:{pattern})", text.upper()):
                return region, _spaced(key), text
    return None


def decide(
    file_reasons: list[str],
    score: float | None,
    threshold: float,
) -> ScopeDecision:
    """The case's scope: out of scope when the file or the image score says so."""
    reasons = list(file_reasons)
    if score is not None and score < threshold:
        reasons.append(
            "the image does not look like a liver angiography run (scope score "
            f"{score:.2f}, below {threshold:.2f})"
        )
    return ScopeDecision(
        in_scope=not reasons, score=score, reasons=tuple(reasons)
    )


def scope_document(scope: ScopeDecision | None) -> dict[str, Any] | None:
    """The decision as JSON (``result.json``'s and the saved analysis' ``scope``): in_scope,
    score (0..1, None when not scored), reasons; None when there is no decision."""
    if scope is None:
        return None
    return {
        "in_scope": scope.in_scope,
        "score": None if scope.score is None else round(scope.score, 4),
        "reasons": list(scope.reasons),
    }


def scope_from_document(document: Mapping[str, Any] | None) -> ScopeDecision | None:
    """:func:`scope_document`'s inverse; None for None (an analysis saved without one)."""
    if document is None:
        return None
    score = document["score"]
    return ScopeDecision(
        in_scope=bool(document["in_scope"]),
        score=None if score is None else float(score),
        reasons=tuple(map(str, document["reasons"])),
    )


def _descriptions(metadata: Mapping[str, str]) -> list[str]:
    texts = [metadata.get(key, "").strip() for key in ("StudyDescription", "SeriesDescription")]
    return [f'"{text}"' for text in texts if text]


def _article(text: str) -> str:
    return "an" if text[:1].lower() in "aeiou" or text[:2] in ("MR", "MG", "EC") else "a"


def _spaced(keyword: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", keyword)


def _words(text: str) -> set[str]:
    return set(re.split(r"[\\/,\s\[\]']+", text.upper())) - {""}

"""Saving a frame's corrected labels without changing what the person did not touch.

A frame's Labelme file may come from another tool, with hand-drawn polygons of a few dozen
corners and an image exported by that tool. Re-tracing every mask and re-encoding the frame
on each save would change both behind the person's back (thousand-corner outlines, an image
a few grey levels off). So a save:

- writes nothing when the masks and flags are what the file already holds;
- keeps every shape whose pixels still form one whole component of the corrected mask, as
  written (corners, label spelling, group ids, descriptions), and traces only the components
  that changed, with the fewest corners that keep IoU >= 0.99
  (:func:`dsaviewer.io.labelme.component_shapes`);
- keeps the file's own keys, its ``imagePath`` and the image file byte for byte; an image is
  written only for a frame that has none yet;
- writes the containing label's shapes before the contained ones, as labelme's converters
  need (see :mod:`dsaviewer.io.labelme`), and shapes it cannot edit (other labels, shapes
  without area) after them, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from dsaviewer.io.labelme import (
    LABELME_FORMAT_VERSION,
    LABELS,
    component_shapes,
    encode_png,
    read_labelme,
    read_labelme_json,
    shape_mask,
)
from dsaviewer.io.writers import replace_atomically


def save_labelme_changes(
    json_path: str | Path,
    image: np.ndarray,
    masks: Mapping[str, np.ndarray],
    flags: Mapping[str, bool],
    kept_shapes: Sequence[dict] = (),
) -> bool:
    """Bring the Labelme file ``json_path`` to ``masks`` (label -> ``(H, W)`` bool) and
    ``flags``, changing only what differs (see the module text). ``image`` is the frame,
    written as the PNG beside the JSON only when the file names no existing image.
    ``kept_shapes`` are the shapes the masks do not hold, written after them as given.

    Returns True when the file was written, False when it already held all of this.
    OSError when the folder cannot be written; InputError when the existing file cannot be
    read (it is then left alone).
    """
    target = Path(json_path)
    image = np.asarray(image)
    masks = {label: np.asarray(masks[label], dtype=bool) for label in LABELS if label in masks}
    flags = dict(flags)
    document = _existing_document(target)
    old_shapes: list[dict] = list(document["shapes"]) if document else []
    if document is not None:
        annotation = read_labelme(target)
        unchanged = (
            annotation.flags == flags
            and all(np.array_equal(annotation.masks[label], mask) for label, mask in masks.items())
            and not any(annotation.masks[label].any() for label in LABELS if label not in masks)
            and _foreign(old_shapes) == list(kept_shapes)
        )
        if unchanged:
            return False
    shapes: list[dict] = []
    for label in LABELS:
        if label in masks:
            mine = [s for s in old_shapes if _label_of(s) == label and _has_area(s)]
            shapes.extend(_label_shapes(label, masks[label], mine))
    shapes.extend(kept_shapes)

    image_file = target.with_suffix(".png")
    if document is None:
        document = {
            "version": LABELME_FORMAT_VERSION,
            "flags": {},
            "shapes": [],
            "imagePath": image_file.name,
            "imageData": None,
            "imageHeight": int(image.shape[0]),
            "imageWidth": int(image.shape[1]),
        }
    elif not _names_existing_image(document, target):
        document.update(imagePath=image_file.name, imageData=None)
    if document["imagePath"] == image_file.name and not image_file.exists():
        with replace_atomically(image_file) as temporary:
            temporary.write_bytes(encode_png(image))
    document["flags"] = flags
    document["shapes"] = shapes
    with replace_atomically(target) as temporary:
        temporary.write_text(
            json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return True


def _existing_document(path: Path) -> dict | None:
    if not path.exists():
        return None
    read_labelme(path)  # InputError for anything unreadable, before it is replaced
    return read_labelme_json(path)


def _names_existing_image(document: dict, path: Path) -> bool:
    name = document.get("imagePath")
    if isinstance(name, str) and name and (path.parent / name.replace("\\", "/")).is_file():
        return True
    return bool(document.get("imageData"))


def _label_of(shape: dict) -> str | None:
    label = shape.get("label")
    return label.strip().lower() if isinstance(label, str) else None


def _has_area(shape: dict) -> bool:
    return (shape.get("shape_type") or "polygon") in ("polygon", "rectangle", "circle", "mask")


def _foreign(shapes: list[dict]) -> list[dict]:
    return [s for s in shapes if not (_label_of(s) in LABELS and _has_area(s))]


def _label_shapes(label: str, mask: np.ndarray, old: list[dict]) -> list[dict]:
    """``mask`` as shapes: the old shapes of components nobody changed, in their order, then
    new outlines of the components that changed."""
    count, components = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    owners: dict[int, list[int]] = {}
    covered: dict[int, np.ndarray] = {}
    for number, shape in enumerate(old):
        pixels = shape_mask(shape, mask.shape)
        if pixels is None or not pixels.any() or (pixels & ~mask).any():
            continue  # changed: part of it was erased
        ids = np.unique(components[pixels])
        if len(ids) != 1:
            continue
        owners.setdefault(int(ids[0]), []).append(number)
        covered[int(ids[0])] = covered.get(int(ids[0]), np.zeros_like(mask)) | pixels
    whole = {c for c in owners if np.array_equal(covered[c], components == c)}
    kept_numbers = sorted(n for c in whole for n in owners[c])
    shapes = [old[n] for n in kept_numbers]
    for component in range(1, count):
        if component not in whole:
            shapes.extend(component_shapes(label, components == component))
    return shapes

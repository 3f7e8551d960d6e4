"""The hand-corrected masks of a video, frame by frame, as the mask editor holds them.

A frame is *annotated* once it has a label file or has been edited; only annotated frames
hold masks (two bool images each), so a 200-frame run costs memory for the few frames a
person actually labels. Loading reads the frames' Labelme files and explains every file or
shape it could not use instead of skipping it silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.frame_labels import PREDICTION_FLAG, frame_label_files, read_frame_labels
from dsaviewer.io.labelme import KEY_FRAME_FLAG, LABELS


@dataclass
class FrameAnnotation:
    """One frame's editable masks (label -> (H, W) bool, changed in place by the editor) and
    what its Labelme file held besides them, to be written back when the frame is saved."""

    masks: dict[str, np.ndarray]
    flags: dict[str, bool] = field(default_factory=dict)
    kept_shapes: tuple[dict, ...] = ()
    label_file: Path | None = None  # the file it was read from, None for a new frame

    def is_empty(self) -> bool:
        return not any(mask.any() for mask in self.masks.values())

    def copy_masks(self) -> dict[str, np.ndarray]:
        return {label: mask.copy() for label, mask in self.masks.items()}

    def flags_to_save(self, is_key_frame: bool) -> dict[str, bool]:
        """The flags a save writes: the file's own, the key frame as it is now, and no
        ``model_prediction``: a person has checked what they save."""
        flags = {k: v for k, v in self.flags.items() if k not in (KEY_FRAME_FLAG, PREDICTION_FLAG)}
        flags[KEY_FRAME_FLAG] = bool(is_key_frame)
        return flags


class AnnotationStore:
    """The annotated frames of one video of ``frame_count`` frames of ``frame_shape``."""

    def __init__(self, frame_count: int, frame_shape: tuple[int, int]) -> None:
        if frame_count < 1 or len(frame_shape) != 2 or min(frame_shape) < 1:
            raise ValueError(f"need >= 1 frame of a 2-D shape, not {frame_count} x {frame_shape}")
        self.frame_count = int(frame_count)
        self.frame_shape = (int(frame_shape[0]), int(frame_shape[1]))
        self._frames: dict[int, FrameAnnotation] = {}

    def get(self, frame: int) -> FrameAnnotation | None:
        return self._frames.get(self._checked(frame))

    def ensure(self, frame: int) -> FrameAnnotation:
        """The frame's annotation, created empty when it has none yet."""
        frame = self._checked(frame)
        if frame not in self._frames:
            self._frames[frame] = FrameAnnotation(
                {label: np.zeros(self.frame_shape, bool) for label in LABELS}
            )
        return self._frames[frame]

    def put(self, frame: int, annotation: FrameAnnotation) -> None:
        for label in LABELS:
            mask = annotation.masks.get(label)
            if mask is None or mask.shape != self.frame_shape or mask.dtype != bool:
                raise ValueError(f"frame {frame}: mask {label!r} must be {self.frame_shape} bool")
        self._frames[self._checked(frame)] = annotation

    def frames(self) -> list[int]:
        """The annotated frames, in order."""
        return sorted(self._frames)

    def __contains__(self, frame: object) -> bool:
        return frame in self._frames

    def _checked(self, frame: int) -> int:
        if not 0 <= frame < self.frame_count:
            raise IndexError(f"frame {frame} is outside 0..{self.frame_count - 1}")
        return int(frame)


@dataclass(frozen=True)
class LoadedAnnotations:
    """What :func:`load_annotations` found: the store, and one line per thing the user should
    know (an unreadable file, a label or shape the editor keeps but cannot edit)."""

    store: AnnotationStore
    problems: tuple[str, ...]
    unchecked_predictions: tuple[int, ...]  # frames whose masks are unchecked model output


def load_annotations(
    labels_dir: str | Path, frame_count: int, frame_shape: tuple[int, int]
) -> LoadedAnnotations:
    """Read every ``NNNN.json`` of ``labels_dir`` into a store for a video of ``frame_count``
    frames of ``frame_shape``. Files that do not fit the video are reported, not loaded."""
    store = AnnotationStore(frame_count, frame_shape)
    problems: list[str] = []
    unchecked: list[int] = []
    for frame, path in frame_label_files(labels_dir).items():
        if frame >= frame_count:
            problems.append(f"{path}: frame {frame} is beyond the video's {frame_count} frames")
            continue
        try:
            labels = read_frame_labels(path)
        except InputError as error:
            problems.append(str(error))
            continue
        annotation = labels.annotation
        if annotation.image_shape != store.frame_shape:
            problems.append(
                f"{path}: the labels are for a {annotation.image_shape[1]}x"
                f"{annotation.image_shape[0]} image, the video's frames are "
                f"{frame_shape[1]}x{frame_shape[0]}"
            )
            continue
        if annotation.unknown_labels:
            names = ", ".join(repr(label) for label in annotation.unknown_labels)
            problems.append(
                f"{path}: label(s) {names} are not tumor/liver; they are kept, not editable"
            )
        for shape in annotation.unsupported_shapes:
            problems.append(f"{path}: {shape}; it is kept, not editable")
        if labels.is_prediction:
            unchecked.append(frame)
        store.put(
            frame,
            FrameAnnotation(
                masks={label: annotation.masks[label] for label in LABELS},
                flags=dict(annotation.flags),
                kept_shapes=labels.kept_shapes,
                label_file=path,
            ),
        )
    return LoadedAnnotations(store, tuple(problems), tuple(unchecked))

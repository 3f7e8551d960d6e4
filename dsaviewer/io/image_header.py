"""A cheap look at a still image's header (PNG, JPEG, TIFF, BMP) before OpenCV decodes it.

OpenCV allocates what the header declares; a damaged 60000×60000 header would ask for
gigabytes. Pillow reads only the header on open, so the size is checked first.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from dsaviewer.errors import InputError
from dsaviewer.io.limits import MAX_IMAGE_SIDE, check_frame_size


def check_image_header(data: np.ndarray | bytes, source: str | Path) -> None:
    """Refuse an image whose header declares a size beyond
    :data:`~dsaviewer.io.limits.MAX_IMAGE_SIDE`. Formats Pillow does not know are left to the
    decoder, which refuses them or applies its own limit."""
    buffer = io.BytesIO(data.tobytes() if isinstance(data, np.ndarray) else data)
    try:
        with warnings.catch_warnings():
            # Pillow warns (or raises, far above) for "decompression bombs"; our limit decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(buffer) as image:
                width, height = image.size
    except Image.DecompressionBombError as error:
        raise InputError(
            "its header declares an image of hundreds of millions of pixels; frames must be "
            f"1 to {MAX_IMAGE_SIDE} pixels a side",
            source,
        ) from error
    except Exception:  # noqa: BLE001 - not an image Pillow knows; the decoder decides
        return
    check_frame_size(height, width, source)

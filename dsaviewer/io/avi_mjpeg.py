"""Motion-JPEG AVI files (AVI 1.0, one video stream, an ``idx1`` index) from grey frames.

Each frame is a greyscale baseline JPEG encoded by libjpeg (OpenCV's ``imencode``); the
container is written here. OpenCV's own MJPEG writer encodes three colour channels made from
the one grey channel, with its own encoder (11 ms a 1021 x 788 frame against 3-4 ms); it
rounds the frame rate to an integer and, in grey mode, writes files that do not read back.
FFmpeg's writer crops odd frame sizes to even ones.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

# libjpeg at 96 reads back closer to the frames (RMS 0.98 grey levels on a generated run)
# than OpenCV's MJPEG encoder at its 95 did (1.05), in files 1 % larger.
JPEG_QUALITY = 96
# RIFF sizes are 32-bit; readers that take them as signed stop at 2 GiB.
MAX_FILE_BYTES = 2**31 - 1

_AVIF_HASINDEX = 0x10
_AVIIF_KEYFRAME = 0x10
_FRAME_CHUNK = b"00dc"


def encode_jpeg_frames(frames: np.ndarray, quality: int = JPEG_QUALITY) -> list[bytes]:
    """``(T, H, W)`` uint8 frames -> one greyscale JPEG each."""
    encoded = []
    for frame in frames:
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise OSError("OpenCV could not encode a JPEG frame")
        encoded.append(data.tobytes())
    return encoded


def mjpeg_avi_bytes(jpegs: list[bytes], width: int, height: int, fps: float) -> bytes:
    """The AVI file holding ``jpegs`` as its frames at exactly ``fps`` (kept as a fraction:
    DSA's common 7.5 frames/s stays 7.5). ValueError for a file over :data:`MAX_FILE_BYTES`."""
    needed = 256 + sum(len(jpeg) + len(jpeg) % 2 + 24 for jpeg in jpegs)  # headers, index
    if needed > MAX_FILE_BYTES:
        raise ValueError(
            f"{len(jpegs)} frames of {width} x {height} need about {needed:,} bytes, more than "
            "an AVI file can hold (2 GiB): write a DICOM file or a frame folder instead"
        )
    rate = Fraction(fps).limit_denominator(10_000)
    largest = max((len(jpeg) for jpeg in jpegs), default=0)
    movi = bytearray(b"movi")
    index = bytearray()
    for jpeg in jpegs:
        offset = len(movi)  # from the 'movi' type, as the AVI 1.0 index counts
        movi += _chunk(_FRAME_CHUNK, jpeg)
        index += struct.pack("<4sIII", _FRAME_CHUNK, _AVIIF_KEYFRAME, offset, len(jpeg))
    stream_header = struct.pack(
        "<4s4sIHHIIIIIIIIhhhh", b"vids", b"MJPG", 0, 0, 0, 0, rate.denominator,
        rate.numerator, 0, len(jpegs), largest, 0xFFFFFFFF, 0, 0, 0, width, height,
    )
    stream_format = struct.pack(  # BITMAPINFOHEADER
        "<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0
    )
    main_header = struct.pack(
        "<IIIIIIIIII16x", round(1e6 / fps), int(largest * fps) + 1, 0, _AVIF_HASINDEX,
        len(jpegs), 0, 1, largest, width, height,
    )
    header_list = _list(b"hdrl", _chunk(b"avih", main_header)
                        + _list(b"strl", _chunk(b"strh", stream_header)
                                + _chunk(b"strf", stream_format)))
    body = b"AVI " + header_list + _chunk(b"LIST", bytes(movi)) + _chunk(b"idx1", bytes(index))
    return _chunk(b"RIFF", body)


def write_mjpeg_avi(path: Path, frames: np.ndarray, fps: float) -> None:
    """Write ``(T, H, W)`` uint8 ``frames`` to ``path`` (not atomically: see ``write_avi``)."""
    _, height, width = frames.shape
    path.write_bytes(mjpeg_avi_bytes(encode_jpeg_frames(frames), width, height, fps))


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    padding = b"\0" if len(data) % 2 else b""
    return fourcc + struct.pack("<I", len(data)) + data + padding


def _list(kind: bytes, data: bytes) -> bytes:
    return _chunk(b"LIST", kind + data)

"""The Labelme file format as this program reads and writes it: the labels, the key-frame
flag and the labelme release the files are checked against."""

from __future__ import annotations

LABELS = ("liver", "tumor")  # the containing label first: shapes are written in this order
KEY_FRAME_FLAG = "key_frame"
# The labelme release whose reader our compatibility tests load these files with.
LABELME_FORMAT_VERSION = "5.9.1"

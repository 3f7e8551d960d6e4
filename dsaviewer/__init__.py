"""DSA Viewer: liver DSA review, segmentation and TACE response prediction."""

__version__ = "0.1.0"

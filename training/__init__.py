"""Builds the viewer's weights: synthetic DSA data, datasets, training loops, evaluation.

Reuses ``dsaviewer.models``, ``dsaviewer.core`` and ``dsaviewer.io``; the viewer never
imports this package."""

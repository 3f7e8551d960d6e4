"""Parametric DSA in the viewer: the colour-coded map, regions of interest, time-density
curves, and the side-by-side comparison of two runs."""

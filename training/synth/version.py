"""Which generator wrote a dataset.

A dataset is reproducible from (seed, case indices, options) only while the generator draws
and renders the same way. Every dataset's synth.json records GENERATOR_VERSION, so a set made
again from its recipe (``python -m training datasets``) is known to hold the cases of the set
a result was measured on, or known not to. tests/synth/fingerprints.json holds fingerprints of
small cases (tolerant of the last-bit float differences between CPUs); when a change makes
tests/test_synth_version.py fail, the generator writes other cases: set this to the date of
that change and rewrite them (``python tests/test_synth_version.py``).
"""

# 2026-12-08: the cases are 2026-12-07's; their AVI files are encoded by libjpeg (greyscale,
# quality 96) instead of OpenCV's MJPEG encoder, so about half the pixels of a frame decode a
# grey level or a few away from before.
GENERATOR_VERSION = "2026-12-08"

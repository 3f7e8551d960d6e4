"""numpy/OpenCV algorithms: preprocessing, key frame, frame difference, lesions, metrics.

Imports neither Qt nor torch."""

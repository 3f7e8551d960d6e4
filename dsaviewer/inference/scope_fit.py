"""The fitted scope score (written by ``python -m training fit-scope``; do not edit by hand)."""

FEATURES = ()
MEAN = ()
SCALE = ()
COEFFICIENTS = ()
INTERCEPT = 0.0
THRESHOLD = 0.0
FITTED_ON = "not fitted"

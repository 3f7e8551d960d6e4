"""The side panels shown in docks: the analysis (with its lesion table), the TACE response
and the clinical values."""

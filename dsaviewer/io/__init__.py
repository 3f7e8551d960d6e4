"""Readers and writers: video sources, Labelme JSON, clinical tables, case folders.

Imports neither Qt nor torch."""

"""Exports to PNG: a frame as shown with its overlays, and the one-page case summary."""

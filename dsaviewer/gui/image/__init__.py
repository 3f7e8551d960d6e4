"""The image: the frame view with its view box (pan, zoom, window/level), scale bar and legend."""

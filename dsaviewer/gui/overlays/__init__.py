"""The overlays on the image: the layers drawn, the panel that switches them, and the
controller that keeps the two in step."""

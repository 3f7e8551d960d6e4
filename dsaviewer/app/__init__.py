"""The Qt-free application model: the open case and what is known about it, which views show."""

"""Cine playback: the timer that advances frames, the transport bar and the timeline."""

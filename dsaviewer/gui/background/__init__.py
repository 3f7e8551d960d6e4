"""Work off the UI thread: the worker helper, the analysis runner, and the probe of the
event loop's responsiveness."""

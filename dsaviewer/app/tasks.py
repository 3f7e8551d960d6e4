"""How the application model's controllers get work done off the UI thread without knowing
Qt: they are given a ``submit(work, on_done, on_error)`` function. The viewer passes its
worker pool's (``gui.background.workers.run_in_background``); scripts and tests may pass
:func:`run_now`."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

Work = Callable[[], Any]
OnDone = Callable[[Any], None]
OnError = Callable[[Exception, str], None]
Submit = Callable[[Work, OnDone, OnError], None]


def run_now(work: Work, on_done: OnDone, on_error: OnError) -> None:
    """Run ``work`` here and now, then ``on_done(result)`` or ``on_error(error, trace)``."""
    try:
        result = work()
    except Exception as error:  # noqa: BLE001 - handed to on_error, as a worker would
        on_error(error, traceback.format_exc())
        return
    on_done(result)

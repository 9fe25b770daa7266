"""SIGINT and SIGTERM stop a run the same way: the current scenario ends, reports of what ran are written.

CI cancellation, ``timeout`` and container stops send SIGTERM, which by default kills the process
before any report exists. While :func:`stop_on_signals` is active both signals raise
``KeyboardInterrupt`` in the main thread (behave and the fuzzer already stop cleanly on that)
and the first signal's number is kept, so the command can exit with 128 + that number.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class StopSignal:
    """The signal that stopped the run (0 while none has)."""

    number: int = 0

    @property
    def name(self) -> str:
        return signal.Signals(self.number).name if self.number else ""

    def reason(self) -> str:
        return f"interrupted by {self.name}" if self.number else ""


_current: StopSignal | None = None


def current() -> StopSignal | None:
    """The active stop signal holder (for code deep in a run that needs to know why it was interrupted)."""
    return _current


@contextmanager
def stop_on_signals() -> Iterator[StopSignal]:
    """Turn SIGINT and SIGTERM into ``KeyboardInterrupt`` once; later signals are ignored while the
    run winds down (the reports are being written). Outside the main thread: nothing is installed."""
    global _current
    stop = StopSignal()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.number:
            return  # already stopping: let the reports be written
        stop.number = signum
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in _SIGNALS}
    _current = stop
    try:
        yield stop
    finally:
        _current = None
        for sig, old in previous.items():
            signal.signal(sig, old)

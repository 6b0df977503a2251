"""Clocks the drivers can be given: the real monotonic one, or a virtual one for tests and
simulation that only moves when told to (so timing rules are tested deterministically and
simulations run faster than real time)."""

from __future__ import annotations

import threading
import time


class VirtualClock:
    """A monotonic clock that advances only through :meth:`advance` or :meth:`sleep`.

    Call the instance to read it (it is a drop-in for ``time.monotonic``). ``sleep`` advances the
    clock instead of waiting, so a reader that polls with short sleeps runs at full speed.
    Thread-safe: several simulated devices may share one clock.
    """

    def __init__(self, start: float = 0.0):
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds})")
        with self._lock:
            self._now += seconds
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance instead of waiting."""
        self.advance(max(0.0, seconds))


def real_clock() -> float:
    """The real monotonic clock, in seconds (``time.monotonic``)."""
    return time.monotonic()


def real_sleep(seconds: float) -> None:
    """Really wait (``time.sleep``)."""
    time.sleep(seconds)

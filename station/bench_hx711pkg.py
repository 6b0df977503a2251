"""The ``hx711`` PyPI package measured as the peer in ``gym-station bench``.

The four identical simulated chips of :mod:`station.bench_chips` convert at 80 SPS, each on its
own PD_SCK (the package drives one chip per clock line), and are read in real time through the
package via the RPi.GPIO shim, round robin with the package's public ``get_raw_data`` (its
smallest batch, 2 words), as a user of the package would. Every word is checked and timed by
:class:`~station.bench_chips.WordTally`, exactly as the project's reader's are.

The package has no deadline: its constructor and ``get_raw_data`` wait for ever on a chip that
does not answer, and a chip the package left half-way through a word (its 60 us check abandons
a word mid-shift) may never answer again. So the package runs under a guard from its first call:
its ``time`` module is replaced by :class:`_GuardedTime`, which gives up on a call (building one
sensor: :data:`SETUP_HANG_S`; one ``get_raw_data``: :data:`HANG_S` and not before the window
ends) in any ``sleep`` or ``perf_counter`` the package makes, and every loop in the package
makes one. A run therefore always ends. A call given up on is a *hung read*, counted (and when
it began); the words after it are missed, within the same window as the reader's, never more.

Whether the package hangs depends on how the simulated chip models a read abandoned mid-word (it
waits for the rest of the word for ever; the datasheet is silent): see the README's Performance.
:func:`measure_hx711pkg_bank` measures the same chips through
:class:`~drivers.hx711_pypi.HX711PkgBank` (the package wrapped with its own deadline).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from drivers.errors import HardwareError
from drivers.hx711_pypi import HX711PkgBank, import_hx711
from drivers.mock_hx711 import new_mock_factory
from drivers.mock_rpigpio import installed_rpigpio

from .bench_chips import MAX_SECONDS, WordTally, build_chips

CLOCK_PINS = (5, 19, 20, 21)
DATA_PINS = (6, 13, 16, 26)
#: Words per get_raw_data call: the package's minimum.
BATCH = 2
#: A get_raw_data call still running this long after it began (and after the window) is hung:
#: at 80 SPS two words take 25 ms, and the package's slowest honest path (40 polls of 10 ms,
#: then a retry) well under a second.
HANG_S = 1.0
#: Building one sensor reads a word and sleeps 0.5 s twice (about 1 s, 1.8 s at worst); one still
#: being built after this long is hung.
SETUP_HANG_S = 3.0


def measure_hx711pkg(seconds: float = 3.0, *, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep,
                     perf_counter: Callable[[], float] = time.perf_counter) -> dict:
    """Read the four chips for ``seconds`` (on ``clock``) through the hx711 package.

    Returns ``capture_ratio_80sps_4chips_hx711pkg`` and the ``hx711pkg_*`` figures of
    :meth:`~station.bench_chips.WordTally.figures`.
    ``sleep`` and ``perf_counter`` are what the package gets as its ``time`` (a VirtualClock's
    for a deterministic run).
    """

    def read_with_package(hx711, chips, tally):
        guard = _GuardedTime(clock, sleep, perf_counter)
        started = None
        real_time = hx711.time
        hx711.time = guard
        try:
            sensors = []
            for chip in chips:
                guard.arm(clock() + SETUP_HANG_S)
                sensors.append(hx711.HX711(chip.data_pin_number, chip.clock_pin_number,
                                           gain=128))
            guard.disarm()
            tally.open(seconds)
            while tally.wants_more():
                for k, sensor in enumerate(sensors):
                    if not tally.wants_more(k):
                        continue
                    started = clock()
                    guard.arm(max(tally.end, started + HANG_S))
                    words = sensor.get_raw_data(times=BATCH)
                    guard.disarm()
                    tally.add(k, words)
        except _PackageHung:
            tally.hang(started if tally.opened else None)
        finally:
            hx711.time = real_time

    return _measure(seconds, read_with_package, "hx711pkg", clock)


def measure_hx711pkg_bank(seconds: float = 3.0) -> dict:
    """The same four chips read through :class:`drivers.hx711_pypi.HX711PkgBank` (the package
    wrapped with its own ready polling and deadline), for comparison with the bare package."""

    def read_with_bank(hx711, chips, tally):
        with HX711PkgBank([c.clock_pin_number for c in chips],
                          [c.data_pin_number for c in chips]) as bank:
            tally.open(seconds)
            while tally.wants_more():
                try:
                    words = bank.read(timeout=0.5)
                except HardwareError:  # counted and reported, as the sampler would carry on
                    tally.errors += 1
                    continue
                for k, word in enumerate(words):
                    tally.add(k, (word,))

    return _measure(seconds, read_with_bank, "hx711pkg_bank", time.monotonic)


class _PackageHung(Exception):
    """A call into the package ran past its limit: it was waiting for a word that never came."""


class _GuardedTime:
    """The package's ``time``: ``sleep`` and ``perf_counter`` as given, except that once armed
    either raises :class:`_PackageHung` when ``clock`` has passed the armed limit. The package
    calls one of them in every loop (polling DOUT, timing each PD_SCK pulse)."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None],
                 perf_counter: Callable[[], float]):
        self._clock = clock
        self._sleep = sleep
        self._perf_counter = perf_counter
        self.limit: float | None = None

    def arm(self, limit: float) -> None:
        self.limit = limit

    def disarm(self) -> None:
        self.limit = None

    def _check(self) -> None:
        if self.limit is not None and self._clock() > self.limit:
            self.limit = None
            raise _PackageHung

    def sleep(self, seconds: float) -> None:
        self._check()
        self._sleep(seconds)

    def perf_counter(self) -> float:
        self._check()
        return self._perf_counter()


def _measure(seconds: float, read: Callable, name: str, clock: Callable[[], float]) -> dict:
    """Build the chips, let ``read(hx711, chips, tally)`` read them, score what it returned."""
    if not 0.5 <= seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be between 0.5 and {MAX_SECONDS:g}, not {seconds!r}")
    factory = new_mock_factory()
    chips, origin = build_chips(factory, CLOCK_PINS, DATA_PINS, clock)
    tally = WordTally(origin, clock, chips)
    try:
        with installed_rpigpio(factory):
            read(import_hx711(), chips, tally)
        if not tally.opened:    # hung while being set up: the whole window is missed
            tally.open(seconds)
        figures = tally.figures(name, f"capture_ratio_80sps_4chips_{name}")
    finally:
        for chip in chips:
            chip.close()
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(measure_hx711pkg() | measure_hx711pkg_bank(), indent=2))

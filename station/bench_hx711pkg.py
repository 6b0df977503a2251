"""The ``hx711`` PyPI package measured as the peer in ``gym-station bench``.

Four simulated HX711s (``drivers.mock_hx711``) convert at 80 SPS on the real clock, each on its
own PD_SCK, and are read in real time through the package via the RPi.GPIO shim, round robin with
the package's public ``get_raw_data`` (its smallest batch, 2 words), as a user of the package
would. Each chip's input is a time stamp (its conversion instant, in 0.1 ms counts), so every word
returned says when it was converted: its latency is the time it was returned minus that instant.
A word that does not decode to a time in the last second is a bad word the reader let through
(an unsettled word after a power-down: the "random spike"); it is counted, not timed.

``get_raw_data`` has no deadline, and a chip the package left half-way through a word can keep
it waiting for ever; the bench gives up one second after the end and counts a hung read.
:func:`measure_hx711pkg_bank` measures the same through :class:`~drivers.hx711_pypi.HX711PkgBank`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from drivers.errors import HardwareError
from drivers.hx711_pypi import HX711PkgBank, import_hx711
from drivers.mock_hx711 import MockHX711, new_mock_factory
from drivers.mock_rpigpio import installed_rpigpio

RATE_HZ = 80.0
CLOCK_PINS = (5, 19, 20, 21)
DATA_PINS = (6, 13, 16, 26)
#: Counts per second of the time stamp each chip converts (0.1 ms resolution).
STAMP_PER_S = 10_000
#: Words per get_raw_data call: the package's minimum.
BATCH = 2
#: How long after the end the package may still wait for a word before it is declared hung.
HANG_GRACE_S = 1.0


def measure_hx711pkg(seconds: float = 3.0) -> dict:
    """Read four 80 SPS chips for ``seconds`` of real time through the hx711 package.

    Returns ``capture_ratio_80sps_4chips_hx711pkg`` (the worst chip's good words returned /
    words converted), the word latency percentiles ``hx711pkg_word_latency_ms_p50``/``_p99``
    (None when no word came back to be timed) over ``hx711pkg_words_timed`` words,
    ``hx711pkg_hung_reads``, ``hx711pkg_bad_words_returned`` and ``hx711pkg_read_errors``.
    """

    def read_with_package(hx711, chips, record, end):
        sensors = [hx711.HX711(chip.data_pin_number, chip.clock_pin_number, gain=128)
                   for chip in chips]
        record.start()
        real_time = hx711.time
        hx711.time = _GuardedTime(lambda: end() + HANG_GRACE_S)
        try:
            while time.monotonic() < end():
                for k, sensor in enumerate(sensors):
                    record.words(k, sensor.get_raw_data(times=BATCH))
        except _PackageHung:
            record.hung += 1
        finally:
            hx711.time = real_time

    return _measure(seconds, read_with_package, "hx711pkg")


def measure_hx711pkg_bank(seconds: float = 3.0) -> dict:
    """The same four chips read through :class:`drivers.hx711_pypi.HX711PkgBank` (the package
    wrapped with its own ready polling and deadline), for comparison with the bare package."""

    def read_with_bank(hx711, chips, record, end):
        with HX711PkgBank([c.clock_pin_number for c in chips],
                          [c.data_pin_number for c in chips]) as bank:
            record.start()
            while time.monotonic() < end():
                try:
                    words = bank.read(timeout=0.5)
                except HardwareError:  # counted and reported, as the sampler would carry on
                    record.errors += 1
                    continue
                for k, word in enumerate(words):
                    record.words(k, [word])

    return _measure(seconds, read_with_bank, "hx711pkg_bank")


class _PackageHung(Exception):
    """The package was still waiting for a word well after the measurement ended."""


class _GuardedTime:
    """The package's ``time``, real, except that its ``sleep`` gives up after ``limit()``: its
    ``get_raw_data`` has no deadline, and a chip it left half-way through a word never answers."""

    def __init__(self, limit: Callable[[], float]):
        self.limit = limit
        self.perf_counter = time.perf_counter

    def sleep(self, seconds: float) -> None:
        if time.monotonic() > self.limit():
            raise _PackageHung
        time.sleep(seconds)


class _Record:
    """Words returned per chip since ``start``, and each word's latency from its conversion."""

    def __init__(self, chips: list[MockHX711], factory, origin: float, seconds: float):
        self.chips = chips
        self.factory = factory
        self.origin = origin
        self.seconds = seconds
        self.returned = [0] * len(chips)
        self.latencies: list[float] = []
        self.made_before = [0] * len(chips)
        self.end = math.inf
        self.hung = 0
        self.errors = 0
        self.bad = 0

    def start(self) -> None:
        self.made_before = self._words_made()
        self.end = time.monotonic() + self.seconds

    def words(self, k: int, words: list[int]) -> None:
        now = time.monotonic()
        for w in words:
            latency = now - (self.origin + w / STAMP_PER_S)
            if 0.0 <= latency < 1.0:
                self.returned[k] += 1
                self.latencies.append(latency)
            else:
                self.bad += 1

    def made(self) -> list[int]:
        return [now - before for now, before in zip(self._words_made(), self.made_before,
                                                      strict=True)]

    def _words_made(self) -> list[int]:
        # A chip works its conversions out when its pins are touched: look at DOUT first.
        for chip in self.chips:
            _ = self.factory.pin(chip.data_pin_number).state
        return [chip.words_made for chip in self.chips]


def _measure(seconds: float, read: Callable, name: str) -> dict:
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, not {seconds!r}")
    factory = new_mock_factory()
    origin = time.monotonic()

    def stamp(t: float) -> int:
        return int(round((t - origin) * STAMP_PER_S))

    chips = [MockHX711(sck, dout, pin_factory=factory, rate_hz=RATE_HZ, source=stamp,
                       phase=k / (RATE_HZ * len(CLOCK_PINS)))
             for k, (sck, dout) in enumerate(zip(CLOCK_PINS, DATA_PINS, strict=True))]
    record = _Record(chips, factory, origin, seconds)
    try:
        with installed_rpigpio(factory):
            read(import_hx711(), chips, record, lambda: record.end)
            made = record.made()
    finally:
        for chip in chips:
            chip.close()
    ms = np.array(record.latencies) * 1000.0
    # A peer that hung from its first word returned nothing to time: its latency is not a number
    # (JSON null, "n/a" in the table), and its capture ratio of 0 says why.
    p50, p99 = (float(np.percentile(ms, 50)), float(np.percentile(ms, 99))) if ms.size else (None, None)
    return {
        f"capture_ratio_80sps_4chips_{name}": min(r / max(m, 1) for r, m in zip(record.returned, made,
                                                                         strict=True)),
        f"{name}_word_latency_ms_p50": p50,
        f"{name}_word_latency_ms_p99": p99,
        f"{name}_words_timed": int(ms.size),
        f"{name}_hung_reads": record.hung,
        f"{name}_bad_words_returned": record.bad,
        f"{name}_read_errors": record.errors,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure_hx711pkg() | measure_hx711pkg_bank(), indent=2))

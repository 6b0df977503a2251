"""The project's HX711 reader's figures for ``gym-station bench``, measured in real time.

The four identical simulated chips of :mod:`station.bench_chips` run at 80 SPS on the real
monotonic clock, and the real :class:`~drivers.hx711.HX711Bank` reads them on one shared PD_SCK
line, polling and sleeping for real. Every word is checked and timed by
:class:`~station.bench_chips.WordTally`, exactly as the ``hx711`` package's are. The figures:

- ``driver_word_us_4chips``: mean microseconds one read spends shifting one conversion's words
  out of the four chips (25 PD_SCK pulses, four DOUT lines sampled per pulse). On a Pi this is
  the time the bus is busy; here it includes the simulated chips' own Python work.
- ``capture_ratio_80sps_4chips``: good words returned / words the chips were due to make in
  the window, the worst chip.
- ``driver_word_latency_ms_p50`` / ``_p99``: each word from its own conversion to ``read()``
  returning it (a read returns one word per chip, so the first chip's word waits for the
  others' conversions), over ``driver_words_timed`` words.
- ``driver_power_downs_count``: power-downs the chips went through (a PD_SCK high phase that
  ran past 60 us because the thread lost the CPU, and the reader's deliberate reset after it);
  each costs a few words while the chips settle.
- ``driver_bad_words_returned``, ``driver_read_errors`` (reads that ran out of time: counted,
  the bench reads on), ``driver_hung_reads`` (always 0: every read has a deadline).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from drivers.clock import real_clock, real_sleep
from drivers.errors import HardwareError
from drivers.hx711 import HX711Bank
from drivers.mock_hx711 import new_mock_factory

from .bench_chips import CHIPS, MAX_SECONDS, WordTally, build_chips

CLOCK_PIN = 5
DATA_PINS = (6, 13, 19, 26)
#: A read that gets no good word for this long raises (counted as a read error).
READ_TIMEOUT_S = 1.0


def measure_reader(seconds: float = 3.0, *, clock: Callable[[], float] = real_clock,
                   sleep: Callable[[float], None] = real_sleep) -> dict:
    """Read the four chips for ``seconds`` (on ``clock``); return the figures above."""
    if not 0.5 <= seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be between 0.5 and {MAX_SECONDS:g}, not {seconds!r}")
    factory = new_mock_factory()
    chips, origin = build_chips(factory, (CLOCK_PIN,) * CHIPS, DATA_PINS, clock)
    tally = WordTally(origin, clock, chips)
    shift_us: list[float] = []
    try:
        with HX711Bank(CLOCK_PIN, DATA_PINS, pin_factory=factory, rate_hz=tally.rate_hz,
                       clock=clock, sleep=sleep) as bank:
            try:
                bank.read(timeout=READ_TIMEOUT_S)      # let the chips settle first
            except HardwareError:
                tally.errors += 1
            tally.open(seconds)
            while tally.wants_more():
                try:
                    words = bank.read(timeout=READ_TIMEOUT_S)
                except HardwareError:
                    tally.errors += 1
                    continue
                for k, word in enumerate(words):
                    tally.add(k, (word,))
                shift_us.append(bank.last_shift_s * 1e6)
            figures = tally.figures("driver", "capture_ratio_80sps_4chips")
    finally:
        for c in chips:
            c.close()
    return {
        "driver_word_us_4chips": round(statistics.fmean(shift_us), 1) if shift_us else None,
        **figures,
    }

"""The HX711 reader's figures for ``gym-station bench``, measured in real time.

Four simulated HX711s (:class:`~drivers.mock_hx711.MockHX711`) run at 80 SPS on the real monotonic
clock with their conversions staggered across the period (as four free-running chips are), and the
real :class:`~drivers.hx711.HX711Bank` reads them on one shared PD_SCK line, polling and sleeping
for real. The figures:

- ``driver_word_us_4chips``: mean microseconds one read spends shifting one conversion's words
  out of the four chips (25 PD_SCK pulses, four DOUT lines sampled per pulse). On a Pi this is
  the time the bus is busy; here it includes the simulated chips' own Python work.
- ``capture_ratio_80sps_4chips``: words returned / words the chips made while being read, the
  worst chip. 1.0 means no conversion was overwritten unread or lost to a power-down.
- ``driver_word_latency_ms_p50`` / ``_p99``: from the moment the last of the four DOUT lines went
  low (the conversion that completed the set) to ``read()`` returning it: polling delay plus
  shifting.
- ``driver_power_downs_count``: PD_SCK high phases the reader caught running past 60 us (the
  thread lost the CPU mid-pulse); each costs a few words while the chips settle.
"""

from __future__ import annotations

import statistics

from drivers.clock import real_clock, real_sleep
from drivers.hx711 import HX711Bank
from drivers.mock_hx711 import MockHX711, new_mock_factory

RATE_HZ = 80.0
CLOCK_PIN = 5
DATA_PINS = (6, 13, 19, 26)
#: The simulated chips encode their conversion time in the word, in units of this many seconds.
TIME_UNIT_S = 1e-5
#: Longest run: the time code must stay inside the 24-bit word's positive range.
MAX_SECONDS = 60.0


def measure_reader(seconds: float = 3.0) -> dict:
    """Read four simulated chips for ``seconds`` of real time; return the figures above."""
    if not 0.5 <= seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be between 0.5 and {MAX_SECONDS:g}, not {seconds!r}")
    factory = new_mock_factory()
    start = real_clock()
    period = 1.0 / RATE_HZ

    def time_code(t: float) -> int:
        return round((t - start) / TIME_UNIT_S)

    chips = [MockHX711(CLOCK_PIN, pin, pin_factory=factory, rate_hz=RATE_HZ, source=time_code,
                       clock=real_clock, phase=i * period / 5)
             for i, pin in enumerate(DATA_PINS)]
    shift_us: list[float] = []
    latency_ms: list[float] = []
    try:
        with HX711Bank(CLOCK_PIN, DATA_PINS, pin_factory=factory, rate_hz=RATE_HZ,
                       clock=real_clock, sleep=real_sleep) as bank:
            bank.read(timeout=1.0)                      # let the chips settle first
            made_before = [c.words_made for c in chips]
            reads = 0
            end = real_clock() + seconds
            while real_clock() < end:
                words = bank.read(timeout=1.0)
                returned = real_clock()
                reads += 1
                shift_us.append(bank.last_shift_s * 1e6)
                made_at = start + max(words) * TIME_UNIT_S
                latency_ms.append((returned - made_at) * 1e3)
            made = [c.words_made - b for c, b in zip(chips, made_before, strict=True)]
            power_downs = bank.faults["power_down"]
    finally:
        for c in chips:
            c.close()
    return {
        "driver_word_us_4chips": round(statistics.fmean(shift_us), 1),
        "capture_ratio_80sps_4chips": round(min(reads / m for m in made), 4),
        "driver_word_latency_ms_p50": round(_percentile(latency_ms, 50), 3),
        "driver_word_latency_ms_p99": round(_percentile(latency_ms, 99), 3),
        "driver_power_downs_count": power_downs,
    }


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]

"""The simulated chips both HX711 readers are benchmarked on, and how their words are scored.

``gym-station bench`` measures the project's reader (:mod:`station.bench_driver`) and the
``hx711`` PyPI package (:mod:`station.bench_hx711pkg`) on identical chips: four
:class:`~drivers.mock_hx711.MockHX711` at 80 SPS, chip k converting k/4 of a period after chip 0
(four free-running chips spread over the period), each converting the time of its own conversion
(:data:`TIME_UNIT_S` counts since the chips were built), so every word says when it was made.
Only the wiring differs, as each reader requires: one shared PD_SCK for the project's reader,
one PD_SCK per chip for the package.

:class:`WordTally` checks and times every word both readers return, the same way:

- A word is *good* if it decodes to a conversion instant newer than that chip's last good word,
  not in the future and less than :data:`MAX_AGE_S` old. Anything else (an unsettled word after
  a power-down, a word read half-shifted, a word returned twice) is a *bad word*: counted, never
  timed or credited.
- *Word latency*: from the word's own conversion to the moment the read call returned it to its
  caller. For a reader that returns one word per chip per call, a word also waits for the other
  chips' conversions; for a batch of words, the first waits for the rest. Both are in.
- *Capture ratio*: good words whose conversion falls in the measured window, over the
  conversions the chip was due to make in it (the window is a whole number of periods placed
  1/8 of a period away from every chip's conversions, so each chip is due exactly
  ``round(seconds * 80)``); the worst chip. A conversion overwritten unread, lost to a
  power-down, or never read because the reader hung is missed. Reading goes on after the window
  until each chip has returned a word converted after it (at most :data:`TAIL_S`), so the
  window's last words have their chance; words converted outside the window count neither way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from drivers.mock_hx711 import MockHX711

from .bench_stats import p50_p99

RATE_HZ = 80.0
CHIPS = 4
#: Each chip converts the time of its conversion, in counts of this many seconds.
TIME_UNIT_S = 1e-5
#: The time code must stay in the 24-bit word's positive range (0x7FFFFF counts = 83.9 s) for
#: the chips' whole life: set-up, the window, the tail. The longest window leaves room for the
#: package's slowest set-up (4 chips x SETUP_HANG_S in station.bench_hx711pkg).
MAX_SECONDS = 60.0
#: A word older than this when returned is not a word this run made.
MAX_AGE_S = 1.0
#: How long after the window reading may go on to pick up words converted inside it.
TAIL_S = 0.5


def build_chips(factory, clock_pins: Sequence[int], data_pins: Sequence[int],
                clock: Callable[[], float]) -> tuple[list[MockHX711], float]:
    """The four identical chips on ``factory``, and the instant their time code counts from.

    ``clock_pins`` is one PD_SCK per chip (the same GPIO four times for a shared clock line).
    """
    if len(clock_pins) != CHIPS or len(data_pins) != CHIPS:
        raise ValueError(f"the bench uses {CHIPS} chips, not {len(data_pins)}")
    origin = clock()
    period = 1.0 / RATE_HZ

    def time_code(t: float) -> int:
        return round((t - origin) / TIME_UNIT_S)

    chips: list[MockHX711] = []
    try:
        for k, (sck, dout) in enumerate(zip(clock_pins, data_pins, strict=True)):
            chips.append(MockHX711(sck, dout, pin_factory=factory, rate_hz=RATE_HZ,
                                   source=time_code, clock=clock, phase=k * period / CHIPS))
    except BaseException:
        for chip in chips:
            chip.close()
        raise
    return chips, origin


class WordTally:
    """Checks, times and credits each word a reader returns (see the module docstring).

    ``origin`` is the chips' time-code origin (chip 0's conversions fall on ``origin + n/80``);
    ``clock`` is the one the chips run on; ``chips`` are counted for their power-downs since
    :meth:`open`. Call :meth:`open` when the reader is ready, then
    :meth:`add` after every read call, reading while :meth:`wants_more` says so.
    """

    def __init__(self, origin: float, clock: Callable[[], float], chips: Sequence[MockHX711],
                 rate_hz: float = RATE_HZ):
        self.origin = origin
        self.clock = clock
        self.rate_hz = rate_hz
        self._chip_list = list(chips)
        self.chips = len(self._chip_list)
        self._downs_before = 0
        self.start = math.nan
        self.end = math.nan
        self.due = 0
        self.credited = [0] * self.chips
        self.latencies_s: list[float] = []
        self.bad = 0
        self.hung = 0
        self.hung_in_setup = 0
        self.hung_after_s: float | None = None
        self.errors = 0
        self._newest = [-math.inf] * self.chips

    @property
    def opened(self) -> bool:
        return not math.isnan(self.start)

    def open(self, seconds: float) -> None:
        """Start the window at the next instant 1/8 period after chip 0's conversions."""
        period = 1.0 / self.rate_hz
        now = self.clock()
        n = math.ceil((now - self.origin) / period - 0.125)
        self.start = self.origin + (n + 0.125) * period
        self.due = round(seconds * self.rate_hz)
        self.end = self.start + self.due * period
        self._downs_before = power_downs(self._chip_list)

    def add(self, k: int, words: Iterable[int]) -> None:
        """The words chip ``k`` returned, just now, from one read call."""
        now = self.clock()
        for word in words:
            made = self.origin + word * TIME_UNIT_S
            age = now - made
            if not (made > self._newest[k] and -TIME_UNIT_S <= age < MAX_AGE_S):
                self.bad += 1
                continue
            self._newest[k] = made
            if self.start <= made < self.end:
                self.credited[k] += 1
                self.latencies_s.append(max(0.0, age))

    def wants_more(self, k: int | None = None) -> bool:
        """Whether to read on (chip ``k``, or any chip): until the window ends, then until each
        chip returned a word converted after it, for at most :data:`TAIL_S`."""
        now = self.clock()
        if now < self.end:
            return True
        if now >= self.end + TAIL_S:
            return False
        chips = range(self.chips) if k is None else (k,)
        return any(self._newest[i] < self.end for i in chips)

    def hang(self, call_started: float | None) -> None:
        """A read call never returned (``call_started``: when it began; None while setting up)."""
        self.hung += 1
        if call_started is None:
            self.hung_in_setup += 1
        else:
            self.hung_after_s = round(max(0.0, call_started - self.start), 3)

    def capture_ratio(self) -> float:
        """The worst chip's credited words over the words it was due; 0 if nothing was due."""
        if not self.due:
            return 0.0
        return round(min(self.credited) / self.due, 4)

    def figures(self, prefix: str, ratio_name: str) -> dict:
        """The figures every reader reports, named ``ratio_name`` and ``{prefix}_...``."""
        p50, p99 = p50_p99([s * 1000.0 for s in self.latencies_s])
        return {
            ratio_name: self.capture_ratio(),
            f"{prefix}_word_latency_ms_p50": p50,
            f"{prefix}_word_latency_ms_p99": p99,
            f"{prefix}_words_timed": len(self.latencies_s),
            f"{prefix}_words_due_per_chip": self.due,
            f"{prefix}_bad_words_returned": self.bad,
            f"{prefix}_hung_reads": self.hung,
            f"{prefix}_hung_in_setup": self.hung_in_setup,
            f"{prefix}_hung_after_s": self.hung_after_s,
            f"{prefix}_read_errors": self.errors,
            f"{prefix}_power_downs_count": power_downs(self._chip_list) - self._downs_before,
        }


def power_downs(chips: Iterable[MockHX711]) -> int:
    """Power-downs the chips went through (a long PD_SCK high phase, or a deliberate reset)."""
    return sum(chip.power_downs for chip in chips)

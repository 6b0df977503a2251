"""A simulated HX711 that speaks the chip's serial protocol on gpiozero MockFactory pins.

Like gpiozero's own ``MockSPIDevice``, it plays the peripheral's side bit by bit, so whatever
reads it (the project's :class:`~drivers.hx711.HX711Bank`, or the ``hx711`` PyPI package through
an RPi.GPIO shim) is exercised for real. It shares no code with any reader on purpose: an
emulator that copies the code under test tests nothing.

The chip, from the datasheet:

- It converts continuously at ``rate_hz`` (80 SPS with RATE high, 10 with RATE low), timed by
  the injected ``clock``. Nothing runs in the background: conversions that fell due are worked
  out lazily whenever one of the chip's pins is touched.
- DOUT low means a word is ready. Each PD_SCK rising edge shifts out one bit, MSB first, of the
  24-bit two's complement word (the bit is valid after the rising edge). The 25th pulse pulls
  DOUT high again; 25, 26 or 27 pulses in all select channel A gain 128, channel B gain 32 or
  channel A gain 64 for the next conversion.
- PD_SCK high for more than 60 us powers the chip down: the word is lost, DOUT goes high. When
  PD_SCK returns low the chip resets to channel A gain 128, restarts its conversions and its
  first :data:`SETTLE_WORDS` words are unsettled.
- A word nobody reads is overwritten by the next conversion (counted in ``words_lost``).

Decisions where the datasheet is silent (documented so readers of the tests know):

- A conversion that completes while a word is being shifted out (after the 1st and before the
  25th pulse) does not disturb the shift register: the reader still gets the whole word it
  started. That new conversion is dropped and counted in ``words_lost`` (a reader this late lost
  it). One completing after the 25th pulse is kept: it is the next word.
- Unsettled words are the settled value moved 0x300000 counts (about 37 % of full scale) toward
  the opposite sign: obviously wrong, yet never a saturation code, so a test can prove a reader
  discarded them for the right reason.
- Pulses beyond the 27th are ignored (counted in ``extra_pulses``), pulses while no word is ready
  are ignored (counted in ``stray_pulses``).
- Values are clipped to the 24-bit range, so an overloaded ``source`` saturates like the chip.
  Gain 64 is ``floor(source / 2)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from gpiozero.exc import PinSetInput
from gpiozero.pins.mock import MockFactory, MockPin

#: PD_SCK high for longer than this powers the chip down (datasheet: 60 us).
POWER_DOWN_S = 60e-6
#: Words after a power-up (and, optionally, a gain change) that are not settled (datasheet: 4).
SETTLE_WORDS = 4
#: How far an unsettled word is from the settled one, in counts.
UNSETTLED_OFFSET = 0x300000
#: Gain selected by the total number of PD_SCK pulses in one read.
GAIN_BY_PULSES = {25: 128, 26: 32, 27: 64}

_MAX = 0x7FFFFF
_MIN = -0x800000

# Chip states
_IDLE, _SHIFTING, _SELECTING = 0, 1, 2


def new_mock_factory() -> MockFactory:
    """A fresh gpiozero MockFactory, for code above ``drivers`` that must not import gpiozero."""
    return MockFactory()


class MockHX711ClockPin(MockPin):
    """A PD_SCK pin: every edge is handed to each simulated chip on the line.

    Several chips may share one clock line, as on the plate. Unlike a plain MockPin it keeps no
    state history (a long simulation toggles it millions of times).
    """

    def __init__(self, factory, info):
        super().__init__(factory, info)
        self.hx711_chips: list[MockHX711] = []

    def _set_state(self, value):
        if self._function != "output":
            raise PinSetInput(f"cannot set state of pin {self!r}")
        self._change_state(bool(value))

    def _change_state(self, value):
        value = bool(value)
        if self._state == value:
            return False
        self._state = value
        chips = self.hx711_chips
        for chip in chips:
            chip._on_clock_edge(value)
        if value:
            # Stalls come after every chip on the line has seen the rising edge: they all stay high.
            for chip in chips:
                if chip._stall:
                    chip._apply_stall()
        return True


class MockHX711DataPin(MockPin):
    """A DOUT pin whose level the simulated chip computes when it is read."""

    def __init__(self, factory, info):
        super().__init__(factory, info)
        self.hx711_chip: MockHX711 | None = None

    def _get_state(self):
        chip = self.hx711_chip
        if chip is None:
            return self._state
        return chip._dout()

    def _change_state(self, value):
        # Pull changes by a reader land here; the chip drives the line, so only remember them.
        self._state = bool(value)
        return False


class MockHX711:
    """A protocol-level HX711 on gpiozero MockFactory pins.

    ``source`` is channel A's analog input as signed counts at gain 128, by conversion time
    ``t`` (seconds on ``clock``); ``channel_b_source`` is channel B's at gain 32 (0 if absent).
    ``phase`` delays the first conversion: conversions complete at ``start + phase + k / rate_hz``
    for k = 0, 1, 2, ... where ``start`` is the clock when the chip is built.

    Build the chips before the reader opens the pins, so the factory already holds the chips'
    specialised pins.
    """

    def __init__(self, clock_pin: int, data_pin: int, *, pin_factory: MockFactory,
                 rate_hz: float = 80.0,
                 source: Callable[[float], int] | None = None,
                 channel_b_source: Callable[[float], int] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 phase: float = 0.0,
                 unsettled_after_gain_change: bool = False):
        if not isinstance(pin_factory, MockFactory):
            raise TypeError(f"MockHX711 needs a gpiozero MockFactory, not {pin_factory!r}")
        if not (isinstance(rate_hz, int | float) and math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be a positive number, not {rate_hz!r}")
        if not (isinstance(phase, int | float) and math.isfinite(phase) and phase >= 0):
            raise ValueError(f"phase must be >= 0 seconds, not {phase!r}")
        if clock_pin == data_pin:
            raise ValueError(f"PD_SCK and DOUT cannot both be GPIO {clock_pin}")
        self._period = 1.0 / rate_hz
        self.rate_hz = float(rate_hz)
        self._source = source
        self._source_b = channel_b_source
        self._clock = clock
        self._gain_change_settles = bool(unsettled_after_gain_change)

        clk = pin_factory.pin(clock_pin, pin_class=MockHX711ClockPin)
        dout = pin_factory.pin(data_pin, pin_class=MockHX711DataPin)
        if not isinstance(clk, MockHX711ClockPin):
            raise ValueError(f"GPIO {clock_pin} is already a {type(clk).__name__}: build the "
                             "MockHX711 chips before anything opens their pins")
        if not isinstance(dout, MockHX711DataPin):
            raise ValueError(f"GPIO {data_pin} is already a {type(dout).__name__}: build the "
                             "MockHX711 chips before anything opens their pins")
        if dout.hx711_chip is not None:
            raise ValueError(f"GPIO {data_pin} is already the DOUT of another MockHX711")
        self.clock_pin_number = clock_pin
        self.data_pin_number = data_pin
        self._clk = clk
        self._dout_pin = dout

        # Counters (public, read-only by convention)
        self.gain = 128
        self.words_made = 0
        self.words_read = 0
        self.words_lost = 0
        self.power_downs = 0
        self.stray_pulses = 0
        self.extra_pulses = 0

        # Faults injected by tests
        self._silent = False
        self._stuck_low = False
        self._stuck_high = False
        self._saturated: int | None = None
        self._stall = 0.0

        # Protocol state
        now = clock()
        self._t_first = now + phase         # completion time of conversion k = 0
        self._k_next = 0                    # index of the next conversion to complete
        self._next_due = self._t_first
        self._word: int | None = None       # output register: a finished, unread word (signed)
        self._state = _IDLE
        self._shift = 0                     # the word being shifted out (24-bit unsigned)
        self._pulses = 0                    # PD_SCK pulses in the current read
        self._unsettled = 0                 # conversions still unsettled
        self._unsettled_before_select = 0
        self._gain_before_select = 128
        self._high = bool(clk._state)
        self._t_rise = now
        self._powered_down = False
        if self._high:  # PD_SCK already high: the chip starts powered down
            self._powered_down = True

        clk.hx711_chips.append(self)
        dout.hx711_chip = self
        self._closed = False

    # -- context manager / close ------------------------------------------------------------------
    def __enter__(self) -> MockHX711:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Take the chip off its pins (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        if self in self._clk.hx711_chips:
            self._clk.hx711_chips.remove(self)
        if self._dout_pin.hx711_chip is self:
            self._dout_pin.hx711_chip = None

    def __repr__(self) -> str:
        return (f"<MockHX711 PD_SCK GPIO {self.clock_pin_number}, DOUT GPIO "
                f"{self.data_pin_number}, gain {self.gain}, {self.rate_hz:g} SPS>")

    # -- faults a test can inject -----------------------------------------------------------------
    def set_silent(self, silent: bool = True) -> None:
        """A chip that never converts (no power, broken crystal): DOUT stays high."""
        self._touch(self._clock())
        self._silent = bool(silent)
        if self._silent and self._word is not None:
            self._word = None
            self.words_lost += 1

    def set_stuck_low(self, stuck: bool = True) -> None:
        """The DOUT wire is shorted to ground: the pin reads low whatever the chip does."""
        self._stuck_low = bool(stuck)

    def set_stuck_high(self, stuck: bool = True) -> None:
        """The DOUT wire is open with a pull-up (or shorted to 3.3 V): the pin reads high."""
        self._stuck_high = bool(stuck)

    def set_saturated(self, sign: int | None) -> None:
        """Conversions from now on: +1 -> 0x7FFFFF, -1 -> 0x800000, None -> normal."""
        if sign not in (1, -1, None):
            raise ValueError(f"sign must be +1, -1 or None, not {sign!r}")
        self._touch(self._clock())
        self._saturated = sign

    def stall_next_high(self, seconds: float) -> None:
        """Make the next PD_SCK high phase last ``seconds`` longer (the reader lost the CPU).

        The stall advances the injected clock when it can (a VirtualClock); on a real clock it
        really waits.
        """
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be >= 0, not {seconds!r}")
        self._stall = float(seconds)

    # -- the protocol -----------------------------------------------------------------------------
    def _touch(self, now: float) -> None:
        """Bring the chip up to ``now``: a pending power-down, then conversions that fell due."""
        if self._high and not self._powered_down and now - self._t_rise > POWER_DOWN_S:
            self._advance(self._t_rise + POWER_DOWN_S)
            self._power_down()
        if not self._powered_down and now >= self._next_due:
            self._advance(now)

    def _advance(self, now: float) -> None:
        if now < self._next_due:
            return
        done = math.floor((now - self._t_first) * self.rate_hz) + 1
        new = max(1, done - self._k_next)
        t_last = self._t_first + (self._k_next + new - 1) * self._period
        self._k_next += new
        self._next_due = self._t_first + self._k_next * self._period
        if self._silent:
            return
        self.words_made += new
        last_unsettled = new <= self._unsettled
        self._unsettled = max(0, self._unsettled - new)
        if self._state == _SHIFTING:
            self.words_lost += new   # the shift register is busy: these words are gone
            return
        if self._state == _SELECTING:
            self._state = _IDLE      # the read is over: the gain selection stands
        self.words_lost += (new - 1) + (self._word is not None)
        self._word = self._convert(t_last, last_unsettled)

    def _convert(self, t: float, unsettled: bool) -> int:
        if self._saturated is not None:
            return _MAX if self._saturated > 0 else _MIN
        if self.gain == 32:
            value = int(self._source_b(t)) if self._source_b is not None else 0
        else:
            value = int(self._source(t)) if self._source is not None else 0
            if self.gain == 64:
                value //= 2
        value = min(_MAX, max(_MIN, value))
        if unsettled:
            value = value - UNSETTLED_OFFSET if value >= 0 else value + UNSETTLED_OFFSET
        return value

    def _power_down(self) -> None:
        self._powered_down = True
        self.power_downs += 1
        if self._word is not None or self._state == _SHIFTING:
            self.words_lost += 1
        self._word = None
        self._state = _IDLE
        self._pulses = 0

    def _power_up(self, now: float) -> None:
        """PD_SCK back low after a power-down: reset to channel A gain 128 and restart."""
        self._powered_down = False
        self.gain = 128
        self._unsettled = SETTLE_WORDS
        self._t_first = now + self._period
        self._k_next = 0
        self._next_due = self._t_first

    def _on_clock_edge(self, high: bool) -> None:
        now = self._clock()
        self._touch(now)
        self._high = high
        if not high:
            if self._powered_down:
                self._power_up(now)
            return
        self._t_rise = now
        if not self._powered_down:
            self._rising_edge()

    def _apply_stall(self) -> None:
        stall, self._stall = self._stall, 0.0
        advance = getattr(self._clock, "advance", None)
        if advance is not None:
            advance(stall)
        else:
            end = self._clock() + stall
            while self._clock() < end:
                pass

    def _rising_edge(self) -> None:
        state = self._state
        if state == _IDLE:
            if self._word is None:
                self.stray_pulses += 1
                return
            self._shift = self._word & 0xFFFFFF
            self._word = None
            self._state = _SHIFTING
            self._pulses = 1
        elif state == _SHIFTING:
            self._pulses += 1
            if self._pulses == 24:
                self.words_read += 1
            elif self._pulses == 25:
                self._state = _SELECTING
                self._gain_before_select = self.gain
                self._unsettled_before_select = self._unsettled
                self._select(128)
        else:
            self._pulses += 1
            if self._pulses in GAIN_BY_PULSES:
                self._select(GAIN_BY_PULSES[self._pulses])
            else:
                self.extra_pulses += 1

    def _select(self, gain: int) -> None:
        self.gain = gain
        if self._gain_change_settles and gain != self._gain_before_select:
            self._unsettled = SETTLE_WORDS
        else:
            self._unsettled = self._unsettled_before_select

    def _dout(self) -> bool:
        """The level on DOUT now."""
        if self._closed:
            return True
        self._touch(self._clock())
        if self._stuck_low:
            return False
        if self._stuck_high or self._powered_down:
            return True
        state = self._state
        if state == _SHIFTING:
            return bool((self._shift >> (24 - self._pulses)) & 1)
        if state == _SELECTING:
            return True
        return self._word is None

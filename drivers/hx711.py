"""The plate's HX711 reader: one or more chips bit-banged on gpiozero pins.

:class:`HX711Bank` reads N HX711 load-cell amplifiers. Their PD_SCK lines may share one GPIO (the
usual plate wiring: every chip shifts its word out on the same pulses, each on its own DOUT) or
each chip may have its own (the clock groups are pulsed in turn). Pins come from a gpiozero pin
factory (lgpio on a Pi, MockFactory in tests), so the same code runs on the plate and against the
simulated chips of :mod:`drivers.mock_hx711`.

What the datasheet makes the reader do, and why:

- DOUT low means a word is ready. ``read`` waits until every chip's DOUT is low, polling with
  short injectable sleeps against a deadline: never a bare spin, never a long blind sleep.
- Each of the 24 PD_SCK pulses shifts one bit out, MSB first. PD_SCK is raised, lowered at once,
  and only then is DOUT sampled (the bit stays valid until the next rising edge), so the clock is
  high for as short a time as possible.
- PD_SCK high for more than 60 us powers the chip down and loses the word: the classic HX711
  "random spike" when the reading thread loses the CPU mid-pulse. Every high phase is timed with
  the injected clock from before raising to after lowering (an over-estimate, so no real
  power-down is missed). On a long one the word is discarded, ``power_down`` counted, and the
  chips on that clock line are deliberately reset (PD_SCK held high > 60 us) so they are in a
  known state even if they did not really power down; they then wake on channel A gain 128, so
  the configured gain is selected again and ``settle_words`` words are discarded while they
  settle.
- 25, 26 or 27 pulses select channel A gain 128, channel B gain 32, channel A gain 64 for the
  *next* conversion. After a gain change the word in flight (old gain) and ``settle_words``
  words are discarded.
- 0x7FFFFF and 0x800000 are the saturation codes (``saturated``), never data.
- 0xFFFFFF is what a DOUT that went high (a loose wire, a chip reset mid-word) reads as
  (``all_ones``). A genuine -1 is the same bit pattern and cannot be told apart; dropping it is
  harmless: -1 count sits deep inside the noise of a load cell (tens to hundreds of counts), so
  the next conversion, 12.5 ms later, carries the same information.
- After the 25th pulse a healthy chip's DOUT is high. A DOUT still low that delivered an all-zero
  word is a wire shorted to ground (``stuck_low``): :class:`~drivers.errors.HX711StuckLow` is
  raised at once, retrying cannot help. (A DOUT low after a non-zero word means a new conversion
  landed right after the read: the word is good and is kept.)

``read`` returns one good word per chip, all from the same pass over the chips. After any
discarded word (fault or settling) the whole pass is dropped and ``read`` retries within the
same deadline; when the deadline passes it raises the error that explains why: silent chips
(:class:`~drivers.errors.HX711Timeout` naming their DOUT GPIOs), chips that sent only faulty
words (:class:`~drivers.errors.HX711BadWord`), or chips still settling (``HX711Timeout`` with no
silent pins). A faulty word is never returned as data.

The bank is not thread-safe: one sampler owns it (on the Pi, in its own process).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from gpiozero import Device
from gpiozero.exc import BadPinFactory, PinError

from .clock import real_clock, real_sleep
from .errors import (
    BackendUnavailable,
    DeviceClosed,
    HX711BadWord,
    HX711Error,
    HX711StuckLow,
    HX711Timeout,
)

#: PD_SCK high longer than this powers the chip down (datasheet: 60 us).
POWER_DOWN_S = 60e-6
#: How long a deliberate reset holds PD_SCK high: comfortably past the 60 us.
RESET_HOLD_S = 100e-6
#: Total PD_SCK pulses per read that select each gain (A-128: 25, B-32: 26, A-64: 27).
PULSES_FOR_GAIN = {128: 25, 32: 26, 64: 27}
#: Fault kinds counted in :attr:`HX711Bank.faults` (besides ``words``, the words shifted out).
FAULT_KINDS = ("power_down", "saturated", "all_ones", "stuck_low", "timeout", "unsettled")

_SATURATED = (0x7FFFFF, 0x800000)
_ALL_ONES = 0xFFFFFF

_ADVICE = {
    "saturated": "sent only saturated words (0x7FFFFF/0x800000): the load cell is overloaded or a "
                 "wire between cell and HX711 (E+, E-, A+, A-) is loose",
    "all_ones": "sent only all-ones words (0xFFFFFF): its DOUT went high mid-word; check the DOUT "
                "wire and the common ground",
    "power_down": "kept powering down (PD_SCK high > 60 us): the reader is losing the CPU "
                  "mid-word; run the sampler in its own process with real-time priority",
}


def to_signed(word: int) -> int:
    """The 24-bit two's complement ``word`` as a Python int (0xFFFFFF -> -1)."""
    return word - 0x1000000 if word & 0x800000 else word


class _ClockGroup:
    """One PD_SCK line and the chips on it (indices into the bank's data pins)."""

    __slots__ = ("clock_gpio", "pin", "chips", "dout", "settle")

    def __init__(self, clock_gpio: int, pin, chips: list[int], dout: list):
        self.clock_gpio = clock_gpio
        self.pin = pin
        self.chips = chips
        self.dout = dout
        self.settle = 0


class _PowerDown(Exception):
    """Internal: a PD_SCK high phase ran past 60 us during a shift."""


class HX711Bank:
    """N HX711 chips on one shared PD_SCK GPIO (``clock_pin`` an int) or one per chip (a sequence
    as long as ``data_pins``; chips listing the same GPIO share it). BCM numbers.

    ``read`` returns one signed word per chip, in ``data_pins`` order. ``pin_factory`` is
    gpiozero's (default: the environment-selected ``Device.pin_factory``). ``clock`` times the
    60 us rule and the deadlines (default: the real monotonic clock); ``sleep`` waits between
    polls (default: ``clock.sleep`` when the clock has one, as a VirtualClock does, else a real
    sleep). ``poll_interval`` is how long to sleep between looks at DOUT: at most a quarter of a
    conversion period so no word is overwritten unseen. Context manager; ``close()`` is safe
    twice.
    """

    def __init__(self, clock_pin: int | Sequence[int], data_pins: Sequence[int], *,
                 gain: int = 128, rate_hz: float = 80.0, pin_factory=None,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None,
                 settle_words: int = 4, poll_interval: float = 0.0005):
        self._closed = True  # until the pins are ours: close() and __del__ stay harmless
        self._reserved: tuple[int, ...] = ()
        data = _gpio_list(data_pins, "data_pins")
        if not data:
            raise ValueError("data_pins is empty: give the DOUT GPIO of each HX711")
        if len(set(data)) != len(data):
            raise ValueError(f"data_pins {list(data)} name a GPIO twice: each HX711 needs its own "
                             "DOUT line")
        if isinstance(clock_pin, int) and not isinstance(clock_pin, bool):
            clocks = _gpio_list((clock_pin,), "clock_pin") * len(data)
        else:
            clocks = _gpio_list(clock_pin, "clock_pin")
            if len(clocks) != len(data):
                raise ValueError(f"clock_pin lists {len(clocks)} GPIOs for {len(data)} chips: give "
                                 "one shared PD_SCK GPIO or one per chip")
        shared = sorted(set(clocks) & set(data))
        if shared:
            raise ValueError(f"GPIO {shared[0]} cannot be both a PD_SCK and a DOUT line")
        if gain not in PULSES_FOR_GAIN:
            raise ValueError(f"gain must be 128 or 64 (channel A) or 32 (channel B), not {gain!r}")
        if not (_is_number(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be a positive number (80 or 10 SPS), not {rate_hz!r}")
        if isinstance(settle_words, bool) or not isinstance(settle_words, int) or settle_words < 0:
            raise ValueError(f"settle_words must be a whole number >= 0, not {settle_words!r}")
        if not (_is_number(poll_interval) and 0 < poll_interval <= 0.25 / rate_hz):
            raise ValueError(f"poll_interval must be > 0 and at most a quarter of a conversion "
                             f"({0.25 / rate_hz:.4f} s at {rate_hz:g} SPS), not {poll_interval!r}")
        if clock is None:
            clock = real_clock
            sleep = sleep or real_sleep
        elif sleep is None:
            sleep = getattr(clock, "sleep", None) or real_sleep
        if not callable(clock) or not callable(sleep):
            raise TypeError("clock and sleep must be callables")

        self.data_pins: tuple[int, ...] = data
        self.clock_pins: tuple[int, ...] = clocks
        self.clock: Callable[[], float] = clock
        self.rate_hz = float(rate_hz)
        self.settle_words = settle_words
        self.poll_interval = float(poll_interval)
        self._sleep = sleep
        self._gain = gain
        self._faults = dict.fromkeys(("words",) + FAULT_KINDS, 0)
        self._powered_down_at: float | None = None
        #: Seconds the last successful read spent shifting words out (for benchmarks).
        self.last_shift_s = 0.0

        if pin_factory is None:
            try:
                Device.ensure_pin_factory()
            except (BadPinFactory, ImportError) as e:
                raise BackendUnavailable(
                    f"no GPIO pin factory for the HX711s ({e}): on a Raspberry Pi install lgpio "
                    "(python3-lgpio); elsewhere use the simulated plate") from e
            pin_factory = Device.pin_factory
        self.pin_factory = pin_factory
        wanted = tuple(dict.fromkeys(clocks + data))
        pin_factory.reserve_pins(self, *wanted)  # raises GPIOPinInUse before touching a pin
        self._reserved = wanted
        try:
            self._groups = self._open_pins(clocks, data)
        except BaseException:
            pin_factory.release_pins(self, *wanted)
            self._reserved = ()
            raise
        self._closed = False
        # The chips' state is unknown (another program may have left them at another gain, or
        # powered down): the first word may be at the wrong gain, then they settle.
        for group in self._groups:
            group.settle = settle_words + 1

    def _open_pins(self, clocks: tuple[int, ...], data: tuple[int, ...]) -> list[_ClockGroup]:
        factory = self.pin_factory
        dout = []
        for gpio in data:
            pin = factory.pin(gpio)
            pin.function = "input"
            try:
                pin.pull = "up"  # an unplugged DOUT then reads "not ready", not a stream of zeros
            except PinError:
                pass  # a fixed pull or a factory without pulls: the chip drives DOUT anyway
            dout.append(pin)
        groups: dict[int, _ClockGroup] = {}
        for i, gpio in enumerate(clocks):
            if gpio not in groups:
                pin = factory.pin(gpio)
                pin.function = "output"
                pin.state = False
                groups[gpio] = _ClockGroup(gpio, pin, [], [])
            groups[gpio].chips.append(i)
            groups[gpio].dout.append(dout[i])
        self._dout = dout
        return list(groups.values())

    # -- gpiozero pin reservation protocol ---------------------------------------------------------
    def _conflicts_with(self, other) -> bool:
        """Any other device on our pins conflicts (called by gpiozero's ``reserve_pins``)."""
        return True

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> HX711Bank:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Leave PD_SCK low (chips keep converting), release the pins. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for group in self._groups:
            try:
                group.pin.state = False
            except PinError:
                pass
            group.pin.close()
        for pin in self._dout:
            pin.close()
        self.pin_factory.release_pins(self, *self._reserved)
        self._reserved = ()

    @property
    def closed(self) -> bool:
        return self._closed

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"gain {self._gain}"
        return (f"<HX711Bank DOUT GPIO {', '.join(map(str, self.data_pins))}, PD_SCK GPIO "
                f"{', '.join(str(g.clock_gpio) for g in getattr(self, '_groups', []))}, {state}>")

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceClosed(f"the HX711 bank on DOUT GPIO {_names(self.data_pins)} is closed")

    # -- counters ----------------------------------------------------------------------------------
    @property
    def faults(self) -> Mapping[str, int]:
        """Counts by kind: ``words`` shifted out, and each fault kind in :data:`FAULT_KINDS`."""
        return dict(self._faults)

    # -- gain and power ----------------------------------------------------------------------------
    @property
    def gain(self) -> int:
        """The gain/channel read: 128 or 64 on channel A, 32 on channel B.

        Setting it takes effect on the chips with the next read; the words until they have settled
        are discarded.
        """
        return self._gain

    @gain.setter
    def gain(self, value: int) -> None:
        if value not in PULSES_FOR_GAIN:
            raise ValueError(f"gain must be 128 or 64 (channel A) or 32 (channel B), not {value!r}")
        self._check_open()
        if value == self._gain:
            return
        self._gain = value
        for group in self._groups:
            group.settle = self.settle_words + 1  # the word in flight was converted at the old gain

    def power_down(self) -> None:
        """Hold every PD_SCK high: the chips power down after 60 us (and draw almost nothing)."""
        self._check_open()
        for group in self._groups:
            group.pin.state = True
        if self._powered_down_at is None:
            self._powered_down_at = self.clock()

    def power_up(self) -> None:
        """Bring PD_SCK low again: the chips reset to channel A gain 128 and must settle."""
        self._check_open()
        if self._powered_down_at is None:
            return
        while self.clock() - self._powered_down_at < RESET_HOLD_S:
            self._sleep(RESET_HOLD_S)
        for group in self._groups:
            group.pin.state = False
            group.settle = self.settle_words + (self._gain != 128)
        self._powered_down_at = None

    @property
    def powered_down(self) -> bool:
        return self._powered_down_at is not None

    # -- reading -----------------------------------------------------------------------------------
    def read(self, timeout: float = 1.0) -> list[int]:
        """One signed 24-bit word per chip, from one conversion each, in ``data_pins`` order.

        Retries after discarded words until ``timeout`` seconds (on the bank's clock) have passed,
        then raises ``HX711Timeout``, ``HX711BadWord``; raises ``HX711StuckLow`` at once.
        """
        self._check_open()
        if not (_is_number(timeout) and timeout >= 0):
            raise ValueError(f"timeout must be a number of seconds >= 0, not {timeout!r}")
        if self._powered_down_at is not None:
            raise HX711Error(f"the HX711s on DOUT GPIO {_names(self.data_pins)} are powered "
                             "down: call power_up() before reading")
        clock = self.clock
        deadline = clock() + timeout
        seen_ready: set[int] = set()
        trouble: dict[int, str] = {}
        while True:
            self._wait_ready(deadline, timeout, seen_ready, trouble)
            words = self._one_pass(trouble)
            if words is not None:
                return words
            if clock() >= deadline:
                raise self._deadline_error(timeout, seen_ready, trouble)

    def _wait_ready(self, deadline: float, timeout: float, seen_ready: set[int],
                    trouble: dict[int, str]) -> None:
        """Poll until every DOUT is low, or raise when the deadline passes."""
        dout = self._dout
        clock, sleep, poll = self.clock, self._sleep, self.poll_interval
        while True:
            busy = False
            for i, pin in enumerate(dout):
                if pin.state:
                    busy = True
                else:
                    seen_ready.add(i)
            if not busy:
                return
            left = deadline - clock()
            if left <= 0:
                raise self._deadline_error(timeout, seen_ready, trouble)
            sleep(poll if poll < left else left)

    def _one_pass(self, trouble: dict[int, str]) -> list[int] | None:
        """Shift one word out of every chip. The words, or None if any had to be discarded."""
        clock = self.clock
        raw = [0] * len(self._dout)
        start = clock()
        for group in self._groups:
            try:
                self._shift_group(group, raw)
            except _PowerDown:
                self._faults["power_down"] += 1
                for i in group.chips:
                    trouble[i] = "power_down"
                self._reset_group(group)
                return None
        elapsed = clock() - start
        good = True
        for i, word in enumerate(raw):
            if word in _SATURATED:
                kind = "saturated"
            elif word == _ALL_ONES:
                kind = "all_ones"
            else:
                continue
            self._faults[kind] += 1
            trouble[i] = kind
            good = False
        for group in self._groups:
            if group.settle:
                group.settle -= 1
                self._faults["unsettled"] += len(group.chips)
                good = False
        if not good:
            return None
        self.last_shift_s = elapsed
        return [to_signed(w) for w in raw]

    def _shift_group(self, group: _ClockGroup, raw: list[int]) -> None:
        """24 data pulses and the gain pulses on one PD_SCK line; words into ``raw``."""
        clk, dout, chips = group.pin, group.dout, group.chips
        clock = self.clock
        n = len(dout)
        bits = [0] * n
        for _ in range(24):
            t0 = clock()
            clk.state = True
            clk.state = False
            if clock() - t0 > POWER_DOWN_S:
                raise _PowerDown
            for j in range(n):
                bits[j] = (bits[j] << 1) | dout[j].state
        self._faults["words"] += n
        stuck: list[int] = []
        for pulse in range(25, PULSES_FOR_GAIN[self._gain] + 1):
            t0 = clock()
            clk.state = True
            clk.state = False
            if clock() - t0 > POWER_DOWN_S:
                raise _PowerDown  # the word is whole but the chip reset: gain lost, must settle
            if pulse == 25:
                stuck = [j for j in range(n) if not dout[j].state and bits[j] == 0]
        if stuck:
            pins = tuple(self.data_pins[chips[j]] for j in stuck)
            self._faults["stuck_low"] += len(stuck)
            raise HX711StuckLow(
                f"{_chips(pins)} on GPIO {_names(pins)} held DOUT low after the 25th clock pulse "
                f"(a healthy chip pulls it high): the DOUT wire is shorted to ground, the chip "
                f"is dead, or PD_SCK on GPIO {group.clock_gpio} does not reach it; check the "
                f"wiring", pins)
        for j in range(n):
            raw[chips[j]] = bits[j]

    def _reset_group(self, group: _ClockGroup) -> None:
        """Hold one PD_SCK high past 60 us so its chips surely reset, then let them settle."""
        clock, sleep = self.clock, self._sleep
        group.pin.state = True
        t0 = clock()
        while clock() - t0 < RESET_HOLD_S:
            sleep(RESET_HOLD_S)
        group.pin.state = False
        group.settle = self.settle_words + (self._gain != 128)

    def _deadline_error(self, timeout: float, seen_ready: set[int],
                        trouble: dict[int, str]) -> HX711Error:
        """The error that best explains why no good word came before the deadline."""
        self._faults["timeout"] += 1
        silent = [i for i in range(len(self._dout)) if i not in seen_ready]
        notes = [f"GPIO {self.data_pins[i]} {_ADVICE[k]}" for i, k in sorted(trouble.items())]
        if silent:
            pins = tuple(self.data_pins[i] for i in silent)
            clocks = sorted({self.clock_pins[i] for i in silent})
            msg = (f"{_chips(pins)} on GPIO {_names(pins)} sent no word for {timeout:g} s: check "
                   f"its DOUT wire, its VCC/GND and that PD_SCK on GPIO {_names(clocks)} reaches "
                   "it and is not stuck high")
            return HX711Timeout("; ".join([msg] + notes), pins)
        if trouble:
            items = sorted(trouble.items())
            pins = tuple(self.data_pins[i] for i, _ in items)
            return HX711BadWord(f"no good word in {timeout:g} s: " + "; ".join(notes), pins,
                                tuple(k for _, k in items))
        settling = max(g.settle for g in self._groups)
        return HX711Timeout(
            f"the HX711s on GPIO {_names(self.data_pins)} were still settling after a power-up "
            f"or gain change when {timeout:g} s ran out ({settling} more word(s) to discard): "
            f"allow at least {(settling + 1) / self.rate_hz:.2f} s", ())


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _gpio_list(pins, what: str) -> tuple[int, ...]:
    if isinstance(pins, str | bytes) or not isinstance(pins, Sequence):
        raise TypeError(f"{what} must be a sequence of BCM GPIO numbers, not {pins!r}")
    out = tuple(pins)
    for p in out:
        if isinstance(p, bool) or not isinstance(p, int) or p < 0:
            raise ValueError(f"{what}: {p!r} is not a BCM GPIO number")
    return out


def _names(pins) -> str:
    return ", ".join(str(p) for p in pins)


def _chips(pins) -> str:
    return "HX711" if len(pins) == 1 else "HX711s"

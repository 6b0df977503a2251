"""The ``hx711`` PyPI package (1.1.2.3) as an optional word source, for one-clock-per-chip wiring.

:class:`HX711PkgBank` reads one HX711 per (PD_SCK, DOUT) pair through the package's own
``HX711`` objects, so a plate wired for that package keeps working, but it does not inherit the
package's weaknesses:

- **Deadline.** ``get_raw_data`` loops forever on a silent chip. The bank polls each chip's
  ``_ready()`` itself (every 0.5 ms of the injected clock) and only calls ``_read(max_tries=1)``
  once DOUT is low, so ``read(timeout)`` raises :class:`~drivers.errors.HX711Timeout` naming the
  silent DOUT (and its PD_SCK) GPIOs. This also sidesteps the package's 10 ms ready polling, which
  at 80 SPS (a word every 12.5 ms) misses words.
- **0 and -1 are data.** ``get_raw_data`` drops them (``data not in [False, -1]``, and
  ``0 == False``); the bank tests ``is False``.
- **Lost words are counted, the chip reset and let settle.** ``_read`` returns ``False`` when
  PD_SCK stayed high > 60 us mid-word (by its own timing) and abandons the word half-shifted. If
  the chip did not in fact power down (the package's timing is an over-estimate), it is left
  mid-word, its DOUT showing a data bit, and the package can wait on it for ever. The bank counts
  ``power_down``, resets the chip on purpose (the package's ``power_down()``/``power_up()``, 20 ms)
  and discards the next words while it settles (4, or 5 at gain 64 because the first word after a
  reset is converted at gain 128) instead of returning them as spikes. A slow gain-select pulse
  makes the package call ``get_raw_data(6)`` (unbounded); the bank's chips replace that call with
  the same count-reset-settle, so the deadline holds on every path.
- **Saturation is counted, never returned.** ``_read`` also returns ``False`` for
  0x7FFFFF/0x800000. The bank listens to the DOUT levels the package reads (a thin wrapper around
  the package's ``GPIO``) to tell the two apart: a saturated word is counted as ``saturated`` and
  discarded, as the project's own reader does, and the bank waits for the chip's next word.
- **Stuck DOUT.** The 25th pulse sends DOUT high; if it is still low right after a word of 0, the
  line is shorted low: counted as ``stuck_low`` and raised as
  :class:`~drivers.errors.HX711StuckLow`.

When the deadline passes, ``read`` raises the error that explains it, like
:class:`drivers.hx711.HX711Bank`: ``HX711Timeout`` naming the chips that sent nothing,
``HX711BadWord`` naming the chips that sent only faulty words (saturated, lost to power-down).

What cannot be handled from outside the package:

- Its 60 us check is made after the fact (``perf_counter`` around two GPIO calls): when the OS
  preempts the thread with PD_SCK high, the word is already lost; the bank only counts and
  settles. Run the sampler in its own process with real-time priority.
- Start-up: the package's constructor reads a word and sleeps 0.5 s twice per chip (about 1 s per
  chip, one chip after another; 0.4 s more for each silent chip). Its reads can abandon a word
  half-shifted without a word of warning, so the bank then resets every chip (20 ms each) and
  discards their first settling words (not counted as faults).
- One PD_SCK per chip: the chips are not converted in lockstep, so the words of one ``read`` come
  from conversions up to one period apart. The default shared-clock reader does not have this.
- It logs through the root ``logging`` module on every ready check, which costs CPU.
- Channel B (gain 32) is not offered: the load cells are on channel A.

Time: given ``clock`` (for example a :class:`~drivers.clock.VirtualClock`) or ``sleep``, the bank
points the package's ``time`` at them (``perf_counter`` and ``sleep``) for the duration of each
call into the package, so the package's sleeps and 60 us check follow the injected clock and tests
run deterministically. The package's ``time`` and ``GPIO`` module globals are swapped only during
those calls and restored after; a bank is therefore not thread-safe (use it from one thread, as
the sampler does).

``hx711`` is imported when a bank is built, not with this module: it needs ``RPi.GPIO``, which
only exists on a Raspberry Pi (tests install :mod:`drivers.mock_rpigpio`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType

from drivers.clock import real_clock, real_sleep
from drivers.errors import (
    BackendUnavailable,
    DeviceClosed,
    HX711BadWord,
    HX711Error,
    HX711StuckLow,
    HX711Timeout,
)

#: Conversions a chip needs after power-up/reset before its words are trusted (datasheet).
SETTLE_WORDS = 4
#: How often the bank checks DOUT while waiting for words, in seconds of the injected clock.
POLL_S = 0.0005
#: Gains the package offers on channel A.
GAINS = (128, 64)
#: Fault kinds the bank counts (the keys of :attr:`HX711PkgBank.faults`).
FAULT_KINDS = ("timeout", "power_down", "unsettled", "saturated", "stuck_low")

_SATURATED = (0x7FFFFF, 0x800000)
_ADVICE = {
    "saturated": "sent only saturated words (0x7FFFFF/0x800000): the load cell is overloaded or a "
                 "wire between cell and HX711 (E+, E-, A+, A-) is loose",
    "power_down": "kept powering down (PD_SCK high > 60 us): the reader is losing the CPU "
                  "mid-word; run the sampler in its own process with real-time priority",
    "unsettled": "was still settling after a power-down",
}
_BCM_PINS = range(0, 28)


class HX711PkgBank:
    """HX711 chips read through the ``hx711`` PyPI package: one PD_SCK and one DOUT GPIO each.

    Implements :class:`drivers.sample.WordSource`: :meth:`read` returns one signed 24-bit word per
    chip, in ``data_pins`` order. ``clock_pins[i]`` and ``data_pins[i]`` are the BCM numbers of chip
    ``i``'s PD_SCK and DOUT. Context manager; ``close()`` is safe twice.
    """

    def __init__(self, clock_pins: Sequence[int], data_pins: Sequence[int], *, gain: int = 128,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None):
        self.clock_pins = _bcm_pins("clock_pins", clock_pins)
        self.data_pins = _bcm_pins("data_pins", data_pins)
        _check_wiring(self.clock_pins, self.data_pins)
        if isinstance(gain, bool) or gain not in GAINS:
            raise ValueError(f"gain {gain!r} is not offered by the hx711 backend: use 128 or 64 "
                             "(channel A); gain 32 is channel B, which this backend does not read")
        self.gain = gain
        self.clock = clock if clock is not None else real_clock
        if sleep is None:
            sleep = getattr(clock, "sleep", None) if clock is not None else None
        self._sleep = sleep if sleep is not None else real_sleep
        injected = clock is not None or sleep is not None
        self._package_time = _PackageTime(self.clock, self._sleep) if injected else None
        self._faults = dict.fromkeys(("words",) + FAULT_KINDS, 0)
        self._settle_after_reset = SETTLE_WORDS + (0 if gain == 128 else 1)
        self._settling = [0] * len(self.data_pins)
        self._start_up = [0] * len(self.data_pins)  # start-up settling words, not faults
        self._chips: list = []
        self._closed = False
        self._module = import_hx711()
        self._tap: _DoutTap | None = None
        chip_class = _bounded_chip_class(self._module)
        try:
            with _PackageCall(self):
                for sck, dout in zip(self.clock_pins, self.data_pins, strict=True):
                    self._chips.append(chip_class(dout, sck, gain, self))
                # The constructor's reads ignore a word the package abandoned half-shifted: start
                # every chip from a reset, and let it settle without counting that as a fault.
                for chip in self._chips:
                    chip.power_down()
                    chip.power_up()
            self._settling = [self._settle_after_reset] * len(self._chips)
            self._start_up = list(self._settling)
        except BaseException:
            self.close()
            raise

    # -- WordSource ----------------------------------------------------------------------------
    @property
    def faults(self) -> Mapping[str, int]:
        """Counts so far: ``words`` shifted out, and each kind in :data:`FAULT_KINDS`."""
        return dict(self._faults)

    def read(self, timeout: float = 1.0) -> list[int]:
        """Wait for the next good word of every chip, for at most ``timeout`` seconds of the bank's
        clock. Then raise ``HX711Timeout`` naming the chips that sent nothing, or ``HX711BadWord``
        naming those that sent only faulty words."""
        if self._closed:
            raise DeviceClosed(f"the hx711 bank on DOUT GPIO {_names(self.data_pins)} is closed: "
                               "open a new one")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 s, not {timeout!r}")
        words: list[int | None] = [None] * len(self._chips)
        trouble: dict[int, str] = {}
        self._deadline = self.clock() + timeout
        with _PackageCall(self):
            while True:
                for i, chip in enumerate(self._chips):
                    if words[i] is None and chip._ready():
                        words[i] = self._take(i, trouble)
                if all(word is not None for word in words):
                    return words  # type: ignore[return-value]
                if self.clock() >= self._deadline:
                    self._faults["timeout"] += 1
                    raise self._deadline_error(
                        [i for i, word in enumerate(words) if word is None], trouble, timeout)
                self._sleep(POLL_S)

    def close(self) -> None:
        """Release the GPIOs (RPi.GPIO ``cleanup`` of this bank's pins). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        chips, self._chips = self._chips, []
        gpio = getattr(getattr(self, "_module", None), "GPIO", None)
        if chips and gpio is not None:
            gpio.cleanup(list(self.clock_pins) + list(self.data_pins))

    def __enter__(self) -> HX711PkgBank:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"gain {self.gain}"
        return (f"<HX711PkgBank PD_SCK GPIO {_names(self.clock_pins)} DOUT GPIO "
                f"{_names(self.data_pins)} {state}>")

    # -- inside ----------------------------------------------------------------------------------
    def _take(self, i: int, trouble: dict[int, str]) -> int | None:
        """Read chip ``i``'s waiting word through the package: the word, or ``None`` when it was
        discarded (the reason is left in ``trouble[i]``) or there was none after all."""
        chip = self._chips[i]
        tap = self._tap
        assert tap is not None
        settling = self._settling[i]  # words still to discard before this one
        resets = self._faults["power_down"]
        tap.listen(chip._dout)
        value = chip._read(max_tries=1)
        levels = tap.stop()
        if value is False:
            if not levels or levels[0] != 0:
                return None  # DOUT went high again before the package looked: no word, no fault
            if len(levels) < 25:  # the package gave up mid-word: PD_SCK was high > 60 us
                self._chip_reset(i)
                trouble[i] = "power_down"
                return None
            self._faults["words"] += 1
            raw = _word(levels[1:25])
            if raw not in _SATURATED:
                raise HX711Error(f"the hx711 package rejected word {raw:#08x} from the HX711 on "
                                 f"GPIO {self.data_pins[i]} for an unknown reason")
            if not settling:
                self._faults["saturated"] += 1
                trouble[i] = "saturated"
        else:
            self._faults["words"] += 1
            if value == 0 and chip._ready():
                self._faults["stuck_low"] += 1
                pins = (self.data_pins[i],)
                raise HX711StuckLow(
                    f"HX711 on GPIO {pins[0]} held DOUT low after its word (a healthy chip pulls "
                    "it high): the DOUT wire is shorted to ground, the chip is dead, or PD_SCK on "
                    f"GPIO {self.clock_pins[i]} does not reach it; check the wiring", pins)
        if settling:
            if self._start_up[i]:
                self._start_up[i] -= 1
            else:
                self._faults["unsettled"] += 1
            trouble.setdefault(i, "unsettled")
            if self._faults["power_down"] == resets:  # a reset during this word restarted the count
                self._settling[i] -= 1
            return None
        if value is False:
            return None  # saturated: never data
        trouble.pop(i, None)
        return value

    def _chip_reset(self, i: int) -> None:
        """The package saw PD_SCK high > 60 us on chip ``i``: the word is lost. Reset the chip on
        purpose (the package's ``power_down``/``power_up``: PD_SCK high 10 ms, then low), because
        the package's timing over-estimates: a chip that did not really power down would be left
        half-way through shifting a word, waiting forever for the rest of the pulses. Its next
        words are unsettled."""
        self._faults["power_down"] += 1
        chip = self._chips[i]
        chip.power_down()
        chip.power_up()
        self._settling[i] = self._settle_after_reset
        self._start_up[i] = 0

    def _deadline_error(self, missing: list[int], trouble: dict[int, str],
                        timeout: float) -> HX711Error:
        """The error that best explains why chips ``missing`` gave no good word in time."""
        silent = [i for i in missing if i not in trouble]
        notes = [f"GPIO {self.data_pins[i]} {_ADVICE[trouble[i]]}" for i in missing
                 if i in trouble]
        if silent:
            douts = tuple(self.data_pins[i] for i in silent)
            scks = tuple(self.clock_pins[i] for i in silent)
            if len(douts) == 1:
                message = (f"HX711 on GPIO {douts[0]} sent no word for {timeout:g} s: check its "
                           f"DOUT wire, its VCC/GND, and that PD_SCK on GPIO {scks[0]} reaches it")
            else:
                message = (f"HX711s on GPIO {_names(douts)} sent no word for {timeout:g} s: check "
                           f"their DOUT wires, their VCC/GND, and their PD_SCK on GPIO "
                           f"{_names(scks)}")
            return HX711Timeout("; ".join([message] + notes), douts)
        pins = tuple(self.data_pins[i] for i in missing)
        kinds = tuple(trouble[i] for i in missing)
        if all(kind == "unsettled" for kind in kinds):
            return HX711Timeout(f"HX711 on GPIO {_names(pins)} still settling after {timeout:g} s: "
                                "read with a longer timeout")
        return HX711BadWord(f"no good word in {timeout:g} s: " + "; ".join(notes), pins, kinds)


class _PackageCall:
    """For one call into the package: its ``time`` follows the bank's clock (when injected) and
    its ``GPIO`` is the DOUT tap; both are put back afterwards."""

    __slots__ = ("bank", "saved_time", "saved_gpio")

    def __init__(self, bank: HX711PkgBank):
        self.bank = bank

    def __enter__(self) -> None:
        module = self.bank._module
        self.saved_gpio = module.GPIO
        self.saved_time = module.time
        self.bank._tap = _DoutTap(self.saved_gpio)
        module.GPIO = self.bank._tap
        if self.bank._package_time is not None:
            module.time = self.bank._package_time

    def __exit__(self, *exc_info) -> None:
        module = self.bank._module
        module.GPIO = self.saved_gpio
        module.time = self.saved_time
        self.bank._tap = None


class _DoutTap:
    """Stands in for the package's ``GPIO`` module: forwards everything, and records the levels
    read from one DOUT pin while listening (so a saturated word can be told from a lost one)."""

    def __init__(self, gpio):
        self._gpio = gpio
        self._pin: int | None = None
        self._levels: list[int] = []

    def __getattr__(self, name: str):
        return getattr(self._gpio, name)

    def input(self, pin: int) -> int:
        level = self._gpio.input(pin)
        if pin == self._pin:
            self._levels.append(level)
        return level

    def listen(self, pin: int) -> None:
        self._pin = pin
        self._levels = []

    def stop(self) -> list[int]:
        self._pin = None
        return self._levels


class _PackageTime:
    """What the package sees as ``time``: ``perf_counter`` and ``sleep`` of the injected clock."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]):
        self.perf_counter = clock
        self.monotonic = clock
        self.sleep = sleep


def _bounded_chip_class(module: ModuleType) -> type:
    """The package's ``HX711`` with its one unbounded path replaced.

    After a slow gain-select pulse the package calls ``get_raw_data(6)``, which never returns if
    the chip stays silent. Here that call records the power-down and lets the bank discard the
    settling words within its own deadline.
    """

    class BoundedHX711(module.HX711):
        def __init__(self, dout_pin: int, pd_sck_pin: int, gain: int, bank: HX711PkgBank):
            self._bank = bank
            super().__init__(dout_pin, pd_sck_pin, gain=gain, channel="A")

        def get_raw_data(self, times: int = 5) -> list[int]:
            bank = self._bank
            i = bank.data_pins.index(self._dout)
            if i < len(bank._chips):
                bank._chip_reset(i)
            # else: still in the package's constructor; the bank resets every chip after it
            return []

    return BoundedHX711


def import_hx711() -> ModuleType:
    """The ``hx711`` package, or ``BackendUnavailable`` saying what to install (it needs RPi.GPIO,
    or :func:`drivers.mock_rpigpio.installed_rpigpio` around the call)."""
    try:
        import hx711
    except ModuleNotFoundError as err:
        if err.name != "hx711":
            raise _needs_rpigpio() from err
        raise BackendUnavailable("the hx711 backend needs the hx711 package: pip install "
                                 "hx711==1.1.2.3, or use the default shared-clock reader") from err
    except ImportError as err:  # the package raises a plain ImportError when RPi.GPIO is missing
        raise _needs_rpigpio() from err
    return hx711


def _needs_rpigpio() -> BackendUnavailable:
    return BackendUnavailable("the hx711 backend needs RPi.GPIO: pip install RPi.GPIO on a "
                              "Raspberry Pi (rpi-lgpio on a Pi 5), or use the default "
                              "shared-clock reader")


def _bcm_pins(name: str, pins: Sequence[int]) -> tuple[int, ...]:
    if isinstance(pins, str | bytes) or not isinstance(pins, Sequence):
        raise TypeError(f"{name} must be a sequence of BCM GPIO numbers, not {pins!r}")
    out = tuple(pins)
    if not out:
        raise ValueError(f"{name} is empty: give one BCM GPIO number per HX711")
    for pin in out:
        if isinstance(pin, bool) or not isinstance(pin, int) or pin not in _BCM_PINS:
            raise ValueError(f"{name} holds {pin!r}, which is not a BCM GPIO number (0-27)")
    if len(set(out)) != len(out):
        shared = sorted({p for p in out if out.count(p) > 1})
        if name == "clock_pins":
            raise ValueError(f"PD_SCK GPIO {_names(shared)} is shared by several chips: the hx711 "
                             "package drives one PD_SCK per chip; use the default shared-clock "
                             "reader for a shared clock")
        raise ValueError(f"DOUT GPIO {_names(shared)} is given to several chips: each HX711 "
                         "needs its own DOUT line")
    return out


def _check_wiring(clock_pins: tuple[int, ...], data_pins: tuple[int, ...]) -> None:
    if len(clock_pins) != len(data_pins):
        raise ValueError(f"{len(clock_pins)} PD_SCK pins for {len(data_pins)} DOUT pins: the "
                         "hx711 backend needs one PD_SCK and one DOUT GPIO per chip")
    both = sorted(set(clock_pins) & set(data_pins))
    if both:
        raise ValueError(f"GPIO {_names(both)} is given as both PD_SCK and DOUT: check the wiring "
                         "in the configuration")


def _word(levels: Sequence[int]) -> int:
    raw = 0
    for level in levels:
        raw = (raw << 1) | (1 if level else 0)
    return raw


def _names(pins: Sequence[int]) -> str:
    return ", ".join(str(p) for p in pins)

"""An RPi.GPIO look-alike over gpiozero MockFactory pins, so the ``hx711`` PyPI package runs here.

The ``hx711`` package does ``import RPi.GPIO as GPIO`` at import time and then only calls
``setmode``/``setup``/``output``/``input``. :class:`MockRPiGPIO` offers those (plus ``cleanup``,
``setwarnings``, ``getmode`` and the usual constants) on the pins of a MockFactory, so the package
clocks the *same* mock pins the simulated HX711 chips (``drivers.mock_hx711``) listen to: the test
exercises the package's real bit-banging, not a copy of it. Build the chips first, so the factory
already holds their specialised clock and data pins when the package asks for them.

:func:`installed_rpigpio` puts the shim in ``sys.modules`` as ``RPi`` and ``RPi.GPIO`` for the
duration of a ``with`` block, and takes it out again afterwards. Only BCM numbering is offered:
the station's configuration speaks BCM everywhere.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from gpiozero.pins.mock import MockFactory

#: What ``RPi.GPIO`` calls its constants (same values as the real module).
LOW, HIGH = 0, 1
OUT, IN = 0, 1
BOARD, BCM = 10, 11
PUD_OFF, PUD_DOWN, PUD_UP = 20, 21, 22
RISING, FALLING, BOTH = 31, 32, 33

_PULLS = {PUD_OFF: "floating", PUD_DOWN: "down", PUD_UP: "up"}


class MockRPiGPIO(types.ModuleType):
    """A module object that behaves like ``RPi.GPIO`` on the pins of ``pin_factory``.

    Errors match RPi.GPIO's where a program could rely on them (``RuntimeError`` when the
    numbering mode is unset or a channel was not set up, ``ValueError`` for a bad argument).
    """

    LOW, HIGH, OUT, IN = LOW, HIGH, OUT, IN
    BOARD, BCM = BOARD, BCM
    PUD_OFF, PUD_DOWN, PUD_UP = PUD_OFF, PUD_DOWN, PUD_UP
    RISING, FALLING, BOTH = RISING, FALLING, BOTH
    VERSION = "0.7.1 (gym-station mock over gpiozero MockFactory)"
    RPI_INFO = {"P1_REVISION": 3, "TYPE": "mock", "PROCESSOR": "mock"}

    def __init__(self, pin_factory: MockFactory):
        if not isinstance(pin_factory, MockFactory):
            raise TypeError(f"the mock RPi.GPIO needs a gpiozero MockFactory, not {pin_factory!r}")
        super().__init__("RPi.GPIO", "RPi.GPIO look-alike over gpiozero MockFactory pins")
        self.pin_factory = pin_factory
        self._mode: int | None = None
        self._directions: dict[int, int] = {}
        self.warnings = True

    # -- numbering -----------------------------------------------------------------------------
    def setmode(self, mode: int) -> None:
        """Choose pin numbering; only ``BCM`` is offered."""
        if mode == BOARD:
            raise ValueError("the mock RPi.GPIO speaks BCM numbers only: use GPIO.setmode(GPIO.BCM)")
        if mode != BCM:
            raise ValueError(f"an invalid mode was passed to setmode(): {mode!r}")
        if self._mode is not None and self._mode != mode:
            raise ValueError("a different mode has already been set")
        self._mode = mode

    def getmode(self) -> int | None:
        return self._mode

    def setwarnings(self, flag: bool) -> None:
        self.warnings = bool(flag)

    # -- channels ------------------------------------------------------------------------------
    def setup(self, channel: int | Iterable[int], direction: int, pull_up_down: int = PUD_OFF,
              initial: int | None = None) -> None:
        """Make ``channel`` (or each of a list) an input or output, as RPi.GPIO does."""
        for pin_number in _channels(channel):
            pin = self._pin(pin_number, need_setup=False)
            if direction == OUT:
                if pull_up_down != PUD_OFF:
                    raise ValueError("pull_up_down parameter is not valid for outputs")
                pin.function = "output"
                if initial is not None:
                    pin.state = bool(initial)
            elif direction == IN:
                if initial is not None:
                    raise ValueError("initial parameter is not valid for inputs")
                if pull_up_down not in _PULLS:
                    raise ValueError(f"invalid value for pull_up_down: {pull_up_down!r}")
                pin.function = "input"
                if pull_up_down != PUD_OFF:
                    pin.pull = _PULLS[pull_up_down]
            else:
                raise ValueError(f"an invalid direction was passed to setup(): {direction!r}")
            self._directions[pin_number] = direction

    def output(self, channel: int | Iterable[int], value: int | bool | Iterable[int | bool]) -> None:
        """Drive an output channel (or several) high or low."""
        channels = _channels(channel)
        values = list(value) if isinstance(value, list | tuple) else [value] * len(channels)
        if len(values) != len(channels):
            raise RuntimeError("number of channels != number of values")
        for pin_number, level in zip(channels, values, strict=True):
            pin = self._pin(pin_number)
            if self._directions[pin_number] != OUT:
                raise RuntimeError("the GPIO channel has not been set up as an OUTPUT")
            pin.state = bool(level)

    def input(self, channel: int) -> int:
        """The level on ``channel``: 1 or 0 (an ``int``, as RPi.GPIO returns)."""
        return HIGH if self._pin(channel).state else LOW

    def cleanup(self, channel: int | Iterable[int] | None = None) -> None:
        """Return channels set up here (all, or the ones given) to inputs and forget them."""
        numbers = list(self._directions) if channel is None else _channels(channel)
        for pin_number in numbers:
            if self._directions.pop(pin_number, None) is not None:
                self.pin_factory.pin(pin_number).function = "input"
        if channel is None:
            self._mode = None

    def _pin(self, pin_number: int, *, need_setup: bool = True):
        if self._mode is None:
            raise RuntimeError("Please set pin numbering mode using GPIO.setmode(GPIO.BCM)")
        if need_setup and pin_number not in self._directions:
            raise RuntimeError(f"you must setup() GPIO {pin_number} first")
        return self.pin_factory.pin(pin_number)


def _channels(channel: int | Iterable[int]) -> list[int]:
    if isinstance(channel, bool) or not isinstance(channel, int | list | tuple):
        raise ValueError(f"channel must be an integer or list/tuple of integers, not {channel!r}")
    numbers = [channel] if isinstance(channel, int) else list(channel)
    for n in numbers:
        if isinstance(n, bool) or not isinstance(n, int):
            raise ValueError(f"channel must be an integer, not {n!r}")
    return numbers


_MODULE_NAMES = ("RPi", "RPi.GPIO")


@contextmanager
def installed_rpigpio(pin_factory: MockFactory) -> Iterator[MockRPiGPIO]:
    """Make ``import RPi.GPIO`` (and so ``import hx711``) give a :class:`MockRPiGPIO` inside the
    block, and put ``sys.modules`` back as it was afterwards.

    The ``hx711`` package binds ``GPIO`` when first imported, so: if it was already imported, its
    ``GPIO`` is pointed at this shim for the block and restored after; if it is first imported
    inside the block, it is dropped from ``sys.modules`` on the way out so no later import sees a
    package wired to a closed factory.
    """
    gpio = MockRPiGPIO(pin_factory)
    package = types.ModuleType("RPi", "RPi look-alike holding the mock GPIO module")
    package.__path__ = []  # a package, so `import RPi.GPIO` resolves the submodule entry
    package.GPIO = gpio
    saved = {name: sys.modules[name] for name in _MODULE_NAMES if name in sys.modules}
    hx711_before = sys.modules.get("hx711")
    gpio_before = getattr(hx711_before, "GPIO", None)
    sys.modules["RPi"] = package
    sys.modules["RPi.GPIO"] = gpio
    if hx711_before is not None:
        hx711_before.GPIO = gpio
    try:
        yield gpio
    finally:
        for name in _MODULE_NAMES:
            if name in saved:
                sys.modules[name] = saved[name]
            else:
                sys.modules.pop(name, None)
        if hx711_before is None:
            sys.modules.pop("hx711", None)
        elif sys.modules.get("hx711") is hx711_before:
            hx711_before.GPIO = gpio_before

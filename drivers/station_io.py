"""The station's optional hardware around the plate: a start/stop button, a status LED, a buzzer.

All three are plain gpiozero devices (so the pin factory, lgpio on a Pi and MockFactory in tests,
is gpiozero's choice). gpiozero calls the button's callbacks on its own thread; this module never
lets that thread touch the app: it hands a :class:`Command` to ``on_command``, which the app
makes thread-safe (the display posts it as a pygame event, as pibooth does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from gpiozero import LED, Button, Buzzer

log = logging.getLogger(__name__)

#: LED patterns by station state: (on seconds, off seconds), or True (steady) / False (off).
LED_PATTERNS: dict[str, tuple[float, float] | bool] = {
    "off": False,
    "idle": False,
    "ready": True,
    "live": (0.5, 0.5),
    "fault": (0.1, 0.1),
}

#: Buzzer patterns by sound id: (on seconds, off seconds, count).
BUZZER_PATTERNS: dict[str, tuple[float, float, int]] = {
    "rep": (0.08, 0.0, 1),
    "good": (0.08, 0.08, 2),
    "warning": (0.3, 0.0, 1),
    "set_done": (0.15, 0.1, 3),
}


@dataclass(frozen=True, slots=True)
class Command:
    """Something a person did on the station's hardware: ``kind`` is ``button_press`` (a short
    press: start or stop) or ``button_hold`` (held ``hold_s``: end the set)."""

    kind: str
    source: str = "button"


class StationIO:
    """The optional button, LED and buzzer, built from BCM pin numbers (``None``: not fitted).

    ``on_command`` receives :class:`Command` objects from gpiozero's thread. Context manager;
    ``close()`` is safe twice.
    """

    def __init__(self, button_pin: int | None = None, led_pin: int | None = None,
                 buzzer_pin: int | None = None, *, on_command: Callable[[Command], None] | None = None,
                 hold_s: float = 2.0, bounce_s: float = 0.05, pin_factory=None):
        if hold_s <= 0:
            raise ValueError(f"hold_s must be > 0, not {hold_s}")
        self._on_command = on_command
        self._held = False
        self.button = self.led = self.buzzer = None
        try:
            if button_pin is not None:
                self.button = Button(button_pin, pull_up=True, bounce_time=bounce_s,
                                     hold_time=hold_s, pin_factory=pin_factory)
                self.button.when_pressed = self._pressed
                self.button.when_held = self._held_down
                self.button.when_released = self._released
            if led_pin is not None:
                self.led = LED(led_pin, pin_factory=pin_factory)
            if buzzer_pin is not None:
                self.buzzer = Buzzer(buzzer_pin, pin_factory=pin_factory)
        except BaseException:
            self.close()
            raise
        self._led_state = "off"

    # -- button: press on release (so a hold is not also a press) ---------------------------
    def _pressed(self):
        self._held = False

    def _held_down(self):
        self._held = True
        self._emit(Command("button_hold"))

    def _released(self):
        if not self._held:
            self._emit(Command("button_press"))
        self._held = False

    def _emit(self, command: Command) -> None:
        if self._on_command is None:
            return
        try:
            self._on_command(command)
        except Exception:  # a failing app callback must not kill gpiozero's thread
            log.exception("station button handler failed for %s", command.kind)

    # -- outputs ----------------------------------------------------------------------------
    @property
    def led_state(self) -> str:
        return self._led_state

    def show(self, state: str) -> None:
        """Set the status LED's pattern for a station state (see :data:`LED_PATTERNS`)."""
        if state not in LED_PATTERNS:
            raise ValueError(f"unknown LED state {state!r}; one of {', '.join(LED_PATTERNS)}")
        self._led_state = state
        if self.led is None:
            return
        pattern = LED_PATTERNS[state]
        if pattern is True:
            self.led.on()
        elif pattern is False:
            self.led.off()
        else:
            on, off = pattern
            self.led.blink(on_time=on, off_time=off, background=True)

    def beep(self, sound: str) -> None:
        """Sound a buzzer pattern in the background (never blocks the caller)."""
        if sound not in BUZZER_PATTERNS:
            raise ValueError(f"unknown buzzer sound {sound!r}; one of {', '.join(BUZZER_PATTERNS)}")
        if self.buzzer is None:
            return
        on, off, n = BUZZER_PATTERNS[sound]
        self.buzzer.blink(on_time=on, off_time=max(off, 0.001), n=n, background=True)

    def close(self) -> None:
        for name in ("button", "led", "buzzer"):
            device = getattr(self, name, None)
            if device is not None:
                device.close()
                setattr(self, name, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

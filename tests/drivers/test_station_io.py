"""The optional button, LED and buzzer, on gpiozero's MockFactory."""

import threading

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.station_io import BUZZER_PATTERNS, StationIO

#: Real seconds to wait for gpiozero's threads (a hold, a buzzer pattern): only a hang runs into
#: it, whatever the machine's load.
PATIENCE_S = 60.0


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


def test_short_press_is_one_press_command(factory):
    got = []
    with StationIO(button_pin=17, on_command=got.append, hold_s=PATIENCE_S, bounce_s=None,
                   pin_factory=factory) as io:
        pin = factory.pin(17)
        pin.drive_low()
        assert got == []  # a press acts on release, so a hold is never also a press
        pin.drive_high()
        assert [c.kind for c in got] == ["button_press"]
        assert io.button is not None


def test_hold_is_a_hold_not_a_press(factory):
    got = []
    held = threading.Event()

    def on_command(c):
        got.append(c)
        if c.kind == "button_hold":
            held.set()

    with StationIO(button_pin=17, on_command=on_command, hold_s=0.05, bounce_s=None,
                   pin_factory=factory):
        pin = factory.pin(17)
        pin.drive_low()
        assert held.wait(PATIENCE_S), "holding the button never produced a hold command"
        pin.drive_high()
    assert [c.kind for c in got] == ["button_hold"]


def test_a_failing_handler_does_not_break_the_button(factory):
    calls = []

    def bad(c):
        calls.append(c)
        raise RuntimeError("app bug")

    with StationIO(button_pin=17, on_command=bad, hold_s=PATIENCE_S, bounce_s=None,
                   pin_factory=factory):
        pin = factory.pin(17)
        for _ in range(2):
            pin.drive_low()
            pin.drive_high()
    assert len(calls) == 2


def test_led_patterns(factory):
    with StationIO(led_pin=22, pin_factory=factory) as io:
        pin = factory.pin(22)
        io.show("ready")
        assert pin.state
        io.show("idle")
        assert not pin.state
        io.show("fault")
        assert io.led_state == "fault"
        with pytest.raises(ValueError, match="unknown LED state"):
            io.show("disco")


def test_buzzer_plays_the_pattern_in_the_background(factory):
    with StationIO(buzzer_pin=27, pin_factory=factory) as io:
        pin = factory.pin(27)
        pin.clear_states()
        io.beep("good")
        io.buzzer._blink_thread.join(PATIENCE_S)
        ons = [s for s in pin.states[1:] if s.state]
        assert len(ons) == BUZZER_PATTERNS["good"][2]
        with pytest.raises(ValueError, match="unknown buzzer sound"):
            io.beep("siren")


def test_nothing_fitted_is_fine_and_close_twice(factory):
    io = StationIO(pin_factory=factory)
    io.show("live")
    io.beep("rep")
    io.close()
    io.close()


def test_pins_released_on_close(factory):
    io = StationIO(button_pin=17, led_pin=22, buzzer_pin=27, pin_factory=factory)
    io.close()
    io.close()
    # the pins can be claimed again: nothing leaked a reservation
    with StationIO(button_pin=17, led_pin=22, buzzer_pin=27, pin_factory=factory):
        pass


def test_bad_hold_time_refused():
    with pytest.raises(ValueError, match="hold_s"):
        StationIO(hold_s=0)

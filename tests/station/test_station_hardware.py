"""The optional button, LED and buzzer around the kiosk: presses become UI commands posted to the
display, the LED follows the screen, cues sound on the buzzer."""

import tomllib
from types import SimpleNamespace

from gpiozero.pins.mock import MockFactory

from station.config import SHIPPED_CONFIG_DIR, parse_config
from station.kiosk_run import StationHardware
from station.view import Cue, UICommand


def config_with_io(**pins):
    raw = tomllib.loads((SHIPPED_CONFIG_DIR / "station.toml").read_text())
    raw["io"].update(pins)
    return parse_config(raw)


def test_press_posts_a_command_led_follows_screen_cue_buzzes():
    factory = MockFactory()
    posted = []
    hw = StationHardware(config_with_io(button_pin=17, led_pin=22, buzzer_pin=27), posted.append,
                         pin_factory=factory)
    try:
        button = factory.pin(17)
        button.drive_low()
        button.drive_high()
        assert posted == [UICommand("button_press")]
        hw.on_frame(None, SimpleNamespace(screen="ready"))
        assert factory.pin(22).state and hw.io.led_state == "ready"
        hw.on_frame(None, SimpleNamespace(screen="fault"))
        assert hw.io.led_state == "fault"
        buzzer = factory.pin(27)
        buzzer.clear_states()
        hw.cue(Cue("set_done", "Set done", "say", 5, 1.0))
        hw.io.buzzer._blink_thread.join(60)   # only a hang runs into it
        assert sum(1 for s in buzzer.states[1:] if s.state) == 3
    finally:
        hw.close()
        hw.close()


def test_nothing_fitted_means_no_devices():
    hw = StationHardware(config_with_io(), lambda c: None)
    assert hw.io is None
    hw.on_frame(None, SimpleNamespace(screen="live"))
    hw.cue(Cue("rep_count", "1", "say", 3, 0.0))
    hw.close()

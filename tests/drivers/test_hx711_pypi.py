"""The hx711 PyPI backend, read through the RPi.GPIO shim against the simulated chips.

Everything runs on a VirtualClock: the package's sleeps and its 60 us check follow it, so the
tests are fast and deterministic.
"""

from __future__ import annotations

import sys

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.clock import VirtualClock
from drivers.errors import (
    BackendUnavailable,
    DeviceClosed,
    HX711BadWord,
    HX711StuckLow,
    HX711Timeout,
)
from drivers.hx711_pypi import FAULT_KINDS, SETTLE_WORDS, HX711PkgBank
from drivers.mock_hx711 import MockHX711
from drivers.mock_rpigpio import MockRPiGPIO, installed_rpigpio
from drivers.sample import WordSource

#: Words that catch mistakes in shifting and sign handling (0 and -1 included: the package's
#: get_raw_data drops both). Saturation values are tested separately.
VALUES = [0, -1, 1, -2, 123456, -123456, 0x7FFFFE, -0x7FFFFE, 0x555555, -0x2AAAAB, 2, -8]
HOLD_S = 0.1  # each value stays on the input for 8 conversions at 80 SPS


def held_values(values=VALUES, hold_s=HOLD_S):
    """A source that steps through ``values``, holding each for ``hold_s`` seconds."""
    return lambda t: values[int(t / hold_s) % len(values)]


def runs(words):
    """Consecutive distinct values, in order."""
    out = []
    for w in words:
        if not out or out[-1] != w:
            out.append(w)
    return out


@pytest.fixture
def rig():
    """A MockFactory, a VirtualClock and the shim installed as RPi.GPIO on that factory."""
    factory = MockFactory()
    clock = VirtualClock()
    chips = []

    def chip(clock_pin=5, data_pin=6, **kwargs):
        c = MockHX711(clock_pin, data_pin, pin_factory=factory, clock=clock, **kwargs)
        chips.append(c)
        return c

    with installed_rpigpio(factory) as gpio:
        yield factory, clock, chip, gpio
    for c in chips:
        c.close()


def test_words_are_bit_exact_including_zero_minus_one_and_negatives(rig):
    factory, clock, chip, _ = rig
    chip(5, 6, source=held_values())
    chip(19, 13, source=held_values([-v for v in VALUES]))
    with HX711PkgBank([5, 19], [6, 13], clock=clock) as bank:
        assert isinstance(bank, WordSource)
        rows = [bank.read(timeout=0.5) for _ in range(int(2 * len(VALUES) * HOLD_S * 80))]
    first, second = zip(*rows, strict=True)
    assert set(first) <= set(VALUES), "a word not on the input: bits shifted or sign wrong"
    assert set(first) == set(VALUES), "some values (0 and -1?) never came through"
    assert set(second) == {-v for v in VALUES}
    cycle = runs(first)
    start = VALUES.index(cycle[0])
    assert cycle == [VALUES[(start + k) % len(VALUES)] for k in range(len(cycle))]
    start_up = 2 * SETTLE_WORDS  # each chip is reset after the package's constructor, and settles
    assert bank.faults == dict.fromkeys(FAULT_KINDS, 0) | {"words": 2 * len(rows) + start_up}


def test_the_package_alone_drops_zero_and_minus_one(rig, monkeypatch):
    """Why the backend calls _read and checks `is False`: get_raw_data throws genuine words away."""
    factory, clock, chip, _ = rig
    chip(5, 6, source=lambda t: [0, -1, 5][int(t / HOLD_S) % 3])
    import hx711

    monkeypatch.setattr(hx711, "time", _PackageTime(clock))
    sensor = hx711.HX711(6, 5, gain=128)
    seen = set()
    for _ in range(40):
        seen.update(sensor.get_raw_data(times=2))
    assert seen == {5}


def test_gain_64_is_selected_on_the_chip_and_halves_the_words(rig):
    factory, clock, chip, _ = rig
    c = chip(5, 6, source=lambda t: 200_000)
    with HX711PkgBank([5], [6], gain=64, clock=clock) as bank:
        words = [bank.read(timeout=0.5)[0] for _ in range(10)]
        assert c.gain == 64
    assert words == [100_000] * 10


def test_gain_128_is_selected_on_the_chip(rig):
    factory, clock, chip, _ = rig
    c = chip(5, 6, source=lambda t: 200_000)
    with HX711PkgBank([5], [6], clock=clock) as bank:
        assert [bank.read(timeout=0.5)[0] for _ in range(5)] == [200_000] * 5
        assert c.gain == 128


def test_a_silent_chip_times_out_naming_its_gpio(rig):
    factory, clock, chip, _ = rig
    chip(5, 6, source=lambda t: 1000)
    quiet = chip(19, 13, source=lambda t: 2000)
    with HX711PkgBank([5, 19], [6, 13], clock=clock) as bank:
        assert bank.read(timeout=0.5) == [1000, 2000]
        quiet.set_silent()
        start = clock()
        with pytest.raises(HX711Timeout) as caught:
            bank.read(timeout=0.5)
        waited = clock() - start
        assert caught.value.silent_pins == (13,)
        assert "GPIO 13" in str(caught.value) and "GPIO 6" not in str(caught.value)
        assert "PD_SCK on GPIO 19" in str(caught.value)
        assert 0.5 <= waited < 0.52
        assert bank.faults["timeout"] == 1
        quiet.set_silent(False)
        assert bank.read(timeout=0.5) == [1000, 2000]


def test_the_package_alone_would_wait_forever_on_a_silent_chip(rig, monkeypatch):
    """get_raw_data has no deadline: after 10x the bank's timeout it is still polling."""
    factory, clock, chip, _ = rig
    chip(5, 6, source=lambda t: 1000).set_silent()
    import hx711

    class StillWaiting(Exception):
        pass

    def sleep(seconds):
        clock.sleep(seconds)
        if clock() > 10.0:
            raise StillWaiting

    monkeypatch.setattr(hx711, "time", _PackageTime(clock, sleep))
    sensor = hx711.HX711(6, 5, gain=128)
    with pytest.raises(StillWaiting):
        sensor.get_raw_data(times=2)


def test_all_silent_chips_are_named(rig):
    factory, clock, chip, _ = rig
    chip(5, 6).set_silent()
    chip(19, 13).set_silent()
    with HX711PkgBank([5, 19], [6, 13], clock=clock) as bank:
        with pytest.raises(HX711Timeout, match="GPIO 6, 13") as caught:
            bank.read(timeout=0.25)
    assert caught.value.silent_pins == (6, 13)


def test_saturated_words_are_counted_and_never_returned(rig):
    factory, clock, chip, _ = rig
    c = chip(5, 6, source=lambda t: 1234)
    chip(19, 13, source=lambda t: 5678)
    with HX711PkgBank([5, 19], [6, 13], clock=clock) as bank:
        assert bank.read(timeout=0.5) == [1234, 5678]
        c.set_saturated(+1)
        with pytest.raises(HX711BadWord, match="GPIO 6 sent only saturated words") as caught:
            bank.read(timeout=0.1)
        assert caught.value.pins == (6,) and caught.value.kinds == ("saturated",)
        assert bank.faults["saturated"] == 8  # one per conversion in 0.1 s at 80 SPS
        c.set_saturated(-1)
        with pytest.raises(HX711BadWord):
            bank.read(timeout=0.1)
        c.set_saturated(None)
        assert bank.read(timeout=0.5) == [1234, 5678]
        assert bank.faults["timeout"] == 2


def test_a_saturated_word_between_good_ones_is_skipped(rig):
    factory, clock, chip, _ = rig
    full = 0x7FFFFF
    chip(5, 6, source=lambda t: [100, full + 5, 100][int(t / 0.03) % 3])  # clipped to full scale
    with HX711PkgBank([5], [6], clock=clock) as bank:
        words = [bank.read(timeout=0.5)[0] for _ in range(30)]
        assert words == [100] * 30
        assert bank.faults["saturated"] > 0


def test_a_clock_held_high_mid_word_is_counted_and_the_unsettled_words_never_returned(rig):
    factory, clock, chip, _ = rig
    c = chip(5, 6, source=held_values())
    with HX711PkgBank([5], [6], clock=clock) as bank:
        bank.read(timeout=0.5)
        power_downs = c.power_downs
        c.stall_next_high(0.0002)  # the reader lost the CPU for 200 us with PD_SCK high
        words = [bank.read(timeout=0.5)[0] for _ in range(40)]
        assert bank.faults["power_down"] == 1
        assert bank.faults["unsettled"] == SETTLE_WORDS
        assert c.power_downs - power_downs == 2  # the stall, then the reset on purpose
    assert set(words) <= set(VALUES)


def test_a_slow_gain_pulse_does_not_lose_the_word_or_hang(rig, monkeypatch):
    """Stall the 25th pulse (gain select): the word is good, the chip resets and must settle."""
    factory, clock, chip, gpio = rig
    c = chip(5, 6, source=lambda t: 4321)
    with HX711PkgBank([5], [6], clock=clock) as bank:
        assert bank.read(timeout=0.5) == [4321]
        power_downs = c.power_downs
        plain_output = gpio.output
        highs = []

        def output_then_stall(pin, value):
            plain_output(pin, value)
            if pin == 5 and value:
                highs.append(1)
            elif pin == 5 and len(highs) == 24:  # 24 bits shifted: the next high selects the gain
                c.stall_next_high(0.0002)

        monkeypatch.setattr(gpio, "output", output_then_stall)
        assert bank.read(timeout=0.5) == [4321]
        assert bank.faults["power_down"] == 1
        monkeypatch.setattr(gpio, "output", plain_output)
        assert [bank.read(timeout=0.5)[0] for _ in range(5)] == [4321] * 5
        assert bank.faults["unsettled"] == SETTLE_WORDS
    assert c.power_downs - power_downs == 2  # the stall, then the reset on purpose


def test_a_dout_stuck_low_is_reported(rig):
    factory, clock, chip, _ = rig
    c = chip(5, 6, source=lambda t: 99)
    with HX711PkgBank([5], [6], clock=clock) as bank:
        assert bank.read(timeout=0.5) == [99]
        c.set_stuck_low()
        with pytest.raises(HX711StuckLow, match="GPIO 6 held DOUT low") as caught:
            bank.read(timeout=0.5)
        assert caught.value.pins == (6,)
        assert bank.faults["stuck_low"] == 1


def test_without_rpi_gpio_the_error_says_what_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "hx711", raising=False)
    monkeypatch.setitem(sys.modules, "RPi", None)  # as on a machine without RPi.GPIO
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    with pytest.raises(BackendUnavailable) as caught:
        HX711PkgBank([5], [6])
    message = str(caught.value)
    assert "needs RPi.GPIO" in message and "pip install RPi.GPIO" in message
    assert "shared-clock reader" in message
    assert isinstance(caught.value, ImportError)
    assert "hx711" not in sys.modules


@pytest.mark.parametrize(("clock_pins", "data_pins", "gain", "match"), [
    ([5, 5], [6, 13], 128, "shared-clock reader"),
    ([5, 19], [6, 6], 128, "own DOUT"),
    ([5], [6, 13], 128, "one PD_SCK and one DOUT"),
    ([5], [5], 128, "both PD_SCK and DOUT"),
    ([5], [6], 32, "channel B"),
    ([5], [40], 128, "0-27"),
    ([], [], 128, "empty"),
])
def test_bad_wiring_is_refused_at_once(clock_pins, data_pins, gain, match):
    with pytest.raises(ValueError, match=match):
        HX711PkgBank(clock_pins, data_pins, gain=gain)  # no RPi.GPIO needed to say so


def test_close_twice_releases_the_pins_and_read_after_close_fails(rig):
    factory, clock, chip, _ = rig
    chip(5, 6, source=lambda t: 7)
    bank = HX711PkgBank([5], [6], clock=clock)
    assert factory.pin(5).function == "output"
    bank.close()
    bank.close()
    assert factory.pin(5).function == "input"
    with pytest.raises(DeviceClosed, match="closed"):
        bank.read()


def test_the_package_globals_are_restored_after_each_call(rig):
    factory, clock, chip, gpio = rig
    chip(5, 6, source=lambda t: 7)
    import hx711

    before = (hx711.time, hx711.GPIO)
    with HX711PkgBank([5], [6], clock=clock) as bank:
        bank.read(timeout=0.5)
        assert (hx711.time, hx711.GPIO) == before
    assert hx711.GPIO is gpio


class _PackageTime:
    def __init__(self, clock, sleep=None):
        self.perf_counter = clock
        self.sleep = sleep or clock.sleep


# -- the shim --------------------------------------------------------------------------------------
def test_shim_drives_and_reads_the_factory_pins():
    factory = MockFactory()
    gpio = MockRPiGPIO(factory)
    with pytest.raises(RuntimeError, match="setmode"):
        gpio.setup(5, gpio.OUT)
    gpio.setmode(gpio.BCM)
    with pytest.raises(ValueError, match="BCM"):
        gpio.setmode(gpio.BOARD)
    gpio.setup(5, gpio.OUT, initial=gpio.HIGH)
    assert factory.pin(5).state
    gpio.output(5, False)
    assert not factory.pin(5).state
    gpio.setup(6, gpio.IN)
    factory.pin(6).drive_high()
    assert gpio.input(6) == 1 and type(gpio.input(6)) is int
    factory.pin(6).drive_low()
    assert gpio.input(6) == 0
    with pytest.raises(RuntimeError, match="OUTPUT"):
        gpio.output(6, 1)
    with pytest.raises(RuntimeError, match="setup"):
        gpio.input(7)
    gpio.cleanup()
    assert factory.pin(5).function == "input"
    assert gpio.getmode() is None


def test_installed_rpigpio_is_importable_and_removed_afterwards():
    factory = MockFactory()
    before = {name: sys.modules.get(name, "absent") for name in ("RPi", "RPi.GPIO", "hx711")}
    with installed_rpigpio(factory) as gpio:
        import RPi.GPIO as imported

        assert imported is gpio and imported.pin_factory is factory
    assert {name: sys.modules.get(name, "absent") for name in before} == before


def test_at_gain_64_the_word_converted_at_gain_128_after_a_reset_is_discarded_too(rig):
    """After a power-down the chip converts one word at gain 128 before the reader re-selects 64;
    with gain changes unsettling the chip as well, five words must go."""
    factory, clock, chip, _ = rig
    c = chip(5, 6, source=lambda t: 300_000, unsettled_after_gain_change=True)
    with HX711PkgBank([5], [6], gain=64, clock=clock) as bank:
        assert bank.read(timeout=0.5) == [150_000]
        c.stall_next_high(0.0002)
        assert [bank.read(timeout=0.5)[0] for _ in range(10)] == [150_000] * 10
        assert bank.faults["power_down"] == 1
        assert bank.faults["unsettled"] == SETTLE_WORDS + 1


def test_a_word_the_package_abandons_without_a_real_power_down_does_not_wedge_the_chip(rig,
                                                                                        monkeypatch):
    """The package times PD_SCK from before raising it, so it can see > 60 us where the chip saw
    less: it then abandons the word half-shifted. The chip, still waiting for pulses, shows a data
    bit on DOUT (here a 1: 'not ready' for ever) unless the bank resets it."""
    factory, clock, chip, gpio = rig
    c = chip(5, 6, source=lambda t: 0x3FFFFF)
    with HX711PkgBank([5], [6], clock=clock) as bank:
        assert bank.read(timeout=0.5) == [0x3FFFFF]
        power_downs = c.power_downs
        plain_output = gpio.output
        highs = []

        def output_late(pin, value):
            if pin == 5 and value:
                highs.append(1)
                if len(highs) == 5:  # the package has started its 60 us timer: lose 100 us here
                    clock.advance(0.0001)
            plain_output(pin, value)

        monkeypatch.setattr(gpio, "output", output_late)
        assert [bank.read(timeout=0.5)[0] for _ in range(5)] == [0x3FFFFF] * 5
        assert bank.faults["power_down"] == 1
        assert bank.faults["unsettled"] == SETTLE_WORDS
    assert c.power_downs - power_downs == 1  # only the bank's reset: the chip itself never saw 60 us


def test_a_word_abandoned_in_the_package_constructor_does_not_wedge_the_chip(rig, monkeypatch):
    """The package's constructor ignores its reads' result: a word it abandons there leaves the
    chip mid-word. The bank starts every chip from a reset."""
    factory, clock, chip, gpio = rig
    c = chip(5, 6, source=lambda t: 0x3FFFFF)
    plain_output = gpio.output
    highs = []

    def output_late(pin, value):
        if pin == 5 and value:
            highs.append(1)
            if len(highs) == 27 + 5:  # 5th bit of the constructor's second read
                clock.advance(0.0001)
        plain_output(pin, value)

    monkeypatch.setattr(gpio, "output", output_late)
    with HX711PkgBank([5], [6], clock=clock) as bank:
        assert len(highs) > 32, "the constructor's second read was not reached"
        assert [bank.read(timeout=0.5)[0] for _ in range(5)] == [0x3FFFFF] * 5
        assert bank.faults["power_down"] == 0 and bank.faults["unsettled"] == 0
    assert c.power_downs == 1  # the bank's start-up reset

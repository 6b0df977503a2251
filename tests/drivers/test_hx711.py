"""The real HX711 reader against the protocol-level simulated chips.

A VirtualClock is injected into the chips and the reader alike: the reader's short polling sleeps
advance it, so conversions, deadlines and the 60 us power-down rule are all deterministic.
"""

from __future__ import annotations

import pytest
from gpiozero import LED, Device
from gpiozero.exc import GPIOPinInUse, PinInvalidPin
from gpiozero.pins.mock import MockFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.clock import VirtualClock
from drivers.errors import (
    BackendUnavailable,
    DeviceClosed,
    HX711BadWord,
    HX711Error,
    HX711StuckLow,
    HX711Timeout,
)
from drivers.hx711 import HX711Bank, to_signed
from drivers.mock_hx711 import MockHX711
from drivers.sample import WordSource

RATE = 80.0
PERIOD = 1 / RATE
T0 = 1000.0  # virtual clock start: sources see absolute times, like a real monotonic clock


def counting(phase: float = 0.0, start: float = T0):
    """A source whose word is the index of the conversion it was sampled for."""
    return lambda t: round((t - start - phase) * RATE)


def held(values, start: float = T0, phase: float = 0.0):
    """A source that gives ``values[k]`` to conversion k (then holds the last one)."""
    return lambda t: values[min(len(values) - 1, round((t - start - phase) * RATE))]


def constant(value: int):
    return lambda t: value


@pytest.fixture
def rig():
    """A MockFactory and a VirtualClock; ``chip(...)`` builds a simulated HX711 on them."""
    factory = MockFactory()
    clock = VirtualClock(T0)
    chips: list[MockHX711] = []

    def chip(clock_pin=5, data_pin=6, **kwargs):
        c = MockHX711(clock_pin, data_pin, pin_factory=factory, clock=clock, **kwargs)
        chips.append(c)
        return c

    def bank(clock_pin=5, data_pins=(6,), **kwargs):
        return HX711Bank(clock_pin, list(data_pins), pin_factory=factory, clock=clock, **kwargs)

    yield factory, clock, chip, bank
    for c in chips:
        c.close()


# -- words --------------------------------------------------------------------------------------

EDGES = [-0x7FFFFF, -0x7FFFFE, -2, 0, 1, 2, 0x7FFFFE, 0x555555, -0x555556, 0x400000, -0x400000,
         0x0000FF, -0x000100, 123456, -123456]


def test_words_are_bit_exact_at_the_edges_of_the_range(rig):
    factory, clock, chip, bank = rig
    settle = 4
    values = [0] * (settle + 1) + EDGES
    chip(source=held(values))
    with bank(settle_words=settle) as b:
        assert isinstance(b, WordSource)
        words = [b.read()[0] for _ in EDGES]
    assert words == EDGES
    assert b.faults["saturated"] == b.faults["all_ones"] == 0


# derandomized, as every hypothesis test in CI (tests/fuzz/fuzzkit.py): the same 60 sequences
# each run, no example database
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(-0x7FFFFF, 0x7FFFFE).filter(lambda v: v != -1), min_size=1,
                max_size=60))
def test_any_sequence_of_words_comes_back_in_order_and_bit_exact(values):
    factory, clock = MockFactory(), VirtualClock(T0)
    with MockHX711(5, 6, pin_factory=factory, clock=clock, source=held([0] * 5 + values)):
        with HX711Bank(5, [6], pin_factory=factory, clock=clock) as b:
            assert [b.read()[0] for _ in values] == values


def test_minus_one_is_indistinguishable_from_all_ones_and_is_dropped(rig):
    """A genuine -1 has the bit pattern of a DOUT that went high: it is never returned."""
    factory, clock, chip, bank = rig
    chip(source=held([0] * 5 + [-1, -1, 7]))
    with bank() as b:
        assert b.read() == [7]
        assert b.faults["all_ones"] == 2


def test_two_complement_conversion():
    assert to_signed(0x000000) == 0
    assert to_signed(0x7FFFFF) == 0x7FFFFF
    assert to_signed(0x800000) == -0x800000
    assert to_signed(0xFFFFFF) == -1
    assert to_signed(0x800001) == -0x7FFFFF


# -- gain -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gain, expected", [(128, 200_000), (64, 100_000), (32, -3_000)])
def test_gain_is_selected_on_the_chip_and_words_scale_as_the_chip_says(rig, gain, expected):
    factory, clock, chip, bank = rig
    c = chip(source=lambda t: 200_000, channel_b_source=lambda t: -3_000)
    with bank(gain=gain) as b:
        words = [b.read()[0] for _ in range(8)]
        assert c.gain == gain
    assert words == [expected] * 8


def test_a_gain_change_at_run_time_never_returns_old_gain_or_unsettled_words(rig):
    factory, clock, chip, bank = rig
    c = chip(source=lambda t: 200_000, channel_b_source=lambda t: -3_000,
             unsettled_after_gain_change=True)
    with bank() as b:
        assert b.read() == [200_000]
        b.gain = 32
        assert b.gain == 32
        made = c.words_read
        assert [b.read()[0] for _ in range(10)] == [-3_000] * 10
        assert c.gain == 32
        # the word in flight (gain 128) and the 4 settling words were read and thrown away
        assert c.words_read - made == 10 + 1 + 4
        b.gain = 64
        assert [b.read()[0] for _ in range(5)] == [100_000] * 5
        assert c.gain == 64


def test_gain_setter_validates(rig):
    factory, clock, chip, bank = rig
    chip()
    with bank() as b:
        with pytest.raises(ValueError, match="gain"):
            b.gain = 100
        assert b.gain == 128


# -- faults -----------------------------------------------------------------------------------------

def test_a_clock_held_high_is_a_power_down_counted_and_the_unsettled_words_never_returned(rig):
    factory, clock, chip, bank = rig
    c = chip(source=lambda t: 50_000)
    with bank(gain=64) as b:
        assert b.read() == [25_000]
        c.stall_next_high(200e-6)  # the reader lost the CPU for 200 us with PD_SCK high
        read_before = c.words_read
        words = [b.read()[0] for _ in range(20)]
        assert words == [25_000] * 20   # never an unsettled word, never a gain-128 word
        assert b.faults["power_down"] == 1
        assert c.power_downs >= 1
        assert c.gain == 64             # re-selected after the chip reset to 128
        # after the reset: 1 word at gain 128 and 4 settling words were read and discarded
        assert c.words_read - read_before == 20 + 1 + 4
        assert b.faults["unsettled"] == 5 + 5  # construction + recovery


def test_a_stall_on_the_gain_pulse_is_caught_too(rig):
    """The word is whole when the 25th pulse stalls, but the chip reset: gain 64 must come back."""
    factory, clock, chip, bank = rig
    c = chip(source=lambda t: 50_000)
    dout = factory.pin(6)
    with bank(gain=64) as b:
        assert b.read() == [25_000]
        levels = []
        plain = dout._get_state

        def level_then_stall():
            level = plain()
            levels.append(level)
            if len(levels) == 25:   # the ready check and 24 bits: the next high is pulse 25
                c.stall_next_high(200e-6)
            return level

        dout._get_state = level_then_stall
        clock.advance(PERIOD)
        words = [b.read()[0] for _ in range(10)]
        del dout._get_state
        assert b.faults["power_down"] == 1
        assert words == [25_000] * 10 and c.gain == 64


def test_spikes_on_many_reads_are_all_caught(rig):
    factory, clock, chip, bank = rig
    c = chip(source=lambda t: 1234)
    with bank() as b:
        for _ in range(5):
            assert b.read() == [1234]
            c.stall_next_high(61e-6)
        assert b.read() == [1234]
        assert b.faults["power_down"] == 5


def test_a_short_high_phase_is_not_a_power_down(rig):
    factory, clock, chip, bank = rig
    c = chip(source=lambda t: 1234)
    with bank() as b:
        b.read()
        c.stall_next_high(40e-6)
        assert b.read() == [1234]
        assert b.faults["power_down"] == 0 and c.power_downs == 0


@pytest.mark.parametrize("sign, code", [(+1, 0x7FFFFF), (-1, 0x800000)])
def test_saturation_is_counted_never_returned_and_named_at_the_deadline(rig, sign, code):
    factory, clock, chip, bank = rig
    c = chip(source=lambda t: 1234)
    chip(5, 13, source=lambda t: 99)
    with bank(5, (6, 13)) as b:
        assert b.read() == [1234, 99]
        c.set_saturated(sign)
        with pytest.raises(HX711BadWord) as caught:
            b.read(timeout=0.1)
        assert caught.value.pins == (6,) and caught.value.kinds == ("saturated",)
        assert "GPIO 6" in str(caught.value) and "overloaded" in str(caught.value)
        assert "GPIO 13" not in str(caught.value)
        assert b.faults["saturated"] >= 7   # one per conversion for 0.1 s
        c.set_saturated(None)
        assert b.read() == [1234, 99]


def test_a_transient_overload_is_skipped_within_the_deadline(rig):
    factory, clock, chip, bank = rig
    chip(source=held([0] * 5 + [0x900000, -0x900000, 0x800000, 42]))  # clipped by the chip
    with bank() as b:
        assert b.read() == [42]
        assert b.faults["saturated"] == 3


def test_a_dout_stuck_low_raises_at_once_naming_the_gpio(rig):
    factory, clock, chip, bank = rig
    chip(source=lambda t: 1234)
    c = chip(5, 13, source=lambda t: 99)
    with bank(5, (6, 13)) as b:
        b.read()
        c.set_stuck_low()
        start = clock()
        with pytest.raises(HX711StuckLow) as caught:
            b.read(timeout=1.0)
        assert clock() - start < PERIOD   # no point retrying a shorted wire
        assert caught.value.pins == (13,)
        assert "GPIO 13" in str(caught.value) and "GPIO 6" not in str(caught.value)
        assert b.faults["stuck_low"] == 1
        c.set_stuck_low(False)
        assert b.read() == [1234, 99]


def test_a_genuine_zero_is_not_mistaken_for_a_stuck_dout(rig):
    factory, clock, chip, bank = rig
    chip(source=lambda t: 0)
    with bank() as b:
        assert [b.read()[0] for _ in range(5)] == [0] * 5
        assert b.faults["stuck_low"] == 0


def test_a_silent_chip_times_out_naming_its_gpio(rig):
    factory, clock, chip, bank = rig
    chip(source=lambda t: 1000)
    quiet = chip(5, 13, source=lambda t: 2000)
    with bank(5, (6, 13)) as b:
        assert b.read() == [1000, 2000]
        quiet.set_silent()
        start = clock()
        with pytest.raises(HX711Timeout) as caught:
            b.read(timeout=0.5)
        waited = clock() - start
        assert caught.value.silent_pins == (13,)
        msg = str(caught.value)
        assert "GPIO 13" in msg and "GPIO 6" not in msg and "0.5 s" in msg
        assert "PD_SCK on GPIO 5" in msg
        assert 0.5 <= waited <= 0.5 + b.poll_interval
        assert b.faults["timeout"] == 1
        quiet.set_silent(False)
        assert b.read() == [1000, 2000]


def test_a_dout_stuck_high_is_a_silent_chip(rig):
    factory, clock, chip, bank = rig
    chip().set_stuck_high()
    with bank() as b, pytest.raises(HX711Timeout) as caught:
        b.read(timeout=0.2)
    assert caught.value.silent_pins == (6,)


def test_the_wait_polls_with_short_sleeps_never_a_blind_one(rig):
    factory, clock, chip, bank = rig
    chip().set_silent()
    naps = []

    def sleep(s):
        naps.append(s)
        clock.sleep(s)

    with HX711Bank(5, [6], pin_factory=factory, clock=clock, sleep=sleep,
                   poll_interval=0.001) as b, pytest.raises(HX711Timeout):
        b.read(timeout=0.25)
    assert 0 < max(naps) <= 0.001
    assert abs(sum(naps) - 0.25) < 1e-9


def test_unsettled_words_after_power_up_are_never_returned(rig):
    factory, clock, chip, bank = rig
    c = chip(source=lambda t: 1000)
    with bank() as b:
        assert b.read() == [1000]
        b.power_down()
        assert b.powered_down
        with pytest.raises(HX711Error, match="power_up"):
            b.read()
        clock.advance(0.01)
        b.power_up()
        assert c.power_downs == 1
        read_before = c.words_read
        assert [b.read()[0] for _ in range(10)] == [1000] * 10
        assert c.words_read - read_before == 10 + 4   # 4 unsettled words read and dropped


def test_settling_past_the_deadline_says_so(rig):
    factory, clock, chip, bank = rig
    chip(source=lambda t: 1000)
    with bank() as b:
        b.read()
        b.gain = 64
        with pytest.raises(HX711Timeout, match="settling") as caught:
            b.read(timeout=0.02)
        assert caught.value.silent_pins == ()


# -- several chips ------------------------------------------------------------------------------------

def test_four_chips_on_one_shared_clock_with_different_phases(rig):
    factory, clock, chip, bank = rig
    pins = (6, 13, 19, 26)
    phases = (0.0, 0.003, 0.006, 0.009)
    chips = [chip(5, p, source=counting(ph), phase=ph) for p, ph in zip(pins, phases, strict=True)]
    with bank(5, pins) as b:
        rows = [b.read() for _ in range(800)]   # 10 s
    for i, c in enumerate(chips):
        column = [r[i] for r in rows]
        assert column == list(range(column[0], column[0] + len(column))), f"chip {i} skipped"
        assert c.words_lost == 0
        assert c.gain == 128


def test_one_clock_per_chip_and_mixed_groups(rig):
    factory, clock, chip, bank = rig
    wiring = [(5, 6), (20, 13), (21, 19), (21, 26)]   # chips 3 and 4 share PD_SCK on GPIO 21
    chips = [chip(clk, dout, source=constant(1000 * k - 7), phase=0.002 * k)
             for k, (clk, dout) in enumerate(wiring, start=1)]
    with bank([c for c, _ in wiring], [d for _, d in wiring], gain=64) as b:
        rows = [b.read() for _ in range(50)]
    assert rows == [[(1000 * k - 7) // 2 for k in range(1, 5)]] * 50
    assert all(c.gain == 64 and c.words_lost == 0 for c in chips)


def test_no_word_lost_over_ten_minutes_at_80_sps(rig):
    factory, clock, chip, bank = rig
    c = chip(source=counting(0.004), phase=0.004)
    with bank(poll_interval=0.001) as b:
        first = b.read()[0]
        n = int(600 * RATE)
        words = [b.read()[0] for _ in range(n)]
    assert words == list(range(first + 1, first + 1 + n))
    assert c.words_lost == 0
    assert c.words_made == c.words_read
    assert clock() - T0 == pytest.approx(600, abs=0.2)
    assert b.faults["power_down"] == b.faults["timeout"] == 0


# -- lifecycle and validation --------------------------------------------------------------------

def test_close_twice_context_manager_and_read_after_close(rig):
    factory, clock, chip, bank = rig
    chip(source=lambda t: 5)
    with bank() as b:
        assert b.read() == [5]
    assert b.closed
    b.close()
    with pytest.raises(DeviceClosed):
        b.read()
    with bank() as again:   # the pins were released
        assert again.read() == [5]


def test_pins_are_reserved_like_any_gpiozero_device(rig):
    factory, clock, chip, bank = rig
    chip()
    with bank():
        with pytest.raises(GPIOPinInUse):
            LED(5, pin_factory=factory)
        with pytest.raises(GPIOPinInUse):
            bank()
    led = LED(6, pin_factory=factory)
    with pytest.raises(GPIOPinInUse):
        bank()
    led.close()


@pytest.mark.parametrize("kwargs, match", [
    (dict(data_pins=()), "empty"),
    (dict(data_pins=(6, 6)), "twice"),
    (dict(data_pins=(6, 5)), "both"),
    (dict(clock_pin=[5, 20], data_pins=(6,)), "one per chip"),
    (dict(data_pins=(-1,)), "GPIO number"),
    (dict(data_pins=("6",)), "GPIO number"),
    (dict(gain=100), "gain"),
    (dict(rate_hz=0), "rate_hz"),
    (dict(settle_words=-1), "settle_words"),
    (dict(poll_interval=0.01), "poll_interval"),
    (dict(poll_interval=0), "poll_interval"),
])
def test_arguments_are_validated_at_once(rig, kwargs, match):
    factory, clock, chip, bank = rig
    with pytest.raises(ValueError, match=match):
        bank(**kwargs)
    with bank():   # nothing was left reserved
        pass


def test_a_pin_that_does_not_exist_releases_what_was_reserved(rig):
    factory, clock, chip, bank = rig
    with pytest.raises(PinInvalidPin):
        bank(5, (6, 99))
    with bank(5, (6,)):
        pass


def test_the_default_pin_factory_is_gpiozeros_and_its_absence_is_explained(rig, monkeypatch):
    factory, clock, chip, bank = rig
    chip(source=lambda t: 11)
    monkeypatch.setattr(Device, "pin_factory", factory)
    with HX711Bank(5, [6], clock=clock) as b:
        assert b.pin_factory is factory
        assert b.read() == [11]
    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    with pytest.raises(BackendUnavailable, match="pin factory"):
        HX711Bank(5, [6], clock=clock)


def test_read_validates_its_timeout(rig):
    factory, clock, chip, bank = rig
    chip()
    with bank() as b, pytest.raises(ValueError, match="timeout"):
        b.read(timeout=-1)

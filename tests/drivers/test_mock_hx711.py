"""The simulated HX711 checked against the datasheet, by driving its pins by hand (no reader).

Each test toggles PD_SCK and samples DOUT the way the datasheet's timing diagram describes, so the
simulated chip is checked independently of any reader that will later be tested against it.
"""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.clock import VirtualClock
from drivers.mock_hx711 import SETTLE_WORDS, UNSETTLED_OFFSET, MockHX711

PERIOD = 1 / 80


@pytest.fixture
def rig():
    factory = MockFactory()
    clock = VirtualClock(50.0)

    def chip(clock_pin=5, data_pin=6, **kwargs):
        return MockHX711(clock_pin, data_pin, pin_factory=factory, clock=clock, **kwargs)

    def pins(clock_pin=5, data_pin=6):
        clk = factory.pin(clock_pin)
        clk.function = "output"
        clk.state = False
        return clk, factory.pin(data_pin)

    return factory, clock, chip, pins


def read_word(clk, dout, pulses=25, sample_while_high=True):
    """Shift one word out as the datasheet draws it; returns (unsigned word, DOUT after pulse 25)."""
    word = 0
    after_25 = None
    for n in range(1, pulses + 1):
        clk.state = True
        bit = dout.state if sample_while_high else None
        clk.state = False
        if not sample_while_high:
            bit = dout.state
        if n <= 24:
            word = (word << 1) | bit
        elif n == 25:
            after_25 = dout.state
    return word, after_25


def test_dout_goes_low_when_the_first_conversion_is_done(rig):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: 1, phase=0.005)
    clk, dout = pins()
    assert dout.state            # converting: not ready
    clock.advance(0.0049)
    assert dout.state
    clock.advance(0.0002)
    assert not dout.state        # word ready
    assert c.words_made == 1


@pytest.mark.parametrize("value", [0, 1, -1, 0x7FFFFE, -0x7FFFFF, 0x5A5A5A, -0x123456])
def test_24_pulses_shift_the_twos_complement_word_msb_first(rig, value):
    factory, clock, chip, pins = rig
    chip(source=lambda t: value)
    clk, dout = pins()
    word, after_25 = read_word(clk, dout)
    assert word == value & 0xFFFFFF
    assert after_25 is True      # the 25th pulse pulls DOUT back high


def test_the_bit_is_valid_after_the_rising_edge_and_held_while_low(rig):
    factory, clock, chip, pins = rig
    chip(source=lambda t: 0x800001 - 0x1000000)   # 1000 0000 ... 0001
    clk, dout = pins()
    assert read_word(clk, dout, sample_while_high=True)[0] == 0x800001
    clock.advance(PERIOD)
    assert read_word(clk, dout, sample_while_high=False)[0] == 0x800001


def test_dout_stays_high_after_the_read_until_the_next_conversion(rig):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: 7)
    clk, dout = pins()
    read_word(clk, dout)
    assert dout.state
    clock.advance(PERIOD * 0.99)
    assert dout.state
    clock.advance(PERIOD * 0.02)
    assert not dout.state
    assert (c.words_made, c.words_read, c.words_lost) == (2, 1, 0)


@pytest.mark.parametrize("pulses, gain, expected", [(25, 128, 20_000), (26, 32, -500),
                                                    (27, 64, 10_000)])
def test_25_26_27_pulses_select_the_gain_of_the_next_conversion(rig, pulses, gain, expected):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: 20_000, channel_b_source=lambda t: -500)
    clk, dout = pins()
    assert read_word(clk, dout, pulses)[0] == 20_000   # this word was converted at gain 128
    assert c.gain == gain
    clock.advance(PERIOD)
    assert read_word(clk, dout)[0] == expected & 0xFFFFFF


def test_gain_64_halves_channel_a_rounding_down(rig):
    factory, clock, chip, pins = rig
    chip(source=lambda t: -3)
    clk, dout = pins()
    read_word(clk, dout, 27)
    clock.advance(PERIOD)
    assert read_word(clk, dout)[0] == -2 & 0xFFFFFF


def test_clock_high_past_60us_powers_down_and_resets_to_a128_with_unsettled_words(rig):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: 1000)
    clk, dout = pins()
    read_word(clk, dout, 27)                       # select gain 64
    assert c.gain == 64
    clock.advance(PERIOD)
    assert not dout.state
    clk.state = True
    clock.advance(61e-6)
    assert dout.state                               # powered down: the word is gone
    assert c.power_downs == 1
    clock.advance(0.5)
    assert dout.state and c.words_made == 2         # no conversions while powered down
    clk.state = False                               # power up: reset
    assert c.gain == 128
    assert dout.state
    words = []
    for _ in range(SETTLE_WORDS + 2):
        clock.advance(PERIOD)
        assert not dout.state
        words.append(read_word(clk, dout)[0])
    assert words == [1000 - UNSETTLED_OFFSET & 0xFFFFFF] * SETTLE_WORDS + [1000] * 2
    assert c.words_lost == 1


def test_clock_high_under_60us_does_nothing(rig):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: 1000)
    clk, dout = pins()
    clk.state = True
    clock.advance(50e-6)
    clk.state = False
    assert c.power_downs == 0
    assert dout.state == bool((1000 >> 23) & 1)    # the first bit went out


def test_stall_next_high_advances_the_clock_and_powers_every_chip_on_the_line_down(rig):
    factory, clock, chip, pins = rig
    a = chip(5, 6, source=lambda t: 1)
    b = chip(5, 13, source=lambda t: 2)
    clk, _ = pins(5, 6)
    b.stall_next_high(100e-6)
    before = clock()
    clk.state = True
    assert clock() - before == pytest.approx(100e-6)
    clk.state = False
    assert a.power_downs == b.power_downs == 1


def test_an_unread_word_is_overwritten_and_counted_lost(rig):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: round((t - 50.0) * 80))
    clk, dout = pins()
    clock.advance(3 * PERIOD + 0.001)
    assert not dout.state
    assert read_word(clk, dout)[0] == 3           # the newest word
    assert (c.words_made, c.words_lost) == (4, 3)


def test_a_conversion_during_the_shift_keeps_the_word_and_is_lost(rig):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: round((t - 50.0) * 80) + 100, phase=0.001)
    clk, dout = pins()
    clock.advance(PERIOD)                          # word 0 ready (made at 0.001)
    word = 0
    for n in range(24):
        clk.state = True
        clk.state = False
        word = (word << 1) | dout.state
        if n == 11:
            clock.advance(PERIOD)                  # word 1 completes mid-shift
    assert word == 100
    clk.state = True
    clk.state = False
    assert dout.state                              # no new word: it was lost
    assert c.words_lost == 1
    clock.advance(PERIOD)
    assert read_word(clk, dout)[0] == 102


def test_a_silent_chip_never_converts(rig):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: 1, phase=0.005)
    c.set_silent()
    clk, dout = pins()
    clock.advance(1.0)
    assert dout.state and c.words_made == 0
    c.set_silent(False)
    clock.advance(PERIOD)
    assert not dout.state


def test_stuck_lines_and_saturation(rig):
    factory, clock, chip, pins = rig
    c = chip(source=lambda t: 1)
    clk, dout = pins()
    c.set_stuck_low()
    assert read_word(clk, dout) == (0, False)
    c.set_stuck_low(False)
    c.set_saturated(+1)
    clock.advance(PERIOD)
    assert read_word(clk, dout)[0] == 0x7FFFFF
    c.set_saturated(-1)
    clock.advance(PERIOD)
    assert read_word(clk, dout)[0] == 0x800000
    c.set_saturated(None)
    clock.advance(PERIOD)
    assert read_word(clk, dout)[0] == 1
    with pytest.raises(ValueError):
        c.set_saturated(2)


def test_an_overloaded_input_saturates(rig):
    factory, clock, chip, pins = rig
    chip(source=lambda t: 10**9)
    clk, dout = pins()
    assert read_word(clk, dout)[0] == 0x7FFFFF


def test_chips_on_one_clock_line_shift_together(rig):
    factory, clock, chip, pins = rig
    chip(5, 6, source=lambda t: 0x123456)
    chip(5, 13, source=lambda t: -2)
    clk, d6 = pins(5, 6)
    d13 = factory.pin(13)
    w6 = w13 = 0
    for _ in range(24):
        clk.state = True
        clk.state = False
        w6 = (w6 << 1) | d6.state
        w13 = (w13 << 1) | d13.state
    assert (w6, w13) == (0x123456, 0xFFFFFE)


def test_pins_must_be_fresh_and_close_is_safe_twice(rig):
    factory, clock, chip, pins = rig
    factory.pin(20)
    with pytest.raises(ValueError, match="build the MockHX711"):
        chip(20, 6)
    c = chip(5, 6)
    with pytest.raises(ValueError, match="another MockHX711"):
        chip(5, 6)
    c.close()
    c.close()
    with chip(5, 6, source=lambda t: 3) as again:   # the pins are free for a new chip
        clk, dout = pins()
        assert read_word(clk, dout)[0] == 3
    assert again.words_read == 1
    with pytest.raises(ValueError):
        chip(5, 5)
    with pytest.raises(ValueError):
        chip(rate_hz=0)

"""How ``gym-station bench`` scores the two HX711 readers: known words in, known figures out.

Everything runs on a VirtualClock (the chips, the readers' polling, the package's ``time``), so
the figures are exact and nothing here depends on how loaded the machine is."""

import sys
import types

import pytest

import station.bench_driver as bench_driver
import station.bench_hx711pkg as bench_pkg
from drivers.clock import VirtualClock
from drivers.mock_hx711 import new_mock_factory
from station.bench_chips import CHIPS, RATE_HZ, TAIL_S, TIME_UNIT_S, WordTally, build_chips

PERIOD = 1.0 / RATE_HZ


def _tally(clock):
    chips, origin = build_chips(new_mock_factory(), (5,) * CHIPS, (6, 13, 19, 26), clock)
    return WordTally(origin, clock, chips), origin


def _code(origin, t):
    return round((t - origin) / TIME_UNIT_S)


def test_tally_credits_checks_and_times_known_words():
    """Chip k's words come back (2 + 2k) ms after their conversion; chip 1 only every other
    word; chip 2 also returns a word twice, an unsettled word and one from the future."""
    clock = VirtualClock(50.0)
    tally, origin = _tally(clock)
    tally.open(3.0)
    assert tally.due == 240
    events = []
    for k in range(CHIPS):
        for m in range(-5, 250):          # conversions before, in and after the window
            if k == 1 and m % 2:
                continue
            made = origin + (m + k / CHIPS) * PERIOD
            if made >= origin:
                events.append((made + (2 + 2 * k) / 1000, k, [_code(origin, made)]))
    events.append((origin + 1.0005, 2, [_code(origin, origin + 79.5 * PERIOD)]))  # again
    events.append((origin + 1.2005, 2, [_code(origin, origin + 0.4) - 0x300000]))
    events.append((origin + 1.4005, 2, [_code(origin, origin + 1.45)]))
    for at, k, words in sorted(events):
        clock.advance(at - clock())
        tally.add(k, words)
    figures = tally.figures("r", "ratio")
    assert figures["ratio"] == 0.5                    # chip 1: 120 of its 240
    assert figures["r_bad_words_returned"] == 3       # the repeat, the unsettled, the future
    assert figures["r_words_timed"] == 240 + 120 + 240 + 240
    # 240 at 2 ms, 120 at 4, 240 at 6, 240 at 8: the median is 6, the p99 8
    assert figures["r_word_latency_ms_p50"] == pytest.approx(6.0, abs=0.01)
    assert figures["r_word_latency_ms_p99"] == pytest.approx(8.0, abs=0.01)
    assert figures["r_hung_reads"] == 0 and figures["r_hung_after_s"] is None


def test_reading_goes_on_after_the_window_only_for_its_last_words():
    clock = VirtualClock(0.0)
    tally, origin = _tally(clock)
    tally.open(1.0)
    clock.advance(tally.end - clock())
    assert tally.wants_more()                          # nothing converted after the end yet
    for k in range(CHIPS):
        tally.add(k, [_code(origin, tally.end - 0.001)])
    assert tally.wants_more()
    clock.advance(0.001)
    for k in range(CHIPS - 1):
        tally.add(k, [_code(origin, tally.end + 0.0001)])
    assert tally.wants_more() and tally.wants_more(CHIPS - 1) and not tally.wants_more(0)
    clock.advance(TAIL_S)
    assert not tally.wants_more()                      # never longer than the tail


def test_reader_word_latency_is_each_words_own():
    """The shared-clock reader returns the four chips' words together once the last one has
    converted: chip 0's word waits 3/4 of a period, chip 3's none (plus the 0.5 ms poll). The
    latency is each word's own, not the last chip's (which would be ~0 for every word)."""
    clock = VirtualClock(10.0)
    figures = bench_driver.measure_reader(3.0, clock=clock, sleep=clock.sleep)
    assert figures["capture_ratio_80sps_4chips"] == 1.0
    assert figures["driver_words_timed"] == 4 * 240
    assert figures["driver_bad_words_returned"] == 0
    # a quarter of the words at each of 0, 3.125, 6.25, 9.375 ms, plus up to one 0.5 ms poll
    assert 4.6875 <= figures["driver_word_latency_ms_p50"] <= 4.6875 + 0.5
    assert 9.375 <= figures["driver_word_latency_ms_p99"] <= 9.375 + 0.5


def test_reader_gets_no_credit_for_wrong_words(monkeypatch):
    """Every other read hands back chip 0's previous word again: it is not credited, so the
    ratio is 0.5, not the 1.0 that counting reads gives."""

    class RepeatingBank(bench_driver.HX711Bank):
        calls, last = 0, None

        def read(self, timeout=1.0):
            words = super().read(timeout)
            self.calls += 1
            if self.calls % 2 and self.last is not None:
                words[0] = self.last
            self.last = words[0]
            return words

    monkeypatch.setattr(bench_driver, "HX711Bank", RepeatingBank)
    clock = VirtualClock(10.0)
    figures = bench_driver.measure_reader(3.0, clock=clock, sleep=clock.sleep)
    assert figures["capture_ratio_80sps_4chips"] == pytest.approx(0.5, abs=1 / 240)
    assert figures["driver_bad_words_returned"] == pytest.approx(120, abs=1)


@pytest.fixture
def virtual_package():
    """measure_hx711pkg's keyword arguments for a run on a VirtualClock, and the clock."""
    clock = VirtualClock(10.0)
    return {"clock": clock, "sleep": clock.sleep, "perf_counter": clock}, clock


def test_peer_on_a_virtual_clock_catches_every_other_word(virtual_package):
    """The package polls DOUT every 10 ms and reads 2 words per call, round robin over the four
    chips: on identical chips and the same scoring it gets half the words."""
    kwargs, _ = virtual_package
    figures = bench_pkg.measure_hx711pkg(3.0, **kwargs)
    assert figures["capture_ratio_80sps_4chips_hx711pkg"] == 0.5
    assert figures["hx711pkg_hung_reads"] == 0
    assert figures["hx711pkg_bad_words_returned"] == 0
    assert figures["hx711pkg_words_due_per_chip"] == 240


def test_a_peer_stuck_mid_word_is_charged_only_the_window(virtual_package, monkeypatch):
    """1 s into the window the package's thread starts losing the CPU between reading its timer
    and raising PD_SCK: its 60 us check abandons a word half-shifted (the chip never powered
    down) and it waits on that chip for ever. The run ends, the hang is counted, and the words
    it missed are those of the 3 s window: 240 due per chip, not the 320 made by the time the
    hung call is given up on."""
    kwargs, clock = virtual_package
    opened = {}

    class Tally(WordTally):
        def open(self, seconds):
            super().open(seconds)
            opened["start"] = self.start

    def perf_counter():
        now = clock()
        if "start" in opened and now >= opened["start"] + 1.0:
            clock.advance(100e-6)  # preempted right after reading the timer
        return now

    monkeypatch.setattr(bench_pkg, "WordTally", Tally)
    figures = bench_pkg.measure_hx711pkg(3.0, **{**kwargs, "perf_counter": perf_counter})
    assert figures["hx711pkg_hung_reads"] == 1
    assert figures["hx711pkg_hung_in_setup"] == 0
    assert 0.9 <= figures["hx711pkg_hung_after_s"] <= 1.0
    assert figures["hx711pkg_words_due_per_chip"] == 240
    # half of the 80 words of that first second, of 240 due
    assert 38 / 240 <= figures["capture_ratio_80sps_4chips_hx711pkg"] <= 41 / 240
    assert clock() <= opened["start"] + 3.0 + bench_pkg.HANG_S + 0.1   # and it ended


def test_building_the_sensors_is_guarded_too(virtual_package, monkeypatch):
    """Seen in CI: the package's constructor reads a word; if its gain pulse is slow it calls
    get_raw_data(6), which has no end on a chip that stops answering. The bench gives up on it
    and reports a hang in setup, with nothing measured."""
    kwargs, clock = virtual_package
    built = {}

    def build(*args):
        built["chips"], origin = build_chips(*args)
        return built["chips"], origin

    def perf_counter():  # the first gain pulse is slow, and chip 0 stops answering
        now = clock()
        if sys._getframe(2).f_code.co_name == "_set_channel_gain" and not built.get("slow"):
            built["slow"] = True
            built["chips"][0].set_silent(True)
            clock.advance(100e-6)
        return now

    def sleep(seconds):
        if clock() > 1000.0:
            raise AssertionError("the package was never given up on")
        clock.sleep(seconds)

    monkeypatch.setattr(bench_pkg, "build_chips", build)
    figures = bench_pkg.measure_hx711pkg(3.0, clock=clock, sleep=sleep, perf_counter=perf_counter)
    assert built["slow"]
    assert figures["hx711pkg_hung_reads"] == 1
    assert figures["hx711pkg_hung_in_setup"] == 1
    assert figures["capture_ratio_80sps_4chips_hx711pkg"] == 0.0
    assert figures["hx711pkg_word_latency_ms_p50"] is None
    assert clock() < 10.0 + 4 * bench_pkg.SETUP_HANG_S


def test_a_constructor_that_never_returns_is_given_up_on(virtual_package, monkeypatch):
    """Whatever the package does while a sensor is built, the guard is already in place."""
    kwargs, clock = virtual_package
    package = types.SimpleNamespace(time=None)

    class ForeverHX711:
        def __init__(self, dout, sck, gain):
            for _ in range(10_000):      # 100 s of the package's 10 ms polls
                package.time.sleep(0.01)
            raise AssertionError("building a sensor was never given up on")

    package.HX711 = ForeverHX711
    monkeypatch.setattr(bench_pkg, "import_hx711", lambda: package)
    figures = bench_pkg.measure_hx711pkg(1.0, **kwargs)
    assert figures["hx711pkg_hung_in_setup"] == 1
    assert figures["capture_ratio_80sps_4chips_hx711pkg"] == 0.0
    assert figures["hx711pkg_words_due_per_chip"] == 80

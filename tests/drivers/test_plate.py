"""ForcePlate: counts to newtons, zones, spike filter, tare, zero tracking, faults, lifetime."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import shared_file

from drivers.calibration import Calibration
from drivers.clock import VirtualClock
from drivers.errors import (
    CalibrationError,
    HX711Timeout,
    NotCalibrated,
    PlateError,
    TareRefused,
)
from drivers.layout import CellSpec, PlateLayout, two_cell_layout
from drivers.plate import ForcePlate, G, despike
from drivers.sample import SampleSource

LAYOUT2 = two_cell_layout()
LAYOUT4 = PlateLayout(cells=(
    CellSpec("heel_left", "heel", 6, 5, "left"),
    CellSpec("heel_right", "heel", 13, 5, "right"),
    CellSpec("forefoot_left", "forefoot", 19, 5, "left"),
    CellSpec("forefoot_right", "forefoot", 26, 5, "right"),
))


class ScriptedWords:
    """Test double for a word source: hands out scripted words, one conversion period apart on a
    virtual clock, and says which DOUT lines went silent when the script runs out."""

    def __init__(self, words, pins=(6, 13), rate_hz=80.0, faults=None):
        self._words = iter(words)
        self.data_pins = tuple(pins)
        self.clock = VirtualClock(100.0)
        self.period = 1.0 / rate_hz
        self._faults = dict(faults or {})
        self.closes = 0

    def read(self, timeout=1.0):
        try:
            words = next(self._words)
        except StopIteration:
            self.clock.advance(timeout)
            raise HX711Timeout("scripted words ran out", self.data_pins) from None
        self.clock.advance(self.period)
        return [int(w) for w in words]

    @property
    def faults(self):
        return dict(self._faults)

    def close(self):
        self.closes += 1


def words_for(newtons, cal):
    """Words a cell bank would send for per-cell loads in newtons."""
    return [round(o + n * s) for n, o, s in zip(newtons, cal.offsets, cal.scales, strict=True)]


CAL2 = Calibration(offsets=(1000.0, -2000.0), scales=(100.0, -50.0))
CAL4 = Calibration(offsets=(500.0, -700.0, 12_000.0, 0.0), scales=(80.0, 120.0, -60.0, 200.0))


# -- counts to newtons ---------------------------------------------------------------------------

def test_two_cell_counts_to_newtons_is_exact_including_a_reversed_cell():
    words = [words_for([400.0, 300.0], CAL2)] * 3
    assert words[0] == [41_000, -17_000]        # the forefoot cell is wired backwards
    with ForcePlate(ScriptedWords(words), LAYOUT2, CAL2) as plate:
        samples = [plate.read() for _ in range(3)]
    s = samples[-1]
    assert (s.heel, s.forefoot, s.total) == (400.0, 300.0, 700.0)
    assert s.cells == (41_000, -17_000)
    assert s.left is None and s.right is None


def test_four_cell_zones_and_halves():
    loads = [250.0, 150.0, 100.0, 50.0]          # heel L, heel R, forefoot L, forefoot R
    words = [words_for(loads, CAL4)] * 2
    with ForcePlate(ScriptedWords(words, pins=LAYOUT4.data_pins), LAYOUT4, CAL4) as plate:
        s = plate.read()
    assert s.heel == pytest.approx(400.0, abs=1e-9)
    assert s.forefoot == pytest.approx(150.0, abs=1e-9)
    assert s.left == pytest.approx(350.0, abs=1e-9)
    assert s.right == pytest.approx(200.0, abs=1e-9)
    assert s.cells == tuple(words_for(loads, CAL4))


# derandomized, as every hypothesis test in CI (tests/fuzz/fuzzkit.py)
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    offsets=st.lists(st.integers(-3_000_000, 3_000_000), min_size=4, max_size=4),
    scales=st.lists(st.floats(5.0, 5000.0), min_size=4, max_size=4),
    signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=4, max_size=4),
    loads=st.lists(st.floats(-200.0, 1500.0), min_size=4, max_size=4),
)
def test_conversion_property_four_cells(offsets, scales, signs, loads):
    cal = Calibration(tuple(map(float, offsets)), tuple(s * g for s, g in zip(scales, signs, strict=True)))
    words = words_for(loads, cal)
    plate = ForcePlate(ScriptedWords([words], pins=LAYOUT4.data_pins), LAYOUT4, cal,
                       zero_tracking=False)
    s = plate.read()
    rounding = [0.5 / abs(x) + 1e-9 for x in cal.scales]     # words are whole counts
    assert abs(s.heel - (loads[0] + loads[1])) <= rounding[0] + rounding[1]
    assert abs(s.forefoot - (loads[2] + loads[3])) <= rounding[2] + rounding[3]
    assert abs(s.left - (loads[0] + loads[2])) <= rounding[0] + rounding[2]
    assert abs(s.right - (loads[1] + loads[3])) <= rounding[1] + rounding[3]


def test_sample_is_stamped_with_the_word_source_clock_and_is_a_sample_source():
    source = ScriptedWords([words_for([0, 0], CAL2)] * 3)
    plate = ForcePlate(source, LAYOUT2, CAL2)
    assert isinstance(plate, SampleSource)
    assert plate.rate_hz == 80.0 and plate.clock is source.clock
    ts = [plate.read().t for _ in range(3)]
    assert ts == pytest.approx([100.0125, 100.025, 100.0375])


# -- not calibrated ------------------------------------------------------------------------------

def test_uncalibrated_plate_refuses_newtons_but_gives_raw_counts():
    plate = ForcePlate(ScriptedWords([[123, -456]] * 3), LAYOUT2, None)
    with pytest.raises(NotCalibrated, match="gym-station calibrate"):
        plate.read()
    assert plate.read_counts() == [123, -456]
    with pytest.raises(NotCalibrated, match="gym-station calibrate"):
        plate.tare(samples=3)
    assert plate.calibration is None
    plate.set_calibration(Calibration((123.0, -456.0), (10.0, 10.0)))
    assert plate.read().total == 0.0


# -- spike filter --------------------------------------------------------------------------------

def test_single_word_spikes_never_reach_the_sample_and_are_counted():
    base = words_for([400.0, 300.0], CAL2)
    words = [list(base) for _ in range(30)]
    words[12][0] += 3_000_000                     # a lost bit on the heel chip
    words[15][1] = 0x7FFFFF                       # a rail word from the forefoot chip
    words[22][0] -= 2_500_000
    with ForcePlate(ScriptedWords(words), LAYOUT2, CAL2) as plate:
        samples = [plate.read() for _ in range(30)]
        assert {(s.heel, s.forefoot) for s in samples} == {(400.0, 300.0)}
        assert plate.faults["spike"] == 3
    assert samples[12].cells[0] == base[0] + 3_000_000  # cells keep the raw evidence


def test_two_spikes_one_good_word_apart_are_both_removed():
    base = words_for([400.0, 300.0], CAL2)
    words = [list(base) for _ in range(20)]
    words[12][1] += 262_144                       # bit 18 flipped twice, one word apart
    words[14][1] += 262_144
    with ForcePlate(ScriptedWords(words), LAYOUT2, CAL2) as plate:
        assert {plate.read().forefoot for _ in range(20)} == {300.0}
        assert plate.faults["spike"] == 2


def test_a_step_passes_with_one_sample_delay_and_is_not_a_spike():
    before = words_for([0.0, 0.0], CAL2)
    after = words_for([450.0, 250.0], CAL2)
    words = [before] * 10 + [after] * 10
    with ForcePlate(ScriptedWords(words), LAYOUT2, CAL2) as plate:
        totals = [plate.read().total for _ in range(20)]
        assert totals[:11] == [0.0] * 11          # the first loaded word is held one sample
        assert totals[11:] == [700.0] * 9
        assert plate.faults["spike"] == 0


def test_a_fast_ramp_and_a_quick_heel_shift_pass_exactly_one_sample_late():
    """At 10 SPS a drive moves the foot's load off the forefoot within one word while the total
    rises: the forefoot dips for one word, standing out from both neighbours by far more than
    the spike floor. It is real (the heel rises with it), so it passes unchanged, as does every
    word of a fast ramp."""
    heel = [200.0] * 12 + [205.0, 300.0, 380.0, 440.0, 470.0, 480.0] + [480.0] * 6
    fore = [160.0] * 12 + [158.0, 90.0, 110.0, 140.0, 150.0, 152.0] + [152.0] * 6
    words = [words_for([h, f], CAL2) for h, f in zip(heel, fore, strict=True)]
    layout = two_cell_layout(rate_hz=10.0)
    with ForcePlate(ScriptedWords(words, rate_hz=10.0), layout, CAL2) as plate:
        samples = [plate.read() for _ in range(len(words))]
        assert plate.faults["spike"] == 0
    assert [s.heel for s in samples[1:]] == heel[:-1]
    assert [s.forefoot for s in samples[1:]] == fore[:-1]


def test_a_spike_on_a_ramp_is_replaced_by_its_neighbours_mean():
    ramp = [100.0 + 4.0 * k for k in range(30)]
    words = [words_for([h, 300.0], CAL2) for h in ramp]
    words[20][0] += 3_000_000
    with ForcePlate(ScriptedWords(words), LAYOUT2, CAL2) as plate:
        heels = [plate.read().heel for _ in range(30)]
        assert plate.faults["spike"] == 1
    assert heels[1:] == pytest.approx(ramp[:-1], abs=1e-9)   # the spike's word on the line


def test_two_spikes_in_a_row_in_opposite_directions_leave_no_wild_value():
    """The second spike is no neighbour to average with: the filter takes the clean side."""
    base = words_for([400.0, 300.0], CAL2)
    words = [list(base) for _ in range(30)]
    words[15][0] -= 262_144
    words[16][0] += 1_048_576
    with ForcePlate(ScriptedWords(words), LAYOUT2, CAL2) as plate:
        heels = [plate.read().heel for _ in range(30)]
    assert heels == [400.0] * 30


def test_a_word_below_the_threshold_is_not_touched():
    """A 0.3 kg blip (below the half-kilogram floor) is no spike: it passes as it is."""
    base = words_for([400.0, 300.0], CAL2)
    words = [list(base) for _ in range(20)]
    words[12][0] += round(0.3 * G * CAL2.scales[0])
    with ForcePlate(ScriptedWords(words), LAYOUT2, CAL2) as plate:
        heels = [plate.read().heel for _ in range(20)]
        assert plate.faults["spike"] == 0
    assert heels[13] == pytest.approx(400.0 + 0.3 * G, abs=0.01)


def test_spike_threshold_follows_the_cells_own_noise():
    """The same 2000-count jump is a spike on a quiet cell and ordinary noise on a noisy one."""
    rng = np.random.default_rng(7)
    cal = Calibration((0.0, 0.0), (100.0, 100.0))   # floor: 0.5 kg = 490 counts

    def run(sigma):
        words = np.round(rng.normal(50_000, sigma, size=(2000, 2))).astype(int)
        words[1500, 0] += 2000
        plate = ForcePlate(ScriptedWords(words.tolist()), LAYOUT2, cal, zero_tracking=False)
        for _ in range(2000):
            plate.read()
        return plate.faults["spike"]

    assert run(sigma=5.0) == 1
    assert run(sigma=400.0) == 0                   # and no false spikes from the noise itself


# HX711 bit flips (a bit among 16..22 of one word): what the simulated plate injects
CAL_HX = Calibration(offsets=(150_000.0, -80_000.0), scales=(2100.0, -1900.0))  # counts/N
LAYOUT10 = two_cell_layout(rate_hz=10.0)


def flipped(word, bit):
    return word ^ (1 << bit)


def min_jerk(n, start, rise):
    """``n`` samples at 10 SPS: still for 1.2 s, a one-second minimum-jerk rise, level."""
    s = np.clip((np.arange(n) - 12) / 10.0, 0.0, 1.0)
    return start + rise * (10 * s**3 - 15 * s**4 + 6 * s**5)


def test_two_bit_flips_in_a_row_in_one_cell_are_restored_exactly():
    """Neither word of the pair stands out from both neighbours, so the gate alone passes them;
    flipped back they fit the cell's track while the other cell stays still: restored."""
    base = words_for([400.0, 300.0], CAL_HX)
    words = [list(base) for _ in range(30)]
    words[15][0] = flipped(base[0], 17)
    words[16][0] = flipped(base[0], 19)
    words[22][1] = flipped(base[1], 22)
    words[23][1] = flipped(base[1], 16)
    with ForcePlate(ScriptedWords(words, rate_hz=10.0), LAYOUT10, CAL_HX) as plate:
        samples = [plate.read() for _ in range(30)]
        assert plate.faults["spike"] == 4
    assert {(s.heel, s.forefoot) for s in samples} == {(400.0, 300.0)}


def test_two_bit_flips_in_a_row_as_a_drive_reaches_the_top_are_restored_exactly():
    """At 10 SPS a drive moves a cell by tens of newtons from one word to the next; two flipped
    words as it slows into the top come back as the words that were sent. (Mid-drive, where a
    cell moves by as much as a low bit from word to word, two flips in a row can pass.)"""
    heel = min_jerk(30, 250.0, 350.0)
    fore = np.full(30, 120.0)
    clean = [words_for([h, f], CAL_HX) for h, f in zip(heel, fore, strict=True)]
    words = [list(w) for w in clean]
    words[20][0] = flipped(clean[20][0], 18)
    words[21][0] = flipped(clean[21][0], 17)
    with ForcePlate(ScriptedWords(words, rate_hz=10.0), LAYOUT10, CAL_HX) as plate:
        heels = [plate.read().heel for _ in range(30)]
        assert plate.faults["spike"] == 2
    exact = [(w[0] - CAL_HX.offsets[0]) / CAL_HX.scales[0] for w in clean]
    assert heels[1:] == pytest.approx(exact[:-1], abs=1e-9)


def test_a_good_word_before_a_bit_flip_on_a_ramp_stays_as_it_was():
    """The word before a flipped one stands out from it; it is judged against the flipped word
    with its bit restored, so it is not replaced by a mean with a wild neighbour."""
    heel = min_jerk(30, 250.0, 400.0)
    clean = [words_for([h, 150.0], CAL_HX) for h in heel]
    words = [list(w) for w in clean]
    words[17][0] = flipped(clean[17][0], 17)
    with ForcePlate(ScriptedWords(words, rate_hz=10.0), LAYOUT10, CAL_HX) as plate:
        heels = [plate.read().heel for _ in range(30)]
    exact = [(w[0] - CAL_HX.offsets[0]) / CAL_HX.scales[0] for w in clean]
    assert heels[1:] == pytest.approx(exact[:-1], abs=1e-9)


CAL_UP = Calibration(offsets=(150_000.0, 120_000.0), scales=(2100.0, 1950.0))


def assert_shift_passes_exactly(heel, fore, cal, flips=(), spikes=0):
    """A 10 SPS heel-to-toe shift through the plate, with ``flips`` ((word index, cell, bit))
    made in its words: every sample comes out as sent, one sample late, with ``spikes``
    counted."""
    words = [words_for([h, f], cal) for h, f in zip(heel, fore, strict=True)]
    for i, cell, bit in flips:
        words[i][cell] = flipped(words[i][cell], bit)
    with ForcePlate(ScriptedWords(words, rate_hz=10.0), LAYOUT10, cal) as plate:
        samples = [plate.read() for _ in range(len(words))]
        assert plate.faults["spike"] == spikes
    assert [s.forefoot for s in samples[1:]] == pytest.approx(fore[:-1], abs=1e-3)
    assert [s.heel for s in samples[1:]] == pytest.approx(heel[:-1], abs=1e-3)


def test_a_bit_flip_in_the_middle_of_a_heel_to_toe_shift_is_restored_exactly():
    """At 10 SPS a toe drive moves the foot's load from heel to forefoot within one word while
    both cells move: no flip repair can lean on a still neighbour cell. The gate still sees the
    word stand out; put back, its bit lands it between its neighbours, so the word as it was
    converted is handed on, not a mean or median of its neighbours (which put a fifth too much
    on the forefoot and moved a measured drive's start by a quarter of a second)."""
    heel = [107.0] * 12 + [56.0, 66.0, 84.0, 99.0, 102.0] + [102.0] * 6
    fore = [90.0] * 12 + [144.0, 167.0, 204.0, 237.0, 248.0] + [248.0] * 6
    # the forefoot's word at 420 N instead of 144 N
    assert_shift_passes_exactly(heel, fore, CAL_HX, flips=[(12, 1, 19)], spikes=1)


def test_a_bit_flip_against_a_heel_to_toe_shift_is_restored_by_the_total():
    """At 10 SPS the drive's first word moves 58 N onto the heel and off the forefoot; a flip
    of bit 17 (+67 N) in the forefoot's word lands it near where the forefoot was, on its own
    track, so the next (good) word looked like the flip. The total shows it: a shift leaves
    it smooth, the flip lifts it by 67 N. Restored exactly, and the words after it pass."""
    heel = [185.0] * 12 + [243.2, 266.0, 299.8, 340.7, 379.8, 407.5, 420.0] + [420.0] * 6
    fore = [140.0] * 12 + [82.0, 85.0, 96.0, 110.0, 125.0, 138.0, 145.0] + [145.0] * 6
    # the forefoot's word at 149 N instead of 82 N
    assert_shift_passes_exactly(heel, fore, CAL_UP, flips=[(12, 1, 17)], spikes=1)


def test_a_shift_that_moves_each_cell_by_about_a_low_bit_is_not_repaired():
    """Heel +36 N, forefoot -34 N in one word: each cell, with bit 16 flipped back, would be
    on its own track, but the total stays on its track: a shift of weight, not two flips."""
    heel = [143.0] * 12 + [145.5, 181.4, 210.0, 235.7, 271.1, 306.8, 332.3] + [332.3] * 6
    fore = [116.5] * 12 + [115.6, 82.0, 69.3, 78.8, 92.0, 105.0, 113.7] + [113.7] * 6
    assert_shift_passes_exactly(heel, fore, CAL_UP)


def test_a_real_step_of_exactly_a_power_of_two_counts_is_not_a_flip():
    """A change that stays is real, whatever its size in counts: it passes one sample late."""
    base = words_for([300.0, 200.0], CAL_HX)
    step = [flipped(base[0], 18), base[1]]          # +262144 counts (125 N) on the heel only
    words = [base] * 15 + [step] * 10
    with ForcePlate(ScriptedWords(words, rate_hz=10.0), LAYOUT10, CAL_HX) as plate:
        heels = [plate.read().heel for _ in range(25)]
        assert plate.faults["spike"] == 0
    assert heels[:16] == [300.0] * 16
    assert heels[16:] == pytest.approx([(step[0] - 150_000.0) / 2100.0] * 9)


def test_despike_block_drops_single_words():
    block = np.array([[10, 0], [10, 0], [99_999, 0], [10, -88_888], [10, 0]])
    assert despike(block).tolist() == [[10, 0], [10, 0], [10, 0]]


# -- tare ----------------------------------------------------------------------------------------

def noisy(loads_per_sample, cal, sigma=20.0, seed=1):
    rng = np.random.default_rng(seed)
    for loads in loads_per_sample:
        yield [round(w + rng.normal(0, sigma)) for w in words_for(loads, cal)]


def test_tare_on_an_empty_plate_sets_new_offsets():
    drifted = Calibration((1000.0 + 800.0, -2000.0 - 250.0), CAL2.scales)  # 8 N and 5 N of drift
    stream = noisy([[0.0, 0.0]] * 60, drifted, seed=2)
    with ForcePlate(ScriptedWords(stream), LAYOUT2, CAL2) as plate:
        assert plate.read().heel == pytest.approx(8.0, abs=1.0)
        new = plate.tare(samples=40)
        assert new.offsets == pytest.approx(drifted.offsets, abs=10)
        assert new.tared_at is not None and plate.calibration.offsets == new.offsets
        for _ in range(5):
            s = plate.read()
        assert s.heel == pytest.approx(0.0, abs=1.0)
        assert s.forefoot == pytest.approx(0.0, abs=1.5)


def test_tare_refused_while_someone_stands_on_the_plate():
    stream = noisy([[412.0, 180.0]] * 60, CAL2)
    with ForcePlate(ScriptedWords(stream), LAYOUT2, CAL2) as plate:
        with pytest.raises(TareRefused, match=r"412 N on the heel cell; step off and tare again"):
            plate.tare(samples=40)
        assert plate.calibration.offsets == CAL2.offsets


def test_tare_refused_while_the_plate_moves():
    wobble = [[0.0, 15.0 * np.sin(2 * np.pi * k / 40)] for k in range(60)]  # +-15 N, < 3 kg
    with ForcePlate(ScriptedWords(noisy(wobble, CAL2)), LAYOUT2, CAL2) as plate:
        with pytest.raises(TareRefused, match=r"not still: the forefoot cell moved by"):
            plate.tare(samples=40)


def test_tare_ignores_a_single_spike():
    words = list(noisy([[0.0, 0.0]] * 40, CAL2))
    words[20][0] += 4_000_000
    with ForcePlate(ScriptedWords(words), LAYOUT2, CAL2) as plate:
        new = plate.tare(samples=40)
    assert new.offsets == pytest.approx(CAL2.offsets, abs=10)


# -- zero tracking -------------------------------------------------------------------------------

def drifting(load_fn, seconds, drift_n_per_s, cal, rate_hz=80.0, sigma=20.0, seed=3):
    """Words for per-cell loads ``load_fn(k)`` while every cell's zero drifts at a steady rate."""
    rng = np.random.default_rng(seed)
    offsets = np.asarray(cal.offsets)
    scales = np.asarray(cal.scales)
    for k in range(int(seconds * rate_hz)):
        t = k / rate_hz
        loads = np.asarray(load_fn(k), dtype=float)
        words = offsets + scales * (loads + drift_n_per_s * t) + rng.normal(0, sigma, 2)
        yield np.round(words).astype(int).tolist()


def test_zero_tracking_follows_slow_drift_on_an_empty_plate():
    seconds, rate = 300.0, 0.05                    # 15 N of drift per cell over 5 minutes
    stream = drifting(lambda k: (0.0, 0.0), seconds, rate, CAL2)
    plate = ForcePlate(ScriptedWords(stream), LAYOUT2, CAL2)
    for _ in range(int(seconds * 80)):
        s = plate.read()
    assert abs(s.heel) < 1.0 and abs(s.forefoot) < 1.0   # lag ~ rate x 10 s = 0.5 N
    assert plate.zero_tracked_n == pytest.approx((15.0, 15.0), abs=1.0)
    assert plate.calibration.offsets != CAL2.offsets     # learnt offsets are visible

    untracked = ForcePlate(ScriptedWords(drifting(lambda k: (0.0, 0.0), seconds, rate, CAL2)),
                           LAYOUT2, CAL2, zero_tracking=False)
    for _ in range(int(seconds * 80)):
        s = untracked.read()
    assert s.heel == pytest.approx(15.0, abs=1.0)       # the drift is real without tracking


def test_zero_tracking_never_eats_a_still_persons_load():
    seconds, rate = 300.0, 0.05
    stream = drifting(lambda k: (400.0, 300.0), seconds, rate, CAL2, sigma=2.0)
    plate = ForcePlate(ScriptedWords(stream), LAYOUT2, CAL2)
    for _ in range(int(seconds * 80)):
        s = plate.read()
    assert plate.zero_tracked_n == (0.0, 0.0)
    assert s.heel == pytest.approx(415.0, abs=1.0)      # load + drift, nothing taken away
    assert s.forefoot == pytest.approx(315.0, abs=1.0)


def test_zero_tracking_never_eats_a_real_quiet_standing_load():
    """Real sway of a person standing (BMClab PDS, right foot, 100 Hz) with drift under it."""
    data = np.loadtxt(shared_file("pds-two-plate-quiet-standing/PDS13OR1grf.txt"), skiprows=1,
                      usecols=(2, 10))
    load, cop = data[:, 0], data[:, 1]
    heel_share = 0.55 - 5.0 * (cop - cop.mean())          # the COP's 4 cm sway moves the split
    layout = two_cell_layout(rate_hz=100.0)
    stream = drifting(lambda k: (load[k] * heel_share[k], load[k] * (1 - heel_share[k])),
                      60.0, 0.25, CAL2, rate_hz=100.0)
    plate = ForcePlate(ScriptedWords(stream, rate_hz=100.0), layout, CAL2)
    totals = [plate.read().total for _ in range(6000)]
    assert plate.zero_tracked_n == (0.0, 0.0)
    expected = load[-101:-1].mean() + 2 * 0.25 * 60       # drift on both cells, untouched
    assert np.mean(totals[-100:]) == pytest.approx(expected, abs=1.0)


def test_stepping_on_after_a_long_empty_period_reads_the_true_load():
    seconds, rate = 300.0, 0.05
    n_empty = int(seconds * 80)
    stream = drifting(lambda k: (0.0, 0.0) if k < n_empty else (450.0, 250.0),
                      seconds + 2.0, rate, CAL2)
    plate = ForcePlate(ScriptedWords(stream), LAYOUT2, CAL2)
    totals = [plate.read().total for _ in range(n_empty + 160)]
    # Within the tracking lag (0.05 N/s x 10 s = 0.5 N per cell), not the 30 N of drift.
    assert np.mean(totals[-80:]) == pytest.approx(700.0, abs=1.5)
    assert totals[n_empty - 1] == pytest.approx(0.0, abs=1.5)
    assert totals[n_empty] == pytest.approx(0.0, abs=1.5)         # the step is held one sample
    assert totals[n_empty + 1] == pytest.approx(700.0, abs=1.5)   # and no more


def test_zero_tracking_rate_is_bounded():
    """A sudden 5 N shift on an empty plate is walked off at no more than 0.1 kg/s, even with a
    time constant short enough to remove it within a second."""
    cal = CAL2
    shifted = Calibration((cal.offsets[0] + 500.0, cal.offsets[1]), cal.scales)  # heel +5 N
    words = [words_for([0, 0], cal)] * 80 + [words_for([0, 0], shifted)] * 240
    plate = ForcePlate(ScriptedWords(words), LAYOUT2, cal, zero_time_constant_s=0.5)
    heel = [plate.read().heel for _ in range(320)]
    # The jump is not "still" until a full second (80 words) after it, then 0.98 N/s at most.
    assert heel[80 + 81] == pytest.approx(5.0, abs=0.02)
    assert heel[80 + 81 + 80] == pytest.approx(5.0 - 0.1 * G, abs=0.05)
    assert heel[-1] == pytest.approx(5.0 - 0.1 * G * 2, abs=0.05)


# -- faults, validation, lifetime ----------------------------------------------------------------

def test_word_source_faults_are_merged_with_the_plates_spikes():
    base = words_for([0, 0], CAL2)
    words = [list(base) for _ in range(15)]
    words[12][1] += 1_000_000
    source = ScriptedWords(words, faults={"timeout": 2, "spike": 1})
    plate = ForcePlate(source, LAYOUT2, CAL2)
    for _ in range(15):
        plate.read()
    assert plate.faults == {"timeout": 2, "spike": 2}


def test_timeouts_from_the_word_source_pass_through():
    plate = ForcePlate(ScriptedWords([]), LAYOUT2, CAL2)
    with pytest.raises(HX711Timeout) as err:
        plate.read(timeout=0.5)
    assert err.value.silent_pins == (6, 13)


def test_close_is_safe_twice_and_closes_the_word_source():
    source = ScriptedWords([[0, 0]] * 3)
    with ForcePlate(source, LAYOUT2, CAL2) as plate:
        plate.read()
    plate.close()
    assert source.closes == 1 and plate.closed
    with pytest.raises(PlateError, match="closed"):
        plate.read()


def test_constructor_validates_at_once():
    with pytest.raises(ValueError, match="3 HX711"):
        ForcePlate(ScriptedWords([], pins=(6, 13, 19)), LAYOUT2, CAL2)
    with pytest.raises(CalibrationError, match="calibration is for 4 cells"):
        ForcePlate(ScriptedWords([]), LAYOUT2, CAL4)
    with pytest.raises(ValueError, match="zero_band_kg"):
        ForcePlate(ScriptedWords([]), LAYOUT2, CAL2, zero_band_kg=0)
    with pytest.raises(TypeError):
        ForcePlate(object(), LAYOUT2, CAL2)

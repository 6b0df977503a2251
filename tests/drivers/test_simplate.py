"""The simulated plate: count model, the simulated HX711 bank, and the whole path through the
real ForcePlate."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.athlete import ScriptedAthlete, ZoneForce
from drivers.clock import VirtualClock
from drivers.errors import HX711Error, HX711Timeout
from drivers.layout import CellSpec, PlateLayout, two_cell_layout
from drivers.sample import SampleSource, WordSource
from drivers.simplate import (
    WORD_MAX,
    WORD_MIN,
    CountModel,
    SaturatedCell,
    SilentCell,
    SimulatedBank,
    simulated_calibration,
    simulated_plate,
)


def four_cell_layout(rate_hz=80.0):
    return PlateLayout(cells=(
        CellSpec("heel-left", "heel", 6, 5, "left"),
        CellSpec("heel-right", "heel", 13, 5, "right"),
        CellSpec("fore-left", "forefoot", 19, 5, "left"),
        CellSpec("fore-right", "forefoot", 26, 5, "right"),
    ), rate_hz=rate_hz)


@pytest.fixture(scope="module")
def athlete():
    return ScriptedAthlete("clean_set", seed=4)


def test_zone_forces_split_onto_cells():
    two = CountModel(two_cell_layout(), seed=1)
    f = ZoneForce(300.0, 100.0, 160.0, 240.0)
    assert two.cell_newtons(f).tolist() == [300.0, 100.0]
    four = CountModel(four_cell_layout(), seed=1)
    cells = four.cell_newtons(f)
    assert cells.tolist() == pytest.approx([120.0, 180.0, 40.0, 60.0])
    arrays = ZoneForce(np.array([300.0, 0.0]), np.array([100.0, 0.0]),
                       np.array([160.0, 0.0]), np.array([240.0, 0.0]))
    block = four.cell_newtons(arrays)
    assert block.shape == (2, 4) and block[1].tolist() == [0, 0, 0, 0]


def test_counts_are_offset_plus_scale_times_newtons():
    layout = two_cell_layout()
    quiet = CountModel(layout, seed=2, noise_counts=0, drift_counts_per_s=0)
    assert all(1500 < s < 2600 for s in quiet.scales)  # counts/N of a 50 kg cell at gain 128
    words = quiet.counts(3.0, [250.0, 80.0])
    assert words == [round(o + s * n) for o, s, n in
                     zip(quiet.offsets, quiet.scales, [250.0, 80.0], strict=True)]
    assert quiet.newtons(3.0, words) == pytest.approx([250.0, 80.0], abs=1e-3)
    # clipped to the 24-bit range: saturation, not wrap-around
    assert quiet.counts(0.0, [1e6, -1e6]) == [WORD_MAX, WORD_MIN]


def test_noise_drift_and_determinism():
    layout = two_cell_layout()
    a = CountModel(layout, seed=3, noise_counts=50, drift_counts_per_s=2.0)
    b = CountModel(layout, seed=3, noise_counts=50, drift_counts_per_s=2.0)
    wa = np.array([a.counts(k / 80, [0.0, 0.0]) for k in range(2000)], dtype=float)
    wb = np.array([b.counts(k / 80, [0.0, 0.0]) for k in range(2000)], dtype=float)
    assert np.array_equal(wa, wb)
    resid = wa - np.array(a.offsets) - np.outer(np.arange(2000) / 80, a.drift_rates)
    assert np.std(resid, axis=0) == pytest.approx([50, 50], rel=0.1)
    assert any(abs(d) > 0.01 for d in a.drift_rates) and all(abs(d) <= 2 for d in a.drift_rates)
    c = CountModel(layout, seed=4, noise_counts=50)
    assert c.offsets != a.offsets


def test_spikes_flip_one_high_bit():
    model = CountModel(two_cell_layout(), seed=5, noise_counts=0, drift_counts_per_s=0,
                       spike_rate_hz=8.0)  # one word in ten per cell
    clean = [round(o) for o in model.offsets]
    words = [model.counts(0.0, [0.0, 0.0], rate_hz=80.0) for _ in range(500)]
    bad = [(w[i] - clean[i]) for w in words for i in range(2) if w[i] != clean[i]]
    assert model.spikes == len(bad) and 60 < len(bad) < 150
    assert all(abs(d) in {1 << b for b in range(16, 23)} for d in bad)


def test_bank_is_a_word_source_on_a_virtual_clock(athlete):
    layout = two_cell_layout(rate_hz=10)
    clock = VirtualClock()
    model = CountModel(layout, seed=1)
    bank = SimulatedBank(athlete, layout, model, clock=clock)
    assert isinstance(bank, WordSource) and bank.data_pins == (6, 13) and bank.rate_hz == 10
    cal = simulated_calibration(model)
    for k in range(1, 101):
        words = bank.read(timeout=0.5)
        assert clock() == pytest.approx(k / 10)  # each read advances one period
        heel, forefoot = cal.newtons(words)
        f = athlete.force_at(k / 10)
        assert heel == pytest.approx(f.heel, abs=0.5)
        assert forefoot == pytest.approx(f.forefoot, abs=0.5)
    assert bank.faults == {}


def test_eighty_sps_and_a_late_reader_gets_the_newest_word(athlete):
    clock = VirtualClock(50.0)
    bank = SimulatedBank(athlete, two_cell_layout(), clock=clock, seed=2)
    bank.read()
    assert clock() == pytest.approx(50.0125) and bank.last_t == pytest.approx(0.0125)
    clock.advance(5 / 80)                  # the reader was busy for five conversions
    t_before = clock()
    bank.read()
    assert clock() == t_before             # a word was waiting: no wait at all
    assert bank.last_t == pytest.approx(6 / 80) and bank.injected["missed"] == 4


def test_silent_chip_times_out_naming_its_dout_gpio(athlete):
    clock = VirtualClock()
    bank = SimulatedBank(athlete, two_cell_layout(), clock=clock, seed=1,
                         faults=[SilentCell(cell=1, start=1.0, end=2.0)])
    while clock() < 0.98:
        bank.read()
    assert bank.last_t == pytest.approx(0.9875)
    with pytest.raises(HX711Timeout) as err:
        bank.read(timeout=0.5)
    assert err.value.silent_pins == (13,)
    assert "HX711 on GPIO 13 sent no word for 0.5 s: check its DOUT wire" in str(err.value)
    assert clock() == pytest.approx(1.4875)  # the timeout really elapsed on the clock
    bank.read(timeout=1.0)                 # the chip speaks again after the window
    assert bank.last_t == pytest.approx(2.0) and clock() == pytest.approx(2.0)
    assert bank.faults == {"timeout": 1}


def test_slow_rate_times_out_every_chip(athlete):
    bank = SimulatedBank(athlete, two_cell_layout(rate_hz=10), clock=VirtualClock(), seed=1)
    with pytest.raises(HX711Timeout) as err:
        bank.read(timeout=0.05)
    assert err.value.silent_pins == (6, 13)
    assert bank.read(timeout=0.1)           # the word at 0.1 s arrives


def test_saturated_cell_reads_the_rail_and_is_counted(athlete):
    bank = SimulatedBank(athlete, four_cell_layout(), clock=VirtualClock(), seed=1,
                         faults=[SaturatedCell(cell=2, start=0.5, end=0.75, high=False)])
    words = [bank.read() for _ in range(80)]
    railed = [k for k, w in enumerate(words) if w[2] == WORD_MIN]
    assert len(railed) == 20 and bank.faults == {"saturated": 20}


def test_real_time_pacing_waits_with_short_sleeps(athlete):
    now = [1000.0]
    sleeps = []

    def clock():
        return now[0]

    def sleep(s):
        sleeps.append(s)
        now[0] += s

    bank = SimulatedBank(athlete, two_cell_layout(rate_hz=10), clock=clock, sleep=sleep, seed=1)
    assert not bank.virtual
    bank.read()
    assert now[0] == pytest.approx(1000.1) and max(sleeps) <= 0.002 + 1e-12
    assert len(sleeps) >= 45               # polled, never one blind sleep


def test_bank_validates_and_closes(athlete):
    layout = two_cell_layout()
    with pytest.raises(ValueError, match="outside 1..100"):
        SimulatedBank(athlete, layout, rate_hz=500)
    with pytest.raises(ValueError, match="no cell 5"):
        SimulatedBank(athlete, layout, faults=[SilentCell(5, 0, 1)])
    with pytest.raises(ValueError, match="4 cells, layout 2"):
        SimulatedBank(athlete, layout, CountModel(four_cell_layout()))
    with pytest.raises(TypeError, match="forces"):
        SimulatedBank(object(), layout)
    with SimulatedBank(athlete, layout) as bank:
        bank.read()
    bank.close()
    with pytest.raises(HX711Error, match="closed"):
        bank.read()


@pytest.mark.parametrize("rate_hz", [10.0, 80.0])
def test_scenario_through_the_real_force_plate(rate_hz):
    plate, truth = simulated_plate("junior", seed=7, rate_hz=rate_hz)
    athlete = ScriptedAthlete("junior", seed=7)
    assert isinstance(plate, SampleSource) and plate.rate_hz == rate_hz
    with plate:
        samples = []
        while plate.clock() < truth.duration_s:
            samples.append(plate.read())
    t = np.array([s.t for s in samples])
    assert np.allclose(np.diff(t), 1 / rate_hz)
    # the plate's 3-word median filter delays by one word
    f = athlete.forces(t - 1 / rate_hz)
    heel = np.array([s.heel for s in samples])
    forefoot = np.array([s.forefoot for s in samples])
    tol = 1.0 if rate_hz == 80 else 12.0  # at 10 SPS a median of a fast drive lags more
    assert np.sqrt(np.mean((heel - f.heel) ** 2)) < tol / 2
    assert np.abs(forefoot - f.forefoot).max() < 3 * tol
    assert len(samples[0].cells) == 2 and samples[0].left is None
    # the load during each hold is the athlete's, as the analysis will see it
    for rep in truth.reps:
        hold = (t > rep.drive_end + 0.2) & (t < rep.lower_start)
        assert np.mean(heel[hold] + forefoot[hold]) == pytest.approx(
            0.60 * truth.mass_kg * 9.81, rel=0.05)


def test_four_cell_plate_end_to_end():
    layout = four_cell_layout()
    plate, truth = simulated_plate("faults", seed=3, layout=layout)
    athlete = ScriptedAthlete("faults", seed=3)
    samples = [plate.read() for _ in range(int(12 * 80))]
    t = np.array([s.t for s in samples])
    f = athlete.forces(t - 1 / 80)
    left = np.array([s.left for s in samples])
    right = np.array([s.right for s in samples])
    assert np.abs(left - f.left).max() < 3.0 and np.abs(right - f.right).max() < 3.0
    assert np.allclose(left + right, [s.heel + s.forefoot for s in samples])
    # spikes were injected and the plate's median filter removed them (two spikes two words
    # apart on one cell can pass it, a documented limit: allow a handful of samples)
    spiked = ScriptedAthlete("faults", seed=3)  # same forces, spikes on the words
    plate, _ = simulated_plate("faults", seed=3, layout=layout, spike_rate_hz=0.5)
    samples = [plate.read() for _ in range(int(12 * 80))]
    heel = np.array([s.heel for s in samples])
    err = np.abs(heel - spiked.forces(t - 1 / 80).heel)
    assert plate._words.injected["spikes"] > 10 and plate.faults["spike"] > 10
    assert np.mean(err > 3.0) < 0.01


def test_keyboard_bank_runs_the_script_until_a_command():
    from drivers.simplate import simulated_bank

    bank, truth = simulated_bank("clean_set", seed=1, rate_hz=80, keyboard=True)
    cal = simulated_calibration(bank.model)
    for _ in range(160):
        bank.read()
    bank.athlete.step()                    # step off at 2 s: the keyboard has the athlete now
    for _ in range(160):
        words = bank.read()
    assert sum(cal.newtons(words)) == pytest.approx(0.0, abs=0.5)
    assert bank.layout.rate_hz == 80 and truth.reps

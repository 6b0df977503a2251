"""Calibration: the step-by-step procedure, least squares over placements, refusals, the stable
average helper, and the calibration file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drivers.calibrate import Calibrator, Reading, average_counts
from drivers.calibration import Calibration
from drivers.clock import VirtualClock
from drivers.errors import CalibrationError
from drivers.layout import CellSpec, PlateLayout, two_cell_layout
from drivers.plate import ForcePlate, G

LAYOUT2 = two_cell_layout()
LAYOUT4 = PlateLayout(cells=(
    CellSpec("heel_left", "heel", 6, 5, "left"),
    CellSpec("heel_right", "heel", 13, 5, "right"),
    CellSpec("forefoot_left", "forefoot", 19, 5, "left"),
    CellSpec("forefoot_right", "forefoot", 26, 5, "right"),
))
MASS = 20.0
#: Where the mass goes for each area, as (heel->toe, left->right) fractions of the plate.
AREAS2 = {"heel": 0.15, "forefoot": 0.85}
AREAS4 = {"heel_left": (0.15, 0.2), "heel_right": (0.15, 0.8),
          "forefoot_left": (0.85, 0.2), "forefoot_right": (0.85, 0.8)}


class RigidPlate:
    """Test double of a word source: a rigid plate on its load cells.

    A mass at ``position`` loads every cell through the lever arms (2 cells: heel at 0, forefoot
    at 1; 4 cells: corners, bilinear shares), so a mass "on the heel" also reads on the forefoot.
    Words are ``offset + scale * newtons + noise``; ``wobble_n`` swings the load sinusoidally.
    """

    def __init__(self, offsets, scales, noise=30.0, seed=0, pins=(6, 13)):
        self.offsets = np.asarray(offsets, float)
        self.scales = np.asarray(scales, float)
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self.data_pins = tuple(pins)
        self.clock = VirtualClock()
        self.load = np.zeros(len(offsets))
        self.wobble_n = 0.0
        self.spike_every = 0
        self._k = 0

    def put(self, mass_kg, position):
        if len(self.offsets) == 2:
            x = position
            share = np.array([1 - x, x])
        else:
            x, y = position
            share = np.array([(1 - x) * (1 - y), (1 - x) * y, x * (1 - y), x * y])
        self.load = mass_kg * G * share

    def clear(self):
        self.load = np.zeros(len(self.offsets))

    def read(self, timeout=1.0):
        self.clock.advance(1 / 80)
        self._k += 1
        swing = self.wobble_n * np.sin(2 * np.pi * self._k / 40)    # newtons, spread like the load
        total = self.load.sum()
        newtons = self.load * (1 + swing / total) if total else np.full(len(self.load), swing)
        words = self.offsets + self.scales * newtons + self.rng.normal(0, self.noise, len(newtons))
        words = np.round(words).astype(int).tolist()
        if self.spike_every and self._k % self.spike_every == 0:
            words[0] += 3_000_000
        return words

    @property
    def faults(self):
        return {}

    def close(self):
        pass


def walk(calibrator, plate, areas, mass=MASS, source=None):
    """Do every step as a person would: clear, then put the mass on each area in turn."""
    source = source or plate
    plate.clear()
    calibrator.feed(average_counts(source))
    for step in calibrator.steps[1:]:
        plate.put(mass, areas[step.key])
        calibrator.feed(average_counts(source))
    plate.clear()


# -- least squares -------------------------------------------------------------------------------

def test_two_cell_scales_recovered_despite_cross_talk_and_noise():
    true_scales = np.array([2100.0, 1850.0])
    plate = RigidPlate([150_000, -320_000], true_scales, noise=40.0)
    cal = Calibrator(LAYOUT2, MASS)
    empty = average_counts(plate)
    plate.put(MASS, AREAS2["heel"])
    on_heel = average_counts(plate)
    # The mass on the heel area also loads the forefoot cell: a scale taken from the heel cell
    # alone (mass assumed on it) would be wrong by the lever-arm share, 15 %.
    naive = (on_heel.counts[0] - empty.counts[0]) / (MASS * G)
    assert abs(naive - true_scales[0]) / true_scales[0] > 0.1
    walk(cal, plate, AREAS2)
    assert cal.done
    result = cal.result(calibrated_at="2025-01-02T03:04:05+00:00")
    assert result.scales == pytest.approx(true_scales, rel=2e-3)
    assert result.offsets == pytest.approx([150_000, -320_000], abs=20)
    assert result.calibrated_at == "2025-01-02T03:04:05+00:00"
    assert result.masses_kg == (MASS, MASS)


def test_four_cell_scales_recovered_with_a_reversed_cell():
    true_scales = np.array([1500.0, -1700.0, 2200.0, 1900.0])   # heel_right wired backwards
    plate = RigidPlate([10_000, 20_000, -5_000, 700], true_scales, noise=40.0, seed=4,
                       pins=LAYOUT4.data_pins)
    cal = Calibrator(LAYOUT4, MASS)
    walk(cal, plate, AREAS4)
    result = cal.result()
    assert result.scales == pytest.approx(true_scales, rel=3e-3)
    assert result.calibrated_at is not None
    assert len(cal.notes) == 1 and "heel_right cell reads backwards" in cal.notes[0]
    # The calibrated plate weighs a 70 kg athlete anywhere on it.
    plate.put(70.0, (0.4, 0.65))
    with ForcePlate(plate, LAYOUT4, result, zero_tracking=False) as fp:
        totals = [fp.read().total for _ in range(40)]
    assert np.mean(totals) == pytest.approx(70.0 * G, rel=3e-3)


def test_average_counts_from_a_force_plate_drops_spikes():
    plate = RigidPlate([1000, 2000], [2000.0, 2000.0], noise=20.0)
    plate.spike_every = 17
    with ForcePlate(plate, LAYOUT2, None) as fp:
        reading = average_counts(fp, samples=80)
    assert isinstance(reading, Reading) and reading.samples == 80
    assert reading.counts == pytest.approx([1000, 2000], abs=15)
    assert max(reading.spread) < 300


# -- refusals ------------------------------------------------------------------------------------

def test_prompts_walk_through_each_area():
    cal = Calibrator(LAYOUT2, MASS)
    assert [s.key for s in cal.steps] == ["empty", "heel", "forefoot"]
    assert cal.prompt.startswith("Take everything off the plate")
    cal.feed([0.0, 0.0])
    assert cal.prompt == "Put the 20 kg mass on the heel area, then press Enter"
    four = Calibrator(LAYOUT4, 12.5)
    assert [s.key for s in four.steps[1:]] == list(AREAS4)
    assert four.steps[2].prompt == ("Put the 12.5 kg mass on the heel area, right half "
                                    "(as you stand on the plate), then press Enter")
    with pytest.raises(CalibrationError, match="not finished: next step: Put the 20 kg mass"):
        cal.result()


def test_a_placement_that_did_not_change_the_counts_is_refused():
    plate = RigidPlate([0, 0], [2000.0, 2000.0])
    cal = Calibrator(LAYOUT2, MASS)
    cal.feed(average_counts(plate))
    with pytest.raises(CalibrationError, match="did not change .* heel area"):
        cal.feed(average_counts(plate))              # nobody put the mass down
    assert cal.step.key == "heel"                    # the same step is asked again
    plate.put(MASS, AREAS2["heel"])
    cal.feed(average_counts(plate))
    assert cal.step.key == "forefoot"


def test_the_mass_left_in_place_is_refused():
    plate = RigidPlate([0, 0], [2000.0, 2000.0])
    cal = Calibrator(LAYOUT2, MASS)
    cal.feed(average_counts(plate))
    plate.put(MASS, AREAS2["heel"])
    cal.feed(average_counts(plate))
    with pytest.raises(CalibrationError, match="same as with the mass on the heel area: move"):
        cal.feed(average_counts(plate))
    assert cal.step.key == "forefoot"


def test_placements_that_cannot_tell_the_cells_apart_are_refused():
    """Four placements along the plate's middle line load left and right alike: singular."""
    plate = RigidPlate([0, 0, 0, 0], [2000.0] * 4, pins=LAYOUT4.data_pins)
    cal = Calibrator(LAYOUT4, MASS)
    along_middle = {k: (x, 0.5) for k, x in zip(AREAS4, (0.15, 0.38, 0.62, 0.85), strict=True)}
    with pytest.raises(CalibrationError, match="do not tell the cells apart"):
        walk(cal, plate, along_middle)
    assert not cal.done and cal.step.key == "heel_left"   # placements start again, tare kept


def test_unsteady_readings_are_refused():
    plate = RigidPlate([0, 0], [2000.0, 2000.0], noise=30.0)
    plate.put(MASS, AREAS2["heel"])
    plate.wobble_n = 10.0                                  # the mass is still swinging
    with pytest.raises(CalibrationError, match="not steady: the heel cell moved by"):
        average_counts(ForcePlate(plate, LAYOUT2, None))
    shaky = Reading(counts=(0.0, 0.0), spread=(5000.0, 10.0), noise=(30.0, 30.0), samples=80)
    cal = Calibrator(LAYOUT2, MASS)
    with pytest.raises(CalibrationError, match="not steady: the heel cell"):
        cal.feed(shaky)


def test_a_saturated_cell_is_refused_with_a_wiring_hint():
    plate = RigidPlate([0x7FFFFF, 0], [2000.0, 2000.0], noise=0.0)
    with pytest.raises(CalibrationError, match="HX711 on GPIO 6 cell reads the HX711's end"):
        average_counts(plate)
    cal = Calibrator(LAYOUT2, MASS)
    with pytest.raises(CalibrationError, match="check its four wires"):
        cal.feed([-0x800000, 0.0])


def test_centre_check_catches_a_placement_that_disagrees():
    plate = RigidPlate([0, 0], [2000.0, 1800.0], noise=20.0)
    cal = Calibrator(LAYOUT2, MASS, centre_check=True)
    assert cal.steps[-1].key == "centre"
    plate.clear()
    cal.feed(average_counts(plate))
    plate.put(MASS * 0.9, AREAS2["heel"])                  # a tenth of it rests on the frame
    cal.feed(average_counts(plate))
    plate.put(MASS, AREAS2["forefoot"])
    cal.feed(average_counts(plate))
    plate.put(MASS, 0.5)
    with pytest.raises(CalibrationError, match="disagree by"):
        cal.feed(average_counts(plate))
    assert cal.step.key == "heel"
    for key in ("heel", "forefoot", "centre"):
        plate.put(MASS, {**AREAS2, "centre": 0.5}[key])
        cal.feed(average_counts(plate))
    assert cal.result().scales == pytest.approx([2000.0, 1800.0], rel=2e-3)


def test_constructor_validates_at_once():
    with pytest.raises(ValueError, match="known mass"):
        Calibrator(LAYOUT2, 0)
    with pytest.raises(ValueError, match="max_condition"):
        Calibrator(LAYOUT2, MASS, max_condition=-1)
    cal = Calibrator(LAYOUT2, MASS)
    with pytest.raises(CalibrationError, match="one finite average per cell"):
        cal.feed([1.0, 2.0, 3.0])


def test_restart_and_feeding_after_done():
    plate = RigidPlate([0, 0], [2000.0, 2000.0])
    cal = Calibrator(LAYOUT2, MASS)
    walk(cal, plate, AREAS2)
    with pytest.raises(CalibrationError, match="already finished"):
        cal.feed([0.0, 0.0])
    cal.restart()
    assert cal.step.key == "empty" and not cal.done


# -- the calibration file ------------------------------------------------------------------------

def test_calibration_save_load_round_trip(tmp_path):
    plate = RigidPlate([150_000, -320_000], [2100.0, -1850.0])
    cal = Calibrator(LAYOUT2, MASS)
    walk(cal, plate, AREAS2)
    result = cal.result()
    path = tmp_path / "state" / "calibration.json"
    result.save(path)
    assert Calibration.load(path) == result
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".calibration-")]


def test_a_damaged_calibration_file_says_what_to_do(tmp_path):
    path = tmp_path / "calibration.json"
    with pytest.raises(CalibrationError, match="not calibrated yet; run `gym-station calibrate`"):
        Calibration.load(path)
    path.write_text('{"format": 1, "offsets": [1.0, 2.0], "scal')
    with pytest.raises(CalibrationError, match=r"damaged \(line 1: .*gym-station calibrate"):
        Calibration.load(path)
    path.write_text(json.dumps({"format": 1, "offsets": [1.0, 2.0]}))
    with pytest.raises(CalibrationError, match="damaged .*'scales'"):
        Calibration.load(path)
    path.write_text(json.dumps({"format": 1, "offsets": [1.0, 2.0], "scales": [0.0, 5.0]}))
    with pytest.raises(CalibrationError, match="cell 0: scale 0.0 counts/N is not usable"):
        Calibration.load(path)

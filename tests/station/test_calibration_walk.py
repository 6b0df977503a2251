"""`gym-station calibrate`/`tare` as a person at the console meets them: scripted answers, a plate
whose load follows the answers."""

import numpy as np
import pytest

from drivers.calibration import Calibration
from drivers.clock import VirtualClock
from drivers.errors import CalibrationError, TareRefused
from drivers.layout import two_cell_layout
from drivers.plate import ForcePlate, G
from station.calibration_walk import tare, walk_calibration
from station.errors import UsageError

OFFSETS = np.array([120_000.0, -45_000.0])
SCALES = np.array([210.0, -190.0])   # counts per newton; the forefoot cell is wired backwards
#: how a mass on each area spreads over (heel, forefoot) cells through the plate's lever arms
SPREAD = {"empty": (0.0, 0.0), "heel": (0.85, 0.15), "forefoot": (0.1, 0.9)}


class RigidPlateWords:
    """Raw words of a 2-cell plate carrying ``mass_kg`` on ``area`` (a test double)."""

    data_pins = (6, 13)

    def __init__(self, mass_kg=20.0, seed=0):
        self.clock = VirtualClock()
        self.rng = np.random.default_rng(seed)
        self.area = "empty"
        self.mass_kg = mass_kg
        self.faults = {}

    def read(self, timeout=1.0):
        self.clock.advance(1 / 80)
        load = np.array(SPREAD[self.area]) * self.mass_kg * G
        counts = OFFSETS + SCALES * load + self.rng.normal(0, 20, 2)
        return [int(round(c)) for c in counts]

    def close(self):
        pass


def answers(words, script):
    """An `ask` that moves the mass as the script says, then presses Enter."""
    it = iter(script)
    prompts = []

    def ask(prompt):
        prompts.append(prompt)
        area, reply = next(it)
        words.area = area
        return reply
    return ask, prompts


def test_walk_saves_a_calibration_that_weighs_right(tmp_path):
    layout = two_cell_layout()
    words = RigidPlateWords()
    plate = ForcePlate(words, layout, None)
    ask, prompts = answers(words, [("empty", ""), ("heel", ""), ("forefoot", "")])
    said = []
    cal = walk_calibration(plate, layout, 20.0, tmp_path / "calibration.json", ask=ask,
                           say=said.append)
    assert "[1/3]" in prompts[0] and "Take everything off" in prompts[0]
    assert "heel area" in prompts[1] and "forefoot area" in prompts[2]
    np.testing.assert_allclose(cal.scales, SCALES, rtol=0.01)
    assert any("reads backwards" in s for s in said)
    stored = Calibration.load(tmp_path / "calibration.json")
    assert stored == cal and stored.calibrated_at
    # the calibrated plate now weighs a 70 kg athlete standing on the heel area
    words.mass_kg, words.area = 70.0, "heel"
    plate.set_calibration(stored)
    for _ in range(5):
        s = plate.read()
    assert s.total == pytest.approx(70 * G, rel=0.01)


def test_a_refused_step_is_asked_again_and_quit_saves_nothing(tmp_path):
    layout = two_cell_layout()
    words = RigidPlateWords()
    plate = ForcePlate(words, layout, None)
    # the person forgets to put the mass on, is told why, then quits
    ask, prompts = answers(words, [("empty", ""), ("empty", ""), ("empty", "q")])
    said = []
    with pytest.raises(UsageError, match="unchanged"):
        walk_calibration(plate, layout, 20.0, tmp_path / "calibration.json", ask=ask,
                         say=said.append)
    assert any("did not change" in s for s in said)
    assert prompts[1] == prompts[2]  # the same step, asked again
    assert not (tmp_path / "calibration.json").exists()


def test_too_many_refusals_stop_without_saving(tmp_path):
    layout = two_cell_layout()
    words = RigidPlateWords()
    plate = ForcePlate(words, layout, None)
    ask, _ = answers(words, [("empty", "")] + [("empty", "")] * 5)
    with pytest.raises(CalibrationError, match="refused 5 times"):
        walk_calibration(plate, layout, 20.0, tmp_path / "c.json", ask=ask, say=lambda s: None)
    assert not (tmp_path / "c.json").exists()


def test_tare_saves_new_zero_and_is_refused_when_loaded(tmp_path):
    layout = two_cell_layout()
    words = RigidPlateWords(mass_kg=70.0)
    old = Calibration(offsets=tuple(OFFSETS + 500), scales=tuple(SCALES), calibrated_at=None)
    plate = ForcePlate(words, layout, old)
    words.area = "heel"
    with pytest.raises(TareRefused, match="tare refused: someone is standing on the plate"):
        tare(plate, tmp_path / "c.json", say=lambda s: None)
    assert not (tmp_path / "c.json").exists()
    words.area = "empty"
    new = tare(plate, tmp_path / "c.json", say=lambda s: None)
    np.testing.assert_allclose(new.offsets, OFFSETS, atol=15)
    assert Calibration.load(tmp_path / "c.json").scales == old.scales

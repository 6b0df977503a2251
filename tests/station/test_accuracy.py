"""The analysis' accuracy contract, on the simulated athlete with ground truth.

Scenario -> :func:`drivers.simplate.simulated_plate` (simulated HX711 words with noise, drift and
spikes, through the real ForcePlate) -> :class:`station.analysis.Analyzer`, compared with the
scenario's :class:`drivers.athlete.GroundTruth`. The contract (verbatim from the issue):

    rep count exact; hold time within one sample period + 30 ms; heel share within 0.03; each
    fault flagged exactly where the script made it, and nowhere else.

The hold is one definition for truth and measurement (``station.reps.top_band_hold``; the truth
applies it to the model's noise-free force, sway included, on a 1 ms grid). ``GYM_STATION_SWEEP=1``
runs many more seeds and body masses.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import Phase as Stage
from hypothesis import strategies as st

from drivers.athlete import (
    HOLD_MARGIN_S,
    SHORT_HOLD_BELOW_S,
    ScriptedAthlete,
    parse_scenario,
)
from drivers.layout import CellSpec, PlateLayout
from drivers.simplate import simulated_plate
from station.analysis import Analyzer, Phase, PhaseChanged, RepCompleted
from station.profiles import load_profiles
from station.reps import band_lowering, top_band_hold

HIP = load_profiles().get("single_leg_hip_thrust")
SWEEP = os.environ.get("GYM_STATION_SWEEP") == "1"
MASSES = (50.0, 65.0, 80.0, 95.0, 110.0)
SPIKES_HZ = 0.2  # HX711 spikes per cell per second (each a bit among 16..22 flipped)


def tolerance_s(rate: float) -> float:
    return 1.0 / rate + 0.03


def analyse(scenario, *, seed: int, rate: float, mass: float | None = None,
            spikes: float = SPIKES_HZ):
    """Run a scenario through the simulated plate and the Analyzer.

    Returns the analyzer, the truth, each rep's live hold when its lowering showed and
    ``(t, rep)`` of each RepCompleted."""
    plate, truth = simulated_plate(scenario, seed=seed, rate_hz=rate, body_mass_kg=mass,
                                   spike_rate_hz=spikes)
    an = Analyzer(HIP, truth.sides[0] if truth.sides else "left", rate)
    live_holds, completed = [], []  # completed: (t, rep) of each RepCompleted
    lowering = float("nan")
    with plate:
        for _ in range(int((truth.duration_s + 8.0) * rate)):
            for e in an.feed(plate.read()):
                if isinstance(e, PhaseChanged) and e.phase is Phase.LOWER:
                    lowering = an.live.hold_s  # the last lowering of the rep is the one judged
                elif isinstance(e, RepCompleted):
                    live_holds.append(lowering)
                    completed.append((e.t, e.rep))
    an.finish()
    return an, truth, live_holds, completed


def check_contract(an, truth, rate, where: str) -> None:
    reps = an.reps
    assert len(reps) == len(truth.reps), f"{where}: {len(reps)} reps, truth {len(truth.reps)}"
    tol = tolerance_s(rate)
    for rep, true in zip(reps, truth.reps, strict=True):
        at = f"{where}, rep {true.index} ({true.kind})"
        assert abs(rep.hold_s - true.hold_s) <= tol, (
            f"{at}: hold {rep.hold_s:.3f} s, truth {true.hold_s:.3f} s")
        assert rep.heel_share is not None and abs(rep.heel_share - true.heel_share) <= 0.03, (
            f"{at}: heel share {rep.heel_share}, truth {true.heel_share:.3f}")
        assert rep.faults == true.faults, f"{at}: faults {rep.faults}, made {true.faults}"


def runs(scenarios, seeds):
    """(scenario, seed, rate, mass) cases: every scenario at both HX711 rates, masses 50..110."""
    return [(name, seed, rate, MASSES[(seed + i) % len(MASSES)])
            for i, name in enumerate(scenarios) for seed in seeds for rate in (10.0, 80.0)]


SCENARIOS = ("demo", "faults", "junior", "senior", "clean_set")
CASES = runs(SCENARIOS, range(40) if SWEEP else (0, 1))
# Known misses, reported rather than hidden (the sweep, 16 seeds x 5 scenarios, after the
# plate's gated spike filter, seeds 0 and 1 all pass): 80 SPS rep count 80/80, hold 544/544,
# heel share 544/544, faults 540/544 (junior reps with a true 1.8 s lowering measured 1.37-1.48 s
# under sway: too_fast), live hold at the lowering 535/544. 10 SPS rep count 79/80, hold
# 522/530 (p90 21 ms, worst 0.5 s), heel share 527/530 (max error 0.047), faults 525/530 (the
# same junior lowerings), live hold 529/530.
# Sweep of 40 seeds (400 cases), after the half-way rule that ignores dips which come back up
# and the live-hold fixes: 371 pass (was 354); after the plate's bit-flip repair (two bad
# words in a row restored at the source): 384; with the live hold taken from the drive's fit
# as the measurement takes it (5 live holds had disagreed with the final one on holds that sag
# to the band's edge, where a few newtons of bottom level move the hold's end by up to 0.6 s):
# 389; after the plate's total arbitrates bit flips in the heel-to-toe shift (and a rep's heel
# share skips samples its despike replaced): 395. Left: 4 holds at 10 SPS and 1 at 80 SPS (demo 32).

@pytest.mark.parametrize("name, seed, rate, mass", CASES)
def test_scenarios_meet_the_contract(name, seed, rate, mass):
    an, truth, live_holds, completed = analyse(name, seed=seed, rate=rate, mass=mass)
    check_contract(an, truth, rate, f"{name} seed {seed} {rate:g} SPS {mass:g} kg")
    # the live hold, corrected when the lowering shows, is the rep's own judgement
    assert len(live_holds) == len(an.reps)
    for live, rep in zip(live_holds, an.reps, strict=True):
        assert live == pytest.approx(rep.hold_s, abs=tolerance_s(rate))
        assert (live < HIP.hold_target_s) == ("short_hold" in rep.faults)


# 10 SPS cases the sweep found: bad words after the overshoot (faults 22), a spike on it under
# a sagging hold (senior 32), a false lowering as the overshoot decays (junior 19, demo 10: the
# live hold was 0.26 s and 0.32 s, the reps' 1.99 s and 2.42 s)
@pytest.mark.parametrize("name, seed, mass", [("faults", 22, 95.0), ("senior", 32, 50.0),
                                              ("junior", 19, 65.0), ("demo", 10, 50.0)])
def test_found_10_sps_misses_stay_fixed(name, seed, mass):
    an, truth, live_holds, _ = analyse(name, seed=seed, rate=10.0, mass=mass)
    for live, rep, true in zip(live_holds, an.reps, truth.reps, strict=True):
        assert abs(rep.hold_s - true.hold_s) <= tolerance_s(10.0), (rep.index, rep.hold_s)
        assert live == pytest.approx(rep.hold_s, abs=tolerance_s(10.0)), rep.index


# Live holds the sweep found off the final one: the bottom level 3-7 N off the measurement's on
# a hold that sags to the band's edge (demo 24, 34), the first two samples of a quick lowering
# taken for bad words at the record's end (faults 7, 13)
@pytest.mark.parametrize("name, seed, rate, mass", [
    ("demo", 24, 10.0, 110.0), ("demo", 24, 80.0, 110.0), ("demo", 34, 80.0, 110.0),
    ("faults", 7, 10.0, 95.0), ("faults", 13, 10.0, 110.0)])
def test_found_live_hold_misses_stay_fixed(name, seed, rate, mass):
    an, _, live_holds, _ = analyse(name, seed=seed, rate=rate, mass=mass)
    for live, rep in zip(live_holds, an.reps, strict=True):
        assert live == pytest.approx(rep.hold_s, abs=tolerance_s(rate)), rep.index
        assert (live < HIP.hold_target_s) == ("short_hold" in rep.faults), rep.index


# 10 SPS heel shares the sweep found off by 0.03-0.06: a bit flipped in one zone's word during
# the drive, which the plate could not tell from the heel-to-toe shift (a flip against the
# shift, demo 32; a good word taken for a flip, faults 20; a flip mid-drive under a total that
# still rose, demo 23 and faults 34). The plate's total now arbitrates.
@pytest.mark.parametrize("name, seed, mass", [("demo", 32, 80.0), ("faults", 20, 65.0),
                                              ("demo", 23, 95.0), ("faults", 34, 50.0)])
def test_found_10_sps_heel_share_misses_stay_fixed(name, seed, mass):
    an, truth, _, _ = analyse(name, seed=seed, rate=10.0, mass=mass)
    check_contract(an, truth, 10.0, f"{name} seed {seed} 10 SPS {mass:g} kg")


def four_cell_layout(rate: float) -> PlateLayout:
    return PlateLayout(cells=(
        CellSpec("heel_left", "heel", 6, 5, "left"), CellSpec("heel_right", "heel", 13, 5, "right"),
        CellSpec("forefoot_left", "forefoot", 19, 5, "left"),
        CellSpec("forefoot_right", "forefoot", 26, 5, "right")), rate_hz=rate)


# A four-cell plate: twice the cells, so twice the bit flips, and a heel-to-toe shift spread over
# two cells a zone (the plate's flip repair weighs all four). The sweep (8 seeds x 3 scenarios
# x 2 rates): 47 of 48 cases meet the contract (the miss: faults 4 at 10 SPS, the two-cell
# sweep's own knife-edge hold).
@pytest.mark.parametrize("name, seed, rate, mass", runs(("demo", "faults", "clean_set"),
                                                       range(8) if SWEEP else (0, 1)))
def test_a_four_cell_plate_meets_the_contract(name, seed, rate, mass):
    plate, truth = simulated_plate(name, seed=seed, rate_hz=rate, body_mass_kg=mass,
                                   spike_rate_hz=SPIKES_HZ, layout=four_cell_layout(rate))
    an = Analyzer(HIP, truth.sides[0] if truth.sides else "left", rate)
    with plate:
        for _ in range(int((truth.duration_s + 8.0) * rate)):
            an.feed(plate.read())
    an.finish()
    check_contract(an, truth, rate, f"four cells: {name} seed {seed} {rate:g} SPS {mass:g} kg")


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_ghost_movements_count_no_rep(rate):
    for seed in range(6 if SWEEP else 2):
        an, truth, _, _ = analyse("ghost", seed=seed, rate=rate, mass=MASSES[seed % 5])
        assert truth.reps == () and an.reps == [], f"seed {seed}: ghost reps {an.reps}"


def test_truth_and_station_share_one_hold_definition():
    """The truth's hold and lowering are the station's top_band_hold and band_lowering on the
    model's force (1 ms grid)."""
    athlete = ScriptedAthlete("faults", seed=5)
    for true in athlete.truth.reps:
        t = np.arange(true.start - 0.4, true.end + 0.001, 0.001)
        f = athlete.forces(t)
        load = f.heel + f.forefoot
        after, bottom = t >= true.start, float(np.median(load[t <= true.start]))
        start, end, top = top_band_hold(t[after], load[after], bottom)
        assert (start, end) == (pytest.approx(true.hold_start, abs=0.002),
                                pytest.approx(true.hold_end, abs=0.002))
        lower_end, lower_s = band_lowering(t[after], load[after], bottom, top, end)
        assert (lower_end, lower_s) == (pytest.approx(true.lower_end, abs=0.002),
                                        pytest.approx(true.lower_s, abs=0.006))


def test_each_error_source_is_caught():
    """The checks can fail: a hold, a share or a fault off by the smallest excess is reported."""
    an, truth, _, _ = analyse("clean_set", seed=3, rate=80.0, mass=70.0)
    check_contract(an, truth, 80.0, "clean")
    from dataclasses import replace

    rep = an.reps[1]
    for bad in (replace(rep, hold_s=truth.reps[1].hold_s + tolerance_s(80.0) + 0.005),
                replace(rep, heel_share=truth.reps[1].heel_share - 0.031),
                replace(rep, faults=("too_fast",))):
        an.reps[1] = bad
        with pytest.raises(AssertionError):
            check_contract(an, truth, 80.0, "clean")


# ---------------------------------------------------------------------------- drawn reps
#
# Ranges: drive 0.7..1.5 s; a good hold 1.2..2.5 s, a short one 0..0.4 s (with a lowering of
# at most 2.4 s, see drivers.athlete); a controlled lowering 2.0..3.0 s, a rushed one
# 0.45..1.0 s; heel share 0.7..0.85 through the heel, 0.3..0.45 through the toes; body mass
# 50..110 kg. Outside them, at 10 SPS, the station is known to miss (see the report in the
# commit): a lowering of 0.4 s or less spans four samples, and a drive that starts by moving
# the foot's load from 0.55 to 0.25 heel share within 0.15 s is distorted by the plate's
# 3-word median at 10 SPS.

@st.composite
def rep_tables(draw):
    toe = draw(st.booleans())
    short = draw(st.booleans())
    rushed = draw(st.booleans())
    lower = draw(st.floats(0.45, 1.0) if rushed else st.floats(2.0, 2.4 if short else 3.0))
    faults = [f for f, on in (("toe_drive", toe), ("short_hold", short), ("too_fast", rushed))
              if on]
    return {
        "kind": "rep",
        "drive_s": draw(st.floats(0.7, 1.5)),
        "hold_s": draw(st.floats(0.0, 0.4) if short else st.floats(1.2, 2.5)),
        "lower_s": lower,
        "heel_share": draw(st.floats(0.3, 0.45) if toe else st.floats(0.7, 0.85)),
        "faults": faults,
    }


def check_drawn(reps, mass, rate, seed):
    scenario = parse_scenario({
        "athlete": {"mass_kg": mass},
        "steps": [{"kind": "step_on"}, {"kind": "settle", "duration_s": 1.5}, *reps,
                  {"kind": "step_off"}],
    }, source="drawn")
    an, truth, _, _ = analyse(scenario, seed=seed, rate=rate)
    for true in truth.reps:  # the drawn reps are clear of the judgement's edges
        assert abs(true.hold_s - SHORT_HOLD_BELOW_S) >= HOLD_MARGIN_S - 1e-9
    check_contract(an, truth, rate, f"drawn seed {seed} {rate:g} SPS {mass:.0f} kg")


DRAWN = settings(max_examples=60 if SWEEP else 10, deadline=None, derandomize=True,
                 database=None, suppress_health_check=[HealthCheck.too_slow])


@DRAWN
@given(reps=st.lists(rep_tables(), min_size=1, max_size=3), mass=st.floats(50.0, 110.0),
       seed=st.integers(0, 10_000))
def test_drawn_reps_meet_the_contract_at_80_sps(reps, mass, seed):
    check_drawn(reps, mass, 80.0, seed)


# Drawn at 10 SPS, 300 examples (derandomized, outside this file): 288 met the contract, then
# 294 with the fixes below and the plate's total arbitrating bit flips. Left: the same bit
# flipped in two words in a row of a heel-to-toe shift (seed 193), a 0.7 s drive straight into
# a 0.45 s lowering whose drive fit starts 0.26 s early (seed 46, 50 kg), two holds. At 80 SPS
# 300/300. The tables those 300 found and the station now meets are kept below.
@settings(DRAWN, phases=[Stage.explicit, Stage.generate])
@given(reps=st.lists(rep_tables(), min_size=1, max_size=3), mass=st.floats(50.0, 110.0),
       seed=st.integers(0, 10_000))
def test_drawn_reps_meet_the_contract_at_10_sps(reps, mass, seed):
    check_drawn(reps, mass, 10.0, seed)


def _drawn_rep(drive_s, hold_s, lower_s, heel_share):
    faults = [f for f, on in (("toe_drive", heel_share < 0.5), ("short_hold", hold_s < 0.5),
                              ("too_fast", lower_s < 1.5)) if on]
    return {"kind": "rep", "drive_s": drive_s, "hold_s": hold_s, "lower_s": lower_s,
            "heel_share": heel_share, "faults": faults}


@pytest.mark.parametrize("reps, mass, seed", [
    # a bit flipped in the forefoot's word in the middle of the heel-to-toe shift: the gate's
    # median put a fifth too much on the forefoot and the drive's start 0.24 s early (heel
    # share 0.39, truth 0.31); the word with its bit put back lies between its neighbours
    ([_drawn_rep(0.7, 0.0, 0.45, 0.3)], 50.0, 0),
    # no hold, a rushed lowering: the drive's fit bent an early ramp with a negative overshoot
    # (start 0.25 s early, heel share 0.39, truth 0.31)
    ([_drawn_rep(0.7, 0.0, 0.45, 0.3)], 65.2, 422),
    # a rushed last rep and straight off the plate: two samples at the bottom, one of them in
    # the filtered load, was "stepping off from the top" (no rep)
    ([_drawn_rep(1.29, 1.9, 0.45, 0.3043774529719588)], 50.0, 0),
    ([_drawn_rep(0.97, 1.23, 2.77, 0.429), _drawn_rep(1.26, 0.005, 0.45, 0.749)], 66.6, 773),
    # the same straight off the plate, with the base learnt on a crest of the settling sway
    # 20-40 N above the bottom the athlete drove from and came back to: no rest at the bottom
    ([_drawn_rep(1.449, 0.0, 0.6225, 0.3936)], 75.0, 46),
])
def test_found_10_sps_drawn_misses_stay_fixed(reps, mass, seed):
    check_drawn(reps, mass, 10.0, seed)

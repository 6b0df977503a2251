"""The simulated athlete: scenarios, load mechanics, ground truth, the keyboard athlete."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.athlete import (
    HOLD_MARGIN_S,
    LOWER_MARGIN_S,
    SCENARIO_DIR,
    SHORT_HOLD_BELOW_S,
    TOE_DRIVE_BELOW,
    TOO_FAST_BELOW_S,
    G,
    KeyboardAthlete,
    ScriptedAthlete,
    load_scenario,
    lowering_fraction,
    parse_scenario,
)
from drivers.clock import VirtualClock
from drivers.errors import ScenarioError

SHIPPED = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def total(f):
    return f.heel + f.forefoot


@pytest.fixture(scope="module")
def demo():
    return ScriptedAthlete("demo", seed=3)


@pytest.fixture(scope="module")
def clean():
    return ScriptedAthlete("clean_set", seed=5)


def test_shipped_scenarios_include_the_test_set():
    assert {"demo", "clean_set", "junior", "senior", "ghost", "faults"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_loads_and_runs(name):
    athlete = ScriptedAthlete(name, seed=1)
    truth = athlete.truth
    assert truth.duration_s > 5
    assert len(truth.step_on) >= 1
    for rep in truth.reps:
        assert rep.start < rep.drive_end <= rep.lower_start < rep.end
        assert rep.drive_s == pytest.approx(rep.drive_end - rep.start)
        # the lowering is the station's definition on the model's force: from the hold's end
        # to the first time back within a quarter of the range above the bottom
        assert rep.hold_end < rep.lower_end < rep.end + 1.0
        assert rep.lower_s == pytest.approx((rep.lower_end - rep.hold_end) / lowering_fraction())
        # ... on the scenario's side of the too-fast edge, by the margin
        if "too_fast" in rep.faults:
            assert rep.lower_s <= TOO_FAST_BELOW_S - LOWER_MARGIN_S + 1e-9
        else:
            assert rep.lower_s >= TOO_FAST_BELOW_S + LOWER_MARGIN_S - 1e-9
        # the hold is the station's top band on the model's force: from about lockout into the
        # slow first part of the lowering
        assert rep.hold_s == pytest.approx(rep.hold_end - rep.hold_start)
        assert rep.drive_end - 0.25 < rep.hold_start < rep.drive_end + 0.5
        assert rep.lower_start - 0.5 < rep.hold_end < rep.lower_start + 0.4 * rep.lower_s
        # a clear margin from the short-hold edge, on the side the scenario meant
        if "short_hold" in rep.faults:
            assert rep.hold_s <= SHORT_HOLD_BELOW_S - HOLD_MARGIN_S + 1e-9
        else:
            assert rep.hold_s >= SHORT_HOLD_BELOW_S + HOLD_MARGIN_S - 1e-9


def test_fault_zones_agree_with_the_hip_thrust_profile():
    """drivers/ cannot import station/: the athlete keeps the zones as constants, read here."""
    import tomllib

    from drivers.athlete import HOLD_BAND, HOLD_SETTLED, TOO_FAST_BELOW_S

    path = SCENARIO_DIR.parent / "exercises.toml"
    hip = tomllib.loads(path.read_text())["profiles"]["single_leg_hip_thrust"]
    assert TOE_DRIVE_BELOW == hip["share_threshold"] == 0.6
    assert SHORT_HOLD_BELOW_S == hip["hold_target_s"] == 1.0
    assert TOO_FAST_BELOW_S == hip["min_lower_s"] == 1.5
    import station.reps as reps

    assert (HOLD_BAND, HOLD_SETTLED) == (reps.HOLD_BAND, reps.HOLD_SETTLED)


def test_margins_keep_scenarios_clear_of_the_zone_edges():
    base = [{"kind": "step_on"}]
    for rep, words in (({"kind": "rep", "heel_share": 0.65}, "heel_share 0.65 is within 0.1"),
                       ({"kind": "rep", "lower_s": 1.6}, "lower_s 1.6 is within 0.25")):
        with pytest.raises(ScenarioError, match=words):
            parse_scenario(_scenario(base + [rep]), source="edge.toml")
    # a hold meant to be short is kept short even with a slow lowering and a long nominal hold
    scenario = parse_scenario(_scenario(base + [
        {"kind": "no_hold_rep", "hold_s": 0.6, "lower_s": 2.4, "count": 3}]))
    for seed in range(4):
        for rep in ScriptedAthlete(scenario, seed=seed).truth.reps:
            assert rep.hold_s <= SHORT_HOLD_BELOW_S - HOLD_MARGIN_S
    with pytest.raises(ScenarioError, match="a short hold needs lower_s <= 2.4 s"):
        parse_scenario(_scenario(base + [{"kind": "no_hold_rep", "lower_s": 2.8}]))


def test_demo_has_the_promised_shape(demo):
    truth = demo.truth
    assert truth.step_on[0] < 3.0
    left = [r for r in truth.reps if r.side == "left"]
    right = [r for r in truth.reps if r.side == "right"]
    assert len(left) == 8 and right
    assert left[-1].end < 60.0
    faults = [r.faults for r in left]
    assert faults.count(("toe_drive",)) == 1
    assert faults.count(("short_hold",)) == 1
    assert faults.count(("too_fast",)) == 1
    assert faults.count(()) == 5
    # rest off the plate between the sides, then the right foot
    assert truth.step_off[0] < right[0].start and truth.sides == ("left", "right")
    assert {r.set_index for r in left} == {0} and {r.set_index for r in right} == {1}
    gap = demo.forces(np.arange(truth.step_off[0] + 0.01, truth.step_on[1], 0.05))
    assert np.all(total(gap) == 0.0)


def test_same_seed_same_forces_on_any_grid(demo):
    again = ScriptedAthlete("demo", seed=3)
    other = ScriptedAthlete("demo", seed=4)
    t10 = np.arange(0, 40, 0.1)
    t80 = np.arange(0, 40, 0.0125)
    a, b = demo.forces(t10), again.forces(t10)
    assert np.array_equal(a.heel, b.heel) and np.array_equal(a.left, b.left)
    # 10 Hz times are every 8th 80 Hz time: the same athlete on both grids
    f80 = demo.forces(t80)
    assert np.allclose(f80.heel[::8], a.heel) and np.allclose(f80.forefoot[::8], a.forefoot)
    assert not np.allclose(other.forces(t10).heel, a.heel)
    one = demo.force_at(12.34)
    assert isinstance(one.heel, float) and one.heel == pytest.approx(demo.forces([12.34]).heel[0])


def test_foot_load_follows_the_hip_thrust_lever(clean):
    body = clean.body
    bw = body.mass_kg * G
    for rep in clean.truth.reps:
        before = total(clean.forces(np.linspace(rep.start - 0.5, rep.start, 50)))
        hold = total(clean.forces(np.linspace(rep.drive_end, rep.lower_start, 200)))
        drive = total(clean.forces(np.linspace(rep.start, rep.drive_end, 200)))
        assert np.mean(before) == pytest.approx(body.bottom_share * bw, rel=0.06)
        assert np.mean(hold) == pytest.approx(body.top_share * bw, rel=0.04)
        # small sway at the top (around 1 % of body weight), not a flat line
        assert 0.001 * bw < np.std(hold) < 0.03 * bw
        # the drive overshoots the static top: the hips are accelerated up
        assert drive.max() > 1.05 * body.top_share * bw
        assert rep.peak_n == pytest.approx(max(drive.max(), hold.max()), rel=0.01)


def test_force_rises_smoothly_never_in_steps(clean):
    t = np.arange(0, clean.truth.duration_s, 0.001)
    load = total(clean.forces(t))
    rate = np.abs(np.diff(load)) / 0.001
    bw = clean.body.weight_n
    assert rate.max() < 2.0 * bw  # N/s: a 1 s drive of ~0.25 BW peaks well below this
    # and the largest single millisecond change is a tiny fraction of body weight
    assert np.abs(np.diff(load)).max() < 0.003 * bw


def test_truth_heel_share_is_the_mean_during_the_drive():
    athlete = ScriptedAthlete("faults", seed=2)
    for rep in athlete.truth.reps:
        t = np.arange(rep.start, rep.drive_end, 1 / 80)
        f = athlete.forces(t)
        measured = float(np.mean(f.heel / total(f)))
        assert measured == pytest.approx(rep.heel_share, abs=0.01)
        if "toe_drive" in rep.faults:
            assert rep.heel_share < TOE_DRIVE_BELOW - 0.05
        else:
            assert rep.heel_share > TOE_DRIVE_BELOW + 0.05


def test_intended_faults_follow_the_scenario():
    truth = ScriptedAthlete("faults", seed=2).truth
    kinds = [(r.kind, r.faults, r.good) for r in truth.reps]
    assert kinds[0] == ("rep", (), True)
    assert kinds[1] == ("toe_rep", ("toe_drive",), False)
    assert kinds[3] == ("no_hold_rep", ("short_hold",), False)
    assert kinds[5] == ("rushed_rep", ("too_fast",), False)
    assert kinds[6][1] == ("toe_drive", "short_hold", "too_fast")
    by_kind = {r.kind: r for r in truth.reps}
    assert by_kind["no_hold_rep"].hold_s < SHORT_HOLD_BELOW_S - HOLD_MARGIN_S
    assert by_kind["rushed_rep"].lower_s < 0.6
    assert truth.to_json()["reps"][1]["faults"] == ["toe_drive"]


def test_body_mass_scales_the_forces():
    junior = ScriptedAthlete("junior", seed=1).truth
    senior = ScriptedAthlete("senior", seed=1).truth
    assert junior.mass_kg == 50 and senior.mass_kg == 110
    ratio = np.mean([r.peak_n for r in senior.reps]) / np.mean([r.peak_n for r in junior.reps])
    assert 1.8 < ratio < 2.8
    heavier = ScriptedAthlete("junior", seed=1, body_mass_kg=100).truth
    assert np.mean([r.peak_n for r in heavier.reps]) == pytest.approx(
        2 * np.mean([r.peak_n for r in junior.reps]), rel=0.03)


def test_ghost_movements_never_look_like_a_rep():
    ghost = ScriptedAthlete("ghost", seed=9)
    assert ghost.truth.reps == ()
    body = ghost.body
    t = np.arange(0, ghost.truth.duration_s, 0.005)
    f = ghost.forces(t)
    load = total(f) / body.weight_n
    midway = body.bottom_share + 0.5 * (body.top_share - body.bottom_share)
    assert load.max() < midway
    share = f.heel / np.maximum(total(f), 1e-9)
    on = total(f) > 50
    assert share[on].min() < 0.32 and share[on].max() > 0.75  # the heel/toe rocking happened


def test_zones_add_up_and_the_lateral_edge_follows_the_foot(demo):
    t = np.arange(0, demo.truth.duration_s, 0.02)
    f = demo.forces(t)
    assert np.allclose(f.heel + f.forefoot, f.left + f.right)
    assert np.all(f.heel >= 0) and np.all(f.forefoot >= 0)
    on_left = (t > 5) & (t < demo.truth.step_off[0])
    on_right = (t > demo.truth.step_on[1] + 2) & (t < demo.truth.step_off[1] - 1)
    # lateral share 0.45: the left foot's lateral edge is the plate's left half
    assert np.mean(f.left[on_left] / total(f)[on_left]) == pytest.approx(0.45, abs=0.02)
    assert np.mean(f.right[on_right] / total(f)[on_right]) == pytest.approx(0.45, abs=0.02)


def test_off_the_plate_is_exactly_zero(clean):
    t_off = clean.truth.step_off[-1]
    assert total(clean.force_at(0.0)) == 0.0
    assert np.all(total(clean.forces(np.arange(t_off, t_off + 5, 0.1))) == 0.0)
    assert total(clean.force_at(0.5)) > 0


def _scenario(steps, athlete=None):
    return {"athlete": athlete or {"mass_kg": 70}, "steps": steps}


@pytest.mark.parametrize("steps, athlete, message", [
    ([{"kind": "step_on"}, {"kind": "jump"}], None, "step 2: unknown kind 'jump'"),
    ([{"kind": "rep"}], None, "step 1 (rep): the athlete must be on the plate"),
    ([{"kind": "step_on"}, {"kind": "toe_rep", "heel_share": 0.6}], None,
     "step 2 (toe_rep): fault 'toe_drive' is intended but heel_share 0.6"),
    ([{"kind": "step_on"}, {"kind": "rep", "lower_s": 0.4}], None,
     "step 2 (rep): lower_s 0.4 (too fast is below 1.5 s): list 'too_fast'"),
    ([{"kind": "step_on"}, {"kind": "rep", "drive": 1.0}], None,
     "step 2 (rep): unknown key(s) ['drive']"),
    ([{"kind": "step_on"}, {"kind": "rep", "hold_s": "long"}], None,
     "step 2 (rep): hold_s must be a number"),
    ([{"kind": "step_on"}, {"kind": "step_on"}], None, "step 2 (step_on): the athlete is already"),
    ([{"kind": "step_off"}], None, "step 1 (step_off): the athlete is not on the plate"),
    ([{"kind": "step_on"}, {"kind": "rep", "count": 0}], None, "step 2 (rep): count must be"),
    ([{"kind": "step_on"}], {"mass_kg": 5}, "[athlete]: mass_kg = 5 is outside"),
    ([{"kind": "step_on"}], {"side": "middle"}, "[athlete]: side must be 'left' or 'right'"),
    ([], None, "at least one [[steps]]"),
])
def test_bad_scenarios_are_refused_naming_file_and_step(steps, athlete, message):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(_scenario(steps, athlete), source="bad.toml")
    assert str(err.value).startswith("bad.toml: ")
    assert message in str(err.value)


def test_scenario_files_errors(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario .*shipped: .*demo"):
        load_scenario(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[athlete\nmass_kg = 70\n")
    with pytest.raises(ScenarioError, match="broken.toml: not valid TOML"):
        load_scenario(broken)
    ok = tmp_path / "ok.toml"
    ok.write_text('[athlete]\nmass_kg = 60\n[[steps]]\nkind = "step_on"\n'
                  '[[steps]]\nkind = "rep"\ncount = 2\n')
    athlete = ScriptedAthlete(ok, seed=0)
    assert athlete.body.mass_kg == 60 and len(athlete.truth.reps) == 2


def test_keyboard_athlete_moves_smoothly_on_commands():
    clock = VirtualClock(100.0)
    kb = KeyboardAthlete(clock, mass_kg=80, seed=1, drive_s=0.8, lower_s=1.5)
    bw = kb.body.weight_n
    bottom = total(kb.force_at(0.5)) / bw
    assert bottom == pytest.approx(kb.body.bottom_share, abs=0.03)
    clock.advance(1.0)
    kb.press("drive")                      # at athlete time 1.0
    t = np.arange(1.0, 3.0, 0.001)
    load = total(kb.forces(t)) / bw
    assert np.abs(np.diff(load)).max() < 0.003  # no jumps
    assert load[0] == pytest.approx(kb.body.bottom_share, abs=0.03)
    assert np.mean(load[(t > 2.0)]) == pytest.approx(kb.body.top_share, abs=0.03)
    clock.advance(2.0)
    kb.release("drive")                    # at 3.0
    assert total(kb.force_at(3.0)) / bw == pytest.approx(kb.body.top_share, abs=0.03)
    assert total(kb.force_at(5.0)) / bw == pytest.approx(kb.body.bottom_share, abs=0.03)
    share = kb.force_at(5.0).heel / total(kb.force_at(5.0))
    kb.shift_heel(t=105.0)
    after = kb.force_at(6.0)
    assert after.heel / total(after) == pytest.approx(share + 0.15, abs=0.04)
    kb.shift_toe(t=106.0)
    kb.shift_toe(t=106.5)
    later = kb.force_at(8.0)
    assert later.heel / total(later) < share - 0.08
    kb.step(t=108.0)
    assert not kb.on_plate
    assert total(kb.force_at(8.3)) > 0          # stepping off takes a moment
    assert total(kb.force_at(9.0)) == 0.0
    kb.press("drive", t=109.5)                 # nothing to drive off the plate
    assert total(kb.force_at(10.0)) == 0.0
    kb.step(t=110.0)
    assert total(kb.force_at(11.0)) / bw == pytest.approx(kb.body.bottom_share, abs=0.03)
    with pytest.raises(ValueError, match="unknown athlete command 'jump'"):
        kb.press("jump")


def test_keyboard_takes_over_the_script_seamlessly():
    from drivers.athlete import TakeoverAthlete

    clock = VirtualClock()
    scripted = ScriptedAthlete("clean_set", seed=5)
    athlete = TakeoverAthlete(scripted, clock)
    rep = scripted.truth.reps[1]
    mid_hold = (rep.drive_end + rep.lower_start) / 2
    t = np.arange(0, mid_hold, 0.01)
    assert np.array_equal(total(athlete.forces(t)), total(scripted.forces(t)))
    clock.advance(mid_hold)
    athlete.press("drive")                 # takes over, holding at the top
    athlete.release("drive")               # not driving under the keyboard yet: ignored
    grid = np.arange(mid_hold - 0.5, mid_hold + 0.5, 0.001)
    load = total(athlete.forces(grid))
    assert np.abs(np.diff(load)).max() < 0.003 * scripted.body.weight_n  # seamless
    clock.advance(1.0)
    athlete.release("drive")
    after = total(athlete.force_at(mid_hold + 4.0)) / scripted.body.weight_n
    assert after == pytest.approx(scripted.body.bottom_share, abs=0.03)
    # the script would have been lowering and starting the next rep by now: it no longer drives
    assert athlete.keyboard is not None and athlete.takeover_t == pytest.approx(mid_hold)


def test_a_short_hold_stays_short_when_the_movements_alone_fill_the_band():
    """A slow drive's overshoot settling and the first fifth of a slow lowering keep the load
    in the top band ~0.8 s with no model hold at all (108 kg, seed 90): the athlete lowers a
    little quicker (still clearly slow enough), then drives quicker, until the hold is short."""
    scenario = parse_scenario({"athlete": {"mass_kg": 108}, "steps": [
        {"kind": "step_on"}, {"kind": "settle", "duration_s": 1.5},
        {"kind": "rep", "drive_s": 1.5, "hold_s": 0.33, "lower_s": 2.26, "heel_share": 0.75,
         "faults": ["short_hold"]},
        {"kind": "step_off"}]}, source="drawn")
    rep = ScriptedAthlete(scenario, seed=90).truth.reps[0]
    assert rep.hold_s <= SHORT_HOLD_BELOW_S - HOLD_MARGIN_S
    assert rep.lower_s >= TOO_FAST_BELOW_S + LOWER_MARGIN_S
    assert rep.drive_s < 1.5 * 1.05  # it had to give up part of the slow drive

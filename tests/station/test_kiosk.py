"""The kiosk's screen state machine, driven by the simulated athlete and by commands, with no
pygame: what the display will be told to show."""

import dataclasses

import pytest

from drivers.simplate import simulated_plate
from station.kiosk import SUMMARY_IDLE_S, Athlete, Kiosk
from station.profiles import load_profiles
from station.sampler import SamplerStatus
from station.view import UICommand

PROFILES = load_profiles()
ROSTER = [Athlete("a1", "Ada", badge="0012345"), Athlete("b2", "Ben")]


def kiosk(**kw):
    return Kiosk(PROFILES, rate_hz=80.0, roster=ROSTER, **kw)


def play(k, scenario="demo", seed=1, until=None, on_sample=None):
    """Feed the kiosk a scenario frame by frame (4 samples a frame); record screen changes."""
    plate, truth = simulated_plate(scenario, seed=seed, rate_hz=80.0)
    screens = [k.view().screen]
    end = truth.duration_s if until is None else until
    with plate:
        frame = []
        while True:
            s = plate.read()
            frame.append(s)
            if len(frame) == 4:
                k.feed(frame)
                frame = []
                v = k.view()
                if v.screen != screens[-1]:
                    screens.append(v.screen)
                if on_sample:
                    on_sample(k, s)
            if s.t > end:
                break
    return truth, screens


def test_demo_athlete_walks_every_screen_and_alternates_sides():
    k = kiosk()
    sides = []
    summaries = []

    def watch(k, s):
        v = k.view()
        if v.screen == "live" and (not sides or sides[-1] != v.side):
            sides.append(v.side)
        if v.screen == "summary" and (not summaries or summaries[-1] is not v.summary):
            summaries.append(v.summary)

    truth, screens = play(k, until=200.0, on_sample=watch)
    assert screens[:5] == ["idle", "ready", "live", "summary", "ready"]
    assert sides[:2] == ["left", "right"]
    left = summaries[0]
    assert left.reps == 8 and left.good_reps == 5
    assert [b.faults for b in left.bars if b.faults] == [("toe_drive",), ("short_hold",),
                                                        ("too_fast",)]
    assert len(left.hold_spans) == 8 and left.trace.t.size > 100
    assert left.asymmetry is None            # only one side done
    right = summaries[-1]
    assert right.asymmetry is not None and set(right.asymmetry) >= {"heel_share", "hold_s"}
    for lv, rv, a in right.asymmetry.values():
        assert a == pytest.approx(abs(lv - rv) / max(lv, rv))


def test_live_view_follows_the_athlete():
    k = kiosk()
    seen = {}

    def watch(k, s):
        v = k.view()
        if v.screen == "live":
            lv = v.live
            seen.setdefault("phases", set()).add(lv.phase)
            seen["max_reps"] = max(seen.get("max_reps", 0), lv.reps)
            assert lv.trace.t.size == 0 or lv.trace.t[-1] - lv.trace.t[0] <= 6.0 + 1e-9
            if lv.heel_share is not None:
                assert lv.heel_n + lv.forefoot_n == pytest.approx(lv.load_n)
            if v.cue is not None:
                seen.setdefault("cues", set()).add(v.cue.kind)
    play(k, until=47.0, on_sample=watch)
    assert {"bottom", "drive", "top", "lower"} <= seen["phases"]
    assert seen["max_reps"] == 8
    assert {"toe_drive", "short_hold", "too_fast", "rep_count", "set_done"} <= seen["cues"]
    cues = k.take_cues()
    assert cues and k.take_cues() == []      # each cue handed to the display once


def test_touch_flow_roster_badge_exercise_side():
    k = kiosk()
    k.handle(UICommand("button_press"))
    assert k.view().screen == "ready"
    k.handle(UICommand("badge", "999"))
    assert "Badge not known" in k.view().message
    k.handle(UICommand("badge", "0012345"))
    assert k.view().athlete == "Ada"
    k.handle(UICommand("choose_athlete", "b2"))
    assert k.view().athlete == "Ben"
    k.handle(UICommand("guest"))
    assert k.view().athlete is None
    k.handle(UICommand("choose_exercise", "calf_raise"))
    v = k.view()
    assert v.exercise_id == "calf_raise" and v.targets.drive_zone == "forefoot"
    k.handle(UICommand("choose_exercise", "single_leg_hip_thrust"))
    k.handle(UICommand("choose_side", "right"))
    assert k.view().side == "right"
    k.handle(UICommand("choose_side", "sideways"))
    assert k.view().side == "right"
    k.handle(UICommand("start_set"))
    assert k.view().screen == "live"
    k.handle(UICommand("end_set"))
    v = k.view()
    assert v.screen == "summary" and v.summary.reps == 0
    k.handle(UICommand("next"))
    assert k.view().screen == "ready"
    k.handle(UICommand("home"))
    v = k.view()
    assert v.screen == "idle" and v.athlete is None and v.side == "left"


def test_coach_targets_apply_at_the_next_set(tmp_path):
    """The coach's programs reach the kiosk the way the coach screens hand them over
    (station.admin.apply_programs): the station's for everyone, an athlete's own for them."""
    from station.admin import apply_programs
    from station.programs import Program, ProgramBook
    from station.roster import Roster

    hip = PROFILES.get("single_leg_hip_thrust")
    book = ProgramBook.load(tmp_path, profiles=PROFILES)
    roster = Roster.load(tmp_path)
    for a in ROSTER:
        roster.add(a.id, a.name, a.badge)
    book.create(dataclasses.replace(Program.from_profile("five", "Five", hip), reps=5,
                                    hold_target_s=2.0), "coach")
    book.create(dataclasses.replace(Program.from_profile("twelve", "Twelve", hip), reps=12),
                "coach")
    k = kiosk()
    k.handle(UICommand("button_press"))
    book.set_station_program("five", "coach")
    book.assign(roster, "a1", "twelve", "coach")
    apply_programs(k, roster, book)
    v = k.view()
    assert v.targets.reps == 5 and v.targets.hold_s == 2.0
    k.handle(UICommand("choose_athlete", "a1"))
    assert k.view().targets.reps == 12
    k.handle(UICommand("guest"))
    assert k.view().targets.reps == 5
    k.handle(UICommand("start_set"))
    book.set_station_program(None, "coach")
    apply_programs(k, roster, book)                # mid-set: this set keeps its targets
    assert k.view().targets.reps == 5
    k.handle(UICommand("end_set"))
    k.handle(UICommand("next"))
    assert k.view().targets.reps == hip.reps


def test_fault_screen_shows_and_clears_by_itself():
    k = kiosk()
    k.handle(UICommand("button_press"))
    ok = SamplerStatus(running=True, heartbeat_age_s=0.01, samples=10, dropped=0, restarts=0)
    bad = SamplerStatus(running=True, heartbeat_age_s=0.01, samples=10, dropped=0, restarts=0,
                        fault="HX711 on GPIO 13 sent no word for 0.5 s: check its DOUT wire")
    k.tick(bad)
    v = k.view()
    assert v.screen == "fault"
    assert v.fault.title == "A load cell is not answering" and "GPIO 13" in v.fault.advice
    k.tick(ok)
    assert k.view().screen == "ready"
    restarting = SamplerStatus(running=False, heartbeat_age_s=3.0, samples=10, dropped=0,
                               restarts=1, fault="The plate's sampler stopped; restarting it")
    k.tick(restarting)
    assert k.view().fault.title == "The plate is restarting"


def test_summary_returns_to_idle_when_nobody_comes_back():
    from drivers.sample import Sample

    k = kiosk()
    play(k, scenario="clean_set")        # the athlete steps off at the end
    t = k.now
    while k.view().screen != "summary" and t < k.now + 30:
        t += 0.05
        k.feed([Sample(t, 0.0, 0.0)])     # an empty plate: the grace period runs out
    assert k.view().screen == "summary"
    shown = t
    while t < shown + SUMMARY_IDLE_S - 1:
        t += 0.05
        k.feed([Sample(t, 0.0, 0.0)])
    assert k.view().screen == "summary"  # still there for whoever comes back
    while t < shown + SUMMARY_IDLE_S + 1:
        t += 0.05
        k.feed([Sample(t, 0.0, 0.0)])
    assert k.view().screen == "idle"


def test_unknown_commands_are_ignored_not_fatal(caplog):
    k = kiosk()
    k.handle(UICommand("launch_rockets"))
    k.handle(UICommand("choose_exercise", "curling"))
    assert k.view().screen == "idle" and "Unknown exercise" in k.view().message


def test_stored_roster_and_programs_reach_the_kiosk(tmp_path):
    """What the coach stored (roster, station program, an athlete's own program) is what the
    kiosk shows and judges with at the next set."""
    from station.kiosk_run import apply_roster_and_programs
    from station.programs import Program, ProgramBook
    from station.roster import Roster

    roster = Roster.load(tmp_path)
    roster.add("a1", "Ada", badge="0012345")
    roster.add("b2", "Ben")
    roster.save()
    book = ProgramBook.load(tmp_path, profiles=PROFILES)
    hip = PROFILES.get("single_leg_hip_thrust")
    base = Program.from_profile("easy", "Easy week", hip)
    book.create(dataclasses.replace(base, reps=6), "coach")
    book.create(dataclasses.replace(base, id="hold", name="Long holds", hold_target_s=3.0),
                "coach")
    book.set_station_program("easy", "coach")
    book.assign(roster, "b2", "hold", "coach")

    k = Kiosk(PROFILES, rate_hz=80.0)
    apply_roster_and_programs(k, tmp_path)
    assert [a.name for a in k.roster] == ["Ada", "Ben"]
    k.handle(UICommand("badge", "0012345"))
    v = k.view()
    assert v.athlete == "Ada" and v.targets.reps == 6 and v.targets.hold_s == hip.hold_target_s
    k.handle(UICommand("choose_athlete", "b2"))
    assert k.view().targets.hold_s == 3.0


def _still(k, seconds, load_n=0.0, rate=80.0):
    """Plate time passes with ``load_n`` standing still on it (split 60/40 heel/forefoot)."""
    from drivers.sample import Sample

    t0 = k.now
    for i in range(0, int(seconds * rate), 4):
        k.feed([Sample(t0 + (i + j + 1) / rate, 0.6 * load_n, 0.4 * load_n)
                for j in range(4)])


def test_the_ready_screen_goes_back_to_idle_when_its_athlete_has_left():
    """Ada badges in and walks away: after READY_IDLE_S of an empty plate the kiosk is idle, so
    whoever comes next is not logged as Ada."""
    from station.kiosk import READY_IDLE_S

    k = kiosk()
    k.handle(UICommand("badge", "0012345"))
    assert (k.view().screen, k.view().athlete) == ("ready", "Ada")
    _still(k, READY_IDLE_S - 5.0)
    assert (k.view().screen, k.view().athlete) == ("ready", "Ada")
    _still(k, 10.0)
    v = k.view()
    assert (v.screen, v.athlete) == ("idle", None)


def test_someone_on_the_plate_keeps_the_ready_screen():
    """A foot resting on the plate (setting up, or between sets) is somebody there."""
    from station.kiosk import READY_IDLE_S

    k = kiosk()
    k.handle(UICommand("badge", "0012345"))
    _still(k, READY_IDLE_S + 30.0, load_n=300.0)
    assert k.analyzer.live.on_plate
    assert (k.view().screen, k.view().athlete) == ("ready", "Ada")
    _still(k, READY_IDLE_S - 5.0)                      # the foot leaves: the wait starts now
    assert k.view().screen == "ready"
    _still(k, 10.0)
    assert k.view().screen == "idle"

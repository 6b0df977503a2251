"""The coach's screens with the simulated athlete on the plate: a saved program judges the next
set (never the one being done), its sides and exercise reach the kiosk, and the plate and its
faults under the coach's screens."""

import json
import sqlite3

from station.programs import Program, ProgramBook
from station.sampler import SamplerStatus
from tests.station.test_admin import (  # noqa: F401 - cheap_scrypt is an autouse fixture
    HIP,
    LOG_PATIENCE_S,
    PROFILES,
    cheap_scrypt,
    coach_in,
    do,
    play,
    station,
    value_of,
)


def test_coach_changes_hold_and_reps_and_they_apply_from_the_next_set_and_are_logged(tmp_path):
    k, admin = station(tmp_path, log=True)
    v = coach_in(k)
    assert v.screen == "coach" and v.admin.role == "coach"
    assert [i.id for i in v.admin.items] == ["exercise_targets", "new_program"]
    v = do(k, ("open", "new_program"))
    assert v.screen == "program" and v.admin.program.program_id is None
    assert value_of(v, "hold_target_s").value == "1.0 s" and value_of(v, "reps").value == "8"
    v = do(k, *[("setting_up", "hold_target_s")] * 4, *[("setting_down", "reps")] * 2)
    assert value_of(v, "hold_target_s").value == "3.0 s" and value_of(v, "reps").value == "6"
    assert v.admin.program.changed
    v = do(k, "save")
    pid = v.admin.program.program_id
    assert pid == "new-program" and not v.admin.program.changed
    assert v.admin.note == "Saved: it applies from the next set"
    v = do(k, "station_program")
    assert v.admin.program.for_station
    v = do(k, "back")
    assert v.screen == "coach"
    assert [(i.id, i.selected) for i in v.admin.items][0] == (pid, True)
    v = do(k, "lock")
    assert v.screen == "idle" and v.admin is None
    assert (v.targets.reps, v.targets.hold_s) == (6, 3.0)
    stored = ProgramBook.load(tmp_path)
    assert stored.station_program == pid and stored.get(pid).hold_target_s == 3.0

    # the athlete's next set is judged with it: a 3 s hold is more than the demo athlete holds
    summaries = []

    def first_summary(k):
        v = k.view()
        if v.screen == "summary":
            summaries.append(v.summary)
            return True
        return False

    play(k, 120.0, first_summary)
    assert summaries and summaries[0].reps >= 6
    assert all("short_hold" in bar.faults for bar in summaries[0].bars)

    assert k.log.log.flush(LOG_PATIENCE_S)
    k.log.log.close()
    conn = sqlite3.connect(tmp_path / "usage.sqlite3")
    events = [json.loads(d) for (d,) in conn.execute(
        "SELECT detail FROM events WHERE kind = 'coach_change' ORDER BY seq")]
    conn.close()
    assert [(e["role"], e["action"], e["program"]) for e in events] == [
        ("coach", "create", pid), ("coach", "station", pid)]
    assert events[0]["changes"]["hold_target_s"] == [None, 3.0]
    assert events[0]["changes"]["reps"] == [None, 6]
    assert events[0]["at"]


def test_a_change_never_reaches_the_set_being_done(tmp_path):
    k, admin = station(tmp_path)
    program = Program.from_profile("easy", "Easy", HIP)
    admin.book.create(program, "coach")
    admin.book.set_station_program("easy", "coach")
    admin.apply()
    play(k, 200.0, lambda k: k.view().screen == "live" and k.view().live.reps >= 1)
    assert k.view().screen == "live"
    assert do(k, "admin").screen == "live"            # the discreet control waits mid-set
    admin.book.update("easy", "coach", hold_target_s=4.0, reps=3)
    admin.apply()
    assert k.analyzer.profile.hold_target_s == 1.0 and k.view().targets.reps == 8
    play(k, 200.0, lambda k: k.view().screen == "summary")
    do(k, "next")
    v = k.view()
    assert v.screen == "ready" and (v.targets.hold_s, v.targets.reps) == (4.0, 3)


def test_a_programs_sides_and_exercise_reach_the_kiosk(tmp_path):
    k, _ = station(tmp_path)
    coach_in(k)
    v = do(k, ("open", "new_program"), *[("setting_up", "sides")] * 3)
    assert value_of(v, "sides").value == "Right"
    v = do(k, *[("setting_down", "sets")] * HIP.sets)
    assert value_of(v, "sets").value == "1"
    do(k, "save", "station_program", "lock")
    v = k.view()
    assert v.sides == ("right",) and v.side == "right"
    assert do(k, ("choose_side", "left")).side == "right"
    play(k, 200.0, lambda k: k.view().screen == "summary")
    v = do(k, "next")                                  # one set on the right: done
    assert v.screen == "idle" and v.side == "right"

    # a program for another exercise makes it the station's exercise
    coach_in(k)
    v = do(k, ("open", "new_program"), ("setting_up", "exercise"))
    other = list(PROFILES.profiles)[1]
    assert value_of(v, "exercise").value == PROFILES.get(other).name
    do(k, "save", "station_program", "lock")
    assert k.view().exercise_id == other


def test_the_plate_under_the_coach_screens(tmp_path):
    """Stepping on switches no screen under the coach; a fault is the note, not a new screen."""
    k, _ = station(tmp_path)
    coach_in(k)
    screens = set()

    def watch(k):
        screens.add(k.view().screen)
        if k.now > 40.0:
            return True
        if int(k.now * 20) % 400 == 0:
            do(k, ("open", "coach"))                   # the coach keeps tapping
        return False

    play(k, 45.0, watch)
    assert screens == {"coach"}
    bad = SamplerStatus(running=True, heartbeat_age_s=0.01, samples=10, dropped=0, restarts=0,
                        fault="HX711 on GPIO 13 sent no word for 0.5 s: check its DOUT wire")
    k.tick(bad)
    v = k.view()
    assert v.screen == "coach" and "A load cell is not answering" in v.admin.note
    assert v.fault is not None
    v = do(k, "lock")
    assert v.screen == "fault"


def test_reps_done_under_the_pin_pad_are_kept_and_logged(tmp_path):
    """The coach opens the PIN pad as the athlete steps on and starts: the reps are counted in
    the set, logged, and shown when the pad is dismissed; nothing measured is dropped."""
    k, _ = station(tmp_path, log=True)
    v = do(k, ("admin", "coach"))
    assert v.screen == "pin"
    play(k, 200.0, lambda k: len(k.analyzer.reps) >= 2)
    assert k.view().screen == "pin"                    # the pad stays up over the set
    assert do(k, "pin_digit", "pin_digit").screen == "pin"
    v = do(k, "back")                                  # the coach gives up: the athlete's set
    assert v.screen == "live" and v.live.reps == len(k.analyzer.reps) >= 2
    play(k, 200.0, lambda k: k.view().screen == "summary")
    summary = k.view().summary
    assert summary.reps == len(summary.bars) >= 3
    assert k.log.log.flush(LOG_PATIENCE_S)
    k.log.log.close()
    conn = sqlite3.connect(tmp_path / "usage.sqlite3")
    logged = conn.execute("SELECT COUNT(*) FROM reps").fetchone()[0]
    conn.close()
    assert logged == summary.reps


def test_locking_the_coach_screens_mid_set_returns_to_the_set(tmp_path):
    k, _ = station(tmp_path)
    coach_in(k)
    play(k, 200.0, lambda k: len(k.analyzer.reps) >= 1)
    assert k.view().screen == "coach"
    v = do(k, "lock")
    assert v.screen == "live" and v.live.reps >= 1
    coach_in(k)                                        # the pad does not open mid-set
    assert k.view().screen == "live"


def test_a_coach_change_between_sets_keeps_the_athletes_session(tmp_path):
    """Ada finishes her first set; the coach raises her hold target between sets. Locking the
    coach's screens shows Ada's ready screen again: same athlete, same session, her set done
    still counted, and the next set judged on the new target."""
    k, admin = station(tmp_path, log=True)
    admin.book.create(Program.from_profile("ada", "Ada's", HIP), "coach")
    admin.roster.add("a1", "Ada", "555")
    admin.roster.save()
    admin.book.assign(admin.roster, "a1", "ada", "coach")
    admin.apply()
    assert do(k, ("badge", "555")).athlete == "Ada"
    play(k, 200.0, lambda k: k.view().screen == "summary")
    v = do(k, "next")
    assert v.screen == "ready" and v.live.set_index == 1 and v.side != HIP.sides[0]
    session = k.log.session_id
    coach_in(k)
    v = do(k, ("open", "program:ada"), *[("setting_up", "hold_target_s")] * 2, "save", "lock")
    assert v.screen == "ready" and v.athlete == "Ada" and v.targets.hold_s == 2.0
    assert k.log.session_id == session
    assert k.analyzer.profile.hold_target_s == 2.0
    assert len(k._sets[k._side_key(HIP.sides[0])]) == 1


def test_a_badge_never_takes_over_a_set_and_a_new_athlete_starts_afresh(tmp_path):
    """Ben scans his badge while Ada trains: her set stays hers. On her summary, Ben's scan starts
    Ben's own session from his first set on the first side (before, he inherited her sets)."""
    k, admin = station(tmp_path, log=True)
    admin.roster.add("a1", "Ada", "555")
    admin.roster.add("b2", "Ben", "777")
    admin.roster.save()
    admin.apply()
    do(k, ("badge", "555"))
    play(k, 200.0, lambda k: k.view().screen == "live" and k.view().live.reps >= 1)
    v = do(k, ("badge", "777"))
    assert v.screen == "live" and v.athlete == "Ada" and "Finish this set" in v.message
    play(k, 200.0, lambda k: k.view().screen == "summary")
    ada_session = k.log.session_id
    v = do(k, ("badge", "777"))
    assert v.screen == "ready" and v.athlete == "Ben"
    assert v.side == HIP.sides[0] and v.live.set_index == 1 and not k._sets
    assert k.log.session is None or k.log.session_id != ada_session
    assert k.log.log.flush(LOG_PATIENCE_S)
    k.log.log.close()
    conn = sqlite3.connect(tmp_path / "usage.sqlite3")
    ended = conn.execute("SELECT athlete_id, end_reason FROM sessions WHERE id = ?",
                         (ada_session,)).fetchone()
    conn.close()
    assert ended == ("a1", "changed")

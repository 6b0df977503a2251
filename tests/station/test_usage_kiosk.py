"""The kiosk's usage-log hook with the real analysis on the simulated athlete, the warning the
staff see, and the headless demo leaving its session in the state directory's log."""

import dataclasses
import json
import sqlite3
import time
from types import SimpleNamespace

from drivers.simplate import simulated_plate
from station.admin import Admin
from station.cli import main
from station.kiosk import Athlete, Kiosk
from station.profiles import load_profiles
from station.programs import Program
from station.usage_log import UsageLog
from station.usage_recorder import SessionRecorder
from station.view import UICommand

PROFILES = load_profiles()
#: Real seconds a test waits for the usage log's writer thread: only a hang runs into it.
PATIENCE_S = 60.0


def wait_for(condition, timeout=PATIENCE_S):
    """Poll a condition on the writer thread's progress (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def play(k, until, on_frame=None):
    plate, _truth = simulated_plate("demo", seed=1, rate_hz=80.0)
    cues = []
    with plate:
        frame = []
        while True:
            s = plate.read()
            frame.append(s)
            if len(frame) == 4:
                k.feed(frame)
                frame = []
                cues.extend(k.take_cues())
                if on_frame:
                    on_frame(k)
            if s.t > until:
                return cues


def test_every_rep_set_cue_fault_and_the_session_end_reach_the_log(tmp_path):
    db = tmp_path / "usage.sqlite3"
    log = UsageLog(db, station_id="station-1", commit_interval_s=0.01).start()
    k = Kiosk(PROFILES, rate_hz=80.0, roster=[Athlete("a1", "Ada")], log=SessionRecorder(log))
    k.handle(UICommand("choose_athlete", "a1"))
    summaries = []

    def watch(k):
        v = k.view()
        if v.screen == "summary" and (not summaries or summaries[-1] is not v.summary):
            summaries.append(v.summary)
        if 20.0 < k.now < 20.1:
            k.tick(SimpleNamespace(fault="HX711 on GPIO 6 sent no word for 0.5 s"))
        elif 20.5 < k.now < 20.6:
            k.tick(SimpleNamespace(fault=None))

    cues = play(k, 120.0, watch)
    k.handle(UICommand("home"))
    assert log.flush(PATIENCE_S)
    log.close()
    conn = sqlite3.connect(db)
    q = lambda sql: conn.execute(sql).fetchall()  # noqa: E731
    (sid, athlete, status, reason), = q("SELECT id, athlete_id, status, end_reason FROM sessions")
    assert (athlete, status, reason) == ("a1", "ended", "home")
    sets = q("SELECT side, set_index, reps, good_reps, status FROM sets ORDER BY seq")
    left = summaries[0]
    assert sets[0] == ("left", 1, left.reps, left.good_reps, "done")
    assert sets[0][2] == 8
    n_reps = sum(s[2] for s in sets)
    assert q("SELECT COUNT(*) FROM reps") == [(n_reps,)]
    assert conn.execute("SELECT COUNT(*) FROM reps WHERE session_id != ?", (sid,)).fetchall() == [(0,)]
    faults = q("SELECT faults FROM reps WHERE faults != '[]' ORDER BY seq")
    assert [f[0] for f in faults[:3]] == ['["toe_drive"]', '["short_hold"]', '["too_fast"]']
    assert q("SELECT COUNT(*) FROM cues") == [(len(cues),)] and len(cues) > 10
    assert q("SELECT kind FROM events ORDER BY seq") == [("fault",), ("fault_cleared",)]
    assert q("SELECT name FROM athletes") == [("Ada",)]
    conn.close()


def test_coach_changes_are_events_and_a_log_warning_shows_on_the_screen(tmp_path):
    log = UsageLog(tmp_path / "missing" / "usage.sqlite3", station_id="s1", retry_s=0.05).start()
    k = Kiosk(PROFILES, rate_hz=80.0, log=SessionRecorder(log))
    assert log.flush(0.5) is False                         # the folder does not exist
    assert wait_for(lambda: log.status().state == "waiting")  # once the writer has tried
    assert k.view().message.startswith("Usage log: ")
    assert "cannot be opened" in k.view().message
    admin = Admin.for_station(k, tmp_path / "state")    # the coach's screens' own stores
    program = dataclasses.replace(Program.from_profile("six", "Six", PROFILES.get()), reps=6,
                                  hold_target_s=2.0)
    admin.book.create(program, "coach")
    (tmp_path / "missing").mkdir()
    assert log.flush(PATIENCE_S)
    assert k.view().message is None
    log.close()
    conn = sqlite3.connect(tmp_path / "missing" / "usage.sqlite3")
    (kind, detail), = conn.execute("SELECT kind, detail FROM events").fetchall()
    conn.close()
    assert kind == "coach_change"
    detail = json.loads(detail)
    assert (detail["role"], detail["action"], detail["program"]) == ("coach", "create", "six")
    assert detail["changes"]["reps"] == [None, 6] and detail["changes"]["hold_target_s"] == [None, 2.0]
    assert detail["at"]


def test_a_local_log_problem_and_an_absent_facility_server_are_both_said(tmp_path):
    """One note line on the screen: the local log's trouble first (it can lose records), the
    facility server's absence after it; either alone, alone."""
    log = UsageLog(tmp_path / "missing" / "usage.sqlite3", station_id="s1", retry_s=0.05).start()
    facility = SimpleNamespace(problem=None)
    k = Kiosk(PROFILES, rate_hz=80.0, log=SessionRecorder(log, facility=facility))
    assert log.flush(0.5) is False
    assert wait_for(lambda: log.status().state == "waiting")
    assert k.view().message.startswith("Usage log: ")
    assert "facility" not in k.view().message.lower()
    facility.problem = "connection refused"
    message = k.view().message
    assert message.startswith("Usage log: ") and "cannot be opened" in message
    assert message.endswith("The facility server is not reachable either.")
    (tmp_path / "missing").mkdir()
    assert log.flush(PATIENCE_S)
    assert k.view().message.startswith("Facility server not reachable")
    facility.problem = None
    assert k.view().message is None
    log.close()


def test_headless_demo_logs_its_session_with_reps(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    monkeypatch.delenv("GYM_STATION_POSTGRES_URL", raising=False)
    state = tmp_path / "state"
    assert main(["--state-dir", str(state), "demo", "--headless", "--seconds", "70"]) == 0
    conn = sqlite3.connect(state / "usage.sqlite3")
    (sid, status, reason), = conn.execute("SELECT id, status, end_reason FROM sessions")
    assert (status, reason) == ("ended", "shutdown")
    (reps,), = conn.execute("SELECT COUNT(*) FROM reps WHERE session_id = ?", (sid,))
    assert reps >= 8
    assert conn.execute("SELECT reps, status FROM sets WHERE set_index = 1 AND side = 'left'"
                        ).fetchall() == [(8, "done")]
    conn.close()
    capsys.readouterr()
    assert main(["--state-dir", str(state), "usage", "--by", "exercise"]) == 0
    assert "single_leg_hip_thrust" in capsys.readouterr().out

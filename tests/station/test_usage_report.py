"""`gym-station usage` and `gym-station athlete`: numbers from known data, groupings, date
filters, CSV escaping, an athlete's data exported and deleted."""

import csv
import json
import sqlite3
from datetime import date, datetime

import pytest

from station.cli import main
from station.kiosk import Athlete
from station.reps import Rep
from station.usage_log import UsageLog
from station.usage_recorder import SessionRecorder
from station.usage_report import csv_cell, local_source, usage_rows

WALL = datetime(2024, 3, 5, 12, 0).timestamp()       # local noon, 5 March 2024
DAY1, DAY2 = date(2024, 3, 5), date(2024, 3, 6)
NAME = '=HYPERLINK("http://x","ok")'
#: Real seconds to wait for the usage log's writer to commit: only a hang runs into it.
LOG_PATIENCE_S = 60.0


class Wall:
    def __init__(self):
        self.t = WALL

    def __call__(self):
        return self.t


def r(i, good, share, hold):
    return Rep(i, 3.0 * i, 3.0 * i + 2.5, 0.6, hold, 0.9, share, share, 700.0, good,
               () if good else ("toe_drive",), 650.0, 200.0)


@pytest.fixture
def state(tmp_path, monkeypatch):
    """Three sessions over two days: Ada (a1, a formula for a name) twice, a guest once."""
    monkeypatch.delenv("GYM_STATION_POSTGRES_URL", raising=False)
    wall = Wall()
    with UsageLog(tmp_path / "usage.sqlite3", station_id="station-1", wall=wall) as log:
        rec = SessionRecorder(log)
        ada = Athlete("a1", NAME)
        rec.session_started(0.0, ada, "single_leg_hip_thrust", "left")
        for i, (good, share, hold) in enumerate([(True, 0.8, 1.0), (True, 0.6, 2.0),
                                                 (False, 0.7, 1.0), (True, None, 0.0)]):
            rec.rep_completed(r(i, good, share, hold), exercise="single_leg_hip_thrust",
                              side="left", set_index=1)
        rec.session_ended(120.0, "done")                     # 2 minutes
        wall.t += 86400
        rec.session_started(10.0, None, "calf_raise", "right")
        for i, (share, hold) in enumerate([(0.3, 1.5), (0.5, 0.5)]):
            rec.rep_completed(r(i, True, share, hold), exercise="calf_raise", side="right",
                              set_index=1)
        rec.session_ended(70.0, "timeout")                   # 1 minute
        rec.session_started(0.0, ada, "single_leg_hip_thrust", "left")
        rec.session_ended(30.0, "home")                      # half a minute, no reps
        assert log.flush(LOG_PATIENCE_S)
    return tmp_path


def test_report_numbers_from_known_data(state):
    with local_source(state) as src:
        (row,) = usage_rows(src, by="station")
        assert row.group == "station-1" and row.sessions == 3
        assert row.minutes == pytest.approx(3.5)
        assert (row.reps, row.good_reps) == (6, 5) and row.good_rate == pytest.approx(5 / 6)
        assert row.heel_share == pytest.approx((0.8 + 0.6 + 0.7 + 0.3 + 0.5) / 5)
        assert row.hold_s == pytest.approx(6.0 / 6)
        by_athlete = {x.group: x for x in usage_rows(src, by="athlete")}
        assert set(by_athlete) == {f"{NAME} (a1)", "guest"}
        ada = by_athlete[f"{NAME} (a1)"]
        assert (ada.sessions, ada.reps, ada.good_reps) == (2, 4, 3)
        assert ada.minutes == pytest.approx(2.5) and ada.heel_share == pytest.approx(0.7)
        assert [x.group for x in usage_rows(src, by="exercise")] == ["calf_raise",
                                                                     "single_leg_hip_thrust"]
        days = usage_rows(src, by="day")
        assert [(x.group, x.sessions, x.reps) for x in days] == [
            (DAY1.isoformat(), 1, 4), (DAY2.isoformat(), 2, 2)]
        assert [x.sessions for x in usage_rows(src, since=DAY2)] == [2]
        assert [x.sessions for x in usage_rows(src, until=DAY1)] == [1]
        assert usage_rows(src, since=date(2024, 3, 7)) == []


def test_csv_cells_that_could_be_formulas_are_escaped():
    for bad in ("=1+1", "+1", "-2", "@SUM(A1)", "\t=x", "\r=x"):
        assert csv_cell(bad) == "'" + bad
    assert csv_cell("Ada") == "Ada" and csv_cell(0.5) == 0.5 and csv_cell(None) is None


def test_usage_command_table_csv_and_errors(state, capsys):
    out_csv = state / "report.csv"
    assert main(["--state-dir", str(state), "usage", "--by", "athlete", "--csv",
                 str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "guest" in out and "sessions" in out and "wrote 2 rows" in out
    rows = list(csv.reader(out_csv.open()))
    assert rows[0] == ["athlete", "sessions", "minutes", "reps", "good_reps", "good_rate",
                       "heel_share", "hold_s"]
    assert rows[1][0] == f"'{NAME} (a1)" and rows[1][1] == "2" and rows[2][0] == "guest"
    conn = sqlite3.connect(state / "usage.sqlite3")
    (detail,), = conn.execute("SELECT detail FROM events WHERE kind = 'export'").fetchall()
    conn.close()
    assert json.loads(detail) == {"by": "athlete", "rows": 2, "what": "usage"}
    assert main(["--state-dir", str(state), "usage", "--since", "2024-03-06", "--until",
                 "2024-03-05"]) == 2
    assert "is after --until" in capsys.readouterr().err
    assert main(["--state-dir", str(state), "usage", "--since", "March"]) == 2
    empty = state / "empty"
    assert main(["--state-dir", str(empty), "usage"]) == 1
    assert "no usage log at" in capsys.readouterr().err
    assert main(["--state-dir", str(state), "usage", "--facility"]) == 2
    assert "needs storage.postgres_url" in capsys.readouterr().err


def test_athlete_export_json_and_csv(state, capsys):
    assert main(["--state-dir", str(state), "athlete", "export", "a1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["athlete"]["name"] == NAME
    assert [len(s["reps"]) for s in data["sessions"]] == [4, 0]
    assert data["sessions"][0]["reps"][2]["faults"] == ["toe_drive"]
    assert data["sessions"][0]["sets"][0]["reps"] == 4
    out = state / "a1.csv"
    assert main(["--state-dir", str(state), "athlete", "export", "a1", "--format", "csv",
                 "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4 and rows[0]["name"] == "'" + NAME
    assert [r["good"] for r in rows] == ["1", "1", "0", "1"]
    assert main(["--state-dir", str(state), "athlete", "export", "zz"]) == 2
    assert "no athlete 'zz'" in capsys.readouterr().err


def test_athlete_delete_removes_everything_and_logs_it_without_personal_data(state, capsys):
    assert main(["--state-dir", str(state), "athlete", "delete", "a1"]) == 0
    assert "2 sessions, 4 reps" in capsys.readouterr().out
    conn = sqlite3.connect(state / "usage.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM sessions WHERE athlete_id = 'a1'").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM athletes").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM reps").fetchone() == (2,)   # the guest's stay
    assert conn.execute("SELECT COUNT(*) FROM deletions").fetchone() == (0,)  # no facility
    (detail,), = conn.execute("SELECT detail FROM events WHERE kind = 'athlete_deleted'")
    conn.close()
    assert "a1" not in detail and "HYPERLINK" not in detail
    assert json.loads(detail)["reps"] == 4
    raw = (state / "usage.sqlite3").read_bytes()
    assert b"HYPERLINK" not in raw                          # not left in free pages either
    assert main(["--state-dir", str(state), "athlete", "export", "a1"]) == 2
    assert main(["--state-dir", str(state), "athlete", "delete", "a1"]) == 2

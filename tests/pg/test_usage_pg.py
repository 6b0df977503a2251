"""The facility push against a real PostgreSQL server: idempotent upserts, a server stopped and
restarted mid-push, hours of backlog, several stations at once, and no password in any log."""

import logging
import sqlite3
import threading
import time
from urllib.parse import urlsplit

import pytest

from station import usage_pg
from station.errors import FacilitySyncError
from station.kiosk import Athlete
from station.reps import Rep
from station.usage_log import UsageLog
from station.usage_pg import FacilityPush, mask_url, push
from station.usage_recorder import SessionRecorder
from station.usage_report import delete_athlete, facility_source, usage_rows
from station.usage_schema import TABLES

psycopg = pytest.importorskip("psycopg")

EXERCISE = "single_leg_hip_thrust"
#: Real seconds a test waits for the writer's commits or the push thread: only a hang runs into it
#: (the server, the writer and the push share a loaded CI machine with everything else).
PATIENCE_S = 60.0


def wait_for(condition, timeout=PATIENCE_S) -> bool:
    """Poll a condition on a background thread's progress (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Wall:
    """A wall clock the test moves: sessions spread over hours without waiting for them."""

    def __init__(self, t=1_700_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def fill(db, station, *, sessions, sets=2, reps=8, wall=None, athletes=("a1", "b2", None)):
    """Write ``sessions`` sessions through the real writer; return the local row counts."""
    wall = wall or Wall()
    with UsageLog(db, station_id=station, wall=wall, commit_interval_s=0.01) as log:
        rec = SessionRecorder(log)
        for n in range(sessions):
            who = athletes[n % len(athletes)]
            rec.session_started(0.0, Athlete(who, who.upper()) if who else None, EXERCISE,
                                "left")
            t = 5.0
            for s in range(1, sets + 1):
                for i in range(reps):
                    rec.rep_completed(Rep(i, t, t + 2.5, 0.6, 1.0 + 0.1 * (i % 3), 0.9, 0.7,
                                          0.6, 700.0, i != 3, ("short_hold",) if i == 3 else (),
                                          650.0, 200.0),
                                      exercise=EXERCISE, side="left", set_index=s)
                    rec.cue_shown(type("Cue", (), {"t": t + 1, "kind": "hold",
                                                   "text": "Hold it."})())
                    t += 3.0
            rec.session_ended(t, "home")
            wall.t += 360.0          # the next session six minutes later
        assert log.flush(PATIENCE_S)
    return local_counts(db)


def local_counts(db):
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def pg_rows(url, sql, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def pg_counts(url, station=None):
    where = " WHERE station_id = %s" if station else ""
    params = (station,) if station else ()
    return {t: pg_rows(url, f"SELECT COUNT(*) FROM {t}{where}", params)[0][0] for t in TABLES}


def test_push_is_idempotent_and_a_full_re_push_duplicates_nothing(tmp_path, pg_url):
    db = tmp_path / "usage.sqlite3"
    local = fill(db, "station-1", sessions=3)
    pushed = push(db, pg_url, "station-1")
    assert pushed == sum(local.values())
    assert pg_counts(pg_url) == {**local, "deletions": 0}
    assert push(db, pg_url, "station-1") == 0                # nothing new
    with psycopg.connect(pg_url) as conn:                    # forget progress: push it all again
        conn.execute("UPDATE station_sync SET pushed_seq = 0")
    assert push(db, pg_url, "station-1") == pushed
    assert pg_counts(pg_url) == {**local, "deletions": 0}
    # rows are the same values in both places
    conn = sqlite3.connect(db)
    want = sorted(conn.execute("SELECT id, rep_index, hold_s, good, seq FROM reps").fetchall())
    conn.close()
    got = sorted(tuple(r) for r in pg_rows(pg_url, "SELECT id, rep_index, hold_s, good, seq "
                                                   "FROM reps"))
    assert got == want
    # an ended session pushed while open is updated, not duplicated
    (status,), = {r for r in pg_rows(pg_url, "SELECT DISTINCT status FROM sessions")}
    assert status == "ended"


def test_server_stopped_mid_push_then_restarted_resumes_in_order_without_duplicates(
        tmp_path, pg_server):
    url = pg_server.new_database()
    db = tmp_path / "usage.sqlite3"
    local = fill(db, "station-1", sessions=12)
    batches = []

    def stop_after_third(pushed_seq, n):
        batches.append(pushed_seq)
        if len(batches) == 3:
            pg_server.stop()

    try:
        with pytest.raises(FacilitySyncError, match="stopped taking records after 300"):
            push(db, url, "station-1", batch=100, on_batch=stop_after_third)
        with pytest.raises(FacilitySyncError, match="unreachable"):
            push(db, url, "station-1", batch=100)           # still away: nothing moves
    finally:
        pg_server.start()
    # the facility holds exactly a prefix of the station's history: everything up to the last
    # committed batch, nothing after it
    (pushed_seq,), = pg_rows(url, "SELECT pushed_seq FROM station_sync")
    assert pushed_seq == batches[-1]
    there = {t: [r[0] for r in pg_rows(url, f"SELECT seq FROM {t}")] for t in TABLES}
    assert max(max(v) for v in there.values() if v) <= pushed_seq
    conn = sqlite3.connect(db)
    upto = sum(conn.execute(f"SELECT COUNT(*) FROM {t} WHERE seq <= ?", (pushed_seq,))
               .fetchone()[0] for t in TABLES)
    conn.close()
    assert sum(len(v) for v in there.values()) == upto == 300
    # resumed: the rest, and nothing twice
    assert push(db, url, "station-1", batch=100) == sum(local.values()) - 300
    assert pg_counts(url) == {**local, "deletions": 0}
    ids = pg_rows(url, "SELECT id FROM reps")
    assert len(ids) == len(set(ids)) == local["reps"]


def test_hours_of_backlog_go_once_the_server_answers(tmp_path, pg_url):
    db = tmp_path / "usage.sqlite3"
    wall = Wall()
    local = fill(db, "station-1", sessions=40, sets=3, reps=8, wall=wall)  # 4 hours of use
    assert wall.t - 1_700_000_000.0 == 4 * 3600
    assert local["reps"] == 960 and usage_pg.backlog(db, 0) == sum(local.values())
    pushed = []
    assert push(db, pg_url, "station-1", on_batch=lambda s, n: pushed.append(n)) \
        == sum(local.values())
    assert len(pushed) == -(-sum(local.values()) // usage_pg.BATCH)
    assert pg_counts(pg_url) == {**local, "deletions": 0}
    with facility_source(pg_url) as src:
        (row,) = usage_rows(src, by="station")
    assert row.sessions == 40 and row.reps == 960 and row.good_reps == 840


def test_several_stations_push_to_one_server_at_once(tmp_path, pg_url):
    stations = [f"station-{k}" for k in range(4)]
    local = {}
    for st in stations:
        local[st] = fill(tmp_path / f"{st}.sqlite3", st, sessions=5, athletes=(f"{st}-a", None))
    errors = []
    start = threading.Barrier(len(stations))

    def run(st):
        try:
            start.wait()
            push(tmp_path / f"{st}.sqlite3", pg_url, st, batch=40)   # many interleaved batches
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(st,)) for st in stations]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for st in stations:
        got = pg_counts(pg_url, st)
        assert got == {**local[st], "deletions": 0}, st
    assert pg_rows(pg_url, "SELECT COUNT(*) FROM station_sync") == [(4,)]
    with facility_source(pg_url) as src:
        rows = usage_rows(src, by="station")
    assert [r.group for r in rows] == stations and all(r.sessions == 5 for r in rows)


def test_an_athlete_deleted_on_the_station_is_deleted_at_the_facility(tmp_path, pg_url):
    db = tmp_path / "usage.sqlite3"
    fill(db, "station-1", sessions=4, athletes=("a1", "b2"))
    push(db, pg_url, "station-1")
    assert pg_rows(pg_url, "SELECT COUNT(*) FROM sessions WHERE athlete_id = 'a1'") == [(2,)]
    counts = delete_athlete(tmp_path, "a1", "station-1", Wall(), facility=True)
    assert counts["sessions"] == 2
    push(db, pg_url, "station-1")
    assert pg_rows(pg_url, "SELECT COUNT(*) FROM sessions WHERE athlete_id = 'a1'") == [(0,)]
    assert pg_rows(pg_url, "SELECT COUNT(*) FROM athletes WHERE id = 'a1'") == [(0,)]
    assert pg_rows(pg_url, "SELECT COUNT(*) FROM sessions WHERE athlete_id = 'b2'") == [(2,)]
    (detail,), = pg_rows(pg_url, "SELECT detail FROM events WHERE kind = 'athlete_deleted'")
    assert "a1" not in detail and "A1" not in detail
    # the local tombstone went once the facility had applied it
    assert local_counts(db)["deletions"] == 0


def test_the_password_never_reaches_logs_or_errors(tmp_path, pg_server, caplog):
    secret = "s3cret-Pw"
    url = pg_server.url(urlsplit(pg_server.new_database()).path.lstrip("/"), password=secret)
    assert mask_url(url).startswith("postgresql://postgres:***@/") and secret not in mask_url(url)
    assert mask_url(f"host=x password={secret} dbname=y") == "host=x password=*** dbname=y"
    db = tmp_path / "usage.sqlite3"
    fill(db, "station-1", sessions=1)
    caplog.set_level(logging.DEBUG)
    assert push(db, url, "station-1") > 0                      # trust auth: the password is unused
    bad = url.replace(f"port={pg_server.port}", "port=1")    # nobody there
    with pytest.raises(FacilitySyncError) as e:
        push(db, bad, "station-1")
    assert secret not in str(e.value) and "***" in str(e.value)
    with FacilityPush(db, bad, "station-1", interval_s=0.05) as pusher:
        assert wait_for(lambda: pusher.problem)       # its first push has failed
    assert secret not in pusher.problem
    assert "facility" in caplog.text and secret not in caplog.text


def test_the_running_station_pushes_as_it_commits(tmp_path, pg_url):
    db = tmp_path / "usage.sqlite3"
    with FacilityPush(db, pg_url, "station-1", interval_s=0.05) as pusher:
        with UsageLog(db, station_id="station-1", commit_interval_s=0.01,
                      on_commit=pusher.nudge) as log:
            rec = SessionRecorder(log)
            rec.session_started(0.0, None, EXERCISE, "left")
            rec.session_ended(10.0, "home")
            assert log.flush(PATIENCE_S)
        local = local_counts(db)

        def caught_up():
            try:
                (done,), = pg_rows(pg_url, "SELECT pushed_seq FROM station_sync")
            except (psycopg.errors.UndefinedTable, ValueError):   # not yet connected
                return False
            return usage_pg.backlog(db, done) == 0

        assert wait_for(caught_up)
        assert pusher.problem is None
    assert pg_counts(pg_url) == {**local, "deletions": 0}
    assert pg_rows(pg_url, "SELECT status FROM sessions") == [("ended",)]

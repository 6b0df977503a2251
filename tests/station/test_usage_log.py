"""The usage log's writer against real SQLite files: migrations, commits, recovery after kill -9,
a locked database, a full disk and a read-only directory (tiny tmpfs mounts)."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from station import usage_schema as schema
from station.errors import UsageLogError
from station.reps import Rep
from station.usage_log import UsageLog, close_interrupted
from station.usage_recorder import SessionRecorder

ROOT = Path(__file__).resolve().parents[2]
WALL = 1_700_000_000.0   # a fixed wall clock: 2023-11-14


def rep(i, t0=10.0, good=True, share=0.7, hold=1.2, faults=()):
    return Rep(index=i, start=t0 + 3 * i, end=t0 + 3 * i + 2.5, drive_s=0.6, hold_s=hold,
               lower_s=0.9, heel_share=share, heel_share_min=share - 0.1, peak_n=700.0,
               good=good, faults=tuple(faults), top_n=650.0, bottom_n=200.0)


def open_log(path, **kw):
    kw.setdefault("retry_s", 0.05)
    kw.setdefault("commit_interval_s", 0.02)
    return UsageLog(path, station_id="station-1", wall=lambda: WALL, **kw).start()


def rows(path, sql, params=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


#: Real seconds a test waits for the writer thread (its commits fsync: seconds on a loaded CI
#: disk). Only a hang runs into it; nothing here is timed.
PATIENCE_S = 60.0


def wait_for(predicate, timeout=PATIENCE_S):
    """Poll a condition on the writer thread's progress (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_schema_is_migrated_wal_and_records_are_upserted_in_seq_order(tmp_path):
    db = tmp_path / "usage.sqlite3"
    with open_log(db) as log:
        rec = SessionRecorder(log)
        sid = rec.session_started(5.0, None, "single_leg_hip_thrust", "left")
        for i in range(3):
            rec.rep_completed(rep(i), exercise="single_leg_hip_thrust", side="left", set_index=1)
        rec.session_ended(30.0, "home")
        assert log.flush(PATIENCE_S)
        assert log.status().state == "ok" and log.warning is None
    assert rows(db, "PRAGMA user_version") == [(schema.SCHEMA_VERSION,)]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    (status, reason, start, end, day), = rows(
        db, "SELECT status, end_reason, start_t, end_t, day FROM sessions WHERE id = ?", (sid,))
    assert (status, reason, start, end) == ("ended", "home", 5.0, 30.0)
    assert day == time.strftime("%Y-%m-%d", time.localtime(WALL))
    reps = rows(db, "SELECT rep_index, heel_share, hold_s, good, metrics, seq FROM reps "
                    "ORDER BY seq")
    assert [r[0] for r in reps] == [0, 1, 2]
    assert json.loads(reps[0][4])["heel_share_min"] == pytest.approx(0.6)
    # the session row was written twice (start, end): one row, its seq the newest of all
    seqs = [r[5] for r in reps]
    (session_seq,), = rows(db, "SELECT seq FROM sessions")
    assert seqs == sorted(seqs) and session_seq > max(seqs)
    (counter,), = rows(db, "SELECT seq FROM counter")
    assert counter == max(r[0] for t in schema.TABLES
                          for r in rows(db, f"SELECT seq FROM {t}"))


def test_an_old_database_is_migrated_and_a_newer_one_refused(tmp_path):
    db = tmp_path / "usage.sqlite3"
    conn = schema.connect(db)
    schema.migrate(conn, schema.MIGRATIONS[:1])
    conn.execute("INSERT INTO athletes VALUES ('a1', 'station-1', 'Ada', 'x', 1)")
    conn.close()
    with open_log(db) as log:
        assert log.flush(PATIENCE_S)
    assert rows(db, "PRAGMA user_version") == [(2,)]
    assert rows(db, "SELECT name FROM athletes") == [("Ada",)]
    assert rows(db, "SELECT name FROM sqlite_master WHERE name = 'reps_seq'") == [("reps_seq",)]
    conn = schema.connect(db)
    conn.execute("PRAGMA user_version = 99")
    with pytest.raises(UsageLogError, match="schema version 99, newer than this gym-station's 2"):
        schema.migrate(conn)
    conn.close()


def test_a_session_left_open_is_closed_as_interrupted_at_the_next_start(tmp_path):
    db = tmp_path / "usage.sqlite3"
    log = open_log(db)
    rec = SessionRecorder(log)
    sid = rec.session_started(5.0, None, "single_leg_hip_thrust", "left")
    for i in range(4):
        rec.rep_completed(rep(i, good=i != 2, faults=("short_hold",) if i == 2 else ()),
                          exercise="single_leg_hip_thrust", side="left", set_index=1)
    log.close()            # the process "dies": the recorder never ended the session
    assert rows(db, "SELECT status FROM sessions") == [("open",)]
    with open_log(db) as log2:
        assert log2.flush(PATIENCE_S)
    (status, reason, end_t), = rows(db, "SELECT status, end_reason, end_t FROM sessions")
    assert (status, reason) == ("interrupted", "interrupted")
    assert end_t == pytest.approx(rep(3).end)
    (st_status, n, good, faults), = rows(db, "SELECT status, reps, good_reps, faults FROM sets")
    assert (st_status, n, good, json.loads(faults)) == ("interrupted", 4, 3, {"short_hold": 1})
    assert rows(db, "SELECT kind, session_id FROM events") == [("session_interrupted", sid)]
    # a second start finds nothing more to close
    conn = schema.connect(db)
    assert close_interrupted(conn, "station-1", WALL) == 0
    conn.close()


KILLED_SCRIPT = textwrap.dedent("""
    import sys, time
    from station.reps import Rep
    from station.usage_log import UsageLog
    from station.usage_recorder import SessionRecorder

    log = UsageLog(sys.argv[1], station_id="station-1", commit_interval_s=0.02).start()
    rec = SessionRecorder(log)
    rec.session_started(1.0, None, "single_leg_hip_thrust", "left")
    puts, durable, i = [], -1, 0
    while True:   # reps keep coming until the parent kills us mid-set
        t = 2.0 + 3 * i
        rec.rep_completed(Rep(i, t, t + 2.5, 0.6, 1.2, 0.9, 0.7, 0.6, 700.0, True, (), 650.0,
                              200.0), exercise="single_leg_hip_thrust", side="left",
                          set_index=1)
        status = log.status()
        puts.append(status.waiting + status.committed)
        i += 1
        committed = log.status().committed
        while durable + 1 < len(puts) and puts[durable + 1] <= committed:
            durable += 1
            print("durable", durable, flush=True)
        time.sleep(0.005)
""")


def test_kill_9_mid_set_loses_no_committed_rep_and_the_session_is_closed(tmp_path):
    db = tmp_path / "usage.sqlite3"
    script = tmp_path / "logging_station.py"
    script.write_text(KILLED_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(db)], stdout=subprocess.PIPE,
                            text=True, env=env)
    durable = -1
    try:
        for line in proc.stdout:
            durable = int(line.split()[1])
            if durable >= 25:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(PATIENCE_S)
    assert proc.returncode == -signal.SIGKILL and durable >= 25
    assert rows(db, "SELECT status FROM sessions") == [("open",)]   # as the kill left it
    with open_log(db) as log:
        assert log.flush(PATIENCE_S)
    indexes = [r[0] for r in rows(db, "SELECT rep_index FROM reps ORDER BY seq")]
    assert indexes[:durable + 1] == list(range(durable + 1))   # every durable rep, in order
    assert indexes == list(range(len(indexes)))                 # and no gap after them
    assert rows(db, "SELECT status FROM sessions") == [("interrupted",)]
    assert rows(db, "SELECT status, reps FROM sets") == [("interrupted", len(indexes))]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_a_locked_database_holds_records_in_memory_and_writes_them_later(tmp_path):
    db = tmp_path / "usage.sqlite3"
    with open_log(db, busy_timeout_s=0.05) as log:
        assert log.flush(PATIENCE_S)
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        rec = SessionRecorder(log)
        rec.session_started(1.0, None, "single_leg_hip_thrust", "left")
        for i in range(5):
            rec.rep_completed(rep(i), exercise="single_leg_hip_thrust", side="left", set_index=1)
        assert wait_for(lambda: log.status().state == "waiting")
        assert "locked by another program" in log.warning
        assert "none lost yet" in log.warning
        assert log.status().waiting == 7           # session, set and 5 reps held
        blocker.execute("ROLLBACK")
        blocker.close()
        assert log.flush(PATIENCE_S)
        assert log.status().state == "ok" and log.warning is None
    assert rows(db, "SELECT COUNT(*) FROM reps") == [(5,)]


@contextmanager
def tiny_filesystem(path: Path, size: str):
    """A tmpfs of ``size`` mounted on ``path`` (needs root, as in CI and on the Pi's installer)."""
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or 'not root'}); the "
                    "full-disk and read-only tests need it")
    try:
        yield lambda *opts: subprocess.run(["mount", "-o", ",".join(("remount", *opts)),
                                            str(path)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


class HeldRetries:
    """The writer's ``wait``: as on the real clock, except that once a write has failed the writer
    waits for :meth:`allow` before it tries again. The test then knows what the writer holds
    while it puts more: no retry squeezes records into pages the failure freed meanwhile."""

    def __init__(self):
        self.log: UsageLog | None = None
        self._allowed = threading.Event()

    def allow(self) -> None:
        self._allowed.set()

    def __call__(self, event: threading.Event, seconds: float) -> bool:
        if self.log is not None and self.log.status().state == "waiting":
            self._allowed.wait(PATIENCE_S)
        return event.wait(seconds)


def test_full_disk_keeps_records_in_memory_counts_losses_and_flushes_when_space_returns(tmp_path):
    mnt = tmp_path / "tiny"
    with tiny_filesystem(mnt, "32m") as remount:
        db = mnt / "usage.sqlite3"
        held = HeldRetries()
        log = held.log = open_log(db, memory_bound=2000, wait=held)
        try:
            rec = SessionRecorder(log)
            rec.session_started(1.0, None, "single_leg_hip_thrust", "left")
            rec.rep_completed(rep(0), exercise="single_leg_hip_thrust", side="left",
                              set_index=1)
            assert log.flush(PATIENCE_S)
            # the disk fills mid-run, not before the first commit: a fixed tiny size left the
            # schema itself without room now and then (the set row then came with the "extra"
            # reps below)
            remount(f"size={shutil.disk_usage(mnt).used + 96 * 1024}")
            assert log.status().state == "ok" and log.status().committed >= 4
            put = 1
            while log.status().state != "waiting" and put < 1500:
                for _ in range(50):
                    rec.rep_completed(rep(put), exercise="single_leg_hip_thrust", side="left",
                                      set_index=1)
                    put += 1
                # each 50 committed, or the write that found the disk full
                assert wait_for(lambda: log.status().state == "waiting"
                                or log.status().waiting == 0)
            assert log.status().state == "waiting", "the tiny disk never filled"
            assert "is full" in log.warning and "none lost yet" in log.warning
            # the station goes on: puts return at once; past the bound they are counted as lost
            waiting = log.status().waiting
            extra = 2000 - waiting + 200
            for _ in range(extra):
                rec.rep_completed(rep(put), exercise="single_leg_hip_thrust", side="left",
                                  set_index=1)
                put += 1
            status = log.status()
            assert (status.waiting, status.lost) == (2000, 200)
            assert "200 lost" in log.warning
            remount("size=32m")                      # space is back
            held.allow()
            assert log.flush(PATIENCE_S)
            assert log.status().state == "ok"
            assert "200 records were lost" in log.warning  # still said, for the staff
        finally:
            held.allow()
            log.close()
        assert rows(db, "SELECT COUNT(*) FROM reps") == [(put - 200,)]
        (detail,), = rows(db, "SELECT detail FROM events WHERE kind = 'records_lost'")
        assert json.loads(detail)["records"] == 200
        assert json.loads(detail)["by_table"] == {"reps": 200}
        assert "full" in json.loads(detail)["reason"]


def test_a_loss_is_recorded_with_the_reason_it_happened_after_the_disk_came_back(tmp_path,
                                                                                 monkeypatch):
    """A record refused while the writer's last snapshot is being committed: that commit clears
    the problem, and the loss is written by the next one. It still says why (it said null: seen
    in the full-disk test, when space came back while a retry was under way)."""
    folder = tmp_path / "not-yet"          # the database cannot even be opened until it exists
    log = open_log(folder / "usage.sqlite3", memory_bound=3)
    late = []
    connect = schema.connect

    def connect_and_put_late(*args, **kwargs):
        conn = connect(*args, **kwargs)

        def on_statement(_sql):
            # the writer has taken its batch: one more record comes and finds the bound full
            if not late:
                late.append(log.put("events", {"id": "late", "kind": "probe", "detail": "{}",
                                               "at": "2023-11-14T22:13:20+00:00"}))

        conn.set_trace_callback(on_statement)
        return conn

    try:
        log.event("probe")
        log.event("probe")                 # with the station's own row: 3, the bound
        assert wait_for(lambda: log.status().state == "waiting")
        reason = log.status().problem
        assert "cannot be opened" in reason
        monkeypatch.setattr(schema, "connect", connect_and_put_late)
        folder.mkdir()
        assert log.flush(PATIENCE_S)
        assert late == [False] and log.status().lost == 1
    finally:
        log.close()
    (detail,), = rows(folder / "usage.sqlite3",
                      "SELECT detail FROM events WHERE kind = 'records_lost'")
    assert json.loads(detail) == {"records": 1, "by_table": {"events": 1}, "reason": reason}


def test_read_only_directory_keeps_the_station_running_until_it_is_writable(tmp_path):
    # (a mount cannot be made read-only while the writer has the file open: mid-run failures
    # are covered by the locked and full-disk tests)
    mnt = tmp_path / "ro"
    with tiny_filesystem(mnt, "8m") as remount:
        db = mnt / "usage.sqlite3"
        remount("ro")
        log = open_log(db)                       # starts on a read-only directory
        rec = SessionRecorder(log)
        rec.session_started(1.0, None, "single_leg_hip_thrust", "left")
        rec.rep_completed(rep(0), exercise="single_leg_hip_thrust", side="left", set_index=1)
        assert wait_for(lambda: log.status().state == "waiting")
        assert log.warning.startswith("Usage log: ") and str(mnt) in log.warning
        assert "4 records wait in memory, none lost yet" in log.warning
        rec.rep_completed(rep(1), exercise="single_leg_hip_thrust", side="left", set_index=1)
        remount("rw")
        assert log.flush(PATIENCE_S)
        assert log.warning is None
        log.close()
        assert rows(db, "SELECT rep_index FROM reps ORDER BY seq") == [(0,), (1,)]


def test_put_never_blocks_and_close_is_safe_twice(tmp_path):
    log = open_log(tmp_path / "usage.sqlite3")
    with pytest.raises(ValueError, match="no table 'rows'"):
        log.put("rows", {})
    log.close()
    log.close()
    assert log.status().state == "closed"
    assert log.put("events", {"id": "x"}) is False and log.status().lost == 1
    with pytest.raises(ValueError, match="durable within a second"):
        UsageLog(tmp_path / "u.sqlite3", station_id="s", commit_interval_s=5)
    with pytest.raises(ValueError, match="station's id"):
        UsageLog(tmp_path / "u.sqlite3", station_id="")


def test_each_sqlite_failure_reads_as_something_staff_can_act_on(tmp_path):
    """SQLite's own words, as the writer meets them, turned into the reason on the screen."""
    from station.usage_log import describe_problem

    path = tmp_path / "state" / "usage.sqlite3"
    said = {text: describe_problem(sqlite3.OperationalError(text), path) for text in (
        "database or disk is full", "database is locked", "attempt to write a readonly database",
        "disk I/O error", "unable to open database file", "no such savepoint")}
    assert said["database or disk is full"] == f"the disk holding {path.parent} is full"
    assert said["database is locked"] == "usage.sqlite3 is locked by another program"
    assert said["attempt to write a readonly database"] == f"{path.parent} is read-only"
    # SQLITE_IOERR came first in the soak's read-only hour (a file made immutable): it now says
    # where and what to look at instead of "cannot be written (disk I/O error)"
    assert said["disk I/O error"].startswith(f"the disk holding {path.parent} reports an I/O")
    assert "read-only, failing or removed" in said["disk I/O error"]
    assert "cannot be opened" in said["unable to open database file"]
    assert said["no such savepoint"] == f"{path} cannot be written (no such savepoint)"

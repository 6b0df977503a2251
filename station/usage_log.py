"""The usage log's writer: a bounded in-memory queue and one thread that commits it to SQLite.

The main loop (and never the sampler) calls :meth:`UsageLog.put`, which appends to a deque under a
lock held for microseconds and returns: nothing on the kiosk's path waits on the disk. The writer
thread commits whatever is queued in one transaction, then waits ``commit_interval_s`` before the
next, so a completed rep is durable (WAL, ``synchronous=FULL``) well within a second.

When the database cannot be written (disk full, locked by another program, read-only, the file
cannot even be opened) the records stay queued and the writer retries every ``retry_s``; the
station keeps running and :attr:`UsageLog.warning` says so in words staff can act on (the kiosk
shows it). At most ``memory_bound`` records wait in memory: past that a new record is refused,
counted per table, logged as an error, and once the database can be written again a
``records_lost`` event with the counts and the reason they were refused is committed. A loss is
never silent.

At start the writer applies the schema's migrations and closes every session a previous process
left open (kill -9, a power cut) as ``interrupted``, summarising its open sets from their reps.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import usage_schema as schema

log = logging.getLogger(__name__)

#: Default bound on records waiting in memory (~100 bytes to 1 kB each).
MEMORY_BOUND = 20000


def new_id() -> str:
    """A record's key: a random UUID, unique across every station of a facility."""
    return str(uuid.uuid4())


def iso(ts: float) -> str:
    """A wall-clock time as local ISO-8601 with its UTC offset (seconds precision)."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class LogStatus:
    """What staff need to know about the log: ``state`` is ``starting``, ``ok``, ``waiting``
    (records held in memory because the database cannot be written) or ``closed``."""

    state: str
    problem: str | None
    waiting: int
    lost: int
    committed: int


def describe_problem(error: BaseException, path: Path) -> str:
    """An SQLite/OS error as the reason staff read on the screen and in the journal."""
    text = str(error).lower()
    if "full" in text or "no space" in text:
        return f"the disk holding {path.parent} is full"
    if "locked" in text or "busy" in text:
        return f"{path.name} is locked by another program"
    if "readonly" in text or "read-only" in text:
        return f"{path.parent} is read-only"
    if "disk i/o error" in text or "input/output error" in text:
        # SQLITE_IOERR: on a Pi most often the SD card remounted read-only after an error, a
        # failing card, or a file made immutable; SQLite reports it before any "read-only"
        return (f"the disk holding {path.parent} reports an I/O error (read-only, failing or "
                "removed?)")
    if "unable to open" in text:
        return f"{path} cannot be opened (is {path.parent} writable and mounted?)"
    return f"{path} cannot be written ({error})"


class UsageLog:
    """The station's usage database at ``path``, written by a background thread.

    ``station_id``/``station_name`` label every record. ``wall`` is the wall clock used only for
    dates in the log (injected in tests); plate time comes with each record. ``on_commit(n)`` is
    called from the writer thread after each commit (the facility push uses it as a nudge).
    ``wait(event, seconds)`` is how the writer waits for its commit cadence and its retries:
    ``event.wait(seconds)`` on the real clock unless given (the soak test gives one on the plate
    clock of its accelerated day, so a simulated hour holds an hour's retries).
    """

    def __init__(self, path: str | Path, *, station_id: str, station_name: str = "",
                 memory_bound: int = MEMORY_BOUND, commit_interval_s: float = 0.25,
                 retry_s: float = 2.0, busy_timeout_s: float = 0.5,
                 wall: Callable[[], float] = time.time,
                 on_commit: Callable[[int], None] | None = None,
                 wait: Callable[[threading.Event, float], bool] | None = None):
        if not station_id:
            raise ValueError("a usage log needs the station's id (config station.id)")
        if memory_bound < 1:
            raise ValueError(f"memory_bound {memory_bound} must be at least 1 record")
        if not 0 < commit_interval_s <= 1.0:
            raise ValueError(f"commit_interval_s {commit_interval_s} must be in (0, 1] so a rep "
                             "is durable within a second")
        self.path = Path(path)
        self.station_id = station_id
        self.station_name = station_name or station_id
        self.memory_bound = memory_bound
        self.commit_interval_s = commit_interval_s
        self.retry_s = retry_s
        self.busy_timeout_s = busy_timeout_s
        self.wall = wall
        self.on_commit = on_commit
        self._wait = wait or threading.Event.wait
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, dict]] = deque()
        self._held = 0                      # queued + being written, under _lock
        self._lost: dict[str, int] = {}     # refused since the last records_lost event
        self._lost_reason: str | None = None  # why they were refused, taken when they were
        self._lost_total = 0
        self._committed = 0
        self._problem: str | None = None
        self._state = "starting"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._conn: sqlite3.Connection | None = None
        self._recovered = False
        self._thread = threading.Thread(target=self._run, name="usage-log-writer", daemon=True)
        self._started = False
        self._closed = False

    # -- the main loop's side ---------------------------------------------------------------
    def start(self) -> UsageLog:
        if not self._started:
            self._started = True
            self.put("stations", {"id": self.station_id, "name": self.station_name,
                                  "first_seen": iso(self.wall()), "last_seen": iso(self.wall())})
            self._thread.start()
        return self

    def __enter__(self) -> UsageLog:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def put(self, table: str, row: dict) -> bool:
        """Queue a full row for ``table`` (upserted by its ``id``). Never blocks, never raises on
        a full queue: returns False and counts the loss when ``memory_bound`` records wait."""
        if table not in schema.COLUMNS:
            raise ValueError(f"usage log has no table {table!r}")
        with self._lock:
            if self._closed or self._held >= self.memory_bound:
                first = self._lost_total == 0
                self._lost[table] = self._lost.get(table, 0) + 1
                self._lost_total += 1
                lost = self._lost_total
                # the reason now: the write that later records the loss may come after a
                # commit that already cleared the problem
                reason = self._lost_reason = self._problem or (
                    "the log is closed" if self._closed else "the writer fell behind")
            else:
                self._queue.append((table, row))
                self._held += 1
                self._wake.set()
                return True
        if first or lost % 1000 == 0:
            log.error("usage log: %d record(s) lost so far: %s and %d records already wait in "
                      "memory (the bound)", lost, reason, self.memory_bound)
        return False

    def event(self, kind: str, detail: dict | None = None, session_id: str | None = None) -> str:
        """Queue an event (a fault, a calibration, a coach change, an export...); return its id."""
        eid = new_id()
        self.put("events", {"id": eid, "session_id": session_id, "at": iso(self.wall()),
                            "kind": kind, "detail": json.dumps(detail or {}, sort_keys=True)})
        return eid

    def status(self) -> LogStatus:
        with self._lock:
            return LogStatus(self._state, self._problem, self._held, self._lost_total,
                             self._committed)

    @property
    def warning(self) -> str | None:
        """One line for the staff when records are not reaching the disk (else None)."""
        s = self.status()
        if s.state == "waiting" or (s.lost and s.state != "ok"):
            lost = f", {s.lost} lost" if s.lost else ", none lost yet"
            return f"Usage log: {s.problem}; {s.waiting} records wait in memory{lost}"
        if s.lost:
            return f"Usage log: {s.lost} records were lost while the disk could not be written"
        return None

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is committed (tests, close, CLI). The kiosk never
        calls this."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._held:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._wake.set()
                self._idle.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Commit what can be committed within ``timeout``, then stop. Safe twice. Records that
        could not be written are counted and logged as lost."""
        if self._closed:
            return
        if self._started:
            self.flush(timeout)
        with self._lock:
            self._closed = True
        self._stop.set()
        self._wake.set()
        if self._started:
            self._thread.join(timeout)
        with self._lock:
            left = self._held
            self._state = "closed"
        if left:
            log.error("usage log: %d record(s) could not be written before closing (%s); they "
                      "are lost", left, self._problem or "the writer did not finish")

    # -- the writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wait(self._wake, self.retry_s if self._problem else 1.0)
            self._wake.clear()
            stopping = self._stop.is_set()
            ok = self._write_pending()
            if stopping:
                break
            if ok:
                # the commit cadence: let records gather for a moment, so the disk sees a few
                # commits a second at most
                self._wait(self._stop, self.commit_interval_s)
            else:
                self._wait(self._stop, self.retry_s)
                self._wake.set()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = schema.connect(self.path, busy_timeout_s=self.busy_timeout_s)
            try:
                schema.migrate(conn)
                if not self._recovered:
                    closed = close_interrupted(conn, self.station_id, self.wall())
                    if closed:
                        log.warning("usage log: %d session(s) left open by a previous run closed "
                                    "as interrupted", closed)
                    self._recovered = True
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _write_pending(self) -> bool:
        with self._lock:
            batch = list(self._queue)
            lost = dict(self._lost)
            lost_reason = self._lost_reason
        if not batch and not lost and self._conn is not None:
            return True
        try:
            conn = self._open()
            conn.execute("BEGIN IMMEDIATE")
            try:
                n = len(batch) + (1 if lost else 0)
                seq = schema.next_seqs(conn, n) if n else 0
                for table, row in batch:
                    _upsert(conn, table, {**row, "station_id": self.station_id, "seq": seq})
                    seq += 1
                if lost:
                    _upsert(conn, "events", {
                        "id": new_id(), "station_id": self.station_id, "session_id": None,
                        "at": iso(self.wall()), "kind": "records_lost",
                        "detail": json.dumps({"records": sum(lost.values()), "by_table": lost,
                                              "reason": lost_reason}, sort_keys=True),
                        "seq": seq})
                conn.execute("COMMIT")
            except BaseException:
                schema.rollback(conn)
                raise
        except (sqlite3.Error, OSError) as e:
            problem = describe_problem(e, self.path)
            if problem != self._problem:
                log.warning("usage log: %s; %d records wait in memory (up to %d), retrying every "
                            "%g s", problem, len(batch), self.memory_bound, self.retry_s)
            with self._lock:
                self._problem = problem
                self._state = "waiting"
            if self._conn is not None:  # reopen next time: a failed disk can leave it unusable
                self._conn.close()
                self._conn = None
            return False
        with self._idle:
            for _ in batch:
                self._queue.popleft()
            self._held -= len(batch)
            self._committed += len(batch)
            for table, count in lost.items():
                self._lost[table] -= count
                if not self._lost[table]:
                    del self._lost[table]
            if self._problem:
                log.warning("usage log: writing again (%d records flushed)", len(batch))
            self._problem = None
            self._state = "ok"
            self._idle.notify_all()
        if lost:
            log.error("usage log: recorded the loss of %d record(s)", sum(lost.values()))
        if self.on_commit is not None and batch:
            self.on_commit(len(batch))
        return True


def _upsert(conn: sqlite3.Connection, table: str, row: dict) -> None:
    names = [c for c, _ in schema.COLUMNS[table]]
    conn.execute(schema.upsert_sql(table), [row.get(c) for c in names])


def close_interrupted(conn: sqlite3.Connection, station_id: str, now: float) -> int:
    """Close every session still open (a previous process died) as ``interrupted``.

    Its open sets are summarised from their reps (counts and means), its end is its last rep's
    end (or its start), and a ``session_interrupted`` event notes it. One transaction, so a crash
    during recovery leaves the sessions open for the next start. Returns how many were closed.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        sessions = conn.execute("SELECT id, start_t FROM sessions WHERE status = 'open'").fetchall()
        for sid, start_t in sessions:
            for (set_id,) in conn.execute("SELECT id FROM sets WHERE session_id = ? AND "
                                          "status = 'open'", (sid,)).fetchall():
                _summarise_set(conn, set_id)
            last = conn.execute("SELECT MAX(end_t) FROM reps WHERE session_id = ?",
                                (sid,)).fetchone()[0]
            seq = schema.next_seqs(conn, 2)
            conn.execute("UPDATE sessions SET status = 'interrupted', end_reason = 'interrupted', "
                         "ended_at = ?, end_t = ?, seq = ? WHERE id = ?",
                         (iso(now), last if last is not None else start_t, seq, sid))
            _upsert(conn, "events", {"id": new_id(), "station_id": station_id, "session_id": sid,
                                     "at": iso(now), "kind": "session_interrupted",
                                     "detail": "{}", "seq": seq + 1})
        conn.execute("COMMIT")
    except BaseException:
        schema.rollback(conn)
        raise
    return len(sessions)


def _summarise_set(conn: sqlite3.Connection, set_id: str) -> None:
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(good), 0), MIN(start_t), MAX(end_t), AVG(heel_share), "
        "AVG(hold_s), AVG(lower_s), AVG(drive_s), AVG(peak_n) FROM reps WHERE set_id = ?",
        (set_id,)).fetchone()
    faults: dict[str, int] = {}
    for (text,) in conn.execute("SELECT faults FROM reps WHERE set_id = ?", (set_id,)):
        for f in json.loads(text):
            faults[f] = faults.get(f, 0) + 1
    seq = schema.next_seqs(conn, 1)
    conn.execute("UPDATE sets SET reps = ?, good_reps = ?, start_t = ?, end_t = ?, heel_share = ?, "
                 "hold_s = ?, lower_s = ?, drive_s = ?, peak_n = ?, faults = ?, "
                 "status = 'interrupted', seq = ? WHERE id = ?",
                 (*row, json.dumps(faults, sort_keys=True), seq, set_id))

"""The facility push: the station's usage log upserted into a shared PostgreSQL (psycopg 3).

How it stays correct when the server comes and goes:

- Every local record carries ``seq``, the station's change number, assigned inside the SQLite
  transaction that wrote it (:mod:`station.usage_schema`), so records become visible in ``seq``
  order. The push reads "everything after the last pushed seq" in ``seq`` order, in batches.
- Each batch is one PostgreSQL transaction: its rows (``INSERT ... ON CONFLICT (id) DO UPDATE``,
  never touching a row that already holds a newer change of the same station) and the station's
  ``station_sync.pushed_seq``. A batch is there whole or not at all, so the facility always holds
  a prefix of each station's history (order kept), and after a failure the next push resumes
  exactly after the last committed batch: no duplicates, nothing skipped, however long the backlog.
- Athlete deletions travel as tombstones (``deletions``) and delete that athlete's rows there too.

The password in the URL is never logged: every message goes through :func:`mask_url`.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import usage_schema as schema
from .errors import FacilitySyncError

log = logging.getLogger(__name__)

#: Records per PostgreSQL transaction.
BATCH = 500
#: A fixed key for ``pg_advisory_xact_lock`` while a station creates the facility's tables.
SCHEMA_LOCK = 0x6753_7573


def mask_url(url: str) -> str:
    """The URL (or libpq ``key=value`` string) with its password replaced by ``***``."""
    if not url:
        return ""
    if "://" in url:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            user = parts.username or ""
            parts = parts._replace(netloc=f"{user}:***@{host}")
        query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
        return urlunsplit(parts._replace(query=query))
    return re.sub(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


def _secret(url: str) -> str | None:
    if "://" in url:
        try:
            return urlsplit(url).password
        except ValueError:
            return None
    m = re.search(r"(?i)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", url)
    return m.group(1).strip("'") if m else None


def scrub(text: str, url: str) -> str:
    """Any text (a driver's error message) with the URL's password removed."""
    secret = _secret(url)
    text = text.replace(url, mask_url(url))
    if secret:
        text = text.replace(secret, "***")
    return text


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise FacilitySyncError("storage.postgres_url is set but psycopg is not installed: "
                                "pip install 'gym-station[postgres]'") from None
    return psycopg


def connect_pg(url: str, timeout_s: float = 5.0):
    """A psycopg connection to the facility's server, or a FacilitySyncError without password."""
    psycopg = _psycopg()
    try:
        return psycopg.connect(url, connect_timeout=max(1, int(timeout_s)))
    except psycopg.Error as e:
        raise FacilitySyncError(f"facility server {mask_url(url)} is unreachable: "
                                f"{scrub(str(e).strip(), url)}") from None


def ensure_pg_schema(conn) -> None:
    """Create the facility's tables if they are missing.

    Stations may start together: the DDL runs under an exclusive advisory lock, and batches take
    the same lock shared, so creating an index never interleaves with another station's upserts
    (which deadlocks). Once the tables exist nothing is locked at all.
    """
    with conn.transaction():
        if conn.execute("SELECT to_regclass('station_sync')").fetchone()[0] is not None:
            return
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        for statement in schema.pg_schema():
            conn.execute(statement)


def _pending(local: sqlite3.Connection, after: int, limit: int) -> list[tuple[int, str, tuple]]:
    """The next ``limit`` local records after ``after``, in seq order: (seq, table, row)."""
    out = []
    for table in schema.TABLES:
        names = ", ".join(c for c, _ in schema.COLUMNS[table])
        for row in local.execute(f"SELECT seq, {names} FROM {table} WHERE seq > ? "
                                 "ORDER BY seq LIMIT ?", (after, limit)):
            out.append((row[0], table, row[1:]))
    out.sort(key=lambda r: r[0])
    return out[:limit]


def _delete_athlete(cur, athlete_id: str) -> None:
    sessions = "SELECT id FROM sessions WHERE athlete_id = %s"
    for table in ("reps", "sets", "cues", "events"):
        cur.execute(f"DELETE FROM {table} WHERE session_id IN ({sessions})", (athlete_id,))
    cur.execute("DELETE FROM sessions WHERE athlete_id = %s", (athlete_id,))
    cur.execute("DELETE FROM athletes WHERE id = %s", (athlete_id,))


def push(db_path: str | Path, url: str, station_id: str, *, batch: int = BATCH,
         on_batch: Callable[[int, int], None] | None = None, timeout_s: float = 5.0) -> int:
    """Push every local record the facility lacks; return how many were pushed.

    ``on_batch(pushed_seq, rows)`` is called after each committed batch. Raises
    :class:`FacilitySyncError` (password masked) when the server is away or refuses; what was
    committed before stays committed and the next call resumes after it.
    """
    psycopg = _psycopg()
    local = schema.connect(Path(db_path), readonly=True)
    pg = None
    pushed_rows = 0
    try:
        pg = connect_pg(url, timeout_s)
        ensure_pg_schema(pg)
        row = pg.execute("SELECT pushed_seq FROM station_sync WHERE station_id = %s",
                         (station_id,)).fetchone()
        pg.commit()
        done = row[0] if row else 0
        sql = {t: schema.upsert_sql(t, "%s", guard=True) for t in schema.TABLES}
        while True:
            rows = _pending(local, done, batch)
            if not rows:
                break
            _commit_batch(pg, psycopg, rows, sql, station_id)
            last = rows[-1][0]
            done = last
            pushed_rows += len(rows)
            log.debug("facility push to %s: %d records, up to seq %d", mask_url(url),
                      len(rows), last)
            if on_batch is not None:
                on_batch(done, len(rows))
        _forget_pushed_tombstones(db_path, done)
    except psycopg.Error as e:
        raise FacilitySyncError(f"facility server {mask_url(url)} stopped taking records after "
                                f"{pushed_rows} this round: {scrub(str(e).strip(), url)}") from None
    finally:
        local.close()
        if pg is not None:
            pg.close()
    return pushed_rows


#: Attempts at one batch when PostgreSQL picks it as a deadlock victim (two stations upserting
#: the same athlete rows in another order).
DEADLOCK_RETRIES = 5


def _commit_batch(pg, psycopg, rows, sql, station_id) -> None:
    """One batch and the station's progress in one transaction (retried if deadlocked)."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            with pg.transaction(), pg.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock_shared(%s)", (SCHEMA_LOCK,))
                for _seq, table, values in rows:
                    if table == "deletions":
                        names = [c for c, _ in schema.COLUMNS[table]]
                        d = dict(zip(names, values, strict=True))
                        if d["kind"] == "athlete":
                            _delete_athlete(cur, d["target"])
                        continue  # the tombstone itself (an athlete's id) is not kept there
                    cur.execute(sql[table], values)
                cur.execute("INSERT INTO station_sync (station_id, pushed_seq, pushed_at) "
                            "VALUES (%s, %s, now()) ON CONFLICT (station_id) DO UPDATE SET "
                            "pushed_seq = excluded.pushed_seq, pushed_at = now()",
                            (station_id, rows[-1][0]))
            return
        except psycopg.errors.DeadlockDetected:
            if attempt == DEADLOCK_RETRIES - 1:
                raise
            log.info("facility push: batch chosen as a deadlock victim; retrying it")


def _forget_pushed_tombstones(db_path, pushed_seq: int) -> None:
    """A deleted athlete's id is kept locally only until the facility has applied the deletion."""
    try:
        conn = schema.connect(Path(db_path))
        try:
            conn.execute("DELETE FROM deletions WHERE seq <= ?", (pushed_seq,))
        finally:
            conn.close()
    except sqlite3.Error as e:  # read-only or locked: they go next time
        log.debug("facility push: tombstones kept for now (%s)", e)


def backlog(db_path: str | Path, pushed_seq: int) -> int:
    """How many local records are newer than ``pushed_seq``."""
    local = schema.connect(Path(db_path), readonly=True)
    try:
        return sum(local.execute(f"SELECT COUNT(*) FROM {t} WHERE seq > ?",
                                 (pushed_seq,)).fetchone()[0] for t in schema.TABLES)
    finally:
        local.close()


class FacilityPush:
    """A background thread that pushes the station's log every ``interval_s`` (and when
    :meth:`nudge`\\ d), retrying quietly while the server is away. ``problem`` says why not.
    ``wait(event, seconds)`` is how it waits between pushes: ``event.wait(seconds)`` on the real
    clock unless given (the soak test gives one on its accelerated day's plate clock)."""

    def __init__(self, db_path: str | Path, url: str, station_id: str, *,
                 interval_s: float = 5.0, batch: int = BATCH,
                 wait: Callable[[threading.Event, float], bool] | None = None):
        if not url:
            raise ValueError("FacilityPush needs storage.postgres_url")
        _psycopg()
        self.db_path = Path(db_path)
        self.url = url
        self.station_id = station_id
        self.interval_s = interval_s
        self.batch = batch
        self._wait = wait or threading.Event.wait
        self.problem: str | None = None
        self.pushed = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="usage-facility-push",
                                        daemon=True)
        self._started = False

    def start(self) -> FacilityPush:
        if not self._started:
            self._started = True
            log.info("usage log: pushing to the facility server %s", mask_url(self.url))
            self._thread.start()
        return self

    def __enter__(self) -> FacilityPush:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def nudge(self, _n: int = 0) -> None:
        """Push soon (the writer calls this after each commit)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.db_path.exists():
                    self.pushed += push(self.db_path, self.url, self.station_id,
                                        batch=self.batch)
                if self.problem:
                    log.warning("usage log: the facility server %s is back; pushed the backlog",
                                mask_url(self.url))
                self.problem = None
            except (FacilitySyncError, sqlite3.Error) as e:
                if str(e) != self.problem:
                    log.warning("usage log: %s; the records wait on this station and go when "
                                "it answers", e)
                self.problem = str(e)
            self._wait(self._wake, self.interval_s)
            self._wake.clear()

    def close(self, timeout: float = 10.0) -> None:
        """Stop after the push in progress (a last push is not forced). Safe twice."""
        self._stop.set()
        self._wake.set()
        if self._started and self._thread.is_alive():
            self._thread.join(timeout)

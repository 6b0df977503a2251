"""The usage log's schema: one column table for SQLite on the station and PostgreSQL for a facility.

Every record is keyed by a UUID (``id``), so pushing it twice to the facility is an upsert, never a
duplicate. Every record also carries ``seq``, the station's change number: a counter incremented in
the same transaction that writes the record, so records become visible in ``seq`` order and the
facility push can resume from "everything after seq N" (see :mod:`station.usage_pg`).

Tables: ``stations``, ``athletes``, ``sessions``, ``sets``, ``reps`` (every per-rep metric, and
the whole rep as JSON in ``metrics`` so a field the analysis adds later is not lost), ``cues``
(cues shown), ``events`` (faults, calibrations, coach changes, PIN failures, exports, losses,
deletions) and ``deletions`` (tombstones the facility push applies; see
:func:`station.usage_report.delete_athlete`).

SQLite migrations are versioned with ``PRAGMA user_version`` and applied at start, each in one
transaction; a database newer than this code is refused rather than guessed at. The database runs
in WAL mode with ``synchronous=FULL``: a committed rep survives a kill -9 and a pulled power cable.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .errors import UsageLogError

#: table -> ((column, type), ...). Types are SQLite's; :func:`pg_type` maps them for PostgreSQL.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "stations": (
        ("id", "TEXT PRIMARY KEY"), ("station_id", "TEXT NOT NULL"), ("name", "TEXT NOT NULL"),
        ("first_seen", "TEXT NOT NULL"), ("last_seen", "TEXT NOT NULL"), ("seq", "INTEGER NOT NULL"),
    ),
    "athletes": (
        ("id", "TEXT PRIMARY KEY"), ("station_id", "TEXT NOT NULL"), ("name", "TEXT NOT NULL"),
        ("first_seen", "TEXT NOT NULL"), ("seq", "INTEGER NOT NULL"),
    ),
    "sessions": (
        ("id", "TEXT PRIMARY KEY"), ("station_id", "TEXT NOT NULL"), ("athlete_id", "TEXT"),
        ("exercise", "TEXT NOT NULL"), ("side", "TEXT NOT NULL"),
        ("started_at", "TEXT NOT NULL"), ("day", "TEXT NOT NULL"), ("ended_at", "TEXT"),
        ("start_t", "REAL NOT NULL"), ("end_t", "REAL"),
        ("status", "TEXT NOT NULL"), ("end_reason", "TEXT"), ("seq", "INTEGER NOT NULL"),
    ),
    "sets": (
        ("id", "TEXT PRIMARY KEY"), ("station_id", "TEXT NOT NULL"), ("session_id", "TEXT NOT NULL"),
        ("set_index", "INTEGER NOT NULL"), ("exercise", "TEXT NOT NULL"), ("side", "TEXT NOT NULL"),
        ("start_t", "REAL"), ("end_t", "REAL"), ("reps", "INTEGER NOT NULL"),
        ("good_reps", "INTEGER NOT NULL"), ("heel_share", "REAL"), ("hold_s", "REAL"),
        ("lower_s", "REAL"), ("drive_s", "REAL"), ("peak_n", "REAL"), ("faults", "TEXT NOT NULL"),
        ("status", "TEXT NOT NULL"), ("seq", "INTEGER NOT NULL"),
    ),
    "reps": (
        ("id", "TEXT PRIMARY KEY"), ("station_id", "TEXT NOT NULL"), ("session_id", "TEXT NOT NULL"),
        ("set_id", "TEXT NOT NULL"), ("rep_index", "INTEGER NOT NULL"), ("at", "TEXT NOT NULL"),
        ("start_t", "REAL NOT NULL"), ("end_t", "REAL NOT NULL"), ("drive_s", "REAL"),
        ("hold_s", "REAL"), ("lower_s", "REAL"), ("heel_share", "REAL"),
        ("heel_share_min", "REAL"), ("peak_n", "REAL"), ("top_n", "REAL"), ("bottom_n", "REAL"),
        ("good", "INTEGER NOT NULL"), ("faults", "TEXT NOT NULL"), ("metrics", "TEXT NOT NULL"),
        ("seq", "INTEGER NOT NULL"),
    ),
    "cues": (
        ("id", "TEXT PRIMARY KEY"), ("station_id", "TEXT NOT NULL"), ("session_id", "TEXT"),
        ("at", "TEXT NOT NULL"), ("t", "REAL NOT NULL"), ("kind", "TEXT NOT NULL"),
        ("text", "TEXT NOT NULL"), ("seq", "INTEGER NOT NULL"),
    ),
    "events": (
        ("id", "TEXT PRIMARY KEY"), ("station_id", "TEXT NOT NULL"), ("session_id", "TEXT"),
        ("at", "TEXT NOT NULL"), ("kind", "TEXT NOT NULL"), ("detail", "TEXT NOT NULL"),
        ("seq", "INTEGER NOT NULL"),
    ),
    "deletions": (
        ("id", "TEXT PRIMARY KEY"), ("station_id", "TEXT NOT NULL"), ("kind", "TEXT NOT NULL"),
        ("target", "TEXT NOT NULL"), ("at", "TEXT NOT NULL"), ("seq", "INTEGER NOT NULL"),
    ),
}

#: Tables in the order a facility push writes a batch's rows of equal standing.
TABLES = tuple(COLUMNS)

#: Event kinds the station writes (``events.kind``).
EVENT_KINDS = ("fault", "fault_cleared", "calibration", "tare", "coach_change", "pin_failure",
               "export", "import", "athlete_deleted", "records_lost", "session_interrupted")

#: Session and set states.
SESSION_STATUS = ("open", "ended", "interrupted")
SET_STATUS = ("open", "done", "interrupted")


def _create_table(table: str) -> str:
    cols = ", ".join(f"{name} {kind}" for name, kind in COLUMNS[table])
    return f"CREATE TABLE {table} ({cols})"


#: Migration n (1-based) takes a database from user_version n-1 to n.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the tables and the change counter.
    (*(_create_table(t) for t in TABLES),
     "CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)",
     "INSERT INTO counter (id, seq) VALUES (1, 0)"),
    # 2: indexes for the facility push (by seq) and the reports (by day, athlete, session).
    (*(f"CREATE INDEX {t}_seq ON {t} (seq)" for t in TABLES),
     "CREATE INDEX sessions_day ON sessions (day)",
     "CREATE INDEX sessions_athlete ON sessions (athlete_id)",
     "CREATE INDEX sets_session ON sets (session_id)",
     "CREATE INDEX reps_session ON reps (session_id)",
     "CREATE INDEX cues_session ON cues (session_id)"),
)

SCHEMA_VERSION = len(MIGRATIONS)

DB_NAME = "usage.sqlite3"


def database_file(state: Path) -> Path:
    """The usage log in a state directory."""
    return Path(state) / DB_NAME


def connect(path: Path, *, busy_timeout_s: float = 0.5, readonly: bool = False) -> sqlite3.Connection:
    """Open the database in autocommit mode (transactions are explicit), WAL, synchronous FULL.

    ``readonly`` opens an existing file for reports without creating or migrating it.
    """
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=busy_timeout_s,
                               isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_s, isolation_level=None,
                               check_same_thread=False)
    try:
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, migrations=MIGRATIONS) -> int:
    """Apply the migrations the database lacks, each in its own transaction; return the version.

    A database written by a newer gym-station is refused: reading it with an older schema could
    silently drop what the newer one records.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise UsageLogError(f"usage log {database_path(conn)} has schema version {version}, newer "
                            f"than this gym-station's {len(migrations)}: update gym-station")
    for n in range(version, len(migrations)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migrations[n]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {n + 1}")
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
    return len(migrations)


def rollback(conn: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already (it does on a full disk), keeping
    the error that caused it as the one reported."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def database_path(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row else "?"


def next_seqs(conn: sqlite3.Connection, n: int) -> int:
    """Reserve ``n`` change numbers inside the caller's write transaction; return the first."""
    first = conn.execute("SELECT seq FROM counter WHERE id = 1").fetchone()[0] + 1
    conn.execute("UPDATE counter SET seq = ? WHERE id = 1", (first + n - 1,))
    return first


def upsert_sql(table: str, placeholder: str = "?", guard: bool = False) -> str:
    """``INSERT ... ON CONFLICT (id) DO UPDATE`` of every column; SQLite and PostgreSQL alike.

    ``guard`` keeps a row that already holds a newer change (``seq``) of the same station.
    """
    names = [c for c, _ in COLUMNS[table]]
    cols = ", ".join(names)
    values = ", ".join([placeholder] * len(names))
    updates = ", ".join(f"{c} = excluded.{c}" for c in names if c != "id")
    sql = f"INSERT INTO {table} ({cols}) VALUES ({values}) ON CONFLICT (id) DO UPDATE SET {updates}"
    if guard:
        sql += (f" WHERE {table}.station_id <> excluded.station_id"
                f" OR {table}.seq <= excluded.seq")
    return sql


def pg_type(sqlite_type: str) -> str:
    """A column's SQLite type as PostgreSQL's."""
    return (sqlite_type.replace("INTEGER", "BIGINT").replace("REAL", "DOUBLE PRECISION"))


def pg_schema() -> list[str]:
    """The facility's tables: the station's, plus how far each station's push has come."""
    out = []
    for t in TABLES:
        cols = ", ".join(f"{name} {pg_type(kind)}" for name, kind in COLUMNS[t])
        out.append(f"CREATE TABLE IF NOT EXISTS {t} ({cols})")
        out.append(f"CREATE INDEX IF NOT EXISTS {t}_station_seq ON {t} (station_id, seq)")
    out.append("CREATE INDEX IF NOT EXISTS sessions_day ON sessions (day)")
    out.append("CREATE INDEX IF NOT EXISTS reps_session ON reps (session_id)")
    out.append("CREATE TABLE IF NOT EXISTS station_sync (station_id TEXT PRIMARY KEY, "
               "pushed_seq BIGINT NOT NULL, pushed_at TIMESTAMPTZ NOT NULL DEFAULT now())")
    return out

"""Reading the usage log: the ``usage`` report, and an athlete's data exported or deleted.

The report reads one row per session (with its reps' sums) from the station's SQLite or, with
``--facility``, from the facility's PostgreSQL (same tables, same SQL), and groups them in Python
by station, athlete, exercise or day. Figures per group: sessions, minutes on the plate (each
session from its first set's start to its end, on the plate's clock; a session that ended by
timing out ends when the plate emptied), reps, good-rep rate, mean heel share (over reps that have
one) and mean hold.

CSV cells that are text and start with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return)
are prefixed with ``'`` so a spreadsheet shows them instead of running them as formulas.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import astuple, dataclass, fields
from datetime import date
from pathlib import Path

from . import usage_schema as schema
from .errors import UsageError, UsageLogError
from .usage_log import iso, new_id

GROUPINGS = ("station", "athlete", "exercise", "day")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Source:
    """Where a report reads from: a DB-API connection and its placeholder."""

    conn: object
    placeholder: str
    name: str

    def rows(self, sql: str, params=()) -> list[tuple]:
        sql = sql.replace("?", self.placeholder)
        cur = self.conn.execute(sql, params)
        return list(cur.fetchall())

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def local_source(state: Path) -> Source:
    """The station's own log (read-only)."""
    path = schema.database_file(state)
    if not path.exists():
        raise UsageLogError(f"no usage log at {path} yet: it is written by `gym-station run` or "
                            "`demo` using this state directory (--state-dir)")
    try:
        conn = schema.connect(path, readonly=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise UsageLogError(f"{path} cannot be read as a usage log ({e})") from None
    if version != schema.SCHEMA_VERSION:
        conn.close()
        raise UsageLogError(f"{path} has schema version {version}, this gym-station reads "
                            f"{schema.SCHEMA_VERSION}: start the station once to migrate it")
    return Source(conn, "?", str(path))


def facility_source(url: str) -> Source:
    """The facility's PostgreSQL (every station that pushes to it)."""
    from .usage_pg import connect_pg, ensure_pg_schema, mask_url

    if not url:
        raise UsageError("--facility needs storage.postgres_url (or GYM_STATION_POSTGRES_URL)")
    conn = connect_pg(url)
    ensure_pg_schema(conn)
    conn.autocommit = True
    return Source(conn, "%s", mask_url(url))


@dataclass
class UsageRow:
    """One group of the report."""

    group: str
    sessions: int
    minutes: float
    reps: int
    good_reps: int
    good_rate: float | None
    heel_share: float | None
    hold_s: float | None


SESSION_SQL = """
SELECT s.station_id, s.athlete_id, a.name, s.exercise, s.day, s.start_t,
       COALESCE(s.end_t, MAX(r.end_t), s.start_t), COUNT(r.id), COALESCE(SUM(r.good), 0),
       SUM(r.heel_share), COUNT(r.heel_share), SUM(r.hold_s), COUNT(r.hold_s)
FROM sessions s
LEFT JOIN reps r ON r.session_id = s.id
LEFT JOIN athletes a ON a.id = s.athlete_id
WHERE s.day >= ? AND s.day <= ?
GROUP BY s.id, s.station_id, s.athlete_id, a.name, s.exercise, s.day, s.start_t, s.end_t
"""


def usage_rows(source: Source, *, since: date | None = None, until: date | None = None,
               by: str = "station") -> list[UsageRow]:
    """The report's rows, sorted by group; ``since``/``until`` are inclusive local dates."""
    if by not in GROUPINGS:
        raise UsageError(f"--by {by!r}: choose one of {', '.join(GROUPINGS)}")
    lo = since.isoformat() if since else "0000-00-00"
    hi = until.isoformat() if until else "9999-99-99"
    acc: dict[str, list[float]] = {}
    for (station, athlete_id, name, exercise, day, start_t, end_t, reps, good, share_sum,
         share_n, hold_sum, hold_n) in source.rows(SESSION_SQL, (lo, hi)):
        if by == "station":
            key = station
        elif by == "athlete":
            key = "guest" if athlete_id is None else (f"{name} ({athlete_id})" if name
                                                      else athlete_id)
        elif by == "exercise":
            key = exercise
        else:
            key = day
        a = acc.setdefault(key, [0, 0.0, 0, 0, 0.0, 0, 0.0, 0])
        a[0] += 1
        a[1] += max(0.0, float(end_t) - float(start_t)) / 60.0
        a[2] += int(reps)
        a[3] += int(good)
        a[4] += float(share_sum or 0.0)
        a[5] += int(share_n)
        a[6] += float(hold_sum or 0.0)
        a[7] += int(hold_n)
    out = []
    for key in sorted(acc):
        n, minutes, reps, good, ssum, sn, hsum, hn = acc[key]
        out.append(UsageRow(key, n, minutes, reps, good, good / reps if reps else None,
                            ssum / sn if sn else None, hsum / hn if hn else None))
    return out


def render_table(rows: list[UsageRow], by: str) -> str:
    """The report for a terminal."""
    head = f"{by:<28} {'sessions':>8} {'minutes':>8} {'reps':>6} {'good %':>7} " \
           f"{'heel %':>7} {'hold s':>7}"
    lines = [head, "-" * len(head)]

    def pct(v):
        return "-" if v is None else f"{100 * v:.0f}"

    for r in rows:
        hold = "-" if r.hold_s is None else f"{r.hold_s:.2f}"
        lines.append(f"{r.group:<28} {r.sessions:>8} {r.minutes:>8.1f} {r.reps:>6} "
                     f"{pct(r.good_rate):>7} {pct(r.heel_share):>7} {hold:>7}")
    if not rows:
        lines.append("(no sessions in this period)")
    return "\n".join(lines)


def csv_cell(value):
    """A value safe for a spreadsheet: text that could start a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(rows: list, path: Path | None, header: list[str]) -> str:
    """Rows (tuples) as CSV with every cell escaped; written to ``path`` or returned."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([csv_cell(h) for h in header])
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
    text = buf.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def usage_csv(rows: list[UsageRow], path: Path | None, by: str) -> str:
    header = [by if f.name == "group" else f.name for f in fields(UsageRow)]
    return write_csv([astuple(r) for r in rows], path, header)


# -- one athlete's data ----------------------------------------------------------------------

def _dicts(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def athlete_data(state: Path, athlete_id: str) -> dict:
    """Everything the station's log holds about one athlete: the roster entry and each session
    with its sets, reps and cues. Raises UsageError when the log knows no such athlete."""
    with local_source(state) as src:
        conn = src.conn
        athlete = _dicts(conn, "SELECT id, name, first_seen FROM athletes WHERE id = ?",
                         (athlete_id,))
        sessions = _dicts(conn, "SELECT * FROM sessions WHERE athlete_id = ? ORDER BY started_at",
                          (athlete_id,))
        if not athlete and not sessions:
            raise UsageError(f"no athlete {athlete_id!r} in the usage log {src.name}")
        for s in sessions:
            s["sets"] = _dicts(conn, "SELECT * FROM sets WHERE session_id = ? ORDER BY set_index",
                               (s["id"],))
            s["reps"] = _dicts(conn, "SELECT * FROM reps WHERE session_id = ? ORDER BY seq",
                               (s["id"],))
            for r in s["reps"]:
                r["faults"] = json.loads(r["faults"])
                r["metrics"] = json.loads(r["metrics"])
            s["cues"] = _dicts(conn, "SELECT * FROM cues WHERE session_id = ? ORDER BY seq",
                               (s["id"],))
    return {"athlete": athlete[0] if athlete else {"id": athlete_id}, "sessions": sessions}


REP_CSV = ("session_id", "started_at", "exercise", "set_index", "side", "rep_index", "start_t",
           "end_t", "drive_s", "hold_s", "lower_s", "heel_share", "heel_share_min", "peak_n",
           "good", "faults")


def athlete_csv(data: dict, path: Path | None) -> str:
    """An athlete's reps, one per line, with the athlete's name and session on each."""
    rows = []
    name = data["athlete"].get("name", "")
    for s in data["sessions"]:
        sets = {st["id"]: st for st in s["sets"]}
        for r in s["reps"]:
            st = sets.get(r["set_id"], {})
            rows.append((data["athlete"]["id"], name, s["id"], s["started_at"], s["exercise"],
                         st.get("set_index"), st.get("side"), r["rep_index"], r["start_t"],
                         r["end_t"], r["drive_s"], r["hold_s"], r["lower_s"], r["heel_share"],
                         r["heel_share_min"], r["peak_n"], r["good"], " ".join(r["faults"])))
    return write_csv(rows, path, ["athlete_id", "name", *REP_CSV])


def record_event(state: Path, station_id: str, kind: str, detail: dict, wall) -> None:
    """Write one event now (a CLI command: an export, a calibration), in its own transaction."""
    path = schema.database_file(state)
    conn = schema.connect(path, busy_timeout_s=5.0)
    try:
        schema.migrate(conn)
        conn.execute("BEGIN IMMEDIATE")
        seq = schema.next_seqs(conn, 1)
        conn.execute("INSERT INTO events (id, station_id, session_id, at, kind, detail, seq) "
                     "VALUES (?, ?, NULL, ?, ?, ?, ?)",
                     (new_id(), station_id, iso(wall()), kind, json.dumps(detail, sort_keys=True),
                      seq))
        conn.execute("COMMIT")
    finally:
        conn.close()


def delete_athlete(state: Path, athlete_id: str, station_id: str, wall, *,
                   facility: bool) -> dict:
    """Remove an athlete and every session, set, rep, cue and event of theirs, in one transaction.

    An ``athlete_deleted`` event records that it happened and how much went, without the id or
    name. With ``facility`` (a postgres_url is set) a tombstone holding only the id waits until
    the facility push has deleted the athlete there too, then it goes as well.
    """
    path = schema.database_file(state)
    if not path.exists():
        raise UsageLogError(f"no usage log at {path}")
    conn = schema.connect(path, busy_timeout_s=5.0)
    try:
        schema.migrate(conn)
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            known = conn.execute("SELECT COUNT(*) FROM athletes WHERE id = ?",
                                 (athlete_id,)).fetchone()[0]
            sessions = "SELECT id FROM sessions WHERE athlete_id = ?"
            counts = {"sessions": conn.execute("SELECT COUNT(*) FROM sessions WHERE athlete_id "
                                               "= ?", (athlete_id,)).fetchone()[0]}
            if not known and not counts["sessions"]:
                raise UsageError(f"no athlete {athlete_id!r} in the usage log {path}")
            for table in ("reps", "sets", "cues", "events"):
                counts[table] = conn.execute(f"DELETE FROM {table} WHERE session_id IN "
                                             f"({sessions})", (athlete_id,)).rowcount
            conn.execute("DELETE FROM sessions WHERE athlete_id = ?", (athlete_id,))
            conn.execute("DELETE FROM athletes WHERE id = ?", (athlete_id,))
            seq = schema.next_seqs(conn, 2)
            if facility:
                conn.execute("INSERT INTO deletions (id, station_id, kind, target, at, seq) "
                             "VALUES (?, ?, 'athlete', ?, ?, ?)",
                             (new_id(), station_id, athlete_id, iso(wall()), seq))
            conn.execute("INSERT INTO events (id, station_id, session_id, at, kind, detail, seq) "
                         "VALUES (?, ?, NULL, ?, 'athlete_deleted', ?, ?)",
                         (new_id(), station_id, iso(wall()), json.dumps(counts, sort_keys=True),
                          seq + 1))
            conn.execute("COMMIT")
        except BaseException:
            schema.rollback(conn)
            raise
        # the deleted rows' bytes must not linger in the WAL (secure_delete zeroed the pages)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return counts

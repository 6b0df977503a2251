"""The soak test's harness around :mod:`station.soak`: the station's config and state, the
faults that come from outside the station (the database made read-only, PostgreSQL stopped), the
app killed with SIGKILL twice (segments of the day run as ``python -m station.soak``; the harness
kills the process group as soon as the app says its plate time passed the kill point, while it
runs on at real time mid-session), and what is read back from SQLite and PostgreSQL at the end.

Read-only for root: the tests run as root in CI, and root ignores file modes, so ``chmod`` cannot
make the database read-only. The immutable attribute can: ``chattr +i`` on the database file, its
WAL and the state directory is enforced by the kernel for every user, root included, on the
writes of a connection that is already open too (the writer then gets "disk I/O error", and
"attempt to write a readonly database" when it reopens). The ``-shm`` index is left alone: it is
memory-mapped, and an immutable mapping kills the process with SIGBUS, which no disk does.
``chattr -i`` ends the fault. It needs CAP_LINUX_IMMUTABLE on an ext4/xfs/btrfs-like file system;
where that is missing the test skips, saying why.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from station.config import Config, load_config
from station.kiosk_run import profiles_for
from station.soak import (
    RESTART_GAP_S,
    DayPlan,
    SegmentReport,
    make_plan,
    prepare_state,
    run_segment,
)
from station.usage_schema import database_file

ROOT = Path(__file__).resolve().parents[2]
STATION_ID = "soak-1"


def write_config(path: Path, url: str) -> Path:
    """The shipped station.toml (its commit and push intervals too), for a simulated plate
    pushing to ``url``."""
    text = (ROOT / "config" / "station.toml").read_text(encoding="utf-8")
    for old, new in (('kind = "hx711"', 'kind = "simulated"'),
                     ('id = "station-1"', f'id = "{STATION_ID}"'),
                     ('postgres_url = ""', f'postgres_url = "{url}"')):
        if old not in text:
            raise AssertionError(f"config/station.toml no longer has {old!r}: update the soak")
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path


def chattr(flag: str, *paths: Path) -> None:
    for p in paths:
        if p.exists():
            subprocess.run(["chattr", flag, str(p)], check=True, capture_output=True, text=True)


def immutable_supported(where: Path) -> str | None:
    """None if ``chattr +i`` works in ``where``, else why not."""
    probe = where / "immutable-probe"
    probe.write_text("x")
    try:
        result = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, text=True)
    except FileNotFoundError:
        return "chattr is not installed (e2fsprogs)"
    if result.returncode != 0:
        return f"chattr +i is refused here ({result.stderr.strip()})"
    try:
        with open(probe, "a") as f:
            f.write("y")
        return "the immutable attribute is not enforced on this file system"
    except PermissionError:
        return None
    finally:
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
        probe.unlink()


def read_only_hooks(state: Path):
    db = database_file(state)
    files = (db, db.with_name(db.name + "-wal"), state)
    return (lambda: chattr("+i", *files)), (lambda: chattr("-i", *files))


@dataclass
class KilledSegment:
    start: float
    kill_at: float
    returncode: int | None = None
    #: every rep the app logged: {"rep": [session, start], "end": ..., "at": plate t logged}
    reps: list[dict] = field(default_factory=list)
    killed_at: float | None = None   #: the plate time the app said it passed kill_at
    real_s: float | None = None      #: real seconds it had run at real time by then
    held_s: float | None = None      #: ... of which the writer and the push held it back
    stderr: str = ""
    sampler_left: list[str] = field(default_factory=list)


@dataclass
class Day:
    plan: DayPlan
    cfg: Config
    state: Path
    url: str
    killed: list[KilledSegment]
    last: SegmentReport
    exports: list[Path]


def run_killed_segment(plan_path: Path, state: Path, config: Path, start: float,
                       kill_at: float, until: float, log: Path) -> KilledSegment:
    """A segment of the day as its own process, killed with SIGKILL (with its sampler process:
    the whole process group, as systemd kills the unit) as soon as it says its plate time passed
    ``kill_at``; it does not stop for it, so the kill lands while it runs."""
    seg = KilledSegment(start, kill_at)
    cmd = [sys.executable, "-m", "station.soak", "segment", "--plan", str(plan_path),
           "--state", str(state), "--config", str(config), "--start", f"{start:.6f}",
           "--until", f"{until:.6f}", "--kill-at", f"{kill_at:.6f}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env,
                                cwd=ROOT, start_new_session=True)
        timer = threading.Timer(600, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            for line in proc.stdout:
                msg = json.loads(line)
                if "rep" in msg:
                    seg.reps.append(msg)
                elif "kill_point" in msg:
                    os.killpg(proc.pid, signal.SIGKILL)
                    seg.killed_at = msg["kill_point"]
                    seg.real_s, seg.held_s = msg["real_s"], msg["held_s"]
                    break
        finally:
            timer.cancel()
            if proc.poll() is None and seg.killed_at is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
            proc.stdout.close()
    seg.returncode = proc.returncode
    seg.stderr = log.read_text(errors="replace")
    seg.sampler_left = _survivors(proc.pid)
    return seg


def _survivors(pgid: int, patience_s: float = 10.0) -> list[str]:
    """The killed group's processes still alive (their command lines) once the kernel had time
    to end them: a SIGKILL to a group reaches each member on its own."""
    deadline = time.monotonic() + patience_s
    while True:
        left = [p for p in _group_members(pgid) if p != pgid and _alive(p)]
        if not left or time.monotonic() > deadline:
            return [_cmdline(p) for p in left]
        time.sleep(0.05)


def _cmdline(pid: int) -> str:
    try:
        return f"{pid}: " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid}: (gone)"


def _group_members(pgid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    out.append(int(entry.name))
            except OSError:
                pass
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"


def run_day(form: str, base: Path, pg_server, seed: int = 1) -> Day:
    """The whole day: two segments killed with SIGKILL, then the rest in this process with the
    database made read-only and PostgreSQL stopped for a while on the way."""
    plan = make_plan(form, seed)
    plan_path = base / "plan.json"
    plan_path.write_text(plan.to_json(), encoding="utf-8")
    url = pg_server.new_database()
    config = write_config(base / "station.toml", url)
    cfg = load_config(config)
    state = base / "state"
    prepare_state(plan, state, profiles_for(cfg))
    exports = base / "exports"
    exports.mkdir()
    killed = []
    start = 0.0
    for i, fault in enumerate(plan.faults_of("app_kill")):
        seg = run_killed_segment(plan_path, state, config, start, fault.start, plan.duration,
                                 base / f"segment-{i + 1}.log")
        killed.append(seg)
        start = fault.start + RESTART_GAP_S
    begin_ro, end_ro = read_only_hooks(state)
    hooks = {"database_read_only": (begin_ro, end_ro),
             "postgres_away": (pg_server.stop, pg_server.start)}
    try:
        last = run_segment(plan, plan_path, state, cfg, start=start, end=plan.duration,
                           hooks=hooks, exports_dir=exports,
                           rss_every_s=max(60.0, plan.duration / 48))
    finally:
        end_ro()
        if not pg_running(pg_server):
            pg_server.start()
    return Day(plan, cfg, state, url, killed, last, sorted(exports.glob("*.csv")))


def pg_running(pg_server) -> bool:
    return (pg_server.data / "postmaster.pid").exists()


def sqlite_rows(state: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(database_file(state))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def pg_rows(url: str, sql: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()

"""A real PostgreSQL server for the facility tests, started from Debian's binaries in a temporary
directory: unix socket only (no TCP port is opened), trust authentication, stopped at the end.
Skipped, saying why, only where the binaries are absent (.ci/run installs `postgresql`)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """initdb + pg_ctl in ``base``; as root the server runs as the ``postgres`` user."""

    def __init__(self, bindir: Path, base: Path):
        self.bindir = bindir
        self.base = base
        self.data = base / "data"
        self.sock = base / "sock"
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
        self.sock.mkdir()
        if self.user:
            for p in (base, self.sock):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")

    def _run(self, tool: str, *args: str):
        cmd = [str(self.bindir / tool), *args]
        if self.user:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=self.base)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "server.log"), "-w",
                  "-o", f"-p {self.port} -k {self.sock} -c listen_addresses='' -c fsync=off",
                  "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, db: str = "postgres", password: str | None = None) -> str:
        cred = "postgres" + (f":{password}" if password else "")
        return f"postgresql://{cred}@/{db}?host={self.sock}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:10]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server():
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are absent (/usr/lib/postgresql/*/bin/initdb): "
                    "apt-get install postgresql to run the facility tests")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[test]'")
    base = Path(tempfile.mkdtemp(prefix="gym-pg-"))
    os.chmod(base, 0o755)
    server = PgServer(bindir, base)
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh database on the shared server for one test."""
    return pg_server.new_database()

"""deploy/gym-station-console: `gym-station` at the Pi's console runs the installed program on the
station's config and state, as the station's user, so the PINs and the roster changed there are
the kiosk's. `id` and `runuser` are stand-ins on PATH (no gym-station user exists here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONSOLE = REPO / "deploy" / "gym-station-console"


def stand_in(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def bench(tmp_path):
    """A PATH with a stand-in `id` (who runs it: $FAKE_USER/$FAKE_UID) and `runuser` (prints its
    arguments, then runs what follows --), and a stand-in program that prints what it was given."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    stand_in(bin_ / "id", 'case "$1" in -un) echo "$FAKE_USER";; -u) echo "$FAKE_UID";; esac\n')
    stand_in(bin_ / "runuser", 'echo "runuser $1 $2"; shift 3; exec "$@"\n')
    exe = tmp_path / "gym-station"
    stand_in(exe, 'echo "config=$GYM_STATION_CONFIG state=$GYM_STATION_STATE args=$*"\n')

    def run(user, uid, *args, **env):
        full = {"PATH": f"{bin_}:/usr/bin:/bin", "FAKE_USER": user, "FAKE_UID": str(uid),
                "GYM_STATION_EXE": str(exe), **env}
        return subprocess.run(["sh", str(CONSOLE), *args], capture_output=True, text=True,
                              env=full, timeout=30)
    return run


def test_root_runs_it_as_the_station_user_on_the_stations_files(bench):
    proc = bench("root", 0, "pin", "set", "coach")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "runuser -u gym-station",
        "config=/etc/gym-station/station.toml state=/var/lib/gym-station args=pin set coach"]


def test_the_station_user_runs_it_directly(bench):
    proc = bench("gym-station", 998, "roster", "list", GYM_STATION_STATE="/srv/gs")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("config=/etc/gym-station/station.toml state=/srv/gs "
                                   "args=roster list")


def test_anyone_else_is_told_to_use_sudo(bench):
    proc = bench("pi", 1000, "pin", "set", "staff")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "run it with sudo (sudo gym-station pin set staff)" in proc.stderr


def test_a_missing_program_is_said(bench, tmp_path):
    proc = bench("root", 0, "usage", GYM_STATION_EXE=str(tmp_path / "nothing"))
    assert proc.returncode == 1 and "reinstall with deploy/install.sh" in proc.stderr


def test_shellcheck_clean():
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed here (Debian package shellcheck)")
    subprocess.run(["shellcheck", str(CONSOLE)], check=True)


def test_mode_is_executable():
    assert os.access(CONSOLE, os.X_OK)

"""Helpers for the installer tests: run deploy/install.sh into a temporary root, snapshot trees."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSTALL_SH = REPO / "deploy" / "install.sh"
UNIT = REPO / "deploy" / "gym-station.service"
CMDLINE = ("console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
           "fsck.repair=yes rootwait quiet splash\n")


def make_root(path: Path, cmdline: str = CMDLINE) -> Path:
    """A bare Raspberry Pi OS-like root: just the kernel command line the installer edits."""
    (path / "boot" / "firmware").mkdir(parents=True)
    (path / "boot" / "firmware" / "cmdline.txt").write_text(cmdline)
    return path


def run_install(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """deploy/install.sh --root ROOT ARGS; pip offline-friendly (no dependency downloads: the
    venv sees the system site-packages, as on the Pi)."""
    env = {**os.environ, "GYM_STATION_PIP_ARGS": "--no-deps"}
    env.pop("GYM_STATION_ROOT", None)
    proc = subprocess.run(["bash", str(INSTALL_SH), "--root", str(root), *args],
                          capture_output=True, text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"install.sh {' '.join(args)} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def snapshot(root: Path, hash_venv: bool = False) -> dict[str, tuple]:
    """Every path under ``root``: its type, mode, and content hash or link target.

    Files inside the venv are compared by path and mode (pip rewrites its own bookkeeping on a
    reinstall); everything else by content too.
    """
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if "__pycache__" in rel:
                continue
            st = p.lstat()
            mode = oct(st.st_mode & 0o7777)
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", mode)
            elif "/venv/" in rel and not hash_venv:
                out[rel] = ("file", mode)
            else:
                out[rel] = ("file", mode, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777

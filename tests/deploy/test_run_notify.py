"""`gym-station run` as systemd starts it: a real process in a real X window (Xvfb), a real
AF_UNIX datagram socket as $NOTIFY_SOCKET. READY=1 comes once the first frame is on screen, and
WATCHDOG=1 keeps coming while the sampler is alive. Skipped only where Xvfb is not installed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("Xvfb"),
                                reason="Xvfb is needed to give `run` a screen (apt-get install xvfb)")

ROOT = Path(__file__).resolve().parents[2]




def simulated_config(tmp_path: Path) -> Path:
    """The shipped configuration with the simulated plate, beside the shipped exercises."""
    cfg_dir = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg_dir)
    text = (cfg_dir / "station.toml").read_text()
    raw = tomllib.loads(text)
    assert raw["plate"]["kind"] == "hx711"
    (cfg_dir / "station.toml").write_text(text.replace('kind = "hx711"', 'kind = "simulated"', 1))
    return cfg_dir / "station.toml"


def test_run_notifies_ready_after_the_first_frame_and_feeds_the_watchdog(tmp_path, xvfb):
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.2)
    env = {**os.environ, "DISPLAY": xvfb, "SDL_AUDIODRIVER": "dummy",
           "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "1000000"}
    env.pop("SDL_VIDEODRIVER", None)
    proc = subprocess.Popen([sys.executable, "-m", "station.cli", "--config",
                             str(simulated_config(tmp_path)), "--state-dir", str(tmp_path / "state"),
                             "run", "--windowed"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    messages = []
    try:
        # three pings come within a couple of seconds of the first frame; the deadline only
        # bounds a kiosk that never starts (Python, numpy and pygame start slowly under load)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                pass
            if sum("WATCHDOG=1" in m for m in messages) >= 3:
                break
    finally:
        proc.send_signal(signal.SIGTERM)   # how systemd stops it
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        try:
            while True:
                messages.append(sock.recv(4096).decode())
        except TimeoutError:
            pass
        sock.close()
    # 143 (128 + SIGTERM), which the unit counts a success: 0 is kept for leaving the kiosk
    assert proc.returncode == 143, err[-2000:]
    assert any("STOPPING=1" in m for m in messages), messages
    ready = [i for i, m in enumerate(messages) if "READY=1" in m]
    pings = [i for i, m in enumerate(messages) if "WATCHDOG=1" in m]
    assert len(ready) == 1, (messages, err[-2000:])
    assert len(pings) >= 3 and min(pings) > ready[0], messages
    assert "Traceback" not in err, err[-2000:]

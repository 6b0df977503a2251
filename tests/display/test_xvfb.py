"""End to end: the kiosk in a real X window (Xvfb), clicked with xdotool like a person would.

Skipped only where Xvfb or xdotool is not installed (apt-get install xvfb xdotool).
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="Xvfb and xdotool are needed for the real-window test (apt-get install xvfb xdotool)")

SCRIPT = Path(__file__).with_name("xvfb_kiosk.py")
ROOT = Path(__file__).resolve().parents[2]
TITLE = "gym-station xvfb test"




def lines_of(proc) -> queue.Queue:
    """The subprocess's stdout lines, read by a thread so the test can wait with a deadline."""
    q: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stdout:
            q.put(line.strip())
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return q


#: How long a step may take before the test gives up: only a hang is that slow (a loaded CI
#: machine takes seconds to start Python with numpy and pygame, never a minute).
DEADLINE_S = 60.0


def wait_for(q: queue.Queue, prefix: str, seen: list, timeout: float = DEADLINE_S) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=0.1)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no {prefix!r} line from the kiosk; it said: {seen}")


def xdotool(display, *args) -> str:
    done = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display},
                          capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 0, f"xdotool {' '.join(args)} failed: {done.stderr}"
    return done.stdout.strip()


def window_name(display, window) -> str:
    """The window's name once the X server has it: the kiosk's request to set it may still be
    on its way when the test asks (a loaded machine); the deadline only bounds a name that
    never comes."""
    deadline = time.monotonic() + DEADLINE_S
    while (name := xdotool(display, "getwindowname", window)) != TITLE \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    return name


def test_clicks_in_a_real_window_reach_the_kiosk(xvfb):
    env = {**os.environ, "DISPLAY": xvfb, "SDL_VIDEODRIVER": "x11", "SDL_AUDIODRIVER": "dummy",
           "PYTHONPATH": str(ROOT), "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    # it stops after its two commands; --seconds only bounds a kiosk that never gets them
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--seconds", str(2 * DEADLINE_S),
                             "--commands", "2"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    seen: list[str] = []
    try:
        out = lines_of(proc)
        # the idle screen's target is said once the window is open and titled (SDL opens it as
        # "pygame window" and the kiosk titles it just after: looked for earlier, by pid, it
        # can still have that name)
        targets = {"idle": wait_for(out, "TARGET idle", seen)}
        # By pid, then check the title: this xdotool (3.20160805) cannot match names that SDL
        # stores as UTF8_STRING, although getwindowname reads them fine.
        window = xdotool(xvfb, "search", "--sync", "--pid", str(proc.pid)).split()[0]
        assert window_name(xvfb, window) == TITLE
        # tap "Tap to start" on idle, then "Start set" on ready, as a person would with a mouse
        for screen in ("idle", "ready"):
            target = targets.get(screen) or wait_for(out, f"TARGET {screen}", seen)
            _, _, kind, x, y = target.split()
            xdotool(xvfb, "mousemove", "--window", window, x, y, "click", "1")
            assert wait_for(out, "COMMAND", seen) == f"COMMAND {kind}"
        done = wait_for(out, "DONE", seen)
        assert "screens=idle,ready,live" in done
        assert proc.wait(timeout=DEADLINE_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert "Traceback" not in err, err

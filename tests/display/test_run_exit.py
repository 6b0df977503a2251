"""How the kiosk ends: on `gym-station run` only the staff's PIN-guarded Leave kiosk exits 0 (the
systemd unit then leaves the station down); a close request from the windowing system is ignored,
and a loop that ends any other way exits non-zero so the unit starts the kiosk again. The demo's
window still closes."""

from __future__ import annotations

import logging
import shutil
import signal
import textwrap
from pathlib import Path

import pygame
import pytest
from test_app import FakeKiosk, run
from touch import Hand, call, hold, screen, tap, type_pin, wait

from station import cli, logsetup, systemd
from station.pins import PinStore

ROOT = Path(__file__).resolve().parents[2]
STAFF_PIN = "7391"

#: Nobody steps on the plate: the staff have the screens to themselves.
EMPTY_PLATE = textwrap.dedent("""\
    name = "empty_plate"
    description = "Nobody on the plate"
    [athlete]
    mass_kg = 75
    side = "left"
    [[steps]]
    kind = "rest"
    duration_s = 600
    """)


@pytest.fixture(autouse=True)
def pygame_back_on():
    """run_kiosk quits pygame when it ends; the other display tests expect it initialised."""
    yield
    pygame.display.init()
    pygame.font.init()


def close_at_frame_2(stats, view) -> bool:
    """on_frame: the windowing system asks to close after frame 2; stop after 30 frames."""
    if stats.frames == 2:
        pygame.event.post(pygame.event.Event(pygame.QUIT))
    return stats.frames >= 30


def test_a_close_request_ends_a_closable_window():
    stats = run(FakeKiosk(), on_frame=close_at_frame_2)
    assert stats.ended == "window closed" and stats.frames == 3


def test_the_kiosk_ignores_a_close_request_and_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="display.app"):
        stats = run(FakeKiosk(), on_frame=close_at_frame_2, closable=False)
    assert stats.ended == "on_frame" and stats.frames == 30
    assert "asked the kiosk to close; ignored" in caplog.text


@pytest.fixture
def run_command(tmp_path, monkeypatch):
    """`gym-station run --windowed` in this process on the simulated plate (nobody on it) and
    a state directory with the staff PIN; ``on_frame`` stands in for the systemd watchdog's
    frame hook. Returns the exit status and what was printed on stderr."""
    cfg_dir = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg_dir)
    (tmp_path / "empty_plate.toml").write_text(EMPTY_PLATE)
    text = (cfg_dir / "station.toml").read_text()
    text = text.replace('kind = "hx711"', 'kind = "simulated"', 1)
    text = text.replace('scenario = "demo"', f'scenario = "{tmp_path / "empty_plate.toml"}"', 1)
    (cfg_dir / "station.toml").write_text(text)
    state = tmp_path / "state"
    state.mkdir()
    PinStore(state).set_pin("staff", STAFF_PIN)
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(logsetup, "configure_logging", lambda *a, **k: None)  # keep pytest's

    def start(on_frame, capsys):
        class Watchdog:
            def __init__(self, heartbeat):
                pass

            def on_frame(self, stats, view):
                return on_frame(stats, view)

            def close(self):
                pass

        monkeypatch.setattr(systemd, "Watchdog", Watchdog)
        sigterm = signal.getsignal(signal.SIGTERM)
        try:
            status = cli.main(["--config", str(cfg_dir / "station.toml"), "--state-dir",
                               str(state), "run", "--windowed"])
        finally:
            signal.signal(signal.SIGTERM, sigterm)
        return status, capsys.readouterr().err

    return start


def test_run_ignores_a_close_request_and_exits_0_only_when_the_staff_leave(run_command, capsys):
    # `run` is paced in real time: holds last twice their frames at 60 fps, so they are long
    # presses however short the frames; the last step never ends: the staff's leaving does
    hand = Hand([screen("idle"), call(lambda: pygame.event.post(pygame.event.Event(pygame.QUIT)),
                                      "close request"),
                 wait(lambda v: True, 10), hold("admin"), screen("pin"),
                 tap("pin_role", "staff"), *type_pin(STAFF_PIN), screen("staff"),
                 hold("exit_kiosk"), wait(lambda v: False, 600, "the kiosk ends")], fps=120)
    status, err = run_command(hand, capsys)
    assert hand.failed is None, hand.failed
    assert hand.views[-1] == "staff"      # the close request did not end it: the staff did
    assert status == cli.EXIT_OK, err


def test_run_that_ends_without_the_staff_exits_non_zero_for_systemd_to_restart(run_command,
                                                                                capsys):
    status, err = run_command(lambda stats, view: stats.frames >= 3, capsys)
    assert status == cli.EXIT_FAULT
    assert "without the staff leaving it" in err and "Traceback" not in err

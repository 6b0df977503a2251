"""The coach's and staff's flows, start to finish, driven by finger events on the real kiosk.

Everything is the real station: the simulated plate with a scripted athlete, the sampler, the
analysis, the kiosk with its coach and staff screens, the usage log writer, the renderer and the
display loop (headless, on the plate's virtual clock). Only fingers are simulated: SDL
``FINGERDOWN``/``FINGERUP`` events posted at the centre of the buttons the renderer drew.
"""

from __future__ import annotations

import os
import sqlite3
import textwrap

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402
import pytest  # noqa: E402
from touch import (  # noqa: E402
    ANY,
    Hand,
    Storm,
    call,
    finger_event,
    hold,
    screen,
    tap,
    type_pin,
    wait,
)

from station import kiosk_run  # noqa: E402
from station.config import load_config  # noqa: E402
from station.kiosk_run import demo_session, run_session  # noqa: E402
from station.pins import PinStore  # noqa: E402
from station.programs import ProgramBook  # noqa: E402
from station.roster import Roster  # noqa: E402
from station.staff import StaffDesk  # noqa: E402
from station.usage_schema import database_file  # noqa: E402
from station.view import SCREENS, ViewState  # noqa: E402

COACH_PIN, STAFF_PIN = "2580", "7391"

#: An athlete who arrives 20 s after the start (the coach works first), does 3 reps and leaves.
LATE_ATHLETE = textwrap.dedent("""\
    name = "late_athlete"
    description = "Arrives after the coach has set the targets; 3 reps with one-second holds"
    [athlete]
    mass_kg = 75
    side = "left"
    [[steps]]
    kind = "rest"
    duration_s = 20
    [[steps]]
    kind = "step_on"
    [[steps]]
    kind = "settle"
    duration_s = 1.5
    [[steps]]
    kind = "rep"
    count = 3
    hold_s = 1.2
    [[steps]]
    kind = "step_off"
    [[steps]]
    kind = "rest"
    duration_s = 60
    """)


@pytest.fixture
def station(tmp_path):
    """Config, a state directory with both PINs set, and the late athlete's scenario."""
    state = tmp_path / "state"
    state.mkdir()
    pins = PinStore(state)
    pins.set_pin("coach", COACH_PIN)
    pins.set_pin("staff", STAFF_PIN)
    scenario = tmp_path / "late_athlete.toml"
    scenario.write_text(LATE_ATHLETE)
    cfg = load_config(None)
    return cfg, state, scenario


def run(cfg, state, scenario, hand):
    session = demo_session(cfg, headless=True, scenario=str(scenario))
    stats, _ = run_session(session, cfg, state, fullscreen=False, headless=True,
                           size=hand.size, on_frame=hand)
    return session, stats


def test_coach_changes_a_target_on_the_touchscreen_and_the_next_set_uses_it(station):
    cfg, state, scenario = station
    seen: dict[str, object] = {}

    def summary_reached(view: ViewState) -> bool:
        if view.screen == "summary" and view.summary is not None:
            seen["summary"] = view.summary
            seen["targets"] = view.targets
            return True
        return False

    steps = [
        screen("idle"),
        hold("admin"),                      # the discreet control needs a long press
        screen("pin"),
        *type_pin(COACH_PIN),
        screen("coach"),
        tap("open", "new_program"),
        screen("program"),
        tap("setting_up", "hold_target_s"),  # 1.0 s -> 1.5 s
        tap("setting_up", "hold_target_s"),  # -> 2.0 s
        tap("setting_down", "reps"),        # 8 -> 7
        tap("save"),
        wait(lambda v: v.admin is not None and v.admin.program is not None
             and v.admin.program.program_id is not None, 60, "saved"),
        tap("station_program", ANY),
        wait(lambda v: v.admin.program.for_station, 60, "for the station"),
        tap("lock"),
        screen("idle"),
        screen("live", frames=60 * 40),      # the athlete arrives and drives
        wait(summary_reached, frames=60 * 60, label="summary"),
    ]
    hand = Hand(steps, fps=cfg.display.fps)
    session, stats = run(cfg, state, scenario, hand)
    assert hand.failed is None, hand.failed
    assert stats.failsafes == 0
    # the set was done with the coach's targets: 2 s holds wanted, 1.2 s done
    targets = seen["targets"]
    assert targets.hold_s == pytest.approx(2.0) and targets.reps == 7
    bars = seen["summary"].bars
    assert len(bars) == 3
    assert all("short_hold" in b.faults for b in bars), [b.faults for b in bars]
    # stored and logged: the program is the station's, the change is in the usage log
    book = ProgramBook.load(state)
    program = book.program_for(None)
    assert program is not None and program.hold_target_s == 2.0 and program.reps == 7
    db = sqlite3.connect(database_file(state))
    try:
        kinds = [r[0] for r in db.execute("SELECT kind FROM events")]
        details = [r[0] for r in db.execute(
            "SELECT detail FROM events WHERE kind = 'coach_change'")]
    finally:
        db.close()
    assert "coach_change" in kinds
    assert any('"role": "coach"' in d and "hold_target_s" in d for d in details), details


def test_a_wrong_pin_keeps_the_coach_screens_shut(station):
    cfg, state, scenario = station
    steps = [screen("idle"), hold("admin"), screen("pin"), *type_pin("1357"),
             wait(lambda v: v.admin is not None and v.admin.pin is not None
                  and v.admin.pin.error is not None, 60, "refused"),
             *type_pin(COACH_PIN), screen("coach"), tap("lock"), screen("idle")]
    hand = Hand(steps, fps=cfg.display.fps)
    _, stats = run(cfg, state, scenario, hand)
    assert hand.failed is None, hand.failed
    assert "coach" in hand.views and stats.failsafes == 0


def test_a_short_tap_on_the_discreet_control_opens_nothing(station):
    cfg, state, scenario = station
    steps = [screen("idle"), tap("admin"), wait(lambda v: True, 30)]
    hand = Hand(steps, fps=cfg.display.fps)
    run(cfg, state, scenario, hand)
    assert hand.failed is None, hand.failed
    assert "pin" not in hand.views


def test_staff_export_usage_to_a_usb_stick_and_change_the_volume(station, tmp_path,
                                                                  monkeypatch):
    cfg, state, scenario = station
    stick = tmp_path / "media" / "pi" / "KINGSTON"
    stick.mkdir(parents=True)
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 {stick} vfat rw,relatime 0 0\n")

    def desk(cfg, state, kiosk, reload_plate=None):
        return StaffDesk.for_station(cfg, state, reload_plate, events=kiosk_run._KioskEvents(
            kiosk), mounts_file=mounts, media_roots=(tmp_path / "media",))

    monkeypatch.setattr(kiosk_run, "staff_desk", desk)
    notes: list[str] = []
    steps = [
        screen("summary", frames=60 * 60),   # the athlete trains first: there is usage to export
        tap("home"),
        screen("idle"), hold("admin"), screen("pin"), tap("pin_role", "staff"),
        *type_pin(STAFF_PIN),
        screen("staff"),
        tap("volume_down"), tap("volume_down"),
        wait(lambda v: v.audio is not None and v.audio.volume == pytest.approx(0.6), 60, "60%"),
        tap("export_usb"),
        wait(lambda v: bool(v.admin and v.admin.note and "xport" in v.admin.note
                            and notes.append(v.admin.note) is None), 120, "export note"),
        tap("lock"), screen("idle"),
    ]
    hand = Hand(steps, fps=cfg.display.fps)
    _, stats = run(cfg, state, scenario, hand)
    assert hand.failed is None, hand.failed
    files = list(stick.glob("gym-station-usage-*.csv"))
    assert len(files) == 1, notes
    assert files[0].read_text().splitlines()[0]  # a header row at least
    assert not [p for p in stick.iterdir() if p.name.startswith(".")], "no partial file left"
    # the staff's volume reached the player and is kept for the next start
    assert stats.audio and stats.audio[-1].volume == pytest.approx(0.6)
    assert StaffDesk.for_station(cfg, state, None).audio.volume == pytest.approx(0.6)


def test_staff_leaves_the_kiosk_only_with_a_long_press(station):
    cfg, state, scenario = station
    after_tap: list[str] = []
    still: list[bool] = []
    steps = [screen("idle"), hold("admin"), screen("pin"), tap("pin_role", "staff"),
             *type_pin(STAFF_PIN), screen("staff"),
             tap("exit_kiosk"),                               # a tap is not enough:
             wait(lambda v: after_tap.append(v.screen) or len(after_tap) >= 10, 30,
                  "ten frames after the tap"),
             call(lambda: still.append(True), "still running after the tap"),
             hold("exit_kiosk")]
    hand = Hand(steps, fps=cfg.display.fps, linger=120)
    _, stats = run(cfg, state, scenario, hand)
    assert hand.failed is None, hand.failed
    assert still and set(after_tap) == {"staff"}, after_tap  # the short tap left nobody out
    assert stats.ended == "exit requested"


def test_a_touch_storm_leaves_the_kiosk_responsive_and_consistent(station):
    """Thousands of random taps, holds and drags with up to five fingers, across the athlete's
    and the coach's screens; afterwards the kiosk still answers a plain tap and the stored
    roster and programs load and agree with the kiosk's."""
    cfg, state, scenario = station
    roster = Roster.load(state)
    for i in range(6):
        roster.add(f"a{i}", f"Athlete {i}")
    roster.save()
    storm = Storm((800, 480), frames=900, per_frame=6, seed=7)
    enter = Hand([screen("idle"), hold("admin"), screen("pin"), *type_pin(COACH_PIN),
                  screen("coach")], fps=cfg.display.fps, linger=0)
    probe: dict[str, object] = {}

    def on_frame(stats, view):
        if "storm" not in probe:
            if enter(stats, view):
                assert enter.failed is None, enter.failed
                probe["storm"] = stats.frames
            return False
        if "calm" not in probe:
            if storm(stats, view):
                probe["calm"] = stats.frames
            return False
        if stats.frames < probe["calm"] + 10:  # let the last releases land
            return False
        if "tapped" not in probe:
            button = next((b for b in enter.renderer.buttons(view)
                           if b.command is not None and not b.hold_s), None)
            assert button is not None, f"no button on the {view.screen} screen"
            probe["tapped"] = (button.command, len(stats.commands), view.screen)
            pygame.event.post(finger_event(pygame.FINGERDOWN, button.rect.center, (800, 480)))
            pygame.event.post(finger_event(pygame.FINGERUP, button.rect.center, (800, 480)))
            return False
        return True

    session, stats = run(cfg, state, scenario, _Sized(on_frame, (800, 480)))
    assert storm.posted >= 5000
    assert stats.failsafes == 0
    command, before, where = probe["tapped"]
    assert command in stats.commands[before:], f"a tap on {command} ({where}) was not answered"
    assert session.kiosk.view().screen in SCREENS
    stored = Roster.load(state)
    assert sorted(a.id for a in stored.athletes()) == sorted(a.id for a in session.kiosk.roster)
    ProgramBook.load(state, profiles=session.kiosk.profiles)
    PinStore(state).is_set("coach")


class _Sized:
    """An on_frame hook with a panel size (what :func:`run` reads from a Hand)."""

    def __init__(self, fn, size):
        self.fn, self.size = fn, size

    def __call__(self, stats, view):
        return self.fn(stats, view)

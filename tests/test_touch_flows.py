"""The coach's and staff's flows, start to finish, driven by finger events on the real kiosk.

Everything is the real station: the simulated plate with a scripted athlete, the sampler, the
analysis, the kiosk with its coach and staff screens, the usage log writer, the renderer and the
display loop (headless, on the plate's virtual clock). Only fingers are simulated: SDL
``FINGERDOWN``/``FINGERUP`` events posted at the centre of the buttons the renderer drew.
"""

from __future__ import annotations

import json
import os
import sqlite3
import textwrap
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import datetime

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pytest  # noqa: E402
from touch import (  # noqa: E402
    ANY,
    Hand,
    Script,
    Storm,
    call,
    hold,
    play,
    screen,
    tap,
    tap_text,
    type_pin,
    wait,
)

from drivers.calibration import Calibration  # noqa: E402
from station import kiosk_run  # noqa: E402
from station.config import load_config  # noqa: E402
from station.kiosk_run import demo_session, run_session  # noqa: E402
from station.paths import calibration_file  # noqa: E402
from station.pins import ROLES, PinStore, pins_file  # noqa: E402
from station.programs import SETTINGS, Program, ProgramBook, programs_file  # noqa: E402
from station.roster import Roster, roster_file  # noqa: E402
from station.staff import EXPORT_HEADER, StaffDesk  # noqa: E402
from station.usage_schema import database_file  # noqa: E402
from station.view import ADMIN_SCREENS, ViewState  # noqa: E402

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


def run(cfg, state, scenario, hand, session=None):
    session = session or demo_session(cfg, headless=True, scenario=str(scenario))
    stats, _ = run_session(session, cfg, state, fullscreen=False, headless=True,
                           size=hand.size, on_frame=hand)
    return session, stats


def written(kiosk) -> bool:
    """Wait until the kiosk's usage log has committed what it recorded so far; True when it has.

    Its writer thread commits every ``commit_interval_s`` of real time, while a headless kiosk
    runs on plate time as fast as the machine can: without this, what a screen reads back from
    the log (the staff's export) depends on how far a slow or busy disk got, not on the kiosk.
    The deadline only bounds a hang."""
    return kiosk.log.log.flush(60.0)


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
    session = demo_session(cfg, headless=True, scenario=str(scenario))
    notes: list[str] = []
    flushed: list[bool] = []
    steps = [
        screen("summary", frames=60 * 60),   # the athlete trains first: there is usage to export
        tap("home"),
        call(lambda: flushed.append(written(session.kiosk)), "the usage log written"),
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
    _, stats = run(cfg, state, scenario, hand, session)
    assert hand.failed is None, hand.failed
    assert flushed == [True]
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



# ------------------------------------------------------------------------------- the storm
#: GYM_STATION_STORM=N: 5N seeds (:data:`STORM_SEEDS`), the coach's and staff's storms N times
#: as long; the default, 1, runs two seeds in well under a minute.
STORM_SCALE = max(1, int(os.environ.get("GYM_STATION_STORM") or 1))
SIZE = (800, 480)
FPS = 60
ATHLETE_STORM_FRAMES = 1500                    # 25 s, while the athlete does a set of 6
COACH_STORM_FRAMES = 3600 * STORM_SCALE        # a minute in the coach's screens
STAFF_STORM_FRAMES = 1200 * STORM_SCALE
#: The athlete's first set ends near 37 s; the PIN pad's storm and lockout end near 95 s, the
#: coach's and staff's storms 80 s (times GYM_STATION_STORM) later and the scripted taps a few
#: seconds after: the athlete is back some 30 s after that.
AWAY_S = 100 + (COACH_STORM_FRAMES + STAFF_STORM_FRAMES) // FPS
COACH_SCREENS = frozenset({"coach", "program", "athletes", "athlete", "history", "keyboard"})
STAFF_SCREENS = frozenset({"staff", "calibrate"})
HIP_THRUST = "single_leg_hip_thrust"

STORM_ATHLETE = textwrap.dedent(f"""\
    name = "storm_athlete"
    description = "A set of 6 under the athlete screens' storm; away; back for a set of 3"
    [athlete]
    mass_kg = 75
    side = "left"
    [[steps]]
    kind = "rest"
    duration_s = 1
    [[steps]]
    kind = "step_on"
    [[steps]]
    kind = "settle"
    duration_s = 1.5
    [[steps]]
    kind = "rep"
    count = 6
    hold_s = 1.2
    [[steps]]
    kind = "step_off"
    [[steps]]
    kind = "rest"
    duration_s = {AWAY_S}
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
    duration_s = 30
    """)


@pytest.fixture
def eye(monkeypatch):
    """The renderer the kiosk's loop draws with, so the fingers see each list's page and the
    keyboard's shift as the panel shows them (a renderer of their own would not)."""
    import display.render

    made = []
    real = display.render.Renderer

    def build(size):
        made.append(real(size))
        return made[-1]

    monkeypatch.setattr(display.render, "Renderer", build)
    return lambda: made[-1]


@pytest.fixture
def stick(tmp_path, monkeypatch):
    """A USB stick in the staff desk's view (the storm exports to it, never to a real one)."""
    stick = tmp_path / "media" / "pi" / "STORM"
    stick.mkdir(parents=True)
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 {stick} vfat rw,relatime 0 0\n")

    def desk(cfg, state, kiosk, reload_plate=None):
        return StaffDesk.for_station(cfg, state, reload_plate, events=kiosk_run._KioskEvents(
            kiosk), mounts_file=mounts, media_roots=(tmp_path / "media",))

    monkeypatch.setattr(kiosk_run, "staff_desk", desk)
    return stick


def _spare_ways_out(view: ViewState, button) -> bool:
    """The buttons that leave the screens a storm is in: Lock, and Back at the top of a role's
    screens or on the PIN pad (Back further down stays inside)."""
    kind = button.command.kind if button.command is not None else None
    return kind == "lock" or (kind == "back" and view.screen in ("pin", "coach", "staff"))


class _StormRun:
    """The storm's phases on one kiosk, played by a :class:`Script` one frame at a time, and
    what each phase saw: frames by screen, the commands that landed, the storms themselves."""

    def __init__(self, session, eye, seed: int):
        self.kiosk = session.kiosk
        self.eye = eye
        self.seed = seed
        self.phase = "start"
        self.frames: dict[str, Counter] = defaultdict(Counter)   # phase -> screen -> frames
        self.landed: dict[str, Counter] = defaultdict(Counter)   # phase -> command kinds
        self._commands_seen = 0     # stats.commands.total already counted (it keeps the last few)
        self.storms: dict[str, Storm] = {}
        self.entries: Counter = Counter()                        # PIN re-entries by phase
        self.seen: dict[str, object] = {}
        self.exit_seen: list[str] = []
        self.stats = None
        self.script = Script(self.play, SIZE)

    # -- the hook ------------------------------------------------------------------------------
    def __call__(self, stats, view) -> bool:
        self.stats = stats
        self._count_commands()
        if view is not None:
            self.frames[self.phase][view.screen] += 1
            if view.exit_requested:
                self.exit_seen.append(self.phase)
        return self.script(stats, view)

    def _count_commands(self) -> None:
        """The commands that landed since the last frame, to the phase they landed in (the run's
        stats keep only the newest commands, and a frame brings far fewer than that)."""
        commands = self.stats.commands
        new = commands.total - self._commands_seen
        assert new <= len(commands), "more commands in a frame than the stats keep"
        for c in (commands[len(commands) - new:] if new else ()):
            self.landed[self.phase][c.kind] += 1
        self._commands_seen = commands.total

    def begin(self, phase: str) -> None:
        if self.stats is not None:
            self._count_commands()
        self.phase = phase

    def commands(self, phase: str) -> Counter:
        return self.landed[phase]

    def share(self, phase: str, screens) -> float:
        frames = self.frames[phase]
        return sum(n for s, n in frames.items() if s in screens) / sum(frames.values())

    # -- moves ---------------------------------------------------------------------------------
    def hand(self, steps):
        hand = Hand(steps, SIZE, FPS, linger=0, eye=self.eye)
        last = yield from play(hand)
        assert hand.failed is None, f"{self.phase}: {hand.failed}"
        return last

    def to_idle(self):
        """Back to the idle screen from wherever a storm left the kiosk: out of the calibration,
        lock the coach's or staff's screens, end a set, leave the summary."""
        for _ in range(20):
            stats, view = yield
            if view.screen == "idle":
                return
            kinds = {b.command.kind for b in self.eye().buttons(view) if b.command is not None}
            kind = next((k for k in ("lock", "end_set", "home", "back") if k in kinds), None)
            assert kind is not None, f"{self.phase}: no way from {view.screen} to idle"
            yield from self.hand([tap(kind)])
        raise AssertionError(f"{self.phase}: the kiosk did not get back to idle")

    def enter(self, role: str):
        """The PIN pad with a long press, the role's PIN once its lockout (if any) is over."""
        self.entries[self.phase] += 1
        yield from self.to_idle()
        pin = COACH_PIN if role == "coach" else STAFF_PIN

        def open_for_role(v):
            return v.admin is not None and v.admin.pin is not None and \
                v.admin.pin.role == role and v.admin.pin.locked_s == 0

        yield from self.hand([hold("admin"), screen("pin"), tap("pin_role", role),
                              wait(open_for_role, FPS * 70, f"the {role} PIN pad unlocked"),
                              *type_pin(pin), screen(role)])

    # -- the phases ----------------------------------------------------------------------------
    def play(self):
        yield
        yield from self.hand([screen("idle")])
        yield from self.athlete_storm()
        yield from self.pin_storm()
        yield from self.coach_storm()
        yield from self.staff_storm()
        yield from self.afterwards()

    def athlete_storm(self):
        """Anything goes on the athlete's screens while the athlete trains; a long press that
        opens the PIN pad is backed out of."""
        self.begin("athlete")
        storm = self.storms["athlete"] = Storm(SIZE, seed=self.seed, touches=1.2, aim=0.6,
                                               long_share=0.05, eye=self.eye)
        for _ in range(ATHLETE_STORM_FRAMES):
            stats, view = yield
            if view.screen in ADMIN_SCREENS:
                storm.release()
                self.seen["pad_opened"] = self.seen.get("pad_opened", 0) + 1
                yield from self.hand([tap("back" if view.screen == "pin" else "lock")])
                continue
            storm.step(view)
        storm.release()

    def pin_storm(self):
        """Random digits, OK, delete and role on the PIN pad until the coach's role locks; the
        storm goes on through the lockout (with the right PIN typed now and then: refused),
        and once it is over the right PIN opens the coach's screens."""
        self.begin("pin")
        pins = self.kiosk.admin.pins
        yield from self.to_idle()
        yield from self.hand([hold("admin"), screen("pin")])
        storm = self.storms["pin"] = Storm(SIZE, seed=self.seed + 1, touches=0.7, aim=0.85,
                                           spare=_spare_ways_out, eye=self.eye)
        locked_at = None
        refused = []
        for _ in range(FPS * 200):  # the role locks within a minute of storm; a minute locked
            stats, view = yield
            if view.screen in COACH_SCREENS:
                assert locked_at is None, "the coach's screens opened during the lockout"
            if view.screen != "pin":  # a role's screen by a fluke of digits: back to the pad
                storm.release()
                yield from self.to_idle()
                yield from self.hand([hold("admin"), screen("pin")])
                continue
            left = pins.locked_for("coach")
            if locked_at is None and left > 0:
                locked_at = self.kiosk.now
                self.seen["touches_to_lock"] = sum(storm.kinds.values())
            if locked_at is not None:
                if left == 0:
                    break  # the lockout is over
                if view.admin.pin.role == "coach":
                    assert view.admin.pin.locked_s > 0, "the pad does not show the lockout"
                if left > 10 and self.kiosk.now - locked_at > 10 * (len(refused) + 1):
                    storm.release()  # the coach types the right PIN on the dim keys: nothing
                    _, view = yield from self.hand([
                        tap("pin_role", "coach"), *(tap_text(d) for d in COACH_PIN),
                        tap_text("OK"), wait(lambda v: True)])
                    assert view.screen == "pin", view.screen
                    assert view.admin.pin.locked_s > 0 and view.admin.pin.typed == 0
                    refused.append(self.kiosk.now)
                    continue
            storm.step(view)
        else:
            raise AssertionError(f"the coach's role did not lock, or did not unlock (locked at "
                                 f"{locked_at}, now {self.kiosk.now:.1f})")
        storm.release()
        self.seen["lockout"] = (locked_at, self.kiosk.now)
        self.seen["touches_in_lockout"] = sum(storm.kinds.values()) - \
            self.seen["touches_to_lock"]
        self.seen["refused"] = refused
        yield from self.hand([tap("pin_role", "coach"), *type_pin(COACH_PIN), screen("coach")])

    def coach_storm(self):
        """Most frames in the coach's screens: programs, the editor, the roster, the keyboard,
        history; whenever the storm leaves (Lock now and then), the coach comes back in."""
        self.begin("coach")
        storm = self.storms["coach"] = Storm(
            SIZE, seed=self.seed + 2, touches=1.0, aim=0.7, long_share=0.05, drag_share=0.2,
            spare=_spare_ways_out, stray=0.003, eye=self.eye)
        while sum(self.frames["coach"].values()) < COACH_STORM_FRAMES:
            stats, view = yield
            if view.screen not in COACH_SCREENS:
                storm.release()
                yield from self.enter("coach")
                continue
            storm.step(view)
        storm.release()

    def staff_storm(self):
        """Short taps and drags only in the staff's screens, many on Hold to leave: the kiosk
        must stay. The athlete's set is in the usage log first, so its exports have rows to
        write whatever pace the log's writer kept."""
        self.begin("to staff")
        assert written(self.kiosk), "the usage log did not commit the athlete's set"
        yield from self.enter("staff")
        self.begin("staff")
        storm = self.storms["staff"] = Storm(
            SIZE, seed=self.seed + 3, touches=1.0, aim=0.7, drag_share=0.2, long_presses=False,
            spare=_spare_ways_out, stray=0.003, eye=self.eye)
        while sum(self.frames["staff"].values()) < STAFF_STORM_FRAMES:
            stats, view = yield
            assert not view.exit_requested, "short taps left the kiosk"
            if view.screen not in STAFF_SCREENS:
                storm.release()
                yield from self.enter("staff")
                continue
            storm.step(view)
        storm.release()

    def afterwards(self):
        """A plain scripted sequence: the coach puts the exercises' own targets back for the
        station, then a guest picks the hip thrust on the left; the athlete comes back and
        does a set of 3, which counts."""
        self.begin("after")
        yield from self.enter("coach")

        def station_uses_exercise_targets(v):
            return any(i.id == "exercise_targets" and i.selected for i in v.admin.items)

        def guest_hip_thrust_left(v):
            return v.athlete is None and v.exercise_id == HIP_THRUST and v.side == "left"

        _, view = yield from self.hand([
            tap("station_program", ""),
            wait(station_uses_exercise_targets, 30, "the exercises' targets for the station"),
            tap("lock"), screen("idle"), tap("button_press"), screen("ready"), tap("guest"),
            tap("choose_exercise", HIP_THRUST), tap("choose_side", "left"),
            wait(guest_hip_thrust_left, 30, "a guest's hip thrust, left")])
        assert view.live.phase == "off", "the athlete was back before the scripted taps: " \
                                         "raise AWAY_S"
        self.seen["ready_at"] = self.kiosk.now

        def summary(v):
            if v.screen == "summary" and v.summary is not None:
                self.seen["summary"] = v.summary
                return True
            return False

        yield from self.hand([screen("live", FPS * (AWAY_S + 60)),
                              wait(summary, FPS * 60, "the set's summary")])


def _assert_state_consistent(state, kiosk, pins_before: bytes) -> None:
    """What is on disk parses, is within bounds and is what the kiosk runs with."""
    admin = kiosk.admin
    # roster.json: parses, and is the roster the coach's screens and the kiosk hold
    raw_roster = json.loads(roster_file(state).read_text(encoding="utf-8"))
    stored = Roster.load(state)
    assert [asdict(e) for e in stored] == raw_roster["athletes"]
    assert list(stored) == list(admin.roster)
    assert [(a.id, a.name, a.badge) for a in kiosk.roster] == \
        [(e.id, e.name, e.badge) for e in stored]
    # programs.json: parses; every value within its setting's bounds and on its step (the
    # product's own checks), every exercise one the station has; what the kiosk holds
    raw_programs = json.loads(programs_file(state).read_text(encoding="utf-8"))
    for p in raw_programs["programs"]:
        for key, setting in SETTINGS.items():
            setting.check(p[key], key)
        Program(**p)
    book = ProgramBook.load(state, profiles=kiosk.profiles)
    assert list(book) == list(admin.book)
    assert book.station_program == admin.book.station_program
    # every athlete's program exists
    dangling = {e.id: e.program for e in stored
                if e.program is not None and e.program not in book}
    assert not dangling, dangling
    # pins.json: the storm set no PIN (both were set), so not a byte changed
    assert pins_file(state).read_bytes() == pins_before
    # a calibration the staff's taps saved (a tare) loads
    if calibration_file(state).exists():
        Calibration.load(calibration_file(state))


def _events(state, kind: str) -> list[tuple[str, dict]]:
    db = sqlite3.connect(database_file(state))
    try:
        rows = db.execute("SELECT at, detail FROM events WHERE kind = ? ORDER BY seq",
                          (kind,)).fetchall()
    finally:
        db.close()
    return [(at, json.loads(detail)) for at, detail in rows]


def _assert_usage_log_sound(state) -> None:
    """The usage log passes SQLite's integrity check; every coach change names its role and
    when; every PIN failure names its role and count, never the digits."""
    db = sqlite3.connect(database_file(state))
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()
    for at, d in _events(state, "coach_change"):
        assert d.get("role") in ROLES, d
        assert datetime.fromisoformat(d["at"]) and datetime.fromisoformat(at), d
    for _, d in _events(state, "pin_failure"):
        assert set(d) == {"role", "tries", "locked_for_s"} and d["role"] in ROLES, d


#: The default run: two seeds; GYM_STATION_STORM=N: 5N seeds, each storm N times as long.
STORM_SEEDS = (7, 11) if STORM_SCALE == 1 else tuple(range(1, 5 * STORM_SCALE + 1))


@pytest.mark.parametrize("seed", STORM_SEEDS)
def test_a_touch_storm_leaves_the_kiosk_responsive_and_consistent(station, eye, stick, seed):
    """Thousands of random taps, long presses and drags with up to five fingers: on the
    athlete's screens while a set is done, on the PIN pad (the lockout engages and holds), in
    the coach's screens (the coach re-enters whenever the storm leaves) and in the staff's
    (short taps never leave the kiosk). Afterwards what is stored is sound and is what the
    kiosk runs with, and the kiosk still does what a plain sequence of taps asks."""
    cfg, state, scenario = station
    scenario.write_text(STORM_ATHLETE)
    roster = Roster.load(state)
    for i in range(6):
        roster.add(f"a{i}", f"Athlete {i}", badge=f"10{i}")
    roster.save()
    roster_before = list(roster)
    pins_before = pins_file(state).read_bytes()
    session = demo_session(cfg, headless=True, scenario=str(scenario))
    run = _StormRun(session, eye, seed)
    stats, _ = run_session(session, cfg, state, fullscreen=False, headless=True, size=SIZE,
                           on_frame=run)
    assert run.script.done, f"the run ended ({stats.ended}) in the {run.phase} phase"
    assert stats.failsafes == 0
    assert not run.exit_seen and stats.ended == "on_frame"
    storms = run.storms
    assert sum(sum(s.kinds.values()) for s in storms.values()) >= 3000  # touches
    assert sum(s.kinds["drag"] for s in storms.values()) >= 500
    assert max(s.most_down for s in storms.values()) >= 4  # several fingers at once
    # the athlete's screens: the athlete's commands landed, most of their kinds
    landed = run.commands("athlete")
    assert len({"start_set", "end_set", "next", "home", "guest", "choose_athlete",
                "choose_exercise", "choose_side", "button_press"} & set(landed)) >= 7, landed
    # the PIN pad: wrong tries locked the coach out for the whole minute of storm, the right
    # PIN typed during it opened nothing, and after it the right PIN opened the coach's screens
    locked_at, over_at = run.seen["lockout"]
    assert over_at - locked_at == pytest.approx(60.0, abs=0.1)  # "for a minute" (README)
    assert len(run.seen["refused"]) >= 3 and run.seen["touches_in_lockout"] >= 500
    failures = [d for _, d in _events(state, "pin_failure") if d["role"] == "coach"]
    assert len(failures) >= 5 and any(d["locked_for_s"] > 0 for d in failures)
    assert run.commands("pin")["pin_digit"] >= 20
    # the coach's screens: most frames there, and edits of every kind landed
    assert run.share("coach", COACH_SCREENS) >= 0.6, run.frames["coach"]
    coach = run.commands("coach")
    for kind, least in (("setting_up", 20), ("setting_down", 20), ("kb_key", 100),
                        ("open", 20), ("save", 3), ("kb_ok", 5), ("rename", 5),
                        ("station_program", 3), ("assign", 1), ("set_badge", 1),
                        ("new_athlete", 1), ("delete", 1)):
        assert coach[kind] >= least, (kind, coach)
    assert run.entries["coach"] >= 1  # the storm left, and the coach came back in
    # the staff's screens: most frames there; many short taps on Hold to leave, none left
    assert run.share("staff", STAFF_SCREENS) >= 0.6, run.frames["staff"]
    assert storms["staff"].touched["exit_kiosk"] >= 20
    staff = run.commands("staff")
    assert "exit_kiosk" not in staff
    for kind in ("tare", "calibrate", "cal_take", "export_usb", "volume_up", "mute"):
        assert staff[kind] >= 3, (kind, staff)
    # the scripted taps afterwards did what they asked, and the set counted its 3 reps
    summary = run.seen["summary"]
    assert summary.reps == 3 and len(summary.bars) == 3
    # what is stored is sound, changed by the storm, and is what the kiosk runs with
    kiosk = session.kiosk
    _assert_state_consistent(state, kiosk, pins_before)
    assert list(kiosk.admin.roster) != roster_before   # the storm's roster edits are there
    assert kiosk.admin.book.station_program is None   # the scripted taps' choice
    _assert_usage_log_sound(state)
    changes = [d for _, d in _events(state, "coach_change")]
    assert len(changes) >= 10 and "create" in {d["action"] for d in changes}
    assert StaffDesk.for_station(cfg, state, None).audio == kiosk.admin.desk.audio
    exported = list(stick.iterdir())
    assert exported and not [p for p in exported if p.name.startswith(".")], exported
    for path in exported:
        assert path.read_text().splitlines()[0].split(",") == EXPORT_HEADER


def test_a_deleted_program_is_no_athletes_program(station):
    """The coach gives an athlete a program, then deletes the program: the athlete is assigned
    to no program that does not exist (the station's applies), on disk too."""
    cfg, state, scenario = station
    roster = Roster.load(state)
    roster.add("a0", "Athlete 0")
    roster.save()
    steps = [screen("idle"), hold("admin"), screen("pin"), *type_pin(COACH_PIN),
             screen("coach"), tap("open", "new_program"), screen("program"), tap("save"),
             wait(lambda v: v.admin.program.program_id is not None, 60, "saved"),
             tap("back"), screen("coach"), tap("open", "athletes"), screen("athletes"),
             tap("open", "athlete:a0"), screen("athlete"), tap("assign"),
             wait(lambda v: v.admin.athlete[3] == "New program", 60, "assigned"),
             tap("back"), screen("athletes"), tap("back"), screen("coach"),
             tap("open", ANY), screen("program"), hold("delete"), screen("coach"),
             tap("lock"), screen("idle")]
    hand = Hand(steps, fps=cfg.display.fps)
    run(cfg, state, scenario, hand)
    assert hand.failed is None, hand.failed
    assert len(ProgramBook.load(state)) == 0
    assert Roster.load(state).get("a0").program is None

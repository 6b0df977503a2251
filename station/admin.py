"""The coach's and the staff's screens behind the PIN pad: programs, athletes, history, staff desk.

:class:`Admin` is the state machine of the screens in :data:`station.view.ADMIN_SCREENS`. The
kiosk hands it every admin command (and, while one of its screens shows, a scanned badge), the
samples of every frame and the sampler's status; :meth:`Admin.view` is the :class:`AdminView`
the display draws. No pygame, no wall clock: the two-minute lock and the PIN lockout count the
kiosk's plate time (the PinStore's clock returns ``kiosk.now``).

- ``admin`` (idle or ready screen only, never mid-set) opens the PIN pad for a role; a role
  without a PIN yet (first start) chooses one and types it again. The digits live only in the
  pad's buffer, cleared on every outcome.
- The coach's screens: the programs (``coach``), the program editor (``program``: every setting
  moves by its step within its bounds), the roster (``athletes``, ``athlete:<id>``), an
  athlete's history (``history:<id>``, read once from the usage log when it opens) and the
  on-screen keyboard. Every change is stored at once (programs on ``save``); a change that
  cannot be stored leaves the old one in force and says why in the note.
- The staff's screens (``staff``, ``calibrate``) belong to the staff desk
  (:class:`station.staff.StaffDesk`); this class opens them after the staff PIN and routes
  their commands.
- ``back`` goes one screen up; ``lock``, ``home`` or two minutes of plate time without a
  command go back to the idle screen. A role reaches only its own screens.

What the coach stores reaches the kiosk through :func:`apply_programs` (targets per exercise
for the station and per athlete, the programs' exercises, the roster), at the next set. The
roster and the programs follow their files: changed at the console (`gym-station roster
import`) while the kiosk runs, they are read again (a look a second, in :meth:`Admin.tick`, and
before every edit) and handed to the kiosk, and an edit is made on the file as it is now.
Every roster edit is recorded like a program change (``coach_change``: role, when, old -> new;
a badge only as set or not).
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import roster as roster_mod
from .errors import GymStationError, PinError, ProgramError, RosterError
from .pins import LOCKOUT_S, MAX_TRIES, PIN_MAX_DIGITS, ROLES, PinStore, validate_pin
from .programs import NAME_MAX as PROGRAM_NAME_MAX
from .programs import SETTINGS, SIDE_CHOICES, Program, ProgramBook, Setting, to_targets
from .roster import Roster, RosterEntry
from .usage_schema import connect, database_file
from .view import (
    AdminView,
    AudioView,
    FaultView,
    HistoryView,
    KeyboardView,
    ListItem,
    PinView,
    ProgramView,
    SessionRow,
    SettingRow,
    UICommand,
)

log = logging.getLogger(__name__)

#: Seconds of plate time without a command after which an admin screen locks (back to idle).
IDLE_LOCK_S = 120.0
#: Sessions on the history screen (newest first) and points of its trend.
HISTORY_SESSIONS = 10
#: Commands that belong to the staff desk.
STAFF_COMMANDS = ("tare", "calibrate", "cal_take", "cal_cancel", "export_usb", "volume_down",
                  "volume_up", "mute", "exit_kiosk")
#: The role each screen belongs to (the PIN pad and the keyboard: whoever is there).
SCREEN_ROLE = {"coach": "coach", "program": "coach", "athletes": "coach", "athlete": "coach",
               "history": "coach", "staff": "staff", "calibrate": "staff"}
#: Where each role starts once its PIN is typed.
HOME = {"coach": "coach", "staff": "staff"}
#: The PIN pad's answer while pins.json is damaged (the details go to the journal).
DAMAGED_PINS = ("The PIN file is damaged: staff must set the PINs again at the console "
                "(gym-station pin set coach / staff)")


# ---------------------------------------------------------------------------- the kiosk's side

def apply_programs(kiosk, roster: Roster, book: ProgramBook) -> list[tuple[str, str, str]]:
    """Give the kiosk the roster and the coach's programs: the station's program for everyone,
    each athlete's own for them (targets and exercise). Takes effect at the next set.

    Returns (athlete id, program id, why) for each athlete whose own program cannot be used
    (gone, or its exercise gone from exercises.toml): the station's program applies to them."""
    targets, exercises = {}, {}
    fallbacks = []
    station = book.program_for(None)
    if station is not None:
        targets[station.exercise] = to_targets(station)
        exercises[""] = station.exercise
    for entry in roster:
        if entry.program is not None and entry.program not in book:
            why = book.unusable(entry.program) or "there is no such program"
            fallbacks.append((entry.id, entry.program, why))
        program = book.program_for(entry.program)
        if program is not None and program is not station:
            targets[f"{entry.id}:{program.exercise}"] = to_targets(program)
            exercises[entry.id] = program.exercise
    kiosk.roster = roster.athletes()
    kiosk.coach_targets = targets
    kiosk.coach_exercise = exercises
    kiosk.refresh()
    return fallbacks


# --------------------------------------------------------------------------------- history

_HISTORY_SQL = """
SELECT s.id, s.day, s.exercise,
       (SELECT COUNT(*) FROM sets st WHERE st.session_id = s.id),
       COUNT(r.id), COALESCE(SUM(r.good), 0), AVG(r.heel_share), AVG(r.hold_s)
FROM sessions s
LEFT JOIN reps r ON r.session_id = s.id
WHERE s.athlete_id = ?
GROUP BY s.id, s.day, s.exercise, s.started_at, s.seq
ORDER BY s.started_at DESC, s.seq DESC
LIMIT ?
"""


def read_history(db: Path, athlete_id: str, names: dict[str, str] | None = None,
                 limit: int = HISTORY_SESSIONS) -> tuple[tuple[SessionRow, ...], str | None]:
    """An athlete's last ``limit`` sessions from the usage log, newest first, and a note when
    the log cannot be read (missing, locked, damaged): never an exception. ``names`` maps
    exercise ids to the names shown. The database is opened read-only."""
    names = names or {}
    if not Path(db).exists():
        return (), "No sessions logged yet on this station"
    try:
        conn = connect(Path(db), readonly=True)
        try:
            raw = conn.execute(_HISTORY_SQL, (athlete_id, int(limit))).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as e:
        log.warning("history of %s: the usage log cannot be read: %s", athlete_id, e)
        return (), f"The usage log cannot be read just now ({e}): try again in a moment"
    rows = tuple(SessionRow(day=day, exercise=names.get(exercise, exercise), sets=int(sets),
                            reps=int(reps), good_reps=int(good),
                            heel_share=None if share is None else float(share),
                            hold_s=None if hold is None else float(hold))
                 for _sid, day, exercise, sets, reps, good, share, hold in raw)
    return rows, None


def _trend(rows: Sequence[SessionRow], attr: str) -> np.ndarray:
    """One point a session, oldest first; NaN where the session has no value."""
    values = [getattr(r, attr) for r in reversed(rows)]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# ------------------------------------------------------------------------ editing state

@dataclass
class _Draft:
    """The program on the editor: what the coach has set so far, and what is stored."""

    program_id: str | None        #: None: new, not saved yet
    name: str
    exercise: str
    values: dict
    stored: tuple | None = None   #: (name, exercise, values) as stored; None: never saved

    def snapshot(self) -> tuple:
        return self.name, self.exercise, dict(self.values)

    @property
    def changed(self) -> bool:
        return self.stored is None or self.snapshot() != self.stored


@dataclass
class _Keyboard:
    """The on-screen keyboard and what its text is for."""

    purpose: str                  #: athlete_name, new_athlete, badge, program_name
    title: str
    max_len: int
    digits: bool
    back_to: tuple[str, str | None]
    target: str | None = None     #: the athlete id for athlete_name and badge
    text: str = ""
    error: str | None = None

    def view(self) -> KeyboardView:
        return KeyboardView(self.title, self.text, self.max_len, self.digits, self.error)


@dataclass
class _Pad:
    """The PIN pad. ``chosen`` holds a new PIN between choosing and confirming it, nothing more."""

    role: str = "coach"
    stage: str = "enter"
    digits: list[str] = field(default_factory=list)
    chosen: str | None = None
    error: str | None = None
    #: first start: the role to open once both PINs are chosen (the one that was tapped)
    then: str | None = None

    def clear(self) -> None:
        self.digits.clear()


def other_role(role: str) -> str:
    """The other of the two roles (coach <-> staff)."""
    return next(r for r in ROLES if r != role)


def _sentence(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    return text[0].upper() + text[1:]


def _badge_record(badge: str) -> str | None:
    """A badge as the usage log records it: whether there is one, never its digits (they open
    an athlete's history to whoever types them)."""
    return "set" if badge else None


def _show_value(key: str, value) -> str:
    if key == "sides":
        return "Both feet" if tuple(value) == ("both",) else \
            " + ".join(s.capitalize() for s in value)
    if key == "share_threshold":
        return f"{round(float(value) * 100)}%"
    if key in ("hold_target_s", "min_lower_s"):
        return f"{float(value):.1f} s"
    return str(value)


def side_choices(exercise_sides: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """The sides a program for an exercise done on ``exercise_sides`` may ask for."""
    both = tuple(exercise_sides) == ("both",)
    return tuple(c for c in SIDE_CHOICES if (c == ("both",)) == both)


class Admin:
    """The coach's and staff's screens for one kiosk (it sets ``kiosk.admin`` to itself).

    ``desk`` is the staff desk (``station.staff.StaffDesk``; None: no staff screens);
    ``usage_db`` the usage log's SQLite file the history screen reads.
    """

    def __init__(self, kiosk, pins: PinStore, roster: Roster, book: ProgramBook, *,
                 desk=None, usage_db: Path | None = None):
        self.kiosk = kiosk
        self.pins = pins
        self.roster = roster
        self.book = book
        self.desk = desk
        self.usage_db = usage_db
        self.role: str | None = None
        self.note: str | None = None
        self._at: tuple[str, str | None] | None = None   # (screen, its id) while shown
        self._pad = _Pad()
        self._draft: _Draft | None = None
        self._kb: _Keyboard | None = None
        self._history: HistoryView | None = None
        self._last_t = 0.0
        self._applied: tuple[int, int] | None = None   # the stores' generations handed over
        self._told: set[tuple[str, str, str]] = set()  # fallbacks already logged
        kiosk.admin = self

    @classmethod
    def for_station(cls, kiosk, state: Path, *, desk=None) -> Admin:
        """The admin of a station: PINs, roster and programs from the state directory; PIN
        failures and coach changes go to the kiosk's usage log (whatever it is at the time).

        Nothing here stops the kiosk: a damaged roster or programs file is kept aside (the
        coach's screens say so), a program whose exercise is gone is kept but not used."""
        def event(kind: str, detail: dict) -> None:
            if kiosk.log is not None:
                kiosk.log.event(kind, detail)

        def plate_time() -> float:
            return kiosk.now

        state = Path(state)
        pins = PinStore(state, clock=plate_time, on_failure=event, damaged_ok=True)
        if pins.damaged:
            log.error("coach and staff screens shut: %s", pins.damaged)
        roster = Roster.load(state, damaged_ok=True, clock=plate_time)
        book = ProgramBook.load(state, damaged_ok=True, clock=plate_time,
                                profiles=kiosk.profiles, on_change=event)
        admin = cls(kiosk, pins, roster, book, desk=desk, usage_db=database_file(state))
        admin.apply()
        return admin

    # -- what the kiosk asks -----------------------------------------------------------------
    @property
    def screen(self) -> str | None:
        """The admin screen shown, or None (the athlete's screens)."""
        if self._at is None:
            return None
        if self._at[0] == "staff" and self.desk is not None:
            return self.desk.page
        return self._at[0]

    @property
    def audio(self) -> AudioView | None:
        return self.desk.audio if self.desk is not None else None

    @property
    def exit_requested(self) -> bool:
        return bool(self.desk.exit_requested) if self.desk is not None else False

    def feed(self, samples) -> None:
        """Every frame: the staff desk's readings, and the lock after two idle minutes."""
        if self.desk is not None:
            self.desk.feed(samples)
        if self._at is not None and self.kiosk.now - self._last_t > IDLE_LOCK_S:
            self.lock("timeout")

    def tick(self, status) -> None:
        """Every frame: the sampler's status for the staff desk, and the roster and programs
        read again when their files changed (a look a second of plate time)."""
        if self.desk is not None:
            self.desk.tick(status)
        self._follow_files()

    def apply(self) -> None:
        """Hand the stored roster and programs to the kiosk (from its next set). An athlete
        whose own program cannot be used gets the station's, logged once."""
        fallbacks = apply_programs(self.kiosk, self.roster, self.book)
        self._applied = (self.roster.generation, self.book.generation)
        for athlete_id, program_id, why in fallbacks:
            if (athlete_id, program_id, why) not in self._told:
                self._told.add((athlete_id, program_id, why))
                log.warning("athlete %s: program %r cannot be used (%s): the station's program "
                            "applies", athlete_id, program_id, why)

    def _follow_files(self, force: bool = False) -> bool:
        """Read the roster and the programs again if their files changed (``force``: look
        now, before an edit; else at most once a second), hand them to the kiosk and leave a
        screen whose athlete is gone. True when something was read again."""
        try:
            self.roster.refresh(force)
            self.book.refresh(force)
        except GymStationError as e:  # stores built without damaged_ok: keep what they hold
            log.error("admin: %s", e)
        if self._applied == (self.roster.generation, self.book.generation):
            return False
        self.apply()
        gone = None
        if self._at is not None and self._at[0] in ("athlete", "history"):
            gone = self._at[1]
        elif self._at is not None and self._at[0] == "keyboard" and self._kb is not None:
            gone = self._kb.target
        if gone is not None and gone not in self.roster:
            self._kb = self._history = None
            self._go("athletes")
            self.note = f"Athlete {gone} is no longer on the roster (changed at the console)"
        return True

    def lock(self, reason: str = "home") -> None:
        """Leave the admin screens: forget the role, the pad and any edit, and show the athlete's
        screen that waited under them. An athlete between sets keeps their session and sets; the
        coach's changes apply from their next set (a set under way goes on as it began)."""
        was_shown = self._at is not None
        self._at = None
        self.role = None
        self._pad = _Pad()
        self._draft = self._kb = self._history = None
        self.note = None
        if was_shown:
            log.info("admin: screens locked (%s)", reason)
            self.kiosk.refresh()

    # -- commands ------------------------------------------------------------------------------
    def handle(self, command: UICommand) -> None:
        kind, value = command.kind, command.value
        if self._at is None:
            if kind == "admin":
                self._open_pad(value)
            else:
                log.debug("admin: %s ignored outside the admin screens", kind)
            return
        self._last_t = self.kiosk.now
        if kind in ("lock", "home"):
            self.lock("home")
        elif kind == "admin":
            return
        elif self._at[0] == "pin":
            self._pin_command(kind, value)
        elif self._at[0] == "keyboard":
            self._keyboard_command(kind, value)
        elif kind == "badge":  # a badge read: it is the shown athlete's new badge
            if self._at[0] == "athlete" and self.role == "coach":
                self._set_badge(self._at[1], (value or "").strip())
        elif kind in STAFF_COMMANDS or (kind == "back" and self.screen == "calibrate"):
            self._staff_command(command)
        elif kind == "back":
            self._back()
        elif kind == "open":
            self._open(value or "")
        elif self.role != "coach":
            self.note = "That is for the coach: lock, then open the coach's PIN pad"
        else:
            self._coach_command(kind, value)

    def _go(self, screen: str, ident: str | None = None) -> None:
        self._at = (screen, ident)

    def _back(self) -> None:
        screen, ident = self._at
        if screen == "program":
            if self._draft is not None and self._draft.changed:
                self.note = "Changes not saved"
            self._draft = None
            self._go("coach")
        elif screen == "athletes":
            self._go("coach")
        elif screen == "athlete":
            self._go("athletes")
        elif screen == "history":
            self._history = None
            if ident in self.roster:
                self._go("athlete", ident)
            else:
                self._go("athletes")
        else:  # the top of a role's screens
            self.lock("home")

    def _open(self, target: str) -> None:
        screen, _, ident = target.partition(":")
        if screen == "new_program":
            screen = "program"
        role = SCREEN_ROLE.get(screen)
        if role is None:
            self.note = f"No screen {target!r}"
            return
        if role != self.role:
            self.note = f"That screen is for the {role}: lock, then type the {role}'s PIN"
            return
        self.note = None
        if screen == "staff":
            self._open_staff()
        elif screen == "calibrate":
            self._staff_command(UICommand("calibrate"))
        elif screen == "coach" or screen == "athletes":
            self._go(screen)
        elif screen == "program":
            self._open_program(None if target == "new_program" else ident or None)
        elif screen == "athlete":
            if ident not in self.roster:
                self.note = f"No athlete {ident!r} on the roster"
                return
            self._go("athlete", ident)
        elif screen == "history":
            ident = ident or (self._at[1] if self._at[0] == "athlete" else "")
            self._open_history(ident)

    # -- the PIN pad ---------------------------------------------------------------------------
    def _open_pad(self, role: str | None) -> None:
        if self.kiosk.screen not in ("idle", "ready"):
            log.debug("admin: the PIN pad does not open mid-set")
            return
        self._reset_pad(role if role in ROLES else "coach")
        self.role = None
        self._last_t = self.kiosk.now
        self._go("pin")

    def _reset_pad(self, role: str, then: str | None = None) -> None:
        """The pad for ``role``: enter its PIN; or, where it has none, choose one. Only the
        very first start lets whoever stands there choose (both PINs, one after the other:
        ``then`` is the role that first start opens at the end);
        once one role has a PIN, the other's is chosen only after that PIN is typed, so an
        athlete cannot claim the staff's screens while only the coach's PIN is set."""
        damaged = getattr(self.pins, "damaged", None)
        if self.pins.is_set(role) or damaged:
            stage = "enter"
        elif self.pins.is_set(other_role(role)) and then is None:
            stage = "authorize"
        else:
            stage = "choose"
        self._pad = _Pad(role=role, stage=stage, then=then)
        self.note = (f"No {role} PIN yet: the {other_role(role)} PIN lets you choose one"
                     if stage == "authorize" else None)
        if damaged:
            self._pad.error = DAMAGED_PINS

    def _pin_command(self, kind: str, value) -> None:
        pad = self._pad
        if kind == "pin_role":
            if value in ROLES:
                self._reset_pad(value)
        elif kind == "pin_digit":
            if isinstance(value, str) and len(value) == 1 and value in "0123456789" \
                    and len(pad.digits) < PIN_MAX_DIGITS \
                    and self.pins.locked_for(self._pad_checks(pad)) <= 0:
                pad.digits.append(value)
                pad.error = None
        elif kind == "pin_back":
            if pad.digits:
                pad.digits.pop()
        elif kind == "pin_ok":
            typed = "".join(pad.digits)
            pad.clear()
            self._pin_ok(typed)
        elif kind == "back":
            self._pad = _Pad()
            self._at = None   # back to the athlete's screen it was opened on
        else:
            log.debug("admin: %s ignored on the PIN pad", kind)

    @staticmethod
    def _pad_checks(pad: _Pad) -> str:
        """The role whose PIN the pad's stage checks (and whose lockout stops it)."""
        return other_role(pad.role) if pad.stage == "authorize" else pad.role

    def _pin_ok(self, typed: str) -> None:
        pad = self._pad
        role = pad.role
        if self.pins.damaged:  # never offer a new PIN to whoever walks up: that is the staff's
            pad.error = DAMAGED_PINS
            return
        if pad.stage in ("enter", "authorize"):
            checked = self._pad_checks(pad)
            locked = self.pins.locked_for(checked)
            if locked > 0:
                pad.error = f"Locked after {MAX_TRIES} wrong tries: wait {locked:.0f} s"
                return
            if self.pins.check(checked, typed):
                if pad.stage == "enter":
                    self._unlocked(role)
                else:  # the other role's holder lets a PIN be chosen for this one
                    pad.stage, pad.error = "choose", None
                    self.note = f"Now choose the {role} PIN"

                return
            left = self.pins.tries_left(checked)
            pad.error = (f"Wrong PIN: {left} {'try' if left == 1 else 'tries'} left" if left
                         else f"Wrong PIN: locked for {LOCKOUT_S:.0f} s")
        elif pad.stage == "choose":
            try:
                validate_pin(typed)
            except PinError as e:
                pad.error = _sentence(e)
                return
            pad.chosen, pad.stage, pad.error = typed, "confirm", None
        else:  # confirm
            chosen, pad.chosen = pad.chosen, None
            pad.stage = "choose"
            if typed != chosen:
                pad.error = "The PINs differ: choose the PIN again"
                return
            try:
                self.pins.set_pin(role, typed)
            except PinError as e:
                pad.error = _sentence(e)
                return
            except OSError as e:
                pad.error = f"The PIN cannot be stored ({e.strerror or e}): ask the staff"
                return
            other = other_role(role)
            if not self.pins.is_set(other):  # first start: the other PIN is chosen now too
                self._reset_pad(other, then=pad.then or role)
                self.note = f"The {role} PIN is set. Now choose the {other} PIN"
                return
            self._unlocked(pad.then or role)
            self.note = f"The {role} PIN is set"

    def _unlocked(self, role: str) -> None:
        self._pad = _Pad()
        self.role = role
        if role == "staff":
            self._open_staff()
        else:
            self._go(HOME[role])

    # -- staff ---------------------------------------------------------------------------------
    def _open_staff(self) -> None:
        self._go("staff")
        if self.desk is None:
            self.note = "The staff screens are not available on this station"
            return
        self.desk.open(self.kiosk.now)

    def _staff_command(self, command: UICommand) -> None:
        if self.role != "staff":
            self.note = "That is for the staff: lock, then type the staff PIN"
            return
        if self.desk is None:
            self.note = "The staff screens are not available on this station"
            return
        note = self.desk.handle(command, self.kiosk.now)
        if note is not None:
            self.note = note

    # -- the coach's commands ------------------------------------------------------------------
    def _coach_command(self, kind: str, value) -> None:
        screen, ident = self._at
        if kind in ("setting_down", "setting_up") and screen == "program":
            self._step(value, +1 if kind == "setting_up" else -1)
        elif kind == "save" and screen == "program":
            self._save()
        elif kind == "station_program":
            self._station_program(value)
        elif kind == "rename" and screen == "program":
            self._keyboard("program_name", "Program name", PROGRAM_NAME_MAX,
                           text=self._draft.name)
        elif kind == "rename" and screen == "athlete":
            self._keyboard("athlete_name", "Athlete's name", roster_mod.NAME_MAX,
                           target=ident, text=self.roster.get(ident).name)
        elif kind == "set_badge" and screen == "athlete":
            self._keyboard("badge", "Badge number", roster_mod.BADGE_MAX, digits=True,
                           target=ident, text=self.roster.get(ident).badge)
        elif kind == "new_athlete":
            self._keyboard("new_athlete", "Athlete's name", roster_mod.NAME_MAX)
        elif kind == "assign" and screen == "athlete":
            self._assign(ident, value)
        elif kind == "delete" and screen == "program":
            self._delete_program()
        elif kind == "delete" and screen == "athlete":
            self._delete_athlete(ident)
        else:
            log.debug("admin: %s ignored on %s", kind, screen)

    # -- programs ------------------------------------------------------------------------------
    def _open_program(self, program_id: str | None) -> None:
        why = None
        if program_id is None:
            profile = self.kiosk.profile
            values = {k: s.clamp(getattr(profile, k)) for k, s in SETTINGS.items()}
            values["sides"] = self._sides_setting(profile.id).clamp(tuple(profile.sides))
            self._draft = _Draft(None, self._new_name(), profile.id, values)
        else:
            try:
                p = self.book.get(program_id, usable=False)
            except ProgramError as e:
                self.note = _sentence(e)
                return
            self._draft = _Draft(p.id, p.name, p.exercise, {k: getattr(p, k) for k in SETTINGS})
            self._draft.stored = self._draft.snapshot()
            why = self.book.unusable(p.id)
        self._go("program", self._draft.program_id)
        if why:
            self.note = f"Not used now: {why}. Choose an exercise and save, or delete it"

    def _new_name(self) -> str:
        names = {p.name for p in self.book}
        n, name = 2, "New program"
        while name in names:
            name, n = f"New program {n}", n + 1
        return name

    def _sides_setting(self, exercise: str) -> Setting:
        profile = self.kiosk.profiles.profiles.get(exercise)
        if profile is None:  # a kept program whose exercise is gone: any sides until chosen
            return SETTINGS["sides"]
        return replace(SETTINGS["sides"], choices=side_choices(profile.sides))

    def _setting(self, key: str) -> Setting:
        return self._sides_setting(self._draft.exercise) if key == "sides" else SETTINGS[key]

    def _step(self, key, direction: int) -> None:
        d = self._draft
        if key == "exercise":
            ids = list(self.kiosk.profiles.profiles)
            i = ids.index(d.exercise) if d.exercise in ids else 0
            exercise = ids[(i + direction) % len(ids)]
            if exercise != d.exercise:
                profile = self.kiosk.profiles.get(exercise)
                d.exercise = exercise
                d.values = {k: s.clamp(getattr(profile, k)) for k, s in SETTINGS.items()}
                d.values["sides"] = self._setting("sides").clamp(tuple(profile.sides))
            return
        if key not in SETTINGS:
            log.debug("admin: no setting %r", key)
            return
        setting = self._setting(key)
        move = setting.step_up if direction > 0 else setting.step_down
        d.values[key] = move(d.values[key])

    def _rows(self) -> tuple[SettingRow, ...]:
        d = self._draft
        profiles = self.kiosk.profiles
        several = len(profiles.profiles) > 1
        profile = profiles.profiles.get(d.exercise)
        shown = profile.name if profile is not None else f"{d.exercise} (gone)"
        movable = several or profile is None
        rows = [SettingRow("exercise", "Exercise", shown, movable, movable, "The exercise this "
                           "program is for; changing it starts from that exercise's own "
                           "targets.")]
        for key in SETTINGS:
            setting, value = self._setting(key), d.values[key]
            rows.append(SettingRow(key, setting.label, _show_value(key, value),
                                   setting.step_down(value) != value,
                                   setting.step_up(value) != value, setting.help))
        return tuple(rows)

    def _save(self) -> None:
        d = self._draft
        role = self.role
        self._follow_files(force=True)
        try:
            if d.program_id is None:  # an id no program had and no athlete points at
                taken = {e.program for e in self.roster if e.program}
                program = Program(self.book.new_id(d.name, taken), d.name, d.exercise,
                                  **d.values)
                self.book.create(program, role)
                d.program_id = program.id
                self._at = ("program", program.id)
            else:
                old = self.book.get(d.program_id, usable=False)
                values = {"name": d.name, "exercise": d.exercise, **d.values}
                changed = {k: v for k, v in values.items() if getattr(old, k) != v}
                if changed or self.book.unusable(d.program_id):  # unusable: say why
                    self.book.update(d.program_id, role, **changed)
        except (ProgramError, OSError) as e:
            self.note = f"Not saved: {_sentence(e) if isinstance(e, ProgramError) else e}"
            return
        d.stored = d.snapshot()
        self.apply()
        self.note = "Saved: it applies from the next set"

    def _station_program(self, value) -> None:
        program_id = value or None
        if program_id is None and value is None and self._draft is not None:
            program_id = self._draft.program_id
            if program_id is None:
                self.note = "Save the program first"
                return
        try:
            change = self.book.set_station_program(program_id, self.role)
        except (ProgramError, OSError) as e:
            self.note = f"Not changed: {e}"
            return
        self.apply()
        if change is not None:
            self.note = ("The exercises' own targets apply to everyone without a program"
                         if program_id is None else
                         f"{self.book.get(program_id).name} is the station's program, "
                         "from the next set")

    def _delete_program(self) -> None:
        d = self._draft
        if d.program_id is not None:
            self._follow_files(force=True)
            try:
                name = self.book.get(d.program_id, usable=False).name
                change = self.book.delete(d.program_id, self.role, roster=self.roster)
            except (ProgramError, RosterError, OSError) as e:
                self.note = f"Not deleted: {e}"
                return
            self.apply()
            n = len(change.changes.get("athletes", ((), ()))[0])
            self.note = f"Deleted {name}" + (
                f": the {n} athletes on it follow the station's program" if n > 1 else
                ": the athlete on it follows the station's program" if n else "")
        self._draft = None
        self._go("coach")

    # -- athletes ------------------------------------------------------------------------------
    def _roster_edit(self, edit: Callable[[], tuple[str, str, dict]]) -> str | None:
        """Make a roster edit on the roster as stored now (read again first if the console
        changed it), store it and record it; None when done, else why not (nothing changed).

        ``edit`` makes the change in memory and returns (action, athlete id, {field: (old,
        new)}) for the record."""
        self._follow_files(force=True)
        before = self.roster.snapshot()
        try:
            action, athlete_id, changes = edit()
        except RosterError as e:
            self.roster.restore(before)
            return _sentence(e)
        try:
            self.roster.save()
        except (OSError, GymStationError) as e:
            self.roster.restore(before)
            self._follow_files(force=True)  # a file changed meanwhile: show what it holds
            return f"Not saved ({e})"
        self.apply()
        changes = {k: (old, new) for k, (old, new) in changes.items() if old != new}
        if changes:
            self.book.record(self.role, action, changes, athlete=athlete_id)
        return None

    def _set_badge(self, athlete_id: str, badge: str) -> str | None:
        """Give the athlete this badge (typed or scanned); why not, if refused (on the keyboard
        it stays as the keyboard's error, on the athlete's screen it is the note)."""
        def edit():
            old = self.roster.get(athlete_id).badge
            self.roster.set_badge(athlete_id, badge)
            return "athlete_badge", athlete_id, {"badge": (_badge_record(old),
                                                           _badge_record(badge))}

        why = self._roster_edit(edit)
        if why is None:
            self._go("athlete", athlete_id)
            self._kb = None
            self.note = f"Badge {badge} set" if badge else "Badge removed"
        elif self._kb is not None:
            self._kb.error = why
        else:
            self.note = why
        return why

    def _assign(self, athlete_id: str, value) -> None:
        if self._follow_files(force=True) and athlete_id not in self.roster:
            return  # gone at the console: the note says so
        if value is None:  # cycle: the station's, then each program
            options = [None, *(p.id for p in self.book)]
            current = self.roster.get(athlete_id).program
            i = options.index(current) if current in options else 0
            program_id = options[(i + 1) % len(options)]
        else:
            program_id = value or None
        try:
            self.book.assign(self.roster, athlete_id, program_id, self.role)
        except (ProgramError, RosterError, OSError) as e:
            self.note = f"Not changed: {e}"
            return
        self.apply()
        self.note = "From the next set: " + self._program_label(program_id)

    def _delete_athlete(self, athlete_id: str) -> None:
        gone: list[RosterEntry] = []

        def edit():
            gone.append(self.roster.delete(athlete_id))
            return "athlete_delete", athlete_id, {"name": (gone[0].name, None)}

        why = self._roster_edit(edit)
        if why is not None:
            self.note = why
            return
        self.note = f"{gone[0].name} is off the roster (their usage log stays)"
        self._go("athletes")

    def _open_history(self, athlete_id: str) -> None:
        if athlete_id not in self.roster:
            self.note = f"No athlete {athlete_id!r} on the roster"
            return
        entry = self.roster.get(athlete_id)
        names = {pid: p.name for pid, p in self.kiosk.profiles.profiles.items()}
        if self.usage_db is None:
            rows, note = (), "This station keeps no usage log"
        else:
            rows, note = read_history(self.usage_db, athlete_id, names)
        program = self.book.program_for(entry.program)
        profile = self.kiosk.profiles.get(program.exercise if program else None)
        plan = profile.with_targets(to_targets(program)) if program else profile
        self._history = HistoryView(
            athlete=entry.name, rows=rows, trend_heel_share=_trend(rows, "heel_share"),
            trend_hold_s=_trend(rows, "hold_s"),
            heel_target=plan.share_threshold if plan.drive_zone == "heel" else None,
            hold_target_s=plan.hold_target_s)
        self.note = note if note else (None if rows else f"No sessions of {entry.name} yet")
        self._go("history", athlete_id)

    # -- the keyboard --------------------------------------------------------------------------
    def _keyboard(self, purpose: str, title: str, max_len: int, *, digits: bool = False,
                  target: str | None = None, text: str = "") -> None:
        self._kb = _Keyboard(purpose, title, max_len, digits, self._at, target, text[:max_len])
        self._go("keyboard")

    def _keyboard_command(self, kind: str, value) -> None:
        kb = self._kb
        if kind == "kb_key":
            if not isinstance(value, str) or len(value) != 1:
                kb.error = "One character at a time"
            elif kb.digits and value not in "0123456789":
                kb.error = "Digits only"
            elif not value.isprintable():
                kb.error = "That character cannot be used"
            elif len(kb.text) >= kb.max_len:
                kb.error = f"At most {kb.max_len} characters"
            else:
                kb.text += value
                kb.error = None
        elif kind == "kb_back":
            kb.text, kb.error = kb.text[:-1], None
        elif kind == "kb_ok":
            kb.error = self._keyboard_ok(kb)
            if kb.error is None and self._at == ("keyboard", None) and self._kb is kb:
                self._kb = None
                self._at = kb.back_to
        elif kind in ("kb_cancel", "back"):
            self._kb = None
            self._at = kb.back_to
        elif kind == "badge" and kb.purpose == "badge":
            self._set_badge(kb.target, (value or "").strip())
        else:
            log.debug("admin: %s ignored on the keyboard", kind)

    def _keyboard_ok(self, kb: _Keyboard) -> str | None:
        """Use the keyboard's text; the reason it cannot be used (the keyboard stays)."""
        text = kb.text.strip()
        if kb.purpose == "program_name":
            if not text:
                return "Type a name"
            d = self._draft
            try:
                Program(d.program_id or "new", text, d.exercise, **d.values)
            except ProgramError as e:
                return _sentence(e)
            d.name = text
            self.note = "Renamed: save to keep it"
            return None
        if kb.purpose == "badge":
            return self._set_badge(kb.target, text)
        if not text:
            return "Type a name"
        if kb.purpose == "athlete_name":
            def rename():
                old = self.roster.get(kb.target).name
                self.roster.rename(kb.target, text)
                return "athlete_rename", kb.target, {"name": (old, text)}

            why = self._roster_edit(rename)
            if why is None:
                self.note = f"Renamed to {text}"
            return why
        # new_athlete
        athlete_id = self._new_athlete_id()

        def add():
            self.roster.add(athlete_id, text)
            return "athlete_add", athlete_id, {"name": (None, text)}

        why = self._roster_edit(add)
        if why is None:
            self._kb = None
            self._go("athlete", athlete_id)
            self.note = f"{text} is on the roster: give them a badge or a program"
        return why

    def _new_athlete_id(self) -> str:
        """A roster id never used before (the usage log keys an athlete's history by it)."""
        while True:
            athlete_id = "a" + secrets.token_hex(4)
            if athlete_id not in self.roster:
                return athlete_id

    # -- the view ------------------------------------------------------------------------------
    def _program_label(self, program_id: str | None) -> str:
        if program_id is not None and program_id in self.book:
            return self.book.get(program_id).name
        station = self.book.program_for(None)
        label = f"station's ({station.name})" if station else "station's (exercise targets)"
        if program_id is not None:  # their own is gone or cannot be used
            why = self.book.unusable(program_id)
            own = self.book.get(program_id, usable=False).name if why else program_id
            label += f"; {own} cannot be used"
        return label

    def _program_items(self) -> tuple[ListItem, ...]:
        profiles = self.kiosk.profiles
        station = self.book.station_program
        used = self.book.program_for(None)  # None: the exercises' own targets apply
        items = []
        for p, why in self.book.stored():
            name = profiles.get(p.exercise).name if p.exercise in profiles.profiles \
                else p.exercise
            detail = f"{name} - {p.reps} x {p.sets}" + (" - station" if p.id == station else "")
            if why:
                detail = f"Not used: {why}"
            items.append(ListItem(p.id, p.name, detail, used is not None and p.id == used.id,
                                  UICommand("open", f"program:{p.id}")))
        items.append(ListItem("exercise_targets", "Exercises' own targets",
                              "For everyone without a program", used is None,
                              UICommand("station_program", "")))
        items.append(ListItem("new_program", "New program", "", False,
                              UICommand("open", "new_program")))
        return tuple(items)

    def _athlete_items(self) -> tuple[ListItem, ...]:
        items = []
        for e in self.roster:
            badge = f"Badge {e.badge}" if e.badge else "No badge"
            items.append(ListItem(e.id, e.name, f"{badge} - {self._program_label(e.program)}",
                                  command=UICommand("open", f"athlete:{e.id}")))
        items.append(ListItem("new_athlete", "Add athlete", "", False, UICommand("new_athlete")))
        return tuple(items)

    def view(self, fault: FaultView | None = None) -> AdminView | None:
        """The admin screen for this frame (None when none is shown); a plate fault shows as
        the note, the screen stays."""
        screen = self.screen
        if screen is None:
            return None
        damaged = {"coach": self.book.damaged, "athletes": self.roster.damaged}.get(screen)
        notes = [n for n in (self.note, damaged,
                             f"{fault.title}: {fault.advice}" if fault else None) if n]
        note = " - ".join(notes) or None
        if screen == "pin":
            pad = self._pad
            locked = self.pins.locked_for(self._pad_checks(pad)) \
                if pad.stage in ("enter", "authorize") else 0.0
            title = f"{pad.role.capitalize()} PIN"
            return AdminView(None, title, pin=PinView(pad.role, len(pad.digits), pad.stage,
                                                      locked, pad.error), note=note)
        ident = self._at[1]
        if screen == "coach":
            return AdminView(self.role, "Programs", items=self._program_items(), note=note)
        if screen == "program":
            d = self._draft
            return AdminView(self.role, d.name, program=ProgramView(
                d.program_id, d.name, self._rows(), d.changed,
                d.program_id is not None and d.program_id == self.book.station_program,
                sum(1 for e in self.roster if d.program_id and e.program == d.program_id)),
                note=note)
        if screen == "athletes":
            return AdminView(self.role, "Athletes", items=self._athlete_items(), note=note)
        if screen == "athlete":
            e: RosterEntry = self.roster.get(ident)
            return AdminView(self.role, e.name, note=note,
                             athlete=(e.id, e.name, e.badge, self._program_label(e.program)))
        if screen == "history":
            return AdminView(self.role, f"{self._history.athlete}: last sessions",
                             history=self._history, note=note)
        if screen == "keyboard":
            return AdminView(self.role, self._kb.title, keyboard=self._kb.view(), note=note)
        if self.desk is None:
            return AdminView(self.role, "Staff", note=note)
        if screen == "calibrate":
            return AdminView(self.role, "Calibration", calibrate=self.desk.calibrate_view(),
                             staff=self.desk.staff_view(), note=note)
        return AdminView(self.role, "Staff", staff=self.desk.staff_view(), note=note)


__all__ = ["Admin", "HISTORY_SESSIONS", "IDLE_LOCK_S", "apply_programs", "read_history",
           "side_choices"]

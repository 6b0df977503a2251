"""A coach's programs: named targets for an exercise, for the whole station or an athlete.

One settings table (:data:`SETTINGS`) gives every target its bounds and step, as
:data:`station.config.OPTIONS` does for the configuration: the touchscreen's +/- buttons move a
value with :meth:`Setting.step_up`/:meth:`Setting.step_down` (which cannot leave the bounds or
the step grid), and :meth:`Setting.check` refuses anything else, from a screen, the file or a
test. A program applies to the kiosk through :func:`to_targets` (the kiosk's
:class:`~station.profiles.Targets`), at the next set.

Programs are stored in ``programs.json`` in the state directory, atomically, on every change.
Each change returns a :class:`Change` (which role, when on the wall clock, what changed: old ->
new) and hands it to ``on_change(kind, detail)`` (the usage log's ``event``, kind
``coach_change``). The wall clock only dates the record; it is injectable for tests.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import GymStationError, ProgramError
from .pins import ROLES
from .profiles import ExerciseProfile, ProfileBook, Targets
from .statefile import StateFile
from .usage_log import iso

FORMAT_VERSION = 1
NAME_MAX = 32
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
#: The sides a program may ask for, as the touchscreen offers them.
SIDE_CHOICES: tuple[tuple[str, ...], ...] = (("left", "right"), ("right", "left"), ("left",),
                                             ("right",), ("both",))

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setting:
    """One target a coach can set: its label, unit, bounds and step (or its choices)."""

    label: str
    help: str
    type: type = float
    min: float = 0.0
    max: float = 0.0
    step: float = 1.0
    unit: str = ""
    choices: tuple | None = None

    @property
    def _places(self) -> int:
        text = f"{self.step:.10f}".rstrip("0")
        return len(text.split(".")[1]) if "." in text else 0

    def _snap(self, value: float):
        """The nearest value on the step grid (counted from ``min``), as this setting's type."""
        n = round((value - self.min) / self.step)
        snapped = round(self.min + n * self.step, self._places)
        return int(snapped) if self.type is int else float(snapped)

    def clamp(self, value):
        """``value`` moved into the bounds and onto the step grid (a choice: kept if allowed,
        else the first choice)."""
        if self.choices is not None:
            return value if value in self.choices else self.choices[0]
        return self._snap(min(max(float(value), self.min), self.max))

    def step_up(self, value):
        """One step more (the next choice), never past the maximum (the last choice)."""
        if self.choices is not None:
            i = self.choices.index(self.clamp(value))
            return self.choices[min(i + 1, len(self.choices) - 1)]
        return self.clamp(self.clamp(value) + self.step)

    def step_down(self, value):
        """One step less (the previous choice), never below the minimum (the first choice)."""
        if self.choices is not None:
            i = self.choices.index(self.clamp(value))
            return self.choices[max(i - 1, 0)]
        return self.clamp(self.clamp(value) - self.step)

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(_show(c) for c in self.choices)
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.min:g} to {self.max:g}{unit} in steps of {self.step:g}"

    def check(self, value, key: str = ""):
        """``value`` as this setting's type if it is allowed, else :class:`ProgramError`."""
        label = key or self.label

        def refuse(why: str):
            raise ProgramError(f"{label} = {_show(value)} {why}; it must be {self.allowed()}", key)

        if self.choices is not None:
            if isinstance(value, list):
                value = tuple(value)
            if value not in self.choices:
                refuse("is not offered")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            refuse("is not a number")
        if self.type is int and not float(value).is_integer():
            refuse("is not a whole number")
        if value != value:
            refuse("is not a number")
        if value < self.min:
            refuse("is too small")
        if value > self.max:
            refuse("is too large")
        if abs(self._snap(value) - value) > 1e-9:
            refuse("is between steps")
        return self.type(value)


def _show(value) -> str:
    if isinstance(value, tuple | list):
        return "+".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


#: Every target a program holds, with its bounds and step. Keys are :class:`Program` fields.
SETTINGS: dict[str, Setting] = {
    "reps": Setting("Reps per set", "Reps in each set, per side.", int, 1, 30, 1),
    "sets": Setting("Sets", "Sets per side.", int, 1, 10, 1),
    "sides": Setting("Sides", "Which legs, in order; both for two-footed exercises.",
                     choices=SIDE_CHOICES),
    "hold_target_s": Setting("Hold at the top", "Seconds to hold at the top; less is a short "
                             "hold (0: not judged).", float, 0.0, 10.0, 0.5, "s"),
    "share_threshold": Setting("Drive-zone share", "Least share of the load under the driving "
                               "part of the foot (the heel for a hip thrust); less is a toe "
                               "drive.", float, 0.30, 0.90, 0.05),
    "min_lower_s": Setting("Lowering time", "Least seconds to lower; faster is too fast (0: not "
                           "judged).", float, 0.0, 10.0, 0.5, "s"),
}


@dataclass(frozen=True)
class Program:
    """A named set of targets for one exercise; every value within :data:`SETTINGS`."""

    id: str
    name: str
    exercise: str
    reps: int
    sets: int
    sides: tuple[str, ...]
    hold_target_s: float
    share_threshold: float
    min_lower_s: float

    def __post_init__(self):
        if not isinstance(self.id, str) or not ID_PATTERN.fullmatch(self.id):
            raise ProgramError(f"program id {self.id!r} is not usable: up to 32 lower-case "
                               "letters, digits, '_' or '-'", "id")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ProgramError(f"program {self.id!r} has an empty name", "name")
        if len(self.name) > NAME_MAX or any(not c.isprintable() for c in self.name):
            raise ProgramError(f"program {self.id!r}: the name must be at most {NAME_MAX} "
                               "printable characters", "name")
        if not isinstance(self.exercise, str) or not self.exercise:
            raise ProgramError(f"program {self.id!r} has no exercise", "exercise")
        for key, setting in SETTINGS.items():
            object.__setattr__(self, key, setting.check(getattr(self, key), key))

    @classmethod
    def from_profile(cls, program_id: str, name: str, profile: ExerciseProfile) -> Program:
        """A program starting from an exercise's own targets (moved onto the settings' grid)."""
        values = {key: SETTINGS[key].clamp(getattr(profile, key)) for key in SETTINGS}
        return cls(program_id, name, profile.id, **values)

    def to_json(self) -> dict:
        return {**asdict(self), "sides": list(self.sides)}


def to_targets(program: Program) -> Targets:
    """The kiosk's overrides for ``program``, its sides included (``station.admin.
    apply_programs`` hands them to the kiosk, keyed by exercise and athlete)."""
    return Targets(share_threshold=program.share_threshold, hold_target_s=program.hold_target_s,
                   min_lower_s=program.min_lower_s, reps=program.reps, sets=program.sets,
                   sides=tuple(program.sides))


@dataclass(frozen=True)
class Change:
    """One change a coach or staff made: ``action`` is create, update, delete, station (the
    station-wide program chosen), assign (an athlete's own), or a roster edit
    (:meth:`ProgramBook.record`: athlete_add, athlete_rename, athlete_badge, athlete_delete);
    ``changes`` maps a field to (old, new)."""

    role: str
    at: str
    action: str
    program: str | None
    changes: dict[str, tuple[Any, Any]]
    athlete: str | None = None  #: the athlete's roster id, for ``assign``

    def detail(self) -> dict:
        """The usage log's event detail (JSON-ready)."""
        return {"role": self.role, "at": self.at, "action": self.action, "program": self.program,
                "athlete_id": self.athlete, "changes": {k: [_plain(o), _plain(n)] for k, (o, n) in self.changes.items()}}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def check_role(role: str) -> str:
    """A change is made by the coach or the staff (whoever opened the screen with a PIN)."""
    if role not in ROLES:
        raise ProgramError(f"unknown role {role!r}: changes are made by {' or '.join(ROLES)}",
                           "role")
    return role


def programs_file(state: Path) -> Path:
    return Path(state) / "programs.json"


class ProgramBook:
    """The station's programs and which one applies to the whole station.

    ``profiles`` (when given) refuses new programs for an exercise the station does not have,
    or sides the exercise cannot do; such a program already in the file (exercises.toml
    changed since) is kept, but cannot be used (:meth:`unusable` says why) until a coach gives
    it an exercise or deletes it. Athletes get a program through the roster's ``program`` id.
    A deleted program's id is never given again (``retired``), so athletes still pointing at
    it can never land on a new program by chance.

    Each change reads the file again first if someone else changed it, and is stored at once;
    a file changed since it was read is never overwritten.
    """

    def __init__(self, path: str | os.PathLike, programs=(), station_program: str | None = None,
                 *, profiles: ProfileBook | None = None, wall: Callable[[], float] = time.time,
                 on_change: Callable[[str, dict], object] | None = None, retired=(),
                 clock: Callable[[], float] | None = None):
        self.path = Path(path)
        self.profiles = profiles
        self.wall = wall
        self.on_change = on_change
        self._file = StateFile(self.path, clock)
        self._damaged_ok = False  #: set by load(damaged_ok=True): a damaged file never raises
        self._programs: dict[str, Program] = {}
        self._why: dict[str, str] = {}       #: programs kept but unusable: why
        self._retired: set[str] = set()
        self.station_program: str | None = None
        self._fill(programs, station_program, retired, keep_unusable=False)
        #: Why the stored file could not be used and what became of it (None: it was fine).
        self.damaged: str | None = None
        #: Counts the versions this book has been (each load, reload and change adds one).
        self.generation = 0

    def _fill(self, programs, station_program, retired, *, keep_unusable: bool) -> None:
        """Take these programs (all or none); an unusable one raises unless ``keep_unusable``."""
        table: dict[str, Program] = {}
        why: dict[str, str] = {}
        for p in programs:
            if p.id in table:
                raise ProgramError(f"program id {p.id!r} appears twice", "id")
            unfit = self._unfit(p)
            if unfit is not None:
                if not keep_unusable:
                    raise ProgramError(f"program {p.id!r}: {unfit[0]}", unfit[1])
                why[p.id] = unfit[0]
            table[p.id] = p
        if station_program is not None and station_program not in table:
            raise ProgramError(f"the station's program {station_program!r} does not exist")
        retired = set(retired)
        bad = next((r for r in retired if not isinstance(r, str) or not ID_PATTERN.fullmatch(r)
                    or r in table), None)
        if bad is not None:
            raise ProgramError(f"retired program id {bad!r} is not an unused program id")
        self._programs, self._why, self._retired = table, why, retired
        self.station_program = station_program

    @classmethod
    def load(cls, state_dir: str | os.PathLike, *, damaged_ok: bool = False,
             clock: Callable[[], float] | None = None, **kwargs) -> ProgramBook:
        """The programs stored in ``state_dir`` (none yet: an empty book).

        A damaged file raises :class:`ProgramError`; with ``damaged_ok`` (the kiosk, which must
        start for the athletes) it is kept aside instead, :attr:`damaged` says so and the book
        starts empty. ``clock`` (the kiosk's plate time) limits :meth:`refresh` to one look a
        second."""
        book = cls(programs_file(Path(state_dir)), clock=clock, **kwargs)
        book._damaged_ok = damaged_ok
        book._load()
        return book

    def _read(self):
        """(programs, station program, retired ids) from the file; ProgramError if damaged,
        OSError if the disk cannot read it."""
        path = self.path
        try:
            raw = self._file.read_json()
        except ValueError as e:
            raise ProgramError(f"{path} cannot be read ({e}): set the programs again on the "
                               "coach screen") from None
        if raw is None:
            return [], None, []
        try:
            if raw.get("version") != FORMAT_VERSION:
                raise ProgramError(f"format version {raw.get('version')!r}, expected "
                                   f"{FORMAT_VERSION}")
            programs = [Program(**{f.name: p[f.name] for f in fields(Program)})
                        for p in raw["programs"]]
            retired = raw.get("retired", [])
            if not isinstance(retired, list):
                raise ProgramError("retired is not a list of program ids")
            return programs, raw.get("station_program"), retired
        except (AttributeError, KeyError, TypeError, ProgramError, OverflowError) as e:
            raise ProgramError(f"{path} is damaged ({e}): set the programs again on the coach "
                               "screen") from None

    def _load(self) -> None:
        """Read the file into memory. A damaged one raises, or (``damaged_ok``) is kept aside
        while the programs in memory stay as they were (one the disk cannot read stays)."""
        try:
            programs, station, retired = self._read()
            try:
                self._fill(programs, station, retired, keep_unusable=True)
            except (ProgramError, TypeError) as e:
                raise ProgramError(f"{self.path} is damaged ({e}): set the programs again on "
                                   "the coach screen") from None
            self.damaged = None
        except OSError as e:
            error = ProgramError(f"{self.path} cannot be read ({e.strerror or e})")
            if not self._damaged_ok:
                raise error from None
            self._unusable_file(error, damaged=False)
        except ProgramError as e:
            if not self._damaged_ok:
                raise
            self._unusable_file(e, damaged=True)
        for pid, why in self._why.items():
            log.warning("programs: %s (%s) is kept but not used: %s; a coach can give it an "
                        "exercise or delete it", pid, self._programs[pid].name, why)
        self.generation += 1

    def _unusable_file(self, e: ProgramError, damaged: bool) -> None:
        """Say that the file could not be used; set it aside if its content is ``damaged``,
        and store the programs in memory again (if any) so the file holds what is used."""
        had = len(self._programs)
        reason = str(e).partition(": set the programs again")[0]
        self.damaged = self._file.unusable(
            "programs", damaged, had, keeps=f"the station keeps the programs it had ({had})",
            empty="set the programs again on this screen", rewrite=self._write, wall=self.wall)
        log.error("programs: %s (%s)", self.damaged, reason)

    def refresh(self, force: bool = False) -> bool:
        """Read the file again if it changed since it was read or written (another process
        stored programs); at most once a second of the clock unless ``force``. True when the
        book was read again. Never raises on a kiosk's book (``damaged_ok``)."""
        try:
            if not self._file.changed(force):
                return False
        except OSError as e:
            log.warning("programs: %s cannot be looked at (%s)", self.path, e.strerror or e)
            return False
        self._load()
        log.info("programs: %s changed: read again (%d programs)", self.path.name, len(self))
        return True

    def _save(self) -> None:
        """Store the book, unless the file changed since it was read (then nothing is written)."""
        if self._file.changed(force=True):
            raise ProgramError(f"{self.path} was changed meanwhile: nothing stored; try again")
        self._write()
        self.damaged = None

    def _write(self) -> None:
        doc = {"version": FORMAT_VERSION, "station_program": self.station_program,
               "programs": [p.to_json() for p in self._programs.values()],
               "retired": sorted(self._retired)}
        self._file.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", 0o600)
        self.generation += 1

    def _unfit(self, program: Program) -> tuple[str, str] | None:
        """Why the station cannot use ``program``, shortly, and the field at fault (None: it
        can)."""
        if self.profiles is None:
            return None
        profile = self.profiles.profiles.get(program.exercise)
        if profile is None:
            return (f"exercise {program.exercise!r} is not in "
                    f"{Path(self.profiles.path).name}", "exercise")
        if (program.sides == ("both",)) != (profile.sides == ("both",)):
            return (f"{profile.name} is done on sides {_show(profile.sides)}, not "
                    f"{_show(program.sides)}", "sides")
        return None

    def _fits(self, program: Program) -> None:
        unfit = self._unfit(program)
        if unfit is None:
            return
        if unfit[1] == "exercise":
            raise ProgramError(f"program {program.id!r}: no exercise {program.exercise!r}; "
                               f"known: {', '.join(sorted(self.profiles.profiles))}", "exercise")
        raise ProgramError(f"program {program.id!r}: {unfit[0]}", unfit[1])

    # -- reading ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Program]:
        """The programs the station can use, in the order they were made."""
        return (p for pid, p in self._programs.items() if pid not in self._why)

    def __len__(self) -> int:
        return len(self._programs) - len(self._why)

    def __contains__(self, program_id: object) -> bool:
        return program_id in self._programs and program_id not in self._why

    def stored(self) -> list[tuple[Program, str | None]]:
        """Every program in the file, usable or not: (program, why it cannot be used or None)."""
        return [(p, self._why.get(pid)) for pid, p in self._programs.items()]

    def unusable(self, program_id: str) -> str | None:
        """Why the program kept in the file cannot be used (None: it can, or there is none)."""
        return self._why.get(program_id)

    def get(self, program_id: str, *, usable: bool = True) -> Program:
        """The program (one that cannot be used is refused, saying why, unless not ``usable``)."""
        program = self._programs.get(program_id)
        if program is None:
            raise ProgramError(f"no program {program_id!r}; known: "
                               f"{', '.join(p.id for p in self) or 'none yet'}")
        if usable and program_id in self._why:
            raise ProgramError(f"{program.name} cannot be used: {self._why[program_id]}")
        return program

    def program_for(self, assigned: str | None = None) -> Program | None:
        """The program that applies: the athlete's ``assigned`` one (their roster ``program``)
        if it exists and can be used, else the station's (if it can be used), else None (the
        exercise's own targets)."""
        if assigned is not None and assigned in self:
            return self._programs[assigned]
        if self.station_program is not None and self.station_program in self:
            return self._programs[self.station_program]
        return None

    def new_id(self, name: str, avoid=()) -> str:
        """A program id made from ``name`` ("Heavy week 2" -> "heavy-week-2") that no program
        has, had (deleted ones) or is named by in ``avoid`` (ids athletes still point at)."""
        base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:28] or "program"
        taken = set(self._programs) | self._retired | set(avoid)
        pid, n = base, 2
        while pid in taken:
            pid, n = f"{base}-{n}", n + 1
        return pid

    # -- changes (stored at once, recorded) ------------------------------------------------
    def _refresh_for_change(self) -> None:
        """Before a change: the book as it is on disk now, so the change is made on that."""
        self.refresh(force=True)

    def create(self, program: Program, role: str) -> Change:
        check_role(role)
        self._refresh_for_change()
        if program.id in self._programs:
            raise ProgramError(f"a program {program.id!r} exists already", "id")
        if program.id in self._retired:
            raise ProgramError(f"program id {program.id!r} belonged to a deleted program: "
                               "choose another", "id")
        self._fits(program)
        before = self._snapshot()
        self._programs[program.id] = program
        changes = {k: (None, v) for k, v in asdict(program).items() if k != "id"}
        return self._commit(role, "create", program.id, changes, before)

    def update(self, program_id: str, role: str, **values) -> Change | None:
        """Change some of a program's values (name, exercise or settings); each is checked
        against :data:`SETTINGS`. Returns None when nothing actually changed. A program that
        cannot be used may be changed too: once its exercise fits, it is used again."""
        check_role(role)
        self._refresh_for_change()
        old = self.get(program_id, usable=False)
        unknown = set(values) - {f.name for f in fields(Program)} or {"id"} & set(values)
        if unknown:
            raise ProgramError(f"cannot change {', '.join(sorted(unknown))} of a program; "
                               f"settings: {', '.join(SETTINGS)}", sorted(unknown)[0])
        new = replace(old, **values)
        self._fits(new)
        changes = {k: (getattr(old, k), getattr(new, k)) for k in values
                   if getattr(old, k) != getattr(new, k)}
        if not changes:
            return None
        before = self._snapshot()
        self._programs[program_id] = new
        self._why.pop(program_id, None)
        return self._commit(role, "update", program_id, changes, before)

    def delete(self, program_id: str, role: str, roster=None) -> Change:
        """Remove a program, usable or not. The station's choice falls back to none if it was
        this one; the athletes on ``roster`` (a :class:`~station.roster.Roster`) assigned to it
        are unassigned (the station's program applies to them), each recorded as an
        ``assign`` change; the id is never given to a new program."""
        check_role(role)
        self._refresh_for_change()
        old = self.get(program_id, usable=False)
        assigned = [e.id for e in roster if e.program == program_id] if roster is not None \
            else []
        kept = roster.snapshot() if assigned else None
        for athlete_id in assigned:
            roster.assign_program(athlete_id, None)
        if assigned:
            try:
                roster.save()
            except BaseException:
                roster.restore(kept)
                raise
        before = self._snapshot()
        del self._programs[program_id]
        self._why.pop(program_id, None)
        self._retired.add(program_id)
        changes = {"name": (old.name, None)}
        if assigned:
            changes["athletes"] = (assigned, [])
        if self.station_program == program_id:
            self.station_program = None
            changes["station_program"] = (program_id, None)
        try:
            change = self._commit(role, "delete", program_id, changes, before)
        except BaseException:
            if assigned:  # the program stays: so do its athletes
                roster.restore(kept)
                try:
                    roster.save()
                except (OSError, GymStationError) as e:
                    log.error("programs: %s was not deleted, but its athletes %s stay "
                              "unassigned: %s", program_id, ", ".join(assigned), e)
            raise
        for athlete_id in assigned:
            self._record(role, "assign", program_id, {"program": (program_id, None)}, athlete_id)
        return change

    def set_station_program(self, program_id: str | None, role: str) -> Change | None:
        """Choose the program for everyone without one of their own (None: the exercises'
        own targets). None returned when it was already so."""
        check_role(role)
        self._refresh_for_change()
        if program_id is not None:
            self.get(program_id)
        if program_id == self.station_program:
            return None
        changes = {"station_program": (self.station_program, program_id)}
        before = self._snapshot()
        self.station_program = program_id
        return self._commit(role, "station", program_id, changes, before)

    def assign(self, roster, athlete_id: str, program_id: str | None, role: str) -> Change | None:
        """Give an athlete on ``roster`` (a :class:`~station.roster.Roster`) a program of their
        own (None: the station's applies); the roster is saved. None when it was already so."""
        check_role(role)
        self._refresh_for_change()
        if program_id is not None:
            self.get(program_id)
        old = roster.get(athlete_id).program
        if old == program_id:
            return None
        roster.assign_program(athlete_id, program_id)
        try:
            roster.save()
        except BaseException:
            roster.assign_program(athlete_id, old)
            raise
        return self._record(role, "assign", program_id, {"program": (old, program_id)},
                            athlete_id)

    def record(self, role: str, action: str, changes: dict, athlete: str | None = None) -> Change:
        """Record a change made elsewhere (the roster: an athlete added, renamed, given a
        badge, deleted) the way the book's own are: role, when, old -> new."""
        check_role(role)
        return self._record(role, action, None, changes, athlete)

    def _record(self, role: str, action: str, program_id: str | None, changes: dict,
                athlete: str | None = None) -> Change:
        change = Change(role, iso(self.wall()), action, program_id, changes, athlete=athlete)
        if self.on_change is not None:
            self.on_change("coach_change", change.detail())
        return change

    def _snapshot(self):
        return dict(self._programs), self.station_program, dict(self._why), set(self._retired)

    def _commit(self, role: str, action: str, program_id: str | None, changes: dict,
                before) -> Change:
        """Store the book; if it cannot be stored, undo the change in memory too."""
        try:
            self._save()
        except BaseException:
            self._programs, self.station_program, self._why, self._retired = before
            raise
        return self._record(role, action, program_id, changes)


__all__ = ["Change", "Program", "ProgramBook", "SETTINGS", "SIDE_CHOICES", "Setting",
           "programs_file", "to_targets"]

"""Exercise profiles: what drives, what is held, how slowly to lower, and what the station says.

Profiles are data (``config/exercises.toml``); this module validates them into frozen
:class:`ExerciseProfile` objects and judges a rep against them. A coach's targets on the
touchscreen arrive as a :class:`Targets` override, applied with :meth:`ExerciseProfile.with_targets`
without touching the file. Every refusal names the file, the profile and the key, says what is
wrong and what is allowed; an unknown key is refused (a misspelt target silently ignored is a
station that judges reps against the wrong number).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from drivers.files import TOML_MAX_BYTES, read_limited
from drivers.shipped import shipped_config_dir

from .errors import ConfigError

SHIPPED_EXERCISES = shipped_config_dir() / "exercises.toml"

DRIVE_ZONES = ("heel", "forefoot")
REP_SIGNALS = ("load", "heel", "forefoot")
SIDES = ("left", "right", "both")

#: The fault for driving with the wrong part of the foot, by drive zone. The hip thrust's
#: ``toe_drive`` is the contract's name; a calf raise's wrong zone is the heel.
ZONE_FAULT = {"heel": "toe_drive", "forefoot": "heel_drive"}
FAULTS = ("toe_drive", "heel_drive", "short_hold", "too_fast")

#: Cue kinds a profile may give a text for. Faults, ``good``, and moments of the set.
CUE_KINDS = (
    "ready", "drive", "hold", "lower", "good", "toe_drive", "heel_drive", "short_hold",
    "too_fast", "set_done", "rest", "switch_side", "step_on", "step_off",
)


@dataclass(frozen=True)
class Targets:
    """A coach's overrides of a profile's targets; ``None`` keeps the profile's value."""

    share_threshold: float | None = None
    hold_target_s: float | None = None
    min_lower_s: float | None = None
    reps: int | None = None
    sets: int | None = None
    sides: tuple[str, ...] | None = None  #: which legs, in order (a program's choice)


@dataclass(frozen=True)
class ExerciseProfile:
    """One exercise on the plate: which zone should drive, the targets, the words.

    ``share_threshold`` is the minimum mean share of the load under ``drive_zone`` during the
    drive. ``rep_signal`` is the quantity that rises when the athlete drives (total load for a
    hip thrust, forefoot load for a calf raise). ``cues`` maps a cue kind (see :data:`CUE_KINDS`)
    to its text.
    """

    id: str
    name: str
    drive_zone: str
    share_threshold: float
    hold_target_s: float
    min_lower_s: float
    reps: int
    sets: int
    sides: tuple[str, ...]
    rep_signal: str = "load"
    tips: tuple[str, ...] = ()
    cues: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        where = f"profile {self.id!r}"
        if self.drive_zone not in DRIVE_ZONES:
            raise ConfigError(f"{where}: drive_zone must be one of {DRIVE_ZONES}, not {self.drive_zone!r}")
        if self.rep_signal not in REP_SIGNALS:
            raise ConfigError(f"{where}: rep_signal must be one of {REP_SIGNALS}, not {self.rep_signal!r}")
        if not 0.0 <= self.share_threshold <= 1.0:
            raise ConfigError(f"{where}: share_threshold is a share of the load, 0..1, not {self.share_threshold}")
        if self.hold_target_s < 0 or self.min_lower_s < 0:
            raise ConfigError(f"{where}: hold_target_s and min_lower_s are seconds >= 0")
        if self.reps < 1 or self.sets < 1:
            raise ConfigError(f"{where}: reps and sets must be at least 1")
        if not self.sides or any(s not in SIDES for s in self.sides):
            raise ConfigError(f"{where}: sides must be a non-empty list of {SIDES}, not {list(self.sides)}")

    @property
    def zone_fault(self) -> str:
        """The fault name for driving with the other part of the foot."""
        return ZONE_FAULT[self.drive_zone]

    def with_targets(self, targets: Targets | None) -> ExerciseProfile:
        """This profile with a coach's overrides applied (validated like the file's values)."""
        if targets is None:
            return self
        changes = {k: v for k, v in vars(targets).items() if v is not None}
        return replace(self, **changes) if changes else self

    def judge(self, heel_share: float | None, hold_s: float, lower_s: float) -> tuple[str, ...]:
        """The faults of a rep with these measurements (empty means a good rep).

        The zone fault when the drive zone's mean share is below ``share_threshold`` (or unknown:
        the plate never saw enough load to tell); ``short_hold`` when ``hold_s`` is under
        ``hold_target_s``; ``too_fast`` when ``lower_s`` is under ``min_lower_s``.
        """
        faults = []
        if heel_share is None:
            faults.append(self.zone_fault)
        else:
            share = heel_share if self.drive_zone == "heel" else 1.0 - heel_share
            if share < self.share_threshold:
                faults.append(self.zone_fault)
        if hold_s < self.hold_target_s:
            faults.append("short_hold")
        if lower_s < self.min_lower_s:
            faults.append("too_fast")
        return tuple(faults)


_KEYS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    # key: (accepted TOML types, required)
    "name": (str, True),
    "drive_zone": (str, True),
    "share_threshold": ((int, float), True),
    "rep_signal": (str, False),
    "hold_target_s": ((int, float), True),
    "min_lower_s": ((int, float), True),
    "reps": (int, True),
    "sets": (int, True),
    "sides": (list, True),
    "tips": (list, False),
    "cues": (dict, False),
}


@dataclass(frozen=True)
class ProfileBook:
    """Every profile of one exercises file, and which one the station starts with."""

    profiles: dict[str, ExerciseProfile]
    default: str
    path: str

    def get(self, profile_id: str | None = None) -> ExerciseProfile:
        """The profile ``profile_id`` (the default when ``None``); unknown ids are refused."""
        pid = profile_id or self.default
        try:
            return self.profiles[pid]
        except KeyError:
            raise ConfigError(
                f"{self.path}: no exercise {pid!r}; known: {', '.join(sorted(self.profiles))}",
                path=self.path, key=pid,
            ) from None


def load_profiles(path: str | Path | None = None) -> ProfileBook:
    """Read and validate an exercises TOML (the shipped one when ``path`` is ``None``)."""
    p = Path(path) if path is not None else SHIPPED_EXERCISES
    try:
        data = read_limited(p, TOML_MAX_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"{p}: exercises file not found", path=str(p)) from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a folder, not an exercises file", path=str(p)) from None
    except (OSError, ValueError) as e:  # permission, a name too long, a NUL in the name
        raise ConfigError(f"{p}: cannot read it ({getattr(e, 'strerror', None) or e})",
                          path=str(p)) from None
    try:
        raw = tomllib.loads(data.decode("utf-8-sig"))  # a Windows editor's BOM is fine
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{p}: not valid TOML: line {line}: not UTF-8 text (byte "
                          f"0x{data[e.start]:02x}); save it as UTF-8", path=str(p)) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}", path=str(p)) from None
    except RecursionError:
        raise ConfigError(f"{p}: not valid TOML: arrays or tables nested too deep",
                          path=str(p)) from None
    except ValueError as e:  # an integer of thousands of digits: not a TOMLDecodeError
        from .config import _digits_line

        raise ConfigError(f"{p}: not valid TOML: {_digits_line(data.decode())}: {e}",
                          path=str(p)) from None
    return parse_profiles(raw, p)


def parse_profiles(raw: dict[str, Any], path: str | Path = "<exercises>") -> ProfileBook:
    """Validate an already-parsed exercises table (see :func:`load_profiles`)."""
    path = str(path)
    _unknown(raw, ("default", "profiles"), path, "the top level")
    tables = raw.get("profiles")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: needs at least one [profiles.<id>] table", path=path, key="profiles")
    profiles = {pid: _profile(pid, table, path) for pid, table in tables.items()}
    default = raw.get("default", next(iter(profiles)))
    if not isinstance(default, str) or default not in profiles:
        raise ConfigError(
            f"{path}: default = {default!r} is not a profile; known: {', '.join(sorted(profiles))}",
            path=path, key="default",
        )
    return ProfileBook(profiles=profiles, default=default, path=path)


def _profile(pid: str, table: Any, path: str) -> ExerciseProfile:
    where = f"{path}: profile {pid!r}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table", path=path, key=f"profiles.{pid}")
    _unknown(table, _KEYS, path, f"profile {pid!r}")
    for key, (types, required) in _KEYS.items():
        if key not in table:
            if required:
                raise ConfigError(f"{where}: missing key {key!r}", path=path, key=f"profiles.{pid}.{key}")
            continue
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(
                f"{where}: {key} has the wrong type ({type(value).__name__}: {value!r})",
                path=path, key=f"profiles.{pid}.{key}",
            )
        if isinstance(value, float) and not abs(value) < float("inf"):  # NaN or inf
            raise ConfigError(f"{where}: {key} = {value!r} is not a finite number", path=path,
                              key=f"profiles.{pid}.{key}")
    for key in ("sides", "tips"):
        if any(not isinstance(s, str) for s in table.get(key, ())):
            raise ConfigError(f"{where}: {key} must be a list of text", path=path, key=f"profiles.{pid}.{key}")
    cues = dict(table.get("cues", {}))
    for kind, text in cues.items():
        if kind not in CUE_KINDS:
            hint = difflib.get_close_matches(kind, CUE_KINDS, n=1)
            raise ConfigError(
                f"{where}: unknown cue kind {kind!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; allowed: {', '.join(CUE_KINDS)}",
                path=path, key=f"profiles.{pid}.cues.{kind}",
            )
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{where}: cue {kind!r} must be non-empty text", path=path,
                              key=f"profiles.{pid}.cues.{kind}")
    try:
        return ExerciseProfile(
            id=pid,
            name=table["name"],
            drive_zone=table["drive_zone"],
            share_threshold=float(table["share_threshold"]),
            rep_signal=table.get("rep_signal", "load"),
            hold_target_s=float(table["hold_target_s"]),
            min_lower_s=float(table["min_lower_s"]),
            reps=table["reps"],
            sets=table["sets"],
            sides=tuple(table["sides"]),
            tips=tuple(table.get("tips", ())),
            cues=cues,
        )
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}", path=path, key=f"profiles.{pid}") from None


def _unknown(table: dict, known, path: str, where: str) -> None:
    for key in table:
        if key not in known:
            hint = difflib.get_close_matches(key, list(known), n=1)
            raise ConfigError(
                f"{path}: unknown key {key!r} in {where}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; allowed: {', '.join(known)}",
                path=path, key=key,
            )

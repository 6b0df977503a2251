"""The station's configuration: ``station.toml`` validated into typed, frozen objects.

One option table (:data:`OPTIONS`) holds every key with its type, default, bounds and help, as
pibooth does: the validator, ``gym-station config --help-keys`` and the documentation come from it,
so they cannot disagree. A bad value is refused with the file, the key, what is wrong and what is
allowed; an unknown key is refused too (with a "did you mean"), because a misspelt key silently
ignored is a station that does not do what the staff configured.

Where the file comes from: ``--config PATH``, else ``$GYM_STATION_CONFIG``, else the shipped
``config/station.toml`` beside the package.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.files import TOML_MAX_BYTES, read_limited
from drivers.layout import EDGES, ZONES, CellSpec, PlateLayout
from drivers.shipped import shipped_config_dir

from .errors import ConfigError

SHIPPED_CONFIG_DIR = shipped_config_dir()
PLATE_KINDS = ("hx711", "hx711-pypi", "simulated", "replay")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Option:
    """One configuration key: its type, default, bounds and a line of help."""

    type: type
    default: Any
    help: str
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None
    required: bool = False

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}[self.type]
        if self.min is not None and self.max is not None:
            return f"{kind} from {self.min:g} to {self.max:g}"
        if self.min is not None:
            return f"{kind} >= {self.min:g}"
        return kind


_GPIO = {"type": int, "min": 0, "max": 27}

#: section -> key -> Option. ``plate.cells`` is a list of tables, validated by :data:`CELL_OPTIONS`.
OPTIONS: dict[str, dict[str, Option]] = {
    "station": {
        "id": Option(str, "station-1", "Name of this station in usage reports (unique per facility)."),
        "name": Option(str, "Single-leg hip thrust station", "Title shown on the idle screen."),
        "log_level": Option(str, "info", "How much goes to the journal.", choices=LOG_LEVELS),
    },
    "plate": {
        "kind": Option(str, "hx711", "Where samples come from: the shared-clock HX711 reader, the "
                       "hx711 PyPI package (one clock per chip), the simulated athlete, or a "
                       "recording.", choices=PLATE_KINDS),
        "clock_pin": Option(int, 5, "BCM GPIO of the shared PD_SCK line (used by cells without "
                            "their own clock_pin).", min=0, max=27),
        "gain": Option(int, 128, "HX711 gain: 128 or 64 on channel A, 32 on channel B.",
                       choices=(128, 64, 32)),
        "rate_hz": Option(float, 80.0, "Conversion rate the HX711 RATE pin selects: 80 (RATE "
                          "high) or 10 (RATE low). Real boards run 80-93.", min=1, max=100),
        "read_timeout_s": Option(float, 0.5, "A chip silent this long is reported as a fault.",
                                 min=0.05, max=10),
        "recording": Option(str, "", "For kind = \"replay\": the recording to play."),
        "calibration_mass_kg": Option(float, 20.0, "The known mass staff calibrate the plate "
                                      "with on the touchscreen, in kg.", min=0.5, max=500),
    },
    "simulation": {
        "scenario": Option(str, "demo", "Scripted athlete for kind = \"simulated\" and the demo: a "
                           "name in config/scenarios or a path to a scenario TOML."),
        "seed": Option(int, 1, "Random seed: the same seed replays the same athlete.", min=0),
        "body_mass_kg": Option(float, 0.0, "The simulated athlete's body mass in kg (20 to "
                               "250); 0: the scenario's own.", min=0, max=250),
    },
    "display": {
        "width": Option(int, 0, "Screen width in pixels; 0: the display's own (fullscreen) or "
                        "800 (window).", min=0, max=7680),
        "height": Option(int, 0, "Screen height in pixels; 0: the display's own or 480.",
                         min=0, max=4320),
        "fullscreen": Option(bool, True, "Fullscreen for `run` (the demo is windowed unless "
                             "--fullscreen)."),
        "rotation": Option(int, 0, "Rotate the picture (and map touches) for a panel mounted "
                           "turned, e.g. 90 for Touch Display 2 used in landscape.",
                           choices=(0, 90, 180, 270)),
        "fps": Option(int, 60, "Frames per second: the display's refresh.", min=10, max=240),
        "hide_cursor": Option(bool, True, "Hide the mouse pointer (touch kiosk)."),
    },
    "audio": {
        "volume": Option(float, 0.8, "Loudness of cues, 0 (silent) to 1.", min=0, max=1),
        "mute": Option(bool, False, "No sound at all (every cue still shows on screen)."),
        "speech": Option(bool, True, "Speak cue phrases (espeak-ng); tones only when false or "
                         "where espeak-ng is missing."),
        "voice": Option(str, "en", "espeak-ng voice for spoken cues."),
        "quiet_hours": Option(str, "", "Local time span with quieter cues, e.g. \"21:00-06:00\"; "
                              "empty: none."),
        "quiet_volume": Option(float, 0.3, "Loudness during quiet hours, 0 to 1.", min=0, max=1),
        "buffer": Option(int, 512, "Mixer buffer in samples: smaller = lower latency, more risk "
                         "of crackle.", choices=(256, 512, 1024, 2048)),
    },
    "io": {
        "button_pin": Option(int, -1, "BCM GPIO of the start/stop button (to ground); -1: none.",
                             min=-1, max=27),
        "led_pin": Option(int, -1, "BCM GPIO of the status LED; -1: none.", min=-1, max=27),
        "buzzer_pin": Option(int, -1, "BCM GPIO of an active buzzer; -1: none.", min=-1, max=27),
    },
    "storage": {
        "postgres_url": Option(str, "", "The facility's PostgreSQL (postgresql://user:password@host"
                               "/db); the station also pushes its usage log there. Empty: this "
                               "station only. $GYM_STATION_POSTGRES_URL overrides it (keep the "
                               "password out of the file)."),
        "memory_bound": Option(int, 20000, "Usage-log records held in memory while the disk "
                               "cannot be written; past this they are counted as lost.",
                               min=100, max=1000000),
        "commit_interval_s": Option(float, 0.25, "Longest wait before queued usage records are "
                                    "committed (a rep is durable within this plus the disk's "
                                    "time).", min=0.01, max=1.0),
        "push_interval_s": Option(float, 5.0, "Seconds between pushes to the facility's "
                                  "PostgreSQL (and between retries while it is away).",
                                  min=0.5, max=3600),
    },
}

#: The environment variable that provides (and overrides) ``storage.postgres_url``.
POSTGRES_URL_ENV = "GYM_STATION_POSTGRES_URL"

CELL_OPTIONS: dict[str, Option] = {
    "name": Option(str, "", "Label for reports and messages, e.g. \"heel\".", required=True),
    "zone": Option(str, "", "Where the cell sits under the foot.", choices=ZONES, required=True),
    "data_pin": Option(int, 0, "BCM GPIO of this chip's DOUT line.", min=0, max=27, required=True),
    "clock_pin": Option(int, -1, "BCM GPIO of this chip's own PD_SCK, if not the shared one; -1: "
                        "the plate's clock_pin.", min=-1, max=27),
    "edge": Option(str, "", "4-cell plates: the plate half (as the athlete stands on it).",
                   choices=("", *EDGES)),
}


@dataclass(frozen=True)
class StationConfig:
    id: str
    name: str
    log_level: str


@dataclass(frozen=True)
class PlateConfig:
    kind: str
    layout: PlateLayout
    read_timeout_s: float
    recording: str
    calibration_mass_kg: float = 20.0


@dataclass(frozen=True)
class SimulationConfig:
    scenario: str
    seed: int
    body_mass_kg: float


@dataclass(frozen=True)
class DisplayConfig:
    width: int
    height: int
    fullscreen: bool
    rotation: int
    fps: int
    hide_cursor: bool


@dataclass(frozen=True)
class AudioConfig:
    volume: float
    mute: bool
    speech: bool
    voice: str
    quiet_hours: tuple[tuple[int, int], tuple[int, int]] | None  #: ((h, m), (h, m)) or None
    quiet_volume: float
    buffer: int


@dataclass(frozen=True)
class IOConfig:
    """Optional station hardware; ``None`` where it is not fitted."""

    button_pin: int | None
    led_pin: int | None
    buzzer_pin: int | None


@dataclass(frozen=True)
class StorageConfig:
    """The usage log: the facility's PostgreSQL (empty: none) and the writer's bounds."""

    postgres_url: str
    memory_bound: int
    commit_interval_s: float
    push_interval_s: float

    def __repr__(self) -> str:  # the URL may hold a password: never print it
        shown = "set" if self.postgres_url else "none"
        return (f"StorageConfig(postgres_url=<{shown}>, memory_bound={self.memory_bound}, "
                f"commit_interval_s={self.commit_interval_s}, "
                f"push_interval_s={self.push_interval_s})")


@dataclass(frozen=True)
class Config:
    """The whole validated configuration, and the file it came from."""

    path: Path
    station: StationConfig
    plate: PlateConfig
    simulation: SimulationConfig
    display: DisplayConfig
    audio: AudioConfig
    io: IOConfig
    storage: StorageConfig


def config_path(explicit: str | os.PathLike | None = None) -> Path:
    """Where the configuration is read from: ``explicit``, ``$GYM_STATION_CONFIG``, or shipped."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("GYM_STATION_CONFIG")
    if env:
        return Path(env)
    return SHIPPED_CONFIG_DIR / "station.toml"


def config_dir(cfg: Config) -> Path:
    """The folder beside station.toml (exercises.toml and scenarios/ live there)."""
    return cfg.path.parent


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read and validate ``station.toml``; raise :class:`ConfigError` naming file and key."""
    path = config_path(path)
    try:
        data = read_limited(path, TOML_MAX_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file", str(path)) from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read the configuration (permission denied)",
                          str(path)) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a configuration file", str(path)) from None
    except (OSError, ValueError) as e:  # a name too long, a loop of links, a NUL in the name
        raise ConfigError(f"{path}: cannot read the configuration ({_reason(e)})",
                          str(path)) from None
    return parse_config(toml_text(data, path, lambda m: ConfigError(m, str(path))), path)


def _reason(e: Exception) -> str:
    return getattr(e, "strerror", None) or str(e)


def toml_text(data: bytes, path, error=ConfigError) -> dict:
    """Parse the bytes of a TOML file a person edited: UTF-8 (a byte-order mark, which Windows
    editors add, is fine); a bad byte or a syntax error raises ``error(message)`` naming the file
    and the line (arrays nested thousands deep too: tomllib would recurse past Python's limit)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise error(f"{path}: not valid TOML (line {line}: not UTF-8 text, byte "
                    f"0x{data[e.start]:02x}); save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path}: not valid TOML ({e})") from None
    except RecursionError:
        raise error(f"{path}: not valid TOML (arrays or tables nested too deep, from line "
                    f"{_deep_line(text)})") from None
    except ValueError as e:  # an integer of thousands of digits: not a TOMLDecodeError
        raise error(f"{path}: not valid TOML ({_digits_line(text)}: {e})") from None


def _digits_line(text: str) -> str:
    """Where the first number too long for Python's int() is (for a message)."""
    m = re.search(r"[0-9_]{4300}", text)
    return f"line {text.count(chr(10), 0, m.start()) + 1}" if m else "a number too long"


def _deep_line(text: str, depth: int = 100) -> int:
    """The line where brackets first nest ``depth`` deep (for a message)."""
    level = 0
    for i, ch in enumerate(text):
        level += ch in "[{"
        level -= ch in "]}"
        if level >= depth:
            return text.count("\n", 0, i) + 1
    return 1


def parse_config(raw: dict, path: str | os.PathLike = "<config>") -> Config:
    """Validate an already-parsed TOML mapping (see :func:`load_config`)."""
    path = Path(path)
    _reject_unknown(raw, OPTIONS.keys(), path, "")
    values = {
        section: _section(raw.get(section, {}), options, path, section)
        for section, options in OPTIONS.items()
    }
    plate_raw = raw.get("plate", {})
    cells = _cells(plate_raw.get("cells"), values["plate"]["clock_pin"], path)
    try:
        layout = PlateLayout(cells=cells, gain=values["plate"]["gain"],
                             rate_hz=values["plate"]["rate_hz"])
    except ValueError as e:
        raise ConfigError(f"{path}: [plate] {e}", str(path), "plate.cells") from None
    plate = values["plate"]
    if plate["kind"] == "replay" and not plate["recording"]:
        raise ConfigError(f"{path}: plate.recording: kind = \"replay\" needs the recording file to "
                          "play", str(path), "plate.recording")
    mass = values["simulation"]["body_mass_kg"]
    if 0 < mass < 20:
        raise ConfigError(f"{path}: simulation.body_mass_kg = {mass:g} is too small; it must be 0 "
                          "(the scenario's own) or from 20 to 250", str(path),
                          "simulation.body_mass_kg")
    io = {k: (None if v < 0 else v) for k, v in values["io"].items()}
    used = {c.data_pin for c in cells} | {c.clock_pin for c in cells}
    for key, pin in io.items():
        if pin is not None and pin in used:
            raise ConfigError(f"{path}: io.{key}: GPIO {pin} is already wired to the plate; "
                              "choose a free GPIO", str(path), f"io.{key}")
    fitted = [p for p in io.values() if p is not None]
    if len(fitted) != len(set(fitted)):
        raise ConfigError(f"{path}: [io] two devices share one GPIO: {io}", str(path), "io")
    return Config(
        path=path,
        station=StationConfig(**values["station"]),
        plate=PlateConfig(kind=plate["kind"], layout=layout,
                          read_timeout_s=plate["read_timeout_s"], recording=plate["recording"],
                          calibration_mass_kg=plate["calibration_mass_kg"]),
        simulation=SimulationConfig(**values["simulation"]),
        display=DisplayConfig(**values["display"]),
        audio=AudioConfig(**{**values["audio"],
                             "quiet_hours": _quiet_hours(values["audio"]["quiet_hours"], path)}),
        io=IOConfig(**io),
        storage=StorageConfig(**{**values["storage"],
                                 "postgres_url": _postgres_url(values["storage"]["postgres_url"],
                                                               path)}),
    )


def _postgres_url(text: str, path: Path) -> str:
    """``storage.postgres_url``, or ``$GYM_STATION_POSTGRES_URL`` when set (it wins): a
    ``postgresql://`` URL, a libpq ``key=value`` string, or empty. The value is never echoed."""
    env = os.environ.get(POSTGRES_URL_ENV, "").strip()
    url = env or text.strip()
    where = POSTGRES_URL_ENV if env else "storage.postgres_url"
    if url and not (url.startswith(("postgresql://", "postgres://")) or "=" in url):
        raise ConfigError(f"{path}: {where} is not a PostgreSQL address; it must be like "
                          "postgresql://user:password@host:5432/db or empty", str(path),
                          "storage.postgres_url")
    return url


def _quiet_hours(text: str, path: Path):
    """``"HH:MM-HH:MM"`` (may wrap past midnight) into ((h, m), (h, m)); empty: None."""
    if not text.strip():
        return None
    try:
        start, end = (part.strip() for part in text.split("-"))
        spans = []
        for part in (start, end):
            h, m = (int(x) for x in part.split(":"))
            if not (0 <= h <= 23 and 0 <= m <= 59):
                raise ValueError
            spans.append((h, m))
    except ValueError:
        raise ConfigError(f"{path}: audio.quiet_hours = {text!r} is not a time span; it must be "
                          "like \"21:00-06:00\" (24-hour clock) or empty", str(path),
                          "audio.quiet_hours") from None
    if spans[0] == spans[1]:
        raise ConfigError(f"{path}: audio.quiet_hours = {text!r} starts and ends at the same "
                          "time; leave it empty for no quiet hours", str(path), "audio.quiet_hours")
    return tuple(spans)


def _reject_unknown(table: dict, known, path: Path, where: str) -> None:
    known = list(known)
    for key in table:
        if key not in known:
            full = f"{where}.{key}" if where else key
            hint = difflib.get_close_matches(key, known, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(
                f"{path}: unknown key {full!r}{did}; known here: {', '.join(known)}",
                str(path), full,
            )


def _section(table: Any, options: dict[str, Option], path: Path, where: str,
             extra: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{where}] must be a table of keys", str(path), where)
    known = list(options)
    if where == "plate":
        known.append("cells")
    _reject_unknown(table, known, path, where)
    out = {}
    for key, opt in options.items():
        full = f"{where}.{key}"
        if key not in table:
            if opt.required:
                raise ConfigError(f"{path}: {full} is missing; it must be {opt.allowed()}",
                                  str(path), full)
            out[key] = opt.default
            continue
        out[key] = _value(table[key], opt, path, full)
    return out


def _value(value: Any, opt: Option, path: Path, full: str) -> Any:
    def refuse(what: str):
        raise ConfigError(f"{path}: {full} = {value!r} {what}; it must be {opt.allowed()}",
                          str(path), full)

    if opt.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if opt.type is bool:
        if not isinstance(value, bool):
            refuse("is not true or false")
    elif isinstance(value, bool) or not isinstance(value, opt.type):
        refuse(f"is {type(value).__name__}, not {opt.type.__name__}")
    if opt.type is float and value != value:
        refuse("is not a number")
    if opt.choices is not None and value not in opt.choices:
        refuse("is not allowed")
    if opt.min is not None and value < opt.min:
        refuse("is too small")
    if opt.max is not None and value > opt.max:
        refuse("is too large")
    return value


def _cells(raw: Any, shared_clock: int, path: Path) -> tuple[CellSpec, ...]:
    if raw is None:
        raise ConfigError(f"{path}: [[plate.cells]] are missing: list the 2 or 4 load cells "
                          "(name, zone, data_pin)", str(path), "plate.cells")
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise ConfigError(f"{path}: plate.cells must be a list of [[plate.cells]] tables",
                          str(path), "plate.cells")
    cells = []
    for i, table in enumerate(raw):
        v = _section(table, CELL_OPTIONS, path, f"plate.cells[{i}]")
        clock = shared_clock if v["clock_pin"] < 0 else v["clock_pin"]
        if clock == v["data_pin"]:
            raise ConfigError(f"{path}: plate.cells[{i}].data_pin: GPIO {clock} is also the clock "
                              "line; DOUT and PD_SCK need separate GPIOs", str(path),
                              f"plate.cells[{i}].data_pin")
        cells.append(CellSpec(name=v["name"], zone=v["zone"], data_pin=v["data_pin"],
                              clock_pin=clock, edge=v["edge"] or None))
    if len(cells) == 4 and any(c.edge is None for c in cells):
        raise ConfigError(f"{path}: plate.cells: a 4-cell plate needs edge = \"left\" or \"right\" "
                          "on every cell", str(path), "plate.cells")
    if len(cells) == 2 and any(c.edge is not None for c in cells):
        raise ConfigError(f"{path}: plate.cells: edge is only for 4-cell plates; remove it",
                          str(path), "plate.cells")
    data = {c.data_pin for c in cells}
    for c in cells:
        if c.clock_pin in data:
            raise ConfigError(f"{path}: plate.cells: GPIO {c.clock_pin} is both a clock and a data "
                              "line", str(path), "plate.cells")
    return tuple(cells)


def describe_options() -> str:
    """Every key with its default, what is allowed and its help: the reference for staff."""
    lines = []
    for section, options in OPTIONS.items():
        lines.append(f"[{section}]")
        for key, opt in options.items():
            lines.append(f"  {key} = {opt.default!r}  ({opt.allowed()})")
            lines.append(f"      {opt.help}")
        if section == "plate":
            lines.append("  [[plate.cells]]  (2 or 4 tables)")
            for key, opt in CELL_OPTIONS.items():
                req = "required, " if opt.required else ""
                lines.append(f"    {key}  ({req}{opt.allowed()})")
                lines.append(f"        {opt.help}")
    return "\n".join(lines)

"""Where the station keeps its state: usage database, calibration, PIN hashes.

``--state-dir``, else ``$GYM_STATION_STATE``, else the user's state directory
(``$XDG_STATE_HOME/gym-station``, normally ``~/.local/state/gym-station``). The Pi install sets
``GYM_STATION_STATE=/var/lib/gym-station`` in the service.
"""

from __future__ import annotations

import os
from pathlib import Path

from drivers.files import write_atomic

from .errors import ConfigError, UsageError


def state_dir(explicit: str | os.PathLike | None = None, *, create: bool = True) -> Path:
    """The state directory, created if needed; a path that cannot be used is a ConfigError."""
    if explicit:
        path = Path(explicit)
    elif os.environ.get("GYM_STATION_STATE"):
        path = Path(os.environ["GYM_STATION_STATE"])
    else:
        base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
        path = Path(base) / "gym-station"
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"state directory {path}: cannot create it ({e.strerror}); "
                              "pass --state-dir or set GYM_STATION_STATE") from None
        if not os.access(path, os.W_OK):
            raise ConfigError(f"state directory {path}: not writable; pass --state-dir or set "
                              "GYM_STATION_STATE to a writable folder")
    return path


def calibration_file(state: Path) -> Path:
    return state / "calibration.json"

def write_state_file(path: Path, text: str, mode: int = 0o600) -> None:
    """Write a state file atomically and private to the station's user (mode 0600 by default)."""
    write_atomic(path, text, mode)


def output_file(path: str | os.PathLike, what: str = "the file") -> Path:
    """A file a command is asked to write (a CSV, a recording), checked before any work is done:
    a folder, a folder that is not there or one that cannot be written in is a
    :class:`UsageError` saying so (exit 2), not an errno once the work is lost."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder: name {what} inside it (for example "
                         f"{path / 'out.csv'})")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"{path}: the folder {parent} does not exist: create it first, or "
                         "choose another place")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{path}: cannot write there (permission): choose a folder you can "
                         "write in")
    return path

"""Where the station keeps its state: usage database, calibration, PIN hashes.

``--state-dir``, else ``$GYM_STATION_STATE``, else the user's state directory
(``$XDG_STATE_HOME/gym-station``, normally ``~/.local/state/gym-station``). The Pi install sets
``GYM_STATION_STATE=/var/lib/gym-station`` in the service.
"""

from __future__ import annotations

import os
from pathlib import Path

from drivers.files import write_atomic

from .errors import ConfigError


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

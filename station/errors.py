"""The station's errors: the one tree from :mod:`drivers.errors`, extended with the station's own.

Import errors from here in ``station`` and ``display``; ``drivers`` cannot import upwards, so the
root of the tree lives there.
"""

from __future__ import annotations

from drivers.errors import *  # noqa: F403 - re-export the whole tree
from drivers.errors import GymStationError


class ConfigError(GymStationError, ValueError):
    """A configuration file or value is unusable. The message names the file and key, says what is
    wrong and what is allowed."""

    def __init__(self, message: str, path: str | None = None, key: str | None = None):
        super().__init__(message)
        self.path = path
        self.key = key


class UsageError(GymStationError, ValueError):
    """A command was called in a way that cannot work (exit code 2)."""


class ExportError(GymStationError, OSError):
    """A file could not be written to the staff's USB stick (write-protected, full, pulled out);
    the message says why in a sentence the staff can act on."""

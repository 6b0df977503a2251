"""The one exception tree of gym-station.

It lives in ``drivers`` because that is the bottom layer: ``station`` and ``display`` extend it.
Each specific error also inherits the standard type a caller would expect (as gpiozero does), so
``except ValueError`` still catches a bad calibration value. Every message is written for a person
standing at the station: what is wrong and what to do about it.
"""

from __future__ import annotations


class GymStationError(Exception):
    """Base of every error gym-station raises on purpose."""


class HardwareError(GymStationError, OSError):
    """The plate's hardware misbehaved (a chip silent, a wire loose, a word corrupted)."""


class HX711Error(HardwareError):
    """An HX711 amplifier misbehaved."""


class HX711Timeout(HX711Error, TimeoutError):
    """One or more HX711 chips sent no word before the deadline.

    ``silent_pins`` lists the BCM numbers of the DOUT lines that never went low.
    """

    def __init__(self, message: str, silent_pins: tuple[int, ...] = ()):
        super().__init__(message)
        self.silent_pins = tuple(silent_pins)


class BackendUnavailable(GymStationError, ImportError):
    """An optional hardware backend cannot be used here (a library or device is missing)."""


class PlateError(GymStationError):
    """The force plate cannot do what was asked (tare while loaded, not calibrated, ...)."""


class TareRefused(PlateError, RuntimeError):
    """Tare was refused because the plate is loaded or not stable."""


class NotCalibrated(PlateError, RuntimeError):
    """The plate has no calibration for a cell; raw counts cannot be turned into newtons."""


class CalibrationError(PlateError, ValueError):
    """A calibration step or a stored calibration file is unusable."""


class RecordingError(GymStationError, ValueError):
    """A recording file is malformed. The message names the file and line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class EndOfRecording(GymStationError, EOFError):
    """A replayed recording has no more samples."""


class ScenarioError(GymStationError, ValueError):
    """A simulated athlete's scenario is malformed."""


class HX711StuckLow(HX711Error):
    """An HX711's DOUT stayed low after the 25th clock pulse (a healthy chip pulls it high).

    ``pins`` lists the BCM numbers of the DOUT lines that are stuck.
    """

    def __init__(self, message: str, pins: tuple[int, ...] = ()):
        super().__init__(message)
        self.pins = tuple(pins)


class HX711BadWord(HX711Error):
    """An HX711 sent only faulty words (saturated, all ones, lost to power-down) until the deadline.

    ``pins`` lists the BCM numbers of the DOUT lines concerned, ``kinds`` the fault kind of each.
    """

    def __init__(self, message: str, pins: tuple[int, ...] = (), kinds: tuple[str, ...] = ()):
        super().__init__(message)
        self.pins = tuple(pins)
        self.kinds = tuple(kinds)


class DeviceClosed(HardwareError, RuntimeError):
    """A hardware object was used after ``close()``."""


class DisplayError(GymStationError, RuntimeError):
    """The kiosk's screen (or its window) could not be opened."""


class UnknownScreen(GymStationError, ValueError):
    """A view asked the display for a screen it does not have (a station/display mismatch)."""


class UsageLogError(GymStationError, OSError):
    """The usage log's database cannot be used (a newer schema, a file that is not a database, a
    report or export asked of a log that does not exist)."""


class FacilitySyncError(UsageLogError):
    """The facility's PostgreSQL server could not take the station's records (the message names
    the server with its password masked)."""


class PinError(GymStationError, ValueError):
    """A coach or staff PIN was refused (too short, not digits, too easy to guess) or the PIN
    file in the state directory cannot be used."""


class RosterError(GymStationError, ValueError):
    """The athlete roster (its file in the state directory, an edit, or a CSV being imported) is
    unusable. ``line`` is the CSV line at fault, when there is one."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class ProgramError(GymStationError, ValueError):
    """A coach's program or one of its settings is out of bounds, off its step, or unknown.
    ``key`` names the setting at fault, when there is one."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


class FileContentError(GymStationError, ValueError):
    """A file's bytes are not the document they should be: too big, not UTF-8, not JSON, nested
    too deep. The message says which and where (the line); the caller names the file and what
    to do about it."""

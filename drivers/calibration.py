"""A plate's calibration: per-cell offset (counts at no load) and scale (counts per newton).

Stored as JSON in the state directory with the date it was made, written atomically (a temporary
file renamed over the old one) so a power cut never leaves half a calibration.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from .errors import CalibrationError, FileContentError
from .files import read_json, write_atomic

FORMAT_VERSION = 1
COUNT_LIMIT = 2**24  #: the largest |offset| or |scale| a stored calibration may have


@dataclass(frozen=True, slots=True)
class Calibration:
    """Per-cell ``offsets`` (counts read with nothing on the plate) and ``scales`` (counts per
    newton, sign included: a cell wired in reverse has a negative scale). ``calibrated_at`` is an
    ISO-8601 UTC time of the mass calibration (``None`` for a plate that was only tared);
    ``tared_at`` of the last tare."""

    offsets: tuple[float, ...]
    scales: tuple[float, ...]
    calibrated_at: str | None = None
    tared_at: str | None = None
    masses_kg: tuple[float, ...] = field(default=())

    def __post_init__(self):
        if len(self.offsets) != len(self.scales):
            raise CalibrationError(
                f"calibration has {len(self.offsets)} offsets but {len(self.scales)} scales"
            )
        for i, s in enumerate(self.scales):
            if not math.isfinite(s) or abs(s) < 1e-6:
                raise CalibrationError(
                    f"cell {i}: scale {s!r} counts/N is not usable; recalibrate the plate"
                )
        for i, o in enumerate(self.offsets):
            if not math.isfinite(o):
                raise CalibrationError(f"cell {i}: offset {o!r} is not a number; tare the plate")

    @property
    def cells(self) -> int:
        return len(self.offsets)

    def newtons(self, counts) -> list[float]:
        """Convert one raw word per cell into newtons."""
        return [(c - o) / s for c, o, s in zip(counts, self.offsets, self.scales, strict=True)]

    def with_offsets(self, offsets, *, tared_at: str | None = None) -> Calibration:
        return replace(self, offsets=tuple(float(o) for o in offsets),
                       tared_at=tared_at or utc_now())

    def age_days(self, now: datetime | None = None) -> float | None:
        """Days since the mass calibration, or ``None`` if never calibrated with a mass."""
        if not self.calibrated_at:
            return None
        now = now or datetime.now(UTC)
        return (now - datetime.fromisoformat(self.calibrated_at)).total_seconds() / 86400.0

    def to_json(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "offsets": list(self.offsets),
            "scales": list(self.scales),
            "calibrated_at": self.calibrated_at,
            "tared_at": self.tared_at,
            "masses_kg": list(self.masses_kg),
        }

    @classmethod
    def from_json(cls, data: dict, source: str = "calibration") -> Calibration:
        try:
            if data.get("format") != FORMAT_VERSION:
                raise CalibrationError(
                    f"{source}: unknown calibration format {data.get('format')!r}; "
                    "run `gym-station calibrate` again"
                )
            for key in ("offsets", "scales", "masses_kg"):
                if not isinstance(data.get(key, []), list):
                    raise TypeError(f"{key} is not a list")
            offsets = tuple(float(x) for x in data["offsets"])
            scales = tuple(float(x) for x in data["scales"])
            masses = tuple(float(x) for x in data.get("masses_kg", ()))
            # counts are signed 24-bit words: an offset or a scale beyond 2^24 is not a plate's
            if any(not abs(v) <= COUNT_LIMIT for v in offsets + scales):
                raise ValueError(f"offsets and scales must be within +-{COUNT_LIMIT} counts")
            if any(not 0 <= m <= 1000 for m in masses):
                raise ValueError("masses_kg must be from 0 to 1000 kg")
            for key in ("calibrated_at", "tared_at"):
                _utc_time(data.get(key), key)
            return cls(
                offsets=offsets,
                scales=scales,
                calibrated_at=data.get("calibrated_at"),
                tared_at=data.get("tared_at"),
                masses_kg=masses,
            )
        except CalibrationError as e:
            if str(e).startswith(f"{source}:"):
                raise
            raise CalibrationError(f"{source}: {e}") from None  # name the file at fault
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
            raise CalibrationError(
                f"{source}: calibration file is damaged ({e}); run `gym-station calibrate` again"
            ) from None

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: a crash leaves either the old file or the new one."""
        write_atomic(path, json.dumps(self.to_json(), indent=2))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Calibration:
        path = Path(path)
        try:
            data = read_json(path)
        except FileNotFoundError:
            raise CalibrationError(
                f"{path}: the plate is not calibrated yet; run `gym-station calibrate`"
            ) from None
        except OSError as e:
            raise CalibrationError(
                f"{path}: calibration file cannot be read ({e.strerror or e}); "
                "run `gym-station calibrate` again"
            ) from None
        except FileContentError as e:  # not UTF-8, not JSON, [[[[... nested, huge
            raise CalibrationError(
                f"{path}: calibration file is damaged ({e}); run `gym-station calibrate` again"
            ) from None
        if not isinstance(data, dict):
            raise CalibrationError(f"{path}: calibration file is damaged; run `gym-station calibrate`")
        return cls.from_json(data, source=str(path))


def _utc_time(value, key: str) -> None:
    """A stored time is ``None`` or ISO-8601 with its UTC offset (``age_days`` subtracts it from
    an aware time); anything else is a damaged file."""
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a date")
    stamp = datetime.fromisoformat(value)
    if stamp.utcoffset() is None:
        raise ValueError(f"{key} {value!r} has no UTC offset")
    stamp.astimezone(UTC)  # OverflowError for a time at the edge of year 1 or 9999


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

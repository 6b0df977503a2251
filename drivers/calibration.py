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

from .errors import CalibrationError
from .files import write_atomic

FORMAT_VERSION = 1


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
            return cls(
                offsets=tuple(float(x) for x in data["offsets"]),
                scales=tuple(float(x) for x in data["scales"]),
                calibrated_at=data.get("calibrated_at"),
                tared_at=data.get("tared_at"),
                masses_kg=tuple(float(x) for x in data.get("masses_kg", ())),
            )
        except CalibrationError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
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
            text = path.read_text()
        except FileNotFoundError:
            raise CalibrationError(
                f"{path}: the plate is not calibrated yet; run `gym-station calibrate`"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise CalibrationError(
                f"{path}: calibration file is damaged (line {e.lineno}: {e.msg}); "
                "run `gym-station calibrate` again"
            ) from None
        if not isinstance(data, dict):
            raise CalibrationError(f"{path}: calibration file is damaged; run `gym-station calibrate`")
        return cls.from_json(data, source=str(path))


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

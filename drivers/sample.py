"""One reading of the whole plate, and what every plate offers the station."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Sample:
    """The plate at one instant.

    ``t`` is seconds on a monotonic clock (the plate's own clock: real for hardware, virtual for
    simulation and replay), taken when the word was read. ``heel`` and ``forefoot`` are newtons
    after tare and calibration. ``cells`` are the raw signed 24-bit counts, one per load cell, in
    configuration order (empty for recordings without them). ``left``/``right`` are newtons on the
    plate's left/right half as seen by the athlete standing on it, for 4-cell plates (``None`` on
    2-cell plates); the plate does not know which foot is on it, so the station maps them to
    medial/lateral from the side being trained.
    """

    t: float
    heel: float
    forefoot: float
    cells: tuple[int, ...] = ()
    left: float | None = None
    right: float | None = None

    @property
    def total(self) -> float:
        """Vertical load on the plate in newtons."""
        return self.heel + self.forefoot


@runtime_checkable
class SampleSource(Protocol):
    """What the sampler needs from any plate: real, simulated or replayed.

    ``read`` blocks until the next sample or the timeout (raising a ``HardwareError`` naming the
    culprit, or ``EndOfRecording`` at the end of a replay). ``clock`` is the monotonic clock the
    samples are stamped with. ``faults`` counts fault kinds seen so far.
    """

    rate_hz: float
    clock: Callable[[], float]

    def read(self, timeout: float = 1.0) -> Sample: ...

    @property
    def faults(self) -> Mapping[str, int]: ...

    def close(self) -> None: ...


@runtime_checkable
class WordSource(Protocol):
    """What the plate needs from a bank of HX711s (real or simulated): raw words, one per cell.

    ``read`` returns one signed 24-bit word per cell in configuration order, from one conversion,
    or raises ``HX711Timeout`` naming the silent DOUT pins. ``data_pins`` are the BCM numbers of the
    cells' DOUT lines (used in messages). ``clock`` is the monotonic clock that times the words.
    """

    data_pins: tuple[int, ...]
    clock: Callable[[], float]

    def read(self, timeout: float = 1.0) -> list[int]: ...

    @property
    def faults(self) -> Mapping[str, int]: ...

    def close(self) -> None: ...

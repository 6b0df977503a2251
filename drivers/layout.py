"""Which load cell sits where under the foot plate, and which GPIO lines reach its HX711."""

from __future__ import annotations

from dataclasses import dataclass

ZONES = ("heel", "forefoot")
EDGES = ("left", "right")


@dataclass(frozen=True, slots=True)
class CellSpec:
    """One load cell and its HX711.

    ``zone`` is ``heel`` or ``forefoot``; ``edge`` is ``left``/``right`` (the plate's half, as seen
    by the athlete standing on it) on 4-cell plates and ``None`` on 2-cell plates. ``data_pin`` is
    the BCM number of the chip's DOUT line; ``clock_pin`` the BCM number of its PD_SCK line (often
    shared by every chip).
    """

    name: str
    zone: str
    data_pin: int
    clock_pin: int
    edge: str | None = None

    def __post_init__(self):
        if self.zone not in ZONES:
            raise ValueError(f"cell {self.name!r}: zone must be one of {ZONES}, not {self.zone!r}")
        if self.edge is not None and self.edge not in EDGES:
            raise ValueError(f"cell {self.name!r}: edge must be one of {EDGES}, not {self.edge!r}")


@dataclass(frozen=True, slots=True)
class PlateLayout:
    """The plate's cells in configuration order, with the chips' gain and expected rate."""

    cells: tuple[CellSpec, ...]
    gain: int = 128
    rate_hz: float = 80.0

    def __post_init__(self):
        if len(self.cells) not in (2, 4):
            raise ValueError(f"a plate has 2 or 4 load cells, not {len(self.cells)}")
        zones = [c.zone for c in self.cells]
        for zone in ZONES:
            if zones.count(zone) != len(self.cells) // 2:
                raise ValueError(
                    f"a {len(self.cells)}-cell plate needs {len(self.cells) // 2} {zone} cell(s), "
                    f"found {zones.count(zone)}"
                )
        if len(self.cells) == 4:
            for zone in ZONES:
                edges = sorted(str(c.edge) for c in self.cells if c.zone == zone)
                if edges != ["left", "right"]:
                    raise ValueError(f"a 4-cell plate needs one left and one right {zone} cell")
        pins = [c.data_pin for c in self.cells]
        if len(set(pins)) != len(pins):
            raise ValueError(f"each cell needs its own DOUT pin; got {pins}")
        if self.gain not in (128, 64, 32):
            raise ValueError(f"HX711 gain is 128, 64 (channel A) or 32 (channel B), not {self.gain}")
        if not 1.0 <= self.rate_hz <= 100.0:
            raise ValueError(f"expected rate {self.rate_hz} Hz is outside 1..100 (HX711: 10 or 80)")

    @property
    def data_pins(self) -> tuple[int, ...]:
        return tuple(c.data_pin for c in self.cells)

    @property
    def clock_pins(self) -> tuple[int, ...]:
        return tuple(c.clock_pin for c in self.cells)

    @property
    def four_cell(self) -> bool:
        return len(self.cells) == 4

    def indices(self, zone: str, edge: str | None = None) -> tuple[int, ...]:
        """Positions in ``cells`` of the cells in ``zone`` (and ``edge``, if given)."""
        return tuple(
            i for i, c in enumerate(self.cells)
            if c.zone == zone and (edge is None or c.edge == edge)
        )


def two_cell_layout(clock_pin: int = 5, heel_pin: int = 6, forefoot_pin: int = 13,
                    rate_hz: float = 80.0, gain: int = 128) -> PlateLayout:
    """The common 2-cell plate: one cell under the heel, one under the forefoot."""
    return PlateLayout(
        cells=(
            CellSpec("heel", "heel", heel_pin, clock_pin),
            CellSpec("forefoot", "forefoot", forefoot_pin, clock_pin),
        ),
        gain=gain,
        rate_hz=rate_hz,
    )

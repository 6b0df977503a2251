"""The calibration procedure: a small state machine fed averaged raw words, step by step.

Steps: the empty plate (its words become the offsets), then a known mass on each area of the plate
(2 cells: heel, forefoot; 4 cells: heel left, heel right, forefoot left, forefoot right). A rigid
plate spreads a mass on the heel area over every cell through its lever arms, so the mass is not
assumed to sit on one cell: each placement ``j`` gives one equation
``sum_i (counts_ij - offset_i) / scale_i = m * g`` and the per-cell ``1 / scale_i`` are solved by
least squares over all placements. This module does no I/O and prints nothing: ``gym-station
calibrate`` shows :attr:`Calibrator.prompt`, waits for Enter, feeds :func:`average_counts` and shows
any ``CalibrationError`` message, which says what to do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .calibration import Calibration, utc_now
from .errors import CalibrationError
from .layout import PlateLayout
from .plate import G, despike, noise_sigma

#: The HX711's rail words (datasheet): a cell reading these is saturated or disconnected.
WORD_MAX = 0x7FFFFF
WORD_MIN = -0x800000


@dataclass(frozen=True, slots=True)
class Reading:
    """A steady average of raw words: per-cell mean ``counts`` (single-word spikes removed),
    peak-to-peak ``spread`` and white-noise ``noise`` (sigma), all in counts."""

    counts: tuple[float, ...]
    spread: tuple[float, ...]
    noise: tuple[float, ...]
    samples: int


def _unsteady(spread: Sequence[float], noise: Sequence[float], still_factor: float,
              min_spread_counts: float) -> int | None:
    """Index of the cell whose spread is beyond its noise (or the floor), else ``None``."""
    worst, worst_ratio = None, 1.0
    for i, (p, s) in enumerate(zip(spread, noise, strict=True)):
        ratio = p / max(still_factor * s, min_spread_counts)
        if ratio > worst_ratio:
            worst, worst_ratio = i, ratio
    return worst


def _cell_names(source, n: int) -> list[str]:
    layout = getattr(source, "layout", None)
    if isinstance(layout, PlateLayout):
        return [c.name for c in layout.cells]
    pins = tuple(getattr(source, "data_pins", ()))
    if len(pins) == n:
        return [f"HX711 on GPIO {p}" for p in pins]
    return [f"cell {i}" for i in range(n)]


def average_counts(source, samples: int = 80, timeout: float = 1.0, *,
                   still_factor: float = 10.0, min_spread_counts: float = 200.0) -> Reading:
    """Read ``samples`` words from a ``ForcePlate`` (``read_counts``) or a word source (``read``)
    and return their steady per-cell average.

    Single corrupted words are removed with a 3-word median first. The reading is refused
    (``CalibrationError``) when a cell's peak-to-peak spread exceeds ``still_factor`` times its own
    white-noise sigma (a swinging mass, someone touching the plate, creep after loading), with a
    floor of ``min_spread_counts`` (about 10 x the HX711's noise at gain 128) so a very quiet
    cell is not refused for a few counts; or when a cell sits on the HX711's rail words.
    """
    if samples < 10:
        raise ValueError(f"a steady average needs at least 10 words, not {samples}")
    read = getattr(source, "read_counts", None) or source.read
    block = np.array([read(timeout) for _ in range(samples)], dtype=float)
    names = _cell_names(source, block.shape[1])
    median = np.median(block, axis=0)
    for i, m in enumerate(median):
        if m >= WORD_MAX or m <= WORD_MIN:
            raise CalibrationError(
                f"the {names[i]} cell reads the HX711's end-of-range word ({int(m)}): check its "
                "four wires (E+, E-, A+, A-) and that nothing presses it beyond its capacity")
    clean = despike(block)
    spread = np.ptp(clean, axis=0)
    noise = noise_sigma(block)
    bad = _unsteady(spread, noise, still_factor, min_spread_counts)
    if bad is not None:
        raise CalibrationError(
            f"the reading is not steady: the {names[bad]} cell moved by {spread[bad]:.0f} counts "
            f"(its noise is about {noise[bad]:.0f}); wait until nothing on the plate moves and "
            "press Enter again")
    return Reading(tuple(clean.mean(axis=0).tolist()), tuple(spread.tolist()),
                   tuple(noise.tolist()), samples)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the procedure: ``key`` (``empty``, ``heel``, ``heel_left``, ..., ``centre``),
    the plate area it loads (``zone``/``edge``, ``None`` for empty/centre) and the ``prompt``."""

    key: str
    zone: str | None
    edge: str | None
    prompt: str


class Calibrator:
    """Walks a person through calibrating ``layout`` with one known mass of ``known_mass_kg``.

    Feed each step a :class:`Reading` (or plain per-cell average counts) with :meth:`feed`; a
    refused step raises ``CalibrationError`` and stays the current step. Options:

    - ``centre_check``: add a last placement in the middle of the plate; the system is then
      over-determined and placements that disagree by more than ``max_residual`` (2 %) of the
      mass are refused (a mass touching the frame, a wrong mass).
    - ``min_change_counts``: a placement must move some cell by more than this (default 1000
      counts, about 50 x the HX711's noise at gain 128) and by 20 x that cell's noise.
    - ``max_condition``: the placements must tell the cells apart: the condition number of the
      column-normalised system must stay below this (default 25; a rigid plate with the mass over
      each area gives 2 to 5).

    A cell whose counts fall under load (A+/A- swapped) gets a negative scale, which
    :class:`~drivers.calibration.Calibration` handles; :attr:`notes` says so for the person.
    """

    def __init__(self, layout: PlateLayout, known_mass_kg: float, *, centre_check: bool = False,
                 min_change_counts: float = 1000.0, change_noise_factor: float = 20.0,
                 max_condition: float = 25.0, max_residual: float = 0.02,
                 still_factor: float = 10.0, min_spread_counts: float = 200.0):
        if not isinstance(layout, PlateLayout):
            raise TypeError(f"layout must be a PlateLayout, not {type(layout).__name__}")
        if not (math.isfinite(known_mass_kg) and known_mass_kg > 0):
            raise ValueError(f"the known mass must be a positive number of kg, not {known_mass_kg!r}")
        for key, value in (("min_change_counts", min_change_counts),
                           ("change_noise_factor", change_noise_factor),
                           ("max_condition", max_condition), ("max_residual", max_residual),
                           ("still_factor", still_factor), ("min_spread_counts", min_spread_counts)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{key} must be a positive number, not {value!r}")
        self.layout = layout
        self.known_mass_kg = float(known_mass_kg)
        self._min_change = min_change_counts
        self._change_noise = change_noise_factor
        self._max_condition = max_condition
        self._max_residual = max_residual
        self._still_factor = still_factor
        self._min_spread = min_spread_counts
        self._names = [c.name for c in layout.cells]
        self.steps: tuple[Step, ...] = self._make_steps(centre_check)
        self.notes: list[str] = []
        self._offsets: np.ndarray | None = None
        self._deltas: list[np.ndarray] = []
        self._scales: tuple[float, ...] | None = None

    def _make_steps(self, centre_check: bool) -> tuple[Step, ...]:
        m = f"{self.known_mass_kg:g} kg"
        steps = [Step("empty", None, None,
                      "Take everything off the plate and keep clear of it, then press Enter")]
        if self.layout.four_cell:
            areas = [(z, e) for z in ("heel", "forefoot") for e in ("left", "right")]
        else:
            areas = [("heel", None), ("forefoot", None)]
        for zone, edge in areas:
            where = f"the {zone} area" + (f", {edge} half (as you stand on the plate)"
                                           if edge else "")
            key = zone if edge is None else f"{zone}_{edge}"
            steps.append(Step(key, zone, edge,
                              f"Put the {m} mass on {where}, then press Enter"))
        if centre_check:
            steps.append(Step("centre", None, None,
                              f"Put the {m} mass in the middle of the plate, then press Enter"))
        return tuple(steps)

    # -- state ---------------------------------------------------------------------------------

    @property
    def step(self) -> Step | None:
        """The step waiting for a reading, or ``None`` when done."""
        if self._scales is not None:
            return None
        if self._offsets is None:
            return self.steps[0]
        return self.steps[1 + len(self._deltas)]

    @property
    def prompt(self) -> str:
        step = self.step
        return step.prompt if step else "Calibration done: take the mass off the plate"

    @property
    def done(self) -> bool:
        return self._scales is not None

    def restart(self) -> None:
        """Start again from the empty plate."""
        self._offsets = None
        self._deltas = []
        self._scales = None
        self.notes = []

    # -- feeding -------------------------------------------------------------------------------

    def feed(self, reading: Reading | Sequence[float]) -> None:
        """Give the current step its averaged counts; advances, or raises ``CalibrationError``."""
        step = self.step
        if step is None:
            raise CalibrationError("calibration is already finished; take the result or restart")
        counts, noise = self._unpack(reading)
        if step.key == "empty":
            self._feed_empty(counts)
            return
        self._feed_placement(step, counts, noise)

    def _unpack(self, reading) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.layout.cells)
        if isinstance(reading, Reading):
            counts = np.asarray(reading.counts, dtype=float)
            noise = np.asarray(reading.noise, dtype=float)
            if len(counts) == n:
                bad = _unsteady(reading.spread, reading.noise, self._still_factor,
                                self._min_spread)
                if bad is not None:
                    raise CalibrationError(
                        f"the reading is not steady: the {self._names[bad]} cell moved by "
                        f"{reading.spread[bad]:.0f} counts; wait until nothing moves and press "
                        "Enter again")
        else:
            counts = np.asarray(list(reading), dtype=float)
            noise = np.zeros(len(counts))
        if counts.shape != (n,) or not np.all(np.isfinite(counts)):
            raise CalibrationError(f"expected one finite average per cell ({n}), got {counts}")
        return counts, noise

    def _feed_empty(self, counts: np.ndarray) -> None:
        for i, c in enumerate(counts):
            if c >= WORD_MAX or c <= WORD_MIN:
                raise CalibrationError(
                    f"the {self._names[i]} cell reads the HX711's end-of-range word with nothing "
                    "on the plate: check its four wires (E+, E-, A+, A-)")
        self._offsets = counts

    def _feed_placement(self, step: Step, counts: np.ndarray, noise: np.ndarray) -> None:
        delta = counts - self._offsets
        needed = np.maximum(self._min_change, self._change_noise * noise)
        if np.all(np.abs(delta) <= needed):
            i = int(np.argmax(np.abs(delta) / needed))
            raise CalibrationError(
                f"the counts did not change with the mass on the plate (largest change "
                f"{delta[i]:+.0f} counts, on the {self._names[i]} cell): check the mass is on "
                f"the {step.key.replace('_', ' ')} area and nothing holds the plate up, "
                "then press Enter")
        for k, previous in enumerate(self._deltas):
            if _same_direction(previous, delta):
                before = self.steps[1 + k].key.replace("_", " ")
                raise CalibrationError(
                    f"the counts are the same as with the mass on the {before} area: move the "
                    f"mass to the {step.key.replace('_', ' ')} area, then press Enter")
        self._deltas.append(delta)
        if 1 + len(self._deltas) == len(self.steps):
            self._solve()

    def _solve(self) -> None:
        a = np.array(self._deltas)                      # placements x cells, counts
        target = np.full(len(a), self.known_mass_kg * G)
        norms = np.linalg.norm(a, axis=0)
        if np.any(norms == 0):
            i = int(np.argmin(norms))
            self._deltas = []
            raise CalibrationError(
                f"the {self._names[i]} cell never changed: check its wiring; start the "
                "placements again")
        cond = float(np.linalg.cond(a / norms))
        if not math.isfinite(cond) or cond > self._max_condition:
            self._deltas = []
            raise CalibrationError(
                f"the placements do not tell the cells apart (condition number {cond:.3g}): "
                "put the mass right over each area in turn; start the placements again")
        inverse, *_ = np.linalg.lstsq(a, target, rcond=None)
        misfit = float(np.max(np.abs(a @ inverse - target))) / (self.known_mass_kg * G)
        if misfit > self._max_residual:
            self._deltas = []
            raise CalibrationError(
                f"the placements disagree by {100 * misfit:.1f} % of the mass (a mass touching "
                "the frame, or not the mass stated?); start the placements again")
        if np.any(np.abs(inverse) < 1e-12):
            self._deltas = []
            raise CalibrationError("a cell came out with no sensitivity; start the placements "
                                   "again with the mass right over each area")
        scales = 1.0 / inverse
        self.notes = [
            f"the {self._names[i]} cell reads backwards (its counts fall under load: A+ and A- "
            "swapped?); it is calibrated with a negative scale, which works as well"
            for i in np.flatnonzero(scales < 0)
        ]
        self._scales = tuple(float(s) for s in scales)

    # -- result --------------------------------------------------------------------------------

    def result(self, calibrated_at: str | None = None) -> Calibration:
        """The calibration found, stamped ``calibrated_at`` (default: now, UTC)."""
        if self._scales is None:
            raise CalibrationError(f"calibration is not finished: next step: {self.prompt}")
        when = calibrated_at or utc_now()
        return Calibration(
            offsets=tuple(float(o) for o in self._offsets),
            scales=self._scales,
            calibrated_at=when,
            tared_at=when,
            masses_kg=(self.known_mass_kg,) * (len(self.steps) - 1),
        )


def _same_direction(a: np.ndarray, b: np.ndarray, tolerance: float = 0.002) -> bool:
    """Whether two placements moved the cells alike (cosine above ``1 - tolerance`` once each
    cell's change is normalised by the larger of the two): the mass was not moved."""
    scale = np.maximum(np.abs(a), np.abs(b))
    scale[scale == 0] = 1.0
    x, y = a / scale, b / scale
    cos = float(x @ y) / (np.linalg.norm(x) * np.linalg.norm(y))
    return cos > 1.0 - tolerance

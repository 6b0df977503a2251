"""The simulated plate: an athlete's forces turned into raw HX711 words, so the simulation goes
through the SAME counts-to-newtons path (:class:`~drivers.plate.ForcePlate`) as the hardware.

The count model (per cell, gain 128)
------------------------------------
``word = offset + scale * newtons + drift(t) + noise``, rounded and clipped to the HX711's signed
24-bit range (``0x7FFFFF`` / ``-0x800000`` are saturation), with rare single-sample spikes.

* scale: at gain 128 the HX711's full scale is +-0.5 AVDD / 128 over 2^23 counts, i.e.
  ``128 * 2^24`` counts per volt-per-volt of bridge output. A 50 kg (490 N) half-bridge cell at
  1 mV/V wired as a half of a Wheatstone bridge gives about 2200 counts/N; hobby calibrations of
  such plates report ~20 counts per gram (~2000 counts/N). Default: 2100 counts/N +-15 % per cell.
* offset: the bridge's zero imbalance plus the top plate's own weight: tens to hundreds of
  thousands of counts, either sign.
* noise: the datasheet's input noise (50 nV RMS at 10 SPS, 90 nV at 80 SPS) is ~30 / ~60 counts
  at a 3.3 V excitation; default 40 counts RMS.
* drift: a slow linear creep (warm-up), default up to 1 count/s per cell.
* spikes: a word with one bit among 16..22 flipped, as when PD_SCK stays high too long (off by
  default; ``spike_rate_hz`` per cell).

How zone force splits onto cells: on a 2-cell plate the heel cell carries the heel force and the
forefoot cell the forefoot force. On a 4-cell plate each zone splits left/right in the athlete's
left/right proportion: ``cell(zone, edge) = zone_N * edge_N / total_N``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .athlete import GroundTruth, Scenario, ScriptedAthlete, TakeoverAthlete, ZoneForce
from .calibration import Calibration, utc_now
from .clock import VirtualClock, real_clock, real_sleep
from .errors import HX711Error, HX711Timeout
from .layout import PlateLayout, two_cell_layout

WORD_MAX = 0x7FFFFF
WORD_MIN = -0x800000
DEFAULT_SCALE = 2100.0
POLL_S = 0.002


class CountModel:
    """Per-cell true offset, scale, noise, drift and spikes of a plate's load cells and HX711s.

    Deterministic by ``seed``: the same calls in the same order give the same words.
    """

    def __init__(self, layout: PlateLayout, *, seed: int = 0,
                 scales: Sequence[float] | None = None, offsets: Sequence[float] | None = None,
                 noise_counts: float = 40.0, drift_counts_per_s: float = 1.0,
                 spike_rate_hz: float = 0.0):
        n = len(layout.cells)
        rng = np.random.default_rng([seed, 7])
        if scales is None:
            scales = DEFAULT_SCALE * rng.uniform(0.85, 1.15, n)
        if offsets is None:
            offsets = rng.choice([-1.0, 1.0], n) * rng.uniform(20_000, 300_000, n)
        self.layout = layout
        self.scales = tuple(float(s) for s in scales)
        self.offsets = tuple(float(o) for o in offsets)
        for name, values in (("scales", self.scales), ("offsets", self.offsets)):
            if len(values) != n:
                raise ValueError(f"{name}: {len(values)} values for a {n}-cell plate")
        if any(abs(s) < 1.0 or not math.isfinite(s) for s in self.scales):
            raise ValueError(f"scales {self.scales} counts/N: each must be finite and >= 1")
        for name, value in (("noise_counts", noise_counts),
                            ("drift_counts_per_s", drift_counts_per_s),
                            ("spike_rate_hz", spike_rate_hz)):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} = {value} must be a non-negative number")
        self.noise_counts = float(noise_counts)
        self.spike_rate_hz = float(spike_rate_hz)
        self.drift_rates = tuple(float(d) for d in rng.uniform(-1, 1, n) * drift_counts_per_s)
        self._rng = np.random.default_rng([seed, 11])
        self._scale = np.array(self.scales)
        self._offset = np.array(self.offsets)
        self._drift = np.array(self.drift_rates)
        self.spikes = 0

    @property
    def cells(self) -> int:
        return len(self.scales)

    def cell_newtons(self, forces: ZoneForce) -> np.ndarray:
        """Split zone forces onto the cells (configuration order); shape ``(..., cells)``."""
        heel = np.asarray(forces.heel, dtype=float)
        forefoot = np.asarray(forces.forefoot, dtype=float)
        out = np.zeros(heel.shape + (self.cells,))
        if not self.layout.four_cell:
            for i, cell in enumerate(self.layout.cells):
                out[..., i] = heel if cell.zone == "heel" else forefoot
            return out
        left = np.asarray(forces.left, dtype=float)
        total = left + np.asarray(forces.right, dtype=float)
        left_share = np.where(total > 1e-9, left / np.where(total > 1e-9, total, 1.0), 0.5)
        for i, cell in enumerate(self.layout.cells):
            zone = heel if cell.zone == "heel" else forefoot
            out[..., i] = zone * (left_share if cell.edge == "left" else 1.0 - left_share)
        return out

    def counts(self, t: float, newtons: Sequence[float], rate_hz: float = 80.0) -> list[int]:
        """One raw signed 24-bit word per cell at athlete time ``t`` for these cell forces."""
        raw = self._offset + self._scale * np.asarray(newtons, dtype=float) + self._drift * t
        if self.noise_counts:
            raw = raw + self._rng.normal(0.0, self.noise_counts, self.cells)
        words = np.clip(np.rint(raw), WORD_MIN, WORD_MAX).astype(np.int64)
        if self.spike_rate_hz:
            hit = self._rng.random(self.cells) < self.spike_rate_hz / rate_hz
            for i in np.flatnonzero(hit):
                bit = int(self._rng.integers(16, 23))
                flipped = (int(words[i]) & 0xFFFFFF) ^ (1 << bit)
                words[i] = flipped - (1 << 24) if flipped & 0x800000 else flipped
                self.spikes += 1
        return [int(w) for w in words]

    def newtons(self, t: float, words: Sequence[int]) -> list[float]:
        """The inverse at time ``t`` without noise (for tests): words back to cell newtons."""
        return [(w - o - d * t) / s for w, o, d, s in
                zip(words, self.offsets, self.drift_rates, self.scales, strict=True)]


def simulated_calibration(model: CountModel, *, calibrated_at: str | None = None) -> Calibration:
    """What a good calibration of this plate would store: its true offsets and scales."""
    return Calibration(offsets=model.offsets, scales=model.scales,
                       calibrated_at=calibrated_at or utc_now(), masses_kg=(20.0,))


@dataclass(frozen=True)
class SilentCell:
    """Fault: the HX711 of cell ``cell`` sends no word (DOUT stays high) from ``start`` to ``end``
    (athlete time, seconds)."""

    cell: int
    start: float
    end: float


@dataclass(frozen=True)
class SaturatedCell:
    """Fault: cell ``cell`` reads the rail (``0x7FFFFF``, or ``-0x800000`` if not ``high``) from
    ``start`` to ``end`` (an overloaded or unplugged cell)."""

    cell: int
    start: float
    end: float
    high: bool = True


class SimulatedBank:
    """A bank of simulated HX711s under an athlete: a :class:`~drivers.sample.WordSource`.

    Conversion ``k`` (k = 1, 2, ...) happens at athlete time ``k / rate_hz``, i.e. clock time
    ``t0 + k / rate_hz``. On a :class:`VirtualClock` each ``read`` advances the clock to the next
    conversion (as fast as possible); on a real clock it waits with short sleeps. Like a real
    HX711 only the latest word is kept: a late reader gets the newest conversion and the missed
    ones are counted in ``missed``.
    """

    def __init__(self, athlete, layout: PlateLayout, model: CountModel | None = None, *,
                 rate_hz: float | None = None, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None, seed: int = 0,
                 faults: Sequence[SilentCell | SaturatedCell] = (), t0: float | None = None):
        if not callable(getattr(athlete, "forces", None)):
            raise TypeError("athlete must have forces(t) -> ZoneForce")
        self.athlete = athlete
        self.layout = layout
        self.model = model or CountModel(layout, seed=seed)
        if self.model.cells != len(layout.cells):
            raise ValueError(f"count model has {self.model.cells} cells, layout "
                             f"{len(layout.cells)}")
        self.rate_hz = float(rate_hz if rate_hz is not None else layout.rate_hz)
        if not 1.0 <= self.rate_hz <= 100.0:
            raise ValueError(f"rate {self.rate_hz} Hz is outside 1..100 (HX711: 10 or 80)")
        self.clock = clock if clock is not None else VirtualClock()
        self.virtual = isinstance(self.clock, VirtualClock)
        self._sleep = sleep or (self.clock.sleep if self.virtual else real_sleep)
        if t0 is None:
            t0 = getattr(athlete, "t0", None)
        self.t0 = float(self.clock() if t0 is None else t0)
        for fault in faults:
            if not 0 <= fault.cell < len(layout.cells):
                raise ValueError(f"fault {fault}: no cell {fault.cell} on a "
                                 f"{len(layout.cells)}-cell plate")
            if not fault.end > fault.start:
                raise ValueError(f"fault {fault}: end must be after start")
        self.fault_plan = tuple(faults)
        self.data_pins = layout.data_pins
        self._k = 0
        self._faults: Counter[str] = Counter()
        self.missed = 0
        self.last_t: float | None = None  # athlete time of the last word returned
        self._closed = False

    @property
    def faults(self) -> Mapping[str, int]:
        """Fault kinds a reader would have seen: ``timeout``, ``saturated``."""
        return dict(self._faults)

    @property
    def injected(self) -> Mapping[str, int]:
        """What the simulation did on purpose: ``spikes`` (invisible to a reader as such)."""
        return {"spikes": self.model.spikes, "missed": self.missed}

    def _silent(self, t: float) -> tuple[int, ...]:
        return tuple(self.data_pins[f.cell] for f in self.fault_plan
                     if isinstance(f, SilentCell) and f.start <= t < f.end)

    def _wait_until(self, target: float, deadline: float) -> bool:
        """Wait on the clock until ``target``; False if ``deadline`` comes first."""
        while True:
            now = self.clock()
            if now >= target - 1e-12:
                return True
            if now >= deadline - 1e-12:
                return False
            if self.virtual:
                self.clock.advance(min(target, deadline) - now)
            else:
                self._sleep(min(POLL_S, target - now, deadline - now))

    def read(self, timeout: float = 1.0) -> list[int]:
        """The next conversion's words, one per cell; ``HX711Timeout`` if none before timeout."""
        if self._closed:
            raise HX711Error("the simulated HX711 bank is closed")
        start = self.clock()
        deadline = start + timeout
        k_ready = math.floor((start - self.t0) * self.rate_hz + 1e-9)
        k = max(self._k + 1, k_ready)
        silent: set[int] = set()
        while pins := self._silent(k / self.rate_hz):
            silent.update(pins)
            k += 1
        target = self.t0 + k / self.rate_hz
        if not self._wait_until(target, deadline):
            # a silent chip holds DOUT high; if none is silent, every chip is late (slow rate)
            silent = tuple(sorted(silent)) or self.data_pins
            self._faults["timeout"] += 1
            pins = ", ".join(str(p) for p in silent)
            raise HX711Timeout(f"HX711 on GPIO {pins} sent no word for {timeout:g} s: check its "
                               "DOUT wire and power", silent_pins=silent)
        if k > self._k + 1 and self._k > 0:
            self.missed += k - self._k - 1
        self._k = k
        t = k / self.rate_hz
        words = self.model.counts(t, self.model.cell_newtons(self.athlete.forces(t)),
                                  self.rate_hz)
        for f in self.fault_plan:
            if isinstance(f, SaturatedCell) and f.start <= t < f.end:
                words[f.cell] = WORD_MAX if f.high else WORD_MIN
        if any(w in (WORD_MAX, WORD_MIN) for w in words):
            self._faults["saturated"] += 1
        self.last_t = t
        return words

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> SimulatedBank:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def simulated_bank(scenario: Scenario | str | Path, *, seed: int = 0, rate_hz: float = 80.0,
                   layout: PlateLayout | None = None, realtime: bool = False,
                   body_mass_kg: float | None = None, model: CountModel | None = None,
                   faults: Sequence[SilentCell | SaturatedCell] = (),
                   clock: Callable[[], float] | None = None, spike_rate_hz: float = 0.0,
                   keyboard: bool = False) -> tuple[SimulatedBank, GroundTruth]:
    """A simulated HX711 bank under a scripted athlete, and the run's ground truth.

    ``realtime`` paces words on the real monotonic clock; otherwise a :class:`VirtualClock`
    starting at 0 runs as fast as the reader can go. With ``keyboard`` the athlete is a
    :class:`~drivers.athlete.TakeoverAthlete` (``bank.athlete.press("drive")`` etc. take over
    from the script). The layout's ``rate_hz`` is set to ``rate_hz``.
    """
    athlete = ScriptedAthlete(scenario, seed=seed, body_mass_kg=body_mass_kg)
    layout = replace(layout or two_cell_layout(), rate_hz=float(rate_hz))
    model = model or CountModel(layout, seed=seed, spike_rate_hz=spike_rate_hz)
    if clock is None:
        clock = real_clock if realtime else VirtualClock()
    driver = TakeoverAthlete(athlete, clock) if keyboard else athlete
    bank = SimulatedBank(driver, layout, model, rate_hz=rate_hz, clock=clock, faults=faults)
    return bank, athlete.truth


def simulated_plate(scenario: Scenario | str | Path, *, seed: int = 0, rate_hz: float = 80.0,
                    layout: PlateLayout | None = None, realtime: bool = False,
                    body_mass_kg: float | None = None, model: CountModel | None = None,
                    faults: Sequence[SilentCell | SaturatedCell] = (),
                    clock: Callable[[], float] | None = None, spike_rate_hz: float = 0.0,
                    keyboard: bool = False, **plate_kwargs) -> tuple[object, GroundTruth]:
    """A :class:`~drivers.plate.ForcePlate` on :func:`simulated_bank` (same arguments; the rest
    go to the ForcePlate), calibrated with :func:`simulated_calibration`, and the ground truth.
    To send keyboard commands, build the plate from :func:`simulated_bank` and keep the bank
    (``bank.athlete``)."""
    from .plate import ForcePlate  # the plate module sits above this one; imported lazily

    bank, truth = simulated_bank(scenario, seed=seed, rate_hz=rate_hz, layout=layout,
                                 realtime=realtime, body_mass_kg=body_mass_kg, model=model,
                                 faults=faults, clock=clock, spike_rate_hz=spike_rate_hz,
                                 keyboard=keyboard)
    plate = ForcePlate(bank, bank.layout, simulated_calibration(bank.model), **plate_kwargs)
    return plate, truth

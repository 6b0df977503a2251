"""The force plate: raw HX711 words in, heel/forefoot newtons out.

A :class:`ForcePlate` wraps a word source (the real HX711 reader or a simulated bank) and turns one
word per load cell into a :class:`~drivers.sample.Sample`:

1. **Spike filter.** Each cell's word goes through a *gated* filter that hands on the word of one
   sample ago unchanged unless it is a spike: it stood out from BOTH neighbours (the previous
   output and this word), in the same direction, by more than a threshold relative to the cell's
   recent noise (8 x the running mean of successive differences, about 9 sigma for white noise),
   with a floor of half a kilogram on that cell (a jump smaller than that cannot change any
   coaching decision). Only then is it replaced, by the mean of its two neighbours. A single
   corrupted word (the HX711 "random spike": PD_SCK held high too long, a bit lost, a rail word
   0x7FFFFF/0x800000) is such a word, so it never reaches the output. Anything else, a genuine
   step (someone stepping on), a ramp, a quick shift of weight from heel to toes, comes through
   exactly, one sample late: unlike a median, the filter never reshapes a real movement (at
   10 SPS a median flattened the first word of every quick transition). Two bad words with a
   good one between them are both removed (the first neighbour is the clean previous output);
   two bad words in a row pass (neither stands out from both neighbours; the station's own
   gate holds them off). A removed word is counted in ``faults["spike"]``; counting starts
   after the first ten words, once the noise estimate has something to stand on.
2. **Counts to newtons**, per cell: ``(word - offset) / scale`` with the calibration's numbers
   (a negative scale is a cell wired in reverse and works as well). Heel = sum of the heel cells,
   forefoot = sum of the forefoot cells; 4-cell plates add left/right (the plate's halves).
3. **Zero tracking.** Load cells and the HX711 drift with temperature and creep after a load
   (olkal/HX711_ADC#64): a tared plate slowly stops reading zero. While *every* cell reads within
   ``zero_band_kg`` of zero and has been still for ``still_window_s``, each offset follows the
   cell's word with a first-order time constant ``zero_time_constant_s``, never faster than
   ``zero_max_kg_per_s``. A person on the plate loads the cells far beyond the band, so their
   load is never tracked away; the offsets learnt are visible in :attr:`ForcePlate.calibration`.
4. **Tare** averages words into new offsets, refusing (``TareRefused``) when the plate is loaded
   or moving, judged with the calibration's scales.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from .calibration import Calibration
from .errors import CalibrationError, HardwareError, NotCalibrated, PlateError, TareRefused
from .layout import PlateLayout
from .sample import Sample, WordSource

#: Standard gravity, m/s^2: converts the kilogram thresholds people think in into newtons.
G = 9.80665


def despike(block: np.ndarray) -> np.ndarray:
    """Centred 3-point median of each column of ``block`` (rows: samples, columns: cells).

    Returns ``len(block) - 2`` rows (the end rows have no two neighbours). A single corrupted word
    is dropped; used on blocks of words for tare and calibration averages.
    """
    block = np.asarray(block, dtype=float)
    if block.ndim != 2 or len(block) < 3:
        raise ValueError(f"despike needs at least 3 rows of words, got shape {block.shape}")
    return np.median(np.stack([block[:-2], block[1:-1], block[2:]]), axis=0)


def noise_sigma(block: np.ndarray) -> np.ndarray:
    """Robust per-column estimate of white-noise sigma from successive differences.

    ``median(|d|) / (0.6745 * sqrt 2)``: a slow trend or a single spike barely moves it, so a
    reading's spread can be compared with it to tell motion from noise.
    """
    d = np.abs(np.diff(np.asarray(block, dtype=float), axis=0))
    return np.median(d, axis=0) / (0.6745 * math.sqrt(2.0))


class _CellFilter:
    """The gated spike filter of one cell, with its noise estimate (see the module docstring).

    :meth:`stands_out` says whether the previous word stood out from both of its neighbours (the
    previous output and the new word) in the same direction by more than the threshold;
    :meth:`take` then hands the previous word on unchanged, or the neighbours' mean in its place.
    """

    __slots__ = ("word", "out", "before", "noise", "alpha", "seen")

    def __init__(self, alpha: float):
        self.word: int | None = None   # the previous raw word
        self.out = 0.0                 # the previous output
        self.before = 0.0              # the output before that
        self.noise = 0.0               # running mean |successive difference| of the words
        self.seen = 0
        self.alpha = alpha

    def stands_out(self, word: int, floor: float) -> int:
        """+1 (-1) when the previous word stood above (below) both neighbours by more than
        ``max(8 x noise, floor)``, else 0."""
        b = self.word
        if b is None:
            return 0
        threshold = 8.0 * self.noise
        if threshold < floor:
            threshold = floor
        up = b - self.out
        down = b - word
        if up > threshold and down > threshold:
            return 1
        if up < -threshold and down < -threshold:
            return -1
        return 0

    def take(self, word: int, floor: float, gated: bool) -> tuple[float, bool]:
        """Add a word; return (the previous word, or its neighbours' mean if ``gated``, and
        whether that was a counted spike)."""
        b = self.word
        if b is None:
            self.word, self.out = word, float(word)
            self.before = self.out
            return self.out, False
        a = self.out
        if not gated:
            out = float(b)
        else:
            # the neighbours' mean, exact on a ramp; but when the next word is further from
            # the previous output than the recent pace allows (it may be bad too: two spikes
            # in a row), the previous output (the median of the three: b is an extreme)
            pace = a - self.before
            reach = 2.0 * (pace if pace >= 0 else -pace) + floor
            gap = word - a
            if -reach <= gap <= reach:
                out = 0.5 * (a + word)
            else:
                out = max(a, float(word)) if b > a else min(a, float(word))
        self.before = a
        # counted once the noise estimate has a few differences behind it (removed from the
        # output a spike always is)
        spike = gated and self.seen >= 8
        # Noise: running mean |successive word difference|, each clipped to twice the estimate
        # (or an eighth of the floor, from which a quiet cell's estimate starts), so that a
        # spike or a movement can only raise it by a factor (1 + alpha); until alpha's worth of
        # differences is in, their plain mean.
        self.seen += 1
        weight = self.alpha if self.alpha * self.seen > 1.0 else 1.0 / self.seen
        d = word - b if word >= b else b - word
        clip = 2.0 * self.noise
        if clip < 0.125 * floor:
            clip = 0.125 * floor
        self.noise += weight * ((d if d < clip else clip) - self.noise)
        self.word, self.out = word, out
        return out, spike


class ForcePlate:
    """The force plate as a :class:`~drivers.sample.SampleSource`.

    ``words`` is any word source (one signed word per cell, layout order); ``calibration`` gives
    per-cell offset and scale (``None``: only :meth:`read_counts` works until one is set).
    Keyword options (all thresholds in kilograms on one cell, the unit a coach thinks in):

    - ``despike``: run the gated spike filter (default on).
    - ``spike_floor_kg``: smallest jump counted as a spike whatever the noise (0.5 kg).
    - ``zero_tracking``: follow slow drift while empty and still (default on).
    - ``zero_band_kg``: a cell within this of zero counts as unloaded for tracking (1 kg).
    - ``zero_time_constant_s``: time constant of the tracking (10 s: a drift of r N/s is
      followed with a lag of about 10 r N).
    - ``zero_max_kg_per_s``: the fastest the offsets may move (0.1 kg/s, about 1 N/s).
      As on a shop scale, something lighter than ``zero_band_kg`` left still on the empty plate
      (a towel) is zeroed within about half a minute; anything heavier never is.
    - ``still_kg``, ``still_window_s``: "still" means each cell moved less than ``still_kg``
      over the last ``still_window_s`` (0.5 kg over 1 s).
    - ``tare_max_kg``: tare refuses when a cell carries more than this (3 kg: a foot resting on
      the plate weighs more, drift since the last tare much less).

    Context manager; ``close()`` closes the word source and is safe twice.
    """

    def __init__(self, words: WordSource, layout: PlateLayout, calibration: Calibration | None,
                 *, despike: bool = True, spike_floor_kg: float = 0.5,
                 zero_tracking: bool = True, zero_band_kg: float = 1.0,
                 zero_time_constant_s: float = 10.0, zero_max_kg_per_s: float = 0.1,
                 still_kg: float = 0.5, still_window_s: float = 1.0, tare_max_kg: float = 3.0):
        if not isinstance(layout, PlateLayout):
            raise TypeError(f"layout must be a PlateLayout, not {type(layout).__name__}")
        for name in ("read", "close", "clock"):
            if not hasattr(words, name):
                raise TypeError(f"words must be a word source with .{name} "
                                f"(got {type(words).__name__})")
        n = len(layout.cells)
        pins = tuple(getattr(words, "data_pins", ()))
        if len(pins) != n:
            raise ValueError(f"the word source reads {len(pins)} HX711(s) (DOUT on GPIO "
                             f"{list(pins)}) but the plate layout has {n} cells")
        for key, value in (("spike_floor_kg", spike_floor_kg), ("zero_band_kg", zero_band_kg),
                           ("zero_time_constant_s", zero_time_constant_s),
                           ("zero_max_kg_per_s", zero_max_kg_per_s), ("still_kg", still_kg),
                           ("still_window_s", still_window_s), ("tare_max_kg", tare_max_kg)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{key} must be a positive number, not {value!r}")
        self.layout = layout
        self.rate_hz = float(layout.rate_hz)
        self.clock = words.clock
        self._words = words
        self._despike = despike
        self._spike_floor_n = spike_floor_kg * G
        self._zero_tracking = zero_tracking
        self._zero_band_n = zero_band_kg * G
        self._zero_tau = zero_time_constant_s
        self._zero_max_n_per_s = zero_max_kg_per_s * G
        self._still_n = still_kg * G
        self._tare_max_n = tare_max_kg * G
        window = max(3, round(still_window_s * self.rate_hz))
        # Noise estimate follows about ten seconds of samples.
        alpha = min(1.0, 0.1 / self.rate_hz)
        self._filters = [_CellFilter(alpha) for _ in range(n)]
        self._recent = [deque(maxlen=window) for _ in range(n)]
        self._heel = layout.indices("heel")
        self._forefoot = layout.indices("forefoot")
        if layout.four_cell:
            self._left = layout.indices("heel", "left") + layout.indices("forefoot", "left")
            self._right = layout.indices("heel", "right") + layout.indices("forefoot", "right")
        self._spikes = 0
        self._last_t: float | None = None
        self._closed = False
        self._calibration: Calibration | None = None
        self._offsets: list[float] = []
        self._base_offsets: tuple[float, ...] = ()
        self.set_calibration(calibration)

    # -- calibration ---------------------------------------------------------------------------

    def set_calibration(self, calibration: Calibration | None) -> None:
        """Use ``calibration`` from now on (``None``: back to raw counts only)."""
        if calibration is not None and calibration.cells != len(self.layout.cells):
            raise CalibrationError(
                f"the calibration is for {calibration.cells} cells but the plate has "
                f"{len(self.layout.cells)}; run `gym-station calibrate`")
        self._calibration = calibration
        # spike floor in counts: half a kilogram on each cell, or 8 counts (a few LSB of HX711
        # noise) before the plate is calibrated
        self._floors = ([self._spike_floor_n * abs(s) for s in calibration.scales]
                        if calibration else [8.0] * len(self.layout.cells))
        self._offsets = list(calibration.offsets) if calibration else []
        self._base_offsets = tuple(self._offsets)
        for r in self._recent:
            r.clear()

    @property
    def calibration(self) -> Calibration | None:
        """The calibration in use, with the offsets zero tracking has learnt since the last tare
        (save it to keep them across restarts)."""
        if self._calibration is None:
            return None
        return replace(self._calibration, offsets=tuple(self._offsets))

    @property
    def offsets(self) -> tuple[float, ...]:
        """Current per-cell offsets in counts (after tare and zero tracking)."""
        return tuple(self._offsets)

    @property
    def zero_tracked_n(self) -> tuple[float, ...]:
        """How far zero tracking has moved each cell's zero since the last tare, in newtons."""
        cal = self._calibration
        if cal is None:
            return ()
        return tuple((o - b) / s for o, b, s in zip(self._offsets, self._base_offsets,
                                                    cal.scales, strict=True))

    # -- reading -------------------------------------------------------------------------------

    @property
    def faults(self) -> Mapping[str, int]:
        """The word source's fault counts merged with the plate's own (``spike``)."""
        merged = dict(self._words.faults)
        merged["spike"] = merged.get("spike", 0) + self._spikes
        return merged

    def read_counts(self, timeout: float = 1.0) -> list[int]:
        """The next raw words, one per cell, unfiltered and uncalibrated (for calibrate/check).

        The spike filter still sees them, so spikes are counted and the filter stays current.
        """
        words, _t = self._next_words(timeout)
        self._filter(words)
        return words

    def read(self, timeout: float = 1.0) -> Sample:
        """The next sample in newtons, stamped with the word source's clock when it arrived."""
        cal = self._calibration
        if cal is None:
            raise NotCalibrated(
                "the plate is not calibrated, so its counts cannot be turned into newtons: run "
                "`gym-station calibrate` (raw counts remain readable with read_counts)")
        words, t = self._next_words(timeout)
        filtered = self._filter(words)
        newtons = [(w - o) / s for w, o, s in zip(filtered, self._offsets, cal.scales,
                                                   strict=True)]
        if self._zero_tracking:
            self._track_zero(t, filtered, newtons, cal.scales)
        self._last_t = t
        heel = sum(newtons[i] for i in self._heel)
        forefoot = sum(newtons[i] for i in self._forefoot)
        left = right = None
        if self.layout.four_cell:
            left = sum(newtons[i] for i in self._left)
            right = sum(newtons[i] for i in self._right)
        return Sample(t, heel, forefoot, tuple(words), left, right)

    def _next_words(self, timeout: float) -> tuple[list[int], float]:
        if self._closed:
            raise PlateError("the force plate is closed; open it again to read")
        words = self._words.read(timeout)
        t = self.clock()
        if len(words) != len(self.layout.cells):
            raise HardwareError(
                f"the HX711 bank sent {len(words)} words for a {len(self.layout.cells)}-cell "
                "plate: check the plate configuration")
        return [int(w) for w in words], t

    def _filter(self, words: Sequence[int]) -> list[float]:
        """Each cell's previous word, a spike replaced by its neighbours' mean (module docstring)."""
        if not self._despike:
            return [float(w) for w in words]
        cal = self._calibration
        floors = self._floors
        filters = self._filters
        gates = [f.stands_out(w, fl) for f, w, fl in zip(filters, words, floors, strict=True)]
        if cal is not None and any(gates):
            gates = self._confirm_by_total(words, gates, cal.scales)
        out = []
        for f, w, fl, g in zip(filters, words, floors, gates, strict=True):
            value, spike = f.take(w, fl, g != 0)
            self._spikes += spike
            out.append(value)
        return out

    def _confirm_by_total(self, words: Sequence[int], gates: list[int],
                          scales: Sequence[float]) -> list[int]:
        """Keep a cell's gate only if the plate's total load stands out with it.

        A corrupted word moves one cell, so the total jumps with it. A real shift of load
        between heel and toes moves the cells in opposite directions and leaves the total
        smooth: at 10 SPS the foot's load can leave the forefoot within one word while the
        total rises, so the forefoot cell alone dips for one word, and that dip is real.
        """
        before = now = after = 0.0
        for f, w, s in zip(self._filters, words, scales, strict=True):
            before += f.out / s
            now += f.word / s
            after += w / s
        out = []
        for f, w, s, g in zip(self._filters, words, scales, gates, strict=True):
            if g:
                # the cell's excursion in newtons, and the total's in the same direction
                sign = 1.0 if (f.word - f.out) / s > 0 else -1.0
                cell = min(abs(f.word - f.out), abs(f.word - w)) / abs(s)
                total = min(sign * (now - before), sign * (now - after))
                if total < 0.5 * cell:
                    g = 0
            out.append(g)
        return out

    def _track_zero(self, t: float, filtered: Sequence[float], newtons: Sequence[float],
                    scales: Sequence[float]) -> None:
        """Move each offset a bounded step towards its word while the plate is empty and still."""
        for r, n in zip(self._recent, newtons, strict=True):
            r.append(n)
        if self._last_t is None:
            return
        dt = min(max(t - self._last_t, 0.0), 4.0 / self.rate_hz)  # a gap is not drift time
        if dt <= 0.0:
            return
        for r, n in zip(self._recent, newtons, strict=True):
            if abs(n) > self._zero_band_n or len(r) < r.maxlen or max(r) - min(r) > self._still_n:
                return
        for i, (w, s) in enumerate(zip(filtered, scales, strict=True)):
            step = (w - self._offsets[i]) * dt / self._zero_tau
            limit = self._zero_max_n_per_s * abs(s) * dt
            self._offsets[i] += max(-limit, min(limit, step))

    # -- tare ----------------------------------------------------------------------------------

    def tare(self, samples: int = 40, timeout: float = 1.0) -> Calibration:
        """Average ``samples`` words into new offsets, if the plate is empty and still.

        Refuses (``TareRefused``) when a cell reads more than ``tare_max_kg`` from its current
        zero (someone is standing on it), or when a cell moved more than ``still_kg`` (or 10
        times its own noise, if that is larger) during the average. Returns the new calibration,
        which the plate uses from now on.
        """
        cal = self._calibration
        if cal is None:
            raise NotCalibrated("tare needs the scales of a calibration to tell an empty plate "
                                "from a loaded one: run `gym-station calibrate` first")
        if samples < 3:
            raise ValueError(f"tare needs at least 3 samples, not {samples}")
        block = np.array([self.read_counts(timeout) for _ in range(samples)], dtype=float)
        clean = despike(block)
        means = clean.mean(axis=0)
        scales = np.asarray(cal.scales)
        load_n = (means - np.asarray(self._offsets)) / scales
        worst = int(np.argmax(np.abs(load_n)))
        if abs(load_n[worst]) > self._tare_max_n:
            raise TareRefused(
                f"someone is standing on the plate: {load_n[worst]:.0f} N on the "
                f"{self._cell_name(worst)} cell; step off and tare again")
        moved_n = np.ptp(clean, axis=0) / np.abs(scales)
        allowed_n = np.maximum(self._still_n, 10.0 * noise_sigma(block) / np.abs(scales))
        over = moved_n - allowed_n
        worst = int(np.argmax(over))
        if over[worst] > 0:
            raise TareRefused(
                f"the plate is not still: the {self._cell_name(worst)} cell moved by "
                f"{moved_n[worst]:.1f} N while taring; let it settle and tare again")
        new = cal.with_offsets(means.tolist())
        self.set_calibration(new)
        return new

    def _cell_name(self, i: int) -> str:
        return self.layout.cells[i].name

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the word source (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._words.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> ForcePlate:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

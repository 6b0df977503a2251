"""The force plate: raw HX711 words in, heel/forefoot newtons out.

A :class:`ForcePlate` wraps a word source (the real HX711 reader or a simulated bank) and turns one
word per load cell into a :class:`~drivers.sample.Sample`:

1. **Spike filter.** Each cell's word goes through a *gated* filter that hands on the word of one
   sample ago unchanged unless it is a spike: it stood out from BOTH neighbours (the previous
   output and this word), in the same direction, by more than a threshold relative to the cell's
   recent noise (8 x the running mean of successive differences, about 9 sigma for white noise),
   with a floor of half a kilogram on that cell (a jump smaller than that cannot change any
   coaching decision). Only then is it replaced: by the word itself with one bit flipped back
   when that lands it between its two neighbours (the conversion as it was, exact even in the
   middle of a heel-to-toe shift at 10 SPS), else by the mean of its two neighbours. A single
   corrupted word (the HX711 "random spike": PD_SCK held high too long, a bit lost, a rail word
   0x7FFFFF/0x800000) is such a word, so it never reaches the output. Anything else, a genuine
   step (someone stepping on), a ramp, a quick shift of weight from heel to toes, comes through
   exactly, one sample late: unlike a median, the filter never reshapes a real movement (at
   10 SPS a median flattened the first word of every quick transition). Two bad words with a
   good one between them are both removed (the first neighbour is the clean previous output).
   **Bit flips.** A bad HX711 word is typically one flipped bit among 16..22: a jump of
   exactly 2^k counts (k 16..22: 65536 .. 4194304) in ONE cell. Two such words in a
   row stand out from no pair of neighbours, so the gate above cannot see them; the plate,
   which sees the raw counts, repairs them at the source for every consumer (live and
   offline): a word is restored bit-exactly (the bit flipped back) when flipping one bit back
   puts it on the cell's track (held, at its pace, or at its acceleration) while it lay far
   off, the other cells stayed on theirs (a real step or shift of weight moves several
   cells), and the next word carries on from the restored word better than from the word as
   it came - directly, or with one bit of its own flipped back (:meth:`ForcePlate._bit_flips`).
   A next word that is itself a flip is judged with its bit restored, so it does not make a
   good word stand out. At most two words in a row per cell; a change that stays is real
   whatever its size in counts. The plate's total (newtons, all cells) arbitrates where the
   cell's own track cannot: a real movement moves it smoothly (a shift of weight between heel
   and toes not at all), a flip by exactly the flip's size. So at 10 SPS, in the middle of a
   heel-to-toe shift where a cell moves by as much as a low bit from one word to the next, a
   flip against the movement (which leaves the word near where the cell was) is restored when
   it puts the total back on its track; a flip mid-drive is gated when it pulls the total off
   the line between its neighbours by its size; and two cells off their tracks at once with
   the total on its track are a shift, not two flips. What stays out of reach: the same bit
   flipped in two words in a row (a two-word step), and a low bit flipped mid-drive at 10 SPS,
   where a cell moves by as much from one word to the next. A removed or repaired word is counted in
   ``faults["spike"]``; counting starts after the first ten words, once the noise estimate
   has something to stand on (bit flips are looked for from then on too).
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
#: The bits a corrupted HX711 word has flipped (PD_SCK high too long, a clock edge lost): one of
#: 16..22, a jump of exactly 2^k counts (65536 .. 4194304) in one cell (see the module docstring).
FLIP_BITS = tuple(range(16, 23))
#: At most this many words in a row of one cell are repaired as bit flips; a longer run is real.
FLIP_MAX_RUN = 2
#: A repaired word must land within this fraction of its flip (or the spike threshold, if
#: larger) of the cell's track; the other cells together may have moved off theirs by at most
#: ``FLIP_OTHERS`` x the flip's size in newtons.
FLIP_TOLERANCE = 0.125
FLIP_OTHERS = 0.25


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


def flip_tolerance(jump: float, floor: float) -> float:
    """How far off its cell's track (counts) a word repaired from a flip of ``jump`` counts may
    lie: :data:`FLIP_TOLERANCE` x the jump, at least the spike floor."""
    return max(floor, FLIP_TOLERANCE * jump)


def _gap(word: float, level: float, before: float, earlier: float) -> float:
    """How far ``word`` is from the track after ``level`` (reached from ``before``, and that
    from ``earlier``): from the span of staying there, going on at the same pace and going on
    at the same acceleration (which brackets a turning point, a ramp and a drive speeding up)."""
    pace = level + (level - before)
    curve = pace + (level - before) - (before - earlier)
    lo = min(level, pace, curve)
    hi = max(level, pace, curve)
    return lo - word if word < lo else (word - hi if word > hi else 0.0)


def _follow(word: float, level: float, before: float, earlier: float) -> float:
    """How far ``word`` is from following ``level`` (reached from ``before``, and that from
    ``earlier``): the nearest of staying there, going on at the same pace, and going on at the
    same acceleration. Unlike :func:`_gap`, a point each: after a big jump the next word must
    land near one of them, not anywhere between."""
    pace = level + (level - before)
    curve = pace + (level - before) - (before - earlier)
    return min(abs(word - level), abs(word - pace), abs(word - curve))


def _restored_between(word: int, before: float, after: float, floor: float) -> int | None:
    """``word`` with one bit of :data:`FLIP_BITS` flipped back, if that puts it between its
    neighbours ``before`` and ``after`` (give or take ``floor``); the nearest to their mean if
    several do. Used on a word the gate already judged a spike: the neighbours' mean or median
    is a guess, the word with its bit put back is the conversion itself."""
    lo = (before if before < after else after) - floor
    hi = (after if before < after else before) + floor
    mid = 0.5 * (before + after)
    best, best_d = None, 0.0
    for k in FLIP_BITS:
        c = word ^ (1 << k)
        if lo <= c <= hi:
            d = abs(c - mid)
            if best is None or d < best_d:
                best, best_d = c, d
    return best


class _CellFilter:
    """The gated spike filter of one cell, with its noise estimate (see the module docstring).

    :meth:`stands_out` says whether the previous word stood out from both of its neighbours (the
    previous output and the new word) in the same direction by more than the threshold;
    :meth:`take` then hands the previous word on unchanged, or the neighbours' mean in its place.
    """

    __slots__ = ("word", "out", "before", "earlier", "noise", "alpha", "seen", "run")

    def __init__(self, alpha: float):
        self.word: int | None = None   # the previous raw word
        self.out = 0.0                 # the previous output
        self.before = 0.0              # the output before that
        self.earlier = 0.0             # and the one before that
        self.noise = 0.0               # running mean |successive difference| of the words
        self.seen = 0
        self.run = 0                   # words repaired as bit flips in a row
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

    def off_track(self, value: float) -> float:
        """How far ``value`` lies from the cell's track at the previous word: the span of the
        previous output held, continued at its pace and at its acceleration (:func:`_gap`)."""
        return _gap(value, self.out, self.before, self.earlier)

    def unflipped(self, floor: float) -> int | None:
        """The previous word with one bit of :data:`FLIP_BITS` flipped back, if that puts it
        on the cell's track (within :func:`flip_tolerance`) while the word itself lies off it
        by more than twice that; else None."""
        b = self.word
        if b is None or self.seen < 8 or self.run >= FLIP_MAX_RUN:
            return None
        off_b = self.off_track(b)
        if off_b <= 2.0 * floor:
            return None
        best, best_off = None, 0.0
        for k in FLIP_BITS:
            c = b ^ (1 << k)  # bit k < 23: the sign bit and so the sign stay
            off = self.off_track(c)
            tolerance = flip_tolerance(1 << k, floor)
            if off <= tolerance < 0.5 * off_b and (best is None or off < best_off):
                best, best_off = c, off
        return best

    def next_unflipped(self, word: int, floor: float) -> int:
        """``word`` (the next word) with one bit of :data:`FLIP_BITS` flipped back if that puts
        it where the previous word leads (:func:`_follow`, within twice :func:`flip_tolerance`) while it
        lies further than twice the floor from there, and the previous word on its track and
        the repaired next word after it fit better than the next word on the track without the
        previous one; else ``word`` itself."""
        b = self.word
        if b is None or self.seen < 8:
            return word
        a = self.out
        if _follow(word, b, a, self.before) <= 2.0 * floor:
            return word
        best, best_gap = word, 0.0
        for k in FLIP_BITS:
            x = word ^ (1 << k)
            gap = _follow(x, b, a, self.before)
            if gap <= flip_tolerance(2 << k, floor) and (best == word or gap < best_gap):
                best, best_gap = x, gap
        if best == word:
            return word
        # or is it the previous word that is bad, and the next one follows the track without
        # it (between the previous output and two samples at the pace)?
        two = a + 2.0 * (a - self.before)
        without = min(a, two) - word if word < min(a, two) else max(0.0, word - max(a, two))
        return best if self.off_track(b) + best_gap < without else word

    def take(self, word: int, floor: float, gated: bool,
             fixed: int | None = None, ahead: int | None = None) -> tuple[float, bool]:
        """Add a word; return (the previous word, or its neighbours' mean if ``gated``, or
        ``fixed`` (the previous word with its flipped bit restored), and whether that was a
        counted spike). ``ahead`` is the next neighbour for the mean (``word``, or ``word``
        with a flipped bit restored)."""
        b = self.word
        if b is None:
            self.word, self.out = word, float(word)
            self.before = self.earlier = self.out
            return self.out, False
        a = self.out
        if fixed is not None:
            out = float(fixed)
            b = fixed  # the noise below is the clean word's
            self.run += 1
            gated = True
        elif not gated:
            out = float(b)
        else:
            # the neighbours' mean, exact on a ramp; but when the next word is further from
            # the previous output than the recent pace allows (it may be bad too: two spikes
            # in a row), the previous output (the median of the three: b is an extreme)
            nxt = word if ahead is None else ahead
            pace = a - self.before
            reach = 2.0 * (pace if pace >= 0 else -pace) + floor
            gap = nxt - a
            restored = _restored_between(b, a, nxt, floor)
            if restored is not None:
                # a flipped bit that, put back, lands the word between its neighbours: the
                # word as it was converted, exact even in the middle of a quick movement
                out = float(restored)
                b = restored
            elif -reach <= gap <= reach:
                out = 0.5 * (a + nxt)
            else:
                out = max(a, float(nxt)) if b > a else min(a, float(nxt))
        if fixed is None:
            self.run = 0
        self.earlier = self.before
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
        fixes: list[int | None] = [None] * len(filters)
        ahead = words
        if cal is not None:
            fixes = self._bit_flips(words, cal.scales)
            # a neighbour that is itself a bit flip is judged with its bit restored, so that
            # it does not make a good word stand out
            ahead = [w if c is not None else f.next_unflipped(w, fl)
                     for f, w, fl, c in zip(filters, words, floors, fixes, strict=True)]
        gates = [f.stands_out(w, fl) for f, w, fl in zip(filters, ahead, floors, strict=True)]
        if cal is not None and any(gates):
            gates = self._confirm_by_total(ahead, gates, cal.scales, words)
        out = []
        for f, w, x, fl, g, c in zip(filters, words, ahead, floors, gates, fixes, strict=True):
            value, spike = f.take(w, fl, g != 0, c, x)
            self._spikes += spike
            out.append(value)
        return out

    def _confirm_by_total(self, words: Sequence[int], gates: list[int],
                          scales: Sequence[float], raw: Sequence[int]) -> list[int]:
        """Keep a cell's gate only if the plate's total load stands out with it.

        A corrupted word moves one cell, so the total jumps with it. A real shift of load
        between heel and toes moves the cells in opposite directions and leaves the total
        smooth: at 10 SPS the foot's load can leave the forefoot within one word while the
        total rises, so the forefoot cell alone dips for one word, and that dip is real.
        A gate is also kept when the word's flipped bit, put back, explains the total's
        departure from the line between its neighbours (:meth:`_flip_explains_total`; ``raw``:
        the next words as they came).
        """
        now, before, earlier, earliest = self._totals(scales)
        after = sum(w / s for w, s in zip(words, scales, strict=True))
        after_raw = sum(r / s for r, s in zip(raw, scales, strict=True))
        out = []
        for f, w, s, g, fl in zip(self._filters, words, scales, gates, self._floors, strict=True):
            if g:
                # the cell's excursion in newtons, and the total's in the same direction
                sign = 1.0 if (f.word - f.out) / s > 0 else -1.0
                cell = min(abs(f.word - f.out), abs(f.word - w)) / abs(s)
                total = min(sign * (now - before), sign * (now - after))
                if total < 0.5 * cell and not self._flip_explains_total(
                        f, w, fl, s, now, (before, earlier, earliest), after_raw):
                    g = 0
            out.append(g)
        return out

    @staticmethod
    def _flip_explains_total(f: _CellFilter, w: int, floor: float, scale: float, now: float,
                             track: tuple[float, float, float], after: float) -> bool:
        """Whether the cell's previous word, with one bit flipped back, lands between its
        neighbours and puts the plate's total (``now``, newtons) back on the line between the
        totals around it (the previous output's and ``after``, the next words as they came):
        the flip explains at least three quarters of its distance from that line. Mid-drive at
        10 SPS the total climbs so fast that a word dragged down by a flip still lies above the
        previous total, so it does not stand out from both neighbours; off the line it does, by
        the flip's size, and a real movement lands there only by the rare coincidence of both a
        bit pattern and a size. Not when the restored word would take the total off its own
        ``track`` (previous outputs): the next word may be the bad one."""
        c = _restored_between(f.word, f.out, w, floor)
        if c is None:
            return False
        flip = (f.word - c) / scale
        if _gap(now - flip, *track) > _gap(now, *track) + floor / abs(scale):
            return False  # restored, the total would leave its own track: the word is real
        off_line = now - 0.5 * (track[0] + after)
        return abs(off_line - flip) <= 0.25 * abs(flip)

    def _totals(self, scales: Sequence[float]) -> tuple[float, float, float, float]:
        """The plate's total (all cells, newtons up to the offsets) at the previous word as it
        came, and at the previous three outputs, newest first: the track the total is judged
        against (:func:`_gap`, :func:`_follow`)."""
        now = out = before = earlier = 0.0
        for f, s in zip(self._filters, scales, strict=True):
            now += f.word / s
            out += f.out / s
            before += f.before / s
            earlier += f.earlier / s
        return now, out, before, earlier

    def _bit_flips(self, words: Sequence[int], scales: Sequence[float]) -> list[int | None]:
        """Each cell's previous word with its flipped bit restored, where it was a bit flip.

        A word is repaired when (1) flipping one bit of :data:`FLIP_BITS` back puts it on the
        cell's track while it lies far off it (:meth:`_CellFilter.unflipped`), (2) the other
        cells stayed on their tracks (a real movement, a step or a shift of weight, moves
        several cells; a bit flip moves one), and (3) the next word does not carry on from the
        word as it came but from the repaired one - directly, or itself with one bit flipped
        (two bad words in a row, which the gate cannot see since neither stands out from both
        neighbours; :meth:`_flip_explains`). Up to :data:`FLIP_MAX_RUN` words in a row per
        cell. When two cells or more are candidates, the plate's total must be off its track
        (a shift of weight leaves it on it). When no word is repaired so, a flip its cell's
        track cannot show may still be one the total shows (:meth:`_flip_off_the_total`).
        Needs the calibration's scales (to weigh cells against each other in newtons).
        """
        filters = self._filters
        floors = self._floors
        fixes = [f.unflipped(fl) for f, fl in zip(filters, floors, strict=True)]
        if any(c is not None for c in fixes):
            self._confirm_flips(fixes, words, scales)
        if not any(c is not None for c in fixes):
            found = self._flip_off_the_total(words, scales)
            if found is not None:
                fixes[found[0]] = found[1]
        return fixes

    def _confirm_flips(self, fixes: list[int | None], words: Sequence[int],
                       scales: Sequence[float]) -> None:
        """Conditions (2) and (3) of :meth:`_bit_flips` on each candidate in ``fixes``: a
        candidate that fails them is set to None."""
        filters = self._filters
        floors = self._floors
        if sum(c is not None for c in fixes) > 1:
            # several cells off their tracks at once: two flips in one word move the total, a
            # real shift of weight between heel and toes leaves it on its track
            now, out, before, earlier = self._totals(scales)
            tolerance = max(flip_tolerance(abs(f.word - c), fl) / abs(s)
                            for f, c, fl, s in zip(filters, fixes, floors, scales, strict=True)
                            if c is not None)
            if _gap(now, out, before, earlier) <= tolerance:
                fixes[:] = [None] * len(fixes)
                return
        for i, c in enumerate(fixes):
            if c is None:
                continue
            f = filters[i]
            b, w = f.word, words[i]
            jump = abs(b - c) / abs(scales[i])
            others = sum(filters[j].off_track(filters[j].word) / abs(scales[j])
                         for j in range(len(filters)) if j != i and fixes[j] is None)
            if others > FLIP_OTHERS * jump:
                fixes[i] = None
                continue
            if not self._flip_explains(f, c, w, floors[i]):
                fixes[i] = None

    def _flip_off_the_total(self, words: Sequence[int],
                            scales: Sequence[float]) -> tuple[int, int] | None:
        """``(cell, restored word)`` when the previous word of one cell is a bit flip that its
        own track cannot show, else None.

        In a heel-to-toe shift at 10 SPS a cell moves by as much as a low bit from one word to
        the next; a flip against the movement lands the word near where the cell was, on its
        track, so :meth:`_CellFilter.unflipped` sees nothing, and the next (good) word then
        looks like the flip. The total sees it: a shift of weight leaves it smooth, a flip
        moves it by the flip's size. The word is restored when (1) the plate's total lies off
        its track (:func:`_gap`) by the flip's size, give or take the flip's tolerance, (2)
        with the bit flipped back it lies on it, within the tolerance, and (3) the cell's next
        word carries on from the restored word (within the tolerance) better than from the word
        as it came, or, when the cell's word left its own track, the next total does (a real
        change stays; a flip just before a shift of weight can land the word where the cell is
        about to go, but the total then comes back). Of several candidates, the one that puts
        the total nearest its track.
        """
        filters = self._filters
        if any(f.word is None for f in filters):
            return None
        now, out, before, earlier = self._totals(scales)
        nxt = sum(w / s for w, s in zip(words, scales, strict=True))
        off = _gap(now, out, before, earlier)
        # the smallest flip any cell could show, less its tolerance: a total nearer its track
        # than that (nearly every word) has no flip to find
        low = 1 << FLIP_BITS[0]
        if all(off < (low - flip_tolerance(low, fl)) / abs(s)
               for s, fl in zip(scales, self._floors, strict=True)):
            return None
        nxt_b = _follow(nxt, now, out, before)
        best = None
        for i, (f, w, s, fl) in enumerate(zip(filters, words, scales, self._floors, strict=True)):
            if f.seen < 8 or f.run >= FLIP_MAX_RUN:
                continue
            b = f.word
            on_b = _follow(w, b, f.out, f.before)
            jumped = f.off_track(b) > 2.0 * fl  # the cell itself left its track
            for k in FLIP_BITS:
                c = b ^ (1 << k)
                tolerance = flip_tolerance(1 << k, fl)
                tol_n = tolerance / abs(s)
                flip = (b - c) / s
                if off < abs(flip) - tol_n:
                    continue
                gap = _gap(now - flip, out, before, earlier)
                if gap > tol_n:
                    continue
                on_c = _follow(w, c, f.out, f.before)
                nxt_c = _follow(nxt, now - flip, out, before)
                carries_on = ((on_c <= tolerance and on_c < on_b)
                              or (jumped and nxt_c <= tol_n and nxt_c < nxt_b))
                if carries_on and (best is None or gap < best[0]):
                    best = (gap, i, c)
        return None if best is None else (best[1], best[2])

    @staticmethod
    def _flip_explains(f: _CellFilter, c: int, w: int, floor: float) -> bool:
        """Whether the previous word ``f.word`` is better explained as ``c`` with a bit flipped
        than as it came, given the next word ``w``.

        Yes when ``w`` carries on from ``c`` (within :func:`flip_tolerance`) better than from
        the word as it came. When ``w`` carries on from neither, it may be flipped too (two bad
        words in a row): yes if ``w`` with one bit flipped back carries on from ``c`` within
        the tolerance, better than any reading of ``w`` carries on from the word as it came,
        and the word as it came would need a change of pace larger than the cell's pace (its
        movement from one sample to the next) to be followed by ``w``.
        """
        b, a = f.word, f.out
        tolerance = flip_tolerance(abs(b - c), floor)
        e = f.before
        on_b, on_c = _follow(w, b, a, e), _follow(w, c, a, e)
        if on_c <= tolerance and on_c < on_b:
            return True  # the next word follows the repaired one
        if on_b <= tolerance + abs(a - f.before):
            return False  # the next word can carry on from this one: a real change
        on_b2 = min(_follow(w ^ (1 << k), b, a, e) for k in FLIP_BITS)
        on_c2 = min(_follow(w ^ (1 << k), c, a, e) for k in FLIP_BITS)
        return on_c2 <= tolerance and on_c2 < on_b2

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

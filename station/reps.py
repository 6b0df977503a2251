"""Rep phases from the filtered load: bottom -> drive -> top (hold) -> lower -> bottom.

The detector watches one *rep signal* ``x`` (newtons): the total load for a hip thrust, the
forefoot load for a calf raise (see the profile's ``rep_signal``). It knows no newton thresholds:
it learns the athlete's own levels and puts its thresholds between them. The live phases run on
the low-passed signal; a rep's numbers are measured once it is complete, on its spike-gated
(unfiltered) samples, so they carry no filter delay.

Levels
    ``base``: the bottom level, the mean of ``x`` while still at the bottom (learned when the
    athlete settles after stepping on, then re-learned at every still moment at the bottom, which
    also follows load-cell drift; before the first rep, a rise that comes to rest short of the
    top is taken as the bottom, the base having been learnt in a trough of the settling
    sway). ``range``: top minus bottom, the running mean (EMA, weight
    :attr:`RepTuning.range_weight`) of the completed reps' top levels above the base. Before the
    first rep the range is bootstrapped as :attr:`RepTuning.boot_range` x base.

Thresholds (all relative; ``sigma`` is the bottom's noise, measured while settling)
    leave bottom   ``base + max(lo x range, 4 sigma)``      (the rep's record starts, with the
                                                            second of samples before it)
    drive          ``base + max(drive x range, 6 sigma)``   (phase ``drive``)
    top            ``base + top x range``, or (once a range is learned) the rise stalls (still
                   for ``settle_s``) above the drive threshold: a rep lower than usual still
                   counts if it is held
    lower          ``level - lower x (level - base)``, where ``level`` follows the load at the
                   top slowly (``level_tau_s``), so the drive's overshoot decaying into the hold
                   is not taken for lowering; back above ``level - retop x (level - base)``
                   returns to ``top`` (a partial re-drive)
    back at bottom ``base + lo x (peak - base)``: phase ``bottom``; the rep is measured
                   ``tail_s`` later (or when the next rise begins), so that its landing at the
                   bottom is on record

Against ghost reps: stepping on is followed by ``settling`` (no reps until the athlete has been
still for ``settle_s``); a rise that falls back to the bottom before reaching the top is
abandoned; weight shifted between heel and toes does not move the total; a rep must last
``min_rep_s``; a load that goes from the top straight through the bottom without coming to rest
there for ``min_rest_s`` (stepping off from the top, sitting down) is no rep; while the plate is
unloaded (a jump's flight) nothing is decided, and landing continues the same loading episode.

What a rep's numbers mean
    The numbers are measured on the samples themselves (not the low-passed signal, so no filter
    delay), after :func:`bridge_repeats` (values a holding spike filter left in a recording) and
    :func:`despike` (spike pairs the plate lets through; the live hold uses the same). The *hold* is the time in the top band, one definition shared with the
    simulated athlete's ground truth (:func:`top_band_hold`): from the drive's overshoot
    settling to within :data:`HOLD_SETTLED` x the range above the top level until the load
    leaves :data:`HOLD_BAND` x the range below it for good. It includes the first, slow part
    of a minimum-jerk lowering (about a fifth of it): that is where the load is still at the top.
    The *lowering* is one definition shared with the truth too (:func:`band_lowering`): from
    the hold's end to the first time the load is back within :data:`LOWER_BAND` x the range
    above the bottom level, on a whole minimum-jerk fall's scale (/ 0.414).
    The *drive* and the rep's ``start``/``end`` are movement boundaries from model fits (:func:`ramp_fit_bounds`):
    the drive a minimum-jerk rise plus an overshoot bump (Flash & Hogan 1985; the hips are
    thrust up, so the foot briefly carries more than its static share), the lowering a
    minimum-jerk fall from the top level to the bottom level; ``start`` and ``end`` are where
    they begin and end. When a fit is poor (a movement of another shape), the boundaries come
    from level crossings (:func:`band_bounds`). ``heel_share``: the time-average heel share
    from ``start`` to the end of the drive, ``heel_share_min`` the lowest sample (a sample
    whose load :func:`despike` replaced has a bad word in one zone: its share is left out, the
    shares around it joined by a straight line); ``peak_n``: the highest total load.

    Live, :attr:`RepDetector.hold_s` runs while the filtered load stays at the top; when the
    lowering shows (phase ``lower``) it is replaced by :func:`top_band_hold` on the samples so
    far, i.e. the rep's final hold, so a live "short hold" cue agrees with the judgement
    (from the rep's start and bottom level as the measurement takes them: the drive's fit and
    the rest before it).
    A lowering that shows within :data:`OVERSHOOT_S` of reaching the top may be the drive's
    overshoot decaying (at 10 SPS, in a step or two): the hold level keeps following the load,
    and a load that stops falling under it returns to ``top``.

    Accuracy on the simulated athlete (sway, noise, drift, HX711 bit flips at 0.2/s per cell;
    40 seeds of 5 scenarios at 10 and 80 SPS, 50-110 kg, 400 cases; the plate restores
    flipped words, two in a row included, and its total arbitrates flips in a heel-to-toe
    shift): 395 cases meet the whole contract (371 before the plate's bit-flip repair,
    384 before its total arbitrated, 389 with the live hold taken as the measurement takes it).
    Rep count, heel shares, faults and the live hold meet it in every case; the misses are 4
    holds at 10 SPS and 1 at 80 SPS. Known miss at both
    rates: under sway a 1.8 s lowering can be measured under 1.5 s (junior reps: ``too_fast``).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from .presence import Stillness
from .profiles import ExerciseProfile

#: The top band (see :func:`top_band_hold`): the hold lasts while the load stays within
#: ``HOLD_BAND`` x the rep's range below the top level, and starts once the drive's overshoot
#: has settled to within ``HOLD_SETTLED`` x the range above it.
HOLD_BAND = 0.08
HOLD_SETTLED = 0.15
#: The lowering (see :func:`band_lowering`): from the hold's end until the load is back within
#: ``LOWER_BAND`` x the range above the bottom level, on the scale of a whole minimum-jerk fall.
LOWER_BAND = 0.25
#: The bottom level is the median of the samples this long before the drive starts.
REST_S = 0.4
#: The largest relative RMS residual of a good ramp fit (see :func:`ramp_fit_bounds`).
FIT_MAX_RMS = 0.15
#: How long after reaching the top a lowering may still be the drive's overshoot decaying (the
#: hold level keeps following the load in phase ``lower`` for that long).
OVERSHOOT_S = 1.0
#: Time step on which the hold is found (samples further apart are joined by straight lines).
HOLD_GRID_S = 0.005
#: Below this total (newtons) a sample's heel share says nothing (sensor noise).
SHARE_FLOOR_N = 20.0


class Phase(StrEnum):
    """Where the athlete is in the rep cycle."""

    OFF = "off"            # nobody on the plate
    SETTLING = "settling"  # on the plate, finding their position: no reps counted
    BOTTOM = "bottom"
    DRIVE = "drive"
    TOP = "top"            # at the top: the hold
    LOWER = "lower"


@dataclass(frozen=True, slots=True)
class Rep:
    """One completed rep. Times in seconds on the samples' clock; see the module docstring."""

    index: int
    start: float
    end: float
    drive_s: float
    hold_s: float
    lower_s: float
    heel_share: float | None
    heel_share_min: float | None
    peak_n: float
    good: bool
    faults: tuple[str, ...]
    top_n: float
    bottom_n: float
    hold_start: float = float("nan")
    hold_end: float = float("nan")

    def as_dict(self) -> dict:
        """The rep as plain JSON-ready values (the ``analyze --json`` rep object)."""
        d = {name: getattr(self, name) for name in self.__slots__}
        d["faults"] = list(self.faults)
        return d


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    """The rep phase changed at ``t`` (the sample that decided it) from ``previous`` to ``phase``."""

    t: float
    phase: Phase
    previous: Phase


@dataclass(frozen=True, slots=True)
class RepCompleted:
    """A rep was completed (decided at ``t``, when the load was back at the bottom)."""

    t: float
    rep: Rep


@dataclass(frozen=True)
class RepTuning:
    """The detector's relative thresholds and minimum durations (see the module docstring)."""

    boot_range: float = 0.5
    lo: float = 0.15
    drive: float = 0.3
    top: float = 0.6
    lower: float = 0.25
    retop: float = 0.1
    band: float = 0.04
    range_weight: float = 0.5
    settle_s: float = 0.5
    history_s: float = 1.0
    tail_s: float = 0.5
    level_tau_s: float = 0.6
    min_rest_s: float = 0.15
    still_fraction: float = 0.06
    still_floor_n: float = 3.0
    min_rep_s: float = 0.5
    merge_gap_s: float = 0.25
    max_rep_s: float = 90.0

    def __post_init__(self):
        if not 0.0 < self.lo < self.drive < self.top < 1.0:
            raise ValueError("rep thresholds need 0 < lo < drive < top < 1 (fractions of the range)")
        if not 0.0 < self.retop < self.lower < 1.0:
            raise ValueError("rep thresholds need 0 < retop < lower < 1")


class RepDetector:
    """The phase state machine for one athlete on one side.

    O(1) per sample; once per rep, the rep's samples are measured with numpy (a few
    milliseconds, amortised well under a microsecond per sample). Call :meth:`step` for each
    sample; it appends :class:`PhaseChanged` and :class:`RepCompleted` to the list it is given.
    :meth:`stepped_on` / :meth:`stepped_off` come from the presence detector. ``rate_hz`` sizes
    the second of history kept for the start of each rep.
    """

    def __init__(self, profile: ExerciseProfile, rate_hz: float, tuning: RepTuning | None = None):
        if not rate_hz > 0:
            raise ValueError(f"sample rate must be positive, not {rate_hz}")
        self.profile = profile
        self.k = tuning or RepTuning()
        self._period = 1.0 / rate_hz
        self.max_rep_s = max(self.k.max_rep_s, 3.0 * profile.hold_target_s + 30.0)
        self.still = Stillness(self.k.still_floor_n, self.k.still_fraction, self.k.settle_s)
        self.phase = Phase.OFF
        self.base: float | None = None
        self.range: float | None = None  # learned from reps; None until the first
        self.sigma = 0.0
        self.count = 0
        self.last_end = -float("inf")
        self._next_from = -float("inf")  # the earliest start of the next rep
        self.hold_s = 0.0  # live: the current rep's hold so far
        # the last second of spike-gated samples, so a rep's record starts at rest
        self._ring_n = max(4, int(self.k.history_s * rate_hz) + 1)
        self._ring = [(0.0, 0.0, 0.0)] * self._ring_n
        self._ring_i = 0
        self._ring_full = False
        self._cand = False
        self._finishing = False  # back at the bottom, recording the landing before measuring
        self._finish_at = 0.0
        self._rested_s = 0.0  # time spent at the bottom level since then
        self._flight = False  # the plate was unloaded since then
        self._level = 0.0  # the hold level (a slow follower of the load at the top)
        self._holding = 0  # live hold clock: 0 waiting, 1 running, 2 stopped
        self._last_t = 0.0
        self._ts: list[float] = []
        self._heels: list[float] = []
        self._fores: list[float] = []
        self._hold_from = 0.0  # live: when the current hold began
        self._xr_prev = 0.0  # the previous sample's unfiltered rep signal
        self._cand_base = 0.0
        self._peak = 0.0
        self._t_in = 0.0
        self._t_top = -float("inf")  # when the current rep reached the top

    # -- levels ---------------------------------------------------------------------------
    def expected_range(self) -> float:
        """The range the thresholds use: learned, or bootstrapped from the base."""
        if self.range is not None:
            return self.range
        base = self.base or 0.0
        return max(self.k.boot_range * abs(base), 20.0 * self.sigma, 1e-6)

    def thresholds(self) -> tuple[float, float, float]:
        """Current (leave-bottom, drive, top) levels in newtons."""
        base = self.base or 0.0
        r = self.expected_range()
        return (base + max(self.k.lo * r, 4.0 * self.sigma),
                base + max(self.k.drive * r, 6.0 * self.sigma),
                base + self.k.top * r)

    # -- presence -------------------------------------------------------------------------
    def stepped_on(self, t: float, events: list) -> None:
        self.still.reset()
        self._drop_candidate()
        self._set(Phase.SETTLING, t, events)

    def stepped_off(self, t: float, events: list) -> None:
        """The athlete left the plate: a rep back at the bottom is completed, a rep in progress
        is abandoned (no rep)."""
        if self._finishing:
            self._finish_or_drop(t, events)
        self._drop_candidate()
        self.hold_s = 0.0
        self.base = None
        self._set(Phase.OFF, t, events)

    # -- the state machine ----------------------------------------------------------------
    def step(self, t: float, x: float, loaded: bool, events: list,
             heel: float, fore: float) -> None:
        """One sample: ``x`` is the filtered rep signal at ``t`` (it drives the phases);
        ``heel`` and ``fore`` are the sample's own (unfiltered) zone newtons, recorded for the
        rep's measurements, which need no filter (see :func:`measured_signal`)."""
        still = self.still.step(t, x)
        phase = self.phase
        if self._cand:
            self._ts.append(t)
            self._heels.append(heel)
            self._fores.append(fore)
        i = self._ring_i
        self._ring[i] = (t, heel, fore)
        i += 1
        if i == self._ring_n:
            i = 0
            self._ring_full = True
        self._ring_i = i
        if phase is Phase.BOTTOM:
            lo, drive, _ = self.thresholds()
            if self._finishing:
                margin = self.k.lo * (self._peak - self._cand_base)
                if not loaded:
                    # off the plate (a jump's flight, or stepping off): presence decides which
                    self._flight = True
                elif self._flight and x > lo:
                    # landing after a flight: the same loading episode goes on
                    self._finishing = self._flight = False
                    self._set(Phase.TOP, t, events)
                    self._level = x
                    self._holding = 0
                    self._t_in = t
                elif abs(x - self._cand_base) <= margin:
                    self._rested_s += t - self._last_t
                    if t >= self._finish_at:
                        self._complete(t, events)
                elif x > lo:
                    # the next rise (or a bad word the filters let through): not this rep's
                    self._complete(t, events, drop_last=True)
                elif t >= self._finish_at and x >= self._cand_base:
                    self._complete(t, events)
                elif t >= self._finish_at + 2.0:  # settled below the bottom: sat down or shifted
                    self._finish_or_drop(t, events)
            if self.phase is Phase.BOTTOM and not self._finishing:
                if still and (abs(self.still.level - self.base) <= lo - self.base
                              or self.still.held_for(t) >= 2.0 * self.k.settle_s):
                    self.base = self.still.level
                    self.sigma = self.still.spread
                    lo, drive, _ = self.thresholds()
                if x > lo:
                    if not self._cand:
                        self._start_candidate()
                    if x > drive:
                        self._set(Phase.DRIVE, t, events)
                        self._peak = x
                        self._t_in = t
                elif self._cand and loaded:
                    self._drop_candidate()
        elif phase is Phase.DRIVE:
            if not loaded:
                pass
            elif self._too_long(t, events):
                pass
            else:
                lo, drive, top = self.thresholds()
                self._track_peak(t, x)
                if x < lo:
                    self._drop_candidate()
                    self._set(Phase.BOTTOM, t, events)
                elif x >= top or (still and x > drive and self.range is not None):
                    self._level = self._peak
                    self._holding = 0
                    self._t_in = self._t_top = t  # steady at the top counts from reaching it
                    self._set(Phase.TOP, t, events)
                elif still and self.range is None:
                    # before the first rep, a "drive" that comes to rest short of the top was
                    # the settling's sway: the base was learnt in one of its troughs, and the
                    # athlete's bottom is here (a base left 40-90 N low keeps a rep's lowering
                    # from ever reaching the bottom, merging the set's reps into one)
                    self._drop_candidate()
                    self.base = self.still.level
                    self.sigma = self.still.spread
                    self._set(Phase.BOTTOM, t, events)
        elif phase is Phase.TOP:
            if loaded and not self._too_long(t, events):
                self._track_peak(t, x)
                # the hold level follows the load slowly while the drive's overshoot decays into
                # it; once the athlete is holding it stays put, so a slow start of the lowering
                # sinks away from it instead of dragging it down (and the hold clock with it)
                if self._holding != 1:
                    self._level += (x - self._level) * min(1.0, (t - self._last_t)
                                                           / self.k.level_tau_s)
                # live hold clock: starts once the load has settled near the hold level, stops
                # once it sinks below it (the rep's hold_s is measured when the rep completes)
                span = self._level - self._cand_base
                if self._holding == 0:  # not yet steady at the hold level for 0.2 s
                    if abs(x - self._level) > 0.05 * span + 3.0 * self.sigma:
                        self._t_in = t
                    elif t - self._t_in >= 0.2:
                        self._holding = 1
                elif x >= self._level - HOLD_BAND * span:
                    # in the top band (the rep's final hold's band): holding, or back from a
                    # sag that did not end the hold (the final hold runs to the LAST moment here)
                    self._holding = 1
                    self.hold_s = t - self._t_in
                else:
                    self._holding = 2  # below the band: the clock stops (unless it comes back)
                if x < self._cand_base + self.k.lo * (self._peak - self._cand_base):
                    self._back_at_bottom(t, events)
                elif x < self._level - self.k.lower * (self._level - self._cand_base):
                    self._set(Phase.LOWER, t, events)
                    self.hold_s = self._hold_so_far()
        elif phase is Phase.LOWER:
            if loaded and not self._too_long(t, events):
                if t - self._t_top < OVERSHOOT_S:
                    # the lowering showed just after the top was reached: at 10 SPS the drive's
                    # overshoot decays in a step or two, so the level may still be up at the
                    # overshoot; it goes on following the load, and a load that stops falling
                    # under it returns to the top (a real lowering runs away from it)
                    self._level += (x - self._level) * min(1.0, (t - self._last_t)
                                                           / self.k.level_tau_s)
                span = self._peak - self._cand_base
                if x >= self._level - self.k.retop * (self._level - self._cand_base):
                    self._set(Phase.TOP, t, events)
                    self._holding = 0
                    self._t_in = t
                elif x < self._cand_base + self.k.lo * span:
                    self._back_at_bottom(t, events)
        elif phase is Phase.SETTLING:
            if still:
                self.base = self.still.level
                self.sigma = self.still.spread
                self._set(Phase.BOTTOM, t, events)
        self._last_t = t

    # -- helpers --------------------------------------------------------------------------
    def _set(self, phase: Phase, t: float, events: list) -> None:
        if phase is not self.phase:
            events.append(PhaseChanged(t, phase, self.phase))
            self.phase = phase
            if phase is Phase.DRIVE:
                self.hold_s = 0.0

    def _hold_so_far(self) -> float:
        """The hold as the rep will be judged, from the samples up to now (called when the
        lowering shows, which the filtered load sees only once the hold is over: the live clock
        ran on until then).

        The rep is measured as :meth:`_measure` will measure it: from the start of the drive's
        fit (:func:`drive_fit`, or the level crossings when the fit is poor), with the bottom
        level before it (:func:`rest_level`). On a hold that sags to the top band's edge a
        few newtons of bottom level move the hold's end (or, on an overshoot that decays slowly,
        its start) by tenths of a second, so the live hold must take the same bottom. The
        samples that showed the lowering are the record's last ones, and are kept as they are:
        at 10 SPS a quick lowering's first two samples leave the top like a pair of bad words
        at the record's end, which :func:`_edge_despiked` would put back at the top (the rep's
        measurement has the rest of the lowering after them)."""
        if len(self._ts) < 3:
            return self.hold_s
        ts, xs, _, _ = self._record()
        base = self._cand_base
        xs = _despiked(xs, base, tail=False)
        start, bottom = self._start_and_bottom(ts, xs, base)
        after = ts >= start - 1e-9
        hold_start, hold_end, _ = top_band_hold(ts[after], xs[after], bottom)
        return max(0.0, hold_end - hold_start)

    def _start_and_bottom(self, ts: np.ndarray, xs: np.ndarray, base: float) -> tuple[float, float]:
        """The rep's start and bottom level from its (despiked) samples so far, as
        :meth:`_measure` takes them: the start of the drive's fit (the level crossings' when the
        fit is poor) and the bottom level before it (:func:`rest_level`)."""
        smooth = median3(xs)
        drive = drive_fit(ts, smooth, base)
        if drive is not None and drive[0] is not None and drive[0][2] <= FIT_MAX_RMS:
            start = drive[0][0]
        else:
            k = self.k
            start = band_bounds(ts, smooth, base, self.sigma, k.band, k.lo, k.merge_gap_s)[0]
        start = max(start, float(ts[0]), self._next_from)
        bottom = rest_level(ts, xs, start)
        return start, (base if bottom is None else bottom)

    def _track_peak(self, t: float, x: float) -> None:
        if x > self._peak:
            self._peak = x

    def _start_candidate(self) -> None:
        self._cand = True
        self._cand_base = self.base
        i = self._ring_i
        history = (self._ring[i:] + self._ring[:i]) if self._ring_full else self._ring[:i]
        for tg, heel, fore in history:
            self._ts.append(tg)
            self._heels.append(heel)
            self._fores.append(fore)

    def _drop_candidate(self) -> None:
        self._cand = False
        self._finishing = False
        self._ts.clear()
        self._heels.clear()
        self._fores.clear()

    def _too_long(self, t: float, events: list) -> bool:
        """A 'rep' longer than ``max_rep_s`` is someone resting at a new level: no rep."""
        if self._cand and t - self._ts[0] > self.max_rep_s:
            self._drop_candidate()
            self.still.reset()
            self._set(Phase.SETTLING, t, events)
            return True
        return False

    def _back_at_bottom(self, t: float, events: list) -> None:
        """The load is back near the bottom: the rep is measured once its landing is recorded."""
        self._set(Phase.BOTTOM, t, events)
        self._finishing = True
        self._flight = False
        self._finish_at = t + self.k.tail_s
        self._rested_s = 0.0

    def _finish_or_drop(self, t: float, events: list) -> None:
        rested = max(self._rested_s, self._rest_on_record())
        if rested >= self.k.min_rest_s - 1e-9:
            self._complete(t, events)
        else:
            self._drop_candidate()

    def _rest_on_record(self) -> float:
        """How long the rep's own samples stayed at the bottom level after its peak: the longest
        run of samples within the rest margin, each standing for one sample period.

        The filtered load the phases follow lags the samples, so at 10 SPS a quick lowering
        followed at once by stepping off shows a single filtered sample at the bottom, while
        the samples themselves sat there for two or three (a fall straight through, stepping off
        from the top, crosses the margin within one). The bottom level is the rep's own, as the
        measurement takes it (the rest before the drive): the learned base may be stale by tens
        of newtons (learnt on a crest of the sway before the first rep, or re-learnt only after a
        still moment), and a rep that came back to the athlete's real bottom for a few samples
        before stepping off was no rep."""
        if len(self._ts) < 3:
            return 0.0
        ts, xs, _, _ = self._record()
        xs = _despiked(xs, self._cand_base)
        _, base = self._start_and_bottom(ts, xs, self._cand_base)
        peak = int(np.argmax(xs))
        near = np.abs(xs[peak:] - base) <= self.k.lo * (float(xs[peak]) - base)
        best, first = 0.0, None
        for i, ok in enumerate(near, start=peak):
            if ok:
                first = i if first is None else first
                best = max(best, float(ts[i] - ts[first]) + self._period)
            else:
                first = None
        return best

    def _complete(self, t: float, events: list, drop_last: bool = False) -> None:
        """Measure the rep on record; ``drop_last``: without the sample that decided it."""
        if drop_last and len(self._ts) > 4:
            del self._ts[-1], self._heels[-1], self._fores[-1]
        rep = self._measure()
        seen_to = self._ts[-1]
        base = self._cand_base
        self._drop_candidate()
        if rep is None:
            return
        span = rep.top_n - base
        self.range = span if self.range is None else (
            self.range + self.k.range_weight * (span - self.range))
        self.count += 1
        self.last_end = rep.end
        # the next rep starts no earlier than this one ended, as far as this one's samples
        # reached: an end the fit put beyond them (a lowering fitted to a wrong bottom level)
        # must not cut off the next rep's drive
        self._next_from = min(rep.end, seen_to)
        events.append(RepCompleted(t, rep))

    def _record(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The current record as arrays: times, rep signal, heel and forefoot (held values bridged)."""
        ts = np.asarray(self._ts)
        heel = bridge_repeats(np.asarray(self._heels))
        fore = bridge_repeats(np.asarray(self._fores))
        sig = self.profile.rep_signal
        xs = heel + fore if sig == "load" else (fore if sig == "forefoot" else heel)
        return ts, xs, heel, fore

    def _measure(self) -> Rep | None:
        """The finished rep's numbers from its samples (once per rep; see the module docstring)."""
        k = self.k
        ts, xs, heel_n, fore_n = self._record()
        base = self._cand_base
        if float(xs.max()) <= base:
            return None
        as_recorded = xs
        xs = _despiked(xs, base)
        # the movement's boundaries from the median of three (a landing's one-sample impact is
        # no part of it); the hold from the samples themselves
        smooth = median3(xs)
        bounds = ramp_fit_bounds(ts, smooth, base)
        if bounds is None:  # not a minimum-jerk rep: level crossings
            bounds = band_bounds(ts, smooth, base, self.sigma, k.band, k.lo, k.merge_gap_s)
        start, drive_end, lower_start, end, top = bounds
        start = max(start, float(ts[0]), self._next_from)
        drive_end = max(drive_end, start)
        end = max(end, lower_start)
        if end - start < k.min_rep_s:
            return None
        bottom = rest_level(ts, xs, start)
        if bottom is None:
            bottom = base
        after = ts >= start - 1e-9
        hold_start, hold_end, top = top_band_hold(ts[after], xs[after], bottom)
        # the lowering's end on the median of three: a lone bad word too small for the spike
        # filters is no crossing (on a monotonic fall the median of three is the sample itself)
        _, lower_s = band_lowering(ts[after], smooth[after], bottom, top, hold_end)

        total = heel_n + fore_n
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(total >= SHARE_FLOOR_N, heel_n / total, np.nan)
        # a sample whose load the despike replaced carries a bad word in one zone: its share
        # says nothing (the shares around it are joined by a straight line)
        known = ~np.isnan(shares) & (xs == as_recorded)
        in_drive = (ts >= start) & (ts <= drive_end) & known
        if in_drive.sum() >= 2:
            # the time average over the drive, samples joined by straight lines (a mean of a few
            # samples at 10 SPS would weigh the drive's first moments by where samples happen to
            # fall)
            grid = np.linspace(start, drive_end, max(2, int((drive_end - start) / HOLD_GRID_S)))
            heel = float(np.clip(np.interp(grid, ts[known], shares[known]), 0.0, 1.0).mean())
            heel_min = float(np.clip(shares[in_drive], 0.0, 1.0).min())
        else:  # a drive shorter than two samples: the sample nearest to it
            near = (ts <= drive_end) & known
            if near.any():
                heel = heel_min = float(np.clip(shares[near][-1], 0.0, 1.0))
            else:
                heel = heel_min = None
        hold_s = hold_end - hold_start
        faults = self.profile.judge(heel, hold_s, lower_s)
        return Rep(
            index=self.count + 1,
            start=start,
            end=end,
            drive_s=drive_end - start,
            hold_s=hold_s,
            lower_s=lower_s,
            heel_share=heel,
            heel_share_min=heel_min,
            peak_n=float(np.max(total)),
            good=not faults,
            faults=faults,
            top_n=top,
            bottom_n=bottom,
            hold_start=hold_start,
            hold_end=hold_end,
        )


# ---------------------------------------------------------------------- measuring one rep


def bridge_repeats(xs: np.ndarray) -> np.ndarray:
    """``xs`` with each value that exactly repeats its predecessor replaced by the straight line
    between the samples around the run.

    A spike filter that drops a bad HX711 word by holding its previous output (the plate's
    former recursive median; recordings made with it, or with other software, carry such held
    values) lags on a ramp by up to two sample periods (0.2 s at 10 SPS). HX711 noise makes genuinely equal successive
    values on a loaded cell vanishingly rare, and bridging a truly flat stretch changes nothing.
    """
    n = xs.size
    if n < 3:
        return xs
    held = np.zeros(n, dtype=bool)
    held[1:] = xs[1:] == xs[:-1]
    held[-1] = False  # nothing after it to bridge to
    if not held.any():
        return xs
    idx = np.arange(n)
    good = ~held
    return np.interp(idx, idx[good], xs[good])


def top_band_hold(ts: np.ndarray, xs: np.ndarray, bottom: float, band: float = HOLD_BAND,
                  settled: float = HOLD_SETTLED) -> tuple[float, float, float]:
    """``(hold_start, hold_end, top)`` of one rep's rep signal: THE definition of the hold.

    ``xs`` are the rep's samples from the start of its drive on (any time grid; straight lines
    between samples: coarse grids are resampled every :data:`HOLD_GRID_S`), ``bottom`` the level
    before the drive. ``peak`` is the highest load and ``half`` the first time after it the load
    is below ``bottom + (peak - bottom) / 2`` (half-way down the lowering) and stays below it
    until it reaches ``bottom + (peak - bottom) / 4`` or the samples end (a dip that comes back
    up is no lowering; see :func:`_half_way_down`). The top level ``top``
    is the median load from ``peak`` to ``half``, refined twice as the median of the loads within
    15 % of the range of it (the overshoot and the lowering are not the top); ``range = top -
    bottom``.

    * ``hold_end``: the last time before ``half`` that the load is at or above ``top - band x
      range``: the load leaves the top band for good. The athlete's sway dipping out of the band
      and back during the hold does not end it.
    * ``hold_start``: the first time after ``peak`` that the load is at or below ``top + settled
      x range`` (the drive's overshoot has settled into the hold); when the peak is no higher
      than that (no overshoot), the first time the load reaches ``top - band x range``.

    The hold is ``hold_end - hold_start`` (0 when the lowering begins before the overshoot has
    settled: both are then their midpoint).
    """
    ts = np.asarray(ts, dtype=float)
    xs = np.asarray(xs, dtype=float)
    if ts.size >= 2 and (ts[-1] - ts[0]) / (ts.size - 1) > 1.5 * HOLD_GRID_S:
        grid = np.arange(ts[0], ts[-1] + 0.5 * HOLD_GRID_S, HOLD_GRID_S)
        xs = np.interp(grid, ts, xs)
        ts = grid
    ip = int(np.argmax(xs))
    peak = float(xs[ip])
    im = ip + _half_way_down(xs[ip:], bottom, peak)
    seg = xs[ip:im + 1]
    top = float(np.median(seg))
    for _ in range(2):
        near = seg[np.abs(seg - top) <= 0.15 * (top - bottom)]
        if near.size:
            top = float(np.median(near))
    span = top - bottom
    if span <= 0:
        t = float(ts[ip])
        return t, t, top
    low, high = top - band * span, top + settled * span
    inside = np.flatnonzero(seg >= low)
    j = ip + int(inside[-1]) if inside.size else ip
    hold_end = _cross(ts, xs, j, low) if j < xs.size - 1 else float(ts[j])
    if peak > high:
        settled_at = np.flatnonzero(seg <= high)
        i = ip + int(settled_at[0]) if settled_at.size else im
        hold_start = _cross(ts, xs, i - 1, high)
    else:
        up = np.flatnonzero(xs[:ip + 1] >= low)
        i = int(up[0])
        hold_start = _cross(ts, xs, i - 1, low) if i > 0 else float(ts[0])
    if hold_end < hold_start:
        hold_start = hold_end = 0.5 * (hold_start + hold_end)
    return hold_start, hold_end, top


def _half_way_down(xs: np.ndarray, bottom: float, peak: float) -> int:
    """The index in ``xs`` (from the peak on) of ``half``, the lowering's first sample below
    ``bottom + (peak - bottom) / 2``: the start of the stretch below that level that goes on
    down to ``bottom + (peak - bottom) / 4`` (or, when the load never gets that low, that runs
    to the end), so that a dip back above it was no lowering. A pair of bad words after the
    overshoot, or the athlete's sway when a spike or the overshoot set the peak high, dips
    below half-way and comes back; a lowering goes on to the bottom. The last index when the
    load never stays below half-way.
    """
    above = xs >= bottom + 0.5 * (peak - bottom)
    low = np.flatnonzero(xs <= bottom + 0.25 * (peak - bottom))
    stop = int(low[0]) if low.size else xs.size - 1
    back = np.flatnonzero(above[:stop + 1])
    if low.size or not above[-1]:
        return min(int(back[-1]) + 1, xs.size - 1) if back.size else 0
    return xs.size - 1


def band_lowering(ts: np.ndarray, xs: np.ndarray, bottom: float, top: float, hold_end: float,
                  band: float = LOWER_BAND, hold_band: float = HOLD_BAND) -> tuple[float, float]:
    """``(lower_end, lower_s)`` of one rep: THE definition of the lowering (shared, like the hold's,
    with the simulated athlete's ground truth).

    The lowering runs from ``hold_end`` (the load leaves the top band for good, see
    :func:`top_band_hold`) to ``lower_end``, the first time after it that the load is at or
    below ``bottom + band x (top - bottom)`` (straight lines between samples; the last sample's
    time when it never gets there). Both edges sit where the load moves fast, so the athlete's
    sway at the flat ends of the movement moves them little. ``lower_s`` puts that stretch on
    the scale of a whole movement: it is the duration of the minimum-jerk fall from ``top`` to
    ``bottom`` that crosses the two levels at those two times (the stretch divided by
    :func:`lowering_fraction`), so a coach's "lower over at least 1.5 s" means what it says.
    """
    ts = np.asarray(ts, dtype=float)
    xs = np.asarray(xs, dtype=float)
    level = bottom + band * (top - bottom)
    k = int(np.searchsorted(ts, hold_end, side="right"))
    down = np.flatnonzero(xs[k:] <= level)
    if down.size:
        i = k + int(down[0])
        lower_end = _cross(ts, xs, i - 1, level) if i > 0 else float(ts[0])
        lower_end = max(lower_end, hold_end)
    else:
        lower_end = float(ts[-1]) if ts.size else hold_end
    return lower_end, (lower_end - hold_end) / lowering_fraction(band, hold_band)


def lowering_fraction(band: float = LOWER_BAND, hold_band: float = HOLD_BAND) -> float:
    """The part of a minimum-jerk fall between leaving the top band (``hold_band`` below the
    top) and reaching ``band`` above the bottom (0.415 for the shipped bands)."""
    return float(np.interp(1.0 - band, _MJ, _S) - np.interp(hold_band, _MJ, _S))


def rest_level(ts: np.ndarray, xs: np.ndarray, start: float) -> float | None:
    """The bottom level before a drive that starts at ``start``: the median of the samples in the
    :data:`REST_S` before it (None with fewer than two there). One definition for the rep's
    measurement, the live hold and the lowering's fit."""
    rest = xs[(ts >= start - REST_S) & (ts <= start)]
    return float(np.median(rest)) if rest.size >= 2 else None


def median3(xs: np.ndarray) -> np.ndarray:
    """The centred median of three (the ends kept): a landing's one-sample impact is not a top."""
    if xs.size < 3:
        return xs
    out = xs.copy()
    out[1:-1] = np.median(np.stack((xs[:-2], xs[1:-1], xs[2:])), axis=0)
    return out


def _despiked(xs: np.ndarray, base: float, tail: bool = True) -> np.ndarray:
    """A rep's rep signal through :func:`despike`, the limit a fifth of its rough range (the
    median of its top quarter above ``base``); ``tail=False`` leaves the record's last samples
    as they are (see :func:`_edge_despiked`)."""
    limit = 0.2 * (float(np.median(xs[xs >= np.percentile(xs, 75)])) - base)
    return despike(_edge_despiked(xs, limit, tail), limit)


def _edge_despiked(xs: np.ndarray, limit: float, tail: bool = True) -> np.ndarray:
    """``xs`` with a run of one or two bad words at either end of the record (where
    :func:`despike` has no neighbour on one side) set to the sample next to it: a run standing
    out by more than ``limit`` from a neighbour that itself moved less than half of it.
    ``tail=False``: the start of the record only."""
    n = xs.size
    if n < 6 or limit <= 0:
        return xs
    out = xs
    for width in (2, 1):
        ends = [(slice(0, width), width, width + 1)]
        if tail:
            ends.insert(0, (slice(n - width, n), n - width - 1, n - width - 2))
        for run, near, nearer in ends:
            jump = out[run] - out[near]
            if (np.all(np.abs(jump) > limit) and np.all(np.sign(jump) == np.sign(jump[0]))
                    and abs(out[near] - out[nearer]) < 0.5 * limit):
                out = out.copy() if out is xs else out
                out[run] = out[near]
    return out


def despike(xs: np.ndarray, limit: float) -> np.ndarray:
    """``xs`` with HX711 spikes the plate let through replaced by the line between their
    neighbours: runs of one or two samples that stand out from the samples on both sides, in
    the same direction, by more than ``limit`` and by more than twice the step the load took
    just before and just after the run (the plate removes single bad words; two in a row pass
    it).

    The second condition is what keeps real movement: at 10 SPS the drive's overshoot is a
    peak of one or two samples standing well above its neighbours, but the load climbed to it
    in steps as large, while a spike leaps out of a load that was moving slowly.
    """
    n = xs.size
    if n < 5 or limit <= 0:
        return xs
    out = xs.copy()
    for _ in range(4 + n // 5):  # the worst run first, so that a spike is no spike's neighbour
        worst = _worst_run(out, limit)
        if worst is None:
            break
        a, b = worst
        out[a + 1:b] = out[a] + (out[b] - out[a]) * np.arange(1, b - a) / (b - a)
    return out


def _worst_run(xs: np.ndarray, limit: float) -> tuple[int, int] | None:
    """``(a, b)``: the neighbours of the run (one or two samples) of ``xs`` standing out the
    most beyond its limit (see :func:`despike`), or ``None``."""
    n = xs.size
    # the load's pace: its steps once gross outliers (twice the limit off the five-sample
    # median, which two bad words in five cannot move) are set to that median, so that one
    # spike does not hide its neighbour
    padded = np.concatenate((xs[:1], xs[:1], xs, xs[-1:], xs[-1:]))
    med = np.median(np.lib.stride_tricks.sliding_window_view(padded, 5), axis=1)
    step = np.abs(np.diff(np.where(np.abs(xs - med) > 2.0 * limit, med, xs)))
    excess = {}
    for width in (1, 2):
        # a run xs[k:k+width] with neighbours xs[k-1] and xs[k+width]
        k = np.arange(1, n - width)
        left, right = xs[k - 1], xs[k + width]
        run_lo = xs[k] if width == 1 else np.minimum(xs[k], xs[k + 1])
        run_hi = xs[k] if width == 1 else np.maximum(xs[k], xs[k + 1])
        pace = np.maximum(step[np.clip(k - 2, 0, n - 2)], step[np.clip(k + width, 0, n - 2)])
        lim = np.maximum(limit, 2.0 * pace)
        out = np.maximum(run_lo - np.maximum(left, right), np.minimum(left, right) - run_hi)
        excess[width] = out - lim  # index i: the run starting at sample i + 1
    singles, pairs = excess[1], excess[2]
    i = int(np.argmax(singles))
    if singles[i] > 0:
        k = i + 1
        # a bad word next to another: the pair is the run (fixing one would leave the other)
        options = [(pairs[j], j + 1) for j in (k - 2, k - 1) if 0 <= j < pairs.size and pairs[j] > 0]
        if options:
            start = max(options)[1]
            return start - 1, start + 2
        return k - 1, k + 1
    j = int(np.argmax(pairs)) if pairs.size else 0
    if pairs.size and pairs[j] > 0:
        return j, j + 3
    return None


_S = np.linspace(0.0, 1.0, 2001)


def min_jerk(s):
    """Minimum-jerk easing 0..1 -> 0..1 (Flash & Hogan 1985): ``10s^3 - 15s^4 + 6s^5``."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


def overshoot(s):
    """The drive's dynamic bump ``s^3 (1-s)^2``, scaled to 1 at its peak (``s = 0.6``)."""
    s = np.clip(s, 0.0, 1.0)
    r = 1.0 - s
    return (s * s * s) * (r * r) * (1.0 / (0.6 ** 3 * 0.4 ** 2))


_MJ = min_jerk(_S)
_FIT_SAMPLES = 60  # samples a ramp fit uses at most
_GRID = 13  # grid points per parameter and refinement
VARIANT = 2


def fit_ramp(ts: np.ndarray, ys: np.ndarray, bump: bool = False,
             end_level: float | None = None, start_level: float | None = None,
             dip: bool = True) -> tuple[float, float, float] | None:
    """Fit ``y = c + a * min_jerk(s) [+ b * overshoot(s)]``, ``s = (t - t0) / d``, to samples.

    A smooth human movement from rest to rest is close to minimum-jerk; the drive of a hip thrust
    adds a dynamic overshoot (the hips are thrust up, so the foot briefly carries more than its
    static share). ``c``, ``a`` and ``b`` are linear and solved exactly for each ``(t0, d)``;
    with ``end_level`` the ramp must end there (``c + a = end_level``, no overshoot: used for
    the lowering, which ends at the athlete's known bottom level while the samples may stop
    before it). ``dip=False`` keeps the overshoot's ``b`` from going negative (see below).
    ``(t0, d)`` come from a grid search refined three times. Returns
    ``(t0, d, rms)`` with the residual's RMS relative to ``|a|``, or ``None`` when there are too
    few samples.
    """
    if end_level is not None:
        cols = 0 if start_level is not None else 1
    else:
        cols = 1 if start_level is not None else (3 if bump else 2)
    if ts.size < cols + 2:
        return None
    if ts.size > _FIT_SAMPLES:  # every k-th sample: the shape needs no more, the grid is costly
        k = -(-ts.size // _FIT_SAMPLES)
        ts, ys = ts[::k], ys[::k]
    n = ts.size
    y = ys - ys.mean()
    span = float(y.max() - y.min())
    if span <= 0:
        return None
    f = (y - y.min()) / span
    rising = ys[-1] > ys[0] if not bump else True
    if not rising:
        f = 1.0 - f
    # first guess from the 20 % and 80 % crossings of the sampled span (a min-jerk ramp crosses
    # them at s = 0.3 and 0.7, roughly)
    i20 = int(np.argmax(f >= 0.2))
    i80 = int(np.argmax(f >= 0.8))
    d0 = max((ts[i80] - ts[i20]) / 0.4, 2.0 * (ts[1] - ts[0]), 0.05)
    t00 = ts[i20] - 0.3 * d0
    best = (float("inf"), t00, d0)
    t_half, d_lo, d_hi = 0.6 * d0, 0.3 * d0, 2.5 * d0
    for _ in range(4):
        t0s = np.linspace(best[1] - t_half, best[1] + t_half, _GRID)
        ds = np.geomspace(max(d_lo, 1e-3), d_hi, _GRID)
        T0, D = np.meshgrid(t0s, ds, indexing="ij")
        s = (ts[None, None, :] - T0[..., None]) / D[..., None]
        m1 = min_jerk(s)
        if end_level is not None and start_level is not None:
            r = ys - (start_level + (end_level - start_level) * m1)
            sse = (r * r).sum(axis=-1)
            coef = np.broadcast_to(np.array([start_level, end_level - start_level]), sse.shape + (2,))
        elif start_level is not None:
            # y - start = k mj(s), k = end level - start level
            ys0 = ys - start_level
            my = m1 @ ys0
            k_ = my / np.maximum((m1 * m1).sum(axis=-1), 1e-12)
            sse = float(ys0 @ ys0) - k_ * my
            coef = np.stack([np.full_like(k_, start_level), k_], axis=-1)
        elif end_level is not None:
            # y - end = k (1 - mj(s)), k = start level - end level
            w = 1.0 - m1
            ye = ys - end_level
            wy = w @ ye
            k_ = wy / np.maximum((w * w).sum(axis=-1), 1e-12)
            sse = float(ye @ ye) - k_ * wy
            coef = np.stack([k_ + end_level, -k_], axis=-1)
        else:
            x = [np.ones_like(m1), m1] + ([overshoot(s)] if bump else [])
            X = np.stack(x, axis=-1)                       # (grid, grid, n, cols)
            # normal equations per grid point (matmul: a few times faster than einsum here)
            xtx = np.swapaxes(X, -1, -2) @ X
            xty = np.swapaxes(X, -1, -2) @ y
            xtx += np.eye(cols) * 1e-9 * (1.0 + np.abs(xtx).max())
            coef = np.linalg.solve(xtx, xty[..., None])[..., 0]
            sse = float(y @ y) - np.einsum("abi,abi->ab", coef, xty)
            if bump and not dip:
                # a negative overshoot is a dip before the rise (a jump's countermovement);
                # where the samples show none, it only bends a ramp that starts early into the
                # rest's sway: with samples that stop near the peak (a lowering straight after
                # the drive) the ramp started a quarter of a second early. The ramp alone there.
                flat = coef[..., 2] < 0.0
                if flat.any():
                    x2, y2 = xtx[..., :2, :2], xty[..., :2]
                    c2 = np.linalg.solve(x2, y2[..., None])[..., 0]
                    sse2 = float(y @ y) - np.einsum("abi,abi->ab", c2, y2)
                    c2 = np.concatenate([c2, np.zeros_like(c2[..., :1])], axis=-1)
                    coef = np.where(flat[..., None], c2, coef)
                    sse = np.where(flat, sse2, sse)
        i, j = np.unravel_index(int(np.argmin(sse)), sse.shape)
        best = (float(sse[i, j]), float(T0[i, j]), float(D[i, j]), coef[i, j])
        t_half = 2.0 * (t0s[1] - t0s[0])
        d_lo, d_hi = ds[max(j - 2, 0)], ds[min(j + 2, len(ds) - 1)]
    sse, t0, d, coef = best
    amp = abs(float(coef[1]))
    if amp <= 0:
        return None
    rms = (max(sse, 0.0) / n) ** 0.5 / amp
    return t0, d, rms


def drive_fit(ts: np.ndarray, xs: np.ndarray, base: float):
    """The drive's fit of :func:`ramp_fit_bounds`: ``(rise, ia, top, span)``, or ``None`` when
    the load never rises above ``base``.

    ``rise`` is :func:`fit_ramp`'s ``(t0, d, rms)`` of the minimum-jerk rise plus overshoot
    (``None`` when too few samples follow the peak), ``ia`` the index of the last sample at the
    top level before the load is half-way down, ``top`` that level and ``span`` it above
    ``base``. The live hold (:meth:`RepDetector._hold_so_far`) starts the rep where this fit
    does, before the lowering is on record.
    """
    ip = int(np.argmax(xs))
    gmax = float(xs[ip])
    after = np.flatnonzero(xs[ip:] < base + 0.5 * (gmax - base))
    i_down = ip + (int(after[0]) if after.size else len(xs) - ip)
    tail = xs[ip:i_down]  # the overshoot's decay, the hold and the lowering's first half
    top = float(np.median(tail))
    near = np.abs(tail - top) <= 0.1 * (top - base)
    if near.any():
        top = float(np.median(tail[near]))
    span = top - base
    if span <= 0:
        return None
    at_top = np.flatnonzero(xs[:i_down] >= top)
    ia = int(at_top[-1]) if at_top.size else ip
    # the drive: from the rest before it up to the lowering, at most 1.5 x (peak time - leaving
    # the bottom) past the peak
    low = np.flatnonzero(xs[:ip + 1] < base + 0.1 * span)
    t_leave = float(ts[low[-1]]) if low.size else float(ts[0])
    t_cap = float(ts[ip]) + 1.5 * max(float(ts[ip]) - t_leave, 0.1)
    j = min(ia, int(np.searchsorted(ts, t_cap)))
    # a countermovement (the load dipping well below the rest before the rise, as before a
    # jump) may be fitted as a negative overshoot; a rise from rest may not
    dip = bool(np.min(xs[:ip + 1]) < base - 0.1 * span)
    rise = fit_ramp(ts[:j + 1], xs[:j + 1], bump=True, dip=dip) if j > ip else None
    return rise, ia, top, span


def ramp_fit_bounds(ts: np.ndarray, xs: np.ndarray, base: float,
                    max_rms: float = FIT_MAX_RMS):
    """``(start, hold_start, hold_end, end, top)`` of a rep from model fits, or ``None``.

    The lowering (from the last sample in the top 10 % of the excursion to the end) is fitted
    with a minimum-jerk fall: its start is the hold's end, its end the rep's end. The drive (from
    the rest before it to the lowering, or 1.5 drive-lengths past its peak) is fitted with a
    minimum-jerk rise plus overshoot: its start is the rep's start, its end the hold's start.
    ``None`` when a fit is poor (relative RMS residual above ``max_rms``): the caller falls back
    to :func:`band_bounds`.
    """
    drive = drive_fit(ts, xs, base)
    if drive is None:
        return None
    rise, ia, top, span = drive
    # the lowering: from the last sample at the top level to the end, from the top level to the
    # base (both levels fixed: the sway of a real hold makes a free level wander)
    below = np.flatnonzero(xs[ia:] < base - 0.15 * span)  # stepping off right after the rep
    i_end = ia + int(below[0]) if below.size else len(xs)
    fall = None
    if rise is not None:  # the bottom level is best known from the rest just before the drive
        level = rest_level(ts, xs, rise[0])
        if level is not None:
            fall = fit_ramp(ts[ia:i_end], xs[ia:i_end], end_level=level, start_level=top)
            if abs(level - base) >= 0.15 * span:
                # far from the learnt base: the base may be stale (learnt in a trough of the
                # settling sway, with no still moment at the bottom since), or the rest may not
                # be one; the lowering ends on whichever level it fits better (a fall fixed to
                # a bottom 40 N too low stretches by a second and swallows the next rep)
                other = fit_ramp(ts[ia:i_end], xs[ia:i_end], end_level=base, start_level=top)
                if fall is None or (other is not None and other[2] < fall[2]):
                    fall = other
    if fall is None:
        fall = fit_ramp(ts[ia:i_end], xs[ia:i_end], end_level=base, start_level=top)
    if fall is None or rise is None or fall[2] > max_rms or rise[2] > max_rms:
        return None
    start, drive_end = rise[0], rise[0] + rise[1]
    hold_end, end = fall[0], fall[0] + fall[1]
    if hold_end < drive_end:  # no hold: the drive's end and the lowering's start overlap
        drive_end = hold_end = 0.5 * (drive_end + hold_end)
    return start, drive_end, hold_end, end, top


def band_bounds(ts: np.ndarray, xs: np.ndarray, base: float, sigma: float, band_frac: float,
                lo: float, merge_gap_s: float):
    """``(start, hold_start, hold_end, end, top)`` from level crossings (no shape assumed).

    The top level is the median of the samples in the top 15 % of the excursion; the hold is the
    longest stretch within ``band`` of it (gaps under ``merge_gap_s`` bridged), its edges moved
    by ``band / slope`` of the ramps; start and end are the ramps extrapolated to the base from
    their 30 % and 50 % crossings.
    """
    xmax = float(xs.max())
    region = xs >= base + 0.85 * (xmax - base)
    top = float(np.median(xs[region]))
    span = top - base
    band = max(band_frac * span, 4.0 * sigma)
    i0, i1 = _longest_run(ts, xs >= top - band, merge_gap_s)
    plateau = xs[i0:i1 + 1]
    if plateau.size >= 3 and 3.0 * float(plateau.std()) > band:
        band = 3.0 * float(plateau.std())
        i0, i1 = _longest_run(ts, xs >= top - band, merge_gap_s)
    edge = top - band
    mid = base + 0.5 * span
    low = base + 0.3 * span
    t_in = _cross(ts, xs, i0 - 1, edge) if i0 > 0 else float(ts[0])
    t_out = _cross(ts, xs, i1, edge) if i1 < len(xs) - 1 else float(ts[-1])
    j = _last_below(xs, i0, mid)
    t_mid_up = _cross(ts, xs, j, mid) if j is not None else float(ts[0])
    j = _first_below(xs, i1, mid)
    t_mid_down = _cross(ts, xs, j - 1, mid) if j is not None else float(ts[-1])
    j = _last_below(xs, i0, low)
    t_low_up = _cross(ts, xs, j, low) if j is not None else float(ts[0])
    j = _first_below(xs, i1, low)
    t_low_down = _cross(ts, xs, j - 1, low) if j is not None else float(ts[-1])
    hold_start = t_in + _extrapolate(band, edge - mid, t_in - t_mid_up)
    hold_end = t_out - _extrapolate(band, edge - mid, t_mid_down - t_out)
    if hold_end < hold_start:
        hold_start = hold_end = 0.5 * (hold_start + hold_end)
    start = t_low_up - _extrapolate(low - base, mid - low, t_mid_up - t_low_up, 10.0)
    end = t_low_down + _extrapolate(low - base, mid - low, t_low_down - t_mid_down, 10.0)
    return start, hold_start, hold_end, end, top


def _longest_run(ts: np.ndarray, mask: np.ndarray, merge_gap_s: float) -> tuple[int, int]:
    """First and last index of the longest stretch of ``mask``, bridging gaps < ``merge_gap_s``."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        i = int(np.argmax(ts))  # not reached: the peak sample is always in the band
        return i, i
    breaks = np.flatnonzero((np.diff(idx) > 1) & (np.diff(ts[idx]) > merge_gap_s))
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]]))
    best = int(np.argmax(ts[ends] - ts[starts]))
    return int(starts[best]), int(ends[best])


def _cross(ts: np.ndarray, xs: np.ndarray, i: int, level: float) -> float:
    """Time at which the straight line from sample ``i`` to ``i + 1`` passes ``level``."""
    i = max(0, min(i, len(xs) - 2))
    dx = xs[i + 1] - xs[i]
    f = 0.5 if dx == 0 else (level - xs[i]) / dx
    f = 0.0 if f < 0 else (1.0 if f > 1 else f)
    return float(ts[i] + f * (ts[i + 1] - ts[i]))


def _last_below(xs: np.ndarray, before: int, level: float) -> int | None:
    """The last index before ``before`` where ``xs`` is below ``level``."""
    idx = np.flatnonzero(xs[:before] < level)
    return int(idx[-1]) if idx.size else None


def _first_below(xs: np.ndarray, after: int, level: float) -> int | None:
    """The first index after ``after`` where ``xs`` is below ``level``."""
    idx = np.flatnonzero(xs[after + 1:] < level)
    return int(after + 1 + idx[0]) if idx.size else None


def _extrapolate(rise: float, ramp_rise: float, ramp_s: float, cap: float = 1.0) -> float:
    """Seconds a straight ramp climbing ``ramp_rise`` in ``ramp_s`` takes to climb ``rise``.

    Capped at ``cap`` x ``ramp_s`` (an extrapolation never reaches far beyond its ramp).
    """
    if ramp_rise <= 0 or ramp_s <= 0:
        return 0.0
    s = rise / ramp_rise * ramp_s
    return min(max(s, 0.0), cap * ramp_s)

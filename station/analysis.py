"""The one streaming analysis: samples in, typed events out.

``Analyzer.feed(sample)`` runs signal (spike gate + low-pass on heel and forefoot, heel share,
centre of pressure) -> presence (on/off, grace) -> reps (phases, rep measurements, judged against
the profile) -> sets, in O(1) per sample, and returns the events that sample caused. The live
kiosk, ``gym-station analyze`` and the tests all use it; the cue engine consumes the events and
the :attr:`Analyzer.live` snapshot (updated in place, never reallocated).

Events, in the order a sample produces them:
  :class:`SteppedOn`, :class:`SteppedOff`  presence changes (``t`` = when the load crossed)
  :class:`PhaseChanged`                    rep phase changes (``off``, ``settling``, ``bottom``,
                                           ``drive``, ``top``, ``lower``)
  :class:`RepCompleted`                    a rep with all its numbers (:class:`Rep`)
  :class:`SetCompleted`                    a set's summary, when the athlete has been off the
                                           plate for the grace period, or at :meth:`finish`
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.sample import Sample

from .errors import RecordingError
from .presence import GONE, OFF, ON, Presence, SteppedOff, SteppedOn
from .profiles import ExerciseProfile, Targets
from .reps import Phase, PhaseChanged, Rep, RepCompleted, RepDetector, RepTuning
from .sets import SetCompleted, SetSummary, SetTracker
from .signal import LowPass, ShareGate, cop_across

Event = SteppedOn | SteppedOff | PhaseChanged | RepCompleted | SetCompleted

__all__ = [
    "Analyzer", "Event", "Live", "Phase", "PhaseChanged", "Rep", "RepCompleted", "SetCompleted",
    "SetSummary", "SteppedOff", "SteppedOn",
]

#: Samples used to estimate the rate when none is given.
_RATE_PROBE = 5


@dataclass(slots=True)
class Live:
    """What the screen and the cue engine read every frame. Updated in place by ``feed``.

    ``load_n`` is the filtered total; ``heel_share`` and ``cop_along`` (0 heel .. 1 forefoot) are
    ``None`` while too little load is on the plate; ``cop_across`` (-1 left .. +1 right) only on
    4-cell plates; ``hold_s`` is the current rep's time at the top so far (the rep's final
    ``hold_s`` is measured more precisely when it completes); ``still`` is whether the rep signal
    has been steady for the settle time.
    """

    t: float = 0.0
    phase: Phase = Phase.OFF
    load_n: float = 0.0
    heel_share: float | None = None
    cop_along: float | None = None
    cop_across: float | None = None
    hold_s: float = 0.0
    reps: int = 0
    good_reps: int = 0
    on_plate: bool = False
    still: bool = False


class Analyzer:
    """Streaming analysis of one athlete doing ``profile`` on ``side``.

    ``rate_hz`` designs the low-pass; when ``None`` it is estimated from the first few samples'
    timestamps (those samples are analysed once it is known). ``targets`` are a coach's
    overrides of the profile's targets.
    """

    def __init__(self, profile: ExerciseProfile, side: str, rate_hz: float | None = None,
                 targets: Targets | None = None, presence: Presence | None = None,
                 tuning: RepTuning | None = None):
        if side not in profile.sides:
            raise ValueError(f"{profile.name} is done on {', '.join(profile.sides)}, not {side!r}")
        if rate_hz is not None and not 1.0 <= rate_hz <= 2000.0:
            raise ValueError(f"sample rate {rate_hz} Hz is outside 1..2000")
        self.profile = profile.with_targets(targets)
        self.side = side
        self.presence = presence or Presence()
        self.gate = ShareGate()
        self.live = Live()
        self.reps: list[Rep] = []
        self.sets: list[SetSummary] = []
        self._tuning = tuning
        self._signal = self.profile.rep_signal
        self._probe: list[Sample] = []
        self._last_t: float | None = None
        self._tracker = SetTracker(self.profile.id, side)
        self.rate_hz: float | None = None
        if rate_hz is not None:
            self._design(float(rate_hz))

    def _design(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self._heel = LowPass(rate_hz)
        self._fore = LowPass(rate_hz)
        self.delay_s = self._heel.delay_s  # how late the live phases are (station.signal)
        self.detector = RepDetector(self.profile, rate_hz, self._tuning)

    def feed(self, sample: Sample) -> list[Event]:
        """Analyse one sample; returns the events it caused (often none)."""
        t = sample.t
        if self._last_t is not None and t < self._last_t:
            raise RecordingError(
                f"sample at t={t:.4f} s comes before the previous one (t={self._last_t:.4f} s): "
                "samples must be in time order"
            )
        self._last_t = t
        if self.rate_hz is None:
            return self._probe_rate(sample)
        return self._step(sample)

    def _probe_rate(self, sample: Sample) -> list[Event]:
        self._probe.append(sample)
        if len(self._probe) < _RATE_PROBE:
            return []
        dts = sorted(b.t - a.t for a, b in zip(self._probe, self._probe[1:], strict=False))
        dt = dts[len(dts) // 2]
        if dt <= 0:
            raise RecordingError("cannot tell the sample rate: the first samples share one timestamp")
        self._design(min(2000.0, max(1.0, 1.0 / dt)))
        events: list[Event] = []
        for s in self._probe:
            events.extend(self._step(s))
        self._probe.clear()
        return events

    def _step(self, s: Sample) -> list[Event]:
        events: list = []
        t = s.t
        heel = self._heel.step(s.heel)
        fore = self._fore.step(s.forefoot)
        total = heel + fore
        share = self.gate.share(heel, fore)
        live = self.live
        det = self.detector

        change = self.presence.step(t, total)
        if change is not None:
            self._presence_changed(change, t, total, events)
            self._rep_events(events, 0)
        if self._signal == "load":
            x = total
        elif self._signal == "forefoot":
            x = fore
        else:
            x = heel
        if self.presence.on:
            n = len(events)
            # the rep's numbers are measured on the samples themselves (no filter delay)
            det.step(t, x, total >= self.presence.off_n, events, s.heel, s.forefoot)
            if len(events) > n:
                self._rep_events(events, n)

        live.t = t
        live.load_n = total
        live.heel_share = share
        live.cop_along = None if share is None else 1.0 - share
        live.cop_across = None if s.left is None else cop_across(s.left, s.right, self.gate.min_load)
        live.phase = det.phase
        live.hold_s = det.hold_s if det.phase in (Phase.TOP, Phase.LOWER) else 0.0
        live.on_plate = self.presence.on
        live.still = det.still.still
        return events

    def _presence_changed(self, change: str, t: float, total: float, events: list) -> None:
        at = self.presence.changed_at if self.presence.changed_at is not None else t
        if change == ON:
            events.append(SteppedOn(at, total))
            self.detector.stepped_on(t, events)
        elif change == OFF:
            events.append(SteppedOff(at))
            self.gate.forget()
            self.detector.stepped_off(t, events)
        elif change == GONE:
            self._close_set(t, events)

    def _rep_events(self, events: list, first: int) -> None:
        det = self.detector
        for e in events[first:]:
            if isinstance(e, RepCompleted):
                self.reps.append(e.rep)
                self._tracker.add(e.rep)
                self.live.reps = len(self._tracker.reps)
                self.live.good_reps += e.rep.good
            elif isinstance(e, PhaseChanged) and e.previous is Phase.SETTLING and det.base is not None:
                # the athlete's standing load is known: heel share needs a share of it on the plate
                self.gate.learn_standing(det.base if self._signal == "load" else self.live.load_n)

    def _close_set(self, t: float, events: list) -> None:
        if self._tracker.reps:
            summary = self._tracker.close()
            self.sets.append(summary)
            events.append(SetCompleted(t, summary))
        self.live.reps = 0
        self.live.good_reps = 0

    def finish(self) -> list[Event]:
        """End of the stream (the recording ended, the session was stopped): close the open set."""
        events: list[Event] = []
        if self.rate_hz is None and self._probe:
            # too few samples to estimate a rate: analyse them at the HX711's fast rate
            self._design(80.0)
            for s in self._probe:
                events.extend(self._step(s))
            self._probe.clear()
        if self.rate_hz is not None:
            self._close_set(self._last_t if self._last_t is not None else 0.0, events)
        return events

    def feed_all(self, samples) -> list[Event]:
        """Feed every sample of an iterable, then :meth:`finish`; all the events in order."""
        events: list[Event] = []
        for s in samples:
            events.extend(self.feed(s))
        events.extend(self.finish())
        return events

"""``gym-station analyze``: a recording through the same streaming analysis and cue engine the
kiosk runs live, sample by sample, so offline and live results cannot disagree.

The JSON (DESIGN.md's contract) is an object with ``exercise``, ``side``, ``reps`` (each rep's
``index``, ``start``, ``end``, ``drive_s``, ``hold_s``, ``lower_s``, ``heel_share``,
``heel_share_min``, ``peak_n``, ``good``, ``faults``, ...), ``cues`` (``t``, ``kind``, ``text``)
and ``summary`` (counts, means, each set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from drivers.recording import RecordingReader

from .analysis import Analyzer
from .cues import CueEngine
from .errors import UsageError
from .profiles import ProfileBook, Targets
from .reps import Rep
from .sets import SetSummary
from .view import Cue


@dataclass
class AnalysisResult:
    exercise: str
    side: str
    rate_hz: float | None
    samples: int
    duration_s: float
    reps: list[Rep] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    sets: list[SetSummary] = field(default_factory=list)

    def summary(self) -> dict:
        good = [r for r in self.reps if r.good]

        def mean(name):
            values = [getattr(r, name) for r in self.reps if getattr(r, name) is not None]
            return sum(values) / len(values) if values else None

        faults: dict[str, int] = {}
        for r in self.reps:
            for f in r.faults:
                faults[f] = faults.get(f, 0) + 1
        return {
            "samples": self.samples,
            "duration_s": self.duration_s,
            "rate_hz": self.rate_hz,
            "reps": len(self.reps),
            "good_reps": len(good),
            "heel_share": mean("heel_share"),
            "hold_s": mean("hold_s"),
            "lower_s": mean("lower_s"),
            "drive_s": mean("drive_s"),
            "peak_n": mean("peak_n"),
            "faults": faults,
            "sets": [s.as_dict() for s in self.sets],
        }

    def to_json(self) -> dict:
        return {
            "exercise": self.exercise,
            "side": self.side,
            "reps": [_clean(r.as_dict()) for r in self.reps],
            "cues": [{"t": c.t, "kind": c.kind, "text": c.text} for c in self.cues],
            "summary": _clean(self.summary()),
        }

    def table(self) -> str:
        lines = [f"{self.exercise} ({self.side}): {len(self.reps)} reps, "
                 f"{sum(r.good for r in self.reps)} good, {self.duration_s:.1f} s of recording"]
        if not self.reps:
            lines.append("No reps found.")
        else:
            lines.append(f"{'rep':>3} {'start s':>8} {'drive s':>8} {'hold s':>7} {'lower s':>8} "
                         f"{'heel %':>7} {'peak N':>7}  faults")
            for r in self.reps:
                share = "-" if r.heel_share is None else f"{100 * r.heel_share:.0f}"
                lines.append(f"{r.index:>3} {r.start:>8.2f} {r.drive_s:>8.2f} {r.hold_s:>7.2f} "
                             f"{r.lower_s:>8.2f} {share:>7} {r.peak_n:>7.0f}  "
                             f"{', '.join(r.faults) or 'good'}")
        if self.cues:
            lines.append("")
            lines.append("Cues:")
            lines.extend(f"  {c.t:8.2f} s  {c.kind:<13} {c.text}" for c in self.cues)
        return "\n".join(lines)


def _clean(d: dict) -> dict:
    """JSON has no NaN: a missing number is null."""
    out = {}
    for k, v in d.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        elif isinstance(v, dict):
            v = _clean(v)
        out[k] = v
    return out


def analyze_recording(path, profiles: ProfileBook, *, exercise: str | None = None,
                      side: str | None = None, targets: Targets | None = None) -> AnalysisResult:
    """Stream the recording at ``path`` through the analysis and the cue engine.

    The exercise and side come from the arguments, else the recording's metadata, else the
    default profile and its first side. A malformed line raises ``RecordingError`` naming it.
    """
    reader = RecordingReader(path)
    profile = profiles.get(exercise or reader.meta.get("exercise") or None)
    side = side or reader.meta.get("side") or profile.sides[0]
    if side not in profile.sides:
        raise UsageError(f"{profile.name} is done on {', '.join(profile.sides)}, not {side!r}")
    rate = _meta_rate(reader.meta.get("rate_hz"))
    analyzer = Analyzer(profile, side, rate_hz=rate, targets=targets)
    engine = CueEngine(analyzer.profile)
    result = AnalysisResult(profile.id, side, rate, 0, 0.0)
    first = last = None
    for sample in reader:
        if first is None:
            first = sample.t
        last = sample.t
        result.samples += 1
        events = analyzer.feed(sample)
        result.cues += engine.step(analyzer.live, events)
    events = analyzer.finish()
    result.cues += engine.step(analyzer.live, events)
    result.reps = list(analyzer.reps)
    result.sets = list(analyzer.sets)
    result.rate_hz = analyzer.rate_hz
    result.duration_s = 0.0 if first is None else last - first
    return result


def _meta_rate(value: str | None) -> float | None:
    try:
        rate = float(value) if value else None
    except ValueError:
        return None
    return rate if rate and math.isfinite(rate) and 1 <= rate <= 2000 else None

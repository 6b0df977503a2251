"""A set's summary and the asymmetry between the two sides.

Asymmetry of one measure between the left and right side is ``|L - R| / max(L, R)``: 0 when
both sides are equal, 0.25 when the weaker side is 75 % of the stronger; it does not depend on
which side is called left, and it is ``None`` when the measure is missing on a side or both are 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .reps import Rep

#: The per-set means that asymmetry is reported for.
MEASURES = ("heel_share", "hold_s", "lower_s", "drive_s", "peak_n")


@dataclass(frozen=True, slots=True)
class SetSummary:
    """One set on one side: counts, means over its reps, and how often each fault happened.

    Means are over the reps that have the value (``heel_share`` may be missing on a rep); a set
    with no reps has ``None`` means.
    """

    exercise: str
    side: str
    index: int
    start: float | None
    end: float | None
    reps: int
    good_reps: int
    heel_share: float | None
    hold_s: float | None
    lower_s: float | None
    drive_s: float | None
    peak_n: float | None
    faults: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {name: getattr(self, name) for name in self.__slots__}
        d["faults"] = dict(self.faults)
        return d


@dataclass(frozen=True, slots=True)
class SetCompleted:
    """A set ended at ``t`` (the athlete stepped off and the grace period ran out, or the
    analysis finished)."""

    t: float
    summary: SetSummary


class SetTracker:
    """Running sums of the reps of the current set: O(1) per rep, a summary at any time."""

    def __init__(self, exercise: str, side: str):
        self.exercise = exercise
        self.side = side
        self.index = 0
        self._open(0)

    def _open(self, index: int) -> None:
        self.index = index
        self.reps: list[Rep] = []
        self._sums = dict.fromkeys(MEASURES, 0.0)
        self._counts = dict.fromkeys(MEASURES, 0)
        self._good = 0
        self._faults: dict[str, int] = {}

    def add(self, rep: Rep) -> None:
        self.reps.append(rep)
        for m in MEASURES:
            v = getattr(rep, m)
            if v is not None:
                self._sums[m] += v
                self._counts[m] += 1
        self._good += rep.good
        for f in rep.faults:
            self._faults[f] = self._faults.get(f, 0) + 1

    def summary(self) -> SetSummary:
        means = {m: (self._sums[m] / self._counts[m] if self._counts[m] else None) for m in MEASURES}
        return SetSummary(
            exercise=self.exercise, side=self.side, index=self.index,
            start=self.reps[0].start if self.reps else None,
            end=self.reps[-1].end if self.reps else None,
            reps=len(self.reps), good_reps=self._good, faults=dict(self._faults), **means,
        )

    def close(self) -> SetSummary:
        """Summarise the current set and open the next one."""
        s = self.summary()
        self._open(self.index + 1)
        return s


def summarize(reps: list[Rep], exercise: str, side: str, index: int = 0) -> SetSummary:
    """The summary of a list of reps (the same numbers :class:`SetTracker` gives)."""
    tracker = SetTracker(exercise, side)
    tracker.index = index
    for r in reps:
        tracker.add(r)
    return tracker.summary()


def asymmetry(left: float | None, right: float | None) -> float | None:
    """``|L - R| / max(L, R)`` for non-negative measures; ``None`` if missing or both 0."""
    if left is None or right is None:
        return None
    if left < 0 or right < 0:
        raise ValueError(f"asymmetry is for non-negative measures, got left {left}, right {right}")
    top = max(left, right)
    return None if top == 0 else abs(left - right) / top


@dataclass(frozen=True, slots=True)
class SideComparison:
    """Left against right for one exercise: each measure's asymmetry, and the weaker side's name
    for it (the side with the smaller value)."""

    exercise: str
    asymmetry: dict[str, float | None]
    weaker: dict[str, str | None]


def compare_sides(left: SetSummary, right: SetSummary) -> SideComparison:
    """Asymmetry of each per-set mean (and of good reps) between a left and a right set."""
    if left.exercise != right.exercise:
        raise ValueError(f"cannot compare {left.exercise!r} on the left with {right.exercise!r} on the right")
    asym: dict[str, float | None] = {}
    weaker: dict[str, str | None] = {}
    for m in (*MEASURES, "good_reps"):
        lv, rv = getattr(left, m), getattr(right, m)
        asym[m] = asymmetry(lv, rv)
        weaker[m] = None if asym[m] in (None, 0.0) else ("left" if lv < rv else "right")
    return SideComparison(exercise=left.exercise, asymmetry=asym, weaker=weaker)

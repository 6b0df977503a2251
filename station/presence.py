"""Is someone on the plate, and are they still?

:class:`Presence` turns the total load into on/off with two thresholds (hysteresis: load between
them changes nothing, so a foot resting at the threshold cannot flicker) and dwell times (the load
must stay past a threshold for a while before it counts, so a landing bounce or a jump's flight
is not a step). Stepping off starts a grace period; only when it runs out without the athlete
coming back does the set end (``gone``), so re-placing the foot mid-set is not a new set.

:class:`Stillness` says whether a signal has stayed within a small band for a while: that is a
hold, a rest or standing still, as opposed to walking or moving. Its band is relative to the level
held, with a sensor-noise floor.
"""

from __future__ import annotations

from dataclasses import dataclass

#: What :meth:`Presence.step` reports.
ON, OFF, GONE = "on", "off", "gone"


@dataclass(frozen=True, slots=True)
class SteppedOn:
    """The athlete put load on the plate at ``t`` (the moment the load crossed ``on_n``)."""

    t: float
    load_n: float


@dataclass(frozen=True, slots=True)
class SteppedOff:
    """The plate was unloaded at ``t`` (the moment the load fell below ``off_n``)."""

    t: float


class Presence:
    """On/off the plate from the total load, with hysteresis, dwell times and a grace period.

    On when the load stays at or above ``on_n`` for ``on_dwell_s``; off when it stays below
    ``off_n`` for ``off_dwell_s``; ``gone`` when it has been off for ``grace_s`` more. The
    thresholds are far below any foot's load and far above sensor noise: presence is about
    whether a foot is there, not about the athlete's levels (those are learned by the rep
    detector).
    """

    __slots__ = ("on_n", "off_n", "on_dwell_s", "off_dwell_s", "grace_s", "on", "gone",
                 "changed_at", "_since", "_off_at")

    def __init__(self, on_n: float = 60.0, off_n: float = 30.0, on_dwell_s: float = 0.2,
                 off_dwell_s: float = 0.5, grace_s: float = 5.0):
        if not 0.0 < off_n < on_n:
            raise ValueError(f"presence needs 0 < off_n < on_n (hysteresis), got off {off_n} N, on {on_n} N")
        if min(on_dwell_s, off_dwell_s, grace_s) < 0:
            raise ValueError("presence dwell and grace times must be >= 0 s")
        self.on_n, self.off_n = float(on_n), float(off_n)
        self.on_dwell_s, self.off_dwell_s, self.grace_s = on_dwell_s, off_dwell_s, grace_s
        self.on = False
        self.gone = True  # no set is open before anyone steps on
        self.changed_at: float | None = None  # when the load crossed the last change's threshold
        self._since: float | None = None  # when the load first crossed the pending threshold
        self._off_at: float | None = None  # when the current off-period began

    def step(self, t: float, load: float) -> str | None:
        """Feed the total load at time ``t``; returns ``ON``, ``OFF``, ``GONE`` or ``None``."""
        if self.on:
            if load < self.off_n:
                if self._since is None:
                    self._since = t
                if t - self._since >= self.off_dwell_s - 1e-9:
                    self.on = False
                    self._off_at = self.changed_at = self._since
                    self._since = None
                    return OFF
            else:
                self._since = None
            return None
        if load >= self.on_n:
            if self._since is None:
                self._since = t
            if t - self._since >= self.on_dwell_s - 1e-9:
                self.on = True
                self.gone = False
                self.changed_at = self._since
                self._since = None
                return ON
        else:
            self._since = None
        if not self.gone and self._off_at is not None and t - self._off_at >= self.off_dwell_s + self.grace_s - 1e-9:
            self.gone = True
            return GONE
        return None

    def pending_since(self) -> float | None:
        """When the load crossed the threshold of a change not yet confirmed (or ``None``)."""
        return self._since


class Stillness:
    """Whether a signal has stayed within a band for ``still_s`` seconds.

    The band is ``max(floor, fraction x |level|)`` either side of an anchor level. The anchor is
    the first value after the last jump out of the band, and then the running mean of the values
    since, so :attr:`level` is the mean of the still stretch and :attr:`spread` its standard
    deviation. O(1) per value.
    """

    __slots__ = ("floor", "fraction", "still_s", "since", "_n", "_sum", "_sum2", "level", "still")

    def __init__(self, floor: float = 5.0, fraction: float = 0.05, still_s: float = 0.6):
        if floor <= 0 or fraction < 0 or still_s <= 0:
            raise ValueError("stillness needs floor > 0, fraction >= 0 and still_s > 0")
        self.floor, self.fraction, self.still_s = float(floor), float(fraction), float(still_s)
        self.since: float | None = None
        self.level = 0.0
        self.still = False
        self._n = 0
        self._sum = self._sum2 = 0.0

    def reset(self) -> None:
        self.since = None
        self.still = False
        self._n = 0

    def step(self, t: float, x: float) -> bool:
        """Feed one value; returns whether the signal is still."""
        if self._n:
            band = self.fraction * abs(self.level)
            if band < self.floor:
                band = self.floor
            if abs(x - self.level) <= band:
                self._n += 1
                self._sum += x
                self._sum2 += x * x
                self.level = self._sum / self._n
                self.still = t - self.since >= self.still_s - 1e-9
                return self.still
        self.since = t
        self._n = 1
        self._sum = x
        self._sum2 = x * x
        self.level = x
        self.still = False
        return False

    def held_for(self, t: float) -> float:
        """Seconds the current still stretch has lasted at time ``t`` (0 when not still)."""
        return t - self.since if self.still and self.since is not None else 0.0

    @property
    def spread(self) -> float:
        """Standard deviation of the values in the current stretch."""
        if self._n < 2:
            return 0.0
        mean = self._sum / self._n
        var = self._sum2 / self._n - mean * mean
        return var ** 0.5 if var > 0 else 0.0

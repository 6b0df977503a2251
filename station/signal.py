"""Per-sample quantities of the plate, and the filter that cleans them.

Each sample passes a *spike gate* (median of the last three values: one HX711 word lost to a
power-down or a bit slip becomes a single wild sample, and the median of three removes any single
wild sample; a jump of more than ``50 N + 50 %`` of the gated value that the median lets through,
i.e. two spikes in a row, is held off until it has lasted three samples, which a real change of
load does and a spike pair does not) and then a *low-pass*: a 2nd-order Butterworth biquad (bilinear transform,
prewarped), run as direct form II transposed on plain floats so a sample costs a microsecond.

Cutoff: ``min(6 Hz, 0.3 x rate)``. Body movement in these exercises lives below ~3 Hz; what is
above is sensor noise and the plate ringing. The delay is the filter's group delay at low
frequency (exact for the digital filter: ``sum(k b_k)/sum(b_k) - sum(k a_k)/sum(a_k)``) plus one
sample for the median:

============  =======  ===================  ======================
rate          cutoff   biquad delay         total delay (+ median)
============  =======  ===================  ======================
10 SPS        3.0 Hz   0.51 samples, 51 ms  1.51 samples, 151 ms
80 SPS        6.0 Hz   2.95 samples, 37 ms  3.95 samples, 49 ms
============  =======  ===================  ======================

(:func:`filter_delay_s` computes the figures for any rate.) Durations measured on the filtered
signal (drive, hold, lower) are not shifted by the delay, since both ends are delayed alike; the
times reported for phase boundaries (rep start and end) have the delay subtracted.

Heel share is ``heel / (heel + forefoot)`` and is undefined (``None``) when the total is below
:class:`ShareGate`'s minimum: a fraction of the athlete's standing load once it is known, never
less than a sensor-noise floor (a few newtons of HX711 noise can make a share out of nothing).
"""

from __future__ import annotations

import math

#: Load under which no share is computed before the athlete's standing load is known. It is the
#: sensor-noise floor (HX711 + cell noise and tare drift are a few newtons), not a body threshold.
NOISE_FLOOR_N = 20.0


def default_cutoff_hz(rate_hz: float) -> float:
    """The low-pass cutoff the station uses at ``rate_hz``: ``min(6, 0.3 x rate)`` Hz."""
    return min(6.0, 0.3 * rate_hz)


def butterworth_lowpass(cutoff_hz: float, rate_hz: float) -> tuple[float, float, float, float, float]:
    """Coefficients ``(b0, b1, b2, a1, a2)`` of a 2nd-order Butterworth low-pass (DC gain 1)."""
    if not 0.0 < cutoff_hz < rate_hz / 2.0:
        raise ValueError(
            f"low-pass cutoff {cutoff_hz} Hz must be between 0 and half the sample rate "
            f"({rate_hz / 2.0} Hz)"
        )
    k = math.tan(math.pi * cutoff_hz / rate_hz)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    a1 = 2.0 * (k * k - 1.0) * norm
    a2 = (1.0 - math.sqrt(2.0) * k + k * k) * norm
    return b0, 2.0 * b0, b0, a1, a2


def dc_group_delay_samples(coeffs: tuple[float, float, float, float, float]) -> float:
    """Group delay of a biquad at 0 Hz, in samples."""
    b0, b1, b2, a1, a2 = coeffs
    return (b1 + 2.0 * b2) / (b0 + b1 + b2) - (a1 + 2.0 * a2) / (1.0 + a1 + a2)


def filter_delay_s(rate_hz: float, cutoff_hz: float | None = None) -> float:
    """Total delay of :class:`LowPass` (median + biquad) at ``rate_hz``, in seconds."""
    cutoff = default_cutoff_hz(rate_hz) if cutoff_hz is None else cutoff_hz
    return (1.0 + dc_group_delay_samples(butterworth_lowpass(cutoff, rate_hz))) / rate_hz


class LowPass:
    """Median-of-3 spike gate followed by a Butterworth biquad, one float at a time.

    The first value primes the whole chain to steady state at that value, so stepping on the
    plate does not start with a filter transient from zero. After each :meth:`step`, ``m`` holds
    the spike-gated (median) value, which belongs to the *previous* sample's time: the median of
    three is exactly one sample late and otherwise unfiltered, which is what the rep measurements
    use (see :mod:`station.reps`).
    """

    __slots__ = ("b0", "b1", "b2", "a1", "a2", "z1", "z2", "x1", "x2", "m", "primed",
                 "rate_hz", "cutoff_hz", "delay_samples", "delay_s", "jump_n", "jump_frac",
                 "_held")

    def __init__(self, rate_hz: float, cutoff_hz: float | None = None,
                 jump_n: float = 50.0, jump_frac: float = 0.5):
        if not rate_hz > 0:
            raise ValueError(f"sample rate must be positive, not {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.cutoff_hz = default_cutoff_hz(rate_hz) if cutoff_hz is None else float(cutoff_hz)
        coeffs = butterworth_lowpass(self.cutoff_hz, self.rate_hz)
        self.b0, self.b1, self.b2, self.a1, self.a2 = coeffs
        self.delay_samples = 1.0 + dc_group_delay_samples(coeffs)
        self.delay_s = self.delay_samples / self.rate_hz
        self.jump_n, self.jump_frac = float(jump_n), float(jump_frac)
        self._held = 0
        self.primed = False
        self.z1 = self.z2 = self.x1 = self.x2 = self.m = 0.0

    def prime(self, value: float) -> None:
        """Put the filter in steady state at ``value``."""
        self.x1 = self.x2 = self.m = value
        self.z2 = (self.b2 - self.a2) * value
        self.z1 = (1.0 - self.b0) * value
        self.primed = True

    def step(self, x: float) -> float:
        """Filter one value; returns the filtered value."""
        if not self.primed:
            self.prime(x)
        x1, x2 = self.x1, self.x2
        # median of (x2, x1, x) without sorting
        if x1 < x2:
            x1, x2 = x2, x1  # now x1 >= x2
        m = x1 if x >= x1 else (x if x >= x2 else x2)
        self.x2, self.x1 = self.x1, x
        # a jump the median let through (two spikes in a row) is held off until it has lasted
        # three samples: a real change of load persists, a spike pair does not
        d = m - self.m
        lim = self.jump_n + self.jump_frac * (self.m if self.m >= 0.0 else -self.m)
        if -lim <= d <= lim:
            self._held = 0
        elif self._held < 2:
            self._held += 1
            m = self.m
        else:
            self._held = 0
        self.m = m
        y = self.b0 * m + self.z1
        self.z1 = self.b1 * m - self.a1 * y + self.z2
        self.z2 = self.b2 * m - self.a2 * y
        return y


def heel_share(heel: float, forefoot: float, min_load: float = NOISE_FLOOR_N) -> float | None:
    """``heel / (heel + forefoot)``, clipped to 0..1, or ``None`` below ``min_load`` newtons."""
    total = heel + forefoot
    if total < min_load or total <= 0.0:
        return None
    s = heel / total
    return 0.0 if s < 0.0 else (1.0 if s > 1.0 else s)


def cop_along(heel: float, forefoot: float, min_load: float = NOISE_FLOOR_N) -> float | None:
    """Centre of pressure along the foot: 0 over the heel cells, 1 over the forefoot cells.

    With two cell rows it is the forefoot share (the lever rule); multiply by the heel-to-forefoot
    cell spacing for a distance. ``None`` below ``min_load``.
    """
    s = heel_share(heel, forefoot, min_load)
    return None if s is None else 1.0 - s


def cop_across(left: float | None, right: float | None, min_load: float = NOISE_FLOOR_N) -> float | None:
    """Centre of pressure across the plate on 4-cell plates: -1 over the left cells, +1 right.

    ``(right - left) / (right + left)``; ``None`` on 2-cell plates or below ``min_load``.
    """
    if left is None or right is None:
        return None
    total = left + right
    if total < min_load or total <= 0.0:
        return None
    c = (right - left) / total
    return -1.0 if c < -1.0 else (1.0 if c > 1.0 else c)


class ShareGate:
    """The minimum load for a meaningful heel share.

    ``max(floor_n, fraction x standing_n)``: until the athlete's standing (bottom) load is known
    only the sensor-noise floor applies; then a share is computed only while at least
    ``fraction`` of that load is on the plate (a foot barely touching gives a share that says
    nothing about how the athlete drives).
    """

    __slots__ = ("floor_n", "fraction", "min_load")

    def __init__(self, floor_n: float = NOISE_FLOOR_N, fraction: float = 0.2):
        if floor_n < 0 or not 0.0 <= fraction < 1.0:
            raise ValueError(f"share gate needs floor_n >= 0 and 0 <= fraction < 1, got {floor_n}, {fraction}")
        self.floor_n = float(floor_n)
        self.fraction = float(fraction)
        self.min_load = self.floor_n

    def learn_standing(self, standing_n: float) -> None:
        """Tell the gate the athlete's standing load (newtons)."""
        self.min_load = max(self.floor_n, self.fraction * standing_n)

    def forget(self) -> None:
        """Back to the noise floor (the athlete stepped off)."""
        self.min_load = self.floor_n

    def share(self, heel: float, forefoot: float) -> float | None:
        return heel_share(heel, forefoot, self.min_load)

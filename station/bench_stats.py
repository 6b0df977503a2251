"""Percentiles for ``gym-station bench``, the same way for every figure.

A short run can leave a list empty (no cue landed, no word came back): its percentiles are then
``None`` (JSON null, "n/a" in the table), never an exception, and the figure's sample count says
why. A p99 over fewer than :data:`FEW_SAMPLES` values is little more than the largest one; the
table flags it so nobody reads it as a tail.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Fewer samples than this and a p99 is about the maximum (no sample lies above it).
FEW_SAMPLES = 100


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The ``pct`` percentile of ``values`` (linear interpolation), or None if there are none."""
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), pct))


def p50_p99(values: Sequence[float], digits: int = 3) -> tuple[float | None, float | None]:
    """Median and 99th percentile, rounded to ``digits``; (None, None) for no values."""
    out = []
    for pct in (50, 99):
        p = percentile(values, pct)
        out.append(None if p is None else round(p, digits))
    return out[0], out[1]

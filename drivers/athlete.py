"""Who stands on the simulated plate: a scripted athlete (from a scenario TOML) or one driven by
keyboard commands, as forces under the heel and forefoot over time.

The load model (single-leg hip thrust, upper back on a bench, one foot on the plate)
-----------------------------------------------------------------------------------
The body is a lever between the bench (upper back) and the foot. The foot carries the share of
body weight given by where the centre of mass sits between the two supports, plus whatever
accelerates the hips:

* bottom (hips low, hovering): ``bottom_share`` of body weight on the foot (default 0.40);
* top (hips extended, shins vertical): the centre of mass has moved towards the foot and the free
  leg is held out in front, so the foot carries ``top_share`` (default 0.62);
* drive: the load rises from bottom to top along a minimum-jerk curve (Flash & Hogan 1985:
  ``10s^3 - 15s^4 + 6s^5``, smooth, zero slope at both ends) plus a bump ``s^3 (1-s)^2`` sized so
  the load peaks near ``peak * top`` at 60 % of the drive (the hips are thrust up, so the foot
  briefly carries more than its static share; ``peak`` defaults to 1.12), then settles onto the
  top level. Force rises smoothly, never in steps.
* lower: the same curve back down over ``lower_s``.
* heel share (heel / (heel + forefoot)) moves to the rep's ``heel_share`` over the first 15 % of
  the drive, stays there through the hold and drifts back to the set-up share while lowering.
  Cueing "push through the heels" is the coaching the station automates (Contreras, "10 steps to
  the perfect hip thrust"); a toe drive is a heel share well below one half.
* sway: band-limited noise (12 sinusoids, 0.1..2 Hz, random phases from the seed) added to the
  load and the heel share. Its size follows what the athlete is doing: a hold sways by about 1 %
  of body weight and 0.015 heel share, of the order of the quiet-standing sway of the BMClab PDS
  recordings (dos Santos et al. 2017: one-foot vertical force SD ~11 N over 60 s, ~3 % of the
  foot's load); "settle" sways 2.5 times more in load, 4 times in heel share (shifting around while setting up).
* medial/lateral: a 4-cell plate also sees the foot's lateral share (default 0.45 with a little
  sway); on the left foot the lateral edge is the plate's left half, on the right foot its right.

Ground truth (what the analysis is compared with), all in seconds of athlete time:

* ``start`` = start of drive: the instant the foot load leaves the bottom level and starts to rise.
* ``drive_end`` = top: the instant the minimum-jerk rise reaches the top level (lockout).
* ``lower_start``: the instant the load starts to fall from the top level (the model's);
  ``drive_s = drive_end - start`` (a movement duration). ``lower_s`` is the station's
  definition (:func:`band_lowering`, as ``station.reps.band_lowering``) on the model's force,
  sway included: from ``hold_end`` to ``lower_end``, the first time the load is back within
  :data:`LOWER_BAND` x the range above the bottom, divided by the part of a minimum-jerk fall
  between those levels (0.414); without sway it is the model's lowering.
* ``end``: the instant the load is back at the bottom level.
* the hold (``hold_start``, ``hold_end``, ``hold_s``) is not the model's segment, which sway
  makes unobservable, but the station's definition (:func:`top_band_hold`, the same rule as
  ``station.reps.top_band_hold``) applied to the model's force, sway included, on a 1 ms grid:
  from the drive's overshoot settling to within :data:`HOLD_SETTLED` x the range above the top
  level until the load leaves :data:`HOLD_BAND` x the range below it for good. It includes the
  first, slow part of the minimum-jerk lowering (about a fifth of ``lower_s``).
* ``heel_share``: the mean of heel/(heel+forefoot) of the model (sway included) over the drive,
  on a 1 ms grid; ``peak_n`` the largest total force during the rep.
* ``faults``: what the scenario made: ``toe_drive`` (``toe_rep`` or heel share below
  :data:`TOE_DRIVE_BELOW`), ``short_hold`` (``no_hold_rep`` or hold below
  :data:`SHORT_HOLD_BELOW_S`), ``too_fast`` (``rushed_rep`` or lowering below
  :data:`TOO_FAST_BELOW_S`). A plain ``rep`` whose numbers fall in a fault zone must say so.
  So that the judgement is well-posed, the athlete keeps every rep's numbers at least a margin
  away from the zone's edge (:data:`TOE_DRIVE_MARGIN`, :data:`HOLD_MARGIN_S`,
  :data:`LOWER_MARGIN_S`; jitter never crosses it): an intended hold whose truth, with this
  seed's sway, would come within :data:`HOLD_MARGIN_S` of :data:`SHORT_HOLD_BELOW_S` is
  lengthened (a good hold) or shortened towards none (a short one) until it does not.
* ``step_on``: the instant force starts to rise from zero; ``step_off``: the instant it is zero.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .errors import ScenarioError
from .files import TOML_MAX_BYTES, read_limited
from .shipped import shipped_config_dir

G = 9.81
SIDES = ("left", "right")
FAULTS = ("toe_drive", "short_hold", "too_fast")
# Fault zones, as in config/exercises.toml's single-leg hip thrust profile (share_threshold,
# hold_target_s, min_lower_s; tests/drivers/test_athlete.py checks they agree): a scenario's
# intended faults mean what the station will judge.
TOE_DRIVE_BELOW = 0.6
SHORT_HOLD_BELOW_S = 1.0
TOO_FAST_BELOW_S = 1.5
# How far a rep's numbers stay from a zone's edge (well beyond what the station may be off by:
# 0.03 heel share, one sample + 30 ms of hold at 10 SPS).
TOE_DRIVE_MARGIN = 0.1
HOLD_MARGIN_S = 0.2
LOWER_MARGIN_S = 0.25
# A hold meant to be short cannot come with a slower lowering than this (see _rep_faults).
SHORT_HOLD_MAX_LOWER_S = 2.4
# The hold's definition (station/reps.py uses the same numbers): the top band reaches
# HOLD_BAND x the range below the top level, the overshoot has settled within HOLD_SETTLED
# x the range above it.
HOLD_BAND = 0.08
HOLD_SETTLED = 0.15
# The lowering's definition (station/reps.py uses the same number): from the hold's end until the
# load is back within LOWER_BAND x the range above the bottom level.
LOWER_BAND = 0.25
MASS_RANGE_KG = (20.0, 250.0)
SCENARIO_DIR = shipped_config_dir() / "scenarios"
TRUTH_GRID_S = 0.001
# Attempts at keeping a rep's hold and lowering clear of the fault edges (see ScriptedAthlete._rep).
_FIT_ATTEMPTS = 12
# The part of a minimum-jerk lowering still in the top band (min_jerk(0.226) = HOLD_BAND).
_TOP_BAND_PART = 0.226

# Sway sizes (fractions of body weight for the load, of one for the heel share).
QUIET_LOAD, QUIET_HEEL = 0.010, 0.015
SETTLE_LOAD, SETTLE_HEEL = 0.025, 0.060
LATERAL_SWAY = 0.01


class ZoneForce(NamedTuple):
    """Newtons on the plate's zones at one instant (or arrays of them on a time grid).

    ``left``/``right`` are the plate's halves as the athlete stands on it; ``heel + forefoot ==
    left + right`` is the total load.
    """

    heel: Any
    forefoot: Any
    left: Any
    right: Any


# --------------------------------------------------------------------------------------- tracks

def min_jerk(s):
    """Minimum-jerk easing 0..1 -> 0..1 with zero velocity and acceleration at both ends."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


def overshoot(s):
    """The drive's dynamic bump: ``s^3 (1-s)^2`` scaled to peak at 1 at ``s = 0.6``, zero with
    zero slope at both ends (so the top is reached smoothly)."""
    s = np.clip(s, 0.0, 1.0)
    return s ** 3 * (1.0 - s) ** 2 / (0.6 ** 3 * 0.4 ** 2)


class _Track:
    """A value over time: keyframes joined by minimum-jerk transitions, each optionally with a
    :func:`overshoot` bump on top (the drive's dynamic overshoot). Holds the last value forever."""

    def __init__(self, value: float):
        self._t = [0.0]
        self._v = [float(value)]
        self._b = [0.0]
        self._arrays = None

    @property
    def end(self) -> float:
        return self._t[-1]

    @property
    def last(self) -> float:
        return self._v[-1]

    def to(self, t_start: float, t_end: float, value: float, bump: float = 0.0) -> None:
        """Hold the current value until ``t_start``, then move to ``value`` by ``t_end``."""
        if t_start < self._t[-1] - 1e-12:
            raise ValueError(f"transition at {t_start} s starts before the last one ends "
                             f"({self._t[-1]} s)")
        if t_end <= t_start:
            raise ValueError("a transition needs a positive duration")
        if t_start > self._t[-1]:
            self._append(t_start, self._v[-1], 0.0)
        self._append(t_end, value, bump)

    def retarget(self, t: float, duration: float, value: float) -> None:
        """From time ``t`` (now), drop what was planned and move to ``value`` over ``duration``.
        Values before ``t`` stay exact only up to the last keyframe before ``t``."""
        now = float(self(t))
        while len(self._t) > 1 and self._t[-1] >= t:
            self._t.pop()
            self._v.pop()
            self._b.pop()
        if self._t[-1] >= t:  # only the first keyframe is left and it is not before t
            self._t[0], self._v[0], self._b[0] = t - 1e-9, now, 0.0
        self._append(t, now, 0.0)
        self._append(t + duration, value, 0.0)

    def mark(self) -> int:
        """A bookmark for :meth:`undo`: the number of keyframes now."""
        return len(self._t)

    def undo(self, mark: int) -> None:
        """Drop the keyframes added since ``mark`` (a plan being reconsidered)."""
        del self._t[mark:], self._v[mark:], self._b[mark:]
        self._arrays = None

    def _append(self, t: float, value: float, bump: float) -> None:
        self._t.append(float(t))
        self._v.append(float(value))
        self._b.append(float(bump))
        self._arrays = None

    def __call__(self, t):
        if self._arrays is None:
            self._arrays = (np.array(self._t), np.array(self._v), np.array(self._b))
        kt, kv, kb = self._arrays
        t = np.asarray(t, dtype=float)
        if len(kt) == 1:
            return np.full(t.shape, kv[0])
        i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 2)
        span = kt[i + 1] - kt[i]
        s = np.clip((t - kt[i]) / span, 0.0, 1.0)
        value = kv[i] + (kv[i + 1] - kv[i]) * min_jerk(s) + kb[i + 1] * overshoot(s)
        return np.where(t <= kt[0], kv[0], value)


def top_band_hold(t: np.ndarray, load: np.ndarray, bottom: float, band: float = HOLD_BAND,
                  settled: float = HOLD_SETTLED) -> tuple[float, float, float]:
    """``(hold_start, hold_end, top)`` of one rep's load on a fine time grid ``t`` (from the
    start of the drive on; ``bottom`` is the level before it): the hold's definition, as in
    ``station.reps.top_band_hold`` (this is the reference the truth uses; tests check both agree).

    ``peak``: the highest load; ``half``: the first time after it the load is below
    ``bottom + (peak - bottom) / 2`` and stays below until it reaches ``bottom + (peak -
    bottom) / 4`` (or the grid ends). ``top``: the median load from ``peak`` to ``half``,
    refined twice as the median of the loads within 15 % of the range of it; ``range = top -
    bottom``. ``hold_end``: the last time before ``half`` the load is at or above ``top - band x
    range``. ``hold_start``: the first time after ``peak`` the load is at or below ``top +
    settled x range`` (or, without such an overshoot, the first time it reaches ``top - band x
    range``). If the hold would be negative both are their midpoint.
    """
    ip = int(np.argmax(load))
    peak = float(load[ip])
    # half: the start of the stretch below half-way that goes on down to a quarter (or to the end)
    after = load[ip:]
    above = after >= bottom + 0.5 * (peak - bottom)
    low = np.flatnonzero(after <= bottom + 0.25 * (peak - bottom))
    back = np.flatnonzero(above[:(int(low[0]) if low.size else after.size - 1) + 1])
    if low.size or not above[-1]:
        im = ip + (min(int(back[-1]) + 1, after.size - 1) if back.size else 0)
    else:
        im = len(load) - 1
    top_part = load[ip:im + 1]
    top = float(np.median(top_part))
    for _ in range(2):
        near = top_part[np.abs(top_part - top) <= 0.15 * (top - bottom)]
        if near.size:
            top = float(np.median(near))
    span = top - bottom
    low, high = top - band * span, top + settled * span

    def crossing(i: int, level: float) -> float:  # between grid points i and i + 1
        i = min(max(i, 0), len(load) - 2)
        a, b = load[i], load[i + 1]
        f = 0.5 if a == b else min(max((level - a) / (b - a), 0.0), 1.0)
        return float(t[i] + f * (t[i + 1] - t[i]))

    in_band = np.flatnonzero(top_part >= low)
    hold_end = crossing(ip + int(in_band[-1]), low) if in_band.size else float(t[ip])
    if peak > high:
        hold_start = crossing(ip + int(np.flatnonzero(top_part <= high)[0]) - 1, high)
    else:
        hold_start = crossing(int(np.flatnonzero(load[:ip + 1] >= low)[0]) - 1, low)
    if hold_end < hold_start:
        hold_start = hold_end = 0.5 * (hold_start + hold_end)
    return hold_start, hold_end, top


def band_lowering(t: np.ndarray, load: np.ndarray, bottom: float, top: float, hold_end: float,
                  band: float = LOWER_BAND, hold_band: float = HOLD_BAND) -> tuple[float, float]:
    """``(lower_end, lower_s)``: the lowering's definition, as in ``station.reps.band_lowering``
    (the reference the truth uses; tests check both agree).

    ``lower_end``: the first time after ``hold_end`` that the load is at or below ``bottom +
    band x (top - bottom)`` (the grid's last time if never). ``lower_s``: ``lower_end -
    hold_end`` divided by the part of a minimum-jerk fall between those two levels
    (:func:`lowering_fraction`), i.e. the duration of the minimum-jerk fall that would cross
    them at those times. Without sway it is the model's ``lower_s``.
    """
    level = bottom + band * (top - bottom)
    k = int(np.searchsorted(t, hold_end, side="right"))
    down = np.flatnonzero(load[k:] <= level)
    if down.size:
        i = k + int(down[0])
        if i > 0:
            a, b = load[i - 1], load[i]
            f = 0.5 if a == b else min(max((level - a) / (b - a), 0.0), 1.0)
            lower_end = max(float(t[i - 1] + f * (t[i] - t[i - 1])), hold_end)
        else:
            lower_end = float(t[0])
    else:
        lower_end = float(t[-1])
    return lower_end, (lower_end - hold_end) / lowering_fraction(band, hold_band)


def lowering_fraction(band: float = LOWER_BAND, hold_band: float = HOLD_BAND) -> float:
    """The part of a minimum-jerk fall from ``hold_band`` below the top to ``band`` above the
    bottom (0.415 for the shipped bands)."""
    s = np.linspace(0.0, 1.0, 2001)
    m = min_jerk(s)
    return float(np.interp(1.0 - band, m, s) - np.interp(hold_band, m, s))


class _Sway:
    """Unit-RMS band-limited noise, a deterministic function of time (so any grid works)."""

    def __init__(self, rng: np.random.Generator, parts: int = 12, low_hz: float = 0.1,
                 high_hz: float = 2.0):
        self.freqs = np.exp(rng.uniform(math.log(low_hz), math.log(high_hz), parts))
        self.phases = rng.uniform(0.0, 2.0 * math.pi, parts)
        amps = 1.0 / np.sqrt(self.freqs)  # more slow wander than fast wobble
        self.amps = amps / math.sqrt(np.sum(amps ** 2) / 2.0)

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        arg = 2.0 * math.pi * np.multiply.outer(t, self.freqs) + self.phases
        return np.sin(arg) @ self.amps


@dataclass(frozen=True)
class AthleteBody:
    """The athlete's fixed numbers: mass and how the load shares out on the foot."""

    mass_kg: float = 75.0
    side: str = "left"
    bottom_share: float = 0.40
    top_share: float = 0.62
    setup_heel_share: float = 0.55
    lateral_share: float = 0.45
    jitter: float = 0.04

    @property
    def weight_n(self) -> float:
        return self.mass_kg * G


class _Body:
    """The tracks every athlete drives, turned into zone forces."""

    def __init__(self, body: AthleteBody, seed: int):
        self.body = body
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.load = _Track(0.0)           # fraction of body weight on the plate
        self.heel = _Track(body.setup_heel_share)
        self.load_sway = _Track(0.0)      # sway sizes
        self.heel_sway = _Track(0.0)
        self._noise = (_Sway(rng), _Sway(rng), _Sway(rng, low_hz=0.05, high_hz=1.0))
        self._sides: list[tuple[float, str]] = [(0.0, body.side)]

    def _set_side(self, t: float, side: str) -> None:
        self._sides.append((t, side))

    def forces(self, t) -> ZoneForce:
        """Zone forces (newtons) on any time grid ``t`` (a float or an array of seconds)."""
        t = np.asarray(t, dtype=float)
        n_load, n_heel, n_lat = self._noise
        load = np.maximum(self.load(t) + self.load_sway(t) * n_load(t), 0.0)
        total = load * self.body.weight_n
        heel_share = np.clip(self.heel(t) + self.heel_sway(t) * n_heel(t), 0.02, 0.98)
        lateral = np.clip(self.body.lateral_share + LATERAL_SWAY * n_lat(t), 0.2, 0.8)
        heel = total * heel_share
        forefoot = total - heel
        starts = np.array([s for s, _ in self._sides])
        left_foot = np.array([side == "left" for _, side in self._sides])
        on_left = left_foot[np.clip(np.searchsorted(starts, t, side="right") - 1, 0, None)]
        left_share = np.where(on_left, lateral, 1.0 - lateral)
        left = total * left_share
        right = total - left
        if t.ndim == 0:
            return ZoneForce(float(heel), float(forefoot), float(left), float(right))
        return ZoneForce(heel, forefoot, left, right)

    def force_at(self, t: float) -> ZoneForce:
        """Zone forces (newtons) at one instant."""
        return self.forces(float(t))


# ------------------------------------------------------------------------------------- scenario

_COMMON = {"count": 1}
_REP = {"drive_s": 1.0, "hold_s": 1.6, "lower_s": 2.2, "heel_share": 0.74, "bottom_s": 0.8,
        "depth": 1.0, "peak": 1.12, "faults": []}
STEP_DEFAULTS: dict[str, dict[str, Any]] = {
    "step_on": {"duration_s": 1.0, "side": None},
    "settle": {"duration_s": 3.0, "amplitude": 1.0},
    "rep": dict(_REP),
    "toe_rep": {**_REP, "heel_share": 0.35},
    "rushed_rep": {**_REP, "lower_s": 0.45},
    "no_hold_rep": {**_REP, "hold_s": 0.15},
    "shift": {"heel_share": 0.30, "duration_s": 1.2},
    "rest": {"duration_s": 10.0, "load": None},
    "step_off": {"duration_s": 0.6},
    "pause": {"duration_s": 1.0},
}
REP_KINDS = ("rep", "toe_rep", "rushed_rep", "no_hold_rep")
KIND_FAULT = {"toe_rep": "toe_drive", "no_hold_rep": "short_hold", "rushed_rep": "too_fast"}
ATHLETE_KEYS = {f for f in AthleteBody.__dataclass_fields__}


@dataclass(frozen=True)
class Step:
    """One validated scenario step (``params`` holds every key, defaults filled in)."""

    kind: str
    params: Mapping[str, Any]
    number: int  # 1-based position in the scenario file


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: who the athlete is and what they do."""

    name: str
    body: AthleteBody
    steps: tuple[Step, ...]
    source: str = "<scenario>"
    description: str = ""


def scenario_path(name: str | Path) -> Path:
    """A shipped scenario by name (``demo`` -> config/scenarios/demo.toml), or a path as given."""
    p = Path(name)
    try:
        if p.suffix == ".toml" or p.exists():
            return p
    except (OSError, ValueError):  # a name too long or with a NUL: load_scenario says so
        return p
    return SCENARIO_DIR / f"{name}.toml"


def load_scenario(source: str | Path, *, body_mass_kg: float | None = None) -> Scenario:
    """Read and validate a scenario TOML file (a path, or a shipped scenario's name)."""
    path = scenario_path(source)
    try:
        raw = read_limited(path, TOML_MAX_BYTES)
    except FileNotFoundError:
        shipped = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise ScenarioError(f"{path}: no such scenario (shipped: {shipped})") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a folder, not a scenario file") from None
    except (OSError, ValueError) as e:  # permission, a name too long, a NUL in the name
        raise ScenarioError(f"{path}: cannot read it ({getattr(e, 'strerror', None) or e})") \
            from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ScenarioError(f"{path}: not valid TOML (line {line}: not UTF-8 text, byte "
                            f"0x{raw[e.start]:02x}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML ({e})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not valid TOML (arrays or tables nested too deep)") \
            from None
    except ValueError as e:  # an integer of thousands of digits: not a TOMLDecodeError
        m = re.search(rb"[0-9_]{4300}", raw)
        where = f"line {raw.count(bytes([10]), 0, m.start()) + 1}" if m else "a number too long"
        raise ScenarioError(f"{path}: not valid TOML ({where}: {e})") from None
    return parse_scenario(data, source=str(path), name=path.stem, body_mass_kg=body_mass_kg)


def parse_scenario(data: Mapping[str, Any], *, source: str = "<scenario>", name: str = "scenario",
                   body_mass_kg: float | None = None) -> Scenario:
    """Validate a scenario already parsed from TOML; every error names ``source`` and the step."""
    unknown = set(data) - {"name", "description", "athlete", "steps"}
    if unknown:
        raise ScenarioError(f"{source}: unknown top-level key(s) {sorted(unknown)}; expected "
                            "name, description, [athlete] and [[steps]]")
    athlete = data.get("athlete", {})
    if not isinstance(athlete, Mapping):
        raise ScenarioError(f"{source}: athlete must be an [athlete] table, not {athlete!r}")
    athlete = dict(athlete)
    bad = set(athlete) - ATHLETE_KEYS
    if bad:
        raise ScenarioError(f"{source}: [athlete] has unknown key(s) {sorted(bad)}; allowed: "
                            f"{sorted(ATHLETE_KEYS)}")
    if body_mass_kg is not None:
        athlete["mass_kg"] = body_mass_kg
    body = _parse_body(athlete, source)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError(f"{source}: a scenario needs at least one [[steps]] table")
    steps = tuple(_parse_step(raw, i + 1, source) for i, raw in enumerate(raw_steps))
    scenario = Scenario(name=str(data.get("name", name)), body=body, steps=steps, source=source,
                        description=str(data.get("description", "")))
    _check_order(scenario)
    return scenario


def _number(value, what: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{what} must be a number, not {value!r}")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ScenarioError(f"{what} = {value} is outside {lo}..{hi}")
    return float(value)


def _parse_body(athlete: dict, source: str) -> AthleteBody:
    try:
        values = {
            "mass_kg": _number(athlete.get("mass_kg", 75.0), "mass_kg", *MASS_RANGE_KG),
            "bottom_share": _number(athlete.get("bottom_share", 0.40), "bottom_share", 0.05, 0.9),
            "top_share": _number(athlete.get("top_share", 0.62), "top_share", 0.1, 1.0),
            "setup_heel_share": _number(athlete.get("setup_heel_share", 0.55),
                                        "setup_heel_share", 0.05, 0.95),
            "lateral_share": _number(athlete.get("lateral_share", 0.45), "lateral_share", 0.2, 0.8),
            "jitter": _number(athlete.get("jitter", 0.04), "jitter", 0.0, 0.2),
        }
        side = athlete.get("side", "left")
        if side not in SIDES:
            raise ScenarioError(f"side must be 'left' or 'right', not {side!r}")
        if values["top_share"] <= values["bottom_share"] + 0.05:
            raise ScenarioError(f"top_share {values['top_share']} must exceed bottom_share "
                                f"{values['bottom_share']} by more than 0.05")
    except ScenarioError as e:
        raise ScenarioError(f"{source}: [athlete]: {e}") from None
    return AthleteBody(side=side, **values)


def _parse_step(raw, number: int, source: str) -> Step:
    where = f"{source}: step {number}"
    if not isinstance(raw, Mapping) or "kind" not in raw:
        raise ScenarioError(f"{where}: each [[steps]] table needs kind = one of "
                            f"{sorted(STEP_DEFAULTS)}")
    kind = raw["kind"]
    if not isinstance(kind, str) or kind not in STEP_DEFAULTS:
        raise ScenarioError(f"{where}: unknown kind {kind!r}; use one of {sorted(STEP_DEFAULTS)}")
    where = f"{where} ({kind})"
    defaults = {**_COMMON, **STEP_DEFAULTS[kind]}
    extra = set(raw) - set(defaults) - {"kind"}
    if extra:
        raise ScenarioError(f"{where}: unknown key(s) {sorted(extra)}; allowed: {sorted(defaults)}")
    p = {**defaults, **{k: v for k, v in raw.items() if k != "kind"}}
    try:
        count = p["count"]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise ScenarioError(f"count must be a whole number 1..1000, not {count!r}")
        for key in ("duration_s", "drive_s", "hold_s", "lower_s", "bottom_s"):
            if key in p:
                low = 0.0 if key == "hold_s" else 0.05
                if key == "bottom_s":
                    low = 0.3
                p[key] = _number(p[key], key, low, 3600.0)
        for key in ("heel_share",):
            if key in p:
                p[key] = _number(p[key], key, 0.05, 0.95)
        if "depth" in p:
            p["depth"] = _number(p["depth"], "depth", 0.2, 1.0)
        if "peak" in p:
            p["peak"] = _number(p["peak"], "peak", 1.0, 1.6)
        if "amplitude" in p:
            p["amplitude"] = _number(p["amplitude"], "amplitude", 0.0, 3.0)
        if p.get("load") is not None:
            p["load"] = _number(p["load"], "load", 0.0, 1.0)
        if p.get("side") is not None and p["side"] not in SIDES:
            raise ScenarioError(f"side must be 'left' or 'right', not {p['side']!r}")
        if kind in REP_KINDS:
            p["faults"] = _rep_faults(kind, p)
    except ScenarioError as e:
        raise ScenarioError(f"{where}: {e}") from None
    return Step(kind=kind, params=p, number=number)


def _rep_faults(kind: str, p: dict) -> tuple[str, ...]:
    listed = p["faults"]
    if not isinstance(listed, list) or any(f not in FAULTS for f in listed):
        raise ScenarioError(f"faults must be a list drawn from {list(FAULTS)}, not {listed!r}")
    faults = set(listed)
    if kind in KIND_FAULT:
        faults.add(KIND_FAULT[kind])
    zones = {
        "toe_drive": (p["heel_share"] < TOE_DRIVE_BELOW,
                      f"heel_share {p['heel_share']} (a toe drive is below {TOE_DRIVE_BELOW})"),
        "short_hold": (p["hold_s"] < SHORT_HOLD_BELOW_S,
                       f"hold_s {p['hold_s']} (a short hold is below {SHORT_HOLD_BELOW_S} s)"),
        "too_fast": (p["lower_s"] < TOO_FAST_BELOW_S,
                     f"lower_s {p['lower_s']} (too fast is below {TOO_FAST_BELOW_S} s)"),
    }
    for fault, (in_zone, what) in zones.items():
        if in_zone and fault not in faults:
            raise ScenarioError(f"{what}: list {fault!r} in faults or use another kind")
        if fault in faults and not in_zone:
            raise ScenarioError(f"fault {fault!r} is intended but {what} is not in its zone")
    if "short_hold" in faults and p["lower_s"] > SHORT_HOLD_MAX_LOWER_S:
        raise ScenarioError(f"a short hold needs lower_s <= {SHORT_HOLD_MAX_LOWER_S} s, not "
                            f"{p['lower_s']}: the first fifth of a slow lowering is still in "
                            "the top band, which alone would be a hold near the target")
    edges = (("heel_share", TOE_DRIVE_BELOW, TOE_DRIVE_MARGIN, "toe-drive"),
             ("lower_s", TOO_FAST_BELOW_S, LOWER_MARGIN_S, "too-fast"))
    for key, edge, margin, name in edges:
        if abs(p[key] - edge) < margin - 1e-9:
            raise ScenarioError(f"{key} {p[key]} is within {margin} of the {name} edge {edge}: "
                                f"too close for a clear judgement; use at most "
                                f"{edge - margin:g} or at least {edge + margin:g}")
    return tuple(f for f in FAULTS if f in faults)


def _check_order(scenario: Scenario) -> None:
    on = False
    for step in scenario.steps:
        where = f"{scenario.source}: step {step.number} ({step.kind})"
        if step.kind == "step_on":
            if on:
                raise ScenarioError(f"{where}: the athlete is already on the plate; add a "
                                    "step_off first")
            on = True
        elif step.kind == "step_off":
            if not on:
                raise ScenarioError(f"{where}: the athlete is not on the plate; add a step_on "
                                    "first")
            on = False
        elif step.kind in ("settle", "shift", *REP_KINDS) and not on:
            raise ScenarioError(f"{where}: the athlete must be on the plate; add a step_on first")
        elif step.kind == "rest" and not on and step.params.get("load") is not None:
            raise ScenarioError(f"{where}: a rest off the plate cannot have a load")


# ---------------------------------------------------------------------------------- ground truth

@dataclass(frozen=True)
class RepTruth:
    """One rep as the scenario made it (see the module docstring for exact definitions)."""

    index: int          # 0-based over the whole run
    set_index: int      # 0-based; a set is the reps between step_on/step_off/rest
    side: str
    kind: str
    start: float        # start of drive
    drive_end: float    # top reached (the model's lockout)
    lower_start: float  # lowering starts (the model's)
    end: float          # back at the bottom level
    drive_s: float
    hold_s: float
    lower_s: float
    heel_share: float   # mean heel/(heel+forefoot) during the drive
    peak_n: float       # largest total force during the rep
    faults: tuple[str, ...] = ()
    hold_start: float = 0.0  # the hold, by the station's definition (top_band_hold)
    hold_end: float = 0.0
    lower_end: float = 0.0  # the lowering's end, by the station's definition (band_lowering)

    @property
    def good(self) -> bool:
        return not self.faults


@dataclass(frozen=True)
class GroundTruth:
    """What a scenario run really did: reps, step-on/off instants, total duration."""

    scenario: str
    mass_kg: float
    duration_s: float
    reps: tuple[RepTruth, ...]
    step_on: tuple[float, ...]
    step_off: tuple[float, ...]
    sides: tuple[str, ...] = field(default=())  # side of each step_on

    def to_json(self) -> dict:
        data = asdict(self)
        for rep, r in zip(data["reps"], self.reps, strict=True):
            rep["faults"] = list(r.faults)
            rep["good"] = r.good
        return data


# --------------------------------------------------------------------------- scripted athlete

class ScriptedAthlete(_Body):
    """An athlete who follows a scenario. ``forces(t)`` / ``force_at(t)`` give zone forces at any
    time (athlete time starts at 0); ``truth`` is the ground truth of the run. The same scenario
    and seed give the same forces on any time grid."""

    def __init__(self, scenario: Scenario | str | Path, *, seed: int = 0,
                 body_mass_kg: float | None = None):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, body_mass_kg=body_mass_kg)
        elif body_mass_kg is not None:
            scenario = parse_scenario_with_mass(scenario, body_mass_kg)
        super().__init__(scenario.body, seed)
        self.scenario = scenario
        self._reps: list[dict] = []
        self._on: list[float] = []
        self._off: list[float] = []
        self._on_sides: list[str] = []
        self.duration_s = self._compile()
        self.truth = self._measure_truth()

    # ---- building the tracks
    def _quiet(self, t0: float, t1: float, load: float, heel: float) -> None:
        for track, value in ((self.load_sway, load), (self.heel_sway, heel)):
            if abs(track.last - value) > 1e-12:
                track.to(max(t0, track.end), max(t0, track.end) + max(t1 - t0, 0.05), value)

    def _compile(self) -> float:
        b = self.body
        t = 0.0
        side = b.side
        set_index, set_open = 0, False
        for step in self.scenario.steps:
            p = step.params
            for _ in range(p["count"]):
                kind = step.kind
                if kind in REP_KINDS:
                    if not set_open:
                        set_open = True
                    t = self._rep(t, step, side, set_index)
                    continue
                if set_open and kind in ("step_on", "step_off", "rest"):
                    set_index += 1
                    set_open = False
                d = p.get("duration_s", 0.0)
                if kind == "step_on":
                    side = p["side"] or side
                    self._set_side(t, side)
                    self._on.append(t)
                    self._on_sides.append(side)
                    self.load.to(t, t + d, b.bottom_share)
                    self.heel.to(max(t, self.heel.end), max(t, self.heel.end) + d,
                                 b.setup_heel_share)
                    self._quiet(t, t + d, QUIET_LOAD, QUIET_HEEL)
                elif kind == "step_off":
                    self.load.to(t, t + d, 0.0)
                    self._quiet(t, t + d, 0.0, 0.0)
                    self._off.append(t + d)
                elif kind == "settle":
                    a = p["amplitude"]
                    ramp = min(0.5, d / 4)
                    self._quiet(t, t + ramp, SETTLE_LOAD * a, SETTLE_HEEL * a)
                    self.load_sway.to(t + d - ramp, t + d, QUIET_LOAD)
                    self.heel_sway.to(t + d - ramp, t + d, QUIET_HEEL)
                elif kind == "shift":
                    self.heel.to(max(t, self.heel.end), max(t, self.heel.end) + d, p["heel_share"])
                elif kind == "rest" and p.get("load") is not None:
                    self.load.to(t, t + min(1.0, d / 2), p["load"])
                t += d
        return t

    def _jittered(self, value: float, nominal_in_zone: bool, threshold: float,
                  relative: bool = True, margin: float = 0.0) -> float:
        j = self.body.jitter
        if j == 0:
            return value
        factor = self.rng.uniform(-j, j)
        out = value * (1 + factor) if relative else value + factor * 0.5
        if (out < threshold) != nominal_in_zone or (
                abs(out - threshold) < margin <= abs(value - threshold)):
            return value  # jitter never changes what the scenario meant
        return out

    def _rep(self, t: float, step: Step, side: str, set_index: int) -> float:
        b, p = self.body, step.params
        drive = self._jittered(p["drive_s"], False, 0.0)
        short = "short_hold" in p["faults"]
        hold = self._jittered(p["hold_s"], p["hold_s"] < SHORT_HOLD_BELOW_S, SHORT_HOLD_BELOW_S)
        lower = self._jittered(p["lower_s"], p["lower_s"] < TOO_FAST_BELOW_S, TOO_FAST_BELOW_S,
                               margin=LOWER_MARGIN_S)
        heel = self._jittered(p["heel_share"], p["heel_share"] < TOE_DRIVE_BELOW,
                              TOE_DRIVE_BELOW, relative=False, margin=TOE_DRIVE_MARGIN)
        top = b.bottom_share + p["depth"] * (b.top_share - b.bottom_share)
        # sized so the load peaks near peak * top at 60 % of the drive
        bump = (p["peak"] - 1.0) * top + (1.0 - float(min_jerk(0.6))) * (top - b.bottom_share)
        bottom_s = p["bottom_s"]
        if abs(self.load.last - b.bottom_share) > 1e-9:  # coming from a rest level: set up first
            self.load.to(t, t + bottom_s, b.bottom_share)
            bottom_s += 0.5
        start = t + bottom_s
        marks = self.load.mark(), self.heel.mark()
        rushed = "too_fast" in p["faults"]
        hold_max = SHORT_HOLD_BELOW_S - HOLD_MARGIN_S
        hold_min = SHORT_HOLD_BELOW_S + HOLD_MARGIN_S
        lower_max = TOO_FAST_BELOW_S - LOWER_MARGIN_S
        lower_min = TOO_FAST_BELOW_S + LOWER_MARGIN_S
        # the hold and the lowering as the station defines them depend on this seed's sway:
        # keep them clearly on the scenario's side of the fault edges (see the module docstring)
        for _ in range(_FIT_ATTEMPTS):
            drive_end = start + drive
            lower_start = drive_end + hold
            end = lower_start + lower
            self.load.to(start, drive_end, top, bump=bump)
            self.heel.to(max(start, self.heel.end), max(start, self.heel.end) + 0.15 * drive,
                         heel)
            self.load.to(lower_start, end, b.bottom_share)
            self.heel.to(max(lower_start, self.heel.end), end, b.setup_heel_share)
            hold_start, hold_end, lower_end, lowered = self._band_truth(start, end)
            held = hold_end - hold_start
            if short and held > hold_max:
                excess = held - hold_max + 0.02
                if hold > 0.0:
                    hold = max(0.0, hold - excess)
                elif not rushed and lowered > lower_min + 0.1:
                    # no model hold left, yet the first part of the lowering (and the sway in
                    # it) keeps the load in the top band too long: lower a little quicker,
                    # still clearly slow enough
                    lower = max(lower - excess / _TOP_BAND_PART, lower * (lower_min + 0.1) / lowered)
                else:
                    drive = max(0.5 * drive, drive - excess)
            elif not short and held < hold_min:
                hold += hold_min - held + 0.02
            elif rushed and lowered > lower_max:
                lower *= (lower_max - 0.02) / lowered
            elif not rushed and lowered < lower_min:
                lower *= (lower_min + 0.02) / lowered
            else:
                break
            self.load.undo(marks[0])
            self.heel.undo(marks[1])
        else:
            raise ScenarioError(
                f"{self.scenario.source}: step {step.number} ({step.kind}): with seed sway this "
                f"rep's hold ({held:.2f} s) or lowering ({lowered:.2f} s) cannot be kept clear of "
                "the fault edges; change its hold_s, lower_s or drive_s")
        self._reps.append({"set_index": set_index, "side": side, "kind": step.kind,
                           "start": start, "drive_end": drive_end, "lower_start": lower_start,
                           "end": end, "faults": p["faults"], "hold": (hold_start, hold_end),
                           "lower": (lower_end, lowered)})
        return end

    def _band_truth(self, start: float, end: float) -> tuple[float, float, float, float]:
        """``(hold_start, hold_end, lower_end, lower_s)`` of the rep from ``start`` to ``end`` by
        the station's definitions (:func:`top_band_hold`, :func:`band_lowering`)."""
        t = np.arange(start - 0.4, end + 1.0, TRUTH_GRID_S)
        f = self.forces(t)
        load = f.heel + f.forefoot
        bottom = float(np.median(load[t <= start]))
        after = t >= start
        hold_start, hold_end, top = top_band_hold(t[after], load[after], bottom)
        lower_end, lower_s = band_lowering(t[after], load[after], bottom, top, hold_end)
        return hold_start, hold_end, lower_end, lower_s

    def _measure_truth(self) -> GroundTruth:
        reps = []
        for i, r in enumerate(self._reps):
            n = max(2, int(round((r["drive_end"] - r["start"]) / TRUTH_GRID_S)) + 1)
            grid = np.linspace(r["start"], r["drive_end"], n)
            f = self.forces(grid)
            total = f.heel + f.forefoot
            share = float(np.mean(f.heel / np.maximum(total, 1e-9)))
            whole = np.arange(r["start"], r["end"] + TRUTH_GRID_S, TRUTH_GRID_S)
            fw = self.forces(whole)
            hold_start, hold_end = r["hold"]
            lower_end, lower_s = r["lower"]
            reps.append(RepTruth(
                index=i, set_index=r["set_index"], side=r["side"], kind=r["kind"],
                start=r["start"], drive_end=r["drive_end"], lower_start=r["lower_start"],
                end=r["end"], drive_s=r["drive_end"] - r["start"],
                hold_s=hold_end - hold_start, lower_s=lower_s,
                heel_share=share, peak_n=float(np.max(fw.heel + fw.forefoot)),
                faults=tuple(r["faults"]), hold_start=hold_start, hold_end=hold_end,
                lower_end=lower_end))
        return GroundTruth(scenario=self.scenario.name, mass_kg=self.body.mass_kg,
                           duration_s=self.duration_s, reps=tuple(reps), step_on=tuple(self._on),
                           step_off=tuple(self._off), sides=tuple(self._on_sides))


def parse_scenario_with_mass(scenario: Scenario, mass_kg: float) -> Scenario:
    """The same scenario with another body mass (validated like the file's own)."""
    fields = {k: getattr(scenario.body, k) for k in ATHLETE_KEYS}
    fields["mass_kg"] = mass_kg
    body = _parse_body(fields, scenario.source)
    return Scenario(scenario.name, body, scenario.steps, scenario.source, scenario.description)


# --------------------------------------------------------------------------- keyboard athlete

class KeyboardAthlete(_Body):
    """An athlete the demo's keyboard drives through commands (no key codes, no pygame).

    ``press("drive")`` pushes the hips up (load rises to the top over ``drive_s``),
    ``release("drive")`` lowers them over ``lower_s``; ``shift_heel()``/``shift_toe()`` move the
    heel share by ``shift_step``; ``step()`` steps on or off. Every change is a smooth
    minimum-jerk transition starting at the command's time, read from ``clock`` (the plate's
    clock). Like the scripted athlete, ``forces(t)`` takes athlete time: seconds since ``t0`` on
    that clock (a :class:`~drivers.simplate.SimulatedBank` adopts this ``t0``). Values before the
    last command are only approximate: the demo queries forward in time.
    """

    COMMANDS = ("drive",)

    def __init__(self, clock: Callable[[], float], *, mass_kg: float = 75.0, side: str = "left",
                 seed: int = 0, on_plate: bool = True, drive_s: float = 0.8, lower_s: float = 1.5,
                 shift_s: float = 0.4, shift_step: float = 0.15, step_s: float = 0.6,
                 t0: float | None = None):
        body = _parse_body({"mass_kg": mass_kg, "side": side}, "keyboard athlete")
        super().__init__(body, seed)
        for name, value in (("drive_s", drive_s), ("lower_s", lower_s), ("shift_s", shift_s),
                            ("step_s", step_s)):
            if not value > 0:
                raise ScenarioError(f"keyboard athlete: {name} must be positive, not {value}")
        if not 0 < shift_step < 0.5:
            raise ScenarioError(f"keyboard athlete: shift_step {shift_step} must be in 0..0.5")
        self.clock = clock
        self.t0 = clock() if t0 is None else t0  # athlete time 0 on the clock
        self.drive_s, self.lower_s, self.shift_s = drive_s, lower_s, shift_s
        self.shift_step, self.step_s = shift_step, step_s
        self.on_plate = on_plate
        self.driving = False
        if on_plate:
            self.load = _Track(body.bottom_share)
            self.load_sway = _Track(QUIET_LOAD)
            self.heel_sway = _Track(QUIET_HEEL)

    def _now(self, t: float | None) -> float:
        return (self.clock() if t is None else t) - self.t0

    def press(self, command: str, t: float | None = None) -> None:
        """Start holding a command (``"drive"``: push the hips up and keep them up)."""
        self._check(command)
        if not self.on_plate or self.driving:
            return
        self.driving = True
        self.load.retarget(self._now(t), self.drive_s, self.body.top_share)

    def release(self, command: str, t: float | None = None) -> None:
        """Let go of a command (``"drive"``: lower the hips to the bottom)."""
        self._check(command)
        if not self.on_plate or not self.driving:
            return
        self.driving = False
        self.load.retarget(self._now(t), self.lower_s, self.body.bottom_share)

    def shift_heel(self, t: float | None = None) -> None:
        """Push more through the heel."""
        self._shift(+self.shift_step, t)

    def shift_toe(self, t: float | None = None) -> None:
        """Push more through the toes."""
        self._shift(-self.shift_step, t)

    def step(self, t: float | None = None) -> None:
        """Step onto the plate, or off it."""
        now = self._now(t)
        self.on_plate = not self.on_plate
        self.driving = False
        target = self.body.bottom_share if self.on_plate else 0.0
        self.load.retarget(now, self.step_s, target)
        self.load_sway.retarget(now, self.step_s, QUIET_LOAD if self.on_plate else 0.0)
        self.heel_sway.retarget(now, self.step_s, QUIET_HEEL if self.on_plate else 0.0)

    def _shift(self, delta: float, t: float | None) -> None:
        now = self._now(t)
        current = float(self.heel(now))
        self.heel.retarget(now, self.shift_s, float(np.clip(current + delta, 0.1, 0.9)))

    def _check(self, command: str) -> None:
        if command not in self.COMMANDS:
            raise ValueError(f"unknown athlete command {command!r}; known: {self.COMMANDS}")


# ---------------------------------------------------------------------------- keyboard takeover

class TakeoverAthlete:
    """The scripted athlete until the keyboard takes over, then a :class:`KeyboardAthlete` that
    starts exactly where the script was (same load, heel share, sway and foot), so the handover
    is seamless. Commands (``press``, ``release``, ``shift_heel``, ``shift_toe``, ``step``) take
    over on first use; ``truth`` stays the script's (valid up to :attr:`takeover_t`)."""

    def __init__(self, scripted: ScriptedAthlete, clock: Callable[[], float], *,
                 t0: float | None = None, **keyboard: Any):
        self.scripted = scripted
        self.clock = clock
        self.t0 = clock() if t0 is None else t0
        self.truth = scripted.truth
        self.body = scripted.body
        self._keyboard_kwargs = keyboard
        self.keyboard: KeyboardAthlete | None = None
        self.takeover_t: float | None = None  # athlete time of the handover

    def take_over(self, t: float | None = None) -> KeyboardAthlete:
        """Hand the athlete to the keyboard at clock time ``t`` (now); idempotent."""
        if self.keyboard is not None:
            return self.keyboard
        now = (self.clock() if t is None else t) - self.t0
        s = self.scripted
        on = float(s.load(now)) > 0.05
        kb = KeyboardAthlete(self.clock, mass_kg=s.body.mass_kg, side=s.body.side, seed=0,
                             on_plate=on, t0=self.t0, **self._keyboard_kwargs)
        kb.body = s.body
        kb._noise = s._noise
        kb._sides = [(side_t, side) for side_t, side in s._sides if side_t <= now] or s._sides[:1]
        for name in ("load", "heel", "load_sway", "heel_sway"):
            track = _Track(float(getattr(s, name)(now)))
            track._t[0] = now
            setattr(kb, name, track)
        self.keyboard, self.takeover_t = kb, now
        return kb

    def press(self, command: str, t: float | None = None) -> None:
        self.take_over(t).press(command, t)

    def release(self, command: str, t: float | None = None) -> None:
        self.take_over(t).release(command, t)

    def shift_heel(self, t: float | None = None) -> None:
        self.take_over(t).shift_heel(t)

    def shift_toe(self, t: float | None = None) -> None:
        self.take_over(t).shift_toe(t)

    def step(self, t: float | None = None) -> None:
        self.take_over(t).step(t)

    def forces(self, t) -> ZoneForce:
        """The script's forces before the takeover, the keyboard's after (athlete time)."""
        if self.keyboard is None:
            return self.scripted.forces(t)
        t = np.asarray(t, dtype=float)
        a, b = self.scripted.forces(t), self.keyboard.forces(t)
        if t.ndim == 0:
            return b if t >= self.takeover_t else a
        late = t >= self.takeover_t
        return ZoneForce(*(np.where(late, y, x) for x, y in zip(a, b, strict=True)))

    def force_at(self, t: float) -> ZoneForce:
        return self.forces(float(t))

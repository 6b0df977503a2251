"""A simulated facility day for the soak test: athletes from the roster come and go, coaches change
targets, staff export usage, and faults hit the station at set plate times.

Everything a station runs is the real thing: the :class:`~station.sampler.Sampler` in its own
process on a simulated plate, the :class:`~station.kiosk.Kiosk` and its analysis, the coach's and
staff's screens (:class:`~station.admin.Admin`, the staff desk's export to a USB stick), the usage
log's writer thread, the facility push. Only the people and the plate are simulated, and time:

- The plate runs on a virtual clock the day driver holds back (:class:`GatedClock`), so an
  eight-hour day passes in minutes while the sampler process only ever runs a little ahead of the
  kiosk.
- The usage log's writer and the facility push wait on that same plate clock, in lockstep with it
  (:class:`PlateTime`): a simulated hour holds as many commits, retries and pushes as a real hour,
  and they never fall behind the day (the day waits for them instead). So "a rep the station
  logged at least ``commit_interval_s`` before the SIGKILL is in SQLite" is a plate-time contract
  the soak checks exactly; how long a commit takes in real seconds is not what it measures.
- For :data:`REAL_TIME_S` before each kill the day slows to real time, so the SIGKILL lands while
  the app runs as it does on a station (mid-frame, the writer and the push wherever they are).

- :func:`make_plan` lays out a day (``short``: ~40 minutes for CI, ``full``: 8 hours, 150
  sessions of 40 athletes) with its faults, deterministic from a seed; :class:`DayPlan` is saved
  as JSON so that every process of the day (segments killed with SIGKILL and started again) sees
  the same day.
- :class:`DayAthlete` is whoever stands on the plate at plate time ``t``; :func:`open_day_plate`
  builds the plate inside the sampler process (a silent chip and spike bursts are the plate's; it
  publishes the spikes it injected and the ones its filter took).
- :func:`run_segment` runs the station from one plate time to another, doing what the plan says
  at each moment and noting what the screen showed; ``python -m station.soak segment ...`` runs
  one in its own process and reports on stdout, one JSON object a line (a segment that is to be
  killed says ``kill_point`` once its plate time passes it and runs on until the SIGKILL).

No pygame here: the screen is the kiosk's :class:`~station.view.ViewState`, what the display draws.
"""

from __future__ import annotations

import argparse
import bisect
import ctypes
import functools
import json
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from drivers.athlete import ScriptedAthlete, ZoneForce, parse_scenario
from drivers.clock import VirtualClock
from drivers.errors import ScenarioError
from drivers.layout import two_cell_layout
from drivers.plate import ForcePlate
from drivers.simplate import CountModel, SilentCell, SimulatedBank, simulated_calibration

from .config import Config, load_config
from .kiosk import Kiosk
from .sampler import Sampler
from .view import UICommand

#: The day's two forms: plate hours, sessions, roster size and each fault's duration (s).
FORMS = {
    "short": {"hours": 40 / 60, "sessions": 12, "athletes": 12, "silent_s": 30.0,
              "read_only_s": 120.0, "pg_away_s": 300.0, "burst_s": 20.0},
    "full": {"hours": 8.0, "sessions": 150, "athletes": 40, "silent_s": 30.0,
             "read_only_s": 600.0, "pg_away_s": 3600.0, "burst_s": 30.0},
}
#: When each fault strikes, as a fraction of the day (moved onto a rep of the nearest session).
FAULT_AT = {"app_kill_1": 0.12, "app_kill_2": 0.24, "silent_chip": 0.33, "spikes_1": 0.38,
            "database_read_only": 0.45, "postgres_away": 0.55, "spikes_2": 0.66,
            "sampler_killed": 0.78, "spikes_3": 0.86}
#: The day's first part ends here; memory is measured from then on (allocator and caches warm).
WARM_UP_AT = 0.30
#: When a coach changes targets and staff export usage (moved to the nearest idle moment).
COACH_AT = (0.36, 0.52, 0.72)
EXPORT_AT = (0.40, 0.64, 0.92)
#: The coach's and the staff's PINs on the soak's station.
COACH_PIN, STAFF_PIN = "4711", "8352"
#: Spikes per second per cell during a burst (HX711 words with a bit flipped).
BURST_RATE_HZ = 3.0
RATE_HZ = 80.0
#: Plate seconds the sampler may run ahead of the kiosk's frames.
LOOKAHEAD_S = 0.5
#: Seconds between an app killed and the app started again (plate time lost to the restart).
RESTART_GAP_S = 20.0
#: Plate seconds before a kill during which the day runs at real time (plate s = real s).
REAL_TIME_S = 2.0
REP_KINDS = (("rep", 0.80), ("toe_rep", 0.07), ("rushed_rep", 0.07), ("no_hold_rep", 0.06))


# --------------------------------------------------------------------------------- the plan

@dataclass
class SessionPlan:
    """One athlete's visit: the scenario (a scenario TOML's mapping) starts at plate ``start``."""

    index: int
    athlete_id: str
    start: float
    duration: float
    scenario: dict
    seed: int
    by_badge: bool = True
    end_action: str = "home"   #: "home" (tapped) or "timeout" (walked away)

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class FaultPlan:
    kind: str     #: app_kill, silent_chip, spikes, database_read_only, postgres_away, sampler_killed
    name: str
    start: float
    end: float


@dataclass
class DayPlan:
    form: str
    seed: int
    duration: float
    warm_up: float
    roster: list[dict]
    sessions: list[SessionPlan]
    faults: list[FaultPlan]
    coach: list[dict]
    exports: list[float]

    def __post_init__(self):
        self._athletes: dict[int, ScriptedAthlete] = {}  # not a field: never saved

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> DayPlan:
        raw = json.loads(text)
        raw["sessions"] = [SessionPlan(**s) for s in raw["sessions"]]
        raw["faults"] = [FaultPlan(**f) for f in raw["faults"]]
        return cls(**raw)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DayPlan:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def faults_of(self, kind: str) -> list[FaultPlan]:
        return [f for f in self.faults if f.kind == kind]

    def session_at(self, t: float) -> SessionPlan | None:
        for s in self.sessions:
            if s.start <= t < s.end:
                return s
        return None

    def athlete(self, session: SessionPlan, keep: bool = True) -> ScriptedAthlete:
        """The session's athlete (the same forces in every process: scenario and seed)."""
        athlete = self._athletes.get(session.index)
        if athlete is None:
            athlete = ScriptedAthlete(parse_scenario(session.scenario,
                                                     name=f"session-{session.index}"),
                                      seed=session.seed)
            if keep:
                self._athletes[session.index] = athlete
        return athlete

    def truth(self) -> list[dict]:
        """Every rep the athletes really did, in plate time, with their session."""
        out = []
        for s in self.sessions:
            for i, r in enumerate(self.athlete(s).truth.reps):
                out.append({"session": s.index, "athlete": s.athlete_id, "start": s.start + r.start,
                            "end": s.start + r.end, "kind": r.kind, "nth": i})
        return out


def _scenario(rng: np.random.Generator, mass: float) -> dict:
    """Sets on the left and the right foot, alternating, a rest off the plate between them."""
    sets_per_side = int(rng.choice([1, 2], p=[0.4, 0.6]))
    steps: list[dict] = [{"kind": "pause", "duration_s": 2.0}]
    kinds, weights = zip(*REP_KINDS, strict=True)
    for k in range(2 * sets_per_side):
        if k:
            steps.append({"kind": "rest", "duration_s": float(rng.uniform(10.0, 20.0))})
        steps.append({"kind": "step_on", "side": ("left", "right")[k % 2], "duration_s": 1.0})
        steps.append({"kind": "settle", "duration_s": 1.5})
        for _ in range(int(rng.integers(4, 7))):
            steps.append({"kind": str(rng.choice(kinds, p=weights))})
        steps.append({"kind": "step_off"})
    steps.append({"kind": "pause", "duration_s": 1.0})
    return {"name": "soak", "athlete": {"mass_kg": round(mass, 1), "side": "left"},
            "steps": steps}


def make_plan(form: str = "short", seed: int = 1) -> DayPlan:
    """A facility day: sessions spread over the day with random gaps, coach changes, exports and
    every fault kind, placed mid-set (on a rep of the session nearest their nominal time)."""
    spec = FORMS[form]
    rng = np.random.default_rng([seed, 2024])
    duration = spec["hours"] * 3600.0
    roster = [{"id": f"a{i:02d}", "name": f"Athlete {i:02d}", "badge": f"{100200 + i}",
               "mass": float(rng.uniform(50.0, 110.0))} for i in range(1, spec["athletes"] + 1)]
    n = spec["sessions"]
    # every athlete comes at least once when sessions outnumber them
    who = [roster[i % len(roster)] for i in range(n)]
    rng.shuffle(who)
    drafts, athletes = [], {}
    for i, a in enumerate(who):
        while True:  # a few random reps cannot be kept clear of the fault edges: draw again
            scenario = _scenario(rng, a["mass"])
            try:
                athletes[i] = ScriptedAthlete(parse_scenario(scenario, name=f"session-{i}"),
                                              seed=seed + i)
                break
            except ScenarioError:
                continue
        drafts.append((a, scenario, athletes[i].duration_s))
    busy = sum(d + 15.0 for *_, d in drafts)
    free = duration - 90.0 - busy
    if free < 25.0 * n:
        raise ValueError(f"{n} sessions do not fit in {duration / 3600:g} h")
    gaps = 20.0 + rng.dirichlet(np.ones(n)) * (free - 20.0 * n)
    sessions, t = [], 60.0
    for i, ((a, scenario, d), gap) in enumerate(zip(drafts, gaps, strict=True)):
        t += float(gap) if i else 0.0
        sessions.append(SessionPlan(i, a["id"], round(t, 3), d, scenario, seed + i,
                                    by_badge=bool(rng.random() < 0.7)))
        t += d + 15.0
    for s, nxt in zip(sessions, sessions[1:], strict=False):
        s.end_action = "timeout" if nxt.start - s.end > 70.0 else "home"
    plan = DayPlan(form, seed, duration, WARM_UP_AT * duration, roster, sessions, [], [], [])
    plan._athletes.update(athletes)
    truth = plan.truth()

    def on_a_rep(frac: float, offset: float, nth: int) -> float:
        target = frac * duration
        # not a session's first reps: its session is open (for a kill: committed) by then
        rep = min((r for r in truth if r["nth"] >= nth), key=lambda r: abs(r["start"] - target))
        return round(rep["start"] + offset, 3)

    lengths = {"silent_chip": spec["silent_s"], "database_read_only": spec["read_only_s"],
               "postgres_away": spec["pg_away_s"], "spikes": spec["burst_s"]}
    for name, frac in FAULT_AT.items():
        kind = name.rstrip("_123")
        start = on_a_rep(frac, 1.2 if kind in ("app_kill", "sampler_killed") else -2.0,
                         6 if kind == "app_kill" else 2)
        plan.faults.append(FaultPlan(kind, name, start, start + lengths.get(kind, 0.0)))
    def idle_near(frac: float) -> float:
        """A moment the station stands idle near ``frac`` of the day (the PIN pad opens only on
        the idle and ready screens): 10 s after a session ended with a tap on Home, or 12 s
        before the next session where the last one timed out (45 s after it emptied)."""
        target = frac * duration
        moments = [s.end + 10.0 if s.end_action == "home" else nxt.start - 12.0
                   for s, nxt in zip(sessions, sessions[1:], strict=False)]
        return round(min(moments, key=lambda m: abs(m - target)), 3)

    plan.coach = [
        {"t": idle_near(COACH_AT[0]), "action": "update", "program": "standard",
         "values": {"hold_target_s": 1.5}},
        {"t": idle_near(COACH_AT[1]), "action": "assign", "athlete": roster[4]["id"],
         "program": "strength"},
        {"t": idle_near(COACH_AT[2]), "action": "update", "program": "strength",
         "values": {"reps": 5, "hold_target_s": 2.0}},
    ]
    plan.exports = [idle_near(f) for f in EXPORT_AT]
    return plan


def prepare_state(plan: DayPlan, state: Path, profiles) -> None:
    """The roster (badges; a few athletes on the strength program), the coach's programs and the
    coach's and staff's PINs."""
    from .pins import PinStore
    from .programs import Program, ProgramBook
    from .roster import Roster

    state.mkdir(parents=True, exist_ok=True)
    pins = PinStore(state)
    pins.set_pin("coach", COACH_PIN)
    pins.set_pin("staff", STAFF_PIN)
    book = ProgramBook.load(state, profiles=profiles)
    profile = profiles.get()
    book.create(Program.from_profile("standard", "Standard", profile), "coach")
    strength = Program.from_profile("strength", "Strength", profile)
    book.create(strength, "coach")
    book.update("strength", "coach", reps=6, hold_target_s=1.5)
    book.set_station_program("standard", "coach")
    roster = Roster.load(state)
    for i, a in enumerate(plan.roster):
        roster.add(a["id"], a["name"], a["badge"], "strength" if i % 7 == 0 else None)
    roster.save()


# ----------------------------------------------------------------------- the simulated plate

_ZERO = ZoneForce(0.0, 0.0, 0.0, 0.0)


class DayAthlete:
    """Whoever stands on the plate at plate time ``t``: the session's scripted athlete (built
    when their session comes), nobody between sessions."""

    def __init__(self, plan: DayPlan):
        self.plan = plan
        self._starts = [s.start for s in plan.sessions]
        self._current: tuple[int, ScriptedAthlete] | None = None

    def forces(self, t) -> ZoneForce:
        i = bisect.bisect_right(self._starts, float(t)) - 1
        if i < 0:
            return _ZERO
        s = self.plan.sessions[i]
        if t >= s.end:
            return _ZERO
        if self._current is None or self._current[0] != i:
            self._current = (i, self.plan.athlete(s, keep=False))
        return self._current[1].forces(t - s.start)


class BurstyCounts(CountModel):
    """The count model with spikes only during bursts (``bursts``: plate-time windows), as when
    a noisy motor or a long GIL stall near the plate corrupts words for a while.

    A conversion's noise and spikes are drawn from its own seed (the day's and its index on the
    plate clock), not from one stream that starts when the plate opens: a sampler killed and
    started again carries on with the very words an uninterrupted one makes. (With one stream,
    the day after a restart depended on how far the killed sampler had read ahead, a matter of
    real time: on a loaded machine about one short day in four then met a spike pair the filter
    lets through mid-rep, and missed that rep.)"""

    def __init__(self, layout, *, bursts, burst_rate_hz: float = BURST_RATE_HZ, seed: int = 0,
                 **kwargs):
        super().__init__(layout, seed=seed, **kwargs)
        self.seed = seed
        self.bursts = tuple(bursts)
        self.burst_rate_hz = burst_rate_hz

    def counts(self, t, newtons, rate_hz: float = 80.0):
        self.spike_rate_hz = (self.burst_rate_hz
                              if any(a <= t < b for a, b in self.bursts) else 0.0)
        self._rng = np.random.default_rng([self.seed, 13, round(t * rate_hz)])
        return super().counts(t, newtons, rate_hz)


class GatedClock(VirtualClock):
    """The plate's virtual clock, held back by the day driver: it advances as fast as the plate
    is read but never past ``gate`` (shared memory the driver moves on frame by frame), and
    publishes how far it got in ``reached`` (so a restarted sampler carries on from there)."""

    def __init__(self, gate, reached, start: float):
        super().__init__(start)
        self._gate = gate
        self._reached = reached
        reached.value = start

    def advance(self, seconds: float) -> float:
        target = self() + seconds
        while self._gate.value < target - 1e-9:
            time.sleep(0.0002)
        now = super().advance(seconds)
        self._reached.value = now
        return now


#: The day plate's published counters (a shared array of this many integers).
SPIKES_INJECTED, SPIKES_FILTERED = 0, 1


class DayPlate(ForcePlate):
    """The day's force plate, publishing after every read how many spikes the simulation put in
    the words (``SPIKES_INJECTED``) and how many the plate's filter took out (``SPIKES_FILTERED``)
    into ``counters`` (shared memory, so they go on counting over a sampler killed and restarted).
    """

    def __init__(self, bank: SimulatedBank, layout, calibration, *, counters=None, **kwargs):
        super().__init__(bank, layout, calibration, **kwargs)
        self.bank = bank
        self._counters = counters
        self._base = (0, 0) if counters is None else \
            (counters[SPIKES_INJECTED], counters[SPIKES_FILTERED])

    def read(self, timeout: float = 1.0):
        try:
            return super().read(timeout)
        finally:
            if self._counters is not None:
                self._counters[SPIKES_INJECTED] = self._base[0] + self.bank.injected["spikes"]
                self._counters[SPIKES_FILTERED] = self._base[1] + self.faults.get("spike", 0)


def open_day_plate(plan_path: str, gate, reached, counters=None) -> DayPlate:
    """The day's plate, built in the sampler process (module level: picklable). A sampler
    started again after it was killed carries on at the next conversion after ``reached``.
    ``counters``: where it publishes its spike counts (see :class:`DayPlate`)."""
    plan = DayPlan.load(plan_path)
    layout = two_cell_layout()
    model = BurstyCounts(layout, seed=plan.seed,
                         bursts=[(f.start, f.end) for f in plan.faults_of("spikes")])
    silent = [SilentCell(0, f.start, f.end) for f in plan.faults_of("silent_chip")]
    start = reached.value + (1.0 / RATE_HZ if reached.value > 0 else 0.0)
    bank = SimulatedBank(DayAthlete(plan), layout, model, rate_hz=RATE_HZ,
                         clock=GatedClock(gate, reached, start), faults=silent, t0=0.0)
    return DayPlate(bank, layout, simulated_calibration(model), counters=counters)


# ---------------------------------------------------------------------- the station's own time

class PlateTime:
    """Plate time for the station's background threads (the usage log's writer, the facility
    push), in lockstep with the day.

    Given to them as their ``wait``: a thread's timed wait (the writer's commit cadence and
    retries, the push's interval) ends when the day's plate clock reaches its end, or when its
    event is set, as on the real clock. The day driver calls :meth:`advance` every frame; it moves
    plate time on through every wait that ends by then, in order, and returns once every such
    thread waits again for a later moment (and once each of the :meth:`expect`-ed threads has
    come to its first wait). So a simulated hour holds an hour's commits, retries and pushes (not
    the few that ~30 real seconds would hold at 110x), and the threads never fall behind the day:
    a record put at plate time ``t`` is committed before the day passes ``t + commit_interval_s``.
    What a commit costs in real seconds shows as the day held back (``held_s``), never as a thread
    behind. :meth:`release` puts every wait back on the real clock (to close the log).
    """

    #: Real seconds a waiting thread sleeps before it looks at its event by itself (the driver
    #: wakes it at once when it sees the event set).
    POLL_S = 0.05
    #: Real seconds :meth:`advance` waits for a busy thread before it goes on without it: a hung
    #: writer or push, counted in ``stalls`` (the soak test requires none).
    STALL_S = 60.0

    def __init__(self, start: float = 0.0, stall_s: float = STALL_S):
        self._cond = threading.Condition()
        self._now = float(start)
        self._parked: dict[threading.Thread, tuple[float, threading.Event]] = {}
        self._threads: set[threading.Thread] = set()
        self._joined = 0
        self._expected = 0
        self._released = False
        self._counts: dict[tuple[str, float, bool], int] = {}
        self.stall_s = stall_s
        self.stalls = 0
        self.held_s = 0.0   #: real seconds advance() waited for the threads

    @property
    def now(self) -> float:
        return self._now

    def expect(self, threads: int) -> None:
        """How many threads will wait on plate time: :meth:`advance` waits for each one's first
        wait (a thread still starting up would otherwise miss the time going by)."""
        with self._cond:
            self._expected = threads

    def counts(self) -> dict[tuple[str, float, bool], int]:
        """The waits made so far, by (thread name, seconds, whether the time ran out rather than
        the event came). The usage log's writer makes one of ``retry_s`` that runs out after each
        failed write; the facility push one (of ``interval_s``) after each push it tries."""
        with self._cond:
            return dict(self._counts)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """``event.wait(seconds)`` with ``seconds`` on the plate clock."""
        if self._released:
            return event.wait(seconds)
        me = threading.current_thread()
        with self._cond:
            if me not in self._threads:
                self._threads.add(me)
                self._joined += 1
            deadline = self._now + seconds
            self._parked[me] = (deadline, event)
            self._cond.notify_all()
            try:
                while not (event.is_set() or self._released or self._now >= deadline):
                    self._cond.wait(self.POLL_S)
            finally:
                del self._parked[me]
            came = event.is_set()
            key = (me.name, float(seconds), not came)
            self._counts[key] = self._counts.get(key, 0) + 1
        return came

    def advance(self, t: float) -> None:
        """Move plate time on to ``t`` (never back), each wait ending at its own moment; return
        once every thread that waits on plate time is waiting again for a moment after ``t``."""
        began = None
        with self._cond:
            while not self._released:
                busy, due = self._joined < self._expected, None
                for thread in list(self._threads):
                    if not thread.is_alive():
                        self._threads.discard(thread)
                        continue
                    parked = self._parked.get(thread)
                    if parked is None or parked[1].is_set() or parked[0] <= self._now:
                        busy = True   # running, woken by its event, or its time has come
                    elif parked[0] <= t and (due is None or parked[0] < due):
                        due = parked[0]
                if busy:
                    if began is None:
                        began = time.monotonic()
                    elif time.monotonic() - began > self.stall_s:
                        self.stalls += 1
                        self._expected = self._joined   # a thread that never came: go on
                        break
                    self._cond.notify_all()
                    self._cond.wait(0.01)
                elif due is not None:
                    self._now = due
                    self._cond.notify_all()
                else:
                    self._now = max(self._now, float(t))
                    break
        if began is not None:
            self.held_s += time.monotonic() - began

    def release(self) -> None:
        """Every wait, now and from now on, on the real clock."""
        with self._cond:
            self._released = True
            self._cond.notify_all()


# ------------------------------------------------------------------------ running the station

@dataclass
class FaultSeen:
    """What the screen showed of one fault: plate times it appeared and cleared (None: never),
    and what the station did meanwhile."""

    name: str
    kind: str
    start: float
    end: float
    shown_at: float | None = None
    shown: str | None = None
    cleared_at: float | None = None
    fault_screens: int = 0   #: frames on the fault screen (a spike burst should show none)
    #: the writer's retries (database read-only) or the push's attempts (PostgreSQL away) from
    #: the fault's start to its end
    attempts: int | None = None
    spikes_injected: int | None = None   #: a burst's spikes put in the words
    spikes_filtered: int | None = None   #: ... and taken out by the plate's filter
    _before: tuple | None = None         #: the counts these come from, when it began


@dataclass
class SegmentReport:
    start: float
    end: float
    reps: list[dict] = field(default_factory=list)      #: every rep the kiosk logged
    faults: list[FaultSeen] = field(default_factory=list)
    #: (plate t, app kB, sampler pid, sampler kB)
    rss_kb: list[tuple[float, int, int, int]] = field(default_factory=list)
    sessions: int = 0
    exports: list[str] = field(default_factory=list)    #: the files staff took off the stick
    coach_changes: int = 0
    notes: list[str] = field(default_factory=list)      #: what the admin screens answered
    people_errors: list[str] = field(default_factory=list)  #: what coach or staff could not do
    thread_errors: list[str] = field(default_factory=list)
    sampler_kills: int = 0
    sampler_restarts: int = 0
    frames: int = 0          #: the kiosk's frames (as many as the machine runs: plate time jumps)
    stalls: int = 0          #: see PlateTime.STALL_S
    held_s: float = 0.0      #: real seconds the day waited for the writer and the push


def rss_kb(pid: int | str = "self") -> int:
    """Resident memory of a process (``VmRSS`` in kB), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _sampler_pid() -> int | None:
    for child in mp.active_children():
        if child.name == "gym-station-sampler":
            return child.pid
    return None


class _RepWatch:
    """The kiosk's usage-log hook, passed through, noting each rep the station logged and the
    plate time it was logged at (``frame()``)."""

    def __init__(self, recorder, emit, frame: Callable[[], float]):
        self._rec = recorder
        self._emit = emit
        self._frame = frame
        self.reps: list[dict] = []
        self.sessions: set[str] = set()

    def __getattr__(self, name):
        return getattr(self._rec, name)

    def rep_completed(self, rep, **kw):
        self._rec.rep_completed(rep, **kw)
        sid = self._rec.session_id
        if sid is None:
            return
        self.sessions.add(sid)
        at = self._frame()
        self.reps.append({"session_id": sid, "start": float(rep.start), "end": float(rep.end),
                          "at": at, "index": int(rep.index), **kw})
        self._emit({"rep": [sid, float(rep.start)], "end": float(rep.end), "at": at})


def _symptom(kind: str, view) -> str | None:
    """The sign of a fault on the screen, or None."""
    if kind in ("silent_chip", "sampler_killed", "spikes"):
        if view.screen == "fault" and view.fault is not None:
            title = view.fault.title
            if kind == "silent_chip" and "not answering" in title:
                return title
            if kind == "sampler_killed" and "restarting" in title:
                return title
            if kind == "spikes":
                return title
        return None
    message = view.message or ""
    if kind == "database_read_only" and message.startswith("Usage log:"):
        return message
    if kind == "postgres_away" and ("Facility server" in message
                                    or "facility server is not reachable" in message):
        return message
    return None


# ----------------------------------------------------------------------- coaches and staff

def usb_stick(base: Path) -> tuple[Path, tuple[Path, ...]]:
    """A USB stick for the staff's exports: a folder under ``base/media`` and a mounts file that
    lists it as a mounted FAT stick (what the staff desk looks for in /proc/mounts)."""
    mount = base / "media" / "SOAKSTICK"
    mount.mkdir(parents=True, exist_ok=True)
    mounts = base / "mounts"
    mounts.write_text(f"/dev/sdz1 {mount} vfat rw,nosuid,nodev,relatime 0 0\n", encoding="utf-8")
    return mounts, (base / "media",)


class StationBusy(Exception):
    """The PIN pad did not open: someone is mid-set (it opens on the idle and ready screens)."""


def _do(kiosk: Kiosk, kind: str, value=None) -> None:
    kiosk.handle(UICommand(kind, value))


def _unlock(kiosk: Kiosk, role: str, pin: str) -> None:
    """Open the PIN pad (the long press on the gear) and type the role's PIN; the role's screens
    are then open. :class:`StationBusy` if the pad did not open, ValueError if the PIN was
    refused (with what the pad said)."""
    _do(kiosk, "admin", role)
    if kiosk.admin.screen != "pin":
        raise StationBusy(role)
    for digit in pin:
        _do(kiosk, "pin_digit", digit)
    _do(kiosk, "pin_ok")
    if kiosk.admin.role != role:
        pad = kiosk.view().admin
        why = pad.pin.error if pad is not None and pad.pin is not None else None
        _do(kiosk, "lock")
        raise ValueError(f"the {role} PIN was refused: {why}")


def _shown_number(text: str) -> float:
    """A number as the program editor shows it ("1.5 s", "60%", "5")."""
    return float(text.split()[0].rstrip("%"))


def coach_change(kiosk: Kiosk, change: dict) -> str:
    """A coach at the touchscreen: the PIN, then the program's page pressing + or - until each
    value shows the target and Save, or an athlete's page and a program assigned; then Lock.
    Returns the screen's note (:func:`_unlock` says why not)."""
    _unlock(kiosk, "coach", COACH_PIN)
    admin = kiosk.admin
    if change["action"] == "update":
        _do(kiosk, "open", f"program:{change['program']}")
        for key, target in change["values"].items():
            for _ in range(200):   # a press at a time, reading the screen, as a coach does
                row = next(r for r in kiosk.view().admin.program.rows if r.key == key)
                shown = _shown_number(row.value)
                if abs(shown - target) < 1e-9 or not (row.can_up if target > shown
                                                      else row.can_down):
                    break
                _do(kiosk, "setting_up" if target > shown else "setting_down", key)
        _do(kiosk, "save")
    else:
        _do(kiosk, "open", f"athlete:{change['athlete']}")
        _do(kiosk, "assign", change["program"])
    note = admin.note or ""
    _do(kiosk, "lock")
    return note


def staff_export(kiosk: Kiosk) -> str:
    """Staff at the touchscreen: the PIN, Export to USB, Lock. Returns the screen's note."""
    _unlock(kiosk, "staff", STAFF_PIN)
    _do(kiosk, "export_usb")
    note = kiosk.admin.note or ""
    _do(kiosk, "lock")
    return note


# ------------------------------------------------------------------------------- the day

def run_segment(plan: DayPlan, plan_path: Path, state: Path, cfg: Config, *, start: float,
                end: float, kill_at: float | None = None,
                hooks: dict[str, tuple[Callable[[], None], Callable[[], None]]] | None = None,
                emit: Callable[[dict], None] | None = None, exports_dir: Path | None = None,
                rss_every_s: float = 600.0) -> SegmentReport:
    """Run the station from plate time ``start`` to ``end`` on ``state``.

    ``hooks`` maps an external fault kind (``database_read_only``, ``postgres_away``) to its
    ``(begin, end)`` callables; faults of other kinds are the plate's (silent chip, spikes) or
    done here (``sampler_killed``: SIGKILL to the sampler process). With ``kill_at`` the day runs
    at real time for :data:`REAL_TIME_S` before it, says ``kill_point`` through ``emit`` once its
    plate time passes it, and runs on, to be killed mid-work. Staff export to a USB stick under
    ``exports_dir`` and the files they take off it are kept there.
    """
    from .admin import Admin
    from .kiosk_run import open_usage_log, profiles_for, staff_desk

    emit = emit or (lambda _obj: None)
    hooks = hooks or {}
    report = SegmentReport(start, end)
    errors: list[str] = []
    old_hook = threading.excepthook

    def on_thread_error(args):
        errors.append(f"{args.thread.name if args.thread else '?'}: {args.exc_type.__name__}: "
                      f"{args.exc_value}")
        old_hook(args)

    threading.excepthook = on_thread_error
    ctx = mp.get_context("spawn")
    gate = ctx.RawValue(ctypes.c_double, start + LOOKAHEAD_S)
    reached = ctx.RawValue(ctypes.c_double, start)
    counters = ctx.RawArray(ctypes.c_uint64, 2)
    factory = functools.partial(open_day_plate, str(plan_path), gate, reached, counters)
    sampler = Sampler(factory, mode="process", timeout=cfg.plate.read_timeout_s,
                      restart_after_s=0.3, stale_after_s=120.0)
    kiosk = Kiosk(profiles_for(cfg), station_name=cfg.station.name, rate_hz=RATE_HZ)
    desk = staff_desk(cfg, state, kiosk, sampler.reload)
    if exports_dir is not None:   # the staff's stick, where the desk looks for it
        desk.mounts_file, desk.media_roots = usb_stick(exports_dir)
    Admin.for_station(kiosk, state, desk=desk)   # with the stored roster and programs applied
    plate_time = PlateTime(start)
    recorder, push = open_usage_log(cfg, state, wait=plate_time.wait)
    plate_time.expect(1 if push is None else 2)   # the writer and the push
    frame_t = start
    watch = _RepWatch(recorder, emit, lambda: frame_t)
    kiosk.log = watch
    seen = [FaultSeen(f.name, f.kind, f.start, f.end) for f in plan.faults
            if start <= f.start < end and f.kind != "app_kill"]
    report.faults = seen
    actions = _actions(plan, start, end)
    next_rss = start
    paced: tuple[float, float, float] | None = None   # (plate t, real t, held_s) at real time
    announced = False
    try:
        with sampler:
            while True:
                frame_t = max(frame_t, reached.value)
                if kill_at is not None and frame_t >= kill_at - REAL_TIME_S:
                    if paced is None:
                        paced = (frame_t, time.monotonic(), plate_time.held_s)
                    gate.value = min(frame_t + LOOKAHEAD_S,
                                     paced[0] + time.monotonic() - paced[1])
                else:
                    gate.value = frame_t + LOOKAHEAD_S
                samples = sampler.drain()
                if samples:
                    kiosk.feed(samples)
                    report.frames += 1
                status = sampler.poll()
                kiosk.tick(status)
                kiosk.take_cues()
                _observe(seen, frame_t, kiosk.view(), counters)
                plate_time.advance(frame_t)
                if kill_at is not None and frame_t >= kill_at and not announced:
                    announced = True   # said once: the app runs on until the SIGKILL lands
                    emit({"kill_point": frame_t, "real_s": time.monotonic() - paced[1],
                          "held_s": plate_time.held_s - paced[2]})
                while actions and actions[0][0] <= frame_t:
                    t, kind, arg = actions.pop(0)
                    again = _act(kind, arg, t, kiosk=kiosk, hooks=hooks, seen=seen,
                                 report=report, exports_dir=exports_dir, plate_time=plate_time,
                                 retry_s=recorder.log.retry_s)
                    if again is not None:
                        actions.append(again)
                        actions.sort(key=_order)
                if frame_t >= next_rss:
                    pid = _sampler_pid() or 0
                    report.rss_kb.append((frame_t, rss_kb(), pid, rss_kb(pid) if pid else 0))
                    next_rss += rss_every_s
                if frame_t >= end:
                    break
                if not samples:
                    time.sleep(0.0005)
            report.sampler_restarts = sampler.poll().restarts
    finally:
        plate_time.release()
        kiosk.log = None
        recorder.close(kiosk.now)
        if push is not None:
            _catch_up(push)
            push.close()
        threading.excepthook = old_hook
    report.reps = watch.reps
    report.sessions = len(watch.sessions)
    report.thread_errors = errors
    report.stalls = plate_time.stalls
    report.held_s = plate_time.held_s
    return report


#: Where a person's action that the station was too busy for goes: this many plate seconds on.
RETRY_PERSON_S = 5.0
_ORDER = {"fault_end": 0}


def _order(action: tuple) -> tuple:
    return action[0], _ORDER.get(action[1], 1)


def _actions(plan: DayPlan, start: float, end: float) -> list[tuple]:
    """What people and faults do, in plate-time order, within ``[start, end)``."""
    acts: list[tuple] = []
    ongoing = plan.session_at(start)
    if ongoing is not None and ongoing.start < start:  # back after a restart: badge again
        acts.append((start, "badge", ongoing.athlete_id))
    for s in plan.sessions:
        acts.append((s.start + 0.5, "badge" if s.by_badge else "choose", s.athlete_id))
        if s.end_action == "home":
            acts.append((s.end + 8.0, "home", None))
    for c in plan.coach:
        acts.append((c["t"], "coach", c))
    for t in plan.exports:
        acts.append((t, "export", None))
    for f in plan.faults:
        if f.kind == "sampler_killed":
            acts.append((f.start, "sampler_kill", f.name))
        elif f.kind in ("database_read_only", "postgres_away"):
            acts.append((f.start, "fault_begin", f))
            acts.append((f.end, "fault_end", f))
    acts = [a for a in acts if start <= a[0] < end]
    acts.sort(key=_order)
    return acts


def _act(kind, arg, t, *, kiosk, hooks, seen, report, exports_dir, plate_time, retry_s):
    """Do one action; returns the action again, later, when the station was too busy for it."""
    roster = {a.id: a for a in kiosk.roster}
    if kind == "badge":
        kiosk.handle(UICommand("badge", roster[arg].badge))
    elif kind == "choose":
        kiosk.handle(UICommand("choose_athlete", arg))
    elif kind == "home":
        kiosk.handle(UICommand("home"))
    elif kind in ("coach", "export"):
        try:
            if kind == "coach":
                report.notes.append(coach_change(kiosk, arg))
                report.coach_changes += 1
            else:
                report.notes.append(staff_export(kiosk))
                _take_stick_file(exports_dir, t, report)
        except StationBusy:
            return (t + RETRY_PERSON_S, kind, arg)   # they wait for the athlete to finish
        except ValueError as e:
            report.people_errors.append(f"{kind} at {t:.0f} s: {e}")
    elif kind == "sampler_kill":
        pid = _sampler_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            report.sampler_kills += 1
    elif kind in ("fault_begin", "fault_end"):
        entry = next(s for s in seen if s.name == arg.name)
        counts = plate_time.counts()
        if kind == "fault_begin":
            entry._before = tuple(counts.items())
            hooks[arg.kind][0]()
        else:
            entry.attempts = _attempts(arg.kind, dict(entry._before or ()), counts, retry_s)
            hooks[arg.kind][1]()
    return None


def _attempts(kind: str, before: dict, after: dict, retry_s: float) -> int:
    """The writer's failed writes (each followed by a wait of ``retry_s`` that runs out) or the
    push's attempts (each followed by one wait), between two :meth:`PlateTime.counts`."""
    def count(counts: dict) -> int:
        if kind == "database_read_only":
            return sum(n for (name, seconds, ran_out), n in counts.items()
                       if name == "usage-log-writer" and ran_out and seconds == retry_s)
        return sum(n for (name, _s, _r), n in counts.items() if name == "usage-facility-push")
    return count(after) - count(before)


def _take_stick_file(exports_dir: Path | None, t: float, report: SegmentReport) -> None:
    """Staff take the stick to their desk: the export moves off it, named by its plate time."""
    if exports_dir is None:
        return
    for path in sorted((exports_dir / "media" / "SOAKSTICK").glob("*.csv")):
        out = exports_dir / f"usage-{int(t)}.csv"
        path.replace(out)
        report.exports.append(str(out))


def _observe(seen: list[FaultSeen], t: float, view, counters) -> None:
    for s in seen:
        if s.kind == "spikes":
            _count_spikes(s, t, counters)
        if t < s.start:
            continue
        sign = _symptom(s.kind, view)
        if s.kind == "spikes":
            if t < s.end and sign:
                s.fault_screens += 1
            continue
        if sign and s.shown_at is None:
            s.shown_at, s.shown = t, sign
        elif not sign and s.shown_at is not None and s.cleared_at is None and t >= s.end:
            s.cleared_at = t


#: Plate seconds before a burst and after it over which its spikes are counted (the sampler runs
#: up to LOOKAHEAD_S ahead of the frames).
SPIKE_MARGIN_S = 1.0


def _count_spikes(s: FaultSeen, t: float, counters) -> None:
    now = (counters[SPIKES_INJECTED], counters[SPIKES_FILTERED])
    if s._before is None and t >= s.start - SPIKE_MARGIN_S:
        s._before = now
    elif s._before is not None and s.spikes_injected is None and t >= s.end + SPIKE_MARGIN_S:
        s.spikes_injected = now[0] - s._before[0]
        s.spikes_filtered = now[1] - s._before[1]


def _catch_up(push, timeout: float = 60.0) -> None:
    """Let the facility push send what the log holds before it stops (bounded)."""
    deadline = time.monotonic() + timeout
    from . import usage_pg

    while time.monotonic() < deadline:
        try:
            usage_pg.push(push.db_path, push.url, push.station_id)
            return
        except Exception:  # noqa: BLE001 - the server may still be starting; try again
            time.sleep(0.2)


# --------------------------------------------------------------------------- the command line

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m station.soak",
                                description="one segment of a simulated facility day")
    sub = p.add_subparsers(dest="command", required=True)
    seg = sub.add_parser("segment", help="run the station over part of the day")
    seg.add_argument("--plan", required=True, help="the day's plan (JSON, from make_plan)")
    seg.add_argument("--state", required=True, help="the station's state directory")
    seg.add_argument("--config", required=True, help="the station's station.toml")
    seg.add_argument("--start", type=float, required=True, help="plate time to start at (s)")
    seg.add_argument("--until", type=float, required=True, help="plate time to stop at (s)")
    seg.add_argument("--kill-at", type=float,
                     help="run at real time for the last seconds before this plate time, say "
                          "kill_point once past it and run on until killed (SIGKILL)")
    args = p.parse_args(argv)

    def emit(obj: dict) -> None:
        print(json.dumps(obj), flush=True)

    plan = DayPlan.load(args.plan)
    report = run_segment(plan, Path(args.plan), Path(args.state), load_config(args.config),
                         start=args.start, end=args.until, kill_at=args.kill_at, emit=emit)
    emit({"report": {**asdict(report), "reps": len(report.reps)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())

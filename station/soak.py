"""A simulated facility day for the soak test: athletes from the roster come and go, coaches change
targets, staff export usage, and faults hit the station at set plate times.

Everything a station runs is the real thing: the :class:`~station.sampler.Sampler` in its own
process on a simulated plate, the :class:`~station.kiosk.Kiosk` and its analysis, the usage log's
writer thread, the facility push. Only the people and the plate are simulated, and time: the plate
runs on a virtual clock the day driver holds back (:class:`GatedClock`), so an eight-hour day
passes in minutes while the sampler process still only ever runs a little ahead of the kiosk.

- :func:`make_plan` lays out a day (``short``: ~40 minutes for CI, ``full``: 8 hours, 150
  sessions of 40 athletes) with its faults, deterministic from a seed; :class:`DayPlan` is saved
  as JSON so that every process of the day (segments killed with SIGKILL and started again) sees
  the same day.
- :class:`DayAthlete` is whoever stands on the plate at plate time ``t``; :func:`open_day_plate`
  builds the plate inside the sampler process (a silent chip and spike bursts are the plate's).
- :func:`run_segment` runs the station from one plate time to another, doing what the plan says
  at each moment and noting what the screen showed; ``python -m station.soak segment ...`` runs
  one in its own process and reports on stdout, one JSON object a line (a segment that is to be
  killed says ``kill_point`` and waits for its SIGKILL).

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
COACH_AT = (0.36, 0.52, 0.72)
EXPORT_AT = (0.40, 0.64, 0.92)
#: Spikes per second per cell during a burst (HX711 words with a bit flipped).
BURST_RATE_HZ = 3.0
RATE_HZ = 80.0
#: Plate seconds the sampler may run ahead of the kiosk's frames.
LOOKAHEAD_S = 0.5
#: Plate seconds between the kiosk's frames (the display's loop, accelerated).
FRAME_S = 0.1
#: Seconds between an app killed and the app started again (plate time lost to the restart).
RESTART_GAP_S = 20.0
#: Real seconds the driver waits for a fault's sign to reach the screen (the writer retries every
#: 2 s, the push on each commit) before it ends the fault anyway (and the test says so).
SHOW_WAIT_S = 30.0
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
    plan.coach = [
        {"t": COACH_AT[0] * duration, "action": "update", "program": "standard",
         "values": {"hold_target_s": 1.5}},
        {"t": COACH_AT[1] * duration, "action": "assign", "athlete": roster[4]["id"],
         "program": "strength"},
        {"t": COACH_AT[2] * duration, "action": "update", "program": "strength",
         "values": {"reps": 5, "hold_target_s": 2.0}},
    ]
    plan.exports = [round(f * duration, 3) for f in EXPORT_AT]
    return plan


def prepare_state(plan: DayPlan, state: Path, profiles) -> None:
    """The roster (badges; a few athletes on the strength program) and the coach's programs."""
    from .programs import Program, ProgramBook
    from .roster import Roster

    state.mkdir(parents=True, exist_ok=True)
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
    a noisy motor or a long GIL stall near the plate corrupts words for a while."""

    def __init__(self, layout, *, bursts, burst_rate_hz: float = BURST_RATE_HZ, **kwargs):
        super().__init__(layout, **kwargs)
        self.bursts = tuple(bursts)
        self.burst_rate_hz = burst_rate_hz

    def counts(self, t, newtons, rate_hz: float = 80.0):
        self.spike_rate_hz = (self.burst_rate_hz
                              if any(a <= t < b for a, b in self.bursts) else 0.0)
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


def open_day_plate(plan_path: str, gate, reached):
    """The day's plate, built in the sampler process (module level: picklable). A sampler
    started again after it was killed carries on at the next conversion after ``reached``."""
    from drivers.plate import ForcePlate

    plan = DayPlan.load(plan_path)
    layout = two_cell_layout()
    model = BurstyCounts(layout, seed=plan.seed,
                         bursts=[(f.start, f.end) for f in plan.faults_of("spikes")])
    silent = [SilentCell(0, f.start, f.end) for f in plan.faults_of("silent_chip")]
    start = reached.value + (1.0 / RATE_HZ if reached.value > 0 else 0.0)
    bank = SimulatedBank(DayAthlete(plan), layout, model, rate_hz=RATE_HZ,
                         clock=GatedClock(gate, reached, start), faults=silent, t0=0.0)
    return ForcePlate(bank, layout, simulated_calibration(model))


# ------------------------------------------------------------------------ running the station

@dataclass
class FaultSeen:
    """What the screen showed of one fault: plate times it appeared and cleared (None: never)."""

    name: str
    kind: str
    start: float
    end: float
    shown_at: float | None = None
    shown: str | None = None
    cleared_at: float | None = None
    fault_screens: int = 0   #: frames on the fault screen (a spike burst should show none)


@dataclass
class SegmentReport:
    start: float
    end: float
    reps: list[dict] = field(default_factory=list)      #: every rep the kiosk logged
    durable: list[list] = field(default_factory=list)   #: [session_id, start] committed
    faults: list[FaultSeen] = field(default_factory=list)
    rss_kb: list[tuple[float, int, int]] = field(default_factory=list)  #: (t, app, sampler)
    sessions: int = 0
    exports: list[str] = field(default_factory=list)
    coach_changes: int = 0
    thread_errors: list[str] = field(default_factory=list)
    sampler_restarts: int = 0


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
    """The kiosk's usage-log hook, passed through, noting each rep and when it is durable."""

    def __init__(self, recorder, emit):
        self._rec = recorder
        self._emit = emit
        self.reps: list[dict] = []
        self._pending: list[tuple[int, list]] = []
        self.durable: list[list] = []
        self.sessions: set[str] = set()

    def __getattr__(self, name):
        return getattr(self._rec, name)

    def rep_completed(self, rep, **kw):
        self._rec.rep_completed(rep, **kw)
        sid = self._rec.session_id
        if sid is None:
            return
        self.sessions.add(sid)
        status = self._rec.log.status()
        key = [sid, float(rep.start)]
        self.reps.append({"session_id": sid, "start": float(rep.start), "end": float(rep.end),
                          "index": int(rep.index), **kw})
        self._pending.append((status.waiting + status.committed, key))
        self._emit({"rep": key, "end": float(rep.end)})

    def check_durable(self) -> None:
        committed = self._rec.log.status().committed
        while self._pending and self._pending[0][0] <= committed:
            key = self._pending.pop(0)[1]
            self.durable.append(key)
            self._emit({"durable": key})


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


def export_usage(state: Path, cfg: Config, out: Path, by: str = "athlete") -> int:
    """What staff's ``gym-station usage --by athlete --csv FILE`` does: the report from the
    station's own log, the CSV, and an ``export`` event."""
    from .usage_report import local_source, record_event, usage_csv, usage_rows

    with local_source(state) as source:
        rows = usage_rows(source, by=by)
    usage_csv(rows, out, by)
    try:
        record_event(state, cfg.station.id, "export", {"what": "usage", "by": by,
                                                        "rows": len(rows)}, time.time)
    except Exception as e:  # noqa: BLE001 - as the CLI: the export stands, the note is lost
        print(f"export note not written: {e}", file=sys.stderr)
    return len(rows)


def _coach_change(change: dict, state: Path, kiosk: Kiosk) -> None:
    """A coach edits a program or assigns one on the coach screen; the change is logged (as the
    coach screen logs it) and the kiosk takes it on."""
    from .kiosk_run import apply_roster_and_programs
    from .programs import ProgramBook
    from .roster import Roster

    def event(kind: str, detail: dict) -> None:
        if kiosk.log is not None:
            kiosk.log.event(kind, detail)

    book = ProgramBook.load(state, profiles=kiosk.profiles, on_change=event)
    if change["action"] == "update":
        book.update(change["program"], "coach", **change["values"])
    else:
        book.assign(Roster.load(state), change["athlete"], change["program"], "coach")
    apply_roster_and_programs(kiosk, state)


def run_segment(plan: DayPlan, plan_path: Path, state: Path, cfg: Config, *, start: float,
                end: float, kill_at: float | None = None,
                hooks: dict[str, tuple[Callable[[], None], Callable[[], None]]] | None = None,
                emit: Callable[[dict], None] | None = None, exports_dir: Path | None = None,
                rss_every_s: float = 600.0) -> SegmentReport:
    """Run the station from plate time ``start`` to ``end`` on ``state``.

    ``hooks`` maps an external fault kind (``database_read_only``, ``postgres_away``) to its
    ``(begin, end)`` callables; faults of other kinds are the plate's (silent chip, spikes) or
    done here (``sampler_killed``: SIGKILL to the sampler process). With ``kill_at`` the segment
    stops there, says ``kill_point`` through ``emit`` and waits to be killed.
    """
    from .kiosk_run import apply_roster_and_programs, open_usage_log, profiles_for

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
    factory = functools.partial(open_day_plate, str(plan_path), gate, reached)
    sampler = Sampler(factory, mode="process", timeout=cfg.plate.read_timeout_s,
                      restart_after_s=0.3, stale_after_s=120.0)
    kiosk = Kiosk(profiles_for(cfg), station_name=cfg.station.name, rate_hz=RATE_HZ)
    apply_roster_and_programs(kiosk, state)
    recorder, push = open_usage_log(cfg, state)
    watch = _RepWatch(recorder, emit)
    kiosk.log = watch
    seen = [FaultSeen(f.name, f.kind, f.start, f.end) for f in plan.faults
            if start <= f.start < end and f.kind != "app_kill"]
    report.faults = seen
    actions = _actions(plan, start, end, kill_at)
    next_rss = start
    frame_t = start
    try:
        with sampler:
            while True:
                frame_t = max(frame_t, reached.value)
                gate.value = frame_t + LOOKAHEAD_S
                samples = sampler.drain()
                if samples:
                    kiosk.feed(samples)
                status = sampler.poll()
                kiosk.tick(status)
                kiosk.take_cues()
                view = kiosk.view()
                _observe(seen, frame_t, view)
                watch.check_durable()
                while actions and actions[0][0] <= frame_t:
                    t, kind, arg = actions.pop(0)
                    if kind == "kill_point":
                        _wait_for_kill(watch, emit, frame_t)
                    _act(kind, arg, t, kiosk=kiosk, state=state, cfg=cfg, hooks=hooks,
                         seen=seen, report=report, exports_dir=exports_dir, view=kiosk.view)
                if frame_t >= next_rss:
                    pid = _sampler_pid()
                    report.rss_kb.append((frame_t, rss_kb(), rss_kb(pid) if pid else 0))
                    next_rss += rss_every_s
                if frame_t >= end:
                    break
                if not samples:
                    time.sleep(0.0005)
            report.sampler_restarts = sampler.poll().restarts
            _wait_cleared(seen, kiosk, frame_t)
    finally:
        kiosk.log = None
        recorder.close(kiosk.now)
        if push is not None:
            _catch_up(push)
            push.close()
        threading.excepthook = old_hook
    watch.check_durable()
    report.reps = watch.reps
    report.durable = watch.durable
    report.sessions = len(watch.sessions)
    report.thread_errors = errors
    return report


def _actions(plan: DayPlan, start: float, end: float, kill_at: float | None) -> list[tuple]:
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
    if kill_at is not None:
        acts.append((kill_at, "kill_point", None))
    acts = [a for a in acts if start <= a[0] < end]
    order = {"fault_end": 0, "kill_point": 2}
    acts.sort(key=lambda a: (a[0], order.get(a[1], 1)))
    return acts


def _act(kind, arg, t, *, kiosk, state, cfg, hooks, seen, report, exports_dir, view) -> None:
    roster = {a.id: a for a in kiosk.roster}
    if kind == "badge":
        kiosk.handle(UICommand("badge", roster[arg].badge))
    elif kind == "choose":
        kiosk.handle(UICommand("choose_athlete", arg))
    elif kind == "home":
        kiosk.handle(UICommand("home"))
    elif kind == "coach":
        _coach_change(arg, state, kiosk)
        report.coach_changes += 1
    elif kind == "export":
        out = (exports_dir or state) / f"usage-{int(t)}.csv"
        export_usage(state, cfg, out)
        report.exports.append(str(out))
    elif kind == "sampler_kill":
        pid = _sampler_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
    elif kind == "fault_begin":
        hooks[arg.kind][0]()
    elif kind == "fault_end":
        entry = next(s for s in seen if s.name == arg.name)
        deadline = time.monotonic() + SHOW_WAIT_S
        while entry.shown_at is None and time.monotonic() < deadline:
            time.sleep(0.05)   # the writer retries every 2 s: let it find the fault
            _observe(seen, t, view())
        hooks[arg.kind][1]()


def _observe(seen: list[FaultSeen], t: float, view) -> None:
    for s in seen:
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


def _wait_cleared(seen: list[FaultSeen], kiosk: Kiosk, t: float) -> None:
    deadline = time.monotonic() + SHOW_WAIT_S
    while any(s.shown_at is not None and s.cleared_at is None and s.kind != "spikes"
              for s in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
        _observe(seen, t, kiosk.view())


def _wait_for_kill(watch: _RepWatch, emit, t: float) -> None:
    """The moment to be killed: say what is durable, then wait for SIGKILL (the writer and the
    push go on meanwhile, as they would until the kill lands)."""
    watch.check_durable()
    emit({"kill_point": t})
    while True:
        time.sleep(0.01)
        watch.check_durable()


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
    seg.add_argument("--kill-at", type=float, help="stop here and wait for SIGKILL")
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

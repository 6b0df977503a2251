"""The kiosk's brain: the screen state machine between the analysis and the display.

Each frame the display's main loop hands it the samples drained from the sampler (:meth:`feed`),
what people asked for (:meth:`handle`), the sampler's status (:meth:`tick`), and draws
:meth:`view`. Sounds start after the flip for the cues :meth:`take_cues` returns. No pygame here:
the whole flow is tested by feeding samples and commands.

Screens (``station.view.SCREENS``)::

    idle --tap / button / stepping on--> ready --start / button / the first drive--> live
    live --stepped off past the grace / end set / button--> summary --next / stepping on--> ready
    summary --nobody on the plate for SUMMARY_IDLE_S--> idle;   home (from anywhere) --> idle
    ready --nobody on the plate for READY_IDLE_S--> idle
    (the next set is on the other side: sides alternate set by set until each has its sets)
    any screen --sampler fault--> fault --fault cleared--> the screen it interrupted

Time is the samples' own: timeouts and the cue banner count plate seconds, never the wall clock.
The analysis runs from the moment a side is chosen, so the set's first rep is measured in full
even when the athlete starts before touching the screen (lying on a bench, they often cannot).

Coach and staff: an optional ``admin`` (a :class:`station.admin.Admin`) owns the screens behind
the PIN pad. The discreet control (``admin``, on the idle and ready screens only) opens it; while
one of its screens shows, every admin command and a scanned badge go to it, and a plate fault
shows as the admin screen's note (staff must reach their screens to fix the plate). The athlete's
flow goes on under it, unseen: an athlete who starts while the coach types a PIN has the reps
counted, logged and shown when the coach's screens close; locking them shows the athlete's
screen that waited (same athlete, same session). Without an admin the athlete's flow is exactly
as described above.

Usage log: an optional ``log`` (a :class:`station.usage_recorder.SessionRecorder`) is told when a
session starts (the first set after idle, or a new athlete or exercise), of each completed rep,
each set completed, each cue shown, each change of fault, coach changes, and when the session
ends; each call only queues a row. Its warning (disk full, read-only) shows as the screen's note.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from drivers.sample import Sample

from .analysis import Analyzer, RepCompleted, SetCompleted, SteppedOn
from .cues import CueEngine
from .profiles import ExerciseProfile, ProfileBook, Targets
from .reps import Phase, PhaseChanged, Rep
from .sets import SetSummary, compare_sides
from .view import (
    ADMIN_COMMANDS,
    PHASE_CODES,
    Cue,
    FaultView,
    LiveView,
    RepBar,
    SummaryView,
    Trace,
    UICommand,
    ViewState,
)
from .view import Targets as TargetsView

log = logging.getLogger(__name__)

#: Seconds of force trace on the live screen.
TRACE_S = 6.0
#: Seconds a cue stays on the banner.
BANNER_S = 3.0
#: Seconds the summary waits with nobody on the plate before going back to idle.
SUMMARY_IDLE_S = 45.0
#: Seconds the ready screen waits with nobody on the plate before going back to idle: an
#: athlete who chose themselves (or finished a set) and left must not have the next person's
#: reps logged under their name.
READY_IDLE_S = 120.0
#: Seconds a transient message ("badge not known") shows.
MESSAGE_S = 4.0
#: Seconds without a sample after which the kiosk's time follows the samples' clock instead
#: (the slowest HX711 rate sends a word every 0.1 s; a plate fault is declared after 0.5 s).
STALL_S = 0.5
#: Trace buffer length (samples): enough for TRACE_S at up to 100 SPS.
TRACE_CAPACITY = 1024
#: Asymmetry rows shown on the summary, in order.
ASYMMETRY_ROWS = ("heel_share", "hold_s", "lower_s")


@dataclass(frozen=True)
class Athlete:
    """Someone on the roster: ``badge`` is the id a USB RFID reader types (may be empty)."""

    id: str
    name: str
    badge: str = ""


@dataclass
class _SetRecord:
    """The set being done (or just done): its reps and trace for the summary."""

    side: str
    index: int
    reps: list[Rep] = field(default_factory=list)
    t: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    phase: list[int] = field(default_factory=list)
    summary: SetSummary | None = None


class Kiosk:
    """One station's screens, for ``profiles`` (the exercise book) and a ``roster``."""

    def __init__(self, profiles: ProfileBook, *, station_name: str = "gym-station",
                 roster: Sequence[Athlete] = (), four_cell: bool = False,
                 rate_hz: float | None = None, log=None, clock=None):
        self.profiles = profiles
        #: the clock the samples are stamped on (monotonic, or the demo's virtual one): while the
        #: plate sends nothing, ``now`` follows it (see :meth:`tick`); None: samples only
        self.clock = clock
        self.log = log
        self.station_name = station_name
        self.roster = list(roster)
        self.four_cell = four_cell
        self.rate_hz = rate_hz
        self.screen = "idle"
        self.now = 0.0
        self.athlete: Athlete | None = None
        self.coach_targets: dict[str, Targets] = {}
        #: the exercise of a coach's program: athlete id -> exercise id ("" for the station's)
        self.coach_exercise: dict[str, str] = {}
        #: the coach's and staff's screens (a station.admin.Admin), None: athletes only
        self.admin = None
        self._profile_id = profiles.get().id
        self._side = self.profile.sides[0]
        self._fault: FaultView | None = None
        self._cues: list[Cue] = []
        self._banner: Cue | None = None
        self._message: tuple[str, float] | None = None
        self._summary_since: float | None = None
        self._ready_empty_since: float | None = None
        self._sets: dict[str, list[SetSummary]] = {}
        self._record: _SetRecord | None = None
        self._last_summary: SummaryView | None = None
        self._trace_t = np.zeros(TRACE_CAPACITY)
        self._trace_load = np.zeros(TRACE_CAPACITY)
        self._trace_phase = np.zeros(TRACE_CAPACITY, dtype=np.int8)
        self._trace_n = 0
        self.live = LiveView()
        self._new_analysis()

    # -- what is being trained -------------------------------------------------------------
    @property
    def profile(self) -> ExerciseProfile:
        return self.profiles.get(self._profile_id)

    @property
    def plan(self) -> ExerciseProfile:
        """The exercise as it will be done: the profile with the coach's targets for whoever is
        on the plate (their sides, sets and reps included)."""
        profile = self.profile
        return profile.with_targets(self.targets_for(profile))

    @property
    def side(self) -> str:
        return self._side

    def targets_for(self, profile: ExerciseProfile) -> Targets | None:
        """The coach's targets for this exercise (per athlete first, then the station's)."""
        if self.athlete is not None:
            key = f"{self.athlete.id}:{profile.id}"
            if key in self.coach_targets:
                return self.coach_targets[key]
        return self.coach_targets.get(profile.id)

    def refresh(self) -> None:
        """Re-read targets for the next set (after the roster or programs changed); the coach's
        program may also choose the exercise. Never in the middle of a set."""
        if self.screen in ("idle", "ready"):
            self._program_exercise()
            self._new_analysis()

    def _program_exercise(self) -> None:
        """Switch to the exercise of the program that applies (the athlete's, else the
        station's), if a coach chose one."""
        key = self.athlete.id if self.athlete is not None else ""
        exercise = self.coach_exercise.get(key, self.coach_exercise.get(""))
        if exercise and exercise in self.profiles.profiles:
            self._profile_id = exercise

    def _new_analysis(self) -> None:
        profile = self.profile
        sides = self.plan.sides
        if self._side not in sides:
            self._side = sides[0]
        self.analyzer = Analyzer(profile, self._side, rate_hz=self.rate_hz,
                                 targets=self.targets_for(profile))
        self.cue_engine = CueEngine(self.analyzer.profile)
        done = len(self._sets.get(self._side_key(), []))
        self._record = _SetRecord(self._side, done + 1)
        self.live = LiveView(set_index=done + 1, side_index=self._side_index())

    def _side_key(self, side: str | None = None) -> str:
        return f"{self._profile_id}:{side or self._side}"

    def _side_index(self) -> int:
        sides = self.plan.sides
        return sides.index(self._side) + 1 if self._side in sides else 1

    # -- the main loop's side --------------------------------------------------------------
    def feed(self, samples: Sequence[Sample]) -> None:
        """Analyse the samples drained this frame and move the screens on."""
        for s in samples:
            self.now = s.t
            events = self.analyzer.feed(s)
            live = self.analyzer.live
            for cue in self.cue_engine.step(live, events):
                self._cues.append(cue)
                self._banner = cue
            self._trace(s.t, live.load_n, PHASE_CODES.get(str(live.phase), 0))
            for e in events:
                self._on_event(e)
        self._update_live()
        if self.admin is not None:  # staff readings, and the admin screens' own timeout
            self.admin.feed(samples)
        if self._message and self.now - self._message[1] > MESSAGE_S:
            self._message = None
        if self.screen == "summary" and self._summary_since is not None \
                and not self.analyzer.live.on_plate \
                and self.now - self._summary_since > SUMMARY_IDLE_S:
            self._go_idle("timeout", self._summary_since)
        if self.screen != "ready" or self.analyzer.live.on_plate:
            self._ready_empty_since = None
        elif self._ready_empty_since is None:
            self._ready_empty_since = self.now
        elif self.now - self._ready_empty_since > READY_IDLE_S:
            self._go_idle("timeout", self._ready_empty_since)

    def admin_shown(self) -> bool:
        """Whether a coach's or staff's screen is up (the athlete's screens wait under it)."""
        return self.admin is not None and self.admin.screen is not None

    def _on_event(self, e) -> None:
        # Under a coach's screen too: the screen it switches is hidden until the coach's closes,
        # and a rep measured is never dropped.
        if isinstance(e, SteppedOn):
            if self.screen == "idle":
                self.screen = "ready"
            elif self.screen == "summary":
                self._next_set()
        elif isinstance(e, PhaseChanged) and e.phase is Phase.DRIVE and self.screen == "ready":
            self._start_live()
        elif isinstance(e, RepCompleted) and self._record is not None:
            self._record.reps.append(e.rep)
            if self.screen == "ready":
                self._start_live()
            if self.log is not None:
                self.log.rep_completed(e.rep, exercise=self._profile_id, side=self._record.side,
                                       set_index=self._record.index)
        elif isinstance(e, SetCompleted):
            self._finish_set(e.summary)

    def _trace(self, t: float, load: float, phase: int) -> None:
        n = self._trace_n
        if n == TRACE_CAPACITY:  # keep the newest half; amortised O(1)
            half = TRACE_CAPACITY // 2
            for a in (self._trace_t, self._trace_load, self._trace_phase):
                a[:half] = a[half:]
            n = half
        self._trace_t[n] = t
        self._trace_load[n] = load
        self._trace_phase[n] = phase
        self._trace_n = n + 1
        if self.screen == "live" and self._record is not None:
            self._record.t.append(t)
            self._record.load.append(load)
            self._record.phase.append(phase)

    def _update_live(self) -> None:
        a = self.analyzer.live
        lv = self.live
        lv.phase = str(a.phase)
        lv.load_n = a.load_n
        lv.heel_share = a.heel_share
        if a.heel_share is not None:
            lv.heel_n = a.load_n * a.heel_share
            lv.forefoot_n = a.load_n - lv.heel_n
        else:
            lv.heel_n = lv.forefoot_n = 0.0
        lv.cop_along = a.cop_along
        lv.cop_across = self._medial_lateral(a.cop_across)
        lv.hold_s = a.hold_s
        lv.reps = a.reps
        lv.good_reps = a.good_reps
        n = self._trace_n
        start = int(np.searchsorted(self._trace_t[:n], self.now - TRACE_S))
        lv.trace = Trace(self._trace_t[start:n], self._trace_load[start:n],
                         self._trace_phase[start:n])

    def _medial_lateral(self, across: float | None) -> float | None:
        """The plate's left/right (-1..+1, left negative) as medial/lateral for this foot.

        Standing on the plate with the left foot, the plate's right half is under the inside of
        the foot: medial. ``-1`` is medial, ``+1`` lateral.
        """
        if across is None:
            return None
        return across if self._side == "left" else -across

    def handle(self, command: UICommand) -> None:
        """A touch, a key or the station button asked for something."""
        kind, value = command.kind, command.value
        if self.admin is not None and (kind in ADMIN_COMMANDS or self.admin_shown()):
            if kind in ADMIN_COMMANDS or kind in ("badge", "home"):
                self.admin.handle(command)
            return  # the athlete's commands wait while a coach's screen is up
        if kind == "home":
            self._go_idle("home")
        elif kind == "button_hold":
            self._go_idle("button_hold")
        elif kind == "button_press":
            self._button()
        elif kind == "guest":
            self._choose(None, None, guest=True)
        elif kind == "choose_athlete":
            self._choose(next((a for a in self.roster if a.id == value), None), value)
        elif kind == "badge":
            athlete = next((a for a in self.roster if a.badge and a.badge == value), None)
            if athlete is None:
                self._message = ("Badge not known: ask a coach to add it, or tap Guest",
                                 self.now)
            else:
                self._choose(athlete, value)
        elif kind == "choose_exercise":
            if value not in list(self.profiles.profiles):
                self._message = (f"Unknown exercise {value!r}", self.now)
                return
            if self.screen in ("idle", "ready"):
                self._profile_id = value
                self._side = self.plan.sides[0]
                self._new_analysis()
        elif kind == "choose_side":
            if value in self.plan.sides and self.screen in ("idle", "ready"):
                self._side = value
                self._new_analysis()
        elif kind == "start_set":
            if self.screen in ("idle", "ready"):
                self._start_live()
        elif kind == "end_set":
            if self.screen == "live":
                self._end_set()
        elif kind == "next":
            if self.screen == "summary":
                self._next_set()
        else:
            log.warning("kiosk: ignoring unknown command %r", kind)

    def _button(self) -> None:
        if self.screen == "idle":
            self.screen = "ready"
        elif self.screen == "ready":
            self._start_live()
        elif self.screen == "live":
            self._end_set()
        elif self.screen == "summary":
            self._next_set()

    def _choose(self, athlete: Athlete | None, value, *, guest: bool = False) -> None:
        """Whoever is about to train: an athlete (a tap or a badge) or the guest.

        Never in the middle of a set (the set is its athlete's). Someone else after a set starts
        afresh from their own first set: the last athlete's sets and session are theirs alone."""
        if athlete is None and not guest:
            self._message = (f"No athlete {value!r} on the roster", self.now)
            return
        if self.screen == "live":
            who = athlete.name if athlete is not None else "the guest"
            self._message = (f"Finish this set first (End set), then it is {who}'s turn", self.now)
            return
        same = (athlete.id if athlete else None) == (self.athlete.id if self.athlete else None)
        if not same and (self._sets or self.screen == "summary"):
            self._go_idle("changed")
        self.athlete = athlete
        if self.screen == "idle":
            self.screen = "ready"
        self.refresh()

    def _start_live(self) -> None:
        if self.log is not None and not self.log.matches(self.athlete, self._profile_id):
            self.log.session_started(self.now, self.athlete, self._profile_id, self._side)
        self.screen = "live"
        self._banner = None
        self.cue_engine.new_set()

    def _end_set(self) -> None:
        for e in self.analyzer.finish():
            if isinstance(e, SetCompleted):
                self._finish_set(e.summary)
        if self.screen == "live":  # no rep was done: nothing to summarise
            self._summary_from(None)

    def _finish_set(self, summary: SetSummary) -> None:
        if self.screen not in ("live", "ready"):
            return
        self._sets.setdefault(self._side_key(summary.side), []).append(summary)
        if self.log is not None and self._record is not None:
            self.log.set_completed(summary, set_index=self._record.index)
        self._summary_from(summary)

    def _summary_from(self, summary: SetSummary | None) -> None:
        rec = self._record
        reps = rec.reps if rec else []
        bars = [RepBar(r.index, r.heel_share, r.hold_s, r.lower_s, r.good, r.faults)
                for r in reps]
        trace = Trace(np.array(rec.t if rec else []), np.array(rec.load if rec else []),
                      np.array(rec.phase if rec else [], dtype=np.int8))
        spans = [(r.start + r.drive_s, r.start + r.drive_s + r.hold_s) for r in reps]
        self._last_summary = SummaryView(
            reps=len(reps), good_reps=sum(r.good for r in reps), bars=bars, trace=trace,
            hold_spans=spans,
            mean_heel_share=summary.heel_share if summary else None,
            mean_hold_s=summary.hold_s if summary else None,
            mean_lower_s=summary.lower_s if summary else None,
            asymmetry=self._asymmetry())
        self.screen = "summary"
        self._summary_since = self.now

    def _asymmetry(self) -> dict[str, tuple[float, float, float]] | None:
        left = self._sets.get(self._side_key("left"))
        right = self._sets.get(self._side_key("right"))
        if not left or not right:
            return None
        cmp = compare_sides(left[-1], right[-1])
        rows = {}
        for m in ASYMMETRY_ROWS:
            lv, rv, a = getattr(left[-1], m), getattr(right[-1], m), cmp.asymmetry.get(m)
            if lv is not None and rv is not None and a is not None:
                rows[m] = (float(lv), float(rv), float(a))
        return rows or None

    def _next_set(self) -> None:
        """After a summary: sides alternate set by set (the other leg works while one rests);
        when every side has done its sets, back to idle."""
        profile = self.plan
        done = {s: len(self._sets.get(self._side_key(s), [])) for s in profile.sides}
        remaining = [s for s in profile.sides if done[s] < profile.sets]
        if not remaining:
            self._go_idle("done")
            return
        fewest = min(done[s] for s in remaining)
        order = list(profile.sides)
        start = (order.index(self._side) + 1) % len(order) if self._side in order else 0
        rotated = order[start:] + order[:start]
        self._side = next(s for s in rotated if s in remaining and done[s] == fewest)
        self.screen = "ready"
        self._summary_since = None
        self._new_analysis()

    def _go_idle(self, reason: str = "home", t: float | None = None) -> None:
        """Back to idle; the open session ends (at ``t``: for a timeout, when the plate emptied)."""
        if self.log is not None:
            self.log.session_ended(self.now if t is None else t, reason)
        self.screen = "idle"
        self.athlete = None
        self._sets.clear()
        self._summary_since = None
        self._banner = None
        self._program_exercise()
        self._side = self.plan.sides[0]
        self._new_analysis()

    def tick(self, status) -> None:
        """The sampler's status each frame: a fault shows its screen until it clears.

        Time is the samples' own; but when none has come for :data:`STALL_S` (a wire pulled, the
        sampler restarting) ``now`` follows the samples' clock, so the PIN lockout expires and
        the coach's and staff's screens still lock by themselves while the plate is down."""
        if self.clock is not None:
            t = float(self.clock())
            if t - self.now > STALL_S:
                self.now = t
        message = getattr(status, "fault", None)
        if self.admin is not None:
            self.admin.tick(status)
        if self.log is not None:
            self.log.fault(message or None)
        if message:
            self._fault = _fault_view(message)
        else:
            self._fault = None

    def _log_warning(self) -> str | None:
        """The usage log's trouble (disk full, read-only...) for the staff, shown as the note."""
        return self.log.warning if self.log is not None else None

    def take_cues(self) -> list[Cue]:
        """Cues that became current since the last call (the display plays them after the flip)."""
        cues, self._cues = self._cues, []
        if self.log is not None:
            for cue in cues:
                self.log.cue_shown(cue)
        return cues

    def view(self) -> ViewState:
        profile = self.analyzer.profile
        admin = self.admin
        shown = self.admin_shown()
        share_min = profile.share_threshold
        banner = self._banner if self._banner and self.now - self._banner.t <= BANNER_S else None
        if shown:
            screen = admin.screen
        else:
            screen = "fault" if self._fault else self.screen
        return ViewState(
            screen=screen,
            station_name=self.station_name,
            exercise_id=profile.id,
            exercise_name=profile.name,
            side=self._side,
            sides=profile.sides,
            tips=profile.tips,
            targets=TargetsView(reps=profile.reps, sets=profile.sets,
                                hold_s=profile.hold_target_s, drive_zone=profile.drive_zone,
                                share_min=share_min, min_lower_s=profile.min_lower_s),
            athlete=self.athlete.name if self.athlete else None,
            roster=tuple((a.id, a.name) for a in self.roster),
            exercises=tuple((p, self.profiles.get(p).name) for p in list(self.profiles.profiles)),
            live=self.live,
            cue=banner,
            summary=self._last_summary,
            fault=self._fault,
            message=self._message[0] if self._message else self._log_warning(),
            four_cell=self.four_cell,
            admin=admin.view(self._fault) if shown else None,
            audio=admin.audio if admin is not None else None,
            exit_requested=admin.exit_requested if admin is not None else False,
        )


def _fault_view(message: str) -> FaultView:
    """A sampler fault message as a title and the advice for the person at the station."""
    text = message.strip()
    lower = text.lower()
    if "not calibrated" in lower or "calibrate" in lower:
        return FaultView("The plate is not calibrated", text)
    if "restarting" in lower or "stopped" in lower:
        return FaultView("The plate is restarting", text)
    if "saturat" in lower:
        return FaultView("A load cell is overloaded", text)
    if "sent no word" in lower or "silent" in lower:
        return FaultView("A load cell is not answering", text)
    return FaultView("The plate has a problem", text)


__all__ = ["Athlete", "Kiosk"]

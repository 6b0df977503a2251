"""The cue engine: turns the live analysis, the exercise profile and the coach's targets into
coaching cues (what to show on the banner and what to say or beep).

It runs on every analysed sample, after :meth:`Analyzer.feed`, and reads only the analyser's
:class:`~station.analysis.Live` snapshot and the events that sample produced, so a cue is emitted
at the very sample its condition becomes true (its ``t`` is that sample's time: the display measures
cue latency from it). The texts come from the profile (data); the rules are:

===============  ===================================================  ==========  ========
kind             when                                                 sound       priority
===============  ===================================================  ==========  ========
zone fault       during the drive (and the push held at the top),     spoken      4
(``toe_drive``)  the drive zone's share stays below the profile's
                 threshold for ``zone_ms`` (150 ms) in a row; once
                 per rep
``hold``         the load has settled at the top (the live hold       hold tone   2
                 clock starts): the countdown begins
``hold_reached`` the hold reached its target                          good tone   3
``short_hold``   the lowering starts before the hold target           spoken      4
``too_fast``     the rep is measured (``RepCompleted``) with a        spoken      4
                 lowering under the minimum time
``rep_count``    a good rep completes: its count                      spoken      3
``set_done``     the set's target reps are done, or the set ends      spoken      5
===============  ===================================================  ==========  ========

The live rules use the analysis' phase changes; when the rep's final measurement (at
``RepCompleted``) finds a fault the live rule did not see, that cue comes then, so the cues always
agree with the rep's ``faults``.

Debounce and priority: at most one cue per sample (the highest priority wins), each kind at most
once per rep, and a correction (a fault cue) of the same text is not repeated within ``repeat_s``
(no nagging); the hold countdown and the rep count come on every rep, however quick. One spoken cue at a time is the sound player's job; the engine's priorities tell it
which cue may interrupt another.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Live, RepCompleted, SetCompleted
from .profiles import ExerciseProfile
from .reps import Phase, PhaseChanged
from .view import Cue

PRIORITY = {"hold": 2, "hold_reached": 3, "rep_count": 3, "toe_drive": 4, "heel_drive": 4,
            "short_hold": 4, "too_fast": 4, "set_done": 5}
#: ``say``: speak the cue's text (the display falls back to the kind's tone without espeak-ng);
#: any other value names a tone.
SOUND = {"hold": "hold", "hold_reached": "good", "rep_count": "say", "toe_drive": "say",
         "heel_drive": "say", "short_hold": "say", "too_fast": "say", "set_done": "say"}
#: Cues that belong to every rep: never held back by the no-nagging rule.
EVERY_REP = ("hold", "hold_reached", "rep_count")
DEFAULT_TEXT = {
    "toe_drive": "Drive through your heel",
    "heel_drive": "Push through your toes",
    "hold": "Hold it",
    "short_hold": "Hold a full second",
    "too_fast": "Slow it down",
    "set_done": "Set done",
}


@dataclass
class CueSettings:
    """Timing of the cues (seconds of sample time)."""

    zone_ms: float = 150.0      #: how long the wrong zone must drive before the cue
    repeat_s: float = 4.0       #: the same cue is not repeated sooner than this


class CueEngine:
    """Cues for one athlete doing ``profile`` (with the coach's targets already applied)."""

    def __init__(self, profile: ExerciseProfile, settings: CueSettings | None = None):
        self.profile = profile
        self.settings = settings or CueSettings()
        self._zone_fault = profile.zone_fault
        self._wrong_since: float | None = None
        self._fired: set[str] = set()          # kinds fired during the current rep
        self._last: dict[str, tuple[float, str]] = {}
        self._hold_reached = False
        self._set_done = False
        self.history: list[Cue] = []

    def text(self, kind: str) -> str:
        """The profile's words for ``kind``, or the station's default."""
        source = "toe_drive" if kind == "heel_drive" and "heel_drive" not in self.profile.cues \
            else kind
        return self.profile.cues.get(source) or DEFAULT_TEXT.get(kind, kind.replace("_", " "))

    def new_set(self) -> None:
        """A new set begins: reps counted from one again, set-done may fire again."""
        self._set_done = False
        self._reset_rep()

    def _reset_rep(self) -> None:
        self._fired.clear()
        self._wrong_since = None
        self._hold_reached = False

    def step(self, live: Live, events) -> list[Cue]:
        """The cues this sample makes true (at most one; usually none)."""
        t = live.t
        candidates: list[Cue] = []
        for e in events:
            if isinstance(e, PhaseChanged):
                self._phase_changed(e, live, candidates)
            elif isinstance(e, RepCompleted):
                self._rep_completed(e, live, candidates)
            elif isinstance(e, SetCompleted):
                self._set_completed(e, candidates)
        if live.phase in (Phase.DRIVE, Phase.TOP):
            self._check_zone(live, t, candidates)
        if live.phase is Phase.TOP and live.hold_s > 0 and "hold" not in self._fired \
                and self.profile.hold_target_s > 0 and not self._hold_reached:
            # the load has settled at the top: the countdown starts now, not when the drive
            # crossed into the top phase on its way up
            candidates.append(self._cue("hold", t, self.text("hold")))
        if live.phase is Phase.TOP and not self._hold_reached \
                and self.profile.hold_target_s > 0 and live.hold_s >= self.profile.hold_target_s:
            self._hold_reached = True
            candidates.append(self._cue("hold_reached", t, self.text("lower") if "lower" in
                                        self.profile.cues else "Now lower slowly"))
        completed = any(isinstance(e, RepCompleted) for e in events)
        chosen = None
        for cue in sorted(candidates, key=lambda c: -c.priority):
            if self._allowed(cue):
                chosen = cue
                break
        if chosen is not None:
            self._fired.add(chosen.kind)
            self._last[chosen.kind] = (chosen.t, chosen.text)
            self.history.append(chosen)
        if completed:
            self._fired.clear()  # the rep is judged: the next rep may cue anew
            self._wrong_since = None
            self._hold_reached = False
        return [] if chosen is None else [chosen]

    # -- rules -----------------------------------------------------------------------------
    def _phase_changed(self, e: PhaseChanged, live: Live, out: list[Cue]) -> None:
        if e.phase is Phase.DRIVE and e.previous is not Phase.TOP:
            self._reset_rep()
        elif e.phase is Phase.LOWER and e.previous is Phase.TOP:
            target = self.profile.hold_target_s
            if target > 0 and live.hold_s < target:
                out.append(self._cue("short_hold", e.t, self.text("short_hold")))


    def _rep_completed(self, e: RepCompleted, live: Live, out: list[Cue]) -> None:
        rep = e.rep
        for fault in rep.faults:  # what the live rules missed, now that the rep is measured
            if fault in PRIORITY and fault not in self._fired:
                out.append(self._cue(fault, e.t, self.text(fault)))
        if rep.good:
            out.append(self._cue("rep_count", e.t, self._count_text(live)))
        if live.reps >= self.profile.reps and not self._set_done:
            self._set_done = True
            out.append(self._cue("set_done", e.t, self.text("set_done")))

    def _set_completed(self, e: SetCompleted, out: list[Cue]) -> None:
        if not self._set_done:
            out.append(self._cue("set_done", e.t, self.text("set_done")))
        self._set_done = False  # the next set may be cued done again

    def _check_zone(self, live: Live, t: float, out: list[Cue]) -> None:
        share = live.heel_share
        if share is None:
            return
        zone_share = share if self.profile.drive_zone == "heel" else 1.0 - share
        if zone_share >= self.profile.share_threshold:
            self._wrong_since = None
            return
        if self._wrong_since is None:
            self._wrong_since = t
        if t - self._wrong_since >= self.settings.zone_ms / 1000.0 - 1e-9:
            out.append(self._cue(self._zone_fault, t, self.text(self._zone_fault)))

    # -- helpers ---------------------------------------------------------------------------
    def _count_text(self, live: Live) -> str:
        """"Good rep: 3 of 8": the rep's number in the set (every rep counts towards the set,
        good or not) and the target."""
        return f"Good rep: {live.reps} of {self.profile.reps}"

    def _cue(self, kind: str, t: float, text: str) -> Cue:
        return Cue(kind=kind, text=text, sound=SOUND[kind], priority=PRIORITY[kind], t=t)

    def _allowed(self, cue: Cue) -> bool:
        if cue.kind in self._fired and cue.kind != "rep_count":
            return False  # each kind once per rep
        if cue.kind in EVERY_REP:
            return True   # the countdown and the count belong to each rep, however quick
        last = self._last.get(cue.kind)
        if last is not None and cue.text == last[1] and cue.t - last[0] < self.settings.repeat_s:
            return False  # the same correction again so soon would nag
        return True

"""What the screen shows and what a touch asks for: the contract between station and display.

The station (``station.kiosk``) builds a :class:`ViewState` every frame from the analysis, the
session and the cues; ``display`` only renders it, and turns touches, keys and the station button
into :class:`UICommand` objects that the station handles. Neither side reaches into the other.
Arrays for charts are numpy views owned by the station (the display must not keep them past the
frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Screens, in the order an athlete meets them.
SCREENS = ("idle", "ready", "live", "summary", "fault")

#: Phase codes used in :attr:`Trace.phase` (small ints so a trace is one numpy array).
PHASE_CODES = {"off": 0, "settling": 1, "bottom": 2, "drive": 3, "top": 4, "lower": 5}


@dataclass(frozen=True, slots=True)
class Targets:
    """The targets of the set being done, as the coach set them (or the profile's defaults)."""

    reps: int
    sets: int
    hold_s: float
    drive_zone: str            #: "heel" or "forefoot": the zone that should drive
    share_min: float           #: minimum share of the load on ``drive_zone`` during the drive
    min_lower_s: float


@dataclass(frozen=True, slots=True)
class Cue:
    """A coaching cue: ``kind`` (e.g. ``drive_heel``, ``hold``, ``short_hold``, ``slow_down``,
    ``rep_count``, ``set_done``), the ``text`` for the banner, the ``sound`` id (a tone or a
    spoken phrase), its ``priority`` (higher wins) and ``t``, the sample time that made it true."""

    kind: str
    text: str
    sound: str | None
    priority: int
    t: float


@dataclass(slots=True)
class Trace:
    """The force trace of the last seconds: sample times, total load (N) and phase codes."""

    t: np.ndarray
    load_n: np.ndarray
    phase: np.ndarray

    @classmethod
    def empty(cls) -> Trace:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int8))


@dataclass(frozen=True, slots=True)
class RepBar:
    """One rep of a set for the summary's bars."""

    index: int
    heel_share: float | None
    hold_s: float
    lower_s: float
    good: bool
    faults: tuple[str, ...]


@dataclass(slots=True)
class LiveView:
    """The live set: where the load is, the phase, the hold timer, the count."""

    phase: str = "off"
    load_n: float = 0.0
    heel_n: float = 0.0
    forefoot_n: float = 0.0
    heel_share: float | None = None        #: 0..1, None while too little load
    cop_along: float | None = None         #: 0 heel .. 1 toes
    cop_across: float | None = None        #: -1 medial .. +1 lateral (4-cell plates)
    hold_s: float = 0.0
    reps: int = 0
    good_reps: int = 0
    set_index: int = 1                     #: 1-based
    side_index: int = 1                    #: 1-based, of ``len(sides)``
    trace: Trace = field(default_factory=Trace.empty)


@dataclass(slots=True)
class SummaryView:
    """The set just finished, and left vs right once both sides are done."""

    reps: int
    good_reps: int
    bars: list[RepBar]
    trace: Trace
    hold_spans: list[tuple[float, float]]  #: (start, end) sample times of each hold
    mean_heel_share: float | None
    mean_hold_s: float | None
    mean_lower_s: float | None
    #: metric -> (left, right, asymmetry 0..1) when both sides are done
    asymmetry: dict[str, tuple[float, float, float]] | None = None


@dataclass(frozen=True, slots=True)
class FaultView:
    """A plate fault: what is wrong and what to do. Clears by itself when the fault does."""

    title: str
    advice: str


@dataclass(slots=True)
class ViewState:
    """Everything a frame shows."""

    screen: str
    station_name: str
    exercise_id: str
    exercise_name: str
    side: str                          #: "left" or "right"
    sides: tuple[str, ...]
    tips: tuple[str, ...]              #: set-up tips the plate cannot measure
    targets: Targets
    athlete: str | None = None         #: display name; None = guest
    roster: tuple[tuple[str, str], ...] = ()   #: (athlete id, display name)
    exercises: tuple[tuple[str, str], ...] = ()  #: (exercise id, name) to choose from
    live: LiveView = field(default_factory=LiveView)
    cue: Cue | None = None             #: the banner to show now
    summary: SummaryView | None = None
    fault: FaultView | None = None
    message: str | None = None         #: a transient note ("badge not known", ...)
    four_cell: bool = False


@dataclass(frozen=True, slots=True)
class UICommand:
    """Something a person asked for on the screen, the keyboard or the station button.

    ``kind`` is one of :data:`UI_COMMANDS`; ``value`` carries its argument (an athlete id, an
    exercise id, a side, a badge id).
    """

    kind: str
    value: str | None = None


UI_COMMANDS = (
    "choose_athlete",   # value: athlete id
    "guest",
    "badge",            # value: the digits a badge reader typed
    "choose_exercise",  # value: exercise id
    "choose_side",      # value: "left" / "right"
    "start_set",
    "end_set",
    "next",             # summary -> ready (next set/side) or idle when all done
    "home",             # back to idle
    "button_press",     # the station's hardware button: start or end a set
    "button_hold",      # held: end the session
)

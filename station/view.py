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
ATHLETE_SCREENS = ("idle", "ready", "live", "summary", "fault")
#: The coach's and the staff's screens, behind a PIN (see :class:`AdminView`).
ADMIN_SCREENS = ("pin", "coach", "program", "athletes", "athlete", "history", "keyboard",
                 "staff", "calibrate")
SCREENS = ATHLETE_SCREENS + ADMIN_SCREENS

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


# ---------------------------------------------------------------- coach and staff screens
#
# The discreet control on the idle and ready screens sends ``admin``; the PIN pad ("pin") opens
# the coach's screens (coach, program, athletes, athlete, history, keyboard) or the staff's
# (staff, calibrate) for the role whose PIN was typed. ``lock`` (or two minutes without a touch,
# in plate time) goes back to idle. Only :attr:`ViewState.admin` changes between these screens;
# the athlete's parts of the ViewState keep their values.


@dataclass(frozen=True, slots=True)
class PinView:
    """The PIN pad: for which role, how many digits typed (never the digits), why it refused."""

    role: str                      #: "coach" or "staff"
    typed: int                     #: digits typed so far (the pad shows dots)
    #: "enter"; first start: "choose" then "confirm" a new PIN (both roles' in turn); a role
    #: without a PIN once the other has one: "authorize" (the other's PIN first), then "choose"
    stage: str = "enter"
    locked_s: float = 0.0          #: seconds left of a lockout (0: not locked)
    error: str | None = None       #: "Wrong PIN: 3 tries left", "The PINs differ", ...


@dataclass(frozen=True, slots=True)
class ListItem:
    """One row of a list (a program, an athlete, a menu entry): tap sends ``command``."""

    id: str
    label: str
    detail: str = ""               #: a second, muted line ("Hip thrust - 8 x 3 - station")
    selected: bool = False
    command: UICommand | None = None


@dataclass(frozen=True, slots=True)
class SettingRow:
    """One target in the program editor: ``-`` / ``+`` send ``setting_down`` / ``setting_up``
    with ``key``; a value out of bounds cannot be reached (the buttons go dim at the ends)."""

    key: str                       #: a ``station.programs.SETTINGS`` key, or "exercise"
    label: str
    value: str                     #: as shown, with its unit ("1.5 s", "60%", "Left + Right")
    can_down: bool
    can_up: bool
    help: str = ""


@dataclass(frozen=True, slots=True)
class ProgramView:
    """The program being edited: the editor's rows and what saving would do."""

    program_id: str | None         #: None: a new program not saved yet
    name: str
    rows: tuple[SettingRow, ...]
    changed: bool                  #: unsaved changes
    for_station: bool              #: the station's program (everyone without their own)
    used_by: int = 0               #: athletes who have it as their own


@dataclass(frozen=True, slots=True)
class KeyboardView:
    """The on-screen keyboard: ``kb_key`` (value: the character), ``kb_back``, ``kb_ok``,
    ``kb_cancel``. ``digits``: a number pad only (badge ids)."""

    title: str                     #: "Athlete's name", "Badge number", "Program name"
    text: str
    max_len: int
    digits: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One past session of an athlete, newest first on the history screen."""

    day: str                       #: "2026-11-24"
    exercise: str                  #: the exercise's name
    sets: int
    reps: int
    good_reps: int
    heel_share: float | None
    hold_s: float | None


@dataclass(slots=True)
class HistoryView:
    """An athlete's last sessions and their trend (oldest first, one point a session)."""

    athlete: str
    rows: tuple[SessionRow, ...]
    trend_heel_share: np.ndarray   #: 0..1 (NaN where not measured)
    trend_hold_s: np.ndarray
    heel_target: float | None = None
    hold_target_s: float | None = None


@dataclass(frozen=True, slots=True)
class StaffView:
    """The staff's page: today's usage, the station's health, the USB stick, the volume."""

    today: tuple[tuple[str, str], ...]          #: ("Sessions", "14"), ("Athletes", "9"), ...
    health: tuple[tuple[str, str, bool], ...]   #: (what, value, ok): calibration age, faults
                                                #: by kind, sample rate achieved, ...
    usb: str | None                             #: the stick an export would go to, None: none
    volume: int                                 #: 0..100 (percent, steps of 10)
    muted: bool


@dataclass(frozen=True, slots=True)
class CalibrateView:
    """On-screen calibration or tare: the step, what to do, and how far the reading is."""

    kind: str                      #: "calibrate" or "tare"
    step: int                      #: 1-based
    steps: int
    prompt: str                    #: "Put the 20 kg mass on the heel, then tap Take reading"
    progress: float                #: 0..1 of the reading being taken (0: waiting for a tap)
    error: str | None = None       #: why the last reading was refused
    done: str | None = None        #: the result once saved ("Saved: heel 412.3 counts/N ...")


@dataclass(slots=True)
class AdminView:
    """What the coach's and staff's screens show; only the part for the screen is set."""

    role: str | None               #: "coach"/"staff" once unlocked; None on the PIN pad
    title: str
    pin: PinView | None = None
    items: tuple[ListItem, ...] = ()           #: the screen's list (programs, athletes, ...)
    program: ProgramView | None = None
    keyboard: KeyboardView | None = None
    history: HistoryView | None = None
    staff: StaffView | None = None
    calibrate: CalibrateView | None = None
    note: str | None = None        #: the last action's result ("Saved: from the next set")
    athlete: tuple[str, str, str, str] | None = None  #: on "athlete": id, name, badge, program


@dataclass(frozen=True, slots=True)
class AudioView:
    """The loudness the staff chose; the display applies it to its player when it changes."""

    volume: float = 0.8            #: 0..1
    muted: bool = False


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
    admin: AdminView | None = None     #: set on the coach's and staff's screens
    audio: AudioView | None = None     #: the staff's loudness; None: the configured one
    exit_requested: bool = False       #: staff left the kiosk: the display loop ends cleanly


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

#: Commands of the coach's and staff's screens (handled by ``station.admin``).
ADMIN_COMMANDS = (
    "admin",            # the discreet control: open the PIN pad (value: "coach"/"staff" or None)
    "pin_role",         # value: "coach" / "staff"
    "pin_digit",        # value: "0".."9"
    "pin_back",
    "pin_ok",
    "open",             # value: a screen, or "screen:id" ("program:heavy", "athlete:a12",
                        #        "history:a12", "athletes", "coach", "staff", "new_program")
    "back",             # one screen up
    "lock",             # leave the coach/staff screens: back to idle
    "setting_down",     # value: a SettingRow key
    "setting_up",       # value: a SettingRow key
    "save",             # store the program being edited (it applies from the next set)
    "station_program",  # value: program id, or "" for the exercises' own targets
    "assign",           # on "athlete": value: program id, "" for the station's, or None:
                        #   the next program in turn (station's, then each program)
    "rename",           # the program's or athlete's name, on the keyboard
    "set_badge",        # the athlete's badge, on the number pad (or scan it on that screen)
    "delete",           # long press: the program or athlete shown
    "new_athlete",      # the keyboard, for a new athlete's name
    "kb_key",           # value: one character
    "kb_back",
    "kb_ok",
    "kb_cancel",
    "tare",             # staff: zero the empty plate
    "calibrate",        # staff: start the calibration walk
    "cal_take",         # take the reading of the current calibration step
    "cal_cancel",
    "export_usb",       # staff: usage CSV to the USB stick
    "volume_down",
    "volume_up",
    "mute",             # toggles
    "exit_kiosk",       # long press, staff: leave the kiosk
)

#: Seconds a finger must stay on a button where a mistake would cost (delete, leave the kiosk).
LONG_PRESS_S = 1.0

"""The pieces the screens are built from, each drawn into a rect it is given.

Every widget is a plain function of (surface, rect, theme, values): it draws only inside
``rect``, reads no clock and keeps nothing past the call, so a screen can redraw one widget's
rect when (and only when) its values change. Geometry a test needs to check a drawing against
(where the gauge's track is, where the rep count goes) is exposed as small pure functions that
the drawing itself uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pygame

from display import theme as th
from display.layout import split
from station.view import PHASE_CODES, Cue, Trace, UICommand

Rect = pygame.Rect
Theme = th.Theme

#: Phase code -> colour, indexed by the codes of ``station.view.PHASE_CODES``.
_PHASE_BY_CODE = {code: th.PHASE_COLOURS[name] for name, code in PHASE_CODES.items()}


@contextmanager
def clipped(surface: pygame.Surface, rect: Rect):
    """Draw only inside ``rect`` (and the surface's clip) for the duration."""
    old = surface.get_clip()
    surface.set_clip(rect.clip(old))
    try:
        yield
    finally:
        surface.set_clip(old)


# -- panels and buttons ----------------------------------------------------------------------
def draw_panel(surface: pygame.Surface, rect: Rect, theme: Theme,
               colour: th.Colour = th.PANEL, edge: th.Colour | None = None) -> None:
    """A rounded panel, the background of most widgets."""
    radius = theme.px(10)
    pygame.draw.rect(surface, colour, rect, border_radius=radius)
    if edge is not None:
        pygame.draw.rect(surface, edge, rect, width=max(1, theme.px(2)), border_radius=radius)


@dataclass(frozen=True)
class Button:
    """A touch target: where it is, what it says and what a tap on it asks for.

    ``command`` goes to the station; ``action`` is for the display itself (turning a page of the
    roster). ``style`` is "normal", "primary" (the next step: green), "selected" (the current
    choice: blue), "danger" (ends something: red) or "quiet" (an outline).
    """

    rect: Rect
    label: str
    command: UICommand | None = None
    style: str = "normal"
    action: str | None = None
    #: Seconds the finger must stay down before ``command`` is sent (0: an ordinary tap); for
    #: buttons where a mistake would cost (``station.view.LONG_PRESS_S``).
    hold_s: float = 0.0


BUTTON_COLOURS = {
    "normal": (th.PANEL, th.TEXT, th.PANEL_EDGE),
    "primary": (th.GOOD, th.DARK_TEXT, None),
    "selected": (th.INFO_FILL, th.TEXT, th.TEXT),
    "danger": (th.BAD_FILL, th.TEXT, None),
    "quiet": (th.BG, th.MUTED, th.PANEL_EDGE),
}


def draw_button(surface: pygame.Surface, theme: Theme, button: Button) -> None:
    """A button: a filled rounded rect in its style's colour with its label fitted inside."""
    if button.hold_s > 0 or button.style == "discreet":
        draw_hold_button(surface, theme, button)  # long press: a ring says "hold" (below)
        return
    fill, text_colour, edge = BUTTON_COLOURS[button.style]
    draw_panel(surface, button.rect, theme, fill, edge)
    pad = theme.px(10)
    box = button.rect.inflate(-2 * pad, -theme.px(8))
    theme.label(surface, button.label, box, "large", text_colour)


def draw_header(surface: pygame.Surface, parts: dict[str, Rect], theme: Theme, station: str,
                context: str) -> None:
    """The strip along the top: the station's name and who/what/side is on it."""
    pygame.draw.rect(surface, th.PANEL, parts["header"])
    theme.text(surface, station, parts["station"], "body", th.ACCENT, align="left")
    theme.text(surface, context, parts["context"], "body", th.TEXT, align="right")


def draw_message(surface: pygame.Surface, rect: Rect, theme: Theme, message: str) -> None:
    """A transient note ("badge not known") over the header, amber so it is noticed."""
    pygame.draw.rect(surface, th.WARN, rect)
    theme.text(surface, message, rect.inflate(-theme.px(20), -theme.px(6)), "body",
               th.DARK_TEXT)


# -- the foot --------------------------------------------------------------------------------
#: Outline of a right foot seen from above, toes up, big toe (medial side) on the left, as
#: (x, y) around the edge in a 1 x 1 box (y from the toes' tips 0 to the heel 1) that is drawn
#: :data:`FOOT_ASPECT` times as wide as tall.
_FOOT_OUTLINE = (
    (0.22, 0.02), (0.34, 0.04), (0.40, 0.09), (0.50, 0.08), (0.62, 0.11), (0.72, 0.15),
    (0.82, 0.21), (0.90, 0.29), (0.93, 0.37), (0.88, 0.49), (0.80, 0.61), (0.77, 0.73),
    (0.75, 0.85), (0.69, 0.94), (0.57, 0.99), (0.44, 0.985), (0.34, 0.94), (0.28, 0.84),
    (0.29, 0.71), (0.31, 0.60), (0.22, 0.48), (0.11, 0.36), (0.07, 0.24), (0.09, 0.11),
)
#: Toe pads of the right foot: (x, y, radius), big toe first; radius in units of the box width.
_TOES = ((0.24, 0.10, 0.12), (0.47, 0.145, 0.07), (0.60, 0.175, 0.065), (0.71, 0.215, 0.06),
         (0.81, 0.27, 0.055))
FOOT_ASPECT = 0.45
#: Where the heel zone starts (a fraction of the foot's length from the toes): the plate's two
#: load cells sit under the heel and under the ball of the foot.
HEEL_FROM = 0.58
#: Below this total load (N) the foot is drawn unloaded: there is no one on the plate.
MIN_FOOT_LOAD_N = 20.0


def _clip(poly: list[tuple[float, float]], axis: int, value: float, keep_below: bool):
    """Sutherland-Hodgman: the part of ``poly`` with coordinate ``axis`` below (or above)
    ``value``."""
    def inside(p):
        return p[axis] <= value if keep_below else p[axis] >= value

    out = []
    for i, cur in enumerate(poly):
        prev = poly[i - 1]
        if inside(cur):
            if not inside(prev):
                out.append(_cross(prev, cur, axis, value))
            out.append(cur)
        elif inside(prev):
            out.append(_cross(prev, cur, axis, value))
    return out


def _cross(a, b, axis, value):
    f = (value - a[axis]) / (b[axis] - a[axis])
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


class FootDrawing:
    """A foot seen from above in a rect, cut into the zones the plate measures.

    Two-cell plates have a heel and a forefoot zone; four-cell plates split each into medial
    (big-toe side) and lateral. A left foot is the mirror image of a right one. The geometry is
    computed once per (rect, side, cells); :meth:`draw` only fills polygons.
    """

    def __init__(self, rect: Rect, theme: Theme, side: str, four_cell: bool):
        self.rect = Rect(rect)
        self.four_cell = four_cell
        label_h = theme.px(34)
        self.top_label = Rect(rect.left, rect.top, rect.width, label_h)
        self.bottom_label = Rect(rect.left, rect.bottom - label_h, rect.width, label_h)
        area = Rect(rect.left, rect.top + label_h, rect.width, rect.height - 2 * label_h)
        h = min(area.height, int(area.width / FOOT_ASPECT))
        w = int(h * FOOT_ASPECT)
        self.box = Rect(0, 0, w, h)
        self.box.center = area.center
        mirror = side == "left"

        def to_px(x: float, y: float) -> tuple[float, float]:
            if mirror:
                x = 1.0 - x
            return (self.box.left + x * w, self.box.top + y * h)

        unit_outline = list(_FOOT_OUTLINE)
        self.outline = [to_px(x, y) for x, y in unit_outline]
        self.toes = [(to_px(x, y), r * w) for x, y, r in _TOES]
        # Zones in unit coordinates, then to pixels.
        fore = _clip(unit_outline, 1, HEEL_FROM, keep_below=True)
        heel = _clip(unit_outline, 1, HEEL_FROM, keep_below=False)
        if four_cell:
            mid = 0.5
            zones = {
                "forefoot_medial": _clip(fore, 0, mid, True),
                "forefoot_lateral": _clip(fore, 0, mid, False),
                "heel_medial": _clip(heel, 0, mid, True),
                "heel_lateral": _clip(heel, 0, mid, False),
            }
        else:
            zones = {"forefoot": fore, "heel": heel}
        self.zones = {k: [to_px(x, y) for x, y in poly] for k, poly in zones.items()}
        self._unit_to_px = to_px

    def zone_centre(self, zone: str) -> tuple[int, int]:
        """A point well inside ``zone`` (the mean of its vertices): tests sample its colour."""
        pts = self.zones[zone]
        return (round(sum(p[0] for p in pts) / len(pts)), round(sum(p[1] for p in pts) / len(pts)))

    def zone_loads(self, heel_n: float, forefoot_n: float,
                   cop_across: float | None) -> dict[str, float]:
        """Newtons on each zone; with four cells the centre of pressure across the foot
        (-1 medial .. +1 lateral) splits each zone's load."""
        heel_n, forefoot_n = max(0.0, heel_n), max(0.0, forefoot_n)
        if not self.four_cell:
            return {"heel": heel_n, "forefoot": forefoot_n}
        across = 0.0 if cop_across is None else max(-1.0, min(1.0, cop_across))
        medial = (1.0 - across) / 2
        return {"heel_medial": heel_n * medial, "heel_lateral": heel_n * (1 - medial),
                "forefoot_medial": forefoot_n * medial,
                "forefoot_lateral": forefoot_n * (1 - medial)}

    def zone_colours(self, heel_n: float, forefoot_n: float,
                     cop_across: float | None) -> dict[str, th.Colour]:
        """Each zone's shade: cold when it carries nothing, hot when it carries everything."""
        loads = self.zone_loads(heel_n, forefoot_n, cop_across)
        total = sum(loads.values())
        if total < MIN_FOOT_LOAD_N:
            return {k: th.FOOT_COLD for k in loads}
        # An even spread is the middle of the scale, whatever the number of zones.
        scale = len(loads) / 2
        return {k: th.lerp_colour(th.FOOT_COLD, th.FOOT_HOT, v / total * scale)
                for k, v in loads.items()}

    def _labels(self, heel_n: float, forefoot_n: float) -> tuple[str, str]:
        total = max(0.0, heel_n) + max(0.0, forefoot_n)
        if total < MIN_FOOT_LOAD_N:
            return "Toes", "Heel"
        heel_pct = round(100 * max(0.0, heel_n) / total)
        return f"Toes {100 - heel_pct}%", f"Heel {heel_pct}%"

    def _cop_point(self, heel_n: float, forefoot_n: float, cop_along: float | None,
                   cop_across: float | None) -> tuple[int, int] | None:
        """Where the centre-of-pressure dot goes (four-cell plates with someone on them)."""
        if (cop_along is None or cop_across is None or not self.four_cell
                or max(0.0, heel_n) + max(0.0, forefoot_n) < MIN_FOOT_LOAD_N):
            return None
        x = (1 + max(-1.0, min(1.0, cop_across))) / 2  # 0 medial .. 1 lateral
        y = 1.0 - max(0.0, min(1.0, cop_along))
        px, py = self._unit_to_px(0.18 + 0.6 * x, 0.1 + 0.85 * y)
        return (round(px), round(py))

    def key(self, heel_n: float, forefoot_n: float, cop_along: float | None,
            cop_across: float | None) -> tuple:
        """Everything the drawing shows for these values: equal keys draw equal pixels."""
        colours = self.zone_colours(heel_n, forefoot_n, cop_across)
        return (tuple(sorted(colours.items())), self._labels(heel_n, forefoot_n),
                self._cop_point(heel_n, forefoot_n, cop_along, cop_across))

    def draw(self, surface: pygame.Surface, theme: Theme, heel_n: float, forefoot_n: float,
             cop_along: float | None, cop_across: float | None) -> None:
        colours = self.zone_colours(heel_n, forefoot_n, cop_across)
        for zone, poly in self.zones.items():
            if len(poly) >= 3:
                pygame.draw.polygon(surface, colours[zone], poly)
        for centre, radius in self.toes:  # toe pads, outlined on the forefoot's shade
            pygame.draw.circle(surface, th.BG, centre, radius, max(1, theme.px(2)))
        pygame.draw.polygon(surface, th.FOOT_EDGE, self.outline, max(1, theme.px(2)))
        # The line between the zones: where the cells' territories meet.
        y = self.box.top + HEEL_FROM * self.box.height
        pygame.draw.line(surface, th.BG, (self.box.left + self.box.width * 0.2, y),
                         (self.box.right - self.box.width * 0.1, y), max(1, theme.px(2)))
        fore, heel = self._labels(heel_n, forefoot_n)
        pos = self._cop_point(heel_n, forefoot_n, cop_along, cop_across)
        if pos is not None:
            pygame.draw.circle(surface, th.BG, pos, theme.px(9))
            pygame.draw.circle(surface, th.TEXT, pos, theme.px(6))
        theme.text(surface, fore, self.top_label, "body", th.TEXT)
        theme.text(surface, heel, self.bottom_label, "body", th.TEXT)


# -- heel-share gauge ------------------------------------------------------------------------
def gauge_parts(rect: Rect, theme: Theme) -> dict[str, Rect]:
    """The gauge's label row, track and end labels inside ``rect``."""
    pad = theme.px(14)
    inner = rect.inflate(-2 * pad, -theme.px(8))
    label, track_row, ends = split(inner, [0.4, theme.px(26), 0], theme.px(4), vertical=True)
    return {"label": label, "track": track_row, "ends": ends}


def gauge_x(track: Rect, share: float) -> int:
    """The x of the needle for a heel share (0 all forefoot .. 1 all heel) on ``track``."""
    share = max(0.0, min(1.0, share))
    return round(track.left + share * (track.width - 1))


def target_band(share_min: float, drive_zone: str) -> tuple[float, float]:
    """The heel shares the coach asks for: at least ``share_min`` on the heel for a heel drive,
    at most ``1 - share_min`` for a forefoot drive."""
    return (share_min, 1.0) if drive_zone == "heel" else (0.0, 1.0 - share_min)


def draw_gauge_static(surface: pygame.Surface, rect: Rect, theme: Theme, share_min: float,
                      drive_zone: str) -> None:
    """The parts of the gauge that only change with the targets: panel, track, band, labels."""
    draw_panel(surface, rect, theme)
    parts = gauge_parts(rect, theme)
    track = parts["track"]
    pygame.draw.rect(surface, th.GAUGE_TRACK, track)
    lo, hi = target_band(share_min, drive_zone)
    x0, x1 = gauge_x(track, lo), gauge_x(track, hi)
    pygame.draw.rect(surface, th.GAUGE_BAND, Rect(x0, track.top, x1 - x0 + 1, track.height))
    name, _ = split(parts["label"], [0.6, 0], theme.px(6), vertical=False)
    theme.text(surface, "Heel share", name, "body", th.MUTED, align="left")
    left, right = split(parts["ends"], [0.5, 0], 0, vertical=False)
    theme.text(surface, "Toes", left, "small", th.MUTED, align="left")
    theme.text(surface, "Heel", right, "small", th.MUTED, align="right")


def gauge_key(rect: Rect, theme: Theme, share: float | None, share_min: float,
              drive_zone: str) -> tuple | None:
    """What the gauge shows for ``share``: equal keys draw equal pixels."""
    if share is None:
        return None
    lo, hi = target_band(share_min, drive_zone)
    return (gauge_x(gauge_parts(rect, theme)["track"], share), round(100 * share),
            lo <= share <= hi)


def draw_gauge(surface: pygame.Surface, rect: Rect, theme: Theme, share: float | None,
               share_min: float, drive_zone: str) -> None:
    """The heel-share needle and value over the static gauge (redrawn when the share moves)."""
    parts = gauge_parts(rect, theme)
    label, track = parts["label"], parts["track"]
    _, value = split(label, [0.6, 0], theme.px(6), vertical=False)
    if share is None:
        theme.text(surface, "--", value, "large", th.MUTED, align="right")
        return
    lo, hi = target_band(share_min, drive_zone)
    ok = lo <= share <= hi
    theme.text(surface, f"{round(100 * share)}%", value, "large", th.GOOD if ok else th.WARN,
               align="right")
    x = gauge_x(track, share)
    half = max(2, theme.px(3))
    over = theme.px(5)
    needle = Rect(x - half, track.top - over, 2 * half + 1, track.height + 2 * over)
    pygame.draw.rect(surface, th.NEEDLE, needle.clip(rect))


# -- force trace -----------------------------------------------------------------------------
def nice_ceiling(value: float, floor: float = 100.0) -> float:
    """A round number >= ``value`` (steps of 100 N, then 250/500 N) for a stable axis."""
    value = max(value, floor)
    step = 100.0 if value <= 1000 else 250.0 if value <= 2500 else 500.0
    return math.ceil(value / step) * step


def _phase_lines(surface: pygame.Surface, area: Rect, theme: Theme, t: np.ndarray,
                 load: np.ndarray, phase: np.ndarray, t0: float, t1: float, y_max: float,
                 width: int) -> None:
    """Draw a load trace into ``area`` coloured by phase, one polyline per run of a phase."""
    if len(t) < 2 or t1 <= t0:
        return
    step = max(1, len(t) // max(1, 2 * area.width))  # no more points than pixels
    t, load, phase = t[::step], load[::step], phase[::step]
    xs = area.left + (t - t0) / (t1 - t0) * (area.width - 1)
    ys = area.bottom - 1 - np.clip(load / y_max, 0.0, 1.0) * (area.height - 1)
    pts = np.column_stack((xs, ys)).tolist()
    breaks = np.flatnonzero(np.diff(phase)) + 1
    starts = [0, *breaks.tolist()]
    ends = [*breaks.tolist(), len(pts)]
    for s, e in zip(starts, ends, strict=True):
        colour = _PHASE_BY_CODE.get(int(phase[s]), th.MUTED)
        run = pts[s:min(e + 1, len(pts))]  # join to the next run's first point
        if len(run) >= 2:
            pygame.draw.lines(surface, colour, False, run, width)


def trace_parts(rect: Rect, theme: Theme) -> dict[str, Rect]:
    """The live trace's legend row (phase words left, current load right) and its plot."""
    inner = rect.inflate(-theme.px(24), -theme.px(16))
    legend, plot = split(inner, [theme.px(28), 0], theme.px(6), vertical=True)
    words, load = split(legend, [0, theme.px(110)], theme.px(6), vertical=False)
    return {"legend": words, "load": load, "plot": plot}


#: Phases named in the live trace's legend, in the order of a rep.
LEGEND_PHASES = ("bottom", "drive", "top", "lower")


def draw_trace_static(surface: pygame.Surface, rect: Rect, theme: Theme) -> None:
    """The trace's panel and its legend: each phase's word in its colour."""
    draw_panel(surface, rect, theme)
    cells = split(trace_parts(rect, theme)["legend"], [0] * len(LEGEND_PHASES), theme.px(6),
                  vertical=False)
    size = theme.common_size([(th.PHASE_WORDS[p], c) for p, c in zip(LEGEND_PHASES, cells,
                                                                       strict=True)], "small")
    for cell, phase in zip(cells, LEGEND_PHASES, strict=True):
        theme.text(surface, th.PHASE_WORDS[phase], cell, "small", th.PHASE_COLOURS[phase],
                   align="left", max_size=size)


#: Seconds of force shown on the live trace.
TRACE_WINDOW_S = 6.0


def draw_trace(surface: pygame.Surface, rect: Rect, theme: Theme, trace: Trace,
               load_n: float, window_s: float = TRACE_WINDOW_S) -> None:
    """The last ``window_s`` seconds of total load, coloured by the rep's phase, newest at the
    right, with the current load in the corner."""
    parts = trace_parts(rect, theme)
    area = parts["plot"]
    t = np.asarray(trace.t, dtype=float)
    load = np.asarray(trace.load_n, dtype=float)
    phase = np.asarray(trace.phase)
    theme.text(surface, f"{round(load_n)} N", parts["load"], "body", th.TEXT, align="right")
    if len(t) < 2:
        theme.text(surface, "Force", area, "body", th.MUTED)
        return
    t1 = float(t[-1])
    t0 = t1 - window_s
    keep = t >= t0
    if not keep[0]:
        first = max(0, int(np.argmax(keep)) - 1)  # keep one point left of the window's edge
        t, load, phase = t[first:], load[first:], phase[first:]
    y_max = nice_ceiling(float(load.max()) * 1.15 if len(load) else 0.0)
    with clipped(surface, area):
        for frac in (0.5, 1.0):
            y = area.bottom - 1 - round(frac * (area.height - 1))
            pygame.draw.line(surface, th.PANEL_EDGE, (area.left, y), (area.right - 1, y), 1)
        _phase_lines(surface, area, theme, t, load, phase, t0, t1, y_max, max(2, theme.px(3)))


# -- hold timer ------------------------------------------------------------------------------
def hold_parts(rect: Rect, theme: Theme) -> dict[str, Rect]:
    """The hold timer's label row and its bar."""
    inner = rect.inflate(-theme.px(20), -theme.px(10))
    label, rest = split(inner, [theme.px(30), 0], theme.px(4), vertical=True)
    bar = Rect(rest.left, rest.top, rest.width, min(rest.height, theme.px(44)))
    bar.centery = rest.centery
    return {"label": label, "bar": bar}


def hold_fill_width(bar: Rect, hold_s: float, target_s: float) -> int:
    """How much of the bar is filled after ``hold_s`` seconds of a ``target_s`` hold."""
    if target_s <= 0:
        return bar.width if hold_s > 0 else 0
    return round(bar.width * max(0.0, min(1.0, hold_s / target_s)))


def hold_key(rect: Rect, theme: Theme, hold_s: float, target_s: float) -> tuple:
    """What the hold timer shows: equal keys draw equal pixels."""
    return (f"{hold_s:.1f} / {target_s:.1f} s",
            hold_fill_width(hold_parts(rect, theme)["bar"], hold_s, target_s),
            target_s > 0 and hold_s >= target_s)


def draw_hold_timer(surface: pygame.Surface, rect: Rect, theme: Theme, hold_s: float,
                    target_s: float) -> None:
    """The hold at the top: a bar filling to the target, blue while holding, green once there."""
    draw_panel(surface, rect, theme)
    parts = hold_parts(rect, theme)
    name, value = split(parts["label"], [0.4, 0], theme.px(6), vertical=False)
    theme.text(surface, "Hold", name, "body", th.MUTED, align="left")
    done = target_s > 0 and hold_s >= target_s
    theme.text(surface, f"{hold_s:.1f} / {target_s:.1f} s", value, "body",
               th.GOOD if done else th.TEXT, align="right")
    bar = parts["bar"]
    pygame.draw.rect(surface, th.HOLD_TRACK, bar)
    fill = hold_fill_width(bar, hold_s, target_s)
    if fill > 0:
        pygame.draw.rect(surface, th.HOLD_DONE if done else th.HOLD_FILL,
                         Rect(bar.left, bar.top, fill, bar.height))


# -- cue banner, reps, progress --------------------------------------------------------------
def draw_cue_banner(surface: pygame.Surface, rect: Rect, theme: Theme, cue: Cue | None,
                    quiet_text: str = "") -> None:
    """The current cue as a large banner in its kind's colour; without a cue a dim panel with
    ``quiet_text`` (the phase)."""
    if cue is None:
        draw_panel(surface, rect, theme)
        if quiet_text:
            theme.text(surface, quiet_text, rect.inflate(-theme.px(24), -theme.px(12)),
                       "title", th.MUTED)
        return
    bg, fg = th.cue_colours(cue.kind)
    draw_panel(surface, rect, theme, bg)
    theme.paragraph(surface, cue.text, rect.inflate(-theme.px(24), -theme.px(10)), "title", fg)


def rep_counter_parts(rect: Rect, theme: Theme) -> dict[str, Rect]:
    """The rep counter's label row ("Reps", "4 good") and the count ("5/8") under it."""
    inner = rect.inflate(-theme.px(16), -theme.px(8))
    label_row, count = split(inner, [theme.px(28), 0], 0, vertical=True)
    label, good = split(label_row, [0.45, 0], theme.px(6), vertical=False)
    return {"label": label, "count": count, "good": good}


def rep_count_text(reps: int, target: int) -> str:
    """The rep counter's digits: reps done / reps to do."""
    return f"{reps}/{target}"


def draw_rep_counter(surface: pygame.Surface, rect: Rect, theme: Theme, reps: int, target: int,
                     good: int) -> None:
    """Reps done against the target in huge digits, and how many were good."""
    draw_panel(surface, rect, theme)
    parts = rep_counter_parts(rect, theme)
    theme.text(surface, "Reps", parts["label"], "body", th.MUTED, align="left")
    theme.text(surface, f"{good} good", parts["good"], "body", th.GOOD, align="right")
    theme.text(surface, rep_count_text(reps, target), parts["count"], "huge",
               th.GOOD if reps >= target > 0 else th.TEXT)


def progress_words(set_index: int, sets: int, side: str, side_index: int,
                   sides: Sequence[str]) -> tuple[str, str]:
    """("Set 2 of 3", "Left leg, 1 of 2") - the second empty for two-footed exercises."""
    first = f"Set {set_index} of {sets}"
    if len(sides) > 1:
        return first, f"{side.capitalize()} leg, {side_index} of {len(sides)}"
    return first, ""


def draw_progress(surface: pygame.Surface, rect: Rect, theme: Theme, set_index: int, sets: int,
                  side: str, side_index: int, sides: Sequence[str]) -> None:
    """Which set of how many (words and a pip per set), and which side."""
    first, second = progress_words(set_index, sets, side, side_index, sides)
    two_rows = bool(second) and rect.height >= theme.px(50)
    rows = split(rect, [0, 0], 0, vertical=True) if two_rows else [rect]
    top = rows[0]
    if second and not two_rows:
        first = f"{first} - {second}"
    text_box, pips = split(top, [0.55, 0], theme.px(6), vertical=False)
    theme.text(surface, first, text_box, "body", th.TEXT, align="left")
    if two_rows:
        theme.text(surface, second, rows[1], "body", th.MUTED, align="left")
    n = max(1, sets)
    r = max(3, min(theme.px(9), pips.width // (3 * n), pips.height // 3))
    step = min(3 * r, pips.width // n)
    x = pips.right - r - (n - 1) * step
    for i in range(n):
        centre = (x + i * step, pips.centery)
        if i + 1 < set_index:
            pygame.draw.circle(surface, th.GOOD, centre, r)
        elif i + 1 == set_index:
            pygame.draw.circle(surface, th.INFO, centre, r)
        else:
            pygame.draw.circle(surface, th.MUTED, centre, r, max(1, theme.px(2)))


# -- summary charts --------------------------------------------------------------------------
def bar_heights(values: Sequence[float | None], top: float, height: int) -> list[int]:
    """Pixel heights of per-rep bars for ``values`` on an axis 0..``top``; None is 0."""
    if top <= 0:
        return [0 for _ in values]
    return [0 if v is None else round(height * max(0.0, min(1.0, v / top))) for v in values]


def draw_rep_bars(surface: pygame.Surface, rect: Rect, theme: Theme, title: str,
                  values: Sequence[float | None], target: float, fmt, at_least: bool = True,
                  top: float | None = None) -> None:
    """One bar per rep for a metric, green where the rep met ``target`` (at least / at most),
    red where it did not, with the target as a line across."""
    draw_panel(surface, rect, theme)
    inner = rect.inflate(-theme.px(14), -theme.px(10))
    title_box, area, index_row = split(inner, [theme.px(28), 0, theme.px(20)], theme.px(4),
                                       vertical=True)
    name_box, target_box = split(title_box, [0, theme.px(56)], theme.px(4), vertical=False)
    theme.text(surface, title, name_box, "small", th.MUTED, align="left")
    theme.text(surface, fmt(target), target_box, "small", th.TEXT, align="right")
    if not values:
        theme.text(surface, "no reps", area, "small", th.MUTED)
        return
    known = [v for v in values if v is not None]
    top = top if top is not None else max([target * 1.25, *known]) * 1.05
    heights = bar_heights(values, top, area.height)
    n = len(values)
    slot = area.width / n
    bar_w = max(2, int(slot * 0.7))
    for i, (v, hgt) in enumerate(zip(values, heights, strict=True)):
        x = round(area.left + i * slot + (slot - bar_w) / 2)
        if v is None:
            colour = th.PANEL_EDGE
            hgt = max(2, theme.px(3))
        else:
            met = v >= target if at_least else v <= target
            colour = th.GOOD if met else th.BAD
        pygame.draw.rect(surface, colour, Rect(x, area.bottom - hgt, bar_w, hgt))
        if slot >= theme.px(18):
            theme.text(surface, str(i + 1), Rect(x, index_row.top, bar_w, index_row.height),
                       "small", th.MUTED)
    ty = area.bottom - bar_heights([target], top, area.height)[0]
    for x in range(area.left, area.right, theme.px(12)):
        pygame.draw.line(surface, th.TEXT, (x, ty), (min(x + theme.px(6), area.right - 1), ty),
                         max(1, theme.px(2)))


def draw_force_chart(surface: pygame.Surface, rect: Rect, theme: Theme, trace: Trace,
                     hold_spans: Sequence[tuple[float, float]]) -> None:
    """The whole set's force over time, coloured by phase, with each hold shaded."""
    draw_panel(surface, rect, theme)
    inner = rect.inflate(-theme.px(14), -theme.px(8))
    title_box, area, axis = split(inner, [theme.px(26), 0, theme.px(20)], theme.px(4),
                                  vertical=True)
    name_box, max_box = split(title_box, [0, theme.px(80)], theme.px(4), vertical=False)
    theme.text(surface, "Force over the set (holds shaded)", name_box, "small", th.MUTED,
               align="left")
    t = np.asarray(trace.t, dtype=float)
    if len(t) < 2 or t[-1] <= t[0]:
        theme.text(surface, "no force recorded", area, "small", th.MUTED)
        return
    t0, t1 = float(t[0]), float(t[-1])
    for start, end in hold_spans:
        a = max(start, t0)
        b = min(end, t1)
        if b <= a:
            continue
        xa = area.left + round((a - t0) / (t1 - t0) * (area.width - 1))
        xb = area.left + round((b - t0) / (t1 - t0) * (area.width - 1))
        pygame.draw.rect(surface, th.HOLD_SHADE, Rect(xa, area.top, max(1, xb - xa), area.height))
    load = np.asarray(trace.load_n, dtype=float)
    y_max = nice_ceiling(float(load.max()) * 1.1)
    with clipped(surface, area):
        _phase_lines(surface, area, theme, t, load, np.asarray(trace.phase), t0, t1, y_max,
                     max(1, theme.px(2)))
    left, right = split(axis, [0.5, 0], 0, vertical=False)
    theme.text(surface, "0 s", left, "small", th.MUTED, align="left")
    theme.text(surface, f"{t1 - t0:.0f} s", right, "small", th.MUTED, align="right")
    theme.text(surface, f"top {y_max:.0f} N", max_box, "small", th.MUTED, align="right")


#: How each left-vs-right metric is named and shown.
METRICS = {
    "heel_share": ("Heel share", lambda v: f"{round(100 * v)}%"),
    "forefoot_share": ("Forefoot share", lambda v: f"{round(100 * v)}%"),
    "hold_s": ("Hold", lambda v: f"{v:.1f} s"),
    "lower_s": ("Lowering", lambda v: f"{v:.1f} s"),
    "drive_s": ("Drive", lambda v: f"{v:.1f} s"),
    "peak_n": ("Peak force", lambda v: f"{v:.0f} N"),
    "reps": ("Reps", lambda v: f"{v:.0f}"),
    "good_reps": ("Good reps", lambda v: f"{v:.0f}"),
}


def metric_name_and_format(metric: str):
    return METRICS.get(metric, (metric.replace("_", " ").capitalize(), lambda v: f"{v:.2f}"))


def asymmetry_colour(asym: float) -> th.Colour:
    """Green under 10 % difference between sides, amber under 20 %, red beyond."""
    return th.GOOD if asym < 0.10 else th.WARN if asym < 0.20 else th.BAD


def draw_sides_panel(surface: pygame.Surface, rect: Rect, theme: Theme,
                     asymmetry: dict[str, tuple[float, float, float]] | None) -> None:
    """Left vs right once both sides are done: a row per metric with the difference coloured."""
    draw_panel(surface, rect, theme)
    inner = rect.inflate(-theme.px(14), -theme.px(8))
    if not asymmetry:
        theme.text(surface, "Left vs right: after both sides", inner, "body", th.MUTED)
        return
    rows = split(inner, [0] * (len(asymmetry) + 1), theme.px(2), vertical=True)
    cols = [0.34, 0.22, 0.22, 0]

    def cells(row):
        return split(row, cols, theme.px(6), vertical=False)

    for box, word in zip(cells(rows[0]), ("Left vs right", "Left", "Right", "Diff"),
                         strict=True):
        theme.text(surface, word, box, "small", th.MUTED, align="left")
    for row, (metric, (left, right, asym)) in zip(rows[1:], asymmetry.items(), strict=True):
        name, fmt = metric_name_and_format(metric)
        c = cells(row)
        theme.text(surface, name, c[0], "body", th.TEXT, align="left")
        theme.text(surface, fmt(left), c[1], "body", th.TEXT, align="left")
        theme.text(surface, fmt(right), c[2], "body", th.TEXT, align="left")
        theme.text(surface, f"{round(100 * asym)}%", c[3], "body", asymmetry_colour(asym),
                   align="left")


# -- drawings --------------------------------------------------------------------------------
def draw_hip_thrust(surface: pygame.Surface, rect: Rect, theme: Theme) -> None:
    """A simple drawing of the single-leg hip thrust, kept inside ``rect``."""
    with clipped(surface, rect):
        _draw_hip_thrust(surface, rect.inflate(-theme.px(8), -theme.px(8)), theme)


def _draw_hip_thrust(surface: pygame.Surface, rect: Rect, theme: Theme) -> None:
    """A simple drawing of the single-leg hip thrust at the top: upper back on a bench, a
    straight line from shoulders to knee, the working foot flat on the plate, chin up, the free
    knee raised, and an arrow driving down through the heel."""
    aspect = 1.6
    h = min(rect.height, int(rect.width / aspect))
    w = int(h * aspect)
    box = Rect(0, 0, w, h)
    box.center = rect.center

    def p(x: float, y: float) -> tuple[int, int]:
        return (round(box.left + x * w), round(box.top + y * h))

    limb = max(3, theme.px(9))
    floor_y = 0.94
    # floor, bench, plate
    pygame.draw.line(surface, th.PANEL_EDGE, p(0.0, floor_y), p(1.0, floor_y), max(2, theme.px(3)))
    bench_top = Rect(p(0.02, 0.56), (round(0.28 * w), round(0.07 * h)))
    pygame.draw.rect(surface, th.PANEL_EDGE, bench_top, border_radius=theme.px(4))
    for x in (0.05, 0.26):
        pygame.draw.line(surface, th.PANEL_EDGE, p(x, 0.62), p(x, floor_y), max(2, theme.px(5)))
    plate = Rect(p(0.66, 0.89), (round(0.24 * w), round(0.05 * h)))
    pygame.draw.rect(surface, th.ACCENT, plate, border_radius=theme.px(3))
    # The straight line from shoulders through hips to knee, as a dashed guide above the body.
    a, b = (0.20, 0.49), (0.86, 0.278)
    dashes = 14
    for i in range(0, dashes, 2):
        f0, f1 = i / dashes, (i + 1) / dashes
        pygame.draw.line(surface, th.GOOD, p(a[0] + (b[0] - a[0]) * f0, a[1] + (b[1] - a[1]) * f0),
                         p(a[0] + (b[0] - a[0]) * f1, a[1] + (b[1] - a[1]) * f1),
                         max(2, theme.px(3)))
    # body: arm on the bench, head (chin up), torso, working leg, free leg tucked
    shoulder, hip, knee, ankle = (0.28, 0.535), (0.55, 0.448), (0.78, 0.374), (0.78, 0.84)
    heel, toe = (0.75, 0.875), (0.88, 0.875)
    free_knee, free_foot = (0.50, 0.17), (0.64, 0.11)
    head = (0.20, 0.455)
    skin = th.TEXT
    for a, b in ((shoulder, (0.08, 0.545)), (shoulder, head), (shoulder, hip), (hip, knee),
                 (knee, ankle), (hip, free_knee), (free_knee, free_foot), (ankle, heel),
                 (heel, toe)):
        pygame.draw.line(surface, skin, p(*a), p(*b), limb)
    for joint in (shoulder, hip, knee, ankle, free_knee, free_foot, heel, toe, (0.08, 0.545)):
        pygame.draw.circle(surface, skin, p(*joint), limb // 2)
    pygame.draw.circle(surface, skin, p(*head), round(0.07 * h))
    # drive arrow beside the heel: push down through it
    ax = p(0.69, 0.0)[0]
    top_y, tip_y = p(0, 0.58)[1], p(0, 0.80)[1]
    pygame.draw.line(surface, th.WARN, (ax, top_y), (ax, tip_y), max(2, theme.px(5)))
    hw = theme.px(10)
    pygame.draw.polygon(surface, th.WARN, [(ax - hw, tip_y - hw), (ax + hw, tip_y - hw),
                                           (ax, tip_y + hw)])


def draw_warning_sign(surface: pygame.Surface, rect: Rect, theme: Theme) -> None:
    """An amber warning triangle with an exclamation mark, as big as fits ``rect``."""
    side = min(rect.width - 1, int((rect.height - 1) / 0.87))
    h = int(side * 0.87)
    cx, top = rect.centerx, rect.centery - h // 2
    pts = [(cx, top), (cx + side // 2, top + h), (cx - side // 2, top + h)]
    pygame.draw.polygon(surface, th.WARN, pts)
    bar_w = max(3, side // 12)
    pygame.draw.rect(surface, th.DARK_TEXT,
                     Rect(cx - bar_w // 2, top + h * 0.32, bar_w, h * 0.38),
                     border_radius=bar_w // 2)
    pygame.draw.circle(surface, th.DARK_TEXT, (cx, round(top + h * 0.82)), bar_w * 0.65)


# -- long press and the discreet control (the staff's screens) --------------------------------
#: The discreet control's style: the header's own colour, no edge, and a gear dimmer than any
#: text (but still 4.5:1 on the header, so the staff find it).
DISCREET_GEAR: th.Colour = (132, 140, 152)
BUTTON_COLOURS["discreet"] = (th.PANEL, DISCREET_GEAR, None)


def hold_ring_rect(button: Button, theme: Theme) -> Rect:
    """Where a long-press button's ring goes: a square at its left end (the whole button for
    the discreet control)."""
    if button.style == "discreet" or not button.label:
        side = min(button.rect.width, button.rect.height) - 2 * theme.px(12)
        ring = Rect(0, 0, max(4, side), max(4, side))
        ring.center = button.rect.center
        return ring
    side = max(4, min(button.rect.height - 2 * theme.px(14), theme.px(34)))
    return Rect(button.rect.left + theme.px(12), button.rect.centery - side // 2, side, side)


def draw_hold_button(surface: pygame.Surface, theme: Theme, button: Button,
                     done: float = 0.0) -> None:
    """A button that wants a long press: its style's fill, a ring at its left (a clock face:
    "keep your finger here") and its label beside it; ``done`` (0..1) fills the ring for a
    hold under way. The discreet control is just a dim gear."""
    fill, text_colour, edge = BUTTON_COLOURS[button.style]
    draw_panel(surface, button.rect, theme, fill, edge)
    ring = hold_ring_rect(button, theme)
    if button.style == "discreet":
        draw_gear(surface, ring, text_colour, theme)
    else:
        r = ring.width // 2
        width = max(2, theme.px(3))
        pygame.draw.circle(surface, text_colour, ring.center, r, width)
        hand = (ring.centerx, ring.top + width + max(1, r // 5))
        pygame.draw.line(surface, text_colour, ring.center, hand, width)
        pad = theme.px(10)
        box = Rect(ring.right + pad, button.rect.top + theme.px(4),
                   button.rect.right - pad - ring.right - pad, button.rect.height - theme.px(8))
        theme.label(surface, button.label, box, "large", text_colour)
    if done > 0:
        draw_hold_progress(surface, theme, button, done)


def draw_hold_progress(surface: pygame.Surface, theme: Theme, button: Button,
                       done: float) -> None:
    """How far a long press has got: an arc round the button's ring, clockwise from the top."""
    ring = hold_ring_rect(button, theme).inflate(theme.px(6), theme.px(6))
    done = max(0.0, min(1.0, done))
    if done <= 0:
        return
    top = math.pi / 2
    pygame.draw.arc(surface, th.ACCENT, ring, top - 2 * math.pi * done, top,
                    max(2, theme.px(4)))


def draw_gear(surface: pygame.Surface, rect: Rect, colour: th.Colour, theme: Theme) -> None:
    """A small gear (the settings sign) filling ``rect``: eight teeth round a ring."""
    cx, cy = rect.center
    outer = min(rect.width, rect.height) / 2
    inner = outer * 0.72
    points = []
    teeth = 8
    for i in range(teeth * 4):
        a = 2 * math.pi * i / (teeth * 4)
        radius = outer if i % 4 in (1, 2) else inner
        points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    pygame.draw.polygon(surface, colour, points)
    pygame.draw.circle(surface, BUTTON_COLOURS["discreet"][0], (cx, cy), max(2, round(outer * 0.32)))


# -- the coach's screens (display.admin_screens) ----------------------------------------------
#: An inert button (a - or + at its bound, the PIN pad while locked out): no fill, a faint edge
#: and a dimmer label than any live button, yet still legible, and it sends nothing.
DIM_TEXT: th.Colour = (124, 131, 143)
BUTTON_COLOURS["dim"] = (th.BG, DIM_TEXT, th.PANEL)


def draw_admin_header(surface: pygame.Surface, parts: dict[str, Rect], theme: Theme, title: str,
                      role: str) -> Rect:
    """The coach's and staff's header: the page's title on the left, the role on the right.
    Returns the rect the title covers (the note goes right of it)."""
    pygame.draw.rect(surface, th.PANEL, parts["header"])
    drawn = theme.text(surface, title, parts["title"], "large", th.TEXT, align="left")
    if role:
        theme.text(surface, role, parts["role"], "body", th.ACCENT, align="right")
    return drawn


def draw_note(surface: pygame.Surface, rect: Rect, theme: Theme, note: str | None) -> None:
    """The last action's result ("Saved: from the next set") as a blue pill in the header."""
    if not note:
        return
    draw_panel(surface, rect, theme, th.INFO_FILL)
    theme.label(surface, note, rect.inflate(-theme.px(16), -theme.px(4)), "body", th.TEXT)


def pin_dot_centres(rect: Rect, theme: Theme, typed: int,
                    least: int = 4) -> tuple[list[tuple[int, int]], int]:
    """Where the PIN pad's dots go (one per digit typed, at least ``least``), and their radius."""
    n = max(least, typed)
    r = max(3, min(theme.px(12), rect.height // 3, rect.width // (3 * n + 1)))
    step = 3 * r
    x0 = rect.centerx - (n - 1) * step // 2
    return [(x0 + i * step, rect.centery) for i in range(n)], r


def draw_pin_dots(surface: pygame.Surface, rect: Rect, theme: Theme, typed: int,
                  dim: bool = False) -> None:
    """One filled dot per digit typed (never the digits), outlined places up to four."""
    centres, r = pin_dot_centres(rect, theme, typed)
    colour = DIM_TEXT if dim else th.TEXT
    for i, centre in enumerate(centres):
        if i < typed:
            pygame.draw.circle(surface, colour, centre, r)
        else:
            pygame.draw.circle(surface, th.MUTED if not dim else DIM_TEXT, centre, r,
                               max(1, theme.px(2)))


def draw_list_row(surface: pygame.Surface, theme: Theme, button: Button, detail: str = "",
                  align: str = "left") -> None:
    """A list's row drawn over its button: the label and, under it, a muted detail
    ("Hip thrust - 8 x 3 - station")."""
    fill, text_colour, edge = BUTTON_COLOURS[button.style]
    draw_panel(surface, button.rect, theme, fill, edge)
    inner = button.rect.inflate(-2 * theme.px(14), -theme.px(8))
    if not detail:
        theme.text(surface, button.label, inner, "large", text_colour, align=align)
        return
    detail_colour = th.MUTED if button.style in ("normal", "quiet") else text_colour
    top, bottom = split(inner, [0.56, 0], 0, vertical=True)
    theme.text(surface, button.label, top, "large", text_colour, align=align)
    theme.text(surface, detail, bottom, "small", detail_colour, align=align)


def draw_setting_text(surface: pygame.Surface, rect: Rect, theme: Theme, label: str,
                      value: str, focused: bool = False) -> None:
    """A setting row's name (small, muted) over its value (large), on a panel edged in the
    accent colour while it is the row whose help is shown."""
    draw_panel(surface, rect, theme, th.PANEL, th.ACCENT if focused else th.PANEL_EDGE)
    inner = rect.inflate(-2 * theme.px(12), -theme.px(6))
    top, bottom = split(inner, [0.42, 0], 0, vertical=True)
    theme.text(surface, label, top, "small", th.MUTED, align="left")
    theme.text(surface, value, bottom, "large", th.TEXT, align="left")


def field_tail(theme: Theme, text: str, size: int, width: int) -> str:
    """The end of ``text`` that fits ``width`` at ``size`` (what was typed last stays in view),
    led by "..." when the start had to go."""
    font = theme.font(size)
    if font.size(text)[0] <= width:
        return text
    for start in range(1, len(text) + 1):
        shown = th.ELLIPSIS + text[start:]
        if font.size(shown)[0] <= width:
            return shown
    return ""


def draw_text_field(surface: pygame.Surface, rect: Rect, theme: Theme, text: str, max_len: int,
                    error: str | None = None) -> None:
    """The keyboard's text with a caret after it, and on the right the error (red) or how many
    characters are left."""
    draw_panel(surface, rect, theme, th.PANEL, th.ACCENT)
    inner = rect.inflate(-2 * theme.px(14), -theme.px(8))
    side_w = min(inner.width // 2, theme.px(230)) if error else theme.px(90)
    box, side = split(inner, [0, side_w], theme.px(10), vertical=False)
    size = theme.font_size("large")
    caret_w = max(2, theme.px(3))
    shown = field_tail(theme, text, size, max(0, box.width - 2 * caret_w))
    if shown:
        drawn = theme.text(surface, shown, box, "large", th.TEXT, align="left", max_size=size)
        x = min(drawn.right + caret_w, box.right - caret_w)
    else:
        x = box.left + caret_w
    caret_h = min(box.height, theme.extent(size, "Ag")[1])
    pygame.draw.rect(surface, th.ACCENT, Rect(x, box.centery - caret_h // 2, caret_w, caret_h))
    if error:
        theme.paragraph(surface, error, side, "small", th.BAD, align="left")
    else:
        theme.text(surface, f"{len(text)}/{max_len}", side, "small", th.MUTED, align="right")


def short_day(day: str) -> str:
    """"2026-11-24" -> "24 Nov" (what fits a table's first column); anything else as given."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    parts = day.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= 12:
        return f"{int(parts[2])} {months[int(parts[1]) - 1]}"
    return day


#: The history table's columns: heading and share of the width (0: what is left).
SESSION_COLUMNS = (("Day", 0.15), ("Exercise", 0), ("Sets", 0.08), ("Good/reps", 0.17),
                   ("Heel", 0.1), ("Hold", 0.11))
_EXERCISE_COLUMN = 1


def session_cells(row, heel_target: float | None,
                  hold_target_s: float | None) -> list[tuple[str, th.Colour]]:
    """One session's table cells (text, colour): the good reps of all the session's reps, heel
    share and hold green when they met the targets, amber when not, "--" when not measured."""
    def judged(value, target, fmt):
        if value is None or value != value:  # None or NaN
            return "--", th.MUTED
        ok = target is None or value >= target
        return fmt(value), th.GOOD if ok else th.WARN

    return [(short_day(row.day), th.TEXT), (row.exercise, th.TEXT),
            (str(row.sets), th.TEXT), (f"{row.good_reps}/{row.reps}", th.TEXT),
            judged(row.heel_share, heel_target, lambda v: f"{round(100 * v)}%"),
            judged(row.hold_s, hold_target_s, lambda v: f"{v:.1f} s")]


def draw_session_table(surface: pygame.Surface, rect: Rect, theme: Theme, rows: Sequence,
                       heel_target: float | None = None,
                       hold_target_s: float | None = None) -> int:
    """The last sessions, newest first, as many as fit: a heading row then one row each.
    Returns how many rows are shown."""
    draw_panel(surface, rect, theme)
    inner = rect.inflate(-2 * theme.px(12), -2 * theme.px(8))
    row_h = theme.px(32)
    if not rows:
        theme.paragraph(surface, "No sessions yet: they appear here after the athlete's first "
                        "set", inner, "body", th.MUTED)
        return 0
    fit = max(0, inner.height // row_h - 1)
    shown = list(rows[:fit])
    widths = [w for _, w in SESSION_COLUMNS]
    g = theme.px(6)
    lines = [split(Rect(inner.left, inner.top + i * row_h, inner.width, row_h), widths, g,
                   vertical=False) for i in range(len(shown) + 1)]
    cells = [session_cells(r, heel_target, hold_target_s) for r in shown]
    size = theme.common_size([(head, box) for (head, _), box in zip(SESSION_COLUMNS, lines[0],
                                                                     strict=True)], "small")
    # one size for the numbers; the exercise's name is cut short at that size rather than
    # shrinking the whole table
    body_size = theme.common_size([(text, box) for row, boxes in zip(cells, lines[1:],
                                                                     strict=True)
                                   for i, ((text, _), box) in enumerate(zip(row, boxes,
                                                                            strict=True))
                                   if i != _EXERCISE_COLUMN], "body")
    for (head, _), box in zip(SESSION_COLUMNS, lines[0], strict=True):
        theme.text(surface, head, box, "small", th.MUTED, align="left", max_size=size)
    for row, boxes in zip(cells, lines[1:], strict=True):
        for i, ((text, colour), box) in enumerate(zip(row, boxes, strict=True)):
            if i == _EXERCISE_COLUMN:
                line = theme.line(text, box.width, box.height, body_size, colour, body_size)
                theme.place(surface, line, box, "left", "center", text)
            else:
                theme.text(surface, text, box, "body", colour, align="left",
                           max_size=body_size)
    more = len(rows) - len(shown)
    if more > 0:
        last = lines[-1][0]
        foot = Rect(inner.left, last.bottom, inner.width, inner.bottom - last.bottom)
        if foot.height >= theme.px(18):
            theme.text(surface, f"and {more} older", foot, "small", th.MUTED, align="left")
    return len(shown)


def trend_parts(rect: Rect, theme: Theme) -> dict[str, Rect]:
    """A trend chart's title row, its plot (inset so the end points are whole) and the axis
    row under it."""
    inner = rect.inflate(-2 * theme.px(12), -2 * theme.px(6))
    title, plot, axis = split(inner, [theme.px(26), 0, theme.px(20)], theme.px(4),
                              vertical=True)
    inset = max(3, theme.px(5)) + 1
    return {"title": title, "plot": plot.inflate(-2 * inset, -2 * inset), "frame": plot,
            "axis": axis}


def trend_points(area: Rect, values: Sequence[float], top: float) -> list[tuple[int, int] | None]:
    """Where each session's point goes on a trend chart (oldest at the left, 0..``top`` up the
    ``area``); None for a session where the value was not measured (NaN)."""
    n = len(values)
    out: list[tuple[int, int] | None] = []
    for i, v in enumerate(values):
        if v is None or v != v:
            out.append(None)
            continue
        x = area.centerx if n == 1 else area.left + round(i * (area.width - 1) / (n - 1))
        f = 0.0 if top <= 0 else max(0.0, min(1.0, float(v) / top))
        out.append((x, area.bottom - 1 - round(f * (area.height - 1))))
    return out


def draw_trend(surface: pygame.Surface, rect: Rect, theme: Theme, title: str,
               values: Sequence[float], target: float | None, fmt,
               top: float | None = None) -> None:
    """One metric over the athlete's sessions (oldest left): a line through a point per
    session, green where it met ``target`` and amber where not, and the target as a dashed
    line."""
    draw_panel(surface, rect, theme)
    parts = trend_parts(rect, theme)
    area, axis = parts["plot"], parts["axis"]
    name_box, last_box = split(parts["title"], [0, theme.px(110)], theme.px(6), vertical=False)
    theme.text(surface, title, name_box, "small", th.MUTED, align="left")
    vals = [float(v) for v in values]
    known = [v for v in vals if v == v]
    if target is not None:
        theme.text(surface, f"target {fmt(target)}", last_box, "small", th.TEXT, align="right")
    if not known:
        theme.text(surface, "no sessions measured yet", area, "small", th.MUTED)
        return
    if top is None:
        top = max([*(known or [1.0]), (target or 0.0) * 1.25]) * 1.1
    with clipped(surface, parts["frame"]):
        if target is not None:
            ty = area.bottom - 1 - round(max(0.0, min(1.0, target / top)) * (area.height - 1))
            for x in range(area.left, area.right, theme.px(12)):
                pygame.draw.line(surface, th.TEXT, (x, ty),
                                 (min(x + theme.px(6), area.right - 1), ty), max(1, theme.px(2)))
        points = trend_points(area, vals, top)
        run: list[tuple[int, int]] = []
        width = max(2, theme.px(3))
        for p in [*points, None]:
            if p is None:
                if len(run) >= 2:
                    pygame.draw.lines(surface, th.INFO, False, run, width)
                run = []
            else:
                run.append(p)
        r = max(3, theme.px(5))
        for v, p in zip(vals, points, strict=True):
            if p is not None:
                ok = target is None or v >= target
                pygame.draw.circle(surface, th.GOOD if ok else th.WARN, p, r)
    left, right = split(axis, [0.5, 0], 0, vertical=False)
    theme.text(surface, "oldest", left, "small", th.MUTED, align="left")
    theme.text(surface, f"latest {fmt(known[-1]) if vals[-1] == vals[-1] else '--'}", right,
               "small", th.MUTED, align="right")

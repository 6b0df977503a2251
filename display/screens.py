"""The five screens: idle, ready, live set, set summary and plate fault.

Each screen draws a :class:`~station.view.ViewState`. What only changes with the athlete, the
exercise or the targets (header, labels, panels, buttons, the gauge's band) is drawn once into a
background surface per screen size and blitted; each frame then redraws only the widgets whose
values changed, first restoring their rect from the background, and reports those rects as
dirty. Touches are answered from the same button list that was drawn, so what a finger hits is
what the eye saw.

The idle and ready screens carry the discreet control (:func:`admin_button`): a dim gear in the
header's right corner that opens the coach's and staff's PIN pad after a long press, so an
athlete does not wander in by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pygame

from display import theme as th
from display import widgets as wd
from display.layout import Layout, grid, split
from display.widgets import Button
from station.view import LONG_PRESS_S, UICommand, ViewState

Rect = pygame.Rect


@dataclass
class Widget:
    """A part of a screen that changes: redrawn into ``rect`` when ``key`` changes."""

    name: str
    rect: Rect
    key: object
    draw: Callable[[pygame.Surface, Rect], None]


def context_line(view: ViewState) -> str:
    """The header's right side: who, the exercise and the side."""
    who = view.athlete or "Guest"
    side = "" if view.side in ("both", "") else f" - {view.side.capitalize()}"
    return f"{who} - {view.exercise_name}{side}"


def targets_lines(view: ViewState) -> list[tuple[str, str]]:
    """The coach's targets as (what, value) rows for the ready screen."""
    t = view.targets
    zone = "Heel" if t.drive_zone == "heel" else "Forefoot"
    rows = [("Reps", f"{t.reps} x {t.sets} sets"), ("Hold", f"{t.hold_s:.1f} s at the top"),
            (zone, f"{round(100 * t.share_min)}% or more")]
    if t.min_lower_s > 0:
        rows.append(("Lowering", f"{t.min_lower_s:.1f} s or slower"))
    return rows


class Screen:
    """Common machinery: the cached background, per-widget redraws and the button list."""

    name = ""

    def __init__(self, theme: th.Theme, layout: Layout):
        self.theme = theme
        self.layout = layout
        self._bg: pygame.Surface | None = None
        self._bg_key: object = None
        self._drawn: dict[str, object] = {}
        self._rects: dict[str, Rect] = {}

    # -- what each screen provides ------------------------------------------------------------
    def static_key(self, view: ViewState) -> tuple:
        """Everything :meth:`draw_static` depends on; a new key redraws the whole screen."""
        return (view.station_name, view.athlete, view.exercise_name, view.side)

    def draw_static(self, bg: pygame.Surface, view: ViewState) -> None:
        """Draw the parts that do not change from frame to frame."""

    def widgets(self, view: ViewState) -> list[Widget]:
        """The parts that change, with the values they show."""
        return []

    def buttons(self, view: ViewState) -> list[Button]:
        """The touch targets on this screen for ``view``."""
        return []

    def action(self, name: str) -> None:
        """A button that only concerns the display (turning a page) was tapped."""

    # -- machinery ----------------------------------------------------------------------------
    def forget(self) -> None:
        """The surface was drawn over: the next :meth:`draw` redraws everything."""
        self._drawn.clear()

    def background(self, like: pygame.Surface, view: ViewState) -> tuple[pygame.Surface, bool]:
        """The cached static background for ``view`` (rebuilt when its key changes), and
        whether it was rebuilt."""
        key = self.static_key(view)
        if self._bg is not None and key == self._bg_key and self._bg.get_bitsize() == \
                like.get_bitsize():
            return self._bg, False
        bg = pygame.Surface(self.layout.size, 0, like)
        bg.fill(th.BG)
        self.draw_static(bg, view)
        for button in self.buttons(view):
            wd.draw_button(bg, self.theme, button)
        self._bg, self._bg_key = bg, key
        return bg, True

    def draw(self, surface: pygame.Surface, view: ViewState, full: bool) -> list[Rect]:
        """Draw ``view``; with ``full`` (or a new background) everything, else only the widgets
        whose values changed. Returns the dirty rects."""
        bg, rebuilt = self.background(surface, view)
        dirty: list[Rect] = []
        if full or rebuilt:
            surface.blit(bg, (0, 0))
            self._drawn.clear()
            dirty.append(Rect(self.layout.screen))
        for widget in self.widgets(view):
            if widget.name in self._drawn and self._drawn[widget.name] == widget.key:
                continue
            surface.blit(bg, widget.rect, widget.rect)
            widget.draw(surface, widget.rect)
            self._drawn[widget.name] = widget.key
            self._rects[widget.name] = widget.rect
            if not dirty or dirty[0] != self.layout.screen:
                dirty.append(Rect(widget.rect))
        return dirty

    def restore(self, surface: pygame.Surface, rect: Rect) -> None:
        """Put the background back over ``rect`` (after an overlay went away); widgets it
        covers are redrawn on the next :meth:`draw`."""
        if self._bg is not None:
            surface.blit(self._bg, rect, rect)
            for widget_name, widget_rect in list(self._rects.items()):
                if widget_rect.colliderect(rect):
                    self._drawn.pop(widget_name, None)

    def hit(self, pos: tuple[int, int], view: ViewState) -> UICommand | None:
        for button in self.buttons(view):
            if button.rect.collidepoint(pos):
                if button.action is not None:
                    self.action(button.action)
                    return None
                return button.command
        return None

    def _header(self, bg: pygame.Surface, view: ViewState, context: str | None = None,
                room_for_admin: bool = False) -> None:
        parts = self.layout.header_parts()
        if room_for_admin:  # the context ends left of the discreet control
            gear = admin_button(self.layout).rect
            parts["context"].width = max(0, gear.left - self.layout.gap - parts["context"].left)
        wd.draw_header(bg, parts, self.theme, view.station_name,
                       context_line(view) if context is None else context)


def admin_button(layout: Layout) -> Button:
    """The discreet control: a dim gear in the header's right corner (hanging a little below
    it, to be a full touch target) that asks for the PIN pad after a long press."""
    side = layout.min_touch
    rect = Rect(layout.size[0] - side, 0, side, side)
    return Button(rect, "", UICommand("admin"), "discreet", hold_s=LONG_PRESS_S)


class IdleScreen(Screen):
    """What the station is, "step on to start", the exercise's set-up tips and a drawing."""

    name = "idle"

    def static_key(self, view):
        return (view.station_name, view.exercise_name, view.tips)

    def draw_static(self, bg, view):
        t, parts = self.theme, self.layout.idle()
        self._header(bg, view, "Force-plate coach: drive, hold, tempo", room_for_admin=True)
        t.text(bg, view.exercise_name, parts["title"], "title", th.TEXT, align="left")
        t.text(bg, "Step on the plate to start", parts["subtitle"], "large", th.ACCENT,
               align="left")
        tips = parts["tips"]
        if view.tips:
            rows = split(tips, [0] * len(view.tips), t.px(6), vertical=True)
            for i, (row, tip) in enumerate(zip(rows, view.tips, strict=True)):
                num, text = split(row, [t.px(40), 0], t.px(10), vertical=False)
                r = min(t.px(16), num.width // 2, max(4, row.height // 2))
                centre = (num.centerx, row.top + min(row.height // 2, t.px(18)))
                pygame.draw.circle(bg, th.INFO, centre, r)
                t.text(bg, str(i + 1), Rect(centre[0] - r, centre[1] - r, 2 * r, 2 * r),
                       "small", th.TEXT)
                t.paragraph(bg, tip, text, "body", th.TEXT, align="left", valign="top")
        wd.draw_hip_thrust(bg, parts["drawing"], t)

    def buttons(self, view):
        return [Button(self.layout.idle()["start"], "Tap to start",
                       UICommand("button_press"), "primary"), admin_button(self.layout)]


class ReadyScreen(Screen):
    """Who is training, the exercise and side, the coach's targets, and the start key.

    Rosters and exercise lists longer than fit are paged: the last cell becomes "More", which
    turns the page (a display-only action).
    """

    name = "ready"

    def __init__(self, theme, layout):
        super().__init__(theme, layout)
        self.roster_page = 0
        self.exercise_page = 0

    def static_key(self, view):
        return (view.station_name, view.athlete, view.exercise_id, view.exercise_name, view.side,
                view.sides, view.targets, view.roster, view.exercises, self.roster_page,
                self.exercise_page)

    def action(self, name):
        if name == "roster_more":
            self.roster_page += 1
        elif name == "exercise_more":
            self.exercise_page += 1

    def _paged(self, cells: list[Rect], items: list, page: int):
        """The items shown on ``page`` and whether a "More" cell is needed; wraps to page 0."""
        if not cells:
            return [], False, 0
        if len(items) <= len(cells):
            return items, False, 0
        per_page = max(1, len(cells) - 1)
        pages = -(-len(items) // per_page)
        page %= pages
        return items[page * per_page:(page + 1) * per_page], True, page

    def _cells(self, rect: Rect, cols: int) -> list[Rect]:
        g, bh = self.layout.gap, self.layout.button_h
        rows = max(1, (rect.height + g) // (bh + g))
        area = Rect(rect.left, rect.top, rect.width, rows * bh + (rows - 1) * g)
        return grid(area, rows, cols, g)

    def buttons(self, view):
        lay = self.layout.ready()
        out: list[Button] = []
        # who: "Guest" first, then the roster, paged
        cells = self._cells(lay["roster"], 3 if self.layout.portrait else 2)
        out.append(Button(cells[0], "Guest", UICommand("guest"),
                          "selected" if view.athlete is None else "normal"))
        cells = cells[1:]
        names, more, self.roster_page = self._paged(cells, list(view.roster), self.roster_page)
        for cell, (athlete_id, name) in zip(cells, names, strict=False):
            style = "selected" if name == view.athlete else "normal"
            out.append(Button(cell, name, UICommand("choose_athlete", athlete_id), style))
        if more:
            out.append(Button(cells[-1], "More...", None, "quiet", action="roster_more"))
        # what
        cells = self._cells(lay["exercises"], 2 if self.layout.portrait else 1)
        items, more, self.exercise_page = self._paged(cells, list(view.exercises),
                                                      self.exercise_page)
        for cell, (ex_id, name) in zip(cells, items, strict=False):
            style = "selected" if ex_id == view.exercise_id else "normal"
            out.append(Button(cell, name, UICommand("choose_exercise", ex_id), style))
        if more:
            out.append(Button(cells[-1], "More...", None, "quiet", action="exercise_more"))
        # side
        if len(view.sides) > 1:
            for cell, side in zip(split(lay["sides"], [0] * len(view.sides), self.layout.gap,
                                        vertical=False), view.sides, strict=True):
                style = "selected" if side == view.side else "normal"
                out.append(Button(cell, side.capitalize(), UICommand("choose_side", side), style))
        out.append(Button(lay["start"], "Start set", UICommand("start_set"), "primary"))
        out.append(Button(lay["home"], "Home", UICommand("home"), "quiet"))
        out.append(admin_button(self.layout))
        return out

    def draw_static(self, bg, view):
        t, lay = self.theme, self.layout.ready()
        self._header(bg, view, room_for_admin=True)
        t.text(bg, "Who is training? Tap your name", lay["who_label"], "body", th.MUTED,
               align="left")
        t.text(bg, "...or scan your badge", lay["badge_hint"], "body", th.MUTED, align="left")
        t.text(bg, "Exercise", lay["what_label"], "body", th.MUTED, align="left")
        if not view.exercises:
            box = Rect(lay["exercises"].left, lay["exercises"].top, lay["exercises"].width,
                       self.layout.button_h)
            wd.draw_panel(bg, box, t)
            t.text(bg, view.exercise_name, box.inflate(-t.px(16), 0), "large", th.TEXT)
        t.text(bg, "Side", lay["side_label"], "body", th.MUTED, align="left")
        if len(view.sides) <= 1:
            box = lay["sides"]
            word = "Both feet" if view.side in ("both", "") else view.side.capitalize()
            t.text(bg, word, box, "large", th.TEXT, align="left")
        t.text(bg, "Targets", lay["targets_label"], "body", th.MUTED, align="left")
        box = lay["targets"]
        wd.draw_panel(bg, box, t)
        rows = targets_lines(view)
        inner = box.inflate(-t.px(20), -t.px(12))
        row_h = min(t.px(44), inner.height // max(1, len(rows)))
        cells = []
        for i, (what, value) in enumerate(rows):
            row = Rect(inner.left, inner.top + i * row_h, inner.width, row_h)
            name, val = split(row, [0.42, 0], t.px(8), vertical=False)
            cells.append((name, what, val, value))
        # one size for the whole table, the largest at which every row fits
        size = t.common_size([(c[1], c[0]) for c in cells] + [(c[3], c[2]) for c in cells],
                             "body")
        for name, what, val, value in cells:
            t.text(bg, what, name, "body", th.MUTED, align="left", max_size=size)
            t.text(bg, value, val, "body", th.TEXT, align="right", max_size=size)


class LiveScreen(Screen):
    """The set in progress: where the load is, the gauge, the trace, reps, hold, cue, progress."""

    name = "live"

    def __init__(self, theme, layout):
        super().__init__(theme, layout)
        self._foot: wd.FootDrawing | None = None
        self._foot_key: object = None

    def static_key(self, view):
        return (view.station_name, view.athlete, view.exercise_name, view.side, view.sides,
                view.targets, view.four_cell)

    def foot(self, view: ViewState) -> wd.FootDrawing:
        """The foot drawing for the view's side and plate (cached)."""
        key = (view.side, view.four_cell)
        if self._foot is None or key != self._foot_key:
            self._foot = wd.FootDrawing(self.layout.live()["foot"], self.theme, view.side,
                                        view.four_cell)
            self._foot_key = key
        return self._foot

    def buttons(self, view):
        return [Button(self.layout.live()["end"], "End set", UICommand("end_set"), "danger")]

    def draw_static(self, bg, view):
        t, lay = self.theme, self.layout.live()
        self._header(bg, view)
        wd.draw_panel(bg, lay["foot"], t)
        wd.draw_gauge_static(bg, lay["gauge"], t, view.targets.share_min,
                             view.targets.drive_zone)
        wd.draw_trace_static(bg, lay["trace"], t)

    def widgets(self, view):
        t, lay, live, tg = self.theme, self.layout.live(), view.live, view.targets
        foot = self.foot(view)
        trace = live.trace
        n = len(trace.t)
        phase_word = th.PHASE_WORDS.get(live.phase, live.phase.capitalize())
        out = [
            Widget("foot", lay["foot"],
                   foot.key(live.heel_n, live.forefoot_n, live.cop_along, live.cop_across),
                   lambda s, r: foot.draw(s, t, live.heel_n, live.forefoot_n, live.cop_along,
                                          live.cop_across)),
            Widget("gauge", lay["gauge"],
                   wd.gauge_key(lay["gauge"], t, live.heel_share, tg.share_min, tg.drive_zone),
                   lambda s, r: wd.draw_gauge(s, r, t, live.heel_share, tg.share_min,
                                              tg.drive_zone)),
            Widget("trace", lay["trace"],
                   (n, float(trace.t[-1]) if n else None, round(live.load_n)),
                   lambda s, r: wd.draw_trace(s, r, t, trace, live.load_n)),
            Widget("reps", lay["reps"], (live.reps, tg.reps, live.good_reps),
                   lambda s, r: wd.draw_rep_counter(s, r, t, live.reps, tg.reps,
                                                    live.good_reps)),
            Widget("hold", lay["hold"], wd.hold_key(lay["hold"], t, live.hold_s, tg.hold_s),
                   lambda s, r: wd.draw_hold_timer(s, r, t, live.hold_s, tg.hold_s)),
            Widget("banner", lay["banner"],
                   (view.cue.kind, view.cue.text) if view.cue else phase_word,
                   lambda s, r: wd.draw_cue_banner(s, r, t, view.cue, phase_word)),
            Widget("progress", lay["progress"],
                   (live.set_index, tg.sets, view.side, live.side_index, view.sides),
                   lambda s, r: wd.draw_progress(s, r, t, live.set_index, tg.sets, view.side,
                                                 live.side_index, view.sides)),
        ]
        if "phase" in lay:
            out.append(Widget("phase", lay["phase"], phase_word,
                              lambda s, r: t.text(s, phase_word, r, "large",
                                                  th.PHASE_COLOURS.get(live.phase, th.TEXT))))
        return out


class SummaryScreen(Screen):
    """The set just done: counts, per-rep bars, the force-time chart, left vs right, keys."""

    name = "summary"

    def static_key(self, view):
        s = view.summary
        if s is None:
            return (view.station_name, view.athlete, view.exercise_name, view.side, None)
        n = len(s.trace.t)
        return (view.station_name, view.athlete, view.exercise_name, view.side, view.targets,
                s.reps, s.good_reps, tuple(s.bars), n, float(s.trace.t[-1]) if n else None,
                tuple(s.hold_spans), s.mean_heel_share, s.mean_hold_s, s.mean_lower_s,
                tuple(sorted(s.asymmetry.items())) if s.asymmetry else None)

    def buttons(self, view):
        lay = self.layout.summary()
        return [Button(lay["next"], "Next", UICommand("next"), "primary"),
                Button(lay["home"], "Done", UICommand("home"), "quiet")]

    def draw_static(self, bg, view):
        t, lay, s, tg = self.theme, self.layout.summary(), view.summary, view.targets
        self._header(bg, view)
        if s is None:
            t.text(bg, "No set to show", lay["chart"], "large", th.MUTED)
            return
        counts = lay["counts"]
        wd.draw_panel(bg, counts, t)
        label, big = split(counts.inflate(-t.px(14), -t.px(8)), [t.px(26), 0], 0, vertical=True)
        t.text(bg, "Set done", label, "body", th.MUTED, align="left")
        t.text(bg, summary_count_text(s.reps, s.good_reps), big, "title", th.TEXT)
        means = lay["means"]
        wd.draw_panel(bg, means, t)
        zone = "Heel" if tg.drive_zone == "heel" else "Forefoot"
        share = s.mean_heel_share
        if share is not None and tg.drive_zone != "heel":
            share = 1.0 - share
        rows = [
            (f"{zone} share", share, tg.share_min, lambda v: f"{round(100 * v)}%"),
            ("Hold", s.mean_hold_s, tg.hold_s, lambda v: f"{v:.1f} s"),
            ("Lowering", s.mean_lower_s, tg.min_lower_s, lambda v: f"{v:.1f} s"),
        ]
        inner = means.inflate(-t.px(16), -t.px(10))
        cells = split(inner, [0, 0, 0], t.px(4), vertical=True)
        for cell, (what, value, target, fmt) in zip(cells, rows, strict=True):
            name, val = split(cell, [0.55, 0], t.px(6), vertical=False)
            t.text(bg, what, name, "body", th.MUTED, align="left")
            if value is None:
                t.text(bg, "--", val, "large", th.MUTED, align="right")
            else:
                t.text(bg, fmt(value), val, "large", th.GOOD if value >= target else th.WARN,
                       align="right")
        wd.draw_force_chart(bg, lay["chart"], t, s.trace, s.hold_spans)
        shares = [b.heel_share for b in s.bars]
        if tg.drive_zone != "heel":
            shares = [None if v is None else 1.0 - v for v in shares]
        wd.draw_rep_bars(bg, lay["bars_share"], t, f"{zone} share per rep", shares,
                         tg.share_min, lambda v: f"{round(100 * v)}%", top=1.0)
        wd.draw_rep_bars(bg, lay["bars_hold"], t, "Hold per rep", [b.hold_s for b in s.bars],
                         tg.hold_s, lambda v: f"{v:.1f} s")
        wd.draw_rep_bars(bg, lay["bars_lower"], t, "Lowering per rep",
                         [b.lower_s for b in s.bars], tg.min_lower_s, lambda v: f"{v:.1f} s")
        wd.draw_sides_panel(bg, lay["sides"], t, s.asymmetry)


def summary_count_text(reps: int, good: int) -> str:
    """The summary's headline: good reps of reps done."""
    return f"{good} of {reps} good"


class FaultScreen(Screen):
    """A plate fault: what is wrong and what to do; it clears by itself when the fault does."""

    name = "fault"

    def static_key(self, view):
        f = view.fault
        return (view.station_name, None if f is None else (f.title, f.advice))

    def draw_static(self, bg, view):
        t, lay = self.theme, self.layout.fault()
        self._header(bg, view, "Plate fault")
        wd.draw_warning_sign(bg, lay["icon"], t)
        title = view.fault.title if view.fault else "The plate is not ready"
        advice = view.fault.advice if view.fault else "Wait a moment."
        t.text(bg, title, lay["title"], "title", th.WARN)
        t.paragraph(bg, advice, lay["advice"], "large", th.TEXT)
        t.text(bg, "This screen clears by itself when the plate is working again.",
               lay["note"], "body", th.MUTED)


SCREEN_CLASSES: dict[str, type[Screen]] = {
    cls.name: cls for cls in (IdleScreen, ReadyScreen, LiveScreen, SummaryScreen, FaultScreen)
}

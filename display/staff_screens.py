"""The staff's screens: usage today, station health, tare and calibration, export, volume.

Both draw only :attr:`ViewState.admin` (an :class:`~station.view.AdminView` with ``staff`` or
``calibrate`` set) and send only commands of ``station.view.ADMIN_COMMANDS``; the station
decides what they do. A view without its part (``admin`` None, as when the renderer warms every
screen at start-up) draws an empty page with no buttons.

* "staff": today's usage and the station's health (a row that is not ok in amber) on one side,
  the controls on the other: Tare, Calibrate, Export to USB (dim, with "Plug in a USB stick",
  when no stick is in; it still sends ``export_usb`` so the station can say why), volume - / +
  with the level between them, Mute (selected while muted), Leave kiosk (a long press, red) and
  Lock. The last action's note runs along the bottom.
* "calibrate": which step of how many, what to do (large), a bar while a reading is taken, why a
  reading was refused (red) or what was saved (green); Take reading, Cancel, Back.
"""

from __future__ import annotations

import pygame

from display import theme as th
from display import widgets as wd
from display.layout import Layout, split
from display.screens import Screen, Widget
from display.widgets import Button
from station.view import LONG_PRESS_S, CalibrateView, StaffView, UICommand, ViewState

Rect = pygame.Rect

#: Rows of a table are never drawn lower than this (800x480 pixels); more rows than fit are cut
#: and the last row says how many more there are.
MIN_ROW = 22
MAX_ROW = 40


def _parts(layout: Layout, cache: dict, name: str, make) -> dict[str, Rect]:
    """``make()``'s rects, computed once per screen; copies, so callers may change them."""
    if name not in cache:
        cache[name] = make()
    return {k: Rect(v) for k, v in cache[name].items()}


def staff_layout(layout: Layout) -> dict[str, Rect]:
    """Where the staff page's parts go: the tables' area, the controls, the note.

    Landscape screens put the two tables side by side over two rows of controls; portrait ones
    stack the tables over four rows of controls. The tables' own rects depend on how many rows
    each has (:func:`table_rects`)."""
    body, g, bh, px = layout.body, layout.gap, layout.button_h, layout.px
    main, note = split(body, [0, px(30)], g, vertical=True)
    side = max(bh, layout.min_touch)
    if layout.portrait:
        row_gap = px(12)
        info, controls = split(main, [0, 4 * bh + 3 * row_gap], px(16), vertical=True)
        rows = split(controls, [bh] * 4, row_gap, vertical=True)
        tare, calibrate = split(rows[0], [0, 0], g, vertical=False)
        export, usb = split(rows[1], [0.52, 0], px(12), vertical=False)
        vol_down, level, vol_up, mute = split(rows[2], [side, 0, side, 0.3], g, vertical=False)
        leave, lock = split(rows[3], [0.6, 0], g, vertical=False)
    else:
        info, controls = split(main, [0, 2 * bh + g], px(12), vertical=True)
        top, bottom = split(controls, [bh, bh], g, vertical=True)
        tare, calibrate, export, usb = split(top, [0.2, 0.22, 0.28, 0], g, vertical=False)
        vol_down, level, vol_up, mute, leave, lock = split(
            bottom, [side, 0, side, 0.15, 0.36, 0.15], g, vertical=False)
        usb = usb.inflate(-px(4), 0)
    return {"info": info, "tare": tare, "calibrate": calibrate, "export": export, "usb": usb,
            "volume_down": vol_down, "level": level, "volume_up": vol_up, "mute": mute,
            "leave": leave, "lock": lock, "note": note}


def table_rects(layout: Layout, info: Rect, today_rows: int,
                health_rows: int) -> dict[str, Rect]:
    """The two tables (with their labels) in ``info``: side by side on landscape screens, one
    over the other on portrait ones, each as tall as its rows need (in proportion)."""
    g, px = layout.gap, layout.px
    label_h = px(28)
    if layout.portrait:
        pad = px(10) + label_h + g
        a, b = max(1, today_rows), max(1, health_rows)
        room = info.height - px(14) - 2 * pad
        today_h = pad + room * a // (a + b)
        today, health = split(info, [today_h, 0], px(14), vertical=True)
    else:
        today, health = split(info, [0.5, 0], px(14), vertical=False)
    today_label, today_box = split(today, [label_h, 0], g, vertical=True)
    health_label, health_box = split(health, [label_h, 0], g, vertical=True)
    return {"today_label": today_label, "today": today_box, "health_label": health_label,
            "health": health_box}


def calibrate_layout(layout: Layout) -> dict[str, Rect]:
    """Where the calibration walk's parts go: step, prompt, progress bar, result, keys."""
    body, bh, px = layout.body.inflate(-layout.px(20), 0), layout.button_h, layout.px
    if layout.portrait:  # the prompt near the top, the keys at the bottom, room between
        step, prompt, progress, status, _, keys = split(
            body, [px(44), px(260), px(46), px(160), 0, bh], px(12), vertical=True)
    else:
        step, prompt, progress, status, keys = split(
            body, [px(40), 0, px(44), px(92), bh], px(10), vertical=True)
    if layout.portrait:
        back, cancel, take = split(keys, [0.28, 0.28, 0], px(12), vertical=False)
    else:
        back, _, cancel, take = split(keys, [0.18, 0, 0.22, 0.3], px(12), vertical=False)
    return {"step": step, "prompt": prompt, "progress": progress, "status": status,
            "back": back, "cancel": cancel, "take": take}


def volume_text(staff: StaffView) -> str:
    """The level between the - and + keys: "Volume 60%", or "Muted (60%)"."""
    return f"Muted ({staff.volume}%)" if staff.muted else f"Volume {staff.volume}%"


def usb_text(staff: StaffView) -> str:
    """Beside Export: where the CSV would go, or what to do first."""
    return "Plug in a USB stick" if staff.usb is None else f"To {staff.usb}"


def step_text(cal: CalibrateView) -> str:
    """"Calibration - step 2 of 3" (or "Tare - ...")."""
    what = "Tare" if cal.kind == "tare" else "Calibration"
    return f"{what} - step {cal.step} of {cal.steps}"


def draw_table(surface: pygame.Surface, rect: Rect, theme: th.Theme,
               rows: list[tuple[str, str, bool]], empty: str) -> None:
    """A panel of (what, value, ok) rows, one font size for all; a row that is not ok in amber.
    Rows beyond what fits are summed up in the last row ("+3 more")."""
    wd.draw_panel(surface, rect, theme)
    inner = rect.inflate(-theme.px(20), -theme.px(10))
    if not rows:
        theme.text(surface, empty, inner, "body", th.MUTED)
        return
    fit = max(1, inner.height // theme.px(MIN_ROW))
    if len(rows) > fit:
        rows = rows[:fit - 1] + [(f"+{len(rows) - fit + 1} more", "", True)]
    row_h = min(theme.px(MAX_ROW), inner.height // len(rows))
    cells = []
    for i, (what, value, ok) in enumerate(rows):
        row = Rect(inner.left, inner.top + i * row_h, inner.width, row_h)
        name, val = split(row, [0.5, 0], theme.px(8), vertical=False)
        cells.append((name, what, val, value, ok))
    # one size for the table, set by the names and the rows' height: a long value shrinks a
    # little on its own, then is cut short, rather than make every row hard to read
    size = theme.common_size([(c[1], c[0]) for c in cells], "body")
    for name, what, val, value, ok in cells:
        # the value may use the room the name leaves
        used = min(theme.extent(size, what)[0], name.width)
        val = Rect(name.left + used + theme.px(12), val.top,
                   val.right - name.left - used - theme.px(12), val.height)
        theme.text(surface, what, name, "body", th.MUTED if ok else th.WARN, align="left",
                   max_size=size)
        theme.text(surface, value, val, "body", th.TEXT if ok else th.WARN, align="right",
                   max_size=size)


class StaffScreen(Screen):
    """The staff's page: today, health, and the station's controls (see the module's doc)."""

    name = "staff"

    def __init__(self, theme, layout):
        super().__init__(theme, layout)
        self._cache: dict = {}

    def parts(self) -> dict[str, Rect]:
        return _parts(self.layout, self._cache, "staff", lambda: staff_layout(self.layout))

    def static_key(self, view):
        a = view.admin
        if a is None:
            return (view.station_name, None)
        return (view.station_name, a.role, a.title, a.staff, a.note)

    def buttons(self, view):
        staff = view.admin.staff if view.admin is not None else None
        if staff is None:
            return []
        p = self.parts()
        return [
            Button(p["tare"], "Tare", UICommand("tare")),
            Button(p["calibrate"], "Calibrate", UICommand("calibrate")),
            Button(p["export"], "Export to USB", UICommand("export_usb"),
                   "normal" if staff.usb is not None else "quiet"),
            Button(p["volume_down"], "-", UICommand("volume_down"),
                   "normal" if staff.volume > 0 else "quiet"),
            Button(p["volume_up"], "+", UICommand("volume_up"),
                   "normal" if staff.volume < 100 else "quiet"),
            Button(p["mute"], "Mute", UICommand("mute"), "selected" if staff.muted else "normal"),
            Button(p["leave"], "Hold to leave", UICommand("exit_kiosk"), "danger",
                   hold_s=LONG_PRESS_S),
            Button(p["lock"], "Lock", UICommand("lock"), "quiet"),
        ]

    def draw_static(self, bg, view):
        a = view.admin
        self._header(bg, view, "" if a is None else a.title)
        if a is None or a.staff is None:
            return
        t, p, staff = self.theme, self.parts(), a.staff
        tables = table_rects(self.layout, p["info"], len(staff.today), len(staff.health))
        t.text(bg, "Today", tables["today_label"], "body", th.MUTED, align="left")
        draw_table(bg, tables["today"], t, [(w, v, True) for w, v in staff.today],
                   "No sessions yet today")
        bad = sum(1 for _, _, ok in staff.health if not ok)
        t.text(bg, "Station health" + (f" - {bad} to look at" if bad else ": all good"),
               tables["health_label"], "body", th.WARN if bad else th.MUTED, align="left")
        draw_table(bg, tables["health"], t, list(staff.health), "Nothing measured yet")
        t.paragraph(bg, usb_text(staff), p["usb"], "body",
                    th.WARN if staff.usb is None else th.TEXT, align="left")
        t.text(bg, volume_text(staff), p["level"], "large",
               th.MUTED if staff.muted else th.TEXT)
        if a.note:
            t.text(bg, a.note, p["note"], "body", th.ACCENT, align="left")


class CalibrateScreen(Screen):
    """Tare or the calibration walk, one step at a time (see the module's doc)."""

    name = "calibrate"

    def __init__(self, theme, layout):
        super().__init__(theme, layout)
        self._cache: dict = {}

    def parts(self) -> dict[str, Rect]:
        return _parts(self.layout, self._cache, "calibrate",
                      lambda: calibrate_layout(self.layout))

    @staticmethod
    def _cal(view: ViewState) -> CalibrateView | None:
        return view.admin.calibrate if view.admin is not None else None

    def static_key(self, view):
        a, cal = view.admin, self._cal(view)
        if a is None:
            return (view.station_name, None)
        return (view.station_name, a.title, a.note, None if cal is None else (
            cal.kind, cal.step, cal.steps, cal.prompt, cal.error, cal.done, cal.progress > 0))

    def buttons(self, view):
        cal = self._cal(view)
        if cal is None:
            return []
        p = self.parts()
        out = [Button(p["back"], "Back", UICommand("back"),
                      "primary" if cal.done else "quiet")]
        if not cal.done:
            reading = cal.progress > 0
            out.append(Button(p["cancel"], "Cancel", UICommand("cal_cancel"), "normal"))
            out.append(Button(p["take"], "Reading..." if reading else "Take reading",
                              UICommand("cal_take"), "quiet" if reading else "primary"))
        return out

    def draw_static(self, bg, view):
        a, cal = view.admin, self._cal(view)
        self._header(bg, view, "" if a is None else a.title)
        if cal is None:
            return
        t, p = self.theme, self.parts()
        t.text(bg, step_text(cal), p["step"], "large", th.ACCENT, align="left")
        t.paragraph(bg, cal.prompt, p["prompt"], "title", th.TEXT)
        if cal.error:
            t.paragraph(bg, cal.error, p["status"], "large", th.BAD)
        elif cal.done:
            t.paragraph(bg, cal.done, p["status"], "large", th.GOOD)
        elif a.note:
            t.paragraph(bg, a.note, p["status"], "body", th.ACCENT)

    def widgets(self, view):
        cal = self._cal(view)
        if cal is None:
            return []
        rect = self.parts()["progress"]
        fill = progress_fill_width(rect, self.theme, cal)
        return [Widget("progress", rect, (fill, bool(cal.done)),
                       lambda s, r: draw_reading_bar(s, r, self.theme, cal))]


def progress_fill_width(rect: Rect, theme: th.Theme, cal: CalibrateView) -> int:
    """Pixels of the reading bar filled: the reading's progress, all of it once done."""
    inner = rect.inflate(-2 * theme.px(4), -2 * theme.px(4))
    done = 1.0 if cal.done else max(0.0, min(1.0, cal.progress))
    return round(inner.width * done)


def draw_reading_bar(surface: pygame.Surface, rect: Rect, theme: th.Theme,
                     cal: CalibrateView) -> None:
    """The reading being taken: a bar filling blue (green once saved), with words on it."""
    wd.draw_panel(surface, rect, theme, th.HOLD_TRACK)
    inner = rect.inflate(-2 * theme.px(4), -2 * theme.px(4))
    fill = progress_fill_width(rect, theme, cal)
    if fill > 0:
        pygame.draw.rect(surface, th.GOOD if cal.done else th.INFO_FILL,
                         Rect(inner.left, inner.top, fill, inner.height),
                         border_radius=theme.px(6))
    if cal.done:
        words, colour = "Saved", th.DARK_TEXT
    elif cal.progress > 0:
        words, colour = f"Reading... {round(100 * min(1.0, cal.progress))}% - keep still", th.TEXT
    else:
        words, colour = "Waiting for Take reading", th.MUTED
    theme.text(surface, words, inner.inflate(-theme.px(16), 0), "body", colour)


STAFF_SCREEN_CLASSES: dict[str, type[Screen]] = {
    cls.name: cls for cls in (StaffScreen, CalibrateScreen)
}

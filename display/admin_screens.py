"""The coach's screens: PIN pad, programs, the targets editor, athletes, history, keyboard.

Each page draws only what ``ViewState.admin`` (:class:`~station.view.AdminView`) says and sends
only the commands of :data:`station.view.ADMIN_COMMANDS`; ``station.admin`` does the rest. Every
page has the same frame: a header with the page's title, the last action's note and the role,
and a bar along the bottom with Back at the left and Lock at the right (the keyboard's own
bottom row has Cancel and Lock). Touch targets are at least a fingertip (``Layout.min_touch``),
nothing needs a double tap, and deleting a program or an athlete needs a long press
(``LONG_PRESS_S``). A - or + at its bound is drawn dim and sends nothing, so a value out of
bounds cannot be asked for.

What only the display cares about (a list's page, the keyboard's Shift and accented letters,
which setting's help is shown) is kept here as display-only actions; the button lists are cached
per static key, so a frame allocates nothing when nothing changed. An admin screen with
``admin=None`` (the renderer's warm-up) draws an empty page with Back and Lock.
"""

from __future__ import annotations

import math

import pygame

from display import theme as th
from display import widgets as wd
from display.layout import grid, split
from display.screens import Screen, Widget
from display.widgets import Button
from station.view import LONG_PRESS_S, AdminView, ListItem, UICommand, ViewState

Rect = pygame.Rect

ROLE_WORDS = {"coach": "Coach", "staff": "Staff"}
#: What the PIN pad asks for, by :attr:`PinView.stage`.
STAGE_WORDS = {"enter": "Enter the {role} PIN", "choose": "Choose a new {role} PIN",
               "confirm": "Type it again",
               "authorize": "Enter the {other} PIN first"}
#: The PIN pad's and the number pad's keys, row by row: (label, command kind, value).
PIN_KEYS = (*((str(d), "pin_digit", str(d)) for d in range(1, 10)),
            ("Delete", "pin_back", None), ("0", "pin_digit", "0"), ("OK", "pin_ok", None))
#: The on-screen keyboard's rows: (label, what it types or a display action, width in keys).
#: Landscape screens get QWERTY; a portrait screen is too narrow for ten keys a row at a
#: fingertip each, so it gets the letters in order, seven a row. The accents key (``@accents``)
#: shows a page of accented letters in the same places, for one letter; on landscape screens it
#: and "." sit in the bottom row (:data:`LANDSCAPE_BOTTOM`), the four rows above being full.
SHIFT = ("Shift", "@shift", 2.0)
ACCENTS_KEY = ("àé", "@accents", 1.0)   #: "abc" while the accents show
QWERTY_ROWS = (
    tuple((c, c, 1.0) for c in "1234567890"),
    tuple((c, c, 1.0) for c in "qwertyuiop"),
    tuple((c, c, 1.0) for c in "asdfghjkl-"),
    (SHIFT, *((c, c, 1.0) for c in "zxcvbnm'")),
)
ABC_ROWS = (
    tuple((c, c, 1.0) for c in "1234567"),
    (*((c, c, 1.0) for c in "890-'."), ACCENTS_KEY),
    tuple((c, c, 1.0) for c in "abcdefg"),
    tuple((c, c, 1.0) for c in "hijklmn"),
    tuple((c, c, 1.0) for c in "opqrstu"),
    (SHIFT, *((c, c, 1.0) for c in "vwxyz")),
)
#: The accented letters of names in the gym's languages (French, Spanish, Portuguese, German,
#: the Nordic, Polish, Czech, Turkish...): 38, as many as the letter keys of either layout.
ACCENTED = "àáâäãåæçèéêëìíîïñòóôöõøœùúûüýßčćšžłńřş"
ACCENT_QWERTY_ROWS = (
    tuple((c, c, 1.0) for c in ACCENTED[0:10]),
    tuple((c, c, 1.0) for c in ACCENTED[10:20]),
    tuple((c, c, 1.0) for c in ACCENTED[20:30]),
    (SHIFT, *((c, c, 1.0) for c in ACCENTED[30:38])),
)
ACCENT_ABC_ROWS = (
    tuple((c, c, 1.0) for c in ACCENTED[0:7]),
    (*((c, c, 1.0) for c in ACCENTED[7:13]), ACCENTS_KEY),
    tuple((c, c, 1.0) for c in ACCENTED[13:20]),
    tuple((c, c, 1.0) for c in ACCENTED[20:27]),
    tuple((c, c, 1.0) for c in ACCENTED[27:34]),
    (SHIFT, *((c, c, 1.0) for c in ACCENTED[34:38])),
)
#: The landscape keyboard's bottom row: (label, a command or what the key types, style, width).
LANDSCAPE_BOTTOM = (("Cancel", UICommand("kb_cancel"), "normal", 1.5),
                    ("Lock", UICommand("lock"), "quiet", 1.5),
                    (ACCENTS_KEY[0], "@accents", "quiet", 1.0),
                    ("Space", " ", "normal", 3.0),
                    (".", ".", "normal", 1.0),
                    ("OK", UICommand("kb_ok"), "primary", 2.0))
#: The number pad (badge numbers): three a row, 0 under 8.
DIGIT_ROWS = (tuple((c, c, 1.0) for c in "123"), tuple((c, c, 1.0) for c in "456"),
              tuple((c, c, 1.0) for c in "789"), (("0", "0", 1.0),))


def key_cells(rect: Rect, widths: tuple[float, ...], columns: int, gap: int) -> list[Rect]:
    """A row of keys ``widths`` (in keys) wide in ``rect``, which holds ``columns`` keys;
    a row of fewer keys is centred."""
    unit = (rect.width - (columns - 1) * gap) / columns
    spans = [w * unit + (w - 1) * gap for w in widths]
    total = sum(spans) + gap * (len(spans) - 1)
    x = rect.left + (rect.width - total) / 2
    out = []
    for span in spans:
        out.append(Rect(round(x), rect.top, round(x + span) - round(x), rect.height))
        x += span + gap
    return out


class AdminScreen(Screen):
    """The frame every coach/staff page shares, and the caching of its buttons."""

    name = ""

    def __init__(self, theme, layout):
        super().__init__(theme, layout)
        self._buttons_key: object = object()
        self._buttons: list[Button] = []
        self._note = Rect(layout.admin()["note"])   #: where the note goes, after the title

    # -- what each page provides ----------------------------------------------------------
    def page_key(self, view: ViewState, admin: AdminView) -> tuple:
        """Everything the page's static drawing and buttons depend on (besides the frame)."""
        return ()

    def page_buttons(self, view: ViewState, admin: AdminView) -> list[Button]:
        return []

    def draw_page(self, bg: pygame.Surface, view: ViewState, admin: AdminView) -> None:
        """The page's static parts, drawn before its buttons."""

    def draw_over(self, bg: pygame.Surface, view: ViewState, admin: AdminView) -> None:
        """What goes over the buttons once they are drawn (a list row's second line)."""

    def page_widgets(self, view: ViewState, admin: AdminView) -> list[Widget]:
        return []

    def title(self, admin: AdminView) -> str:
        """The header's title."""
        return admin.title

    def frame_buttons(self, view: ViewState) -> list[Button]:
        """Back at the left of the bar, Lock at its right."""
        lay = self.layout.admin()
        return [Button(lay["back"], "Back", UICommand("back"), "normal"),
                Button(lay["lock"], "Lock", UICommand("lock"), "quiet")]

    # -- the machinery ----------------------------------------------------------------------
    def static_key(self, view):
        a = view.admin
        if a is None:
            return (view.station_name, None)
        return (view.station_name, a.role, a.title, self.page_key(view, a))

    def buttons(self, view):
        key = self.static_key(view)
        if key != self._buttons_key:
            out = self.frame_buttons(view)
            if view.admin is not None:
                out += self.page_buttons(view, view.admin)
            self._buttons, self._buttons_key = out, key
        return self._buttons

    def background(self, like, view):
        bg, rebuilt = super().background(like, view)
        if rebuilt and view.admin is not None:
            self.draw_over(bg, view, view.admin)
        return bg, rebuilt

    def draw_static(self, bg, view):
        a = view.admin
        lay = self.layout.admin()
        title = self.title(a) if a is not None else ""
        role = ROLE_WORDS.get(a.role or "", "") if a is not None else ""
        drawn = wd.draw_admin_header(bg, lay, self.theme, title, role)
        # the note has the header from the title's end to the role
        left = max(drawn.right, lay["title"].left) + self.layout.gap * 2
        self._note = Rect(left, lay["note"].top, lay["role"].left - self.layout.gap - left,
                          lay["note"].height)
        if a is not None:
            self.draw_page(bg, view, a)

    def widgets(self, view):
        a = view.admin
        if a is None:
            return []
        t, note = self.theme, a.note
        out = [Widget("note", self._note, note,
                      lambda s, r: wd.draw_note(s, r, t, note))]
        return out + self.page_widgets(view, a)


# ------------------------------------------------------------------------------- PIN pad
class PinScreen(AdminScreen):
    """The PIN pad: Coach | Staff tabs, what to type, a dot per digit, the keypad, and the
    error or the lockout's countdown (the keypad is dim and sends nothing while locked)."""

    name = "pin"

    def page_key(self, view, admin):
        p = admin.pin
        return None if p is None else (p.role, p.stage, p.locked_s > 0)

    def page_buttons(self, view, admin):
        p = admin.pin
        if p is None:
            return []
        lay, g = self.layout.admin_pin(), self.layout.gap
        out = []
        for cell, role in zip(split(lay["tabs"], [0, 0], g, vertical=False), ("coach", "staff"),
                              strict=True):
            out.append(Button(cell, ROLE_WORDS[role], UICommand("pin_role", role),
                              "selected" if p.role == role else "normal"))
        locked = p.locked_s > 0
        for cell, (label, kind, value) in zip(grid(lay["keypad"], 4, 3, g), PIN_KEYS,
                                              strict=True):
            if locked:
                out.append(Button(cell, label, None, "dim"))
            else:
                style = "primary" if kind == "pin_ok" else "quiet" if kind == "pin_back" \
                    else "normal"
                out.append(Button(cell, label, UICommand(kind, value), style))
        return out

    def draw_page(self, bg, view, admin):
        p = admin.pin
        if p is None:
            return
        lay = self.layout.admin_pin()
        other = next((r for r in ROLE_WORDS if r != p.role), p.role)
        words = STAGE_WORDS.get(p.stage, "Enter the {role} PIN").format(
            role=ROLE_WORDS.get(p.role, p.role).lower(), other=ROLE_WORDS[other].lower())
        self.theme.text(bg, words, lay["stage"], "large", th.TEXT)

    def page_widgets(self, view, admin):
        p = admin.pin
        if p is None:
            return []
        t, lay = self.theme, self.layout.admin_pin()
        locked = p.locked_s > 0
        if locked:
            message = f"Too many wrong PINs: try again in {math.ceil(p.locked_s)} s"
            colour = th.WARN
        else:
            message, colour = p.error or "", th.BAD
        return [
            Widget("dots", lay["dots"], (p.typed, locked),
                   lambda s, r: wd.draw_pin_dots(s, r, t, p.typed, dim=locked)),
            Widget("message", lay["message"], (message, colour),
                   lambda s, r: t.paragraph(s, message, r, "large", colour, valign="top")
                   if message else None),
        ]


# ------------------------------------------------------------------------------- lists
class ListScreen(AdminScreen):
    """A paged list of :class:`ListItem` rows (two lines: label and detail); the last cell
    turns the page when they do not all fit."""

    #: The command a row sends when its item carries none: ("open", prefix + id).
    open_prefix = ""
    empty_words = "Nothing here yet"

    def __init__(self, theme, layout):
        super().__init__(theme, layout)
        self.page = 0
        self._pages = 1
        self._rows: list[tuple[Button, str]] = []   #: the rows shown and their details

    def action(self, name):
        if name == "more":
            self.page = (self.page + 1) % max(1, self._pages)

    def page_key(self, view, admin):
        return (admin.items, self.page)

    def item_command(self, item: ListItem) -> UICommand:
        return item.command or UICommand("open", f"{self.open_prefix}{item.id}")

    def bar_actions(self, view, admin) -> list[tuple[str, UICommand, str]]:
        """The page's actions in the bar: (label, command, style)."""
        return []

    def _items(self, view, admin) -> list[ListItem]:
        """The rows to list: the items, less those that only repeat a bar action (the
        station may list "New program" or "Add athlete" among them)."""
        bar = {command for _, command, _ in self.bar_actions(view, admin)}
        return [item for item in admin.items if item.command is None or item.command not in bar]

    def page_buttons(self, view, admin):
        cells = self.layout.list_cells(self.layout.admin_list()["list"])
        items = self._items(view, admin)
        out: list[Button] = []
        if len(items) > len(cells):
            per = max(1, len(cells) - 1)
            self._pages = -(-len(items) // per)
            self.page %= self._pages
            shown = items[self.page * per:(self.page + 1) * per]
            out.append(Button(cells[-1], f"More ({self.page + 1} of {self._pages})", None,
                              "quiet", action="more"))
        else:
            self._pages, self.page, shown = 1, 0, items
        self._rows = []
        for cell, item in zip(cells, shown, strict=False):
            button = Button(cell, item.label, self.item_command(item),
                            "selected" if item.selected else "normal")
            out.append(button)
            self._rows.append((button, item.detail))
        actions = self.bar_actions(view, admin)
        if actions:
            cells = split(self.layout.admin()["actions"], [0] * len(actions), self.layout.gap,
                          vertical=False)
            for cell, (label, command, style) in zip(cells, actions, strict=True):
                out.append(Button(cell, label, command, style))
        return out

    def draw_page(self, bg, view, admin):
        if not self._items(view, admin):
            box = self.layout.admin_list()["list"].inflate(-self.theme.px(40), 0)
            self.theme.paragraph(bg, self.empty_words, box, "large", th.MUTED)

    def draw_over(self, bg, view, admin):
        self.buttons(view)
        for button, detail in self._rows:
            wd.draw_list_row(bg, self.theme, button, detail)


class CoachScreen(ListScreen):
    """The coach's home: the programs (the station's is selected), New program, Athletes."""

    name = "coach"
    open_prefix = "program:"
    empty_words = "No programs yet: tap New program to make one from the exercise's targets"

    def bar_actions(self, view, admin):
        return [("New program", UICommand("open", "new_program"), "primary"),
                ("Athletes", UICommand("open", "athletes"), "normal")]


class AthletesScreen(ListScreen):
    """The roster, paged: a row per athlete (name, badge and program), and Add athlete."""

    name = "athletes"
    open_prefix = "athlete:"
    empty_words = "No athletes yet: tap Add athlete, or import a roster CSV"

    def bar_actions(self, view, admin):
        return [("Add athlete", UICommand("new_athlete"), "primary")]


# ------------------------------------------------------------------------------- program
class ProgramScreen(AdminScreen):
    """The targets editor: the name (tap to rename), a row per target with - and +, the help
    of the row last touched, Save, Use for the whole station, Delete (long press)."""

    name = "program"

    def __init__(self, theme, layout):
        super().__init__(theme, layout)
        self.focus: str | None = None    #: the setting whose help is shown
        self.page = 0

    def action(self, name):
        if name.startswith("help:"):
            self.focus = name[5:]
        elif name == "more":
            self.page += 1

    def hit(self, pos, view):
        command = super().hit(pos, view)
        if command is not None and command.kind in ("setting_down", "setting_up"):
            self.focus = command.value
        return command

    def page_key(self, view, admin):
        return (admin.program, self.page, self._focus(admin.program))

    def _focus(self, program) -> str | None:
        """The setting whose help is shown: the last touched, else the first."""
        if program is None or not program.rows:
            return None
        keys = [r.key for r in program.rows]
        return self.focus if self.focus in keys else keys[0]

    def _rows_shown(self, program):
        """The rows on this page, their cells and the page-turning cell (or None)."""
        rows = list(program.rows)
        cells, paged = self.layout.setting_cells(len(rows))
        if not paged:
            self.page = 0
            return rows, cells, None
        per = len(cells) - 1
        pages = -(-len(rows) // per)
        self.page %= pages
        return rows[self.page * per:(self.page + 1) * per], cells, cells[-1]

    def page_buttons(self, view, admin):
        p = admin.program
        if p is None:
            return []
        lay = self.layout.admin_program()
        out = [Button(lay["name"], p.name or "Unnamed program", UICommand("rename"), "normal")]
        rows, cells, more = self._rows_shown(p)
        for row, cell in zip(rows, cells, strict=False):
            parts = self.layout.setting_parts(cell)
            help_action = f"help:{row.key}"
            out.append(Button(parts["text"], row.label, None, "normal", action=help_action))
            for part, label, kind, can in (("down", "-", "setting_down", row.can_down),
                                           ("up", "+", "setting_up", row.can_up)):
                if can:
                    out.append(Button(parts[part], label, UICommand(kind, row.key), "normal"))
                else:
                    out.append(Button(parts[part], label, None, "dim", action=help_action))
        if more is not None:
            out.append(Button(more, "More settings", None, "quiet", action="more"))
        g = self.layout.gap
        save, station, delete = split(lay["actions"], [0, 0, 0], g, vertical=False)
        out.append(Button(save, "Save", UICommand("save"), "primary" if p.changed else "normal"))
        if p.program_id is None:
            out.append(Button(station, "Save it first to use it", None, "dim"))
            out.append(Button(delete, "Hold to delete", None, "dim"))
        else:
            out.append(Button(station, "Use for the whole station",
                              UICommand("station_program", p.program_id),
                              "selected" if p.for_station else "normal"))
            out.append(Button(delete, "Hold to delete", UICommand("delete"), "danger",
                              hold_s=LONG_PRESS_S))
        return out

    def draw_over(self, bg, view, admin):
        p = admin.program
        if p is None:
            return
        t = self.theme
        name = self.layout.admin_program()["name"]
        for b in self.buttons(view):
            if b.rect == name:
                wd.draw_list_row(bg, t, b, "Name - tap to rename")
        rows, cells, _ = self._rows_shown(p)
        focus = self._focus(p)
        for row, cell in zip(rows, cells, strict=False):
            wd.draw_setting_text(bg, self.layout.setting_parts(cell)["text"], t, row.label,
                                 row.value, focused=row.key == focus)

    def page_widgets(self, view, admin):
        p = admin.program
        if p is None:
            return []
        t = self.theme
        focus = self._focus(p)
        row = next((r for r in p.rows if r.key == focus), None)
        help_text = f"{row.label}: {row.help}" if row is not None and row.help else \
            "Tap a target's name to see what it does"
        state = "Not saved yet" if p.changed else "Saved"
        if p.for_station:
            state += " - the station's program"
        if p.used_by:
            state += f" - used by {p.used_by} athlete{'s' if p.used_by != 1 else ''}"
        box = self.layout.admin_program()["info"]

        def draw(s, r):
            wd.draw_panel(s, r, t)
            inner = r.inflate(-2 * t.px(12), -t.px(8))
            top, bottom = split(inner, [t.px(24), 0], t.px(2), vertical=True)
            t.text(s, state, top, "small", th.WARN if p.changed else th.GOOD, align="left")
            t.paragraph(s, help_text, bottom, "small", th.TEXT, align="left", valign="top")

        return [Widget("info", box, (state, help_text, p.changed), draw)]


# ------------------------------------------------------------------------------- athlete
class AthleteScreen(AdminScreen):
    """One athlete: name, badge and program; Rename, Set badge (or scan it now), the program
    (each tap moves to the next one), History, and Delete (long press)."""

    name = "athlete"

    def page_key(self, view, admin):
        return (admin.athlete, admin.items)

    def _program_cycle(self, admin) -> tuple[str, UICommand]:
        """The program button's second line and command: the next of the programs offered
        (without a list of them, ``assign`` with no value: the station's next program)."""
        items = list(admin.items)
        if not items:
            return "Tap for the next program", UICommand("assign")
        current = next((i for i, item in enumerate(items) if item.selected), -1)
        nxt = items[(current + 1) % len(items)]
        return f"Tap for: {nxt.label}", nxt.command or UICommand("assign", nxt.id)

    def page_buttons(self, view, admin):
        if admin.athlete is None:
            return []
        athlete_id = admin.athlete[0]
        lay, g = self.layout.admin_athlete(), self.layout.gap
        rename, badge, program, history = split(lay["buttons"], [0, 0, 0, 0], g, vertical=True)
        _, command = self._program_cycle(admin)
        out = [Button(rename, "Rename", UICommand("rename"), "normal"),
               Button(badge, "Set badge", UICommand("set_badge"), "normal"),
               Button(program, "Change program", command, "normal"),
               Button(history, "History", UICommand("open", f"history:{athlete_id}"), "normal")]
        cell = self.layout.admin()["actions"]   # away from Back; all of it on a narrow screen
        if not self.layout.portrait:
            cell = split(cell, [0, 0], g, vertical=False)[1]
        out.append(Button(cell, "Hold to delete", UICommand("delete"), "danger",
                          hold_s=LONG_PRESS_S))
        return out

    def draw_page(self, bg, view, admin):
        t, lay = self.theme, self.layout.admin_athlete()
        box = lay["info"]
        wd.draw_panel(bg, box, t)
        if admin.athlete is None:
            t.text(bg, "No athlete chosen", box, "large", th.MUTED)
            return
        _, name, badge, program = admin.athlete
        inner = box.inflate(-2 * t.px(16), -2 * t.px(10))
        name_box, rows = split(inner, [t.px(60), 0], t.px(8), vertical=True)
        t.text(bg, name, name_box, "title", th.TEXT, align="left")
        lines = [("Badge", badge or "none yet", "Tap Set badge, or scan the badge now"),
                 ("Program", program or "the station's", "")]
        cells = split(rows, [0, 0], t.px(8), vertical=True)
        size = t.common_size([(w, c) for (w, _, _), c in zip(lines, cells, strict=True)],
                             "small")
        for cell, (what, value, hint) in zip(cells, lines, strict=True):
            head, val, note = split(cell, [t.px(26), t.px(40), 0], t.px(2), vertical=True)
            t.text(bg, what, head, "small", th.MUTED, align="left", max_size=size)
            t.text(bg, value, val, "large", th.TEXT, align="left")
            if hint:
                t.text(bg, hint, note, "small", th.ACCENT, align="left", valign="top")

    def draw_over(self, bg, view, admin):
        if admin.athlete is None:
            return
        detail, _ = self._program_cycle(admin)
        for b in self.buttons(view):
            if b.label == "Change program":
                wd.draw_list_row(bg, self.theme, b, detail, align="center")


# ------------------------------------------------------------------------------- history
class HistoryScreen(AdminScreen):
    """An athlete's last sessions (a table, newest first) and the trend of heel share and hold
    time against their targets (oldest at the left)."""

    name = "history"

    def page_key(self, view, admin):
        h = admin.history
        if h is None:
            return None
        return (h.athlete, h.rows, h.trend_heel_share.tobytes(), h.trend_hold_s.tobytes(),
                h.heel_target, h.hold_target_s)

    def draw_page(self, bg, view, admin):
        h = admin.history
        t, lay = self.theme, self.layout.admin_history()
        if h is None:
            t.text(bg, "No history to show", self.layout.admin()["content"], "large", th.MUTED)
            return
        wd.draw_session_table(bg, lay["table"], t, h.rows, h.heel_target, h.hold_target_s)
        wd.draw_trend(bg, lay["share"], t, "Heel share per session", h.trend_heel_share,
                      h.heel_target, lambda v: f"{round(100 * v)}%", top=1.0)
        wd.draw_trend(bg, lay["hold"], t, "Hold at the top per session", h.trend_hold_s,
                      h.hold_target_s, lambda v: f"{v:.1f} s")


# ------------------------------------------------------------------------------- keyboard
def _upper(c: str) -> str:
    """What a key types under Shift: the capital of a letter that has a one-letter capital
    (not "ß", whose capital is "SS")."""
    return c.upper() if len(c) == 1 and c.isalpha() and len(c.upper()) == 1 else c


class KeyboardScreen(AdminScreen):
    """The on-screen keyboard: the text with a caret, the keys (a number pad for badge
    numbers), Delete, Cancel, Lock, Space and OK. Shift and the accents key are the display's
    own: Shift changes what the letter keys type, the accents key shows accented letters, each
    for one letter (the accents key again goes back)."""

    name = "keyboard"

    def __init__(self, theme, layout):
        super().__init__(theme, layout)
        self.shift = False
        self.accents = False

    def action(self, name):
        if name == "@shift":
            self.shift = not self.shift
        elif name == "@accents":
            self.accents = not self.accents

    def hit(self, pos, view):
        command = super().hit(pos, view)
        if command is not None and command.kind == "kb_key":
            if (command.value or "").isalpha():
                self.shift = False
            self.accents = False
        return command

    def _rows(self, digits: bool):
        if digits:
            return DIGIT_ROWS, 3
        if self.layout.portrait:
            return (ACCENT_ABC_ROWS if self.accents else ABC_ROWS), 7
        return (ACCENT_QWERTY_ROWS if self.accents else QWERTY_ROWS), 10

    def title(self, admin):
        return admin.keyboard.title if admin.keyboard is not None else admin.title

    def page_key(self, view, admin):
        k = admin.keyboard
        return None if k is None else (k.title, k.digits, self.shift, self.accents,
                                       self._full(k))

    @staticmethod
    def _full(k) -> bool:
        """The text is as long as it may be: the character keys go dim and send nothing."""
        return len(k.text) >= k.max_len

    def frame_buttons(self, view):
        a = view.admin
        if a is None or a.keyboard is None:
            return super().frame_buttons(view)
        return []

    def page_buttons(self, view, admin):
        k = admin.keyboard
        if k is None:
            return []
        rows, columns = self._rows(k.digits)
        lay, g = self.layout.admin_keyboard(len(rows)), self.layout.px(6)
        full = self._full(k)
        out = [Button(lay["delete"], "Delete", UICommand("kb_back"), "quiet")]
        keys = lay["keys"]
        if k.digits:  # a pad of three keys a row, as wide as a phone's
            width = min(keys.width, 3 * self.layout.px(150) + 2 * g)
            keys = Rect(keys.centerx - width // 2, keys.top, width, keys.height)
        for row_rect, row in zip(split(keys, [0] * len(rows), g, vertical=True), rows,
                                 strict=True):
            for cell, (label, value, _) in zip(key_cells(row_rect, tuple(w for *_, w in row),
                                                         columns, g), row, strict=True):
                out.append(self._key(cell, label, value, full))
        if k.digits:
            bottom = (("Cancel", UICommand("kb_cancel"), "normal", 2.0),
                      ("Lock", UICommand("lock"), "quiet", 2.0),
                      ("OK", UICommand("kb_ok"), "primary", 2.0))
            units = 6
        elif columns == 10:
            bottom, units = LANDSCAPE_BOTTOM, columns
        else:
            bottom = (("Cancel", UICommand("kb_cancel"), "normal", 1.5),
                      ("Lock", UICommand("lock"), "quiet", 1.5),
                      ("Space", " ", "normal", 2.0),
                      ("OK", UICommand("kb_ok"), "primary", 2.0))
            units = columns
        cells = key_cells(lay["bottom"], tuple(b[3] for b in bottom), units, g)
        for cell, (label, command, style, _) in zip(cells, bottom, strict=True):
            if isinstance(command, str):   # a key: it types, or is the display's own
                out.append(self._key(cell, label, command, full))
            else:
                out.append(Button(cell, label, command, style))
        return out

    def _key(self, cell: Rect, label: str, value: str, full: bool) -> Button:
        """One key: Shift or the accents key (the display's own, lit while on), or a key that
        types ``value`` (under Shift its capital), dim and silent when the text is full."""
        if value == "@shift":
            return Button(cell, label, None, "selected" if self.shift else "quiet",
                          action=value)
        if value == "@accents":
            return Button(cell, "abc" if self.accents else label, None,
                          "selected" if self.accents else "quiet", action=value)
        if self.shift:
            value, label = _upper(value), _upper(label)
        if full:
            return Button(cell, label, None, "dim")
        return Button(cell, label, UICommand("kb_key", value), "normal")

    def draw_page(self, bg, view, admin):
        k = admin.keyboard
        if k is None:
            return
        rows, _ = self._rows(k.digits)
        prompt = self.layout.admin_keyboard(len(rows))["prompt"]
        if prompt.height >= self.layout.button_h:  # a tall screen: the title over the field
            self.theme.paragraph(bg, k.title, prompt.inflate(-self.theme.px(20), 0), "title",
                                 th.TEXT, valign="bottom")

    def page_widgets(self, view, admin):
        k = admin.keyboard
        if k is None:
            return []
        t = self.theme
        rows, _ = self._rows(k.digits)
        field = self.layout.admin_keyboard(len(rows))["field"]
        return [Widget("field", field, (k.text, k.error, k.max_len),
                       lambda s, r: wd.draw_text_field(s, r, t, k.text, k.max_len, k.error))]


ADMIN_SCREEN_CLASSES: dict[str, type[Screen]] = {
    cls.name: cls for cls in (PinScreen, CoachScreen, ProgramScreen, AthletesScreen,
                              AthleteScreen, HistoryScreen, KeyboardScreen)
}

"""One layout for every screen, computed from the screen size.

The same code places the widgets on the 7" 800x480 panel, the 720x1280 portrait Touch Display 2,
and 1280x720 / 1920x1080 HDMI screens: landscape screens put things side by side, portrait ones
stack them. Sizes are in units of the 800x480 panel (``unit`` 1.0 there), so a touch target of
64 units is 64 px (about 9.8 mm) on the 7" panel and grows with the screen.
"""

from __future__ import annotations

import pygame

Rect = pygame.Rect

#: Smallest touch target, in 800x480 pixels: about 9 mm on the 7" panel.
MIN_TOUCH = 60
#: Height of an ordinary button, in 800x480 pixels.
BUTTON_H = 64


def split(rect: Rect, parts: list[float], gap: int, vertical: bool) -> list[Rect]:
    """Cut ``rect`` into pieces along one axis, ``gap`` pixels apart.

    Each part is a fraction of the room left after the gaps when < 1, a fixed size in pixels
    when >= 1, or 0 for an equal share of what the fixed and fractional parts leave.
    """
    total = rect.height if vertical else rect.width
    room = total - gap * (len(parts) - 1)
    fixed = sum(p for p in parts if p >= 1)
    frac_room = room - fixed
    sizes = [int(p) if p >= 1 else int(frac_room * p) if p > 0 else 0 for p in parts]
    flexible = [i for i, p in enumerate(parts) if p == 0]
    if flexible:
        share = max(0, room - sum(sizes)) // len(flexible)
        for i in flexible:
            sizes[i] = share
    out = []
    pos = rect.top if vertical else rect.left
    for size in sizes:
        size = max(0, size)
        if vertical:
            out.append(Rect(rect.left, pos, rect.width, size))
        else:
            out.append(Rect(pos, rect.top, size, rect.height))
        pos += size + gap
    return out


def grid(rect: Rect, rows: int, cols: int, gap: int) -> list[Rect]:
    """``rows`` x ``cols`` equal cells in ``rect``, row by row."""
    cells = []
    for row in split(rect, [0] * rows, gap, vertical=True):
        cells.extend(split(row, [0] * cols, gap, vertical=False))
    return cells


class Layout:
    """Where each screen's parts go at one screen size.

    Each ``<screen>()`` method returns a dict of named rects; they are computed once here and
    the screens only look them up. ``portrait`` is true when the screen is taller than wide.
    """

    def __init__(self, size: tuple[int, int]):
        w, h = size
        if w <= 0 or h <= 0:
            raise ValueError(f"screen size must be positive, got {w}x{h}")
        self.size = (w, h)
        self.screen = Rect(0, 0, w, h)
        self.portrait = h > w
        self.unit = min(max(w, h) / 800, min(w, h) / 480)
        self.gap = self.px(8)
        self.margin = self.px(10)
        self.button_h = self.px(BUTTON_H)
        self.min_touch = self.px(MIN_TOUCH)
        header_h = self.px(48)
        self.header = Rect(0, 0, w, header_h)
        self.body = Rect(self.margin, header_h + self.gap, w - 2 * self.margin,
                         h - header_h - self.gap - self.margin)
        self._cache: dict[str, dict[str, Rect]] = {}

    def px(self, value: float) -> int:
        """``value`` pixels of the 800x480 panel at this screen's scale."""
        return max(1, round(value * self.unit))

    def _memo(self, name: str, make) -> dict[str, Rect]:
        if name not in self._cache:
            self._cache[name] = make()
        return {k: Rect(v) for k, v in self._cache[name].items()}

    def header_parts(self) -> dict[str, Rect]:
        """The header: station name on the left, who/what/side on the right."""
        def make():
            inner = self.header.inflate(-2 * self.margin, -self.px(8))
            left, right = split(inner, [0.34, 0], self.gap, vertical=False)
            return {"header": Rect(self.header), "station": left, "context": right}
        return self._memo("header", make)

    # -- screens --------------------------------------------------------------------------
    def idle(self) -> dict[str, Rect]:
        """Idle: what the station is, "step on to start", the tips, the drawing, a start key."""
        def make():
            body, g = self.body, self.gap
            if self.portrait:
                title, sub, drawing, tips, start = split(
                    body, [self.px(60), self.px(44), 0.42, 0, self.button_h + self.px(16)], g,
                    vertical=True)
            else:
                left, drawing = split(body, [0.52, 0], self.px(16), vertical=False)
                title, sub, tips, start = split(
                    left, [self.px(56), self.px(44), 0, self.button_h + self.px(16)], g,
                    vertical=True)
            start = Rect(0, 0, min(start.width, self.px(300)), self.px(BUTTON_H + 16)).move(
                start.left, start.top)
            if self.portrait:
                start.centerx = body.centerx
            return {"title": title, "subtitle": sub, "tips": tips, "drawing": drawing,
                    "start": start}
        return self._memo("idle", make)

    def ready(self) -> dict[str, Rect]:
        """Ready: who (roster, guest, badge), exercise and side, targets and start."""
        def make():
            body, g, bh = self.body, self.gap, self.button_h
            label_h = self.px(30)
            hint_h = self.px(28)
            big = self.px(14)

            def rows(n: int) -> int:
                return n * bh + (n - 1) * g

            if self.portrait:
                who_h = label_h + rows(2) + hint_h + 2 * g
                what_h = label_h + rows(2) + g
                who, what, side, targets, actions = split(
                    body, [who_h, what_h, label_h + bh + g, 0, self.px(BUTTON_H + 24)], big,
                    vertical=True)
            else:
                who, mid, right = split(body, [0.40, 0.30, 0], big, vertical=False)
                what, side = split(mid, [0, label_h + bh + g], self.px(12), vertical=True)
                targets, actions = split(right, [0, self.px(BUTTON_H + 24) + bh + g],
                                         g, vertical=True)
            who_label, roster, hint = split(who, [label_h, 0, hint_h], g, vertical=True)
            what_label, exercises = split(what, [label_h, 0], g, vertical=True)
            side_label, sides = split(side, [label_h, bh], g, vertical=True)
            targets_label, targets_box = split(targets, [label_h, 0], g, vertical=True)
            if self.portrait:
                home, start = split(actions, [0.3, 0], big, vertical=False)
            else:
                start, home = split(actions, [self.px(BUTTON_H + 24), bh], g, vertical=True)
            return {"who_label": who_label, "roster": roster, "badge_hint": hint, "what_label": what_label, "exercises": exercises,
                    "side_label": side_label, "sides": sides,
                    "targets_label": targets_label, "targets": targets_box,
                    "start": start, "home": home}
        return self._memo("ready", make)

    def live(self) -> dict[str, Rect]:
        """Live set: foot, gauge, trace, reps, hold timer, progress, end key and the cue banner."""
        def make():
            body, g = self.body, self.gap
            parts: dict[str, Rect] = {}
            if self.portrait:
                banner, top_row, mid_row, trace, bottom = split(
                    body, [self.px(96), self.px(150), 0.55, 0, self.button_h], g, vertical=True)
                reps, hold = split(top_row, [0.45, 0], g, vertical=False)
                foot, right = split(mid_row, [0.42, 0], g, vertical=False)
                gauge, phase = split(right, [self.px(100), 0], g, vertical=True)
                progress, end = split(bottom, [0, min(bottom.width // 2, self.px(240))],
                                      self.px(14), vertical=False)
                parts["phase"] = phase
            else:
                main, banner = split(body, [0, self.px(80)], g, vertical=True)
                foot, centre, right = split(main, [0.23, 0, 0.27], g, vertical=False)
                gauge, trace = split(centre, [self.px(92), 0], g, vertical=True)
                reps, hold, progress, end = split(
                    right, [0, self.px(70), self.px(54), self.button_h], g, vertical=True)
            parts.update({"banner": banner, "foot": foot, "gauge": gauge, "trace": trace,
                          "reps": reps, "hold": hold, "progress": progress, "end": end})
            return parts
        return self._memo("live", make)

    def summary(self) -> dict[str, Rect]:
        """Set summary: counts and means, the set's chart, per-rep bars, left vs right, keys."""
        def make():
            body, g = self.body, self.gap
            if self.portrait:
                counts, chart, bars, sides, keys = split(
                    body, [self.px(150), 0.3, 0.3, 0, self.button_h], self.px(12), vertical=True)
                counts_big, means = split(counts, [0.4, 0], g, vertical=False)
                home_key, next_key = split(keys, [0.35, 0], self.px(14), vertical=False)
            else:
                left, right = split(body, [0.28, 0], self.px(12), vertical=False)
                counts_big, means, keys = split(
                    left, [self.px(120), 0, 2 * self.button_h + g], g, vertical=True)
                next_key, home_key = split(keys, [self.button_h, self.button_h], g,
                                           vertical=True)
                chart, bars, sides = split(right, [0.36, 0.34, 0], self.px(10), vertical=True)
            b1, b2, b3 = split(bars, [0, 0, 0], g, vertical=False)
            return {"counts": counts_big, "means": means, "chart": chart,
                    "bars_share": b1, "bars_hold": b2, "bars_lower": b3, "sides": sides,
                    "bars": bars, "next": next_key, "home": home_key}
        return self._memo("summary", make)

    def fault(self) -> dict[str, Rect]:
        """Fault: a warning sign, what is wrong, what to do, and that it clears by itself."""
        def make():
            body = self.body.inflate(-self.px(40), -self.px(10))
            icon, title, advice, note = split(
                body, [0.3, self.px(70), 0, self.px(36)], self.gap, vertical=True)
            return {"icon": icon, "title": title, "advice": advice, "note": note}
        return self._memo("fault", make)

    def failsafe(self) -> dict[str, Rect]:
        """The apology screen: one message, centred."""
        def make():
            return {"message": self.screen.inflate(-self.px(80), -self.px(120))}
        return self._memo("failsafe", make)

    # -- the coach's screens (display.admin_screens) ------------------------------------------
    def admin(self) -> dict[str, Rect]:
        """Every coach/staff page: the header (the page's title, the last action's note, the
        role), the page's content, and the bar along the bottom: Back at the left, Lock at the
        right and the page's own actions between them."""
        def make():
            inner = self.header.inflate(-2 * self.margin, -self.px(8))
            # the title takes what it needs of its box; the note the rest up to the role
            title, note, role = split(inner, [0.5, 0, 0.12], self.gap, vertical=False)
            content, bar = split(self.body, [0, self.button_h], self.gap, vertical=True)
            end_w = self.px(104 if self.portrait else 124)
            back, actions, lock = split(bar, [end_w, 0, end_w], self.gap, vertical=False)
            return {"header": Rect(self.header), "title": title, "note": note, "role": role,
                    "content": content, "bar": bar, "back": back, "actions": actions,
                    "lock": lock}
        return self._memo("admin", make)

    def admin_pin(self) -> dict[str, Rect]:
        """The PIN pad: role tabs, what to type, the dots, the error or lockout, the keypad."""
        def make():
            content, g = self.admin()["content"], self.gap
            if self.portrait:
                info, pad = split(content, [self.button_h + self.px(172), 0], self.px(14),
                                  vertical=True)
                pad.width = min(pad.width, self.px(420))
                pad.centerx = content.centerx
            else:
                info, pad = split(content, [0.48, 0], self.px(16), vertical=False)
            tabs, stage, dots, message = split(
                info, [self.button_h, self.px(44), self.px(56), 0], g, vertical=True)
            return {"tabs": tabs, "stage": stage, "dots": dots, "message": message,
                    "keypad": pad}
        return self._memo("admin_pin", make)

    def admin_list(self) -> dict[str, Rect]:
        """A paged list of two-line rows (programs, athletes) filling the content."""
        return self._memo("admin_list", lambda: {"list": self.admin()["content"]})

    def list_cells(self, rect: Rect, row_h: int | None = None) -> list[Rect]:
        """The cells of a list in ``rect``: one column on portrait screens, two on landscape
        ones, rows of ``row_h`` (a tall button by default) as many as fit."""
        row_h = max(self.min_touch, row_h or self.px(72))
        g = self.gap
        rows = max(1, (rect.height + g) // (row_h + g))
        cols = 1 if self.portrait else 2
        area = Rect(rect.left, rect.top, rect.width, rows * row_h + (rows - 1) * g)
        return grid(area, rows, cols, g)

    def admin_program(self) -> dict[str, Rect]:
        """The targets editor: the name (tap to rename), an info panel (help, saved or not),
        the setting rows and, on portrait screens, a row for Save / station / Delete (landscape
        ones put them in the bar)."""
        def make():
            content, g = self.admin()["content"], self.gap
            bh = self.button_h
            if self.portrait:
                name, info, settings, actions = split(
                    content, [bh, self.px(84), 0, bh], g, vertical=True)
            else:
                top, settings = split(content, [bh, 0], g, vertical=True)
                name, info = split(top, [0.42, 0], g, vertical=False)
                actions = Rect(self.admin()["actions"])
            return {"name": name, "info": info, "settings": settings, "actions": actions}
        return self._memo("admin_program", make)

    def setting_cells(self, count: int) -> tuple[list[Rect], bool]:
        """The cells of ``count`` setting rows: two columns on landscape screens, one on
        portrait ones, each at least a touch target tall; and whether they need pages (then the
        last cell turns the page)."""
        area, g = self.admin_program()["settings"], self.px(6)
        cols = 1 if self.portrait else 2
        rows = max(1, (area.height + g) // (self.min_touch + g))
        paged = count > rows * cols
        need = rows if paged else max(1, -(-count // cols))
        row_h = min(self.button_h, (area.height - (need - 1) * g) // need)
        box = Rect(area.left, area.top, area.width, need * row_h + (need - 1) * g)
        return grid(box, need, cols, g), paged

    def setting_parts(self, cell: Rect) -> dict[str, Rect]:
        """One setting row: its name and value, then square - and + buttons."""
        side = cell.height
        text, down, up = split(cell, [0, side, side], self.px(6), vertical=False)
        return {"text": text, "down": down, "up": up}

    def admin_athlete(self) -> dict[str, Rect]:
        """One athlete: who (name, badge, program) and the buttons that change them."""
        def make():
            content, g = self.admin()["content"], self.gap
            if self.portrait:
                info, buttons = split(content, [self.px(260), 0], self.px(14), vertical=True)
            else:
                info, buttons = split(content, [0.48, 0], self.px(16), vertical=False)
            n = 4
            column = Rect(buttons.left, buttons.top, buttons.width,
                          n * self.button_h + (n - 1) * g)
            return {"info": info, "buttons": column}
        return self._memo("admin_athlete", make)

    def admin_history(self) -> dict[str, Rect]:
        """An athlete's history: the table of sessions and the two trend charts."""
        def make():
            content, g = self.admin()["content"], self.gap
            if self.portrait:
                table, charts = split(content, [0.5, 0], self.px(12), vertical=True)
            else:
                table, charts = split(content, [0.56, 0], self.px(12), vertical=False)
            share, hold = split(charts, [0, 0], g, vertical=True)
            return {"table": table, "share": share, "hold": hold}
        return self._memo("admin_history", make)

    def admin_keyboard(self, key_rows: int) -> dict[str, Rect]:
        """The on-screen keyboard, at the bottom of the body: the text field and its Delete
        key, ``key_rows`` rows of keys and the bottom row (Cancel, Lock, Space, OK), every row
        a touch target tall; what is left above (on tall screens) is the prompt's."""
        def make():
            body, g = self.body, self.px(6)
            n = key_rows + 2
            row_h = max(self.min_touch, min(self.button_h, (body.height - (n - 1) * g) // n))
            height = n * row_h + (n - 1) * g
            prompt = Rect(body.left, body.top, body.width, max(0, body.height - height - g))
            rows = split(Rect(body.left, body.bottom - height, body.width, height),
                         [row_h] * n, g, vertical=True)
            field, delete = split(rows[0], [0, self.px(150)], g, vertical=False)
            return {"prompt": prompt, "field": field, "delete": delete,
                    "keys": Rect(rows[1].left, rows[1].top, rows[1].width,
                                 rows[-2].bottom - rows[1].top),
                    "bottom": rows[-1]}
        return self._memo(f"admin_keyboard{key_rows}", make)

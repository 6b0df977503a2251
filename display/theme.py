"""Colours that read across a gym, font sizes from the screen size, and cached, fitted text.

A kiosk is read from three metres away under gym lighting, often with sweat in the eyes: the
palette is a dark background with a few saturated colours, each with one meaning (green good,
amber watch out, red fault, blue do this now). Text is rendered with pygame's built-in font
(always present, no system fonts needed), shrunk and then ellipsized until it fits the box it was
given, and cached so a frame re-renders only text that changed.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import pygame

Colour = tuple[int, int, int]

# -- palette ---------------------------------------------------------------------------------
BG: Colour = (14, 17, 22)
PANEL: Colour = (30, 35, 44)
PANEL_EDGE: Colour = (62, 70, 84)
TEXT: Colour = (245, 245, 245)
MUTED: Colour = (160, 168, 180)
DARK_TEXT: Colour = (12, 12, 12)
GOOD: Colour = (46, 204, 113)
WARN: Colour = (255, 193, 7)
BAD: Colour = (235, 64, 52)
INFO: Colour = (33, 150, 243)
ACCENT: Colour = (0, 188, 212)
#: Deeper red and blue for filled areas that carry white text (banners, buttons): the bright
#: ones above are too light for white text to read at a distance (contrast < 4.5:1).
BAD_FILL: Colour = (211, 47, 47)
INFO_FILL: Colour = (21, 101, 192)

#: The heel-share gauge: its track, the coach's target band and the needle (pure white: nothing
#: else on the gauge uses it, so the needle can be found by colour).
GAUGE_TRACK: Colour = (58, 66, 80)
GAUGE_BAND: Colour = (28, 120, 66)
NEEDLE: Colour = (255, 255, 255)

#: The hold timer: its empty track, the fill while holding, the fill once the target is reached.
HOLD_TRACK: Colour = (58, 66, 80)
HOLD_FILL: Colour = INFO
HOLD_DONE: Colour = GOOD

#: The foot drawing: unloaded zones are COLD, the zone carrying all the load is HOT.
FOOT_COLD: Colour = (44, 52, 66)
FOOT_HOT: Colour = (255, 112, 24)
FOOT_EDGE: Colour = (200, 206, 216)

#: Force-time chart: the shaded spans of the holds.
HOLD_SHADE: Colour = (26, 78, 50)

#: Phase of the rep (see ``station.view.PHASE_CODES``) -> colour of the trace in that phase.
PHASE_COLOURS: dict[str, Colour] = {
    "off": (80, 84, 96),
    "settling": (120, 126, 138),
    "bottom": (176, 182, 194),
    "drive": INFO,
    "top": GOOD,
    "lower": (186, 104, 200),
}

#: Human words for the phases (the trace legend and the live screen).
PHASE_WORDS: dict[str, str] = {
    "off": "Off the plate",
    "settling": "Settle",
    "bottom": "Bottom",
    "drive": "Drive",
    "top": "Hold",
    "lower": "Lower",
}

#: Cue kinds that report a fault of the rep: a red banner.
FAULT_CUES = frozenset({"toe_drive", "heel_drive", "short_hold", "too_fast", "warning"})
#: Cue kinds that praise or close something: a green banner.
GOOD_CUES = frozenset({"good", "set_done", "rep_count"})
#: Cue kinds that ask the athlete to wait or move: an amber banner.
WAIT_CUES = frozenset({"rest", "switch_side", "step_off"})


def cue_colours(kind: str) -> tuple[Colour, Colour]:
    """(background, text) of the cue banner for a cue ``kind``.

    Faults are red with white text, praise green with black text, rest and switching amber with
    black text, and everything the athlete should do now (drive, hold, lower, ...) blue with white
    text. Each pair has a contrast ratio of at least 4.5:1.
    """
    if kind in FAULT_CUES:
        return BAD_FILL, TEXT
    if kind in GOOD_CUES:
        return GOOD, DARK_TEXT
    if kind in WAIT_CUES:
        return WARN, DARK_TEXT
    return INFO_FILL, TEXT


def lerp_colour(a: Colour, b: Colour, f: float) -> Colour:
    """The colour a fraction ``f`` (clamped to 0..1) of the way from ``a`` to ``b``."""
    f = 0.0 if f < 0 else 1.0 if f > 1 else f
    return (round(a[0] + (b[0] - a[0]) * f), round(a[1] + (b[1] - a[1]) * f),
            round(a[2] + (b[2] - a[2]) * f))


# -- sizes -----------------------------------------------------------------------------------
#: Nominal font sizes at the 800x480 reference panel; scaled by :attr:`Theme.unit`.
FONT_SIZES = {"small": 22, "body": 28, "large": 38, "title": 52, "huge": 110}
#: Text is never shrunk below this (pygame font size), whatever the box: ellipsized instead.
MIN_FONT = 14
#: A line of text is shrunk to no less than this fraction of its style's size, then ellipsized:
#: a name cut short reads better than a name too small to read.
MIN_SHRINK = 0.6
ELLIPSIS = "..."


@dataclass(frozen=True)
class TextRecord:
    """One piece of text placed on a surface: its box and the rect it actually covers."""

    text: str
    box: pygame.Rect
    rect: pygame.Rect


class Theme:
    """Fonts and fitted text for one screen size.

    ``unit`` is the scale of the screen against the 7" 800x480 panel (1.0 there, 1.5 at 1280x720
    and at 720x1280 portrait, 2.25 at 1920x1080): sizes, gaps and line widths multiply it.
    Set :attr:`log` to a list to record every text placement (tests check each fits its box).
    """

    def __init__(self, size: tuple[int, int], cache_entries: int = 768):
        w, h = size
        if w <= 0 or h <= 0:
            raise ValueError(f"screen size must be positive, got {w}x{h}")
        if not pygame.font.get_init():
            pygame.font.init()
        self.size = (w, h)
        self.unit = min(max(w, h) / 800, min(w, h) / 480)
        self._fonts: dict[int, pygame.font.Font] = {}
        self._cache: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self._cache_entries = cache_entries
        self.log: list[TextRecord] | None = None

    # -- scale ----------------------------------------------------------------------------
    def px(self, value: float) -> int:
        """``value`` pixels of the 800x480 panel, at this screen's scale (at least 1)."""
        return max(1, round(value * self.unit))

    def font_size(self, name: str) -> int:
        """The pygame font size of a named text style at this screen's scale."""
        return self.px(FONT_SIZES[name])

    def font(self, size: int) -> pygame.font.Font:
        """pygame's default font at ``size``, opened once."""
        font = self._fonts.get(size)
        if font is None:
            font = self._fonts[size] = pygame.font.Font(None, size)
        return font

    # -- text -----------------------------------------------------------------------------
    def _cached(self, key: tuple, make) -> pygame.Surface:
        surf = self._cache.get(key)
        if surf is None:
            surf = make()
            self._cache[key] = surf
            if len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return surf

    def extent(self, size: int, text: str) -> tuple[int, int]:
        """Width and height ``text`` takes when rendered at ``size`` (the rendered surface is
        a line's height, a little taller than ``Font.size`` says)."""
        font = self.font(size)
        w, h = font.size(text)
        return w, max(h, font.get_linesize())

    def fit_size(self, text: str, width: int, height: int, max_size: int,
                 min_size: int = MIN_FONT) -> int:
        """The largest font size <= ``max_size`` at which ``text`` fits ``width`` x ``height``
        on one line, or ``min_size`` if none does (the text will then be ellipsized)."""
        size = max_size
        while size > min_size:
            tw, th = self.extent(size, text)
            if tw <= width and th <= height:
                return size
            size = max(min_size, int(size * 0.9))
        return min_size

    def common_size(self, items, style: str) -> int:
        """One font size for a group of (text, box) - the largest at which all fit, so a table
        or a legend does not mix sizes."""
        size = self.font_size(style)
        floor = self.min_size(size)
        for text, box in items:
            size = min(size, self.fit_size(text, box.width, box.height, size, floor))
        return size

    @staticmethod
    def min_size(size: int) -> int:
        """The smallest size text of ``size`` is shrunk to before it is ellipsized."""
        return max(MIN_FONT, int(size * MIN_SHRINK))

    def ellipsize(self, text: str, size: int, width: int) -> str:
        """``text`` cut and ended with "..." so it is at most ``width`` pixels at ``size``."""
        font = self.font(size)
        if font.size(text)[0] <= width:
            return text
        lo, hi = 0, len(text)
        while lo < hi:  # longest prefix that fits with the ellipsis
            mid = (lo + hi + 1) // 2
            if font.size(text[:mid].rstrip() + ELLIPSIS)[0] <= width:
                lo = mid
            else:
                hi = mid - 1
        cut = text[:lo].rstrip() + ELLIPSIS
        return cut if font.size(cut)[0] <= width else ""

    def line(self, text: str, width: int, height: int, max_size: int, colour: Colour,
             min_size: int = MIN_FONT) -> pygame.Surface:
        """``text`` on one line, as large as fits ``width`` x ``height`` up to ``max_size``,
        ellipsized if even ``min_size`` is too wide. Cached."""
        key = ("line", text, width, height, max_size, min_size, colour)

        def make() -> pygame.Surface:
            size = self.fit_size(text, width, height, max_size, min_size)
            shown = self.ellipsize(text, size, width)
            font = self.font(size)
            if not shown or self.extent(size, shown)[1] > height:  # box lower than the font
                return pygame.Surface((0, 0), pygame.SRCALPHA)
            return font.render(shown, True, colour)

        return self._cached(key, make)

    def wrap(self, text: str, size: int, width: int) -> list[str]:
        """``text`` broken into lines no wider than ``width`` at ``size``, at spaces; a word
        longer than the line is ellipsized."""
        font = self.font(size)
        lines: list[str] = []
        current = ""
        for word in text.split():
            trial = f"{current} {word}" if current else word
            if font.size(trial)[0] <= width:
                current = trial
                continue
            if current:
                lines.append(current)
            current = word if font.size(word)[0] <= width else self.ellipsize(word, size, width)
        if current:
            lines.append(current)
        return lines

    def block(self, text: str, width: int, height: int, max_size: int, colour: Colour,
              align: str = "center", min_size: int = MIN_FONT) -> pygame.Surface:
        """``text`` wrapped to ``width``, as large as lets every line fit ``height``; at
        ``min_size`` the lines that do not fit are dropped and the last shown is ellipsized.
        ``align`` is "left" or "center". Cached."""
        key = ("block", text, width, height, max_size, min_size, colour, align)

        def make() -> pygame.Surface:
            size = max_size
            while True:
                lines = self.wrap(text, size, width)
                font = self.font(size)
                if len(lines) * font.get_linesize() <= height or size <= min_size:
                    break
                size = max(min_size, int(size * 0.9))
            fit = max(0, height // font.get_linesize())
            if len(lines) > fit:
                lines = lines[:fit]
                if lines:
                    lines[-1] = self.ellipsize(lines[-1] + ELLIPSIS, size, width)
            if not lines:
                return pygame.Surface((0, 0), pygame.SRCALPHA)
            rendered = [font.render(line, True, colour) for line in lines]
            out_w = max(r.get_width() for r in rendered)
            step = font.get_linesize()
            out = pygame.Surface((out_w, step * (len(rendered) - 1) + rendered[-1].get_height()),
                                 pygame.SRCALPHA)
            for i, r in enumerate(rendered):
                x = 0 if align == "left" else (out_w - r.get_width()) // 2
                out.blit(r, (x, i * step))
            return out

        return self._cached(key, make)

    def place(self, surface: pygame.Surface, text_surface: pygame.Surface, box: pygame.Rect,
              align: str = "center", valign: str = "center", text: str = "") -> pygame.Rect:
        """Blit ``text_surface`` into ``box`` aligned left/center/right and top/center/bottom;
        return the rect it covers (recorded in :attr:`log` when logging)."""
        r = text_surface.get_rect()
        if align == "left":
            r.left = box.left
        elif align == "right":
            r.right = box.right
        else:
            r.centerx = box.centerx
        if valign == "top":
            r.top = box.top
        elif valign == "bottom":
            r.bottom = box.bottom
        else:
            r.centery = box.centery
        surface.blit(text_surface, r)
        if self.log is not None:
            self.log.append(TextRecord(text, pygame.Rect(box), pygame.Rect(r)))
        return r

    def text(self, surface: pygame.Surface, text: str, box: pygame.Rect, style: str,
             colour: Colour = TEXT, align: str = "center", valign: str = "center",
             max_size: int | None = None) -> pygame.Rect:
        """Draw one line of ``text`` fitted into ``box`` in a named style; return its rect."""
        size = max_size if max_size is not None else self.font_size(style)
        floor = min(size, self.min_size(self.font_size(style)))
        surf = self.line(text, box.width, box.height, size, colour, floor)
        return self.place(surface, surf, box, align, valign, text)

    def label(self, surface: pygame.Surface, text: str, box: pygame.Rect, style: str,
              colour: Colour = TEXT) -> pygame.Rect:
        """A button's label: one line when it fits at the body size or larger, otherwise
        wrapped onto two lines and fitted."""
        size = self.font_size(style)
        if self.fit_size(text, box.width, box.height, size) >= min(size, self.font_size("body")):
            return self.text(surface, text, box, style, colour)
        return self.paragraph(surface, text, box, style, colour)

    def paragraph(self, surface: pygame.Surface, text: str, box: pygame.Rect, style: str,
                  colour: Colour = TEXT, align: str = "center", valign: str = "center",
                  max_size: int | None = None) -> pygame.Rect:
        """Draw ``text`` wrapped and fitted into ``box``; return its rect."""
        size = max_size if max_size is not None else self.font_size(style)
        surf = self.block(text, box.width, box.height, size, colour, align)
        return self.place(surface, surf, box, align, valign, text)

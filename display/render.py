"""The renderer the main loop uses: draw a ViewState, answer what a tap asks for, apologise.

One :class:`Renderer` per screen size. It owns the theme, the layout and the five screens; it
keeps track of what is already on the surface so a frame redraws only what changed, and returns
the dirty rects for ``pygame.display.update``. It never reads a clock or an input device: the
main loop gives it the view and the touch positions.
"""

from __future__ import annotations

import dataclasses

import pygame

from display import theme as th
from display import widgets as wd
from display.admin_screens import ADMIN_SCREEN_CLASSES
from display.layout import Layout
from display.screens import SCREEN_CLASSES, Screen
from display.staff_screens import STAFF_SCREEN_CLASSES
from drivers.errors import UnknownScreen
from station.view import UICommand, ViewState

Rect = pygame.Rect

FAILSAFE_MESSAGE = "Something went wrong - back in a moment"


class Renderer:
    """Draws ViewStates at one screen size (the logical size, before any panel rotation)."""

    def __init__(self, size: tuple[int, int]):
        w, h = (int(v) for v in size)
        self.size = (w, h)
        self.theme = th.Theme(self.size)  # validates the size
        self.layout = Layout(self.size)
        classes = {**SCREEN_CLASSES, **ADMIN_SCREEN_CLASSES, **STAFF_SCREEN_CLASSES}
        self.screens: dict[str, Screen] = {name: cls(self.theme, self.layout)
                                           for name, cls in classes.items()}
        self._last_screen: str | None = None
        self._last_surface: pygame.Surface | None = None
        self._message: str | None = None

    def screen(self, name: str) -> Screen:
        """The screen called ``name``; :class:`UnknownScreen` for a name the display lacks."""
        try:
            return self.screens[name]
        except KeyError:
            raise UnknownScreen(
                f"the station asked for a screen called {name!r}, which the display does not "
                f"have (it has {', '.join(self.screens)}): update gym-station on this kiosk"
            ) from None

    def warm(self, like: pygame.Surface, view: ViewState) -> None:
        """Build every screen's background for ``view``'s athlete and exercise ahead of time
        (at start-up), so the first switch to a screen does not cost a frame."""
        for name, screen in self.screens.items():
            screen.background(like, dataclasses.replace(view, screen=name))

    def invalidate(self) -> None:
        """Forget what is on the surface: the next :meth:`draw` redraws everything."""
        self._last_screen = None

    def draw(self, surface: pygame.Surface, view: ViewState) -> list[Rect]:
        """Draw ``view`` onto ``surface`` (at least :attr:`size`); return the rects changed."""
        screen = self.screen(view.screen)
        full = (view.screen != self._last_screen or surface is not self._last_surface)
        if full:
            screen.forget()
        # Mark as drawn only once drawing succeeded: a screen that raises is redrawn in full.
        self._last_screen = None
        dirty = screen.draw(surface, view, full)
        header = self.layout.header
        if view.message:
            redrawn = any(r.colliderect(header) for r in dirty)
            if view.message != self._message or redrawn:
                wd.draw_message(surface, header, self.theme, view.message)
                if not redrawn:
                    dirty.append(Rect(header))
        elif self._message:  # the note went away: put the header back
            screen.restore(surface, header)
            dirty.append(Rect(header))
        self._message = view.message
        self._last_screen, self._last_surface = view.screen, surface
        return dirty

    def hit(self, pos: tuple[int, int], view: ViewState) -> UICommand | None:
        """What a tap at ``pos`` (surface coordinates) asks for on ``view``'s screen, or None.

        A tap on a display-only button (the roster's "More") turns its page and returns None;
        the next :meth:`draw` shows the new page.
        """
        if view.screen not in self.screens:
            return None
        return self.screen(view.screen).hit(pos, view)

    def buttons(self, view: ViewState) -> list[wd.Button]:
        """The touch targets of ``view``'s screen, as drawn."""
        return self.screen(view.screen).buttons(view)

    def failsafe(self, surface: pygame.Surface, message: str = FAILSAFE_MESSAGE) -> None:
        """The apology screen: a calm message and nothing technical (the error goes to the
        log, never to the screen). The next :meth:`draw` redraws in full."""
        surface.fill(th.BG, Rect(self.layout.screen))
        box = self.layout.failsafe()["message"]
        self.theme.paragraph(surface, message or FAILSAFE_MESSAGE, box, "title", th.TEXT)
        self.invalidate()
        self._message = None

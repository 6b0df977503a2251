"""A finger on the touchscreen, for end-to-end tests of the real kiosk loop.

:class:`Hand` is an ``on_frame`` hook for ``display.app.run_kiosk`` (or ``run_session``): each
frame it looks at the view the loop just drew, finds the button it wants on the real renderer's
button list (what the eye saw), and posts SDL ``FINGERDOWN``/``FINGERUP`` events at its centre,
normalised to the panel as a touch panel's driver delivers them. A long press keeps the finger
down for the button's ``hold_s`` on the loop's (virtual) clock. Steps run in order; a step that
cannot happen within its frames stops the run and is reported in :attr:`Hand.failed`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import pygame

from display.render import Renderer
from station.view import UICommand, ViewState


def finger_event(kind: int, pos: tuple[float, float], size: tuple[int, int], finger_id: int = 0,
                 touch_id: int = 3) -> pygame.event.Event:
    """An SDL finger event at logical pixel ``pos`` of an unrotated ``size`` panel."""
    return pygame.event.Event(kind, x=(pos[0] + 0.5) / size[0], y=(pos[1] + 0.5) / size[1],
                              dx=0.0, dy=0.0, touch_id=touch_id, finger_id=finger_id,
                              pressure=1.0)


#: A command value that matches any value (``tap("station_program", ANY)``).
ANY = object()


@dataclass
class Step:
    """One thing the hand does: ``tap``/``hold`` a button whose command matches, or ``wait``
    until ``until(view)`` is true, or ``call`` a function once."""

    what: str
    command: UICommand | None = None
    until: Callable[[ViewState], bool] | None = None
    call: Callable[[], None] | None = None
    frames: int = 600  #: give up after this many frames
    label: str = ""


def tap(kind: str, value: str | None = None, frames: int = 120) -> Step:
    return Step("tap", UICommand(kind, value), frames=frames, label=f"tap {kind} {value or ''}")


def hold(kind: str, value: str | None = None, frames: int = 120) -> Step:
    return Step("hold", UICommand(kind, value), frames=frames, label=f"hold {kind} {value or ''}")


def wait(until: Callable[[ViewState], bool], frames: int = 600, label: str = "wait") -> Step:
    return Step("wait", until=until, frames=frames, label=label)


def screen(name: str, frames: int = 600) -> Step:
    return wait(lambda v: v.screen == name, frames, f"screen {name}")


def call(fn: Callable[[], None], label: str = "call") -> Step:
    return Step("call", call=fn, label=label)


def type_pin(pin: str) -> list[Step]:
    return [tap("pin_digit", d) for d in pin] + [tap("pin_ok")]


class Hand:
    """Plays :class:`Step` s on the kiosk's screen through posted finger events."""

    def __init__(self, steps: list[Step], size: tuple[int, int] = (800, 480), fps: int = 60,
                 linger: int = 5):
        self.steps = list(steps)
        self.size = size
        self.fps = fps
        self.linger = linger
        self.renderer = Renderer(size)
        self.failed: str | None = None
        self.done_at: int | None = None
        self.views: list[str] = []
        self._i = 0
        self._frames_in_step = 0
        self._release_at: int | None = None
        self._pos: tuple[int, int] | None = None

    def button(self, view: ViewState, command: UICommand):
        """The button the renderer drew for ``command`` (value ``ANY``: the first of its kind)."""
        for b in self.renderer.buttons(view):
            if b.command is None:
                continue
            if b.command == command or (command.value is ANY and b.command.kind == command.kind):
                return b
        return None

    def __call__(self, stats, view: ViewState | None) -> bool:
        frame = stats.frames
        if view is not None and (not self.views or self.views[-1] != view.screen):
            self.views.append(view.screen)
        if self.failed is not None:
            return True
        if self._release_at is not None:
            if frame >= self._release_at:
                pygame.event.post(finger_event(pygame.FINGERUP, self._pos, self.size))
                self._release_at = None
                self._advance()
            return False
        if self._i >= len(self.steps):
            if self.done_at is None:
                self.done_at = frame
            return frame - self.done_at >= self.linger
        step = self.steps[self._i]
        self._frames_in_step += 1
        if self._frames_in_step > step.frames:
            self.failed = (f"step {self._i} ({step.label}) did not happen within {step.frames} "
                           f"frames; screen {view.screen if view else None}, screens so far "
                           f"{self.views}")
            return True
        if view is None:
            return False
        if step.what == "call":
            step.call()
            self._advance()
        elif step.what == "wait":
            if step.until(view):
                self._advance()
        else:
            button = self.button(view, step.command)
            if button is None:
                return False
            self._pos = button.rect.center
            pygame.event.post(finger_event(pygame.FINGERDOWN, self._pos, self.size))
            held = max(button.hold_s, 0.0) if step.what == "hold" else 0.0
            self._release_at = frame + 1 + int(held * self.fps + 0.999) + (1 if held else 0)
        return False

    def _advance(self) -> None:
        self._i += 1
        self._frames_in_step = 0


class Storm:
    """Thousands of random taps, long presses and drags, several fingers at once: an
    ``on_frame`` hook that posts ``per_frame`` random finger events for ``frames`` frames."""

    def __init__(self, size: tuple[int, int], frames: int, per_frame: int = 6, seed: int = 1):
        self.size = size
        self.frames = frames
        self.per_frame = per_frame
        self.rng = random.Random(seed)
        self.down: dict[int, tuple[int, int]] = {}
        self.posted = 0
        self.played = 0  #: frames of the storm so far

    def events(self) -> list[pygame.event.Event]:
        w, h = self.size
        out = []
        for _ in range(self.per_frame):
            finger = self.rng.randrange(5)
            pos = (self.rng.randrange(w), self.rng.randrange(h))
            if finger in self.down:
                if self.rng.random() < 0.3:  # a drag
                    x, y = self.down[finger]
                    out.append(pygame.event.Event(
                        pygame.FINGERMOTION, x=(pos[0] + 0.5) / w, y=(pos[1] + 0.5) / h,
                        dx=(pos[0] - x) / w, dy=(pos[1] - y) / h, touch_id=3, finger_id=finger,
                        pressure=1.0))
                    self.down[finger] = pos
                else:
                    out.append(finger_event(pygame.FINGERUP, self.down.pop(finger), self.size,
                                            finger))
            else:
                self.down[finger] = pos
                out.append(finger_event(pygame.FINGERDOWN, pos, self.size, finger))
        return out

    def release_all(self) -> list[pygame.event.Event]:
        out = [finger_event(pygame.FINGERUP, pos, self.size, f) for f, pos in self.down.items()]
        self.down.clear()
        return out

    def __call__(self, stats, view) -> bool:
        if self.played < self.frames:
            self.played += 1
            for event in self.events():
                pygame.event.post(event)
                self.posted += 1
            return False
        if self.down:
            for event in self.release_all():
                pygame.event.post(event)
        return True

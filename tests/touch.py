"""A finger on the touchscreen, for end-to-end tests of the real kiosk loop.

:class:`Hand` is an ``on_frame`` hook for ``display.app.run_kiosk`` (or ``run_session``): each
frame it looks at the view the loop just drew, finds the button it wants on the real renderer's
button list (what the eye saw), and posts SDL ``FINGERDOWN``/``FINGERUP`` events at its centre,
normalised to the panel as a touch panel's driver delivers them. A long press keeps the finger
down for the button's ``hold_s`` on the loop's (virtual) clock. Steps run in order; a step that
cannot happen within its frames stops the run and is reported in :attr:`Hand.failed`.

:class:`Storm` is a crowd of careless fingers (random taps, long presses and drags, up to five
at once) and :class:`Script` runs a test's phases as a generator, one ``yield`` a frame, so a
long scripted run (storm, re-enter with the PIN, storm again) reads top to bottom.

Both find buttons on a renderer: by default one of their own, which is what the panel shows as
long as no screen keeps state of its own; ``eye`` (a callable returning the loop's renderer,
see ``tests/test_touch_flows.py``) makes them see the pages and the keyboard's shift exactly as
the loop drew them.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass

import pygame

from display.render import Renderer
from station.view import LONG_PRESS_S, UICommand, ViewState


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
    """One thing the hand does: ``tap``/``hold`` a button whose command matches (or, with
    ``text``, the button showing that text, whatever it does), or ``wait`` until ``until(view)``
    is true, or ``call`` a function once."""

    what: str
    command: UICommand | None = None
    text: str | None = None
    until: Callable[[ViewState], bool] | None = None
    call: Callable[[], None] | None = None
    frames: int = 600  #: give up after this many frames
    label: str = ""


def tap(kind: str, value: str | None = None, frames: int = 120) -> Step:
    return Step("tap", UICommand(kind, value), frames=frames, label=f"tap {kind} {value or ''}")


def tap_text(text: str, frames: int = 120) -> Step:
    """Tap the button showing ``text``, even one that sends nothing (a dim key)."""
    return Step("tap", text=text, frames=frames, label=f"tap the {text!r} button")


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
                 linger: int = 5, eye: Callable[[], Renderer] | None = None):
        self.steps = list(steps)
        self.size = size
        self.fps = fps
        self.linger = linger
        self._eye = eye
        self._own = Renderer(size) if eye is None else None
        self._paging = False
        self._turns = 0
        self.failed: str | None = None
        self.done_at: int | None = None
        self.views: list[str] = []
        self._i = 0
        self._frames_in_step = 0
        self._release_at: int | None = None
        self._pos: tuple[int, int] | None = None

    @property
    def renderer(self) -> Renderer:
        """The renderer whose buttons the hand sees (the loop's, with ``eye``)."""
        return self._eye() if self._eye is not None else self._own

    def page_turn(self, view: ViewState):
        """A button that shows a list's next page ("More"), if the screen has one; with
        several lists (the ready screen's athletes and exercises), each in turn."""
        turns = [b for b in self.renderer.buttons(view)
                 if b.action is not None and (b.action == "more" or b.action.endswith("_more"))]
        if not turns:
            return None
        self._turns += 1
        return turns[self._turns % len(turns)]

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
                if self._paging:  # the next page shows on the next frame: look again there
                    self._paging = False
                else:
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
            if step.text is not None:
                button = next((b for b in self.renderer.buttons(view) if b.label == step.text),
                              None)
            else:
                button = self.button(view, step.command)
            if button is None:  # on a later page of a list?
                button = self.page_turn(view) if step.text is None else None
                if button is None:
                    return False
                self._paging = True
                if self._own is not None:  # the loop's renderer turns its page on the tap
                    self._own.hit(button.rect.center, view)
            self._pos = button.rect.center
            pygame.event.post(finger_event(pygame.FINGERDOWN, self._pos, self.size))
            held = max(button.hold_s, 0.0) if step.what == "hold" and not self._paging else 0.0
            self._release_at = frame + 1 + int(held * self.fps + 0.999) + (1 if held else 0)
        return False

    def _advance(self) -> None:
        self._i += 1
        self._frames_in_step = 0



@dataclass
class _Finger:
    """A finger of the storm that is down: where it is, when it lifts, where it is dragging."""

    pos: tuple[int, int]
    up_at: int
    to: tuple[int, int] | None = None
    alone: bool = False   #: a long press the other fingers leave alone


class Storm:
    """A crowd of careless fingers on the kiosk: random taps, long presses and drags, up to five
    fingers down at once, from a seeded random generator (the same seed, the same storm).

    Call :meth:`step` once a frame with the view just drawn; it posts that frame's finger events
    and returns them. Each frame ``touches`` new fingers go down on average (while fewer than
    five are down); a touch is a tap (up after 1-6 frames), a long press (held past
    ``LONG_PRESS_S``, with ``long_share``; half of them on a button that wants one, alone:
    the other fingers keep off until it lifts, as it fires only if its screen stays) or a drag (moving every frame towards another point,
    up after 3-24 frames, with ``drag_share``). With ``long_presses=False`` every finger lifts
    at least two frames before a long press could fire (some linger almost that long).

    ``aim`` is the share of touches put on a button the renderer drew (what a person pokes at),
    the rest anywhere on the panel. ``spare(view, button)`` names buttons the storm keeps off
    (the way out of the screens under test), except for a ``stray`` share of touches that
    land on one anyway. :attr:`touched` counts what each touch went down on (a command's kind,
    a display action, or ``None``), :attr:`kinds` the touches by kind, :attr:`most_down` the
    most fingers down at once.
    """

    def __init__(self, size: tuple[int, int], *, seed: int, touches: float = 1.0,
                 aim: float = 0.6, long_share: float = 0.05, drag_share: float = 0.2,
                 long_presses: bool = True, fps: int = 60, stray: float = 0.0,
                 spare: Callable[[ViewState, object], bool] | None = None,
                 eye: Callable[[], Renderer] | None = None, fingers: int = 5):
        self.size = size
        self.rng = random.Random(seed)
        self.touches = touches
        self.aim = aim
        self.long_share = long_share
        self.drag_share = drag_share
        self.long_presses = long_presses
        self.stray = stray
        self.spare = spare or (lambda view, button: False)
        self.fingers = fingers
        self._eye = eye
        self._own = Renderer(size) if eye is None else None
        #: frames a finger must stay down for a long press to fire, and the most a short one is
        self.long_frames = math.ceil(LONG_PRESS_S * fps)
        self.short_max = self.long_frames - 3
        self.down: dict[int, _Finger] = {}
        self.frame = 0
        self.posted = 0
        self.most_down = 0  #: the most fingers down at once
        self.touched: Counter = Counter()
        self.kinds: Counter = Counter()

    @property
    def renderer(self) -> Renderer:
        return self._eye() if self._eye is not None else self._own

    def _event(self, kind: int, finger: int, pos: tuple[int, int],
               was: tuple[int, int] | None = None) -> pygame.event.Event:
        if kind != pygame.FINGERMOTION:
            return finger_event(kind, pos, self.size, finger)
        w, h = self.size
        return pygame.event.Event(kind, x=(pos[0] + 0.5) / w, y=(pos[1] + 0.5) / h,
                                  dx=(pos[0] - was[0]) / w, dy=(pos[1] - was[1]) / h,
                                  touch_id=3, finger_id=finger, pressure=1.0)

    def _anywhere(self) -> tuple[int, int]:
        return self.rng.randrange(self.size[0]), self.rng.randrange(self.size[1])

    def _on(self, button) -> tuple[int, int]:
        r = button.rect
        return (self.rng.randrange(r.left + 2, max(r.left + 3, r.right - 2)),
                self.rng.randrange(r.top + 2, max(r.top + 3, r.bottom - 2)))

    def _place(self, view: ViewState, buttons: list,
               kind: str) -> tuple[tuple[int, int], object, bool]:
        """Where the next finger goes down, the button there (or None), and whether the
        others keep off while it is down."""
        spared = [b for b in buttons if self.spare(view, b)]
        held = [b for b in buttons if b.hold_s > 0 and b.command is not None and b not in spared]
        if kind == "long" and held and self.rng.random() < 0.5:
            button = self.rng.choice(held)
            return self._on(button), button, True
        if spared and self.rng.random() < self.stray:
            button = self.rng.choice(spared)
            return self._on(button), button, False
        aimed = [b for b in buttons if b not in spared and (b.command or b.action)]
        for _ in range(50):
            if aimed and self.rng.random() < self.aim:
                button = self.rng.choice(aimed)
                pos = self._on(button)
            else:
                pos = self._anywhere()
                button = next((b for b in buttons if b.rect.collidepoint(pos)), None)
            if button is None or button not in spared:
                return pos, button, False
        return pos, None, False  # pragma: no cover - a screen that is all spare buttons

    def _duration(self, kind: str) -> int:
        if kind == "long":
            return self.long_frames + 2 + self.rng.randrange(20)
        if kind == "drag":
            return 3 + self.rng.randrange(22)
        if not self.long_presses and self.rng.random() < 0.1:  # lingers, lifts just in time
            return self.rng.randrange(self.long_frames // 2, self.short_max + 1)
        return 1 + self.rng.randrange(6)

    def step(self, view: ViewState) -> list[pygame.event.Event]:
        """This frame's finger events for ``view``, posted."""
        self.frame += 1
        out = []
        for finger, f in list(self.down.items()):
            if self.frame >= f.up_at:
                out.append(self._event(pygame.FINGERUP, finger, f.pos))
                del self.down[finger]
            elif f.to is not None:
                was = f.pos
                f.pos = (was[0] + (f.to[0] - was[0]) // 3, was[1] + (f.to[1] - was[1]) // 3)
                out.append(self._event(pygame.FINGERMOTION, finger, f.pos, was))
        new = int(self.touches) + (self.rng.random() < self.touches % 1)
        if any(f.alone for f in self.down.values()):
            new = 0
        buttons = list(self.renderer.buttons(view)) if new else []
        for _ in range(new):
            free = [i for i in range(self.fingers) if i not in self.down]
            if not free:
                break
            finger = self.rng.choice(free)
            roll = self.rng.random()
            kind = ("long" if self.long_presses and roll < self.long_share else
                    "drag" if roll < self.long_share + self.drag_share else "tap")
            pos, button, alone = self._place(view, buttons, kind)
            duration = self._duration(kind)
            if not self.long_presses:
                duration = min(duration, self.short_max)
            to = self._anywhere() if kind == "drag" else None
            self.down[finger] = _Finger(pos, self.frame + duration, to, alone)
            self.kinds[kind] += 1
            self.touched[None if button is None else
                         button.command.kind if button.command else button.action] += 1
            out.append(self._event(pygame.FINGERDOWN, finger, pos))
        self.most_down = max(self.most_down, len(self.down))
        for event in out:
            pygame.event.post(event)
        self.posted += len(out)
        return out

    def release(self) -> list[pygame.event.Event]:
        """Lift every finger that is down (the storm pauses; :meth:`step` goes on later)."""
        out = [self._event(pygame.FINGERUP, finger, f.pos) for finger, f in self.down.items()]
        self.down.clear()
        for event in out:
            pygame.event.post(event)
        self.posted += len(out)
        return out


Frame = tuple[object, ViewState]


class Script:
    """An ``on_frame`` hook that plays a generator: ``play()`` yields once a frame and is sent
    the frame's ``(stats, view)``; the run ends when the generator returns. An exception in it
    (a failed assertion) ends the run and reaches the test."""

    def __init__(self, play: Callable[[], Generator[None, Frame, None]],
                 size: tuple[int, int] = (800, 480)):
        self.size = size
        self._gen = play()
        self._started = False
        self.done = False

    def __call__(self, stats, view) -> bool:
        try:
            if not self._started:
                self._started = True
                next(self._gen)
            self._gen.send((stats, view))
        except StopIteration:
            self.done = True
            return True
        return False


def play(hook: Callable[[object, ViewState], bool]) -> Generator[None, Frame, Frame]:
    """Inside a :class:`Script`: run ``hook`` (a :class:`Hand`) frame by frame until it returns
    True; the last frame is returned."""
    while True:
        stats, view = yield
        if hook(stats, view):
            return stats, view

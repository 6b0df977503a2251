"""Touches, clicks and keys turned into :class:`~station.view.UICommand` objects.

* A tap is a finger (or the left mouse button) going down and up on the same target, so a drag
  off a button cancels it (and a screen that changed in between cancels it too). Targets are the
  renderer's button rectangles when it lists them (``targets``), and the renderer's ``hit`` is
  then asked once, at the finger's release (a hit may turn a roster page, so it must not be
  asked twice); without ``targets`` the command ``hit`` gives at both ends must agree.
* Touch screens make SDL synthesise mouse events from fingers (pygame-ce marks them
  ``event.touch``) and, on some platforms, finger events from the mouse (``touch_id == -1``):
  both copies are ignored, so one tap is one action.
* Rotation: the app draws on a logical surface and turns it onto the panel by ``rotation``
  degrees clockwise; touch coordinates are mapped back from the panel to the logical surface
  with the same geometry (:func:`panel_to_logical` is the inverse of :func:`logical_to_panel`).
* Long press: a target with ``hold_s > 0`` (a :class:`~display.widgets.Button`, see
  ``station.view.LONG_PRESS_S``) sends its command only once the finger (or the mouse button)
  has stayed down on it for ``hold_s`` seconds of the loop's clock ``t``. The loop calls
  :meth:`InputMapper.poll` every frame, so the command goes as soon as the time is up, while the
  finger is still down (the person sees it work without letting go); a release after ``hold_s``
  sends it too when nobody polled. Released early, or moved off the target (a ``FINGERMOTION``
  or mouse motion off it, or a release elsewhere): nothing. Ordinary targets tap as above.
* Keyboard: Esc goes home; Enter (and space, unless the demo's athlete has the keyboard) starts
  or ends a set, or moves on from the summary; digits followed by Enter are a badge typed by a
  USB reader (a keyboard wedge).
* The demo's keyboard athlete: space held = drive (hips up), Up = push more through the toes,
  Down = more through the heel, ``s`` = step on/off. Sent through a callable ``athlete(method,
  *args)``, e.g. ``athlete("press", "drive")``, so display never imports drivers.
* Commands posted from other threads (the station button's gpiozero callbacks) arrive as
  :data:`COMMAND_EVENT` events carrying ``command``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pygame

from station.view import UICommand, ViewState

ROTATIONS = (0, 90, 180, 270)
#: The event type carrying a UICommand posted from another thread (see ``app.post_command``).
COMMAND_EVENT = pygame.event.custom_type()
#: SDL's touch id for finger events synthesised from the mouse.
MOUSE_TOUCH_ID = -1
#: Badge digits older than this (keyboard seconds) are dropped: a person typed them, not a reader.
#: An Enter this long after the last digit is no badge's end either.
BADGE_TIMEOUT_S = 2.0
#: More digits than any badge has: a stuck key or a book on the keyboard, not a reader.
BADGE_MAX_DIGITS = 32

Hit = Callable[[tuple[int, int], ViewState], "UICommand | None"]
Athlete = Callable[..., None]

_DIGITS = {getattr(pygame, f"K_{d}"): str(d) for d in range(10)}
_DIGITS.update({getattr(pygame, f"K_KP_{d}"): str(d) for d in range(10)})
_ENTER = (pygame.K_RETURN, pygame.K_KP_ENTER)


# ------------------------------------------------------------------------------ rotation

def _check_rotation(rotation: int) -> None:
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}, not {rotation!r}")


def panel_size(logical: tuple[int, int], rotation: int) -> tuple[int, int]:
    """The panel's (window's) size for a logical surface turned by ``rotation``."""
    _check_rotation(rotation)
    w, h = logical
    return (h, w) if rotation in (90, 270) else (w, h)


def logical_to_panel(pos: tuple[float, float], logical: tuple[int, int],
                     rotation: int) -> tuple[float, float]:
    """Where logical pixel ``pos`` appears on the panel when the picture is turned clockwise."""
    _check_rotation(rotation)
    x, y = pos
    w, h = logical
    if rotation == 0:
        return x, y
    if rotation == 90:
        return h - 1 - y, x
    if rotation == 180:
        return w - 1 - x, h - 1 - y
    return y, w - 1 - x


def panel_to_logical(pos: tuple[float, float], logical: tuple[int, int],
                     rotation: int) -> tuple[float, float]:
    """The logical pixel under panel point ``pos`` (the inverse of :func:`logical_to_panel`)."""
    _check_rotation(rotation)
    px, py = pos
    w, h = logical
    if rotation == 0:
        return px, py
    if rotation == 90:
        return py, h - 1 - px
    if rotation == 180:
        return w - 1 - px, h - 1 - py
    return w - 1 - py, px


def panel_rect(rect: pygame.Rect, logical: tuple[int, int], rotation: int) -> pygame.Rect:
    """The panel rectangle covered by logical ``rect`` (for rotating only the dirty parts)."""
    x0, y0 = logical_to_panel((rect.left, rect.top), logical, rotation)
    x1, y1 = logical_to_panel((rect.right - 1, rect.bottom - 1), logical, rotation)
    left, top = min(x0, x1), min(y0, y1)
    return pygame.Rect(int(left), int(top), int(abs(x1 - x0)) + 1, int(abs(y1 - y0)) + 1)


# ------------------------------------------------------------------------------ events

@dataclass
class _Press:
    """A finger (or the mouse button) that is down."""

    target: object        #: the target pressed (see :meth:`InputMapper._target_at`), or the
                          #: command ``hit`` gave at the press when there are no targets
    pos: tuple[int, int] = (0, 0)   #: where it is now (logical pixels)
    t: float = 0.0        #: when it went down, on the loop's clock
    hold_s: float = 0.0   #: the target's long press (0: an ordinary tap)
    dead: bool = False    #: moved off a long-press target, or already sent: the release is a no-op


def _target_key(target) -> tuple | None:
    """What identifies a touch target across frames: a Button's rect, command and action (so
    a different button in the same place on a new screen is another target), a bare rect's
    corners."""
    if target is None:
        return None
    rect = getattr(target, "rect", None)
    if rect is None:
        return (tuple(pygame.Rect(target)), None, None)
    return (tuple(pygame.Rect(rect)), getattr(target, "command", None),
            getattr(target, "action", None))


class InputMapper:
    """Turns pygame events into UICommands for the screen being shown.

    ``logical`` is the size the renderer draws at, ``rotation`` how that picture is turned on
    the panel; ``hit(pos, view)`` returns the command of the target under a logical point.
    ``targets(view)``, when given, lists the touch targets: rectangles (logical pixels), or
    objects with a ``rect`` and optionally ``hold_s`` (the renderer's
    :class:`~display.widgets.Button` s), which is how a long press is known.
    ``athlete`` (the demo) receives keyboard-athlete calls; without it space is start/end set.
    """

    def __init__(self, logical: tuple[int, int], rotation: int = 0, *, hit: Hit,
                 targets: Callable[[ViewState], list] | None = None,
                 athlete: Athlete | None = None, badge_timeout_s: float = BADGE_TIMEOUT_S):
        _check_rotation(rotation)
        w, h = logical
        if w <= 0 or h <= 0:
            raise ValueError(f"logical size must be positive, not {logical}")
        if not callable(hit):
            raise TypeError("hit must be a callable (pos, view) -> UICommand | None")
        self.logical = (int(w), int(h))
        self.rotation = rotation
        self.panel = panel_size(self.logical, rotation)
        self.hit = hit
        self.targets = targets
        self.athlete = athlete
        self.badge_timeout_s = badge_timeout_s
        self._presses: dict[object, _Press] = {}
        self._badge = ""
        self._badge_t = 0.0

    # -------------------------------------------------------------------- geometry
    def finger_pos(self, event) -> tuple[int, int]:
        """Logical pixel of a finger event (SDL gives x, y normalised 0..1 to the panel)."""
        pw, ph = self.panel
        px = min(max(event.x * pw, 0), pw - 1)
        py = min(max(event.y * ph, 0), ph - 1)
        return self._logical(px, py)

    def mouse_pos(self, event) -> tuple[int, int]:
        """Logical pixel of a mouse event (window pixels)."""
        return self._logical(*event.pos)

    def _logical(self, px: float, py: float) -> tuple[int, int]:
        x, y = panel_to_logical((px, py), self.logical, self.rotation)
        w, h = self.logical
        return int(min(max(x, 0), w - 1)), int(min(max(y, 0), h - 1))

    # -------------------------------------------------------------------- events
    def handle(self, event, view: ViewState, t: float = 0.0) -> list[UICommand]:
        """The commands ``event`` asks for on ``view`` (usually none or one). ``t`` is the loop's
        clock: it times long presses and forgets stale badge digits."""
        kind = event.type
        if kind == COMMAND_EVENT:
            command = getattr(event, "command", None)
            return [command] if isinstance(command, UICommand) else []
        if kind in (pygame.FINGERDOWN, pygame.FINGERUP, pygame.FINGERMOTION):
            if getattr(event, "touch_id", 0) == MOUSE_TOUCH_ID:
                return []  # a copy of a mouse click
            key = ("finger", getattr(event, "touch_id", 0), getattr(event, "finger_id", 0))
            if kind == pygame.FINGERMOTION:
                self._moved(key, self.finger_pos(event), view)
                return []
            return self._tap(key, kind == pygame.FINGERDOWN, self.finger_pos(event), view, t)
        if kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            if getattr(event, "touch", False) or getattr(event, "button", 1) != 1:
                return []  # a copy of a finger, or not the primary button
            return self._tap("mouse", kind == pygame.MOUSEBUTTONDOWN, self.mouse_pos(event), view,
                             t)
        if kind == pygame.MOUSEMOTION:
            if not getattr(event, "touch", False) and "mouse" in self._presses:
                self._moved("mouse", self.mouse_pos(event), view)
            return []
        if kind == pygame.KEYDOWN:
            return self._key_down(event, view, t)
        if kind == pygame.KEYUP:
            self._key_up(event)
        return []

    def poll(self, view: ViewState, t: float) -> list[UICommand]:
        """The long presses that have lasted their ``hold_s`` by ``t`` (the loop's clock), for
        ``view``: call once a frame. Each is sent once; its finger's release then does nothing.
        A press whose target is gone from under it (the screen changed) is dropped."""
        out: list[UICommand] = []
        for press in self._presses.values():
            if press.dead or press.hold_s <= 0 or t - press.t < press.hold_s:
                continue
            press.dead = True
            command = self._fire(press, view)
            if command is not None:
                out.append(command)
        return out

    def holding(self, view: ViewState, t: float) -> list[tuple[object, float]]:
        """The long presses under way at ``t`` on ``view``: (target, fraction of ``hold_s``
        done), for a display that shows the hold filling up. A press whose target is no longer
        under its finger (the screen changed) is over."""
        out = []
        for press in self._presses.values():
            if press.hold_s <= 0 or press.dead:
                continue
            if _target_key(self._target_at(press.pos, view)) != _target_key(press.target):
                press.dead = True
                continue
            out.append((press.target, min(1.0, max(0.0, (t - press.t) / press.hold_s))))
        return out

    def _fire(self, press: _Press, view: ViewState) -> UICommand | None:
        """The command of a press whose finger is at ``press.pos``, if its target is still
        the one under it."""
        if _target_key(self._target_at(press.pos, view)) != _target_key(press.target):
            return None
        return self.hit(press.pos, view)

    def _moved(self, key, pos: tuple[int, int], view: ViewState) -> None:
        """A finger (or the held mouse) moved: off a long-press target, that press is over."""
        press = self._presses.get(key)
        if press is None:
            return
        press.pos = pos
        if press.hold_s > 0 and self.targets is not None and \
                _target_key(self._target_at(pos, view)) != _target_key(press.target):
            press.dead = True

    def _tap(self, key, down: bool, pos: tuple[int, int], view: ViewState,
             t: float = 0.0) -> list[UICommand]:
        if self.targets is None:
            if down:
                self._presses[key] = _Press(self.hit(pos, view), pos, t)
                return []
            press = self._presses.pop(key, None)
            if press is None or press.target is None:
                return []
            return [press.target] if self.hit(pos, view) == press.target else []
        if down:
            target = self._target_at(pos, view)
            self._presses[key] = _Press(target, pos, t, _hold_s(target))
            return []
        press = self._presses.pop(key, None)
        if press is None or press.target is None or press.dead:
            return []
        if press.hold_s > 0 and t - press.t < press.hold_s:
            return []  # let go too soon: a long press that did not happen
        press.pos = pos
        command = self._fire(press, view)
        return [command] if command is not None else []

    def _target_at(self, pos: tuple[int, int], view: ViewState):
        """The target under ``pos``: the Button (or rect) ``targets`` lists there, or None."""
        for target in self.targets(view):
            rect = pygame.Rect(getattr(target, "rect", target))
            if rect.collidepoint(pos):
                return target if hasattr(target, "rect") else rect
        return None

    def _key_down(self, event, view: ViewState, t: float) -> list[UICommand]:
        key = event.key
        stale = t - self._badge_t > self.badge_timeout_s
        if key in _DIGITS:
            if stale or len(self._badge) >= BADGE_MAX_DIGITS:
                self._badge = ""
            self._badge += _DIGITS[key]
            self._badge_t = t
            return []
        badge, self._badge = self._badge, ""
        if key in _ENTER and badge and not stale:
            return [UICommand("badge", badge)]
        if key == pygame.K_ESCAPE:
            return [UICommand("home")]
        if self.athlete is not None and self._athlete_key(event, down=True):
            return []
        if key in _ENTER or key == pygame.K_SPACE:
            command = {"ready": "start_set", "live": "end_set", "summary": "next"}.get(view.screen)
            return [UICommand(command)] if command else []
        return []

    def _key_up(self, event) -> None:
        if self.athlete is not None:
            self._athlete_key(event, down=False)

    def _athlete_key(self, event, down: bool) -> bool:
        """Send a demo-athlete key to the athlete; True when the key was one of its keys."""
        key = event.key
        if key == pygame.K_SPACE:
            self.athlete("press" if down else "release", "drive")
            return True
        if key in (pygame.K_UP, pygame.K_DOWN, pygame.K_s):
            if down:
                self.athlete({pygame.K_UP: "shift_toe", pygame.K_DOWN: "shift_heel",
                              pygame.K_s: "step"}[key])
            return True
        return False

    def cancel(self) -> None:
        """Forget fingers that are down (e.g. after a failsafe) and half-typed badge digits."""
        self._presses.clear()
        self._badge = ""


def _hold_s(target) -> float:
    """A target's long press in seconds (0: an ordinary tap)."""
    try:
        return max(0.0, float(getattr(target, "hold_s", 0.0) or 0.0))
    except (TypeError, ValueError):
        return 0.0


def athlete_callback(athlete) -> Athlete:
    """Adapt an object with ``press/release/shift_heel/shift_toe/step`` (the keyboard athlete of
    ``drivers.athlete``) to the ``athlete(method, *args)`` callable :class:`InputMapper` takes."""
    allowed = ("press", "release", "shift_heel", "shift_toe", "step")
    missing = [m for m in allowed if not callable(getattr(athlete, m, None))]
    if missing:
        raise TypeError(f"{type(athlete).__name__} cannot be driven by the keyboard: it has no "
                        f"{', '.join(missing)}")

    def call(method: str, *args) -> None:
        if method not in allowed:
            raise ValueError(f"unknown athlete method {method!r}")
        getattr(athlete, method)(*args)

    return call

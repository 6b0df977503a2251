"""Long presses: a button with ``hold_s`` sends its command only after the finger (or the mouse)
stayed on it that long on the loop's clock; the discreet control on idle and ready is one."""

from __future__ import annotations

import pygame
import pytest

from display.input import InputMapper
from display.layout import MIN_TOUCH
from display.render import Renderer
from display.screens import admin_button
from display.widgets import Button
from station.view import LONG_PRESS_S, UICommand

SIZE = (800, 480)
HOLD = Button(pygame.Rect(100, 100, 120, 80), "Hold to leave", UICommand("exit_kiosk"),
              "danger", hold_s=1.0)
TAP = Button(pygame.Rect(300, 100, 120, 80), "Lock", UICommand("lock"), "quiet")


def finger(kind, pos, finger_id=0, size=SIZE):
    return pygame.event.Event(kind, x=(pos[0] + 0.5) / size[0], y=(pos[1] + 0.5) / size[1],
                              dx=0.0, dy=0.0, touch_id=5, finger_id=finger_id, pressure=1.0)


def mouse(kind, pos):
    return pygame.event.Event(kind, pos=pos, button=1, touch=False)


def mapper(buttons=(HOLD, TAP)):
    """A mapper over fixed buttons, as the app builds it over the renderer's."""
    def hit(pos, view):
        for b in buttons:
            if b.rect.collidepoint(pos):
                return b.command
        return None
    return InputMapper(SIZE, hit=hit, targets=lambda view: list(buttons))


@pytest.fixture
def idle(make_view):
    return make_view("idle")


def press(m, view, pos, t_down, t_up, polls=(), up_pos=None):
    """Finger down at ``t_down``, polls at ``polls``, up at ``t_up``: every command sent."""
    out = m.handle(finger(pygame.FINGERDOWN, pos), view, t_down)
    for t in polls:
        out += m.poll(view, t)
    out += m.handle(finger(pygame.FINGERUP, up_pos or pos), view, t_up)
    return out


def test_released_too_soon_sends_nothing(idle):
    m = mapper()
    assert press(m, idle, HOLD.rect.center, 10.0, 10.3) == []
    assert press(m, idle, HOLD.rect.center, 10.0, 10.9, polls=(10.5, 10.9)) == []


def test_held_long_enough_sends_once_on_release_without_polling(idle):
    m = mapper()
    assert press(m, idle, HOLD.rect.center, 10.0, 11.1) == [UICommand("exit_kiosk")]


def test_polled_it_fires_while_the_finger_is_still_down_and_not_again(idle):
    m = mapper()
    assert m.handle(finger(pygame.FINGERDOWN, HOLD.rect.center), idle, 10.0) == []
    assert m.poll(idle, 10.5) == []
    assert m.holding(idle, 10.5) == [(HOLD, pytest.approx(0.5))]
    assert m.poll(idle, 11.0) == [UICommand("exit_kiosk")]
    assert m.poll(idle, 11.5) == []
    assert m.holding(idle, 11.5) == []
    assert m.handle(finger(pygame.FINGERUP, HOLD.rect.center), idle, 12.0) == []


def test_moving_off_before_the_time_cancels(idle):
    m = mapper()
    m.handle(finger(pygame.FINGERDOWN, HOLD.rect.center), idle, 10.0)
    m.handle(pygame.event.Event(pygame.FINGERMOTION, x=5 / 800, y=5 / 480, dx=0.0, dy=0.0,
                                touch_id=5, finger_id=0, pressure=1.0), idle, 10.4)
    assert m.poll(idle, 11.2) == []
    # coming back onto it does not revive the press, nor does releasing on it
    m.handle(finger(pygame.FINGERMOTION, HOLD.rect.center), idle, 11.3)
    assert m.handle(finger(pygame.FINGERUP, HOLD.rect.center), idle, 11.5) == []
    # released somewhere else after the time: nothing either
    assert press(m, idle, HOLD.rect.center, 20.0, 21.5, up_pos=(5, 5)) == []


def test_a_small_wobble_on_the_button_still_counts(idle):
    m = mapper()
    m.handle(finger(pygame.FINGERDOWN, HOLD.rect.center), idle, 10.0)
    m.handle(finger(pygame.FINGERMOTION, (HOLD.rect.centerx + 15, HOLD.rect.centery - 10)),
             idle, 10.5)
    assert m.poll(idle, 11.05) == [UICommand("exit_kiosk")]


def test_ordinary_buttons_still_tap_at_once(idle):
    m = mapper()
    assert press(m, idle, TAP.rect.center, 10.0, 10.05) == [UICommand("lock")]
    assert m.poll(idle, 20.0) == []
    # a drag off an ordinary button cancels, as before
    assert press(m, idle, TAP.rect.center, 30.0, 30.1, up_pos=(5, 5)) == []


def test_a_mouse_press_is_timed_too(idle):
    m = mapper()
    c = HOLD.rect.center
    assert m.handle(mouse(pygame.MOUSEBUTTONDOWN, c), idle, 5.0) == []
    assert m.handle(mouse(pygame.MOUSEBUTTONUP, c), idle, 5.3) == []
    m.handle(mouse(pygame.MOUSEBUTTONDOWN, c), idle, 6.0)
    assert m.handle(mouse(pygame.MOUSEBUTTONUP, c), idle, 7.1) == [UICommand("exit_kiosk")]
    # the mouse dragged off while held
    m.handle(mouse(pygame.MOUSEBUTTONDOWN, c), idle, 8.0)
    m.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=(5, 5), rel=(0, 0), buttons=(1, 0, 0),
                                touch=False), idle, 8.2)
    assert m.poll(idle, 9.5) == []
    assert m.handle(mouse(pygame.MOUSEBUTTONUP, c), idle, 9.6) == []


def test_two_fingers_are_timed_apart(idle):
    m = mapper()
    m.handle(finger(pygame.FINGERDOWN, HOLD.rect.center, finger_id=1), idle, 10.0)
    # another finger taps Lock meanwhile: its tap goes, the hold goes on
    assert m.handle(finger(pygame.FINGERDOWN, TAP.rect.center, finger_id=2), idle, 10.2) == []
    assert m.handle(finger(pygame.FINGERUP, TAP.rect.center, finger_id=2), idle, 10.3) == \
        [UICommand("lock")]
    assert m.poll(idle, 11.0) == [UICommand("exit_kiosk")]


def test_the_screen_changing_under_a_held_finger_cancels_it(make_view):
    other = Button(HOLD.rect, "Delete", UICommand("delete"), "danger", hold_s=1.0)
    shown = [HOLD]
    m = InputMapper(SIZE, hit=lambda p, v: shown[0].command, targets=lambda v: list(shown))
    view = make_view("idle")
    m.handle(finger(pygame.FINGERDOWN, HOLD.rect.center), view, 10.0)
    assert m.holding(view, 10.5) == [(HOLD, pytest.approx(0.5))]
    shown[0] = other   # a new screen with a different long-press button in the same place
    assert m.holding(view, 10.6) == []
    assert m.poll(view, 11.5) == []


# -- the discreet control ---------------------------------------------------------------------
@pytest.mark.parametrize("screen", ["idle", "ready"])
@pytest.mark.parametrize("size", [(800, 480), (720, 1280), (1280, 720), (1920, 1080)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_discreet_control_needs_a_long_press(screen, size, make_view):
    r = Renderer(size)
    view = make_view(screen)
    gear = [b for b in r.buttons(view) if b.command == UICommand("admin")]
    assert len(gear) == 1
    gear = gear[0]
    assert gear == admin_button(r.layout)
    assert gear.hold_s == LONG_PRESS_S
    assert min(gear.rect.size) >= MIN_TOUCH * r.layout.unit
    assert gear.rect.top == 0 and gear.rect.right == size[0]  # in the header's corner
    # discreet: drawn in the header's colour, no label
    assert gear.style == "discreet" and gear.label == ""
    m = InputMapper(size, hit=r.hit, targets=r.buttons)
    c = gear.rect.center
    assert m.handle(finger(pygame.FINGERDOWN, c, size=size), view, 1.0) == []
    assert m.handle(finger(pygame.FINGERUP, c, size=size), view, 1.2) == []   # a tap: nothing
    m.handle(finger(pygame.FINGERDOWN, c, size=size), view, 2.0)
    assert m.poll(view, 2.0 + LONG_PRESS_S / 2) == []
    assert m.poll(view, 2.0 + LONG_PRESS_S) == [UICommand("admin")]
    assert m.handle(finger(pygame.FINGERUP, c, size=size), view, 3.5) == []


def test_the_gear_is_drawn_dim_and_the_header_text_stops_short_of_it(make_view):
    from display import theme as th
    from display import widgets as wd

    r = Renderer((800, 480))
    surf = pygame.Surface((800, 480))
    view = make_view("ready")
    r.theme.log = []
    r.draw(surf, view)
    gear = admin_button(r.layout).rect
    colours = {tuple(surf.get_at((x, y)))[:3] for x in range(gear.left, gear.right)
               for y in range(gear.top, gear.bottom)}
    assert wd.DISCREET_GEAR in colours and th.PANEL in colours
    assert th.TEXT not in colours   # no bright pixel: it does not invite a tap
    context = [rec for rec in r.theme.log if rec.text.startswith("Maria Lopez")]
    assert context and context[0].rect.right < gear.left

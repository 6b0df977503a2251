"""Fuzzing the badge reader's keystrokes (display/input.py, InputMapper: a USB reader is a
keyboard "wedge" that types the badge's digits and Enter within milliseconds).

Keys in any order and at any pace (digits from both rows, Enter from both, Esc, space, letters),
mixed with a reader's bursts. Properties, from the contract (BADGE_TIMEOUT_S):

- a badge command's number is exactly the digits typed just before its Enter, counted from the
  last pause longer than the timeout: never a digit from before another key or a long pause;
- a reader's burst (digits a few ms apart, then Enter) after a pause longer than the timeout
  is always read as exactly its badge, whatever was typed before the pause;
- an Enter with no digit just before it, or one longer than the timeout after the last digit,
  is never a badge (it starts or ends a set as usual);
- more digits than BADGE_MAX_DIGITS in a row (a stuck key) start over: no endless buffer.
"""

from __future__ import annotations

import pygame
from fuzzkit import fuzz
from hypothesis import example, given
from hypothesis import strategies as st

from display.input import BADGE_MAX_DIGITS, BADGE_TIMEOUT_S, InputMapper
from station.view import Targets, UICommand, ViewState

DIGIT_KEYS = {**{getattr(pygame, f"K_{d}"): str(d) for d in range(10)},
              **{getattr(pygame, f"K_KP_{d}"): str(d) for d in range(10)}}
ENTERS = (pygame.K_RETURN, pygame.K_KP_ENTER)
OTHERS = (pygame.K_ESCAPE, pygame.K_SPACE, pygame.K_a, pygame.K_MINUS, pygame.K_TAB,
          pygame.K_BACKSPACE, pygame.K_LSHIFT)
SCREEN_COMMAND = {"ready": "start_set", "live": "end_set", "summary": "next"}

KEYS = st.one_of(st.sampled_from(sorted(DIGIT_KEYS)), st.sampled_from(ENTERS),
                 st.sampled_from(OTHERS))
#: Pauses before a key: a reader's milliseconds, a person's fraction of a second, the timeout
#: itself give or take a hair, and long ones.
PAUSES = st.one_of(st.sampled_from([0.0, 0.004, BADGE_TIMEOUT_S, BADGE_TIMEOUT_S + 1e-9,
                                    BADGE_TIMEOUT_S - 1e-9]),
                   st.floats(0.0, 0.05), st.floats(0.0, 3 * BADGE_TIMEOUT_S))
BURSTS = st.text(alphabet="0123456789", min_size=1, max_size=24)


def _view(screen: str) -> ViewState:
    return ViewState(screen=screen, station_name="Rack 3", exercise_id="x", exercise_name="X",
                     side="left", sides=("left",), tips=(),
                     targets=Targets(reps=8, sets=3, hold_s=1.0, drive_zone="heel",
                                     share_min=0.6, min_lower_s=1.5))


def _down(mapper: InputMapper, key: int, screen: str, t: float) -> list[UICommand]:
    event = pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0)
    return mapper.handle(event, _view(screen), t)


def _expected_badge(typed: list[tuple[int, float]]) -> str:
    """The badge the contract reads at an Enter: the digits right before it, from the last pause
    longer than the timeout (``typed`` is every key since the previous Enter, with its time)."""
    digits: list[tuple[str, float]] = []
    for key, t in typed:
        if key not in DIGIT_KEYS:
            digits = []
        elif digits and (t - digits[-1][1] > BADGE_TIMEOUT_S or len(digits) >= BADGE_MAX_DIGITS):
            digits = [(DIGIT_KEYS[key], t)]
        else:
            digits.append((DIGIT_KEYS[key], t))
    return "".join(d for d, _t in digits)


@fuzz(150)
@given(keys=st.lists(st.tuples(KEYS, PAUSES), max_size=40), burst=BURSTS,
       screen=st.sampled_from(["idle", "ready", "live", "summary"]))
@example(keys=[(pygame.K_1, 0.0), (pygame.K_RETURN, 0.01)], burst="0427", screen="ready")
@example(keys=[(pygame.K_1, 0.0), (pygame.K_2, BADGE_TIMEOUT_S + 0.5)], burst="9", screen="idle")
@example(keys=[(pygame.K_5, 0.0), (pygame.K_ESCAPE, 0.01)], burst="1" * 24, screen="live")
@example(keys=[(pygame.K_7, 0.0)] * 40 + [(pygame.K_RETURN, 0.004)], burst="12", screen="ready")
@example(keys=[(pygame.K_7, 0.0), (pygame.K_RETURN, 3 * BADGE_TIMEOUT_S)], burst="3",
         screen="summary")
def test_badge_keystrokes_read_as_the_contract_says(keys, burst, screen):
    mapper = InputMapper((800, 480), hit=lambda pos, view: None)
    t = 100.0
    typed: list[tuple[int, float]] = []
    for key, pause in keys:
        t += pause
        commands = _down(mapper, key, screen, t)
        if key in ENTERS:
            badge = _expected_badge(typed)
            stale = bool(typed) and t - typed[-1][1] > BADGE_TIMEOUT_S
            usual = [UICommand(SCREEN_COMMAND[screen])] if screen in SCREEN_COMMAND else []
            if not badge:
                assert commands == usual, (typed, commands)
            elif stale:  # the digits are no badge: the Enter came too long after them
                assert commands == usual, (typed, commands)
            else:
                assert commands == [UICommand("badge", badge)], (typed, commands)
            typed = []
        else:
            assert all(c.kind != "badge" for c in commands), commands
            typed.append((key, t))
    t += BADGE_TIMEOUT_S + 0.001  # then, after a pause, a reader: digits ms apart, and Enter
    for digit in burst:
        t += 0.004
        assert _down(mapper, getattr(pygame, f"K_{digit}"), screen, t) == []
    assert _down(mapper, pygame.K_RETURN, screen, t + 0.004) == [UICommand("badge", burst)]


def test_an_enter_long_after_the_digits_is_not_a_badge():
    mapper = InputMapper((800, 480), hit=lambda pos, view: None)
    _down(mapper, pygame.K_4, "ready", 10.0)
    assert _down(mapper, pygame.K_RETURN, "ready", 10.0 + 3 * BADGE_TIMEOUT_S) == \
        [UICommand("start_set")]

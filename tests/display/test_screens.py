"""Every screen at every resolution: what is on it, where a tap goes, what a frame redraws."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pygame
import pytest
from screen_probe import mask, pixels, shows

from display import theme as th
from display import widgets as wd
from display.render import FAILSAFE_MESSAGE, Renderer
from drivers.errors import UnknownScreen
from station.view import ADMIN_COMMANDS, UI_COMMANDS, Cue, FaultView, LiveView, UICommand

Rect = pygame.Rect
SIZES = [(800, 480), (720, 1280), (1280, 720), (1920, 1080)]
SCREENS = ["idle", "ready", "live", "summary", "fault"]
SENTINEL = (255, 0, 255)
MARGIN = 24
SHOTS = Path(os.environ.get("GYM_SHOTS", "/tmp/gym-shots"))


def render(size, view, renderer=None):
    """Draw ``view`` on a surface bigger than the screen, its margin filled with a sentinel."""
    renderer = renderer or Renderer(size)
    surf = pygame.Surface((size[0] + MARGIN, size[1] + MARGIN))
    surf.fill(SENTINEL)
    renderer.theme.log = []
    dirty = renderer.draw(surf, view)
    return renderer, surf, dirty


# -- every screen, every size -----------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_stays_on_the_screen_and_its_text_fits(size, screen, make_view):
    renderer, surf, dirty = render(size, make_view(screen))
    screen_rect = Rect(0, 0, *size)
    # nothing drawn outside the screen
    outside = mask(surf, SENTINEL)
    outside[:size[0], :size[1]] = True
    assert outside.all()
    # every piece of text inside its box and on the screen, and there is text
    log = renderer.theme.log
    assert len(log) >= 5
    for rec in log:
        assert rec.box.contains(rec.rect) or rec.rect.width == 0, rec
        assert screen_rect.contains(rec.rect), rec
    assert dirty == [screen_rect]
    SHOTS.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surf.subsurface(screen_rect), str(SHOTS / f"{screen}_{size[0]}x{size[1]}.png"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", SCREENS)
def test_touch_targets_are_big_apart_and_do_what_they_say(size, screen, make_view):
    view = make_view(screen)
    renderer, surf, _ = render(size, view)
    buttons = renderer.buttons(view)
    min_px = 60 * renderer.layout.unit
    screen_rect = Rect(0, 0, *size)
    for i, b in enumerate(buttons):
        assert b.rect.width >= min_px and b.rect.height >= min_px, b
        assert screen_rect.contains(b.rect)
        for other in buttons[i + 1:]:
            assert not b.rect.colliderect(other.rect), (b, other)
        if b.command is not None:
            assert b.command.kind in UI_COMMANDS + ADMIN_COMMANDS
            assert renderer.hit(b.rect.center, view) == b.command
            assert renderer.hit((b.rect.right - 2, b.rect.bottom - 2), view) == b.command
        # the button is drawn where it is hit: its fill just inside its top edge
        fill = wd.BUTTON_COLOURS[b.style][0]
        assert tuple(pixels(surf)[b.rect.centerx, b.rect.top + renderer.theme.px(5)]) == fill
    # a tap on the header or off every button asks for nothing
    assert renderer.hit((size[0] // 2, 5), view) is None


def commands(renderer, view):
    return {(b.command.kind, b.command.value) for b in renderer.buttons(view) if b.command}


def test_each_screen_offers_its_commands(make_view):
    r = Renderer((800, 480))
    ready = commands(r, make_view("ready"))
    assert {("guest", None), ("start_set", None), ("home", None), ("choose_side", "left"),
            ("choose_side", "right"), ("choose_athlete", "a1"),
            ("choose_exercise", "single_leg_hip_thrust")} <= ready
    assert commands(r, make_view("live")) == {("end_set", None)}
    assert commands(r, make_view("summary")) == {("next", None), ("home", None)}
    assert commands(r, make_view("idle")) == {("button_press", None), ("admin", None)}
    assert ("admin", None) in ready  # the discreet control (a long press) on idle and ready
    assert commands(r, make_view("fault")) == set()
    # a two-footed exercise has no side to choose
    assert not any(k == "choose_side" for k, _ in
                   commands(r, make_view("ready", sides=("both",), side="both")))


@pytest.mark.parametrize("size", [(800, 480), (720, 1280)], ids=["800x480", "720x1280"])
def test_a_long_roster_pages_and_every_athlete_can_be_tapped(size, make_view):
    roster = tuple((f"id{i}", f"Athlete {i:02d}") for i in range(23))
    view = make_view("ready", roster=roster, athlete=None)
    r = Renderer(size)
    seen: set[str] = set()
    surf = pygame.Surface(size)
    for _ in range(12):
        r.draw(surf, view)
        shown = [b for b in r.buttons(view) if b.command and b.command.kind == "choose_athlete"]
        seen |= {b.command.value for b in shown}
        for b in shown:  # the name is on the button that is hit
            assert b.label == dict(roster)[b.command.value]
        more = [b for b in r.buttons(view) if b.action == "roster_more"]
        assert len(more) == 1
        assert r.hit(more[0].rect.center, view) is None   # turning the page is the display's
    assert seen == {a for a, _ in roster}


# -- what is on the live screen ---------------------------------------------------------------
def live_view(make_view, **live):
    base = dict(phase="top", load_n=700.0, heel_n=500.0, forefoot_n=200.0, heel_share=0.71,
                cop_along=0.35, cop_across=None, hold_s=0.6, reps=5, good_reps=4, set_index=2,
                side_index=1)
    base.update(live)
    return make_view("live", live=LiveView(**base))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_screen_shows_the_count_cue_gauge_and_hold(size, make_view):
    view = live_view(make_view, reps=5, heel_share=0.71, hold_s=0.25)
    r, surf, _ = render(size, view)
    t, lay = r.theme, r.layout.live()
    count_box = wd.rep_counter_parts(lay["reps"], t)["count"]
    assert shows(surf, t, "5/8", count_box, t.font_size("huge"), th.TEXT, th.PANEL)
    assert not shows(surf, t, "4/8", count_box, t.font_size("huge"), th.TEXT, th.PANEL)
    # the banner: red for a fault, with its words
    banner = lay["banner"]
    assert tuple(pixels(surf)[banner.centerx, banner.top + 3]) == th.BAD_FILL
    assert any(rec.text == view.cue.text and banner.contains(rec.rect) for rec in t.log)
    # the gauge's needle at 71 % of the track
    gauge = lay["gauge"]
    track = mask(surf, th.GAUGE_TRACK, gauge) | mask(surf, th.GAUGE_BAND, gauge)
    cols = np.flatnonzero(track.any(axis=1))
    needle = np.flatnonzero(mask(surf, th.NEEDLE, gauge).any(axis=1)).mean()
    assert abs((needle - cols.min()) / (cols.max() - cols.min()) - 0.71) < 0.012
    # the hold bar a quarter full
    hold = lay["hold"]
    fill = mask(surf, th.HOLD_FILL, hold).any(axis=1).sum()
    empty = mask(surf, th.HOLD_TRACK, hold).any(axis=1).sum()
    assert abs(fill / (fill + empty) - 0.25) < 0.01
    # the foot: the heel carries more, so it is hotter than the ball of the foot
    foot = r.screens["live"].foot(view)
    arr = pixels(surf)
    heel = arr[foot.zone_centre("heel")]
    ball = arr[foot.zone_centre("forefoot")]
    hot = np.array(th.FOOT_HOT)
    assert np.abs(heel - hot).sum() < np.abs(ball - hot).sum()


def test_live_banner_colour_follows_the_cue(make_view):
    r = Renderer((800, 480))
    banner = r.layout.live()["banner"]
    for kind, colour in (("good", th.GOOD), ("drive", th.INFO_FILL), ("switch_side", th.WARN)):
        view = make_view("live", cue=Cue(kind, "Words.", None, 1, 3.0))
        _, surf, _ = render((800, 480), view, r)
        assert tuple(pixels(surf)[banner.centerx, banner.top + 3]) == colour
    # no cue: a dim panel that names the phase
    view = make_view("live", cue=None)
    _, surf, _ = render((800, 480), view, r)
    assert tuple(pixels(surf)[banner.centerx, banner.top + 3]) == th.PANEL
    assert any(rec.text == th.PHASE_WORDS["top"] for rec in r.theme.log)


def test_summary_shows_the_counts_and_left_vs_right(make_view, summary_factory):
    r, surf, _ = render((800, 480), make_view("summary"))
    texts = {rec.text for rec in r.theme.log}
    assert "5 of 8 good" in texts
    assert {"Left vs right", "66%", "58%", "12%", "20%"} <= texts
    assert "Left vs right: after both sides" not in texts
    r, surf, _ = render((800, 480), make_view("summary", summary=summary_factory(asymmetry=False)))
    assert "Left vs right: after both sides" in {rec.text for rec in r.theme.log}
    # 8 holds shaded on the chart
    chart = r.layout.summary()["chart"]
    cols = np.flatnonzero(mask(surf, th.HOLD_SHADE, chart).any(axis=1))
    assert len(np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)) == 8


def test_fault_screen_says_what_is_wrong_and_what_to_do(make_view):
    fault = FaultView("Forefoot chip saturated", "Unload the plate; if it stays, check the cell.")
    r, surf, _ = render((800, 480), make_view("fault", fault=fault))
    lay = r.layout.fault()
    t = r.theme
    assert shows(surf, t, fault.title, lay["title"], t.font_size("title"), th.WARN, th.BG)
    assert any(rec.text == fault.advice for rec in t.log)
    assert mask(surf, th.WARN, lay["icon"]).sum() > 1000  # the warning sign


# -- what a frame redraws ---------------------------------------------------------------------
def same_as_fresh(size, surf, view):
    _, fresh, _ = render(size, view)
    return np.array_equal(pixels(surf)[:size[0], :size[1]], pixels(fresh)[:size[0], :size[1]])


def test_an_unchanged_frame_redraws_nothing_and_a_change_only_its_widget(make_view):
    size = (800, 480)
    r = Renderer(size)
    view = live_view(make_view)
    _, surf, dirty = render(size, view, r)
    assert dirty == [Rect(0, 0, *size)]
    assert r.draw(surf, view) == []
    view.live.reps = 6
    assert r.draw(surf, view) == [r.layout.live()["reps"]]
    assert same_as_fresh(size, surf, view)


def test_a_frame_by_frame_set_matches_a_fresh_render(make_view, trace_factory):
    """Incremental redraws must leave exactly what a full redraw would: step a live set through
    changes to every widget, then switch screens and back."""
    size = (1280, 720)
    r = Renderer(size)
    surf = pygame.Surface(size)
    view = live_view(make_view)
    r.draw(surf, view)
    steps = [
        dict(heel_n=300.0, forefoot_n=400.0, heel_share=0.43),
        dict(hold_s=0.9, phase="top"),
        dict(hold_s=0.93, heel_n=302.0, heel_share=0.432),   # small moves still show
        dict(reps=6, good_reps=5, hold_s=0.0, phase="lower"),
        dict(heel_share=None, load_n=5.0, heel_n=3.0, forefoot_n=2.0, phase="off"),
        dict(set_index=3),
    ]
    for i, change in enumerate(steps):
        for k, v in change.items():
            setattr(view.live, k, v)
        view.live.trace = trace_factory(t_end=20.0 + 0.5 * i)
        view.cue = None if i % 2 else Cue("hold", "Hold it.", "hold", 2, 20.0 + i)
        dirty = r.draw(surf, view)
        assert dirty and Rect(0, 0, *size) not in dirty
        assert same_as_fresh(size, surf, view), change
    summary = dataclasses.replace(view, screen="summary")
    assert r.draw(surf, summary) == [Rect(0, 0, *size)]
    assert same_as_fresh(size, surf, summary)
    assert r.draw(surf, view) == [Rect(0, 0, *size)]
    assert same_as_fresh(size, surf, view)


def test_a_message_shows_over_the_header_and_goes_away(make_view):
    size = (800, 480)
    r = Renderer(size)
    surf = pygame.Surface(size)
    view = make_view("ready")
    r.draw(surf, view)
    noted = dataclasses.replace(view, message="Badge 0042 is not known")
    header = r.layout.header
    assert r.draw(surf, noted) == [header]
    assert tuple(pixels(surf)[header.left + 3, header.top + 3]) == th.WARN
    assert r.draw(surf, noted) == []
    assert r.draw(surf, view) == [header]
    assert same_as_fresh(size, surf, view)


def test_failsafe_apologises_and_the_next_frame_is_whole(make_view):
    size = (800, 480)
    r = Renderer(size)
    surf = pygame.Surface(size)
    view = make_view("live")
    r.draw(surf, view)
    r.theme.log = []
    r.failsafe(surf)
    assert [rec.text for rec in r.theme.log] == [FAILSAFE_MESSAGE]
    assert not mask(surf, th.BAD_FILL).any()  # the live screen is gone
    assert r.draw(surf, view) == [Rect(0, 0, *size)]
    assert same_as_fresh(size, surf, view)


def test_an_unknown_screen_is_an_error_a_person_can_act_on(make_view):
    r = Renderer((800, 480))
    with pytest.raises(UnknownScreen, match="no_such_screen"):
        r.draw(pygame.Surface((800, 480)), make_view("no_such_screen"))
    assert r.hit((10, 10), make_view("no_such_screen")) is None


def test_renderer_refuses_an_impossible_size():
    with pytest.raises(ValueError):
        Renderer((0, 480))


def test_hit_returns_a_command_object(make_view):
    r = Renderer((800, 480))
    view = make_view("live")
    end = r.layout.live()["end"]
    assert r.hit(end.center, view) == UICommand("end_set")

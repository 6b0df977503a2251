"""The widgets draw what their values say: checked on the pixels, not just that they ran."""

from __future__ import annotations

import numpy as np
import pygame
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from screen_probe import mask, pixels, shows

from display import theme as th
from display import widgets as wd
from display.layout import grid, split
from station.view import PHASE_CODES, Cue, Trace

Rect = pygame.Rect


def fresh(size=(800, 480), colour=th.BG) -> pygame.Surface:
    surf = pygame.Surface(size)
    surf.fill(colour)
    return surf


@pytest.fixture
def theme():
    return th.Theme((800, 480))


# -- layout helpers ---------------------------------------------------------------------------
def test_split_fills_the_rect_without_overlap():
    parts = split(Rect(10, 20, 500, 300), [100, 0.5, 0], 8, vertical=False)
    assert parts[0].width == 100
    assert parts[0].right + 8 == parts[1].left and parts[1].right + 8 == parts[2].left
    assert parts[2].right <= 510 and parts[2].right >= 508  # rounding loses at most 2 px
    assert all(p.top == 20 and p.height == 300 for p in parts)
    cells = grid(Rect(0, 0, 300, 200), 2, 3, 6)
    assert len(cells) == 6
    for i, a in enumerate(cells):
        for b in cells[i + 1:]:
            assert not a.colliderect(b)


# -- theme ------------------------------------------------------------------------------------
def _luminance(c):
    def chan(v):
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (chan(v) for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("kind", ["drive", "hold", "toe_drive", "short_hold", "too_fast", "good",
                                  "set_done", "rest", "switch_side", "lower"])
def test_cue_colours_read_at_a_distance(kind):
    bg, fg = th.cue_colours(kind)
    assert contrast(bg, fg) >= 4.5
    assert contrast(bg, th.BG) >= 2.0  # the banner stands out from the screen


@pytest.mark.parametrize("style", sorted(wd.BUTTON_COLOURS))
def test_button_labels_read_at_a_distance(style):
    fill, text, _ = wd.BUTTON_COLOURS[style]
    assert contrast(fill, text) >= 4.5


def test_cue_colours_mean_one_thing_each():
    assert th.cue_colours("toe_drive")[0] == th.BAD_FILL
    assert th.cue_colours("too_fast")[0] == th.BAD_FILL
    assert th.cue_colours("good")[0] == th.GOOD
    assert th.cue_colours("switch_side")[0] == th.WARN
    assert th.cue_colours("drive")[0] == th.INFO_FILL


def test_theme_scales_with_the_screen():
    assert th.Theme((800, 480)).unit == 1.0
    assert th.Theme((1280, 720)).unit == 1.5
    assert th.Theme((720, 1280)).unit == 1.5
    assert th.Theme((1920, 1080)).unit == 2.25
    with pytest.raises(ValueError):
        th.Theme((0, 480))


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet="abcdefghij KLMNOP,.-0123456789", min_size=1, max_size=80),
       w=st.integers(20, 500), h=st.integers(10, 120))
def test_text_is_shrunk_then_ellipsized_to_fit_its_box(text, w, h):
    theme = th.Theme((800, 480))
    surf = theme.line(text, w, h, 60, th.TEXT)
    assert surf.get_width() <= w and surf.get_height() <= h
    block = theme.block(text, w, h, 60, th.TEXT)
    assert block.get_width() <= w and block.get_height() <= h


def test_long_text_ends_with_an_ellipsis(theme):
    long = "Push through your heel, not your toes, and keep pushing " * 3
    size = theme.fit_size(long, 200, 40, 40)
    assert size == th.MIN_FONT
    cut = theme.ellipsize(long, size, 200)
    assert cut.endswith("...") and long.startswith(cut[:-3].rstrip())
    assert theme.font(size).size(cut)[0] <= 200


# -- heel-share gauge -------------------------------------------------------------------------
def draw_gauge(theme, share, share_min=0.6, zone="heel"):
    surf, rect = fresh(), Rect(50, 40, 400, 92)
    wd.draw_gauge_static(surf, rect, theme, share_min, zone)
    wd.draw_gauge(surf, rect, theme, share, share_min, zone)
    return surf, rect


def track_extent(surf, rect):
    """Left and right x of the gauge's track+band, found by colour along its widest row."""
    track_or_band = mask(surf, th.GAUGE_TRACK, rect) | mask(surf, th.GAUGE_BAND, rect)
    cols = np.flatnonzero(track_or_band.any(axis=1))
    return cols.min(), cols.max()


@pytest.mark.parametrize("share", [0.05, 0.3, 0.5, 0.71, 0.97])
def test_gauge_needle_sits_at_the_heel_share(theme, share):
    surf, rect = draw_gauge(theme, share)
    left, right = track_extent(surf, rect)
    needle = np.flatnonzero(mask(surf, th.NEEDLE, rect).any(axis=1))
    assert len(needle) > 0
    x = needle.mean()
    assert abs((x - left) / (right - left) - share) < 0.012


def test_gauge_band_is_the_coaches_target(theme):
    surf, rect = draw_gauge(theme, None, share_min=0.6, zone="heel")
    left, right = track_extent(surf, rect)
    band = np.flatnonzero(mask(surf, th.GAUGE_BAND, rect).any(axis=1))
    assert abs((band.min() - left) / (right - left) - 0.6) < 0.01
    assert band.max() == right
    # a forefoot exercise wants the heel share low: the band is at the toes' end
    surf, rect = draw_gauge(theme, None, share_min=0.8, zone="forefoot")
    band = np.flatnonzero(mask(surf, th.GAUGE_BAND, rect).any(axis=1))
    assert band.min() == left
    assert abs((band.max() - left) / (right - left) - 0.2) < 0.01


def test_gauge_without_a_share_has_no_needle(theme):
    surf, rect = draw_gauge(theme, None)
    assert not mask(surf, th.NEEDLE, rect).any()


# -- hold timer -------------------------------------------------------------------------------
@pytest.mark.parametrize(("hold", "target"), [(0.0, 1.0), (0.25, 1.0), (0.6, 1.0), (7.0, 20.0)])
def test_hold_timer_fills_in_proportion(theme, hold, target):
    surf, rect = fresh(), Rect(100, 100, 240, 78)
    wd.draw_hold_timer(surf, rect, theme, hold, target)
    fill = mask(surf, th.HOLD_FILL, rect).any(axis=1).sum()
    empty = mask(surf, th.HOLD_TRACK, rect).any(axis=1).sum()
    assert fill + empty > 150
    assert abs(fill / (fill + empty) - hold / target) < 0.01
    assert not mask(surf, th.HOLD_DONE, rect).any()


def test_hold_timer_turns_green_at_the_target(theme):
    surf, rect = fresh(), Rect(100, 100, 240, 78)
    wd.draw_hold_timer(surf, rect, theme, 1.3, 1.0)
    assert not mask(surf, th.HOLD_TRACK, rect).any()  # full
    assert mask(surf, th.HOLD_DONE, rect).any(axis=1).sum() > 150


# -- foot -------------------------------------------------------------------------------------
def foot_colours(theme, heel, fore, across=None, side="right", four=False):
    rect = Rect(20, 60, 180, 320)
    surf = fresh()
    foot = wd.FootDrawing(rect, theme, side, four)
    foot.draw(surf, theme, heel, fore, 0.5, across)
    arr = pixels(surf)
    box = foot.box

    def at(fx, fy):  # a point of the right foot in its unit box (mirrored for the left)
        if side == "left":
            fx = 1 - fx
        return tuple(arr[round(box.left + fx * box.width), round(box.top + fy * box.height)])

    return at, foot


def heat(colour):
    """How far a colour is from cold towards hot, 0..1, along the shading ramp."""
    cold, hot = np.array(th.FOOT_COLD), np.array(th.FOOT_HOT)
    return float(np.dot(np.array(colour) - cold, hot - cold) / np.dot(hot - cold, hot - cold))


def test_foot_is_hotter_where_the_load_is(theme):
    at, _ = foot_colours(theme, heel=600, fore=150)
    heel, ball = heat(at(0.52, 0.82)), heat(at(0.50, 0.35))
    assert heel > ball
    assert abs(heel - 0.8) < 0.03 and abs(ball - 0.2) < 0.03
    at, _ = foot_colours(theme, heel=100, fore=700)
    assert heat(at(0.52, 0.82)) < heat(at(0.50, 0.35))


def test_foot_shading_follows_the_heel_share(theme):
    heats = [heat(foot_colours(theme, 750 * s, 750 * (1 - s))[0](0.52, 0.82))
             for s in (0.1, 0.4, 0.7, 0.95)]
    assert heats == sorted(heats) and heats[-1] - heats[0] > 0.7


def test_foot_with_nobody_on_it_is_cold(theme):
    at, _ = foot_colours(theme, 5, 3)
    assert at(0.52, 0.82) == th.FOOT_COLD and at(0.5, 0.35) == th.FOOT_COLD


@pytest.mark.parametrize("side", ["left", "right"])
def test_four_cell_foot_shades_medial_and_lateral(theme, side):
    # Mostly on the inside edge (big-toe side) of the foot.
    at, foot = foot_colours(theme, 400, 400, across=-0.8, side=side, four=True)
    medial_heel, lateral_heel = heat(at(0.36, 0.82)), heat(at(0.66, 0.82))
    medial_ball, lateral_ball = heat(at(0.25, 0.35)), heat(at(0.75, 0.35))
    assert medial_heel > lateral_heel + 0.5 and medial_ball > lateral_ball + 0.5
    # The big toe is on the medial side: right of centre for a left foot seen from above.
    big_toe_x = foot.toes[0][0][0]
    assert (big_toe_x > foot.box.centerx) == (side == "left")


# -- trace and charts -------------------------------------------------------------------------
def phase_trace(t, codes):
    return Trace(np.asarray(t, float), 300 + 400 * np.sin(np.linspace(0, 3, len(t))) ** 2,
                 np.asarray(codes, dtype=np.int8))


def test_trace_is_coloured_by_phase_and_shows_only_the_last_seconds(theme):
    t = np.arange(0, 10, 1 / 80)
    codes = np.where(t < 3, PHASE_CODES["lower"],
                     np.where(t < 7, PHASE_CODES["drive"], PHASE_CODES["top"]))
    surf, rect = fresh(), Rect(200, 100, 400, 240)
    plot = wd.trace_parts(rect, theme)["plot"]
    wd.draw_trace(surf, rect, theme, phase_trace(t, codes), 650.0)
    drive = np.flatnonzero(mask(surf, th.PHASE_COLOURS["drive"], plot).any(axis=1))
    top = np.flatnonzero(mask(surf, th.PHASE_COLOURS["top"], plot).any(axis=1))
    # 6 s window from 4 s to 10 s: drive 4..7 s is the left half, hold 7..10 s the right half.
    mid = plot.left + plot.width / 2
    assert drive.min() <= plot.left + 3 and drive.max() <= mid + 3
    assert top.min() >= mid - 3 and top.max() >= plot.right - 4
    assert not mask(surf, th.PHASE_COLOURS["lower"], plot).any()  # older than the window


def test_force_chart_shades_the_holds(theme):
    t = np.arange(0, 20, 1 / 80)
    surf, rect = fresh(), Rect(20, 20, 600, 220)
    wd.draw_force_chart(surf, rect, theme, phase_trace(t, np.zeros(len(t))),
                        [(5.0, 6.0), (15.0, 17.0)])
    cols = np.flatnonzero(mask(surf, th.HOLD_SHADE, rect).any(axis=1))
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    assert len(runs) == 2
    x0, x1 = runs[0].min(), runs[-1].max()
    span_a, span_b = runs[0].max() - runs[0].min(), runs[1].max() - runs[1].min()
    assert abs(span_b / span_a - 2.0) < 0.15            # 2 s hold is twice as wide as 1 s
    assert abs((runs[1].min() - x0) / (x1 - x0) - 10 / 12) < 0.03  # holds 10 s apart


def test_rep_bars_are_as_tall_as_the_values_and_coloured_by_target(theme):
    surf, rect = fresh(), Rect(20, 20, 300, 200)
    values = [0.5, 1.0, 1.5, None]
    wd.draw_rep_bars(surf, rect, theme, "Hold per rep", values, 1.0, lambda v: f"{v:.1f} s",
                     top=2.0)
    good = mask(surf, th.GOOD, rect)
    bad = mask(surf, th.BAD, rect)
    good_h = good.sum(axis=1).max()
    bad_h = bad.sum(axis=1).max()
    assert bad.any() and good.any()
    assert abs(good_h / bad_h - 3.0) < 0.1              # tallest green 1.5 vs red 0.5
    assert np.flatnonzero(bad.any(axis=1)).max() < np.flatnonzero(good.any(axis=1)).min()


def test_bar_heights():
    assert wd.bar_heights([0.0, 0.5, 1.0, 2.0, None], 1.0, 100) == [0, 50, 100, 100, 0]


def test_rep_counter_shows_the_count(theme):
    surf, rect = fresh(), Rect(560, 60, 224, 112)
    wd.draw_rep_counter(surf, rect, theme, 5, 8, 4)
    box = wd.rep_counter_parts(rect, theme)["count"]
    size = theme.font_size("huge")
    assert shows(surf, theme, "5/8", box, size, th.TEXT, th.PANEL)
    assert not shows(surf, theme, "6/8", box, size, th.TEXT, th.PANEL)
    good_box = wd.rep_counter_parts(rect, theme)["good"]
    assert shows(surf, theme, "4 good", good_box, theme.font_size("body"), th.GOOD, th.PANEL,
                 align="right")


def test_cue_banner_colour_and_text(theme):
    rect = Rect(10, 380, 780, 84)
    surf = fresh()
    wd.draw_cue_banner(surf, rect, theme, Cue("toe_drive", "Push through your heel.",
                                              "warning", 5, 1.0))
    arr = pixels(surf)
    region = arr[rect.left:rect.right, rect.top:rect.bottom].reshape(-1, 3)
    colours, counts = np.unique(region, axis=0, return_counts=True)
    assert tuple(colours[counts.argmax()]) == th.BAD_FILL
    box = rect.inflate(-theme.px(24), -theme.px(10))
    assert shows(surf, theme, "Push through your heel.", box, theme.font_size("title"), th.TEXT,
                 th.BAD_FILL)
    surf2 = fresh()
    wd.draw_cue_banner(surf2, rect, theme, Cue("good", "Good rep.", "good", 1, 2.0))
    assert tuple(pixels(surf2)[rect.centerx, rect.top + 4]) == th.GOOD


def test_sides_panel_colours_the_difference(theme):
    assert wd.asymmetry_colour(0.05) == th.GOOD
    assert wd.asymmetry_colour(0.15) == th.WARN
    assert wd.asymmetry_colour(0.30) == th.BAD
    surf, rect = fresh(), Rect(10, 10, 500, 160)
    theme.log = []
    wd.draw_sides_panel(surf, rect, theme, {"heel_share": (0.7, 0.5, 0.29), "hold_s": (1.0, 1.0, 0.0)})
    texts = [r.text for r in theme.log]
    assert {"Heel share", "70%", "50%", "29%", "Hold", "1.0 s", "0%"} <= set(texts)
    assert mask(surf, th.BAD, rect).any() and mask(surf, th.GOOD, rect).any()


@pytest.mark.parametrize("drawing", [wd.draw_hip_thrust, wd.draw_warning_sign])
def test_drawings_stay_inside_their_rect(theme, drawing):
    surf = fresh((400, 300), (255, 0, 255))
    rect = Rect(50, 40, 300, 200)
    surf.fill(th.BG, rect)
    drawing(surf, rect, theme)
    outside = mask(surf, (255, 0, 255))
    outside[rect.left:rect.right, rect.top:rect.bottom] = True
    assert outside.all()
    inside = pixels(surf)[rect.left:rect.right, rect.top:rect.bottom]
    assert (inside != np.array(th.BG)).any(axis=2).mean() > 0.05  # something was drawn

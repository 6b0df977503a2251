"""The coach's screens at every size: what is on them, where a tap goes, what stays inert."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pygame
import pytest
from screen_probe import mask, pixels

from display import theme as th
from display import widgets as wd
from display.admin_screens import ADMIN_SCREEN_CLASSES
from display.render import Renderer
from station.view import (
    ADMIN_COMMANDS,
    LONG_PRESS_S,
    AdminView,
    HistoryView,
    KeyboardView,
    ListItem,
    PinView,
    ProgramView,
    SessionRow,
    SettingRow,
    UICommand,
)

Rect = pygame.Rect
SIZES = [(800, 480), (720, 1280), (1280, 720), (1920, 1080)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]
SCREENS = ["pin", "coach", "program", "athletes", "athlete", "history", "keyboard"]
SENTINEL = (255, 0, 255)
MARGIN = 24
SHOTS = Path(os.environ.get("GYM_SHOTS", "/tmp/gym-shots")) / "admin"

PROGRAMS = (
    ListItem("heavy", "Heavy week", "Single-leg hip thrust - 6 x 4 - hold 2.0 s",
             command=UICommand("open", "program:heavy")),
    ListItem("base", "Base", "Single-leg hip thrust - 8 x 3 - station", selected=True,
             command=UICommand("open", "program:base")),
    ListItem("rehab", "Knee rehab (slow lowering)", "Glute-bridge hold - 10 x 2 - lower 3.0 s",
             command=UICommand("open", "program:rehab")),
)
ROWS = (
    SettingRow("exercise", "Exercise", "Single-leg hip thrust", True, True,
               "The exercise these targets are for."),
    SettingRow("reps", "Reps per set", "8", True, True, "Reps in each set, per side."),
    SettingRow("sets", "Sets", "1", False, True, "Sets per side."),
    SettingRow("sides", "Sides", "Left + Right", True, True,
               "Which legs, in order; both for two-footed exercises."),
    SettingRow("hold_target_s", "Hold at the top", "1.5 s", True, True,
               "Seconds to hold at the top; less is a short hold."),
    SettingRow("share_threshold", "Drive-zone share", "95%", True, False,
               "Least share of the load under the driving zone during the drive."),
    SettingRow("min_lower_s", "Lowering time", "2.0 s", True, True,
               "Least seconds to lower; faster is too fast (0: not judged)."),
)


def athletes(n: int) -> tuple[ListItem, ...]:
    return tuple(ListItem(f"a{i}", f"Athlete number {i:02d}",
                          f"badge 10{i:03d} - {'Heavy week' if i % 2 else 'station program'}",
                          command=UICommand("open", f"athlete:a{i}")) for i in range(n))


def admin_for(screen: str, **over) -> AdminView:
    """A plausible AdminView for ``screen`` (what ``station.admin`` would send)."""
    if screen == "pin":
        a = AdminView(None, "Coach and staff", pin=PinView("coach", 3, "enter",
                                                             error="Wrong PIN: 3 tries left"))
    elif screen == "coach":
        a = AdminView("coach", "Programs", items=PROGRAMS, note="Saved: from the next set")
    elif screen == "program":
        a = AdminView("coach", "Program", program=ProgramView(
            "heavy", "Heavy week", ROWS, changed=True, for_station=False, used_by=3))
    elif screen == "athletes":
        a = AdminView("coach", "Athletes", items=athletes(5))
    elif screen == "athlete":
        items = (ListItem("", "The station's program", command=UICommand("assign", "")),
                 ListItem("heavy", "Heavy week", selected=True,
                          command=UICommand("assign", "heavy")),
                 ListItem("rehab", "Knee rehab", command=UICommand("assign", "rehab")))
        a = AdminView("coach", "Athlete", items=items,
                      athlete=("a12", "Maria Lopez", "100234", "Heavy week"))
    elif screen == "history":
        rows = tuple(SessionRow(f"2026-11-{24 - i:02d}", "Single-leg hip thrust", 3, 24,
                                18 + i % 3, 0.55 + 0.03 * i if i != 2 else None,
                                0.8 + 0.1 * i) for i in range(7))
        a = AdminView("coach", "History: Maria Lopez", history=HistoryView(
            "Maria Lopez", rows,
            trend_heel_share=np.array([0.5, 0.55, np.nan, 0.62, 0.66, 0.7, 0.72]),
            trend_hold_s=np.array([0.6, 0.8, 0.9, 1.0, 1.2, 1.1, 1.4]),
            heel_target=0.6, hold_target_s=1.0))
    elif screen == "keyboard":
        a = AdminView("coach", "Athlete", keyboard=KeyboardView("Athlete's name", "Maria Lo",
                                                                 40))
    else:
        raise ValueError(screen)
    return dataclasses.replace(a, **over)


@pytest.fixture
def admin_view(make_view):
    def make(screen: str, **over):
        return make_view(screen, admin=admin_for(screen, **over))
    return make


def render(size, view, renderer=None):
    renderer = renderer or Renderer(size)
    surf = pygame.Surface((size[0] + MARGIN, size[1] + MARGIN))
    surf.fill(SENTINEL)
    renderer.theme.log = []
    dirty = renderer.draw(surf, view)
    return renderer, surf, dirty


def test_every_coach_screen_is_registered():
    assert set(SCREENS) <= set(ADMIN_SCREEN_CLASSES)
    r = Renderer((800, 480))
    assert all(type(r.screens[name]) is ADMIN_SCREEN_CLASSES[name] for name in SCREENS)


# -- every screen, every size -----------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_draws_inside_and_its_targets_are_big_apart_and_answer(size, screen, admin_view):
    view = admin_view(screen)
    renderer, surf, dirty = render(size, view)
    screen_rect = Rect(0, 0, *size)
    outside = mask(surf, SENTINEL)
    outside[:size[0], :size[1]] = True
    assert outside.all(), "drew outside the screen"
    for rec in renderer.theme.log:
        assert rec.box.contains(rec.rect) or rec.rect.width == 0, rec
        assert screen_rect.contains(rec.rect), rec
    assert dirty == [screen_rect]
    buttons = renderer.buttons(view)
    min_px = renderer.layout.min_touch
    assert min_px >= round(60 * renderer.layout.unit) - 1
    kinds = set()
    for i, b in enumerate(buttons):
        assert b.rect.width >= min_px and b.rect.height >= min_px, b
        assert screen_rect.contains(b.rect), b
        for other in buttons[i + 1:]:
            assert not b.rect.colliderect(other.rect), (b, other)
        if b.command is not None:
            assert b.command.kind in ADMIN_COMMANDS, b
            assert renderer.hit(b.rect.center, view) == b.command
            assert renderer.hit((b.rect.right - 2, b.rect.bottom - 2), view) == b.command
            kinds.add(b.command.kind)
        # drawn where it is hit: its style's fill just inside its top edge
        fill = wd.BUTTON_COLOURS[b.style][0]
        assert tuple(pixels(surf)[b.rect.centerx, b.rect.top + renderer.theme.px(5)]) == fill, b
    assert "lock" in kinds and ("back" in kinds or "kb_cancel" in kinds)
    assert renderer.hit((size[0] // 2, 3), view) is None  # the header is not a button
    if size in ((800, 480), (720, 1280)):
        SHOTS.mkdir(parents=True, exist_ok=True)
        pygame.image.save(surf.subsurface(screen_rect),
                          str(SHOTS / f"{screen}_{size[0]}x{size[1]}.png"))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("screen", SCREENS)
def test_without_an_admin_view_a_page_is_empty_but_can_be_left(size, screen, make_view):
    view = make_view(screen, admin=None)
    r = Renderer(size)
    surf = pygame.Surface(size)
    r.warm(surf, view)
    r.draw(surf, view)
    assert {b.command.kind for b in r.buttons(view) if b.command} == {"back", "lock"}


# -- PIN pad ----------------------------------------------------------------------------------
def pin_view(admin_view, **pin):
    base = dict(role="coach", typed=0, stage="enter")
    base.update(pin)
    return admin_view("pin", pin=PinView(**base))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_the_keypad_types_the_digit_on_its_key(size, admin_view):
    view = pin_view(admin_view)
    r = Renderer(size)
    by_label = {b.label: b for b in r.buttons(view)}
    for d in "0123456789":
        assert r.hit(by_label[d].rect.center, view) == UICommand("pin_digit", d)
    assert r.hit(by_label["OK"].rect.center, view) == UICommand("pin_ok")
    assert r.hit(by_label["Delete"].rect.center, view) == UICommand("pin_back")
    assert r.hit(by_label["Staff"].rect.center, view) == UICommand("pin_role", "staff")
    assert r.hit(by_label["Coach"].rect.center, view) == UICommand("pin_role", "coach")
    assert by_label["Coach"].style == "selected" and by_label["Staff"].style == "normal"


def test_the_pad_shows_a_dot_per_digit_and_never_a_digit(admin_view):
    r = Renderer((800, 480))
    surf = pygame.Surface((800, 480))
    dots = r.layout.admin_pin()["dots"]
    counts = []
    for typed in (0, 3, 6):
        view = pin_view(admin_view, typed=typed)
        r.draw(surf, view)
        centres, _ = wd.pin_dot_centres(dots, r.theme, typed)
        filled = [tuple(pixels(surf)[x, y]) == th.TEXT for x, y in centres]
        counts.append(sum(filled))
        assert filled == [i < typed for i in range(len(centres))]
    assert counts == [0, 3, 6]


@pytest.mark.parametrize("size", [(800, 480), (720, 1280)], ids=["800x480", "720x1280"])
def test_a_locked_pad_counts_down_and_sends_no_digit(size, admin_view):
    view = pin_view(admin_view, typed=0, locked_s=41.2)
    r, surf, _ = render(size, view)
    pad = [b for b in r.buttons(view) if b.label in "0123456789" or b.label in ("OK", "Delete")]
    assert len(pad) == 12
    for b in pad:
        assert b.command is None and b.style == "dim"
        assert r.hit(b.rect.center, view) is None
    assert any("42 s" in rec.text for rec in r.theme.log)
    # the lockout over, the same renderer offers the digits again
    view = pin_view(admin_view, typed=0, locked_s=0.0)
    r.draw(surf, view)
    assert {b.command for b in r.buttons(view) if b.label == "5"} == {UICommand("pin_digit", "5")}


def test_the_stage_and_the_error_are_said(admin_view):
    for stage, words in (("enter", "Enter the coach PIN"), ("choose", "Choose a new coach PIN"),
                         ("confirm", "Type it again"),
                         ("authorize", "Enter the staff PIN first")):
        r, _, _ = render((800, 480), pin_view(admin_view, stage=stage, error="The PINs differ"))
        texts = [rec.text for rec in r.theme.log]
        assert words in texts and "The PINs differ" in texts


# -- lists ------------------------------------------------------------------------------------
def test_coach_home_opens_programs_new_program_and_athletes(admin_view):
    view = admin_view("coach")
    r = Renderer((800, 480))
    cmds = {b.command for b in r.buttons(view) if b.command}
    assert {UICommand("open", "program:heavy"), UICommand("open", "program:base"),
            UICommand("open", "new_program"), UICommand("open", "athletes"),
            UICommand("lock"), UICommand("back")} <= cmds
    base = next(b for b in r.buttons(view) if b.label == "Base")
    assert base.style == "selected"       # the station's program
    r.theme.log = []
    r.draw(pygame.Surface((800, 480)), view)
    texts = [rec.text for rec in r.theme.log]
    assert "Saved: from the next set" in texts and "Programs" in texts and "Coach" in texts
    assert "Single-leg hip thrust - 8 x 3 - station" in texts   # a row's second line
    # an item without a command opens itself
    view = admin_view("coach", items=(ListItem("light", "Light"),))
    assert UICommand("open", "program:light") in {b.command for b in r.buttons(view)}
    # an item that repeats a bar action is not listed twice; one that does more is listed
    items = (*PROGRAMS, ListItem("own", "Exercises' own targets", "For everyone without one",
                                 command=UICommand("station_program", "")),
             ListItem("new_program", "New program", command=UICommand("open", "new_program")))
    buttons = r.buttons(admin_view("coach", items=items))
    assert [b.label for b in buttons].count("New program") == 1
    assert UICommand("station_program", "") in {b.command for b in buttons}


@pytest.mark.parametrize("size", [(800, 480), (720, 1280)], ids=["800x480", "720x1280"])
def test_a_long_roster_pages_and_every_athlete_can_be_opened(size, admin_view):
    roster = athletes(23)
    view = admin_view("athletes", items=roster)
    r = Renderer(size)
    surf = pygame.Surface(size)
    seen = set()
    for _ in range(8):
        r.draw(surf, view)
        buttons = r.buttons(view)
        seen |= {b.command.value for b in buttons if b.command and b.command.kind == "open"}
        more = [b for b in buttons if b.action == "more"]
        assert len(more) == 1
        assert r.hit(more[0].rect.center, view) is None   # the page is the display's
    assert seen == {f"athlete:{item.id}" for item in roster}
    assert UICommand("new_athlete") in {b.command for b in r.buttons(view)}


def test_an_empty_roster_says_what_to_do(admin_view):
    r, _, _ = render((800, 480), admin_view("athletes", items=()))
    assert any("No athletes yet" in rec.text for rec in r.theme.log)


# -- program editor ---------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_every_setting_has_minus_and_plus_inert_at_its_bounds(size, admin_view):
    view = admin_view("program")
    r = Renderer(size)
    buttons = r.buttons(view)
    assert not [b for b in buttons if b.action == "more"]   # all seven rows on one page
    for row in ROWS:
        for kind, can in (("setting_down", row.can_down), ("setting_up", row.can_up)):
            live = [b for b in buttons if b.command == UICommand(kind, row.key)]
            assert len(live) == (1 if can else 0), (row.key, kind)
    dims = [b for b in buttons if b.style == "dim"]
    assert {b.label for b in dims} == {"-", "+"} and len(dims) == 2
    for b in dims:
        assert b.command is None and r.hit(b.rect.center, view) is None


def test_program_actions_and_the_long_press_to_delete(admin_view):
    view = admin_view("program")
    r = Renderer((800, 480))
    by_label = {b.label: b for b in r.buttons(view)}
    assert by_label["Heavy week"].command == UICommand("rename")
    assert by_label["Save"].command == UICommand("save") and by_label["Save"].style == "primary"
    station = by_label["Use for the whole station"]
    assert station.command == UICommand("station_program", "heavy")
    assert station.style == "normal"
    delete = by_label["Hold to delete"]
    assert delete.command == UICommand("delete") and delete.hold_s >= LONG_PRESS_S
    # saved and the station's: Save is no longer the next step, the station button is selected
    saved = dataclasses.replace(view.admin.program, changed=False, for_station=True)
    view = admin_view("program", program=saved)
    by_label = {b.label: b for b in r.buttons(view)}
    assert by_label["Save"].style == "normal"
    assert by_label["Use for the whole station"].style == "selected"
    # a new program cannot be the station's or be deleted before it is saved
    new = dataclasses.replace(saved, program_id=None)
    view = admin_view("program", program=new)
    kinds = {b.command.kind for b in r.buttons(view) if b.command}
    assert "station_program" not in kinds and "delete" not in kinds and "save" in kinds


def test_touching_a_setting_shows_its_help(admin_view):
    view = admin_view("program")
    r, surf, _ = render((800, 480), view)
    assert any(rec.text.startswith("Exercise:") for rec in r.theme.log)
    plus = next(b for b in r.buttons(view) if b.command == UICommand("setting_up", "reps"))
    assert r.hit(plus.rect.center, view) == UICommand("setting_up", "reps")
    r.theme.log = []
    r.draw(surf, view)
    assert any(rec.text.startswith("Reps per set: Reps in each set") for rec in r.theme.log)
    # the dim + of the share at its maximum sends nothing but still explains itself
    dim = next(b for b in r.buttons(view) if b.action == "help:share_threshold")
    r.hit(dim.rect.center, view)
    r.theme.log = []
    r.draw(surf, view)
    assert any(rec.text.startswith("Drive-zone share:") for rec in r.theme.log)


def test_more_rows_than_fit_are_paged(admin_view):
    rows = tuple(SettingRow(f"k{i}", f"Setting {i}", str(i), True, True) for i in range(13))
    view = admin_view("program", program=ProgramView("p", "Many", rows, False, False))
    r = Renderer((800, 480))
    surf = pygame.Surface((800, 480))
    seen = set()
    for _ in range(3):
        r.draw(surf, view)
        seen |= {b.command.value for b in r.buttons(view)
                 if b.command and b.command.kind == "setting_up"}
        more = next(b for b in r.buttons(view) if b.action == "more")
        r.hit(more.rect.center, view)
    assert seen == {f"k{i}" for i in range(13)}


# -- athlete ----------------------------------------------------------------------------------
def test_athlete_page_renames_badges_cycles_programs_and_deletes_by_long_press(admin_view):
    view = admin_view("athlete")
    r, _, _ = render((800, 480), view)
    by_label = {b.label: b for b in r.buttons(view)}
    assert by_label["Rename"].command == UICommand("rename")
    assert by_label["Set badge"].command == UICommand("set_badge")
    assert by_label["History"].command == UICommand("open", "history:a12")
    # the program button sends the item after the selected one
    assert by_label["Change program"].command == UICommand("assign", "rehab")
    delete = by_label["Hold to delete"]
    assert delete.command == UICommand("delete") and delete.hold_s >= LONG_PRESS_S
    texts = [rec.text for rec in r.theme.log]
    assert "Maria Lopez" in texts and "100234" in texts and "Heavy week" in texts
    assert any("scan" in t for t in texts)
    # the last program wraps round to the first
    items = tuple(dataclasses.replace(i, selected=(i.id == "rehab")) for i in view.admin.items)
    view = admin_view("athlete", items=items)
    assert next(b for b in r.buttons(view) if b.label == "Change program").command == \
        UICommand("assign", "")
    # without the list of programs, the station is asked for the next one
    view = admin_view("athlete", items=())
    assert next(b for b in r.buttons(view) if b.label == "Change program").command == \
        UICommand("assign")


# -- history ----------------------------------------------------------------------------------
def test_history_shows_the_sessions_and_the_trends_against_their_targets(admin_view):
    view = admin_view("history")
    r, surf, _ = render((800, 480), view)
    texts = [rec.text for rec in r.theme.log]
    assert "24 Nov" in texts and "18/24" in texts and "55%" in texts and "0.8 s" in texts
    assert "--" in texts                       # the session where the share was not measured
    assert "target 60%" in texts and "target 1.0 s" in texts
    # each measured session is a dot on the share chart: green at/over 60%, amber under
    lay = r.layout.admin_history()
    plot = wd.trend_parts(lay["share"], r.theme)["plot"]
    points = wd.trend_points(plot, view.admin.history.trend_heel_share, 1.0)
    assert points[2] is None
    assert tuple(pixels(surf)[points[0]]) == th.WARN       # 50% < 60%
    assert tuple(pixels(surf)[points[-1]]) == th.GOOD      # 72%


def test_an_empty_history_says_so(admin_view):
    empty = HistoryView("Sam", (), np.zeros(0), np.zeros(0), 0.6, 1.0)
    r, _, _ = render((800, 480), admin_view("history", history=empty))
    texts = " ".join(rec.text for rec in r.theme.log)
    assert "No sessions yet" in texts and "no sessions measured yet" in texts


# -- keyboard ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_the_keyboard_types_letters_and_shift_changes_the_case(size, admin_view):
    view = admin_view("keyboard")
    r = Renderer(size)

    def key(label):
        return next(b for b in r.buttons(view) if b.label == label)

    letters = {b.command.value for b in r.buttons(view)
               if b.command and b.command.kind == "kb_key"}
    assert set("abcdefghijklmnopqrstuvwxyz0123456789- ") <= letters
    assert r.hit(key("m").rect.center, view) == UICommand("kb_key", "m")
    assert r.hit(key("Shift").rect.center, view) is None     # the display's own
    assert key("Shift").style == "selected"
    assert r.hit(key("M").rect.center, view) == UICommand("kb_key", "M")
    # one capital, then lower case again
    assert r.hit(key("a").rect.center, view) == UICommand("kb_key", "a")
    assert r.hit(key("Space").rect.center, view) == UICommand("kb_key", " ")
    assert r.hit(key("Delete").rect.center, view) == UICommand("kb_back")
    assert r.hit(key("OK").rect.center, view) == UICommand("kb_ok")
    assert r.hit(key("Cancel").rect.center, view) == UICommand("kb_cancel")
    assert r.hit(key("Lock").rect.center, view) == UICommand("lock")


def test_a_badge_number_gets_a_number_pad(admin_view):
    kb = KeyboardView("Badge number", "1002", 12, digits=True)
    view = admin_view("keyboard", keyboard=kb)
    r, _, _ = render((800, 480), view)
    typed = {b.command.value for b in r.buttons(view) if b.command and b.command.kind == "kb_key"}
    assert typed == set("0123456789")
    assert not [b for b in r.buttons(view) if b.action == "@shift"]


def test_the_field_shows_the_text_the_error_and_keeps_the_end_in_view(admin_view):
    kb = KeyboardView("Athlete's name", "Maria", 40, error="That name is taken")
    r, _, _ = render((800, 480), admin_view("keyboard", keyboard=kb))
    texts = [rec.text for rec in r.theme.log]
    assert "Maria" in texts and "That name is taken" in texts
    assert "Athlete's name" in texts          # the keyboard's title heads the page
    long = "Maximilian Alexander von Hohenberg-Ost"
    kb = KeyboardView("Athlete's name", long, 40)
    r, _, _ = render((800, 480), admin_view("keyboard", keyboard=kb))
    shown = [rec.text for rec in r.theme.log if rec.text.endswith("Ost")]
    assert shown and shown[0].startswith("...") and shown[0] != long


# -- redrawing --------------------------------------------------------------------------------
def test_a_frame_redraws_only_what_changed(admin_view):
    r = Renderer((800, 480))
    surf = pygame.Surface((800, 480))
    view = pin_view(admin_view, typed=1)
    r.draw(surf, view)
    assert r.draw(surf, view) == []                         # nothing changed: nothing drawn
    dirty = r.draw(surf, pin_view(admin_view, typed=2))
    assert dirty == [r.layout.admin_pin()["dots"]]
    first = r.buttons(view)
    assert r.buttons(pin_view(admin_view, typed=3)) is first  # the buttons are not rebuilt
    kb = admin_view("keyboard")
    r.draw(surf, kb)
    moved = dataclasses.replace(kb.admin.keyboard, text="Maria Lop")
    dirty = r.draw(surf, admin_view("keyboard", keyboard=moved))
    assert dirty == [r.layout.admin_keyboard(4)["field"]]


def test_a_full_field_takes_no_more_characters(admin_view):
    kb = KeyboardView("Badge number", "123456789012", 12, digits=True)
    view = admin_view("keyboard", keyboard=kb)
    r = Renderer((800, 480))
    assert not [b for b in r.buttons(view) if b.command and b.command.kind == "kb_key"]
    five = next(b for b in r.buttons(view) if b.label == "5")
    assert five.style == "dim" and r.hit(five.rect.center, view) is None
    kinds = {b.command.kind for b in r.buttons(view) if b.command}
    assert {"kb_back", "kb_ok", "kb_cancel", "lock"} <= kinds
    shorter = dataclasses.replace(kb, text="12345678901")
    assert r.hit(five.rect.center, admin_view("keyboard", keyboard=shorter)) == \
        UICommand("kb_key", "5")


# -- names with accents and punctuation -------------------------------------------------------
def keys_typed(r, view) -> set[str]:
    return {b.command.value for b in r.buttons(view) if b.command and b.command.kind == "kb_key"}


def toggle(r, view, action):
    b = next(b for b in r.buttons(view) if b.action == action)
    assert r.hit(b.rect.center, view) is None   # the display's own
    return b


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_the_keyboard_has_name_punctuation_and_a_page_of_accented_letters(size, admin_view):
    view = admin_view("keyboard")
    r = Renderer(size)
    assert set(".-' ") <= keys_typed(r, view)
    assert toggle(r, view, "@accents").label == "àé"
    accented = keys_typed(r, view)
    assert set("éèêëáàâäãåçíìîïñóòôöõøúùûüýßæœčćšžłńřş") <= accented
    assert not set("abcdefghijklmnopqrstuvwxyz") & accented
    assert next(b for b in r.buttons(view) if b.action == "@accents").label == "abc"
    # every key a fingertip, inside the screen, apart from the others, and answering
    screen_rect = Rect(0, 0, *size)
    buttons = r.buttons(view)
    for i, b in enumerate(buttons):
        assert b.rect.width >= r.layout.min_touch and b.rect.height >= r.layout.min_touch, b
        assert screen_rect.contains(b.rect), b
        assert not any(b.rect.colliderect(o.rect) for o in buttons[i + 1:]), b
        if b.command is not None and b.command.kind != "kb_key":  # a letter: see below
            assert r.hit(b.rect.center, view) == b.command
    # an accented letter, for one letter: then the letters again
    e_acute = next(b for b in r.buttons(view) if b.label == "é")
    assert r.hit(e_acute.rect.center, view) == UICommand("kb_key", "é")
    assert "a" in keys_typed(r, view) and "é" not in keys_typed(r, view)
    # Shift gives the capitals ("ß" has no one-letter capital: it stays)
    toggle(r, view, "@accents")
    toggle(r, view, "@shift")
    capitals = keys_typed(r, view)
    assert {"É", "Ñ", "Ü", "Ł", "ß"} <= capitals and all(len(c) == 1 for c in capitals)
    # the theme's font has every glyph (a missing one renders as the same empty box)
    font = r.theme.font(r.theme.font_size("title"))
    box = pygame.image.tobytes(font.render("\u0800", True, (255, 255, 255)), "RGBA")
    missing = [c for c in accented | capitals
               if pygame.image.tobytes(font.render(c, True, (255, 255, 255)), "RGBA") == box]
    assert missing == []


def type_with_keys(r, kiosk, text: str) -> None:
    """Type ``text`` as a coach would: tap the key that types each character, going to the
    capitals and the accented letters (Shift, the accents key) when it is not showing."""
    for ch in text:
        for attempt in range(4):
            view = kiosk.view()
            key = next((b for b in r.buttons(view) if b.command == UICommand("kb_key", ch)),
                       None)
            if key is not None:
                kiosk.handle(r.hit(key.rect.center, view))
                break
            toggle(r, view, "@shift" if attempt % 2 == 0 else "@accents")
        else:
            raise AssertionError(f"no key types {ch!r} on the {r.size} keyboard")


@pytest.mark.parametrize("size", [(800, 480), (720, 1280)], ids=["800x480", "720x1280"])
def test_names_with_accents_and_punctuation_reach_the_roster_and_its_csv(size, tmp_path,
                                                                         monkeypatch):
    from station.admin import Admin
    from station.kiosk import Kiosk
    from station.profiles import load_profiles
    from station.roster import Roster, parse_roster_csv

    monkeypatch.setattr("station.pins.SCRYPT_N", 2**10)   # cheaper hashing, same code path
    kiosk = Kiosk(load_profiles(), rate_hz=80.0)
    admin = Admin.for_station(kiosk, tmp_path)
    admin.pins.set_pin("coach", "2580")
    for c in [UICommand("admin", "coach"), *(UICommand("pin_digit", d) for d in "2580"),
              UICommand("pin_ok")]:
        kiosk.handle(c)
    assert kiosk.view().screen == "coach"
    r = Renderer(size)
    names = ["José Muñoz", "J. Smith", "Zoë D'Arcy-Łukasz", "Søren Østergård"]
    for name in names:
        kiosk.handle(UICommand("new_athlete"))
        assert kiosk.view().screen == "keyboard"
        type_with_keys(r, kiosk, name)
        assert kiosk.view().admin.keyboard.text == name
        ok = next(b for b in r.buttons(kiosk.view()) if b.command == UICommand("kb_ok"))
        kiosk.handle(r.hit(ok.rect.center, kiosk.view()))
        assert kiosk.view().screen == "athlete", kiosk.view().admin.keyboard
    stored = Roster.load(tmp_path)
    assert [a.name for a in stored.athletes()] == names
    rows = parse_roster_csv(stored.export_csv().encode("utf-8"))
    assert [entry.name for _, entry in rows] == names

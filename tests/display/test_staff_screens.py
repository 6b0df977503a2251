"""The staff's screens (staff, calibrate) at every size, and the loop's part in staff mode: the
volume the staff chose reaches the cue player, and leaving the kiosk ends the loop."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pygame
import pytest
from audio_probe import IN_FLIGHT, UNSEEN, captured, onsets, stream_until, streamed
from screen_probe import mask, pixels

from display import app as app_mod
from display import theme as th
from display import widgets as wd
from display.app import run_kiosk
from display.layout import MIN_TOUCH
from display.render import Renderer
from display.sound import tone_wave
from display.staff_screens import progress_fill_width, step_text
from drivers.clock import VirtualClock
from station.config import AudioConfig, DisplayConfig
from station.view import (
    ADMIN_COMMANDS,
    LONG_PRESS_S,
    AdminView,
    AudioView,
    CalibrateView,
    Cue,
    StaffView,
    UICommand,
)

Rect = pygame.Rect
SIZES = [(800, 480), (720, 1280), (1280, 720), (1920, 1080)]
SENTINEL = (255, 0, 255)
#: Where the screenshots go to be looked at (as the coach screens' go to $GYM_SHOTS/admin).
SHOTS = Path(os.environ.get("GYM_SHOTS", "/tmp/gym-shots")) / "staff"

STAFF = StaffView(
    today=(("Sessions", "14"), ("Athletes", "9"), ("Guests", "3"), ("Reps", "412")),
    health=(("Calibration", "12 days ago", True), ("Sample rate", "79.6 /s", True),
            ("Faults today", "2 spikes", False), ("Usage log", "all written", True)),
    usb="/media/gym/STICK", volume=60, muted=False)
CAL = CalibrateView(kind="calibrate", step=2, steps=3,
                    prompt="Put the 20 kg mass on the heel, then tap Take reading",
                    progress=0.4, error="The load moved during the reading: keep the plate "
                                        "still and try again")


def staff_view(make_view, note="Exported 14 sessions", **over):
    return make_view("staff", admin=AdminView(role="staff", title="Staff",
                                              staff=dataclasses.replace(STAFF, **over),
                                              note=note))


def cal_view(make_view, **over):
    return make_view("calibrate", admin=AdminView(role="staff", title="Calibration",
                                                  calibrate=dataclasses.replace(CAL, **over)))


def render(size, view, renderer=None):
    """``view`` drawn on a surface with a sentinel margin; the renderer logs its text."""
    renderer = renderer or Renderer(size)
    surf = pygame.Surface((size[0] + 20, size[1] + 20))
    surf.fill(SENTINEL)
    renderer.theme.log = []
    renderer.draw(surf, view)
    return renderer, surf


def texts(renderer):
    return [rec.text for rec in renderer.theme.log]


def commands(renderer, view):
    return {b.command.kind: b for b in renderer.buttons(view) if b.command}


# -- every size -------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("which", ["staff", "calibrate"])
def test_drawn_inside_the_screen_with_big_separate_targets_that_do_what_they_say(
        which, size, make_view, tmp_path):
    view = staff_view(make_view) if which == "staff" else cal_view(make_view)
    r, surf = render(size, view)
    screen = Rect(0, 0, *size)
    outside = mask(surf, SENTINEL)
    outside[:size[0], :size[1]] = True
    assert outside.all()
    for rec in r.theme.log:
        assert rec.box.contains(rec.rect) or rec.rect.width == 0, rec
        assert screen.contains(rec.rect), rec
    buttons = r.buttons(view)
    assert len(buttons) >= 3
    for i, b in enumerate(buttons):
        assert min(b.rect.size) >= MIN_TOUCH * r.layout.unit, b
        assert screen.contains(b.rect) and not b.rect.colliderect(r.layout.header), b
        for other in buttons[i + 1:]:
            assert not b.rect.colliderect(other.rect), (b, other)
        assert b.command is not None and b.command.kind in ADMIN_COMMANDS
        assert r.hit(b.rect.center, view) == b.command
        assert r.hit((b.rect.left + 2, b.rect.bottom - 2), view) == b.command
        fill = wd.BUTTON_COLOURS[b.style][0]
        assert tuple(pixels(surf)[b.rect.centerx, b.rect.top + r.theme.px(5)]) == fill
        # every label is on its button
        if b.label:
            assert any(rec.text == b.label and b.rect.contains(rec.rect)
                       for rec in r.theme.log), b
    assert r.hit((size[0] // 2, 3), view) is None   # the header asks for nothing
    name = f"{which}_{size[0]}x{size[1]}.png"
    pygame.image.save(surf.subsurface(screen), str(tmp_path / name))
    SHOTS.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surf.subsurface(screen), str(SHOTS / name))


# -- the staff page ---------------------------------------------------------------------------
def test_the_staff_page_shows_today_health_volume_and_the_note(make_view):
    view = staff_view(make_view)
    r, surf = render((800, 480), view)
    shown = texts(r)
    for what, value in STAFF.today:
        assert what in shown and value in shown
    assert "Volume 60%" in shown and "Exported 14 sessions" in shown
    assert "To /media/gym/STICK" in shown
    # the row that is not ok is amber, the others are not
    log = {rec.text: rec.rect for rec in r.theme.log}
    faults = mask(surf, th.WARN, log["2 spikes"]).sum()
    assert faults > 20
    assert mask(surf, th.WARN, log["79.6 /s"]).sum() == 0
    b = commands(r, view)
    assert set(b) == {"tare", "calibrate", "export_usb", "volume_down", "volume_up", "mute",
                      "exit_kiosk", "lock"}
    assert b["mute"].style == "normal" and b["export_usb"].style == "normal"
    # leaving the kiosk is a red long press that says so
    leave = b["exit_kiosk"]
    assert leave.hold_s == LONG_PRESS_S and leave.style == "danger" and "Hold" in leave.label
    assert all(x.hold_s == 0 for k, x in b.items() if k != "exit_kiosk")


def test_no_stick_dims_export_but_it_still_asks_and_mute_shows_selected(make_view):
    view = staff_view(make_view, usb=None, muted=True, volume=0, note=None)
    r, surf = render((800, 480), view)
    b = commands(r, view)
    assert b["export_usb"].style == "quiet"
    assert r.hit(b["export_usb"].rect.center, view) == UICommand("export_usb")
    assert "Plug in a USB stick" in texts(r)
    assert b["mute"].style == "selected"
    assert "Muted (0%)" in texts(r)
    assert b["volume_down"].style == "quiet"   # at the bottom already
    assert b["volume_up"].style == "normal"


def test_a_changed_volume_redraws_the_page(make_view):
    r = Renderer((800, 480))
    surf = pygame.Surface((800, 480))
    r.draw(surf, staff_view(make_view))
    louder = staff_view(make_view, volume=70)
    assert r.draw(surf, louder) == [Rect(0, 0, 800, 480)]
    fresh = pygame.Surface((800, 480))
    Renderer((800, 480)).draw(fresh, louder)
    assert np.array_equal(pixels(surf), pixels(fresh))
    assert r.draw(surf, louder) == []


def test_many_health_rows_are_cut_and_counted(make_view):
    health = tuple((f"Cell {i}", "ok", True) for i in range(30))
    r, _ = render((800, 480), staff_view(make_view, health=health))
    shown = texts(r)
    more = [t for t in shown if t.startswith("+") and t.endswith("more")]
    assert len(more) == 1
    n_shown = sum(1 for t in shown if t.startswith("Cell "))
    assert n_shown + int(more[0].split()[0][1:]) == 30


@pytest.mark.parametrize("which", ["staff", "calibrate"])
def test_no_admin_part_draws_an_empty_page(which, make_view):
    view = make_view(which)   # admin=None, as at start-up
    r, surf = render((800, 480), view)
    assert r.buttons(view) == []
    assert r.hit((400, 300), view) is None
    body = r.layout.body
    assert mask(surf, th.BG, body).sum() == body.width * body.height
    # warming every screen at start-up does not raise
    r.warm(pygame.Surface((800, 480)), view)


# -- calibration ------------------------------------------------------------------------------
def test_calibrate_shows_step_prompt_progress_and_the_error(make_view):
    view = cal_view(make_view)
    r, surf = render((800, 480), view)
    shown = texts(r)
    assert step_text(CAL) == "Calibration - step 2 of 3" and step_text(CAL) in shown
    assert CAL.prompt in shown and CAL.error in shown
    error = next(rec.rect for rec in r.theme.log if rec.text == CAL.error)
    assert mask(surf, th.BAD, error).sum() > 50
    # the bar is 40 % blue
    bar = r.screens["calibrate"].parts()["progress"]
    blue = mask(surf, th.INFO_FILL, bar).any(axis=1).sum()
    assert blue == pytest.approx(progress_fill_width(bar, r.theme, CAL), abs=2)
    assert blue == pytest.approx(0.4 * (bar.width - 2 * r.theme.px(4)), abs=3)
    b = commands(r, view)
    assert set(b) == {"back", "cal_cancel", "cal_take"}
    assert b["cal_take"].label == "Reading..."   # a reading under way


def test_calibrate_progress_redraws_only_the_bar(make_view):
    r = Renderer((800, 480))
    surf = pygame.Surface((800, 480))
    r.draw(surf, cal_view(make_view, progress=0.2, error=None))
    dirty = r.draw(surf, cal_view(make_view, progress=0.6, error=None))
    assert dirty == [r.screens["calibrate"].parts()["progress"]]


def test_calibrate_waiting_and_done(make_view):
    waiting = cal_view(make_view, progress=0.0, error=None)
    r, _ = render((800, 480), waiting)
    b = commands(r, waiting)
    assert b["cal_take"].label == "Take reading" and b["cal_take"].style == "primary"
    assert "Waiting for Take reading" in texts(r)
    done = cal_view(make_view, progress=1.0, error=None, step=3,
                    done="Saved: heel 412.3 counts/N, forefoot 405.9 counts/N")
    r, surf = render((800, 480), done)
    assert set(commands(r, done)) == {"back"}
    rect = next(rec.rect for rec in r.theme.log if rec.text.startswith("Saved: heel"))
    assert mask(surf, th.GOOD, rect).sum() > 50


def test_tare_names_itself(make_view):
    view = cal_view(make_view, kind="tare", step=1, steps=1, prompt="Step off the plate",
                    error=None, progress=0.0)
    r, _ = render((720, 1280), view)
    assert "Tare - step 1 of 1" in texts(r)


# -- the loop: volume and leaving -------------------------------------------------------------
def display_cfg() -> DisplayConfig:
    return DisplayConfig(width=0, height=0, fullscreen=False, rotation=0, fps=60,
                         hide_cursor=True)


def audio_cfg(**kw) -> AudioConfig:
    base = dict(volume=1.0, mute=False, speech=False, voice="en", quiet_hours=None,
                quiet_volume=0.3, buffer=512)
    base.update(kw)
    return AudioConfig(**base)


class StaffKiosk:
    """A station on the staff page: mute, volume and leaving as the real one would answer."""

    def __init__(self, make_view, cues=()):
        self.make_view = make_view
        self.staff = STAFF
        self.exit = False
        self.handled: list[UICommand] = []
        self.cues = list(cues)       # (t, Cue): emitted on the first frame at or after t
        self.pending: list[Cue] = []
        self.t = None

    def handle(self, command):
        self.handled.append(command)
        s = self.staff
        if command.kind == "mute":
            self.staff = dataclasses.replace(s, muted=not s.muted)
        elif command.kind == "volume_down":
            self.staff = dataclasses.replace(s, volume=max(0, s.volume - 10))
        elif command.kind == "exit_kiosk":
            self.exit = True

    def feed(self, samples):
        if samples:
            self.t = samples[-1]
        while self.cues and self.t is not None and self.t >= self.cues[0][0]:
            self.pending.append(self.cues.pop(0)[1])

    def tick(self, status):
        pass

    def view(self):
        v = self.make_view("staff", admin=AdminView(role="staff", title="Staff",
                                                    staff=self.staff), cue=None)
        v.audio = AudioView(self.staff.volume / 100, self.staff.muted)
        v.exit_requested = self.exit
        return v

    def take_cues(self):
        out, self.pending = self.pending, []
        return out


@pytest.fixture
def players(monkeypatch):
    """Every CuePlayer the loop makes."""
    made = []

    class Recorded(app_mod.CuePlayer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            made.append(self)

    monkeypatch.setattr(app_mod, "CuePlayer", Recorded)
    yield made
    pygame.display.init()   # run_kiosk quits pygame; the other tests expect it up
    pygame.font.init()


def finger(kind, pos, size=(800, 480)):
    return pygame.event.Event(kind, x=(pos[0] + 0.5) / size[0], y=(pos[1] + 0.5) / size[1],
                              dx=0.0, dy=0.0, touch_id=4, finger_id=0, pressure=1.0)


def centre_of(kiosk, kind):
    return next(b.rect.center for b in Renderer((800, 480)).buttons(kiosk.view())
                if b.command == UICommand(kind))


def test_taps_change_the_players_volume_and_a_long_press_leaves(make_view, players):
    kiosk = StaffKiosk(make_view)
    mute, down, leave = (centre_of(kiosk, k) for k in ("mute", "volume_down", "exit_kiosk"))
    seen = {}

    def on_frame(stats, view):
        f = stats.frames
        player = players[0]
        if f == 1:
            seen["start"] = player.volume()       # the station's 60 %, applied at once
        if f == 2:
            pygame.event.post(finger(pygame.FINGERDOWN, down))
            pygame.event.post(finger(pygame.FINGERUP, down))
        if f == 4:
            seen["down"] = player.volume()
            pygame.event.post(finger(pygame.FINGERDOWN, mute))
            pygame.event.post(finger(pygame.FINGERUP, mute))
        if f == 6:
            seen["muted"] = player.volume()
            pygame.event.post(finger(pygame.FINGERDOWN, mute))
            pygame.event.post(finger(pygame.FINGERUP, mute))
        if f == 8:
            seen["unmuted"] = player.volume()
            pygame.event.post(finger(pygame.FINGERDOWN, leave))   # let go too soon
        if f == 15:   # the ring on the button fills while the finger is down
            window = pygame.display.get_surface()
            box = next(b.rect for b in Renderer((800, 480)).buttons(view)
                       if b.command == UICommand("exit_kiosk"))
            seen["ring"] = int(mask(window, th.ACCENT, box).sum()) > 20
        if f == 20:
            pygame.event.post(finger(pygame.FINGERUP, leave))
        if f == 22:   # let go: the button is back as it was
            fresh = pygame.Surface((800, 480))
            Renderer((800, 480)).draw(fresh, view)
            seen["restored"] = bool(np.array_equal(pixels(pygame.display.get_surface()),
                                                   pixels(fresh)))
        if f == 30:
            seen["still_running"] = not kiosk.exit
            seen["down_at"] = f
            pygame.event.post(finger(pygame.FINGERDOWN, leave))   # and held
        return False

    stats = run_kiosk(kiosk, lambda: [], lambda: "ok", display_cfg=display_cfg(),
                      audio_cfg=audio_cfg(), size=(800, 480), headless=True,
                      clock=VirtualClock(50.0), seconds=4.0, on_frame=on_frame)
    assert seen == {"start": pytest.approx(0.6), "down": pytest.approx(0.5), "muted": 0.0,
                    "unmuted": pytest.approx(0.5), "ring": True, "restored": True,
                    "still_running": True, "down_at": 30}
    assert stats.ended == "exit requested"
    # the hold went down in frame 31 and the loop ended about a second (60 frames) later,
    # while the finger was still down: long before the 4 s limit
    assert 31 + 60 <= stats.frames <= 31 + 62
    assert [c.kind for c in kiosk.handled] == ["volume_down", "mute", "mute", "exit_kiosk"]
    assert stats.audio == [AudioView(0.6, False), AudioView(0.5, False), AudioView(0.5, True),
                           AudioView(0.5, False)]


def test_a_station_that_never_sets_audio_leaves_the_configured_volume(make_view, players):
    class Plain(StaffKiosk):
        def view(self):
            v = super().view()
            v.audio = None
            return v

    seen = []
    stats = run_kiosk(Plain(make_view), lambda: [], lambda: "ok", display_cfg=display_cfg(),
                      audio_cfg=audio_cfg(volume=0.9, mute=True), size=(800, 480),
                      headless=True, clock=VirtualClock(0.0),
                      on_frame=lambda s, v: seen.append(players[0].volume()) or s.frames >= 3)
    assert seen == [0.0, 0.0, 0.0] and stats.audio == [] and stats.ended == "on_frame"


def test_after_mute_a_cue_writes_silence_to_the_audio_device(make_view, players, tmp_path,
                                                             monkeypatch):
    """A cue's tone reaches the audio device; the staff mute; the next cue plays nothing and
    the device streams silence from the mute on. The device streams in its own thread on real
    time, which a loaded machine delays, and the loop runs on plate time: each step waits for
    what the device has written (the file's size), never for the clock."""
    raw = tmp_path / "audio.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(raw))
    monkeypatch.delenv("SDL_DISKAUDIODELAY", raising=False)
    clock = VirtualClock(50.0)
    good = Cue("good", "Good rep", "good", 1, 0.0)
    # the second cue is due 0.7 s of plate time after the first, which is long after the mute
    kiosk = StaffKiosk(make_view, cues=[(50.1, good), (50.8, dataclasses.replace(
        good, kind="warning", sound="warning"))])
    tone = len(tone_wave("good")) + IN_FLIGHT + UNSEEN   # the good tone, wherever it began
    marks = {}

    def on_frame(stats, view):
        played = len(stats.sounds)
        if played == 1 and "mute" not in marks:
            # the first cue's tone started this frame: once the device has written all of it,
            # the staff mute (the loop applies it from the next frame on)
            stream_until(raw, streamed(raw) + tone)
            marks["mute"] = streamed(raw)
            kiosk.handle(UICommand("mute"))
        if played == 2:  # the second cue came, muted: the device streams on for 0.3 s more
            marks["second"] = streamed(raw)
            stream_until(raw, marks["second"] + int(0.3 * 44100))
            return True
        return False

    stats = run_kiosk(kiosk, lambda: [clock()], lambda: "ok", display_cfg=display_cfg(),
                      audio_cfg=audio_cfg(), size=(800, 480), headless=True, clock=clock,
                      seconds=4.0, on_frame=on_frame)
    assert stats.sounds == [("good", "tone:good"), ("warning", None)]
    assert stats.ended == "on_frame"
    x = captured(raw)
    loud = onsets(x)
    assert len(loud), "the first cue's tone never reached the audio device"
    # the stream ran on past the second cue: it was written, and it is silent from the mute
    assert len(x) >= marks["second"] + int(0.3 * 44100)
    assert loud[-1] < marks["mute"]
    assert np.abs(x[marks["mute"]:]).max() <= 0.02


def test_set_volume_clamps_follows_mute_and_quiet_hours_still_cap():
    import datetime as dt

    from display.sound import CuePlayer

    night = lambda: dt.datetime(2026, 1, 5, 23, 30)  # noqa: E731
    cfg = audio_cfg(volume=1.0, quiet_hours=((22, 0), (6, 0)), quiet_volume=0.3)
    with CuePlayer(cfg, now=night) as player:
        assert player.volume() == pytest.approx(0.3)
        player.set_volume(0.2, False)
        assert player.volume() == pytest.approx(0.2)
        player.set_volume(1.7, False)
        assert player.volume() == pytest.approx(0.3)   # quiet hours win
        player.now = lambda: dt.datetime(2026, 1, 5, 12, 0)
        assert player.volume() == pytest.approx(1.0)    # clamped to 1
        player.set_volume(-3, False)
        assert player.volume() == 0.0
        player.set_volume(0.5, True)
        assert player.volume() == 0.0 and player.muted
        if player.enabled:
            assert player.play_tone("rep") is False     # muted: nothing starts
        with pytest.raises(ValueError, match="NaN"):
            player.set_volume(float("nan"), False)
    pygame.mixer.quit()

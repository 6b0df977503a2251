"""The main loop, touch input and rotation, headless: real SDL events posted into the queue drive
a fake kiosk; what reached the panel, the audio device and the screenshot folder is checked."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pygame
import pytest
from audio_probe import captured, onsets, starts_where_played, stream_until, streamed

from display import app as app_mod
from display.app import FAILSAFE_MESSAGE, FAILSAFE_S, RunStats, post_command, run_kiosk
from display.input import (
    COMMAND_EVENT,
    InputMapper,
    athlete_callback,
    logical_to_panel,
    panel_rect,
    panel_size,
    panel_to_logical,
)
from display.render import Renderer
from drivers.clock import VirtualClock
from drivers.sample import Sample
from station.config import AudioConfig, DisplayConfig
from station.view import (
    Cue,
    LiveView,
    RepBar,
    SummaryView,
    Targets,
    Trace,
    UICommand,
    ViewState,
)

FPS = 60
TARGETS = Targets(reps=3, sets=1, hold_s=1.0, drive_zone="heel", share_min=0.6, min_lower_s=1.5)
ROSTER = (("a1", "Maria Lopez"), ("a2", "Sam Okafor"))
EXERCISES = (("single_leg_hip_thrust", "Single-leg hip thrust"),)
SUMMARY = SummaryView(reps=3, good_reps=2, bars=[RepBar(i + 1, 0.7, 1.1, 1.6, i != 1, ())
                                                 for i in range(3)],
                      trace=Trace.empty(), hold_spans=[], mean_heel_share=0.7, mean_hold_s=1.1,
                      mean_lower_s=1.6)


def display_cfg(rotation=0, fps=FPS, hide_cursor=True) -> DisplayConfig:
    return DisplayConfig(width=0, height=0, fullscreen=False, rotation=rotation, fps=fps,
                         hide_cursor=hide_cursor)


def audio_cfg(**kw) -> AudioConfig:
    base = dict(volume=1.0, mute=False, speech=False, voice="en", quiet_hours=None,
                quiet_volume=0.3, buffer=512)
    base.update(kw)
    return AudioConfig(**base)


@pytest.fixture(autouse=True)
def pygame_back_on():
    """run_kiosk quits pygame when it ends; the other display tests expect it initialised."""
    yield
    pygame.display.init()
    pygame.font.init()


# ------------------------------------------------------------------------- fakes

NEXT_SCREEN = {("idle", "button_press"): "ready", ("idle", "guest"): "ready", ("ready", "start_set"): "live",
               ("live", "end_set"): "summary", ("summary", "next"): "ready"}


class FakeKiosk:
    """A small station: screens move on the commands the real one uses; a cue becomes true on
    the first sample at or after ``cue_at`` (its ``t`` is that sample's time)."""

    def __init__(self, cue_at: float | None = None, cue_sound: str | None = "rep"):
        self.screen = "idle"
        self.handled: list[UICommand] = []
        self.samples = 0
        self.last_t = None
        self.cue_at = cue_at
        self.cue_sound = cue_sound
        self.cue: Cue | None = None
        self.pending: list[Cue] = []
        self.statuses = 0
        self.raise_in_view = 0   # raise from view() this many times
        self.phase = "off"
        self.hold_s = 0.0

    def handle(self, command):
        self.handled.append(command)
        if command.kind == "home":
            self.screen = "idle"
        else:
            self.screen = NEXT_SCREEN.get((self.screen, command.kind), self.screen)

    def feed(self, samples):
        for s in samples:
            self.samples += 1
            self.last_t = s.t
            if self.cue_at is not None and self.cue is None and s.t >= self.cue_at:
                self.cue = Cue("rep_count", "One!", self.cue_sound, 1, s.t)
                self.pending.append(self.cue)

    def tick(self, status):
        self.statuses += 1

    def view(self):
        if self.raise_in_view:
            self.raise_in_view -= 1
            raise RuntimeError("the live screen's gauge broke")
        live = LiveView(phase=self.phase, reps=1 if self.cue else 0, hold_s=self.hold_s)
        return ViewState(screen=self.screen, station_name="Test station",
                         exercise_id="single_leg_hip_thrust", exercise_name="Single-leg hip thrust",
                         side="left", sides=("left", "right"), tips=("Drive through the heel",),
                         targets=TARGETS, roster=ROSTER, exercises=EXERCISES, live=live,
                         cue=self.cue, summary=SUMMARY)

    def take_cues(self):
        out, self.pending = self.pending, []
        return out


class Plate:
    """Samples at 80 Hz stamped on ``clock``: what was sampled since the last drain."""

    def __init__(self, clock, rate=80.0):
        self.clock = clock
        self.rate = rate
        self.next_t = clock()

    def drain(self):
        out = []
        now = self.clock()
        while self.next_t <= now:
            out.append(Sample(t=self.next_t, heel=300.0, forefoot=100.0))
            self.next_t += 1 / self.rate
        return out


TAP = {"idle": UICommand("button_press"), "ready": UICommand("start_set"),
       "live": UICommand("end_set"), "summary": UICommand("next")}


def pixels(surface) -> np.ndarray:
    return pygame.surfarray.array3d(surface).copy()


def reference(view, size=(800, 480), rotation=0) -> np.ndarray:
    """What a fresh renderer draws for ``view``, turned as the panel shows it."""
    surface = pygame.Surface(size)
    Renderer(size).draw(surface, view)
    if rotation:
        surface = pygame.transform.rotate(surface, -rotation)
    return pixels(surface)


def run(kiosk, clock=None, **kw):
    clock = clock or VirtualClock(100.0)
    plate = Plate(clock)
    kw.setdefault("display_cfg", display_cfg())
    kw.setdefault("audio_cfg", audio_cfg())
    kw.setdefault("renderer_factory", Renderer)
    kw.setdefault("size", (800, 480))
    return run_kiosk(kiosk, plate.drain, lambda: "ok", headless=True, clock=clock, **kw)


def find_target(view, command, size):
    """The centre of the real renderer's button for ``command`` on ``view``'s screen."""
    r = Renderer(size)
    for button in r.buttons(view):
        if button.command == command:
            return button.rect.center
    raise AssertionError(f"no button for {command} on the {view.screen} screen")


def finger(kind, panel_pos, panel, finger_id=0, touch_id=7):
    return pygame.event.Event(kind, x=panel_pos[0] / panel[0], y=panel_pos[1] / panel[1],
                              dx=0.0, dy=0.0, touch_id=touch_id, finger_id=finger_id,
                              pressure=1.0)


class Script:
    """on_frame: post events at given frames; stop after the last step."""

    def __init__(self, steps, stop_after=5):
        self.steps = dict(steps)
        self.stop_at = max(self.steps) + stop_after if self.steps else stop_after
        self.views = []

    def __call__(self, stats: RunStats, view):
        self.views.append(view.screen if view else None)
        for event in self.steps.get(stats.frames, ()):
            pygame.event.post(event)
        return stats.frames >= self.stop_at


def tap_events(view_screen, renderer_size=(800, 480), rotation=0, mouse=False, synthesised=True):
    """A finger tap on the screen's main button, with the mouse copies SDL synthesises."""
    kiosk = FakeKiosk()
    kiosk.screen = view_screen
    x, y = find_target(kiosk.view(), TAP[view_screen], renderer_size)
    panel = panel_size(renderer_size, rotation)
    px, py = logical_to_panel((x, y), renderer_size, rotation)
    if mouse:
        return [pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(int(px), int(py)), button=1,
                                   touch=False),
                pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(int(px), int(py)), button=1,
                                   touch=False)]
    down = [finger(pygame.FINGERDOWN, (px + 0.5, py + 0.5), panel)]
    up = [finger(pygame.FINGERUP, (px + 0.5, py + 0.5), panel)]
    if synthesised:
        down.append(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(int(px), int(py)), button=1,
                                       touch=True))
        up.append(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(int(px), int(py)), button=1,
                                     touch=True))
    return down + up


# ------------------------------------------------------------------------- touch flows

def test_touches_drive_the_flow_and_synthesised_mouse_does_not_double_act():
    kiosk = FakeKiosk()
    script = Script({2: tap_events("idle"), 6: tap_events("ready"), 10: tap_events("live"),
                     14: tap_events("summary")})
    stats = run(kiosk, on_frame=script)
    assert [c.kind for c in kiosk.handled] == ["button_press", "start_set", "end_set", "next"]
    assert stats.screens == ["idle", "ready", "live", "summary", "ready"]
    assert kiosk.statuses == stats.frames  # tick(status) every frame
    assert kiosk.samples > 0


def test_mouse_fallback_taps_once():
    kiosk = FakeKiosk()
    stats = run(kiosk, on_frame=Script({2: tap_events("idle", mouse=True)}))
    assert [c.kind for c in kiosk.handled] == ["button_press"]
    assert stats.commands == [UICommand("button_press")]


def test_drag_off_a_button_cancels():
    kiosk = FakeKiosk()
    down = tap_events("idle", synthesised=False)[0]
    up_elsewhere = finger(pygame.FINGERUP, (10, 10), (800, 480))
    run(kiosk, on_frame=Script({2: [down], 4: [up_elsewhere]}))
    assert kiosk.handled == []


def test_a_tap_across_a_screen_change_does_nothing():
    # finger down on idle's button, screen changes (the station button), finger up: a different
    # target under the finger now, so no second action
    kiosk = FakeKiosk()
    events = tap_events("idle", synthesised=False)
    run(kiosk, on_frame=Script({2: [events[0], pygame.event.Event(
        COMMAND_EVENT, command=UICommand("button_press"))], 4: [events[1]]}))
    assert [c.kind for c in kiosk.handled] == ["button_press"]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_maps_touches_and_turns_the_picture(rotation):
    logical = (800, 480)
    panel = panel_size(logical, rotation)
    kiosk = FakeKiosk()
    seen = {}

    def on_frame(stats, view):
        if stats.frames == 1:
            seen["panel"] = pixels(pygame.display.get_surface())
            seen["expected"] = reference(view, logical, rotation)
            for e in tap_events("idle", logical, rotation):
                pygame.event.post(e)
        return stats.frames >= 4

    stats = run(kiosk, display_cfg=display_cfg(rotation=rotation), size=panel, on_frame=on_frame)
    assert seen["panel"].shape[:2] == panel
    assert stats.size == logical
    assert np.array_equal(seen["panel"], seen["expected"])
    assert [c.kind for c in kiosk.handled] == ["button_press"]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotation_mapping_matches_pygame_and_inverts(rotation):
    logical = (7, 4)
    surf = pygame.Surface(logical)
    surf.fill((0, 0, 0))
    for x, y in [(0, 0), (6, 0), (2, 3), (5, 1)]:
        surf.fill((0, 0, 0))
        surf.set_at((x, y), (255, 0, 0))
        turned = pygame.transform.rotate(surf, -rotation)
        assert turned.get_size() == panel_size(logical, rotation)
        px, py = logical_to_panel((x, y), logical, rotation)
        assert turned.get_at((int(px), int(py)))[:3] == (255, 0, 0)
        assert panel_to_logical((px, py), logical, rotation) == (x, y)
    rect = pygame.Rect(1, 1, 3, 2)
    surf.fill((0, 0, 0))
    surf.fill((0, 255, 0), rect)
    turned = pygame.transform.rotate(surf, -rotation)
    target = panel_rect(rect, logical, rotation)
    assert turned.subsurface(target).get_bounding_rect() == pygame.Rect((0, 0), target.size)
    green = sum(turned.get_at((x, y))[1] == 255 for x in range(turned.get_width())
                for y in range(turned.get_height()))
    assert green == target.width * target.height == 6


def test_rotated_dirty_rects_reach_the_right_panel_pixels():
    """Only a dirty part changes on a rotated panel: it must land where the full picture would."""
    logical, rotation = (800, 480), 90

    class Blinker(Renderer):
        def draw(self, surface, view):
            first = not hasattr(self, "drawn")
            self.drawn = True
            if first:
                surface.fill((0, 0, 50))
                return [surface.get_rect()]
            spot = pygame.Rect(600, 40, 50, 30)
            surface.fill((0, 255, 0), spot)
            return [spot]

    seen = {}

    def on_frame(stats, view):
        if stats.frames == 2:
            window = pygame.display.get_surface()
            seen["window"] = pygame.surfarray.array3d(window).copy()
        return stats.frames >= 2

    run(FakeKiosk(), display_cfg=display_cfg(rotation=rotation),
        size=panel_size(logical, rotation), renderer_factory=Blinker, on_frame=on_frame)
    expect = pygame.Surface(logical)
    expect.fill((0, 0, 50))
    expect.fill((0, 255, 0), pygame.Rect(600, 40, 50, 30))
    expected = pygame.surfarray.array3d(pygame.transform.rotate(expect, -rotation))
    assert np.array_equal(seen["window"], expected)


# ------------------------------------------------------------------------- failsafe

def test_a_raising_kiosk_shows_the_failsafe_then_idle_and_keeps_running(caplog):
    kiosk = FakeKiosk()
    kiosk.screen = "live"
    frames = []
    failsafe = pygame.Surface((800, 480))

    def on_frame(stats, view):
        if stats.frames == 1:
            Renderer((800, 480)).failsafe(failsafe, FAILSAFE_MESSAGE)
        if stats.frames == 3:
            kiosk.raise_in_view = 1
        shown = pixels(pygame.display.get_surface())
        frames.append("failsafe" if np.array_equal(shown, pixels(failsafe)) else
                      view.screen if np.array_equal(shown, reference(view)) else "other")
        return stats.frames >= 3 + FAILSAFE_S * FPS + 10

    with caplog.at_level(logging.ERROR, logger="display.app"):
        stats = run(kiosk, on_frame=on_frame)
    assert stats.failsafes == 1
    assert stats.screens == ["live", "failsafe", "idle"]
    assert kiosk.handled == [UICommand("home")]
    # the failsafe stayed FAILSAFE_S on screen (no traceback on it), then idle was drawn
    assert frames.count("failsafe") == pytest.approx(FAILSAFE_S * FPS, abs=2)
    assert frames[:3] == ["live"] * 3 and frames[-1] == "idle"
    assert "other" not in frames
    assert "gauge broke" in caplog.text and "Traceback" in caplog.text


def test_a_raising_renderer_and_failsafe_still_never_crash(caplog):
    class Broken(Renderer):
        def draw(self, surface, view):
            if view.screen == "ready":
                raise ZeroDivisionError("ready screen layout")
            return super().draw(surface, view)

        def failsafe(self, surface, message):
            raise RuntimeError("failsafe broken too")

    kiosk = FakeKiosk()
    with caplog.at_level(logging.ERROR, logger="display.app"):
        stats = run(kiosk, renderer_factory=Broken,
                    on_frame=Script({2: [pygame.event.Event(COMMAND_EVENT,
                                                            command=UICommand("button_press"))]},
                                    stop_after=FAILSAFE_S * FPS + 10))
    assert stats.screens[:3] == ["idle", "ready", "failsafe"]
    assert stats.screens[-1] == "idle"
    assert "ready screen layout" in caplog.text and "failsafe broken too" in caplog.text


# ------------------------------------------------------------------------- cues and sound

def test_cue_onset_is_recorded_after_the_flip_that_shows_it(monkeypatch):
    order = []
    real_update, real_flip = pygame.display.update, pygame.display.flip
    monkeypatch.setattr(pygame.display, "update", lambda *a: (order.append("flip"),
                                                              real_update(*a))[1])
    monkeypatch.setattr(pygame.display, "flip", lambda: (order.append("flip"), real_flip())[1])
    real_play = app_mod.CuePlayer.play
    monkeypatch.setattr(app_mod.CuePlayer, "play",
                        lambda self, cue: (order.append("play"), real_play(self, cue))[1])
    clock = VirtualClock(100.0)
    kiosk = FakeKiosk(cue_at=100.0 + 0.5)
    kiosk.screen = "live"
    at_onset = []

    def on_frame(stats, view):
        shown = pixels(pygame.display.get_surface())
        if stats.cue_onsets and not at_onset:
            at_onset.append((view.cue, np.array_equal(shown, reference(view)),
                             np.array_equal(shown, previous[0])))
        previous[:] = [shown]
        return stats.frames >= 60

    previous = [None]

    stats = run(kiosk, clock=clock, on_frame=on_frame)
    assert len(stats.cue_onsets) == 1
    kind, onset = stats.cue_onsets[0]
    assert kind == "rep_count"
    # the frame whose flip is the onset shows the cue, and it is new on that frame
    assert at_onset == [(kiosk.cue, True, False)]
    i = order.index("play")
    assert order[i - 1] == "flip"
    # the cue's sample came in during the frame before the flip: latency at most one frame
    assert 0 <= stats.cue_latency_ms[0] <= 1000 / FPS + 1e-6
    assert onset - kiosk.cue.t == pytest.approx(stats.cue_latency_ms[0] / 1000)
    assert stats.sounds == [("rep_count", "tone:rep")]


def test_disk_audio_holds_the_tone_after_a_cue(tmp_path, monkeypatch):
    """The cue's tone reaches the audio device, starting where the device's stream was at the
    flip that showed the cue. The device streams in its own thread on real time, which a loaded
    machine delays (and the loop here runs on plate time), so where the tone belongs is read
    from what the device had written just before and just after that frame, not from a clock."""
    raw = tmp_path / "audio.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(raw))
    monkeypatch.delenv("SDL_DISKAUDIODELAY", raising=False)
    kiosk = FakeKiosk(cue_at=100.0 + 0.4, cue_sound="good")
    marks = {}

    def on_frame(stats, view):
        if not stats.cue_onsets:
            marks["before"] = streamed(raw)  # the frame before the cue's: nothing played yet
            return False
        marks["after"] = streamed(raw)       # its sound started in this frame, after the flip
        stream_until(raw, marks["after"] + int(0.5 * 44100))  # the whole tone, and then some
        return True

    stats = run(kiosk, on_frame=on_frame)
    assert stats.sounds == [("rep_count", "tone:good")]
    x = captured(raw)
    loud = onsets(x)
    assert len(loud), "the cue's tone never reached the audio device"
    start = loud[0]
    # the good tone (C5 arpeggio) starts with its first note
    seg = x[start:start + int(0.08 * 44100)]
    freq = np.fft.rfftfreq(len(seg), 1 / 44100)[np.argmax(np.abs(np.fft.rfft(seg)))]
    assert abs(freq - 523.25) < 20
    # ... where the stream was when the cue was shown: within the device's buffers of it
    assert starts_where_played(start, marks["before"], marks["after"]), (marks, start)


def test_mute_shows_the_cue_but_plays_nothing():
    kiosk = FakeKiosk(cue_at=100.2)
    stats = run(kiosk, audio_cfg=audio_cfg(mute=True), on_frame=lambda s, v: s.frames >= 30)
    assert stats.cue_onsets and stats.sounds == [("rep_count", None)]


def test_no_audio_device_keeps_the_kiosk_running_with_visual_cues(monkeypatch, caplog):
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-audio-driver")
    kiosk = FakeKiosk(cue_at=100.2)
    kiosk.screen = "live"
    with caplog.at_level(logging.WARNING):
        stats = run(kiosk, on_frame=lambda s, v: s.frames >= 30)
    assert stats.frames == 30 and stats.failsafes == 0
    assert stats.sounds == [("rep_count", None)] and len(stats.cue_onsets) == 1
    assert "sound is off" in caplog.text


# ------------------------------------------------------------------------- headless runs

def test_virtual_seconds_are_frames_at_full_speed():
    clock = VirtualClock(100.0)
    kiosk = FakeKiosk()
    stats = run(kiosk, clock=clock, seconds=1.5)
    assert stats.frames == 90
    assert clock() == pytest.approx(101.5)
    assert kiosk.samples == pytest.approx(1.5 * 80, abs=2)  # drained as the plate sampled
    assert stats.startup_s is not None and stats.startup_s > 0
    assert stats.dropped == 0
    assert len(stats.frame_ms) == 90


def test_screenshots_of_each_screen_reached(tmp_path):
    kiosk = FakeKiosk()
    command = lambda kind: [pygame.event.Event(COMMAND_EVENT, command=UICommand(kind))]  # noqa: E731

    def on_frame(stats, view):
        if stats.frames == 10:
            kiosk.phase, kiosk.hold_s = "top", 0.7  # mid-rep: the hold timer filling
        return False

    steps = Script({3: command("guest"), 6: command("start_set"), 12: command("end_set")})

    def both(stats, view):
        on_frame(stats, view)
        return steps(stats, view)

    stats = run(kiosk, screenshots=tmp_path / "shots", on_frame=both)
    names = [p.name for p in stats.screenshots]
    assert names == ["01-idle.png", "02-ready.png", "03-live.png", "04-live-mid-rep.png",
                     "05-summary.png"]
    for path, (screen, phase) in zip(stats.screenshots, [
            ("idle", "off"), ("ready", "off"), ("live", "off"), ("live", "top"),
            ("summary", "top")], strict=True):
        k = FakeKiosk()
        k.screen, k.phase, k.hold_s = screen, phase, 0.7 if phase == "top" else 0.0
        image = pygame.image.load(str(path))
        assert image.get_size() == (800, 480)
        assert np.array_equal(pixels(image), reference(k.view())), path.name


def test_hardware_commands_posted_from_another_thread():
    kiosk = FakeKiosk()

    def on_frame(stats, view):
        if stats.frames == 2:
            t = threading.Thread(target=post_command, args=(UICommand("button_press"),))
            t.start()
            t.join()
        return stats.frames >= 6

    run(kiosk, on_frame=on_frame)
    assert kiosk.handled == [UICommand("button_press")]
    assert post_command(UICommand("button_press")) is False  # display gone: dropped, not raised
    with pytest.raises(TypeError):
        post_command("guest")


def test_cursor_hidden_and_window_titled():
    seen = {}

    def on_frame(stats, view):
        seen["visible"] = pygame.mouse.get_visible()
        seen["title"] = pygame.display.get_caption()[0]
        return True

    run(FakeKiosk(), on_frame=on_frame, title="gym-station test")
    assert seen == {"visible": False, "title": "gym-station test"}
    assert not pygame.get_init()  # finally: pygame quit


def test_a_slow_frame_is_counted_as_dropped():
    import time

    class Slow(Renderer):
        frames = 0

        def draw(self, surface, view):
            Slow.frames += 1
            if Slow.frames == 5:
                time.sleep(0.06)  # 3.6 frame periods of work
            return super().draw(surface, view)

    stats = run(FakeKiosk(), clock=time.monotonic, renderer_factory=Slow,
                on_frame=lambda s, v: s.frames >= 10)
    assert stats.dropped >= 1
    assert max(stats.frame_ms) >= 60


def test_bad_arguments_are_refused_at_once():
    with pytest.raises(ValueError, match="seconds"):
        run(FakeKiosk(), seconds=0)
    with pytest.raises(TypeError, match="DisplayConfig"):
        run(FakeKiosk(), display_cfg={"fps": 60})


# ------------------------------------------------------------------------- keyboard

def view_of(screen):
    k = FakeKiosk()
    k.screen = screen
    return k.view()


def key(kind, k):
    return pygame.event.Event(kind, key=k, mod=0, unicode="", scancode=0)


def test_keys_map_to_commands():
    m = InputMapper((800, 480), hit=lambda p, v: None)
    down = lambda k, screen="ready", t=0.0: m.handle(key(pygame.KEYDOWN, k), view_of(screen), t)  # noqa: E731
    assert down(pygame.K_ESCAPE) == [UICommand("home")]
    assert down(pygame.K_RETURN, "ready") == [UICommand("start_set")]
    assert down(pygame.K_SPACE, "live") == [UICommand("end_set")]
    assert down(pygame.K_KP_ENTER, "summary") == [UICommand("next")]
    assert down(pygame.K_RETURN, "idle") == []
    # a badge reader types digits then Enter
    for k in (pygame.K_0, pygame.K_4, pygame.K_2, pygame.K_KP_7):
        assert down(k, "idle", 10.0) == []
    assert down(pygame.K_RETURN, "idle", 10.1) == [UICommand("badge", "0427")]
    # digits typed long before Enter are not a badge read
    down(pygame.K_1, "idle", 20.0)
    down(pygame.K_2, "idle", 25.0)
    assert down(pygame.K_RETURN, "idle", 25.1) == [UICommand("badge", "2")]


def test_demo_keys_drive_the_keyboard_athlete():
    calls = []

    class Athlete:
        def press(self, c):
            calls.append(("press", c))

        def release(self, c):
            calls.append(("release", c))

        def shift_heel(self):
            calls.append(("shift_heel",))

        def shift_toe(self):
            calls.append(("shift_toe",))

        def step(self):
            calls.append(("step",))

    m = InputMapper((800, 480), hit=lambda p, v: None, athlete=athlete_callback(Athlete()))
    live = view_of("live")
    assert m.handle(key(pygame.KEYDOWN, pygame.K_SPACE), live) == []  # space is the athlete's
    m.handle(key(pygame.KEYUP, pygame.K_SPACE), live)
    for k in (pygame.K_DOWN, pygame.K_UP, pygame.K_s):
        m.handle(key(pygame.KEYDOWN, k), live)
        m.handle(key(pygame.KEYUP, k), live)
    assert calls == [("press", "drive"), ("release", "drive"), ("shift_heel",), ("shift_toe",),
                     ("step",)]
    assert m.handle(key(pygame.KEYDOWN, pygame.K_RETURN), live) == [UICommand("end_set")]
    with pytest.raises(TypeError, match="no press"):
        athlete_callback(object())


def test_finger_copies_of_mouse_clicks_are_ignored():
    hits = []
    m = InputMapper((800, 480), hit=lambda p, v: (hits.append(p), UICommand("guest"))[1])
    v = view_of("idle")
    for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
        assert m.handle(finger(kind, (100, 100), (800, 480), touch_id=-1), v) == []
    assert hits == []
    # a right click is not a tap
    assert m.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(1, 1), button=3), v) == []


def test_mapper_validates_at_once():
    with pytest.raises(ValueError, match="rotation"):
        InputMapper((800, 480), 45, hit=lambda p, v: None)
    with pytest.raises(ValueError, match="positive"):
        InputMapper((0, 480), hit=lambda p, v: None)
    with pytest.raises(TypeError, match="hit"):
        InputMapper((800, 480), hit=None)


# ------------------------------------------------------------------------- what a run keeps

def test_a_pin_typed_on_the_real_kiosk_leaves_no_digit_in_the_stats(tmp_path):
    """The real station, renderer and loop; fingers on the PIN pad. The digits reach the pad (the
    coach's screen opens) but the run's stats keep only that a digit was typed."""
    from touch import Hand, hold, screen, type_pin

    from station.config import load_config
    from station.kiosk_run import demo_session, run_session
    from station.pins import PinStore

    pin = "2580"
    state = tmp_path / "state"
    state.mkdir()
    PinStore(state).set_pin("coach", pin)
    cfg = load_config(None)
    hand = Hand([screen("idle"), hold("admin"), screen("pin"), *type_pin(pin), screen("coach")],
                fps=cfg.display.fps)
    session = demo_session(cfg, headless=True)
    stats, _ = run_session(session, cfg, state, fullscreen=False, headless=True,
                           size=hand.size, on_frame=hand)
    assert hand.failed is None, hand.failed
    digits = [c for c in stats.commands if c.kind == "pin_digit"]
    assert digits == [UICommand("pin_digit")] * len(pin)   # counted, their values gone
    assert UICommand("pin_ok") in stats.commands
    assert not any(c.value is not None and c.value in pin for c in stats.commands
                   if c.kind.startswith("pin"))
    assert f"'{pin[0]}'" not in repr(stats.commands)

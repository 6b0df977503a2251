"""The kiosk's main loop: one frame per display refresh, in the order that keeps cues honest.

Each frame: events -> commands -> ``kiosk.handle``; ``drain()`` -> ``kiosk.feed``;
``kiosk.tick(status())``; ``view = kiosk.view()``; the renderer draws it (returning the dirty
rectangles); the changed parts are put on the panel (``display.update``, or ``flip`` for a full
frame); THEN the sounds of ``kiosk.take_cues()`` start and each cue's onset is recorded as the
flip time (as PsychoPy's "call on flip": a cue is heard when it is seen). ``clock.tick(fps)``
paces the loop. Frames whose interval exceeds 1.2 periods are counted as dropped.

Time: cue latency is ``flip time - cue.t`` where ``cue.t`` is the timestamp of the sample that
made the cue true, so both are read from the same monotonic ``clock`` the samples are stamped
with. With a virtual clock (an object with ``advance``, as the demo's simulated plate uses) each
frame advances it by exactly 1/fps: headless, the loop then runs at full speed and ``seconds`` is
simulated time (a 60 s demo is 3600 frames, rendered as fast as the machine can); with the real
clock the loop runs in real time and ``seconds`` is real seconds. Frame times are always
measured on the real ``perf_counter``.

A screen or the kiosk raising never shows a traceback: the error goes to the log with its
traceback, the renderer's failsafe screen shows for :data:`FAILSAFE_S` seconds, then the kiosk is
sent home and the loop carries on. ``finally`` always quits pygame.

The staff's choices: ``ViewState.audio`` (volume, mute) is applied to the cue player whenever it
differs from what was applied last (None, the default, leaves the configured volume alone: a
station without a staff desk never sets it); ``ViewState.exit_requested`` (the staff
left the kiosk) ends the loop after that frame, with ``RunStats.ended`` saying so. Long presses
are timed by the input mapper, polled once a frame on ``clock``; while one is under way its
button's ring fills up (drawn over the frame; the frame after it ends is redrawn whole).

Rotation: the renderer draws a logical surface the size of the panel turned by ``rotation``;
only the dirty rectangles are turned onto the window. Hardware threads (the station button) post
their commands with :func:`post_command`; they never draw.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import pygame

from drivers.errors import DisplayError
from station.config import AudioConfig, DisplayConfig
from station.view import AudioView, Cue, UICommand, ViewState

from .input import COMMAND_EVENT, Athlete, InputMapper, panel_rect, panel_size
from .run_stats import RunStats
from .sound import CuePlayer, pre_init

log = logging.getLogger(__name__)

TITLE = "gym-station"
WINDOW_SIZE = (800, 480)
#: How long the failsafe screen stays before the kiosk is sent home (seconds on ``clock``).
FAILSAFE_S = 2.0
FAILSAFE_MESSAGE = ("Sorry, this screen ran into a problem. The station is going back to the "
                    "start; the staff can find the details in the log.")
#: A frame interval over this many periods is a dropped frame (PsychoPy's rule).
DROP_FACTOR = 1.2


class Kiosk(Protocol):
    """What the loop needs from the station's controller (``station.kiosk.Kiosk``)."""

    def feed(self, samples: list) -> None: ...
    def handle(self, command: UICommand) -> None: ...
    def tick(self, status: Any) -> None: ...
    def view(self) -> ViewState: ...
    def take_cues(self) -> list[Cue]: ...


class Renderer(Protocol):
    """What the loop needs from ``display.render.Renderer``."""

    def draw(self, surface: pygame.Surface, view: ViewState) -> list[pygame.Rect]: ...
    def hit(self, pos: tuple[int, int], view: ViewState) -> UICommand | None: ...
    def failsafe(self, surface: pygame.Surface, message: str) -> None: ...


def _remembered(command: UICommand) -> UICommand:
    """What the run's stats keep of a command: a PIN digit only as its kind, so the digits
    live only in the PIN pad's buffer (``station.admin``), never in the stats or a dump."""
    return UICommand(command.kind) if command.kind == "pin_digit" else command


def post_command(command: UICommand) -> bool:
    """Hand a command to the main loop from any thread (a gpiozero callback); False when the
    display is not running (the command is dropped, logged)."""
    if not isinstance(command, UICommand):
        raise TypeError(f"post_command needs a UICommand, not {type(command).__name__}")
    try:
        pygame.event.post(pygame.event.Event(COMMAND_EVENT, command=command))
        return True
    except pygame.error as e:
        log.warning("command %s dropped: the display is not running (%s)", command.kind, e)
        return False


# ------------------------------------------------------------------------------ the loop

def run_kiosk(kiosk: Kiosk, drain: Callable[[], list], status: Callable[[], Any], *,
              display_cfg: DisplayConfig, audio_cfg: AudioConfig,
              size: tuple[int, int] | None = None, fullscreen: bool = False,
              headless: bool = False, seconds: float | None = None,
              screenshots: str | os.PathLike | None = None,
              clock: Callable[[], float] | None = None,
              on_frame: Callable[[RunStats, ViewState], bool | None] | None = None,
              sound_cache_dir: str | os.PathLike | None = None,
              renderer_factory: Callable[[tuple[int, int]], Renderer] | None = None,
              athlete: Athlete | None = None, phrases: Iterable[str] = (),
              title: str = TITLE, now: Callable[[], _dt.datetime] | None = None,
              t_start: float | None = None, closable: bool = True) -> RunStats:
    """Run the kiosk until the window is closed, ``seconds`` have passed on ``clock``,
    ``on_frame(stats, view)`` returns True, or the view asks to leave (``exit_requested``).

    ``closable=False`` (the kiosk itself, ``gym-station run``): a close request from the
    windowing system (``pygame.QUIT``) is logged and ignored. Only the staff's PIN-guarded
    "Leave kiosk" may end the kiosk as a choice, and a kiosk has no window a passer-by should be
    able to close (a window manager's close, Alt+F4 on a keyboard left plugged in): closing it
    would cut an athlete's set short and, exiting 0, keep the station down.

    ``drain()`` returns the samples taken since the last frame and ``status()`` the sampler's
    status; ``clock`` is the monotonic clock the samples are stamped with (default
    ``time.monotonic``). ``size`` is the panel (window) size; by default the screen's own when
    ``fullscreen``, else the configured size or 800x480. ``headless`` uses SDL's dummy video and
    disk audio (``$SDL_DISKAUDIOFILE``, else ``audio.raw`` beside the screenshots, else no audio
    device at all). ``screenshots``: a folder that gets a
    PNG of the first frame of each screen reached (and of the live screen mid-rep, hold timer
    filling), as the logical surface (upright, whatever the rotation). ``renderer_factory(size)``
    builds the renderer (default ``display.render.Renderer``); ``athlete`` is the demo's keyboard
    athlete (see :mod:`display.input`); ``phrases`` are cue texts to pre-render for speech;
    ``now`` is the local wall clock for quiet hours. ``t_start`` (``perf_counter``) is when
    start-up began, for ``startup_s``.
    """
    t_start = time.perf_counter() if t_start is None else t_start
    clock = clock or time.monotonic
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be positive, not {seconds}")
    if not isinstance(display_cfg, DisplayConfig) or not isinstance(audio_cfg, AudioConfig):
        raise TypeError("run_kiosk needs the DisplayConfig and AudioConfig from station.config")
    if renderer_factory is None:
        from .render import Renderer as renderer_factory
    fps = display_cfg.fps
    period = 1.0 / fps
    virtual = callable(getattr(clock, "advance", None))
    full_speed = headless and virtual
    stats = RunStats()
    saved_env = _headless_env(screenshots) if headless else {}
    shots = _Screenshots(screenshots) if screenshots is not None else None
    player = None
    try:
        pre_init(audio_cfg)
        pygame.init()
        window = _open_window(display_cfg, size, fullscreen, title)
        panel = window.get_size()
        logical = panel_size(panel, display_cfg.rotation)  # turning is its own inverse in size
        stats.size = logical
        rotated = display_cfg.rotation != 0
        surface = pygame.Surface(logical).convert() if rotated else window
        if display_cfg.hide_cursor:
            pygame.mouse.set_visible(False)
        renderer = renderer_factory(logical)
        mapper = InputMapper(logical, display_cfg.rotation, hit=lambda p, v: renderer.hit(p, v),
                             targets=_targets_of(renderer, lambda: renderer), athlete=athlete)
        player = CuePlayer(audio_cfg, cache_dir=sound_cache_dir,
                           now=now or _dt.datetime.now)
        player.prepare(phrases)
        pg_clock = pygame.time.Clock()

        t0 = clock()
        frames_wanted = round(seconds * fps) if (seconds is not None and virtual) else None
        shown: ViewState | None = None
        audio_applied: AudioView | None = None
        was_holding = False
        failsafe_until: float | None = None
        full_redraw = True
        last_flip: float | None = None
        running = True

        def enter_failsafe(where: str) -> None:
            nonlocal failsafe_until, full_redraw
            log.exception("%s raised; showing the failsafe screen, then back to idle", where)
            stats.failsafes += 1
            failsafe_until = clock() + FAILSAFE_S
            mapper.cancel()
            _draw_failsafe(renderer, surface)
            full_redraw = True
            if stats.screens.last() != "failsafe":
                stats.screens.append("failsafe")

        try:
            shown = kiosk.view()
        except Exception:
            enter_failsafe("kiosk.view")

        while running:
            frame_start = time.perf_counter()
            t = clock()
            dirty: list[pygame.Rect] | None = []
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    if closable:
                        running = False
                        stats.ended = "window closed"
                    else:
                        log.warning("display: the window system asked the kiosk to close; "
                                    "ignored (only the staff's Leave kiosk ends it)")
                    continue
                if failsafe_until is not None or shown is None:
                    continue  # input waits until a real screen is back
                try:
                    for command in mapper.handle(event, shown, t):
                        stats.commands.append(_remembered(command))
                        kiosk.handle(command)
                except Exception:
                    enter_failsafe(f"handling {event}")
                    break
            if failsafe_until is None and shown is not None:
                try:
                    for command in mapper.poll(shown, t):  # long presses that lasted
                        stats.commands.append(_remembered(command))
                        kiosk.handle(command)
                except Exception:
                    enter_failsafe("a long press")
            if failsafe_until is not None:
                try:
                    drain()  # keep the sampler's queue fresh; the kiosk is going home anyway
                except Exception:
                    log.exception("drain() raised during the failsafe screen")
                if t >= failsafe_until:
                    failsafe_until = None
                    full_redraw = True
                    renderer = _fresh_renderer(renderer, renderer_factory, logical)
                    try:
                        kiosk.handle(UICommand("home"))
                        kiosk.take_cues()  # cues of the broken screen are stale
                    except Exception:
                        enter_failsafe("kiosk.handle(home)")
                if failsafe_until is not None:
                    dirty = None if full_redraw else []
                    view = None
            if failsafe_until is None:
                try:
                    kiosk.feed(drain())
                    kiosk.tick(status())
                    view = kiosk.view()
                    if stats.screens.last() != view.screen:
                        stats.screens.append(view.screen)
                    holds = mapper.holding(view, t)
                    if was_holding and not holds:
                        _invalidate(renderer)  # put the buttons' rings back
                    dirty = renderer.draw(surface, view)
                    was_holding = _draw_holds(renderer, surface, holds, dirty)
                    shown = view
                    if view.audio is not None and view.audio != audio_applied:
                        audio_applied = view.audio
                        stats.audio.append(view.audio)
                        player.set_volume(view.audio.volume, view.audio.muted)
                    if view.exit_requested:
                        running = False
                        stats.ended = "exit requested"
                except Exception:
                    enter_failsafe(f"the {getattr(shown, 'screen', '?')} screen")
                    view = None
                    dirty = None
            if full_redraw or dirty is None:
                _present(window, surface, None, logical, display_cfg.rotation)
                full_redraw = False
            elif dirty:
                _present(window, surface, dirty, logical, display_cfg.rotation)
            flip_t = clock()
            flip_perf = time.perf_counter()
            if stats.startup_s is None:
                stats.startup_s = flip_perf - t_start
            if view is not None:
                try:
                    cues = kiosk.take_cues()
                except Exception:
                    enter_failsafe("kiosk.take_cues")
                    cues = []
                for cue in cues:
                    try:
                        what = player.play(cue)
                    except Exception:  # a sound must never stop the kiosk: the cue is on screen
                        log.exception("the sound of cue %r failed", cue.kind)
                        what = None
                    stats.sounds.append((cue.kind, what))
                    stats.cue_onsets.append((cue.kind, flip_t))
                    stats.cue_latency_ms.append((flip_t - cue.t) * 1000.0)
            if shots is not None:
                shots.consider(surface, view, stats)
            stats.frames += 1
            stats.frame_ms.append((time.perf_counter() - frame_start) * 1000.0)
            if last_flip is not None and not full_speed \
                    and flip_perf - last_flip > DROP_FACTOR * period:
                stats.dropped += 1
            last_flip = flip_perf
            if on_frame is not None and on_frame(stats, shown):
                running = False
                stats.ended = stats.ended or "on_frame"
            if virtual:
                clock.advance(period)
            if not full_speed:
                pg_clock.tick(fps)
            if frames_wanted is not None:
                if stats.frames >= frames_wanted:
                    running = False
                    stats.ended = stats.ended or "seconds"
            elif seconds is not None and clock() - t0 >= seconds:
                running = False
                stats.ended = stats.ended or "seconds"
    finally:
        if shots is not None:
            stats.screenshots = shots.finish()
        if player is not None:
            player.close()
        pygame.quit()
        _restore_env(saved_env)
    if stats.dropped:
        log.info("display: %d of %d frames dropped", stats.dropped, stats.frames)
    log.info("display: the loop ended (%s) after %d frames", stats.ended, stats.frames)
    return stats


# ------------------------------------------------------------------------------ helpers

def _headless_env(screenshots: str | os.PathLike | None) -> dict[str, str | None]:
    """Point SDL at the dummy video driver and the disk audio driver; return what to restore.

    The audio goes to ``$SDL_DISKAUDIOFILE`` if set, else beside the screenshots
    (``audio.raw``: signed 16-bit mono at the mixer's rate), else to SDL's dummy audio driver
    (SDL's disk driver refuses /dev/null)."""
    wanted = {"SDL_VIDEODRIVER": "dummy"}
    if os.environ.get("SDL_AUDIODRIVER", "disk") == "disk":
        if os.environ.get("SDL_DISKAUDIOFILE"):
            wanted["SDL_AUDIODRIVER"] = "disk"
        elif screenshots is not None:
            Path(screenshots).mkdir(parents=True, exist_ok=True)
            wanted["SDL_AUDIODRIVER"] = "disk"
            wanted["SDL_DISKAUDIOFILE"] = str(Path(screenshots) / "audio.raw")
        else:
            wanted["SDL_AUDIODRIVER"] = "dummy"
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _open_window(cfg: DisplayConfig, size, fullscreen: bool, title: str) -> pygame.Surface:
    """The window (or the whole screen), sized as asked; a readable error when there is none."""
    if size is None:
        if fullscreen:
            size = (cfg.width, cfg.height) if cfg.width and cfg.height else (0, 0)
        else:
            size = (cfg.width or WINDOW_SIZE[0], cfg.height or WINDOW_SIZE[1])
    w, h = size
    if w < 0 or h < 0:
        raise ValueError(f"window size must not be negative, not {size}")
    try:
        window = pygame.display.set_mode((w, h), pygame.FULLSCREEN if fullscreen else 0)
    except pygame.error as e:
        driver = os.environ.get("SDL_VIDEODRIVER") or "auto"
        raise DisplayError(f"no screen could be opened (SDL video driver {driver}: {e}); check "
                           "the display cable and that no other program holds the screen, or "
                           "run `gym-station demo --headless`") from None
    pygame.display.set_caption(title)
    return window


def _present(window: pygame.Surface, surface: pygame.Surface,
             dirty: Sequence | None, logical: tuple[int, int], rotation: int) -> None:
    """Put the logical surface's changed parts (``None``: all of it) on the panel."""
    if rotation == 0:
        if dirty is None:
            pygame.display.flip()
        else:
            pygame.display.update([pygame.Rect(r) for r in dirty])
        return
    if dirty is None:
        window.blit(pygame.transform.rotate(surface, -rotation), (0, 0))
        pygame.display.flip()
        return
    bounds = surface.get_rect()
    updated = []
    for r in dirty:
        r = pygame.Rect(r).clip(bounds)
        if r.width and r.height:
            target = panel_rect(r, logical, rotation)
            window.blit(pygame.transform.rotate(surface.subsurface(r), -rotation), target)
            updated.append(target)
    pygame.display.update(updated)


def _draw_failsafe(renderer: Renderer, surface: pygame.Surface) -> None:
    """The renderer's failsafe screen; if even that fails, plain text on dark grey."""
    try:
        renderer.failsafe(surface, FAILSAFE_MESSAGE)
        return
    except Exception:
        log.exception("the failsafe screen itself failed; drawing the plain one")
    surface.fill((30, 30, 34))
    w, h = surface.get_size()
    font = pygame.font.Font(None, max(18, h // 16))
    y = h // 3
    for line in ("Sorry, something went wrong.", "Going back to the start..."):
        text = font.render(line, True, (240, 240, 240))
        surface.blit(text, text.get_rect(midtop=(w // 2, y)))
        y += int(text.get_height() * 1.4)


def _targets_of(renderer: Renderer, current: Callable[[], Renderer]):
    """``targets(view)`` for the input mapper when the renderer lists its buttons (the Buttons
    themselves: their ``hold_s`` makes a long press), else None."""
    if not callable(getattr(renderer, "buttons", None)):
        return None
    return lambda view: current().buttons(view)


def _draw_holds(renderer: Renderer, surface: pygame.Surface, holds: list,
                dirty: list[pygame.Rect]) -> bool:
    """Fill the ring of each long press under way (``InputMapper.holding``) over the frame and
    add its button to ``dirty``; True when anything was drawn."""
    theme = getattr(renderer, "theme", None)
    if theme is None or not holds:
        return False
    from .widgets import draw_hold_progress
    drawn = False
    for target, done in holds:
        if hasattr(target, "rect") and hasattr(target, "style"):
            draw_hold_progress(surface, theme, target, done)
            dirty.append(pygame.Rect(target.rect))
            drawn = True
    return drawn


def _invalidate(renderer: Renderer) -> None:
    """Ask the renderer to redraw everything on its next frame, if it can."""
    invalidate = getattr(renderer, "invalidate", None)
    if callable(invalidate):
        invalidate()


def _fresh_renderer(renderer: Renderer, factory, logical) -> Renderer:
    """After the failsafe painted over the surface, the renderer must redraw everything: ask it
    to (``invalidate``) or build a new one."""
    invalidate = getattr(renderer, "invalidate", None)
    if callable(invalidate):
        invalidate()
        return renderer
    return factory(logical)


class _Screenshots:
    """PNGs of the first frame of each screen reached (and the live screen mid-rep), saved by a
    worker thread from a copy of the frame so the loop never waits for the disk."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken: set[str] = set()
        self.paths: list[Path] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screenshots")
        self._jobs: list[Future] = []
        self._lock = threading.Lock()

    def consider(self, surface: pygame.Surface, view: ViewState | None, stats: RunStats) -> None:
        name = "failsafe" if view is None else view.screen
        if name not in self.taken and (view is not None or stats.screens.last() == "failsafe"):
            self._take(surface, name)
        elif view is not None and _mid_rep(view) and "live-mid-rep" not in self.taken:
            self._take(surface, "live-mid-rep")  # a later frame than the live screen's first

    def _take(self, surface: pygame.Surface, name: str) -> None:
        self.taken.add(name)
        path = self.folder / f"{len(self.paths) + 1:02d}-{name}.png"
        self.paths.append(path)
        frame = surface.copy()
        self._jobs.append(self._pool.submit(pygame.image.save, frame, str(path)))

    def finish(self) -> list[Path]:
        for job in self._jobs:
            try:
                job.result(timeout=30)
            except Exception:
                log.exception("a screenshot could not be written")
        self._pool.shutdown(wait=True)
        return [p for p in self.paths if p.exists()]


def _mid_rep(view: ViewState) -> bool:
    """The live screen at its most telling: at the top of a rep with the hold timer filling."""
    if view.screen != "live" or view.live.phase != "top":
        return False
    return view.live.hold_s >= min(0.5, 0.5 * view.targets.hold_s)

"""``gym-station run`` and ``gym-station demo``: the sampler, the kiosk and the display wired
together. The only module that starts all three; ``display`` is imported here, lazily, so the
other commands never initialise pygame.

- ``run``: the configured plate. HX711 plates are sampled in their own process (real-time
  priority where allowed); simulated and replayed plates in a thread, in real time.
- ``demo``: the simulated plate with the scripted athlete, windowed; the keyboard can take over
  the athlete. Headless (``--headless``), the plate runs on a virtual clock and every frame
  advances it by 1/fps, so ``--seconds 60`` of demo renders as fast as the machine can.

Both open the coach's and staff's screens (:func:`install_admin`: PINs, roster and programs
from the state directory, the staff desk) and log every session to the usage log in the state directory (:func:`open_usage_log`), and push
it to the facility's PostgreSQL when ``storage.postgres_url`` is set.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from drivers.clock import VirtualClock

from .config import Config, config_dir
from .errors import UsageError
from .kiosk import Kiosk
from .plates import open_plate, scenario_path
from .profiles import ProfileBook, load_profiles
from .sampler import Sampler

log = logging.getLogger(__name__)


@dataclass
class Session:
    """What a run needs besides the display: the kiosk, how to drain samples, the status."""

    kiosk: Kiosk
    sampler: Sampler
    drain: object
    clock: object
    athlete: object | None = None
    #: what the staff desk calls after a calibration or tare on screen, so the plate uses it
    #: (None: the plate's calibration does not come from the state directory)
    reload_plate: object | None = None


def profiles_for(cfg: Config) -> ProfileBook:
    """The exercise book beside station.toml (config/exercises.toml)."""
    path = config_dir(cfg) / "exercises.toml"
    return load_profiles(path if path.exists() else None)


def cue_phrases(profiles: ProfileBook) -> list[str]:
    """Every cue text of every profile, to render with espeak-ng once at start."""
    out = []
    for p in profiles.profiles.values():
        out.extend(t for t in p.cues.values() if t not in out)
    return out


def open_configured_plate(config_path: str, state: str, kind: str | None):
    """Build the configured plate inside the sampler process (module level: picklable)."""
    from .config import load_config

    cfg = load_config(config_path)
    return open_plate(cfg, Path(state), kind=kind, realtime=True)


def demo_session(cfg: Config, *, headless: bool, scenario: str | None = None) -> Session:
    """The simulated plate and a kiosk for the demo."""
    from drivers.plate import ForcePlate
    from drivers.simplate import simulated_bank, simulated_calibration

    profiles = profiles_for(cfg)
    layout = cfg.plate.layout
    bank, _truth = simulated_bank(scenario_path(cfg, scenario), seed=cfg.simulation.seed,
                                  rate_hz=layout.rate_hz, layout=layout, realtime=not headless,
                                  body_mass_kg=cfg.simulation.body_mass_kg or None,
                                  keyboard=not headless)
    plate = ForcePlate(bank, bank.layout, simulated_calibration(bank.model))
    frames = VirtualClock() if headless else time.monotonic
    kiosk = Kiosk(profiles, station_name=cfg.station.name, four_cell=layout.four_cell,
                  rate_hz=layout.rate_hz, clock=frames)
    if headless:
        sampler = Sampler(lambda: plate, mode="inline", timeout=cfg.plate.read_timeout_s)
        drain = functools.partial(_drain_until, sampler, frames)
        return Session(kiosk, sampler, drain, frames)
    sampler = Sampler(lambda: plate, mode="thread", timeout=cfg.plate.read_timeout_s)
    return Session(kiosk, sampler, sampler.drain, frames, athlete=bank.athlete)


def apply_roster_and_programs(kiosk: Kiosk, state: Path) -> None:
    """Give the kiosk the stored roster (names and badges) and the coach's programs: the
    station's program for everyone, each athlete's assigned one for them."""
    from .admin import apply_programs
    from .programs import ProgramBook
    from .roster import Roster

    apply_programs(kiosk, Roster.load(state), ProgramBook.load(state, profiles=kiosk.profiles))


class _KioskEvents:
    """``event(kind, detail)`` into the kiosk's usage log, whichever it has at the time (the log
    opens after the screens are built, and closes before they go)."""

    def __init__(self, kiosk: Kiosk):
        self._kiosk = kiosk

    def event(self, kind: str, detail: dict | None = None) -> None:
        if self._kiosk.log is not None:
            self._kiosk.log.event(kind, detail)


def staff_desk(cfg: Config, state: Path, kiosk: Kiosk, reload_plate=None):
    """The staff's desk (today's usage, health, calibration, export, volume, leaving)."""
    from .staff import StaffDesk

    return StaffDesk.for_station(cfg, state, reload_plate, wall=time.time,
                                 events=_KioskEvents(kiosk))


def install_admin(session: Session, cfg: Config, state: Path):
    """The coach's and staff's screens on the session's kiosk: PINs, roster and programs from
    the state directory (applied to the kiosk at once), and the staff desk."""
    from .admin import Admin

    desk = staff_desk(cfg, state, session.kiosk, session.reload_plate)
    return Admin.for_station(session.kiosk, state, desk=desk)


def _drain_until(sampler: Sampler, frames: VirtualClock) -> list:
    return sampler.drain(until_t=frames())


def station_session(cfg: Config, state: Path, kind: str | None = None) -> Session:
    """The configured plate, sampled in its own process (hardware) or a thread."""
    kind = kind or cfg.plate.kind
    layout = cfg.plate.layout
    factory = functools.partial(open_configured_plate, str(cfg.path), str(state), kind)
    mode = "process" if kind in ("hx711", "hx711-pypi") else "thread"
    sampler = Sampler(factory, mode=mode, timeout=cfg.plate.read_timeout_s)
    kiosk = Kiosk(profiles_for(cfg), station_name=cfg.station.name, four_cell=layout.four_cell,
                  rate_hz=layout.rate_hz, clock=time.monotonic)
    return Session(kiosk, sampler, sampler.drain, time.monotonic,
                   reload_plate=sampler.reload)


def screen_available() -> bool:
    """Whether a window can be shown: an X or Wayland display, a DRM device for KMSDRM (the Pi
    without a desktop), or an SDL video driver chosen explicitly."""
    if os.environ.get("SDL_VIDEODRIVER") or os.environ.get("DISPLAY") \
            or os.environ.get("WAYLAND_DISPLAY"):
        return True
    return any(Path("/dev/dri").glob("card*"))


class StationHardware:
    """The optional button, LED and buzzer (``[io]``) around the kiosk.

    The button's gpiozero thread hands its command to ``post`` (the display's ``post_command``:
    a pygame event, so that thread never touches the kiosk); each frame the LED follows the screen
    and each new cue sounds on the buzzer. With nothing fitted it does nothing.
    """

    LED_BY_SCREEN = {"idle": "idle", "ready": "ready", "live": "live", "summary": "ready",
                     "fault": "fault"}
    BUZZ_BY_CUE = {"rep_count": "rep", "hold_reached": "good", "set_done": "set_done",
                   "toe_drive": "warning", "heel_drive": "warning", "short_hold": "warning",
                   "too_fast": "warning"}

    def __init__(self, cfg: Config, post, pin_factory=None):
        from drivers.station_io import StationIO

        from .view import UICommand

        io = cfg.io
        self.io = None
        if io.button_pin is None and io.led_pin is None and io.buzzer_pin is None:
            return
        self.io = StationIO(io.button_pin, io.led_pin, io.buzzer_pin,
                            on_command=lambda c: post(UICommand(c.kind)),
                            pin_factory=pin_factory)

    def on_frame(self, stats, view) -> None:
        if self.io is not None:
            state = self.LED_BY_SCREEN.get(view.screen, "idle")
            if state != self.io.led_state:
                self.io.show(state)

    def cue(self, cue) -> None:
        if self.io is not None and cue.kind in self.BUZZ_BY_CUE:
            self.io.beep(self.BUZZ_BY_CUE[cue.kind])

    def close(self) -> None:
        if self.io is not None:
            self.io.close()
            self.io = None


class _BuzzingKiosk:
    """The kiosk, with each cue it hands the display also sounded on the buzzer."""

    def __init__(self, kiosk: Kiosk, hardware: StationHardware):
        self._kiosk = kiosk
        self._hw = hardware

    def __getattr__(self, name):
        return getattr(self._kiosk, name)

    def take_cues(self):
        cues = self._kiosk.take_cues()
        for c in cues:
            self._hw.cue(c)
        return cues


def open_usage_log(cfg: Config, state: Path, wait=None):
    """The usage log on the state directory and, with storage.postgres_url, its facility push.

    Returns ``(recorder, push)``; ``push`` is None without a facility. A facility that cannot be
    used (psycopg missing) is logged and the station runs on its own log. ``wait``: how their
    threads wait (real time unless given; the soak test's day runs them on plate time).
    """
    from .errors import FacilitySyncError
    from .usage_log import UsageLog
    from .usage_pg import FacilityPush
    from .usage_recorder import SessionRecorder
    from .usage_schema import database_file

    st = cfg.storage
    push = None
    if st.postgres_url:
        try:
            push = FacilityPush(database_file(state), st.postgres_url, cfg.station.id,
                                interval_s=st.push_interval_s, wait=wait)
        except FacilitySyncError as e:
            log.error("usage log: %s; this station keeps its log locally", e)
    usage = UsageLog(database_file(state), station_id=cfg.station.id,
                     station_name=cfg.station.name, memory_bound=st.memory_bound,
                     commit_interval_s=st.commit_interval_s,
                     on_commit=push.nudge if push is not None else None, wait=wait)
    usage.start()
    if push is not None:
        push.start()
    return SessionRecorder(usage, facility=push), push


def _close_usage(kiosk: Kiosk, recorder, push) -> None:
    """End the open session as ``shutdown``, commit the log, stop the facility push."""
    kiosk.log = None
    recorder.close(kiosk.now)
    if push is not None:
        push.close()


def run_session(session: Session, cfg: Config, state: Path, *, fullscreen: bool,
                headless: bool = False, seconds: float | None = None,
                screenshots: str | None = None, size: tuple[int, int] | None = None,
                t_start: float | None = None, pin_factory=None, on_frame=None,
                closable: bool = True):
    """Run the display loop on a session until the window closes (``closable``: see
    :func:`display.app.run_kiosk`), the staff leave or ``seconds`` pass.

    ``on_frame(stats, view)`` runs after each flip (the systemd watchdog uses it), after the
    station hardware's own frame hook."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if not headless and not screen_available():
        raise UsageError("no screen here (no X or Wayland display, no /dev/dri for KMSDRM): "
                         "try `gym-station demo --headless --seconds 60 --screenshots shots` "
                         "and look at the PNGs, or run under Xvfb")
    from display.app import post_command, run_kiosk
    from display.input import athlete_callback

    athlete = athlete_callback(session.athlete) if session.athlete is not None else None
    install_admin(session, cfg, state)
    recorder, push = open_usage_log(cfg, state)
    session.kiosk.log = recorder
    try:
        hardware = StationHardware(cfg, post_command, pin_factory=pin_factory)
    except BaseException:
        _close_usage(session.kiosk, recorder, push)
        raise
    kiosk = _BuzzingKiosk(session.kiosk, hardware) if hardware.io else session.kiosk
    hooks = [h for h in (hardware.on_frame if hardware.io else None, on_frame) if h is not None]

    def frame_hooks(stats, view):
        stop = False
        for hook in hooks:  # every hook runs each frame; any of them may end the loop
            stop = bool(hook(stats, view)) or stop
        return stop

    with session.sampler:
        try:
            stats = run_kiosk(
                kiosk, session.drain, session.sampler.poll,
                display_cfg=cfg.display, audio_cfg=cfg.audio, size=size, fullscreen=fullscreen,
                headless=headless, seconds=seconds, screenshots=screenshots,
                clock=session.clock, sound_cache_dir=state / "sounds", athlete=athlete,
                phrases=cue_phrases(session.kiosk.profiles), title=cfg.station.name,
                t_start=t_start, on_frame=frame_hooks if hooks else None, closable=closable)
        finally:
            hardware.close()
            _close_usage(session.kiosk, recorder, push)
    figures = stats.figures()
    log.info("kiosk stopped: %d frames, %d dropped, screens %s", stats.frames, stats.dropped,
             stats.screen_path())
    return stats, figures

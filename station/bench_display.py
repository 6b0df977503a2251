"""The kiosk display's figures for ``gym-station bench``, measured in real time.

Two child processes, one after the other, so each start-up is measured from a cold interpreter
and each RSS is that process' own. Both run the real main loop (:func:`display.app.run_kiosk`)
with the real renderer, headless (SDL dummy video: the software rendering a Pi does too, without
the final scan-out).

The synthetic child shows the live screen of :class:`BenchKiosk`: a synthetic athlete whose
samples arrive at 80 Hz stamped on the monotonic clock, a force trace that moves every frame and
a cue every :data:`CUE_EVERY_S`, at each size in :data:`SIZES` for ``seconds``:

- ``frame_ms_p50_800x480``, ``frame_ms_p99_800x480``, ``frame_ms_p99_1280x720``: the loop's work
  per frame (events, feed, view, draw, update, sounds), not the wait for the next frame, over
  ``frames_800x480`` / ``frames_1280x720`` frames (the first, which sets up, is left out).
- ``cue_latency_ms_p50`` / ``_p99``: from the timestamp of the sample that made a cue true to the
  flip that showed it (both monotonic); at most one frame of waiting plus the frame's work; over
  ``cues`` cues (both sizes).
- ``frames_dropped_800x480`` / ``frames_dropped_1280x720``: frames whose interval exceeded 1.2
  periods (PsychoPy's rule).
- ``startup_s``: from spawning the process to its first frame on screen; ``rss_mb``: its peak
  resident memory. A small kiosk: pygame, the renderer and the view, not the station.

The real child is the station itself, as ``gym-station demo`` runs it: the simulated plate's
scripted athlete in real time (sampler thread), the real configuration, analysis, cue engine,
kiosk, usage log (in a temporary state folder) and spoken cues (cached between runs, see
:func:`_sound_cache`), at 800x480, for
:data:`REAL_KIOSK_S` (just ``seconds`` when shorter than :data:`REAL_KIOSK_MIN_S`, too short for a
rep): ``real_kiosk_startup_s``, ``real_kiosk_rss_mb`` (the kiosk process; a hardware plate's
sampler runs in a process of its own, not measured here), ``real_kiosk_frame_ms_p99_800x480``
over ``real_kiosk_frames``, ``real_kiosk_frames_dropped``, and the latency of the cues the real
analysis made true (``real_kiosk_cue_latency_ms_p50``/``_p99`` over ``real_kiosk_cues``).

A percentile of no values (no cue landed in a short run) is null, and its count says 0.

This module is station-side: it never imports pygame itself (the children import ``display``).
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

from drivers.sample import Sample

from .bench_stats import p50_p99
from .errors import DisplayError
from .view import PHASE_CODES, Cue, LiveView, Targets, Trace, ViewState

RATE_HZ = 80.0
TRACE_S = 6.0
REP_S = 2.5
CUE_EVERY_S = 0.25
SIZES = ((800, 480), (1280, 720))
#: The real-kiosk run (real analysis on the simulated athlete) lasts this long when the bench is
#: given at least REAL_KIOSK_MIN_S per size (a rep takes ~5 s), else as long as the others.
REAL_KIOSK_S = 14.0
REAL_KIOSK_MIN_S = 2.0
#: A child gets this long, plus 4 x its seconds, before it is declared stuck.
CHILD_TIMEOUT_S = 90.0
CUE_TEXTS = ("Drive through your heel.", "Hold it.", "Slowly down.", "Good rep.")


class BenchPlate:
    """Samples of a synthetic athlete at 80 Hz on the monotonic clock: what was sampled since
    the last drain (as the sampler's ring gives the loop)."""

    def __init__(self, clock=time.monotonic, rate_hz: float = RATE_HZ):
        self.clock = clock
        self.period = 1.0 / rate_hz
        self.t0 = clock()
        self.next_t = self.t0

    def drain(self) -> list[Sample]:
        now = self.clock()
        out = []
        while self.next_t <= now:
            t = self.next_t
            lift = max(0.0, math.sin(2 * math.pi * (t - self.t0) / REP_S))
            load = 300.0 + 250.0 * lift
            share = 0.68 + 0.05 * math.sin(2 * math.pi * (t - self.t0) / 0.9)
            out.append(Sample(t=t, heel=load * share, forefoot=load * (1 - share)))
            self.next_t += self.period
        return out


class BenchKiosk:
    """Always the live screen: the last :data:`TRACE_S` of load with phases, the heel share,
    reps, the hold timer, and a new cue every ``cue_every_s`` of sample time."""

    def __init__(self, rate_hz: float = RATE_HZ, cue_every_s: float = CUE_EVERY_S):
        self.n = int(TRACE_S * rate_hz)
        # each sample is written twice, n apart, so the last n are always one contiguous view
        self._t = np.zeros(2 * self.n)
        self._load = np.zeros(2 * self.n)
        self._phase = np.zeros(2 * self.n, dtype=np.int8)
        self._i = 0
        self.count = 0
        self.cue_every_s = cue_every_s
        self.next_cue_t: float | None = None
        self.cue: Cue | None = None
        self.pending: list[Cue] = []
        self.cues = 0
        self.reps = 0
        self.live = LiveView()
        self._was_top = False
        self._top_since = 0.0

    def feed(self, samples: list[Sample]) -> None:
        for s in samples:
            load = s.total
            phase = "top" if load > 500 else "drive" if load > 320 else "bottom"
            if phase == "top" and not self._was_top:
                self.reps += 1
                self._top_since = s.t
            self._was_top = phase == "top"
            i = self._i
            for j in (i, i + self.n):
                self._t[j], self._load[j], self._phase[j] = s.t, load, PHASE_CODES[phase]
            self._i = (i + 1) % self.n
            self.count += 1
            live = self.live
            live.phase, live.load_n, live.heel_n, live.forefoot_n = phase, load, s.heel, s.forefoot
            live.heel_share = s.heel / load
            live.cop_along = 1 - live.heel_share
            live.hold_s = s.t - self._top_since if phase == "top" else 0.0
            live.reps = live.good_reps = self.reps
            if self.next_cue_t is None:
                self.next_cue_t = s.t + self.cue_every_s
            elif s.t >= self.next_cue_t:
                text = CUE_TEXTS[self.cues % len(CUE_TEXTS)]
                self.cue = Cue("rep_count", text, "rep", 1, s.t)
                self.pending.append(self.cue)
                self.cues += 1
                self.next_cue_t += self.cue_every_s

    def handle(self, command) -> None:
        pass

    def tick(self, status) -> None:
        pass

    def view(self) -> ViewState:
        k = min(self.count, self.n)
        start = self._i + self.n - k
        self.live.trace = Trace(self._t[start:start + k], self._load[start:start + k],
                                self._phase[start:start + k])
        return ViewState(
            screen="live", station_name="Bench", exercise_id="single_leg_hip_thrust",
            exercise_name="Single-leg hip thrust", side="left", sides=("left", "right"),
            tips=(), targets=Targets(reps=8, sets=3, hold_s=1.0, drive_zone="heel",
                                     share_min=0.6, min_lower_s=1.5),
            athlete="Bench", live=self.live, cue=self.cue)

    def take_cues(self) -> list[Cue]:
        out, self.pending = self.pending, []
        return out


def _display_configs():
    from .config import AudioConfig, DisplayConfig

    display_cfg = DisplayConfig(width=0, height=0, fullscreen=False, rotation=0, fps=60,
                                hide_cursor=True)
    audio_cfg = AudioConfig(volume=0.5, mute=False, speech=False, voice="en", quiet_hours=None,
                            quiet_volume=0.3, buffer=512)
    return display_cfg, audio_cfg


def summarise_frames(frame_ms: list[float], dropped: int, name: str, size: str) -> dict:
    """A run's frame figures: p50/p99 of the work per frame without the first (which sets up),
    how many frames that is, and the frames dropped."""
    p50, p99 = p50_p99(frame_ms[1:])
    return {f"{name}frame_ms_p50_{size}": p50, f"{name}frame_ms_p99_{size}": p99,
            f"{name}frames_{size}": len(frame_ms[1:]), f"{name}frames_dropped_{size}": dropped}


def summarise_cues(latency_ms: list[float], name: str, count_name: str) -> dict:
    """p50/p99 of cue latency (None when no cue landed) and how many cues."""
    p50, p99 = p50_p99(latency_ms)
    return {f"{name}cue_latency_ms_p50": p50, f"{name}cue_latency_ms_p99": p99,
            count_name: len(latency_ms)}


def _first_frame(record: dict):
    def on_frame(stats, view):
        record.setdefault("first_frame_t", time.monotonic())
    return on_frame


def _synthetic_child(seconds: float) -> dict:
    """Run the live screen at each size for ``seconds`` of real time (in the child process)."""
    from display.app import run_kiosk

    display_cfg, audio_cfg = _display_configs()
    out: dict = {}
    latencies: list[float] = []
    for size in SIZES:
        kiosk, plate = BenchKiosk(), BenchPlate()
        first: dict = {}
        stats = run_kiosk(kiosk, plate.drain, lambda: None, display_cfg=display_cfg,
                          audio_cfg=audio_cfg, size=size, headless=True, seconds=seconds,
                          on_frame=_first_frame(first))
        out.setdefault("first_frame_t", first["first_frame_t"])
        out.update(summarise_frames(stats.frame_ms, stats.dropped, "", f"{size[0]}x{size[1]}"))
        latencies += stats.cue_latency_ms
    out.update(summarise_cues(latencies, "", "cues"))
    out["rss_mb"] = _peak_rss_mb()
    return out


def _real_child(seconds: float) -> dict:
    """The station itself (see the module docstring), in the child process: what
    ``gym-station demo`` runs, in real time, with its state in a temporary folder."""
    import tempfile
    from pathlib import Path

    from .config import load_config
    from .kiosk_run import demo_session, run_session

    cfg = load_config()
    first: dict = {}
    sounds = _sound_cache()
    cached = sum(1 for _ in sounds.rglob("*.wav"))
    with tempfile.TemporaryDirectory(prefix="gym-station-bench-") as state:
        (Path(state) / "sounds").symlink_to(sounds, target_is_directory=True)
        session = demo_session(cfg, headless=False, scenario="clean_set")
        stats, _ = run_session(session, cfg, Path(state), fullscreen=False, headless=True,
                               seconds=seconds, size=(800, 480), on_frame=_first_frame(first))
    frames = summarise_frames(stats.frame_ms, stats.dropped, "real_kiosk_", "800x480")
    return {"first_frame_t": first["first_frame_t"],
            "real_kiosk_frame_ms_p99_800x480": frames["real_kiosk_frame_ms_p99_800x480"],
            "real_kiosk_frames": frames["real_kiosk_frames_800x480"],
            "real_kiosk_frames_dropped": stats.dropped,
            **summarise_cues(stats.cue_latency_ms, "real_kiosk_", "real_kiosk_cues"),
            "real_kiosk_rss_mb": _peak_rss_mb(), "real_kiosk_sounds_cached": cached}


def _sound_cache():
    """The real child's spoken-cue cache, kept between bench runs as the station keeps its own
    (``state/sounds``): a station renders its cues once, so a warm cache is its every day. The
    first bench run on a machine renders them in the background (``real_kiosk_sounds_cached``
    is then 0) and its real-kiosk frames are slower."""
    from pathlib import Path

    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    path = Path(base) / "gym-station" / "bench-sounds"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def _spawn(kind: str, seconds: float, run: Callable, clock: Callable[[], float]) -> dict:
    """Run one child; its figures, with ``startup_s`` from spawning it to its first frame."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    spawned = clock()
    try:
        done = run([sys.executable, "-m", "station.bench_display", kind, str(seconds)], env=env,
                   capture_output=True, text=True, timeout=CHILD_TIMEOUT_S + 4 * seconds)
    except subprocess.TimeoutExpired:
        raise DisplayError(f"the display benchmark ({kind[2:]}) did not finish in "
                           f"{CHILD_TIMEOUT_S + 4 * seconds:g} s") from None
    if done.returncode != 0:
        last = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise DisplayError(f"the display benchmark ({kind[2:]}) failed: {last[0]}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    child["startup_s"] = round(child.pop("first_frame_t") - spawned, 3)
    return child


def measure_display(seconds: float = 3.0, *, run: Callable = subprocess.run,
                    clock: Callable[[], float] = time.monotonic) -> dict:
    """Measure the display's figures (see the module docstring) over ``seconds`` per size."""
    if not 0.5 <= seconds <= 120:
        raise ValueError(f"seconds must be between 0.5 and 120, not {seconds!r}")
    synthetic = _spawn("--synthetic", seconds, run, clock)
    real = _spawn("--real", REAL_KIOSK_S if seconds >= REAL_KIOSK_MIN_S else seconds, run, clock)
    real["real_kiosk_startup_s"] = real.pop("startup_s")
    wanted = ("frame_ms_p50_800x480", "frame_ms_p99_800x480", "frame_ms_p99_1280x720",
              "cue_latency_ms_p50", "cue_latency_ms_p99", "startup_s", "rss_mb")
    return {**{k: synthetic[k] for k in wanted},
            **{k: v for k, v in synthetic.items() if k not in wanted},
            "real_kiosk_startup_s": real.pop("real_kiosk_startup_s"),
            "real_kiosk_rss_mb": real.pop("real_kiosk_rss_mb"), **real}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    children = {"--synthetic": _synthetic_child, "--real": _real_child}
    if argv[:1] and argv[0] in children:
        print(json.dumps(children[argv[0]](float(argv[1]))), flush=True)
        return 0
    seconds = float(argv[0]) if argv else 3.0
    print(json.dumps(measure_display(seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

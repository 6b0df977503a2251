"""The kiosk display's figures for ``gym-station bench``, measured in real time.

A child process (so start-up is measured from a cold interpreter, and the RSS is the display's
own) runs the real main loop (:func:`display.app.run_kiosk`) with the real renderer, headless (SDL
dummy video: the software rendering a Pi does too, without the final scan-out), on the live
screen of :class:`BenchKiosk`: a synthetic athlete whose samples arrive at 80 Hz stamped on the
monotonic clock, a force trace that moves every frame and a cue every :data:`CUE_EVERY_S`.

- ``frame_ms_p50_800x480``, ``frame_ms_p99_800x480``, ``frame_ms_p99_1280x720``: the loop's work
  per frame (events, feed, view, draw, update, sounds), not the wait for the next frame.
- ``cue_latency_ms_p50`` / ``_p99``: from the timestamp of the sample that made a cue true to the
  flip that showed it (both monotonic); at most one frame of waiting plus the frame's work.
- ``startup_s``: from spawning the process to the first frame on screen.
- ``rss_mb``: the child's peak resident memory after both runs.
- ``frames_dropped_800x480`` / ``frames_dropped_1280x720``: frames whose interval exceeded 1.2
  periods (PsychoPy's rule).
- ``real_kiosk_*``: the same loop on the real station (the scripted athlete of the simulated
  plate in real time, the real analysis, cues and kiosk) for :data:`REAL_KIOSK_S`: frame p99 and
  the latency of cues the real analysis made true (when ``seconds`` >= :data:`REAL_KIOSK_MIN_S`).

This module is station-side: it never imports pygame itself (the child imports ``display``).
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time

import numpy as np

from drivers.sample import Sample

from .view import PHASE_CODES, Cue, LiveView, Targets, Trace, ViewState

RATE_HZ = 80.0
TRACE_S = 6.0
REP_S = 2.5
CUE_EVERY_S = 0.25
SIZES = ((800, 480), (1280, 720))
#: The real-kiosk run (real analysis on the simulated athlete) lasts this long, and runs only when
#: the bench is given at least REAL_KIOSK_MIN_S per size (not in the quick contract test).
REAL_KIOSK_S = 14.0
REAL_KIOSK_MIN_S = 2.0
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


def _real_kiosk(display_cfg, audio_cfg) -> dict:
    """The same loop on the real station: the simulated plate's scripted athlete in real time
    (sampler thread), the real analysis, cue engine and kiosk, at 800x480. Fewer cues than the
    synthetic run (a rep takes ~5 s), but each one made true by the real analysis."""
    from display.app import run_kiosk

    from .config import load_config
    from .kiosk_run import demo_session

    cfg = load_config()
    session = demo_session(cfg, headless=False, scenario="clean_set")
    with session.sampler:
        stats = run_kiosk(session.kiosk, session.drain, session.sampler.poll,
                          display_cfg=display_cfg, audio_cfg=audio_cfg, size=(800, 480),
                          headless=True, seconds=REAL_KIOSK_S, clock=session.clock)
    lat = stats.cue_latency_ms
    return {
        "real_kiosk_frame_ms_p99_800x480": float(np.percentile(stats.frame_ms[1:], 99)),
        "real_kiosk_cue_latency_ms_p50": float(np.percentile(lat, 50)) if lat else None,
        "real_kiosk_cue_latency_ms_p99": float(np.percentile(lat, 99)) if lat else None,
        "real_kiosk_cues": len(lat),
        "real_kiosk_frames_dropped": stats.dropped,
    }


def _child(seconds: float) -> dict:
    """Run the live screen at each size for ``seconds`` of real time (in the child process)."""
    from display.app import run_kiosk

    from .config import AudioConfig, DisplayConfig

    display_cfg = DisplayConfig(width=0, height=0, fullscreen=False, rotation=0, fps=60,
                                hide_cursor=True)
    audio_cfg = AudioConfig(volume=0.5, mute=False, speech=False, voice="en", quiet_hours=None,
                            quiet_volume=0.3, buffer=512)
    out: dict = {}
    latencies: list[float] = []
    for size in SIZES:
        kiosk, plate = BenchKiosk(), BenchPlate()
        first = {}

        def on_frame(stats, view, first=first):
            first.setdefault("t", time.monotonic())

        stats = run_kiosk(kiosk, plate.drain, lambda: None, display_cfg=display_cfg,
                          audio_cfg=audio_cfg, size=size, headless=True, seconds=seconds,
                          on_frame=on_frame)
        if "first_frame_t" not in out:
            out["first_frame_t"] = first["t"]
        w, h = size
        out[f"frame_ms_p50_{w}x{h}"] = float(np.percentile(stats.frame_ms[1:], 50))
        out[f"frame_ms_p99_{w}x{h}"] = float(np.percentile(stats.frame_ms[1:], 99))
        out[f"frames_dropped_{w}x{h}"] = stats.dropped
        out[f"frames_{w}x{h}"] = stats.frames
        latencies += stats.cue_latency_ms
    out["cue_latency_ms_p50"] = float(np.percentile(latencies, 50))
    out["cue_latency_ms_p99"] = float(np.percentile(latencies, 99))
    out["cues"] = len(latencies)
    if seconds >= REAL_KIOSK_MIN_S:
        out.update(_real_kiosk(display_cfg, audio_cfg))
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def measure_display(seconds: float = 3.0) -> dict:
    """Measure the display's figures (see the module docstring) over ``seconds`` per size."""
    if not 0.5 <= seconds <= 120:
        raise ValueError(f"seconds must be between 0.5 and 120, not {seconds!r}")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    spawned = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "station.bench_display", "--child",
                           str(seconds)], env=env, capture_output=True, text=True,
                          timeout=90 + 4 * seconds)
    if done.returncode != 0:
        raise RuntimeError(f"the display benchmark failed: {done.stderr.strip()[-2000:]}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    child["startup_s"] = child.pop("first_frame_t") - spawned
    wanted = ("frame_ms_p50_800x480", "frame_ms_p99_800x480", "frame_ms_p99_1280x720",
              "cue_latency_ms_p50", "cue_latency_ms_p99", "startup_s", "rss_mb")
    return {**{k: child[k] for k in wanted}, **{k: v for k, v in child.items() if k not in wanted}}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(_child(float(argv[1]))), flush=True)
        return 0
    seconds = float(argv[0]) if argv else 3.0
    print(json.dumps(measure_display(seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``gym-station bench``: the station's performance figures, measured on this machine.

Speed and memory targets live here, never in tests (shared machines are noisy). Each figure's
name carries its unit. Groups:

- analysis (no hardware, no pygame): ``analysis_us_per_sample`` is the whole chain the kiosk
  runs per sample (filter, presence, rep phases, cues, the screen state machine and its per-frame
  live view), fed as the 60 fps loop drains them, on the simulated demo athlete's samples
  generated beforehand; ``analysis_realtime_factor`` is how many times faster than 80 SPS real
  time that is (target >= 1000).
- driver (real time, on simulated chips): see :mod:`station.bench_driver` and
  :mod:`station.bench_hx711pkg`; the project's reader and the ``hx711`` PyPI package are measured
  on identical simulated chips in the same run.
- display (child processes, headless): see :mod:`station.bench_display`.

``--seconds`` is the real time of each driver and display run, :data:`SECONDS_MIN` to
:data:`SECONDS_MAX` (the simulated chips' time code and the display children's patience bound
it). A p99 over fewer than :data:`~station.bench_stats.FEW_SAMPLES` values is flagged in the
table: it is about the largest value, not a tail.
"""

from __future__ import annotations

import time

from .bench_stats import FEW_SAMPLES
from .errors import UsageError

FPS = 60
SECONDS_MIN, SECONDS_MAX = 0.5, 60.0
#: 60 Hz: a cue is shown at the next flip (at most one 16.7 ms frame) plus the frame's work (2 ms).
CUE_LATENCY_P99_MS = 1000.0 / FPS + 2.0
TARGETS = {
    "analysis_realtime_factor": (">=", 1000.0),
    "frame_ms_p99_800x480": ("<=", 4.0),
    "frame_ms_p99_1280x720": ("<=", 8.0),
    "cue_latency_ms_p99": ("<=", round(CUE_LATENCY_P99_MS, 1)),
    "startup_s": ("<=", 2.0),
    "rss_mb": ("<=", 150.0),
    "real_kiosk_startup_s": ("<=", 2.0),
    "real_kiosk_rss_mb": ("<=", 150.0),
}
#: Each p99 figure and the figure that counts the values it was taken from.
SAMPLE_COUNTS = {
    "frame_ms_p99_800x480": "frames_800x480",
    "frame_ms_p99_1280x720": "frames_1280x720",
    "cue_latency_ms_p99": "cues",
    "real_kiosk_frame_ms_p99_800x480": "real_kiosk_frames",
    "real_kiosk_cue_latency_ms_p99": "real_kiosk_cues",
    "driver_word_latency_ms_p99": "driver_words_timed",
    "hx711pkg_word_latency_ms_p99": "hx711pkg_words_timed",
}


def check_seconds(seconds: float) -> float:
    """``seconds`` if the bench can run that long, else a UsageError saying what it can do."""
    if not SECONDS_MIN <= seconds <= SECONDS_MAX:
        raise UsageError(f"--seconds {seconds:g} is outside {SECONDS_MIN:g}..{SECONDS_MAX:g}: "
                         "the bench runs each driver and display measurement that long in "
                         "real time")
    return seconds


def measure_analysis(seconds_of_data: float = 90.0, rate_hz: float = 80.0) -> dict:
    """Time the kiosk's per-sample chain over the demo athlete's samples."""
    from drivers.simplate import simulated_plate

    from .kiosk import Kiosk
    from .profiles import load_profiles

    plate, _ = simulated_plate("demo", seed=1, rate_hz=rate_hz)
    with plate:
        samples = []
        while True:
            s = plate.read()
            samples.append(s)
            if s.t >= seconds_of_data:
                break
    # the samples as the 60 fps loop drains them: those stamped within each frame
    frames, frame, edge = [], [], 1.0 / FPS
    for s in samples:
        if s.t >= edge:
            frames.append(frame)
            frame = []
            edge += 1.0 / FPS
        frame.append(s)
    frames.append(frame)
    kiosk = Kiosk(load_profiles(), rate_hz=rate_hz)
    start = time.perf_counter()
    for frame in frames:
        kiosk.feed(frame)
    elapsed = time.perf_counter() - start
    per_sample = elapsed / len(samples)
    return {
        "analysis_us_per_sample": round(per_sample * 1e6, 2),
        "analysis_realtime_factor": round((1.0 / rate_hz) / per_sample, 1),
        "analysis_samples_count": len(samples),
    }


def run_bench(*, display: bool = True, driver_seconds: float = 3.0,
              display_seconds: float = 3.0) -> dict:
    """Every figure, in one run."""
    check_seconds(driver_seconds)
    check_seconds(display_seconds)
    from .bench_driver import measure_reader
    from .bench_hx711pkg import measure_hx711pkg

    figures: dict = {}
    figures.update(measure_analysis())
    figures.update(measure_reader(driver_seconds))
    figures.update(measure_hx711pkg(driver_seconds))
    if display:
        from .bench_display import measure_display

        figures.update(measure_display(display_seconds))
    return figures


def render(figures: dict) -> str:
    """A readable table, with the target where there is one, and a flag on each p99 taken from
    too few values to be a tail."""
    lines = [f"{'figure':<42}{'value':>12}  target"]
    for name, value in figures.items():
        target = TARGETS.get(name)
        mark = ""
        if target is not None and isinstance(value, int | float):
            op, limit = target
            ok = value >= limit if op == ">=" else value <= limit
            mark = f"{op} {limit:g}  {'ok' if ok else 'MISSED'}"
        count = figures.get(SAMPLE_COUNTS.get(name, ""))
        if isinstance(count, int) and count < FEW_SAMPLES and value is not None:
            mark = (mark + "  " if mark else "") + f"(p99 of only {count}: about the maximum)"
        shown = (f"{value:.4g}" if isinstance(value, float)
                 else "n/a" if value is None else str(value))
        lines.append(f"{name:<42}{shown:>12}  {mark}")
    return "\n".join(lines)

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
- display (a child process, headless): see :mod:`station.bench_display`.
"""

from __future__ import annotations

import time

from drivers.simplate import simulated_plate

from .kiosk import Kiosk
from .profiles import load_profiles

FPS = 60
TARGETS = {
    "analysis_realtime_factor": (">=", 1000.0),
    "frame_ms_p99_800x480": ("<=", 4.0),
    "frame_ms_p99_1280x720": ("<=", 8.0),
    "startup_s": ("<=", 2.0),
    "rss_mb": ("<=", 150.0),
}


def measure_analysis(seconds_of_data: float = 90.0, rate_hz: float = 80.0) -> dict:
    """Time the kiosk's per-sample chain over the demo athlete's samples."""
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
    """A readable table, with the target where there is one."""
    lines = [f"{'figure':<42}{'value':>12}  target"]
    for name, value in figures.items():
        target = TARGETS.get(name)
        mark = ""
        if target is not None and isinstance(value, int | float):
            op, limit = target
            ok = value >= limit if op == ">=" else value <= limit
            mark = f"{op} {limit:g}  {'ok' if ok else 'MISSED'}"
        shown = (f"{value:.4g}" if isinstance(value, float)
                 else "n/a" if value is None else str(value))
        lines.append(f"{name:<42}{shown:>12}  {mark}")
    return "\n".join(lines)

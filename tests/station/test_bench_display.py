"""How ``gym-station bench`` turns the display children's runs into figures: known frames, cues
and clocks in, known figures out (no child is spawned, nothing is timed)."""

import json
import subprocess

import pytest

from station import bench_display
from station.errors import DisplayError


def test_frame_figures_leave_out_the_first_frame():
    frame_ms = [500.0] + [float(i) for i in range(1, 101)]   # the first one sets up
    figures = bench_display.summarise_frames(frame_ms, 3, "", "800x480")
    assert figures == {"frame_ms_p50_800x480": 50.5,
                       "frame_ms_p99_800x480": pytest.approx(99.01),
                       "frames_800x480": 100, "frames_dropped_800x480": 3}


def test_cue_figures_of_a_run_without_cues_are_null_not_a_crash():
    """A short run may see no cue land (the real kiosk's first comes after a rep)."""
    figures = bench_display.summarise_cues([], "real_kiosk_", "real_kiosk_cues")
    assert figures == {"real_kiosk_cue_latency_ms_p50": None,
                       "real_kiosk_cue_latency_ms_p99": None, "real_kiosk_cues": 0}
    figures = bench_display.summarise_cues([4.0, 8.0, 12.0], "", "cues")
    assert figures == {"cue_latency_ms_p50": 8.0, "cue_latency_ms_p99": pytest.approx(11.92),
                       "cues": 3}


def _child_output(kind, first_frame_t):
    if kind == "--synthetic":
        out = {"frame_ms_p50_800x480": 1.0, "frame_ms_p99_800x480": 2.0,
               "frame_ms_p99_1280x720": 3.0, "cue_latency_ms_p50": 9.0,
               "cue_latency_ms_p99": 17.0, "rss_mb": 55.0, "cues": 24}
    else:
        out = {"real_kiosk_rss_mb": 77.0, "real_kiosk_cues": 6}
    return json.dumps({**out, "first_frame_t": first_frame_t})


def test_startup_is_from_spawning_each_child_to_its_first_frame():
    """The children report the monotonic time of their first frame; the parent took the time
    it spawned them: 0.4 s for the small kiosk, 0.9 s for the station."""
    now = iter([100.0, 200.0])
    spawned = []

    def run(argv, **kwargs):
        kind, seconds = argv[-2], float(argv[-1])
        spawned.append((kind, seconds))
        first = {"--synthetic": 100.4, "--real": 200.9}[kind]
        return subprocess.CompletedProcess(argv, 0, _child_output(kind, first), "")

    figures = bench_display.measure_display(3.0, run=run, clock=lambda: next(now))
    assert spawned == [("--synthetic", 3.0), ("--real", bench_display.REAL_KIOSK_S)]
    assert figures["startup_s"] == pytest.approx(0.4)
    assert figures["real_kiosk_startup_s"] == pytest.approx(0.9)
    assert figures["rss_mb"] == 55.0 and figures["real_kiosk_rss_mb"] == 77.0
    assert list(figures)[:7] == ["frame_ms_p50_800x480", "frame_ms_p99_800x480",
                                 "frame_ms_p99_1280x720", "cue_latency_ms_p50",
                                 "cue_latency_ms_p99", "startup_s", "rss_mb"]


def test_a_short_bench_runs_the_station_only_as_long_as_the_others():
    spawned = []

    def run(argv, **kwargs):
        spawned.append(float(argv[-1]))
        return subprocess.CompletedProcess(argv, 0, _child_output(argv[-2], 1.0), "")

    bench_display.measure_display(0.5, run=run, clock=lambda: 0.5)
    assert spawned == [0.5, 0.5]


def test_a_failed_child_is_one_line_of_the_error_tree():
    """What the CLI turns into one readable line (exit 1), never a traceback."""

    def run(argv, **kwargs):
        return subprocess.CompletedProcess(
            argv, 1, "", "Traceback (most recent call last):\n  ...\npygame.error: No video mode")

    with pytest.raises(DisplayError, match=r"\(synthetic\) failed: pygame.error: No video mode$"):
        bench_display.measure_display(1.0, run=run, clock=lambda: 0.0)

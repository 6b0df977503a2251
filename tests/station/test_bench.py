"""`gym-station bench --json` keeps DESIGN.md's contract: every named figure, numbers, units in the
names. (Targets are reported by the bench, never asserted here: this machine is shared.)"""

import json
import math

from station.cli import main

CONTRACT = ("analysis_us_per_sample", "analysis_realtime_factor", "frame_ms_p50_800x480",
            "frame_ms_p99_800x480", "frame_ms_p99_1280x720", "cue_latency_ms_p50",
            "cue_latency_ms_p99", "driver_word_us_4chips", "capture_ratio_80sps_4chips",
            "capture_ratio_80sps_4chips_hx711pkg", "startup_s", "rss_mb")


def test_bench_json_has_every_contract_figure(capsys):
    assert main(["bench", "--json", "--seconds", "0.5"]) == 0
    figures = json.loads(capsys.readouterr().out)
    for name in CONTRACT:
        assert name in figures, name
        assert isinstance(figures[name], int | float) and math.isfinite(figures[name]), name
    assert 0.0 <= figures["capture_ratio_80sps_4chips"] <= 1.0
    assert 0.0 <= figures["capture_ratio_80sps_4chips_hx711pkg"] <= 1.0

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


def test_a_peer_that_never_returns_a_word_is_reported_not_crashed():
    """Seen in CI: on a loaded machine the hx711 package hung on its very first word of a 0.5 s
    run, so there was no latency to take a percentile of. The run reports that, not a traceback."""
    from drivers.clock import VirtualClock
    from station.bench import render
    from station.bench_hx711pkg import _measure

    clock = VirtualClock(5.0)

    def hangs_at_once(hx711, chips, tally):
        tally.open(0.5)
        tally.hang(clock())

    figures = _measure(0.5, hangs_at_once, "peer", clock)
    assert figures["capture_ratio_80sps_4chips_peer"] == 0.0
    assert figures["peer_word_latency_ms_p50"] is None
    assert figures["peer_word_latency_ms_p99"] is None
    assert figures["peer_words_timed"] == 0
    assert figures["peer_hung_reads"] == 1
    assert json.loads(json.dumps(figures)) == figures
    assert "n/a" in render(figures)

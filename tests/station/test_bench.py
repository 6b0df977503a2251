"""`gym-station bench --json` keeps DESIGN.md's contract: every named figure, numbers, units in the
names. (Targets are reported by the bench, never asserted here: this machine is shared.)"""

import json
import math

import pytest

from station.cli import main

CONTRACT = ("analysis_us_per_sample", "analysis_realtime_factor", "frame_ms_p50_800x480",
            "frame_ms_p99_800x480", "frame_ms_p99_1280x720", "cue_latency_ms_p50",
            "cue_latency_ms_p99", "driver_word_us_4chips", "capture_ratio_80sps_4chips",
            "capture_ratio_80sps_4chips_hx711pkg", "startup_s", "rss_mb")
#: The contract's figures taken from what a real-time run happened to see, and the count that
#: says it saw none: a loaded machine can leave a 0.5 s run without a second frame or a read
#: that came back, and the figure is then null (README), not a number.
COUNTED_BY = {"frame_ms_p50_800x480": "frames_800x480", "frame_ms_p99_800x480": "frames_800x480",
              "frame_ms_p99_1280x720": "frames_1280x720", "cue_latency_ms_p50": "cues",
              "cue_latency_ms_p99": "cues", "driver_word_us_4chips": "driver_words_timed"}


def test_bench_json_has_every_contract_figure(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))   # the real kiosk's spoken-cue cache
    assert main(["bench", "--json", "--seconds", "0.5"]) == 0
    figures = json.loads(capsys.readouterr().out)
    for name in CONTRACT:
        assert name in figures, name
        value = figures[name]
        if value is None and name in COUNTED_BY:      # nothing measured, and its count says so
            assert figures[COUNTED_BY[name]] == 0, name
            continue
        assert isinstance(value, int | float) and math.isfinite(value), name
    assert 0.0 <= figures["capture_ratio_80sps_4chips"] <= 1.0
    assert 0.0 <= figures["capture_ratio_80sps_4chips_hx711pkg"] <= 1.0
    for name in ("real_kiosk_startup_s", "real_kiosk_rss_mb", "driver_word_latency_ms_p50",
                 "hx711pkg_hung_reads", "driver_bad_words_returned", "driver_power_downs_count",
                 "frames_dropped_800x480"):
        assert name in figures, name


@pytest.mark.parametrize("seconds", ["0.1", "61", "nan"])
def test_bench_seconds_outside_its_range_is_a_usage_error(seconds, capsys):
    """The CLI took 0..86400 s, the driver bench 0.5..60 and the display bench 0.5..120: 0.1 or
    61 ran the analysis bench first, then died with a ValueError traceback (exit 1)."""
    assert main(["bench", "--seconds", seconds]) == 2
    err = capsys.readouterr().err
    assert "outside 0.5..60" in err and "Traceback" not in err


def test_run_bench_refuses_seconds_it_cannot_measure():
    from station.bench import run_bench
    from station.errors import UsageError

    with pytest.raises(UsageError, match=r"--seconds 61 is outside 0.5..60"):
        run_bench(driver_seconds=61.0)


def test_the_table_marks_targets_and_flags_p99s_of_few_values():
    from station.bench import TARGETS, render

    assert TARGETS["cue_latency_ms_p99"] == ("<=", 18.7)    # one 60 Hz frame + 2 ms
    table = render({"cue_latency_ms_p99": 25.0, "cues": 24,
                    "frame_ms_p99_800x480": 1.0, "frames_800x480": 179,
                    "driver_word_latency_ms_p99": 9.4, "driver_words_timed": 960,
                    "real_kiosk_cue_latency_ms_p99": None, "real_kiosk_cues": 0})
    rows = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert "<= 18.7  MISSED" in rows["cue_latency_ms_p99"]
    assert "p99 of only 24" in rows["cue_latency_ms_p99"]
    assert "ok" in rows["frame_ms_p99_800x480"] and "only" not in rows["frame_ms_p99_800x480"]
    assert "only" not in rows["driver_word_latency_ms_p99"]
    assert "n/a" in rows["real_kiosk_cue_latency_ms_p99"]
    assert "only" not in rows["real_kiosk_cue_latency_ms_p99"]


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

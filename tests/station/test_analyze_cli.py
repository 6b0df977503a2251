"""`gym-station analyze`: a recording through the live analysis, as JSON and as a table; malformed
recordings refused with their line."""

import json

import pytest

from drivers.recording import RecordingWriter
from drivers.simplate import simulated_plate
from station.cli import main

REP_KEYS = {"index", "start", "end", "drive_s", "hold_s", "lower_s", "heel_share", "peak_n",
            "good", "faults"}


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "demo.csv"
    plate, truth = simulated_plate("demo", seed=4, rate_hz=80.0)
    with plate, RecordingWriter(path, {"exercise": "single_leg_hip_thrust", "side": "left",
                                       "rate_hz": 80}) as w:
        while True:
            s = plate.read()
            w.write(s)
            if s.t > 50.0:  # the left set and the step off
                break
    return path, truth


def test_json_contract(demo_recording, capsys):
    path, truth = demo_recording
    assert main(["analyze", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exercise"] == "single_leg_hip_thrust" and out["side"] == "left"
    left = [r for r in truth.reps if r.side == "left"]
    assert len(out["reps"]) == len(left) == 8
    for rep, made in zip(out["reps"], left, strict=True):
        assert REP_KEYS <= set(rep)
        assert 0.0 <= rep["heel_share"] <= 1.0
        assert set(rep["faults"]) == set(made.faults)
        assert rep["good"] == (not made.faults)
        assert rep["start"] == pytest.approx(made.start, abs=0.15)
    kinds = [c["kind"] for c in out["cues"]]
    assert {"toe_drive", "short_hold", "too_fast", "set_done"} <= set(kinds)
    assert all({"t", "kind", "text"} <= set(c) for c in out["cues"])
    s = out["summary"]
    assert s["reps"] == 8 and s["good_reps"] == 5 and s["sets"][0]["reps"] == 8


def test_table_and_overrides(demo_recording, capsys):
    path, _ = demo_recording
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "8 reps, 5 good" in out and "toe_drive" in out and "Cues:" in out
    assert main(["analyze", str(path), "--exercise", "nordic_curl"]) == 2
    assert "no exercise 'nordic_curl'" in capsys.readouterr().err
    assert main(["analyze", str(path), "--side", "both"]) == 2
    assert "not 'both'" in capsys.readouterr().err


@pytest.mark.parametrize("body,line,reason", [
    ("t,heel,forefoot\n0.0,1.0,2.0\n0.0125,abc,2.0\n", 3, "abc"),
    ("t,heel\n0.0,1.0\n", 1, "forefoot"),
    ("t,heel,forefoot\n0.1,1.0,2.0\n0.05,1.0,2.0\n", 3, "increas"),
])
def test_malformed_recording_is_refused_with_its_line(tmp_path, capsys, body, line, reason):
    p = tmp_path / "bad.csv"
    p.write_text(body)
    assert main(["analyze", str(p), "--json"]) == 2
    err = capsys.readouterr().err
    assert f"line {line}" in err and reason in err and "Traceback" not in err


def test_missing_file(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.csv")]) in (1, 2)
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err

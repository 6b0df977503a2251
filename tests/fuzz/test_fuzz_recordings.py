"""Fuzzing the recording parser (drivers/recording.py) and `gym-station analyze FILE` end to end.

Property: a recording is either read into finite samples with strictly increasing ``t`` (and
``analyze`` prints a result, exit 0), or refused with :class:`RecordingError` naming the file and
the line (``analyze``: exit 2 and that one line on stderr). Never another exception, never a
traceback.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from fuzzkit import any_bytes, fuzz, mutated, names_file
from hypothesis import example, given
from hypothesis import strategies as st

from drivers.errors import RecordingError
from drivers.recording import RecordingReader, RecordingWriter, iter_samples, read_recording
from drivers.sample import Sample
from station.cli import main


def _valid(rows: int = 200, cells: int = 2, edges: bool = False) -> bytes:
    """A recording of one slow rep (bottom 300 N, top 700 N) as `record` writes it."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rep.csv"
        meta = {"station": "station-1", "exercise": "single_leg_hip_thrust", "side": "left",
                "rate_hz": 80, "calibration": "2025-03-01T10:00:00+00:00"}
        with RecordingWriter(path, meta) as w:
            for i in range(rows):
                t = (i + 1) / 80
                phase = min(1.0, max(0.0, math.sin(math.pi * (t - 0.3) / 2.0)))
                load = 300 + 400 * phase
                lr = (0.45 * load, 0.55 * load) if edges else (None, None)
                w.write(Sample(t, 0.7 * load, 0.3 * load,
                               tuple(int(1000 * load) + k for k in range(cells)), *lr))
        return path.read_bytes()


VALID_2 = _valid()
VALID_4 = _valid(rows=60, cells=4, edges=True)
SMALL = b"t,heel,forefoot\n0.0125,160.5,130.25\n0.025,161,131\n"

REGRESSIONS = [
    b"",
    b"\xef\xbb\xbf",
    b"# only: metadata\n",
    b"t,heel,forefoot\n1,2\n",
    b"t,heel,forefoot\n\xff,1,1\n",
    b"t,heel,forefoot\n0\x00,1,1\n",
    b"t,heel,forefoot\n\"0,1,1\n",
    b"t,heel,forefoot\n1e308,1e308,1e308\n",
    b"t,heel,forefoot\n0,1e308,1e308\n1,1e308,1e308\n",
    b"t,heel,forefoot\n-1e308,1,1\n1e308,1,1\n",
    b"t,heel,forefoot\n0,1,1\n5e-324,1,1\n",
    b"t,heel,forefoot\n0,1,1\n1e-320,1,1\n2e-320,1,1\n",
    b"t,heel,forefoot,cell0\n0,1,1," + b"9" * 5000 + b"\n",
    b"t,heel,forefoot,cell0\n0,1,1,99999999999999999999999\n",
    b"t,heel,forefoot,cell\xd9\xa1\n0,1,1,1\n",
    b"t,heel,forefoot,cell0,cell00\n0,1,1,1,1\n",
    b"t,heel,forefoot\n" + b"0," * 200_000 + b"\n",
    b"t,heel,forefoot," + b"a," * 200_000 + b"\n0,1,1\n",  # was quadratic: 12 s per file
    b"h," * 200_000 + b"\n",
    b"\"t,heel,forefoot\n",
    b"t,heel,forefoot\r0,1,1\r1,2,2\r",
]


def check_read(path: Path):
    """The property, for one file: samples that make sense, or RecordingError with file+line."""
    try:
        rec = read_recording(path)
    except RecordingError as e:
        assert names_file(str(e), path), str(e)
        assert e.line is not None and f"line {e.line}" in str(e), str(e)
        return None
    last = -math.inf
    for s in rec.samples:
        assert all(math.isfinite(v) for v in (s.t, s.heel, s.forefoot)), s
        assert all(v is None or math.isfinite(v) for v in (s.left, s.right)), s
        assert all(isinstance(c, int) for c in s.cells), s
        assert s.t > last
        last = s.t
    rate = rec.rate_hz
    assert rate is None or (math.isfinite(rate) and rate > 0), rate
    assert math.isfinite(rec.duration_s) and rec.duration_s >= 0
    assert list(iter_samples(path)) == list(rec.samples)  # streaming reads the same
    return rec


def _file(data: bytes) -> tuple[tempfile.TemporaryDirectory, Path]:
    d = tempfile.TemporaryDirectory()
    path = Path(d.name) / "fuzzed recording.csv"
    path.write_bytes(data)
    return d, path


@fuzz(150)
@given(st.one_of(mutated(VALID_2), mutated(VALID_4), mutated(SMALL), any_bytes()))
def test_fuzzed_recording_is_read_or_refused_with_its_line(data):
    d, path = _file(data)
    with d:
        check_read(path)


@pytest.mark.parametrize("data", REGRESSIONS, ids=range(len(REGRESSIONS)))
def test_found_recordings_are_read_or_refused_with_their_line(tmp_path, data):
    path = tmp_path / "found.csv"
    path.write_bytes(data)
    check_read(path)


def test_a_refused_recording_says_why_and_where(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"t,heel,forefoot\n0,1,1\n1,\xff,1\n")
    with pytest.raises(RecordingError, match=r"line 3: not UTF-8"):
        read_recording(path)
    path.write_bytes(b"t,heel,forefoot\n0\x00,1,1\n")
    with pytest.raises(RecordingError, match=r"line 2: "):
        read_recording(path)
    path.write_bytes(b"t,heel,forefoot\n0,1,1\n1e-320,1,1\n2e-320,1,1\n")
    rate = read_recording(path).rate_hz
    assert rate is None or math.isfinite(rate)


def test_reader_closes_the_file_when_the_header_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"t,heel\n")
    with pytest.raises(RecordingError, match="line 1"):
        RecordingReader(path)


def check_analyze(path: Path, capsys, *extra: str) -> int:
    code = main(["analyze", str(path), "--json", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code in (0, 2), (code, err)
    if code == 0:
        result = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
        assert set(result) >= {"exercise", "side", "reps", "cues", "summary"}
    else:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gym-station analyze: "), err
        if ", line " in err:  # a refused recording: the file and the line
            assert names_file(err, path), err
    return code


@fuzz(40)
@given(data=st.one_of(mutated(VALID_2), mutated(VALID_4)))
@example(data=b"# side: right\n# exercise: single_leg_hip_thrust\nt,heel,forefoot\n0,1,1\n")
@example(data=b"# side: both\nt,heel,forefoot\n0,1,1\n")
@example(data=b"# exercise: nope\nt,heel,forefoot\n0,1,1\n")
@example(data=b"# exercise: [1]\nt,heel,forefoot\n0,1,1\n")
@example(data=b"# rate_hz: 1e999\nt,heel,forefoot\n0,1,1\n1,2,2\n")
@example(data=b"# rate_hz: -5\nt,heel,forefoot\n0,1e308,1e308\n1,-1e308,1e308\n2,1e308,-1e308\n")
@example(data=b"t,heel,forefoot\n0,1e308,1e308\n1e-300,1e308,1e308\n")
@example(data=b"t,heel,forefoot\n0,1,1\n5e-324,700,1\n1e-323,1,1\n")
def test_analyze_a_fuzzed_recording_exits_cleanly(data, capsys):
    d, path = _file(data)
    with d:
        check_analyze(path, capsys)


@fuzz(20)
@given(side=st.sampled_from(["left", "right", "both", "x"]), exercise=st.text(max_size=20))
def test_analyze_options_against_a_valid_recording(side, exercise, capsys):
    d, path = _file(VALID_2)
    with d:
        argv = ["--side", side] if side != "x" else []
        if exercise.strip() and not exercise.startswith("-"):
            argv += ["--exercise", exercise]
        check_analyze(path, capsys, *argv)

"""Recording files: exact round trips and malformed input refused with its line number."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import RecordingError
from drivers.layout import CellSpec, PlateLayout
from drivers.recording import RecordingWriter, iter_samples, read_recording
from drivers.sample import Sample
from drivers.simplate import simulated_plate

META = {"station": "station-1", "exercise": "single_leg_hip_thrust", "side": "left",
        "rate_hz": 80, "calibration": "2025-03-01T10:00:00+00:00"}


def four_cell_layout():
    return PlateLayout(cells=(
        CellSpec("heel-left", "heel", 6, 5, "left"),
        CellSpec("heel-right", "heel", 13, 5, "right"),
        CellSpec("fore-left", "forefoot", 19, 5, "left"),
        CellSpec("fore-right", "forefoot", 26, 5, "right"),
    ))


def test_simulated_plate_samples_round_trip_exactly(tmp_path):
    plate, _truth = simulated_plate("clean_set", seed=2, layout=four_cell_layout())
    samples = [plate.read() for _ in range(800)]
    path = tmp_path / "set.csv"
    with RecordingWriter(path, META) as writer:
        for s in samples:
            writer.write(s)
    rec = read_recording(path)
    assert rec.samples == tuple(samples)         # t, heel, forefoot, cells, left, right
    assert rec.meta == {k: str(v) for k, v in META.items()}
    assert rec.rate_hz == 80.0 and rec.columns[:5] == ("t", "heel", "forefoot", "left", "right")
    assert list(iter_samples(path)) == samples
    text = path.read_text().splitlines()
    assert text[0] == "# station: station-1" and text[5].startswith("t,heel,forefoot")


# derandomized, as every hypothesis test in CI (tests/fuzz/fuzzkit.py)
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(
    st.floats(1e-6, 10.0), st.floats(-5e3, 5e3), st.floats(-5e3, 5e3),
    st.tuples(st.integers(-0x800000, 0x7FFFFF), st.integers(-0x800000, 0x7FFFFF)),
), min_size=1, max_size=30))
def test_any_two_cell_samples_round_trip(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("rec") / "r.csv"
    t = 0.0
    samples = []
    for dt, heel, forefoot, cells in rows:
        t += dt
        samples.append(Sample(t, heel, forefoot, cells))
    with RecordingWriter(path, {"side": "right"}) as w:
        for s in samples:
            w.write(s)
    assert read_recording(path).samples == tuple(samples)


def test_writer_refuses_what_it_could_not_read_back(tmp_path):
    with RecordingWriter(tmp_path / "a.csv") as w:
        w.write(Sample(1.0, 1.0, 2.0))
        with pytest.raises(RecordingError, match="t=1.0 is not after the previous t=1.0"):
            w.write(Sample(1.0, 1.0, 2.0))
        with pytest.raises(RecordingError, match="not a finite number"):
            w.write(Sample(2.0, math.nan, 2.0))
        with pytest.raises(RecordingError, match="has 2 cells, the recording has 0"):
            w.write(Sample(3.0, 1.0, 2.0, (1, 2)))
    with pytest.raises(RecordingError, match="one line"):
        RecordingWriter(tmp_path / "b.csv", {"side": "left\nright"})


def test_writer_t0_and_empty_recording(tmp_path):
    path = tmp_path / "hw.csv"
    with RecordingWriter(path, t0=5000.0) as w:
        w.write(Sample(5000.5, 10.0, 20.0))
    assert read_recording(path).samples[0].t == 0.5
    empty = tmp_path / "empty.csv"
    RecordingWriter(empty, META).close()
    rec = read_recording(empty)
    assert rec.samples == () and rec.meta["side"] == "left"


def test_bom_blank_lines_comments_and_unknown_columns(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("\ufeff# side: right\n\n# a note without a value\n"
                     "t,heel,forefoot,temp_c,cell0\n\n0.0,1.5,2.5,21.0,-12\n"
                     "  \n0.1,1.0,2.0,21.1,7\n".encode())
    rec = read_recording(path)
    assert rec.meta == {"side": "right"}
    assert rec.samples == (Sample(0.0, 1.5, 2.5, (-12,)), Sample(0.1, 1.0, 2.0, (7,)))
    assert rec.rate_hz == pytest.approx(10.0)


def write(tmp_path, text: str):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


def refused(path, line: int, reason: str):
    with pytest.raises(RecordingError) as err:
        read_recording(path)
    assert err.value.line == line and err.value.path == str(path)
    assert str(err.value).startswith(f"{path}, line {line}: ")
    assert reason in str(err.value)


def test_missing_required_column(tmp_path):
    refused(write(tmp_path, "# side: left\nt,heel\n0,1\n"), 2,
            "missing required column(s) ['forefoot']")


def test_non_numeric_value(tmp_path):
    refused(write(tmp_path, "t,heel,forefoot\n0,1,2\n0.1,abc,2\n"), 3,
            "column 'heel' is 'abc', not a number")


def test_t_not_increasing(tmp_path):
    refused(write(tmp_path, "t,heel,forefoot\n0,1,2\n0.1,1,2\n\n0.1,1,2\n"), 5,
            "t=0.1 is not after the previous t=0.1")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_inf(tmp_path, value):
    refused(write(tmp_path, f"t,heel,forefoot\n0,1,2\n0.1,1,{value}\n"), 3,
            f"column 'forefoot' is '{value}'; only finite numbers")


def test_empty_file(tmp_path):
    refused(write(tmp_path, ""), 1, "empty recording: no header row")
    refused(write(tmp_path, "# side: left\n\n"), 2, "only metadata, no header row")


def test_wrong_number_of_fields(tmp_path):
    refused(write(tmp_path, "t,heel,forefoot\n0,1,2\n0.1,1\n"), 3,
            "row has 2 fields, the header has 3")


def test_cell_not_a_whole_count(tmp_path):
    refused(write(tmp_path, "t,heel,forefoot,cell0\n0,1,2,3.5\n"), 2,
            "column 'cell0' is '3.5', not a whole count")


def test_cell_columns_with_a_gap(tmp_path):
    refused(write(tmp_path, "t,heel,forefoot,cell0,cell2\n"), 1,
            "cell columns must be cell0..cell1 without gaps")


def test_duplicate_column(tmp_path):
    refused(write(tmp_path, "t,heel,heel,forefoot\n"), 1, "['heel'] appear twice")


def test_binary_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(RecordingError, match="not UTF-8 text"):
        read_recording(path)


def test_missing_file(tmp_path):
    with pytest.raises(RecordingError, match="no such recording file"):
        read_recording(tmp_path / "nope.csv")


def test_streaming_reports_the_bad_line_after_good_samples(tmp_path):
    path = write(tmp_path, "t,heel,forefoot\n0,1,2\n0.1,1,2\n0.2,x,2\n")
    it = iter_samples(path)
    assert next(it).t == 0.0 and next(it).t == 0.1
    with pytest.raises(RecordingError, match="line 4"):
        next(it)

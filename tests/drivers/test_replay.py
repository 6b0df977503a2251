"""The replay plate: the same samples back, on a virtual or a real-time clock."""

from __future__ import annotations

import pytest

from drivers.clock import VirtualClock
from drivers.errors import EndOfRecording, HX711Timeout, PlateError, RecordingError
from drivers.recording import Recording, RecordingWriter, read_recording
from drivers.replay import ReplayPlate
from drivers.sample import Sample, SampleSource
from drivers.simplate import simulated_plate


@pytest.fixture
def recorded(tmp_path):
    plate, _truth = simulated_plate("junior", seed=6, rate_hz=80)
    samples = [plate.read() for _ in range(400)]
    path = tmp_path / "junior.csv"
    with RecordingWriter(path, {"side": "right", "rate_hz": 80}) as w:
        for s in samples:
            w.write(s)
    return path, samples


def test_replay_gives_the_recorded_samples_as_fast_as_possible(recorded):
    path, samples = recorded
    with ReplayPlate(path) as plate:
        assert isinstance(plate, SampleSource) and plate.rate_hz == 80.0
        out = []
        for _ in samples:
            out.append(plate.read())
            assert plate.clock() == out[-1].t  # the virtual clock is at the sample's time
        assert out == samples
        with pytest.raises(EndOfRecording, match="ended after 400 samples"):
            plate.read()
        assert plate.faults == {}


def test_replay_of_a_recording_in_memory(recorded):
    path, samples = recorded
    rec = read_recording(path)
    plate = ReplayPlate(rec)
    assert [plate.read() for _ in samples] == samples
    with pytest.raises(EndOfRecording):
        plate.read()


def test_real_time_replay_paces_and_restamps():
    now = [500.0]
    sleeps = []

    def sleep(s):
        sleeps.append(s)
        now[0] += s

    rec = Recording(meta={}, samples=tuple(Sample(2.0 + k * 0.1, k, 1.0) for k in range(5)))
    plate = ReplayPlate(rec, realtime=True, clock=lambda: now[0], sleep=sleep)
    assert plate.rate_hz == pytest.approx(10.0)
    first = plate.read()
    assert first == Sample(500.0, 0.0, 1.0) and sleeps == []
    for k in range(1, 5):
        s = plate.read()
        assert s.t == pytest.approx(500.0 + 0.1 * k) and now[0] >= s.t - 1e-9
        assert s.heel == k
    assert max(sleeps) <= 0.002 + 1e-12 and len(sleeps) >= 200


def test_a_gap_longer_than_the_timeout_is_a_silent_plate():
    samples = (Sample(0.0, 1, 1), Sample(0.1, 2, 2), Sample(2.1, 3, 3))
    clock = VirtualClock()
    plate = ReplayPlate(Recording({}, samples, "gap.csv"), clock=clock)
    plate.read()
    plate.read()
    with pytest.raises(HX711Timeout, match="gap.csv: the recording has no sample for 0.5 s"):
        plate.read(timeout=0.5)
    assert clock() == pytest.approx(0.6) and plate.faults == {"timeout": 1}
    assert plate.read(timeout=2.0).heel == 3 and clock() == pytest.approx(2.1)


def test_a_recording_starting_late_is_not_a_gap(tmp_path):
    path = tmp_path / "late.csv"
    path.write_text("t,heel,forefoot\n30.0,1,2\n30.5,1,2\n")
    plate = ReplayPlate(path)
    assert plate.read(timeout=0.1).t == 30.0
    assert plate.rate_hz == pytest.approx(2.0)


def test_a_malformed_line_stops_the_replay_where_it_is(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("t,heel,forefoot\n0,1,2\n0.1,1,2\n0.2,1,oops\n")
    plate = ReplayPlate(path)
    plate.read()
    plate.read()
    with pytest.raises(RecordingError, match="line 4: column 'forefoot' is 'oops'"):
        plate.read()
    with pytest.raises(RecordingError, match="line 1: missing required column"):
        ReplayPlate(_write(tmp_path, "t,heel\n"))


def _write(tmp_path, text):
    p = tmp_path / "other.csv"
    p.write_text(text)
    return p


def test_close_is_safe_twice(recorded):
    path, _ = recorded
    plate = ReplayPlate(path)
    plate.close()
    plate.close()
    with pytest.raises(PlateError, match="closed"):
        plate.read()
    with pytest.raises(ValueError, match="needs a real clock"):
        ReplayPlate(path, realtime=True, clock=VirtualClock())

"""The sampler: a lock-free ring that never blocks the writer, counted drops, faults, heartbeat,
and a dead sampler process that is reported and restarted."""

import functools
import os
import time

import pytest

from drivers.clock import VirtualClock
from drivers.errors import EndOfRecording, HX711Timeout
from drivers.sample import Sample
from station.sampler import Sampler, SampleRing

#: Real seconds a test waits for a sampler thread or process (spawning one imports the station
#: afresh: seconds on a loaded machine). Only a hang runs into it; nothing here is timed.
PATIENCE_S = 60.0


def s(i, cells=(1, -2)):
    return Sample(t=i * 0.0125, heel=float(i), forefoot=2.0 * i, cells=cells)


def test_ring_round_trip_keeps_every_field():
    ring = SampleRing(8)
    a = Sample(0.5, 100.25, -3.5, (8388607, -8388608, 0, 7), left=1.5, right=-2.0)
    b = Sample(0.6, 1.0, 2.0, ())
    ring.put(a)
    ring.put(b)
    assert ring.drain() == [a, b]
    assert ring.drain() == []
    assert ring.dropped == 0


def test_ring_never_blocks_and_counts_what_a_slow_reader_lost():
    ring = SampleRing(16)
    for i in range(100):
        ring.put(s(i))  # the writer never waits for the reader
    got = ring.drain()
    assert [x.heel for x in got] == [float(i) for i in range(84, 100)]
    assert ring.dropped == 84


def test_ring_drain_in_pieces():
    ring = SampleRing(16)
    for i in range(10):
        ring.put(s(i))
    assert [x.heel for x in ring.drain(4)] == [0, 1, 2, 3]
    assert [x.heel for x in ring.drain()] == [4, 5, 6, 7, 8, 9]


def test_ring_discards_slots_overwritten_during_a_copy():
    """A writer that laps the reader mid-copy must not hand out torn samples."""
    ring = SampleRing(4)
    for i in range(4):
        ring.put(s(i))
    real = ring._written

    class Racing:
        """Each read of the counter lets the writer add two more samples."""
        calls = 0

        @property
        def value(self):
            Racing.calls += 1
            if Racing.calls == 2:  # the re-check after copying
                for i in range(4, 7):
                    ring._written = real
                    ring.put(s(i))
                    ring._written = self
            return real.value

    ring._written = Racing()
    got = ring.drain()
    ring._written = real
    # slots 0..2 were overwritten by 4..6 while copying: only sample 3 is intact
    assert [x.heel for x in got] == [3.0]
    assert ring.dropped == 3
    assert [x.heel for x in ring.drain()] == [4.0, 5.0, 6.0]


class ScriptedPlate:
    """A plate that serves samples, then a silent spell, then samples again."""

    rate_hz = 80.0

    def __init__(self, n=50, fail_between=(20, 25), end=True):
        self.clock = VirtualClock()
        self.i = 0
        self.n = n
        self.fail_between = fail_between
        self.end = end
        self.closed = 0

    faults = {}

    def read(self, timeout=1.0):
        self.i += 1
        if self.fail_between[0] <= self.i < self.fail_between[1]:
            raise HX711Timeout("HX711 on GPIO 6 sent no word for 0.5 s: check its DOUT wire", (6,))
        if self.i > self.n:
            if self.end:
                raise EndOfRecording("done")
            time.sleep(0.001)
        self.clock.advance(0.0125)
        return s(self.i)

    def close(self):
        self.closed += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_inline_sampler_reads_on_the_virtual_clock_and_reports_faults():
    plate = ScriptedPlate(n=40)
    with Sampler(lambda: plate, mode="inline") as sampler:
        got = sampler.drain(max_samples=100)
        assert len(got) == 19  # stopped at the first fault
        st = sampler.poll()
        assert st.fault and "GPIO 6" in st.fault and st.faults["timeout"] == 1
        while len(got) < 35:
            got += sampler.drain(max_samples=100)
        assert sampler.poll().fault is None  # cleared when samples flow again
        got += sampler.drain(until_t=1e9)
        assert sampler.poll().finished
    assert plate.closed == 1


def test_inline_drain_until_plate_time():
    plate = ScriptedPlate(n=1000, fail_between=(0, 0))
    with Sampler(lambda: plate, mode="inline") as sampler:
        got = sampler.drain(until_t=0.5)
        assert got[-1].t >= 0.5 > got[-2].t


def test_thread_sampler_hands_over_everything_and_stops_cleanly():
    plate = ScriptedPlate(n=200, fail_between=(0, 0))
    sampler = Sampler(lambda: plate, mode="thread", capacity=512)
    sampler.start()
    thread = sampler._worker
    got = []
    deadline = time.monotonic() + PATIENCE_S
    while not sampler.poll().finished and time.monotonic() < deadline:
        got += sampler.drain()
        time.sleep(0.005)
    got += sampler.drain()
    sampler.stop()
    sampler.stop()
    assert [x.heel for x in got] == [float(i) for i in range(1, 201)]
    st = sampler.poll()
    assert st.dropped == 0 and st.samples == 200 and st.finished
    assert plate.closed == 1
    # its own thread ended (another test's sampler thread, still stopping or leaked, is not
    # this one's to answer for)
    assert thread.name == "gym-station-sampler" and not thread.is_alive()


def test_dead_sampler_process_is_reported_and_restarted():
    # a sampler process that dies at once (as if killed): the app is told and restarts it
    sampler = Sampler(functools.partial(os._exit, 3), mode="process", restart_after_s=0.0)
    sampler.start()
    try:
        deadline = time.monotonic() + PATIENCE_S
        seen_dead = False
        while time.monotonic() < deadline:
            st = sampler.poll()
            if not st.running:
                seen_dead = True
                assert "sampler stopped" in st.fault
            if st.restarts >= 2:
                break
            time.sleep(0.02)
        assert seen_dead
        assert sampler.poll().restarts >= 2
    finally:
        sampler.stop()


def test_mode_is_validated():
    with pytest.raises(ValueError, match="process, thread or inline"):
        Sampler(lambda: None, mode="fibre")


def _write_recording(path, n=80, rate=80.0):
    lines = ["# rate_hz: 80", "t,heel,forefoot,cell0,cell1"]
    for i in range(n):
        lines.append(f"{i / rate!r},{100.0 + i!r},{50.0 + i!r},{1000 + i},{-2000 - i}")
    path.write_text("\n".join(lines) + "\n")


def test_process_sampler_delivers_every_sample_across_processes(tmp_path):
    from drivers.replay import ReplayPlate

    rec = tmp_path / "r.csv"
    _write_recording(rec, n=40)
    sampler = Sampler(functools.partial(ReplayPlate, str(rec), realtime=True), mode="process")
    sampler.start()
    spawned = sampler._shared.heartbeat.value      # the parent's, at the spawn
    got = []
    try:
        deadline = time.monotonic() + PATIENCE_S
        while not sampler.poll().finished and time.monotonic() < deadline:
            got += sampler.drain()
            time.sleep(0.01)
        got += sampler.drain()
        # the child's heartbeat reaches the parent (a later monotonic time than the spawn's);
        # not "younger than 5 s", which a loaded machine could make a matter of chance
        assert sampler._shared.heartbeat.value > spawned
    finally:
        sampler.stop()
    assert [s.heel for s in got] == [100.0 + i for i in range(40)]
    assert got[0].cells == (1000, -2000) and got[-1].cells == (1039, -2039)
    st = sampler.poll()
    assert st.dropped == 0 and st.restarts == 0


def test_sampler_process_killed_mid_run_is_restarted_and_samples_flow_again(tmp_path):
    import signal

    from drivers.replay import ReplayPlate

    rec = tmp_path / "r.csv"
    _write_recording(rec, n=2000)
    sampler = Sampler(functools.partial(ReplayPlate, str(rec), realtime=True), mode="process",
                      restart_after_s=0.0)
    sampler.start()
    try:
        deadline = time.monotonic() + PATIENCE_S
        before = []
        while len(before) < 10 and time.monotonic() < deadline:
            before += sampler.drain()
            time.sleep(0.01)
        assert before, "no samples before the kill"
        os.kill(sampler._worker.pid, signal.SIGKILL)
        sampler._worker.join(PATIENCE_S)
        st = sampler.poll()
        assert not st.running and "sampler stopped" in st.fault
        after = []
        while len(after) < 10 and time.monotonic() < deadline:
            sampler.poll()
            after += sampler.drain()
            time.sleep(0.01)
        st = sampler.poll()
        assert st.restarts == 1 and st.running and after
    finally:
        sampler.stop()


def test_a_plate_that_cannot_open_yet_is_a_fault_until_it_can(monkeypatch):
    from drivers.errors import NotCalibrated
    from station import sampler as sampler_module

    monkeypatch.setattr(sampler_module, "RETRY_OPEN_S", 0.01)
    attempts = []

    def open_plate():
        attempts.append(1)
        if len(attempts) < 3:
            raise NotCalibrated("the plate is not calibrated yet; run `gym-station calibrate`")
        return ScriptedPlate(n=100, fail_between=(0, 0))

    sampler = Sampler(open_plate, mode="thread")
    sampler.start()
    try:
        deadline = time.monotonic() + PATIENCE_S
        faults = set()
        got = []
        while not sampler.poll().finished and time.monotonic() < deadline:
            st = sampler.poll()
            if st.fault:
                faults.add(st.fault)
            assert st.running
            got += sampler.drain()
            time.sleep(0.002)
        got += sampler.drain()
    finally:
        sampler.stop()
    assert len(attempts) == 3 and len(got) == 100
    assert sampler.poll().fault is None and sampler.poll().faults["hardware"] == 2


class FilePlate(ScriptedPlate):
    """A plate whose heel reads the number in a file when it is opened (as a real plate reads
    its calibration file): what the file says only reaches the samples after a reopen."""

    opened = []

    def __init__(self, path):
        super().__init__(n=10**9, fail_between=(0, 0), end=False)
        self.value = float(path.read_text())
        FilePlate.opened.append(self)

    def read(self, timeout=1.0):
        time.sleep(0.001)
        self.clock.advance(0.0125)
        return Sample(self.clock(), self.value, 0.0, (1, 2))


def test_reload_reopens_the_plate_which_rereads_its_file_and_is_no_restart(tmp_path):
    path = tmp_path / "calibration.txt"
    path.write_text("100")
    FilePlate.opened = []
    sampler = Sampler(functools.partial(FilePlate, path), mode="thread")
    sampler.reload()  # not started: nothing to reopen
    assert FilePlate.opened == []
    sampler.start()
    try:
        deadline = time.monotonic() + PATIENCE_S
        got = []
        while not got and time.monotonic() < deadline:
            got += sampler.drain()
            time.sleep(0.005)
        assert got and {s.heel for s in got} == {100.0}
        path.write_text("200")
        sampler.reload()
        assert FilePlate.opened[0].closed == 1  # the old plate is closed before the new opens
        after = []
        while not any(s.heel == 200.0 for s in after) and time.monotonic() < deadline:
            after += sampler.drain()
            time.sleep(0.005)
        assert after[-1].heel == 200.0 and len(FilePlate.opened) == 2
        st = sampler.poll()
        assert st.reloads == 1 and st.restarts == 0 and st.running and st.fault is None
        assert sum(st.faults.values()) == 0
    finally:
        sampler.stop()
    assert FilePlate.opened[1].closed == 1


def test_reload_of_a_sampler_process_resumes_samples(tmp_path):
    from drivers.replay import ReplayPlate

    rec = tmp_path / "r.csv"
    _write_recording(rec, n=4000)
    sampler = Sampler(functools.partial(ReplayPlate, str(rec), realtime=True), mode="process")
    sampler.start()
    try:
        deadline = time.monotonic() + PATIENCE_S
        got = []
        while len(got) < 5 and time.monotonic() < deadline:
            got += sampler.drain()
            time.sleep(0.01)
        assert got
        sampler.reload()
        after = []
        while 100.0 not in [s.heel for s in after] and time.monotonic() < deadline:
            after += sampler.drain()
            time.sleep(0.01)
        # samples read before the reload are still handed over, then the reopened replay
        # starts again from its first sample
        heels = [s.heel for s in after]
        assert 100.0 in heels and all(h > 100.0 for h in heels[:heels.index(100.0)])
        st = sampler.poll()
        assert st.reloads == 1 and st.restarts == 0 and st.running
    finally:
        sampler.stop()


def test_a_sampler_thread_that_outlives_its_stop_stays_stopped():
    """A plate read that outlasts stop()'s patience (a simulated plate that hangs, a starved
    machine): reload() goes on and opens the plate again in a new thread. When the old read
    returns at last, the old thread must stop there, closing its plate: it must not carry on
    beside the new one as a second writer of the ring (it did: the new start cleared the one
    stop flag both threads read)."""
    import threading

    release = threading.Event()
    hung = threading.Event()
    plates = []

    class Plate(ScriptedPlate):
        def __init__(self):
            super().__init__(n=10**9, fail_between=(0, 0), end=False)
            self.number = len(plates)
            self.reads = 0
            plates.append(self)

        def read(self, timeout=1.0):
            self.reads += 1
            if self.number == 0 and self.reads == 4:   # the first plate's 4th read hangs
                hung.set()
                release.wait()
            time.sleep(0.001)
            self.clock.advance(0.0125)
            return Sample(self.clock(), float(self.number), 0.0, (1, 2))

    sampler = Sampler(Plate, mode="thread")
    sampler.start()
    got = []
    try:
        assert hung.wait(PATIENCE_S)
        sampler.reload(timeout=0.05)                   # gives up on the hung thread
        deadline = time.monotonic() + PATIENCE_S
        while not any(s.heel == 1.0 for s in got) and time.monotonic() < deadline:
            got += sampler.drain()
            time.sleep(0.005)
        release.set()                                  # the old read returns
        while plates[0].closed == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert plates[0].closed == 1                   # the old thread ended there
        got += sampler.drain()
    finally:
        release.set()
        sampler.stop()
    assert [s.heel for s in got].count(0.0) == 3       # read before the hang, none after it
    assert len(plates) == 2 and plates[1].closed == 1

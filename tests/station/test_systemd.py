"""sd_notify and the watchdog, against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

from drivers.clock import VirtualClock
from station.systemd import (
    STATUS_MAX,
    Notifier,
    Watchdog,
    notify_address,
    notify_ready,
    notify_stopping,
    watchdog_interval,
)


class FakeSystemd:
    """A bound datagram socket that collects what the station sends, as systemd would."""

    def __init__(self, abstract: bool = False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"gym-station-test-{uuid.uuid4().hex}"
            self.sock.bind(b"\0" + name.encode())
            self.env = {"NOTIFY_SOCKET": "@" + name}
        else:
            # sun_path is 108 bytes at most: pytest's tmp_path can be longer than that
            self._dir = tempfile.mkdtemp(prefix="gs-notify-")
            path = os.path.join(self._dir, "notify")
            self.sock.bind(path)
            self.env = {"NOTIFY_SOCKET": path}
        self.sock.setblocking(False)

    def messages(self) -> list[list[str]]:
        """Every datagram received so far, each split into its KEY=value lines."""
        out = []
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return out
            out.append(data.decode().split("\n"))

    def close(self):
        self.sock.close()
        if not self.env["NOTIFY_SOCKET"].startswith("@"):
            os.unlink(self.env["NOTIFY_SOCKET"])
            os.rmdir(self._dir)


@pytest.fixture(params=["path", "abstract"])
def systemd(request):
    fake = FakeSystemd(abstract=request.param == "abstract")
    yield fake
    fake.close()


class Heartbeat:
    """What ``Sampler.heartbeat_fresh`` answers, switchable by the test."""

    def __init__(self):
        self.fresh = True
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.fresh


def run_frames(dog: Watchdog, clock: VirtualClock, seconds: float, fps: int = 60) -> None:
    for _ in range(round(seconds * fps)):
        assert dog.on_frame(None, None) is None  # never asks run_kiosk to stop
        clock.advance(1.0 / fps)


def flat(messages):
    return [line for m in messages for line in m]


# -- the address and the watchdog period ---------------------------------------------------

def test_notify_address_path_abstract_and_none():
    assert notify_address({"NOTIFY_SOCKET": "/run/systemd/notify"}) == "/run/systemd/notify"
    assert notify_address({"NOTIFY_SOCKET": "@sd-notify"}) == b"\0sd-notify"
    assert notify_address({}) is None
    assert notify_address({"NOTIFY_SOCKET": ""}) is None
    assert notify_address({"NOTIFY_SOCKET": "vsock:2:1234"}) is None
    assert notify_address({"NOTIFY_SOCKET": "@"}) is None


def test_watchdog_interval_parsing():
    assert watchdog_interval({"WATCHDOG_USEC": "10000000"}) == 10.0
    assert watchdog_interval({"WATCHDOG_USEC": "2500000"}) == 2.5
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "ten"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "-5"}) is None
    # WATCHDOG_PID names the process that should feed it: not us -> no watchdog here
    assert watchdog_interval({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}, pid=42) is None
    assert watchdog_interval({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "42"}, pid=42) == 4.0
    assert watchdog_interval({"WATCHDOG_USEC": "4000000",
                              "WATCHDOG_PID": str(os.getpid())}) == 4.0
    assert watchdog_interval({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "x"}) is None


# -- sd_notify over the socket ---------------------------------------------------------------

def test_ready_status_watchdog_stopping_reach_the_socket(systemd):
    assert notify_ready("kiosk on screen", env=systemd.env)
    with Notifier(env=systemd.env) as n:
        assert n.status("calibrating\nthe plate")  # one line, whatever it was given
        assert n.watchdog()
        assert n.sent == 2
    assert notify_stopping(env=systemd.env)
    assert systemd.messages() == [
        ["READY=1", "STATUS=kiosk on screen"],
        ["STATUS=calibrating the plate"],
        ["WATCHDOG=1"],
        ["STOPPING=1", "STATUS=stopping"],
    ]


def test_long_status_is_shortened_and_bad_assignments_refused(systemd):
    with Notifier(env=systemd.env) as n:
        n.status("x" * 1000)
        with pytest.raises(ValueError, match="KEY=value"):
            n.send("READY")
        with pytest.raises(ValueError):
            n.send("STATUS=two\nlines")
    (msg,) = systemd.messages()
    assert len(msg[0]) == len("STATUS=") + STATUS_MAX and msg[0].endswith("...")


def test_no_socket_is_a_no_op():
    n = Notifier(env={})
    assert not n.enabled
    assert n.send("READY=1") is False
    assert notify_ready(env={}) is False
    hb = Heartbeat()
    dog = Watchdog(hb, env={})
    clock = VirtualClock()
    dog.clock = clock
    run_frames(dog, clock, 1.0)
    assert dog.pings == 0 and not dog.ready_sent
    assert hb.calls == 0  # not even asked: nothing to feed
    dog.close()
    dog.close()  # safe twice


def test_socket_gone_is_reported_not_raised(caplog):
    d = tempfile.mkdtemp(prefix="gs-notify-")
    path = os.path.join(d, "gone")
    n = Notifier(env={"NOTIFY_SOCKET": path})
    assert n.enabled
    with caplog.at_level("WARNING"):
        assert n.send("WATCHDOG=1") is False
        assert n.send("WATCHDOG=1") is False
    assert sum("could not notify systemd" in r.getMessage() for r in caplog.records) == 1
    n.close()
    os.rmdir(d)


# -- the watchdog fed from the frame loop ---------------------------------------------------

def test_ready_once_after_the_first_frame_then_pings_at_half_the_period(systemd):
    clock = VirtualClock()
    hb = Heartbeat()
    dog = Watchdog(hb, env={**systemd.env, "WATCHDOG_USEC": "2000000"}, clock=clock)
    assert dog.ping_every_s == 1.0
    assert systemd.messages() == []  # nothing before the first frame is on screen
    dog.on_frame(None, None)
    first = systemd.messages()
    assert first[0] == ["READY=1", "STATUS=kiosk on screen"]
    assert first[1:] == [["WATCHDOG=1"]]
    clock.advance(1 / 60)
    run_frames(dog, clock, 10.0)
    lines = flat(systemd.messages())
    assert "READY=1" not in lines  # READY=1 exactly once
    # 10 s at one ping per second (half of 2 s), never more often
    assert lines.count("WATCHDOG=1") in (9, 10)
    assert dog.pings == 1 + lines.count("WATCHDOG=1")


def test_stale_heartbeat_stops_the_pings_and_says_why(systemd):
    clock = VirtualClock()
    hb = Heartbeat()
    dog = Watchdog(hb, env={**systemd.env, "WATCHDOG_USEC": "1000000"}, clock=clock)
    run_frames(dog, clock, 3.0)
    before = flat(systemd.messages())
    assert before.count("WATCHDOG=1") >= 5
    hb.fresh = False  # the sampler hung
    run_frames(dog, clock, 5.0)
    during = flat(systemd.messages())
    assert "WATCHDOG=1" not in during  # systemd's timer runs out: it restarts the station
    assert during == ["STATUS=sampler heartbeat stale: withholding the watchdog"]  # said once
    hb.fresh = True  # it came back before the timer ran out
    run_frames(dog, clock, 2.0)
    after = flat(systemd.messages())
    assert after[0] == "STATUS=kiosk on screen"
    assert after.count("WATCHDOG=1") >= 3


def test_ready_is_sent_even_while_the_heartbeat_is_stale(systemd):
    """The first frame is on screen (showing the fault): READY, but no WATCHDOG=1."""
    clock = VirtualClock()
    hb = Heartbeat()
    hb.fresh = False
    dog = Watchdog(hb, env={**systemd.env, "WATCHDOG_USEC": "1000000"}, clock=clock)
    run_frames(dog, clock, 2.0)
    lines = flat(systemd.messages())
    assert lines[:2] == ["READY=1", "STATUS=kiosk on screen"]
    assert "WATCHDOG=1" not in lines


def test_without_watchdog_usec_only_ready(systemd):
    clock = VirtualClock()
    hb = Heartbeat()
    dog = Watchdog(hb, env=systemd.env, clock=clock)
    run_frames(dog, clock, 3.0)
    assert flat(systemd.messages()) == ["READY=1", "STATUS=kiosk on screen"]
    assert hb.calls == 0


def wait_for(condition, limit_s: float = 60.0) -> bool:
    """Poll ``condition`` (real time: the sampler thread runs on it) until true or ``limit_s``,
    which only bounds a hang: nothing here is timed."""
    import time

    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_real_sampler_heartbeat_feeds_the_watchdog_until_the_plate_hangs(systemd, monkeypatch):
    """The hook as the lead wires it: ``Watchdog(sampler.heartbeat_fresh)`` on a real sampler
    thread whose plate read hangs for good (as the hx711 package's get_raw_data can).

    The sampler's monotonic clock is one the test moves (its thread beats on it): its heartbeat
    is fresh once the thread has looped since the clock last moved, and stale once the clock
    moves past ``stale_after_s`` while the thread hangs. On the real clock a loaded machine that
    left the thread unscheduled for 0.2 s made the heartbeat stale while nothing hung."""
    import threading
    from types import SimpleNamespace

    from drivers.sample import Sample
    from station import sampler as sampler_module
    from station.sampler import Sampler

    now = [1000.0]
    monkeypatch.setattr(sampler_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    hang = threading.Event()
    hanging = threading.Event()
    release = threading.Event()

    class Plate:
        rate_hz = 80.0
        faults: dict = {}

        def __init__(self):
            self.t = 0.0

        def read(self, timeout=1.0):
            if hang.is_set():
                hanging.set()
                release.wait()  # never returns while the test watches
            release.wait(0.005)
            self.t += 1 / 80
            return Sample(self.t, 100.0, 100.0)

        def clock(self):
            return self.t

        def close(self):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.close()

    def beats_again() -> bool:
        """Move the sampler's clock past staleness; true once its thread has looped since."""
        now[0] += 1.0
        return wait_for(sampler.heartbeat_fresh)

    sampler = Sampler(Plate, mode="thread", stale_after_s=0.2)
    clock = VirtualClock()
    dog = Watchdog(sampler.heartbeat_fresh, env={**systemd.env, "WATCHDOG_USEC": "1000000"},
                   clock=clock)
    try:
        with sampler:
            assert wait_for(lambda: sampler.drain())  # samples flow: the loop is alive
            for _ in range(4):                         # 2 s of frames, the sampler beating
                assert beats_again()
                run_frames(dog, clock, 0.5)
            alive = flat(systemd.messages())
            assert alive[:2] == ["READY=1", "STATUS=kiosk on screen"]
            assert alive.count("WATCHDOG=1") >= 3
            hang.set()
            assert hanging.wait(60)                    # the thread is stuck in its read
            now[0] += 1.0
            assert not sampler.heartbeat_fresh()
            run_frames(dog, clock, 3.0)
            hung = flat(systemd.messages())
            assert "WATCHDOG=1" not in hung
            assert "STATUS=sampler heartbeat stale: withholding the watchdog" in hung
            release.set()
    finally:
        release.set()
        dog.close()


def test_constructor_validates():
    with pytest.raises(TypeError, match="heartbeat"):
        Watchdog(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        Watchdog(lambda: True, interval_s=0, env={})


def test_unit_file_declares_what_the_watchdog_assumes():
    """The unit and this module agree: notify type, main-process notify, a watchdog period."""
    unit = (Path(__file__).resolve().parents[2] / "deploy" / "gym-station.service").read_text()
    lines = {ln.split("=", 1)[0]: ln.split("=", 1)[1] for ln in unit.splitlines()
             if "=" in ln and not ln.startswith("#")}
    assert lines["Type"] == "notify"
    assert lines["NotifyAccess"] == "main"
    assert float(lines["WatchdogSec"]) >= 2  # pings every WatchdogSec/2 from a 60 fps loop

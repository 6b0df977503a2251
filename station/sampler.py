"""The sampler: reads the plate continuously and hands samples to the main loop without ever
waiting for it.

On real hardware it runs in its own process: a thread of the app could lose the GIL for
milliseconds while PD_SCK is high, which powers the HX711 down (a lost word). The process raises
itself to SCHED_FIFO where it is allowed (the systemd unit grants LimitRTPRIO). Simulated and
replayed plates can run in a thread, or inline on their virtual clock (``drain`` then reads the
plate itself, as fast as asked).

Hand-over is a lock-free single-producer ring in shared memory (:class:`SampleRing`): the sampler
writes a slot and then bumps a 64-bit counter; it never blocks, never allocates per sample and
never pickles. A consumer that falls more than a ring behind loses the oldest samples, and those
losses are counted, never silent. A heartbeat (the monotonic time of the sampler's last loop) lets
the app and the systemd watchdog tell a live sampler from a hung one; a sampler process that dies
is reported and restarted.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.errors import EndOfRecording, GymStationError, HardwareError
from drivers.sample import Sample, SampleSource

log = logging.getLogger(__name__)

#: Values stored per sample: t, heel, forefoot, left, right, then up to MAX_CELLS raw counts.
MAX_CELLS = 4
SLOT = 5 + MAX_CELLS + 1  # ... and the number of cells
NAN = float("nan")
#: Fault kinds the sampler reports (index into the shared counters).
FAULT_KINDS = ("hardware", "timeout", "end_of_recording", "crash")
MESSAGE_BYTES = 512
#: Seconds between attempts to open a plate that failed to open.
RETRY_OPEN_S = 2.0


class SampleRing:
    """A fixed-size ring of samples in shared memory: one writer, one reader, no locks.

    The writer fills slot ``n % capacity`` and then publishes ``written = n + 1``. The reader
    copies the slots between its position and ``written`` and checks ``written`` again
    afterwards: any slot the writer may have overwritten during the copy is discarded and counted
    as dropped, so a torn sample can never be returned.
    """

    def __init__(self, capacity: int = 4096, ctx=None):
        if capacity < 2:
            raise ValueError(f"ring capacity must be >= 2, not {capacity}")
        ctx = ctx or mp.get_context()
        self.capacity = capacity
        self._data = ctx.RawArray(ctypes.c_double, capacity * SLOT)
        self._written = ctx.RawValue(ctypes.c_uint64, 0)
        self._read = 0
        self.dropped = 0

    # writer side ----------------------------------------------------------------------------
    def put(self, s: Sample) -> None:
        n = self._written.value
        base = (n % self.capacity) * SLOT
        d = self._data
        d[base] = s.t
        d[base + 1] = s.heel
        d[base + 2] = s.forefoot
        d[base + 3] = NAN if s.left is None else s.left
        d[base + 4] = NAN if s.right is None else s.right
        cells = s.cells[:MAX_CELLS]
        for i, c in enumerate(cells):
            d[base + 5 + i] = c
        d[base + SLOT - 1] = len(cells)
        self._written.value = n + 1

    # reader side ----------------------------------------------------------------------------
    @property
    def written(self) -> int:
        return self._written.value

    def drain(self, max_samples: int | None = None) -> list[Sample]:
        """Samples written since the last drain, oldest first (at most ``max_samples``)."""
        end = self._written.value
        start = self._read
        if end - start > self.capacity:  # the writer lapped us: the oldest are gone
            self.dropped += end - start - self.capacity
            start = end - self.capacity
        if max_samples is not None:
            end = min(end, start + max_samples)
        out = []
        d = self._data
        for n in range(start, end):
            base = (n % self.capacity) * SLOT
            ncells = int(d[base + SLOT - 1])
            left, right = d[base + 3], d[base + 4]
            out.append(Sample(
                d[base], d[base + 1], d[base + 2],
                tuple(int(d[base + 5 + i]) for i in range(ncells)),
                None if left != left else left,
                None if right != right else right,
            ))
        after = self._written.value
        torn = max(0, (after - self.capacity) - start)  # slots overwritten while we copied
        if torn:
            torn = min(torn, len(out))
            self.dropped += torn
            out = out[torn:]
            start += torn
        self._read = start + len(out)
        return out


@dataclass
class SamplerStatus:
    """What the app shows and the watchdog checks."""

    running: bool
    heartbeat_age_s: float | None
    samples: int
    dropped: int
    restarts: int
    faults: dict[str, int] = field(default_factory=dict)
    fault: str | None = None   #: the current fault's message, None once samples flow again
    finished: bool = False     #: a replay reached its end
    reloads: int = 0           #: times the plate was reopened on purpose (:meth:`Sampler.reload`)

    @property
    def healthy(self) -> bool:
        return self.running and self.fault is None


class _Shared:
    """Counters and the last fault message, in shared memory."""

    def __init__(self, ctx):
        self.heartbeat = ctx.RawValue(ctypes.c_double, 0.0)
        self.faults = ctx.RawArray(ctypes.c_uint64, len(FAULT_KINDS))
        self.message = ctx.RawArray(ctypes.c_char, MESSAGE_BYTES)
        self.fault_active = ctx.RawValue(ctypes.c_int, 0)
        self.finished = ctx.RawValue(ctypes.c_int, 0)

    def set_fault(self, kind: str, message: str) -> None:
        self.faults[FAULT_KINDS.index(kind)] += 1
        self.message.value = message.encode("utf-8", "replace")[: MESSAGE_BYTES - 1]
        self.fault_active.value = 1


def raise_priority(priority: int = 10) -> bool:
    """Ask for SCHED_FIFO real-time scheduling; False (and a log line) where not permitted."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return True
    except (PermissionError, OSError, AttributeError) as e:
        log.info("sampler runs without real-time priority (%s)", e)
        return False


def _sample_loop(open_plate: Callable[[], SampleSource], ring: SampleRing, shared: _Shared,
                 stop, timeout: float, realtime: bool) -> None:
    """The sampler's body, in its process or thread: read, put, beat; report faults and go on,
    until ``stop`` (this worker's own event) is set."""
    if realtime:
        raise_priority()
    plate = None
    while plate is None:  # a plate that cannot open yet (no calibration, no GPIO): keep trying
        shared.heartbeat.value = time.monotonic()
        try:
            plate = open_plate()
        except GymStationError as e:
            shared.set_fault("hardware", str(e))
            if stop.wait(RETRY_OPEN_S):
                return
    with plate:
        while not stop.is_set():
            shared.heartbeat.value = time.monotonic()
            try:
                sample = plate.read(timeout=timeout)
            except EndOfRecording:
                shared.finished.value = 1
                shared.heartbeat.value = time.monotonic()
                stop.wait()
                return
            except HardwareError as e:
                kind = "timeout" if isinstance(e, TimeoutError) else "hardware"
                shared.set_fault(kind, str(e))
                continue
            except GymStationError as e:  # e.g. not calibrated: nothing to sample until fixed
                shared.set_fault("hardware", str(e))
                stop.wait(0.5)
                continue
            if stop.is_set():  # stopped during a long read: the ring may have a new writer
                break
            shared.fault_active.value = 0
            ring.put(sample)


def _process_main(open_plate, ring, shared, stop, timeout, log_level=logging.INFO):
    from .logsetup import configure_logging

    configure_logging(log_level)  # a spawned process starts with no logging set up
    try:
        _sample_loop(open_plate, ring, shared, stop, timeout, realtime=True)
    except BaseException as e:  # the app restarts a dead sampler; say why it died
        shared.set_fault("crash", f"sampler crashed: {type(e).__name__}: {e}")
        raise


class Sampler:
    """Runs a plate continuously: ``mode`` is ``process`` (real hardware), ``thread`` (simulated
    plates in real time) or ``inline`` (virtual clock: ``drain`` reads the plate directly).

    ``open_plate`` builds the plate inside the sampler (in the child process for ``process``), so
    it must be picklable there: a module-level function or a ``functools.partial`` of one.
    """

    def __init__(self, open_plate: Callable[[], SampleSource], *, mode: str = "process",
                 capacity: int = 4096, timeout: float = 0.5, restart_after_s: float = 1.0,
                 stale_after_s: float = 1.0):
        if mode not in ("process", "thread", "inline"):
            raise ValueError(f"sampler mode must be process, thread or inline, not {mode!r}")
        self.mode = mode
        self._open_plate = open_plate
        self._timeout = timeout
        self._restart_after = restart_after_s
        self._stale_after = stale_after_s
        self._ctx = mp.get_context("spawn")
        self._ring = SampleRing(capacity, self._ctx)
        self._shared = _Shared(self._ctx)
        self._worker = None
        self._stop_event = None
        self._inline_plate: SampleSource | None = None
        self._restarts = 0
        self._reloads = 0
        self._died_at: float | None = None
        self._samples = 0
        self._started = False

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> Sampler:
        if self._started:
            return self
        self._started = True
        if self.mode == "inline":
            self._inline_plate = self._open_plate()
        else:
            self._spawn()
        return self

    def _spawn(self) -> None:
        # each worker its own stop event: one that outlived stop()'s patience (a read that
        # hangs) stays stopped when the next starts, instead of writing the ring beside it
        self._stop_event = self._ctx.Event() if self.mode == "process" else threading.Event()
        self._shared.heartbeat.value = time.monotonic()
        if self.mode == "process":
            self._worker = self._ctx.Process(
                target=_process_main, name="gym-station-sampler", daemon=True,
                args=(self._open_plate, self._ring, self._shared, self._stop_event,
                      self._timeout, logging.getLogger().getEffectiveLevel()))
        else:
            self._worker = threading.Thread(
                target=_sample_loop, name="gym-station-sampler", daemon=True,
                args=(self._open_plate, self._ring, self._shared, self._stop_event,
                      self._timeout, False))
        self._worker.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and join the sampler; safe twice. A thread still reading after ``timeout`` is
        left to end by itself (it stops at its read's return, putting nothing more)."""
        if self._stop_event is not None:
            self._stop_event.set()
        w, self._worker = self._worker, None
        if w is not None:
            w.join(timeout)
            if isinstance(w, mp.process.BaseProcess) and w.is_alive():
                w.terminate()
                w.join(timeout)
        if self._inline_plate is not None:
            self._inline_plate.close()
            self._inline_plate = None
        self._started = False

    def reload(self, timeout: float = 2.0) -> None:
        """Close the plate and open it again, so it re-reads its calibration file (after a tare
        or a calibration on the touchscreen); samples then resume into the same ring.

        Counted in :attr:`SamplerStatus.reloads`, not as a restart or a crash: nothing failed.
        The fault counters and the reader's position carry over. A sampler that was not started
        is left alone (it reads the file when it starts).
        """
        if not self._started:
            return
        self.stop(timeout)
        self._died_at = None
        self.start()
        self._reloads += 1
        log.info("plate reopened to use the new calibration (reload %d)", self._reloads)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # the main loop's side -------------------------------------------------------------------
    def drain(self, max_samples: int | None = None, until_t: float | None = None) -> list[Sample]:
        """Everything sampled since the last call. Inline: read the plate up to ``max_samples``
        or up to plate time ``until_t``."""
        if self.mode == "inline":
            return self._drain_inline(max_samples, until_t)
        out = self._ring.drain(max_samples)
        self._samples += len(out)
        return out

    def _drain_inline(self, max_samples, until_t) -> list[Sample]:
        plate = self._inline_plate
        if plate is None:
            return []
        if max_samples is None and until_t is None:
            max_samples = 1
        out = []
        while max_samples is None or len(out) < max_samples:
            try:
                s = plate.read(timeout=self._timeout)
            except EndOfRecording:
                self._shared.finished.value = 1
                break
            except HardwareError as e:
                self._shared.set_fault("timeout" if isinstance(e, TimeoutError) else "hardware",
                                       str(e))
                break
            self._shared.fault_active.value = 0
            self._shared.heartbeat.value = time.monotonic()
            out.append(s)
            if until_t is not None and s.t >= until_t:
                break
        self._samples += len(out)
        return out

    def poll(self) -> SamplerStatus:
        """Check the sampler (restarting a dead one) and return what the app should show."""
        now = time.monotonic()
        running = True
        message = self._shared.message.value.decode("utf-8", "replace") or None
        if self.mode != "inline" and self._started:
            alive = self._worker is not None and self._worker.is_alive()
            if not alive and not self._shared.finished.value:
                running = False
                if self._died_at is None:
                    self._died_at = now
                    code = getattr(self._worker, "exitcode", None)
                    log.warning("sampler stopped (exit code %s): %s", code, message)
                if now - self._died_at >= self._restart_after:
                    self._restarts += 1
                    self._died_at = None
                    log.warning("restarting the sampler (restart %d)", self._restarts)
                    self._spawn()
        age = now - self._shared.heartbeat.value if self._shared.heartbeat.value else None
        fault = message if self._shared.fault_active.value else None
        if not running:
            fault = "The plate's sampler stopped; restarting it" + (f" ({message})" if message else "")
        elif age is not None and age > self._stale_after and self.mode != "inline" \
                and not self._shared.finished.value:
            fault = fault or f"The plate's sampler has not answered for {age:.1f} s"
        return SamplerStatus(
            running=running, heartbeat_age_s=age, samples=self._samples,
            dropped=self._ring.dropped, restarts=self._restarts,
            faults={k: int(v) for k, v in zip(FAULT_KINDS, self._shared.faults, strict=True)},
            fault=fault, finished=bool(self._shared.finished.value), reloads=self._reloads)

    def heartbeat_fresh(self, max_age_s: float | None = None) -> bool:
        """True while the sampler has looped recently (what the systemd watchdog is fed on)."""
        hb = self._shared.heartbeat.value
        return bool(hb) and time.monotonic() - hb <= (max_age_s or self._stale_after)

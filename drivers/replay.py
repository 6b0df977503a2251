"""The replay plate: a recording played back as a :class:`~drivers.sample.SampleSource`.

As fast as possible on a :class:`~drivers.clock.VirtualClock` (each sample keeps its recorded
``t`` and the clock jumps to it), or in real time on the monotonic clock (samples are restamped
``start + (t - t_first)`` and each waits for its moment with short sleeps). A file is streamed,
so a long recording is never held in memory; a malformed line surfaces as ``RecordingError`` when
the replay reaches it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping

from .clock import VirtualClock, real_clock, real_sleep
from .errors import EndOfRecording, HX711Timeout, PlateError, RecordingError
from .recording import Recording, RecordingReader, _rate
from .sample import Sample

POLL_S = 0.002


class ReplayPlate:
    """Replays ``source`` (a recording file or a :class:`Recording`) sample by sample.

    ``read(timeout)`` returns the next sample, raises :class:`EndOfRecording` after the last one
    and, when the recording has a gap longer than ``timeout`` (the recorded plate was silent that
    long), waits ``timeout`` and raises ``HX711Timeout`` like a silent plate would; the next read
    then returns the sample after the gap. ``rate_hz`` is the recording's ``rate_hz`` metadata (or
    the rate measured from its first samples).
    """

    def __init__(self, source: str | os.PathLike | Recording, *, realtime: bool = False,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None):
        if isinstance(source, Recording):
            self.meta: Mapping[str, str] = dict(source.meta)
            self.name = source.path or "<recording>"
            self._samples: Iterator[Sample] = iter(source.samples)
            self._reader = None
            head = list(source.samples[:9])
        else:
            self._reader = RecordingReader(source)
            self.meta = dict(self._reader.meta)
            self.name = str(source)
            self._samples = iter(self._reader)
            head = []
            deferred = None
            try:
                for sample in self._samples:  # peek a few samples to know the rate
                    head.append(sample)
                    if len(head) >= 9:
                        break
            except RecordingError as e:  # raised when the replay reaches that line
                deferred = e
            self._samples = _chain(head, self._samples, deferred)
        self.realtime = realtime
        if clock is None:  # a virtual clock starts at the first sample: no wait for it
            clock = real_clock if realtime else VirtualClock(head[0].t if head else 0.0)
        self.clock = clock
        self._virtual = isinstance(clock, VirtualClock)
        if realtime and self._virtual:
            raise ValueError("a real-time replay needs a real clock, not a VirtualClock")
        self._sleep = sleep or (clock.sleep if self._virtual else real_sleep)
        self.rate_hz = _rate(self.meta, head) or 80.0
        self._pending: Sample | None = None
        self._offset: float | None = None  # real-time: clock time minus recorded t
        self._faults: Counter[str] = Counter()
        self.count = 0
        self._closed = False

    @property
    def faults(self) -> Mapping[str, int]:
        """``timeout``: gaps in the recording longer than the read timeout."""
        return dict(self._faults)

    def _next(self) -> Sample:
        if self._pending is None:
            try:
                self._pending = next(self._samples)
            except StopIteration:
                raise EndOfRecording(f"{self.name}: the recording ended after {self.count} "
                                     "samples") from None
        return self._pending

    def read(self, timeout: float = 1.0) -> Sample:
        if self._closed:
            raise PlateError(f"{self.name}: the replay plate is closed")
        sample = self._next()
        if self.realtime:
            if self._offset is None:
                self._offset = self.clock() - sample.t
            due = sample.t + self._offset
        else:
            due = sample.t
        now = self.clock()
        deadline = now + timeout
        while now < due:
            if now >= deadline:
                self._faults["timeout"] += 1
                raise HX711Timeout(f"{self.name}: the recording has no sample for {timeout:g} s "
                                   f"before t={sample.t:g} (the recorded plate was silent)")
            step = min(due, deadline) - now
            if self._virtual:
                self.clock.advance(step)
            else:
                self._sleep(min(POLL_S, step))
            now = self.clock()
        self._pending = None
        self.count += 1
        if self.realtime:
            return Sample(due, sample.heel, sample.forefoot, sample.cells, sample.left,
                          sample.right)
        return sample

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._reader.close()

    def __enter__(self) -> ReplayPlate:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _chain(head: list[Sample], rest: Iterator[Sample],
           error: RecordingError | None) -> Iterator[Sample]:
    yield from head
    if error is not None:
        raise error
    yield from rest

"""What reached SDL's disk audio device: helpers the display tests share (imported via conftest's
path), for a mixer writing mono signed 16-bit samples to a raw file.

The device streams in its own thread, paced by sleeping one buffer's length per buffer, so on a
loaded machine it falls behind the clock by however long that thread waited for a CPU. Where a
sound is in the stream is therefore judged by how much the device had written when it was played
(the file's size, read just before and just after), never by the time that had passed.
"""

from __future__ import annotations

import time

import numpy as np

#: Samples the device may hold beyond what the file shows: the file is written through a stdio
#: buffer (4096 bytes, 2048 samples) and a sound starts in the mixer's next buffer or the one
#: after (512 samples each), with a little to spare.
UNSEEN = 2048
IN_FLIGHT = 4 * 512


def captured(raw) -> np.ndarray:
    """Everything the device wrote, as floats in -1..1."""
    return np.fromfile(raw, dtype=np.int16).astype(np.float64) / 32768.0


def streamed(raw) -> int:
    """Samples the device has written to the file so far."""
    return raw.stat().st_size // 2 if raw.exists() else 0


def stream_until(raw, samples: int, timeout: float = 60.0) -> int:
    """Wait until the device has written ``samples``; the samples written. It streams in real
    time, so this takes at least their length; the deadline only bounds a device that stopped."""
    end = time.monotonic() + timeout
    while streamed(raw) < samples:
        if time.monotonic() > end:
            raise AssertionError(f"the audio device wrote {streamed(raw)} of {samples} samples "
                                 f"in {timeout} s")
        time.sleep(0.02)
    return streamed(raw)


def onsets(x: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Indices of the audible samples."""
    return np.nonzero(np.abs(x) > threshold)[0]


def starts_where_played(start: int, before: int, after: int) -> bool:
    """Whether a sound heard from sample ``start`` began where the stream was when it was played:
    ``before`` and ``after`` are :func:`streamed` read just before and just after the play."""
    return before - UNSEEN <= start <= after + IN_FLIGHT + UNSEEN

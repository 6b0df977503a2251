"""What a run of the kiosk's loop did (:class:`RunStats`), in a fixed amount of memory.

The kiosk runs all day, for days: a list of every frame's work time would be 5 million floats a
day at 60 fps. So every per-frame and per-cue record keeps only its latest part - frame and cue
times in a numpy ring (:class:`Timings`), commands, screens and sounds in a bounded queue
(:class:`Recent`) - with its count (and the longest time) over the whole run: percentiles come
from the window, counts from the totals. A short run (a test, ``gym-station bench``) fits its
windows whole, so its figures are exact.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: How many of the latest frames' work times a run keeps for its percentiles: 9 minutes at
#: 60 fps (256 kB), all of a bench run (at most 120 s).
FRAME_WINDOW = 2 ** 15
#: How many of the latest cues' latencies a run keeps for its percentiles.
CUE_WINDOW = 4096
#: How many of the latest commands, screens entered, sounds and loudness changes a run keeps.
EVENT_WINDOW = 1000


class Recent(Sequence):
    """The last ``keep`` things of one kind a run saw (commands, screens entered, sounds),
    oldest first, and ``total``: how many there were in all. It reads like a list of them
    (``len``, indexing, slices, ``in``, ``==`` a list) but never grows past ``keep``: the kiosk
    runs all day."""

    def __init__(self, keep: int, items: Iterable = ()):
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self._items: deque = deque(maxlen=keep)
        self.total = 0
        for item in items:
            self.append(item)

    @property
    def keep(self) -> int:
        return self._items.maxlen or 0

    def append(self, item) -> None:
        self._items.append(item)
        self.total += 1

    def last(self):
        """The latest item, or None before the first."""
        return self._items[-1] if self._items else None

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self._items)[index]
        return self._items[index]

    def __iter__(self) -> Iterator:
        return iter(self._items)

    def __eq__(self, other) -> bool:
        if isinstance(other, Recent | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Recent({list(self._items)!r}, total={self.total})"


class Timings:
    """Times in ms, one a frame or one a cue: the last ``keep`` in a numpy ring (for the
    percentiles) and ``count``, ``max`` over the whole run. Reads like an array of the window,
    oldest first (``len``, indexing, slices, ``np.percentile(timings, 99)``); appending is one
    store, so the loop never allocates for it."""

    def __init__(self, keep: int):
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self._ring = np.zeros(keep)
        self.count = 0                 #: every time appended
        self.max: float | None = None  #: the longest of all of them

    @property
    def keep(self) -> int:
        return len(self._ring)

    def append(self, ms: float) -> None:
        self._ring[self.count % len(self._ring)] = ms
        self.count += 1
        if self.max is None or ms > self.max:
            self.max = float(ms)

    def values(self) -> np.ndarray:
        """The window, oldest first (a copy)."""
        keep = len(self._ring)
        if self.count <= keep:
            return self._ring[:self.count].copy()
        cut = self.count % keep
        return np.concatenate((self._ring[cut:], self._ring[:cut]))

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile of the window; None before the first time."""
        return float(np.percentile(self.values(), q)) if self.count else None

    def __len__(self) -> int:
        return min(self.count, len(self._ring))

    def __getitem__(self, index):
        return self.values()[index]

    def __iter__(self) -> Iterator[float]:
        return iter(self.values().tolist())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        values = self.values()
        return values if dtype is None else values.astype(dtype)

    def __repr__(self) -> str:
        return f"Timings(count={self.count}, window={len(self)}, max={self.max})"


@dataclass
class RunStats:
    """What a run did, for the log, the tests and ``gym-station bench``: the per-frame and
    per-cue records hold their latest ``FRAME_WINDOW``, ``CUE_WINDOW`` or ``EVENT_WINDOW``
    entries, and their counts over the whole run."""

    frames: int = 0
    dropped: int = 0
    #: work per frame, real ms
    frame_ms: Timings = field(default_factory=lambda: Timings(FRAME_WINDOW))
    #: flip time - cue.t
    cue_latency_ms: Timings = field(default_factory=lambda: Timings(CUE_WINDOW))
    #: (kind, flip time)
    cue_onsets: Recent = field(default_factory=lambda: Recent(EVENT_WINDOW))
    #: (kind, what played)
    sounds: Recent = field(default_factory=lambda: Recent(EVENT_WINDOW))
    #: each screen entered, in order
    screens: Recent = field(default_factory=lambda: Recent(EVENT_WINDOW))
    #: what input asked the kiosk (a PIN digit without its value)
    commands: Recent = field(default_factory=lambda: Recent(EVENT_WINDOW))
    #: one PNG per screen reached, so bounded by the screens there are
    screenshots: list[Path] = field(default_factory=list)
    failsafes: int = 0
    startup_s: float | None = None                            #: call to first flip, real s
    size: tuple[int, int] = (0, 0)                            #: the logical surface
    #: why the loop ended: "window closed", "seconds", "on_frame" or "exit requested" (the
    #: staff left the kiosk)
    ended: str | None = None
    #: each loudness applied, in order
    audio: Recent = field(default_factory=lambda: Recent(EVENT_WINDOW))

    def screen_path(self) -> str:
        """The screens entered, in order (``idle -> ready -> live``); past the window, how
        many earlier ones are left out."""
        path = " -> ".join(self.screens)
        earlier = self.screens.total - len(self.screens)
        return f"({earlier} earlier) -> {path}" if earlier else path

    def figures(self) -> dict[str, float]:
        """The run's headline numbers: frames, dropped frames and cues over the whole run, the
        longest frame and cue latency, and p50/p99 of frame work and cue latency over their
        latest windows."""
        out: dict[str, float] = {"frames": self.frames, "dropped": self.dropped,
                                 "cues": self.cue_latency_ms.count}
        for name, values in (("frame_ms", self.frame_ms), ("cue_latency_ms", self.cue_latency_ms)):
            if values.count:
                out[f"{name}_p50"] = values.percentile(50)
                out[f"{name}_p99"] = values.percentile(99)
                out[f"{name}_max"] = values.max
        if self.startup_s is not None:
            out["startup_s"] = self.startup_s
        return out

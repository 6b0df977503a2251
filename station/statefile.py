"""A state file the station keeps in memory while others may change it (roster, programs, PINs).

The kiosk holds ``roster.json``, ``programs.json`` and ``pins.json`` in memory; the console
(`gym-station roster import`, `gym-station pin set`) writes the same files while it runs.
:class:`StateFile` remembers the file's stamp (mtime_ns, size, inode) as last read or written,
so a store notices a newer file with one ``stat`` (at most once per ``every_s`` of its clock
when asked every frame) and reloads it before reading or editing, and a write refuses to
replace a file changed since it was read. Every write goes through a temporary file and a
rename (:func:`station.paths.write_state_file`), so each write gives the file a new inode and
a reader never sees half a file.

A damaged file is never overwritten: :meth:`StateFile.set_aside` keeps it under a dated name
(``roster.json.damaged-20250612T101500``) for a person to look at.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.files import JSON_MAX_BYTES, parse_json, read_at_most

from .paths import write_state_file

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int]

#: The stamp of a file this object never read: nothing to compare a write against.
_UNREAD = object()


def stamp_of(path: Path) -> Stamp | None:
    """The file's (mtime_ns, size, inode), or None when there is no file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class StateFile:
    """One state file and the stamp of the version last read or written.

    ``clock`` (seconds, the kiosk's plate time; None: no limit) makes :meth:`changed` look at
    the file at most once per ``every_s`` unless forced; reading and editing force it.
    """

    def __init__(self, path: str | os.PathLike, clock: Callable[[], float] | None = None,
                 every_s: float = 1.0):
        self.path = Path(path)
        self.clock = clock
        self.every_s = every_s
        self._stamp: object = _UNREAD
        self._looked: float | None = None

    def read_bytes(self, limit: int = JSON_MAX_BYTES) -> bytes | None:
        """The file's bytes (None: there is none), remembering the stamp of exactly what was
        read. OSError when it cannot be read; FileContentError (a ValueError, as damaged JSON
        is) past ``limit`` bytes: no state file is that big, and reading on would fill memory."""
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - fstat of the open file, then read
        except FileNotFoundError:
            self._stamp = None
            return None
        with f:
            st = os.fstat(f.fileno())
            self._stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            return read_at_most(f, limit)

    def read_json(self) -> Any:
        """The file's JSON document (None: there is none), read as :meth:`read_bytes` reads it.
        OSError when it cannot be read; :class:`~drivers.errors.FileContentError` (a ValueError)
        when it is damaged, saying what and where. The station writes these files itself, so a
        byte-order mark is damage too."""
        data = self.read_bytes()
        return None if data is None else parse_json(data, bom=False)

    def changed(self, force: bool = False) -> bool:
        """Whether the file is not the one last read or written (replaced, removed, created).
        One ``stat``; unless ``force``, at most once per ``every_s`` of the clock. A file never
        read is never "changed" (a store built in memory writes where it is told)."""
        if self._stamp is _UNREAD:
            return False
        if not force and self.clock is not None:
            now = self.clock()
            if self._looked is not None and 0.0 <= now - self._looked < self.every_s:
                return False
            self._looked = now
        return stamp_of(self.path) != self._stamp

    def write_text(self, text: str, mode: int = 0o600) -> None:
        """Write the file atomically (private to the station's user) and remember its stamp."""
        write_state_file(self.path, text, mode)
        self._stamp = stamp_of(self.path)

    def set_aside(self, wall: Callable[[], float] = time.time) -> Path:
        """Move a damaged file out of the way, to ``NAME.damaged-YYYYmmddTHHMMSS`` (``-2``,
        ``-3``... if taken), and return where it went. The store then has no file."""
        day = time.strftime("%Y%m%dT%H%M%S", time.localtime(wall()))
        dest, n = self.path.with_name(f"{self.path.name}.damaged-{day}"), 2
        while dest.exists():
            dest, n = self.path.with_name(f"{self.path.name}.damaged-{day}-{n}"), n + 1
        os.rename(self.path, dest)
        self._stamp = None
        return dest

    def unusable(self, what: str, damaged: bool, had: int, keeps: str, empty: str,
                 rewrite: Callable[[], None], wall: Callable[[], float] = time.time) -> str:
        """A store's file could not be used: set it aside if ``damaged``, write back what the
        store holds in memory (``had`` items: the file then holds what is used), and return the
        sentence for the screen: ``keeps`` when it had something, else ``empty``."""
        kept = None
        if damaged:
            try:
                kept = self.set_aside(wall)
            except OSError as oe:
                log.error("%s: %s cannot be moved aside (%s)", what, self.path, oe.strerror or oe)
        said = (f"The {what} file {self.path.name} "
                f"{'was damaged' if damaged else 'cannot be read'}"
                f"{f' and is kept as {kept.name}' if kept else ''}: {keeps if had else empty}")
        if kept and had:
            try:
                rewrite()
            except OSError as oe:
                log.error("%s: what is in memory cannot be stored (%s)", what, oe.strerror or oe)
        return said


__all__ = ["StateFile", "stamp_of"]

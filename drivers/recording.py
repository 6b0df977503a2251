"""Recording files: what ``gym-station record`` writes and ``analyze`` and the replay plate read.

A CSV file (DESIGN.md "Recording file")::

    # station: station-1
    # exercise: single_leg_hip_thrust
    # side: left
    # rate_hz: 80
    # calibration: 2025-03-01T10:00:00+00:00
    t,heel,forefoot,left,right,cell0,cell1,cell2,cell3
    0.0125,160.3,131.2,130.1,161.4,116208,264084,-51234,90210

``t`` (seconds from the start, strictly increasing), ``heel`` and ``forefoot`` (newtons) are
required; ``left``/``right`` (newtons, empty on 2-cell plates) and ``cell0..cellN`` (raw signed
counts, numbered without gaps) are optional; other columns are ignored. Floats are written with
``repr`` (the shortest text that reads back to the same float), so a replay gives exactly the
samples that were recorded. Reading is streaming: :class:`RecordingReader` yields samples as it
parses, and a malformed line raises :class:`RecordingError` naming the file and the line.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RecordingError
from .sample import Sample

REQUIRED = ("t", "heel", "forefoot")
META_KEYS = ("station", "exercise", "side", "rate_hz", "calibration")
_META = re.compile(r"^#\s*([A-Za-z_][\w.-]*)\s*:\s*(.*?)\s*$")
_CELL = re.compile(r"^cell([0-9]+)$")
#: Largest |t| in seconds (about 30 years) and |force| in newtons (a hundred tonnes) a recording
#: may hold: beyond them a value is a corrupt file, and sums or rates of it would overflow.
T_MAX_S = 1e9
FORCE_MAX_N = 1e6
#: Raw counts are the HX711's signed 24-bit words.
COUNT_MIN, COUNT_MAX = -0x800000, 0x7FFFFF
#: The longest line read: a row of a 4-cell plate is under 100 bytes, a file whose lines end in a
#: lone \r is read as one line here (split later), so this leaves room for hours of those.
LINE_MAX_BYTES = 16 * 2**20


def _number(value: float) -> str:
    return repr(float(value))


class RecordingWriter:
    """Writes samples to a recording file as they come (each row flushed).

    ``meta`` becomes the ``# key: value`` lines (keys of DESIGN.md plus any others). The columns
    follow the first sample: ``left,right`` if it has them, ``cell0..`` for its raw counts;
    later samples must have the same shape. ``t0`` is subtracted from each sample's ``t``
    (pass the capture's start on a hardware clock; simulated and replayed plates start at 0).
    Context manager; ``close()`` is safe twice.
    """

    def __init__(self, path: str | os.PathLike, meta: Mapping[str, object] | None = None, *,
                 t0: float = 0.0):
        self.path = Path(path)
        self.t0 = float(t0)
        meta = dict(meta or {})
        for key, value in meta.items():
            if not re.fullmatch(r"[A-Za-z_][\w.-]*", str(key)):
                raise RecordingError(f"{self.path}: metadata key {key!r} must be a plain word",
                                     str(self.path))
            if "\n" in str(value) or "\r" in str(value):
                raise RecordingError(f"{self.path}: metadata {key!r} must fit on one line",
                                     str(self.path))
        self._file = open(self.path, "w", newline="", encoding="utf-8")
        for key, value in meta.items():
            self._file.write(f"# {key}: {value}\n")
        self._file.flush()
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._cells: int | None = None
        self._edges = False
        self._last_t: float | None = None
        self.rows = 0

    def _header(self, sample: Sample) -> None:
        self._cells = len(sample.cells)
        self._edges = sample.left is not None or sample.right is not None
        columns = list(REQUIRED)
        if self._edges:
            columns += ["left", "right"]
        columns += [f"cell{i}" for i in range(self._cells)]
        self._csv.writerow(columns)

    def write(self, sample: Sample) -> None:
        """Append one sample (its ``t`` must be after the previous one's)."""
        if self._file.closed:
            raise RecordingError(f"{self.path}: the recording is closed", str(self.path))
        if self._cells is None:
            self._header(sample)
        elif len(sample.cells) != self._cells:
            raise RecordingError(f"{self.path}: sample at t={sample.t} has {len(sample.cells)} "
                                 f"cells, the recording has {self._cells}", str(self.path))
        t = sample.t - self.t0
        values = [t, sample.heel, sample.forefoot]
        if self._edges:
            values += [sample.left, sample.right]
        if not all(v is not None and math.isfinite(v) for v in values):
            raise RecordingError(f"{self.path}: sample at t={sample.t} has a value that is not a "
                                 f"finite number: {sample}", str(self.path))
        if self._last_t is not None and not t > self._last_t:
            raise RecordingError(f"{self.path}: sample t={t!r} is not after the previous "
                                 f"t={self._last_t!r}", str(self.path))
        self._last_t = t
        self._csv.writerow([_number(v) for v in values] + [int(c) for c in sample.cells])
        self._file.flush()
        self.rows += 1

    def close(self) -> None:
        if self._file.closed:
            return
        if self._cells is None:  # no sample came: still a readable (empty) recording
            self._csv.writerow(REQUIRED)
        self._file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class Recording:
    """A whole recording in memory: its metadata and samples."""

    meta: Mapping[str, str]
    samples: tuple[Sample, ...]
    path: str | None = None
    columns: tuple[str, ...] = field(default=())

    @property
    def rate_hz(self) -> float | None:
        """The ``rate_hz`` metadata, else the median sample rate, else ``None``."""
        return _rate(self.meta, self.samples)

    @property
    def duration_s(self) -> float:
        return self.samples[-1].t - self.samples[0].t if self.samples else 0.0


def _rate(meta: Mapping[str, str], samples) -> float | None:
    value = meta.get("rate_hz")
    if value:
        try:
            rate = float(value)
            if math.isfinite(rate) and rate > 0:
                return rate
        except ValueError:
            pass
    if len(samples) >= 2:
        gaps = sorted(b.t - a.t for a, b in zip(samples, samples[1:], strict=False))
        rate = 1.0 / gaps[len(gaps) // 2] if gaps[len(gaps) // 2] > 0 else math.inf
        if math.isfinite(rate) and rate > 0:
            return rate
    return None


class RecordingReader:
    """Streams a recording: ``meta`` and ``columns`` are read on opening, samples as iterated.

    Blank lines are skipped, a UTF-8 byte-order mark is ignored, ``#`` lines before the header
    are metadata (``# key: value``) or comments. Every malformed line raises
    :class:`RecordingError` with the file and line number.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        try:
            self._file = open(path, "rb")
        except FileNotFoundError:
            raise RecordingError(f"{self.path}: no such recording file", self.path) from None
        except IsADirectoryError:
            raise RecordingError(f"{self.path}: is a folder, not a recording file",
                                 self.path) from None
        except OSError as e:  # permission, a name too long
            raise RecordingError(f"{self.path}: cannot read it ({e.strerror or e})",
                                 self.path) from None
        self.meta: dict[str, str] = {}
        self.line = 0
        try:
            self._read_header()
        except BaseException:
            self._file.close()
            raise

    def _error(self, reason: str, line: int | None = None) -> RecordingError:
        line = self.line if line is None else line
        return RecordingError(f"{self.path}, line {line}: {reason}", self.path, line)

    def _lines(self) -> Iterator[str]:
        # Decoded line by line (UTF-8 never hides a newline byte inside a character), so a bad
        # byte is reported on its own line, not on the first line of a decoder's chunk. Line
        # ends are \n, \r\n or a lone \r, as in text mode.
        # A line is read only up to LINE_MAX_BYTES: /dev/zero or a film is refused, not read
        # into memory whole.
        for number, raw in enumerate(iter(lambda: self._file.readline(LINE_MAX_BYTES + 1), b"")):
            if len(raw) > LINE_MAX_BYTES and not raw.endswith(b"\n"):
                raise self._error(f"a line longer than {LINE_MAX_BYTES // 2**20} MiB: is this a "
                                  "recording?", self.line + 1)
            try:
                text = raw.decode("utf-8-sig" if number == 0 else "utf-8")
            except UnicodeDecodeError as e:
                line = self.line + 1 + raw[:e.start].count(b"\r")
                raise self._error(f"not UTF-8 text ({e.reason} at byte 0x{raw[e.start]:02x}); "
                                  "is this a recording?", line) from None
            if text.endswith("\n"):
                text = text[:-1]
            if text.endswith("\r"):
                text = text[:-1]
            for piece in text.split("\r"):
                self.line += 1
                if piece.strip():
                    yield piece

    def _read_header(self) -> None:
        self._iter = self._lines()
        try:
            for text in self._iter:
                if text.lstrip().startswith("#"):
                    m = _META.match(text.strip())
                    if m:
                        self.meta[m.group(1)] = m.group(2)
                    continue
                header = [c.strip() for c in next(csv.reader([text]))]
                break
            else:
                what = "only metadata, no header row" if self.meta else "no header row"
                raise self._error(f"empty recording: {what} (expected a row starting "
                                  "t,heel,forefoot)", max(self.line, 1))
        except csv.Error as e:
            raise self._error(f"the header is not a well-formed CSV row ({e})") from None
        if len(set(header)) != len(header):  # Counter: a 100 000-column header stays quick
            dup = sorted(c for c, n in Counter(header).items() if n > 1)[:10]
            raise self._error(f"column(s) {dup} appear twice in the header")
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            shown = header if len(header) <= 12 else [*header[:12], "..."]
            raise self._error(f"missing required column(s) {missing}; the header has {shown}")
        cells = sorted(int(m.group(1)) for c in header if (m := _CELL.match(c)))
        if cells != list(range(len(cells))):
            raise self._error(f"cell columns must be cell0..cell{len(cells) - 1} without gaps, "
                              f"found {[f'cell{i}' for i in cells][:12]}")
        self.columns = tuple(header)
        self._t, self._heel, self._ff = (header.index(c) for c in REQUIRED)
        self._left = header.index("left") if "left" in header else None
        self._right = header.index("right") if "right" in header else None
        self._cells = [header.index(f"cell{i}") for i in cells]
        self.header_line = self.line

    def _float(self, row: list[str], index: int, name: str, optional: bool = False,
               limit: float = FORCE_MAX_N):
        text = row[index].strip()
        if optional and text == "":
            return None
        try:
            value = float(text)
        except ValueError:
            raise self._error(f"column {name!r} is {text[:40]!r}, not a number") from None
        if not math.isfinite(value):
            raise self._error(f"column {name!r} is {text[:40]!r}; only finite numbers are allowed")
        if abs(value) > limit:
            raise self._error(f"column {name!r} is {text[:40]!r}, beyond {limit:g} (a corrupt "
                              "value)")
        return value

    def __iter__(self) -> Iterator[Sample]:
        last_t = None
        width = len(self.columns)
        try:
            for text in self._iter:
                if text.lstrip().startswith("#"):
                    continue
                row = next(csv.reader([text]))
                if len(row) != width:
                    raise self._error(f"row has {len(row)} fields, the header has {width}")
                t = self._float(row, self._t, "t", limit=T_MAX_S)
                if last_t is not None and not t > last_t:
                    raise self._error(f"t={t!r} is not after the previous t={last_t!r} "
                                      "(t must increase)")
                last_t = t
                heel = self._float(row, self._heel, "heel")
                forefoot = self._float(row, self._ff, "forefoot")
                left = right = None
                if self._left is not None:
                    left = self._float(row, self._left, "left", optional=True)
                if self._right is not None:
                    right = self._float(row, self._right, "right", optional=True)
                cells = []
                for i, index in enumerate(self._cells):
                    text_c = row[index].strip()
                    try:
                        count = int(text_c)
                    except ValueError:
                        raise self._error(f"column 'cell{i}' is {text_c[:40]!r}, not a whole "
                                          "count") from None
                    if not COUNT_MIN <= count <= COUNT_MAX:
                        raise self._error(f"column 'cell{i}' is {count}, outside the HX711's "
                                          f"24-bit range {COUNT_MIN}..{COUNT_MAX}")
                    cells.append(count)
                yield Sample(t, heel, forefoot, tuple(cells), left, right)
        except csv.Error as e:
            raise self._error(f"not a well-formed CSV row ({e})") from None
        finally:
            self._file.close()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iter_samples(path: str | os.PathLike) -> Iterator[Sample]:
    """Stream the samples of a recording file (the file is opened at once, so a missing file or
    a bad header fails here, not at the first ``next``)."""
    return iter(RecordingReader(path))


def read_recording(path: str | os.PathLike) -> Recording:
    """Read a whole recording file, refusing malformed ones with the line at fault."""
    reader = RecordingReader(path)
    samples = tuple(reader)
    return Recording(meta=dict(reader.meta), samples=samples, path=str(path),
                     columns=reader.columns)


__all__ = ["Recording", "RecordingReader", "RecordingWriter", "iter_samples", "read_recording",
           "META_KEYS", "REQUIRED"]

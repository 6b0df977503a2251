"""Atomic file writes: a crash or a pulled plug leaves the old file or the new one, never half.
And bounded reads: a file read whole is read only up to a limit, and a JSON file's damage (a
bad byte, a syntax error, brackets nested too deep, a huge file) is one :class:`FileContentError`
saying what and where, never a MemoryError or RecursionError.

Used for the calibration here and for the station's state files (PINs, roster, programs, the
volume) and configuration files."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import FileContentError

#: The most of a JSON state file read into memory: the real ones are a few kB (a roster of
#: thousands of athletes well under 1 MiB); anything bigger is damage, or not a state file.
JSON_MAX_BYTES = 16 * 2**20
#: The most of a TOML file a person wrote (station.toml, exercises, scenarios) read: they are a
#: few kB, and tomllib is pure Python, so a bigger one is refused before it is parsed.
TOML_MAX_BYTES = 2**20


def write_atomic(path: str | os.PathLike, text: str, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder (created with
    ``mode`` from the start when given, so a private file is never briefly readable), fsynced and
    renamed over the old one. The folder is created if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_limited(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of ``path``, refused with :class:`FileContentError` past ``limit`` bytes (read
    no further, so /dev/zero or a film picked by mistake never fills the memory). The OS's own
    errors (missing, a folder, permission) are raised as they are."""
    with open(path, "rb") as f:
        return read_at_most(f, limit)


def read_at_most(f, limit: int) -> bytes:
    """The rest of the open binary file ``f``, refused with :class:`FileContentError` past
    ``limit`` bytes (reads ``limit + 1`` at the most)."""
    data = f.read(limit + 1)
    if len(data) > limit:
        raise FileContentError(f"bigger than {_size(limit)}: not the file it should be")
    return data


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n:,} bytes"


def read_json(path: str | os.PathLike, limit: int = JSON_MAX_BYTES) -> Any:
    """The JSON document in ``path`` (UTF-8, a byte-order mark allowed; at most ``limit``
    bytes). Missing, unreadable: the OS's error, as it is. Damaged: :class:`FileContentError`
    with what and where ("line 3: Expecting ',' delimiter")."""
    return parse_json(read_limited(path, limit))


def parse_json(data: bytes, *, bom: bool = True) -> Any:
    """A JSON document from bytes; its damage as :class:`FileContentError` (see read_json).
    ``bom=False`` for the files only the station writes: a byte-order mark there is damage
    ("line 1: Unexpected UTF-8 BOM"), not an editor's habit to allow."""
    try:
        text = data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise FileContentError(f"line {line}: not UTF-8 text (byte 0x{data[e.start]:02x})") \
            from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise FileContentError(f"line {e.lineno}: {e.msg}") from None
    except RecursionError:  # [[[[... thousands deep: the decoder recurses once per level
        raise FileContentError("brackets nested too deep: not a file the station wrote") \
            from None
    except ValueError:  # a number of thousands of digits: int() refuses it
        raise FileContentError("a number thousands of digits long: not a file the station "
                               "wrote") from None

"""Finding the USB stick the staff plugged in, and writing a file to it whole or not at all.

A stick is a mounted FAT/exFAT/NTFS filesystem under ``/media``, ``/run/media`` or ``/mnt`` (where
udisks, ``systemd-mount`` or a hand-written ``mount`` put removable media), read from
``/proc/mounts``; both are parameters so tests use a folder and a mounts file of their own. The
stick's label names its folder, so the folder is taken byte for byte as the kernel writes it.

A write goes through a temporary file in the stick's folder, fsynced, renamed over the final
name, and the folder fsynced: a stick pulled out mid-export, full, or write-protected leaves no
half file with the export's name, and the error becomes one sentence the staff can act on.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from drivers.files import write_atomic

from .errors import ExportError

#: Where removable media get mounted on Raspberry Pi OS (udisks2, systemd-mount, by hand).
MEDIA_ROOTS = ("/media", "/run/media", "/mnt")
#: Filesystems a USB stick comes formatted with (``fuseblk``: exFAT/NTFS through FUSE).
STICK_FILESYSTEMS = ("vfat", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk")
MOUNTS_FILE = Path("/proc/mounts")


@dataclass(frozen=True, slots=True)
class UsbStick:
    """A mounted stick: where it is, the name to show (its mount folder: usually its label) and
    whether it is mounted read-only (a write-protect switch, or a filesystem with errors)."""

    mount: Path
    label: str
    read_only: bool


_ESCAPE = re.compile(rb"\\(040|011|012|134)")


def _unescape(field: bytes) -> bytes:
    """/proc/mounts writes space, tab, newline and backslash in a path as octal escapes (``\\040``,
    ``\\011``, ``\\012``, ``\\134``), every other byte as it is (UTF-8 or not)."""
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 8)]), field)


def _label(mount: Path) -> str:
    """The mount folder's name as the staff read it: undecodable bytes and control characters
    (a label may hold any) shown as placeholders, never sent to the screen as they are."""
    text = os.fsencode(mount.name).decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "\ufffd" for c in text) or "USB stick"


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path != root and path.is_relative_to(root) for root in roots)


def find_usb_stick(mounts_file: Path = MOUNTS_FILE,
                   roots: tuple[str | Path, ...] = MEDIA_ROOTS) -> UsbStick | None:
    """The first mounted stick (by mount path), or ``None``. An unreadable mounts file is no
    stick: the staff are then told to plug one in, which is the thing to try.

    Read as bytes and split on the single spaces and newlines the kernel writes: a label may
    hold any other byte (a carriage return, a form feed, Latin-1), and its folder is found as
    the bytes it is named with."""
    try:
        data = Path(mounts_file).read_bytes()
    except OSError:
        return None
    real_roots = tuple(Path(os.path.realpath(r)) for r in roots)
    sticks = []
    for line in data.split(b"\n"):
        parts = [f for f in line.split(b" ") if f]
        if (len(parts) < 4 or os.fsdecode(parts[2]) not in STICK_FILESYSTEMS
                or not parts[1].startswith(b"/")):
            continue
        try:
            mount = Path(os.path.realpath(os.fsdecode(_unescape(parts[1]))))
        except ValueError:  # a NUL: no folder has one
            continue
        if not _inside(mount, real_roots) or not mount.is_dir():
            continue
        sticks.append(UsbStick(mount, _label(mount), b"ro" in parts[3].split(b",")))
    return min(sticks, key=lambda s: os.fsencode(s.mount)) if sticks else None


def write_to_stick(stick: UsbStick, name: str, text: str) -> Path:
    """Write ``text`` as ``name`` on ``stick`` atomically and durably; :class:`ExportError` with a
    sentence for the staff when the stick is read-only, full or gone."""
    if stick.read_only:
        raise ExportError(f"The USB stick {stick.label} is write-protected: slide its lock "
                          "switch off, or use another stick")
    path = stick.mount / name
    try:
        write_atomic(path, text)
        fd = os.open(stick.mount, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself reaches the stick before anyone pulls it out
        finally:
            os.close(fd)
    except OSError as e:
        raise ExportError(describe_write_error(e, stick)) from None
    return path


def describe_write_error(error: OSError, stick: UsbStick) -> str:
    """An OS error on the stick as the note the staff read."""
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"The USB stick {stick.label} cannot be written (read-only or not the "
                "station's to write): use another stick")
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"The USB stick {stick.label} is full: free some space or use another stick"
    if error.errno in (errno.ENOENT, errno.ENODEV, errno.EIO, errno.ENXIO):
        return f"The USB stick {stick.label} went away during the export: plug it in again"
    return f"Export to {stick.label} failed: {error.strerror or error}"

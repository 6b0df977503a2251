"""Fuzzing the /proc/mounts parsing that finds the staff's USB stick (station/usb_export.py).

A stick's label becomes its mount folder (``/media/gym-station/<label>``, or udisks'
``/media/<user>/<label>``), and the kernel writes that folder into /proc/mounts with space, tab,
newline and backslash as octal escapes (``\\040``, ``\\011``, ``\\012``, ``\\134``) and every
other byte as it is, UTF-8 or not. Properties:

- a stick mounted at a folder of any name is found at exactly that folder (so the export lands
  on it), its label is printable text for the screen, and a read-only mount is read-only;
- any mounts text at all (mutated, random) gives no stick or one whose folder is a real folder
  strictly inside a media root; it never raises.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fuzzkit import any_bytes, fuzz, mutated
from hypothesis import example, given
from hypothesis import strategies as st

from station.usb_export import STICK_FILESYSTEMS, find_usb_stick

ESCAPED = b" \t\n\\"


def kernel_escape(path: bytes) -> bytes:
    """A mount folder as the kernel writes it in /proc/mounts."""
    return b"".join(b"\\%03o" % c if c in ESCAPED else bytes([c]) for c in path)


#: A folder name (one path component): any bytes but / and NUL, not . or ..
NAMES = st.one_of(
    st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
            min_size=1, max_size=20).map(lambda s: s.encode()),
    st.binary(min_size=1, max_size=20).map(lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_")),
    st.sampled_from([b"a b", b"a\\040b", b"\\", b"\\134", b"x\\", b"\\\\040", b"tab\there",
                     b"new\nline", b"Zo\xc3\xab", b"\xff\xfe", b"\xe9t\xe9", b"#", b"-", b"ro",
                     b" lead", b"trail ", b"\\012", b"\xe2\x80\xae", b"cr\rlabel", b"ff\x0c"]),
).filter(lambda n: n not in (b".", b".."))

SYSTEM = (b"/dev/mmcblk0p2 / ext4 rw,noatime 0 0\n"
          b"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
          b"tmpfs /run tmpfs rw,nosuid,nodev,size=94580k,mode=755 0 0\n")


def _stick_line(fs: str, mount: bytes, options: str) -> bytes:
    return b"/dev/sda1 %s %s %s 0 0\n" % (kernel_escape(mount), fs.encode(), options.encode())


@fuzz(100)
@given(name=NAMES, fs=st.sampled_from(STICK_FILESYSTEMS),
       options=st.sampled_from(["rw,nosuid,nodev,relatime,uid=1000", "ro,nosuid,nodev",
                                "rw,relatime,errors=remount-ro", "ro"]),
       others=st.lists(NAMES, max_size=2))
@example(name=b"a\\040b", fs="vfat", options="rw", others=[])
@example(name=b"\\\\040", fs="vfat", options="rw", others=[])
@example(name=b"\xff\xfe", fs="exfat", options="rw", others=[])
@example(name=b"new\nline", fs="vfat", options="ro", others=[b"other"])
@example(name=b"cr\rlabel", fs="vfat", options="rw", others=[])
def test_a_stick_of_any_label_is_found_where_it_is_mounted(name, fs, options, others):
    with tempfile.TemporaryDirectory() as d:
        media = os.fsencode(d) + b"/media"
        os.mkdir(media)
        os.mkdir(media + b"/" + name)
        lines = [SYSTEM, _stick_line(fs, media + b"/" + name, options)]
        for other in others:  # the same folder names as something that is not a stick
            if other != name:
                os.makedirs(media + b"/" + other, exist_ok=True)
                lines.append(_stick_line("ext4", media + b"/" + other, "rw"))
        mounts = Path(d) / "mounts"
        mounts.write_bytes(b"".join(lines))
        stick = find_usb_stick(mounts, (os.fsdecode(media),))
        assert stick is not None, mounts.read_bytes()
        assert os.fsencode(stick.mount) == media + b"/" + name
        assert os.path.samefile(stick.mount, media + b"/" + name)
        assert stick.label and stick.label.isprintable(), stick.label
        assert stick.label.encode("utf-8")  # shown on the screen: no lone surrogates
        assert stick.read_only == ("ro" in options.split(","))


def _realistic(names: list[bytes]) -> bytes:
    return SYSTEM + b"".join(_stick_line("vfat", b"/media/gym-station/" + n, "rw") for n in names)


@fuzz(100)
@given(data=st.one_of(mutated(_realistic([b"STICK", b"a b", b"\xff"])), any_bytes()),
       link=st.booleans())
@example(data=b"/dev/sda1 /media/.. vfat rw 0 0\n", link=False)
@example(data=b"/dev/sda1 /media/gym-station/../.. vfat rw 0 0\n", link=False)
@example(data=b"/dev/sda1 media/gym-station vfat rw 0 0\n", link=False)
@example(data=b"/dev/sda1 /media/gym-station/a\\000b vfat rw 0 0\n", link=False)
@example(data=b"/dev/sda1 /media/gym-station/\\777 vfat rw 0 0\n", link=False)
@example(data=b"/dev/sda1 /media/gym-station/link vfat rw 0 0\n", link=True)
@example(data=b"/dev/sda1 /media/gym-station/a\rb vfat rw 0 0\n", link=False)
def test_any_mounts_text_gives_no_stick_or_a_folder_inside_a_media_root(data, link):
    with tempfile.TemporaryDirectory() as d:
        media = Path(d) / "media"
        (media / "gym-station" / "STICK").mkdir(parents=True)
        (media / "gym-station" / "a b").mkdir()
        if link:  # a symlink out of the media root (the kernel never writes one; a file may)
            (media / "gym-station" / "link").symlink_to(d)
        text = data.replace(b"/media", os.fsencode(media))
        mounts = Path(d) / "mounts"
        mounts.write_bytes(text)
        stick = find_usb_stick(mounts, (media,))
        if stick is not None:
            real = Path(os.path.realpath(stick.mount))
            assert real.is_dir() and real != media.resolve(), stick
            assert real.is_relative_to(media.resolve()), stick
            assert stick.label.isprintable() and stick.label.encode("utf-8"), stick

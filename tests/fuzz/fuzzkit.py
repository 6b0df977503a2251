"""What every fuzz test shares: example counts, strategies that mutate valid files, and the
property a parser must keep.

Example counts: each test asks :func:`fuzz` for its CI count (small: the whole folder runs in
about 20 s). ``GYM_STATION_FUZZ=1`` multiplies every count by 100 for a long run (another number
above 1 is the multiplier itself, e.g. ``GYM_STATION_FUZZ=20``). Both run without a deadline and
are derandomized in CI only (a long run explores new inputs each time).

Mutations: :func:`mutated` takes the bytes of a valid file and applies a few edits a person, a
spreadsheet, a text editor or a broken disk makes: flipped, inserted and deleted bytes, lines
deleted, duplicated and swapped, a field replaced by a nasty token (NaN, inf, huge numbers,
quotes, separators, control characters, non-UTF-8 bytes), a byte-order mark, CRLF line ends, a
truncation, a very long line. :func:`any_bytes` are random files for comparison.
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_ENV = os.environ.get("GYM_STATION_FUZZ", "").strip()
LONG = _ENV not in ("", "0")
MULTIPLIER = (int(_ENV) if _ENV.isdigit() and int(_ENV) > 1 else 100) if LONG else 1


def fuzz(ci_examples: int) -> settings:
    """Hypothesis settings for a fuzz test: ``ci_examples`` in CI, x MULTIPLIER in a long run."""
    return settings(max_examples=ci_examples * MULTIPLIER, deadline=None, derandomize=not LONG,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture],
                    database=None if not LONG else settings.default.database)


#: Text that breaks naive parsers, inserted or put in place of a field.
NASTY = [
    "", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e308",
    "9" * 400, "9" * 5000, "-0", "0x1F", "1_000", "1,5", "١٢٣", "½", "true", "null", "[]", "{}",
    '"', '""', "'", ",", ",,", ";", "\t", "#", "# x: y", "=", "[", "]", "[[", "]]", "{", "}",
    "\\", "\\u0000", "\x00", "\x07", "\x1b[31m", "\u2028", "\u202e", "\ufeff", "\ud7ff",
    "é", "😀", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "a" * 300, "\r", "\n", "\r\n",
    "t,heel,forefoot", "cell0", "cell99", "left", "right",
]
NASTY_BYTES = [b"\xff", b"\xfe\xff", b"\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x81",
               b"\xef\xbb\xbf", b"\x00\x00", b"\r", b"\r\n", b"\n\n"]

_FIELD = re.compile(rb"[^,\s=\"'\[\]{}]+")


@st.composite
def _edit(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from([
        "flip", "insert", "delete", "del_line", "dup_line", "swap_lines", "field", "nasty_bytes",
        "bom", "crlf", "truncate", "long_line", "blank_lines", "dup_all",
    ]))
    n = len(data)
    lines = data.split(b"\n")
    if kind == "flip" and n:
        i = draw(st.integers(0, n - 1))
        return data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1:]
    if kind == "insert":
        i = draw(st.integers(0, n))
        return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
    if kind == "delete" and n:
        i = draw(st.integers(0, n - 1))
        return data[:i] + data[i + draw(st.integers(1, 16)):]
    if kind == "del_line" and len(lines) > 1:
        del lines[draw(st.integers(0, len(lines) - 1))]
        return b"\n".join(lines)
    if kind == "dup_line":
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(draw(st.integers(0, len(lines))), lines[i])
        return b"\n".join(lines)
    if kind == "swap_lines" and len(lines) > 1:
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if kind == "field":
        spans = [m.span() for m in _FIELD.finditer(data)]
        if spans:
            a, b = draw(st.sampled_from(spans))
            token = draw(st.sampled_from(NASTY) | st.text(max_size=12)).encode("utf-8", "replace")
            return data[:a] + token + data[b:]
    if kind == "nasty_bytes":
        i = draw(st.integers(0, n))
        return data[:i] + draw(st.sampled_from(NASTY_BYTES)) + data[i:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind == "truncate":
        return data[:draw(st.integers(0, n))]
    if kind == "long_line":
        i = draw(st.integers(0, len(lines)))
        lines.insert(i, draw(st.sampled_from([b"9", b"a,", b"#", b" ", b"\""])) * 200_000)
        return b"\n".join(lines)
    if kind == "blank_lines":
        i = draw(st.integers(0, len(lines)))
        lines[i:i] = [b"", b"  ", b"\t"]
        return b"\n".join(lines)
    if kind == "dup_all":
        return data + data
    return data


@st.composite
def mutated(draw, valid: bytes, max_edits: int = 4) -> bytes:
    """``valid`` with 1 to ``max_edits`` random edits (see the module docstring)."""
    data = valid
    for _ in range(draw(st.integers(1, max_edits))):
        data = draw(_edit(data))
    return data


def any_bytes(max_size: int = 400):
    """Random files: bytes, printable text and text of the right alphabet."""
    return st.one_of(
        st.binary(max_size=max_size),
        st.text(max_size=max_size).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.text(alphabet=st.sampled_from(list("t,heelforfot0123456789.-+e#: \n\r\"=[]")),
                max_size=max_size).map(str.encode),
    )


def names_file(message: str, path) -> bool:
    """Whether an error message names the file (as the person typed it)."""
    return str(path) in message

"""Logging to the journal through stdlib logging, as ``key=value`` lines on stderr.

Under systemd, stderr is a journald stream: each line becomes one journal entry, and a leading
``<N>`` (syslog priority) sets the entry's priority, so ``journalctl -p warning -u gym-station``
works. Lines look like::

    <4>level=warning logger=station.sampler msg="sampler stopped (exit code 1)" restarts=2

Fields passed as ``extra={...}`` become ``key=value`` pairs after ``msg``; values with spaces,
quotes or ``=`` are quoted, and newlines (tracebacks) are escaped as ``\\n`` so one record stays
one journal entry. On a terminal the same lines start with the local time instead of ``<N>``.
The level comes from the configuration (``station.log_level``).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import TextIO

from .config import LOG_LEVELS
from .errors import ConfigError

#: syslog priorities journald understands as a ``<N>`` line prefix (sd-daemon.h).
SYSLOG_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
                   logging.DEBUG: 7}
#: Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime",
                                                                         "taskName"}
_HANDLER_MARK = "_gym_station_handler"


def quote(value: object) -> str:
    """A value as it appears after ``key=``: bare when it is one plain word, else quoted."""
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\r\t'):
        return text
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def _key(name: str) -> str:
    """A field name as a plain ``key``: letters, digits and ``_`` only."""
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name))
    return out or "_"


def journal_stream_connected(stream: TextIO | None = None,
                             env: dict[str, str] | None = None) -> bool:
    """True when ``stream`` (stderr) is the journald stream systemd connected it to.

    systemd sets ``$JOURNAL_STREAM`` to the ``device:inode`` of that stream; comparing it with
    the stream's own file tells the journal from a terminal the process was started from.
    """
    env = os.environ if env is None else env
    stream = sys.stderr if stream is None else stream
    value = env.get("JOURNAL_STREAM", "")
    if ":" not in value:
        return False
    try:
        st = os.fstat(stream.fileno())
        dev, ino = (int(x) for x in value.split(":", 1))
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


class KeyValueFormatter(logging.Formatter):
    """``level=... logger=... msg="..." key=value ...``; ``syslog_prefix`` adds ``<N>`` for
    journald, ``timestamps`` the local time for a terminal."""

    def __init__(self, *, syslog_prefix: bool = False, timestamps: bool = False):
        super().__init__()
        self.syslog_prefix = syslog_prefix
        self.timestamps = timestamps

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        if self.timestamps:
            parts.append("time=" + time.strftime("%Y-%m-%dT%H:%M:%S",
                                                 time.localtime(record.created))
                         + f".{int(record.msecs):03d}")
        parts += [f"level={record.levelname.lower()}", f"logger={quote(record.name)}",
                  f"msg={quote(record.getMessage())}"]
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                parts.append(f"{_key(name)}={quote(value)}")
        if record.exc_info:
            parts.append(f"exc={quote(self.formatException(record.exc_info))}")
        elif record.exc_text:
            parts.append(f"exc={quote(record.exc_text)}")
        if record.stack_info:
            parts.append(f"stack={quote(record.stack_info)}")
        line = " ".join(parts)
        if self.syslog_prefix:
            line = f"<{priority(record.levelno)}>{line}"
        return line


def priority(levelno: int) -> int:
    """The syslog priority of a logging level (custom levels round towards more severe)."""
    for level in sorted(SYSLOG_PRIORITY, reverse=True):
        if levelno >= level:
            return SYSLOG_PRIORITY[level]
    return SYSLOG_PRIORITY[logging.DEBUG]


def parse_level(level: str | int) -> int:
    """``"debug" | "info" | "warning" | "error"`` (``station.log_level``) as a logging level."""
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    name = str(level).strip().lower()
    if name not in LOG_LEVELS:
        raise ConfigError(f"station.log_level = {level!r} is not a log level; it must be one of "
                          + ", ".join(repr(x) for x in LOG_LEVELS), key="station.log_level")
    return getattr(logging, name.upper())


def configure_logging(level: str | int = "info", *, stream: TextIO | None = None,
                      journal: bool | None = None) -> logging.Handler:
    """Send every logger's records at ``level`` and above to ``stream`` (stderr) as key=value
    lines, replacing whatever handlers the root logger had (e.g. an earlier ``basicConfig``), so
    calling it twice still writes each record once. ``journal`` forces the ``<N>`` prefix on or
    off; by default it is on exactly when stderr is systemd's journal stream."""
    levelno = parse_level(level)
    stream = sys.stderr if stream is None else stream
    if journal is None:
        journal = journal_stream_connected(stream)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(KeyValueFormatter(syslog_prefix=journal, timestamps=not journal))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if getattr(old, _HANDLER_MARK, False):
            old.close()
    root.addHandler(handler)
    root.setLevel(levelno)
    logging.captureWarnings(True)
    return handler

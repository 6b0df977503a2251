"""Logging as key=value lines for the journal, the level from the configuration."""

from __future__ import annotations

import io
import logging
import os
import re
import shlex
import subprocess
import sys

import pytest

from station.config import parse_config
from station.errors import ConfigError
from station.logsetup import (
    KeyValueFormatter,
    configure_logging,
    journal_stream_connected,
    parse_level,
    priority,
    quote,
)


@pytest.fixture
def restore_root():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])
    logging.captureWarnings(False)


def fields(line: str) -> dict[str, str]:
    """Parse one key=value line back (shell-style quoting is close enough to test with)."""
    line = re.sub(r"^<\d>", "", line)
    return dict(part.split("=", 1) for part in shlex.split(line.replace("\\n", "\n")))


def record(msg="hello", level=logging.INFO, name="station.test", args=(), **extra):
    rec = logging.LogRecord(name, level, __file__, 1, msg, args, None)
    for k, v in extra.items():
        setattr(rec, k, v)
    return rec


def test_line_has_level_logger_msg_and_extra_fields():
    line = KeyValueFormatter().format(record("sampler stopped (exit code %s)", logging.WARNING,
                                             "station.sampler", (1,), restarts=2, gpio=6))
    assert line == ('level=warning logger=station.sampler msg="sampler stopped (exit code 1)" '
                    "restarts=2 gpio=6")
    assert fields(line) == {"level": "warning", "logger": "station.sampler",
                            "msg": "sampler stopped (exit code 1)", "restarts": "2", "gpio": "6"}


def test_quoting_keeps_one_record_on_one_line():
    assert quote("plain") == "plain"
    assert quote("") == '""'
    assert quote('say "hi"') == '"say \\"hi\\""'
    assert quote("a=b") == '"a=b"'
    assert quote("two\nlines") == '"two\\nlines"'
    assert quote("back\\slash") == '"back\\\\slash"'
    try:
        raise ValueError("bad word\nfrom GPIO 6")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = KeyValueFormatter().format(rec)
    assert "\n" not in line
    parsed = fields(line)
    assert parsed["msg"] == "failed"
    assert parsed["exc"].startswith("Traceback") and "ValueError: bad word" in parsed["exc"]


def test_field_names_are_made_plain():
    line = KeyValueFormatter().format(record(**{"cue kind": "toe_drive"}))
    assert line.endswith("cue_kind=toe_drive")


def test_syslog_prefix_sets_journal_priority():
    fmt = KeyValueFormatter(syslog_prefix=True)
    assert fmt.format(record(level=logging.ERROR)).startswith("<3>level=error ")
    assert fmt.format(record(level=logging.WARNING)).startswith("<4>level=warning ")
    assert fmt.format(record(level=logging.INFO)).startswith("<6>level=info ")
    assert fmt.format(record(level=logging.DEBUG)).startswith("<7>level=debug ")
    assert priority(logging.CRITICAL) == 2
    assert priority(25) == 6  # a custom level between INFO and WARNING counts as info
    assert priority(5) == 7


def test_timestamps_for_a_terminal():
    line = KeyValueFormatter(timestamps=True).format(record())
    assert re.match(r"time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} level=info ", line)


def test_level_from_config_filters(restore_root):
    cfg_raw = {"station": {"log_level": "warning"},
               "plate": {"cells": [{"name": "heel", "zone": "heel", "data_pin": 6},
                                   {"name": "forefoot", "zone": "forefoot", "data_pin": 13}]}}
    cfg = parse_config(cfg_raw)
    out = io.StringIO()
    configure_logging(cfg.station.log_level, stream=out, journal=True)
    log = logging.getLogger("station.sampler")
    log.info("not shown")
    log.warning("sampler restarted", extra={"restarts": 1})
    assert out.getvalue() == ('<4>level=warning logger=station.sampler msg="sampler restarted" '
                              "restarts=1\n")


def test_configure_twice_and_after_basicconfig_writes_once(restore_root):
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    earlier = io.StringIO()
    logging.basicConfig(stream=earlier, level=logging.WARNING)  # what cli.main does first
    out = io.StringIO()
    configure_logging("debug", stream=out, journal=False)
    handler = configure_logging("debug", stream=out, journal=False)
    assert root.handlers == [handler]
    logging.getLogger("display.app").debug("frame dropped")
    assert earlier.getvalue() == ""
    assert out.getvalue().count("frame dropped") == 1
    assert "level=debug logger=display.app" in out.getvalue()


def test_bad_level_is_a_config_error():
    assert parse_level("INFO") == logging.INFO
    assert parse_level(logging.DEBUG) == logging.DEBUG
    with pytest.raises(ConfigError, match="station.log_level"):
        parse_level("verbose")


def test_journal_stream_detection(tmp_path):
    f = open(tmp_path / "stderr", "w")  # noqa: SIM115 - closed below
    try:
        st = os.fstat(f.fileno())
        assert journal_stream_connected(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not journal_stream_connected(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not journal_stream_connected(f, {})
        assert not journal_stream_connected(f, {"JOURNAL_STREAM": "garbage"})
        assert not journal_stream_connected(io.StringIO(), {"JOURNAL_STREAM": "1:2"})
    finally:
        f.close()


def test_a_process_under_journald_gets_prefixed_lines(tmp_path):
    """End to end: stderr is a file whose device:inode is in JOURNAL_STREAM, as systemd does."""
    err = tmp_path / "stderr"
    err.touch()
    st = os.stat(err)
    code = ("import logging; from station.logsetup import configure_logging; "
            "configure_logging('info'); logging.getLogger('station.kiosk').info('first frame', "
            "extra={'startup_s': 0.42}); logging.getLogger('x').debug('hidden')")
    with open(err, "w") as f:
        subprocess.run([sys.executable, "-c", code], stderr=f, check=True, timeout=60,
                       env={**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
    assert err.read_text() == ('<6>level=info logger=station.kiosk msg="first frame" '
                               "startup_s=0.42\n")

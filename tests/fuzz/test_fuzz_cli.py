"""Fuzzing `gym-station`'s command line (station/cli.py main) with random argv.

Property: every argv ends with exit code 0, 1 or 2 and never a traceback; a 2 (bad usage or
configuration) always comes with its reason on one line of stderr, last (argparse puts its usage
lines before it). The argv are drawn from the parser's own words (commands, options, choices),
values that break converters (NaN, 1e999, 7681x1, 2025-02-30), paths to good, bad, missing and
folder files, and random text.

The commands that read files and the state directory run for real on a temporary state folder
(analyze, config, usage, athlete, pin, roster). The ones that would open a window, sample chips in
real time or benchmark (run, demo, bench, check, record, calibrate, tare) have their argument
parsing fuzzed here and their bodies replaced by a recorder: their own tests run them.
"""

from __future__ import annotations

import argparse
import getpass
import string

import pytest
from fuzzkit import fuzz
from hypothesis import example, given
from hypothesis import strategies as st

from station import cli

HEAVY = ("run", "demo", "bench", "check", "record", "calibrate", "tare")


def _words(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string, sub-command and choice the parser knows."""
    words = set()
    for action in parser._actions:
        words.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words.add(name)
                words |= _words(sub)
        elif action.choices:
            words.update(str(c) for c in action.choices)
    return words


WORDS = sorted(_words(cli.build_parser()))
COMMANDS = sorted(cli.COMMANDS)
VALUES = ["0", "-1", "1", "3", "0.5", "nan", "inf", "-inf", "1e999", "86401", "800x480", "x",
          "160x160", "7681x1", "800X480x1", "2025-03-31", "2025-02-30", "20250331", "27", "28",
          "-5", "--", "-", "", " ", "=", "--config=", "-h", "--help", "--state-dir=", "a1",
          "coach", "staff", "1e-320"]
PATHS = ["{recording}", "{roster}", "{missing}", "{folder}", "{badconfig}", "{config}",
         "{bincsv}"]
TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.,:;=+@'\"éü😀\t\n",
               max_size=12)
TOKEN = st.one_of(st.sampled_from(WORDS), st.sampled_from(VALUES), st.sampled_from(PATHS), TEXT)
ARGV = st.tuples(
    st.lists(st.sampled_from(["--config", "--state-dir", "-v", "{config}", "{badconfig}",
                              "{folder}"]), max_size=2),
    st.sampled_from(COMMANDS) | TOKEN,
    st.lists(TOKEN, max_size=6),
).map(lambda t: [*t[0], t[1], *t[2]])


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A temporary state folder, working folder and the files the PATHS name; the heavy
    commands' bodies record their arguments instead of running."""
    state = tmp_path / "state"
    state.mkdir()
    files = {
        "recording": tmp_path / "rep.csv", "roster": tmp_path / "athletes.csv",
        "missing": tmp_path / "nope" / "x.csv", "folder": tmp_path,
        "badconfig": tmp_path / "bad.toml", "config": cli.load_config(None).path,
        "bincsv": tmp_path / "bin.csv",
    }
    files["recording"].write_text("# side: left\nt,heel,forefoot\n0.0125,300,200\n0.025,310,190\n")
    files["roster"].write_text("id,name,badge\na1,Ann,1\n")
    files["badconfig"].write_text("[station]\nid = 5\n")
    files["bincsv"].write_bytes(b"\xff\xfe\x00t")
    monkeypatch.setenv("GYM_STATION_STATE", str(state))
    for name in ("GYM_STATION_CONFIG", "GYM_STATION_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    ran = []
    for name in HEAVY:
        monkeypatch.setitem(cli.COMMANDS, name, lambda args, name=name: ran.append(name) or 0)
    answers = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": answers.pop(0) if answers
                        else (_ for _ in ()).throw(EOFError()))
    return {k: str(v) for k, v in files.items()}, answers


def check_main(argv: list[str], capsys) -> int:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.rstrip("\n").splitlines()
        assert lines, f"exit 2 without a reason: {argv}"
        reason, usage = lines[-1], lines[:-1]
        assert reason.startswith("gym-station"), err
        assert all(u.startswith(("usage:", " ")) or not u.strip() for u in usage), err
    return code


@fuzz(250)
@given(argv=ARGV)
@example(argv=[])
@example(argv=["-v"])
@example(argv=["pin", "set", "coach"])
@example(argv=["config", "a\nb"])
@example(argv=["analyze", "{recording}", "--exercise", "x\ny"])
@example(argv=["--config", "x" * 5000, "config"])
@example(argv=["--config", "{folder}", "analyze", "{recording}"])
@example(argv=["--state-dir", "{recording}", "roster", "list"])
@example(argv=["--state-dir", "{missing}", "roster", "import", "{bincsv}"])
@example(argv=["analyze", "{bincsv}", "--json"])
@example(argv=["analyze", "{folder}"])
@example(argv=["analyze", "x" * 5000])
@example(argv=["demo", "--size", "7681x1"])
@example(argv=["demo", "--seconds", "nan"])
@example(argv=["demo", "--seconds", "1e999"])
@example(argv=["demo", "--scenario", "x" * 5000])
@example(argv=["usage", "--since", "2025-02-30"])
@example(argv=["usage", "--since", "2025-03-31", "--until", "2025-03-01"])
@example(argv=["check", "--silent-chip", "28"])
@example(argv=["calibrate", "--mass", "nan"])
@example(argv=["athlete", "export", "a1", "--out", "{folder}"])
@example(argv=["roster", "export", "{folder}"])
@example(argv=["--config", "\n", "--state-dir", "analyze", "analyze", "0"])  # found: 2 lines
def test_any_argv_exits_0_1_or_2_without_a_traceback(argv, place, capsys):
    files, _answers = place
    argv = [a.format(**files) if a.startswith("{") else a for a in argv]
    check_main(argv, capsys)


def test_no_command_gives_a_reason(place, capsys):
    assert check_main([], capsys) == 2


@pytest.mark.parametrize("typed", [[], ["2580"], ["2580", "2581"], ["12", "12"]],
                         ids=["eof", "eof-second", "differ", "short"])
def test_pin_set_with_nothing_or_bad_typed_is_usage(place, capsys, typed):
    _files, answers = place
    answers.extend(typed)
    assert check_main(["pin", "set", "coach"], capsys) == 2


def test_a_reason_with_a_newline_stays_on_one_line(place, capsys):
    assert check_main(["config", "a\nb"], capsys) == 2
    assert check_main(["demo", "--size", "8\n00x480"], capsys) == 2


@pytest.mark.parametrize("argv", [["--config", "x" * 5000, "config"],
                                  ["--config", "{folder}", "config"],
                                  ["--config", "{bincsv}", "analyze", "{recording}"]],
                         ids=["long-config", "folder-config", "binary-config"])
def test_unusable_config_paths_exit_2(place, capsys, argv):
    files, _answers = place
    argv = [a.format(**files) if a.startswith("{") else a for a in argv]
    assert check_main(argv, capsys) == 2

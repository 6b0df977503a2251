"""Fuzzing `gym-station`'s command line (station/cli.py main) with random argv.

Property: every argv ends with exit code 0, 1 or 2 and never a traceback (on stderr, or logged
with its exception); a 2 (bad usage or configuration) always comes with its reason on one line
of stderr, last (argparse puts its usage lines before it). The argv are drawn from the parser's
own words (commands, options, choices), values that break converters (NaN, 1e999, 7681x1,
2025-02-30), paths to good, bad, missing and folder files, and random text.

Every command runs for real on a temporary state folder, its own argument checking included.
Only where a command would reach hardware, a screen or a long run is a boundary put in:

- the HX711 chips (``plates.open_words``) are simulated chips, read by the real reader, and the
  sampler runs in a thread instead of its own process;
- the kiosk's loop (run, demo), the plate self-test (check) and a capture (record) run at most
  :data:`BUDGET_S` of their own time: a longer ``--seconds`` (or none: the kiosk runs until
  closed) is cut to it, any other value goes to them unchanged, for their own checks to judge;
- the benchmark's measurements run up to the point where they would start measuring (their
  argument checks included), then give no figures: bench's own tests measure;
- nobody types at the console: ``input()`` and ``getpass()`` see the end of input.
"""

from __future__ import annotations

import argparse
import getpass
import io
import logging
import shutil
import signal
import string
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from fuzzkit import fuzz
from hypothesis import example, given
from hypothesis import strategies as st

import display.app
from station import (
    bench,
    bench_display,
    bench_driver,
    bench_hx711pkg,
    check,
    cli,
    kiosk_run,
    plates,
    record,
)
from station.config import SHIPPED_CONFIG_DIR
from station.sampler import Sampler
from station.simchips import simulated_words

#: Seconds of their own time the kiosk loop, the self-test and a capture run at most here.
BUDGET_S = 0.3


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
          "coach", "staff", "1e-320", "0.1", "0.3", "20", "{shots}"]
PATHS = ["{recording}", "{roster}", "{missing}", "{folder}", "{badconfig}", "{config}",
         "{bincsv}", "{shots}", "/proc/x"]
TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.,:;=+@'\"éü😀\t\n",
               max_size=12)
TOKEN = st.one_of(st.sampled_from(WORDS), st.sampled_from(VALUES), st.sampled_from(PATHS), TEXT)
ARGV = st.tuples(
    st.lists(st.sampled_from(["--config", "--state-dir", "-v", "{config}", "{badconfig}",
                              "{folder}"]), max_size=2),
    st.sampled_from(COMMANDS) | TOKEN,
    st.lists(TOKEN, max_size=6),
).map(lambda t: [*t[0], t[1], *t[2]])


class _Reached(Exception):
    """A measurement passed its own checks and would start measuring now."""


def _reached(*args, **kwargs):
    raise _Reached


def _budget(seconds):
    """``seconds`` cut to :data:`BUDGET_S` when longer (or None: until closed); any other value
    (0, -1, NaN) unchanged, for the command's own checks to judge."""
    return BUDGET_S if seconds is None or seconds > BUDGET_S else seconds


def _with_budget(monkeypatch, module, name):
    real = getattr(module, name)

    def run(*args, seconds=None, **kwargs):
        return real(*args, seconds=_budget(seconds), **kwargs)

    monkeypatch.setattr(module, name, run)


def _checks_only(monkeypatch, module, name, first_step: str, stand_in=_reached):
    """``module.name`` runs until ``first_step`` (its first costly step, after its argument
    checks), then returns no figures."""
    real = getattr(module, name)

    def run(*args, **kwargs):
        with monkeypatch.context() as m:
            m.setattr(module, first_step, stand_in)
            try:
                return real(*args, **kwargs)
            except _Reached:
                return {}

    monkeypatch.setattr(module, name, run)


@pytest.fixture
def boundaries(monkeypatch):
    """The boundaries of the module docstring; the process' SIGTERM handler and logging as they
    were afterwards (run and demo install theirs)."""
    monkeypatch.setattr(plates, "open_words", lambda cfg, kind=None: simulated_words(cfg)[0])
    monkeypatch.setattr(kiosk_run, "Sampler",
                        lambda factory, mode="thread", **kw: Sampler(factory, mode="thread", **kw))
    _with_budget(monkeypatch, display.app, "run_kiosk")
    _with_budget(monkeypatch, check, "run_check")
    _with_budget(monkeypatch, record, "record")
    monkeypatch.setattr(bench, "measure_analysis", lambda: {})
    _checks_only(monkeypatch, bench_driver, "measure_reader", "new_mock_factory")
    _checks_only(monkeypatch, bench_hx711pkg, "measure_hx711pkg", "new_mock_factory")
    _checks_only(monkeypatch, bench_display, "measure_display", "subprocess",
                 SimpleNamespace(run=_reached))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # input() sees the end of input
    sigterm = signal.getsignal(signal.SIGTERM)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    signal.signal(signal.SIGTERM, sigterm)
    root.handlers[:], root.level = handlers, level


def _shipped_files() -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(SHIPPED_CONFIG_DIR.rglob("*")) if p.is_file()}


@pytest.fixture
def place(tmp_path, monkeypatch, boundaries):
    """A temporary state folder, working folder and the files the PATHS name: {config} is a
    copy of the shipped configuration (commands write to the paths they are given), and the
    shipped files are checked untouched afterwards."""
    shipped = _shipped_files()
    state = tmp_path / "state"
    state.mkdir()
    shutil.copytree(SHIPPED_CONFIG_DIR, tmp_path / "config")
    files = {
        "recording": tmp_path / "rep.csv", "roster": tmp_path / "athletes.csv",
        "missing": tmp_path / "nope" / "x.csv", "folder": tmp_path,
        "badconfig": tmp_path / "bad.toml", "config": tmp_path / "config" / "station.toml",
        "bincsv": tmp_path / "bin.csv", "shots": tmp_path / "shots",
    }
    files["recording"].write_text("# side: left\nt,heel,forefoot\n0.0125,300,200\n0.025,310,190\n")
    files["roster"].write_text("id,name,badge\na1,Ann,1\n")
    files["badconfig"].write_text("[station]\nid = 5\n")
    files["bincsv"].write_bytes(b"\xff\xfe\x00t")
    # the simulated chips' calibration, so run, record and tare get past "not calibrated"
    simulated_words(cli.load_config(None))[1].save(state / "calibration.json")
    monkeypatch.setenv("GYM_STATION_STATE", str(state))
    for name in ("GYM_STATION_CONFIG", "GYM_STATION_POSTGRES_URL", "NOTIFY_SOCKET",
                 "WATCHDOG_USEC", "SDL_DISKAUDIOFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    monkeypatch.chdir(tmp_path)
    answers = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": answers.pop(0) if answers
                        else (_ for _ in ()).throw(EOFError()))
    yield {k: str(v) for k, v in files.items()}, answers
    changed = sorted(set(shipped.items()) ^ set(_shipped_files().items()))
    for path, _data in changed:  # put them back, so one failure does not become many
        Path(path).unlink(missing_ok=True)
        if path in shipped:
            Path(path).write_bytes(shipped[path])
    assert not changed, ("a fuzzed command wrote into the shipped config folder: "
                         f"{sorted({path for path, _data in changed})}")


def check_main(argv: list[str], capsys, caplog) -> int:
    return run_main(argv, capsys, caplog)[0]


def run_main(argv: list[str], capsys, caplog) -> tuple[int, str]:
    """``main(argv)`` held to the property; its exit code and its stderr."""
    caplog.clear()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out, err
    logged = [r for r in caplog.records if r.exc_info]
    assert not logged, caplog.text  # a traceback in the log is one on the console, or journal
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.rstrip("\n").splitlines()
        assert lines, f"exit 2 without a reason: {argv}"
        reason, usage = lines[-1], lines[:-1]
        assert reason.startswith("gym-station"), err
        assert all(u.startswith(("usage:", " ")) or not u.strip() for u in usage), err
    return code, err


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
@example(argv=["demo", "--headless", "--seconds", "1e999", "--screenshots", "{shots}"])
@example(argv=["demo", "--headless", "--seconds", "3", "--screenshots", "/proc/x"])
@example(argv=["demo", "--headless", "--seconds", "3", "--screenshots", "{recording}"])
@example(argv=["demo", "--headless", "--seconds", "3", "--screenshots", ""])
@example(argv=["demo", "--size", "160x160", "--seconds", "86400"])
@example(argv=["demo", "--headless", "--seconds", "1e-320"])
@example(argv=["run", "--windowed", "--size", "7680x4320"])
@example(argv=["check", "--seconds", "86400"])
@example(argv=["check", "--simulated", "--silent-chip", "6", "--seconds", "1e-320"])
@example(argv=["record", "{shots}", "--seconds", "0.5"])
@example(argv=["record", "{missing}", "--plate", "replay", "--recording", "{bincsv}"])
@example(argv=["record", "out.csv", "--plate", "simulated", "--scenario", "{recording}"])
@example(argv=["calibrate", "--mass", "20"])
@example(argv=["tare"])
@example(argv=["bench", "--no-display", "--seconds", "60"])
def test_any_argv_exits_0_1_or_2_without_a_traceback(argv, place, capsys, caplog):
    files, _answers = place
    argv = [a.format(**files) if a.startswith("{") else a for a in argv]
    check_main(argv, capsys, caplog)


HEAVY = ("run", "demo", "bench", "check", "record", "calibrate", "tare")


def _options(command: str) -> dict[str, list[str]]:
    """``command``'s options, each with the values worth giving it: its choices, else the
    fuzz's VALUES and PATHS (flags take none)."""
    sub = next(a for a in cli.build_parser()._actions
               if isinstance(a, argparse._SubParsersAction)).choices[command]
    out = {}
    for action in sub._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                out[option] = ([] if action.nargs == 0 else
                               [str(c) for c in action.choices] if action.choices else
                               VALUES + PATHS)
    return out


@st.composite
def heavy_argv(draw) -> list[str]:
    """One of the commands that reach hardware, a screen or a long run, with its own options
    and values that mostly pass argparse, so the command's own checks see them."""
    command = draw(st.sampled_from(HEAVY))
    options = _options(command)
    argv = [command]
    if command == "record":
        argv.append(draw(st.sampled_from(["out.csv", *PATHS])))
    if command == "demo" and draw(st.booleans()):
        argv += ["--headless", "--seconds", draw(st.sampled_from(VALUES))]
    chosen = st.lists(st.sampled_from(sorted(options)), max_size=3) if options else st.just([])
    for option in draw(chosen):
        argv.append(option)
        if options[option]:
            argv.append(draw(st.sampled_from(options[option]) | TEXT))
    return argv


@fuzz(40)
@given(argv=heavy_argv())
@example(argv=["bench", "--no-display", "--json", "--seconds", "0.5"])
@example(argv=["record", "{folder}", "--plate", "simulated", "--seconds", "0.2"])
@example(argv=["run", "--size", "160x160"])
@example(argv=["record", "{config}", "--plate", "simulated", "--fast", "--seconds", "0.2"])
def test_the_heavy_commands_run_their_own_checks(argv, place, capsys, caplog):
    files, _answers = place
    argv = [a.format(**files) if a.startswith("{") else a for a in argv]
    check_main(argv, capsys, caplog)


@pytest.mark.parametrize(("argv", "reason"), [
    (["check", "--seconds", "0"], "--seconds: 0 s is outside the range: more than 0 and at most 86400"),
    (["demo", "--headless", "--seconds", "1", "--screenshots", "/proc/x"],
     "--screenshots /proc/x: cannot make this folder (No such file or directory)"),
    (["demo", "--headless", "--seconds", "1", "--screenshots", "{recording}"],
     "is a file, not a folder"),
    (["demo", "--headless", "--seconds", "1", "--screenshots", ""], "needs the name of a folder"),
    (["demo", "--screenshots", ""], "--screenshots needs --headless"),
    (["calibrate", "--mass", "20"], "calibration stopped; the stored calibration is unchanged"),
    (["demo", "--headless", "--seconds", "1", "--scenario", "x" * 5000],
     "cannot read it (File name too long)"),
    (["analyze", "x" * 5000], "cannot read it (File name too long)"),
], ids=["seconds-0", "shots-proc", "shots-file", "shots-empty", "shots-windowed", "calibrate-eof",
        "scenario-name-too-long", "recording-name-too-long"])
def test_refused_arguments_exit_2_saying_why(place, capsys, caplog, argv, reason):
    files, _answers = place
    argv = [a.format(**files) if a.startswith("{") else a for a in argv]
    code, err = run_main(argv, capsys, caplog)
    assert code == 2 and reason in err.splitlines()[-1], err


def test_bench_refuses_seconds_its_measurements_cannot_take(place, capsys, caplog):
    assert check_main(["bench", "--no-display", "--seconds", "0.1"], capsys, caplog) == 2


def test_no_command_gives_a_reason(place, capsys, caplog):
    assert check_main([], capsys, caplog) == 2


@pytest.mark.parametrize("typed", [[], ["2580"], ["2580", "2581"], ["12", "12"]],
                         ids=["eof", "eof-second", "differ", "short"])
def test_pin_set_with_nothing_or_bad_typed_is_usage(place, capsys, caplog, typed):
    _files, answers = place
    answers.extend(typed)
    assert check_main(["pin", "set", "coach"], capsys, caplog) == 2


def test_a_reason_with_a_newline_stays_on_one_line(place, capsys, caplog):
    assert check_main(["config", "a\nb"], capsys, caplog) == 2
    assert check_main(["demo", "--size", "8\n00x480"], capsys, caplog) == 2


@pytest.mark.parametrize("argv", [["--config", "x" * 5000, "config"],
                                  ["--config", "{folder}", "config"],
                                  ["--config", "{bincsv}", "analyze", "{recording}"]],
                         ids=["long-config", "folder-config", "binary-config"])
def test_unusable_config_paths_exit_2(place, capsys, caplog, argv):
    files, _answers = place
    argv = [a.format(**files) if a.startswith("{") else a for a in argv]
    assert check_main(argv, capsys, caplog) == 2

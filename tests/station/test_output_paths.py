"""Files a command is asked to write: a folder, a missing folder or one that cannot be written in
is refused before any work, with exit 2 and a reason (it was a raw errno with exit 1, after a
recording's capture or a report's query was done for nothing)."""

import os
from pathlib import Path

import pytest

from station.cli import main


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    """A state directory with a usage log (a short headless demo) and a roster."""
    state = tmp_path_factory.mktemp("state")
    assert main(["--state-dir", str(state), "demo", "--headless", "--seconds", "2"]) == 0
    assert main(["--state-dir", str(state), "roster", "list"]) == 0
    return state


COMMANDS = {
    "roster export": lambda out: ["roster", "export", out],
    "usage --csv": lambda out: ["usage", "--csv", out],
    "athlete export": lambda out: ["athlete", "export", "nobody", "--out", out],
    "record": lambda out: ["record", out, "--seconds", "1", "--plate", "simulated", "--fast"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_folder_is_refused_saying_so(state, tmp_path, capsys, command):
    folder = tmp_path / "exports"
    folder.mkdir()
    code = main(["--state-dir", str(state), *COMMANDS[command](str(folder))])
    err = capsys.readouterr().err
    assert code == 2 and f"{folder} is a folder: name" in err, err
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_folder_is_refused_and_not_made(state, tmp_path, capsys, command):
    out = tmp_path / "no-such-folder" / "out.csv"
    code = main(["--state-dir", str(state), *COMMANDS[command](str(out))])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist: create it first" in err, err
    assert not out.parent.exists()


def test_a_folder_without_write_permission_is_refused(state, tmp_path, capsys, monkeypatch):
    """(The tests run as root in CI, who may write anywhere: the permission is what os.access
    answers, so it answers "no" here.)"""
    real = os.access
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr("station.paths.os.access",
                        lambda path, mode: False if Path(path) == locked else real(path, mode))
    code = main(["--state-dir", str(state), "roster", "export", str(locked / "r.csv")])
    assert code == 2 and "cannot write there (permission)" in capsys.readouterr().err
    assert not (locked / "r.csv").exists()


def test_a_good_path_is_written(state, tmp_path, capsys):
    out = tmp_path / "roster.csv"
    assert main(["--state-dir", str(state), "roster", "export", str(out)]) == 0
    assert out.read_text().startswith("id,name,badge")

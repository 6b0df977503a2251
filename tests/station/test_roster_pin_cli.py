"""`gym-station pin set` and `gym-station roster import|export|list`: exit codes 0/1/2, one
readable line on a refusal, and nothing changed by a refused command."""

import getpass
import json
import sqlite3

import pytest

from station.cli import main
from station.pins import PinStore


def typed(monkeypatch, *answers):
    answers = list(answers)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": answers.pop(0))


def test_pin_set_twice_the_same(tmp_path, monkeypatch, capsys):
    typed(monkeypatch, "2580", "2580")
    assert main(["--state-dir", str(tmp_path), "pin", "set", "coach"]) == 0
    assert "coach PIN set" in capsys.readouterr().out
    assert PinStore(tmp_path).check("coach", "2580")
    assert "2580" not in (tmp_path / "pins.json").read_text()


@pytest.mark.parametrize("first, again, why", [
    ("2580", "2581", "differ"), ("1234", "1234", "straight run"), ("25a0", "25a0", "digits"),
])
def test_pin_set_refusals_exit_2_and_change_nothing(tmp_path, monkeypatch, capsys, first, again,
                                                    why):
    typed(monkeypatch, first, again)
    assert main(["--state-dir", str(tmp_path), "pin", "set", "staff"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gym-station pin: ") and why in err and err.count("\n") == 1
    assert not PinStore(tmp_path).is_set("staff")


def test_pin_set_unknown_role_is_a_usage_error(tmp_path):
    assert main(["--state-dir", str(tmp_path), "pin", "set", "admin"]) == 2


def test_roster_import_list_export(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,name,badge\na1,Ann Lee,0012\nb2,=cmd|' /C calc'!A0,34\n")
    state = tmp_path / "state"
    assert main(["--state-dir", str(state), "roster", "import", str(src)]) == 0
    assert "imported 2 athletes" in capsys.readouterr().out
    assert main(["--state-dir", str(state), "roster", "list"]) == 0
    out = capsys.readouterr().out
    assert "Ann Lee" in out and "0012" in out
    dest = tmp_path / "out.csv"
    assert main(["--state-dir", str(state), "roster", "export", str(dest)]) == 0
    lines = dest.read_text().splitlines()
    assert lines[0] == "id,name,badge,program" and lines[2].startswith("b2,'=cmd")
    with sqlite3.connect(state / "usage.sqlite3") as db:  # the export is noted in the log
        rows = db.execute("SELECT kind, detail FROM events").fetchall()
    assert [(k, json.loads(d)) for k, d in rows] == [("export", {"what": "roster", "rows": 2})]


def test_roster_import_of_a_bad_file_exits_2_with_the_line(tmp_path, capsys):
    state = tmp_path / "state"
    good = tmp_path / "good.csv"
    good.write_text("id,name,badge\na1,Ann,1\n")
    assert main(["--state-dir", str(state), "roster", "import", str(good)]) == 0
    before = (state / "roster.json").read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,badge\nb1,Bo,1\nb2,Cy,x9\n")
    capsys.readouterr()
    assert main(["--state-dir", str(state), "roster", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "not digits" in err
    assert (state / "roster.json").read_text() == before
    assert [a["id"] for a in json.loads(before)["athletes"]] == ["a1"]


def test_roster_list_empty_and_missing_file(tmp_path, capsys):
    assert main(["--state-dir", str(tmp_path), "roster", "list"]) == 0
    assert "empty" in capsys.readouterr().out
    assert main(["--state-dir", str(tmp_path), "roster", "import", str(tmp_path / "no.csv")]) == 2


def test_pin_set_rewrites_a_damaged_pin_file_and_warns(tmp_path, monkeypatch, capsys):
    """The console is where a damaged pins.json is put right: `pin set` must not refuse it."""
    from station.cli import main
    from station.pins import PinStore, pins_file

    state = tmp_path / "state"
    state.mkdir()
    pins_file(state).write_text("[[[")
    answers = iter(["2580", "2580"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["--state-dir", str(state), "pin", "set", "coach"]) == 0
    err = capsys.readouterr().err
    assert "damaged" in err and "other role" in err
    store = PinStore(state)
    assert store.damaged is None and store.check("coach", "2580")

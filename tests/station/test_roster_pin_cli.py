"""`gym-station pin set` and `gym-station roster import|export|list`: exit codes 0/1/2, one
readable line on a refusal, and nothing changed by a refused command."""

import getpass
import json
import sqlite3

import pytest
from pinfile import in_the_clear

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
    assert not in_the_clear((tmp_path / "pins.json").read_text(), "2580")


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
    with sqlite3.connect(state / "usage.sqlite3") as db:  # import and export noted in the log
        rows = db.execute("SELECT kind, detail, at FROM events ORDER BY seq").fetchall()
    assert [(k, json.loads(d)) for k, d, _at in rows] == [
        ("import", {"what": "roster", "who": "console", "mode": "replace", "rows": 2,
                    "athletes": 2}),
        ("export", {"what": "roster", "rows": 2})]
    assert all(at for _k, _d, at in rows)


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


def test_roster_import_refuses_a_program_the_station_does_not_have(tmp_path, capsys):
    from station.profiles import load_profiles
    from station.programs import Program, ProgramBook

    state = tmp_path / "state"
    src = tmp_path / "in.csv"
    src.write_text("id,name,badge,program\na1,Ann,1,\nb2,Bo,2,heavy\n")
    assert main(["--state-dir", str(state), "roster", "import", str(src)]) == 2
    err = capsys.readouterr().err
    assert "line 3: program 'heavy' does not exist on this station" in err
    assert not (state / "roster.json").exists()
    ProgramBook.load(state).create(Program.from_profile("heavy", "Heavy",
                                                        load_profiles().get()), "coach")
    assert main(["--state-dir", str(state), "roster", "import", str(src)]) == 0


def test_roster_import_of_a_file_without_athletes_keeps_the_roster(tmp_path, capsys):
    state = tmp_path / "state"
    good, empty = tmp_path / "good.csv", tmp_path / "empty.csv"
    good.write_text("id,name,badge\na1,Ann,1\n")
    empty.write_text("id,name,badge\n")
    assert main(["--state-dir", str(state), "roster", "import", str(good)]) == 0
    capsys.readouterr()
    assert main(["--state-dir", str(state), "roster", "import", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "no athletes" in err and "--allow-empty" in err
    assert [a["id"] for a in json.loads((state / "roster.json").read_text())["athletes"]] == \
        ["a1"]
    assert main(["--state-dir", str(state), "roster", "import", "--allow-empty",
                 str(empty)]) == 0
    assert json.loads((state / "roster.json").read_text())["athletes"] == []


def test_roster_import_replaces_a_damaged_roster_and_keeps_it_aside(tmp_path, capsys):
    """The advice a damaged roster.json gives (import it again) works: the whole roster is
    imported and the damaged file kept aside; merging into it is refused."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "roster.json").write_text("{ not json")
    src = tmp_path / "in.csv"
    src.write_text("id,name,badge\na1,Ann,1\n")
    assert main(["--state-dir", str(state), "roster", "import", "--merge", str(src)]) == 2
    assert "without --merge" in capsys.readouterr().err
    assert (state / "roster.json").read_text() == "{ not json"
    assert main(["--state-dir", str(state), "roster", "import", str(src)]) == 0
    assert "kept as" in capsys.readouterr().err
    kept = list(state.glob("roster.json.damaged-*"))
    assert [p.read_text() for p in kept] == ["{ not json"]
    assert [a["id"] for a in json.loads((state / "roster.json").read_text())["athletes"]] == \
        ["a1"]

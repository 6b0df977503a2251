"""Fuzzing the roster CSV (station/roster.py) and `gym-station roster import` end to end.

Property: a roster CSV is read whole into valid entries (unique ids and badges), or refused with
:class:`RosterError` naming the file and the line; a refused import leaves the roster in memory
unchanged and the stored roster.json byte-identical (the CLI exits 2 with one line). And an
export of any valid roster imports back unchanged (formula escaping undone exactly).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzzkit import any_bytes, fuzz, mutated, names_file
from hypothesis import example, given
from hypothesis import strategies as st

from station.cli import main
from station.errors import RosterError
from station.roster import BADGE_MAX, ID_MAX, NAME_MAX, Roster, RosterEntry, parse_roster_csv

VALID = ("id,name,badge,program\n"
         "a1,Ann Lee,0012345678,\n"
         "b2,\"Berg, Bo\",87654321,heavy\n"
         "c3,Zoë Ødegaard,,\n"
         "d4,'=Eve,42,light-2\n"
         "e5,\"Quote \"\"Q\"\" Ma\",,\n").encode()
EXCEL = b"\xef\xbb\xbfid;name;badge\r\nx1;Sam;1\r\n"  # what a spreadsheet's "CSV" may be

REGRESSIONS = [
    b"", b"\n\n", b"\xef\xbb\xbf", b"id,name,badge\n\"a1,Ann,1\n", b"id,name,badge\na1,\"Ann\"x,1\n",
    b"id,name,badge\na1,Ann,1\x00\n", b"id,name,badge\na1,Ann\xff,1\n", b"id,name,badge,badge\n",
    b"id,name,badge\na1,Ann," + b"1" * 200_000 + b"\n", b"id,name,badge\na1,Ann,1.2E+11\n",
    b"id,name,badge\na1,Ann,\xd9\xa1\xd9\xa2\n", b"id,name,badge\na1,Ann,1\na1,Bo,2\n",
    b"id,name,badge\na1,Ann,1\nb2,Bo,1\n", b"ID , Name ,BADGE\r\na1,Ann,1\r\n",
    b"id,name,badge\ra1,Ann,1\rb2,Bo,2\r", b"id,name,badge\na1,\"Ann\nLee\",1\n",
]


def check_parse(data: bytes, where: str = "/tmp/in.csv"):
    try:
        rows = parse_roster_csv(data, where)
    except RosterError as e:
        assert names_file(str(e), where), str(e)
        assert e.line is not None and f"line {e.line}:" in str(e), str(e)
        return None
    for line, entry in rows:
        assert isinstance(entry, RosterEntry) and line >= 2
    return rows


@fuzz(200)
@given(data=st.one_of(mutated(VALID), mutated(EXCEL), any_bytes()))
def test_fuzzed_roster_csv_is_read_or_refused_with_its_line(data):
    check_parse(data)


@pytest.mark.parametrize("data", REGRESSIONS, ids=range(len(REGRESSIONS)))
def test_found_roster_csvs_are_read_or_refused_with_their_line(data):
    check_parse(data)


def _kept_roster(state: Path) -> Roster:
    roster = Roster(state / "roster.json")
    roster.add("k1", "Kim", "111")
    roster.add("k2", "=Kai", "222", "heavy")
    roster.save()
    return Roster.load(state)


def _snapshot(roster: Roster):
    return [(e.id, e.name, e.badge, e.program) for e in roster]


@fuzz(120)
@given(data=st.one_of(mutated(VALID), any_bytes()), merge=st.booleans())
def test_a_refused_import_changes_nothing(data, merge):
    with tempfile.TemporaryDirectory() as d:
        state = Path(d)
        roster = _kept_roster(state)
        before = _snapshot(roster)
        path = state / "in.csv"
        path.write_bytes(data)
        try:
            count = roster.import_csv(path, "merge" if merge else "replace")
        except RosterError as e:
            assert e.line is not None and names_file(str(e), path), str(e)
            assert _snapshot(roster) == before
            return
        ids = [e.id for e in roster]
        badges = [e.badge for e in roster if e.badge]
        assert len(ids) == len(set(ids)) and len(badges) == len(set(badges))
        # accepted: the file's rows (merge: over the kept athletes), nothing more or less
        rows = parse_roster_csv(data, str(path))
        expected = {e[0]: e for e in before} if merge else {}
        expected.update({e.id: (e.id, e.name, e.badge, e.program) for _line, e in rows})
        assert count == len(rows) and sorted(_snapshot(roster)) == sorted(expected.values())
        roster.save()
        assert sorted(_snapshot(Roster.load(state))) == sorted(expected.values())


@fuzz(60)
@given(data=st.one_of(mutated(VALID), any_bytes(200)), merge=st.booleans())
@example(data=b"id,name,badge\na1,Ann,1\nb2,Bo,1\n", merge=False)
@example(data=b"id,name,badge\nk3,Kit,111\n", merge=True)
@example(data=b"id,name,badge\nk3,Kit,111\n", merge=False)
def test_roster_import_command_is_all_or_nothing(data, merge, capsys):
    with tempfile.TemporaryDirectory() as d:
        state = Path(d) / "state"
        state.mkdir()
        _kept_roster(state)
        stored = (state / "roster.json").read_bytes()
        path = Path(d) / "athletes.csv"
        path.write_bytes(data)
        code = main(["--state-dir", str(state), "roster", "import", str(path),
                     *(["--merge"] if merge else [])])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert code in (0, 2), (code, err)
        if code == 2:
            assert (state / "roster.json").read_bytes() == stored
            assert len(err.strip().splitlines()) == 1 and names_file(err, path), err
        else:
            assert Roster.load(state) is not None and "imported" in out


NAMES = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn")),
                min_size=1, max_size=NAME_MAX).map(str.strip).filter(bool)
IDS = st.from_regex(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{ID_MAX - 1}}}", fullmatch=True)
BADGES = st.from_regex(rf"[0-9]{{0,{BADGE_MAX}}}", fullmatch=True)


@fuzz(120)
@given(people=st.lists(st.tuples(IDS, NAMES | st.sampled_from(["'=x", "''=x", "'+1", "'", "'-"]),
                                 BADGES, st.none() | IDS),
                       max_size=6, unique_by=(lambda p: p[0], lambda p: p[2] or object())))
@example(people=[("a", "'=x", "", None)])
@example(people=[("a", "''x", "", None), ("b", "'''=y", "", None)])
def test_any_exported_roster_imports_back_unchanged(people):
    with tempfile.TemporaryDirectory() as d:
        roster = Roster(Path(d) / "roster.json")
        for pid, name, badge, program in people:
            try:
                roster.add(pid, name, badge, program)
            except RosterError:
                return  # a name the roster itself refuses (unprintable): nothing to export
        text = roster.export_csv(Path(d) / "out.csv")
        back = Roster(Path(d) / "back.json")
        back.import_csv(Path(d) / "out.csv")
        assert _snapshot(back) == _snapshot(roster), text


@fuzz(60)
@given(data=st.one_of(mutated(b'{"version": 1, "athletes": [{"id": "a1", "name": "Ann", '
                              b'"badge": "1", "program": null}]}'), any_bytes()))
@example(data=b"[" * 100_000)
@example(data=b'{"version": 1, "athletes": [{"id": "a1", "name": "Ann", "badge": 1}]}')
@example(data=b'{"version": 1, "athletes": {"a1": 1}}')
def test_a_damaged_roster_file_is_refused_and_kept(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "roster.json"
        path.write_bytes(data)
        try:
            Roster.load(d)
        except RosterError as e:
            assert names_file(str(e), path), str(e)
        assert path.read_bytes() == data


@fuzz(60)
@given(data=st.one_of(mutated(b'{"version": 1, "athletes": [{"id": "a1", "name": "Ann", '
                              b'"badge": "1", "program": null}]}'), any_bytes()))
@example(data=b"[" * 100_000)
@example(data=b'{"version": 1, "athletes": [{"id": "a1", "name": "Ann"}, {"id": "a1", '
              b'"name": "Bo"}]}')
def test_the_kiosk_starts_on_any_roster_file_and_keeps_a_damaged_one_aside(data):
    """The kiosk's load never raises: a good file is read, a damaged one is moved aside
    byte-identical (never overwritten) and the roster starts empty, saying why."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "roster.json"
        path.write_bytes(data)
        roster = Roster.load(d, damaged_ok=True)
        if roster.damaged is None:
            assert path.read_bytes() == data
            return
        assert len(roster) == 0 and "kept as roster.json.damaged-" in roster.damaged
        kept = [p for p in Path(d).iterdir() if p.name.startswith("roster.json.damaged-")]
        assert [p.read_bytes() for p in kept] == [data] and not path.exists()

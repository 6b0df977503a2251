"""The athlete roster: edits, storage, badges, and CSV import that is refused whole (with the
line and the reason) or taken whole; export that a spreadsheet cannot run."""

import csv
import io
import os
import stat
import time

import pytest

from drivers.clock import VirtualClock
from station.errors import RosterError
from station.kiosk import Athlete
from station.roster import Roster

WALL = 1_750_000_000.0  #: a fixed wall clock: the name of a file kept aside is known
STAMP = time.strftime("%Y%m%dT%H%M%S", time.localtime(WALL))
GOOD = "id,name,badge,program\na1,Ann Lee,0012345678,\nb2,Bo Berg,87654321,heavy\nc3,Cy,,\n"


def roster_with_two(tmp_path) -> Roster:
    r = Roster.load(tmp_path)
    r.add("k1", "Kim", "111")
    r.add("k2", "Kai", "222")
    return r


def write(tmp_path, text, name="in.csv", encoding="utf-8") -> object:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_edits_save_and_load_back(tmp_path):
    r = roster_with_two(tmp_path)
    r.rename("k1", "Kim Park")
    r.set_badge("k2", "")
    r.assign_program("k1", "heavy")
    r.add("k3", "Zoë Ødegaard", "333")
    assert r.delete("k2").name == "Kai"
    r.save()
    assert stat.S_IMODE(os.stat(tmp_path / "roster.json").st_mode) == 0o600
    back = Roster.load(tmp_path)
    assert [(e.id, e.name, e.badge, e.program) for e in back] == [
        ("k1", "Kim Park", "111", "heavy"), ("k3", "Zoë Ødegaard", "333", None)]
    assert back.athletes() == [Athlete("k1", "Kim Park", "111"), Athlete("k3", "Zoë Ødegaard",
                                                                          "333")]


def test_find_by_badge(tmp_path):
    r = roster_with_two(tmp_path)
    assert r.find_badge("222").name == "Kai"
    assert r.find_badge("222\n").name == "Kai"  # the reader's Enter
    assert r.find_badge("999") is None and r.find_badge("") is None


def test_edits_refuse_clashes_and_bad_values(tmp_path):
    r = roster_with_two(tmp_path)
    with pytest.raises(RosterError, match="already Kim"):
        r.add("k1", "Other", "")
    with pytest.raises(RosterError, match="badge 111 is already Kim's"):
        r.add("k9", "Other", "111")
    with pytest.raises(RosterError, match="badge 111"):
        r.set_badge("k2", "111")
    with pytest.raises(RosterError, match="empty name"):
        r.rename("k1", "  ")
    with pytest.raises(RosterError, match="not digits"):
        r.add("k9", "Other", "12ab")
    with pytest.raises(RosterError, match="no athlete"):
        r.delete("nobody")
    assert [(e.id, e.name, e.badge) for e in r] == [("k1", "Kim", "111"), ("k2", "Kai", "222")]


def test_import_replaces_the_roster_with_a_good_file(tmp_path):
    r = roster_with_two(tmp_path)
    assert r.import_csv(write(tmp_path, GOOD)) == 3
    assert [(e.id, e.name, e.badge, e.program) for e in r] == [
        ("a1", "Ann Lee", "0012345678", None), ("b2", "Bo Berg", "87654321", "heavy"),
        ("c3", "Cy", "", None)]


def test_import_merge_updates_and_adds(tmp_path):
    r = roster_with_two(tmp_path)
    # k1 and k2 swap badges: fine once the whole file is applied
    r.import_csv(write(tmp_path, "name,id,badge\nKim P,k1,222\nKai,k2,111\nNew,n1,\n"), "merge")
    assert [(e.id, e.name, e.badge) for e in r] == [("k1", "Kim P", "222"), ("k2", "Kai", "111"),
                                                    ("n1", "New", "")]


def test_bom_and_crlf_and_blank_lines_are_fine(tmp_path):
    r = Roster.load(tmp_path)
    data = ("\r\n" + GOOD.replace("\n", "\r\n") + "\r\n").encode("utf-8-sig")
    assert r.import_csv(write(tmp_path, data)) == 3
    assert r.get("a1").name == "Ann Lee"


BAD = [
    ("id,name\na1,Ann\n", 1, "no 'badge' column"),
    ("id,nmae,badge\na1,Ann,1\n", 1, "did you mean 'name'"),
    ("", 1, "empty"),
    ("id,name,badge\na1,Ann,1\nb2,,2\n", 3, "empty name"),
    ("id,name,badge\na1,Ann,1\nb2,Bo,12-34\n", 3, "not digits"),
    ("id,name,badge\na1,Ann,1\nb2,Bo,1.23E+11\n", 3, "format the column as text"),
    ("id,name,badge\na1,Ann,1\nb2,Bo,2\na1,Al,3\n", 4, "also on line 2"),
    ("id,name,badge\na1,Ann,7\nb2,Bo,2\nc3,Cy,7\n", 4, "badge 7 is also Ann's (a1, line 2)"),
    ("id,name,badge\na1,Ann,1\nb2," + "B" * 41 + ",2\n", 3, "41 characters, at most 40"),
    ("id,name,badge\na1,Ann,1\nb2,Bo\n", 3, "2 fields, but the header has 3"),
    ("id,name,badge\na1,Ann,1\nb 2,Bo,2\n", 3, "id 'b 2' is not usable"),
    ('id,name,badge\na1,Ann,1\nb2,"Bo\nBerg",2\n', 3, "control characters"),
    ('id,name,badge\na1,Ann,1\nb2,"Bo" x,2\n', 3, "not a well-formed CSV row"),
]


@pytest.mark.parametrize("text, line, reason", BAD, ids=[b[2] for b in BAD])
def test_a_bad_file_is_refused_whole_with_line_and_reason(tmp_path, text, line, reason):
    r = roster_with_two(tmp_path)
    r.save()
    before = (tmp_path / "roster.json").read_bytes()
    with pytest.raises(RosterError, match="line") as e:
        r.import_csv(write(tmp_path, text))
    assert e.value.line == line, str(e.value)
    assert f"line {line}:" in str(e.value) and reason in str(e.value)
    # nothing half-imported: the roster in memory and on disk is as it was
    assert [(x.id, x.name, x.badge) for x in r] == [("k1", "Kim", "111"), ("k2", "Kai", "222")]
    r.save()
    assert (tmp_path / "roster.json").read_bytes() == before


def test_bad_encoding_names_the_line(tmp_path):
    r = roster_with_two(tmp_path)
    data = "id,name,badge\na1,Ann,1\nb2,José,2\n".encode("latin-1")
    with pytest.raises(RosterError, match="line 3: not UTF-8") as e:
        r.import_csv(write(tmp_path, data))
    assert e.value.line == 3 and len(r) == 2


def test_merge_refuses_a_badge_kept_on_the_roster(tmp_path):
    r = roster_with_two(tmp_path)
    with pytest.raises(RosterError, match=r"line 2: badge 111 is also Kim's \(k1, the roster"):
        r.import_csv(write(tmp_path, "id,name,badge\nn1,New,111\n"), "merge")
    assert len(r) == 2


def test_export_escapes_formulas_and_imports_back_unchanged(tmp_path):
    r = Roster.load(tmp_path)
    r.add("a1", "=HYPERLINK(\"http://x\")", "1")
    r.add("a2", "+1 Ann", "2")
    r.add("a3", "-Bo", "3")
    r.add("a4", "@Cy", "")
    r.add("a5", "'quoted' Dee", "5")
    out = tmp_path / "out.csv"
    text = r.export_csv(out)
    assert out.read_text() == text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "name", "badge", "program"]
    names = [row[1] for row in rows[1:]]
    assert names == ["'=HYPERLINK(\"http://x\")", "'+1 Ann", "'-Bo", "'@Cy", "'quoted' Dee"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    again = Roster.load(tmp_path / "elsewhere")
    again.import_csv(out)
    assert [(e.id, e.name, e.badge) for e in again] == [(e.id, e.name, e.badge) for e in r]


def test_damaged_roster_file_says_how_to_restore(tmp_path):
    (tmp_path / "roster.json").write_text('{"version": 1, "athletes": [{"id": "a1"}]}')
    with pytest.raises(RosterError, match="roster import"):
        Roster.load(tmp_path)


# -- the file changed by someone else (the console while the kiosk runs) ----------------------

def test_a_save_never_overwrites_a_roster_imported_since_it_was_read(tmp_path):
    kiosk = roster_with_two(tmp_path)
    kiosk.save()
    console = Roster.load(tmp_path)
    console.import_csv(write(tmp_path, GOOD), "merge")
    console.save()
    kiosk.add("k3", "Kit")
    with pytest.raises(RosterError, match="changed meanwhile.*nothing stored"):
        kiosk.save()
    assert [e.id for e in Roster.load(tmp_path)] == ["k1", "k2", "a1", "b2", "c3"]
    assert kiosk.refresh(force=True)                   # read again, the edit can be made on it
    kiosk.add("k3", "Kit")
    kiosk.save()
    assert [e.id for e in Roster.load(tmp_path)] == ["k1", "k2", "a1", "b2", "c3", "k3"]


def test_refresh_looks_at_the_file_at_most_once_a_second_of_its_clock(tmp_path):
    roster_with_two(tmp_path).save()
    clock = VirtualClock(10.0)
    kiosk = Roster.load(tmp_path, clock=clock)
    assert not kiosk.refresh()                         # looked: nothing new
    console = Roster.load(tmp_path)
    console.add("k3", "Kit")
    console.save()
    clock.advance(0.5)
    assert not kiosk.refresh() and "k3" not in kiosk   # not looked at again yet
    clock.advance(0.5)
    generation = kiosk.generation
    assert kiosk.refresh() and "k3" in kiosk and kiosk.generation > generation
    assert not kiosk.refresh(force=True)               # read: nothing newer


def test_a_damaged_roster_is_kept_aside_for_the_kiosk_never_overwritten(tmp_path):
    (tmp_path / "roster.json").write_text('{"version": 1, "athletes": [{"id": "a1"}]}')
    roster = Roster.load(tmp_path, damaged_ok=True, wall=lambda: WALL)
    assert len(roster) == 0
    kept = tmp_path / f"roster.json.damaged-{STAMP}"
    assert kept.read_text() == '{"version": 1, "athletes": [{"id": "a1"}]}'
    assert not (tmp_path / "roster.json").exists()
    assert roster.damaged.startswith(
        f"The roster file roster.json was damaged and is kept as {kept.name}: ")
    roster.add("b1", "Bo")
    roster.save()                                      # a fresh file; the damaged one stays
    assert kept.exists() and roster.damaged is None
    # damaged again while the kiosk runs: kept aside too, and the kiosk keeps its athletes
    (tmp_path / "roster.json").write_text("[[[")
    assert roster.refresh(force=True)
    assert [e.id for e in roster] == ["b1"]
    assert "keeps the roster it had (1 athletes)" in roster.damaged
    assert (tmp_path / f"roster.json.damaged-{STAMP}-2").read_text() == "[[["
    assert [e.id for e in Roster.load(tmp_path)] == ["b1"]


# -- CSV gaps ---------------------------------------------------------------------------------

def test_an_unknown_program_is_refused_with_its_line(tmp_path):
    r = roster_with_two(tmp_path)
    with pytest.raises(RosterError, match="line 3: program 'heavy' does not exist on this "
                                          r"station \(its programs: light\)") as e:
        r.import_csv(write(tmp_path, GOOD), programs={"light"})
    assert e.value.line == 3 and [x.id for x in r] == ["k1", "k2"]
    assert r.import_csv(write(tmp_path, GOOD), programs={"heavy"}) == 3


def test_a_file_with_no_athletes_does_not_empty_the_roster_unless_asked(tmp_path):
    r = roster_with_two(tmp_path)
    with pytest.raises(RosterError, match="line 1: the file has no athletes.*--allow-empty"):
        r.import_csv(write(tmp_path, "id,name,badge\n\n"))
    assert len(r) == 2
    assert r.import_csv(write(tmp_path, "id,name,badge\n"), "merge") == 0 and len(r) == 2
    assert r.import_csv(write(tmp_path, "id,name,badge\n"), allow_empty=True) == 0
    assert len(r) == 0


def test_a_semicolon_separated_file_from_a_spreadsheet_is_read(tmp_path):
    r = Roster.load(tmp_path)
    data = "id;name;badge;program\r\na1;Berg, Bo;0012;\r\nb2;\"Lee; Ann\";34;\r\n"
    assert r.import_csv(write(tmp_path, data.encode("utf-8-sig"))) == 2
    assert [(e.id, e.name, e.badge) for e in r] == [("a1", "Berg, Bo", "0012"),
                                                    ("b2", "Lee; Ann", "34")]

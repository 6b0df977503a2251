"""Coach programs: every setting bounded and on its step, changes stored and recorded (role,
when, old -> new), and a program turned into the kiosk's Targets."""

import json

import pytest

from station.admin import apply_programs
from station.errors import ProgramError
from station.kiosk import Kiosk
from station.profiles import load_profiles
from station.programs import SETTINGS, Program, ProgramBook, to_targets
from station.roster import Roster
from station.usage_log import iso

WALL = 1_750_000_000.0  # a fixed wall clock: the records' dates are deterministic


@pytest.fixture(scope="module")
def book_profiles():
    return load_profiles()


@pytest.fixture
def book(tmp_path, book_profiles):
    events = []
    b = ProgramBook.load(tmp_path, profiles=book_profiles, wall=lambda: WALL,
                         on_change=lambda kind, d: events.append((kind, d)))
    b.events = events
    return b


def heavy(profiles) -> Program:
    base = Program.from_profile("heavy", "Heavy week", profiles.get())
    return Program(**{**vars(base), "reps": 5, "hold_target_s": 2.0, "share_threshold": 0.7})


def test_settings_clamp_and_step_within_bounds():
    reps, hold, share = SETTINGS["reps"], SETTINGS["hold_target_s"], SETTINGS["share_threshold"]
    assert reps.clamp(0) == 1 and reps.clamp(99) == 30 and reps.clamp(7.4) == 7
    assert reps.step_up(30) == 30 and reps.step_down(1) == 1 and reps.step_up(8) == 9
    assert hold.clamp(1.26) == 1.5 and hold.clamp(-3) == 0.0 and hold.clamp(11) == 10.0
    assert share.step_up(0.6) == 0.65 and share.step_down(0.6) == 0.55  # no 0.6499999
    value = 0.30
    for _ in range(40):  # walking up never leaves the bounds or the grid
        value = share.step_up(value)
        assert share.check(value) == value
    assert value == 0.9
    sides = SETTINGS["sides"]
    assert sides.step_down(sides.choices[0]) == sides.choices[0]
    assert sides.step_up(("left", "right")) == ("right", "left")
    assert sides.step_up(sides.choices[-1]) == sides.choices[-1]


@pytest.mark.parametrize("key, value, why", [
    ("reps", 0, "too small"), ("reps", 31, "too large"), ("reps", 2.5, "whole number"),
    ("reps", True, "not a number"), ("sets", "3", "not a number"),
    ("hold_target_s", 1.2, "between steps"), ("hold_target_s", float("nan"), "not a number"),
    ("share_threshold", 0.95, "too large"), ("share_threshold", 0.62, "between steps"),
    ("min_lower_s", -0.5, "too small"), ("sides", ("left", "left"), "not offered"),
])
def test_out_of_range_or_off_step_values_are_refused(key, value, why):
    with pytest.raises(ProgramError, match=why) as e:
        SETTINGS[key].check(value, key)
    assert e.value.key == key and "it must be" in str(e.value)


def test_a_program_cannot_hold_a_bad_value(book_profiles):
    base = vars(Program.from_profile("p", "P", book_profiles.get()))
    with pytest.raises(ProgramError, match="reps"):
        Program(**{**base, "reps": 40})
    with pytest.raises(ProgramError, match="empty name"):
        Program(**{**base, "name": " "})
    with pytest.raises(ProgramError, match="not usable"):
        Program(**{**base, "id": "Bad Id"})


def test_from_profile_takes_the_exercises_targets(book_profiles):
    profile = book_profiles.get()
    p = Program.from_profile("std", "Standard", profile)
    assert (p.exercise, p.reps, p.sets, p.sides, p.hold_target_s, p.share_threshold,
            p.min_lower_s) == (profile.id, profile.reps, profile.sets, profile.sides,
                               profile.hold_target_s, profile.share_threshold,
                               profile.min_lower_s)


def test_changes_are_stored_and_recorded(book, book_profiles, tmp_path):
    program = heavy(book_profiles)
    created = book.create(program, "coach")
    assert created.role == "coach" and created.action == "create"
    assert created.at == iso(WALL)
    assert created.changes["reps"] == (None, 5)
    changed = book.update("heavy", "coach", reps=6, hold_target_s=2.0, name="Heavy wk")
    assert changed.changes == {"reps": (5, 6), "name": ("Heavy week", "Heavy wk")}
    assert book.update("heavy", "coach", reps=6) is None  # nothing changed, nothing recorded
    station = book.set_station_program("heavy", "staff")
    assert station.changes == {"station_program": (None, "heavy")}
    # each record went to the usage log's event callback, JSON-ready
    kinds = [k for k, _ in book.events]
    assert kinds == ["coach_change"] * 3
    detail = book.events[1][1]
    assert detail["role"] == "coach" and detail["changes"]["reps"] == [5, 6]
    json.dumps(book.events)
    # and the book on disk says the same
    again = ProgramBook.load(tmp_path, profiles=book_profiles)
    assert again.get("heavy").reps == 6 and again.get("heavy").name == "Heavy wk"
    assert again.station_program == "heavy"


def test_refused_changes_change_nothing(book, book_profiles, tmp_path):
    book.create(heavy(book_profiles), "coach")
    before = (tmp_path / "programs.json").read_text()
    with pytest.raises(ProgramError, match="between steps"):
        book.update("heavy", "coach", min_lower_s=1.3)
    with pytest.raises(ProgramError, match="no exercise"):
        book.update("heavy", "coach", exercise="bench_press")
    with pytest.raises(ProgramError, match="cannot change id"):
        book.update("heavy", "coach", id="other")
    with pytest.raises(ProgramError, match="exists already"):
        book.create(heavy(book_profiles), "coach")
    with pytest.raises(ProgramError, match="role"):
        book.update("heavy", "athlete", reps=3)
    assert book.get("heavy").min_lower_s == heavy(book_profiles).min_lower_s
    assert (tmp_path / "programs.json").read_text() == before
    assert len(book.events) == 1


def test_a_failed_save_undoes_the_change(book, book_profiles, tmp_path, monkeypatch):
    book.create(heavy(book_profiles), "coach")

    def full_disk():
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(book, "_save", full_disk)
    with pytest.raises(OSError):
        book.update("heavy", "coach", reps=9)
    assert book.get("heavy").reps == 5 and len(book.events) == 1


def test_delete_falls_back_to_no_station_program(book, book_profiles):
    book.create(heavy(book_profiles), "coach")
    book.set_station_program("heavy", "coach")
    change = book.delete("heavy", "coach")
    assert change.changes["station_program"] == ("heavy", None)
    assert book.station_program is None and "heavy" not in book


def test_assignment_to_an_athlete(book, book_profiles, tmp_path):
    roster = Roster.load(tmp_path)
    roster.add("a1", "Ann", "1")
    book.create(heavy(book_profiles), "coach")
    light = Program.from_profile("light", "Light", book_profiles.get())
    book.create(light, "coach")
    book.set_station_program("light", "coach")
    change = book.assign(roster, "a1", "heavy", "coach")
    assert change.athlete == "a1" and change.changes == {"program": (None, "heavy")}
    assert Roster.load(tmp_path).get("a1").program == "heavy"  # saved
    assert book.program_for(roster.get("a1").program).id == "heavy"
    assert book.program_for(None).id == "light"
    assert book.program_for("deleted-one").id == "light"
    with pytest.raises(ProgramError, match="no program"):
        book.assign(roster, "a1", "nope", "coach")


def test_to_targets_reaches_the_kiosk_at_the_next_set(book, book_profiles, tmp_path):
    program = heavy(book_profiles)
    targets = to_targets(program)
    assert (targets.reps, targets.sets, targets.hold_target_s, targets.share_threshold,
            targets.min_lower_s) == (5, program.sets, 2.0, 0.7, program.min_lower_s)
    book.create(program, "coach")
    book.set_station_program(program.id, "coach")
    kiosk = Kiosk(book_profiles)
    apply_programs(kiosk, Roster.load(tmp_path), book)   # as the coach's screens hand it over
    applied = book_profiles.get(program.exercise).with_targets(
        kiosk.targets_for(book_profiles.get(program.exercise)))
    assert (applied.reps, applied.hold_target_s, applied.share_threshold) == (5, 2.0, 0.7)
    assert kiosk.analyzer.profile.hold_target_s == 2.0   # the next set is judged on it


def test_new_ids_are_free(book, book_profiles):
    assert book.new_id("Heavy week!") == "heavy-week"
    book.create(heavy(book_profiles), "coach")
    p = Program(**{**vars(heavy(book_profiles)), "id": book.new_id("Heavy")})
    assert p.id == "heavy-2"


def test_damaged_programs_file_is_refused(tmp_path):
    (tmp_path / "programs.json").write_text(json.dumps(
        {"version": 1, "station_program": None, "programs": [
            {"id": "x", "name": "X", "exercise": "single_leg_hip_thrust", "reps": 99, "sets": 3,
             "sides": ["left"], "hold_target_s": 1.0, "share_threshold": 0.6,
             "min_lower_s": 1.5}]}))
    with pytest.raises(ProgramError, match="damaged.*reps"):
        ProgramBook.load(tmp_path)


STALE = {"version": 1, "station_program": "gone", "programs": [
    {"id": "gone", "name": "Gone", "exercise": "nordic_curl", "reps": 5, "sets": 3,
     "sides": ["left", "right"], "hold_target_s": 1.0, "share_threshold": 0.6,
     "min_lower_s": 1.5},
    {"id": "std", "name": "Standard", "exercise": "single_leg_hip_thrust", "reps": 6, "sets": 3,
     "sides": ["left", "right"], "hold_target_s": 1.0, "share_threshold": 0.6,
     "min_lower_s": 1.5}]}


def test_a_program_whose_exercise_is_gone_is_kept_but_not_used(tmp_path, book_profiles):
    """exercises.toml lost an exercise: its program stays in the file (a coach can fix or
    delete it) but never applies, and the book says why."""
    (tmp_path / "programs.json").write_text(json.dumps(STALE))
    book = ProgramBook.load(tmp_path, profiles=book_profiles)
    assert "gone" not in book and [p.id for p in book] == ["std"]
    assert book.unusable("gone") == "exercise 'nordic_curl' is not in exercises.toml"
    assert book.program_for(None) is None and book.program_for("gone") is None
    assert [(p.id, why is None) for p, why in book.stored()] == [("gone", False), ("std", True)]
    with pytest.raises(ProgramError, match="Gone cannot be used: exercise .nordic_curl. is not in"):
        book.set_station_program("gone", "coach")
    book.update("std", "coach", reps=7)                # stored again: the kept one with it
    assert [p["id"] for p in json.loads((tmp_path / "programs.json").read_text())["programs"]] \
        == ["gone", "std"]
    book.update("gone", "coach", exercise="single_leg_hip_thrust")  # given an exercise: used
    assert "gone" in book and book.program_for(None).id == "gone"


def test_deleting_a_program_unassigns_its_athletes_and_never_gives_its_id_again(book,
                                                                                  book_profiles,
                                                                                  tmp_path):
    roster = Roster.load(tmp_path)
    roster.add("a1", "Ann")
    roster.add("b2", "Bo")
    roster.save()
    book.create(heavy(book_profiles), "coach")
    book.assign(roster, "a1", "heavy", "coach")
    book.events.clear()
    change = book.delete("heavy", "coach", roster=roster)
    assert change.changes["athletes"] == (["a1"], [])
    assert [e.program for e in Roster.load(tmp_path)] == [None, None]
    assert [(k, d["action"], d["athlete_id"], d["changes"]) for k, d in book.events] == [
        ("coach_change", "delete", None, {"name": ["Heavy week", None],
                                          "athletes": [["a1"], []]}),
        ("coach_change", "assign", "a1", {"program": ["heavy", None]})]
    again = ProgramBook.load(tmp_path, profiles=book_profiles)
    assert again.new_id("Heavy") == "heavy-2"          # the deleted id stays retired
    assert again.new_id("Light", avoid={"light"}) == "light-2"
    with pytest.raises(ProgramError, match="belonged to a deleted program"):
        again.create(heavy(book_profiles), "coach")


def test_a_change_is_made_on_the_book_as_stored_now(tmp_path, book_profiles):
    """Two books on one file (two processes): each change reads the other's first, so
    neither writes the other's program away."""
    one = ProgramBook.load(tmp_path, profiles=book_profiles)
    two = ProgramBook.load(tmp_path, profiles=book_profiles)
    two.create(heavy(book_profiles), "coach")
    one.create(Program.from_profile("light", "Light", book_profiles.get()), "coach")
    assert [p.id for p in ProgramBook.load(tmp_path)] == ["heavy", "light"]
    assert two.refresh(force=True) and [p.id for p in two] == ["heavy", "light"]


def test_a_damaged_programs_file_is_kept_aside_for_the_kiosk(tmp_path, book_profiles):
    (tmp_path / "programs.json").write_text("{ not json")
    book = ProgramBook.load(tmp_path, profiles=book_profiles, damaged_ok=True, wall=lambda: WALL)
    assert len(book) == 0 and "kept as programs.json.damaged-" in book.damaged
    kept = list(tmp_path.glob("programs.json.damaged-*"))
    assert [p.read_text() for p in kept] == ["{ not json"]
    assert not (tmp_path / "programs.json").exists()

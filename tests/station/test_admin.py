"""The coach's screens driven start to finish by UICommands and plate samples (no pygame): PINs
and their lockout, the program editor's bounds, programs reaching the kiosk at the next set and
the usage log, the idle lock, and a coach kept out of the staff's screens."""

import json
import sqlite3

import pytest
from pinfile import in_the_clear

from drivers.sample import Sample
from drivers.simplate import simulated_plate
from station.admin import DAMAGED_PINS, IDLE_LOCK_S, Admin
from station.kiosk import Kiosk
from station.pins import LOCKOUT_S, MAX_TRIES, pins_file
from station.profiles import load_profiles
from station.programs import SETTINGS, Program, ProgramBook
from station.usage_log import UsageLog
from station.usage_recorder import SessionRecorder
from station.view import UICommand

PROFILES = load_profiles()
HIP = PROFILES.get("single_leg_hip_thrust")
COACH_PIN, STAFF_PIN = "2580", "7391"
#: Real seconds a test waits for the usage log's writer to commit: only a hang runs into it (a
#: loaded CI disk's fsyncs can take seconds; close() alone would give up after 5 and lose them).
LOG_PATIENCE_S = 60.0


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    """PINs hashed at a lower scrypt cost: the same code path, a fraction of the time (each
    stored entry keeps its own parameters)."""
    monkeypatch.setattr("station.pins.SCRYPT_N", 2**10)


def station(tmp_path, *, log=False, pins=True, desk=None):
    k = Kiosk(PROFILES, rate_hz=80.0)
    if log:
        k.log = SessionRecorder(UsageLog(tmp_path / "usage.sqlite3", station_id="s1",
                                         commit_interval_s=0.01).start())
    admin = Admin.for_station(k, tmp_path, desk=desk)
    if pins:
        admin.pins.set_pin("coach", COACH_PIN)
        admin.pins.set_pin("staff", STAFF_PIN)
    return k, admin


def do(k, *commands):
    """Send commands: "kind" or ("kind", value)."""
    for c in commands:
        kind, value = (c, None) if isinstance(c, str) else c
        k.handle(UICommand(kind, value))
    return k.view()


def type_pin(k, pin):
    return do(k, *[("pin_digit", d) for d in pin], "pin_ok")


def type_text(k, text):
    return do(k, *[("kb_key", ch) for ch in text])


def coach_in(k, role="coach", pin=COACH_PIN):
    do(k, ("admin", role))
    return type_pin(k, pin)


def empty_plate(k, seconds, rate=80.0, cells=()):
    """Plate time passes with nobody on the plate (4 samples a frame; ``cells``: raw counts)."""
    t0 = k.now
    n = int(seconds * rate)
    for i in range(0, n, 4):
        k.feed([Sample(t0 + (i + j + 1) / rate, 0.0, 0.0, cells) for j in range(4)])


def play(k, until, on_frame=None, scenario="demo"):
    """The simulated demo athlete on the plate until plate time ``until`` or until
    ``on_frame(k)`` says stop; a later call goes on where the last one stopped."""
    plate = getattr(k, "_test_plate", None)
    if plate is None:
        plate, _truth = simulated_plate(scenario, seed=1, rate_hz=80.0)
        k._test_plate = plate
    frame = []
    while True:
        s = plate.read()
        frame.append(s)
        if len(frame) == 4:
            k.feed(frame)
            k.take_cues()
            frame = []
            if on_frame is not None and on_frame(k):
                return
        if s.t > until:
            return


def value_of(view, key):
    return next(r for r in view.admin.program.rows if r.key == key)


def test_every_setting_stays_within_its_bounds(tmp_path):
    k, _ = station(tmp_path)
    coach_in(k)
    do(k, ("open", "new_program"))
    for key, setting in SETTINGS.items():
        v = do(k, *[("setting_down", key)] * 40)
        row = value_of(v, key)
        assert not row.can_down and row.can_up
        low = k.admin._draft.values[key]
        v = do(k, *[("setting_up", key)] * 40)
        row = value_of(v, key)
        assert row.can_down and not row.can_up
        high = k.admin._draft.values[key]
        if setting.choices is None:
            assert (low, high) == (setting.min, setting.max)
        else:  # a single-leg exercise offers the single-leg choices only
            assert (low, high) == (("left", "right"), ("right",))
    assert value_of(v, "share_threshold").value == "90%"
    # the stored values are the ones shown: saving the bounds is accepted
    v = do(k, "save")
    assert v.admin.note.startswith("Saved")
    stored = ProgramBook.load(tmp_path).get(v.admin.program.program_id)
    assert (stored.reps, stored.sets, stored.hold_target_s) == (30, 10, 10.0)


def test_five_wrong_pins_lock_the_role_for_a_minute_of_plate_time(tmp_path):
    k, admin = station(tmp_path, log=True)
    do(k, "admin")
    for n in range(1, MAX_TRIES):
        v = type_pin(k, "1357")
        assert v.admin.pin.error == f"Wrong PIN: {MAX_TRIES - n} {'try' if n == 4 else 'tries'} left"
        assert v.admin.pin.typed == 0
    v = type_pin(k, "1357")
    assert v.admin.pin.error == f"Wrong PIN: locked for {LOCKOUT_S:.0f} s"
    assert v.admin.pin.locked_s == pytest.approx(LOCKOUT_S)
    v = type_pin(k, COACH_PIN)                         # the right PIN does not open it now
    assert v.screen == "pin" and v.admin.pin.typed == 0 and "Locked" in v.admin.pin.error
    empty_plate(k, 30.0)
    assert do(k).admin.pin.locked_s == pytest.approx(LOCKOUT_S - 30.0, abs=0.1)
    empty_plate(k, 31.0)
    v = do(k)
    assert v.admin.pin.locked_s == 0.0
    v = type_pin(k, COACH_PIN)
    assert v.screen == "coach"
    # the staff role was never locked by the coach's tries
    assert admin.pins.locked_for("staff") == 0.0
    assert k.log.log.flush(LOG_PATIENCE_S)
    k.log.log.close()
    conn = sqlite3.connect(tmp_path / "usage.sqlite3")
    failures = [json.loads(d) for (d,) in conn.execute(
        "SELECT detail FROM events WHERE kind = 'pin_failure' ORDER BY seq")]
    conn.close()
    assert len(failures) == MAX_TRIES
    assert failures[-1]["role"] == "coach" and failures[-1]["locked_for_s"] == LOCKOUT_S
    assert all("1357" not in json.dumps(f) for f in failures)


def test_first_start_chooses_both_pins_each_twice(tmp_path):
    """The very first start: whoever installs the station chooses the coach's PIN and then the
    staff's on the pad (each typed twice); then the role tapped opens."""
    k, admin = station(tmp_path, pins=False)
    v = do(k, "admin")
    assert (v.admin.pin.role, v.admin.pin.stage) == ("coach", "choose")
    v = type_pin(k, "1234")
    assert v.admin.pin.stage == "choose" and "straight run" in v.admin.pin.error
    v = type_pin(k, "2580")
    assert (v.admin.pin.stage, v.admin.pin.error, v.admin.pin.typed) == ("confirm", None, 0)
    v = type_pin(k, "2581")
    assert v.admin.pin.stage == "choose" and v.admin.pin.error.startswith("The PINs differ")
    type_pin(k, "2580")
    v = type_pin(k, "2580")
    assert v.screen == "pin" and (v.admin.pin.role, v.admin.pin.stage) == ("staff", "choose")
    assert v.admin.note == "The coach PIN is set. Now choose the staff PIN"
    assert admin.pins.is_set("coach") and not admin.pins.is_set("staff")
    type_pin(k, "2580")
    v = type_pin(k, "2580")                            # the coach's PIN cannot be the staff's
    assert v.admin.pin.stage == "choose" and "differ from the coach PIN" in v.admin.pin.error
    type_pin(k, "7391")
    v = type_pin(k, "7391")
    assert v.screen == "coach" and v.admin.note == "The staff PIN is set"
    assert admin.pins.is_set("staff")
    text = (tmp_path / "pins.json").read_text()
    assert not in_the_clear(text, "2580") and not in_the_clear(text, "7391")
    do(k, "lock")
    v = do(k, "admin")
    assert v.admin.pin.stage == "enter"
    v = do(k, ("pin_digit", "4"), ("pin_digit", "1"), "pin_back")
    assert v.admin.pin.typed == 1
    v = do(k, "back")
    assert v.screen == "idle" and v.admin is None
    assert do(k, ("pin_digit", "5")).screen == "idle"  # nothing typed outside the pad


def test_with_only_the_coach_pin_set_nobody_else_can_claim_the_staff_screens(tmp_path):
    """The coach's PIN was set at the console, the staff's not: an athlete tapping Staff gets no
    "choose a PIN"; only the coach's PIN lets the staff's be chosen, and wrong tries lock it."""
    k, admin = station(tmp_path, pins=False)
    admin.pins.set_pin("coach", COACH_PIN)
    do(k, "admin")
    v = do(k, ("pin_role", "staff"))
    assert (v.admin.pin.role, v.admin.pin.stage) == ("staff", "authorize")
    assert v.admin.note == "No staff PIN yet: the coach PIN lets you choose one"
    for _ in range(MAX_TRIES):
        v = type_pin(k, "2468")
    assert v.admin.pin.stage == "authorize" and v.admin.pin.locked_s == pytest.approx(LOCKOUT_S)
    assert not admin.pins.is_set("staff")
    v = type_pin(k, COACH_PIN)                         # locked: not even the right PIN
    assert v.admin.pin.stage == "authorize" and not admin.pins.is_set("staff")
    empty_plate(k, LOCKOUT_S + 1.0)
    v = type_pin(k, COACH_PIN)
    assert (v.admin.pin.role, v.admin.pin.stage) == ("staff", "choose")
    assert v.admin.note == "Now choose the staff PIN"
    type_pin(k, STAFF_PIN)
    v = type_pin(k, STAFF_PIN)
    assert v.admin.role == "staff" and admin.pins.is_set("staff")
    assert admin.pins.check("staff", STAFF_PIN)


def test_roster_add_rename_badge_and_delete_on_the_keyboard(tmp_path):
    from station.roster import Roster

    k, admin = station(tmp_path)
    coach_in(k)
    v = do(k, ("open", "athletes"))
    assert [i.id for i in v.admin.items] == ["new_athlete"]
    v = do(k, "new_athlete")
    assert v.screen == "keyboard" and v.admin.keyboard.max_len == 40
    v = do(k, "kb_ok")
    assert v.screen == "keyboard" and v.admin.keyboard.error == "Type a name"
    v = type_text(k, "Ada")
    assert v.admin.keyboard.text == "Ada" and v.admin.keyboard.error is None
    v = do(k, "kb_ok")
    assert v.screen == "athlete"
    aid, name, badge, program = v.admin.athlete
    assert (name, badge) == ("Ada", "") and "station" in program
    assert [a.name for a in Roster.load(tmp_path)] == ["Ada"]
    assert [(a.id, a.name) for a in k.roster] == [(aid, "Ada")]

    v = do(k, "rename")
    assert v.admin.keyboard.text == "Ada"
    v = type_text(k, " Lovelace" + "x" * 40)
    assert len(v.admin.keyboard.text) == 40 and v.admin.keyboard.error == "At most 40 characters"
    v = do(k, *["kb_back"] * 28, "kb_ok")
    assert v.screen == "athlete" and v.admin.athlete[1] == "Ada Lovelace"

    v = do(k, "set_badge")
    assert v.admin.keyboard.digits
    v = type_text(k, "12a")
    assert v.admin.keyboard.text == "12" and v.admin.keyboard.error == "Digits only"
    v = type_text(k, "345")
    v = do(k, "kb_ok")
    assert v.screen == "athlete" and v.admin.athlete[2] == "12345"
    v = do(k, ("badge", "0099887"))                    # a badge scanned on this screen
    assert v.admin.athlete[2] == "0099887" and Roster.load(tmp_path).get(aid).badge == "0099887"

    # a second athlete cannot take Ada's badge: the keyboard keeps the reason
    do(k, "back", "new_athlete")
    type_text(k, "Ben")
    v = do(k, "kb_ok", "set_badge")
    type_text(k, "0099887")
    v = do(k, "kb_ok")
    assert v.screen == "keyboard" and "already Ada Lovelace's" in v.admin.keyboard.error
    v = do(k, "kb_cancel")
    assert v.screen == "athlete" and v.admin.athlete[1:3] == ("Ben", "")
    v = do(k, "delete")
    assert v.screen == "athletes" and [i.label for i in v.admin.items] == ["Ada Lovelace",
                                                                            "Add athlete"]
    assert [a.name for a in Roster.load(tmp_path)] == ["Ada Lovelace"]

    do(k, "lock")
    v = do(k, ("badge", "0099887"))                   # the athlete's side knows the new badge
    assert v.athlete == "Ada Lovelace"


def test_assigned_programs_reach_their_athlete(tmp_path):
    k, admin = station(tmp_path)
    admin.book.create(Program.from_profile("easy", "Easy", HIP), "coach")
    admin.book.create(Program(**{**vars(Program.from_profile("long", "Long holds", HIP)),
                                 "hold_target_s": 2.5}), "coach")
    admin.roster.add("a1", "Ada", "555")
    admin.roster.save()
    admin.apply()
    coach_in(k)
    v = do(k, ("open", "athlete:a1"), "assign")
    assert v.admin.athlete[3] == "Easy"
    v = do(k, "assign")
    assert v.admin.athlete[3] == "Long holds"
    v = do(k, ("assign", ""))
    assert v.admin.athlete[3].startswith("station's")
    v = do(k, ("assign", "long"), "lock", ("badge", "555"))
    assert v.athlete == "Ada" and v.targets.hold_s == 2.5
    do(k, "guest")
    assert k.view().targets.hold_s == HIP.hold_target_s


def test_a_coach_cannot_reach_the_staff_screens(tmp_path):
    k, admin = station(tmp_path)
    coach_in(k)
    v = do(k, ("open", "staff"))
    assert v.screen == "coach" and "for the staff" in v.admin.note
    v = do(k, "tare")
    assert v.screen == "coach" and "for the staff" in v.admin.note
    v = do(k, ("open", "calibrate"), "exit_kiosk")
    assert v.screen == "coach" and not v.exit_requested


def test_two_minutes_without_a_touch_lock_the_coach_screens(tmp_path):
    k, _ = station(tmp_path)
    coach_in(k)
    do(k, ("open", "athletes"))
    empty_plate(k, IDLE_LOCK_S - 20.0)
    do(k, "back")                                      # a touch restarts the two minutes
    empty_plate(k, IDLE_LOCK_S - 20.0)
    assert k.view().screen == "coach"
    empty_plate(k, 25.0)
    v = k.view()
    assert v.screen == "idle" and v.admin is None
    v = do(k, ("open", "coach"))                       # locked: nothing opens without the PIN
    assert v.screen == "idle"


def test_a_save_that_cannot_be_stored_leaves_the_old_program_in_force(tmp_path):
    k, admin = station(tmp_path)
    admin.book.create(Program.from_profile("easy", "Easy", HIP), "coach")
    admin.book.set_station_program("easy", "coach")
    admin.apply()
    coach_in(k)
    do(k, ("open", "program:easy"), *[("setting_up", "reps")] * 2)
    (tmp_path / "programs.json").unlink()
    (tmp_path / "programs.json").mkdir()               # the file cannot be replaced now
    v = do(k, "save")
    assert v.admin.note.startswith("Not saved") and v.admin.program.changed
    assert admin.book.get("easy").reps == HIP.reps
    (tmp_path / "programs.json").rmdir()
    v = do(k, "lock")
    assert v.targets.reps == HIP.reps


def test_deleting_a_program_falls_back_to_the_exercises_targets(tmp_path):
    k, admin = station(tmp_path)
    admin.book.create(Program(**{**vars(Program.from_profile("easy", "Easy", HIP)), "reps": 4}),
                      "coach")
    admin.book.set_station_program("easy", "coach")
    admin.apply()
    assert k.view().targets.reps == 4
    coach_in(k)
    v = do(k, ("open", "program:easy"), "delete")
    assert v.screen == "coach" and v.admin.note == "Deleted Easy"
    assert [i.id for i in v.admin.items] == ["exercise_targets", "new_program"]
    assert v.admin.items[0].selected
    assert do(k, "lock").targets.reps == HIP.reps


def test_a_damaged_pin_file_keeps_the_kiosk_running_and_the_screens_shut(tmp_path):
    """A damaged pins.json must neither stop the athletes' kiosk nor let whoever walks up
    choose a new PIN: the pad refuses and says what the staff must do."""
    state = tmp_path / "state"
    state.mkdir()
    pins_file(state).write_text("{ not json")
    kiosk = Kiosk(load_profiles())
    admin = Admin.for_station(kiosk, state)
    assert admin.pins.damaged
    kiosk.handle(UICommand("admin"))
    view = kiosk.view()
    assert view.screen == "pin" and view.admin.pin.stage == "enter"
    assert view.admin.pin.error == DAMAGED_PINS
    for d in "2580":
        kiosk.handle(UICommand("pin_digit", d))
    kiosk.handle(UICommand("pin_ok"))
    assert kiosk.view().screen == "pin" and kiosk.view().admin.pin.error == DAMAGED_PINS
    assert pins_file(state).read_text() == "{ not json"  # untouched until the staff set it


class _WallOfSamples:
    """The samples' clock, moved by hand: frames go on while the plate sends nothing."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def frames_without_samples(k, seconds, fps=30.0):
    """The display loop's frames with the plate down: no sample, a fault each tick."""
    from station.sampler import SamplerStatus

    down = SamplerStatus(running=True, heartbeat_age_s=0.01, samples=0, dropped=0, restarts=0,
                         fault="HX711 on GPIO 13 sent no word for 0.5 s: check its DOUT wire")
    for _ in range(int(seconds * fps)):
        k.clock.t += 1.0 / fps
        k.feed([])
        k.tick(down)


def test_the_lockout_expires_and_the_screens_lock_while_the_plate_is_down(tmp_path):
    """A pulled wire stops the samples, not the time: the PIN lockout still ends after a minute
    and an untouched staff screen still locks after two (staff need them most then)."""
    k, admin = station(tmp_path)
    k.clock = _WallOfSamples()
    do(k, ("admin", "staff"))
    for _ in range(MAX_TRIES):
        type_pin(k, "1357")
    assert admin.pins.locked_for("staff") == pytest.approx(LOCKOUT_S)
    frames_without_samples(k, LOCKOUT_S + 1.0)
    assert admin.pins.locked_for("staff") == 0.0
    v = type_pin(k, STAFF_PIN)
    assert v.screen == "staff" or v.admin.role == "staff"
    frames_without_samples(k, IDLE_LOCK_S - 10.0)
    assert k.view().admin is not None                  # not yet
    frames_without_samples(k, 15.0)
    v = k.view()
    assert v.admin is None and v.screen == "fault"     # locked; the plate's fault shows


# -- the stores: stale or damaged files, changes made at the console, deletions, the record --

def _write_json(path, doc):
    path.write_text(json.dumps(doc))


STALE_PROGRAMS = {"version": 1, "station_program": "gone", "programs": [
    {"id": "gone", "name": "Gone", "exercise": "nordic_curl", "reps": 5, "sets": 3,
     "sides": ["left", "right"], "hold_target_s": 1.0, "share_threshold": 0.6,
     "min_lower_s": 1.5},
    {"id": "std", "name": "Standard", "exercise": "single_leg_hip_thrust", "reps": 6, "sets": 3,
     "sides": ["left", "right"], "hold_target_s": 1.0, "share_threshold": 0.6,
     "min_lower_s": 1.5}]}


def test_a_program_whose_exercise_is_gone_does_not_stop_the_kiosk(tmp_path, caplog):
    """exercises.toml lost an exercise a stored program uses: the kiosk starts, that program
    is not applied (its athletes get the station's, logged once), the coach's list says why,
    and the coach can give it an exercise again."""
    _write_json(tmp_path / "programs.json", STALE_PROGRAMS)
    _write_json(tmp_path / "roster.json", {"version": 1, "athletes": [
        {"id": "a1", "name": "Ada", "badge": "111", "program": "gone"},
        {"id": "b2", "name": "Ben", "badge": "222", "program": "std"}]})
    caplog.set_level("WARNING")
    k, admin = station(tmp_path)                       # no exception: the kiosk starts
    admin.apply()
    assert do(k).targets.reps == HIP.reps             # the station's program is not used
    assert do(k, ("badge", "111")).targets.reps == HIP.reps
    assert do(k, "home", ("badge", "222")).targets.reps == 6
    told = [r.getMessage() for r in caplog.records if "athlete a1" in r.getMessage()]
    assert len(told) == 1 and "exercise 'nordic_curl' is not in exercises.toml" in told[0]
    do(k, "home")
    coach_in(k)
    v = k.view()
    gone = next(i for i in v.admin.items if i.id == "gone")
    assert gone.detail == "Not used: exercise 'nordic_curl' is not in exercises.toml"
    assert not gone.selected and next(i for i in v.admin.items
                                      if i.id == "exercise_targets").selected
    v = do(k, ("open", "program:gone"))
    assert v.screen == "program" and v.admin.note.startswith("Not used now: exercise")
    v = do(k, "save")
    assert v.admin.note.startswith("Not saved") and "no exercise" in v.admin.note
    v = do(k, ("setting_up", "exercise"), "save")
    assert v.admin.note.startswith("Saved") and "gone" in admin.book
    assert json.loads((tmp_path / "programs.json").read_text())["station_program"] == "gone"


def test_a_damaged_roster_is_kept_aside_and_the_coach_is_told(tmp_path):
    (tmp_path / "roster.json").write_text('{"version": 1, "athletes": [')
    k, admin = station(tmp_path)                       # no exception: the kiosk starts
    assert k.roster == []
    kept = list(tmp_path.glob("roster.json.damaged-*"))
    assert [p.read_text() for p in kept] == ['{"version": 1, "athletes": [']
    coach_in(k)
    v = do(k, ("open", "athletes"))
    assert f"kept as {kept[0].name}" in v.admin.note and "gym-station roster import" in \
        v.admin.note
    v = do(k, "new_athlete")
    type_text(k, "Ada")
    do(k, "kb_ok")
    assert kept[0].exists() and [a["name"] for a in json.loads(
        (tmp_path / "roster.json").read_text())["athletes"]] == ["Ada"]


def test_pins_and_roster_changed_at_the_console_reach_the_running_kiosk(tmp_path, capsys):
    from station.cli import main
    from station.pins import PinStore

    k, admin = station(tmp_path)
    PinStore(tmp_path).set_pin("coach", "9146")       # `gym-station pin set coach`
    do(k, "admin")
    assert type_pin(k, COACH_PIN).screen == "pin"      # the old PIN no longer opens
    assert type_pin(k, "9146").screen == "coach"
    do(k, "lock")

    roster_csv = tmp_path / "in.csv"
    roster_csv.write_text("id,name,badge\nb1,Ben,111\nb2,Cat,222\n")
    assert main(["--state-dir", str(tmp_path), "roster", "import", str(roster_csv)]) == 0
    empty_plate(k, 1.0)
    k.tick(None)                                       # the frame's look at the files
    assert do(k, ("badge", "111")).athlete == "Ben"
    do(k, "home")

    # imported again, and an edit on the screen before the kiosk looked: the edit is made on
    # the file as it is now, nothing imported is lost
    roster_csv.write_text("id,name,badge\nc3,Dee,333\n")
    assert main(["--state-dir", str(tmp_path), "roster", "import", "--merge",
                 str(roster_csv)]) == 0
    coach_in(k, pin="9146")
    do(k, ("open", "athletes"), "new_athlete")
    type_text(k, "Eve")
    v = do(k, "kb_ok")
    assert v.screen == "athlete"
    names = [a["name"] for a in json.loads((tmp_path / "roster.json").read_text())["athletes"]]
    assert names == ["Ben", "Cat", "Dee", "Eve"]
    assert [a.name for a in k.roster] == names

    # the athlete on the coach's screen taken off at the console: the screen leaves them
    roster_csv.write_text("id,name,badge\nb1,Ben,111\n")
    assert main(["--state-dir", str(tmp_path), "roster", "import", str(roster_csv)]) == 0
    v = do(k, "rename")
    type_text(k, "x")
    v = do(k, "kb_ok")
    assert v.screen == "athletes" and "no longer on the roster" in v.admin.note
    assert [i.label for i in v.admin.items] == ["Ben", "Add athlete"]


def test_deleting_a_program_puts_its_athletes_back_on_the_stations(tmp_path):
    """A deleted program's athletes are unassigned, and the next new program (same default
    name) gets another id: nobody lands on it by chance."""
    k, admin = station(tmp_path)
    admin.roster.add("a1", "Ada", "111")
    admin.roster.save()
    admin.apply()
    coach_in(k)
    do(k, ("open", "new_program"), ("setting_up", "hold_target_s"), "save")
    first = admin._draft.program_id
    do(k, "back", ("open", "athlete:a1"), ("assign", first), "back", "back")
    v = do(k, ("open", f"program:{first}"), "delete")
    assert v.admin.note == "Deleted New program: the athlete on it follows the station's program"
    assert admin.roster.get("a1").program is None
    assert json.loads((tmp_path / "roster.json").read_text())["athletes"][0]["program"] is None
    do(k, ("open", "new_program"), *[("setting_down", "reps")] * 5, "save")
    assert admin._draft.program_id != first
    v = do(k, "back", ("open", "athletes"))
    assert v.admin.items[0].detail.endswith("station's (exercise targets)")
    assert do(k, "lock", ("badge", "111")).targets.reps == HIP.reps


def test_roster_edits_on_the_touchscreen_are_logged_like_program_changes(tmp_path):
    k, admin = station(tmp_path, log=True)
    coach_in(k)
    do(k, ("open", "athletes"), "new_athlete")
    type_text(k, "Ada")
    v = do(k, "kb_ok")
    athlete_id = v.admin.athlete[0]
    do(k, "rename", *["kb_back"] * 3)
    type_text(k, "Ada Lee")
    do(k, "kb_ok", "set_badge")
    type_text(k, "12345")
    do(k, "kb_ok", ("badge", "12345"), "delete")       # the same badge again: nothing to log
    assert k.log.log.flush(LOG_PATIENCE_S)
    k.log.log.close()
    conn = sqlite3.connect(tmp_path / "usage.sqlite3")
    rows = [json.loads(d) for (d,) in conn.execute(
        "SELECT detail FROM events WHERE kind = 'coach_change' ORDER BY seq")]
    conn.close()
    assert [(d["action"], d["athlete_id"], d["changes"]) for d in rows] == [
        ("athlete_add", athlete_id, {"name": [None, "Ada"]}),
        ("athlete_rename", athlete_id, {"name": ["Ada", "Ada Lee"]}),
        ("athlete_badge", athlete_id, {"badge": [None, "set"]}),
        ("athlete_delete", athlete_id, {"name": ["Ada Lee", None]})]
    assert all(d["role"] == "coach" and d["at"] for d in rows)
    # (the athlete's id is random hex: a PIN or badge can turn up in it by chance)
    logged = json.dumps(rows).replace(athlete_id, "<id>")
    assert not any(secret in logged for secret in ("12345", COACH_PIN))

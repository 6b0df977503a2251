"""Fuzzing the state files the station reads back: calibration.json (drivers/calibration.py),
pins.json (station/pins.py), programs.json (station/programs.py), audio.json (the staff's
volume, station/staff.py).

Property: a state file is loaded into something usable (a calibration converts counts and tells
its age, a PIN store checks a PIN, a program book gives targets, the volume is one from 0 to 1),
or refused with the project's error naming the file (the volume: the configured one, with a
warning naming the file). A refused file is never overwritten: it stays byte-identical for a
person to look at or restore. And a damaged state file never stops the kiosk from starting.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from pathlib import Path

import pytest
from fuzzkit import any_bytes, fuzz, mutated, names_file
from hypothesis import example, given
from hypothesis import strategies as st

from drivers.calibration import Calibration
from drivers.errors import CalibrationError
from station.cli import main
from station.errors import PinError, ProgramError, RosterError
from station.pins import PinStore
from station.profiles import load_profiles
from station.programs import ProgramBook, to_targets
from station.roster import Roster
from station.staff import load_audio, save_audio
from station.view import AudioView

CALIBRATION = json.dumps({
    "format": 1, "offsets": [8123.5, -2210.0], "scales": [-41.25, 39.8],
    "calibrated_at": "2025-03-01T10:00:00+00:00", "tared_at": "2025-03-02T08:00:00+00:00",
    "masses_kg": [20.0, 20.0]}, indent=2).encode()

_SALT = bytes(range(16))
PINS = json.dumps({"version": 1, "pins": {"coach": {
    "kdf": "scrypt", "n": 1024, "r": 8, "p": 1, "salt": _SALT.hex(),
    "hash": hashlib.scrypt(b"1357", salt=_SALT, n=1024, r=8, p=1, dklen=32).hex()}}},
    indent=2).encode()

PROGRAMS = json.dumps({"version": 1, "station_program": "heavy", "programs": [
    {"id": "heavy", "name": "Heavy week", "exercise": "single_leg_hip_thrust", "reps": 6,
     "sets": 4, "sides": ["left", "right"], "hold_target_s": 2.0, "share_threshold": 0.65,
     "min_lower_s": 2.5},
    {"id": "light-2", "name": "Light", "exercise": "single_leg_hip_thrust", "reps": 12,
     "sets": 2, "sides": ["right"], "hold_target_s": 1.0, "share_threshold": 0.6,
     "min_lower_s": 1.5}]}, indent=2).encode()

JSON_NASTY = [b"[" * 100_000, b"{\"a\":" * 50_000, b"1" * 5000, b"1e999", b"NaN", b"-Infinity",
              b"\"\\ud800\"", b"\xef\xbb\xbf{}", b"\xff{}", b"null", b"[]", b"\"x\""]


def _replace_number(doc: bytes, old: bytes, new: bytes) -> bytes:
    return doc.replace(old, new, 1)


# -- calibration.json -----------------------------------------------------------------------

def check_calibration(data: bytes):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "calibration.json"
        path.write_bytes(data)
        try:
            cal = Calibration.load(path)
        except CalibrationError as e:
            assert names_file(str(e), path), str(e)
            assert path.read_bytes() == data
            return None
        newtons = cal.newtons([0] * cal.cells)
        assert all(math.isfinite(n) for n in newtons)
        age = cal.age_days()
        assert age is None or math.isfinite(age)
        assert all(math.isfinite(m) for m in cal.masses_kg)
        return cal


@fuzz(150)
@given(data=st.one_of(mutated(CALIBRATION), any_bytes(), st.sampled_from(JSON_NASTY)))
@example(data=_replace_number(CALIBRATION, b"8123.5", b"1e999"))
@example(data=_replace_number(CALIBRATION, b"8123.5", b"9" * 400))
@example(data=_replace_number(CALIBRATION, b"8123.5", b"9" * 5000))
@example(data=_replace_number(CALIBRATION, b"-41.25", b"1e308").replace(b"8123.5", b"-1e308"))
@example(data=_replace_number(CALIBRATION, b"20.0", b"NaN"))
@example(data=_replace_number(CALIBRATION, b'"2025-03-01T10:00:00+00:00"', b"12"))
@example(data=_replace_number(CALIBRATION, b'"2025-03-01T10:00:00+00:00"', b'"yesterday"'))
@example(data=_replace_number(CALIBRATION, b'"2025-03-01T10:00:00+00:00"', b'"2025-03-01"'))
@example(data=_replace_number(CALIBRATION, b"[8123.5, -2210.0]", b'"12"'))
@example(data=_replace_number(CALIBRATION, b"[20.0, 20.0]", b"{}"))
@example(data=b"\xff")
@example(data=b"[" * 100_000)
@example(data=CALIBRATION.replace(b"8123.5,", b""))
def test_a_fuzzed_calibration_is_usable_or_refused(data):
    check_calibration(data)


# -- pins.json ------------------------------------------------------------------------------

def check_pins(data: bytes):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "pins.json"
        path.write_bytes(data)
        try:
            store = PinStore(d, clock=lambda: 0.0)
        except PinError as e:
            assert names_file(str(e), path), str(e)
            assert path.read_bytes() == data
            return None
        for role in ("coach", "staff"):
            # no file the fuzz makes holds a hash of 2468: whatever it holds, 2468 stays shut
            assert store.check(role, "2468") is False
        assert path.read_bytes() == data  # reading and checking never rewrite the file
        return store


@fuzz(120)
@given(data=st.one_of(mutated(PINS), any_bytes(), st.sampled_from(JSON_NASTY)))
@example(data=_replace_number(PINS, b'"n": 1024', b'"n": 1e999'))
@example(data=_replace_number(PINS, b'"n": 1024', b'"n": Infinity'))
@example(data=_replace_number(PINS, b'"n": 1024', b'"n": 1152921504606846976'))
@example(data=_replace_number(PINS, b'"r": 8', b'"r": 64').replace(b'"n": 1024', b'"n": 1048576'))
@example(data=_replace_number(PINS, b'"p": 1', b'"p": 16').replace(b'"n": 1024', b'"n": 65536'))
@example(data=_replace_number(PINS, b'"n": 1024', b'"n": "1024"'))
@example(data=_replace_number(PINS, b'"n": 1024', b'"n": 1024.5'))
@example(data=_replace_number(PINS, b'"coach"', b'"admin"'))
@example(data=b"[" * 100_000)
def test_a_fuzzed_pin_file_is_usable_or_refused(data):
    check_pins(data)


def test_the_valid_pin_file_opens_coach_mode(tmp_path):
    assert check_pins(PINS) is not None
    (tmp_path / "pins.json").write_bytes(PINS)  # a store follows its file: keep one to check
    assert PinStore(tmp_path, clock=lambda: 0.0).check("coach", "1357")


# -- programs.json --------------------------------------------------------------------------

PROFILES = load_profiles()


def check_programs(data: bytes):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "programs.json"
        path.write_bytes(data)
        try:
            book = ProgramBook.load(d, profiles=PROFILES)
        except ProgramError as e:
            assert names_file(str(e), path), str(e)
            assert path.read_bytes() == data
            return None
        for program in book:
            targets = to_targets(program)
            PROFILES.get(program.exercise).with_targets(targets)
            assert all(math.isfinite(v) for v in (program.hold_target_s, program.min_lower_s,
                                                  program.share_threshold))
        book.program_for(None)
        return book


@fuzz(150)
@given(data=st.one_of(mutated(PROGRAMS), any_bytes(), st.sampled_from(JSON_NASTY)))
@example(data=_replace_number(PROGRAMS, b'"reps": 6', b'"reps": 1e999'))
@example(data=_replace_number(PROGRAMS, b'"reps": 6', b'"reps": ' + b"9" * 400))
@example(data=_replace_number(PROGRAMS, b'"reps": 6', b'"reps": 6.0'))
@example(data=_replace_number(PROGRAMS, b'"hold_target_s": 2.0', b'"hold_target_s": NaN'))
@example(data=_replace_number(PROGRAMS, b'"station_program": "heavy"', b'"station_program": []'))
@example(data=_replace_number(PROGRAMS, b'"exercise": "single_leg_hip_thrust"', b'"exercise": 1'))
@example(data=_replace_number(PROGRAMS, b'"sides": [', b'"sides": [[], '))
@example(data=_replace_number(PROGRAMS, b'"programs": [', b'"programs": [1, '))
@example(data=b"[" * 100_000)
def test_a_fuzzed_program_file_is_usable_or_refused(data):
    check_programs(data)


def test_the_valid_program_file_loads():
    book = check_programs(PROGRAMS)
    assert book is not None and book.program_for(None).id == "heavy"


@fuzz(60)
@given(data=st.one_of(mutated(PROGRAMS), any_bytes(), st.sampled_from(JSON_NASTY)))
@example(data=_replace_number(PROGRAMS, b'"exercise": "single_leg_hip_thrust"',
                              b'"exercise": "nordic_curl"'))
@example(data=_replace_number(PROGRAMS, b'"programs": [', b'"retired": {"a": 1}, "programs": ['))
def test_the_kiosk_starts_on_any_program_file_and_keeps_a_damaged_one_aside(data):
    """The kiosk's load never raises: what it reads gives targets; a damaged file is moved
    aside byte-identical (never overwritten) and the book starts empty, saying why."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "programs.json"
        path.write_bytes(data)
        book = ProgramBook.load(d, profiles=PROFILES, damaged_ok=True)
        for program in book:
            PROFILES.get(program.exercise).with_targets(to_targets(program))
        if book.damaged is None:
            assert path.read_bytes() == data
            return
        assert len(book.stored()) == 0 and "kept as programs.json.damaged-" in book.damaged
        kept = [p for p in Path(d).iterdir() if p.name.startswith("programs.json.damaged-")]
        assert [p.read_bytes() for p in kept] == [data] and not path.exists()


# -- audio.json -----------------------------------------------------------------------------

AUDIO = b'{"volume": 0.3, "muted": true}\n'
CONFIGURED = AudioView(0.8, False)


def check_audio(data: bytes, caplog):
    """The stored volume, or the configured one with a warning naming the file; either way the
    kiosk gets a volume it can play at, the file is left as it was, and a volume kept is
    stored again exactly."""
    caplog.clear()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "audio.json"
        path.write_bytes(data)
        with caplog.at_level("WARNING", logger="station.staff"):
            audio = load_audio(Path(d), CONFIGURED)
        warned = [r.getMessage() for r in caplog.records if r.name == "station.staff"]
        assert 0.0 <= audio.volume <= 1.0 and isinstance(audio.muted, bool), audio
        assert path.read_bytes() == data
        if warned:
            assert audio == CONFIGURED and len(warned) == 1 and names_file(warned[0], path), warned
            return None
        stored = json.loads(data.decode("utf-8-sig"))
        assert (audio.volume, audio.muted) == (round(stored["volume"], 2), stored["muted"])
        save_audio(Path(d), audio)
        assert load_audio(Path(d), CONFIGURED) == audio
        return audio


@fuzz(100)
@given(data=st.one_of(mutated(AUDIO), any_bytes(), st.sampled_from(JSON_NASTY)))
@example(data=b"[" * 100_000)
@example(data=b'{"volume": ' + b"9" * 400 + b', "muted": false}')
@example(data=b'{"volume": ' + b"9" * 5000 + b', "muted": false}')
@example(data=b'{"volume": NaN, "muted": false}')
@example(data=b'{"volume": true, "muted": false}')
@example(data=b'{"volume": 0.5, "muted": 0}')
@example(data=b'["volume", 0.5]')
@example(data=b"\xff")
def test_a_fuzzed_volume_file_is_used_or_ignored_with_a_warning(data, caplog):
    check_audio(data, caplog)


def test_the_valid_volume_file_is_used(caplog):
    assert check_audio(AUDIO, caplog) == AudioView(0.3, True)


# -- the kiosk starts whatever the state files hold ------------------------------------------

DAMAGE = {"nested": b"[" * 100_000, "binary": b"\xff\xfe{",
          "wrong-type": b'{"version": 1, "volume": "loud", "athletes": 3, "programs": 3}'}
#: The stores a person edits on the touchscreen: a damaged one is kept aside under a dated name
#: (byte-identical) and the kiosk starts with what it can use; the others are left where they are.
SET_ASIDE = ("roster.json", "programs.json")


@pytest.mark.parametrize(("name", "damage"), [
    *(("audio.json", d) for d in sorted(DAMAGE)),
    ("calibration.json", "nested"), ("pins.json", "nested"),
    *((name, d) for name in SET_ASIDE for d in sorted(DAMAGE))])
def test_a_damaged_state_file_never_stops_the_kiosk(tmp_path, capsys, name, damage):
    state = tmp_path / "state"
    state.mkdir()
    (state / name).write_bytes(DAMAGE[damage])
    code = main(["--state-dir", str(state), "demo", "--headless", "--seconds", "0.1"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and code == 0, err
    if name in SET_ASIDE:
        kept = sorted(state.glob(f"{name}.damaged-*"))
        assert [k.read_bytes() for k in kept] == [DAMAGE[damage]], kept
    else:
        assert (state / name).read_bytes() == DAMAGE[damage]


# -- a byte-order mark --------------------------------------------------------------------------

@pytest.mark.parametrize("name, doc, load, error", [
    ("pins.json", PINS, lambda d: PinStore(d, clock=lambda: 0.0), PinError),
    ("programs.json", PROGRAMS, lambda d: ProgramBook.load(d, profiles=PROFILES), ProgramError),
    ("roster.json", b'{"version": 1, "athletes": []}', Roster.load, RosterError)])
def test_a_state_file_with_a_byte_order_mark_is_damaged(tmp_path, name, doc, load, error):
    # only the station writes these files (never with a BOM): one in front is damage, said so,
    # though config and calibration files a person may have edited allow it
    (tmp_path / name).write_bytes(doc)
    load(tmp_path)
    (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + doc)
    with pytest.raises(error, match=r"cannot be read \(line 1: Unexpected UTF-8 BOM"):
        load(tmp_path)

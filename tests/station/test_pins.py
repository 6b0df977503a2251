"""Coach and staff PINs: salted scrypt hashes in a private file, validation that says what to
change, and the five-tries lockout on an injected monotonic clock."""

import json
import os
import stat

import pytest
from pinfile import in_the_clear

from drivers.clock import VirtualClock
from station.errors import PinError
from station.pins import LOCKOUT_S, MAX_TRIES, PinStore, validate_pin


@pytest.fixture
def cheap_scrypt(monkeypatch):
    """PINs hashed at a lower scrypt cost: the same code path in a fraction of the time."""
    monkeypatch.setattr("station.pins.SCRYPT_N", 2**10)


def test_pin_is_stored_salted_never_in_the_clear(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    PinStore(a).set_pin("coach", "2580")
    PinStore(b).set_pin("coach", "2580")
    text_a, text_b = (d.joinpath("pins.json").read_text() for d in (a, b))
    assert not in_the_clear(text_a, "2580") and not in_the_clear(text_b, "2580")
    entry_a, entry_b = (json.loads(t)["pins"]["coach"] for t in (text_a, text_b))
    assert entry_a["salt"] != entry_b["salt"] and entry_a["hash"] != entry_b["hash"]
    assert entry_a["kdf"] == "scrypt" and entry_a["n"] >= 2**14
    mode = stat.S_IMODE(os.stat(a / "pins.json").st_mode)
    assert mode == 0o600
    assert [p.name for p in a.iterdir()] == ["pins.json"]  # no temporary file left behind


def test_check_reads_the_stored_hash_back(tmp_path):
    PinStore(tmp_path).set_pin("staff", "731905")
    store = PinStore(tmp_path)  # a fresh start reads the file
    assert store.is_set("staff") and not store.is_set("coach")
    assert store.check("staff", "731905")
    assert not store.check("staff", "731906")
    assert not store.check("coach", "731905")  # a role without a PIN opens for nothing
    assert "731905" not in repr(store)


@pytest.mark.parametrize("pin, words", [
    ("", "empty"), ("12a4", "digits only"), ("12 45", "digits only"), ("٣٤٥٦", "digits only"),
    ("482", "3 digits"), ("482915730", "9 digits"), ("7777", "repeated"),
    ("1234", "straight run"), ("98765", "straight run"), ("7890", "straight run"),
])
def test_weak_or_malformed_pins_are_refused_saying_why(tmp_path, pin, words):
    with pytest.raises(PinError, match=words):
        validate_pin(pin)
    store = PinStore(tmp_path)
    with pytest.raises(PinError):
        store.set_pin("coach", pin)
    assert not store.is_set("coach") and not (tmp_path / "pins.json").exists()


def test_good_pins_pass_validation():
    for pin in ("2580", "1243", "13579", "90210", "48151623"):
        assert validate_pin(pin) == pin


def test_unknown_role_is_refused(tmp_path):
    with pytest.raises(PinError, match="coach or staff"):
        PinStore(tmp_path).set_pin("admin", "2580")


def test_staff_pin_must_differ_from_coach_pin(tmp_path):
    store = PinStore(tmp_path)
    store.set_pin("coach", "2580")
    with pytest.raises(PinError, match="differ"):
        store.set_pin("staff", "2580")
    store.set_pin("staff", "0852")
    store.set_pin("coach", "4711")  # replacing one's own PIN is fine
    assert store.check("coach", "4711") and not store.check("coach", "2580")


def test_five_wrong_tries_lock_the_role_for_a_minute_then_it_opens(tmp_path):
    clock = VirtualClock(100.0)
    events = []
    store = PinStore(tmp_path, clock=clock, on_failure=lambda kind, d: events.append((kind, d)))
    store.set_pin("coach", "2580")
    store.set_pin("staff", "0852")
    for _ in range(MAX_TRIES - 1):
        assert not store.check("coach", "1111")
    assert store.locked_for("coach") == 0.0
    clock.advance(30.0)
    assert not store.check("coach", "1111")  # the fifth
    assert store.locked_for("coach") == pytest.approx(LOCKOUT_S)
    assert not store.check("coach", "2580")  # the right PIN does not open a locked role
    assert store.check("staff", "0852")  # the other role is not locked
    clock.advance(LOCKOUT_S - 1.0)
    assert store.locked_for("coach") == pytest.approx(1.0)
    assert not store.check("coach", "2580")
    clock.advance(1.0)
    assert store.locked_for("coach") == 0.0
    assert store.check("coach", "2580")
    # every wrong try was reported, with the role and never the digits typed
    assert len(events) == MAX_TRIES + 2
    assert all(kind == "pin_failure" and d["role"] == "coach" for kind, d in events)
    assert [d["tries"] for _, d in events[:MAX_TRIES]] == list(range(1, MAX_TRIES + 1))
    assert events[MAX_TRIES - 1][1]["locked_for_s"] == LOCKOUT_S
    assert not any(v in json.dumps(events) for v in ("1111", "2580"))


def test_a_right_pin_resets_the_count(tmp_path):
    clock = VirtualClock()
    store = PinStore(tmp_path, clock=clock)
    store.set_pin("staff", "0852")
    for _ in range(3):
        for _ in range(MAX_TRIES - 1):
            assert not store.check("staff", "9999")
        assert store.check("staff", "0852")
    assert store.locked_for("staff") == 0.0


def test_after_expiry_a_role_gets_five_new_tries(tmp_path):
    clock = VirtualClock()
    store = PinStore(tmp_path, clock=clock)
    store.set_pin("coach", "2580")
    for _ in range(MAX_TRIES):
        store.check("coach", "0000")
    clock.advance(LOCKOUT_S)
    assert store.locked_for("coach") == 0.0
    store.check("coach", "0000")
    assert store.locked_for("coach") == 0.0  # one wrong try after expiry does not relock


def test_a_damaged_pin_file_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "pins.json").write_text('{"version": 1, "pins": {"coach": {"kdf": "md5"}}}')
    with pytest.raises(PinError, match="gym-station pin set coach"):
        PinStore(tmp_path)
    (tmp_path / "pins.json").write_text("not json")
    with pytest.raises(PinError, match="cannot be read"):
        PinStore(tmp_path)


def test_a_pin_changed_at_the_console_counts_at_once_in_the_running_kiosk(tmp_path, cheap_scrypt):
    """The kiosk's store follows pins.json: after `gym-station pin set coach` (another store,
    another process) the old PIN no longer opens the coach's screens and the new one does."""
    kiosk = PinStore(tmp_path)
    kiosk.set_pin("coach", "2580")
    assert kiosk.check("coach", "2580")
    PinStore(tmp_path).set_pin("coach", "9146")        # the console
    assert not kiosk.check("coach", "2580")
    assert kiosk.check("coach", "9146")


def test_a_damaged_pin_file_set_right_at_the_console_opens_the_screens(tmp_path, cheap_scrypt):
    (tmp_path / "pins.json").write_text("{ not json")
    kiosk = PinStore(tmp_path, damaged_ok=True)
    assert kiosk.damaged and not kiosk.is_set("coach")
    console = PinStore(tmp_path, damaged_ok=True)
    console.set_pin("coach", "2580")
    console.set_pin("staff", "0852")
    assert kiosk.damaged is None                       # no restart needed
    assert kiosk.is_set("staff") and kiosk.check("coach", "2580")


def test_a_pin_chosen_in_the_kiosk_keeps_a_pin_set_at_the_console(tmp_path, cheap_scrypt):
    """A PIN stored by the kiosk goes into pins.json as it is now: the staff PIN set at the
    console meanwhile is not written over with the kiosk's older copy."""
    kiosk = PinStore(tmp_path)
    kiosk.set_pin("coach", "2580")
    PinStore(tmp_path).set_pin("staff", "0852")        # the console
    kiosk.set_pin("coach", "4711")
    again = PinStore(tmp_path)
    assert again.check("staff", "0852") and again.check("coach", "4711")


def test_a_pin_changed_at_the_console_clears_that_roles_lockout(tmp_path, cheap_scrypt):
    clock = VirtualClock()
    kiosk = PinStore(tmp_path, clock=clock)
    kiosk.set_pin("coach", "2580")
    for _ in range(MAX_TRIES):
        kiosk.check("coach", "0000")
    assert kiosk.locked_for("coach") > 0
    PinStore(tmp_path).set_pin("coach", "9146")
    assert kiosk.check("coach", "9146") and kiosk.locked_for("coach") == 0.0

"""`gym-station pin status`: which roles have a PIN, exit 1 when one asked for has none (the
installer asks for the PINs that are missing), and never a PIN or hash on screen."""

import pytest

from station.cli import main
from station.pins import PinStore, pins_file


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    monkeypatch.setattr("station.pins.SCRYPT_N", 2**10)


def test_status_says_which_pins_are_set(tmp_path, capsys):
    assert main(["--state-dir", str(tmp_path), "pin", "status"]) == 1
    assert capsys.readouterr().out == "coach PIN: not set\nstaff PIN: not set\n"
    PinStore(tmp_path).set_pin("coach", "2580")
    assert main(["--state-dir", str(tmp_path), "pin", "status", "coach"]) == 0
    assert main(["--state-dir", str(tmp_path), "pin", "status", "staff"]) == 1
    assert main(["--state-dir", str(tmp_path), "pin", "status"]) == 1
    out = capsys.readouterr().out
    assert out.endswith("coach PIN: set\nstaff PIN: not set\n") and "2580" not in out
    PinStore(tmp_path).set_pin("staff", "7391")
    assert main(["--state-dir", str(tmp_path), "pin", "status"]) == 0


def test_a_damaged_pin_file_is_said_not_shown_as_unset(tmp_path, capsys):
    pins_file(tmp_path).write_text("{not json")
    assert main(["--state-dir", str(tmp_path), "pin", "status"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "pins.json" in captured.err

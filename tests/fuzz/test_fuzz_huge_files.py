"""Files too big to be what they should be: a film picked by mistake, /dev/zero, a disk's garbage.

Property: every reader of a file a person or the station writes reads at most its limit, then
refuses the file with the project's error naming it ("bigger than ..."), or (the staff's volume)
falls back and says so. None reads a file whole into memory first: a MemoryError on a Pi is a
dead kiosk. The files here are sparse (no disk used) and only just over each limit, so a reader
that reads everything fails an assertion here, not the machine.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from fuzzkit import names_file

from drivers.athlete import load_scenario
from drivers.calibration import Calibration
from drivers.errors import CalibrationError, RecordingError, ScenarioError
from drivers.files import JSON_MAX_BYTES, TOML_MAX_BYTES
from drivers.recording import LINE_MAX_BYTES, read_recording
from station.config import load_config
from station.errors import ConfigError
from station.profiles import load_profiles
from station.staff import load_audio
from station.view import AudioView


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` zero bytes that takes no space on the disk."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


READERS = {  # name: (file name, limit, read it, the error it must raise)
    "station.toml": ("station.toml", TOML_MAX_BYTES, load_config, ConfigError),
    "exercises.toml": ("exercises.toml", TOML_MAX_BYTES, load_profiles, ConfigError),
    "scenario": ("athlete.toml", TOML_MAX_BYTES, load_scenario, ScenarioError),
    "calibration.json": ("calibration.json", JSON_MAX_BYTES, Calibration.load, CalibrationError),
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_file_past_its_limit_is_refused_naming_it(tmp_path, name):
    file_name, limit, read, error = READERS[name]
    path = _sparse(tmp_path / file_name, limit + 1)
    with pytest.raises(error) as e:
        read(path)
    assert names_file(str(e.value), path) and f"bigger than {limit // 2**20:g} MiB" in str(e.value)


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_file_at_its_limit_is_read(tmp_path, name):
    """The limit is where it says: a file of exactly that size is parsed (and refused for what
    it holds, zero bytes, not for its size)."""
    file_name, limit, read, error = READERS[name]
    path = _sparse(tmp_path / file_name, limit)
    with pytest.raises(error) as e:
        read(path)
    assert names_file(str(e.value), path) and "bigger than" not in str(e.value)


def test_a_recording_line_past_its_limit_is_refused_with_its_line(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_bytes(b"t,heel,forefoot\n0,1,1\n")
    with open(path, "ab") as f:
        f.truncate(path.stat().st_size + LINE_MAX_BYTES + 1)  # line 3: zeros, no line end
    with pytest.raises(RecordingError) as e:
        read_recording(path)
    assert e.value.line == 3 and names_file(str(e.value), path)
    assert f"longer than {LINE_MAX_BYTES // 2**20} MiB" in str(e.value)


def test_a_huge_volume_file_falls_back_and_says_so(tmp_path, caplog):
    path = _sparse(tmp_path / "audio.json", JSON_MAX_BYTES + 1)
    with caplog.at_level(logging.WARNING, logger="station.staff"):
        assert load_audio(tmp_path, AudioView(0.8, False)) == AudioView(0.8, False)
    assert any(names_file(r.getMessage(), path) and "bigger than" in r.getMessage()
               for r in caplog.records), caplog.text
    assert os.path.getsize(path) == JSON_MAX_BYTES + 1


def test_a_roster_csv_past_its_limit_is_refused_unread(tmp_path):
    from station.errors import RosterError
    from station.roster import CSV_MAX_BYTES, Roster

    roster = Roster.load(tmp_path)
    roster.add("a1", "Ada")
    roster.save()
    before = (tmp_path / "roster.json").read_bytes()
    path = _sparse(tmp_path / "athletes.csv", CSV_MAX_BYTES + 1)
    with pytest.raises(RosterError) as e:
        roster.import_csv(path)
    assert names_file(str(e.value), path) and "bigger than 16 MiB" in str(e.value)
    assert (tmp_path / "roster.json").read_bytes() == before and [a.id for a in roster] == ["a1"]


@pytest.mark.parametrize("name", ["roster.json", "programs.json", "pins.json"])
def test_a_state_file_past_its_limit_is_damaged_not_read_whole(tmp_path, caplog, name):
    """The kiosk's own state files: too big is damaged for its size (kept aside or refused, as
    each store does with a damaged file), never read whole into memory."""
    from station.pins import PinStore
    from station.profiles import load_profiles
    from station.programs import ProgramBook
    from station.roster import Roster

    _sparse(tmp_path / name, JSON_MAX_BYTES + 1)
    with caplog.at_level(logging.ERROR):
        if name == "roster.json":
            store = Roster.load(tmp_path, damaged_ok=True)
        elif name == "programs.json":
            store = ProgramBook.load(tmp_path, profiles=load_profiles(), damaged_ok=True)
        else:
            store = PinStore(tmp_path, damaged_ok=True)
    assert store.damaged
    said = store.damaged + " ".join(r.getMessage() for r in caplog.records)
    assert f"bigger than {JSON_MAX_BYTES // 2**20} MiB" in said, said
    if name == "pins.json":
        assert not store.is_set("coach")
    else:
        assert len(store) == 0 and list(tmp_path.glob(f"{name}.damaged-*"))

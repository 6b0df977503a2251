"""station.toml validation: typed objects, and refusals that name file, key and what is allowed."""

import tomllib
from pathlib import Path

import pytest

from station.config import (
    OPTIONS,
    SHIPPED_CONFIG_DIR,
    config_path,
    describe_options,
    load_config,
    parse_config,
)
from station.errors import ConfigError, GymStationError

SHIPPED = SHIPPED_CONFIG_DIR / "station.toml"


def shipped_raw():
    return tomllib.loads(SHIPPED.read_text())


def write(tmp_path, text):
    p = tmp_path / "station.toml"
    p.write_text(text)
    return p


def test_shipped_config_is_valid_and_typed():
    cfg = load_config(SHIPPED)
    assert cfg.plate.kind == "hx711"
    assert cfg.plate.layout.data_pins == (6, 13)
    assert cfg.plate.layout.clock_pins == (5, 5)
    assert cfg.plate.layout.rate_hz == 80.0 and isinstance(cfg.plate.layout.rate_hz, float)
    assert cfg.io.button_pin is None
    assert cfg.station.id


def test_env_var_selects_config(tmp_path, monkeypatch):
    p = write(tmp_path, SHIPPED.read_text().replace('"station-1"', '"east-wing"'))
    monkeypatch.setenv("GYM_STATION_CONFIG", str(p))
    assert config_path() == p
    assert load_config().station.id == "east-wing"
    # an explicit path wins over the environment
    assert config_path(SHIPPED) == SHIPPED


@pytest.mark.parametrize("section,key,value,expect", [
    ("plate", "gain", 100, "plate.gain = 100 is not allowed; it must be one of 128, 64, 32"),
    ("plate", "rate_hz", 0, "plate.rate_hz = 0.0 is too small; it must be a number from 1 to 100"),
    ("plate", "clock_pin", 40, "plate.clock_pin = 40 is too large"),
    ("plate", "kind", "hx712", "plate.kind = 'hx712' is not allowed"),
    ("plate", "clock_pin", "5", "plate.clock_pin = '5' is str, not int"),
    ("plate", "read_timeout_s", True, "is bool, not float"),
    ("io", "led_pin", 2.5, "io.led_pin = 2.5 is float, not int"),
    ("simulation", "body_mass_kg", float("nan"), "is not a number"),
])
def test_bad_value_names_file_key_and_what_is_allowed(section, key, value, expect):
    raw = shipped_raw()
    raw[section][key] = value
    with pytest.raises(ConfigError) as e:
        parse_config(raw, "/etc/gym-station/station.toml")
    msg = str(e.value)
    assert msg.startswith("/etc/gym-station/station.toml: ")
    assert expect in msg
    assert e.value.key == f"{section}.{key}"
    assert isinstance(e.value, ValueError) and isinstance(e.value, GymStationError)


def test_unknown_key_is_reported_with_a_suggestion():
    raw = shipped_raw()
    raw["plate"]["clok_pin"] = 5
    with pytest.raises(ConfigError, match=r"unknown key 'plate.clok_pin' \(did you mean 'clock_pin'\?\)"):
        parse_config(raw, "x.toml")
    raw = shipped_raw()
    raw["dispaly"] = {}
    with pytest.raises(ConfigError, match="unknown key 'dispaly'"):
        parse_config(raw, "x.toml")
    raw = shipped_raw()
    raw["plate"]["cells"][1]["pin"] = 3
    with pytest.raises(ConfigError, match=r"unknown key 'plate.cells\[1\].pin'"):
        parse_config(raw, "x.toml")


def test_cells_validated():
    raw = shipped_raw()
    del raw["plate"]["cells"]
    with pytest.raises(ConfigError, match="plate.cells.*missing"):
        parse_config(raw)
    raw = shipped_raw()
    raw["plate"]["cells"][1]["zone"] = "heel"
    with pytest.raises(ConfigError, match=r"needs 1 heel cell\(s\), found 2"):
        parse_config(raw)
    raw = shipped_raw()
    raw["plate"]["cells"][1]["data_pin"] = 6
    with pytest.raises(ConfigError, match="own DOUT pin"):
        parse_config(raw)
    raw = shipped_raw()
    raw["plate"]["cells"][0]["data_pin"] = 5
    with pytest.raises(ConfigError, match="also the clock line"):
        parse_config(raw)
    raw = shipped_raw()
    del raw["plate"]["cells"][0]["zone"]
    with pytest.raises(ConfigError, match=r"plate.cells\[0\].zone is missing; it must be one of 'heel', 'forefoot'"):
        parse_config(raw)


def test_four_cell_plate_needs_edges_and_gets_per_chip_clocks():
    raw = shipped_raw()
    raw["plate"]["cells"] = [
        {"name": "heel L", "zone": "heel", "edge": "left", "data_pin": 6},
        {"name": "heel R", "zone": "heel", "edge": "right", "data_pin": 13},
        {"name": "fore L", "zone": "forefoot", "edge": "left", "data_pin": 19},
        {"name": "fore R", "zone": "forefoot", "edge": "right", "data_pin": 26, "clock_pin": 21},
    ]
    cfg = parse_config(raw)
    assert cfg.plate.layout.four_cell
    assert cfg.plate.layout.clock_pins == (5, 5, 5, 21)
    del raw["plate"]["cells"][3]["edge"]
    with pytest.raises(ConfigError, match="edge"):
        parse_config(raw)


def test_io_pins_cannot_collide_with_the_plate():
    raw = shipped_raw()
    raw["io"]["button_pin"] = 6
    with pytest.raises(ConfigError, match="io.button_pin: GPIO 6 is already wired to the plate"):
        parse_config(raw)
    raw = shipped_raw()
    raw["io"]["button_pin"] = 17
    raw["io"]["led_pin"] = 17
    with pytest.raises(ConfigError, match="share one GPIO"):
        parse_config(raw)


def test_replay_needs_a_recording():
    raw = shipped_raw()
    raw["plate"]["kind"] = "replay"
    with pytest.raises(ConfigError, match="plate.recording"):
        parse_config(raw)


def test_file_problems_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[plate\nkind = 1"))
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    p = tmp_path / "bin.toml"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


def test_every_option_is_documented():
    text = describe_options()
    for section, options in OPTIONS.items():
        assert f"[{section}]" in text
        for key, opt in options.items():
            assert key in text and opt.help in text


def test_defaults_are_themselves_valid():
    """A key left out takes its default, and every default passes its own bounds."""
    raw = {"plate": {"cells": shipped_raw()["plate"]["cells"]}}
    cfg = parse_config(raw)
    assert cfg.plate.layout.gain == OPTIONS["plate"]["gain"].default
    assert cfg.simulation.scenario == "demo"
    assert Path(cfg.path).name == "<config>"


def test_display_and_audio_sections():
    cfg = load_config(SHIPPED)
    assert cfg.display.fps == 60 and cfg.display.rotation == 0 and cfg.display.fullscreen is True
    assert cfg.audio.quiet_hours is None and 0 <= cfg.audio.volume <= 1
    raw = shipped_raw()
    raw["audio"]["quiet_hours"] = "21:30-06:00"
    assert parse_config(raw).audio.quiet_hours == ((21, 30), (6, 0))
    for bad in ("9pm-6am", "25:00-06:00", "21:00", "06:00-06:00"):
        raw["audio"]["quiet_hours"] = bad
        with pytest.raises(ConfigError, match="audio.quiet_hours"):
            parse_config(raw)
    raw = shipped_raw()
    raw["display"]["rotation"] = 45
    with pytest.raises(ConfigError, match="display.rotation = 45 is not allowed; it must be one of 0, 90, 180, 270"):
        parse_config(raw)
    raw = shipped_raw()
    raw["display"]["fullscreen"] = "yes"
    with pytest.raises(ConfigError, match="display.fullscreen = 'yes' is not true or false"):
        parse_config(raw)


def test_storage_section_and_postgres_url_from_the_environment(monkeypatch):
    monkeypatch.delenv("GYM_STATION_POSTGRES_URL", raising=False)
    cfg = load_config(SHIPPED)
    assert cfg.storage.postgres_url == "" and cfg.storage.memory_bound == 20000
    assert 0 < cfg.storage.commit_interval_s <= 1.0
    raw = shipped_raw()
    raw["storage"]["postgres_url"] = "postgresql://gym:filepw@db.local/gym"
    assert parse_config(raw).storage.postgres_url.endswith("@db.local/gym")
    # the environment wins, and the password never shows in the config's repr
    monkeypatch.setenv("GYM_STATION_POSTGRES_URL", "postgresql://gym:envpw@facility/gym")
    cfg = parse_config(raw)
    assert cfg.storage.postgres_url == "postgresql://gym:envpw@facility/gym"
    assert "envpw" not in repr(cfg) and "envpw" not in repr(cfg.storage)
    monkeypatch.setenv("GYM_STATION_POSTGRES_URL", "mysql://gym:envpw@facility/gym")
    with pytest.raises(ConfigError, match="GYM_STATION_POSTGRES_URL is not a PostgreSQL") as e:
        parse_config(raw)
    assert "envpw" not in str(e.value)
    monkeypatch.delenv("GYM_STATION_POSTGRES_URL")
    raw["storage"]["memory_bound"] = 10
    with pytest.raises(ConfigError, match="storage.memory_bound = 10 is too small"):
        parse_config(raw)
    raw["storage"]["memory_bound"] = 500
    raw["storage"]["commit_interval_s"] = 2.0
    with pytest.raises(ConfigError, match="storage.commit_interval_s = 2.0 is too large"):
        parse_config(raw)

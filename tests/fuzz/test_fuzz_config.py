"""Fuzzing the TOML files a person edits: station.toml (station/config.py), exercises.toml
(station/profiles.py) and the simulated athlete's scenarios (drivers/athlete.py).

Property: the file gives a valid, typed result (every number finite), or the project's error
(:class:`ConfigError`, :class:`ScenarioError`) in one line naming the file; a TOML syntax error
also names the line. Two kinds of input: bytes of the shipped files mutated (syntax, encoding,
line ends), and their parsed tables with a value replaced by anything TOML can hold (wrong
types, huge numbers, NaN, inf, dates, nested tables), a key removed or an unknown one added.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import tempfile
import tomllib
from pathlib import Path

import pytest
from fuzzkit import NASTY, any_bytes, fuzz, mutated, names_file
from hypothesis import example, given
from hypothesis import strategies as st

from drivers.athlete import SCENARIO_DIR, ScriptedAthlete, load_scenario, parse_scenario
from drivers.errors import GymStationError, ScenarioError
from station.config import SHIPPED_CONFIG_DIR, load_config, parse_config
from station.errors import ConfigError
from station.profiles import SHIPPED_EXERCISES, load_profiles, parse_profiles

STATION = (SHIPPED_CONFIG_DIR / "station.toml").read_bytes()
FOUR_CELL = STATION.replace(b'''[[plate.cells]]
name = "heel"
zone = "heel"
data_pin = 6

[[plate.cells]]
name = "forefoot"
zone = "forefoot"
data_pin = 13
''', b''.join(b'[[plate.cells]]\nname = "%s-%s"\nzone = "%s"\ndata_pin = %d\nedge = "%s"\n\n'
              % (z, e, z, p, e) for (z, e, p) in ((b"heel", b"left", 6), (b"heel", b"right", 13),
                                                   (b"forefoot", b"left", 19),
                                                   (b"forefoot", b"right", 26))))
EXERCISES = SHIPPED_EXERCISES.read_bytes()
SCENARIOS = {p.stem: p.read_bytes() for p in sorted(SCENARIO_DIR.glob("*.toml"))}

TOML_SCALARS = st.one_of(
    st.integers(-2**63, 2**63 - 1), st.integers(-30, 300),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan, math.inf, -0.0]),
    st.text(max_size=30), st.sampled_from(NASTY), st.booleans(),
    st.datetimes(), st.dates(), st.times(),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=8)


@st.composite
def tweaked(draw, doc: dict) -> dict:
    """``doc`` with 1 to 3 structural edits somewhere inside it."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        node = doc
        while True:  # walk down to a random table or array
            children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            inner = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
            if not inner or draw(st.booleans()):
                break
            node = draw(st.sampled_from(inner))[1]
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        what = draw(st.sampled_from(["replace", "delete", "add"]))
        if what == "add" or not keys:
            if isinstance(node, dict):
                node[draw(st.text(max_size=10) | st.sampled_from(keys or ["x"]))] = \
                    draw(TOML_VALUES)
            else:
                node.append(draw(TOML_VALUES))
        elif what == "delete":
            del node[draw(st.sampled_from(keys))]
        else:
            node[draw(st.sampled_from(keys))] = draw(TOML_VALUES)
    return doc


def _finite(obj) -> None:
    """Every float anywhere in a parsed result is finite."""
    if isinstance(obj, float):
        assert math.isfinite(obj), obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            _finite(getattr(obj, f.name))
    elif isinstance(obj, dict):
        for v in obj.values():
            _finite(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            _finite(v)


def _refused_well(e: GymStationError, path) -> None:
    message = str(e)
    assert names_file(message, path), message
    assert "\n" not in message and "\r" not in message, message
    if "TOML" in message and not re.search("line|end of document|nested too deep", message):
        pytest.fail(f"a TOML syntax error without its line: {message}")


def _tmp(data: bytes, name: str) -> tuple[tempfile.TemporaryDirectory, Path]:
    d = tempfile.TemporaryDirectory()
    path = Path(d.name) / name
    path.write_bytes(data)
    return d, path


# -- station.toml ---------------------------------------------------------------------------

def check_config_file(path: Path):
    try:
        cfg = load_config(path)
    except ConfigError as e:
        _refused_well(e, path)
        return None
    _finite(cfg)
    return cfg


@fuzz(150)
@given(data=st.one_of(mutated(STATION), mutated(FOUR_CELL), any_bytes()))
@example(data=b"\xff\xfe[station]\n")
@example(data=STATION.replace(b"[station]", b"[station]\n[station]"))
@example(data=STATION.replace(b'id = "station-1"', b'id = "a"\nid = "b"'))
@example(data=STATION.replace(b"rate_hz = 80", b"rate_hz = nan"))
@example(data=STATION.replace(b"seed = 1", b"seed = 99999999999999999999"))
@example(data=STATION.replace(b'quiet_hours = ""', b'quiet_hours = "1:2:3-4:5"'))
@example(data=STATION.replace(b'quiet_hours = ""', b'quiet_hours = "\xd9\xa1:00-06:00"'))
@example(data=STATION.replace(b"[[plate.cells]]", b"[plate.cells]", 1))
@example(data=STATION.replace(b"seed = 1", b"seed = " + b"9" * 5000))  # tomllib: ValueError
@example(data=b"a = " + b"[" * 100_000)  # tomllib: RecursionError
def test_fuzzed_station_toml_loads_or_is_refused_naming_the_file(data):
    d, path = _tmp(data, "station.toml")
    with d:
        check_config_file(path)


@fuzz(200)
@given(raw=tweaked(tomllib.loads(STATION.decode())) | tweaked(tomllib.loads(FOUR_CELL.decode())))
@example(raw={"plate": []})
@example(raw={"plate": {"cells": [{"name": "h", "zone": ["heel"], "data_pin": 6}]}})
@example(raw={"audio": {"quiet_hours": 5}})
def test_any_station_table_is_validated_or_refused_by_key(raw):
    try:
        cfg = parse_config(raw, "/etc/gym-station/station.toml")
    except ConfigError as e:
        _refused_well(e, "/etc/gym-station/station.toml")
        return
    _finite(cfg)


@pytest.mark.parametrize("name", ["x" * 5000, "a\x01b", "nested/" * 40 + "station.toml"],
                         ids=["long", "control", "deep"])
def test_unusable_config_paths_are_config_errors(tmp_path, name):
    with pytest.raises(ConfigError, match="station.toml|x{100}|a\x01b"):
        load_config(tmp_path / name)


def test_a_config_folder_or_unreadable_name_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="folder"):
        load_config(tmp_path)


# -- exercises.toml -------------------------------------------------------------------------

def check_profiles_file(path: Path):
    try:
        book = load_profiles(path)
    except ConfigError as e:
        _refused_well(e, path)
        return None
    _finite(book)
    for profile in book.profiles.values():
        assert 0 <= profile.share_threshold <= 1
        assert profile.hold_target_s >= 0 and profile.min_lower_s >= 0
    assert book.get() is book.profiles[book.default]
    return book


@fuzz(120)
@given(data=st.one_of(mutated(EXERCISES), any_bytes()))
@example(data=b"\xff")
@example(data=EXERCISES.replace(b"hold_target_s = 1.0", b"hold_target_s = nan"))
@example(data=EXERCISES.replace(b"min_lower_s = 1.5", b"min_lower_s = inf"))
@example(data=EXERCISES.replace(b'default = "single_leg_hip_thrust"', b"default = [1]"))
@example(data=EXERCISES.replace(b'default = "single_leg_hip_thrust"', b"default = {a = 1}"))
@example(data=EXERCISES.replace(b"reps = 8", b"reps = " + b"9" * 200_000))
@example(data=b"a = " + b"{b = " * 100_000)
def test_fuzzed_exercises_toml_loads_or_is_refused_naming_the_file(data):
    d, path = _tmp(data, "exercises.toml")
    with d:
        check_profiles_file(path)


@fuzz(150)
@given(raw=tweaked(tomllib.loads(EXERCISES.decode())))
@example(raw={"profiles": {"p": {"name": "P", "drive_zone": "heel", "share_threshold": 0.5,
                                 "hold_target_s": math.nan, "min_lower_s": 1, "reps": 8,
                                 "sets": 3, "sides": ["left"]}}})
@example(raw={"default": ["x"], "profiles": {"p": {}}})
@example(raw={"profiles": {"p": {"name": "P", "drive_zone": "heel", "share_threshold": 0.5,
                                 "hold_target_s": 1, "min_lower_s": 1, "reps": 8, "sets": 3,
                                 "sides": ["left"], "cues": {"x": 1}}}})
def test_any_exercises_table_is_validated_or_refused(raw):
    path = "/etc/gym-station/exercises.toml"
    try:
        book = parse_profiles(raw, path)
    except ConfigError as e:
        _refused_well(e, path)
        return
    _finite(book)


def test_exercises_that_cannot_be_read_are_config_errors(tmp_path):
    (tmp_path / "bad.toml").write_bytes(b"default = \"\xff\"\n")
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML: line 1: not UTF-8"):
        load_profiles(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="folder"):
        load_profiles(tmp_path)


# -- scenarios ------------------------------------------------------------------------------

def check_scenario_file(path: Path, build: bool = False):
    try:
        scenario = load_scenario(path)
        reps = sum(s.params["count"] for s in scenario.steps)
        if build and reps <= 40 and sum(s.params.get("duration_s", 0) * s.params["count"]
                                        for s in scenario.steps) < 600:
            athlete = ScriptedAthlete(scenario, seed=1)
            assert math.isfinite(athlete.duration_s)
    except ScenarioError as e:
        _refused_well(e, path)
        return None
    _finite(scenario)
    return scenario


@fuzz(120)
@given(data=st.one_of(*(mutated(b) for b in SCENARIOS.values()), any_bytes()))
@example(data=b"\xff")
@example(data=b'athlete = "x"\n[[steps]]\nkind = "step_on"\n')
@example(data=b'athlete = 5\n[[steps]]\nkind = "step_on"\n')
@example(data=b'athlete = [["a", 1]]\n[[steps]]\nkind = "step_on"\n')
@example(data=b'[[steps]]\nkind = ["rep"]\n')
@example(data=b'[[steps]]\nkind = {a = 1}\n')
@example(data=b'steps = [1]\n')
@example(data=b"[athlete]\nmass_kg = " + b"1" * 4400 + b"\n")
@example(data=b"a = " + b"[" * 100_000)
@example(data=SCENARIOS["clean_set"].replace(b'side = "left"', b'side = ["left"]'))
def test_fuzzed_scenario_loads_or_is_refused_naming_the_file(data):
    d, path = _tmp(data, "fuzzed.toml")
    with d:
        check_scenario_file(path)


@fuzz(40)
@given(raw=st.sampled_from(sorted(SCENARIOS)).flatmap(
    lambda name: tweaked(tomllib.loads(SCENARIOS[name].decode()))))
def test_a_tweaked_scenario_builds_an_athlete_or_is_refused(raw):
    source = "/srv/scenarios/tweaked.toml"
    try:
        scenario = parse_scenario(raw, source=source)
        if sum(s.params["count"] for s in scenario.steps) <= 40 and sum(
                s.params.get("duration_s", 0) * s.params["count"] for s in scenario.steps) < 600:
            ScriptedAthlete(scenario, seed=1)
    except ScenarioError as e:
        _refused_well(e, source)


def test_scenario_paths_that_cannot_be_read_are_scenario_errors(tmp_path):
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path / "dir.toml")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario("x" * 5000 + ".toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ScenarioError, match=re.escape(str(tmp_path / "bin.toml"))):
        load_scenario(tmp_path / "bin.toml")

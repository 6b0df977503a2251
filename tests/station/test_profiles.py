"""Exercise profiles: the shipped file, the validator's messages, targets and judging."""

import tomllib

import pytest

from station.errors import ConfigError
from station.profiles import (
    CUE_KINDS,
    SHIPPED_EXERCISES,
    Targets,
    load_profiles,
    parse_profiles,
)

GOOD = {
    "name": "Test lift",
    "drive_zone": "heel",
    "share_threshold": 0.5,
    "hold_target_s": 1,
    "min_lower_s": 1.5,
    "reps": 8,
    "sets": 3,
    "sides": ["left", "right"],
}


def book(**changes):
    table = dict(GOOD, **changes)
    return {"default": "lift", "profiles": {"lift": {k: v for k, v in table.items() if v is not None}}}


def test_shipped_profiles():
    profiles = load_profiles()
    assert profiles.default == "single_leg_hip_thrust"
    hip = profiles.get()
    assert hip.drive_zone == "heel" and hip.sides == ("left", "right")
    assert hip.zone_fault == "toe_drive"
    assert hip.tips and {"toe_drive", "short_hold", "too_fast", "good"} <= set(hip.cues)
    assert len(profiles.profiles) >= 4
    calf = profiles.get("calf_raise")
    assert calf.drive_zone == "forefoot" and calf.rep_signal == "forefoot"
    assert calf.zone_fault == "heel_drive" and "heel_drive" in calf.cues
    assert profiles.get("glute_bridge_hold").hold_target_s >= 10
    assert profiles.get("split_squat").drive_zone == "heel"
    for p in profiles.profiles.values():
        assert p.zone_fault in p.cues, f"{p.id} has no cue for its zone fault"
        assert set(p.cues) <= set(CUE_KINDS)


def test_unknown_profile_id_lists_the_known_ones():
    with pytest.raises(ConfigError, match="no exercise 'deadlift'.*calf_raise"):
        load_profiles().get("deadlift")


def test_unknown_key_is_reported_with_file_profile_and_hint():
    raw = book(hold_targt_s=2.0)
    with pytest.raises(ConfigError) as e:
        parse_profiles(raw, "/etc/gym-station/exercises.toml")
    msg = str(e.value)
    assert "/etc/gym-station/exercises.toml" in msg and "'lift'" in msg
    assert "hold_targt_s" in msg and "did you mean 'hold_target_s'" in msg
    assert e.value.path == "/etc/gym-station/exercises.toml"


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"reps": None}, "missing key 'reps'"),
        ({"reps": "eight"}, "reps has the wrong type"),
        ({"share_threshold": True}, "share_threshold has the wrong type"),
        ({"drive_zone": "toes"}, "drive_zone must be one of"),
        ({"share_threshold": 1.5}, "share_threshold is a share of the load"),
        ({"sides": ["left", "middle"]}, "sides must be"),
        ({"rep_signal": "speed"}, "rep_signal must be one of"),
        ({"cues": {"toe_drve": "Heels!"}}, "unknown cue kind 'toe_drve' (did you mean 'toe_drive'?)"),
        ({"cues": {"good": ""}}, "cue 'good' must be non-empty text"),
        ({"tips": ["ok", 3]}, "tips must be a list of text"),
    ],
)
def test_bad_values_are_refused_with_the_reason(changes, words):
    with pytest.raises(ConfigError) as e:
        parse_profiles(book(**changes), "ex.toml")
    assert words in str(e.value)
    assert "ex.toml" in str(e.value) and "'lift'" in str(e.value)


def test_top_level_problems(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'defualt'"):
        parse_profiles({"defualt": "x", "profiles": book()["profiles"]}, "ex.toml")
    with pytest.raises(ConfigError, match="default = 'squat' is not a profile"):
        parse_profiles({"default": "squat", "profiles": book()["profiles"]}, "ex.toml")
    with pytest.raises(ConfigError, match="at least one"):
        parse_profiles({"profiles": {}}, "ex.toml")
    bad = tmp_path / "ex.toml"
    bad.write_text("[profiles.x\nname=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_profiles(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_profiles(tmp_path / "missing.toml")


def test_shipped_file_round_trips_through_the_parser():
    raw = tomllib.loads(SHIPPED_EXERCISES.read_text())
    assert parse_profiles(raw, SHIPPED_EXERCISES).profiles.keys() == raw["profiles"].keys()


def test_coach_targets_override_and_are_validated():
    hip = load_profiles().get()
    mine = hip.with_targets(Targets(hold_target_s=2.0, reps=5))
    assert (mine.hold_target_s, mine.reps) == (2.0, 5)
    assert mine.share_threshold == hip.share_threshold and mine.cues == hip.cues
    assert hip.with_targets(None) is hip and hip.with_targets(Targets()) is hip
    with pytest.raises(ConfigError, match="share_threshold"):
        hip.with_targets(Targets(share_threshold=2.0))


def test_judging_against_the_profile():
    hip = load_profiles().get().with_targets(
        Targets(share_threshold=0.5, hold_target_s=1.0, min_lower_s=1.5))
    assert hip.judge(0.7, 1.2, 2.0) == ()
    assert hip.judge(0.3, 1.2, 2.0) == ("toe_drive",)
    assert hip.judge(0.7, 0.4, 2.0) == ("short_hold",)
    assert hip.judge(0.7, 1.2, 0.6) == ("too_fast",)
    assert hip.judge(None, 1.2, 2.0) == ("toe_drive",)  # never enough load to tell
    assert hip.judge(0.2, 0.1, 0.1) == ("toe_drive", "short_hold", "too_fast")
    calf = load_profiles().get("calf_raise")
    assert calf.judge(0.1, 2.0, 2.0) == ()  # 90 % on the forefoot: what a calf raise wants
    assert calf.judge(0.5, 2.0, 2.0) == ("heel_drive",)  # half on the heel

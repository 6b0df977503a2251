"""On/off the plate with hysteresis, dwell and grace; stillness (station/presence.py)."""

import numpy as np
import pytest
from shared_data import shared_file

from drivers.sample import Sample
from station.analysis import Analyzer
from station.presence import GONE, OFF, ON, Presence, Stillness
from station.profiles import load_profiles


def feed(presence, loads, rate=80.0, t0=0.0):
    """(time, change) for every change ``loads`` cause."""
    out = []
    for i, load in enumerate(loads):
        t = t0 + i / rate
        change = presence.step(t, float(load))
        if change:
            out.append((round(t, 4), change))
    return out


def test_on_after_dwell_off_after_dwell_then_gone_after_grace():
    p = Presence(on_n=60, off_n=30, on_dwell_s=0.2, off_dwell_s=0.5, grace_s=5.0)
    loads = [0] * 80 + [400] * 160 + [0] * 800
    changes = feed(p, loads)
    assert [c for _, c in changes] == [ON, OFF, GONE]
    (t_on, _), (t_off, _), (t_gone, _) = changes
    assert t_on == pytest.approx(1.0 + 0.2)
    assert p.changed_at is not None
    assert t_off == pytest.approx(3.0 + 0.5)
    assert t_gone == pytest.approx(3.0 + 0.5 + 5.0)


def test_no_flicker_at_the_threshold():
    """A foot resting right at a threshold, with HX711 noise, changes nothing."""
    rng = np.random.default_rng(1)
    p = Presence(on_n=60, off_n=30)
    assert feed(p, 60 + rng.normal(0, 3, 2000)) in ([], [(pytest.approx(0.2, abs=0.2), ON)])
    p = Presence(on_n=60, off_n=30)
    changes = feed(p, np.r_[np.full(80, 300.0), 30 + rng.normal(0, 3, 4000)])
    assert len(changes) <= 2  # ON, then at most one OFF: never back and forth
    p = Presence(on_n=60, off_n=30)
    changes = feed(p, np.r_[np.full(80, 300.0), 45 + rng.normal(0, 5, 4000)])  # between them
    assert [c for _, c in changes] == [ON]


def test_short_unloading_is_not_stepping_off():
    p = Presence()
    flight = [500] * 80 + [0] * 30 + [2000] * 10 + [500] * 200  # a jump: 0.375 s in the air
    assert [c for _, c in feed(p, flight)] == [ON]


def test_coming_back_within_grace_keeps_the_set_open():
    p = Presence(grace_s=5.0)
    loads = [400] * 80 + [0] * 240 + [400] * 80 + [0] * 1000
    changes = [c for _, c in feed(p, loads)]
    assert changes == [ON, OFF, ON, OFF, GONE]
    assert not p.on and p.gone


def test_presence_validates_its_numbers():
    with pytest.raises(ValueError, match="hysteresis"):
        Presence(on_n=30, off_n=60)
    with pytest.raises(ValueError):
        Presence(grace_s=-1)


def test_stillness():
    s = Stillness(floor=5.0, fraction=0.05, still_s=0.5)
    t = np.arange(0, 3, 0.0125)
    x = np.where(t < 1, 300 + 100 * np.sin(2 * np.pi * t), 400.0)
    flags = [s.step(float(a), float(b)) for a, b in zip(t, x, strict=True)]
    flags = np.array(flags)
    assert not flags[t < 1.4].any()  # moving, then only just settled
    assert flags[t > 1.55].all()
    assert s.level == pytest.approx(400.0)
    assert s.held_for(3.0) == pytest.approx(2.0, abs=0.02)
    assert s.spread == pytest.approx(0.0, abs=1e-6)
    s.reset()
    assert not s.still and s.held_for(3.0) == 0.0
    with pytest.raises(ValueError):
        Stillness(floor=0)


def insole_samples():
    d = np.loadtxt(shared_file("gaitpdb-insole-vgrf/GaCo16_10.txt"))
    t, s = d[:, 0], d[:, 1:9]  # left foot: heel 1-3, mid-foot 4-5 (split), forefoot 6-8
    heel = s[:, 0] + s[:, 1] + s[:, 2] + 0.5 * (s[:, 3] + s[:, 4])
    fore = s[:, 5] + s[:, 6] + s[:, 7] + 0.5 * (s[:, 3] + s[:, 4])
    return t, [Sample(float(a), float(b), float(c)) for a, b, c in zip(t, heel, fore, strict=True)]


def test_standing_still_is_told_apart_from_walking():
    """GaCo16_10 (PhysioNet gaitpdb): walking, standing 17.6-26.2 s and 47.1-51.2 s."""
    t, samples = insole_samples()
    an = Analyzer(load_profiles().get(), "left", 100.0)
    still = []
    for s in samples:
        an.feed(s)
        still.append(an.live.still)
    still = np.array(still)
    walking = ((t > 1) & (t < 15)) | ((t > 28) & (t < 45))
    assert still[walking].sum() == 0
    for a, b in ((17.6, 26.2), (47.1, 51.2)):
        standing = (t >= a) & (t <= b)
        # the athlete shifts weight between the feet in these stretches: still only in parts
        assert still[standing].mean() > 0.15, f"standing {a}-{b} s hardly seen as still"
    assert an.reps == []  # walking is no rep: the station never settles
    assert an.live.on_plate  # the swing phase is shorter than the off dwell


def test_sixty_seconds_of_quiet_standing_is_one_long_still_hold():
    """BMClab PDS13 (one foot on each plate, 100 Hz): the left plate's vertical load."""
    d = np.loadtxt(shared_file("pds-two-plate-quiet-standing/PDS13OR1grf.txt"), skiprows=1)
    t, left = d[:, 0], d[:, 5]
    an = Analyzer(load_profiles().get(), "left", None)
    still = []
    for a, b in zip(t, left, strict=True):
        an.feed(Sample(float(a), 0.5 * float(b), 0.5 * float(b)))
        still.append(an.live.still)
    assert an.rate_hz == pytest.approx(100.0)
    assert np.mean(still) > 0.9
    assert an.reps == []
    assert an.detector.base == pytest.approx(np.mean(left), rel=0.02)

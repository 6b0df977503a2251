"""The filter, the spike gate and the per-sample quantities (station/signal.py)."""

import math

import numpy as np
import pytest
from shared_data import shared_file

from station.signal import (
    NOISE_FLOOR_N,
    LowPass,
    ShareGate,
    butterworth_lowpass,
    cop_across,
    cop_along,
    dc_group_delay_samples,
    default_cutoff_hz,
    filter_delay_s,
    heel_share,
)


def run(lp: LowPass, xs) -> np.ndarray:
    return np.array([lp.step(float(x)) for x in xs])


@pytest.mark.parametrize("rate", [10.0, 80.0, 93.0])
def test_biquad_has_unit_dc_gain_and_is_stable(rate):
    b0, b1, b2, a1, a2 = butterworth_lowpass(default_cutoff_hz(rate), rate)
    assert (b0 + b1 + b2) / (1 + a1 + a2) == pytest.approx(1.0)
    poles = np.roots([1.0, a1, a2])
    assert np.all(np.abs(poles) < 1.0)


def test_cutoff_is_where_the_gain_is_minus_3_db():
    rate, fc = 80.0, 6.0
    b0, b1, b2, a1, a2 = butterworth_lowpass(fc, rate)
    z = np.exp(-1j * 2 * math.pi * fc / rate)
    h = (b0 + b1 * z + b2 * z * z) / (1 + a1 * z + a2 * z * z)
    assert 20 * math.log10(abs(h)) == pytest.approx(-3.01, abs=0.05)


def test_documented_delays():
    # the module docstring's table
    assert filter_delay_s(10.0) == pytest.approx(0.151, abs=0.001)
    assert filter_delay_s(80.0) == pytest.approx(0.049, abs=0.001)
    assert LowPass(80.0).delay_samples == pytest.approx(3.95, abs=0.01)


@pytest.mark.parametrize("rate", [10.0, 80.0])
def test_a_ramp_comes_out_late_by_the_documented_delay(rate):
    lp = LowPass(rate)
    t = np.arange(0, 6, 1 / rate)
    x = np.where(t < 1, 100.0, 100.0 + 50.0 * (t - 1))  # 50 N/s after a rest
    y = run(lp, x)
    late = t > 4  # steady ramp: y(t) = x(t - delay)
    lag_s = (x[late] - y[late]) / 50.0
    assert lag_s == pytest.approx(lp.delay_s, abs=1e-6)


def test_cutoff_must_be_below_nyquist():
    with pytest.raises(ValueError, match="half the sample rate"):
        butterworth_lowpass(6.0, 10.0)
    with pytest.raises(ValueError):
        LowPass(0.0)


def test_first_value_primes_the_filter_without_a_transient():
    lp = LowPass(80.0)
    assert run(lp, [700.0] * 20) == pytest.approx(700.0)


def test_single_spike_is_removed_and_gated_value_is_one_sample_late():
    lp = LowPass(80.0)
    xs = [300.0] * 10 + [300.0 + 4000.0] + [300.0] * 10  # one word with a high bit flipped
    ys = run(lp, xs)
    assert np.max(np.abs(ys - 300.0)) < 1e-9
    lp2 = LowPass(80.0)
    gated = []
    for x in [1.0, 2.0, 3.0, 4.0, 5.0]:
        lp2.step(x)
        gated.append(lp2.m)
    assert gated == [1.0, 1.0, 2.0, 3.0, 4.0]  # a monotone run comes out one sample late


def test_spike_pair_is_held_off_but_a_real_step_gets_through():
    lp = LowPass(10.0)
    pair = [300.0] * 5 + [2300.0, 2300.0] + [300.0] * 5
    ys = run(lp, pair)
    assert np.max(np.abs(ys - 300.0)) < 1e-9
    lp = LowPass(10.0)
    step = [300.0] * 5 + [900.0] * 15  # someone jumps on: it lasts, so it is real
    ys = run(lp, step)
    assert ys[-1] == pytest.approx(900.0, abs=1.0)


def test_heel_share_and_its_gate():
    assert heel_share(300.0, 100.0) == pytest.approx(0.75)
    assert heel_share(5.0, 5.0) is None  # below the sensor-noise floor
    assert heel_share(-3.0, 200.0) == 0.0  # tare noise cannot make a share below 0
    gate = ShareGate()
    assert gate.min_load == NOISE_FLOOR_N
    assert gate.share(40.0, 40.0) == pytest.approx(0.5)
    gate.learn_standing(600.0)  # 20 % of the standing load is now needed
    assert gate.min_load == pytest.approx(120.0)
    assert gate.share(40.0, 40.0) is None
    assert gate.share(100.0, 50.0) == pytest.approx(2 / 3)
    gate.forget()
    assert gate.min_load == NOISE_FLOOR_N
    with pytest.raises(ValueError):
        ShareGate(fraction=1.5)


def test_centre_of_pressure():
    assert cop_along(300.0, 100.0) == pytest.approx(0.25)  # near the heel
    assert cop_along(0.0, 0.0) is None
    assert cop_across(100.0, 300.0) == pytest.approx(0.5)  # towards the right edge
    assert cop_across(None, None) is None
    assert cop_across(1.0, 2.0) is None


def test_dc_delay_of_a_pure_delay_is_its_length():
    # b = [0, 0, 1], a = [1, 0, 0]: two samples of delay
    assert dc_group_delay_samples((0.0, 0.0, 1.0, 0.0, 0.0)) == pytest.approx(2.0)


def test_share_of_real_insoles_rolls_from_heel_to_toe():
    """PhysioNet gaitpdb GaCo16_10, left insole: heel zone = sensors 1-3 (Y < 0), forefoot zone =
    sensors 6-8 (Y > 0), the mid-foot pair 4-5 (Y = 0) split half to each. In every stance phase
    of walking the heel share must be higher at the start (heel strike) than at the end (push-off).
    """
    d = np.loadtxt(shared_file("gaitpdb-insole-vgrf/GaCo16_10.txt"))
    t, s = d[:, 0], d[:, 1:9]
    heel = s[:, 0] + s[:, 1] + s[:, 2] + 0.5 * (s[:, 3] + s[:, 4])
    fore = s[:, 5] + s[:, 6] + s[:, 7] + 0.5 * (s[:, 3] + s[:, 4])
    assert np.allclose(heel + fore, s.sum(axis=1))  # the split loses no load
    assert np.allclose(heel + fore, d[:, 17], atol=0.05)  # and matches the insole's total
    walking = (t > 2) & (t < 15)
    loaded = (heel + fore > 100) & walking
    edges = np.flatnonzero(np.diff(loaded.astype(int)))
    stances = [(a + 1, b + 1) for a, b in zip(edges[::2], edges[1::2], strict=False) if b - a > 30]
    assert len(stances) >= 8
    rolls = 0
    for a, b in stances:
        n = b - a
        shares = [heel_share(float(h), float(f)) for h, f in zip(heel[a:b], fore[a:b], strict=True)]
        early = np.mean([x for x in shares[: n // 5] if x is not None])
        late = np.mean([x for x in shares[-n // 5:] if x is not None])
        rolls += early > late + 0.3
    assert rolls == len(stances)

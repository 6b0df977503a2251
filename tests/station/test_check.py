"""`gym-station check`: the self-test judged on simulated chips read by the real reader, on a
virtual clock so the figures are deterministic."""

import pytest

from drivers.clock import VirtualClock
from station import simchips
from station.check import run_check
from station.cli import main
from station.config import load_config


@pytest.fixture
def virtual(monkeypatch):
    clock = VirtualClock(100.0)
    monkeypatch.setattr(simchips, "clocks", lambda: (clock, clock.sleep))
    return clock


def test_healthy_simulated_plate_passes(virtual, tmp_path, capsys):
    code = main(["--state-dir", str(tmp_path), "check", "--simulated", "--seconds", "3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "RESULT: OK" in out
    assert "GPIO6" in out and "GPIO13" in out
    rows = [line for line in out.splitlines() if line.startswith(("heel", "forefoot"))]
    for row in rows:
        rate = float(row.split()[3])
        assert rate == pytest.approx(80.0, rel=0.02)   # the chips' rate, measured by the reader


def test_silent_chip_is_named_and_fails(virtual, tmp_path, capsys):
    code = main(["--state-dir", str(tmp_path), "check", "--simulated", "--seconds", "2",
                 "--silent-chip", "13"])
    out = capsys.readouterr().out
    assert code == 1
    assert "RESULT: FAULT" in out
    assert "'forefoot' on GPIO 13 sent no word: check its DOUT wire" in out
    assert "'heel' on GPIO 6 could not be measured" in out


def test_silent_chip_needs_simulated_and_a_real_pin(tmp_path, capsys):
    assert main(["--state-dir", str(tmp_path), "check", "--silent-chip", "13"]) == 2
    assert "only applies to --simulated" in capsys.readouterr().err
    assert main(["--state-dir", str(tmp_path), "check", "--simulated", "--silent-chip", "21"]) == 2
    assert "no cell has that DOUT GPIO" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::gpiozero.exc.PinFactoryFallback")
def test_real_plate_without_gpio_is_a_clear_fault(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    code = main(["--state-dir", str(tmp_path), "check", "--seconds", "1"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err


def test_noise_in_newtons_and_grams_and_saturation_fails(virtual):
    cfg = load_config()
    chips, cal = simchips.simulated_words(cfg)
    with chips:
        report = run_check(chips, cfg.plate.layout, cal, seconds=2.0)
    assert report.ok
    for c in report.chips:
        # 40 counts RMS over ~2100 counts/N: about 0.02 N, i.e. about 2 g
        assert c.noise_counts == pytest.approx(40, rel=0.25)
        assert c.noise_n == pytest.approx(c.noise_counts / abs(cal.scales[0]), rel=0.2)
        assert c.noise_g == pytest.approx(c.noise_n / 9.80665 * 1000)
    chips, cal = simchips.simulated_words(cfg)
    with chips:
        chips.chips[0].set_saturated(+1)
        report = run_check(chips, cfg.plate.layout, cal, seconds=1.0)
    assert not report.ok
    assert report.faults["saturated"] > 0
    assert any("saturated" in p and "overloaded" in p for p in report.problems)
    assert "RESULT: FAULT" in report.render()


def test_spikes_beyond_tolerance_fail(virtual):
    cfg = load_config()
    chips, cal = simchips.simulated_words(cfg)
    with chips:
        for _ in range(3):
            chips.chips[1].stall_next_high(100e-6)   # the reader loses the CPU mid-pulse
            chips.read()
        report = run_check(chips, cfg.plate.layout, cal, seconds=1.0)
    assert report.faults["power_down"] >= 3
    assert any("held high" in p for p in report.problems)

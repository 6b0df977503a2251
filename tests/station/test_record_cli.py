"""`gym-station record`, `config` and `check` through the real CLI entry point."""

import pytest

from drivers.recording import read_recording
from drivers.replay import ReplayPlate
from drivers.simplate import simulated_plate
from station.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_record_on_the_simulated_plate_replays_to_the_same_samples(tmp_path, capsys):
    out = tmp_path / "set.csv"
    code, stdout, err = run(capsys, "--state-dir", str(tmp_path / "state"), "record", str(out),
                            "--seconds", "20", "--plate", "simulated", "--fast",
                            "--scenario", "clean_set", "--exercise", "hip_thrust", "--side", "left")
    assert code == 0, err
    assert "Recorded" in stdout and "stopped: time" in stdout
    rec = read_recording(out)
    assert rec.meta["exercise"] == "hip_thrust" and rec.meta["side"] == "left"
    # the same plate, built again with the same seed, gives exactly the recorded samples
    plate, _ = simulated_plate("clean_set", seed=1, rate_hz=80.0)
    with plate, ReplayPlate(out) as replay:
        for _ in range(len(rec.samples)):
            assert replay.read() == plate.read()
    assert rec.samples[-1].t - rec.samples[0].t >= 20.0


def test_record_refuses_bad_usage(tmp_path, capsys):
    code, _, err = run(capsys, "record", str(tmp_path / "x.csv"), "--seconds", "-3")
    assert code == 2 and "outside" in err
    code, _, err = run(capsys, "--state-dir", str(tmp_path), "record", str(tmp_path / "x.csv"),
                       "--plate", "replay")
    assert code == 2 and "replay needs a recording file" in err


def test_record_from_a_replay_stops_at_its_end(tmp_path, capsys):
    src = tmp_path / "src.csv"
    src.write_text("# rate_hz: 80\nt,heel,forefoot\n0.0,100.0,50.0\n0.0125,101.0,51.0\n"
                   "0.025,102.0,52.0\n")
    out = tmp_path / "copy.csv"
    code, stdout, err = run(capsys, "--state-dir", str(tmp_path), "record", str(out),
                            "--plate", "replay", "--recording", str(src), "--fast")
    assert code == 0, err
    assert "stopped: end of recording" in stdout
    assert [s.heel for s in read_recording(out).samples] == [100.0, 101.0, 102.0]


def test_config_command(capsys):
    code, stdout, _ = run(capsys, "config")
    assert code == 0 and "DOUT GPIO 6" in stdout and ": OK" in stdout
    code, stdout, _ = run(capsys, "config", "--keys")
    assert code == 0 and "plate.cells" in stdout and "quiet_hours" in stdout


def test_bad_config_is_exit_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "station.toml"
    bad.write_text("[plate]\ngain = 100\n")
    code, _, err = run(capsys, "--config", str(bad), "config")
    assert code == 2
    assert err.count("\n") == 1 and "plate.gain = 100" in err and "Traceback" not in err


def test_no_command_prints_help(capsys):
    code, stdout, _ = run(capsys)
    assert code == 2 and "COMMAND" in stdout


@pytest.mark.parametrize("cmd", ["record", "check", "calibrate", "tare", "config"])
def test_every_command_has_help(cmd, capsys):
    assert main([cmd, "--help"]) == 0
    assert "usage: gym-station " + cmd in capsys.readouterr().out

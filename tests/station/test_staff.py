"""The staff's desk: tare and calibration on screen with the simulated plate behind a real
sampler, today's usage from a real usage log, health from the sampler's status, the USB export to
a folder that a mounts file calls a stick, and the volume kept across restarts."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import sqlite3
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from drivers.athlete import ZoneForce
from drivers.calibration import Calibration
from drivers.clock import VirtualClock
from drivers.plate import ForcePlate, G
from drivers.simplate import CountModel, SilentCell, SimulatedBank, simulated_calibration
from station.config import SHIPPED_CONFIG_DIR, parse_config
from station.kiosk import Athlete
from station.paths import calibration_file
from station.reps import Rep
from station.sampler import Sampler
from station.staff import StaffDesk, audio_file
from station.usage_log import UsageLog
from station.usage_recorder import SessionRecorder
from station.usage_schema import connect
from station.view import UICommand

ROOT = Path(__file__).resolve().parents[2]
WALL = datetime(2026, 11, 25, 15, 0).timestamp()        # local afternoon, 25 November 2026
TODAY = "2026-11-25"
CMD = UICommand
#: Real seconds to wait for the usage log's writer to commit: only a hang runs into it.
LOG_PATIENCE_S = 60.0


def config(**plate):
    """The shipped configuration (exercise names beside it), with ``plate`` keys changed."""
    path = SHIPPED_CONFIG_DIR / "station.toml"
    raw = tomllib.loads(path.read_text())
    raw["plate"].update(plate)
    return parse_config(raw, path)


class Load:
    """What is on the plate: newtons on the heel and forefoot areas, and a sway (N, 1.5 Hz)."""

    def __init__(self):
        self.heel = 0.0
        self.forefoot = 0.0
        self.sway_n = 0.0
        self.left_share = 0.5     #: of the load on the plate's left half (4-cell plates)

    def forces(self, t):
        heel = self.heel + self.sway_n * math.sin(2 * math.pi * 1.5 * t)
        total = heel + self.forefoot
        return ZoneForce(heel, self.forefoot, total * self.left_share,
                         total * (1 - self.left_share))


class Rig:
    """The simulated plate (its counts from a CountModel) behind a real inline sampler, which
    opens the plate with the calibration file of the state directory, as the station does."""

    def __init__(self, tmp_path, cfg=None, *, shift_kg=None, word_rate=None, faults=(),
                 calibrated_days_ago=10.0, write_calibration=True):
        self.cfg = cfg or config()
        self.layout = self.cfg.plate.layout
        self.clock = VirtualClock()
        self.load = Load()
        self.model = CountModel(self.layout, seed=5)
        self.word_rate = word_rate or self.layout.rate_hz
        self.faults = faults
        self.state = tmp_path / "state"
        self.state.mkdir()
        truth = simulated_calibration(self.model)
        shift_kg = shift_kg or (0.0,) * len(self.layout.cells)
        offsets = [o - kg * G * s for o, kg, s in zip(truth.offsets, shift_kg, truth.scales,
                                                        strict=True)]
        stamp = datetime.fromtimestamp(WALL - calibrated_days_ago * 86400, UTC)
        if write_calibration:
            Calibration(tuple(offsets), truth.scales, calibrated_at=stamp.isoformat(),
                        tared_at=stamp.isoformat(), masses_kg=(20.0,)).save(self.cal_path)
        self.sampler = Sampler(self.open_plate, mode="inline")
        self.sampler.start()
        self.samples = []

    @property
    def cal_path(self):
        return calibration_file(self.state)

    def open_plate(self):
        bank = SimulatedBank(self.load, self.layout, self.model, rate_hz=self.word_rate,
                             clock=self.clock, faults=self.faults, t0=0.0)
        return ForcePlate(bank, self.layout, Calibration.load(self.cal_path))

    def desk(self, **kw):
        kw.setdefault("wall", lambda: WALL)
        kw.setdefault("mounts_file", self.state / "no-mounts")
        return StaffDesk.for_station(self.cfg, self.state, self.sampler.reload, **kw)

    def run(self, desk, seconds, frame=1 / 30):
        """Frames of ``frame`` seconds: drain the plate, feed the desk, tick its status."""
        end = self.clock() + seconds
        while self.clock() < end - 1e-9:
            got = self.sampler.drain(until_t=self.clock() + frame)
            self.samples += got
            desk.feed(got)
            desk.tick(self.sampler.poll())

    def mean_newtons(self, seconds):
        recent = [s for s in self.samples if s.t > self.clock() - seconds]
        return np.mean([s.heel for s in recent]), np.mean([s.forefoot for s in recent])


def health(desk):
    return {what: (value, ok) for what, value, ok in desk.staff_view().health}


# -- tare -----------------------------------------------------------------------------------

def test_tare_on_an_empty_still_plate_saves_a_new_zero_the_sampler_then_uses(tmp_path):
    rig = Rig(tmp_path, shift_kg=(2.5, -1.5))   # drifted: the empty plate reads 2.5 kg
    desk = rig.desk()
    desk.open(rig.clock())
    rig.run(desk, 1.5)
    heel, forefoot = rig.mean_newtons(0.5)
    assert heel == pytest.approx(2.5 * G, abs=1.0) and forefoot == pytest.approx(-1.5 * G, abs=1)
    old = Calibration.load(rig.cal_path)
    assert desk.handle(CMD("tare"), rig.clock()) == "Tared: new zero saved"
    new = Calibration.load(rig.cal_path)
    np.testing.assert_allclose(new.offsets, rig.model.offsets, atol=40)   # counts
    assert new.scales == old.scales and new.calibrated_at == old.calibrated_at
    assert new.tared_at == datetime.fromtimestamp(WALL, UTC).isoformat(timespec="seconds")
    assert rig.sampler.poll().reloads == 1
    rig.run(desk, 1.0)
    heel, forefoot = rig.mean_newtons(0.5)
    assert abs(heel) < 0.2 and abs(forefoot) < 0.2          # newtons: the plate reads zero
    assert health(desk)["Last tare"] == ("just now", True)


def test_tare_is_refused_on_a_loaded_or_swaying_plate_and_nothing_changes(tmp_path):
    rig = Rig(tmp_path)
    before = rig.cal_path.read_bytes()
    desk = rig.desk()
    desk.open(0.0)
    assert desk.handle(CMD("tare"), rig.clock()).startswith("Not enough readings")
    rig.load.heel = 70 * G
    rig.run(desk, 1.5)
    note = desk.handle(CMD("tare"), rig.clock())
    assert note.startswith("Tare refused: someone is standing on the plate")
    rig.load.heel, rig.load.sway_n = 2 * G, 1 * G         # a bag left on it, still swinging
    rig.run(desk, 1.5)
    assert "not still" in desk.handle(CMD("tare"), rig.clock())
    assert rig.cal_path.read_bytes() == before
    assert rig.sampler.poll().reloads == 0


def test_tare_without_a_calibration_says_to_calibrate(tmp_path):
    cfg = config()
    state = tmp_path / "state"
    state.mkdir()
    desk = StaffDesk.for_station(cfg, state, None, wall=lambda: WALL)
    assert "tap Calibrate" in desk.handle(CMD("tare"), 0.0)
    assert health(desk)["Calibration"] == ("not calibrated: tap Calibrate", False)


# -- calibration ----------------------------------------------------------------------------

def take(rig, desk, seconds=1.2):
    assert desk.handle(CMD("cal_take"), rig.clock()) is None
    rig.run(desk, seconds)
    return desk.calibrate_view()


def test_calibration_walk_on_screen_finds_the_plates_true_scales(tmp_path):
    cfg = config(calibration_mass_kg=20.0)
    rig = Rig(tmp_path, cfg)
    truth = np.array(rig.model.scales)
    # a calibration that weighs 20 % wrong, to be replaced
    Calibration(rig.model.offsets, tuple(truth * 1.2), calibrated_at="2026-01-01T00:00:00+00:00"
                ).save(rig.cal_path)
    desk = rig.desk()
    desk.open(0.0)
    rig.run(desk, 0.5)
    assert desk.handle(CMD("calibrate"), rig.clock()) is None
    assert desk.page == "calibrate"
    view = desk.calibrate_view()
    assert (view.kind, view.step, view.steps, view.progress) == ("calibrate", 1, 3, 0.0)
    assert "Take everything off the plate" in view.prompt and "tap Take reading" in view.prompt
    # half a reading: the progress shows it
    desk.handle(CMD("cal_take"), rig.clock())
    rig.run(desk, 0.5)
    assert 0.3 < desk.calibrate_view().progress < 0.8
    rig.run(desk, 0.7)
    view = desk.calibrate_view()
    assert view.step == 2 and "20 kg mass on the heel area" in view.prompt
    # forgot to put the mass on: refused with the reason, the same step is asked again
    view = take(rig, desk)
    assert view.step == 2 and "did not change" in view.error and "Take reading" in view.error
    rig.load.heel = 20 * G
    view = take(rig, desk)
    assert view.step == 3 and view.error is None and "forefoot area" in view.prompt
    rig.load.heel, rig.load.forefoot = 0.0, 20 * G
    view = take(rig, desk)
    assert view.done.startswith("Saved: heel") and view.progress == 1.0
    stored = Calibration.load(rig.cal_path)
    np.testing.assert_allclose(stored.scales, truth, rtol=0.01)
    assert stored.calibrated_at == datetime.fromtimestamp(WALL, UTC).isoformat()
    assert rig.sampler.poll().reloads == 1
    # the reopened plate weighs the 20 kg right
    rig.run(desk, 1.0)
    assert sum(rig.mean_newtons(0.5)) == pytest.approx(20 * G, rel=0.01)
    assert desk.handle(CMD("cal_take"), rig.clock()) == "Calibration is saved: tap Back"
    assert desk.handle(CMD("back"), rig.clock()) is None
    assert desk.page == "staff" and desk.calibrate_view() is None
    assert health(desk)["Calibration"] == ("just now", True)


def test_calibration_walk_of_a_four_cell_plate(tmp_path):
    cells = [{"name": f"{zone} {edge}", "zone": zone, "edge": edge, "data_pin": pin}
             for (zone, edge), pin in zip([("heel", "left"), ("heel", "right"),
                                           ("forefoot", "left"), ("forefoot", "right")],
                                          (6, 13, 19, 26), strict=True)]
    rig = Rig(tmp_path, config(cells=cells, calibration_mass_kg=15.0))
    desk = rig.desk()
    desk.open(0.0)
    rig.run(desk, 0.5)
    desk.handle(CMD("calibrate"), rig.clock())
    assert take(rig, desk).steps == 5
    for zone in ("heel", "forefoot"):
        for edge, share in (("left", 1.0), ("right", 0.0)):
            view = desk.calibrate_view()
            assert f"15 kg mass on the {zone} area, {edge} half" in view.prompt
            rig.load.heel, rig.load.forefoot = (15 * G, 0.0) if zone == "heel" else (0.0, 15 * G)
            rig.load.left_share = share
            view = take(rig, desk)
    assert view.done and view.done.startswith("Saved: heel left")
    np.testing.assert_allclose(Calibration.load(rig.cal_path).scales, rig.model.scales,
                               rtol=0.01)


@pytest.mark.parametrize("leave", ["cal_cancel", "back"])
def test_cancelling_a_calibration_leaves_the_stored_one_unchanged(tmp_path, leave):
    rig = Rig(tmp_path)
    before = rig.cal_path.read_bytes()
    desk = rig.desk()
    desk.open(0.0)
    rig.run(desk, 0.5)
    desk.handle(CMD("calibrate"), rig.clock())
    take(rig, desk)
    rig.load.heel = 20 * G
    assert take(rig, desk).step == 3
    note = desk.handle(CMD(leave), rig.clock())
    assert note == "Calibration cancelled: the stored calibration is unchanged"
    assert desk.page == "staff" and desk.calibrate_view() is None
    rig.run(desk, 0.5)
    assert rig.cal_path.read_bytes() == before and rig.sampler.poll().reloads == 0


def test_a_plate_fault_during_a_reading_stops_it_with_the_reason(tmp_path):
    rig = Rig(tmp_path, faults=(SilentCell(0, 1.0, 2.0),))   # silent longer than the timeout
    desk = rig.desk()
    desk.open(0.0)
    rig.run(desk, 0.5)
    desk.handle(CMD("calibrate"), rig.clock())
    view = take(rig, desk, 1.2)
    assert view.step == 1 and view.progress == 0.0
    assert view.error.startswith("The plate stopped sending readings (HX711 on GPIO 6")
    rig.run(desk, 0.5)
    view = take(rig, desk)                       # the chip is back: the step is taken
    assert view.step == 2 and view.error is None


# -- health ---------------------------------------------------------------------------------

def test_health_shows_calibration_age_rate_and_no_faults_on_a_good_plate(tmp_path):
    rig = Rig(tmp_path, calibrated_days_ago=12)
    desk = rig.desk()
    desk.open(0.0)
    assert health(desk)["Sample rate"] == ("no samples yet", False)
    rig.run(desk, 3.0)
    h = health(desk)
    assert h["Calibration"] == ("12 days ago", True)
    assert h["Sample rate"] == ("80.0/s of 80", True)
    assert h["Plate now"] == ("OK", True) and h["Faults since start"] == ("none", True)
    assert h["Samples dropped"] == ("0", True) and h["Sampler restarts"] == ("0", True)


def test_health_shows_faults_by_kind_the_current_fault_and_a_low_rate(tmp_path):
    cfg = config()
    rig = Rig(tmp_path, cfg, word_rate=40.0, calibrated_days_ago=200,
              faults=(SilentCell(1, 2.0, 2.8),))
    desk = rig.desk()
    desk.open(0.0)
    rig.run(desk, 2.3)
    h = health(desk)
    assert h["Plate now"][1] is False and "GPIO 13" in h["Plate now"][0]
    rig.run(desk, 3.0)
    h = health(desk)
    assert h["Plate now"] == ("OK", True)
    count, ok = h["Faults: timeout"]
    assert int(count) >= 1 and not ok and "Faults since start" not in h
    value, ok = h["Sample rate"]
    assert value.endswith("/s of 80") and 30 < float(value.split("/")[0]) <= 40.5 and not ok
    assert h["Calibration"] == ("200 days old: calibrate again", False)


# -- today's usage --------------------------------------------------------------------------

def rep(i, good):
    return Rep(i, 3.0 * i, 3.0 * i + 2.5, 0.6, 1.2, 0.9, 0.7, 0.6, 700.0, good,
               () if good else ("toe_drive",), 650.0, 200.0)


def write_usage(state, wall_t=WALL):
    """Yesterday: one guest session. Today: Ada twice (hip thrust, 5 reps, 4 good), Ben once
    (calf raise, 2 reps), a guest once (hip thrust, no reps)."""
    wall = [wall_t - 86400]
    with UsageLog(state / "usage.sqlite3", station_id="station-1", wall=lambda: wall[0]) as log:
        rec = SessionRecorder(log)
        rec.session_started(0.0, None, "calf_raise", "left")
        rec.rep_completed(rep(0, True), exercise="calf_raise", side="left", set_index=1)
        rec.session_ended(60.0, "done")
        wall[0] = wall_t
        ada, ben = Athlete("a1", "=Ada"), Athlete("b2", "Ben")
        for start, reps in ((100.0, [True, True, False]), (400.0, [True, True])):
            rec.session_started(start, ada, "single_leg_hip_thrust", "left")
            for i, good in enumerate(reps):
                rec.rep_completed(rep(i, good), exercise="single_leg_hip_thrust", side="left",
                                  set_index=1)
            rec.session_ended(start + 120.0, "done")
        rec.session_started(700.0, ben, "calf_raise", "right")
        for i in range(2):
            rec.rep_completed(rep(i, True), exercise="calf_raise", side="right", set_index=1)
        rec.session_ended(760.0, "home")
        rec.session_started(800.0, None, "single_leg_hip_thrust", "left")
        rec.session_ended(830.0, "home")
        assert log.flush(LOG_PATIENCE_S)


def test_today_at_a_glance_from_the_usage_log(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    write_usage(state)
    desk = StaffDesk.for_station(config(), state, None, wall=lambda: WALL)
    assert desk.staff_view().today == ()             # read when the page opens, not before
    desk.open(0.0)
    assert dict(desk.staff_view().today) == {
        "Sessions": "4", "Athletes": "2", "Guest sessions": "1", "Reps": "7",
        "Good reps": "6 (86%)", "Busiest exercise": "Single-leg hip thrust (3 sessions)",
        "Minutes on the plate": "6"}


def test_a_missing_or_locked_usage_log_is_a_row_not_an_error(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    desk = StaffDesk.for_station(config(), state, None, wall=lambda: WALL)
    desk.open(0.0)
    assert desk.staff_view().today == (("Usage log", "no sessions recorded yet"),)
    write_usage(state)
    holder = sqlite3.connect(state / "usage.sqlite3", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE counter SET seq = seq WHERE id = 1")
        desk.open(0.0)
        ((what, value),) = desk.staff_view().today
        assert what == "Usage log" and "locked" in value
    finally:
        holder.close()
    desk.open(0.0)
    assert dict(desk.staff_view().today)["Sessions"] == "4"


# -- USB export -----------------------------------------------------------------------------

def stick(tmp_path, options="rw,nosuid,nodev,relatime,uid=1000,gid=1000", fstype="vfat"):
    """A folder under a fake /media and a mounts file that says a stick is mounted there."""
    media = tmp_path / "media"
    mount = media / "pi" / "KINGSTON STICK"
    mount.mkdir(parents=True)
    mounts = tmp_path / "mounts"
    escaped = str(mount).replace(" ", "\\040")
    mounts.write_text("/dev/mmcblk0p2 / ext4 rw,noatime 0 0\n"
                      f"/dev/sdb1 {tmp_path / 'elsewhere'} vfat rw 0 0\n"
                      f"/dev/sda1 {escaped} {fstype} {options} 0 0\n")
    return media, mount, mounts


def export_desk(tmp_path, mounts, media):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    events = []

    class Events:
        def event(self, kind, detail):
            events.append((kind, detail))

    desk = StaffDesk.for_station(config(), state, None, wall=lambda: WALL, events=Events(),
                                 mounts_file=mounts, media_roots=(media,))
    return desk, state, events


def test_export_writes_the_dated_usage_csv_to_the_stick(tmp_path):
    media, mount, mounts = stick(tmp_path)
    desk, state, events = export_desk(tmp_path, mounts, media)
    write_usage(state)
    desk.open(0.0)
    assert desk.staff_view().usb == "KINGSTON STICK"
    note = desk.handle(CMD("export_usb"), 0.0)
    name = f"gym-station-usage-station-1-{TODAY}.csv"   # the station's id: racks share a stick
    assert note == f"Exported 4 rows to KINGSTON STICK/{name}"
    assert sorted(p.name for p in mount.iterdir()) == [name]
    rows = list(csv.DictReader(io.StringIO((mount / name).read_text())))
    yesterday = datetime.fromtimestamp(WALL - 86400).date().isoformat()
    assert [(r["day"], r["athlete"], r["sessions"], r["reps"]) for r in rows] == [
        (yesterday, "guest", "1", "1"),
        (TODAY, "'=Ada (a1)", "2", "5"),        # a name a spreadsheet would run is escaped
        (TODAY, "Ben (b2)", "1", "2"),
        (TODAY, "guest", "1", "0")]
    assert rows[1]["good_reps"] == "4" and float(rows[1]["minutes"]) == 4.0
    assert events == [("export", {"rows": 4, "file": name, "to": "usb", "by": "staff"})]


def test_export_without_a_stick_or_to_a_read_only_one_writes_nothing(tmp_path):
    media, mount, mounts = stick(tmp_path, options="ro,nosuid,nodev,relatime")
    desk, state, events = export_desk(tmp_path, mounts, media)
    write_usage(state)
    desk.open(0.0)
    assert "write-protected" in desk.handle(CMD("export_usb"), 0.0)
    assert list(mount.iterdir()) == [] and events == []
    mounts.write_text("/dev/mmcblk0p2 / ext4 rw 0 0\n")      # pulled out
    assert desk.handle(CMD("export_usb"), 0.0) == "Plug in a USB stick"
    desk.tick(None)
    assert desk.staff_view().usb is None
    _media, _mount, ext4 = stick(tmp_path / "x", fstype="ext4")   # not a stick's filesystem
    desk2, _s, _e = export_desk(tmp_path, ext4, _media)
    assert desk2.handle(CMD("export_usb"), 0.0) == "Plug in a USB stick"


def test_export_to_a_full_stick_leaves_no_partial_file(tmp_path):
    """The export runs in a child process whose file size limit (RLIMIT_FSIZE) is far below the
    CSV: the kernel refuses the write with EFBIG, as a stick with no room left does. The usage
    log stays open here meanwhile, as the station's writer keeps it (so its WAL index exists
    and the child's read needs no file to grow)."""
    media, mount, mounts = stick(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    write_usage(state)
    writer = connect(state / "usage.sqlite3")
    writer.execute("SELECT seq FROM counter").fetchall()
    script = f"""
import resource, signal
from pathlib import Path
from station.staff import StaffDesk
from station.view import UICommand
from tests.station.test_staff import config
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
desk = StaffDesk.for_station(config(), Path({str(state)!r}), None, wall=lambda: {WALL!r},
                             mounts_file=Path({str(mounts)!r}), media_roots=({str(media)!r},))
desk.open(0.0)
resource.setrlimit(resource.RLIMIT_FSIZE, (60, resource.RLIM_INFINITY))
print(desk.handle(UICommand("export_usb"), 0.0))
"""
    try:
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
    finally:
        writer.close()
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("The USB stick KINGSTON STICK is full: free some space or use "
                                  "another stick")
    assert list(mount.iterdir()) == []


def test_export_with_no_usage_log_says_so(tmp_path):
    media, mount, mounts = stick(tmp_path)
    desk, _state, _events = export_desk(tmp_path, mounts, media)
    assert desk.handle(CMD("export_usb"), 0.0).startswith("Nothing exported: no usage log")
    assert list(mount.iterdir()) == []


# -- volume and leaving ---------------------------------------------------------------------

def test_volume_steps_stay_in_bounds_and_survive_a_restart(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    cfg = config()
    desk = StaffDesk.for_station(cfg, state, None)
    assert (desk.audio.volume, desk.audio.muted) == (cfg.audio.volume, cfg.audio.mute) == (0.8,
                                                                                          False)
    assert desk.handle(CMD("volume_up"), 0.0) == "Volume 90%"
    assert desk.handle(CMD("volume_up"), 0.0) == "Volume 100%"
    assert desk.handle(CMD("volume_up"), 0.0) == "Volume already at maximum"
    assert desk.audio.volume == 1.0 and desk.staff_view().volume == 100
    for _ in range(12):
        desk.handle(CMD("volume_down"), 0.0)
    assert desk.audio.volume == 0.0 and desk.staff_view().volume == 0
    assert desk.handle(CMD("volume_down"), 0.0) == "Volume already at minimum"
    for _ in range(3):
        desk.handle(CMD("volume_up"), 0.0)
    assert desk.handle(CMD("mute"), 0.0) == "Muted"
    assert desk.staff_view().muted and desk.audio.volume == 0.3
    assert audio_file(state).stat().st_mode & 0o777 == 0o600
    again = StaffDesk.for_station(cfg, state, None)
    assert (again.audio.volume, again.audio.muted) == (0.3, True)
    assert again.handle(CMD("mute"), 0.0) == "Volume 30%"
    assert StaffDesk.for_station(cfg, state, None).audio.muted is False


def test_a_damaged_volume_file_falls_back_to_the_configured_volume(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    audio_file(state).write_text(json.dumps({"volume": 7, "muted": False}))
    assert StaffDesk.for_station(config(), state, None).audio.volume == 0.8


def test_leaving_the_kiosk_is_asked_for_by_the_desk(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    desk = StaffDesk.for_station(config(), state, None)
    assert not desk.exit_requested
    assert desk.handle(CMD("exit_kiosk"), 0.0) == "Leaving the kiosk"
    assert desk.exit_requested


def test_two_racks_export_to_one_stick_side_by_side(tmp_path):
    """Staff go round the racks with one stick: each rack's export keeps its own file (the
    station's id in the name, made safe for a FAT stick), and a second export the same day
    replaces that rack's file with the newer, complete one."""
    media, mount, mounts = stick(tmp_path)
    names = []
    for station_id in ("rack-3", "Rack 4/west"):
        cfg = config()
        cfg = dataclasses.replace(cfg, station=dataclasses.replace(cfg.station, id=station_id))
        state = tmp_path / station_id.replace("/", "_")
        state.mkdir()
        write_usage(state)
        desk = StaffDesk.for_station(cfg, state, None, wall=lambda: WALL, mounts_file=mounts,
                                     media_roots=(media,))
        desk.open(0.0)
        assert desk.handle(CMD("export_usb"), 0.0).startswith("Exported 4 rows")
        names.append(desk.handle(CMD("export_usb"), 1.0).rsplit("/", 1)[1])
    assert names == [f"gym-station-usage-rack-3-{TODAY}.csv",
                     f"gym-station-usage-Rack-4-west-{TODAY}.csv"]
    assert sorted(p.name for p in mount.iterdir()) == sorted(names)

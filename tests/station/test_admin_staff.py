"""The staff's way in: the staff PIN opens the staff desk's screens (station.staff), its
commands reach it with the plate's time, every frame's samples and sampler status reach it on
every screen, its volume and leaving the kiosk reach the ViewState, and the staff cannot use
the coach's screens nor the coach the staff's."""

import pytest

from station.config import SHIPPED_CONFIG_DIR, load_config
from station.sampler import SamplerStatus
from station.staff import StaffDesk
from station.view import AudioView, CalibrateView, StaffView
from tests.station.test_admin import (  # noqa: F401 - cheap_scrypt is an autouse fixture
    STAFF_PIN,
    cheap_scrypt,
    coach_in,
    do,
    empty_plate,
    station,
)

OK = SamplerStatus(running=True, heartbeat_age_s=0.01, samples=10, dropped=0, restarts=0)


def real_desk(tmp_path):
    cfg = load_config(SHIPPED_CONFIG_DIR / "station.toml")
    return StaffDesk.for_station(cfg, tmp_path, None, wall=lambda: 1.8e9,
                                 mounts_file=tmp_path / "no-mounts", media_roots=())


def test_the_staff_pin_opens_the_staff_desk(tmp_path):
    desk = real_desk(tmp_path)
    k, admin = station(tmp_path, desk=desk)
    empty_plate(k, 3.0, cells=(8000, 8000))            # on the idle screen: the desk is fed
    assert desk.sample_rate() == 80.0
    v = coach_in(k, "staff", STAFF_PIN)
    assert v.screen == "staff" and v.admin.role == "staff"
    assert isinstance(v.admin.staff, StaffView)
    volume = v.audio.volume
    v = do(k, "volume_down")
    assert v.audio.volume == pytest.approx(volume - 0.1)
    assert v.admin.staff.volume == round(100 * volume) - 10
    v = do(k, ("open", "coach"))
    assert v.screen == "staff" and "for the coach" in v.admin.note
    v = do(k, "new_athlete")
    assert v.screen == "staff" and "for the coach" in v.admin.note
    v = do(k, "calibrate")
    assert v.screen == "calibrate" and isinstance(v.admin.calibrate, CalibrateView)
    v = do(k, "back")
    assert v.screen == "staff"
    v = do(k, "back")
    assert v.screen == "idle" and v.admin is None
    assert v.audio.volume == pytest.approx(volume - 0.1)  # the staff's volume stays
    coach_in(k, "staff", STAFF_PIN)
    v = do(k, "exit_kiosk")
    assert v.exit_requested


class RecordingDesk:
    """Records what the kiosk hands a staff desk (for the every-frame contract)."""

    page = "staff"
    exit_requested = False

    def __init__(self):
        self.frames = 0
        self.samples = 0
        self.statuses = []
        self.commands = []
        self.audio = AudioView(0.3, True)

    def open(self, now):
        self.commands.append(("open", now))

    def handle(self, command, now):
        self.commands.append((command.kind, now))
        if command.kind == "calibrate":
            self.page = "calibrate"
        if command.kind == "back":
            self.page = "staff"
        return f"did {command.kind}"

    def feed(self, samples):
        self.frames += 1
        self.samples += len(samples)

    def tick(self, status):
        self.statuses.append(status)

    def staff_view(self):
        return StaffView((), (), None, 30, True)

    def calibrate_view(self):
        return None


def test_the_desk_is_fed_every_frame_on_every_screen(tmp_path):
    desk = RecordingDesk()
    k, _ = station(tmp_path, desk=desk)
    assert k.view().audio == AudioView(0.3, True)
    empty_plate(k, 1.0)
    k.tick(OK)
    coach_in(k)                                        # the coach's screens
    empty_plate(k, 1.0)
    k.tick(OK)
    do(k, "lock")
    coach_in(k, "staff", STAFF_PIN)
    empty_plate(k, 1.0)
    k.tick(OK)
    assert (desk.frames, desk.samples, desk.statuses) == (60, 240, [OK, OK, OK])
    v = do(k, "tare", "calibrate")
    assert v.screen == "calibrate" and v.admin.note == "did calibrate"
    assert [c for c, _ in desk.commands] == ["open", "tare", "calibrate"]
    assert desk.commands[1][1] == k.now                 # the plate's time
    v = do(k, "back")
    assert v.screen == "staff" and desk.commands[-1][0] == "back"

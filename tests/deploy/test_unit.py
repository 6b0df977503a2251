"""deploy/gym-station.service: `systemd-analyze verify` and the settings the station relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "gym-station.service"
INSTALL_SH = REPO / "deploy" / "install.sh"


def settings(text: str) -> dict[str, list[str]]:
    """KEY -> every value it is given, across sections (comments skipped)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def verify(unit_text: str, tmp_path: Path, name: str = "gym-station.service") -> str:
    """Run systemd-analyze verify on a copy whose ExecStart is a real executable; its output."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd; .ci/run has it)")
    exe = tmp_path / "gym-station"
    exe.write_text(f"#!{sys.executable}\nraise SystemExit(0)\n")
    exe.chmod(0o755)
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={exe}", unit_text, flags=re.M)
    path = tmp_path / name
    path.write_text(text)
    proc = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                          text=True, timeout=60)
    output = (proc.stdout + proc.stderr).strip()
    if "Failed to initialize manager" in output or "Failed to setup" in output:
        pytest.skip(f"systemd-analyze cannot run here: {output.splitlines()[0]}")
    # systemd-analyze exits 0 even for unknown keys; every line it prints is a finding
    return "\n".join(ln for ln in output.splitlines()
                     if "non-existent unit multi-user.target" not in ln)


def test_systemd_analyze_verify_is_clean(tmp_path):
    assert verify(UNIT.read_text(), tmp_path) == ""


def test_verify_would_catch_a_broken_unit(tmp_path):
    """The check above can fail: a misspelt key and a bad value are reported."""
    broken = UNIT.read_text().replace("Restart=always", "Restart=sometimes") \
        .replace("NoNewPrivileges=yes", "NoNewPrivilege=yes")
    found = verify(broken, tmp_path, "broken.service")
    assert "sometimes" in found and "NoNewPrivilege" in found


def test_service_contract():
    s = settings(UNIT.read_text())
    one = {k: v[-1] for k, v in s.items()}
    assert one["Type"] == "notify"
    assert one["NotifyAccess"] == "main"
    assert one["ExecStart"] == "/opt/gym-station/venv/bin/gym-station run"
    assert one["Restart"] == "always"
    assert one["RestartPreventExitStatus"] == "0"
    assert float(one["WatchdogSec"]) > 0
    assert int(one["LimitRTPRIO"]) >= 10  # the sampler asks for SCHED_FIFO priority 10
    assert one["User"] == "gym-station"
    env = dict(v.split("=", 1) for v in s["Environment"])
    assert env["GYM_STATION_CONFIG"] == "/etc/gym-station/station.toml"
    assert env["GYM_STATION_STATE"] == "/var/lib/gym-station"
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    assert one["WantedBy"] == "multi-user.target"


def test_hardening_that_keeps_gpio_drm_and_audio():
    s = settings(UNIT.read_text())
    one = {k: v[-1] for k, v in s.items()}
    assert one["ProtectSystem"] == "strict"
    assert "/var/lib/gym-station" in one["ReadWritePaths"].split()
    for key in ("PrivateTmp", "NoNewPrivileges", "ProtectHome", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectControlGroups"):
        assert one[key] == "yes", key
    # these hide /dev/gpiochip*, /dev/dri, /dev/snd or forbid SCHED_FIFO: never on
    for key in ("PrivateDevices", "ProtectClock", "DevicePolicy", "DeviceAllow",
                "RestrictRealtime"):
        assert key not in s, key


def test_unit_groups_match_the_installer():
    unit_groups = set(settings(UNIT.read_text())["SupplementaryGroups"][-1].split())
    m = re.search(r"^GROUPS_WANTED=\(([^)]*)\)", INSTALL_SH.read_text(), re.M)
    assert m, "install.sh lists the groups in GROUPS_WANTED=(...)"
    assert set(m.group(1).split()) == unit_groups == {"gpio", "video", "render", "input", "audio"}


def test_leaving_the_kiosk_is_final_and_everything_else_restarts():
    """Staff leaving the kiosk makes `gym-station run` exit 0: the one exit systemd must not
    undo. Crashes, watchdog timeouts, non-zero exits and deaths by signal restart, for ever."""
    s = settings(UNIT.read_text())
    one = {k: v[-1] for k, v in s.items()}
    assert one["Restart"] == "always"
    assert one["RestartPreventExitStatus"].split() == ["0"]
    assert one["StartLimitIntervalSec"] == "0"
    # SIGTERM's unwind exits 143: a success for `systemctl stop`, and restarted when stray
    assert one["SuccessExitStatus"].split() == ["143"]
    from station.cli import EXIT_OK, EXIT_TERMINATED

    assert (EXIT_OK, EXIT_TERMINATED) == (0, 143)


def test_the_usb_export_can_write_where_sticks_are_mounted():
    """ProtectSystem=strict makes every folder read-only unless listed: the folders the staff's
    export looks for sticks in must be, each optional ("-") as not every Pi has them all."""
    from station.usb_export import MEDIA_ROOTS

    paths = settings(UNIT.read_text())["ReadWritePaths"][-1].split()
    assert {f"-{root}" for root in MEDIA_ROOTS} <= set(paths)

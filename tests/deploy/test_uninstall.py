"""deploy/install.sh as the update path, --uninstall (keeps config and data) and --purge."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from installer import CMDLINE, REPO, make_root, run_install, snapshot  # noqa: E402


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    """An installed station whose staff edited the config and that has collected data."""
    root = make_root(tmp_path_factory.mktemp("pi-root"),
                     cmdline=CMDLINE.replace("rootwait", "rootwait consoleblank=600"))
    run_install(root)
    toml = root / "etc/gym-station/station.toml"
    toml.write_text(toml.read_text().replace('id = "station-1"', 'id = "rack-3"'))
    (root / "var/lib/gym-station/calibration.json").write_text('{"offsets": [1, 2]}\n')
    update = run_install(root)
    return root, update


def test_update_keeps_config_and_data_and_offers_the_shipped_config(station):
    root, update = station
    toml = root / "etc/gym-station/station.toml"
    assert 'id = "rack-3"' in toml.read_text()
    dist = root / "etc/gym-station/station.toml.dist"
    assert dist.read_bytes() == (REPO / "config/station.toml").read_bytes()
    assert oct(dist.stat().st_mode & 0o777) == "0o640"
    assert "keeping your" in update.stdout and str(dist) in update.stdout
    assert (root / "var/lib/gym-station/calibration.json").read_text() == '{"offsets": [1, 2]}\n'
    # an existing consoleblank=600 became 0, in place (no second token)
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline.count("consoleblank=") == 1 and "rootwait consoleblank=0 quiet" in cmdline


def test_uninstall_keeps_data_then_purge_removes_everything(station):
    root, _ = station
    proc = run_install(root, "--uninstall")
    assert not (root / "opt/gym-station").exists()
    sysd = root / "etc/systemd/system"
    assert not (sysd / "gym-station.service").exists()
    assert not (sysd / "multi-user.target.wants/gym-station.service").exists()
    assert not (sysd / "getty@tty1.service").exists()  # the login prompt is back
    assert not (root / "etc/udev/rules.d/99-gym-station-usb.rules").exists()  # no more automount
    assert not (root / "usr/local/bin/gym-station").exists()  # no console command left dangling
    assert "skip (--root): udevadm control --reload" in proc.stdout
    # the kernel command line is as it was before the install
    assert (root / "boot/firmware/cmdline.txt").read_text() == \
        CMDLINE.replace("rootwait", "rootwait consoleblank=600")
    assert 'id = "rack-3"' in (root / "etc/gym-station/station.toml").read_text()
    assert (root / "var/lib/gym-station/calibration.json").exists()
    assert "kept" in proc.stdout and "--purge" in proc.stdout
    assert "skip (--root): systemctl stop gym-station.service" in proc.stdout

    kept = snapshot(root)
    again = run_install(root, "--uninstall")  # twice = once
    assert snapshot(root) == kept
    assert not [ln for ln in again.stdout.splitlines() if ln.startswith("+ ")]

    purge = run_install(root, "--purge")
    assert not (root / "etc/gym-station").exists()
    assert not (root / "var/lib/gym-station").exists()
    assert "skip (--root): userdel gym-station" in purge.stdout


def test_uninstall_removes_a_consoleblank_it_added(tmp_path):
    root = make_root(tmp_path / "root")
    (root / "opt/gym-station").mkdir(parents=True)
    cmdline = root / "boot/firmware/cmdline.txt"
    cmdline.write_text(CMDLINE.rstrip("\n") + " consoleblank=0\n")
    (root / "opt/gym-station/consoleblank.orig").write_text("\n")  # the installer added it
    run_install(root, "--uninstall")
    assert cmdline.read_text() == CMDLINE

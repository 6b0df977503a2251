"""USB sticks mount on the Pi for the staff's export: deploy/99-gym-station-usb.rules and its
helper deploy/usb-stick (which stick, where, with which options), run on a made-up /sys,
/proc/self/mountinfo and /etc/fstab. The installer's part is in test_install.py and
test_uninstall.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from station.usb_export import MEDIA_ROOTS, STICK_FILESYSTEMS

REPO = Path(__file__).resolve().parents[2]
RULE = REPO / "deploy" / "99-gym-station-usb.rules"
HELPER = REPO / "deploy" / "usb-stick"
UNIT = REPO / "deploy" / "gym-station.service"
MEDIA = "/media/gym-station"

# An SD-card-booted Pi: / and /boot/firmware on mmcblk0, nothing else mounted yet.
SD_BOOT = """\
22 29 0:21 / /proc rw,relatime shared:12 - proc proc rw
29 1 179:2 / / rw,noatime shared:1 - ext4 /dev/mmcblk0p2 rw
30 29 179:1 / /boot/firmware rw,relatime shared:2 - vfat /dev/mmcblk0p1 rw,fmask=0022
"""
# A Pi booted from a USB SSD (sda): its boot partition is FAT on a USB disk, like a stick.
USB_BOOT = """\
22 29 0:21 / /proc rw,relatime shared:12 - proc proc rw
29 1 8:2 / / rw,noatime shared:1 - ext4 /dev/sda2 rw
30 29 8:1 / /boot/firmware rw,relatime shared:2 - vfat /dev/sda1 rw,fmask=0022
"""
PI_FSTAB = """\
proc            /proc           proc    defaults          0       0
PARTUUID=4e639091-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=4e639091-02  /               ext4    defaults,noatime  0       1
# UUID=DEAD-BEEF  /mnt/old  vfat  defaults  0  0
"""
#: kernel name -> (major:minor, whole disk or None for a disk itself)
BLOCK = {"mmcblk0p1": ("179:1", "mmcblk0"), "mmcblk0p2": ("179:2", "mmcblk0"),
         "sda1": ("8:1", "sda"), "sda2": ("8:2", "sda"), "sdb1": ("8:17", "sdb"),
         "sdb2": ("8:18", "sdb"), "sdc1": ("8:33", "sdc"), "sdd": ("8:48", None)}


@pytest.fixture
def system(tmp_path):
    """A /sys with the block devices above (as the kernel lays them out: a partition is a folder
    inside its disk's, with a ``partition`` file), an fstab and a mountinfo file to fill in."""
    sysfs = tmp_path / "sys"
    for name, (majmin, disk) in BLOCK.items():
        where = sysfs / "devices/platform/soc" / "block"
        dev = where / disk / name if disk else where / name
        dev.mkdir(parents=True, exist_ok=True)
        if disk:
            (dev / "partition").write_text("1\n")
        link = sysfs / "dev/block" / majmin
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(dev, link.parent))
    fstab = tmp_path / "fstab"
    fstab.write_text(PI_FSTAB)
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(SD_BOOT)
    return {"GYM_STATION_USB_SYSFS": str(sysfs), "GYM_STATION_USB_FSTAB": str(fstab),
            "GYM_STATION_USB_MOUNTINFO": str(mountinfo)}


def stick(system, kname="sdb1", fs="vfat", label="KIOSK", **props):
    """Run usb-stick as udev would for ``kname``: (properties it printed, its stderr)."""
    majmin = BLOCK[kname][0]
    env = {"PATH": os.environ["PATH"], **system, "DEVNAME": f"/dev/{kname}",
           "MAJOR": majmin.split(":")[0], "MINOR": majmin.split(":")[1], "ID_FS_TYPE": fs,
           "ID_FS_LABEL": label, "ID_FS_USAGE": "filesystem",
           "DEVLINKS": f"/dev/disk/by-id/usb-SanDisk_Cruzer-0:0-part1 /dev/disk/by-label/{label}",
           **props}
    proc = subprocess.run(["sh", str(HELPER)], env=env, capture_output=True, text=True,
                          timeout=30, check=True)
    out = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    return out, proc.stderr


def test_a_fat_stick_mounts_under_its_label_writable_and_flushed(system):
    props, _ = stick(system)
    assert props["GYM_STATION_STICK"] == f"{MEDIA}/KIOSK"
    assert props["GYM_STATION_FSTYPE"] == "vfat"
    options = props["GYM_STATION_OPTIONS"].split(",")
    assert "flush" in options and "umask=0007" in options
    assert {"noexec", "nosuid", "nodev", "noatime"} <= set(options)


@pytest.mark.parametrize("fs, driver", [("exfat", "exfat"), ("ntfs", "ntfs3")])
def test_exfat_and_ntfs_have_no_flush_so_they_are_mounted_sync(system, fs, driver):
    props, _ = stick(system, fs=fs)
    assert props["GYM_STATION_FSTYPE"] == driver
    options = props["GYM_STATION_OPTIONS"].split(",")
    assert "sync" in options and "flush" not in options and "umask=0007" in options


def test_every_driver_it_mounts_with_is_one_the_export_recognises(system):
    for fs in ("vfat", "exfat", "ntfs"):
        assert stick(system, fs=fs)[0]["GYM_STATION_FSTYPE"] in STICK_FILESYSTEMS


@pytest.mark.parametrize("fs", ["ext4", "iso9660", ""])
def test_other_filesystems_are_left_alone(system, fs):
    props, why = stick(system, fs=fs)
    assert props == {}
    assert "not FAT, exFAT or NTFS" in why


@pytest.mark.parametrize("label, name", [
    ("", "sdb1"),                 # no label: the kernel name
    ("..", "sdb1"),               # a label that would climb out of /media/gym-station
    (".", "sdb1"),
    ("a/b", "a_b"),               # a label is one folder, never a path
    ("it's \"x\" $HOME%", "it_s__x___HOME_"),  # nothing udev's RUN line would unquote or expand
    ("Clé_USB", "Clé_USB"),       # UTF-8 stays readable
])
def test_the_folder_is_the_label_made_safe_else_the_kernel_name(system, label, name):
    props, _ = stick(system, label=label)
    assert props["GYM_STATION_STICK"] == f"{MEDIA}/{name}"


def test_a_second_stick_with_the_same_label_gets_its_kernel_name_added(system):
    mountinfo = Path(system["GYM_STATION_USB_MOUNTINFO"])
    mountinfo.write_text(SD_BOOT + f"90 29 8:17 / {MEDIA}/KIOSK rw,noatime - vfat /dev/sdb1 rw\n")
    props, _ = stick(system, kname="sdc1")
    assert props["GYM_STATION_STICK"] == f"{MEDIA}/KIOSK-sdc1"
    # a second partition of a stick the station mounted is a stick too
    props, _ = stick(system, kname="sdb2", label="DATA")
    assert props["GYM_STATION_STICK"] == f"{MEDIA}/DATA"


def test_a_stick_without_a_partition_table_mounts_too(system):
    props, _ = stick(system, kname="sdd", label="")
    assert props["GYM_STATION_STICK"] == f"{MEDIA}/sdd"


@pytest.mark.parametrize("mountinfo", [USB_BOOT, USB_BOOT.splitlines(True)[1]],
                         ids=["booted", "at-coldplug"])
def test_the_boot_partition_of_a_pi_booted_from_usb_is_never_mounted(system, mountinfo):
    """Only / may be mounted yet when udev replays the devices at boot: the disk is still
    recognised as the system's by its root partition."""
    Path(system["GYM_STATION_USB_MOUNTINFO"]).write_text(mountinfo)
    Path(system["GYM_STATION_USB_FSTAB"]).write_text("")
    props, why = stick(system, kname="sda1", label="bootfs")
    assert props == {}
    assert "in use by the system (/)" in why


def test_a_usb_disk_in_fstab_is_left_to_systemd(system):
    fstab = Path(system["GYM_STATION_USB_FSTAB"])
    for line, props in [("PARTUUID=8a4c1f2e-01 /srv vfat defaults 0 0",
                         {"ID_PART_ENTRY_UUID": "8a4c1f2e-01"}),
                        ("uuid=abcd-1234 /srv vfat defaults 0 0", {"ID_FS_UUID": "ABCD-1234"}),
                        ("/dev/disk/by-label/KIOSK /srv vfat defaults 0 0", {}),
                        ("/dev/sdb1 /srv vfat defaults 0 0", {})]:
        fstab.write_text(PI_FSTAB + line + "\n")
        found, why = stick(system, **props)
        assert found == {}, line
        assert "listed in" in why
    # a commented-out line is no entry
    fstab.write_text(PI_FSTAB)
    assert stick(system, ID_FS_UUID="DEAD-BEEF")[0]["GYM_STATION_STICK"] == f"{MEDIA}/KIOSK"


def test_helper_is_shellcheck_clean():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck; .ci/run does)")
    proc = subprocess.run(["shellcheck", "--severity=style", str(HELPER)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


# -- the rule ------------------------------------------------------------------------------------

def rules() -> list[str]:
    return [ln for ln in RULE.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def keys(rule: str) -> dict[str, tuple[str, str]]:
    """KEY -> (operator, value) of one udev rule line."""
    return {k: (op, v) for k, op, v in re.findall(r'([A-Z_]+(?:\{[^}]*\})?)\s*([!=+:]?=)\s*"([^"]*)"',
                                                  rule)}


def test_the_rule_imports_the_helper_for_usb_fat_exfat_ntfs_only():
    first = keys(rules()[0])
    assert first["ACTION"] == ("==", "add")
    assert first["SUBSYSTEM"] == ("==", "block")
    assert first["SUBSYSTEMS"] == ("==", "usb")
    assert set(first["ENV{ID_FS_TYPE}"][1].split("|")) == {"vfat", "exfat", "ntfs"}
    assert first["IMPORT{program}"] == ("=", "/opt/gym-station/usb-stick")
    # the helper handles exactly the filesystems the rule hands it
    for fs in first["ENV{ID_FS_TYPE}"][1].split("|"):
        assert re.search(rf"^\s*{fs}\) fstype=", HELPER.read_text(), re.M), fs


def test_the_rule_mounts_through_systemd_where_the_service_may_write():
    second = keys(rules()[1])
    assert second["ENV{GYM_STATION_STICK}"] == ("==", f"{MEDIA}/?*")
    op, run = second["RUN{program}"]
    argv = run.split()
    assert op == "+=" and argv[0] == "/usr/bin/systemd-mount"
    for flag in ("--no-block", "--automount=no", "--collect", "--owner=gym-station",
                 "--property=LazyUnmount=yes"):
        assert flag in argv, flag
    assert argv[-2:] == ["$devnode", "$env{GYM_STATION_STICK}"]
    # every property the RUN line uses is one the helper prints
    used = set(re.findall(r"\$env\{(\w+)\}", run))
    assert used == set(re.findall(r"^printf '(\w+)=", HELPER.read_text(), re.M))
    # the export looks there, and the hardened service may write there
    assert any(MEDIA.startswith(root + "/") for root in MEDIA_ROOTS)
    rw = [ln.split("=", 1)[1].split() for ln in UNIT.read_text().splitlines()
          if ln.startswith("ReadWritePaths=")][-1]
    assert any(MEDIA.startswith(p.lstrip("-") + "/") for p in rw)


def udevadm_verify_or_skip() -> str:
    udevadm = shutil.which("udevadm") or next(
        (p for p in ("/usr/bin/udevadm", "/sbin/udevadm", "/bin/udevadm") if os.access(p, os.X_OK)),
        None)
    if udevadm is None:
        pytest.skip("udevadm is not installed here (Debian package udev), so the rule's syntax "
                    "is not checked by udev itself")
    if subprocess.run([udevadm, "verify", "--help"], capture_output=True).returncode != 0:
        version = subprocess.run([udevadm, "--version"], capture_output=True, text=True).stdout
        pytest.skip(f"udevadm {version.strip()} has no 'verify' (systemd >= 254 has it)")
    return udevadm


def test_udevadm_verify_accepts_the_rule(tmp_path):
    udevadm = udevadm_verify_or_skip()
    proc = subprocess.run([udevadm, "verify", "--resolve-names=never", str(RULE)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_udevadm_verify_would_catch_a_broken_rule(tmp_path):
    udevadm = udevadm_verify_or_skip()
    broken = tmp_path / "99-broken.rules"
    broken.write_text(RULE.read_text().replace('IMPORT{program}="', 'IMPORT{programm}="'))
    proc = subprocess.run([udevadm, "verify", "--resolve-names=never", str(broken)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0

"""deploy/install.sh: shellcheck, --dry-run, and a real install into a temporary root (twice)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from installer import (  # noqa: E402
    CMDLINE,
    INSTALL_SH,
    REPO,
    UNIT,
    make_root,
    mode,
    run_install,
    snapshot,
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """One install into a fresh root, then the same command again: the trees after each."""
    root = make_root(tmp_path_factory.mktemp("pi-root"))
    first = run_install(root)
    after_first = snapshot(root)
    second = run_install(root)
    after_second = snapshot(root)
    return root, first, second, after_first, after_second


def test_shellcheck_clean():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck; .ci/run does)")
    proc = subprocess.run(["shellcheck", "--severity=style", str(INSTALL_SH)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_bash_syntax_and_help():
    subprocess.run(["bash", "-n", str(INSTALL_SH)], check=True)
    proc = subprocess.run(["bash", str(INSTALL_SH), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "--dry-run" in proc.stdout and "--uninstall" in proc.stdout and "--root" in proc.stdout
    bad = subprocess.run(["bash", str(INSTALL_SH), "--frobnicate"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "unknown option '--frobnicate'" in bad.stderr


def test_root_must_exist(tmp_path):
    proc = run_install(tmp_path / "missing", check=False)
    assert proc.returncode != 0
    assert "no such directory" in proc.stderr


def test_dry_run_says_everything_and_changes_nothing(tmp_path):
    root = make_root(tmp_path / "root")
    before = snapshot(root)
    proc = run_install(root, "--dry-run")
    assert snapshot(root) == before
    out = proc.stdout
    assert not [ln for ln in out.splitlines() if ln.startswith("+ ")], out  # nothing was run
    apt = next(ln for ln in out.splitlines() if "apt-get install" in ln)
    for pkg in ("python3-venv", "python3-lgpio", "libdrm2", "libgbm1", "libegl1", "libgles2",
                "espeak-ng", "sqlite3"):
        assert pkg in apt.split(), pkg
    assert "libasound2" in apt  # libasound2 (Bookworm) or libasound2t64 (Trixie)
    assert "would: useradd --system" in out
    assert "usermod -a -G gpio,video,render,input,audio gym-station" in out
    assert f"would: install -d -m 750 {root}/etc/gym-station" in out
    assert f"would: install -m 640 {REPO}/config/station.toml {root}/etc/gym-station/station.toml" in out
    assert f"would: install -d -m 750 {root}/var/lib/gym-station" in out
    assert f"venv --clear --system-site-packages {root}/opt/gym-station/venv" in out
    assert f"{root}/opt/gym-station/venv/bin/pip install" in out and f"{REPO}[pi]" in out
    assert f"would: systemctl --root={root} enable gym-station.service" in out
    assert f"would: systemctl --root={root} mask getty@tty1.service" in out
    assert "consoleblank=0" in out and f"{root}/boot/firmware/cmdline.txt" in out
    assert "gym-station check" in out
    # the USB stick automount: the helper, then the rule, then udev told (nothing written)
    assert f"would: install -m 755 {REPO}/deploy/usb-stick {root}/opt/gym-station/usb-stick" in out
    assert (f"would: install -m 644 {REPO}/deploy/99-gym-station-usb.rules "
            f"{root}/etc/udev/rules.d/99-gym-station-usb.rules") in out
    assert "would: udevadm control --reload" in out
    # the console command, and the PINs asked for (a dry run asks nothing)
    assert (f"would: install -m 755 {REPO}/deploy/gym-station-console "
            f"{root}/usr/local/bin/gym-station") in out
    assert "would: /usr/local/bin/gym-station pin set coach" in out
    assert "would: /usr/local/bin/gym-station pin set staff" in out
    assert "dry run: nothing was changed" in out


def test_install_lays_out_the_tree(installed):
    root, first, _second, _a, _b = installed
    etc = root / "etc" / "gym-station"
    assert mode(etc) == 0o750
    for shipped in (REPO / "config").rglob("*.toml"):
        dest = etc / shipped.relative_to(REPO / "config")
        assert dest.read_bytes() == shipped.read_bytes()
        assert mode(dest) == 0o640, dest
    assert mode(etc / "scenarios") == 0o750
    state = root / "var" / "lib" / "gym-station"
    assert state.is_dir() and mode(state) == 0o750
    unit = root / "etc" / "systemd" / "system" / "gym-station.service"
    assert unit.read_text() == UNIT.read_text() and mode(unit) == 0o644
    wants = root / "etc" / "systemd" / "system" / "multi-user.target.wants" / "gym-station.service"
    assert os.readlink(wants) == "/etc/systemd/system/gym-station.service"
    assert os.readlink(root / "etc" / "systemd" / "system" / "getty@tty1.service") == "/dev/null"
    cmdline = (root / "boot" / "firmware" / "cmdline.txt").read_text()
    assert cmdline == CMDLINE.rstrip("\n") + " consoleblank=0\n"
    # USB sticks: the udev rule, and the helper it runs at the path it names
    rule = root / "etc" / "udev" / "rules.d" / "99-gym-station-usb.rules"
    assert rule.read_bytes() == (REPO / "deploy" / "99-gym-station-usb.rules").read_bytes()
    assert mode(rule) == 0o644
    helper = re.search(r'IMPORT\{program\}="([^"]+)"', rule.read_text()).group(1)
    assert (root / helper.lstrip("/")).read_bytes() == (REPO / "deploy" / "usb-stick").read_bytes()
    assert mode(root / helper.lstrip("/")) == 0o755
    console = root / "usr" / "local" / "bin" / "gym-station"
    assert console.read_bytes() == (REPO / "deploy" / "gym-station-console").read_bytes()
    assert mode(console) == 0o755
    # live-system steps are reported, not done
    out = first.stdout
    for skipped in ("skip (--root): apt-get update", "skip (--root): useradd",
                    f"skip (--root): chown root:gym-station {etc}/station.toml",
                    f"skip (--root): chown gym-station:gym-station {state}",
                    "skip (--root): systemctl daemon-reload", "skip (--root): runuser",
                    "skip (--root): udevadm control --reload",
                    "skip (--root): /usr/local/bin/gym-station pin set coach"):
        assert skipped in out, skipped


def test_installed_program_runs_on_the_installed_config(installed):
    root = installed[0]
    exe = root / "opt" / "gym-station" / "venv" / "bin" / "gym-station"
    assert os.access(exe, os.X_OK)
    env = {**os.environ, "GYM_STATION_CONFIG": str(root / "etc/gym-station/station.toml"),
           "GYM_STATION_STATE": str(root / "var/lib/gym-station")}
    env.pop("PYTHONPATH", None)  # the installed program, as the unit runs it: not a checkout's
    proc = subprocess.run([str(exe), "config"], capture_output=True, text=True, env=env,
                          timeout=60, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert "GPIO" in proc.stdout or "heel" in proc.stdout
    # the venv's package is a copy, not the checkout: the checkout was not touched by the build
    out = subprocess.run([str(root / "opt/gym-station/venv/bin/python"), "-c",
                          "import station, sys; print(station.__file__)"],
                         capture_output=True, text=True, cwd="/", env=env, check=True).stdout
    assert str(root / "opt/gym-station/venv") in out
    assert not (REPO / "build").exists()


def test_twice_is_once(installed):
    _root, _first, second, after_first, after_second = installed
    assert after_second == after_first
    cmdline = [v for k, v in after_second.items() if k.endswith("cmdline.txt")]
    assert len(cmdline) == 1
    # the second run found everything in place: only the package reinstall (the update path)
    ran = [ln for ln in second.stdout.splitlines() if ln.startswith("+ ")]
    assert len(ran) == 1 and "/pip install" in ran[0], second.stdout
    assert "ok: consoleblank=0" in second.stdout
    assert "ok: gym-station.service enabled" in second.stdout

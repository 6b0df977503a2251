"""A wheel carries what the station needs to run from a non-editable install: the packages and
the shipped configuration (station.toml, exercises.toml, the scenarios), found from outside the
checkout (drivers/shipped.py)."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.relative_to(ROOT / "config").as_posix()
                 for p in (ROOT / "config").rglob("*.toml"))


def test_the_wheel_installs_the_shipped_config_and_the_station_finds_it(tmp_path):
    # built from a copy: an in-tree build leaves build/ and *.egg-info in the checkout
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("station", "drivers", "display", "config"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source),
                            "-w", str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel, = (tmp_path / "dist").glob("gym_station-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"gym_station_config/{name}" for name in SHIPPED} <= names
    assert {"station/cli.py", "drivers/shipped.py", "display/app.py"} <= names

    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                                "--target", str(target), str(wheel)],
                               capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]
    # from a folder outside the checkout, the installed copy first on the path
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("GYM_STATION_CONFIG", None)
    probe = ("import station.config as c, station.profiles as p, drivers.athlete as a\n"
             "print(c.__file__); print(c.config_path()); print(p.SHIPPED_EXERCISES)\n"
             "print(a.SCENARIO_DIR); print(c.load_config().station.id)\n"
             "print(len(p.load_profiles().profiles))")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    module, config, exercises, scenarios, station_id, profiles = ran.stdout.split("\n")[:6]
    package = target / "gym_station_config"
    assert module.startswith(str(target))
    assert (config, exercises, scenarios) == (str(package / "station.toml"),
                                              str(package / "exercises.toml"),
                                              str(package / "scenarios"))
    assert station_id and int(profiles) >= 4

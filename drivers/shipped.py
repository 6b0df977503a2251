"""Where the shipped configuration lives (station.toml, exercises.toml, scenarios/).

In a checkout or an editable install it is ``config/`` beside the packages. A wheel installs the
same folder as the ``gym_station_config`` package's data (pyproject.toml maps the package to
``config/``), so a non-editable ``pip install`` has its defaults too. One place decides, for the
station's configuration, the exercise profiles and the simulated athlete's scenarios alike.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

#: The folder in a checkout: the repository's top-level ``config/``.
CHECKOUT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
#: The package a wheel installs ``config/`` as.
CONFIG_PACKAGE = "gym_station_config"


def shipped_config_dir() -> Path:
    """The shipped configuration folder: the checkout's ``config/`` when it is there, else the
    installed ``gym_station_config`` package's folder; the checkout's path when neither is (so
    that a message about a missing file names where it was looked for)."""
    if (CHECKOUT_CONFIG_DIR / "station.toml").is_file():
        return CHECKOUT_CONFIG_DIR
    spec = importlib.util.find_spec(CONFIG_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location)
        if (folder / "station.toml").is_file():
            return folder
    return CHECKOUT_CONFIG_DIR

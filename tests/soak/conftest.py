"""The soak test's fixtures: the real PostgreSQL server of the facility tests (tests/pg), and
which form of the day to run (``GYM_STATION_SOAK=1``: the full eight hours)."""

import os
import sys
from pathlib import Path

import pytest

# the test imports its harness (soak_day) from this folder
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg.conftest import pg_server  # noqa: E402, F401 - the facility tests' real server, reused

SOAK_ENV = "GYM_STATION_SOAK"


@pytest.fixture
def soak_form() -> str:
    """``full`` (8 h, 150 sessions, 40 athletes) with GYM_STATION_SOAK=1, else ``short``."""
    return "full" if os.environ.get(SOAK_ENV, "") not in ("", "0") else "short"

"""The real recordings from outside the project (../shared/data beside the checkout, as the
sessions and CI lay it out; or $GYM_STATION_SHARED_DATA). They are read in place, never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    env = os.environ.get("GYM_STATION_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """A file of the shared recordings; the test is skipped, saying why, where it is absent."""
    path = shared_data_dir() / relative
    if not path.exists():
        pytest.skip(f"shared recording {relative} not found in {shared_data_dir()} (the real "
                    "recordings sit in ../shared/data beside the checkout)")
    return path

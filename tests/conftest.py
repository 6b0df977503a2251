"""Shared by every test folder: helper modules in tests/ (shared_data) are importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

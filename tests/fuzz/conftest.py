"""Fuzzing of every parser a person or a file can reach (issue 8).

The helpers (hypothesis settings, mutation strategies, the property every parser must keep) are
in ``fuzzkit.py`` beside this file, importable from the tests here. The settings are not loaded
as the session's profile: the rest of the suite keeps its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

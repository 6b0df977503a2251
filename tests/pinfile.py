"""What a test may say of a stored pins.json: whether a PIN can be read in it."""

from __future__ import annotations

import json
import re

HEX = re.compile(r"[0-9a-f]+")


def _leaves(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield str(value)


def in_the_clear(pins_json: str, pin: str) -> bool:
    """Whether ``pin`` is readable in a pins.json's text: any key or value that is it or holds
    it, except inside a hex salt or hash. Those are random hex, and a 4-digit PIN turns up in
    one by chance (about once in a few hundred files), so a plain substring test would flake."""
    return any(leaf == pin or (pin in leaf and not HEX.fullmatch(leaf))
               for leaf in _leaves(json.loads(pins_json)))

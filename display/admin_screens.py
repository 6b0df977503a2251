"""The coach's screens: PIN pad, programs, the targets editor, athletes, history, keyboard."""

from __future__ import annotations

from display.screens import Screen

ADMIN_SCREEN_CLASSES: dict[str, type[Screen]] = {}

"""The staff's screens: usage today, station health, tare and calibration, export, volume."""

from __future__ import annotations

from display.screens import Screen

STAFF_SCREEN_CLASSES: dict[str, type[Screen]] = {}

"""``gym-station calibrate`` and ``gym-station tare``: a person at the console, the plate, and the
calibration procedure of :mod:`drivers.calibrate` between them.

The console I/O is passed in (``ask``/``say``) so the walk is tested with scripted answers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drivers.calibrate import Calibrator, average_counts
from drivers.calibration import Calibration
from drivers.errors import CalibrationError, TareRefused
from drivers.layout import PlateLayout
from drivers.plate import ForcePlate

from .errors import UsageError

QUIT = ("q", "quit", "exit")


def walk_calibration(plate: ForcePlate, layout: PlateLayout, mass_kg: float, save_to: Path, *,
                     ask: Callable[[str], str] = input, say: Callable[[str], None] = print,
                     samples: int = 80, timeout: float = 1.0, max_tries: int = 5) -> Calibration:
    """Take the person through every step; save the calibration only when all steps are done.

    A refused step (unsteady, mass not moved, ...) shows the reason and asks again, up to
    ``max_tries`` times; answering ``q`` stops without touching the stored calibration.
    """
    cal = Calibrator(layout, mass_kg)
    total = len(cal.steps)
    say(f"Calibrating a {len(layout.cells)}-cell plate with a {mass_kg:g} kg mass: {total} steps."
        " Type q and Enter to stop without saving.")
    tries = 0
    while not cal.done:
        number = cal.steps.index(cal.step) + 1
        try:
            answer = ask(f"[{number}/{total}] {cal.prompt}: ").strip().lower()
        except EOFError:  # Ctrl-D, or no terminal and nothing on stdin
            answer = "q"
        if answer in QUIT:
            raise UsageError("calibration stopped; the stored calibration is unchanged")
        try:
            cal.feed(average_counts(plate, samples=samples, timeout=timeout))
            tries = 0
        except CalibrationError as e:
            tries += 1
            say(f"  Not taken: {e}")
            if tries >= max_tries:
                raise CalibrationError(f"step {number} refused {tries} times; the stored "
                                       "calibration is unchanged") from None
    result = cal.result()
    result.save(save_to)
    for note in cal.notes:
        say(f"  Note: {note}")
    for cell, scale in zip(layout.cells, result.scales, strict=True):
        say(f"  {cell.name:<12} {scale:12.2f} counts/N  ({abs(scale) * 9.80665 / 1000:.3f} "
            "counts/g)")
    say(f"Saved to {save_to} ({result.calibrated_at}). Take the mass off the plate.")
    return result


def tare(plate: ForcePlate, save_to: Path, *, say: Callable[[str], None] = print,
         samples: int = 40, timeout: float = 1.0) -> Calibration:
    """Re-zero an empty, still plate and store the new offsets (scales unchanged)."""
    try:
        new = plate.tare(samples=samples, timeout=timeout)
    except TareRefused as e:
        raise TareRefused(f"tare refused: {e}") from None
    new.save(save_to)
    say(f"Tared: new zero saved to {save_to} ({new.tared_at}).")
    return new

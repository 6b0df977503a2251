"""Build the configured plate: the one place that turns configuration into driver objects.

Every kind ends as a :class:`~drivers.sample.SampleSource`: the HX711 reader (or the ``hx711``
PyPI package) behind a :class:`~drivers.plate.ForcePlate`, the simulated athlete behind the same
ForcePlate path, or a recording replayed.
"""

from __future__ import annotations

from pathlib import Path

from drivers.calibration import Calibration
from drivers.errors import CalibrationError
from drivers.layout import PlateLayout
from drivers.sample import SampleSource, WordSource

from .config import Config, config_dir
from .errors import ConfigError
from .paths import calibration_file


def open_words(cfg: Config, kind: str | None = None) -> WordSource:
    """The raw word source of a hardware plate (``hx711`` or ``hx711-pypi``)."""
    kind = kind or cfg.plate.kind
    layout = cfg.plate.layout
    if kind == "hx711":
        from drivers.hx711 import HX711Bank

        clocks = layout.clock_pins
        clock = clocks[0] if len(set(clocks)) == 1 else list(clocks)
        return HX711Bank(clock, list(layout.data_pins), gain=layout.gain, rate_hz=layout.rate_hz)
    if kind == "hx711-pypi":
        from drivers.hx711_pypi import HX711PkgBank

        return HX711PkgBank(list(layout.clock_pins), list(layout.data_pins), gain=layout.gain)
    raise ConfigError(f"plate kind {kind!r} has no HX711 chips to read")


def load_calibration(state: Path, layout: PlateLayout) -> Calibration | None:
    """The stored calibration, or ``None`` if the plate was never calibrated.

    A calibration made for a different number of cells is refused: it would silently mix up cells.
    """
    path = calibration_file(state)
    if not path.exists():
        return None
    cal = Calibration.load(path)
    if cal.cells != len(layout.cells):
        raise CalibrationError(f"{path}: calibration is for {cal.cells} cells but the plate has "
                               f"{len(layout.cells)}; run `gym-station calibrate` again")
    return cal


def hardware_plate(cfg: Config, state: Path, kind: str | None = None):
    """The HX711 plate (``hx711`` or ``hx711-pypi``) with its stored calibration (``None`` if it
    was never calibrated: reading it then says to run `gym-station calibrate`)."""
    from drivers.plate import ForcePlate

    layout = cfg.plate.layout
    calibration = load_calibration(state, layout)
    words = open_words(cfg, kind)
    try:
        return ForcePlate(words, layout, calibration)
    except BaseException:
        words.close()  # the plate did not take ownership: release the GPIO lines
        raise


def scenario_path(cfg: Config, name: str | None = None) -> Path:
    """A scenario by name (``config/scenarios/NAME.toml``) or by path."""
    name = name or cfg.simulation.scenario
    candidate = Path(name)
    try:
        if candidate.suffix == ".toml" or candidate.exists():
            return candidate
    except OSError:  # a name too long: reading it says so, as a ScenarioError
        return candidate
    return config_dir(cfg) / "scenarios" / f"{name}.toml"


def open_plate(cfg: Config, state: Path, *, kind: str | None = None, realtime: bool = True,
               scenario: str | None = None, recording: str | None = None) -> SampleSource:
    """Open the plate the configuration (or ``kind``) names, ready to ``read()`` samples."""
    kind = kind or cfg.plate.kind
    layout = cfg.plate.layout
    if kind in ("hx711", "hx711-pypi"):
        return hardware_plate(cfg, state, kind)
    if kind == "simulated":
        from drivers.simplate import simulated_plate

        plate, _truth = simulated_plate(scenario_path(cfg, scenario), seed=cfg.simulation.seed,
                                        rate_hz=layout.rate_hz, layout=layout, realtime=realtime,
                                        body_mass_kg=cfg.simulation.body_mass_kg or None)
        return plate
    if kind == "replay":
        from drivers.replay import ReplayPlate

        path = recording or cfg.plate.recording
        if not path:
            raise ConfigError("replay needs a recording file (plate.recording or --recording)")
        return ReplayPlate(path, realtime=realtime)
    raise ConfigError(f"unknown plate kind {kind!r}")

"""Simulated HX711 chips behind the real reader, for ``gym-station check --simulated``.

Each load cell of the configured plate gets a protocol-level :class:`~drivers.mock_hx711.MockHX711`
on gpiozero mock pins, fed by the simulated plate's count model for an empty plate (offset, noise,
drift), running on the real clock at the configured rate. The real :class:`~drivers.hx711.HX711Bank`
reads them, so the check exercises exactly the code that reads the hardware.
"""

from __future__ import annotations

from drivers.calibration import Calibration
from drivers.clock import real_clock, real_sleep
from drivers.hx711 import HX711Bank
from drivers.mock_hx711 import MockHX711, new_mock_factory
from drivers.simplate import CountModel, simulated_calibration

from .config import Config


class SimulatedChips:
    """A word source: the real reader on simulated chips; closing it closes both."""

    def __init__(self, cfg: Config, silent=(), *, noise_counts: float = 40.0,
                 clock=real_clock, sleep=real_sleep):
        layout = cfg.plate.layout
        self.model = CountModel(layout, seed=cfg.simulation.seed, noise_counts=noise_counts)
        self.factory = new_mock_factory()
        period = 1.0 / layout.rate_hz
        zero = [0.0] * len(layout.cells)
        self.chips = []
        for i, cell in enumerate(layout.cells):
            chip = MockHX711(cell.clock_pin, cell.data_pin, pin_factory=self.factory,
                             rate_hz=layout.rate_hz, clock=clock,
                             source=lambda t, i=i: self.model.counts(t, zero, layout.rate_hz)[i],
                             phase=i * period / (len(layout.cells) + 1))
            if cell.data_pin in silent:
                chip.set_silent(True)
            self.chips.append(chip)
        pins = layout.clock_pins
        clock_pin = pins[0] if len(set(pins)) == 1 else list(pins)
        try:
            self.bank = HX711Bank(clock_pin, list(layout.data_pins), gain=layout.gain,
                                  rate_hz=layout.rate_hz, pin_factory=self.factory,
                                  clock=clock, sleep=sleep)
        except BaseException:
            self._close_chips()
            raise
        self.data_pins = self.bank.data_pins
        self.clock = self.bank.clock

    @property
    def faults(self):
        return self.bank.faults

    def read(self, timeout: float = 1.0) -> list[int]:
        return self.bank.read(timeout=timeout)

    def _close_chips(self):
        for chip in self.chips:
            chip.close()
        self.chips = []

    def close(self) -> None:
        self.bank.close()
        self._close_chips()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def clocks():
    """The clock and sleep the simulated chips run on: real time (tests inject a virtual one)."""
    return real_clock, real_sleep


def simulated_words(cfg: Config, silent=()) -> tuple[SimulatedChips, Calibration]:
    """The simulated chips for ``cfg``'s plate and the calibration a good plate would have."""
    clock, sleep = clocks()
    chips = SimulatedChips(cfg, silent, clock=clock, sleep=sleep)
    return chips, simulated_calibration(chips.model)

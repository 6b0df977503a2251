"""``gym-station check``: the plate's hardware self-test, also the installer's.

Reads raw words for a few seconds and reports, per chip: conversions per second achieved against
the expected rate, noise (counts, and newtons and grams where the plate is calibrated), the spikes
(words lost to the clock held high) and faults the reader counted. Any fault fails the check. It
works on any word source, so the same code checks the real HX711s and the simulated chips behind
the real reader. Around the plate it looks for what the kiosk needs (a touchscreen, an audio
output) and at the calibration's age: those are warnings, not faults, since the station still
measures without them.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drivers.calibration import Calibration
from drivers.errors import HardwareError, HX711Timeout
from drivers.layout import PlateLayout
from drivers.sample import WordSource

G = 9.80665
#: Faults that fail the check whenever they occur at all.
HARD_FAULTS = ("timeout", "saturated", "stuck_low", "all_ones")
#: Counters a reader keeps that are not faults.
NOT_FAULTS = ("words", "unsettled")
#: Fraction of words lost to clock-held-high power-downs ("spikes") that still passes.
SPIKE_TOLERANCE = 0.01
#: A chip delivering less than this fraction of its expected rate fails.
RATE_TOLERANCE = 0.9
#: A calibration older than this earns a warning: cells creep and plates get knocked.
CALIBRATION_MAX_AGE_DAYS = 180
#: Linux input event codes (linux/input-event-codes.h) that mark a touch device.
ABS_X, ABS_Y, ABS_MT_POSITION_X, ABS_MT_POSITION_Y = 0x00, 0x01, 0x35, 0x36
BTN_TOUCH = 0x14A


@dataclass
class ChipReport:
    name: str
    data_pin: int
    words: int
    rate_hz: float
    noise_counts: float
    noise_n: float | None
    silent: bool = False

    @property
    def noise_g(self) -> float | None:
        return None if self.noise_n is None else self.noise_n / G * 1000.0


@dataclass(frozen=True)
class Environment:
    """What the kiosk needs around the plate: touch input and somewhere to play cues."""

    touchscreens: tuple[str, ...] = ()
    audio_outputs: tuple[str, ...] = ()


@dataclass
class CheckReport:
    seconds: float
    expected_hz: float
    chips: list[ChipReport]
    faults: dict[str, int]
    problems: list[str] = field(default_factory=list)
    calibration_age_days: float | None = None
    environment: Environment | None = None
    good_reads: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def spikes(self) -> int:
        """Words lost to PD_SCK held high past 60 us (the chip powered down mid-word)."""
        return self.faults.get("power_down", 0)

    @property
    def spike_rate(self) -> float:
        """Spikes as a fraction of the words the chips delivered (0 when none were read)."""
        total = self.good_reads + self.spikes
        return self.spikes / total if total else 0.0

    @property
    def warnings(self) -> list[str]:
        """Things to fix that do not fail the plate: old calibration, no touch, no audio."""
        out = []
        age = self.calibration_age_days
        if age is not None and age > CALIBRATION_MAX_AGE_DAYS:
            out.append(f"the calibration is {age:.0f} days old: recalibrate (`gym-station "
                       f"calibrate --mass KG`) at least every {CALIBRATION_MAX_AGE_DAYS} days")
        env = self.environment
        if env is not None:
            if not env.touchscreens:
                out.append("no touchscreen found: check the display's touch ribbon or USB cable "
                           "(coaches set targets by touch)")
            if not env.audio_outputs:
                out.append("no audio output found: cues will be shown but not heard; check the "
                           "speaker (HDMI, jack or USB) and `aplay -l`")
        return out

    def render(self) -> str:
        lines = [f"Plate self-test over {self.seconds:.1f} s (expected {self.expected_hz:g} "
                 "conversions/s per chip)", ""]
        lines.append(f"{'chip':<12}{'DOUT':>6}{'words':>8}{'rate/s':>9}{'of exp.':>9}"
                     f"{'noise cnt':>11}{'noise N':>9}{'noise g':>9}")
        for c in self.chips:
            pct = c.rate_hz / self.expected_hz * 100 if self.expected_hz else 0.0
            noise_n = "-" if c.noise_n is None else f"{c.noise_n:.2f}"
            noise_g = "-" if c.noise_g is None else f"{c.noise_g:.0f}"
            noise_c = "-" if math.isnan(c.noise_counts) else f"{c.noise_counts:.0f}"
            status = "  SILENT" if c.silent else ""
            lines.append(f"{c.name:<12}{'GPIO' + str(c.data_pin):>6}{c.words:>8}{c.rate_hz:>9.1f}"
                         f"{pct:>8.0f}%{noise_c:>11}{noise_n:>9}{noise_g:>9}{status}")
        lines.append("")
        counted = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(self.faults.items())
                            if v and k not in NOT_FAULTS) or "none"
        lines.append(f"Faults counted: {counted}")
        lines.append(f"Spikes (words lost to the clock held high > 60 us): {self.spikes} of "
                     f"{self.good_reads + self.spikes} ({self.spike_rate * 100:.2f} %, "
                     f"tolerance {SPIKE_TOLERANCE * 100:g} %)")
        if self.faults.get("unsettled"):
            lines.append(f"Settling words discarded (normal after power-up or a gain change): "
                         f"{self.faults['unsettled']}")
        if self.calibration_age_days is None:
            lines.append("Calibration: none (run `gym-station calibrate`; noise shown in counts)")
        else:
            lines.append(f"Calibration: {self.calibration_age_days:.0f} days old")
        if self.environment is not None:
            env = self.environment
            lines.append("Touchscreen: " + (", ".join(env.touchscreens) or "none found"))
            lines.append("Audio output: " + (", ".join(env.audio_outputs) or "none found"))
        for w in self.warnings:
            lines.append(f"Warning: {w}")
        lines.append("")
        if self.ok:
            lines.append("RESULT: OK")
        else:
            lines.append("RESULT: FAULT")
            lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


def run_check(words: WordSource, layout: PlateLayout, calibration: Calibration | None = None,
              *, seconds: float = 3.0, timeout: float = 0.5,
              clock: Callable[[], float] | None = None,
              environment: Environment | None = None) -> CheckReport:
    """Read ``words`` for ``seconds`` of its own clock and judge the plate's chips.

    ``environment`` is what :func:`scan_environment` found; by default this machine is scanned.
    """
    clock = clock or words.clock
    rows: list[list[int]] = []
    stamps: list[float] = []
    timeouts = 0
    silent: set[int] = set()
    errors: dict[str, int] = {}
    start = clock()
    while clock() - start < seconds:
        try:
            rows.append(list(words.read(timeout=timeout)))
            stamps.append(clock())
        except HX711Timeout as e:
            timeouts += 1
            silent.update(e.silent_pins)
        except HardwareError as e:  # a stuck line etc.: keep reading, report what was said
            errors.setdefault(str(e), 0)
            errors[str(e)] += 1
    elapsed = max(clock() - start, 1e-9)
    # the rate runs from the first word to the last: start-up settling is not a slow chip
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    rate = (len(stamps) - 1) / span if span > 0 else 0.0
    faults = dict(_as_dict(words.faults))
    faults["timeout"] = max(faults.get("timeout", 0), timeouts)
    data = np.array(rows, dtype=float) if rows else np.empty((0, len(layout.cells)))
    chips = []
    for i, cell in enumerate(layout.cells):
        column = data[:, i] if len(data) else np.empty(0)
        noise = _noise(column)
        noise_n = None
        if calibration is not None and not math.isnan(noise):
            noise_n = noise / abs(calibration.scales[i])
        is_silent = cell.data_pin in silent
        chips.append(ChipReport(cell.name, cell.data_pin, 0 if is_silent else len(column),
                                0.0 if is_silent else rate, noise, noise_n, silent=is_silent))
    report = CheckReport(seconds=elapsed, expected_hz=layout.rate_hz, chips=chips, faults=faults,
                         calibration_age_days=calibration.age_days() if calibration else None,
                         environment=environment if environment is not None
                         else scan_environment(),
                         good_reads=len(rows))
    report.problems = _problems(report, len(rows))
    report.problems += [f"{msg} ({n}x)" if n > 1 else msg for msg, n in errors.items()]
    return report


def _noise(column: np.ndarray) -> float:
    """RMS of the counts around their straight-line trend (slow drift is not noise)."""
    if len(column) < 3:
        return float("nan")
    x = np.arange(len(column), dtype=float)
    slope, intercept = np.polyfit(x, column, 1)
    return float(np.std(column - (slope * x + intercept)))


def _problems(report: CheckReport, good_reads: int) -> list[str]:
    out = []
    silent = [c for c in report.chips if c.silent]
    for c in silent:
        out.append(f"HX711 '{c.name}' on GPIO {c.data_pin} sent no word: check its DOUT "
                   "wire, its 3.3 V supply and that PD_SCK reaches it")
    for c in report.chips:
        if c.silent:
            continue
        if silent and not c.words:
            out.append(f"HX711 '{c.name}' on GPIO {c.data_pin} could not be measured: the chips "
                       "are read together and one is silent; check again once it is fixed")
        elif c.rate_hz < RATE_TOLERANCE * report.expected_hz:
            out.append(f"HX711 '{c.name}' on GPIO {c.data_pin} gave {c.rate_hz:.1f} conversions/s, "
                       f"expected {report.expected_hz:g}: check the RATE pin (high = 80 SPS) or "
                       "whether the sampler is starved of CPU")
    for kind in HARD_FAULTS:
        if kind == "timeout":
            continue  # named per chip above
        if report.faults.get(kind, 0):
            out.append(f"{report.faults[kind]} word(s) rejected as {kind.replace('_', ' ')}: "
                       + {"saturated": "a cell is overloaded or its wires are swapped/loose",
                          "stuck_low": "a DOUT line is shorted to ground",
                          "all_ones": "a DOUT line floats high (loose wire)"}[kind])
    spikes = report.faults.get("power_down", 0)
    total = good_reads + spikes
    if total and spikes / total > SPIKE_TOLERANCE:
        out.append(f"{spikes} of {total} words lost to the clock being held high (> 60 us): the "
                   "sampler is being interrupted; run it with real-time priority")
    return out


def _as_dict(faults: Mapping[str, int] | None) -> dict[str, int]:
    return dict(faults or {})


# -- around the plate: touchscreen and audio ------------------------------------------------

def scan_environment(proc: Path = Path("/proc"), dev: Path = Path("/dev"),
                     word_bits: int | None = None) -> Environment:
    """Look for a touchscreen and an audio output on this machine (read-only, no devices opened)."""
    return Environment(touchscreens=tuple(find_touchscreens(proc / "bus/input/devices",
                                                            dev / "input/by-id", word_bits)),
                       audio_outputs=tuple(find_audio_outputs(proc / "asound")))


def _bits(mask: str, word_bits: int) -> set[int]:
    """The set bits of a /proc/bus/input/devices bitmap: hex longs, most significant first."""
    out = set()
    for i, word in enumerate(reversed(mask.split())):
        value = int(word, 16)
        out.update(i * word_bits + b for b in range(word_bits) if value >> b & 1)
    return out


def find_touchscreens(devices_file: Path = Path("/proc/bus/input/devices"),
                      by_id: Path = Path("/dev/input/by-id"),
                      word_bits: int | None = None) -> list[str]:
    """Names of touch input devices: multi-touch axes, or absolute X/Y with BTN_TOUCH (the Pi's
    DSI panels and USB touch panels alike); else a /dev/input/by-id link named like one."""
    word_bits = word_bits or struct.calcsize("l") * 8
    found: list[str] = []
    try:
        text = devices_file.read_text(errors="replace")
    except OSError:
        text = ""
    for block in text.split("\n\n"):
        name = re.search(r'^N: Name="(.*)"$', block, re.M)
        masks = dict(re.findall(r"^B: (\w+)=(.*)$", block, re.M))
        abs_bits = _bits(masks.get("ABS", ""), word_bits)
        key_bits = _bits(masks.get("KEY", ""), word_bits)
        multi = {ABS_MT_POSITION_X, ABS_MT_POSITION_Y} <= abs_bits
        single = {ABS_X, ABS_Y} <= abs_bits and BTN_TOUCH in key_bits
        if name and (multi or single) and name.group(1) not in found:
            found.append(name.group(1))
    if not found and by_id.is_dir():
        found = sorted(p.name for p in by_id.iterdir()
                       if "touch" in p.name.lower() and "-event" in p.name)
    return found


def find_audio_outputs(asound: Path = Path("/proc/asound")) -> list[str]:
    """ALSA cards that can play (``/proc/asound/pcm`` playback devices), as "name (card N)"."""
    try:
        cards = (asound / "cards").read_text(errors="replace")
    except OSError:
        return []
    names = {int(n): label.strip() for n, label in
             re.findall(r"^\s*(\d+) \[[^\]]*\]: [^\n]*? - (.*)$", cards, re.M)}
    try:
        pcm = (asound / "pcm").read_text(errors="replace")
        playing = {int(line.split("-", 1)[0]) for line in pcm.splitlines()
                   if "playback" in line}
    except OSError:
        playing = set(names)
    return [f"{names[n]} (card {n})" for n in sorted(names) if n in playing]

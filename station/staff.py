"""The staff's desk on the touchscreen: today's usage, the station's health, tare and calibration
on screen, the usage export to a USB stick, the volume, and leaving the kiosk.

:class:`StaffDesk` is what the staff's screens ("staff", "calibrate") of ``station.admin`` drive:
commands in (:meth:`StaffDesk.handle`), views out (:meth:`StaffDesk.staff_view`,
:meth:`StaffDesk.calibrate_view`, :attr:`StaffDesk.audio`). Every frame it is given the samples
(:meth:`feed`: their raw cells make the tare and calibration readings, their timestamps the
sample rate achieved) and the sampler's status (:meth:`tick`: faults, drops, restarts).

The judgements are the drivers' own, not copies: a tare runs :meth:`ForcePlate.tare
<drivers.plate.ForcePlate.tare>` and a calibration step :func:`~drivers.calibrate.average_counts`
and :class:`~drivers.calibrate.Calibrator` over the last second of raw cells, replayed through
:class:`_CellBlock`. A new calibration is saved to the state directory's file and then
``reload_plate()`` makes the sampler reopen the plate with it.

Time: ``now`` and sample times are plate time; the wall clock (``wall``, injectable) only dates
files, the calibration's stamps and "today".
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from drivers.calibrate import Calibrator, average_counts
from drivers.calibration import Calibration
from drivers.errors import CalibrationError, FileContentError, TareRefused
from drivers.files import read_json
from drivers.layout import PlateLayout
from drivers.plate import ForcePlate

from .check import CALIBRATION_MAX_AGE_DAYS, RATE_TOLERANCE
from .errors import ExportError, UsageLogError
from .paths import calibration_file, write_state_file
from .usage_log import describe_problem
from .usage_report import local_source, usage_rows, write_csv
from .usage_schema import database_file
from .usb_export import MEDIA_ROOTS, MOUNTS_FILE, UsbStick, find_usb_stick, write_to_stick
from .view import AudioView, CalibrateView, StaffView, UICommand

log = logging.getLogger(__name__)

#: Seconds of samples a reading averages (a tare, a calibration step): ~80 words at 80 SPS.
READING_S = 1.0
#: Seconds of samples the achieved sample rate is measured over.
RATE_WINDOW_S = 10.0
#: Samples lost between the sampler and the main loop that still count as healthy.
DROP_TOLERANCE = 0.01
#: A tare needs readings at least this recent (plate seconds before ``now``).
FRESH_S = 0.5
#: The volume buttons' step, and the file the staff's choice is kept in.
VOLUME_STEP = 0.1
AUDIO_FILE = "audio.json"
#: Seconds (plate time) between looks at /proc/mounts for a stick.
USB_POLL_S = 1.0
EXPORT_HEADER = ["day", "athlete", "sessions", "minutes", "reps", "good_reps", "good_rate",
                 "heel_share", "hold_s"]


class _CellBlock:
    """Raw words already read, served again one per ``read``: the word source the drivers'
    tare and calibration averages take, so they judge the kiosk's samples with their own rules."""

    def __init__(self, block: list[tuple[float, tuple[int, ...]]], layout: PlateLayout):
        self.layout = layout
        self.data_pins = layout.data_pins
        self.faults: Mapping[str, int] = {}
        self._block = block
        self._i = 0

    def clock(self) -> float:
        return self._block[max(0, self._i - 1)][0]

    def read(self, timeout: float = 1.0) -> list[int]:
        _t, cells = self._block[self._i]
        self._i += 1
        return list(cells)

    def close(self) -> None:
        pass


def _ago(seconds: float) -> str:
    """A duration in the past as staff say it."""
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _on_screen(text: str) -> str:
    """The drivers' console wording ("press Enter") as a touchscreen's."""
    return (text.replace("press Enter again", "tap Take reading again")
            .replace("press Enter", "tap Take reading"))


class StaffDesk:
    """The staff's page and the calibration page, for a plate of ``layout``.

    ``reload_plate`` reopens the sampler's plate after the calibration file changed (``None``:
    nothing to reopen). ``events`` is anything with ``event(kind, detail)`` (the usage log):
    tares, calibrations and exports are noted there when given. ``mounts_file`` and
    ``media_roots`` say where USB sticks are looked for.
    """

    def __init__(self, layout: PlateLayout, state: Path, *, reload_plate: Callable[[], None] | None,
                 audio: AudioView, calibration_mass_kg: float = 20.0,
                 exercise_names: Mapping[str, str] | None = None,
                 wall: Callable[[], float] = time.time, events=None,
                 mounts_file: Path = MOUNTS_FILE, media_roots: Iterable[str | Path] = MEDIA_ROOTS,
                 station_id: str = ""):
        self.layout = layout
        #: in the export's file name, so the racks' exports share one stick side by side
        self.station_id = re.sub(r"[^A-Za-z0-9._-]+", "-", station_id).strip("-.")
        self.state = Path(state)
        self.reload_plate = reload_plate
        self.calibration_mass_kg = float(calibration_mass_kg)
        self.exercise_names = dict(exercise_names or {})
        self.events = events
        self.mounts_file = Path(mounts_file)
        self.media_roots = tuple(media_roots)
        self._wall = wall
        self._audio = audio
        self._exit = False
        self._page = "staff"
        n = max(10, round(READING_S * layout.rate_hz))
        self._reading_n = n                          # samples per reading
        self._recent: deque[tuple[float, tuple[int, ...]]] = deque(maxlen=n)
        self._times: deque[float] = deque(maxlen=max(2, round(RATE_WINDOW_S * layout.rate_hz)))
        self._status = None
        self._today: tuple[tuple[str, str], ...] = ()
        self._calibration: Calibration | None = None
        self._calibration_problem: str | None = None
        self._stick: UsbStick | None = None
        self._stick_checked: float | None = None
        self._calibrator: Calibrator | None = None
        self._taking: list[tuple[float, tuple[int, ...]]] | None = None
        self._cal_error: str | None = None
        self._cal_done: str | None = None
        self._view: StaffView | None = None
        self._view_key = None
        self._read_calibration()

    @classmethod
    def for_station(cls, cfg, state: Path, reload_plate: Callable[[], None] | None, *,
                    wall: Callable[[], float] = time.time, events=None,
                    mounts_file: Path = MOUNTS_FILE,
                    media_roots: Iterable[str | Path] = MEDIA_ROOTS) -> StaffDesk:
        """The desk for a station's configuration (``station.config.Config``) and state
        directory, with the volume the staff chose last (else the configured one)."""
        audio = load_audio(Path(state), AudioView(cfg.audio.volume, cfg.audio.mute))
        return cls(cfg.plate.layout, Path(state), reload_plate=reload_plate, audio=audio,
                   calibration_mass_kg=cfg.plate.calibration_mass_kg,
                   exercise_names=_exercise_names(cfg), wall=wall, events=events,
                   mounts_file=mounts_file, media_roots=media_roots, station_id=cfg.station.id)

    # -- the contract -----------------------------------------------------------------------

    @property
    def page(self) -> str:
        """``staff`` or ``calibrate``: the screen the desk is on."""
        return self._page

    @property
    def audio(self) -> AudioView:
        return self._audio

    @property
    def exit_requested(self) -> bool:
        return self._exit

    def open(self, now: float) -> None:
        """The staff screen was opened: read today's usage and the calibration again."""
        self._end_calibration()
        self._page = "staff"
        self._today = self._read_today()
        self._read_calibration()
        self._look_for_stick(now, force=True)

    def handle(self, command: UICommand, now: float) -> str | None:
        """Do what the staff asked; return the note to show (the result, or why not)."""
        kind = command.kind
        if kind == "tare":
            return self._tare(now)
        if kind == "calibrate":
            return self._start_calibration()
        if kind == "cal_take":
            return self._take_reading()
        if kind in ("cal_cancel", "back"):
            return self._leave_calibration() if self._page == "calibrate" else None
        if kind == "export_usb":
            return self._export(now)
        if kind in ("volume_up", "volume_down"):
            return self._step_volume(VOLUME_STEP if kind == "volume_up" else -VOLUME_STEP)
        if kind == "mute":
            return self._set_audio(AudioView(self._audio.volume, not self._audio.muted))
        if kind == "exit_kiosk":
            self._exit = True
            log.info("staff left the kiosk")
            return "Leaving the kiosk"
        return None

    def feed(self, samples) -> None:
        """Every frame's samples: the last second's raw cells for a tare, the reading being
        taken, and the times for the sample rate."""
        for s in samples:
            item = (s.t, s.cells)
            self._recent.append(item)
            self._times.append(s.t)
            if self._taking is not None:
                self._taking.append(item)
        if self._taking is not None and len(self._taking) >= self._reading_n:
            self._finish_reading()

    def tick(self, status) -> None:
        """The sampler's status every frame; a reading being taken stops if the plate faults."""
        self._status = status
        if self._taking is not None and status is not None and status.fault:
            self._taking = None
            self._cal_error = (f"The plate stopped sending readings ({status.fault}); tap Take "
                               "reading again when it is back")
        if self._times:
            self._look_for_stick(self._times[-1])

    def staff_view(self) -> StaffView:
        health = self._health()
        key = (self._today, health, self._stick, self._audio)
        if key != self._view_key:
            self._view_key = key
            self._view = StaffView(
                today=self._today, health=health,
                usb=self._stick.label if self._stick else None,
                volume=round(self._audio.volume * 100), muted=self._audio.muted)
        return self._view

    def calibrate_view(self) -> CalibrateView | None:
        cal = self._calibrator
        if self._page != "calibrate" or cal is None:
            return None
        steps = len(cal.steps)
        step = steps if cal.done else cal.steps.index(cal.step) + 1
        if self._taking is not None:
            progress = min(1.0, len(self._taking) / self._reading_n)
        else:
            progress = 1.0 if cal.done else 0.0
        prompt = _on_screen(cal.prompt)
        return CalibrateView("calibrate", step, steps, prompt, progress, self._cal_error,
                             self._cal_done)

    # -- today and health -------------------------------------------------------------------

    def _read_today(self) -> tuple[tuple[str, str], ...]:
        """Today's figures from the usage log, or one row saying why there are none."""
        day = date.fromtimestamp(self._wall())
        path = database_file(self.state)
        if not path.exists():
            return (("Usage log", "no sessions recorded yet"),)
        try:
            with local_source(self.state) as src:
                people = usage_rows(src, since=day, until=day, by="athlete")
                exercises = usage_rows(src, since=day, until=day, by="exercise")
        except UsageLogError as e:
            return (("Usage log", str(e)),)
        except sqlite3.Error as e:
            return (("Usage log", describe_problem(e, path)),)
        sessions = sum(r.sessions for r in people)
        guests = sum(r.sessions for r in people if r.group == "guest")
        reps = sum(r.reps for r in people)
        good = sum(r.good_reps for r in people)
        rows = [("Sessions", str(sessions)),
                ("Athletes", str(sum(1 for r in people if r.group != "guest"))),
                ("Guest sessions", str(guests)),
                ("Reps", str(reps)),
                ("Good reps", f"{good} ({100 * good / reps:.0f}%)" if reps else "0")]
        if exercises:
            top = max(exercises, key=lambda r: (r.sessions, r.reps))
            name = self.exercise_names.get(top.group, top.group.replace("_", " "))
            rows.append(("Busiest exercise", f"{name} ({top.sessions} sessions)"))
        else:
            rows.append(("Busiest exercise", "-"))
        rows.append(("Minutes on the plate", f"{sum(r.minutes for r in people):.0f}"))
        return tuple(rows)

    def _read_calibration(self) -> None:
        path = calibration_file(self.state)
        self._calibration, self._calibration_problem = None, None
        if not path.exists():
            self._calibration_problem = "not calibrated: tap Calibrate"
            return
        try:
            cal = Calibration.load(path)
        except CalibrationError:
            self._calibration_problem = "the file is damaged: calibrate again"
            return
        if cal.cells != len(self.layout.cells):
            self._calibration_problem = (f"made for {cal.cells} cells, the plate has "
                                         f"{len(self.layout.cells)}: calibrate again")
            return
        self._calibration = cal

    def _health(self) -> tuple[tuple[str, str, bool], ...]:
        rows = list(self._calibration_rows())
        rate = self.sample_rate()
        expected = self.layout.rate_hz
        if rate is None:
            rows.append(("Sample rate", "no samples yet", False))
        else:
            rows.append(("Sample rate", f"{rate:.1f}/s of {expected:g}",
                         rate >= RATE_TOLERANCE * expected))
        st = self._status
        if st is None:
            rows.append(("Plate now", "waiting for the sampler", False))
            return tuple(rows)
        rows.append(("Plate now", st.fault or "OK", st.fault is None))
        faults = {k: v for k, v in sorted(st.faults.items()) if v}
        if not faults:
            rows.append(("Faults since start", "none", True))
        for kind, count in faults.items():
            rows.append((f"Faults: {kind.replace('_', ' ')}", str(count), False))
        delivered = st.samples + st.dropped
        rows.append(("Samples dropped", str(st.dropped),
                     st.dropped <= DROP_TOLERANCE * max(delivered, 1)))
        rows.append(("Sampler restarts", str(st.restarts), st.restarts == 0))
        return tuple(rows)

    def _calibration_rows(self):
        cal = self._calibration
        if cal is None:
            yield ("Calibration", self._calibration_problem or "not calibrated", False)
            return
        now = datetime.fromtimestamp(self._wall(), UTC)
        age = cal.age_days(now)
        if age is None:
            yield ("Calibration", "never with a mass: tap Calibrate", False)
        elif age > CALIBRATION_MAX_AGE_DAYS:
            yield ("Calibration", f"{age:.0f} days old: calibrate again", False)
        else:
            yield ("Calibration", _ago(age * 86400), True)
        if cal.tared_at:
            tared = (now - datetime.fromisoformat(cal.tared_at)).total_seconds()
            yield ("Last tare", _ago(tared), True)

    def sample_rate(self) -> float | None:
        """Samples per plate second over the last :data:`RATE_WINDOW_S` of samples received."""
        times = self._times
        if len(times) < 2 or times[-1] <= times[0]:
            return None
        return (len(times) - 1) / (times[-1] - times[0])

    # -- tare -------------------------------------------------------------------------------

    def _tare(self, now: float) -> str:
        """Zero the plate on the last second of raw cells, judged by the plate's own tare."""
        cal = self._calibration
        if cal is None:
            return f"Tare needs a calibration: {self._calibration_problem}"
        block = list(self._recent)
        if block and not block[-1][1]:
            return "This plate sends no raw counts (a recording): there is nothing to tare"
        fault = self._status.fault if self._status is not None else None
        if len(block) < self._reading_n or now - block[-1][0] > FRESH_S \
                or block[-1][0] - block[0][0] > 2 * READING_S:
            why = f" ({fault})" if fault else ""
            return f"Not enough readings from the plate yet{why}: wait a second and tap Tare again"
        plate = ForcePlate(_CellBlock(block, self.layout), self.layout, cal)
        try:
            tared = plate.tare(samples=len(block))
        except TareRefused as e:
            return f"Tare refused: {e}"
        new = cal.with_offsets(tared.offsets, tared_at=self._utc())
        problem = self._save(new)
        if problem:
            return f"Tare not saved: {problem}"
        self._note_event("tare", {})
        return "Tared: new zero saved"

    # -- calibration ------------------------------------------------------------------------

    def _start_calibration(self) -> str | None:
        block = list(self._recent)
        if block and not block[-1][1]:
            return "This plate sends no raw counts (a recording): it cannot be calibrated here"
        self._calibrator = Calibrator(self.layout, self.calibration_mass_kg)
        self._taking, self._cal_error, self._cal_done = None, None, None
        self._page = "calibrate"
        return None

    def _take_reading(self) -> str | None:
        cal = self._calibrator
        if self._page != "calibrate" or cal is None:
            return "Tap Calibrate first"
        if cal.done:
            return "Calibration is saved: tap Back"
        if self._taking is None:
            self._taking = []
            self._cal_error = None
        return None

    def _finish_reading(self) -> None:
        block, self._taking = self._taking[: self._reading_n], None
        if not block[-1][1]:
            self._cal_error = "This plate sends no raw counts: it cannot be calibrated here"
            return
        cal = self._calibrator
        try:
            cal.feed(average_counts(_CellBlock(block, self.layout), samples=len(block)))
        except CalibrationError as e:
            self._cal_error = _on_screen(str(e)[:1].upper() + str(e)[1:])
            return
        if not cal.done:
            return
        result = cal.result(calibrated_at=self._utc())
        problem = self._save(result)
        if problem:
            cal.restart()
            self._cal_error = f"Not saved: {problem}; start again from the empty plate"
            return
        self._note_event("calibration", {"mass_kg": self.calibration_mass_kg})
        scales = ", ".join(f"{c.name} {s:.1f} counts/N"
                           for c, s in zip(self.layout.cells, result.scales, strict=True))
        notes = "".join(f". Note: {n}" for n in cal.notes)
        self._cal_done = f"Saved: {scales}{notes}. Take the mass off the plate"

    def _leave_calibration(self) -> str | None:
        cal = self._calibrator
        saved = cal is not None and cal.done
        self._end_calibration()
        self._page = "staff"
        return None if saved else "Calibration cancelled: the stored calibration is unchanged"

    def _end_calibration(self) -> None:
        self._calibrator, self._taking, self._cal_error, self._cal_done = None, None, None, None

    def _save(self, new: Calibration) -> str | None:
        """Store a calibration and make the sampler use it; the reason when it cannot."""
        path = calibration_file(self.state)
        try:
            new.save(path)
        except OSError as e:
            return f"cannot write {path} ({e.strerror or e})"
        self._calibration, self._calibration_problem = new, None
        if self.reload_plate is not None:
            self.reload_plate()
        return None

    # -- export -----------------------------------------------------------------------------

    def _look_for_stick(self, now: float, force: bool = False) -> None:
        if force or self._stick_checked is None or not 0 <= now - self._stick_checked < USB_POLL_S:
            self._stick_checked = now
            self._stick = find_usb_stick(self.mounts_file, self.media_roots)

    def _export(self, now: float) -> str:
        self._look_for_stick(now, force=True)
        stick = self._stick
        if stick is None:
            return "Plug in a USB stick"
        try:
            rows = self.export_rows()
        except UsageLogError as e:
            return f"Nothing exported: {e}"
        except sqlite3.Error as e:
            return f"Nothing exported: {describe_problem(e, database_file(self.state))}"
        if not rows:
            return "Nothing to export: no sessions in the usage log yet"
        day = date.fromtimestamp(self._wall()).isoformat()
        # the export holds every day so far: a second one the same day replaces the first
        name = f"gym-station-usage-{self.station_id + '-' if self.station_id else ''}{day}.csv"
        try:
            write_to_stick(stick, name, write_csv(rows, None, EXPORT_HEADER))
        except ExportError as e:
            return str(e)
        self._note_event("export", {"rows": len(rows), "file": name, "to": "usb"})
        self._today = self._read_today()
        return f"Exported {len(rows)} rows to {stick.label}/{name}"

    def export_rows(self) -> list[tuple]:
        """Every day's usage per athlete (guests together), oldest day first: who used the
        station, when, how much and how well."""
        out = []
        with local_source(self.state) as src:
            for d in usage_rows(src, by="day"):
                day = date.fromisoformat(d.group)
                for r in usage_rows(src, since=day, until=day, by="athlete"):
                    out.append((d.group, r.group, r.sessions, round(r.minutes, 1), r.reps,
                                r.good_reps, _rounded(r.good_rate), _rounded(r.heel_share),
                                _rounded(r.hold_s, 2)))
        return out

    # -- volume -----------------------------------------------------------------------------

    def _step_volume(self, step: float) -> str:
        volume = min(1.0, max(0.0, round(self._audio.volume + step, 1)))
        if volume == self._audio.volume:
            return f"Volume already at {'maximum' if step > 0 else 'minimum'}"
        return self._set_audio(AudioView(volume, self._audio.muted))

    def _set_audio(self, audio: AudioView) -> str:
        self._audio = audio
        note = "Muted" if audio.muted else f"Volume {round(audio.volume * 100)}%"
        try:
            save_audio(self.state, audio)
        except OSError as e:
            return f"{note} (not kept after a restart: {e.strerror or e})"
        return note

    # -- helpers ----------------------------------------------------------------------------

    def _utc(self) -> str:
        return datetime.fromtimestamp(self._wall(), UTC).isoformat(timespec="seconds")

    def _note_event(self, kind: str, detail: dict) -> None:
        if self.events is not None:
            self.events.event(kind, {**detail, "by": "staff"})


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _exercise_names(cfg) -> dict[str, str]:
    """Exercise id -> name from the exercises file beside the configuration (ids if unreadable:
    the names only label a row)."""
    from .config import config_dir
    from .errors import ConfigError
    from .profiles import load_profiles

    path = config_dir(cfg) / "exercises.toml"
    try:
        book = load_profiles(path if path.exists() else None)
    except ConfigError:
        return {}
    return {pid: p.name for pid, p in book.profiles.items()}


def audio_file(state: Path) -> Path:
    return Path(state) / AUDIO_FILE


def load_audio(state: Path, default: AudioView) -> AudioView:
    """The volume the staff chose last, else ``default`` (the configuration's). A damaged or
    unreadable file is logged and ``default`` used: the volume is not worth stopping the kiosk
    for (the staff's next change writes the file afresh)."""
    path = audio_file(state)
    try:
        data = read_json(path)
    except FileNotFoundError:
        return default
    except (OSError, FileContentError) as e:
        return _audio_fallback(path, f"cannot be read ({getattr(e, 'strerror', None) or e})",
                               default)
    volume = data.get("volume") if isinstance(data, dict) else None
    muted = data.get("muted") if isinstance(data, dict) else None
    if (isinstance(volume, bool) or not isinstance(volume, int | float)
            or not 0 <= volume <= 1 or not isinstance(muted, bool)):
        return _audio_fallback(path, "is damaged (it needs a volume from 0 to 1 and muted "
                                     "true or false)", default)
    return AudioView(round(float(volume), 2), muted)


def _audio_fallback(path: Path, why: str, default: AudioView) -> AudioView:
    log.warning("%s %s: using the configured volume (%d%%%s) until the staff change it",
                path, why, round(default.volume * 100), ", muted" if default.muted else "")
    return default


def save_audio(state: Path, audio: AudioView) -> None:
    write_state_file(audio_file(state), json.dumps({"volume": audio.volume,
                                                    "muted": audio.muted}) + "\n")


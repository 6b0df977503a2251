"""The athlete roster: who may pick themselves on the ready screen, by name or by badge.

Each athlete has a roster id (what the usage log keys them by), a display name, a badge id (the
digits a USB RFID reader types; may be empty) and optionally the id of the coach's program
assigned to them. The roster lives in ``roster.json`` in the state directory (written atomically,
mode 0600: it holds names). Edits change the roster in memory; :meth:`Roster.save` stores it,
unless the file was changed since it was read (``gym-station roster import`` while the kiosk
runs): then nothing is written and :meth:`Roster.refresh` reads the newer file, so an edit
never wipes out an import. A damaged file is kept aside under a dated name, never overwritten.

CSV import is all or nothing: the whole file is read and checked first (header, encoding, every
row, duplicates within the file and against the roster kept, program ids the station has), and
a bad row refuses the file with its line number and the reason, leaving the roster as it was.
A file with no athletes does not empty a roster unless that is asked for; a file separated by
``;`` (a spreadsheet's "CSV" in many European locales) is read as well as one separated by
``,``. CSV export escapes cells a spreadsheet would run as a formula
(:func:`station.usage_report.csv_cell`); import undoes that escaping, so an export imports
back unchanged.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import logging
import os
import re
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from drivers.errors import FileContentError
from drivers.files import read_limited

from .errors import RosterError
from .kiosk import Athlete
from .paths import write_state_file
from .statefile import StateFile
from .usage_report import FORMULA_STARTS, csv_cell

NAME_MAX = 40  #: characters: what fits on one line of the 800x480 athlete list
ID_MAX = 32
BADGE_MAX = 20  #: EM4100/MIFARE readers type 8 to 10 digits; room for longer ones
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
COLUMNS = ("id", "name", "badge", "program")  #: the CSV header, in export order
REQUIRED_COLUMNS = ("id", "name", "badge")
IMPORT_MODES = ("replace", "merge")
FORMAT_VERSION = 1
#: A roster CSV bigger than this is not one (a gym's roster is kilobytes): refused unread.
CSV_MAX_BYTES = 16 * 2**20

log = logging.getLogger(__name__)


def roster_file(state: Path) -> Path:
    return Path(state) / "roster.json"


@dataclass(frozen=True)
class RosterEntry:
    """One athlete on the roster (validated at construction)."""

    id: str
    name: str
    badge: str = ""
    program: str | None = None

    def __post_init__(self):
        problem = _problem(self)
        if problem:
            raise RosterError(problem)

    def athlete(self) -> Athlete:
        """The kiosk's view of this athlete."""
        return Athlete(self.id, self.name, self.badge)


def _problem(e: RosterEntry) -> str | None:
    """What is wrong with an entry, in words for the person fixing it (None if nothing)."""
    if not isinstance(e.id, str) or not e.id:
        return "the athlete id is empty"
    if len(e.id) > ID_MAX or not ID_PATTERN.fullmatch(e.id):
        return (f"athlete id {e.id!r} is not usable: up to {ID_MAX} letters, digits, '_', '.' or "
                "'-', starting with a letter or digit")
    if not isinstance(e.name, str) or not e.name.strip():
        return f"athlete {e.id!r} has an empty name"
    if e.name != e.name.strip() or any(not ch.isprintable() for ch in e.name):
        return f"athlete {e.id!r}: the name has leading/trailing spaces or control characters"
    if len(e.name) > NAME_MAX:
        return (f"athlete {e.id!r}: the name is {len(e.name)} characters, at most {NAME_MAX} fit "
                "on the screen")
    if not isinstance(e.badge, str) or (e.badge and not (e.badge.isascii() and e.badge.isdigit())):
        hint = (" (a spreadsheet may have turned it into a number: format the column as text)"
                if isinstance(e.badge, str) and re.fullmatch(r"[\d.,]+[eE][+-]?\d+", e.badge)
                else "")
        return f"athlete {e.id!r}: badge {e.badge!r} is not digits only{hint}"
    if len(e.badge) > BADGE_MAX:
        return f"athlete {e.id!r}: badge {e.badge!r} is longer than {BADGE_MAX} digits"
    if e.program is not None and (not isinstance(e.program, str)
                                  or not ID_PATTERN.fullmatch(e.program)):
        return f"athlete {e.id!r}: program {e.program!r} is not a program id"
    return None


class Roster:
    """The station's athletes, in the order they were added, unique by id and by badge.

    ``clock`` (the kiosk's plate time) limits :meth:`refresh` to one look at the file a second;
    ``wall`` dates a damaged file kept aside.
    """

    def __init__(self, path: str | os.PathLike, entries=(), *,
                 clock: Callable[[], float] | None = None, wall: Callable[[], float] = time.time):
        self.path = Path(path)
        self.wall = wall
        self._file = StateFile(self.path, clock)
        self._entries: dict[str, RosterEntry] = self._unique(entries)
        self._damaged_ok = False  #: set by load(damaged_ok=True): a damaged file never raises
        #: Why the stored file could not be used and what became of it (None: it was fine).
        self.damaged: str | None = None
        #: Counts the versions this roster has been (each load, reload and save adds one).
        self.generation = 0

    @classmethod
    def _unique(cls, entries) -> dict[str, RosterEntry]:
        table: dict[str, RosterEntry] = {}
        for entry in entries:
            cls._check_unique(entry, table)
            table[entry.id] = entry
        return table

    # -- storage ---------------------------------------------------------------------------
    @classmethod
    def load(cls, state_dir: str | os.PathLike, *, damaged_ok: bool = False,
             clock: Callable[[], float] | None = None,
             wall: Callable[[], float] = time.time) -> Roster:
        """The roster stored in ``state_dir`` (empty when there is none yet).

        A damaged file raises :class:`RosterError`; with ``damaged_ok`` (the kiosk, which must
        start for the athletes) it is kept aside instead, :attr:`damaged` says so and the
        roster starts empty."""
        roster = cls(roster_file(Path(state_dir)), clock=clock, wall=wall)
        roster._damaged_ok = damaged_ok
        roster._load(damaged_ok)
        return roster

    def _read(self) -> dict[str, RosterEntry]:
        """The entries in the file ({} when there is none); :class:`RosterError` if it is
        damaged, OSError if the disk cannot read it."""
        path = self.path
        try:
            raw = self._file.read_json()
        except ValueError as e:
            raise RosterError(f"{path} cannot be read ({e}): restore it from an export with "
                              "`gym-station roster import FILE`", str(path)) from None
        if raw is None:
            return {}
        try:
            if raw.get("version") != FORMAT_VERSION:
                raise RosterError(f"format version {raw.get('version')!r}, expected "
                                  f"{FORMAT_VERSION}")
            return self._unique(RosterEntry(a["id"], a["name"], a.get("badge", ""),
                                            a.get("program")) for a in raw["athletes"])
        except (AttributeError, KeyError, TypeError, RosterError) as e:
            raise RosterError(f"{path} is damaged ({e}): restore it from an export with "
                              "`gym-station roster import FILE`", str(path)) from None

    def _load(self, damaged_ok: bool) -> None:
        """Read the file into memory. A damaged one raises, or (``damaged_ok``) is kept aside
        while the roster in memory stays as it was (one the disk cannot read stays in place)."""
        try:
            self._entries = self._read()
            self.damaged = None
        except OSError as e:
            error = RosterError(f"{self.path} cannot be read ({e.strerror or e}): restore it "
                                "from an export with `gym-station roster import FILE`",
                                str(self.path))
            if not damaged_ok:
                raise error from None
            self._unusable(error, damaged=False)
        except RosterError as e:
            if not damaged_ok:
                raise
            self._unusable(e, damaged=True)
        self.generation += 1

    def _unusable(self, e: RosterError, damaged: bool) -> None:
        """Say that the file could not be used; set it aside if its content is ``damaged``, and
        store the athletes in memory again (if any) so the file holds what the kiosk uses."""
        had = len(self._entries)
        reason = str(e).partition(": restore it")[0]
        self.damaged = self._file.unusable(
            "roster", damaged, had, keeps=f"the station keeps the roster it had ({had} athletes)",
            empty="the roster is empty until it is imported again (gym-station roster import)",
            rewrite=self._write, wall=self.wall)
        log.error("roster: %s (%s)", self.damaged, reason)

    def set_aside(self) -> Path:
        """Keep the stored file under a dated name (a damaged one: never overwritten)."""
        return self._file.set_aside(self.wall)

    def refresh(self, force: bool = False) -> bool:
        """Read the file again if it changed since it was read or written (someone imported a
        roster at the console); at most once a second of the clock unless ``force``. True when
        the roster was read again. Never raises on a kiosk's roster (``damaged_ok``)."""
        try:
            if not self._file.changed(force):
                return False
        except OSError as e:
            log.warning("roster: %s cannot be looked at (%s)", self.path, e.strerror or e)
            return False
        self._load(self._damaged_ok)
        log.info("roster: %s changed: read again (%d athletes)", self.path.name, len(self))
        return True

    def save(self) -> None:
        """Store the roster atomically (mode 0600). A file changed since it was read is not
        overwritten: :class:`RosterError`, nothing written (read it again, then edit)."""
        if self._file.changed(force=True):
            raise RosterError(f"{self.path} was changed meanwhile (by `gym-station roster "
                              "import`?): nothing stored; try again", str(self.path))
        self._write()
        self.damaged = None

    def _write(self) -> None:
        doc = {"version": FORMAT_VERSION, "athletes": [asdict(e) for e in self]}
        self._file.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", 0o600)
        self.generation += 1

    def snapshot(self) -> dict[str, RosterEntry]:
        """The roster in memory, to :meth:`restore` if an edit cannot be stored."""
        return dict(self._entries)

    def restore(self, snapshot: dict[str, RosterEntry]) -> None:
        self._entries = dict(snapshot)

    # -- reading ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[RosterEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, athlete_id: object) -> bool:
        return athlete_id in self._entries

    def get(self, athlete_id: str) -> RosterEntry:
        try:
            return self._entries[athlete_id]
        except KeyError:
            raise RosterError(f"no athlete {athlete_id!r} on the roster") from None

    def find_badge(self, badge: str) -> RosterEntry | None:
        """The athlete with this badge (what the RFID reader typed), or None."""
        badge = badge.strip()
        if not badge:
            return None
        return next((e for e in self if e.badge == badge), None)

    def athletes(self) -> list[Athlete]:
        """Everyone, as the kiosk's :class:`~station.kiosk.Athlete` objects."""
        return [e.athlete() for e in self]

    # -- edits (in memory; save() stores them) --------------------------------------------
    def add(self, athlete_id: str, name: str, badge: str = "",
            program: str | None = None) -> RosterEntry:
        """A new athlete; a taken id or badge is refused."""
        entry = RosterEntry(athlete_id, name, badge, program)
        if entry.id in self._entries:
            raise RosterError(f"athlete id {entry.id!r} is already {self._entries[entry.id].name}")
        self._check_unique(entry, self._entries)
        self._entries[entry.id] = entry
        return entry

    def rename(self, athlete_id: str, name: str) -> RosterEntry:
        return self._replace(self.get(athlete_id), name=name)

    def set_badge(self, athlete_id: str, badge: str) -> RosterEntry:
        """A new badge (or ``""`` for none); one already given to someone else is refused."""
        return self._replace(self.get(athlete_id), badge=badge)

    def assign_program(self, athlete_id: str, program: str | None) -> RosterEntry:
        """Assign a program id to the athlete (None: the station's program applies)."""
        return self._replace(self.get(athlete_id), program=program)

    def delete(self, athlete_id: str) -> RosterEntry:
        """Take the athlete off the roster (their usage log stays: see `gym-station athlete`)."""
        entry = self.get(athlete_id)
        del self._entries[athlete_id]
        return entry

    def _replace(self, entry: RosterEntry, **changes) -> RosterEntry:
        new = replace(entry, **changes)
        others = {k: v for k, v in self._entries.items() if k != entry.id}
        self._check_unique(new, others)
        self._entries[entry.id] = new
        return new

    @staticmethod
    def _check_unique(entry: RosterEntry, others: dict[str, RosterEntry]) -> None:
        if entry.id in others:
            raise RosterError(f"athlete id {entry.id!r} appears twice")
        if entry.badge:
            holder = next((o for o in others.values() if o.badge == entry.badge), None)
            if holder is not None:
                raise RosterError(f"badge {entry.badge} is already {holder.name}'s "
                                  f"({holder.id})")

    # -- CSV -------------------------------------------------------------------------------
    def import_csv(self, path: str | os.PathLike, mode: str = "replace", *,
                   programs: Collection[str] | None = None, allow_empty: bool = False) -> int:
        """Read a roster CSV; ``replace`` makes it the whole roster, ``merge`` adds its athletes
        and updates those whose id is already here. Returns the number of rows read.

        ``programs``: the program ids the station has (None: not checked); a row naming
        another is refused. A file without athletes does not replace a roster that has some
        unless ``allow_empty`` (an empty roster on purpose). Nothing changes unless the whole
        file is good: a bad file raises :class:`RosterError` with ``line`` set and the roster
        untouched.
        """
        if mode not in IMPORT_MODES:
            raise RosterError(f"import mode {mode!r}: it must be one of {', '.join(IMPORT_MODES)}")
        path = Path(path)
        try:
            data = read_limited(path, CSV_MAX_BYTES)
        except OSError as e:
            raise RosterError(f"{path}: cannot read it ({e.strerror})", str(path)) from None
        except FileContentError as e:
            raise RosterError(f"{path}: {e}", str(path)) from None
        # a file with no athletes would wipe the roster out: a wrong file, unless asked for
        rows = parse_roster_csv(data, str(path), allow_empty=allow_empty or mode == "merge"
                                or not self._entries)
        if programs is not None:
            for line, entry in rows:
                if entry.program is not None and entry.program not in programs:
                    known = ", ".join(sorted(programs)) or "none yet"
                    raise RosterError(f"{path}: line {line}: program {entry.program!r} does not "
                                      f"exist on this station (its programs: {known}); leave "
                                      "the cell empty for the station's program", str(path),
                                      line)
        result = dict(self._entries) if mode == "merge" else {}
        lines: dict[str, int] = {}
        for line, entry in rows:
            if entry.id in lines:
                raise RosterError(f"{path}: line {line}: athlete id {entry.id!r} is also on line "
                                  f"{lines[entry.id]}", str(path), line)
            lines[entry.id] = line
            result[entry.id] = entry
        holders: dict[str, RosterEntry] = {}
        for entry in sorted(result.values(), key=lambda e: lines.get(e.id, 0)):
            holder = holders.setdefault(entry.badge, entry) if entry.badge else entry
            if holder is not entry:
                where = (f"line {lines[holder.id]}" if holder.id in lines
                         else "the roster kept by merge")
                line = lines[entry.id]
                raise RosterError(f"{path}: line {line}: badge {entry.badge} is also "
                                  f"{holder.name}'s ({holder.id}, {where})", str(path), line)
        self._entries = result
        return len(rows)

    def export_csv(self, path: str | os.PathLike | None = None) -> str:
        """The roster as CSV (formula-like cells escaped); written atomically to ``path``."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for e in self:
            w.writerow([_escape(e.id), _escape(e.name), e.badge, _escape(e.program or "")])
        text = buf.getvalue()
        if path is not None:
            write_state_file(Path(path), text, 0o600)
        return text


def _escaped(cell: str) -> bool:
    """Whether ``cell`` reads as escaped: a ``'`` before a formula start or before another ``'``."""
    return cell.startswith("'") and cell[1:].startswith((*FORMULA_STARTS, "'"))


def _escape(cell: str) -> str:
    """:func:`csv_cell`, and a ``'`` more before text that would itself read as escaped, so
    :func:`_unescape` gives back exactly what was exported (``'=x`` stays ``'=x``)."""
    return "'" + cell if _escaped(cell) else csv_cell(cell)


def _unescape(cell: str) -> str:
    """Undo :func:`_escape`: ``'=x`` back to ``=x``, ``''=x`` back to ``'=x`` (a plain leading
    ``'`` before anything else stays)."""
    return cell[1:] if _escaped(cell) else cell


def parse_roster_csv(data: bytes, where: str = "<roster>", *,
                     allow_empty: bool = True) -> list[tuple[int, RosterEntry]]:
    """Every row of a roster CSV as (line number, entry); the first problem raises
    :class:`RosterError` naming the line. UTF-8 with or without a byte-order mark; cells
    separated by ``,``, or by ``;`` when the header is (a spreadsheet's "CSV" in locales whose
    decimal point is a comma). Without ``allow_empty`` a file with no athletes is refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise RosterError(f"{where}: line {line}: not UTF-8 text (byte 0x{data[e.start]:02x}): "
                          "save the file as \"CSV UTF-8\"", where, line) from None

    def refuse(line: int, why: str):
        raise RosterError(f"{where}: line {line}: {why}", where, line)

    header_text = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = ";" if ";" in header_text and "," not in header_text else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            refuse(1, f"the file is empty; it needs a header row: {','.join(COLUMNS)}")
        header_line = reader.line_num
        names = [c.strip().lower() for c in header]
        for name in names:
            if name not in COLUMNS:
                hint = difflib.get_close_matches(name, COLUMNS, n=1)
                did = f" (did you mean {hint[0]!r}?)" if hint else ""
                refuse(header_line, f"unknown column {name!r}{did}; the columns are "
                                    f"{', '.join(COLUMNS)}")
        for name in REQUIRED_COLUMNS:
            if name not in names:
                refuse(header_line, f"the header has no {name!r} column; it needs "
                                    f"{', '.join(REQUIRED_COLUMNS)} (and optionally program)")
        if len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            refuse(header_line, f"the column {twice!r} appears twice in the header")
        rows = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(names):
                refuse(line, f"{len(cells)} fields, but the header has {len(names)}")
            row = {name: _unescape(cell.strip()) for name, cell in zip(names, cells, strict=True)}
            try:
                entry = RosterEntry(row["id"], row["name"], row["badge"],
                                    row.get("program") or None)
            except RosterError as e:
                refuse(line, str(e))
            rows.append((line, entry))
    except csv.Error as e:
        refuse(reader.line_num, f"not a well-formed CSV row ({e})")
    if not rows and not allow_empty:
        refuse(header_line, "the file has no athletes, only the header: nothing changed (to "
                            "empty the roster on purpose, import it with --allow-empty)")
    return rows


__all__ = ["COLUMNS", "NAME_MAX", "Roster", "RosterEntry", "parse_roster_csv", "roster_file"]

"""The athlete roster: who may pick themselves on the ready screen, by name or by badge.

Each athlete has a roster id (what the usage log keys them by), a display name, a badge id (the
digits a USB RFID reader types; may be empty) and optionally the id of the coach's program
assigned to them. The roster lives in ``roster.json`` in the state directory (written atomically,
mode 0600: it holds names). Edits change the roster in memory; :meth:`Roster.save` stores it.

CSV import is all or nothing: the whole file is read and checked first (header, encoding, every
row, duplicates within the file and against the roster kept), and a bad row refuses the file
with its line number and the reason, leaving the roster as it was. CSV export escapes cells a
spreadsheet would run as a formula (:func:`station.usage_report.csv_cell`); import undoes that
escaping, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .errors import RosterError
from .kiosk import Athlete
from .paths import write_state_file
from .usage_report import FORMULA_STARTS, csv_cell

NAME_MAX = 40  #: characters: what fits on one line of the 800x480 athlete list
ID_MAX = 32
BADGE_MAX = 20  #: EM4100/MIFARE readers type 8 to 10 digits; room for longer ones
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
COLUMNS = ("id", "name", "badge", "program")  #: the CSV header, in export order
REQUIRED_COLUMNS = ("id", "name", "badge")
IMPORT_MODES = ("replace", "merge")
FORMAT_VERSION = 1


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
    """The station's athletes, in the order they were added, unique by id and by badge."""

    def __init__(self, path: str | os.PathLike, entries=()):
        self.path = Path(path)
        self._entries: dict[str, RosterEntry] = {}
        for entry in entries:
            self._check_unique(entry, self._entries)
            self._entries[entry.id] = entry

    # -- storage ---------------------------------------------------------------------------
    @classmethod
    def load(cls, state_dir: str | os.PathLike) -> Roster:
        """The roster stored in ``state_dir`` (empty when there is none yet)."""
        path = roster_file(Path(state_dir))
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError, RecursionError) as e:  # RecursionError: [[[[... nested
            raise RosterError(f"{path} cannot be read ({e}): restore it from an export with "
                              "`gym-station roster import FILE`", str(path)) from None
        try:
            if raw.get("version") != FORMAT_VERSION:
                raise RosterError(f"format version {raw.get('version')!r}, expected "
                                  f"{FORMAT_VERSION}")
            entries = [RosterEntry(a["id"], a["name"], a.get("badge", ""), a.get("program"))
                       for a in raw["athletes"]]
            return cls(path, entries)
        except (AttributeError, KeyError, TypeError, RosterError) as e:
            raise RosterError(f"{path} is damaged ({e}): restore it from an export with "
                              "`gym-station roster import FILE`", str(path)) from None

    def save(self) -> None:
        """Store the roster atomically (mode 0600)."""
        doc = {"version": FORMAT_VERSION, "athletes": [asdict(e) for e in self]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_state_file(self.path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n", 0o600)

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
    def import_csv(self, path: str | os.PathLike, mode: str = "replace") -> int:
        """Read a roster CSV; ``replace`` makes it the whole roster, ``merge`` adds its athletes
        and updates those whose id is already here. Returns the number of rows read.

        Nothing changes unless the whole file is good: a bad file raises :class:`RosterError`
        with ``line`` set and the roster untouched.
        """
        if mode not in IMPORT_MODES:
            raise RosterError(f"import mode {mode!r}: it must be one of {', '.join(IMPORT_MODES)}")
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise RosterError(f"{path}: cannot read it ({e.strerror})", str(path)) from None
        rows = parse_roster_csv(data, str(path))
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


def parse_roster_csv(data: bytes, where: str = "<roster>") -> list[tuple[int, RosterEntry]]:
    """Every row of a roster CSV as (line number, entry); the first problem raises
    :class:`RosterError` naming the line. UTF-8 with or without a byte-order mark."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise RosterError(f"{where}: line {line}: not UTF-8 text (byte 0x{data[e.start]:02x}): "
                          "save the file as \"CSV UTF-8\"", where, line) from None

    def refuse(line: int, why: str):
        raise RosterError(f"{where}: line {line}: {why}", where, line)

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
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
    return rows


__all__ = ["COLUMNS", "NAME_MAX", "Roster", "RosterEntry", "parse_roster_csv", "roster_file"]

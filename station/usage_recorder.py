"""What the kiosk tells the usage log: sessions, sets, reps, cues shown, faults, coach changes.

:class:`SessionRecorder` is the ``log`` object a :class:`~station.kiosk.Kiosk` takes. Each call
builds one row and queues it on the :class:`~station.usage_log.UsageLog` (an append under a lock):
cheap enough for the main loop. It keeps the open session's and set's rows in memory and queues
them whole again when they change, so every write is an idempotent upsert by UUID.

A session runs from the first set started after the idle screen to the return to idle (``home``,
``button_hold``, ``timeout``, ``done``), a change of athlete or exercise (``changed``) or the
station stopping (``shutdown``). Plate times (``t``) are the samples' clock; the wall clock only
dates the records.
"""

from __future__ import annotations

import json
import math

from .sets import SetTracker
from .usage_log import UsageLog, iso, new_id


def _num(value):
    """A float for the database: None for missing or not-a-number values."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _jsonable(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


class SessionRecorder:
    """Turns kiosk moments into usage-log rows for one station."""

    def __init__(self, log: UsageLog, facility=None):
        self.log = log
        self.facility = facility  #: the facility push (``problem`` while its server is away)
        self.session: dict | None = None
        self._sets: dict[tuple[str, int], dict] = {}
        self._trackers: dict[tuple[str, int], SetTracker] = {}
        self._fault: str | None = None
        self._athletes_seen: set[str] = set()

    @property
    def session_id(self) -> str | None:
        return self.session["id"] if self.session else None

    @property
    def warning(self) -> str | None:
        """The log's warning for the staff (disk full, locked, read-only), the facility server
        being away, both (the local one first: it is the one that can lose records), or None."""
        warning = self.log.warning
        if self.facility is not None and self.facility.problem:
            if warning is None:
                return ("Facility server not reachable: the records wait on this station and "
                        "go when it answers")
            return f"{warning} The facility server is not reachable either."
        return warning

    def _now(self) -> str:
        return iso(self.log.wall())

    # -- sessions -------------------------------------------------------------------------
    def session_started(self, t: float, athlete, exercise: str, side: str) -> str:
        """A session began: ``athlete`` is a roster Athlete (``id``, ``name``) or None (guest)."""
        if self.session is not None:
            self.session_ended(t, "changed")
        athlete_id = None
        if athlete is not None:
            athlete_id = athlete.id
            if athlete_id not in self._athletes_seen:
                self._athletes_seen.add(athlete_id)
                self.log.put("athletes", {"id": athlete_id, "name": athlete.name,
                                          "first_seen": self._now()})
        now = self.log.wall()
        self.session = {"id": new_id(), "athlete_id": athlete_id, "exercise": exercise,
                        "side": side, "started_at": iso(now), "day": iso(now)[:10],
                        "ended_at": None, "start_t": float(t), "end_t": None, "status": "open",
                        "end_reason": None}
        self._sets, self._trackers = {}, {}
        self.log.put("sessions", dict(self.session))
        return self.session["id"]

    def matches(self, athlete, exercise: str) -> bool:
        """Whether the open session is this athlete's (or the guest's) on this exercise."""
        if self.session is None:
            return False
        athlete_id = athlete.id if athlete is not None else None
        return self.session["athlete_id"] == athlete_id and self.session["exercise"] == exercise

    def session_ended(self, t: float, reason: str) -> None:
        """The open session ended at plate time ``t`` (no-op when none is open)."""
        if self.session is None:
            return
        for key, row in self._sets.items():
            if row["status"] == "open":  # ended mid-set: its numbers from the reps so far
                self._fill_set(row, self._trackers[key].summary())
                self.log.put("sets", dict(row))
        s = self.session
        s.update(ended_at=self._now(), end_t=max(float(t), s["start_t"]), status="ended",
                 end_reason=reason)
        self.log.put("sessions", dict(s))
        self.session = None
        self._sets, self._trackers = {}, {}

    # -- sets and reps --------------------------------------------------------------------
    def _set_row(self, exercise: str, side: str, set_index: int) -> dict:
        key = (side, set_index)
        row = self._sets.get(key)
        if row is None:
            row = {"id": new_id(), "session_id": self.session_id, "set_index": set_index,
                   "exercise": exercise, "side": side, "start_t": None, "end_t": None,
                   "reps": 0, "good_reps": 0, "heel_share": None, "hold_s": None,
                   "lower_s": None, "drive_s": None, "peak_n": None, "faults": "{}",
                   "status": "open"}
            self._sets[key] = row
            self._trackers[key] = SetTracker(exercise, side)
        return row

    def rep_completed(self, rep, *, exercise: str, side: str, set_index: int) -> None:
        """A completed :class:`~station.reps.Rep` of set ``set_index`` on ``side``."""
        if self.session is None:
            return
        st = self._set_row(exercise, side, set_index)
        self._trackers[(side, set_index)].add(rep)
        first = st["reps"] == 0
        st["reps"] += 1
        st["good_reps"] += int(bool(rep.good))
        if st["start_t"] is None:
            st["start_t"] = float(rep.start)
        st["end_t"] = float(rep.end)
        if first:  # the set row exists before its reps; its numbers come with set_completed
            self.log.put("sets", dict(st))
        metrics = {k: _jsonable(v) for k, v in rep.as_dict().items()}
        self.log.put("reps", {
            "id": new_id(), "session_id": self.session_id, "set_id": st["id"],
            "rep_index": int(rep.index), "at": self._now(), "start_t": float(rep.start),
            "end_t": float(rep.end), "drive_s": _num(rep.drive_s), "hold_s": _num(rep.hold_s),
            "lower_s": _num(rep.lower_s), "heel_share": _num(rep.heel_share),
            "heel_share_min": _num(getattr(rep, "heel_share_min", None)),
            "peak_n": _num(rep.peak_n), "top_n": _num(getattr(rep, "top_n", None)),
            "bottom_n": _num(getattr(rep, "bottom_n", None)), "good": int(bool(rep.good)),
            "faults": json.dumps(list(rep.faults)),
            "metrics": json.dumps(metrics, sort_keys=True)})

    def set_completed(self, summary, *, set_index: int) -> None:
        """A set's :class:`~station.sets.SetSummary` (the kiosk's 1-based ``set_index``)."""
        if self.session is None:
            return
        st = self._set_row(summary.exercise, summary.side, set_index)
        self._fill_set(st, summary)
        self.log.put("sets", dict(st))

    @staticmethod
    def _fill_set(st: dict, summary) -> None:
        st.update(start_t=_num(summary.start), end_t=_num(summary.end), reps=int(summary.reps),
                  good_reps=int(summary.good_reps), heel_share=_num(summary.heel_share),
                  hold_s=_num(summary.hold_s), lower_s=_num(summary.lower_s),
                  drive_s=_num(summary.drive_s), peak_n=_num(summary.peak_n),
                  faults=json.dumps(dict(summary.faults), sort_keys=True), status="done")

    # -- cues, faults, coaching -----------------------------------------------------------
    def cue_shown(self, cue) -> None:
        self.log.put("cues", {"id": new_id(), "session_id": self.session_id, "at": self._now(),
                              "t": float(cue.t), "kind": cue.kind, "text": cue.text})

    def fault(self, message: str | None) -> None:
        """The sampler's fault message each frame; only a change is logged."""
        if message == self._fault:
            return
        if message:
            self.log.event("fault", {"message": message}, self.session_id)
        else:
            self.log.event("fault_cleared", {"message": self._fault}, self.session_id)
        self._fault = message

    def event(self, kind: str, detail: dict | None = None) -> None:
        """Any other moment worth keeping (coach change, PIN failure, calibration, export)."""
        self.log.event(kind, detail, self.session_id)

    def close(self, t: float | None = None) -> None:
        """End the open session (``shutdown``) and close the log. Safe twice."""
        if self.session is not None:
            self.session_ended(self.session["start_t"] if t is None else t, "shutdown")
        self.log.close()

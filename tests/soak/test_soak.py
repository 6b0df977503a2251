"""A simulated facility day with faults, at accelerated plate time (issue 8).

Athletes from the roster come by badge or by name for sets on the left and the right foot, coaches
change targets and staff export usage on the touchscreen, and on the way: the app killed with
SIGKILL twice mid-session, a chip silent for 30 s, bursts of spikes, the database read-only,
PostgreSQL stopped, the sampler process killed. Everything but the people, the plate and the clock
is the real station (see station/soak.py and tests/soak/soak_day.py). The short form runs in CI;
``GYM_STATION_SOAK=1`` runs the full day (8 h, 150 sessions, 40 athletes, the issue's fault
durations) and prints its figures.

Time: the plate, the kiosk, the usage log's writer and the facility push all run on the day's
plate clock (the writer and the push in lockstep with it, :class:`station.soak.PlateTime`), so a
plate hour holds a real hour's samples, commits, retries and pushes, and every bound below is in
plate seconds. The day slows to real time for the seconds before each SIGKILL.
"""

import bisect
import json

import numpy as np
import pytest
from soak_day import immutable_supported, pg_rows, run_day, sqlite_rows

from station.soak import BURST_RATE_HZ, LOOKAHEAD_S, REAL_TIME_S
from station.usage_schema import connect, database_file

pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[test]'")

#: How far the kiosk's start of a rep may be from the athlete's (the accuracy tests hold it far
#: tighter; this only pairs reps up).
PAIR_S = 0.5
#: Plate seconds around a fault in which reps may be missed (a silent chip loses samples; an app
#: restarted mid-set comes back in the middle of someone's set).
DISTURBED_BEFORE_S, DISTURBED_AFTER_S = 10.0, 40.0
#: The issue's bound on memory growth, per hour of the station's activity: a plate hour holds a
#: real hour's samples (80 a second), commits, retries and pushes; the kiosk's frames are as many
#: as the machine runs (printed; ~10 a plate second), where the display draws 60 a second.
RSS_MB_PER_HOUR = 5.0


#: Plate seconds from a person's or a fault's moment to the frame that acts on it, at most: the
#: sampler runs up to LOOKAHEAD_S ahead and a frame takes in whatever it read.
LAG_S = 2 * LOOKAHEAD_S


def shown_within(kind: str, cfg) -> float:
    """Plate seconds from a fault's start to its sign on the screen, at most: a silent chip after
    ``read_timeout_s``, a dead sampler at once; the database on the writer's next write (the
    fault starts 2 s before a rep, whose cues and rep are records); PostgreSQL at the push after
    the next commit or after ``push_interval_s``."""
    return LAG_S + {"silent_chip": cfg.plate.read_timeout_s,
                    "sampler_killed": 0.0,
                    "database_read_only": 10.0,
                    "postgres_away": cfg.storage.push_interval_s}[kind]


def cleared_within(kind: str, cfg, retry_s: float) -> float:
    """Plate seconds from a fault's end to its sign gone from the screen, at most: the next
    sample (a chip answering, the sampler restarted), the writer's next retry, the next push."""
    return LAG_S + {"silent_chip": cfg.plate.read_timeout_s,
                    "sampler_killed": 0.0,
                    "database_read_only": retry_s,
                    "postgres_away": cfg.storage.push_interval_s}[kind]


def gap(sorted_starts: list[float], t: float) -> float:
    """How far ``t`` is from the nearest of ``sorted_starts``."""
    i = bisect.bisect_left(sorted_starts, t)
    return min((abs(t - sorted_starts[j]) for j in (i - 1, i) if 0 <= j < len(sorted_starts)),
               default=float("inf"))


def kept_mb(points: list[tuple[float, int]]) -> float:
    """The memory a process holds for good at the end beyond its least since the warm-up: the
    least of the last quarter of the readings minus the least of them all, in MB (a session's
    buffers, freed when it ends, do not count; a leak does, whenever it happened)."""
    kb = [k for _t, k in points]
    return (min(kb[-max(1, len(kb) // 4):]) - min(kb)) / 1024.0


def page_cache_mb(state) -> float:
    """The most SQLite's page cache of one connection holds (``PRAGMA cache_size``, negative:
    KiB). The writer's fills as the database grows, up to this, once in a station's life: a
    bounded cache, not growth per hour."""
    conn = connect(database_file(state))
    try:
        size = conn.execute("PRAGMA cache_size").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return (-size * 1024 if size < 0 else size * page) / 1024.0 ** 2


@pytest.mark.soak
def test_a_facility_day_with_faults_loses_no_rep_and_shows_and_clears_each_fault(
        tmp_path, pg_server, soak_form):
    why = immutable_supported(tmp_path)
    if why:
        pytest.skip(f"the database cannot be made read-only for root here: {why}")
    day = run_day(soak_form, tmp_path, pg_server)
    plan, last, cfg = day.plan, day.last, day.cfg
    state = day.state
    commit_s = cfg.storage.commit_interval_s

    # -- nothing crashed, nobody was turned away ----------------------------------------------
    assert last.thread_errors == []
    assert last.stalls == 0, "the writer or the push hung for a minute"
    assert last.people_errors == []
    for seg in day.killed:
        assert seg.returncode == -9, seg.stderr[-2000:]
        assert seg.killed_at is not None and "Traceback" not in seg.stderr, seg.stderr[-2000:]
        assert seg.sampler_left == []          # the kill took the sampler process with it
        # it ran at real time up to the kill (the gate lets the plate go no faster), from the
        # first frame past kill_at - REAL_TIME_S
        assert seg.real_s >= REAL_TIME_S - LOOKAHEAD_S - 0.01
    assert sqlite_rows(state, "SELECT COUNT(*) FROM events WHERE kind = 'records_lost'") == [(0,)]

    # -- every rep logged before each kill (but its last commit interval) is in SQLite, once --
    local = sqlite_rows(state, "SELECT id, session_id, start_t FROM reps")
    keys = [(sid, start) for _id, sid, start in local]
    assert len(keys) == len(set(keys)), "a rep is in the log twice"
    in_log = set(keys)
    lost_at_kills = []
    for seg in day.killed:
        by = seg.killed_at - commit_s
        due = [tuple(r["rep"]) for r in seg.reps if r["at"] <= by + 1e-6]
        assert due, "the app had logged no rep before the kill: the kill came too early"
        missing = [k for k in due if k not in in_log]
        assert missing == [], (f"reps logged {commit_s} s or more before the SIGKILL at plate "
                               f"{seg.killed_at:.2f} s are missing: {missing}")
        late = [tuple(r["rep"]) for r in seg.reps if r["at"] > by + 1e-6]
        lost_at_kills.append((len(due), len(late), sum(k not in in_log for k in late)))
    logged = [(r["session_id"], r["start"]) for r in last.reps]
    assert set(logged) <= in_log
    assert sqlite_rows(state, "SELECT COUNT(*) FROM sessions WHERE status = 'open'") == [(0,)]
    interrupted = {sid for (sid,) in sqlite_rows(
        state, "SELECT id FROM sessions WHERE status = 'interrupted'")}
    for seg in day.killed:   # each kill came mid-session: the open session was closed as such
        assert seg.reps[-1]["rep"][0] in interrupted
    assert len(interrupted) == len(day.killed)

    # -- and exactly once in PostgreSQL, once the push caught up ----------------------------
    remote = pg_rows(day.url, "SELECT id, session_id, start_t FROM reps")
    assert sorted(remote) == sorted(local)
    for table in ("sessions", "sets", "cues", "events"):
        n_local = sqlite_rows(state, f"SELECT COUNT(*) FROM {table}")[0][0]
        assert pg_rows(day.url, f"SELECT COUNT(*) FROM {table}")[0][0] == n_local, table

    # -- each fault showed on the screen and cleared, in time; the station kept at it --------
    kinds = {f.kind for f in last.faults}
    assert kinds == {"silent_chip", "spikes", "database_read_only", "postgres_away",
                     "sampler_killed"}
    retry_s = 2.0   # station.usage_log.UsageLog's retry_s (not configurable)
    for f in last.faults:
        if f.kind == "spikes":
            assert f.fault_screens == 0, f   # the spike filter takes them: no fault, no rep
            expected = BURST_RATE_HZ * 2 * (f.end - f.start)   # 2 cells
            assert f.spikes_injected >= 0.5 * expected, f
            assert 0.8 * f.spikes_injected <= f.spikes_filtered <= f.spikes_injected, f
            continue
        assert f.shown_at is not None, f"{f.name} never showed on the screen"
        assert f.start <= f.shown_at <= f.start + shown_within(f.kind, cfg), f
        assert f.cleared_at is not None, f"{f.name} never cleared"
        assert f.end <= f.cleared_at <= f.end + cleared_within(f.kind, cfg, retry_s), f
        if f.kind == "database_read_only":   # a retry every retry_s, as in real time
            assert abs(f.attempts - (f.end - f.shown_at) / retry_s) <= 2, f
        if f.kind == "postgres_away":        # a push at least every push_interval_s
            assert f.attempts >= (f.end - f.start) / cfg.storage.push_interval_s - 1, f
    assert last.sampler_kills == len(plan.faults_of("sampler_killed"))
    assert last.sampler_restarts == last.sampler_kills

    # -- coaches and staff, on the touchscreen ------------------------------------------------
    assert last.coach_changes == len(plan.coach)
    coach_events = sqlite_rows(state, "SELECT detail FROM events WHERE kind = 'coach_change'")
    changes = [json.loads(d)["changes"] for (d,) in coach_events]
    assert len(changes) == len(plan.coach)
    assert {"reps": [6, 5], "hold_target_s": [1.5, 2.0]} in changes
    said = [n for n in last.notes if not n.startswith("Exported ")]
    assert len(said) == len(plan.coach) and all(
        n.startswith(("Saved: it applies from the next set", "From the next set: "))
        for n in said), last.notes
    exported = [n for n in last.notes if n.startswith("Exported ")]
    assert len(exported) == len(plan.exports) == len(day.exports), last.notes
    for path in day.exports:
        lines = path.read_text().splitlines()
        assert lines[0].startswith("day,athlete,sessions,") and len(lines) > 1
    assert sqlite_rows(state, "SELECT COUNT(*) FROM events WHERE kind = 'export'") == \
        [(len(plan.exports),)]

    # -- memory -------------------------------------------------------------------------------
    warm = [r for r in last.rss_kb if r[0] >= plan.warm_up]
    app = [(t, kb) for t, kb, _pid, _skb in warm]
    app_h = (app[-1][0] - app[0][0]) / 3600.0
    # the sampler process: over its longest life after the warm-up (it is killed once)
    pids = [pid for _t, _app, pid, _kb in warm if pid]
    longest = max(set(pids), key=pids.count)
    sampler = [(t, kb) for t, _app, pid, kb in warm if pid == longest]
    sampler_h = (sampler[-1][0] - sampler[0][0]) / 3600.0
    cache_mb = page_cache_mb(state)
    sessions = sqlite_rows(state, "SELECT COUNT(*) FROM sessions")[0][0]
    truth = plan.truth()
    print(f"\nsoak ({soak_form}): {plan.duration / 3600:.2f} h, {sessions} sessions of "
          f"{len({s.athlete_id for s in plan.sessions})} athletes, {len(truth)} reps done, "
          f"{len(local)} reps logged; rows in SQLite and PostgreSQL: {len(local)} reps, "
          f"{sqlite_rows(state, 'SELECT COUNT(*) FROM cues')[0][0]} cues, "
          f"{sqlite_rows(state, 'SELECT COUNT(*) FROM events')[0][0]} events; the day waited "
          f"{last.held_s:.0f} real s for the writer and the push; "
          f"{last.frames / (last.end - last.start):.1f} frames a plate second; sampler restarts "
          f"{last.sampler_restarts}")
    for seg, (due, late, late_lost) in zip(day.killed, lost_at_kills, strict=True):
        print(f"  SIGKILL at plate {seg.killed_at:.2f} s after {seg.real_s:.1f} s at real time "
              f"(held {seg.held_s * 1000:.0f} ms): {due} reps logged >= {commit_s} s before it, "
              f"all in SQLite; {late} later, {late_lost} of them lost")
    print(f"  memory kept, per hour of activity: app {app[0][1] / 1024:.1f} -> "
          f"{app[-1][1] / 1024:.1f} MB, {kept_mb(app):.2f} MB over {app_h:.2f} h "
          f"({kept_mb(app) / app_h:.2f} MB/h, of it up to {cache_mb:.1f} MB SQLite's page "
          f"cache); sampler {sampler[0][1] / 1024:.1f} -> {sampler[-1][1] / 1024:.1f} MB, "
          f"{kept_mb(sampler):.2f} MB over {sampler_h:.2f} h "
          f"({kept_mb(sampler) / sampler_h:.2f} MB/h)")
    for f in last.faults:
        print(f"  {f.name}: {f.start:.0f}-{f.end:.0f} s, shown at {f.shown_at}, cleared at "
              f"{f.cleared_at}, attempts {f.attempts}, spikes {f.spikes_injected}/"
              f"{f.spikes_filtered}: {f.shown or ''}")
    assert kept_mb(app) < RSS_MB_PER_HOUR * app_h + cache_mb
    assert kept_mb(sampler) < RSS_MB_PER_HOUR * sampler_h

    # -- the kiosk's reps are the athletes' reps --------------------------------------------
    starts = sorted(t["start"] for t in truth)
    every = [r["rep"][1] for seg in day.killed for r in seg.reps] + [r["start"] for r in last.reps]
    phantom = [t for t in every if gap(starts, t) > PAIR_S]
    assert phantom == [], f"reps nobody did, or measured far from the athlete's: {phantom}"
    windows = [(f.start - DISTURBED_BEFORE_S, f.end + DISTURBED_AFTER_S
                + (20.0 if f.kind == "app_kill" else 0.0))
               for f in plan.faults if f.kind in ("app_kill", "silent_chip", "sampler_killed")]
    covered = [(0.0, day.killed[0].kill_at)] + [
        (seg.kill_at + 20.0, nxt) for seg, nxt in zip(
            day.killed, [k.kill_at for k in day.killed[1:]] + [plan.duration], strict=True)]
    expected = [t for t in truth
                if any(a <= t["start"] and t["end"] <= b for a, b in covered)
                and not any(t["start"] < b and t["end"] > a for a, b in windows)]
    seen = sorted(every)
    missed = [t for t in expected if gap(seen, t["start"]) > PAIR_S]
    assert missed == [], f"reps the athletes did that the station missed: {missed}"


def test_the_day_plate_injects_spike_bursts_that_the_plate_filters_and_a_silent_chip(tmp_path):
    """The day's plate itself (as the sampler process builds it): words with flipped bits only
    inside a burst, removed by the plate's spike filter; a chip silent in its window."""
    from types import SimpleNamespace

    from drivers.errors import HX711Timeout
    from station.soak import (
        SPIKES_FILTERED,
        SPIKES_INJECTED,
        DayPlan,
        FaultPlan,
        SessionPlan,
        _scenario,
        open_day_plate,
    )

    rng = np.random.default_rng(5)
    session = SessionPlan(0, "a01", 5.0, 0.0, _scenario(rng, 80.0), 3)
    plan = DayPlan("short", 1, 200.0, 0.0, [], [session],
                   [FaultPlan("spikes", "spikes_1", 20.0, 40.0),
                    FaultPlan("silent_chip", "silent_chip", 60.0, 65.0)], [], [])
    session.duration = plan.athlete(session).duration_s
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json())
    counters = [0, 0]
    with_spikes = open_day_plate(str(path), SimpleNamespace(value=1e9),
                                 SimpleNamespace(value=0.0), counters)
    bank = with_spikes.bank
    loads, timeouts = [], 0
    while bank.clock() < 70.0:
        try:
            s = with_spikes.read(timeout=0.5)
        except HX711Timeout as e:
            timeouts += 1
            assert 60.0 <= bank.clock() <= 65.6 and "GPIO 6" in str(e)
            continue
        loads.append((s.t, s.heel + s.forefoot))
        if s.t < 20.0:
            assert bank.injected["spikes"] == 0
    assert timeouts >= 8                                   # 5 s silent, a 0.5 s timeout each
    injected = bank.injected["spikes"]
    assert injected >= 60                                  # ~3 a second per cell for 20 s
    assert with_spikes.faults["spike"] >= 0.8 * injected   # the filter took (nearly) all of them
    # what the sampler process publishes for the soak's driver
    assert counters == [injected, with_spikes.faults["spike"]]
    assert (SPIKES_INJECTED, SPIKES_FILTERED) == (0, 1)
    t, load = np.array(loads).T
    burst = (t >= 20.0) & (t < 40.0)
    jumps = int(np.sum(np.abs(np.diff(load))[burst[1:]] > 80.0))
    # Known leak (reported, drivers/plate.py): two spikes in a row on one cell while the load
    # ramps (stepping off) pass the filter as a jump of a couple of samples; isolated ones never.
    # (unfiltered, each spike would make two such jumps)
    assert jumps <= 0.1 * injected, f"{jumps} samples of the burst jumped by more than 80 N"
    # a plate opened again (the sampler restarted) counts on from what was published
    again = open_day_plate(str(path), SimpleNamespace(value=1e9), SimpleNamespace(value=20.0),
                           counters)
    while again.bank.clock() < 25.0:
        again.read(timeout=0.5)
    assert counters[SPIKES_INJECTED] == injected + again.bank.injected["spikes"] > injected


def test_a_restarted_day_plate_carries_on_with_the_words_of_an_uninterrupted_one(tmp_path):
    """A sampler killed mid-day starts again after wherever the killed one had read to, which
    real time decides (it runs up to LOOKAHEAD_S ahead of the frames): the words from there on
    are the day's all the same, spikes included, so the rest of the day does not depend on it."""
    from types import SimpleNamespace

    from station.soak import DayPlan, FaultPlan, SessionPlan, _scenario, open_day_plate

    rng = np.random.default_rng(5)
    session = SessionPlan(0, "a01", 5.0, 0.0, _scenario(rng, 80.0), 3)
    plan = DayPlan("short", 1, 60.0, 0.0, [], [session],
                   [FaultPlan("spikes", "spikes_1", 10.0, 30.0)], [], [])
    session.duration = plan.athlete(session).duration_s
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json())

    def words(reached: float, until: float = 25.0) -> dict[int, tuple[int, ...]]:
        plate = open_day_plate(str(path), SimpleNamespace(value=1e9),
                               SimpleNamespace(value=reached))
        out = {}
        with plate:
            while plate.bank.clock() < until:
                s = plate.read(timeout=0.5)
                out[round(s.t * 80.0)] = s.cells
        return out

    day = words(0.0)
    for reached in (12.0, 12.4875, 13.1):      # killed at 12 s, read ahead by 0 to 1.1 s
        again = words(reached)
        assert min(again) == round(reached * 80.0) + 1
        assert again == {k: day[k] for k in again}, reached

"""A simulated facility day with faults, at accelerated plate time (issue 8).

Athletes from the roster come by badge or by name for sets on the left and the right foot, coaches
change targets, staff export usage, and on the way: the app killed with SIGKILL twice mid-session,
a chip silent for 30 s, bursts of spikes, the database read-only, PostgreSQL stopped, the sampler
process killed. Everything but the people, the plate and the clock is the real station (see
station/soak.py and tests/soak/day.py). The short form runs in CI; ``GYM_STATION_SOAK=1`` runs the
full day (8 h, 150 sessions, 40 athletes, the issue's fault durations) and prints its figures.
"""

import bisect
import json

import numpy as np
import pytest
from soak_day import immutable_supported, pg_rows, run_day, sqlite_rows

pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[test]'")

#: How far the kiosk's start of a rep may be from the athlete's (the accuracy tests hold it far
#: tighter; this only pairs reps up).
PAIR_S = 0.5
#: Plate seconds around a fault in which reps may be missed (a silent chip loses samples; an app
#: restarted mid-set comes back in the middle of someone's set).
DISTURBED_BEFORE_S, DISTURBED_AFTER_S = 10.0, 40.0
#: The issue's bound on memory growth.
RSS_MB_PER_HOUR = 5.0


def gap(sorted_starts: list[float], t: float) -> float:
    """How far ``t`` is from the nearest of ``sorted_starts``."""
    i = bisect.bisect_left(sorted_starts, t)
    return min((abs(t - sorted_starts[j]) for j in (i - 1, i) if 0 <= j < len(sorted_starts)),
               default=float("inf"))


@pytest.mark.soak
def test_a_facility_day_with_faults_loses_no_committed_rep(tmp_path, pg_server, soak_form):
    why = immutable_supported(tmp_path)
    if why:
        pytest.skip(f"the database cannot be made read-only for root here: {why}")
    day = run_day(soak_form, tmp_path, pg_server)
    plan, last = day.plan, day.last
    state = day.state

    # -- nothing crashed -------------------------------------------------------------------
    assert last.thread_errors == []
    for seg in day.killed:
        assert seg.returncode == -9, seg.stderr[-2000:]
        assert seg.killed_at is not None and "Traceback" not in seg.stderr, seg.stderr[-2000:]
        assert seg.sampler_left == []          # the kill took the sampler process with it
        assert seg.durable, "the killed app had committed nothing: the kill came too early"
    assert sqlite_rows(state, "SELECT COUNT(*) FROM events WHERE kind = 'records_lost'") == [(0,)]

    # -- every rep committed before each kill, and every rep of the last part, is in SQLite --
    local = sqlite_rows(state, "SELECT id, session_id, start_t FROM reps")
    keys = [(sid, start) for _id, sid, start in local]
    assert len(keys) == len(set(keys)), "a rep is in the log twice"
    for seg in day.killed:
        missing = [k for k in map(tuple, seg.durable) if k not in set(keys)]
        assert missing == [], f"reps reported committed before the kill are missing: {missing}"
    logged = [(r["session_id"], r["start"]) for r in last.reps]
    assert set(logged) <= set(keys)
    assert sqlite_rows(state, "SELECT COUNT(*) FROM sessions WHERE status = 'open'") == [(0,)]
    interrupted = {sid for (sid,) in sqlite_rows(
        state, "SELECT id FROM sessions WHERE status = 'interrupted'")}
    for seg in day.killed:   # each kill came mid-session: the open session was closed as such
        open_session = seg.reps[-1][0]
        assert any(k[0] == open_session for k in seg.durable), "nothing of it was committed"
        assert open_session in interrupted
    assert len(interrupted) == len(day.killed)

    # -- and exactly once in PostgreSQL, once the push caught up ----------------------------
    remote = pg_rows(day.url, "SELECT id, session_id, start_t FROM reps")
    assert sorted(remote) == sorted(local)
    for table in ("sessions", "sets", "cues", "events"):
        n_local = sqlite_rows(state, f"SELECT COUNT(*) FROM {table}")[0][0]
        assert pg_rows(day.url, f"SELECT COUNT(*) FROM {table}")[0][0] == n_local, table

    # -- each fault showed on the screen and cleared -----------------------------------------
    kinds = {f.kind for f in last.faults}
    assert kinds == {"silent_chip", "spikes", "database_read_only", "postgres_away",
                     "sampler_killed"}
    for f in last.faults:
        if f.kind == "spikes":
            assert f.fault_screens == 0, f   # the spike filter takes them: no fault, no rep
            continue
        assert f.shown_at is not None, f"{f.name} never showed on the screen"
        assert f.start <= f.shown_at <= f.end + 5.0, f
        assert f.cleared_at is not None and f.cleared_at >= f.end, f"{f.name} never cleared"
    assert last.sampler_restarts >= 1

    # -- coaches and staff ------------------------------------------------------------------
    assert last.coach_changes == len(plan.coach)
    coach_events = sqlite_rows(state, "SELECT detail FROM events WHERE kind = 'coach_change'")
    changes = [json.loads(d)["changes"] for (d,) in coach_events]
    assert len(changes) == len(plan.coach)
    assert {"reps": [6, 5], "hold_target_s": [1.5, 2.0]} in changes
    assert len(day.exports) == len(plan.exports)
    for path in day.exports:
        lines = path.read_text().splitlines()
        assert lines[0].startswith("athlete,sessions,") and len(lines) > 1
    assert sqlite_rows(state, "SELECT COUNT(*) FROM events WHERE kind = 'export'") == \
        [(len(plan.exports),)]

    # -- memory ---------------------------------------------------------------------------
    warm = [(t, app) for t, app, _sampler in last.rss_kb if t >= plan.warm_up]
    hours = (warm[-1][0] - warm[0][0]) / 3600.0
    growth_mb = (warm[-1][1] - warm[0][1]) / 1024.0
    rate = growth_mb / hours
    sessions = sqlite_rows(state, "SELECT COUNT(*) FROM sessions")[0][0]
    truth = plan.truth()
    print(f"\nsoak ({soak_form}): {plan.duration / 3600:.2f} h, {sessions} sessions of "
          f"{len({s.athlete_id for s in plan.sessions})} athletes, {len(truth)} reps done, "
          f"{len(local)} reps logged, {sum(len(k.durable) for k in day.killed)} committed "
          f"before the kills; rows in SQLite and PostgreSQL: {len(local)} reps, "
          f"{sqlite_rows(state, 'SELECT COUNT(*) FROM cues')[0][0]} cues, "
          f"{sqlite_rows(state, 'SELECT COUNT(*) FROM events')[0][0]} events; "
          f"RSS {warm[0][1] / 1024:.1f} -> {warm[-1][1] / 1024:.1f} MB over {hours:.2f} h "
          f"({rate:+.2f} MB/h); sampler restarts {last.sampler_restarts}")
    for f in last.faults:
        print(f"  {f.name}: {f.start:.0f}-{f.end:.0f} s, shown at {f.shown_at}, cleared at "
              f"{f.cleared_at}: {f.shown or ''}")
    assert rate < RSS_MB_PER_HOUR

    # -- the kiosk's reps are the athletes' reps --------------------------------------------
    starts = sorted(t["start"] for t in truth)
    every = [k[1] for seg in day.killed for k in seg.reps] + [r["start"] for r in last.reps]
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
    from station.soak import DayPlan, FaultPlan, SessionPlan, _scenario, open_day_plate

    rng = np.random.default_rng(5)
    session = SessionPlan(0, "a01", 5.0, 0.0, _scenario(rng, 80.0), 3)
    plan = DayPlan("short", 1, 200.0, 0.0, [], [session],
                   [FaultPlan("spikes", "spikes_1", 20.0, 40.0),
                    FaultPlan("silent_chip", "silent_chip", 60.0, 65.0)], [], [])
    session.duration = plan.athlete(session).duration_s
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json())
    with_spikes = open_day_plate(str(path), SimpleNamespace(value=1e9), SimpleNamespace(value=0.0))
    bank = with_spikes._words
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
    t, load = np.array(loads).T
    burst = (t >= 20.0) & (t < 40.0)
    jumps = int(np.sum(np.abs(np.diff(load))[burst[1:]] > 80.0))
    # Known leak (reported, drivers/plate.py): two spikes in a row on one cell while the load
    # ramps (stepping off) pass the filter as a jump of a couple of samples; isolated ones never.
    # (unfiltered, each spike would make two such jumps)
    assert jumps <= 0.1 * injected, f"{jumps} samples of the burst jumped by more than 80 N"

"""The usage log's writer and the facility push on the soak's plate clock (station.soak.PlateTime):
what makes a simulated hour hold a real hour's retries and pushes, and a commit never fall behind
the day. Deterministic: plate time moves only when the test moves it."""

import pytest

from station.soak import PlateTime
from station.usage_log import UsageLog

#: Real seconds a thread may keep the clock waiting (it takes milliseconds, but a commit's fsync
#: on a loaded CI disk can take seconds; a thread that never waits on the plate clock fails the
#: test after this, not never). As the soak's own (PlateTime.STALL_S).
STALL_S = 60.0


def test_a_record_is_committed_before_plate_time_passes_the_commit_interval(tmp_path):
    clock = PlateTime(0.0, stall_s=STALL_S)
    clock.expect(1)
    log = UsageLog(tmp_path / "usage.sqlite3", station_id="s1", commit_interval_s=0.25,
                   wait=clock.wait).start()
    try:
        clock.advance(1.0)
        for k in range(40):   # puts at every phase of the writer's cadence
            t = 1.0 + 0.37 * k
            clock.advance(t)
            log.event("probe", {"k": k})
            clock.advance(t + 0.25)
            status = log.status()
            assert status.waiting == 0 and status.committed == k + 2, (k, status)  # + station
        assert clock.stalls == 0
    finally:
        clock.release()
        log.close()


def test_the_writer_retries_every_retry_s_of_plate_time_while_it_cannot_write(tmp_path):
    folder = tmp_path / "not-yet"   # the database cannot even be opened until it exists
    clock = PlateTime(0.0, stall_s=STALL_S)
    clock.expect(1)
    log = UsageLog(folder / "usage.sqlite3", station_id="s1", retry_s=2.0,
                   wait=clock.wait).start()
    try:
        for k in range(1, 601):   # ten plate minutes, a frame a second
            clock.advance(float(k))
        failed = sum(n for (name, seconds, ran_out), n in clock.counts().items()
                     if name == "usage-log-writer" and seconds == 2.0 and ran_out)
        assert clock.stalls == 0
        assert failed == 300             # as in ten real minutes
        assert log.status().state == "waiting" and "cannot be opened" in log.warning
        folder.mkdir()
        clock.advance(602.0)
        assert log.status().state == "ok" and log.status().committed == 1
    finally:
        clock.release()
        log.close()


def test_the_facility_push_tries_every_interval_of_plate_time_while_the_server_is_away(tmp_path):
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[test]'")
    from station.usage_pg import FacilityPush

    db = tmp_path / "usage.sqlite3"
    with UsageLog(db, station_id="s1") as log:
        assert log.flush(STALL_S)
    clock = PlateTime(0.0, stall_s=STALL_S)
    clock.expect(1)
    away = f"postgresql://gym@/gym?host={tmp_path / 'no-server'}&port=5432"
    push = FacilityPush(db, away, "s1", interval_s=5.0, wait=clock.wait).start()
    try:
        for k in range(1, 3601):   # an hour
            clock.advance(float(k))
        tries = sum(n for (name, _s, _r), n in clock.counts().items()
                    if name == "usage-facility-push")
        assert clock.stalls == 0
        assert tries == 720              # as in a real hour
        assert push.problem and "unreachable" in push.problem
    finally:
        clock.release()
        push.close()

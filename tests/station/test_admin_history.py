"""The history screen: an athlete's last sessions and trend, read from the usage log that a real
kiosk session (simulated athlete, real analysis, real SQLite writer) wrote; a log that is missing
or unreadable gives an empty history and a note, never an exception."""

import numpy as np
import pytest

from station.programs import Program
from tests.station.test_admin import (  # noqa: F401 - cheap_scrypt is an autouse fixture
    HIP,
    LOG_PATIENCE_S,
    cheap_scrypt,
    coach_in,
    do,
    play,
    station,
)


def test_history_comes_from_the_usage_log_a_real_session_wrote(tmp_path):
    k, admin = station(tmp_path, log=True)
    admin.roster.add("a1", "Ada", "555")
    admin.roster.save()
    admin.book.create(Program(**{**vars(Program.from_profile("long", "Long", HIP)),
                                 "hold_target_s": 2.0}), "coach")
    admin.book.assign(admin.roster, "a1", "long", "coach")
    admin.apply()
    summaries = []

    def one_set(k):
        v = k.view()
        if v.screen == "summary":
            summaries.append(v.summary)
            return True
        return False

    for _ in range(2):  # two sessions of one set each
        do(k, ("badge", "555"))
        play(k, 400.0, one_set)
        do(k, "home")
    assert len(summaries) == 2
    assert k.log.log.flush(LOG_PATIENCE_S)

    coach_in(k)
    v = do(k, ("open", "athlete:a1"), ("open", "history"))
    assert v.screen == "history"
    h = v.admin.history
    assert h.athlete == "Ada" and len(h.rows) == 2
    newest, oldest = h.rows
    for row, summary in ((oldest, summaries[0]), (newest, summaries[1])):
        assert (row.sets, row.reps, row.good_reps) == (1, summary.reps, summary.good_reps)
        assert row.exercise == HIP.name and len(row.day) == 10
        assert row.heel_share == pytest.approx(summary.mean_heel_share)
        assert row.hold_s == pytest.approx(summary.mean_hold_s)
    assert h.trend_heel_share == pytest.approx(np.array([s.mean_heel_share for s in summaries]))
    assert h.trend_hold_s == pytest.approx(np.array([s.mean_hold_s for s in summaries]))
    assert (h.heel_target, h.hold_target_s) == (HIP.share_threshold, 2.0)
    assert v.admin.note is None
    assert do(k).admin.history is h                    # read once, when the screen opened
    assert do(k, "back").screen == "athlete"
    k.log.close()


def test_history_without_a_readable_log_is_empty_with_a_note(tmp_path):
    k, admin = station(tmp_path)
    admin.roster.add("a1", "Ada")
    admin.roster.save()
    admin.apply()
    coach_in(k)
    v = do(k, ("open", "history:a1"))
    assert v.screen == "history" and v.admin.history.rows == ()
    assert v.admin.history.trend_hold_s.shape == (0,)
    assert v.admin.note == "No sessions logged yet on this station"
    (tmp_path / "usage.sqlite3").write_bytes(b"not a database at all" * 100)
    v = do(k, "back", ("open", "history:a1"))
    assert v.admin.history.rows == () and "cannot be read" in v.admin.note

"""What a run keeps stays bounded however long the kiosk runs, and its figures stay right:
percentiles from the latest window, counts and the longest frame from the whole run."""

from __future__ import annotations

import numpy as np
import pygame
import pytest
from test_app import FakeKiosk, run

from display import run_stats
from display.input import COMMAND_EVENT
from display.run_stats import Recent, RunStats, Timings
from station.view import AudioView, Cue, UICommand


@pytest.fixture(autouse=True)
def pygame_back_on():
    """run_kiosk quits pygame when it ends; the other display tests expect it initialised."""
    yield
    pygame.display.init()
    pygame.font.init()


def test_timings_keep_the_latest_window_in_order_and_count_everything():
    t = Timings(4)
    assert len(t) == 0 and t.count == 0 and t.max is None and t.percentile(50) is None
    t.append(100.0)                       # the longest frame, soon out of the window
    for ms in range(1, 11):
        t.append(float(ms))
    assert t.count == 11 and len(t) == 4 and t.max == 100.0
    assert t.values().tolist() == [7.0, 8.0, 9.0, 10.0]   # oldest first, across the wrap
    assert list(t) == [7.0, 8.0, 9.0, 10.0] and t[0] == 7.0 and t[1:].tolist() == [8, 9, 10]
    assert t.percentile(50) == pytest.approx(8.5) == np.percentile(t, 50)
    assert max(t) == 10.0
    with pytest.raises(ValueError, match="keep"):
        Timings(0)


def test_recent_reads_like_the_list_of_its_latest_items():
    r = Recent(3, range(5))
    assert r == [2, 3, 4] and len(r) == 3 and r.total == 5
    assert r[-1:] == [4] and r[0] == 2 and r.last() == 4 and 3 in r and 1 not in r
    assert Recent(3).last() is None and Recent(3) == []
    with pytest.raises(ValueError, match="keep"):
        Recent(0)


class ChattyKiosk(FakeKiosk):
    """A cue for every sample and a new loudness every frame: a long day's records, fast."""

    def __init__(self):
        super().__init__()
        self.cues_made = 0
        self.views = 0

    def feed(self, samples):
        for s in samples:
            self.cues_made += 1
            self.pending.append(Cue("rep_count", "One!", "rep", 1, s.t))

    def view(self):
        v = super().view()
        self.views += 1
        v.audio = AudioView(0.5 + 0.1 * (self.views % 2), False)
        return v


def test_a_long_run_keeps_bounded_records_and_right_figures(monkeypatch):
    monkeypatch.setattr(run_stats, "FRAME_WINDOW", 50)
    monkeypatch.setattr(run_stats, "CUE_WINDOW", 20)
    monkeypatch.setattr(run_stats, "EVENT_WINDOW", 30)
    kiosk = ChattyKiosk()
    every_frame_ms: list[float] = []

    def on_frame(stats: RunStats, view):
        every_frame_ms.append(stats.frame_ms[-1])
        command = UICommand("button_press" if view.screen == "idle" else "home")
        pygame.event.post(pygame.event.Event(COMMAND_EVENT, command=command))
        return stats.frames >= 400

    stats = run(kiosk, on_frame=on_frame)

    assert stats.frames == 400 and len(every_frame_ms) == 400
    assert (len(stats.frame_ms), len(stats.cue_latency_ms)) == (50, 20)
    for records in (stats.cue_onsets, stats.sounds, stats.screens, stats.commands, stats.audio):
        assert len(records) == 30, records
    # the counts are the whole run's
    assert stats.frame_ms.count == 400
    assert stats.cue_latency_ms.count == stats.sounds.total == stats.cue_onsets.total \
        == kiosk.cues_made > 400
    assert stats.commands.total == len(kiosk.handled) >= 390
    assert stats.screens.total > 390 and stats.audio.total > 390
    # the windows hold the latest, in order
    assert stats.frame_ms.values().tolist() == every_frame_ms[-50:]
    assert list(stats.commands) == kiosk.handled[-30:]
    assert stats.screen_path().startswith(f"({stats.screens.total - 30} earlier) -> ")
    assert stats.screen_path().count(" -> ") == 30
    # the figures: percentiles of the window, counts and the longest frame of the whole run
    figures = stats.figures()
    assert figures["frames"] == 400 and figures["cues"] == kiosk.cues_made
    assert figures["frame_ms_p50"] == pytest.approx(np.percentile(every_frame_ms[-50:], 50))
    assert figures["frame_ms_p99"] == pytest.approx(np.percentile(every_frame_ms[-50:], 99))
    assert figures["frame_ms_max"] == max(every_frame_ms)
    assert 0 <= figures["cue_latency_ms_p50"] <= figures["cue_latency_ms_p99"] \
        <= figures["cue_latency_ms_max"]

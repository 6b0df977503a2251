"""Headless pygame for the display tests, and ViewStates built by hand (no station needed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# the tests import shared helpers (screen_probe) from this folder
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pytest  # noqa: E402

from station.view import (  # noqa: E402
    PHASE_CODES,
    Cue,
    FaultView,
    LiveView,
    RepBar,
    SummaryView,
    Targets,
    Trace,
    ViewState,
)

#: The four screens the kiosk must look right on.
SIZES = [(800, 480), (720, 1280), (1280, 720), (1920, 1080)]

TIPS = (
    "Upper back on the bench, working foot flat on the plate under your knee.",
    "Keep a straight line from shoulders to hips: do not arch through the low back.",
    "Eyes follow your torso: chin towards the ceiling at the top.",
    "Push through the heel or mid-foot, not the toes.",
)
TARGETS = Targets(reps=8, sets=3, hold_s=1.0, drive_zone="heel", share_min=0.6, min_lower_s=1.5)
ROSTER = (("a1", "Maria Lopez"), ("a2", "Sam Okafor"), ("a3", "Jo Chen"), ("a4", "Priya Nair"))
EXERCISES = (("single_leg_hip_thrust", "Single-leg hip thrust"),
             ("glute_bridge_hold", "Glute-bridge isometric hold"),
             ("split_squat", "Split squat (front foot on the plate)"),
             ("calf_raise", "Single-leg calf raise"))


@pytest.fixture(scope="session", autouse=True)
def pygame_headless():
    pygame.display.init()
    pygame.font.init()
    yield
    pygame.quit()


def make_trace(seconds: float = 6.0, rate: float = 80.0, t_end: float = 20.0,
               reps: int = 2) -> Trace:
    """A plausible force trace: bottom, drive, hold at the top, lower, for ``reps`` reps."""
    n = int(seconds * rate)
    t = t_end - seconds + np.arange(n) / rate
    cycle = seconds / max(1, reps)
    pos = ((t - t[0]) % cycle) / cycle
    phase = np.where(pos < 0.2, PHASE_CODES["bottom"],
                     np.where(pos < 0.4, PHASE_CODES["drive"],
                              np.where(pos < 0.65, PHASE_CODES["top"], PHASE_CODES["lower"])))
    load = 400 + 350 * np.clip(np.sin(np.pi * pos), 0, None)
    return Trace(t, load.astype(float), phase.astype(np.int8))


def view(screen: str, **over) -> ViewState:
    """A ViewState for ``screen`` with plausible values; keyword arguments replace fields."""
    live = over.pop("live", None) or LiveView(
        phase="top", load_n=700.0, heel_n=500.0, forefoot_n=200.0, heel_share=0.71,
        cop_along=0.35, cop_across=-0.2, hold_s=0.6, reps=5, good_reps=4, set_index=2,
        side_index=1, trace=make_trace())
    base = dict(
        screen=screen, station_name="Rack 3 plate", exercise_id="single_leg_hip_thrust",
        exercise_name="Single-leg hip thrust", side="left", sides=("left", "right"), tips=TIPS,
        targets=TARGETS, athlete="Maria Lopez", roster=ROSTER, exercises=EXERCISES, live=live,
        cue=Cue("toe_drive", "Push through your heel, not your toes.", "warning", 5, 19.9),
        summary=make_summary(), fault=FaultView(
            "Heel load cell silent", "The HX711 on GPIO 6 sent no word for 0.5 s: check its "
            "DOUT wire, then step off the plate."),
    )
    base.update(over)
    return ViewState(**base)


def make_summary(asymmetry=True) -> SummaryView:
    trace = make_trace(seconds=40.0, t_end=40.0, reps=8)
    bars = [RepBar(i + 1, 0.5 + 0.04 * i, 0.6 + 0.1 * i, 1.0 + 0.15 * i, i % 3 != 0,
                   ("toe_drive",) if i < 2 else ()) for i in range(8)]
    spans = [(5 * i + 2.0, 5 * i + 3.2) for i in range(8)]
    return SummaryView(
        reps=8, good_reps=5, bars=bars, trace=trace, hold_spans=spans, mean_heel_share=0.64,
        mean_hold_s=0.95, mean_lower_s=1.6,
        asymmetry={"heel_share": (0.66, 0.58, 0.12), "hold_s": (1.1, 0.9, 0.2),
                   "lower_s": (1.7, 1.6, 0.06)} if asymmetry else None)


@pytest.fixture
def make_view():
    """The :func:`view` factory (test modules cannot import conftest under importlib mode)."""
    return view


@pytest.fixture
def summary_factory():
    return make_summary


@pytest.fixture
def trace_factory():
    return make_trace

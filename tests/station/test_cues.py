"""The cue engine: each rule at the sample its condition becomes true, priorities, no nagging; and
end to end on the simulated demo athlete, the cues land on the reps the script made faulty."""

import pytest

from drivers.simplate import simulated_plate
from station.analysis import Analyzer, Live, RepCompleted, SetCompleted
from station.cues import CueEngine, CueSettings
from station.profiles import load_profiles
from station.reps import Phase, PhaseChanged, Rep

PROFILE = load_profiles().get("single_leg_hip_thrust")
DT = 1 / 80


def rep(index=1, faults=(), good=None):
    return Rep(index=index, start=0.0, end=3.0, drive_s=1.0, hold_s=1.2, lower_s=2.0,
               heel_share=0.7, heel_share_min=0.6, peak_n=900.0,
               good=not faults if good is None else good, faults=tuple(faults),
               top_n=900.0, bottom_n=400.0)


class Driver:
    """Feeds the engine a hand-made stream: phase changes and live values, sample by sample."""

    def __init__(self, profile=PROFILE, **settings):
        self.engine = CueEngine(profile, CueSettings(**settings))
        self.live = Live(on_plate=True)
        self.t = 0.0
        self.cues = []

    def sample(self, *events, **live):
        self.t = round(self.t + DT, 6)
        self.live.t = self.t
        for k, v in live.items():
            setattr(self.live, k, v)
        events = [e(self.t) if callable(e) else e for e in events]
        for e in events:
            if isinstance(e, PhaseChanged):
                self.live.phase = e.phase
        out = self.engine.step(self.live, events)
        self.cues += out
        return out

    def phase(self, phase, previous):
        return lambda t: PhaseChanged(t, phase, previous)


def test_toe_drive_cue_exactly_when_150ms_of_toe_drive_have_passed():
    d = Driver()
    d.sample(d.phase(Phase.DRIVE, Phase.BOTTOM), heel_share=0.7)
    d.sample(heel_share=0.3)        # the toes take over here
    start = d.t
    fired_at = None
    for _ in range(20):
        out = d.sample(heel_share=0.3)
        if out:
            fired_at = d.t
            assert out[0].kind == "toe_drive" and out[0].text == PROFILE.cues["toe_drive"]
            assert out[0].t == d.t and out[0].sound == "say"
            break
    assert fired_at is not None
    # the first sample at which 150 ms of toe drive are in the data
    assert fired_at - start == pytest.approx(0.150, abs=DT / 2)
    for _ in range(40):             # still toe-driving: no nagging within the rep
        assert d.sample(heel_share=0.3) == []


def test_brief_toe_wobbles_do_not_cue():
    d = Driver()
    d.sample(d.phase(Phase.DRIVE, Phase.BOTTOM), heel_share=0.7)
    for _ in range(10):
        for _ in range(5):          # 62 ms on the toes, then back on the heel
            d.sample(heel_share=0.3)
        d.sample(heel_share=0.8)
    assert d.cues == []


def test_hold_countdown_target_and_short_hold():
    d = Driver()
    d.sample(d.phase(Phase.DRIVE, Phase.BOTTOM), heel_share=0.7)
    # entering the top phase on the way up is not yet a hold: the countdown starts once the
    # load has settled (the live hold clock runs)
    assert d.sample(d.phase(Phase.TOP, Phase.DRIVE), hold_s=0.0) == []
    assert d.sample(hold_s=0.0) == []
    out = d.sample(hold_s=DT)
    assert [c.kind for c in out] == ["hold"] and out[0].sound == "hold"
    for i in range(2, 100):
        out = d.sample(hold_s=i * DT)
        if out:
            break
    assert out[0].kind == "hold_reached" and d.live.hold_s >= PROFILE.hold_target_s
    # next rep: the athlete leaves the top early
    d.sample(RepCompleted(d.t, rep(1)))
    d.sample(d.phase(Phase.DRIVE, Phase.BOTTOM))
    d.sample(d.phase(Phase.TOP, Phase.DRIVE), hold_s=0.0)
    out = d.sample(d.phase(Phase.LOWER, Phase.TOP), hold_s=0.3)
    assert [c.kind for c in out] == ["short_hold"]
    assert out[0].text == PROFILE.cues["short_hold"]


def test_rushed_lowering_cued_when_the_rep_is_measured():
    d = Driver()
    d.sample(d.phase(Phase.TOP, Phase.DRIVE), hold_s=2.0)
    d.sample(d.phase(Phase.LOWER, Phase.TOP), hold_s=2.0)
    for _ in range(int(0.5 / DT)):
        assert d.sample() == []
    assert d.sample(d.phase(Phase.BOTTOM, Phase.LOWER)) == []
    out = d.sample(lambda t: RepCompleted(t, rep(1, faults=("too_fast",))))
    assert [(c.kind, c.t) for c in out] == [("too_fast", d.t)]


def test_a_fault_the_live_rules_missed_is_cued_when_the_rep_is_measured():
    d = Driver()
    out = d.sample(RepCompleted(0.0, rep(1, faults=("short_hold",))))
    assert [c.kind for c in out] == ["short_hold"]


def test_good_rep_count_and_set_done_wins_priority():
    d = Driver()
    for i in range(1, PROFILE.reps):
        d.live.reps = d.live.good_reps = i
        out = d.sample(lambda t, i=i: RepCompleted(t, rep(i)))
        assert [(c.kind, c.text) for c in out] == [("rep_count", f"Good rep: {i} of 8")]
    d.live.reps = d.live.good_reps = PROFILE.reps
    out = d.sample(lambda t: RepCompleted(t, rep(PROFILE.reps)))
    assert [c.kind for c in out] == ["set_done"]  # one cue per sample: the highest priority
    # the set ending (stepped off) does not repeat it
    assert d.sample(lambda t: SetCompleted(t, None)) == []


def test_set_done_when_the_athlete_leaves_early():
    d = Driver()
    out = d.sample(lambda t: SetCompleted(t, None))
    assert [c.kind for c in out] == ["set_done"]


def test_forefoot_profile_cues_the_heel():
    calf = load_profiles().get("calf_raise")
    d = Driver(profile=calf)
    d.sample(d.phase(Phase.DRIVE, Phase.BOTTOM), heel_share=0.2)
    for _ in range(20):
        d.sample(heel_share=0.8)        # the heel carries the load: wrong for a calf raise
    assert [c.kind for c in d.cues] == ["heel_drive"]


def analyse(scenario, seed, rate_hz=80.0):
    plate, truth = simulated_plate(scenario, seed=seed, rate_hz=rate_hz)
    profile = PROFILE
    analyzer = Analyzer(profile, truth.reps[0].side, rate_hz=rate_hz)
    engine = CueEngine(analyzer.profile)
    cues = []
    with plate:
        t_end = truth.duration_s
        while True:
            s = plate.read()
            events = analyzer.feed(s)
            cues += engine.step(analyzer.live, events)
            if s.t > t_end:
                break
    cues += engine.step(analyzer.live, analyzer.finish())
    return truth, analyzer, cues


def rep_of(truth, t):
    """The scripted rep whose span (plus its bottom afterwards) holds time t."""
    for r in truth.reps:
        if r.start - 0.2 <= t <= r.end + 1.0:
            return r
    return None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demo_athlete_gets_each_fault_cue_on_the_rep_that_made_it(seed):
    truth, analyzer, cues = analyse("demo", seed)
    for kind in ("toe_drive", "short_hold", "too_fast"):
        made = [r for r in truth.reps if kind in r.faults]
        cued = [c for c in cues if c.kind == kind]
        assert len(cued) == len(made), (kind, cued, made)
        for c, r in zip(cued, made, strict=True):
            assert rep_of(truth, c.t) is r, (kind, c.t, r)
    # the toe-drive cue comes during that rep's drive, not when the rep is over
    toe = next(c for c in cues if c.kind == "toe_drive")
    made = next(r for r in truth.reps if "toe_drive" in r.faults)
    assert made.start <= toe.t <= made.drive_end + 0.3
    counts = [c for c in cues if c.kind == "rep_count"]
    good = [r for r in truth.reps if not r.faults]
    # every good rep is counted aloud, except the left set's last, announced as "set done"
    assert len(counts) == len(good) - 1
    assert [c.kind for c in cues].count("set_done") == 2   # left set, right set


@pytest.mark.parametrize("rate_hz", [80.0, 10.0])
@pytest.mark.parametrize("scenario,seed", [("demo", 0), ("demo", 4), ("senior", 0),
                                           ("senior", 3), ("clean_set", 5)])
def test_hold_reached_agrees_with_the_reps_measured_hold(scenario, seed, rate_hz):
    """The live hold countdown says "reached" on exactly the reps whose measured hold met the
    target: a short hold never hears it, a full hold always does, however quick the reps."""
    plate, truth = simulated_plate(scenario, seed=seed, rate_hz=rate_hz)
    analyzer = Analyzer(PROFILE, truth.reps[0].side, rate_hz=rate_hz)
    engine = CueEngine(analyzer.profile)
    reached = []
    with plate:
        while True:
            s = plate.read()
            for c in engine.step(analyzer.live, analyzer.feed(s)):
                if c.kind == "hold_reached":
                    reached.append(c.t)
            if s.t > truth.duration_s:
                break
    assert analyzer.reps
    for r in analyzer.reps:
        heard = any(r.start <= t <= r.end for t in reached)
        assert heard == (r.hold_s >= PROFILE.hold_target_s), (r.index, r.hold_s, reached)

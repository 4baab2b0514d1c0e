"""Property tests: invariants that must hold at every step of any run.

Hypothesis draws the regime, the org, the size, the environment, the culture and an event
schedule; every step is checked. In the fast suite (the default) each property test runs 20 configs
per regime (the observables test 10), derandomised so that the suite is reproducible.

At depth (tests/profiles.py; not run by CI), each property test runs 1,050 configs per regime, at
least 1,000 of them distinct, fresh on every run:

    LEADSIM_PROPERTY_PROFILE=deep uv run pytest tests/test_invariants.py tests/test_engines.py -q -p no:cacheprovider

Measured 2026-12-01 on the shared 2-core machine (load average 6-10, the run got 49% of a core):
9,450 configs (9,449 distinct; 1,049-1,050 per test and regime), all passing, in 545 s of the
run's 14 min 13 s wall time (engine agreement took the rest, 282 s); see docs/performance.md.
"""

from __future__ import annotations

import pytest
from conftest import (check_bounds, check_conservation, check_exclusive, check_observables, check_ties, live_tasks,
                      make_model, run)
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from profiles import property_settings, record, report

from sim import LeadershipModel
from sim.state import OPEN

REGIMES = ["heroic", "hierarchical", "distributed"]
ORGS = ["hierarchy", "flat", "teams", "star"]
KINDS = ("leader_leaves", "shock", "regime", "hire")

# Fast profile: these counts, derandomised. Deep profile (LEADSIM_PROPERTY_PROFILE=deep): >= 1,000 each.
FAST = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module", autouse=True)
def report_configs(request):
    """Print how many configs the property tests ran (deep profile, or LEADSIM_PROPERTY_PROFILE set)."""
    yield
    report(request.config, "tests/test_invariants.py", "invariants")


@st.composite
def schedules(draw, steps: int, kinds=KINDS) -> list[str]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(kinds))
        at = draw(st.integers(1, steps))
        if kind == "regime":
            out.append(f"regime@{at}:{draw(st.sampled_from(REGIMES))}")
        elif kind == "hire":
            out.append(f"hire@{at}:{draw(st.integers(1, 8))}")
        else:
            out.append(f"{kind}@{at}")
    return out


@st.composite
def configs(draw, regime: str, kinds=KINDS) -> dict:
    steps = draw(st.integers(30, 70))
    unit = st.floats(0.0, 1.0)
    n_domains = draw(st.sampled_from([4, 4, 2, 3, 6]))
    return dict(
        regime=regime,
        engine=draw(st.sampled_from(["agents", "numba"])),  # the invariants are the engines' shared contract
        org=draw(st.sampled_from(ORGS)),
        n_members=draw(st.integers(10, 60)),
        seed=draw(st.integers(0, 10_000)),
        steps=steps,
        turbulence=draw(unit),
        n_domains=n_domains,
        complexity=float(draw(st.integers(1, min(4, n_domains)))),
        task_rate=draw(st.floats(0.005, 0.08)),
        work_mean=draw(st.floats(3.0, 20.0)),
        purpose=draw(unit),
        contribution=draw(unit),
        procedures=draw(unit),
        trust0=draw(unit),
        team_max=draw(st.integers(1, 6)),
        events=draw(schedules(steps, kinds)),
    )


def run_checked(cfg: dict, *checks) -> LeadershipModel:
    model = LeadershipModel(**cfg)
    for check in checks:
        check(model)
    for _ in range(cfg["steps"]):
        model.step()
        for check in checks:
            check(model)
    return model


@pytest.mark.parametrize("regime", REGIMES)
@property_settings(20, **FAST)
@given(data=st.data())
def test_tasks_are_conserved_and_state_stays_in_bounds_every_step(regime, data):
    cfg = data.draw(configs(regime), label="config")
    record(cfg)
    model = run_checked(cfg, check_conservation, check_bounds)
    df = model.metrics()
    assert len(df) == cfg["steps"] + 1
    assert df["arrived_total"].iloc[-1] == df["tasks_arrived"].sum()
    assert df["done_total"].iloc[-1] == df["tasks_done"].sum()


@pytest.mark.parametrize("regime", REGIMES)
@property_settings(20, **FAST)
@given(data=st.data())
def test_no_member_is_in_two_tasks_and_task_of_agrees_every_step(regime, data):
    cfg = data.draw(configs(regime), label="config")
    record(cfg)
    run_checked(cfg, check_exclusive, check_ties)


@pytest.mark.parametrize("regime", REGIMES)
@property_settings(10, **FAST)
@given(data=st.data())
def test_recorded_observables_agree_with_the_state_every_step(regime, data):
    cfg = data.draw(configs(regime), label="config")
    record(cfg)
    run_checked(cfg, check_observables)


def test_invariants_hold_through_hire_events():
    """Regression: State.hire once grew the headcount before compacting the tie table and crashed."""
    cfg = dict(regime="hierarchical", org="hierarchy", n_members=30, seed=3, steps=40, task_rate=0.03,
               events=["hire@10:4", "leader_leaves@20", "hire@25:2"])
    model = run_checked(cfg, check_conservation, check_bounds, check_exclusive, check_ties, check_observables)
    assert model.metrics()["members"].iloc[-1] == 30 + 4 + 2 - 1


# ----- the same invariants pinned on fixed, busy runs (fast and easy to debug) -------------

@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("org", ORGS)
def test_tasks_are_conserved_every_step(regime, org):
    model = make_model(regime=regime, org=org, n_members=30, events=["shock@20", "leader_leaves@30"])
    run(model, 60, lambda m: (check_conservation(m), check_bounds(m)))
    assert model.metrics()["done_total"].iloc[-1] > 0


# ----- regression: freed task slots must not leak into newborn tasks -------------------------
# State.compact_tasks once left a dropped task's team, lead and start step in the freed slots, so
# newborn tasks inherited a ghost team (members on two tasks) and were never counted as started.

def newborn_fields(regime: str):
    """For every task at the step it is born: its start step, lead and team size."""
    m = make_model(regime=regime, n_members=40, work_mean=6.0, patience=30)
    seen = []

    def look(model):
        s = model.state
        for t in live_tasks(s, OPEN):
            if s.born[t] == s.step:
                seen.append((int(s.started[t]), int(s.lead[t]), int(s.team_size[t])))

    run(m, 120, look)
    return m, seen


@pytest.mark.parametrize("regime", ["distributed", "heroic"])
def test_newborn_tasks_have_no_start_lead_or_team(regime):
    _, seen = newborn_fields(regime)
    assert len(seen) > 50
    assert all(started == -1 and lead == -1 and size == 0 for started, lead, size in seen)


@pytest.mark.parametrize("regime", REGIMES)
def test_every_task_that_is_done_was_counted_as_started(regime):
    m, _ = newborn_fields(regime)
    df = m.metrics()
    assert df["tasks_started"].sum() >= df["done_total"].iloc[-1] + df["active"].iloc[-1]

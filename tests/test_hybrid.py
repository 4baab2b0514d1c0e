"""The hybrid regime and its structure dial, `regime.centralisation`: managers allocate each new task
with that probability (one draw per task, keyed by its id), the rest are open to self-selection.
At 1 the run is the hierarchical one and at 0 the distributed one, exactly; in between both engines
agree (docs/ODD.md, modelling decision 36)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas.testing as pdt
import pytest
import yaml
from conftest import (BUSY, StartRecorder, check_bounds, check_conservation, check_exclusive, check_observables,
                      check_ties)
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from profiles import property_settings, record, report
from test_engines import CHART, assert_engines_agree

from sim import LeadershipModel
from sim.config import REGIMES, make_config
from sim.rng import ALLOCATION, uniform
from sim.state import IN_TRANSIT, NO_REPORT, OPEN
from sim.teams import task_is_central

ROOT = Path(__file__).resolve().parents[1]
HYBRID_YAML = ROOT / "configs" / "regime" / "hybrid.yaml"

# Small organisations that exercise reports, escalations, re-staffing, claims, invitations, burnout
# (a restarted task) and every event, on two structures.
CASES = {
    "hierarchy, events": dict(org={"name": "hierarchy", "span": 3}, n_members=40, seed=3, steps=90,
                              events=["leader_leaves@30", "hire@45:4", "regime@60:heroic", "regime@75:hybrid"],
                              **BUSY),
    "flat, burnout": dict(org="flat", n_members=36, seed=8, steps=90, member={"cost_work": 0.03, "burnout": 0.5},
                          env={"turbulence": 0.3, **BUSY}),
    "teams, switches": dict(org={"name": "teams", "size": 5}, n_members=40, seed=11, steps=90,
                            events=["regime@30:distributed", "shock@40", "regime@50:hybrid"], **BUSY),
}


def run(engine="numba", checks=(), **params) -> LeadershipModel:
    model = LeadershipModel(engine=engine, **params)
    for _ in range(params["steps"]):
        model.step()
        for check in checks:
            check(model)
    return model


def hybrid(centralisation: float, params: dict) -> dict:
    """params with the hybrid regime at this dial setting (scheduled switches to hybrid use it too)."""
    return {**params, "regime": {"name": "hybrid", "centralisation": centralisation}}


def assert_same_run(a: LeadershipModel, b: LeadershipModel) -> None:
    """Every per-step observable and every summary measure equal, but the regime's name."""
    pdt.assert_frame_equal(a.metrics().drop(columns="regime"), b.metrics().drop(columns="regime"), check_exact=True)
    sa, sb = a.summary(), b.summary()
    assert sa.pop("regime") == "hybrid"
    sb.pop("regime")
    assert sa.keys() == sb.keys()
    for key in sa:
        assert sa[key] == sb[key] or (sa[key] != sa[key] and sb[key] != sb[key]), key  # NaN == NaN
    for name in ("energy", "autonomy", "skill", "led_count", "initiated", "done_count", "tie_trust"):
        np.testing.assert_array_equal(getattr(a.state, name), getattr(b.state, name), err_msg=name)


@pytest.fixture(scope="module", autouse=True)
def report_configs(request):
    yield
    report(request.config, "tests/test_hybrid.py", "hybrid regime")


# ----- the ends of the dial ------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["agents", "numba"])
@pytest.mark.parametrize("case", CASES)
def test_hybrid_at_full_centralisation_is_the_hierarchical_run(case, engine):
    params = CASES[case]
    events = [e.replace(":hybrid", ":hierarchical") for e in params.get("events", [])]
    assert_same_run(run(engine, **hybrid(1.0, params)), run(engine, **{**params, "regime": "hierarchical",
                                                                          "events": events}))


@pytest.mark.parametrize("engine", ["agents", "numba"])
@pytest.mark.parametrize("case", CASES)
def test_hybrid_at_zero_centralisation_is_the_distributed_run(case, engine):
    params = CASES[case]
    events = [e.replace(":hybrid", ":distributed") for e in params.get("events", [])]
    assert_same_run(run(engine, **hybrid(0.0, params)), run(engine, **{**params, "regime": "distributed",
                                                                          "events": events}))


# ----- engines agree in between -----------------------------------------------------------------------

@st.composite
def hybrid_configs(draw):
    steps = draw(st.integers(40, 80))
    org = draw(st.sampled_from(["hierarchy", "flat", "teams", "star", "file"]))
    params = dict(
        steps=steps, seed=draw(st.integers(0, 10_000)), n_members=draw(st.integers(12, 45)),
        regime={"name": "hybrid", "centralisation": draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]))},
        org={"name": org, "path": CHART} if org == "file" else {"name": org, "k": 4, "size": 5, "span": 3},
        env=dict(turbulence=draw(st.sampled_from([0.0, 0.05, 0.3])), complexity=draw(st.sampled_from([1.0, 2.0, 3.5])),
                 task_rate=draw(st.sampled_from([0.01, 0.03])), work_mean=draw(st.sampled_from([6.0, 18.0])),
                 patience=draw(st.sampled_from([30, 80]))),
        culture=dict(contribution=draw(st.floats(0, 1)), procedures=draw(st.floats(0, 1)),
                     trust0=draw(st.floats(0.05, 1))),
        member=dict(cost_work=draw(st.sampled_from([0.003, 0.03])), burnout=draw(st.sampled_from([0.1, 0.5]))),
    )
    kinds = draw(st.lists(st.sampled_from(["leader_leaves", "regime", "hire"]), max_size=2))
    schedule = []
    for kind in kinds:
        at = draw(st.integers(1, steps))
        if kind == "regime":
            schedule.append(f"regime@{at}:{draw(st.sampled_from(list(REGIMES)))}")
        elif kind == "hire":
            schedule.append(f"hire@{at}:{draw(st.integers(1, 4))}")
        else:
            schedule.append(f"{kind}@{at}")
    params["events"] = schedule
    return params


@property_settings(16, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(hybrid_configs())
def test_engines_agree_on_the_hybrid_regime_at_every_dial_setting(params):
    record(params)
    # claims and appointments in one step: nobody on two teams, tasks conserved, state in bounds
    agents = run("agents", (check_conservation, check_bounds, check_exclusive, check_ties, check_observables), **params)
    compiled = run("numba", **params)
    assert_engines_agree(agents.metrics(), compiled.metrics())
    assert agents.summary() == compiled.summary() or _same_with_nan(agents.summary(), compiled.summary())
    for name in ("energy", "autonomy", "skill", "task_of", "led_count", "initiated", "recover_until"):
        np.testing.assert_array_equal(getattr(agents.state, name), getattr(compiled.state, name), err_msg=name)


def _same_with_nan(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a)


# ----- the dial's draw -------------------------------------------------------------------------------

def test_each_task_keeps_its_own_draw_at_every_setting_of_the_dial():
    """Common random numbers: the same tasks at every setting, and raising the dial only moves tasks
    from self-selection to the managers."""
    params = dict(org="hierarchy", n_members=40, seed=5, steps=60, **BUSY)
    central, streams = {}, {}
    for c in (0.2, 0.5, 0.8):
        model = LeadershipModel(**hybrid(c, params))
        arrived = []
        for _ in range(params["steps"]):
            model.step()
            s = model.state
            born = np.flatnonzero(s.born[: s.n_tasks] == s.step)
            arrived += [(int(s.task_id[t]), float(s.value[t]), int(s.origin[t])) for t in born]
        streams[c] = model.metrics()[["tasks_arrived", "value_arrived"]]
        seed = model.state.seed
        ids = range(model.state.next_task_id)
        central[c] = {i for i in ids if task_is_central(3, c, seed, i)}
        assert central[c] == {i for i in ids if uniform(seed, 0, ALLOCATION, i, 0) < c}
        assert abs(len(central[c]) / len(ids) - c) < 0.12, (c, len(central[c]), len(ids))
    pdt.assert_frame_equal(streams[0.2], streams[0.8])
    assert central[0.2] < central[0.5] < central[0.8]


def test_members_claim_only_the_self_selected_tasks_and_managers_staff_only_theirs():
    params = hybrid(0.5, dict(org="hierarchy", n_members=40, seed=2, steps=80, **BUSY))
    model = LeadershipModel(**params)
    starts = StartRecorder(model)
    reported = set()
    for _ in range(params["steps"]):
        model.step()
        s = model.state
        for t in range(s.n_tasks):
            if s.report[t] != NO_REPORT:
                reported.add(int(s.task_id[t]))
    s = model.state
    kinds = {(call["chosen"], task_is_central(3, 0.5, s.seed, call["task_id"])) for call in starts.calls}
    assert kinds == {(True, False), (False, True)}  # claimed: self-selected; appointed: the managers'
    assert reported and all(task_is_central(3, 0.5, s.seed, i) for i in reported)
    m = model.metrics()
    assert m["decisions"].sum() > 0 and 0.2 < (m["chosen_share"] * m["tasks_started"]).sum() / m["tasks_started"].sum() < 0.8


def test_only_the_managers_new_tasks_count_in_the_effective_decision_load():
    params = hybrid(0.3, dict(org="hierarchy", n_members=40, seed=4, steps=60, **BUSY))
    model = LeadershipModel(engine="numba", **params)
    tallies, engine_step = [], model.engine.step
    model.engine.step = lambda: tallies.append(engine_step()) or tallies[-1]
    model.run_for(params["steps"])
    s = model.state
    central = sum(task_is_central(3, 0.3, s.seed, i) for i in range(s.next_task_id))
    assert 0 < central < s.next_task_id
    assert sum(t["central_arrivals"] for t in tallies) == central
    assert model.totals["decision_demand"] == sum(t["central_arrivals"] + t["restaff_requests"] + t["escalations"]
                                                  for t in tallies)
    hierarchical = run("numba", **{**params, "regime": "hierarchical"})
    assert 0 < model.summary()["effective_decision_load"] < hierarchical.summary()["effective_decision_load"]
    assert np.isnan(run("numba", **hybrid(0.0, params)).summary()["effective_decision_load"])


# ----- participants, live switches, the sweep and the page -------------------------------------------

def test_a_participant_steps_up_only_for_a_self_selected_task():
    # a high threshold leaves self-selected tasks open for a while, so that members see some
    model = LeadershipModel(**hybrid(0.5, dict(org="flat", n_members=40, seed=6, steps=60, threshold=0.75, **BUSY)))
    s = model.state
    for _ in range(60):
        model.step()
        views = [model.view(i) for i in range(s.n)]
        managers = [int(s.task_id[t]) for t in range(s.n_tasks)
                    if s.task_status[t] == OPEN and task_is_central(3, 0.5, s.seed, int(s.task_id[t]))]
        idle = [v["member"] for v in views if v["can_step_up"] and v["open_tasks"]]
        if managers and idle:
            break
    assert managers and idle
    seen = {task["task_id"] for v in views for task in v["open_tasks"]}
    assert not any(task_is_central(3, 0.5, s.seed, tid) for tid in seen)
    idle = idle[0]
    refused = model.decide(idle, "step_up", managers[0])
    assert refused["status"] == "refused" and "allocated by the managers" in refused["reason"]
    accepted = model.decide(idle, "step_up", model.view(idle)["open_tasks"][0]["task_id"])
    assert accepted["status"] == "accepted", accepted
    rule = model.rule_choice(idle)
    assert rule["claim"] is None or not task_is_central(3, 0.5, s.seed, rule["claim"]["task_id"])


def test_a_live_switch_to_hybrid_reports_the_managers_open_tasks_and_opens_the_rest():
    model = LeadershipModel(regime={"name": "distributed", "centralisation": 0.5}, org="hierarchy", n_members=40,
                            seed=7, steps=40, **BUSY)
    model.run_for(10)
    model.switch_regime("hybrid")
    s = model.state
    opened = [t for t in range(s.n_tasks) if s.task_status[t] == OPEN]
    assert opened
    for t in opened:  # a fresh report from the origin for the managers' tasks; word spreading for the rest
        assert s.radius[t] == 1
        assert (s.report[t] == IN_TRANSIT) == task_is_central(3, 0.5, s.seed, int(s.task_id[t]))
    assert {task_is_central(3, 0.5, s.seed, int(s.task_id[t])) for t in opened} == {True, False}
    model.run_for(20)  # and runs on, as any hybrid run


def test_the_dial_is_a_sweepable_regime_and_a_control_on_the_page():
    preset = yaml.safe_load(HYBRID_YAML.read_text())
    cfg = make_config(regime=preset)
    assert cfg.regime.name == "hybrid" and cfg.regime.centralisation == 0.5 and "hybrid" in REGIMES
    from hydra import compose, initialize_config_dir

    from sim import cli

    with initialize_config_dir(config_dir=cli.CONFIG_DIR, version_base="1.3"):
        node = compose("config", overrides=["regime=hybrid", "regime.centralisation=0.3"])
    mcfg = cli.model_config(node)
    assert (mcfg.regime.name, mcfg.regime.centralisation) == ("hybrid", 0.3)
    from sim.viz.controls import KNOBS, REGIME_LABELS

    assert "regime.centralisation" in [knob.key for knob in KNOBS]
    assert set(REGIME_LABELS) == set(REGIMES)


def test_the_command_line_adds_the_hybrid_to_its_comparison_when_chosen():
    from hydra import compose, initialize_config_dir

    from sim import cli

    with initialize_config_dir(config_dir=cli.CONFIG_DIR, version_base="1.3"):
        plain = compose("config")
        chosen = compose("config", overrides=["regime=hybrid", "regime.centralisation=0.3"])
    runs, _ = cli.side_by_side(plain, cli.model_config(plain))
    assert [label for label, _ in runs] == ["heroic", "hierarchical", "distributed"]
    runs, _ = cli.side_by_side(chosen, cli.model_config(chosen))
    assert [label for label, _ in runs] == ["heroic", "hierarchical", "distributed", "hybrid (0.3 central)"]
    assert [cfg.regime.name for _, cfg in runs][-1] == "hybrid" and runs[-1][1].regime.centralisation == 0.3

"""Scheduled events: parsing, leader departure and succession, shocks, regime switches, hires,
and their measured impact against the paired control run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import make_model, run

from sim import ConfigError, LeadershipModel, events, make_config
from sim.state import NO_REPORT


# ----- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("entry,hint", [
    ("explode@5", "expected one of leader_leaves@t"),
    ("shock5", "expected one of leader_leaves@t"),
    ("shock@60", "allowed [1, steps = 50]"),
    ("shock@-1", "allowed [1, steps = 50]"),
    ("shock@0", "allowed [1, steps = 50]"),
    ("shock@soon", "not a whole number"),
    ("regime@5:anarchy", "choose one of: heroic, hierarchical, distributed"),
    ("regime@5", "choose one of: heroic, hierarchical, distributed"),
    ("hire@5:0", "allowed [1, 1000000]"),
    ("hire@5:-3", "allowed [1, 1000000]"),
    ("hire@5:lots", "hire needs a number of members"),
    ("shock@5:3", "takes no argument"),
])
def test_bad_event_entries_raise_config_error_naming_events_schedule(entry, hint):
    with pytest.raises(ConfigError) as err:
        make_config(steps=50, events=[entry])
    assert "events.schedule" in str(err.value)
    assert entry in str(err.value)
    assert hint in str(err.value)


def test_the_model_rejects_a_bad_schedule_before_running():
    with pytest.raises(ConfigError, match="events.schedule"):
        LeadershipModel(n_members=20, steps=30, events=["leader_leaves@31"])


def test_schedules_parse_from_lists_and_comma_separated_strings_in_time_order():
    cfg = make_config(steps=100, events="hire@50:3, shock@10,regime@10:heroic")
    assert cfg.events.schedule == ["hire@50:3", "shock@10", "regime@10:heroic"]
    parsed = events.parse_schedule(cfg.events.schedule, cfg.steps)
    assert [(e.step, e.kind, e.arg) for e in parsed] == [(10, "shock", None), (10, "regime", "heroic"),
                                                         (50, "hire", 3)]
    assert [str(e) for e in parsed] == ["shock@10", "regime@10:heroic", "hire@50:3"]


# ----- the leader leaves ---------------------------------------------------------------------

LEAVE_AT, DELAY = 30, 20


def heroic_with_departure(**kw):
    return make_model(regime="heroic", org="hierarchy", n_members=40, steps=120,
                      events=[f"leader_leaves@{LEAVE_AT}"], succession_delay=DELAY, **kw)


def test_leader_leaves_marks_member_zero_gone_and_loses_the_reports_heading_to_it():
    m = heroic_with_departure()
    run(m, LEAVE_AT - 1)
    s = m.state
    assert not s.gone[0] and s.top == 0
    m.step()
    assert s.gone[0]
    assert s.top == -1 and s.succession_at == LEAVE_AT + DELAY
    assert s.task_of[0] == -1
    live = slice(0, s.n_tasks)
    assert not ((s.report_to[live] == 0) & (s.report[live] != NO_REPORT)).any()
    assert m.observables["members"] == 39
    assert m.observables["inbox_reports"] == 0


def test_a_departed_leader_keeps_no_ties():
    m = make_model(regime="distributed", org="star", n_members=20)
    run(m, 5)
    s = m.state
    assert len(s.neighbours(0)) == 19
    ties_before = m.observables["tie_count"]
    events.leader_leaves(s)
    assert len(s.neighbours(0)) == 0
    assert all(0 not in s.neighbours(i) for i in range(1, s.n))
    m.step()
    assert m.observables["tie_count"] <= ties_before - 19 + 5  # new ties form only through co-working


def test_heroic_succession_after_the_delay_makes_a_direct_report_the_new_top():
    m = heroic_with_departure()
    original_parent = m.state.parent.copy()
    tops = {}
    run(m, 120, lambda model: tops.__setitem__(model.state.step, model.state.top))
    assert all(tops[k] == 0 for k in range(1, LEAVE_AT))
    assert all(tops[k] == -1 for k in range(LEAVE_AT, LEAVE_AT + DELAY))
    heir = tops[LEAVE_AT + DELAY]
    assert heir > 0 and original_parent[heir] == 0
    s = m.state
    assert s.top == heir and s.parent[heir] == -1
    # the other direct reports of the old leader now report to the heir
    others = [i for i in np.flatnonzero(original_parent == 0) if i != heir]
    assert others and all(s.parent[i] == heir for i in others)
    assert s.depth[heir] == 0


def test_during_the_vacancy_heroic_starts_no_new_tasks():
    m = heroic_with_departure()
    run(m, 120)
    started = m.metrics()["tasks_started"]
    vacancy = range(LEAVE_AT + 1, LEAVE_AT + DELAY + 1)
    assert started[list(vacancy)].sum() == 0
    assert started[LEAVE_AT + DELAY + 1:].sum() > 0  # the heir decides again
    control = make_model(regime="heroic", org="hierarchy", n_members=40, steps=120, succession_delay=DELAY)
    run(control, 120)
    assert control.metrics()["tasks_started"][list(vacancy)].sum() > 0


def test_a_new_heroic_top_does_not_work_on_a_task():
    m = make_model(regime="heroic", org="hierarchy", n_members=40, steps=80, seed=1, task_rate=0.06,
                   events=["leader_leaves@30"], succession_delay=10)
    working = []
    run(m, 80, lambda model: working.append(model.state.step) if model.state.top > 0
        and model.state.task_of[model.state.top] >= 0 else None)
    assert m.state.top > 0
    assert working == []


def test_succession_picks_the_best_skilled_direct_report():
    m = make_model(regime="heroic", org="hierarchy", n_members=40, succession_delay=5)
    run(m, 3)
    s = m.state
    reports = np.flatnonzero(s.parent == 0)
    s.skill[reports] = 0.3
    s.skill[reports[-1]] = 0.8  # the last of them is the most skilled
    events.leader_leaves(s)
    assert s.top == -1
    events.succeed(s)
    assert s.top == reports[-1]
    assert s.succession_at == -1


def test_succession_breaks_skill_ties_by_lowest_id():
    m = make_model(regime="heroic", org="hierarchy", n_members=40, succession_delay=0)
    s = m.state
    reports = np.flatnonzero(s.parent == 0)
    s.skill[reports] = 0.5
    events.leader_leaves(s)  # no delay: the heir takes over at once
    assert s.top == reports.min()


def test_under_distributed_leadership_member_zero_is_just_one_member():
    kw = dict(regime="distributed", org="hierarchy", n_members=40, steps=120, succession_delay=DELAY)
    m = make_model(events=[f"leader_leaves@{LEAVE_AT}"], **kw)
    run(m, 120)
    started = m.metrics()["tasks_started"]
    assert started[LEAVE_AT + 1: LEAVE_AT + DELAY + 1].sum() > 0
    assert m.state.gone[0]


def test_during_the_vacancy_hierarchical_managers_keep_staffing_their_subtrees():
    """Regression: refresh_reporting_lines once rooted every subtree at the vacant top post, so
    every manager's reach was empty and the whole hierarchy stopped staffing work."""
    kw = dict(regime="hierarchical", org="hierarchy", n_members=60, steps=120, succession_delay=40)
    m = make_model(events=[f"leader_leaves@{LEAVE_AT}"], **kw)
    run(m, 120)
    vacancy = slice(LEAVE_AT + 1, LEAVE_AT + 41)
    control = make_model(**kw)
    run(control, 120)
    assert control.metrics()["tasks_started"][vacancy].sum() > 10
    # only the old leader's own inbox is lost; the other managers still decide
    assert m.metrics()["tasks_started"][vacancy].sum() > 0


# ----- shocks, regime switches, hires ---------------------------------------------------------

def test_a_shock_changes_demand_at_its_step_and_only_then():
    kw = dict(regime="distributed", n_members=30, steps=60, shock_rate=0.0)
    shocked = make_model(events=["shock@20"], **kw)
    control = make_model(**kw)
    for k in range(1, 21):
        shocked.step()
        control.step()
        if k < 20:
            np.testing.assert_array_equal(shocked.state.demand, control.state.demand)
    assert np.abs(shocked.state.demand - control.state.demand).sum() > 0.05
    assert shocked.state.demand.sum() == pytest.approx(1.0)
    run(shocked, 40)
    run(control, 40)
    # demand moves the work's domains, not how many tasks arrive or what they are worth
    a, b = shocked.metrics(), control.metrics()
    assert (a["tasks_arrived"] == b["tasks_arrived"]).all()


def test_a_regime_switch_changes_the_regime_column_from_its_step():
    m = make_model(regime="heroic", n_members=30, steps=60, events=["regime@25:distributed"])
    run(m, 60)
    df = m.metrics()
    assert (df.loc[df["step"] < 25, "regime"] == "heroic").all()
    assert (df.loc[df["step"] >= 25, "regime"] == "distributed").all()
    assert m.state.regime == 2
    assert df.loc[df["step"] < 25, "chosen_share"].fillna(0).max() == 0  # nobody chose to lead
    assert df.loc[df["step"] > 25, "chosen_share"].max() > 0  # now they do


def test_a_switch_lets_active_teams_finish_as_they_are():
    m = make_model(regime="heroic", org="hierarchy", n_members=40, steps=60, events=["regime@20:distributed"],
                   turbulence=0.0, cost_work=0.0, cost_lead=0.0)
    run(m, 19)
    m.step()
    s = m.state
    appointed = {int(s.task_id[t]): sorted(s.team[t, : s.team_size[t]].tolist())
                 for t in range(s.n_tasks) if s.task_status[t] == 2 and not s.chosen[t]}
    assert appointed
    m.step()
    for t in range(s.n_tasks):
        tid = int(s.task_id[t])
        if tid in appointed and s.task_status[t] == 2:
            assert sorted(s.team[t, : s.team_size[t]].tolist()) == appointed[tid]
            assert not s.chosen[t]


def test_hire_adds_members_at_the_bottom_of_the_reporting_lines():
    m = make_model(regime="hierarchical", org="hierarchy", n_members=40, steps=40, events=["hire@15:5"])
    depth_before = None
    for _ in range(14):
        m.step()
    depth_before = int(m.state.depth[m.state.present_ids].max())
    run(m, 26)
    df = m.metrics()
    assert (df.loc[df["step"] < 15, "members"] == 40).all()
    assert (df.loc[df["step"] >= 15, "members"] == 45).all()
    s = m.state
    assert s.n == 45 and len(m.member_agents) >= 45
    new = np.arange(40, 45)
    assert (s.depth[new] == depth_before + 1).all()
    assert (s.skill[new] <= 0.5 + 1e-12).all()  # newcomers start with low skill
    for i in new:
        assert s.parent[i] in s.neighbours(i)  # a fresh tie to the manager


# ----- impact against the paired control ------------------------------------------------------

def test_event_impacts_report_value_lost_recovery_and_worst_window_for_each_event():
    kw = dict(regime="heroic", org="hierarchy", n_members=40, steps=120, succession_delay=DELAY)
    m = make_model(events=[f"leader_leaves@{LEAVE_AT}", "shock@80"], **kw)
    run(m, 120)
    impacts = m.event_impacts()
    assert [x["event"] for x in impacts] == [f"leader_leaves@{LEAVE_AT}", "shock@80"]
    control = make_model(**kw)
    run(control, 120)
    mine, theirs = m.metrics(), control.metrics()
    for impact, at in zip(impacts, (LEAVE_AT, 80)):
        assert {"value_lost", "steps_to_recover", "worst_window_ratio"} <= set(impact)
        after = mine["step"] >= at
        expected = (theirs["value_captured"][after] - mine["value_captured"][after]).sum()
        assert impact["value_lost"] == pytest.approx(expected)
        # recomputed here from the two runs: the 40-step value share against the control's
        share = {name: (f["value_captured"].rolling(40, min_periods=1).sum()
                        / f["value_arrived"].rolling(40, min_periods=1).sum())[after].to_numpy()
                 for name, f in (("mine", mine), ("theirs", theirs))}
        ratio = share["mine"] / share["theirs"]
        assert math.isfinite(impact["worst_window_ratio"])
        assert impact["worst_window_ratio"] == pytest.approx(float(np.nanmin(ratio)))
        within = np.abs(ratio - 1) <= 0.1
        first_out = int(np.argmin(within)) if not within.all() else None
        back = None if first_out is None else next((k for k in range(first_out, len(within)) if within[k]), None)
        expected_recovery = 0 if first_out is None else (math.nan if back is None else back)
        r = impact["steps_to_recover"]
        if math.isnan(expected_recovery):
            assert math.isnan(r), r
        else:
            assert r == expected_recovery
    departure = impacts[0]
    assert departure["value_lost"] > 0  # a heroic organisation without its hero loses value
    assert departure["worst_window_ratio"] < 0.8 and departure["material"]


def test_event_impacts_of_a_run_without_events_is_empty():
    m = make_model(n_members=20, steps=10)
    run(m, 10)
    assert m.event_impacts() == []

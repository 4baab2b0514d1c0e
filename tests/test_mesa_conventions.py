"""LeadershipModel behaves like a Mesa 3 model: steps, time, agents, the DataCollector."""

from __future__ import annotations

import mesa
import pytest

from sim import LeadershipModel
from sim.agents import Member

COLUMNS = ["step", "tasks_arrived", "tasks_done", "tasks_failed", "backlog", "value_arrived", "value_captured",
           "leadership_gini", "mean_energy", "mean_autonomy"]


@pytest.fixture(scope="module")
def model():
    m = LeadershipModel(n_members=30)
    m.run_for(10)
    return m


def test_run_for_advances_steps_and_time(model):
    assert isinstance(model, mesa.Model)
    assert model.steps == 10
    assert model.time == 10
    assert model.state.step == 10


def test_the_datacollector_has_a_row_for_the_initial_state_and_each_step(model):
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 11
    assert df["step"].tolist() == list(range(11))


def test_metrics_has_the_documented_columns(model):
    df = model.metrics()
    assert len(df) == 11
    missing = [c for c in COLUMNS if c not in df.columns]
    assert not missing
    assert df.index.tolist() == list(range(11))
    assert df["step"].tolist() == list(range(11))
    assert df.loc[0, "tasks_arrived"] == 0 and df.loc[0, "backlog"] == 0  # step 0 is the initial state


def test_members_are_mesa_agents_viewing_the_state_arrays(model):
    members = list(model.agents_by_type[Member]) if hasattr(model, "agents_by_type") else list(model.agents)
    assert len(members) == 30
    member = model.member_agents[7]
    assert isinstance(member, Member) and member.index == 7
    member.energy = 0.42
    assert model.state.energy[7] == 0.42
    s = model.state  # the status is read from the arrays, whatever they say
    s.task_of[7], s.role_lead[7], s.recover_until[7], s.gone[7] = -1, False, 0, False
    assert member.status == "idle"
    s.task_of[7] = 0
    assert member.status == "working"
    s.role_lead[7] = True
    assert member.status == "leading"
    s.recover_until[7] = s.step + 5
    assert member.status == "recovering"
    s.gone[7] = True
    assert member.status == "gone"


def test_summary_is_one_flat_record(model):
    summary = model.summary()
    assert summary["steps"] == 10 and summary["n_members"] == 30
    assert summary["regime"] == "distributed" and summary["org"] == "flat"
    assert 0 <= summary["leadership_gini"] <= 1


def test_value_columns_are_floats_even_when_nothing_is_captured():
    m = LeadershipModel(n_members=20, engine="agents", autonomy0=0.0, autonomy_spread=0.0)  # nobody takes work on
    m.run_for(15)
    df = m.metrics()
    assert df["tasks_done"].sum() == 0
    assert df["value_arrived"].dtype == "float64"
    assert df["value_captured"].dtype == "float64"

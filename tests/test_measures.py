"""Run measures that count only what could end: the value share and the completion rate count the
tasks born at least `patience` steps before the last step (all of them have ended), the work
still running at the end is reported on its own, and a task's start counts once, however often
it restarts (docs/ODD.md, Observation and modelling decisions 22 and 25)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from conftest import BUSY, StartRecorder

from sim import LeadershipModel
from sim.state import DONE, FAILED

# Exhausting work: members burn out and leave their teams, so tasks empty and start again.
EXHAUSTING = dict(org="hierarchy", n_members=30, steps=80, member={"cost_work": 0.03, "cost_lead": 0.04, "burnout": 0.5},
                  **BUSY)


def with_ended_tasks(model: LeadershipModel) -> list[dict]:
    """Record every task that ends (id, birth step, value, done or failed) as the model drops it: an
    account kept apart from the model's own tallies."""
    ended: list[dict] = []
    state = model.state
    compact = state.compact_tasks

    def recording_compact():
        for t in range(state.n_tasks):
            if state.task_status[t] in (DONE, FAILED):
                ended.append(dict(task_id=int(state.task_id[t]), born=int(state.born[t]), value=float(state.value[t]),
                                  done=bool(state.task_status[t] == DONE)))
        compact()

    state.compact_tasks = recording_compact
    return ended


@pytest.mark.parametrize("engine", ["agents", "numba"])
@pytest.mark.parametrize("regime", ["heroic", "hierarchical", "distributed", "hybrid"])
def test_value_share_and_completion_rate_count_only_tasks_that_could_end(regime, engine):
    model = LeadershipModel(regime=regime, engine=engine, org="flat", n_members=40, seed=2, steps=120, **BUSY)
    ended = with_ended_tasks(model)
    model.run_for(120)
    s, m, out = model.state, model.metrics(), model.summary()
    cutoff = 120 - model.cfg.env.patience  # born in a step <= cutoff: the deadline has passed
    live_ids = set(s.task_id[: s.n_tasks].tolist())
    assert all(s.born[: s.n_tasks] > cutoff), "every task that could end has ended"
    counted = [e for e in ended if e["born"] <= cutoff]
    arrived = m.loc[m["step"] <= cutoff, "value_arrived"].sum()
    assert len(counted) == m.loc[m["step"] <= cutoff, "tasks_arrived"].sum() == out["tasks_counted"] > 20
    assert out["value_share"] == pytest.approx(sum(e["value"] for e in counted if e["done"]) / arrived, rel=1e-12)
    assert out["completion_rate"] == pytest.approx(sum(e["done"] for e in counted) / len(counted), rel=1e-12)
    # the work still running is reported apart, and the totals still cover the whole run
    assert out["tasks_running_at_end"] == len(live_ids) == m["backlog"].iloc[-1] > 0
    assert out["value_running_at_end"] == pytest.approx(s.value[: s.n_tasks].sum() / m["value_arrived"].sum())
    assert out["tasks_arrived"] == out["tasks_done"] + out["tasks_failed"] + out["tasks_running_at_end"]
    # ... which the old measures counted as lost
    assert out["value_share"] > out["value_captured"] / out["value_arrived"]


def test_a_run_shorter_than_patience_has_no_task_that_could_end():
    model = LeadershipModel(org="flat", n_members=30, seed=1, steps=30, patience=40, task_rate=0.03, work_mean=4.0)
    model.run_for(30)
    out = model.summary()
    assert out["tasks_done"] > 0 and out["tasks_counted"] == 0
    assert math.isnan(out["value_share"]) and math.isnan(out["completion_rate"])


@pytest.mark.parametrize("engine", ["agents", "numba"])
@pytest.mark.parametrize("regime", ["heroic", "hierarchical", "distributed", "hybrid"])
def test_a_restarted_task_counts_once_in_led_count_and_initiated(regime, engine):
    model = LeadershipModel(regime=regime, engine=engine, seed=1, **EXHAUSTING)
    starts = StartRecorder(model) if engine == "agents" else None
    model.run_for(EXHAUSTING["steps"])
    s, started = model.state, int(model.metrics()["tasks_started"].sum())
    if starts is not None:
        restarted = [tid for tid, n in Counter(call["task_id"] for call in starts.calls).items() if n > 1]
        assert restarted, "the run must restart tasks to test anything"
        assert len(starts.calls) == started + sum(n - 1 for n in Counter(c["task_id"] for c in starts.calls).values())
    assert s.led_count.sum() == started
    assert s.initiated.sum() == started
    assert model.metrics()["distinct_leads"].iloc[-1] == int((s.led_count > 0).sum())


def test_engines_agree_on_the_new_measures():
    runs = [LeadershipModel(regime="heroic", engine=engine, seed=3, **EXHAUSTING) for engine in ("agents", "numba")]
    for model in runs:
        model.run_for(EXHAUSTING["steps"])
    a, b = (model.summary() for model in runs)
    assert a == b
    np.testing.assert_array_equal(runs[0].state.captured_by_birth, runs[1].state.captured_by_birth)


def test_the_command_line_table_shows_what_it_counts_and_the_work_still_running():
    import io

    from sim.cli import TABLE_ROWS, print_table
    from sim.config import make_config
    from sim.run import compare

    runs = [(r, make_config(regime=r, org="flat", n_members=30, seed=1, steps=60, **BUSY)) for r in ("heroic", "distributed")]
    metrics, summary = compare(runs)
    out = io.StringIO()
    print_table(summary, out, metrics=metrics, width=160)
    text = out.getvalue()
    keys = [key for _, key, _ in TABLE_ROWS]
    assert {"tasks_counted", "tasks_running_at_end", "value_running_at_end"} <= set(keys) <= set(summary) | {
        "burnout_share", "final_trust", "final_ties"}
    for label in ("tasks that could end", "tasks running at the end", "value running at the end"):
        assert label in text

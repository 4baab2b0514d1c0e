"""Small factories and checks shared by the test suite.

Models here are deliberately small (20-60 members, tens to ~150 steps) so that the whole suite
runs in well under two minutes on two cores.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import LeadershipModel
from sim.state import ACTIVE, OPEN

# A busy little organisation: ~1.2 tasks a step for 40 members, short work, so that a few dozen
# steps exercise claims, decisions, teams, ends and burnout.
BUSY = dict(task_rate=0.03, work_mean=8.0, patience=40)


def make_model(regime: str = "distributed", org: str = "flat", n_members: int = 40, steps: int = 100,
               seed: int = 1, busy: bool = True, engine: str = "agents", **params) -> LeadershipModel:
    """A small LeadershipModel on the readable agents engine (mechanism tests wrap its methods);
    `busy` adds a task stream dense enough for mechanism tests."""
    kw = {**(BUSY if busy else {}), **params}
    return LeadershipModel(regime=regime, org=org, n_members=n_members, seed=seed, steps=steps, engine=engine, **kw)


def run(model: LeadershipModel, steps: int, each=None) -> LeadershipModel:
    """Step `model` `steps` times, calling `each(model)` after every step."""
    for _ in range(steps):
        model.step()
        if each is not None:
            each(model)
    return model


def live_tasks(state, status=None) -> list[int]:
    """Slots of live (open or active) tasks, or of one status."""
    st = state.task_status[: state.n_tasks]
    if status is None:
        return np.flatnonzero((st == OPEN) | (st == ACTIVE)).tolist()
    return np.flatnonzero(st == status).tolist()


def team_of(state, t: int) -> list[int]:
    return [int(j) for j in state.team[t, : state.team_size[t]]]


def in_subtree(state, d: int, j: int) -> bool:
    """Member j is in the reporting subtree of member d (d included)."""
    return bool(state.tin[d] <= state.tin[j] < state.tout[d]) and state.depth[j] >= 0


class StartRecorder:
    """Wraps an engine's start_task to record (step, slot, task id, lead, chosen, decider) of every
    task that is staffed, and optionally the claimants of each slot at that moment."""

    def __init__(self, model: LeadershipModel):
        self.model = model
        self.calls: list[dict] = []
        engine = model.engine
        original = engine.start_task

        def start_task(t, lead, chosen, decider, tally):
            s = model.state
            self.calls.append(dict(step=s.step, slot=t, task_id=int(s.task_id[t]), lead=int(lead),
                                   chosen=bool(chosen), decider=int(decider), origin=int(s.origin[t])))
            return original(t, lead, chosen, decider, tally)

        engine.start_task = start_task


@pytest.fixture
def small_model():
    """A factory fixture: `small_model(regime="heroic", n_members=30, ...)`."""
    return make_model


# ----- invariants checked at every step ---------------------------------------------------------

def check_conservation(model) -> None:
    row = model.observables
    assert row["arrived_total"] == row["open"] + row["active"] + row["done_total"] + row["failed_total"], row
    assert row["backlog"] == row["open"] + row["active"]


def check_bounds(model) -> None:
    s = model.state
    n, T = s.n, s.n_tasks
    for name in ("energy", "autonomy"):
        a = getattr(s, name)[:n]
        assert np.isfinite(a).all() and (a >= 0).all() and (a <= 1).all(), name
    sk = s.skill[:n]
    assert (sk >= 0).all() and (sk <= 1).all(), "skill"
    live_ties = s.tie_nbr >= 0
    trust = s.tie_trust[live_ties]
    assert (trust >= 0).all() and (trust <= 1).all(), "trust"
    status = s.task_status[:T]
    assert np.isin(status, [OPEN, ACTIVE]).all(), "only live tasks stay in the table after a step"
    req = s.req[:T]
    assert (req >= 0).all(), "req is non-negative"
    np.testing.assert_allclose(req.sum(axis=1), 1.0, atol=1e-9, err_msg="req rows sum to 1")
    assert (s.team_size[:T] <= model.cfg.member.team_max).all(), "team_max"
    for t in np.flatnonzero(status == ACTIVE):
        team = s.team[t, : s.team_size[t]]
        assert len(team) >= 1, "an active task has a team"
        assert s.lead[t] in team, "an active task's lead is on its team"
        assert not s.gone[team].any(), "gone members are on no team"


def check_exclusive(model) -> None:
    """Every member is on at most one live team, open tasks have no team, and task_of agrees."""
    s = model.state
    n, T = s.n, s.n_tasks
    owner = np.full(n, -1)
    for t in range(T):
        if s.task_status[t] == OPEN:
            assert s.team_size[t] == 0, f"open task slot {t} (id {s.task_id[t]}) has a team"
        for j in s.team[t, : s.team_size[t]]:
            assert owner[j] == -1, f"member {j} is on tasks {owner[j]} and {t}"
            owner[j] = t
    np.testing.assert_array_equal(s.task_of[:n], owner, err_msg="task_of disagrees with the teams")
    assert not (s.gone[:n] & (owner >= 0)).any()


def check_ties(model) -> None:
    """Ties are undirected (both rows, the same trust), unique, never to oneself or the departed."""
    s = model.state
    n = s.n
    trust = {}
    for i in range(n):
        nbrs = s.neighbours(i)
        assert len(set(nbrs.tolist())) == len(nbrs), f"duplicate tie in row {i}"
        assert i not in nbrs, f"member {i} is tied to itself"
        if s.gone[i]:
            assert len(nbrs) == 0, f"departed member {i} keeps ties"
        for p in s.tie_slots(i):
            trust[(i, int(s.tie_nbr[p]))] = float(s.tie_trust[p])
    for (i, j), value in trust.items():
        assert (j, i) in trust, f"tie {i}->{j} has no reverse"
        assert abs(trust[(j, i)] - value) < 1e-12, f"tie {i}-{j} has two trusts"


def check_observables(model) -> None:
    """The recorded row agrees with the state it describes."""
    from sim.rules import gini

    s, row = model.state, model.observables
    present = s.present_ids
    status = s.task_status[: s.n_tasks]
    assert row["step"] == s.step == model.steps
    assert row["members"] == len(present) == int((~s.gone[: s.n]).sum())
    assert row["open"] == int((status == OPEN).sum()) and row["active"] == int((status == ACTIVE).sum())
    assert row["utilisation"] == pytest.approx(float((s.task_of[present] >= 0).mean()))
    assert row["mean_energy"] == pytest.approx(float(s.energy[present].mean()))
    assert row["mean_autonomy"] == pytest.approx(float(s.autonomy[present].mean()))
    assert row["leadership_gini"] == pytest.approx(gini(s.led_count[: s.n]), abs=1e-12)
    assert row["distinct_leads"] == int((s.led_count[: s.n] > 0).sum())
    assert row["tie_count"] == int((s.tie_nbr >= 0).sum()) // 2


# ----- real-browser tests: Debian's chromium, driven by Playwright --------------------------------
CHROMIUM = os.environ.get("LEADSIM_CHROMIUM", "/usr/bin/chromium")


def require_chromium() -> None:
    """Skip a browser test module where chromium is missing; under CI (whose .ci/run installs it)
    a missing browser is an error, not a skip."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip(f"no browser at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright's browser: Debian's chromium, as `playwright install` cannot download one here."""
    return {"executable_path": CHROMIUM, "args": ["--no-sandbox"]}


def leadsim_command(name: str = "leadsim") -> list[str]:
    """A project command as a user runs it: the script that uv installs beside this Python."""
    return [str(Path(sys.executable).parent / name)]


# ----- Hypothesis profiles: LEADSIM_PROPERTY_PROFILE=fast (default) or deep, see tests/profiles.py --
# Loaded here, before any test module is imported, so that a profile applies to the whole session.

from profiles import load_profile_from_environment  # noqa: E402

load_profile_from_environment()

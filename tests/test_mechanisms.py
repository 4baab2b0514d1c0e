"""Mechanism contracts on real (small) models, setting state directly where needed."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from conftest import StartRecorder, in_subtree, live_tasks, make_model, run, team_of

from sim import events
from sim.agents import Member
from sim.observe import Tally
from sim.rules import fit
from sim.state import ACTIVE, IN_INBOX, NEW_TASK, NO_REPORT, OPEN, RESTAFF
from sim.teams import leave_team


def leave(s, i: int, t: int) -> None:
    """Member i leaves task t through the model's own rule (as burnout or departure would)."""
    leave_team(s.members(), s.tasks(), i, t)


def first_step_with_starts(regime="distributed", after=3, **kw) -> int:
    control = make_model(regime=regime, **kw)
    run(control, 40)
    started = control.metrics()["tasks_started"]
    return int(next(k for k in range(after, 41) if started[k] > 0))


# ----- the four conditions of stepping up -----------------------------------------------------

@pytest.mark.parametrize("energy,energy_min", [(0.2, 0.3), (0.0, 0.0)],
                         ids=["below-energy-min", "zero-energy-but-available"])
def test_no_energy_means_no_claim_in_the_next_step(energy, energy_min):
    k = first_step_with_starts(energy_min=energy_min)  # the unchanged twin starts a task at step k
    m = make_model(energy_min=energy_min)
    run(m, k - 1)
    m.state.energy[: m.state.n] = energy
    m.step()
    assert m.observables["tasks_started"] == 0
    assert m.observables["open"] > 0  # the work its twin took on is still waiting
    assert not any(m.state.task_status[t] == ACTIVE and m.state.started[t] == m.state.step
                   for t in range(m.state.n_tasks))


def test_zero_autonomy_means_no_distributed_task_ever_starts():
    m = make_model(autonomy0=0.0, autonomy_spread=0.0)
    run(m, 100)
    df = m.metrics()
    assert df["tasks_started"].sum() == 0
    assert df["active"].max() == 0
    assert df["tasks_failed"].sum() > 0  # the work is there; it expires unclaimed
    assert (m.state.autonomy[: m.state.n] == 0.0).all()
    control = make_model()
    run(control, 100)
    assert control.metrics()["tasks_started"].sum() > 0


def test_claimants_are_resolved_by_fit_then_lowest_id(monkeypatch):
    choices: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    original = Member.choose_task

    def choose_task(self, visible, available):
        t, p = original(self, visible, available)
        s = self.state
        choices[(s.step, t)].append((float(fit(s.req[t], s.skill[self.index])), self.index))
        return t, p

    monkeypatch.setattr(Member, "choose_task", choose_task)
    monkeypatch.setattr(Member, "steps_up", lambda self, p: True)  # everyone who looks, claims
    m = make_model(n_members=40)
    rec = StartRecorder(m)
    run(m, 30)
    claimed = [c for c in rec.calls if c["chosen"]]
    assert len(claimed) >= 5
    contested = 0
    for c in claimed:
        claimants = choices[(c["step"], c["slot"])]
        assert c["lead"] in [i for _, i in claimants]
        best = max(claimants, key=lambda x: (x[0], -x[1]))[1]
        assert c["lead"] == best
        contested += len(claimants) > 1
    assert contested >= 3


def test_claimants_with_equal_fit_go_to_the_lowest_id(monkeypatch):
    m = make_model(n_members=40, autonomy0=0.0, autonomy_spread=0.0)
    run(m, 4)  # open work accumulates and word of it spreads; nobody claims
    s = m.state
    s.autonomy[: s.n] = 1.0
    s.skill[: s.n] = 0.5  # every claimant fits every task equally
    choices: dict[int, list[int]] = defaultdict(list)
    original = Member.choose_task

    def choose_task(self, visible, available):
        t, p = original(self, visible, available)
        choices[t].append(self.index)
        return t, p

    monkeypatch.setattr(Member, "choose_task", choose_task)
    monkeypatch.setattr(Member, "steps_up", lambda self, p: True)
    rec = StartRecorder(m)
    m.step()
    assert rec.calls
    for c in rec.calls:
        assert len(choices[c["slot"]]) >= 1
        assert c["lead"] == min(choices[c["slot"]])
    assert any(len(v) > 1 for v in choices.values())


# ----- teams ------------------------------------------------------------------------------------

def max_active_team(m, steps: int) -> int:
    biggest = [0]

    def look(model):
        s = model.state
        for t in live_tasks(s, ACTIVE):
            biggest[0] = max(biggest[0], int(s.team_size[t]))

    run(m, steps, look)
    return biggest[0]


@pytest.mark.parametrize("regime", ["heroic", "hierarchical"])
def test_assigned_members_cannot_refuse_so_central_teams_form_without_contribution(regime):
    m = make_model(regime=regime, org="hierarchy", contribution=0.0, complexity=3.0)
    assert max_active_team(m, 80) > 1


def test_without_contribution_nobody_joins_a_self_organised_team():
    m = make_model(regime="distributed", org="hierarchy", contribution=0.0, complexity=3.0)
    assert max_active_team(m, 80) == 1
    assert m.metrics()["tasks_started"].sum() > 0


@pytest.mark.parametrize("regime", ["heroic", "hierarchical"])
def test_appointed_teams_shrink_only_by_burnout_or_departure(regime):
    # hard work drains energy so that some appointed members do burn out
    m = make_model(regime=regime, org="hierarchy", complexity=3.0, cost_work=0.06, cost_lead=0.08,
                   burnout=0.3, energy_min=0.35, work_mean=20.0, patience=60)
    previous: dict[int, set[int]] = {}
    seen = {"kept": 0, "left": 0}

    def look(model):
        s = model.state
        now = {}
        for t in live_tasks(s, ACTIVE):
            if s.chosen[t]:
                continue
            tid = int(s.task_id[t])
            now[tid] = set(team_of(s, t))
            if tid in previous:
                for j in previous[tid] - now[tid]:
                    assert s.step < s.recover_until[j] or s.gone[j], f"member {j} left task {tid} by choice"
                    seen["left"] += 1
                seen["kept"] += len(previous[tid] & now[tid])
        previous.clear()
        previous.update(now)

    run(m, 100, look)
    assert seen["kept"] > 50
    assert seen["left"] > 0, "the scenario should include burnouts"


@pytest.mark.parametrize("regime", ["heroic", "hierarchical", "distributed"])
def test_team_size_never_exceeds_team_max(regime):
    m = make_model(regime=regime, org="hierarchy", team_max=2, complexity=4.0, coverage_target=1.0)
    biggest = [0]

    def look(model):
        s = model.state
        assert (s.team_size[: s.n_tasks] <= 2).all()
        for t in live_tasks(s, ACTIVE):
            biggest[0] = max(biggest[0], int(s.team_size[t]))

    run(m, 80, look)
    assert biggest[0] == 2


# ----- energy and burnout ---------------------------------------------------------------------

def test_burnout_removes_a_member_from_work_for_burnout_steps():
    steps_off = 6
    m = make_model(burnout_steps=steps_off, complexity=3.0)
    s = m.state
    for _ in range(60):
        m.step()
        teams_now = [t for t in live_tasks(s, ACTIVE) if s.team_size[t] >= 2]
        if teams_now:
            break
    assert teams_now, "a self-organised team of two or more should have formed"
    t = teams_now[0]
    i = next(j for j in team_of(s, t) if j != s.lead[t])
    s.energy[i] = 0.05  # under `burnout` (0.1)
    m.step()
    burnt_at = s.step
    member = m.member_agents[i]
    assert s.task_of[i] == -1
    assert all(i not in team_of(s, u) for u in live_tasks(s))
    assert s.recover_until[i] == burnt_at + 1 + steps_off
    assert member.status == "recovering" and not member.available
    for _ in range(steps_off):  # unavailable for exactly burnout_steps steps
        m.step()
        assert member.recovering
        assert s.task_of[i] == -1
        assert all(i not in team_of(s, u) for u in live_tasks(s))
    m.step()
    assert not member.recovering
    assert s.step == burnt_at + steps_off + 1


def test_members_pay_for_work_and_idle_members_recover():
    m = make_model()  # distributed: nobody pays for deciding
    run(m, 20)
    s, c = m.state, m.cfg.member
    before = s.energy[: s.n].copy()
    on_task = {i: int(s.task_id[s.task_of[i]]) for i in range(s.n) if s.task_of[i] >= 0}
    idle = [i for i in range(s.n) if s.task_of[i] < 0]
    m.step()
    # on the same task before and after a step in which it progressed: each paid for the work
    stayed = [i for i, tid in on_task.items() if s.task_of[i] >= 0 and s.task_id[s.task_of[i]] == tid
              and s.progressed[s.task_of[i]]]
    assert len(stayed) >= 5
    for i in stayed:
        cost = c.cost_lead if s.role_lead[i] else c.cost_work
        assert s.energy[i] == pytest.approx(max(0.0, before[i] - cost), abs=1e-12), i
    assert any(s.role_lead[i] for i in stayed) and not all(s.role_lead[i] for i in stayed)
    # idle at the end of the step before and after: they recovered a share of what they lacked
    still_idle = [i for i in idle if s.task_of[i] < 0]
    assert len(still_idle) >= 5
    for i in still_idle:
        assert s.energy[i] == pytest.approx(before[i] + c.recovery * (1 - before[i]), abs=1e-12), i


# ----- departures and succession inside a team --------------------------------------------

def self_organised_team_led_by_zero(members=(3, 5, 7)):
    m = make_model(regime="distributed", autonomy0=0.0, autonomy_spread=0.0)  # nobody claims by itself
    run(m, 3)
    s = m.state
    t = live_tasks(s, OPEN)[0]
    m.engine.start_task(t, 0, chosen=True, decider=-1, tally=Tally())
    for j in members:
        m.engine.add_to_team(t, j)
    return m, t


def test_a_leaders_departure_hands_a_distributed_team_to_its_best_fit_member():
    m, t = self_organised_team_led_by_zero()
    s = m.state
    s.skill[[3, 7]] = 0.1
    s.skill[5] = 0.9
    events.leader_leaves(s)
    assert s.gone[0] and s.task_of[0] == -1
    assert s.task_status[t] == ACTIVE
    assert sorted(team_of(s, t)) == [3, 5, 7]
    assert s.lead[t] == 5 and s.role_lead[5]
    assert not s.role_lead[0]
    tid = int(s.task_id[t])
    s.work[t] = 1e9  # far from done, and
    s.born[t] = s.step  # far from its deadline: the task is surely still running after the step
    m.step()  # the team carries on under its new lead
    (slot,) = [u for u in live_tasks(s, ACTIVE) if s.task_id[u] == tid]
    assert s.lead[slot] == 5 and 0 not in team_of(s, slot)


def test_lead_succession_inside_a_team_breaks_fit_ties_by_lowest_id():
    m, t = self_organised_team_led_by_zero(members=(7, 4, 9))
    s = m.state
    s.skill[[4, 7, 9]] = 0.6
    leave(s, 0, t)
    assert s.lead[t] == 4


def test_an_emptied_self_organised_task_returns_to_open():
    m, t = self_organised_team_led_by_zero(members=(3,))
    s = m.state
    leave(s, 0, t)
    leave(s, 3, t)
    assert s.task_status[t] == OPEN
    assert s.team_size[t] == 0 and s.lead[t] == -1
    assert s.report[t] == NO_REPORT
    assert s.radius[t] == 1


def test_an_emptied_appointed_task_returns_to_the_deciders_inbox():
    m = make_model(regime="heroic", org="hierarchy")
    s = m.state
    for _ in range(40):
        m.step()
        appointed = [t for t in live_tasks(s, ACTIVE) if not s.chosen[t]]
        if appointed:
            break
    assert appointed
    t = appointed[0]
    decider = int(s.decider[t])
    assert decider == s.top == 0
    for j in team_of(s, t):
        leave(s, j, t)
    assert s.task_status[t] == OPEN
    assert s.team_size[t] == 0 and s.lead[t] == -1
    assert s.report[t] == IN_INBOX and s.report_kind[t] == NEW_TASK
    assert s.report_at[t] == decider and s.report_to[t] == decider
    np.testing.assert_array_equal(s.req_reported[t], s.req[t])
    tid = int(s.task_id[t])
    # it is not lost: until it ends it waits in the inbox or is staffed again
    for _ in range(15):
        m.step()
        slot = [u for u in live_tasks(s) if s.task_id[u] == tid]
        if not slot:
            break
        u = slot[0]
        assert s.task_status[u] == ACTIVE or s.report[u] == IN_INBOX


# ----- central regimes ------------------------------------------------------------------------

@pytest.mark.parametrize("org", ["hierarchy", "flat", "teams", "star"])
def test_the_hero_never_works_on_a_task_itself(org):
    m = make_model(regime="heroic", org=org)

    def look(model):
        s = model.state
        assert s.task_of[0] == -1
        assert all(0 not in team_of(s, t) for t in live_tasks(s, ACTIVE))

    run(m, 100, look)
    s = m.state
    assert s.led_count[0] == 0
    assert s.initiated[0] > 0  # it did decide
    assert m.metrics()["tasks_started"].sum() > 0


@pytest.mark.parametrize("regime", ["heroic", "hierarchical"])
def test_central_deciders_assign_only_within_their_reach(regime):
    m = make_model(regime=regime, org="hierarchy", n_members=50, complexity=3.0)
    engine = m.engine
    original = engine.staff
    deciders, added_total = set(), [0]

    def staff(t, d, tally):
        s = m.state
        before = set(team_of(s, t)) if s.task_status[t] == ACTIVE else set()
        outcome = original(t, d, tally)
        if outcome == "staffed":
            deciders.add(d)
            new = set(team_of(s, t)) - before
            added_total[0] += len(new)
            for j in new:
                if regime == "heroic":
                    assert j != d
                else:
                    assert in_subtree(s, d, j), f"decider {d} assigned {j} outside its subtree"
        return outcome

    engine.staff = staff
    run(m, 100)
    assert added_total[0] > 20
    if regime == "hierarchical":
        assert len(deciders) > 1  # many managers decide, not just the top
    else:
        assert deciders == {0}


@pytest.mark.parametrize("regime", ["heroic", "hierarchical"])
def test_with_total_report_loss_only_the_deciders_own_tasks_start(regime):
    m = make_model(regime=regime, org="hierarchy", report_loss=1.0, task_rate=0.08)
    rec = StartRecorder(m)
    run(m, 100)
    appointed = [c for c in rec.calls if not c["chosen"]]
    assert appointed, "the deciders' own tasks need no hop and should still start"
    assert all(c["origin"] == c["decider"] for c in appointed)
    assert len({c["task_id"] for c in appointed}) < m.metrics()["tasks_arrived"].sum() / 2


# ----- changing work --------------------------------------------------------------------------

def record_requirements(m, steps):
    """Per task id: the requirement at birth and every later one seen while it lived."""
    seen: dict[int, list[np.ndarray]] = defaultdict(list)

    def look(model):
        s = model.state
        for t in live_tasks(s):
            seen[int(s.task_id[t])].append(s.req[t].copy())

    run(m, steps, look)
    return seen


@pytest.mark.parametrize("regime", ["heroic", "distributed"])
def test_without_turbulence_every_tasks_requirement_stays_unchanged(regime):
    seen = record_requirements(make_model(regime=regime, turbulence=0.0, complexity=2.5), 80)
    assert len(seen) > 50
    for reqs in seen.values():
        for r in reqs[1:]:
            np.testing.assert_array_equal(r, reqs[0])


def test_full_turbulence_changes_requirements_but_not_their_breadth():
    seen = record_requirements(make_model(turbulence=1.0, complexity=2.0), 60)
    changed = 0
    for reqs in seen.values():
        first = reqs[0]
        for r in reqs[1:]:
            assert (r > 0).sum() == (first > 0).sum()
            assert r.sum() == pytest.approx(1.0)
            # the weight moves with the domain: the same shares, on other domains
            np.testing.assert_allclose(np.sort(r[r > 0]), np.sort(first[first > 0]))
        changed += any(not np.array_equal(r, first) for r in reqs[1:])
    assert changed > len(seen) / 3


# ----- learning --------------------------------------------------------------------------------

def test_learning_raises_skill_in_the_domains_a_member_works_in():
    m = make_model(turbulence=0.0, complexity=2.0)
    run(m, 15)
    s = m.state
    checked = 0
    for _ in range(10):
        workers = {}
        for t in live_tasks(s, ACTIVE):
            for j in team_of(s, t):
                workers[j] = s.req[t].copy()
        before = s.skill[: s.n].copy()
        m.step()
        for j, req in workers.items():
            used = req > 0
            assert (s.skill[j, used] > before[j, used]).all()
            assert (s.skill[j, ~used] <= before[j, ~used]).all()  # forgetting what is not used
            checked += 1
    assert checked > 20
    assert m.metrics()["mean_skill"].iloc[-1] > m.metrics()["mean_skill"].iloc[0]


def test_a_burned_out_hero_decides_nothing_until_it_recovers():
    steps_off = 8
    m = make_model(regime="heroic", org="hierarchy", burnout_steps=steps_off, burnout=0.2, task_rate=0.05)
    run(m, 10)
    s = m.state
    s.energy[0] = 0.05
    m.step()
    burnt_at = s.step
    assert s.recover_until[0] == burnt_at + 1 + steps_off
    run(m, steps_off + 12)
    df = m.metrics().set_index("step")
    off = range(burnt_at + 1, burnt_at + steps_off + 1)
    assert df.loc[list(off), "decisions"].sum() == 0
    assert df.loc[list(off), "tasks_started"].sum() == 0
    assert df.loc[list(off), "inbox_reports"].iloc[-1] > 0  # the work piles up meanwhile
    assert df.loc[burnt_at + steps_off + 1:, "decisions"].sum() > 0


@pytest.mark.parametrize("regime", ["heroic", "hierarchical"])
def test_full_appointed_teams_do_not_ask_to_be_restaffed(regime):
    m = make_model(regime=regime, org="hierarchy", team_max=2, complexity=4.0, coverage_target=1.0,
                   restaff_below=0.99, turbulence=0.2)
    original = m.engine.send
    asked = {"full": 0, "room": 0}

    def send(t, kind, sender):
        s = m.state
        if kind == RESTAFF:
            asked["full" if s.team_size[t] >= 2 else "room"] += 1
        return original(t, kind, sender)

    m.engine.send = send
    run(m, 80)
    assert asked["full"] == 0
    assert asked["room"] > 0  # teams that lost a member still ask

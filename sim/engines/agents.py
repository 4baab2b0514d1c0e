"""The agents engine: the readable reference implementation on Mesa agents.

Each phase of a step is one method. Members decide through their own methods (Member in
sim/agents.py) and the rules in sim/rules.py; conflicts over a task or a person are settled by
a fixed key (oldest task first, then lowest id), never by the order agents are visited in; to
show it, members are visited in a shuffled order wherever they act.
"""

from __future__ import annotations


import numpy as np

from .. import environment, events
from ..rng import NEW_TIE, REPORT_LOSS, uniform
from ..rules import (coordination_cost, faded_trust, fit, forgotten, learned_by_doing, learned_from_peers,
                     motivated, needs_met, progress_rate, recovered_energy, spent_energy, strengthened_trust)
from ..state import (ACTIVE, DISTRIBUTED, DONE, FAILED, HEROIC, HYBRID, IN_INBOX, IN_TRANSIT, NEW_TASK, NO_REPORT,
                     OPEN, RESTAFF)
from ..observe import Tally
from ..players import ACCEPT, BY_RULE, CLAIM_BY_RULE, CLAIM_NOTHING, invitation_answer
from ..teams import (capability, coverage, escalates, leave_team, mean_trust_to_team, send_report, start_task,
                     task_is_central, wants_restaffing)


class AgentsEngine:
    def __init__(self, model):
        self.model = model
        self.state = model.state
        self.cfg = model.cfg

    # ----- helpers --------------------------------------------------------------------------
    def members(self, ids):
        agents = self.model.member_agents
        return [agents[i] for i in ids]

    def availability(self) -> np.ndarray:
        """1.0 for members who are idle, not recovering, present and energetic enough."""
        return self.state.available_at(self.state.step)

    def within(self, source: int, radius: int) -> list[int]:
        """Members within `radius` ties of `source` (source included)."""
        return self.state.within(source, radius)

    def path_trust(self, source: int, radius: int) -> dict[int, float]:
        """For members within `radius` hops: the best product of trusts along a shortest path."""
        return self.state.path_trust(source, radius)

    def live_tasks(self, status: int) -> list[int]:
        s = self.state
        return [t for t in range(s.n_tasks) if s.task_status[t] == status]

    def is_central(self, t: int) -> bool:
        """Task t goes to the managers under the current regime (the structure dial in hybrid)."""
        s = self.state
        return task_is_central(s.regime, self.cfg.regime.centralisation, s.seed, s.task_id[t])

    # ----- the step -------------------------------------------------------------------------
    def step(self) -> Tally:
        tally = self.tally = Tally()
        s = self.state
        s.progressed[: s.n_tasks] = False
        tally["arrived"], tally["value_arrived"] = environment.advance(s)
        self.spread_word()
        if s.regime == DISTRIBUTED or s.regime == HYBRID:  # hybrid: self-selection first, then the managers
            self.claim_and_grant(tally)
        if s.regime != DISTRIBUTED:
            self.decide(tally)
        self.form_teams()
        self.progress()
        ended = self.end_tasks(tally)
        self.update_members(ended)
        events.apply_due(s, self.model.events)
        return tally

    # ----- phase 2: who hears of a task -----------------------------------------------------
    def spread_word(self) -> None:
        s, rc = self.state, self.cfg.regime
        for t in range(s.n_tasks):
            if s.task_status[t] == OPEN and s.born[t] < s.step:
                s.radius[t] = min(s.radius[t] + 1, rc.max_radius)
        if s.regime == DISTRIBUTED:
            return
        for t in range(s.n_tasks):
            if s.task_status[t] == OPEN and s.born[t] == s.step:
                if self.is_central(t):  # hybrid: only the tasks the dial gives the managers are reported
                    self.send(t, NEW_TASK, s.origin[t])
                    self.tally["central_arrivals"] += 1
            elif self.needs_restaffing(t):
                self.send(t, RESTAFF, s.lead[t])
                self.tally["restaff_requests"] += 1
                s.restaff_version[t] = s.req_version[t]
                s.restaff_sent[t] = s.step
        for t in range(s.n_tasks):
            if s.report[t] == IN_TRANSIT:
                self.move_report(t)

    def send(self, t: int, kind: int, sender: int) -> None:
        s = self.state
        send_report(s.members(), s.tasks(), t, kind, sender, s.regime, s.top)

    def needs_restaffing(self, t: int) -> bool:
        s, rc = self.state, self.cfg.regime
        return wants_restaffing(s.members(), s.tasks(), t, s.step, rc.restaff_below, rc.restaff_retry,
                                self.cfg.member.team_max)

    def move_report(self, t: int) -> None:
        """One hop up the reporting lines; each hop may lose the report (information filtering)."""
        s = self.state
        if s.report_at[t] != s.report_to[t]:
            if uniform(s.seed, s.step, REPORT_LOSS, s.task_id[t], 0) < self.cfg.regime.report_loss:
                s.report[t] = NO_REPORT
                return
            s.report_at[t] = s.parent[s.report_at[t]]
        here = s.report_at[t]
        if here < 0 or s.gone[here] or s.gone[s.report_to[t]]:
            s.report[t] = NO_REPORT
        elif here == s.report_to[t]:
            s.report[t] = IN_INBOX

    # ----- phases 3-4, distributed: claims and granting ------------------------------------
    def claim_and_grant(self, tally: Tally) -> None:
        s = self.state
        available = self.availability()
        visible: dict[int, list[int]] = {}
        for t in self.live_tasks(OPEN):  # birth order, so each member's list is oldest first
            if self.is_central(t):
                continue  # hybrid: a task the managers allocate is not open to self-selection
            for i in self.within(int(s.origin[t]), int(s.radius[t])):
                if available[i]:
                    visible.setdefault(i, []).append(t)
        orders = self.model.orders  # participants' decisions for this step (sim/players.py)
        claimants: dict[int, list[int]] = {}
        for member in self.model.random.sample(self.members(visible), len(visible)):
            claim = orders.claim[member.index]
            if claim == CLAIM_BY_RULE:
                task, probability = member.choose_task(visible[member.index], available)
                if member.steps_up(probability):
                    claimants.setdefault(task, []).append(member.index)
            elif claim != CLAIM_NOTHING:  # a participant claims this task instead of the rule
                claimants.setdefault(int(claim), []).append(member.index)
        for t in sorted(claimants):  # slots are in birth order
            lead = max(claimants[t], key=lambda i: (fit(s.req[t], s.skill[i]), -i))
            if self.start_task(t, lead, chosen=True, decider=-1, tally=tally):
                s.initiated[lead] += 1

    def start_task(self, t: int, lead: int, chosen: bool, decider: int, tally: Tally) -> bool:
        """Start task t; True on its first start, the only one counted."""
        s = self.state
        first = start_task(s.members(), s.tasks(), t, lead, chosen, decider, s.step, self.cfg.regime.max_radius)
        if first:
            tally["started"] += 1
            tally["started_chosen"] += int(chosen)
            tally["wait_sum"] += s.step - s.born[t]
            tally["wait_n"] += 1
        return first

    # ----- phases 3-4, central: decisions and appointments ---------------------------------
    def decide(self, tally: Tally) -> None:
        """Each round, every decider takes the highest-value report in its inbox; the round's
        picks are staffed oldest task first, so deciders never race for the same member."""
        s, rc = self.state, self.cfg.regime
        used = {}
        blocked = set()
        for _ in range(rc.decisions_per_step):
            picks = {}
            for t in range(s.n_tasks):
                if s.report[t] != IN_INBOX:
                    continue
                d = int(s.report_to[t])
                if d in blocked or s.step < s.recover_until[d] or s.gone[d]:
                    continue
                if d not in picks or s.value[t] > s.value[picks[d]]:
                    picks[d] = t
            if not picks:
                break
            for t in sorted(picks.values()):
                d = int(s.report_to[t])
                outcome = self.staff(t, d, tally)
                if outcome == "blocked":
                    blocked.add(d)
                else:
                    used[d] = used.get(d, 0) + 1
        self.decisions_used = used

    def reach(self, d: int) -> list[int]:
        """Whom a decider may assign: everyone but the hero (heroic), or its own subtree."""
        s = self.state
        if s.regime == HEROIC:
            return [i for i in s.present_ids.tolist() if i != d]
        return s.order[s.tin[d]: s.tout[d]].tolist()

    def staff(self, t: int, d: int, tally: Tally) -> str:
        s, m = self.state, self.cfg.member
        available = self.availability()
        view = s.req_reported[t]
        candidates = [i for i in self.reach(d) if available[i]]
        if s.task_status[t] == ACTIVE and s.team_size[t] >= m.team_max:
            candidates = []
        if not candidates:
            if escalates(s.regime) and s.parent[d] >= 0 and not s.gone[s.parent[d]]:
                s.report[t] = IN_TRANSIT  # escalate one level up, as a report
                s.report_at[t] = d
                s.report_to[t] = s.parent[d]
                tally["escalations"] += 1
                tally["decisions"] += 1
                return "escalated"
            return "blocked"  # the task stays on top of the inbox; the decision is not used
        candidates.sort(key=lambda i: (-fit(view, s.skill[i]), i))
        if s.task_status[t] == OPEN:
            if self.start_task(t, candidates.pop(0), chosen=False, decider=d, tally=tally):
                s.initiated[d] += 1
        else:
            s.report[t] = NO_REPORT
            tally["restaffs"] += 1
        # the decider's estimate of coverage uses the requirement as it was reported
        while s.team_size[t] < m.team_max and candidates:
            if coverage(view, s.team[t], s.team_size[t], s.skill) >= m.coverage_target:
                break
            self.add_to_team(t, candidates.pop(0))
        tally["decisions"] += 1
        return "staffed"

    def add_to_team(self, t: int, i: int) -> None:
        s = self.state
        s.team[t, s.team_size[t]] = i
        s.team_size[t] += 1
        s.task_of[i] = t

    # ----- phase 5: self-organised teams recruit ------------------------------------------
    def form_teams(self) -> None:
        s, m, rc = self.state, self.cfg.member, self.cfg.regime
        orders = self.model.orders  # participants' answers to invitations (sim/players.py)
        for t in self.live_tasks(ACTIVE):
            if not s.chosen[t]:
                continue  # appointed teams change only when their decider spends a decision
            if s.team_size[t] >= m.team_max or coverage(s.req[t], s.team[t], s.team_size[t], s.skill) >= m.coverage_target:
                continue
            lead = int(s.lead[t])
            trust = self.path_trust(lead, int(s.invite_radius[t]))
            available = self.availability()
            asked = sorted((i for i in trust if available[i]), key=lambda i: (-fit(s.req[t], s.skill[i]), i))
            complete = False
            for member in self.members(asked):
                i = member.index
                answer = invitation_answer(t, orders.join_with[i], orders.decline_from[i])
                if answer == ACCEPT or (answer == BY_RULE and member.accepts_invitation(t, trust[i])):
                    self.add_to_team(t, member.index)
                    if (s.team_size[t] >= m.team_max
                            or coverage(s.req[t], s.team[t], s.team_size[t], s.skill) >= m.coverage_target):
                        complete = True
                        break
            if not complete:  # nobody nearer is left to ask
                s.invite_radius[t] = min(s.invite_radius[t] + 1, rc.max_radius)

    # ----- phase 6: progress ----------------------------------------------------------------
    def progress(self) -> None:
        s, m, c = self.state, self.cfg.member, self.cfg.culture
        for t in self.live_tasks(ACTIVE):
            size = int(s.team_size[t])
            cap = capability(s.req[t], s.team[t], size, s.skill, s.energy, s.autonomy, c.mu)
            coordination = coordination_cost(s.chosen[t], m.coord_cost, m.self_org_overhead, c.procedures)
            lead_fit = fit(s.req[t], s.skill[s.lead[t]])
            s.work[t] -= progress_rate(lead_fit, cap, coordination, size)
            s.progressed[t] = True

    # ----- phase 7: ends --------------------------------------------------------------------
    def end_tasks(self, tally: Tally) -> dict[int, float]:
        """Done when the work is finished, failed past the deadline. Returns the competence
        need met for each member of an ended team (1 done, 0 failed)."""
        s = self.state
        competence: dict[int, float] = {}
        for t in range(s.n_tasks):
            status = s.task_status[t]
            if status == ACTIVE and s.work[t] <= 0.0:
                s.task_status[t] = DONE
                tally["done"] += 1
                tally["value_captured"] += s.value[t]
                tally["cycle_sum"] += s.step - s.born[t]
                tally["cycle_n"] += 1
            elif status in (OPEN, ACTIVE) and s.step >= s.deadline[t]:
                s.task_status[t] = FAILED
                tally["failed"] += 1
            else:
                continue
            s.report[t] = NO_REPORT
            done = s.task_status[t] == DONE
            for i in s.team[t, : s.team_size[t]]:
                competence[int(i)] = 1.0 if done else 0.0
                s.task_of[i] = -1
                s.role_lead[i] = False
                if done:
                    s.done_count[i] += 1
        return competence

    # ----- phase 8: energy, learning, ties, motivation -------------------------------------
    def update_members(self, competence: dict[int, float]) -> None:
        s, m, c, rc = self.state, self.cfg.member, self.cfg.culture, self.cfg.regime
        worked = [t for t in range(s.n_tasks) if s.progressed[t]]
        workers = {int(i): t for t in worked for i in s.team[t, : s.team_size[t]]}
        leads = {int(s.lead[t]) for t in worked}
        team_trust = {i: self.mean_trust_to_team(i, t) for i, t in workers.items()}

        # energy: workers spend, everyone else recovers, deciders pay for deciding and oversight
        for member in self.model.random.sample(self.members(s.present_ids.tolist()), len(s.present_ids)):
            i = member.index
            if i in workers:
                member.energy = spent_energy(member.energy, m.cost_lead if i in leads else m.cost_work)
            else:
                member.energy = recovered_energy(member.energy, m.recovery)
        decisions = getattr(self, "decisions_used", {}) if s.regime != DISTRIBUTED else {}
        overseen: dict[int, int] = {}
        for t in worked:
            if s.decider[t] >= 0:
                overseen[int(s.decider[t])] = overseen.get(int(s.decider[t]), 0) + 1
        for d in sorted(set(decisions) | set(overseen)):
            if not s.gone[d]:
                s.energy[d] = spent_energy(s.energy[d], rc.cost_decide * decisions.get(d, 0)
                                           + rc.cost_oversee * overseen.get(d, 0))
        self.decisions_used = {}

        # learning: by doing, from the best teammate, and forgetting what is not used
        for t in worked:
            team = s.team[t, : s.team_size[t]]
            best = s.skill[team].max(axis=0)  # before anyone on the team updates
            for i in team:
                for k in range(s.K):
                    if s.req[t, k] > 0.0:
                        x = learned_by_doing(s.skill[i, k], s.req[t, k], m.eta)
                        s.skill[i, k] = learned_from_peers(x, best[k], s.req[t, k], team_trust[int(i)], m.eta_peer)
                    else:
                        s.skill[i, k] = forgotten(s.skill[i, k], m.forget)
        idle = np.array([i for i in s.present_ids.tolist() if i not in workers], dtype=np.int64)
        if len(idle):
            s.skill[idle] = forgotten(s.skill[idle], m.forget)

        # motivation (SDT): needs met this step pull autonomy toward them
        for i, t in workers.items():
            autonomy_need = 1.0 if s.chosen[t] else c.autonomy_support  # met when one chose the task
            needs = needs_met(autonomy_need, team_trust[i], competence.get(i, -1.0))
            s.autonomy[i] = motivated(s.autonomy[i], needs, team_trust[i], c.zeta)

        # ties: all fade toward their start, co-workers' ties strengthen, new ones may form
        live = s.tie_nbr >= 0  # spare slots hold -1
        s.tie_trust[live] = faded_trust(s.tie_trust[live], s.tie_base[live], c.fade)
        new_ties = []
        for t in worked:
            team = sorted(int(i) for i in s.team[t, : s.team_size[t]])
            for a_pos, a in enumerate(team):
                for b in team[a_pos + 1:]:
                    if self.strengthen(a, b, c.omega):
                        continue
                    if uniform(s.seed, s.step, NEW_TIE, a, b) < c.p_new_tie:
                        new_ties.append((a, b))
        s.add_ties(sorted(new_ties), c.trust_new)

        # burnout: exhausted members stop and recover, leaving their team
        for i in s.present_ids.tolist():
            if s.energy[i] < m.burnout and s.step >= s.recover_until[i]:
                s.recover_until[i] = s.step + 1 + m.burnout_steps
                t = s.task_of[i]
                if t >= 0:
                    leave_team(s.members(), s.tasks(), i, t)
        s.burnout_days += int((s.step < s.recover_until[: s.n])[s.present_ids].sum())

    def strengthen(self, a: int, b: int, omega: float) -> bool:
        """Co-working strengthens an existing tie (both directions); False when there is none."""
        s = self.state
        found = False
        for i, j in ((a, b), (b, a)):
            for p in s.tie_slots(i):
                if s.tie_nbr[p] == j:
                    s.tie_trust[p] = strengthened_trust(s.tie_trust[p], omega)
                    found = True
        return found

    def mean_trust_to_team(self, i: int, t: int) -> float:
        s = self.state
        return mean_trust_to_team(i, s.team[t], s.team_size[t], s.tie_start, s.tie_count, s.tie_nbr, s.tie_trust)

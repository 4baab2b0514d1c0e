"""The compiled engine: every phase of a step as numba kernels over the state arrays.

It follows sim/engines/agents.py phase by phase and calls the same rules (sim/rules.py,
sim/teams.py, sim/environment.py), so both engines give the same numbers. Loops that the
agents engine runs over Mesa agents run here over array indices, in the same fixed order
(oldest task first, then lowest id) wherever the order can matter.
"""

from __future__ import annotations

import time
from collections import namedtuple

import numpy as np
from numba import config as numba_config
from numba import get_num_threads, njit, prange, set_num_threads

from .. import environment, events
from ..observe import Tally
from ..players import ACCEPT, BY_RULE, CLAIM_BY_RULE, CLAIM_NOTHING, DECLINE, invitation_answer
from ..rng import CLAIM, INTEREST, JOIN, NEW_TIE, REPORT_LOSS, uniform
from ..rules import (benefit, claim_probability, coordination_cost, faded_trust, fit, forgotten, join_probability,
                     learned_by_doing, learned_from_peers, motivated, needs_met, progress_rate, readiness,
                     recovered_energy, spent_energy, strengthened_trust, task_score)
from ..state import (ACTIVE, DISTRIBUTED, DONE, FAILED, HEROIC, HYBRID, IN_INBOX, IN_TRANSIT, NEW_TASK, NO_REPORT,
                     OPEN, RESTAFF)
from ..teams import (capability, coverage, escalates, leave_team, mean_trust_to_team, send_report, start_task,
                     support, task_is_central, wants_restaffing)

# The step's tally as an array, one slot per key of sim.observe.Tally, in its order.
TALLY_KEYS = Tally.KEYS
(T_ARRIVED, T_VALUE_ARRIVED, T_STARTED, T_STARTED_CHOSEN, T_DONE, T_FAILED, T_VALUE_CAPTURED, T_WAIT_SUM,
 T_WAIT_N, T_CYCLE_SUM, T_CYCLE_N, T_DECISIONS, T_ESCALATIONS, T_RESTAFFS, T_RESTAFF_REQUESTS,
 T_CENTRAL_ARRIVALS) = range(len(TALLY_KEYS))

Params = namedtuple("Params", "seed step regime centralisation top n_tasks energy_min max_radius report_loss "
                              "restaff_below "
                              "restaff_retry decisions_per_step team_max coverage_target purpose value_mean "
                              "w_benefit w_fit w_energy w_support gain threshold contribution coord_cost "
                              "self_org_overhead procedures mu cost_work cost_lead recovery cost_decide "
                              "cost_oversee eta eta_peer forget zeta omega fade p_new_tie burnout burnout_steps")

# Per-thread scratch for the searches, one row per thread: a search's visited marks (stamped,
# so that rows need no clearing), its queue and path trusts, and each member's best task so far.
Scratch = namedtuple("Scratch", "stamp mark layer_mark value queue best_task best_score")
# Each recruiting team's candidates, found in parallel before the teams ask in turn.
Candidates = namedtuple("Candidates", "ids fits trusts count")
CANDIDATES_KEPT = 32  # per team; a longer list (rare) is searched again at the team's turn
# Organisations this big or bigger run on all cores by default (NumbaEngine's `threads`). On an
# idle 2-core machine two threads gain 6% at 200 members, 13% at 500, 32% at 2,000 and 41% at
# 5,000 (benchmarks/engine_speed.py); on a busy one, threads that wait for each other can cost
# several times what they gain, so small organisations keep to one.
PARALLEL_FROM = 2_000


# ----- helpers -----
# Helpers called once per task or member take whole records; numba passes a record by value, so
# a call costs a copy of every array's header in it. Those called in loops are inlined.------------------------------------------------------------------------
@njit(cache=True)
def _availability(M, step, energy_min, out):
    for i in range(out.shape[0]):
        ok = (not M.gone[i]) and M.task_of[i] < 0 and step >= M.recover_until[i] and M.energy[i] >= energy_min
        out[i] = 1.0 if ok else 0.0


@njit(cache=True, inline="always")
def _within(G, source, radius, mark, stamp, queue, wanted):
    """Breadth-first: members within `radius` ties of source, written to queue; returns count.
    Members of the outermost layer are kept only where wanted[i] (the caller wants only those,
    and nobody is reached through them); a small boolean array, read before the marks."""
    mark[source] = stamp
    queue[0] = source
    head, tail = 0, 1
    for layer in range(radius):
        outermost = layer == radius - 1
        end = tail
        while head < end:
            v = queue[head]
            head += 1
            for p in range(G.start[v], G.start[v] + G.count[v]):
                w = G.nbr[p]
                if (wanted[w] or not outermost) and mark[w] != stamp:
                    mark[w] = stamp
                    queue[tail] = w
                    tail += 1
    return tail


@njit(cache=True, inline="always")
def _path_trust(G, source, radius, mark, stamp, layer_mark, value, queue, wanted):
    """Members within `radius` hops (in queue[:count]) with the best product of trusts along
    a shortest path (in value[]). As in _within, the outermost layer keeps only the wanted."""
    mark[source] = stamp
    value[source] = 1.0
    queue[0] = source
    head, tail = 0, 1
    for layer in range(radius):
        outermost = layer == radius - 1
        end = tail
        start_layer = tail
        while head < end:
            v = queue[head]
            head += 1
            for p in range(G.start[v], G.start[v] + G.count[v]):
                w = G.nbr[p]
                if (outermost and not wanted[w]) or mark[w] == stamp:
                    continue
                product = value[v] * G.trust[p]
                if layer_mark[w] != stamp:
                    layer_mark[w] = stamp
                    value[w] = product
                    queue[tail] = w
                    tail += 1
                elif product > value[w]:
                    value[w] = product
        for a in range(start_layer, tail):
            mark[queue[a]] = stamp
    return tail


@njit(cache=True)
def _start_task(M, T, P, t, lead, chosen, decider, tally):
    """Start task t; True on its first start, the only one counted."""
    first = start_task(M, T, t, lead, chosen, decider, P.step, P.max_radius)
    if first:
        tally[T_STARTED] += 1
        if chosen:
            tally[T_STARTED_CHOSEN] += 1
        tally[T_WAIT_SUM] += P.step - T.born[t]
        tally[T_WAIT_N] += 1
    return first


@njit(cache=True, inline="always")
def _is_central(T, P, t):
    """Task t goes to the managers under the current regime (the structure dial in hybrid)."""
    return task_is_central(P.regime, P.centralisation, P.seed, T.task_id[t])


@njit(cache=True, inline="always")
def _add_to_team(M, T, t, i):
    T.team[t, T.team_size[t]] = i
    T.team_size[t] += 1
    M.task_of[i] = t


@njit(cache=True)
def _send(M, T, P, t, kind, sender):
    send_report(M, T, t, kind, sender, P.regime, P.top)


# ----- phase 2: who hears of a task -----------------------------------------------------------
@njit(cache=True)
def spread_word(M, T, P, tally):
    for t in range(P.n_tasks):
        if T.status[t] == OPEN and T.born[t] < P.step:
            T.radius[t] = min(T.radius[t] + 1, P.max_radius)
    if P.regime == DISTRIBUTED:
        return
    for t in range(P.n_tasks):
        if T.status[t] == OPEN and T.born[t] == P.step:
            if _is_central(T, P, t):  # hybrid: only the tasks the dial gives the managers are reported
                _send(M, T, P, t, NEW_TASK, T.origin[t])
                tally[T_CENTRAL_ARRIVALS] += 1
        elif wants_restaffing(M, T, t, P.step, P.restaff_below, P.restaff_retry, P.team_max):
            _send(M, T, P, t, RESTAFF, T.lead[t])
            tally[T_RESTAFF_REQUESTS] += 1
            T.restaff_version[t] = T.req_version[t]
            T.restaff_sent[t] = P.step
    for t in range(P.n_tasks):
        if T.report[t] != IN_TRANSIT:
            continue
        if T.report_at[t] != T.report_to[t]:
            if uniform(P.seed, P.step, REPORT_LOSS, T.task_id[t], 0) < P.report_loss:
                T.report[t] = NO_REPORT
                continue
            T.report_at[t] = M.parent[T.report_at[t]]
        here = T.report_at[t]
        if here < 0 or M.gone[here] or M.gone[T.report_to[t]]:
            T.report[t] = NO_REPORT
        elif here == T.report_to[t]:
            T.report[t] = IN_INBOX


# ----- phases 3-4, distributed: claims and granting ----------------------------------------
@njit(cache=True, parallel=True)
def _readiness(M, G, P, available, ready):
    """Each available member's readiness (energy and support) for this step's claims."""
    for i in prange(available.shape[0]):
        if available[i] != 0.0:
            ready[i] = readiness(M.energy[i], support(i, available, G.start, G.count, G.nbr, G.trust),
                                 P.w_energy, P.w_support)


@njit(cache=True, parallel=True)
def _best_tasks(M, G, T, P, open_tasks, free, ready, S):
    """Each available member's best open task among those it can see: the highest score, and
    among equal scores the oldest task (lowest slot). The open tasks are dealt in turn to the rows
    of the scratch S (one row per thread); each row keeps its own best per member, and the rows
    are merged by the same rule. The rule is a total order, so the result is the same for any
    number of rows and threads."""
    # Inside prange numba may lose a write to an array taken from a record (s.a[r] = x; numba
    # 0.68), so each row's work is one call of a plain kernel, given its arrays.
    rows = S.stamp.shape[0]
    for r in prange(rows):
        _best_tasks_of_row(M, G, T, P, open_tasks, free, ready, r, rows, S.stamp[r:r + 1], S.mark[r], S.queue[r],
                           S.best_task[r], S.best_score[r])
    _merge_rows(S.best_task, S.best_score)


@njit(cache=True)
def _best_tasks_of_row(M, G, T, P, open_tasks, free, ready, r, rows, stamp, mark, queue, best_task,
                       best_score):
    """One row of _best_tasks: the open tasks r, r + rows, r + 2 rows, ..."""
    best_task[:] = -1
    best_score[:] = -1.0
    for k in range(r, open_tasks.shape[0], rows):
        t = open_tasks[k]
        stamp[0] += 1
        count = _within(G, T.origin[t], T.radius[t], mark, stamp[0], queue, free)
        for a in range(count):
            i = queue[a]
            if not free[i]:
                continue
            interest = uniform(P.seed, 0, INTEREST, T.task_id[t], i)
            b = benefit(P.purpose, T.value[t], P.value_mean, interest)
            score = task_score(b, fit(T.req[t], M.skill[i]), ready[i], P.w_benefit, P.w_fit)
            if score > best_score[i]:
                best_score[i] = score
                best_task[i] = t


@njit(cache=True, parallel=True)
def _merge_rows(best_task, best_score):
    """Row 0 takes each member's best over all rows: highest score, then lowest task slot."""
    for i in prange(best_task.shape[1]):
        for r in range(1, best_task.shape[0]):
            t, score = best_task[r, i], best_score[r, i]
            if t >= 0 and (score > best_score[0, i] or (score == best_score[0, i] and t < best_task[0, i])):
                best_task[0, i] = t
                best_score[0, i] = score


@njit(cache=True, parallel=True)
def _claims(M, T, P, D, best_task, best_score, claimed, claimed_fit):
    """Each member's claim this step: the task it claims (or -1) and its fit to it. A participant
    claims what it chose; by the rule, a member claims its best task with its claim draw."""
    for i in prange(claimed.shape[0]):
        claimed[i] = -1
        t = D.claim[i]
        if t == CLAIM_NOTHING:
            continue
        if t == CLAIM_BY_RULE:
            t = best_task[i]
            if t < 0:
                continue
            p = claim_probability(M.autonomy[i], best_score[i], P.gain, P.threshold)
            if uniform(P.seed, P.step, CLAIM, i, 0) >= p:
                continue
        claimed[i] = t
        claimed_fit[i] = fit(T.req[t], M.skill[i])


@njit(cache=True)
def claim_and_grant(M, G, T, P, D, tally, available, S, ready, claim_lead, claim_fit):
    """D: participants' decisions as Orders (sim/players.py); D.claim[i] replaces member i's
    choice of task and its claim draw. S: per-thread scratch (Scratch)."""
    n = available.shape[0]
    _availability(M, P.step, P.energy_min, available)
    open_tasks = np.empty(P.n_tasks, dtype=np.int64)
    n_open = 0
    for t in range(P.n_tasks):  # birth order: a member's best task is the oldest among equals
        if T.status[t] == OPEN and not _is_central(T, P, t):  # hybrid: the managers' tasks are not open to claims
            open_tasks[n_open] = t
            n_open += 1
    _readiness(M, G, P, available, ready)
    _best_tasks(M, G, T, P, open_tasks[:n_open], available != 0.0, ready, S)
    claimed, claimed_fit = np.empty(n, np.int64), np.empty(n)
    _claims(M, T, P, D, S.best_task[0], S.best_score[0], claimed, claimed_fit)
    claim_lead[: P.n_tasks] = -1
    for i in range(n):  # lowest id first, so equal fits go to the lowest id
        t = claimed[i]
        if t >= 0 and (claim_lead[t] < 0 or claimed_fit[i] > claim_fit[t]):
            claim_lead[t] = i
            claim_fit[t] = claimed_fit[i]
    for t in range(P.n_tasks):
        lead = claim_lead[t]
        if lead >= 0 and _start_task(M, T, P, t, lead, True, -1, tally):
            M.initiated[lead] += 1


# ----- phases 3-4, central: decisions and appointments -------------------------------------
@njit(cache=True)
def _best_candidate(M, view, members, lo, hi, available, exclude):
    """Best fit to `view` among available members[lo:hi]; ties go to the lowest id."""
    best, best_fit = -1, -1.0
    for a in range(lo, hi):
        i = members[a]
        if i == exclude or available[i] == 0.0:
            continue
        f = fit(view, M.skill[i])
        if f > best_fit or (f == best_fit and i < best):
            best, best_fit = i, f
    return best


@njit(cache=True)
def _staff(M, T, P, t, d, tally, available):
    """One decision on task t by decider d. Returns 0 staffed, 1 escalated, 2 blocked.
    `available` is kept current by the caller: whoever joins a team is cleared from it."""
    view = T.req_reported[t]
    if P.regime == HEROIC:  # the hero may assign anyone but itself
        members, lo, hi, exclude = M.present_ids, 0, M.present_ids.shape[0], d
    else:  # a manager assigns within its own subtree, itself included
        members, lo, hi, exclude = M.order, M.tin[d], M.tout[d], -1
    full = T.status[t] == ACTIVE and T.team_size[t] >= P.team_max
    first = -1 if full else _best_candidate(M, view, members, lo, hi, available, exclude)
    if first < 0:
        if escalates(P.regime) and M.parent[d] >= 0 and not M.gone[M.parent[d]]:
            T.report[t] = IN_TRANSIT  # escalate one level up, as a report
            T.report_at[t] = d
            T.report_to[t] = M.parent[d]
            tally[T_ESCALATIONS] += 1
            tally[T_DECISIONS] += 1
            return 1
        return 2  # the task stays on top of the inbox; the decision is not used
    if T.status[t] == OPEN:
        if _start_task(M, T, P, t, first, False, d, tally):
            M.initiated[d] += 1
        available[first] = 0.0
    else:
        T.report[t] = NO_REPORT
        tally[T_RESTAFFS] += 1
    # the decider's estimate of coverage uses the requirement as it was reported
    while T.team_size[t] < P.team_max:
        if coverage(view, T.team[t], T.team_size[t], M.skill) >= P.coverage_target:
            break
        nxt = _best_candidate(M, view, members, lo, hi, available, exclude)
        if nxt < 0:
            break
        available[nxt] = 0.0
        _add_to_team(M, T, t, nxt)
    tally[T_DECISIONS] += 1
    return 0


@njit(cache=True)
def decide(M, T, P, tally, available, pick, used):
    """Each round every decider takes the highest-value report in its inbox (ties: oldest);
    the round's picks are staffed oldest task first."""
    n = available.shape[0]
    _availability(M, P.step, P.energy_min, available)
    blocked = np.zeros(n, dtype=np.bool_)
    picked = np.empty(P.n_tasks, dtype=np.int64)
    for _ in range(P.decisions_per_step):
        n_picked = 0
        for t in range(P.n_tasks):
            if T.report[t] != IN_INBOX:
                continue
            d = T.report_to[t]
            if blocked[d] or P.step < M.recover_until[d] or M.gone[d]:
                continue
            if pick[d] < 0:
                pick[d] = t
                picked[n_picked] = d
                n_picked += 1
            elif T.value[t] > T.value[pick[d]]:
                pick[d] = t
        if n_picked == 0:
            break
        slots = np.empty(n_picked, dtype=np.int64)
        for a in range(n_picked):
            slots[a] = pick[picked[a]]
            pick[picked[a]] = -1
        slots.sort()
        for a in range(n_picked):
            t = slots[a]
            d = T.report_to[t]
            outcome = _staff(M, T, P, t, d, tally, available)
            if outcome == 2:
                blocked[d] = True
            else:
                used[d] += 1


# ----- phase 5: self-organised teams recruit --------------------------------------------
@njit(cache=True)
def _sort_best_first(ids, fits, trusts, m):
    """Order the first m candidates by fit, best first, ties by lowest id (insertion sort:
    lists are short). Each candidate's trust moves with it."""
    if m > 64:
        order = np.argsort(ids[:m], kind="mergesort")
        ids[:m], fits[:m], trusts[:m] = ids[:m][order], fits[:m][order], trusts[:m][order]
        order = np.argsort(-fits[:m], kind="mergesort")  # stable: equal fits keep id order
        ids[:m], fits[:m], trusts[:m] = ids[:m][order], fits[:m][order], trusts[:m][order]
        return
    for a in range(1, m):
        i, f, v = ids[a], fits[a], trusts[a]
        b = a - 1
        while b >= 0 and (fits[b] < f or (fits[b] == f and ids[b] > i)):
            ids[b + 1], fits[b + 1], trusts[b + 1] = ids[b], fits[b], trusts[b]
            b -= 1
        ids[b + 1], fits[b + 1], trusts[b + 1] = i, f, v


@njit(cache=True, inline="always")
def _recruits(M, T, P, t):
    """Task t's self-organised team is short of its coverage target and has room."""
    if T.status[t] != ACTIVE or not T.chosen[t]:
        return False  # appointed teams change only when their decider spends a decision
    return T.team_size[t] < P.team_max and coverage(T.req[t], T.team[t], T.team_size[t], M.skill) < P.coverage_target


@njit(cache=True, inline="always")
def _find_candidates(M, G, T, t, free, mark, stamp, layer_mark, value, queue, ids, fits, trusts):
    """The free members within task t's invitation radius, best fit first (ties: lowest id),
    with their trust in the lead; returns how many, writing at most ids.shape[0] of them."""
    count = _path_trust(G, T.lead[t], T.invite_radius[t], mark, stamp, layer_mark, value, queue, free)
    m = 0
    for a in range(count):
        i = queue[a]
        if free[i]:
            if m < ids.shape[0]:
                ids[m] = i
                fits[m] = fit(T.req[t], M.skill[i])
                trusts[m] = value[i]
            m += 1
    if m <= ids.shape[0]:
        _sort_best_first(ids, fits, trusts, m)
    return m


@njit(cache=True, inline="always")
def _willing(M, T, P, D, t, ids, trusts, m):
    """Of task t's first m candidates, keep (in order) those who would accept its invitation: by a
    participant's own answer, or by the join draw. Returns how many. Nothing an earlier team does
    in the phase changes an answer, so answers can be drawn before the teams ask in turn."""
    w = 0
    for a in range(m):
        i = ids[a]
        answer = invitation_answer(t, D.join_with[i], D.decline_from[i])
        if answer == BY_RULE:
            p = join_probability(P.contribution, trusts[a], M.autonomy[i], M.energy[i])
            answer = ACCEPT if uniform(P.seed, T.req_version[t], JOIN, T.task_id[t], i) < p else DECLINE
        if answer == ACCEPT:
            ids[w] = i
            w += 1
    return w


@njit(cache=True, parallel=True)
def _recruiting(M, T, P):
    """The tasks whose teams recruit this step, in birth order."""
    wants = np.zeros(P.n_tasks, dtype=np.bool_)
    for t in prange(P.n_tasks):
        wants[t] = _recruits(M, T, P, t)
    return np.flatnonzero(wants)


@njit(cache=True, parallel=True)
def _candidates(M, G, T, P, D, recruiting, free, S, C):
    """Every recruiting team's willing candidates, best fit first, against the availability at the
    start of the phase, dealt to the threads' scratch rows in turn. A list longer than the
    buffer's width is not kept (C.count = -1) and is found again when its team's turn comes."""
    rows = S.stamp.shape[0]
    for r in prange(rows):  # one call per row: see _best_tasks
        _candidates_of_row(M, G, T, P, D, recruiting, free, r, rows, S.stamp[r:r + 1], S.mark[r], S.layer_mark[r],
                           S.value[r], S.queue[r], C)


@njit(cache=True)
def _candidates_of_row(M, G, T, P, D, recruiting, free, r, rows, stamp, mark, layer_mark, value, queue, C):
    """One row of _candidates: the recruiting teams r, r + rows, r + 2 rows, ..."""
    for k in range(r, recruiting.shape[0], rows):
        stamp[0] += 1
        t = recruiting[k]
        m = _find_candidates(M, G, T, t, free, mark, stamp[0], layer_mark, value, queue, C.ids[k], C.fits[k],
                             C.trusts[k])
        C.count[k] = _willing(M, T, P, D, t, C.ids[k], C.trusts[k], m) if m <= C.ids.shape[1] else -1


@njit(cache=True)
def form_teams(M, G, T, P, D, available, S, C):
    """D: participants' decisions as Orders (sim/players.py); they may answer an invitation instead
    of the join draw. Teams recruit in birth order, each asking its candidates best fit first.
    Who would accept depends on nothing that changes in the phase, so each team's list is cut to
    its willing candidates first; in turn, each team takes those still free, best fit first, until
    it is complete. On several threads the lists are made first, in parallel (_candidates), against
    the availability at the start of the phase; whoever an earlier team took in the meantime is
    skipped, which leaves exactly the list a search at the team's turn would give, because the
    order of a list does not depend on who else is in it. On one thread each team searches at its
    turn, which skips keeping the lists."""
    _availability(M, P.step, P.energy_min, available)
    free = available != 0.0  # the same as booleans: an eighth of the memory for the searches to read
    recruiting = _recruiting(M, T, P)
    search_at_turn = S.mark.shape[0] == 1
    if not search_at_turn:
        _candidates(M, G, T, P, D, recruiting, free, S, C)
    n = free.shape[0]
    own_ids, own_fits, own_trusts = np.empty(n, np.int64), np.empty(n), np.empty(n)
    for k in range(recruiting.shape[0]):
        t = recruiting[k]
        if search_at_turn or C.count[k] < 0:  # a list too long to keep is searched now
            S.stamp[0] += 1
            m = _find_candidates(M, G, T, t, free, S.mark[0], S.stamp[0], S.layer_mark[0], S.value[0],
                                 S.queue[0], own_ids, own_fits, own_trusts)
            m = _willing(M, T, P, D, t, own_ids, own_trusts, m)
            ids = own_ids
        else:
            m = C.count[k]
            ids = C.ids[k]
        complete = False
        for a in range(m):
            i = ids[a]
            if not free[i]:
                continue  # an earlier team took it
            _add_to_team(M, T, t, i)
            free[i] = False
            if T.team_size[t] >= P.team_max or coverage(T.req[t], T.team[t], T.team_size[t], M.skill) >= P.coverage_target:
                complete = True
                break
        if not complete:  # nobody nearer is left to ask
            T.invite_radius[t] = min(T.invite_radius[t] + 1, P.max_radius)


# ----- phase 6: progress -------------------------------------------------------------------
@njit(cache=True, parallel=True)
def progress(M, T, P):
    work, progressed = T.work, T.progressed  # written in prange: taken out of the record (see _best_tasks)
    for t in prange(P.n_tasks):
        if T.status[t] != ACTIVE:
            continue
        size = T.team_size[t]
        cap = capability(T.req[t], T.team[t], size, M.skill, M.energy, M.autonomy, P.mu)
        coordination = coordination_cost(T.chosen[t], P.coord_cost, P.self_org_overhead, P.procedures)
        lead_fit = fit(T.req[t], M.skill[T.lead[t]])
        work[t] -= progress_rate(lead_fit, cap, coordination, size)
        progressed[t] = True


# ----- phase 7: ends -----------------------------------------------------------------------
@njit(cache=True)
def end_tasks(M, T, P, tally, competence):
    for t in range(P.n_tasks):
        status = T.status[t]
        if status == ACTIVE and T.work[t] <= 0.0:
            T.status[t] = DONE
            tally[T_DONE] += 1
            tally[T_VALUE_CAPTURED] += T.value[t]
            tally[T_CYCLE_SUM] += P.step - T.born[t]
            tally[T_CYCLE_N] += 1
        elif (status == OPEN or status == ACTIVE) and P.step >= T.deadline[t]:
            T.status[t] = FAILED
            tally[T_FAILED] += 1
        else:
            continue
        T.report[t] = NO_REPORT
        done = T.status[t] == DONE
        for a in range(T.team_size[t]):
            i = T.team[t, a]
            competence[i] = 1.0 if done else 0.0
            M.task_of[i] = -1
            M.role_lead[i] = False
            if done:
                M.done_count[i] += 1


# ----- phase 8: energy, learning, ties, motivation ----------------------------------------
@njit(cache=True)
def _team_tie_slots(G, members, size, slots):
    """slots[a, b] = the slot of the tie members[a] -> members[b], or -1: one scan of each row."""
    for a in range(size):
        for b in range(size):
            slots[a, b] = -1
        i = members[a]
        for p in range(G.start[i], G.start[i] + G.count[i]):
            w = G.nbr[p]
            for b in range(size):
                if members[b] == w and slots[a, b] < 0:
                    slots[a, b] = p


@njit(cache=True, parallel=True)
def note_workers(M, G, T, P, worked_on, team_trust, team_slots):
    """Who worked this step, and their relatedness before anyone's ties change. Sums in team
    order, exactly as sim.teams.mean_trust_to_team does. Records each team's tie slots in
    team_slots[t] for the tie update later in the phase (slots do not move in between).
    Teams are disjoint, so tasks run in parallel."""
    worked_on[:] = -1
    for t in prange(P.n_tasks):
        if not T.progressed[t]:
            continue
        size = T.team_size[t]
        if size == 1:
            i = T.team[t, 0]
            worked_on[i] = t
            team_trust[i] = mean_trust_to_team(i, T.team[t], 1, G.start, G.count, G.nbr, G.trust)
            continue
        slots = team_slots[t]
        _team_tie_slots(G, T.team[t], size, slots)
        for a in range(size):
            i = T.team[t, a]
            worked_on[i] = t
            total = 0.0
            for b in range(size):
                if b != a:
                    total += G.trust[slots[a, b]] if slots[a, b] >= 0 else 0.0
            team_trust[i] = total / (size - 1)


@njit(cache=True, parallel=True)
def update_energy(M, T, P, worked_on, used):
    """Workers spend, everyone else recovers, deciders pay for deciding and oversight."""
    energy, present = M.energy, M.present_ids  # written in prange: taken out of the record
    for a in prange(present.shape[0]):
        i = present[a]
        t = worked_on[i]
        if t >= 0:
            energy[i] = spent_energy(energy[i], P.cost_lead if T.lead[t] == i else P.cost_work)
        else:
            energy[i] = recovered_energy(energy[i], P.recovery)
    overseen = np.zeros(worked_on.shape[0], dtype=np.int64)
    for t in range(P.n_tasks):
        if T.progressed[t] and T.decider[t] >= 0:
            overseen[T.decider[t]] += 1
    for d in range(worked_on.shape[0]):
        decisions = used[d] if P.regime != DISTRIBUTED else 0
        if (decisions > 0 or overseen[d] > 0) and not M.gone[d]:
            energy[d] = spent_energy(energy[d], P.cost_decide * decisions + P.cost_oversee * overseen[d])


@njit(cache=True, parallel=True)
def update_skills(M, T, P, worked_on, team_trust):
    """Learning by doing and from the best teammate; forgetting what is not used. Teams are
    disjoint, so tasks run in parallel, and so do the idle members."""
    skill, present = M.skill, M.present_ids  # written in prange: taken out of the record
    K = skill.shape[1]
    for t in prange(P.n_tasks):
        if not T.progressed[t]:
            continue
        size = T.team_size[t]
        best = np.empty(K)
        for k in range(K):
            best[k] = -1.0
            for a in range(size):
                best[k] = max(best[k], skill[T.team[t, a], k])  # before anyone on the team updates
        for a in range(size):
            i = T.team[t, a]
            for k in range(K):
                if T.req[t, k] > 0.0:
                    x = learned_by_doing(skill[i, k], T.req[t, k], P.eta)
                    skill[i, k] = learned_from_peers(x, best[k], T.req[t, k], team_trust[i], P.eta_peer)
                else:
                    skill[i, k] = forgotten(skill[i, k], P.forget)
    for a in prange(present.shape[0]):
        i = present[a]
        if worked_on[i] < 0:
            for k in range(K):
                skill[i, k] = forgotten(skill[i, k], P.forget)


@njit(cache=True, parallel=True)
def update_motivation(M, T, P, worked_on, team_trust, competence, autonomy_support):
    """SDT: the needs met this step pull autonomy toward them."""
    autonomy, present = M.autonomy, M.present_ids  # written in prange: taken out of the record
    for a in prange(present.shape[0]):
        i = present[a]
        t = worked_on[i]
        if t < 0:
            continue
        autonomy_need = 1.0 if T.chosen[t] else autonomy_support  # met when one chose the task
        needs = needs_met(autonomy_need, team_trust[i], competence[i])
        autonomy[i] = motivated(autonomy[i], needs, team_trust[i], P.zeta)


@njit(cache=True, parallel=True)
def update_ties(G, T, P, team_slots):
    """All ties fade toward their start; co-workers' ties strengthen; returns new pairs to tie
    (in no particular order: the caller sorts them). team_slots[t] holds the slots note_workers
    found for each team. A team's pairs have their own place in the output, so teams run in
    parallel."""
    trust, nbr, base = G.trust, G.nbr, G.base  # written in prange: taken out of the record
    for p in prange(nbr.shape[0]):
        if nbr[p] >= 0:
            trust[p] = faded_trust(trust[p], base[p], P.fade)
    first = np.zeros(P.n_tasks + 1, dtype=np.int64)  # where each team's candidate pairs start
    for t in range(P.n_tasks):
        size = T.team_size[t] if T.progressed[t] else 0
        first[t + 1] = first[t] + size * (size - 1) // 2
    pairs = np.full((first[P.n_tasks], 2), -1, dtype=np.int64)
    for t in prange(P.n_tasks):
        if not T.progressed[t] or T.team_size[t] < 2:
            continue
        size = T.team_size[t]
        slots = team_slots[t]
        q = first[t]
        for x in range(size):
            for y in range(x + 1, size):
                found = False
                for p in (slots[x, y], slots[y, x]):
                    if p >= 0:
                        trust[p] = strengthened_trust(trust[p], P.omega)
                        found = True
                a, b = min(T.team[t, x], T.team[t, y]), max(T.team[t, x], T.team[t, y])
                if not found and uniform(P.seed, P.step, NEW_TIE, a, b) < P.p_new_tie:
                    pairs[q, 0] = a
                    pairs[q, 1] = b
                q += 1
    return pairs[pairs[:, 0] >= 0]


@njit(cache=True)
def burn_out(M, T, P):
    """Exhausted members stop and recover, leaving their team; returns how many are recovering."""
    for i in M.present_ids:
        if M.energy[i] < P.burnout and P.step >= M.recover_until[i]:
            M.recover_until[i] = P.step + 1 + P.burnout_steps
            t = M.task_of[i]
            if t >= 0:
                leave_team(M, T, i, t)
    recovering = 0
    for i in M.present_ids:
        if P.step < M.recover_until[i]:
            recovering += 1
    return recovering


class NumbaEngine:
    """Steps the state with compiled kernels; Mesa agents are made only on request."""

    def __init__(self, model, threads=None):
        self.model = model
        if threads is None:
            threads = numba_config.NUMBA_NUM_THREADS if model.state.n >= PARALLEL_FROM else 1
        if not 1 <= threads <= numba_config.NUMBA_NUM_THREADS:
            raise ValueError(f"threads = {threads} is out of range; allowed [1, {numba_config.NUMBA_NUM_THREADS}] "
                             "(NUMBA_NUM_THREADS)")
        self.threads = threads
        self.state = model.state
        self.cfg = model.cfg
        self._n = -1
        self._rows = -1
        self._cap = -1
        self.candidates = None
        self.timings = None  # set to {} to accumulate seconds per phase (benchmarks/profile_phases.py)

    def _scratch(self):
        n, rows = self.state.n, get_num_threads()  # one row per thread
        if n != self._n:
            self._n = n
            self.available = np.zeros(n)
            self.ready = np.zeros(n)
            self.pick = np.full(n, -1, dtype=np.int64)
            self.used = np.zeros(n, dtype=np.int64)
            self.worked_on = np.zeros(n, dtype=np.int64)
            self.team_trust = np.zeros(n)
            self.competence = np.zeros(n)
        if self._rows < 0 or self.scratch.mark.shape != (rows, n):
            self._rows = rows
            # marks are 32-bit, half the memory for the searches to touch; see the wrap below
            self.scratch = Scratch(np.zeros(rows, dtype=np.int64), np.zeros((rows, n), dtype=np.int32),
                                   np.zeros((rows, n), dtype=np.int32), np.zeros((rows, n)),
                                   np.zeros((rows, n), dtype=np.int64), np.zeros((rows, n), dtype=np.int64),
                                   np.zeros((rows, n)))
        if self.scratch.stamp.max() > 2**30:  # far from 2**31 even after a step of a million searches
            self.scratch.stamp[:] = 0
            self.scratch.mark[:] = 0
            self.scratch.layer_mark[:] = 0
        cap = len(self.state.task_id)
        if self._cap != cap:
            self._cap = cap
            self.claim_lead = np.full(cap, -1, dtype=np.int64)
            self.claim_fit = np.zeros(cap)
            size = self.cfg.member.team_max
            self.team_slots = np.zeros((cap, size, size), dtype=np.int64)
        live = self.state.n_tasks
        if self.candidates is None or self.candidates.count.shape[0] < live:
            rows = max(64, 2 * live)  # room to grow, so that reallocations stay rare
            self.candidates = Candidates(np.zeros((rows, CANDIDATES_KEPT), dtype=np.int64),
                                         np.zeros((rows, CANDIDATES_KEPT)), np.zeros((rows, CANDIDATES_KEPT)),
                                         np.zeros(rows, dtype=np.int64))

    def _pack(self):
        s, c = self.state, self.cfg
        M, G, T = s.members(), s.ties(), s.tasks()
        m, r, cu, e = c.member, c.regime, c.culture, c.env
        P = Params(s.seed, s.step, s.regime, r.centralisation, s.top, s.n_tasks, m.energy_min, r.max_radius, r.report_loss,
                   r.restaff_below, r.restaff_retry, r.decisions_per_step, m.team_max, m.coverage_target,
                   cu.purpose, e.value_mean, m.w_benefit, m.w_fit, m.w_energy, m.w_support, m.gain, m.threshold,
                   cu.contribution, m.coord_cost, m.self_org_overhead, cu.procedures, cu.mu, m.cost_work,
                   m.cost_lead, m.recovery, r.cost_decide, r.cost_oversee, m.eta, m.eta_peer, m.forget, cu.zeta,
                   cu.omega, cu.fade, cu.p_new_tie, m.burnout, m.burnout_steps)
        return M, G, T, P

    def step(self):
        s, cfg = self.state, self.cfg
        set_num_threads(self.threads)  # for this thread only: a page may step other models in others
        s.progressed[: s.n_tasks] = False
        tally = np.zeros(len(TALLY_KEYS))
        clock = _Clock(self.timings)
        tally[T_ARRIVED], tally[T_VALUE_ARRIVED] = environment.advance(s)
        clock("environment")
        self._scratch()
        M, G, T, P = self._pack()
        D = self.model.orders
        assert D.claim.shape[0] == s.n, "the model builds a step's orders before the engine steps"
        spread_word(M, T, P, tally)
        clock("reports")
        self.used[:] = 0
        if s.regime == DISTRIBUTED or s.regime == HYBRID:  # hybrid: self-selection first, then the managers
            claim_and_grant(M, G, T, P, D, tally, self.available, self.scratch, self.ready, self.claim_lead,
                            self.claim_fit)
        if s.regime != DISTRIBUTED:
            decide(M, T, P, tally, self.available, self.pick, self.used)
        clock("claims and decisions")
        form_teams(M, G, T, P, D, self.available, self.scratch, self.candidates)
        clock("team formation")
        progress(M, T, P)
        self.competence[:] = -1.0
        end_tasks(M, T, P, tally, self.competence)
        clock("progress and ends")
        note_workers(M, G, T, P, self.worked_on, self.team_trust, self.team_slots)
        update_energy(M, T, P, self.worked_on, self.used)
        update_skills(M, T, P, self.worked_on, self.team_trust)
        update_motivation(M, T, P, self.worked_on, self.team_trust, self.competence, cfg.culture.autonomy_support)
        clock("energy, learning, motivation")
        pairs = update_ties(G, T, P, self.team_slots)
        s.burnout_days += int(burn_out(M, T, P))
        s.add_ties(pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))], cfg.culture.trust_new)  # in (a, b) order
        clock("ties and burnout")
        events.apply_due(s, self.model.events)
        return Tally.from_array(tally)


class _Clock:
    """Adds the time since the last call to timings[name], when timings is a dict."""

    def __init__(self, timings):
        self.timings = timings
        self.last = time.perf_counter() if timings is not None else 0.0

    def __call__(self, name):
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[name] = self.timings.get(name, 0.0) + now - self.last
            self.last = now

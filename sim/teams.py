"""Team-level rules on the state arrays: coverage, capability, succession inside a team,
and where reports go. Shared by both engines."""

from numba import njit

from .rng import ALLOCATION, uniform
from .rules import allocated_centrally, coverage_term, effective_complexity, effort_quality, fit
from .state import ACTIVE, DISTRIBUTED, HEROIC, HIERARCHICAL, HYBRID, IN_INBOX, IN_TRANSIT, NEW_TASK, NO_REPORT, OPEN


@njit(cache=True)
def coverage(req, members, count, skill):
    """Share of the requirement that at least one team member's skill covers."""
    total = 0.0
    for k in range(req.shape[0]):
        if req[k] == 0.0:
            continue
        miss = 1.0
        for a in range(count):
            miss *= 1.0 - skill[members[a], k]
        total += coverage_term(req[k], miss)
    return total


@njit(cache=True)
def capability(req, members, count, skill, energy, autonomy, mu):
    """Coverage with effort folded in: skill x energy x motivation quality, with diminishing returns."""
    K = req.shape[0]
    c_eff = effective_complexity(req)
    total = 0.0
    for k in range(K):
        if req[k] == 0.0:
            continue
        miss = 1.0
        for a in range(count):
            j = members[a]
            q = effort_quality(autonomy[j], mu, c_eff, K)
            miss *= 1.0 - skill[j, k] * energy[j] * q
        total += coverage_term(req[k], miss)
    return total


@njit(cache=True)
def best_fit_member(req, members, count, skill):
    """The team member whose skills fit the requirement best; ties go to the lowest id."""
    best, best_fit = -1, -1.0
    for a in range(count):
        j = members[a]
        f = fit(req, skill[j])
        if f > best_fit or (f == best_fit and j < best):
            best, best_fit = j, f
    return best


@njit(cache=True)
def task_is_central(regime, centralisation, seed, task_id):
    """Whether a task goes to the managers (a report, a decision, an appointed team) rather than to
    whoever steps up: always under heroic and hierarchical, never under distributed, and under
    hybrid by the structure dial, with one draw per task keyed by its id alone."""
    if regime == DISTRIBUTED:
        return False
    if regime != HYBRID:
        return True
    return allocated_centrally(centralisation, uniform(seed, 0, ALLOCATION, task_id, 0))


@njit(cache=True)
def escalates(regime):
    """A manager with nobody free in its subtree passes the task up (hierarchical, and the central
    part of hybrid); the hero has nobody to pass it to."""
    return regime == HIERARCHICAL or regime == HYBRID


@njit(cache=True)
def report_destination(regime, origin, top, parent, has_reports):
    """Heroic: the top. Hierarchical (and hybrid): the origin's manager, or the origin if it is a
    manager."""
    if regime == HEROIC:
        return top
    if has_reports[origin] or parent[origin] < 0:
        return origin
    return parent[origin]


@njit(cache=True)
def leave_team(M, T, i, t):
    """Member i leaves task t's team (burnout or departure). The best-fit member left takes over a
    lead's role; an emptied task returns to open, or to its decider's inbox if it was appointed."""
    size = T.team_size[t]
    w = 0
    for a in range(size):
        if T.team[t, a] != i:
            T.team[t, w] = T.team[t, a]
            w += 1
    for a in range(w, size):
        T.team[t, a] = -1
    T.team_size[t] = w
    M.task_of[i] = -1
    M.role_lead[i] = False
    if w == 0:
        T.lead[t] = -1
        T.status[t] = OPEN
        T.radius[t] = 1
        d = T.decider[t]
        if T.chosen[t] or d < 0 or M.gone[d]:
            T.report[t] = NO_REPORT
        else:
            T.report[t] = IN_INBOX
            T.report_kind[t] = NEW_TASK
            T.report_at[t] = d
            T.report_to[t] = d
            T.req_reported[t, :] = T.req[t, :]
    elif T.lead[t] == i:
        new_lead = best_fit_member(T.req[t], T.team[t], w, M.skill)
        T.lead[t] = new_lead
        M.role_lead[new_lead] = True


@njit(cache=True)
def send_report(M, T, t, kind, sender, regime, top):
    """A report about task t leaves `sender` for the regime's decider, describing the work as it
    is now. With nobody to receive it (a vacant top post), it is lost at once."""
    dest = report_destination(regime, sender, top, M.parent, M.has_reports)
    if dest < 0 or M.gone[dest]:
        T.report[t] = NO_REPORT
        return
    T.report[t] = IN_TRANSIT
    T.report_kind[t] = kind
    T.report_at[t] = sender
    T.report_to[t] = dest
    T.req_reported[t, :] = T.req[t, :]


@njit(cache=True)
def trust_between(i, j, tie_start, tie_count, tie_nbr, tie_trust):
    """Trust on the tie i -> j, or 0 when they are not tied."""
    for p in range(tie_start[i], tie_start[i] + tie_count[i]):
        if tie_nbr[p] == j:
            return tie_trust[p]
    return 0.0


@njit(cache=True)
def mean_trust_to_team(i, members, count, tie_start, tie_count, tie_nbr, tie_trust):
    """Relatedness: mean trust to teammates; alone on a task, mean trust over one's own ties."""
    total = 0.0
    mates = 0
    for a in range(count):
        j = members[a]
        if j != i:
            total += trust_between(i, j, tie_start, tie_count, tie_nbr, tie_trust)
            mates += 1
    if mates > 0:
        return total / mates
    if tie_count[i] == 0:
        return 0.0
    for p in range(tie_start[i], tie_start[i] + tie_count[i]):
        total += tie_trust[p]
    return total / tie_count[i]


@njit(cache=True)
def support(i, available, tie_start, tie_count, tie_nbr, tie_trust):
    """Others willing: trust-weighted share of one's neighbours who are free to help."""
    if tie_count[i] == 0:
        return 0.0
    total = 0.0
    for p in range(tie_start[i], tie_start[i] + tie_count[i]):
        total += tie_trust[p] * available[tie_nbr[p]]
    return total / tie_count[i]


@njit(cache=True)
def wants_restaffing(M, T, t, step, restaff_below, restaff_retry, team_max):
    """An appointed lead whose team no longer covers the work, and has room, asks for help, but
    not again until the work changes or `restaff_retry` steps pass."""
    if T.status[t] != ACTIVE or T.chosen[t] or T.report[t] != NO_REPORT or T.team_size[t] >= team_max:
        return False
    if coverage(T.req[t], T.team[t], T.team_size[t], M.skill) >= restaff_below:
        return False
    return T.req_version[t] != T.restaff_version[t] or step - T.restaff_sent[t] >= restaff_retry


@njit(cache=True)
def start_task(M, T, t, lead, chosen, decider, step, max_radius):
    """Task t becomes active with `lead` alone on its team (chosen: self-organised). Returns True
    when this is the task's first start, which is counted once: in the tally, in the lead's
    `led_count` and (by the engines) in the initiator's `initiated`. A task that starts again
    after its team emptied (burnout) is taken over, as a successor lead takes over a team, and is
    not counted twice."""
    T.status[t] = ACTIVE
    T.lead[t] = lead
    T.chosen[t] = chosen
    T.decider[t] = decider
    T.team[t, 0] = lead
    T.team_size[t] = 1
    M.task_of[lead] = t
    M.role_lead[lead] = True
    T.invite_radius[t] = min(2, max_radius)
    T.report[t] = NO_REPORT
    if T.started[t] >= 0:
        return False
    T.started[t] = step
    M.led_count[lead] += 1
    return True

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
def leave_team(i, t, task_of, role_lead, team, team_size, lead, task_status, chosen, decider,
               radius, report, report_kind, report_at, report_to, req, req_reported, skill, gone):
    """Member i leaves task t's team (burnout or departure). The best-fit member left takes over a
    lead's role; an emptied task returns to open, or to its decider's inbox if it was appointed."""
    size = team_size[t]
    w = 0
    for a in range(size):
        if team[t, a] != i:
            team[t, w] = team[t, a]
            w += 1
    for a in range(w, size):
        team[t, a] = -1
    team_size[t] = w
    task_of[i] = -1
    role_lead[i] = False
    if w == 0:
        lead[t] = -1
        task_status[t] = OPEN
        radius[t] = 1
        if chosen[t] or decider[t] < 0 or gone[decider[t]]:
            report[t] = NO_REPORT
        else:
            report[t] = IN_INBOX
            report_kind[t] = NEW_TASK
            report_at[t] = decider[t]
            report_to[t] = decider[t]
            req_reported[t, :] = req[t, :]
    elif lead[t] == i:
        new_lead = best_fit_member(req[t], team[t], w, skill)
        lead[t] = new_lead
        role_lead[new_lead] = True


@njit(cache=True)
def send_report(t, kind, sender, regime, top, parent, has_reports, gone, report, report_kind, report_at,
                report_to, req, req_reported):
    """A report about task t leaves `sender` for the regime's decider, describing the work as it
    is now. With nobody to receive it (a vacant top post), it is lost at once."""
    dest = report_destination(regime, sender, top, parent, has_reports)
    if dest < 0 or gone[dest]:
        report[t] = NO_REPORT
        return
    report[t] = IN_TRANSIT
    report_kind[t] = kind
    report_at[t] = sender
    report_to[t] = dest
    req_reported[t, :] = req[t, :]


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
def wants_restaffing(t, step, status, chosen, report, req, req_version, team, team_size, skill, restaff_below,
                     restaff_version, restaff_sent, restaff_retry, team_max):
    """An appointed lead whose team no longer covers the work, and has room, asks for help, but
    not again until the work changes or `restaff_retry` steps pass."""
    if status[t] != ACTIVE or chosen[t] or report[t] != NO_REPORT or team_size[t] >= team_max:
        return False
    if coverage(req[t], team[t], team_size[t], skill) >= restaff_below:
        return False
    return req_version[t] != restaff_version[t] or step - restaff_sent[t] >= restaff_retry


@njit(cache=True)
def start_task(t, lead, chosen, decider, step, max_radius, status, lead_of, chosen_of, decider_of, team, team_size,
               task_of, role_lead, led_count, invite_radius, report, started):
    """Task t becomes active with `lead` alone on its team (chosen: self-organised). Returns True
    when this is the task's first start, which is counted once: in the tally, in the lead's
    `led_count` and (by the engines) in the initiator's `initiated`. A task that starts again
    after its team emptied (burnout) is taken over, as a successor lead takes over a team, and is
    not counted twice."""
    status[t] = ACTIVE
    lead_of[t] = lead
    chosen_of[t] = chosen
    decider_of[t] = decider
    team[t, 0] = lead
    team_size[t] = 1
    task_of[lead] = t
    role_lead[lead] = True
    invite_radius[t] = min(2, max_radius)
    report[t] = NO_REPORT
    if started[t] >= 0:
        return False
    started[t] = step
    led_count[lead] += 1
    return True

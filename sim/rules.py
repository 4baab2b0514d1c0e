"""The decision and update rules of MODEL.md, each one small pure function.

Both engines call these same compiled functions, so every rule has one source of truth.
Arguments are scalars and 1-d arrays; nothing here touches the model or its state object.
"""

import math

import numpy as np
from numba import njit


@njit(cache=True)
def fit(req, skill):
    """Equipped: how well one member's skills match a task's requirement (0..1)."""
    total = 0.0
    for k in range(req.shape[0]):
        total += req[k] * skill[k]
    return total


@njit(cache=True)
def benefit(purpose, value, value_mean, interest):
    """Beneficial: organisational value under shared purpose, private interest otherwise."""
    return purpose * value / (value + value_mean) + (1.0 - purpose) * interest


@njit(cache=True)
def readiness(energy, support, w_energy, w_support):
    """The member's own part of the claim score, on the log scale: has the energy (c), and
    others will support it (d). Computed once per member and step."""
    if energy <= 0.0 or support <= 0.0:
        return -math.inf
    return w_energy * math.log(energy) + w_support * math.log(support)


@njit(cache=True)
def task_score(benefit, fit, ready, w_benefit, w_fit):
    """The claim score of one task for a member whose readiness is `ready`."""
    if ready == -math.inf or benefit <= 0.0 or fit <= 0.0:
        return 0.0
    return math.exp(ready + w_benefit * math.log(benefit) + w_fit * math.log(fit))


@njit(cache=True)
def claim_score(benefit, fit, energy, support, w_benefit, w_fit, w_energy, w_support):
    """The four conditions for stepping up must hold together: a weighted geometric mean of
    benefit (a), fit (b), energy (c) and support (d)."""
    return task_score(benefit, fit, readiness(energy, support, w_energy, w_support), w_benefit, w_fit)


@njit(cache=True)
def claim_probability(autonomy, score, gain, threshold):
    """Autonomous motivation gates initiative; a steep sigmoid makes the threshold bite."""
    return autonomy / (1.0 + math.exp(-gain * (score - threshold)))


@njit(cache=True)
def allocated_centrally(centralisation, draw):
    """The structure dial (hybrid regime): a manager allocates a task with probability
    `centralisation`; otherwise the task is open to whoever steps up. `draw` is the task's own
    uniform number, the same at every setting of the dial, so that moving the dial only moves the
    line between the two kinds of work (common random numbers)."""
    return draw < centralisation


@njit(cache=True)
def join_probability(contribution, trust, autonomy, energy):
    """Ethic of contribution: the chance an invited member joins someone else's initiative."""
    return contribution * trust * (0.5 + 0.5 * autonomy) * energy


@njit(cache=True)
def coverage_term(req_k, miss_k):
    """One domain's contribution to coverage, given the product of (1 - skill) over the team."""
    return req_k * (1.0 - miss_k)


@njit(cache=True)
def effective_complexity(req):
    """Inverse Simpson index of the requirement: 1 for one domain, K for an even spread."""
    s = 0.0
    for k in range(req.shape[0]):
        s += req[k] * req[k]
    return 1.0 / s if s > 0.0 else 1.0


@njit(cache=True)
def effort_quality(autonomy, mu, c_eff, n_domains):
    """SDT: controlled motivation costs most on complex, heuristic work."""
    return 1.0 - mu * (1.0 - autonomy) * (c_eff - 1.0) / (n_domains - 1.0)


@njit(cache=True)
def progress_rate(lead_fit, capability, coordination, size):
    """Work done per step: capability, helped by a fitting lead, slowed by coordination."""
    return (0.5 + 0.5 * lead_fit) * capability / (1.0 + coordination * (size - 1))


@njit(cache=True)
def coordination_cost(chosen, coord_cost, self_org_overhead, procedures):
    """Self-organised teams pay extra coordination unless procedures settle who does what."""
    if chosen:
        return coord_cost + self_org_overhead * (1.0 - procedures)
    return coord_cost


@njit(cache=True)
def recovered_energy(energy, recovery):
    return energy + recovery * (1.0 - energy)


@njit(cache=True)
def spent_energy(energy, cost):
    return max(0.0, energy - cost)


@njit(cache=True)
def learned_by_doing(skill_k, req_k, eta):
    return skill_k + eta * req_k * (1.0 - skill_k)


@njit(cache=True)
def learned_from_peers(skill_k, best_k, req_k, mean_trust, eta_peer):
    return skill_k + eta_peer * mean_trust * max(0.0, best_k - skill_k) * req_k


@njit(cache=True)
def forgotten(skill_k, forget):
    return skill_k - forget * skill_k


@njit(cache=True)
def strengthened_trust(trust, omega):
    return trust + omega * (1.0 - trust)


@njit(cache=True)
def faded_trust(trust, base, fade):
    return trust + fade * (base - trust)


@njit(cache=True)
def needs_met(autonomy_need, relatedness, competence):
    """SDT: the mean of the basic needs met this step. Competence is scored (>= 0) only in the
    step a task ends; otherwise two needs count. Summed left to right in both engines: Python's
    own sum() of floats is compensated since 3.12 and could differ in the last bit."""
    if competence >= 0.0:
        return (autonomy_need + relatedness + competence) / 3.0
    return (autonomy_need + relatedness) / 2.0


@njit(cache=True)
def motivated(autonomy, needs_mean, mean_trust, zeta):
    """SDT internalisation: moves toward the needs met; upward moves need relatedness."""
    gap = needs_mean - autonomy
    factor = mean_trust if gap > 0.0 else 1.0
    return min(1.0, max(0.0, autonomy + zeta * factor * gap))


@njit(cache=True)
def gini_sorted(x):
    """Gini coefficient of non-negative values already sorted ascending."""
    n = x.shape[0]
    total = 0.0
    weighted = 0.0
    for i in range(n):
        total += x[i]
        weighted += (i + 1) * x[i]
    if n == 0 or total <= 0.0:
        return 0.0
    return (2.0 * weighted) / (n * total) - (n + 1.0) / n


def gini(x) -> float:
    return float(gini_sorted(np.sort(np.asarray(x, dtype=np.float64))))

"""The environment: demand's drift and shocks, the task stream, and work that changes.

Everything here draws from the task streams only and depends on (seed, step, env parameters),
never on what the organisation does, so all regimes with one seed face the identical stream.
Both engines call these same functions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import rng
from .rng import (ARRIVALS, DRIFT, F_DOMAINS, F_ORIGIN, F_SHARE, F_VALUE, F_WORK, SHOCK, TASK, TURBULENCE,
                  complexity_key, exponential, normal, uniform)
from .state import ACTIVE, OPEN


@njit(cache=True)
def move_demand(seed, step, demand, drift, shock_rate):
    """Drift: a normal step, clipped positive and renormalised. Shock: a Dirichlet(1) redraw."""
    K = demand.shape[0]
    if drift > 0.0:
        for k in range(K):
            demand[k] = max(1e-9, demand[k] + drift * normal(seed, step, DRIFT, k, 0))
    if uniform(seed, step, SHOCK, 0, 0) < shock_rate:
        for k in range(K):
            demand[k] = exponential(seed, step, SHOCK, 1, k)
    demand /= demand.sum()


@njit(cache=True)
def redraw_demand(seed, step, demand):
    """A scheduled shock: demand jumps to a fresh Dirichlet(1) point."""
    for k in range(demand.shape[0]):
        demand[k] = exponential(seed, step, SHOCK, 2, k)
    demand /= demand.sum()


@njit(cache=True)
def _pick_weighted(weights, mask, u):
    """Index drawn in proportion to weights over entries where mask is True."""
    total = 0.0
    for k in range(weights.shape[0]):
        if mask[k]:
            total += weights[k]
    target = u * total
    last = -1
    for k in range(weights.shape[0]):
        if mask[k]:
            last = k
            target -= weights[k]
            if target < 0.0:
                return k
    return last


@njit(cache=True)
def draw_task(seed, tid, demand, complexity, work_mean, value_mean, req_out):
    """A newborn task's requirement (written into req_out), work and value."""
    K = demand.shape[0]
    p = (complexity - 1.0) / (K - 1.0)
    c = 1
    for d in range(K - 1):
        if uniform(seed, 0, TASK, tid, complexity_key(d)) < p:
            c += 1
    free = np.ones(K, dtype=np.bool_)
    req_out[:] = 0.0
    for d in range(c):
        k = _pick_weighted(demand, free, uniform(seed, 0, TASK, tid, F_DOMAINS + d))
        free[k] = False
        req_out[k] = exponential(seed, 0, TASK, tid, F_SHARE + k)
    req_out /= req_out.sum()
    work = work_mean * 0.5 * (exponential(seed, 0, TASK, tid, F_WORK) + exponential(seed, 0, TASK, tid, F_WORK + 1))
    value = value_mean * exponential(seed, 0, TASK, tid, F_VALUE)
    return work, value


@njit(cache=True)
def spawn_tasks(T, seed, step, count, first_slot, first_id, demand, present_ids, complexity, work_mean, value_mean,
                patience):
    """Write `count` newborn tasks into slots first_slot.. and return the value that arrived."""
    arrived = 0.0
    for j in range(count):
        t = first_slot + j
        tid = first_id + j
        w, v = draw_task(seed, tid, demand, complexity, work_mean, value_mean, T.req[t])
        T.task_id[t] = tid
        T.status[t] = OPEN
        T.origin[t] = present_ids[int(uniform(seed, 0, TASK, tid, F_ORIGIN) * present_ids.shape[0])]
        T.req_version[t] = 0
        T.work[t] = w
        T.value[t] = v
        T.born[t] = step
        T.deadline[t] = step + patience
        T.radius[t] = 1  # the origin and its neighbours hear of it at birth
        arrived += v
    return arrived


@njit(cache=True)
def change_work(T, seed, step, n_tasks, turbulence, demand):
    """Turbulence: each live task may swap one of its domains for a missing one, drawn by demand.
    Drawn per (task, step) whether or not anyone works on it, so the path is regime-free."""
    K = demand.shape[0]
    for t in range(n_tasks):
        if T.status[t] != OPEN and T.status[t] != ACTIVE:
            continue
        tid = T.task_id[t]
        if uniform(seed, step, TURBULENCE, tid, 0) >= turbulence:
            continue
        has = T.req[t] > 0.0
        n_has = has.sum()
        if n_has == K:
            continue
        pick = int(uniform(seed, step, TURBULENCE, tid, 1) * n_has)
        drop = -1
        for k in range(K):
            if has[k]:
                if pick == 0:
                    drop = k
                    break
                pick -= 1
        add = _pick_weighted(demand, ~has, uniform(seed, step, TURBULENCE, tid, 2))
        T.req[t, add] = T.req[t, drop]
        T.req[t, drop] = 0.0
        T.req_version[t] += 1


def advance(state) -> tuple[int, float]:
    """Phase 1 of a step: move demand, change live work, let new tasks arrive.
    Returns (tasks arrived, value arrived)."""
    env, s, step = state.cfg.env, state.seed, state.step
    move_demand(s, step, state.demand, env.drift, env.shock_rate)
    change_work(state.tasks(), s, step, state.n_tasks, env.turbulence, state.demand)
    count = rng.poisson(s, step, ARRIVALS, env.task_rate * state.n0)
    if count == 0 or len(state.present_ids) == 0:
        return 0, 0.0
    state.ensure_task_capacity(count)
    arrived = spawn_tasks(state.tasks(), s, step, count, state.n_tasks, state.next_task_id, state.demand,
                          state.present_ids, float(env.complexity), env.work_mean, env.value_mean, env.patience)
    state.n_tasks += count
    state.next_task_id += count
    return count, arrived

"""Observables: one row per step, the run summary, and the impact of events.

Computed from the state arrays and the step's tally, so every engine reports them the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numba import njit, prange

from .rules import fit
from .state import ACTIVE, DISTRIBUTED, HEROIC, HYBRID, IN_INBOX, IN_TRANSIT, OPEN, REGIME_NAMES
from .teams import coverage


class Tally(dict):
    """Counts of what happened in one step, read by the observables."""

    KEYS = ("arrived", "value_arrived", "started", "started_chosen", "done", "failed", "value_captured",
            "wait_sum", "wait_n", "cycle_sum", "cycle_n", "decisions", "escalations", "restaffs", "restaff_requests",
            "central_arrivals")

    FLOATS = ("value_arrived", "value_captured")

    def __init__(self):
        super().__init__({k: 0.0 if k in self.FLOATS else 0 for k in self.KEYS})

    @classmethod
    def from_array(cls, values) -> "Tally":
        """A tally kept as an array in KEYS order (the compiled engine's form)."""
        out = cls()
        for key, value in zip(cls.KEYS, values):
            out[key] = float(value) if key in cls.FLOATS else int(value)
        return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


@njit(cache=True)
def gini_counts(x):
    """Gini coefficient of non-negative whole-number counts, by counting sort: O(n + max)."""
    n = x.shape[0]
    if n == 0:
        return 0.0
    top = 0
    for v in x:
        top = max(top, v)
    freq = np.zeros(top + 1, dtype=np.int64)
    for v in x:
        freq[v] += 1
    total = 0.0
    weighted = 0.0
    rank = 0  # ranks rank+1 .. rank+f hold value v: their sum is f*rank + f(f+1)/2
    for v in range(top + 1):
        f = freq[v]
        if f:
            total += v * f
            weighted += v * (f * rank + f * (f + 1) / 2.0)
            rank += f
    if total <= 0.0:
        return 0.0
    return (2.0 * weighted) / (n * total) - (n + 1.0) / n


@njit(cache=True, parallel=True)
def _team_terms(n_tasks, status, req, skill, team, team_size, fit_mean, cover):
    """Each active team's mean fit and coverage: the costly part of the sums, computed for all
    tasks in parallel, then added up in task order by _aggregate, as a serial pass would."""
    for t in prange(n_tasks):
        if status[t] == ACTIVE:
            size = team_size[t]
            f = 0.0
            for a in range(size):
                f += fit(req[t], skill[team[t, a]])
            fit_mean[t] = f / size
            cover[t] = coverage(req[t], team[t], size, skill)


@njit(cache=True)
def _member_sums(step, present, skill, energy, autonomy, task_of, recover_until, out):
    for i in present:
        out[0] += energy[i]
        out[1] += autonomy[i]
        out[2] += skill[i].sum() / skill.shape[1]
        if task_of[i] >= 0:
            out[3] += 1
        if step < recover_until[i]:
            out[4] += 1


@njit(cache=True)
def _task_sums(n_tasks, status, report, fit_mean, cover, out):
    for t in range(n_tasks):
        if status[t] == OPEN:
            out[5] += 1
        elif status[t] == ACTIVE:
            out[6] += 1
            out[7] += fit_mean[t]
            out[8] += cover[t]
        if report[t] == IN_INBOX:
            out[9] += 1
        elif report[t] == IN_TRANSIT:
            out[10] += 1


@njit(cache=True)
def _tie_sums(tie_nbr, tie_trust, out):
    for p in range(tie_nbr.shape[0]):
        if tie_nbr[p] >= 0:
            out[11] += tie_trust[p]
            out[12] += 1


@njit(cache=True, parallel=True)
def _aggregate(step, present, skill, energy, autonomy, task_of, recover_until, n_tasks, status, req, team,
               team_size, report, tie_nbr, tie_trust):
    """Sums and counts over members, tasks and ties. Each sum runs in its fixed order, as one
    serial pass would; the three kinds run side by side."""
    out = np.zeros(14)
    fit_mean, cover = np.empty(n_tasks), np.empty(n_tasks)
    _team_terms(n_tasks, status, req, skill, team, team_size, fit_mean, cover)
    for part in prange(3):
        if part == 0:
            _member_sums(step, present, skill, energy, autonomy, task_of, recover_until, out)
        elif part == 1:
            _task_sums(n_tasks, status, report, fit_mean, cover, out)
        else:
            _tie_sums(tie_nbr, tie_trust, out)
    return out


def step_row(state, tally: dict, totals: dict) -> dict:
    """The observables after one step. `totals` carries cumulative counts between steps."""
    s = state
    n = s.n
    present = s.present_ids
    # decisions asked of the centre: the new tasks it allocates (every arrival under heroic and
    # hierarchical, the dial's share under hybrid), re-staff requests and escalations
    totals["decision_demand"] = (totals.get("decision_demand", 0) + tally["central_arrivals"]
                                 + tally["restaff_requests"] + tally["escalations"])
    for key in ("arrived", "done", "failed", "started", "value_arrived", "value_captured"):
        totals[key] = totals.get(key, 0) + tally[key]
    agg = _aggregate(s.step, present, s.skill, s.energy, s.autonomy, s.task_of, s.recover_until, s.n_tasks,
                     s.task_status, s.req, s.team, s.team_size, s.report, s.tie_nbr, s.tie_trust)
    members, n_open, n_active = len(present), int(agg[5]), int(agg[6])
    led = s.led_count[:n]
    return {
        "step": s.step,
        "regime": REGIME_NAMES[s.regime],
        "members": members,
        "tasks_arrived": tally["arrived"],
        "tasks_started": tally["started"],
        "tasks_done": tally["done"],
        "tasks_failed": tally["failed"],
        "open": n_open,
        "active": n_active,
        "backlog": n_open + n_active,
        "arrived_total": totals["arrived"],
        "done_total": totals["done"],
        "failed_total": totals["failed"],
        "value_arrived": tally["value_arrived"],
        "value_captured": tally["value_captured"],
        "mean_wait": _ratio(tally["wait_sum"], tally["wait_n"]),
        "mean_cycle": _ratio(tally["cycle_sum"], tally["cycle_n"]),
        "active_leads": n_active,
        "distinct_leads": int((led > 0).sum()),
        "leadership_gini": gini_counts(led),
        "chosen_share": _ratio(tally["started_chosen"], tally["started"]),
        "initiative_gini": gini_counts(s.initiated[:n]),
        "inbox_reports": int(agg[9]),
        "reports_in_transit": int(agg[10]),
        "decisions": tally["decisions"],
        "escalations": tally["escalations"],
        "restaffs": tally["restaffs"],
        "utilisation": _ratio(agg[3], members),
        "mean_energy": _ratio(agg[0], members),
        "share_recovering": _ratio(agg[4], members),
        "mean_autonomy": _ratio(agg[1], members),
        "mean_skill": _ratio(agg[2], members),
        "mean_team_fit": _ratio(agg[7], n_active),
        "mean_coverage": _ratio(agg[8], n_active),
        "mean_trust": _ratio(agg[11], agg[12]),
        "tie_count": int(agg[12]) // 2,
    }


def deciders(state) -> int:
    """Units of central decision capacity: the hero, or every manager (hierarchical, hybrid)."""
    if state.regime == HEROIC:
        return 1
    if state.regime == DISTRIBUTED:
        return 0
    return int(state.has_reports[state.present_ids].sum())


def could_end(metrics: pd.DataFrame, state) -> dict:
    """The tasks that have had the chance to end by the last step: those born at least `patience`
    steps before it, whose deadline has passed. Every one of them is done or failed, so a share of
    them is not lowered by work still running when the run stops. Returns their count, the count
    done, the value that arrived with them and the value captured."""
    last = int(metrics["step"].iloc[-1])
    cutoff = last - state.cfg.env.patience  # born in a step <= cutoff: deadline <= last
    counted = metrics["step"] <= cutoff
    upto = max(cutoff + 1, 0)
    return {"arrived": int(metrics.loc[counted, "tasks_arrived"].sum()),
            "done": int(state.done_by_birth[:upto].sum()),
            "value_arrived": float(metrics.loc[counted, "value_arrived"].sum()),
            "value_captured": float(state.captured_by_birth[:upto].sum())}


def summary(metrics: pd.DataFrame, state, totals: dict) -> dict:
    """Per-run results. Value share and completion rate count only the tasks that could end
    (`could_end`); the work still running at the last step is reported on its own."""
    cfg = state.cfg
    n = state.n
    led = state.led_count[:n]
    capacity = cfg.regime.decisions_per_step * max(deciders(state), 1)
    done_cycles = (metrics["mean_cycle"] * metrics["tasks_done"]).sum()
    ended = could_end(metrics, state)
    value_arrived = float(totals.get("value_arrived", 0.0))
    decided_centrally = state.regime != DISTRIBUTED and not (state.regime == HYBRID
                                                             and cfg.regime.centralisation == 0)
    return {
        "regime": cfg.regime.name,
        "org": cfg.org.name,
        "n_members": state.n0,
        "seed": cfg.seed,
        "steps": int(metrics["step"].iloc[-1]),
        "tasks_arrived": int(totals.get("arrived", 0)),
        "tasks_done": int(totals.get("done", 0)),
        "tasks_failed": int(totals.get("failed", 0)),
        "value_arrived": float(totals.get("value_arrived", 0.0)),
        "value_captured": float(totals.get("value_captured", 0.0)),
        "value_share": _ratio(ended["value_captured"], ended["value_arrived"]),
        "completion_rate": _ratio(ended["done"], ended["arrived"]),
        "tasks_counted": ended["arrived"],
        "tasks_running_at_end": int(state.n_tasks),
        "value_running_at_end": _ratio(float(state.value[: state.n_tasks].sum()), value_arrived),
        "mean_cycle": _ratio(done_cycles, metrics["tasks_done"].sum()),
        "mean_utilisation": float(metrics["utilisation"].iloc[1:].mean()),
        "leadership_gini": gini_counts(led),
        "share_ever_led": float((led > 0).mean()),
        "initiative_gini": gini_counts(state.initiated[:n]),
        "final_autonomy": float(metrics["mean_autonomy"].iloc[-1]),
        "final_energy": float(metrics["mean_energy"].iloc[-1]),
        "burnout_days": int(state.burnout_days),
        "decision_load": cfg.env.task_rate * state.n0 / cfg.regime.decisions_per_step,
        "effective_decision_load": (_ratio(totals.get("decision_demand", 0) / max(len(metrics) - 1, 1), capacity)
                                    if decided_centrally else math.nan),
    }


def rolling_value_share(metrics: pd.DataFrame, window: int = 40) -> pd.Series:
    captured = metrics["value_captured"].rolling(window, min_periods=1).sum()
    arrived = metrics["value_arrived"].rolling(window, min_periods=1).sum()
    return captured / arrived.where(arrived > 0)


def event_impact(metrics: pd.DataFrame, control: pd.DataFrame, event_step: int, window: int = 40) -> dict:
    """An event's impact against the paired control: the same seed run without the event."""
    after = metrics["step"] >= event_step
    lost = float((control["value_captured"][after] - metrics["value_captured"][after]).sum())
    share = rolling_value_share(metrics, window)[after]
    base = rolling_value_share(control, window)[after]
    ratio = (share / base).replace([np.inf, -np.inf], np.nan)
    within = (ratio - 1).abs() <= 0.1
    outside = np.flatnonzero(~within.to_numpy())
    if len(outside) == 0:
        recovery = 0
    else:
        back = np.flatnonzero(within.to_numpy()[outside[0]:])
        recovery = int(outside[0] + back[0]) if len(back) else math.nan
    worst = float(ratio.min()) if ratio.notna().any() else math.nan
    return {"value_lost": lost, "steps_to_recover": recovery, "worst_window_ratio": worst,
            "material": not (worst >= 0.8)}

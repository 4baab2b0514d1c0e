"""Observables: one row per step, the run summary, and the impact of events.

Computed from the state arrays and the step's tally, so every engine reports them the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .rules import fit, gini
from .state import ACTIVE, DISTRIBUTED, HEROIC, IN_INBOX, IN_TRANSIT, OPEN
from .teams import coverage

REGIME_NAMES = {0: "heroic", 1: "hierarchical", 2: "distributed"}


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def step_row(state, tally: dict, totals: dict) -> dict:
    """The observables after one step. `totals` carries cumulative counts between steps."""
    s = state
    n = s.n
    present = s.present_ids
    live = slice(0, s.n_tasks)
    status = s.task_status[live]
    active = np.flatnonzero(status == ACTIVE)
    for key in ("arrived", "done", "failed", "started", "value_arrived", "value_captured", "decision_demand"):
        totals[key] = totals.get(key, 0) + (tally.get(key, 0) if key != "decision_demand" else
                                            tally["arrived"] + tally["restaff_requests"] + tally["escalations"])
    fits = [np.mean([fit(s.req[t], s.skill[j]) for j in s.team[t, : s.team_size[t]]]) for t in active]
    covers = [coverage(s.req[t], s.team[t], s.team_size[t], s.skill) for t in active]
    ties = s.tie_nbr >= 0
    led = s.led_count[:n]
    return {
        "step": s.step,
        "regime": REGIME_NAMES[s.regime],
        "members": len(present),
        "tasks_arrived": tally["arrived"],
        "tasks_started": tally["started"],
        "tasks_done": tally["done"],
        "tasks_failed": tally["failed"],
        "open": int((status == OPEN).sum()),
        "active": len(active),
        "backlog": int(((status == OPEN) | (status == ACTIVE)).sum()),
        "arrived_total": totals["arrived"],
        "done_total": totals["done"],
        "failed_total": totals["failed"],
        "value_arrived": tally["value_arrived"],
        "value_captured": tally["value_captured"],
        "mean_wait": _ratio(tally["wait_sum"], tally["wait_n"]),
        "mean_cycle": _ratio(tally["cycle_sum"], tally["cycle_n"]),
        "active_leads": len(active),
        "distinct_leads": int((led > 0).sum()),
        "leadership_gini": gini(led),
        "chosen_share": _ratio(tally["started_chosen"], tally["started"]),
        "initiative_gini": gini(s.initiated[:n]),
        "inbox_reports": int((s.report[live] == IN_INBOX).sum()),
        "reports_in_transit": int((s.report[live] == IN_TRANSIT).sum()),
        "decisions": tally["decisions"],
        "escalations": tally["escalations"],
        "restaffs": tally["restaffs"],
        "utilisation": _ratio(float((s.task_of[present] >= 0).sum()), len(present)),
        "mean_energy": float(s.energy[present].mean()) if len(present) else math.nan,
        "share_recovering": float((s.step < s.recover_until[present]).mean()) if len(present) else math.nan,
        "mean_autonomy": float(s.autonomy[present].mean()) if len(present) else math.nan,
        "mean_skill": float(s.skill[present].mean()) if len(present) else math.nan,
        "mean_team_fit": float(np.mean(fits)) if fits else math.nan,
        "mean_coverage": float(np.mean(covers)) if covers else math.nan,
        "mean_trust": float(s.tie_trust[ties].mean()) if ties.any() else math.nan,
        "tie_count": int(ties.sum()) // 2,
    }


def deciders(state) -> int:
    """Units of central decision capacity: the hero, or every manager."""
    if state.regime == HEROIC:
        return 1
    if state.regime == DISTRIBUTED:
        return 0
    return int(state.has_reports[state.present_ids].sum())


def summary(metrics: pd.DataFrame, state, totals: dict) -> dict:
    """Per-run results."""
    cfg = state.cfg
    n = state.n
    led = state.led_count[:n]
    capacity = cfg.regime.decisions_per_step * max(deciders(state), 1)
    done_cycles = (metrics["mean_cycle"] * metrics["tasks_done"]).sum()
    return {
        "regime": cfg.regime.name,
        "org": cfg.org.name,
        "n_members": cfg.n_members,
        "seed": cfg.seed,
        "steps": int(metrics["step"].iloc[-1]),
        "tasks_arrived": int(totals.get("arrived", 0)),
        "tasks_done": int(totals.get("done", 0)),
        "tasks_failed": int(totals.get("failed", 0)),
        "value_arrived": float(totals.get("value_arrived", 0.0)),
        "value_captured": float(totals.get("value_captured", 0.0)),
        "value_share": _ratio(totals.get("value_captured", 0.0), totals.get("value_arrived", 0.0)),
        "completion_rate": _ratio(totals.get("done", 0), totals.get("arrived", 0)),
        "mean_cycle": _ratio(done_cycles, metrics["tasks_done"].sum()),
        "mean_utilisation": float(metrics["utilisation"].iloc[1:].mean()),
        "leadership_gini": gini(led),
        "share_ever_led": float((led > 0).mean()),
        "initiative_gini": gini(state.initiated[:n]),
        "final_autonomy": float(metrics["mean_autonomy"].iloc[-1]),
        "final_energy": float(metrics["mean_energy"].iloc[-1]),
        "burnout_days": int(state.burnout_days),
        "decision_load": cfg.env.task_rate * cfg.n_members / cfg.regime.decisions_per_step,
        "effective_decision_load": (_ratio(totals.get("decision_demand", 0) / max(len(metrics) - 1, 1), capacity)
                                    if state.regime != DISTRIBUTED else math.nan),
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

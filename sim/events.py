"""Scheduled events: parsing the schedule and applying an event to the state.

Syntax: `leader_leaves@t`, `shock@t`, `regime@t:name`, `hire@t:n`. Events apply in phase 9
of step t, after the organisation has acted and before observables are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import REGIMES, ConfigError
from .environment import redraw_demand
from .state import DISTRIBUTED, HEROIC, NEW_TASK, NO_REPORT, OPEN, REGIME_CODES, RESTAFF
from .teams import leave_team, send_report, task_is_central

KINDS = ("leader_leaves", "shock", "regime", "hire")


@dataclass(frozen=True)
class Event:
    step: int
    kind: str
    arg: object = None

    def __str__(self) -> str:
        return f"{self.kind}@{self.step}" + ("" if self.arg is None else f":{self.arg}")


def parse_event(text: str, steps: int) -> Event:
    where = f"events.schedule entry {text!r}"
    kind, at, rest = text.partition("@")
    if not at or kind not in KINDS:
        raise ConfigError(f"{where}: expected one of {', '.join(k + '@t' for k in KINDS)} "
                          f"(regime@t:name, hire@t:n)")
    when, _, arg = rest.partition(":")
    try:
        step = int(when)
    except ValueError:
        raise ConfigError(f"{where}: step {when!r} is not a whole number") from None
    if not 1 <= step <= steps:
        raise ConfigError(f"{where}: step {step} is out of range; allowed [1, steps = {steps}]")
    if kind == "regime":
        if arg not in REGIMES:
            raise ConfigError(f"{where}: regime {arg!r} is not allowed; choose one of: {', '.join(REGIMES)}")
        return Event(step, kind, arg)
    if kind == "hire":
        try:
            count = int(arg)
        except ValueError:
            raise ConfigError(f"{where}: hire needs a number of members, e.g. hire@{step}:10") from None
        if not 1 <= count <= 1_000_000:
            raise ConfigError(f"{where}: hire count {count} is out of range; allowed [1, 1000000]")
        return Event(step, kind, count)
    if arg:
        raise ConfigError(f"{where}: {kind} takes no argument")
    return Event(step, kind)


def parse_schedule(schedule, steps: int) -> list[Event]:
    events = [parse_event(str(text).strip(), steps) for text in schedule]
    return sorted(events, key=lambda e: (e.step, KINDS.index(e.kind)))


def leader_leaves(state, leader: int = 0) -> None:
    """Member 0 is gone, with its inbox and what it knew; central reports heading to it are lost.
    The best-skilled of its direct reports succeeds it after `succession_delay` steps."""
    s = state
    if s.gone[leader]:
        return
    s.gone[leader] = True
    t = s.task_of[leader]
    if t >= 0:
        _leave(s, leader, t)
    s.cut_ties(leader)
    live = slice(0, s.n_tasks)
    lost = (s.report_to[live] == leader) & (s.report[live] != NO_REPORT)
    s.report[live][lost] = NO_REPORT
    if s.top == leader:
        s.top = -1
        s.succession_at = s.step + s.cfg.regime.succession_delay
        if s.cfg.regime.succession_delay == 0:
            succeed(s, leader)
    s.refresh_reporting_lines()


def _leave(s, i: int, t: int) -> None:
    leave_team(s.members(), s.tasks(), i, t)


def succeed(s, leader: int = 0) -> None:
    """The best-skilled present direct report (total skill, then lowest id) takes the top post."""
    reports = np.flatnonzero((s.parent[: s.n] == leader) & ~s.gone[: s.n])
    s.succession_at = -1
    if len(reports) == 0:
        return
    totals = s.skill[reports].sum(axis=1)
    heir = int(reports[np.argmax(totals)])  # argmax takes the first, i.e. the lowest id
    if s.regime == HEROIC and s.task_of[heir] >= 0:
        _leave(s, heir, s.task_of[heir])  # the hero decides and does not work on tasks itself
    s.parent[reports] = heir
    s.parent[heir] = -1
    s.top = heir
    s.refresh_reporting_lines()


def switch_regime(s, name: str) -> None:
    """Active teams finish as they are. Open tasks are re-announced the new regime's way: a report
    to the managers for the tasks it allocates centrally (under hybrid, those the structure dial
    gives them), word spreading from radius 1 for the rest."""
    old, new = s.regime, REGIME_CODES[name]
    s.regime = new
    if old == new:
        return
    for t in range(s.n_tasks):
        if s.task_status[t] != OPEN:
            if s.report_kind[t] == RESTAFF and new == DISTRIBUTED:
                s.report[t] = NO_REPORT
            continue
        s.radius[t] = 1
        if task_is_central(new, s.cfg.regime.centralisation, s.seed, s.task_id[t]):
            announce(s, t)
        else:
            s.report[t] = NO_REPORT


def announce(s, t: int) -> None:
    """Start a new-task report at the task's origin, heading to the regime's decider."""
    send_report(s.members(), s.tasks(), t, NEW_TASK, s.origin[t], s.regime, s.top)


def apply(state, event: Event) -> None:
    if event.kind == "leader_leaves":
        leader_leaves(state)
    elif event.kind == "shock":
        redraw_demand(state.seed, state.step, state.demand)
    elif event.kind == "regime":
        switch_regime(state, event.arg)
    elif event.kind == "hire":
        state.hire(event.arg, state.step)


def apply_due(state, events: list[Event]) -> list[Event]:
    """Phase 9: apply the events scheduled for this step and any succession now due."""
    if state.succession_at >= 0 and state.step >= state.succession_at:
        succeed(state)
    due = [e for e in events if e.step == state.step]
    for e in due:
        apply(state, e)
    return due

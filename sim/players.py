"""Participants: decisions that people in the room take for named members, in rounds of one step.

A participant plays a member from a phone (like NetLogo's HubNet); everyone else, and every member
without a decision, is played by the model's rules. Between steps a participant may decide, for
the next step:

- `step_up` a task id: claim one of the open tasks it sees (distributed regime, and under hybrid
  the tasks the structure dial leaves open to self-selection; a task the managers allocate cannot
  be claimed). This replaces the rule's choice of task and its claim draw; among the claimants of
  one task the best fit still leads (ties: lowest id), as for everyone.
- `join` a task id: accept that self-organised team's invitation if its recruiting reaches the
  member in the step; the member then claims nothing itself and declines other invitations.
- `decline` a task id: refuse that team's invitation in the step; otherwise the rule plays.
- `rest`: claim nothing and decline every invitation in the step.

An appointment by a manager or the hero cannot be refused, whatever the decision. A decision the
rules would not allow is refused with a reason in words; it changes nothing, and the rule plays
the member. The model keeps a log of every decision (`LeadershipModel.decision_log`); a run
replays exactly from its seed and the accepted decisions, because every draw is counter-based.

The engines read a step's accepted decisions as `Orders`, three arrays over members, so that the
compiled kernels need no Python objects (see `invitation_answer`).
"""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
from numba import njit

from . import environment
from .agents import best_visible_task, member_readiness, status_of, task_conditions
from .rng import CLAIM, JOIN, uniform
from .rules import claim_probability, join_probability
from .state import ACTIVE, DISTRIBUTED, HYBRID, OPEN, REGIME_NAMES  # noqa: F401 (REGIME_NAMES: sim/room reads it here)
from .teams import coverage, task_is_central

KINDS = ("step_up", "join", "decline", "rest")

# Orders.claim[i]: the rule plays (-1), claim nothing (-2), or claim this task slot (>= 0)
CLAIM_BY_RULE, CLAIM_NOTHING = -1, -2
# Orders.join_with[i]: the rule answers (-1), decline every invitation (-2), or accept only this slot's
INVITES_BY_RULE, DECLINE_ALL = -1, -2
# Orders.decline_from[i]: decline this slot's invitation (>= 0), or none (-1)
NONE = -1
# What a member answers to one invitation
BY_RULE, ACCEPT, DECLINE = 0, 1, 2

Orders = namedtuple("Orders", "claim join_with decline_from")


def rule_orders(n: int) -> Orders:
    """Orders that leave every member to the rule."""
    return Orders(np.full(n, CLAIM_BY_RULE, dtype=np.int64), np.full(n, INVITES_BY_RULE, dtype=np.int64),
                  np.full(n, NONE, dtype=np.int64))


@njit(cache=True)
def invitation_answer(t, join_with, decline_from):
    """How a member answers task slot t's invitation, given its orders: BY_RULE (the join draw
    decides), ACCEPT or DECLINE."""
    if join_with == DECLINE_ALL:
        return DECLINE
    if join_with >= 0:
        return ACCEPT if join_with == t else DECLINE
    if decline_from == t:
        return DECLINE
    return BY_RULE


@dataclass(frozen=True)
class Decision:
    """One participant's decision for `member` in `step` (the step it applies to)."""

    step: int
    member: int
    kind: str
    task_id: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"decision kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not isinstance(self.step, (int, np.integer)) or self.step < 1:
            raise ValueError(f"a decision applies to a step >= 1, not {self.step!r}")
        if not isinstance(self.member, (int, np.integer)):
            raise ValueError(f"a decision's member is a member id, not {self.member!r}")
        if self.kind == "rest":
            if self.task_id is not None:
                raise ValueError("rest takes no task id")
        elif not isinstance(self.task_id, (int, np.integer)):
            raise ValueError(f"{self.kind} needs a task id (a whole number), not {self.task_id!r}")
        # plain ints, so that the log is JSON-serialisable
        object.__setattr__(self, "step", int(self.step))
        object.__setattr__(self, "member", int(self.member))
        if self.task_id is not None:
            object.__setattr__(self, "task_id", int(self.task_id))

    @classmethod
    def of(cls, value) -> "Decision":
        """A Decision from a Decision or a mapping (a decision log entry: status and reason are
        ignored, since a replay validates every decision again)."""
        if isinstance(value, Decision):
            return value
        if isinstance(value, Mapping):
            return cls(value["step"], value["member"], value["kind"], value.get("task_id"))
        raise TypeError(f"a decision is a Decision or a dict, not {type(value).__name__}")

    def as_dict(self) -> dict:
        return asdict(self)


# ----- validation against the state between steps -----------------------------------------------
def self_selection(state) -> bool:
    """Members may step up in this regime: distributed, or hybrid for the tasks the dial leaves open."""
    return state.regime == DISTRIBUTED or state.regime == HYBRID


def for_managers(state, t: int) -> bool:
    """Under hybrid, task slot t is one the structure dial gives the managers: members neither see
    nor claim it. (Under heroic and hierarchical members see open tasks but claim none.)"""
    s = state
    return bool(s.regime == HYBRID and task_is_central(s.regime, s.cfg.regime.centralisation, s.seed, s.task_id[t]))


def visible_to(state, i: int) -> list[int]:
    """The slots of the open tasks member i sees, in birth order."""
    s = state
    return [t for t in range(s.n_tasks) if s.task_status[t] == OPEN and not for_managers(s, t)
            and i in s.within(int(s.origin[t]), int(s.radius[t]))]


def slot_of(state, task_id: int) -> int:
    """The live slot of a task id, or -1."""
    hits = np.flatnonzero(state.task_id[: state.n_tasks] == task_id)
    return int(hits[0]) if len(hits) else -1


def _unable(state, i: int, step: int) -> str | None:
    """Why member i cannot take on work in `step`, or None."""
    s = state
    if s.task_of[i] >= 0:
        return f"member {i} is already on a task"
    if step < s.recover_until[i]:
        return f"member {i} is recovering until step {int(s.recover_until[i])}"
    if s.energy[i] < s.cfg.member.energy_min:
        return f"member {i} has too little energy to take on work"
    return None


def recruiting(state, t: int) -> bool:
    """Task slot t's self-organised team is still inviting: active, not full, short of coverage."""
    s, m = state, state.cfg.member
    return bool(s.task_status[t] == ACTIVE and s.chosen[t] and s.team_size[t] < m.team_max
                and coverage(s.req[t], s.team[t], s.team_size[t], s.skill) < m.coverage_target)


def refusal(state, d: Decision) -> str | None:
    """Why the rules do not allow decision d against the state between steps (d.step is the
    next step), or None when it is accepted."""
    s, i, tid = state, d.member, d.task_id
    if not 0 <= i < s.n:
        return f"there is no member {i}"
    if d.kind == "rest":
        return None  # anyone may rest; an appointment still cannot be refused
    if s.gone[i]:
        return f"member {i} has left the organisation"
    t = slot_of(s, tid)
    if d.kind == "decline":
        return None if t >= 0 else f"task {tid} is not a live task"
    if d.kind == "step_up":
        if not self_selection(s):
            return "this regime does not let members step up; wait to be appointed"
        why = _unable(s, i, d.step)
        if why:
            return why
        if t >= 0 and s.task_status[t] == OPEN and for_managers(s, t):
            return f"task {tid} is allocated by the managers; it cannot be claimed"
        if t < 0 or s.task_status[t] != OPEN or i not in s.within(int(s.origin[t]), int(s.radius[t])):
            return f"task {tid} is not open or not visible to member {i}"
        return None
    # join
    why = _unable(s, i, d.step)
    if why:
        return why
    if t < 0 or s.task_status[t] != ACTIVE:
        return f"task {tid} has no team to join"
    if not s.chosen[t]:
        return f"the team of task {tid} is appointed; it does not invite"
    if s.team_size[t] >= s.cfg.member.team_max:
        return f"the team of task {tid} is full"
    if not recruiting(s, t):
        return f"the team of task {tid} covers its work; it is not recruiting"
    if i not in s.path_trust(int(s.lead[t]), int(s.invite_radius[t])):
        return f"member {i} is beyond the reach of task {tid}'s recruiting"
    return None


def confirmation(state, d: Decision) -> str:
    """What an accepted decision will do, in words for the participant's screen."""
    i, tid, at = d.member, d.task_id, f"in step {d.step}"
    appointed = "" if state.regime == DISTRIBUTED else "; an appointment cannot be refused"
    if d.kind == "step_up":
        return f"member {i} claims task {tid} {at}; if another claimant fits it better, that one leads"
    if d.kind == "join":
        return (f"member {i} joins the team of task {tid} {at} if its recruiting reaches it, claims nothing "
                f"itself and declines other invitations{appointed}")
    if d.kind == "decline":
        return f"member {i} declines the invitation of task {tid} {at}{appointed}"
    return f"member {i} claims nothing and declines every invitation {at}{appointed}"


def orders_for(state, decisions) -> Orders:
    """The step's accepted decisions (at most one per member) as the engines' Orders."""
    orders = rule_orders(state.n)
    for d in decisions:
        i, t = d.member, (slot_of(state, d.task_id) if d.task_id is not None else NONE)
        if d.kind == "step_up":
            orders.claim[i] = t
        elif d.kind == "join":
            orders.claim[i] = CLAIM_NOTHING
            orders.join_with[i] = t
        elif d.kind == "decline":
            orders.decline_from[i] = t
        else:  # rest
            orders.claim[i] = CLAIM_NOTHING
            orders.join_with[i] = DECLINE_ALL
    return orders


# ----- what a member sees, and what the rule would do ---------------------------------------------
def _task_brief(state, t: int) -> dict:
    s = state
    return {"task_id": int(s.task_id[t]), "req": [float(x) for x in s.req[t]], "value": float(s.value[t]),
            "born": int(s.born[t]), "deadline": int(s.deadline[t]), "origin": int(s.origin[t])}


def view(state, i: int) -> dict:
    """What member i sees between steps, for the participant's screen (a JSON-serialisable dict)."""
    s, m = state, state.cfg.member
    if not 0 <= i < s.n:
        raise ValueError(f"there is no member {i}")
    nxt = s.step + 1
    available = s.available_at(nxt)
    out = {
        "member": i, "step": int(s.step), "next_step": nxt, "regime": REGIME_NAMES[s.regime],
        "status": status_of(s, i), "energy": float(s.energy[i]), "autonomy": float(s.autonomy[i]),
        "skills": [float(x) for x in s.skill[i]], "available": bool(available[i]),
        "can_step_up": bool(self_selection(s) and available[i]),
        "task": None, "appointment": None, "open_tasks": [], "invitations": [],
    }
    t = int(s.task_of[i])
    if t >= 0:
        out["task"] = {**_task_brief(s, t), "role": "lead" if s.role_lead[i] else "member",
                       "lead": int(s.lead[t]), "team": [int(j) for j in s.team[t, : s.team_size[t]]],
                       "self_organised": bool(s.chosen[t]), "work_left": float(s.work[t])}
        if not s.chosen[t]:
            out["appointment"] = {"task_id": int(s.task_id[t]), "by": int(s.decider[t]),
                                  "role": out["task"]["role"]}
    if s.gone[i]:
        return out
    backing, ready = member_readiness(s, i, available)
    for t in visible_to(s, i):  # under hybrid, only the tasks open to self-selection
        b, f, score = task_conditions(s, i, t, ready)
        out["open_tasks"].append({**_task_brief(s, t), "benefit": float(b), "fit": float(f),
                                  "energy": float(s.energy[i]), "support": float(backing), "score": float(score),
                                  "probability": float(claim_probability(s.autonomy[i], score, m.gain, m.threshold))})
    if out["open_tasks"]:
        best = max(range(len(out["open_tasks"])), key=lambda a: (out["open_tasks"][a]["score"], -a))
        for a, task in enumerate(out["open_tasks"]):
            task["rule_pick"] = a == best
    if available[i]:
        out["invitations"] = [invite for _, invite in _invitations(s, i)]
    return out


def _invitations(state, i: int) -> list[tuple[int, dict]]:
    """(slot, what the screen shows) of each self-organised team recruiting whose reach includes
    member i, oldest first."""
    s, c = state, state.cfg
    out = []
    for t in range(s.n_tasks):
        if not recruiting(s, t):
            continue
        trust = s.path_trust(int(s.lead[t]), int(s.invite_radius[t])).get(i)
        if trust is None:
            continue
        out.append((t, {**_task_brief(s, t), "lead": int(s.lead[t]),
                        "team": [int(j) for j in s.team[t, : s.team_size[t]]],
                        "coverage": float(coverage(s.req[t], s.team[t], s.team_size[t], s.skill)),
                        "missing": _missing(s, t),
                        "coverage_target": c.member.coverage_target, "trust": float(trust),
                        "probability": float(join_probability(c.culture.contribution, trust, s.autonomy[i],
                                                              s.energy[i]))}))
    return out


def _missing(state, t: int) -> list[float]:
    """The team's need: for each domain, the share of the requirement nobody on it covers."""
    s = state
    team = s.team[t, : s.team_size[t]]
    return [float(s.req[t, k] * np.prod(1.0 - s.skill[team, k])) for k in range(s.K)]


def look_ahead(state):
    """A copy of the state as the next step's claims will find it: the environment has moved
    (phase 1) and word of open tasks has spread (phase 2). The draws are counter-based, so this is
    exactly what the next step does, and the model's own state is not touched."""
    ahead = copy.deepcopy(state)
    ahead.step = state.step + 1
    environment.advance(ahead)
    for t in range(ahead.n_tasks):
        if ahead.task_status[t] == OPEN and ahead.born[t] < ahead.step:
            ahead.radius[t] = min(ahead.radius[t] + 1, ahead.cfg.regime.max_radius)
    return ahead


def rule_choice(state, i: int, ahead=None) -> dict:
    """What the rule will do for member i in the next step when nobody decides for it: its claim
    (distributed: its best visible task, the chance and the draw), and its answer to each
    invitation that is open now, should the team's recruiting reach it. `ahead` is
    `look_ahead(state)`, when it is already at hand (one serves every member)."""
    if not 0 <= i < state.n:
        raise ValueError(f"there is no member {i}")
    s = look_ahead(state) if ahead is None else ahead
    available = s.available_at(s.step)
    out = {"member": i, "step": s.step, "kind": "none", "task_id": None, "claim": None, "invitations": []}
    why = f"member {i} has left the organisation" if s.gone[i] else _unable(s, i, s.step)
    if not self_selection(s):
        out["kind"] = "wait"
        out["reason"] = "this regime does not let members step up; the rule waits to be appointed"
    elif why:
        out["reason"] = why
    else:
        visible = visible_to(s, i)
        if not visible:
            out["reason"] = f"member {i} sees no open task"
        else:
            t, score, p = best_visible_task(s, i, visible, available)
            draw = uniform(s.seed, s.step, CLAIM, i, 0)
            claims = bool(draw < p)
            out["claim"] = {"task_id": int(s.task_id[t]), "score": float(score), "probability": float(p),
                            "draw": float(draw), "steps_up": claims}
            if claims:
                out["kind"], out["task_id"] = "step_up", int(s.task_id[t])
                out["reason"] = f"the rule claims task {int(s.task_id[t])} (chance {p:.2f})"
            else:
                out["reason"] = f"the rule does not step up for task {int(s.task_id[t])} (chance {p:.2f})"
    if not why:
        for t, invite in _invitations(s, i):
            draw = uniform(s.seed, s.req_version[t], JOIN, s.task_id[t], i)
            out["invitations"].append({"task_id": invite["task_id"], "probability": invite["probability"],
                                       "draw": float(draw), "accepts": bool(draw < invite["probability"])})
    return out

"""Member: a Mesa agent that is a view on one row of the state arrays.

A Member holds only its index; every attribute reads or writes the shared arrays, so the
agents engine, the compiled engine and the browser page all see the same member.
"""

from __future__ import annotations

from mesa.discrete_space import CellAgent

from .rng import CLAIM, INTEREST, JOIN, uniform
from .rules import benefit, claim_probability, fit, join_probability, readiness, task_score
from .teams import support

IDLE, WORKING, LEADING, RECOVERING, GONE = "idle", "working", "leading", "recovering", "gone"


class Member(CellAgent):
    def __init__(self, model, index: int, cell=None):
        super().__init__(model)
        self.index = index
        if cell is not None:
            self.cell = cell

    @property
    def state(self):
        return self.model.state

    # ----- attributes, read from the arrays -----------------------------------------------
    @property
    def skill(self):
        return self.state.skill[self.index]

    @property
    def energy(self) -> float:
        return float(self.state.energy[self.index])

    @energy.setter
    def energy(self, value: float) -> None:
        self.state.energy[self.index] = value

    @property
    def autonomy(self) -> float:
        return float(self.state.autonomy[self.index])

    @autonomy.setter
    def autonomy(self, value: float) -> None:
        self.state.autonomy[self.index] = value

    @property
    def led_count(self) -> int:
        return int(self.state.led_count[self.index])

    @property
    def task(self) -> int:
        """Slot of the task this member works on, or -1."""
        return int(self.state.task_of[self.index])

    @property
    def manager(self) -> int:
        return int(self.state.parent[self.index])

    @property
    def gone(self) -> bool:
        return bool(self.state.gone[self.index])

    @property
    def recovering(self) -> bool:
        return self.state.step < self.state.recover_until[self.index]

    @property
    def available(self) -> bool:
        """Idle, not recovering, present, and with the energy to take on work."""
        s = self.state
        i = self.index
        return (not s.gone[i] and s.task_of[i] < 0 and s.step >= s.recover_until[i]
                and s.energy[i] >= s.cfg.member.energy_min)

    @property
    def status(self) -> str:
        return status_of(self.state, self.index)

    def __repr__(self) -> str:
        return f"Member({self.index}, {self.status}, energy={self.energy:.2f}, autonomy={self.autonomy:.2f})"

    # ----- decisions (used by the agents engine) ------------------------------------------
    def support(self, available) -> float:
        """Others willing: trust-weighted share of neighbours who are free to help."""
        s = self.state
        return support(self.index, available, s.tie_start, s.tie_count, s.tie_nbr, s.tie_trust)

    def choose_task(self, visible: list[int], available) -> tuple[int, float]:
        """The best-scoring task this member can see, and the chance it steps up to lead it.
        Ties in score go to the oldest task (visible is in birth order)."""
        task, _, probability = best_visible_task(self.state, self.index, visible, available)
        return task, probability

    def steps_up(self, probability: float) -> bool:
        s = self.state
        return uniform(s.seed, s.step, CLAIM, self.index, 0) < probability

    def accepts_invitation(self, t: int, trust: float) -> bool:
        """Joining is a choice. The draw is fixed per (task, version of its requirement), so a
        refusal sticks until the work changes."""
        s, i = self.state, self.index
        p = join_probability(self.model.cfg.culture.contribution, trust, s.autonomy[i], s.energy[i])
        return uniform(s.seed, s.req_version[t], JOIN, s.task_id[t], i) < p


# ----- the same rules on any state (the live one, or a look-ahead copy in sim/players.py) ----------
def status_of(state, i: int) -> str:
    """gone, recovering, leading, working or idle."""
    s = state
    if s.gone[i]:
        return GONE
    if s.step < s.recover_until[i]:
        return RECOVERING
    if s.task_of[i] >= 0:
        return LEADING if s.role_lead[i] else WORKING
    return IDLE


def task_conditions(state, i: int, t: int, ready: float) -> tuple[float, float, float]:
    """Benefit (a) and fit (b) of task slot t for member i, and the claim score they give with the
    member's readiness (energy (c) and support (d), from `readiness`)."""
    s, c = state, state.cfg
    m = c.member
    interest = uniform(s.seed, 0, INTEREST, s.task_id[t], i)
    b = benefit(c.culture.purpose, s.value[t], c.env.value_mean, interest)
    f = fit(s.req[t], s.skill[i])
    return b, f, task_score(b, f, ready, m.w_benefit, m.w_fit)


def member_readiness(state, i: int, available) -> tuple[float, float]:
    """Member i's support (d) and its readiness: energy (c) and support on the log scale."""
    s, m = state, state.cfg.member
    backing = support(i, available, s.tie_start, s.tie_count, s.tie_nbr, s.tie_trust)
    return backing, readiness(s.energy[i], backing, m.w_energy, m.w_support)


def best_visible_task(state, i: int, visible: list[int], available) -> tuple[int, float, float]:
    """The rule's choice for member i: its best-scoring visible task slot (ties: the oldest, as
    `visible` is in birth order), that score, and the chance it steps up to lead it."""
    m = state.cfg.member
    _, ready = member_readiness(state, i, available)
    best_task, best_score = -1, -1.0
    for t in visible:
        score = task_conditions(state, i, t, ready)[2]
        if score > best_score:
            best_task, best_score = t, score
    return best_task, best_score, claim_probability(state.autonomy[i], best_score, m.gain, m.threshold)

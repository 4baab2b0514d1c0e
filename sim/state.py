"""Struct-of-arrays state: members, ties and tasks, one array per attribute.

Both engines read and write this state; a member or a task is an index into it.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from . import org, rng
from .config import REGIMES, ModelConfig

# Task status
FREE, OPEN, ACTIVE, DONE, FAILED = 0, 1, 2, 3, 4
# Report status (central regimes)
NO_REPORT, IN_TRANSIT, IN_INBOX = 0, 1, 2
# Report kind
NEW_TASK, RESTAFF = 1, 2
# Regimes, in config order (sim.config.REGIMES)
REGIME_CODES = {name: code for code, name in enumerate(REGIMES)}
REGIME_NAMES = {code: name for name, code in REGIME_CODES.items()}
HEROIC, HIERARCHICAL, DISTRIBUTED, HYBRID = 0, 1, 2, 3
assert [REGIME_CODES[name] for name in ("heroic", "hierarchical", "distributed", "hybrid")] == [0, 1, 2, 3]
# Tie rows keep spare slots so that new ties rarely force a rebuild
TIE_SLACK = 4
# A tie's other end, as 32 bits: the searches over ties read these at random, and half the bytes
# is half the memory traffic (ids stay far below 2**31: sim/capacity.py caps the size)
TIE_NBR = np.int32

# The state's arrays grouped into three records, which the rules and the compiled kernels take:
# a reader sees which part of the state a rule touches (M.energy, G.trust, T.team). The fields
# are the arrays themselves, not copies; a record is remade whenever arrays are reallocated.
Members = namedtuple("Members", "skill energy autonomy task_of role_lead recover_until gone led_count done_count "
                                "initiated parent has_reports tin tout order present_ids")
Ties = namedtuple("Ties", "start count nbr trust base")
Tasks = namedtuple("Tasks", "task_id status origin req req_version work value born deadline started lead chosen "
                            "decider team team_size radius invite_radius report report_kind report_at report_to "
                            "req_reported restaff_version restaff_sent progressed")


class State:
    """All mutable model state. Arrays are sized by capacity; `n` members and `n_tasks` live
    task slots are in use. Live tasks sit in slots 0..n_tasks-1 in order of birth."""

    def __init__(self, cfg: ModelConfig, chart=None):
        self.cfg = cfg
        self.seed = cfg.seed
        self.K = cfg.member.n_domains
        self.step = 0
        self.regime = REGIME_CODES[cfg.regime.name]
        n, edges, parent = org.build(cfg.org, cfg.n_members, cfg.seed, chart)
        self.n = n
        self.n0 = n  # task arrivals scale with the initial headcount, so events do not change the stream
        self._init_members(n, parent)
        self._init_ties(n, edges)
        self._init_tasks(max(64, int(4 * cfg.env.task_rate * n * cfg.env.patience)))
        self.demand = np.full(self.K, 1.0 / self.K)
        self.top = 0  # the designated leader; -1 while the post is vacant
        self.succession_at = -1
        self.next_task_id = 0
        self.refresh_reporting_lines()

    # ----- members -------------------------------------------------------------------------
    def _init_members(self, n: int, parent: np.ndarray) -> None:
        gen = rng.generator(self.seed, rng.INIT)
        self.skill, self.energy, self.autonomy = self._new_member_traits(gen, n, 1.0)
        self.parent = parent.astype(np.int64)
        self.task_of = np.full(n, -1, dtype=np.int64)
        self.role_lead = np.zeros(n, dtype=np.bool_)
        self.recover_until = np.zeros(n, dtype=np.int64)
        self.gone = np.zeros(n, dtype=np.bool_)
        self.led_count = np.zeros(n, dtype=np.int64)
        self.done_count = np.zeros(n, dtype=np.int64)
        self.initiated = np.zeros(n, dtype=np.int64)
        self.burnout_days = 0

    def _new_member_traits(self, gen, n, skill_scale):
        """Skills (one strong specialty), energy and autonomy for n new members."""
        m, K = self.cfg.member, self.K
        specialty = gen.integers(0, K, n)
        skill = np.clip(m.generalist + 0.1 * (gen.random((n, K)) - 0.5) * 2, 0.0, 1.0)
        skill[np.arange(n), specialty] = np.clip(m.specialty + 0.2 * (gen.random(n) - 0.5) * 2, 0.0, 1.0)
        c = self.cfg.culture
        energy = 0.8 + 0.2 * gen.random(n)
        autonomy = np.clip(c.autonomy0 + c.autonomy_spread * (2 * gen.random(n) - 1), 0.0, 1.0)
        return skill * skill_scale, energy, autonomy

    def members(self) -> Members:
        return Members(self.skill, self.energy, self.autonomy, self.task_of, self.role_lead, self.recover_until,
                       self.gone, self.led_count, self.done_count, self.initiated, self.parent, self.has_reports,
                       self.tin, self.tout, self.order, self.present_ids)

    def ties(self) -> Ties:
        return Ties(self.tie_start, self.tie_count, self.tie_nbr, self.tie_trust, self.tie_base)

    def tasks(self) -> Tasks:
        return Tasks(self.task_id, self.task_status, self.origin, self.req, self.req_version, self.work, self.value,
                     self.born, self.deadline, self.started, self.lead, self.chosen, self.decider, self.team,
                     self.team_size, self.radius, self.invite_radius, self.report, self.report_kind, self.report_at,
                     self.report_to, self.req_reported, self.restaff_version, self.restaff_sent, self.progressed)

    def present(self) -> np.ndarray:
        return np.flatnonzero(~self.gone[: self.n])

    def refresh_reporting_lines(self) -> None:
        """Recompute depth, subtree ranges and who has reports, after the chart changed.
        The departed are outside the tree; whoever reported to them heads a subtree of their own
        until a successor is named."""
        n = self.n
        gone = self.gone[:n]
        parent = self.parent[:n].copy()
        parent[gone] = -1
        orphan = (parent >= 0) & gone[np.maximum(parent, 0)]
        parent[orphan] = -1
        self.depth, self.tin, self.tout, self.order = org.reporting_lines(parent, gone)
        self.has_reports = np.zeros(n, dtype=np.bool_)
        self.has_reports[parent[parent >= 0]] = True
        self.present_ids = self.present()

    def cut_ties(self, i: int) -> None:
        """Remove every tie of member i (it has left the organisation)."""
        for j in self.neighbours(i).tolist():
            s, c = self.tie_start[j], self.tie_count[j]
            keep = self.tie_nbr[s : s + c] != i
            for arr, blank in ((self.tie_nbr, -1), (self.tie_trust, 0.0), (self.tie_base, 0.0)):
                row = arr[s : s + c][keep].copy()
                arr[s : s + c] = blank
                arr[s : s + len(row)] = row
            self.tie_count[j] = int(keep.sum())
        s = self.tie_start[i]
        self.tie_nbr[s : s + self.tie_count[i]] = -1
        self.tie_count[i] = 0

    # ----- ties --------------------------------------------------------------------------
    def _init_ties(self, n: int, edges: np.ndarray) -> None:
        indptr, nbr = org.csr(n, edges)
        trust = np.full(len(nbr), self.cfg.culture.trust0)
        self._layout_ties(np.diff(indptr), nbr, trust, trust.copy(), TIE_SLACK)

    def _layout_ties(self, deg, nbr, trust, base, room) -> None:
        """Lay the ties out row by row: member i's `deg[i]` live ties (given contiguously, in
        row order) followed by `room` (scalar or per row) spare slots holding -1."""
        n = len(deg)
        start = np.zeros(n + 1, dtype=np.int64)
        start[1:] = np.cumsum(deg + room)
        src_start = np.zeros(n + 1, dtype=np.int64)
        src_start[1:] = np.cumsum(deg)
        row = np.repeat(np.arange(n), deg)
        pos = start[row] + (np.arange(len(nbr)) - src_start[row])
        self.tie_start = start
        self.tie_count = np.asarray(deg, dtype=np.int64).copy()
        self.tie_nbr = np.full(start[-1], -1, dtype=TIE_NBR)
        self.tie_trust = np.zeros(start[-1])
        self.tie_base = np.zeros(start[-1])
        self.tie_nbr[pos], self.tie_trust[pos], self.tie_base[pos] = nbr, trust, base

    def compact_ties(self):
        """The live ties as (deg, nbr, trust, base), rows contiguous."""
        n = self.n
        deg = self.tie_count[:n]
        row = np.repeat(np.arange(n), deg)
        offset = np.arange(len(row)) - np.repeat(np.cumsum(deg) - deg, deg)
        pos = self.tie_start[row] + offset
        return deg.copy(), self.tie_nbr[pos], self.tie_trust[pos], self.tie_base[pos]

    def add_ties(self, pairs, trust: float) -> None:
        """Form new ties (i, j) at the given trust, appended to both rows in the given order
        (`pairs`: a list of pairs or an array of shape (m, 2)). When a row has no room left,
        every row is laid out again with room for as many ties again as it has, so that
        re-layouts stay rare (amortised, like a growing list)."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if not len(pairs):
            return
        need = np.bincount(pairs.ravel(), minlength=self.n)
        room = np.diff(self.tie_start[: self.n + 1]) - self.tie_count[: self.n]
        short = need > room
        if short.any():
            deg = self.tie_count[: self.n]
            self._grow_rows(need + np.maximum(deg, TIE_SLACK))
        _append_ties(self.ties(), pairs, trust)

    def _grow_rows(self, room) -> None:
        """Lay every row out again, its live ties followed by room[i] spare slots."""
        n = self.n
        start = np.zeros(n + 1, dtype=np.int64)
        start[1:] = np.cumsum(self.tie_count[:n] + room)
        nbr, trust, base = np.full(start[-1], -1, dtype=TIE_NBR), np.zeros(start[-1]), np.zeros(start[-1])
        _copy_rows(self.ties(), start, nbr, trust, base)
        self.tie_start, self.tie_nbr, self.tie_trust, self.tie_base = start, nbr, trust, base

    def neighbours(self, i: int) -> np.ndarray:
        s = self.tie_start[i]
        return self.tie_nbr[s : s + self.tie_count[i]]

    def tie_slots(self, i: int) -> range:
        s = self.tie_start[i]
        return range(s, s + self.tie_count[i])

    def within(self, source: int, radius: int) -> list[int]:
        """Members within `radius` ties of `source` (source included): who hears of a task."""
        seen = {source}
        frontier = [source]
        for _ in range(radius):
            nxt = []
            for v in frontier:
                for w in self.neighbours(v):
                    w = int(w)
                    if w not in seen:
                        seen.add(w)
                        nxt.append(w)
            frontier = nxt
        return list(seen)

    def path_trust(self, source: int, radius: int) -> dict[int, float]:
        """For members within `radius` hops: the best product of trusts along a shortest path
        (whom a self-organised lead can invite, and how far they trust it)."""
        best = {source: 1.0}
        frontier = [source]
        for _ in range(radius):
            layer: dict[int, float] = {}
            for v in frontier:
                for p in self.tie_slots(v):
                    w = int(self.tie_nbr[p])
                    if w in best:
                        continue
                    value = best[v] * self.tie_trust[p]
                    if value > layer.get(w, -1.0):
                        layer[w] = value
            best.update(layer)
            frontier = sorted(layer)
        return best

    def available_at(self, step: int) -> np.ndarray:
        """1.0 for members who can take on work in `step`: present, idle, not recovering and
        with at least `energy_min` energy (as at the start of that step's claims)."""
        n = self.n
        return ((~self.gone[:n]) & (self.task_of[:n] < 0) & (step >= self.recover_until[:n])
                & (self.energy[:n] >= self.cfg.member.energy_min)).astype(np.float64)

    # ----- tasks -------------------------------------------------------------------------
    def _init_tasks(self, cap: int) -> None:
        K, tm = self.K, self.cfg.member.team_max
        self.n_tasks = 0
        self.task_id = np.zeros(cap, dtype=np.int64)
        self.task_status = np.zeros(cap, dtype=np.int64)
        self.origin = np.zeros(cap, dtype=np.int64)
        self.req = np.zeros((cap, K))
        self.req_version = np.zeros(cap, dtype=np.int64)
        self.work = np.zeros(cap)
        self.value = np.zeros(cap)
        self.born = np.zeros(cap, dtype=np.int64)
        self.deadline = np.zeros(cap, dtype=np.int64)
        self.started = np.full(cap, -1, dtype=np.int64)
        self.lead = np.full(cap, -1, dtype=np.int64)
        self.chosen = np.zeros(cap, dtype=np.bool_)  # the lead chose to lead (self-organised team)
        self.decider = np.full(cap, -1, dtype=np.int64)  # who staffed an appointed team
        self.team = np.full((cap, tm), -1, dtype=np.int64)
        self.team_size = np.zeros(cap, dtype=np.int64)
        self.radius = np.zeros(cap, dtype=np.int64)  # how far word of an open task has spread
        self.invite_radius = np.zeros(cap, dtype=np.int64)
        self.report = np.zeros(cap, dtype=np.int64)  # NO_REPORT / IN_TRANSIT / IN_INBOX
        self.report_kind = np.zeros(cap, dtype=np.int64)
        self.report_at = np.full(cap, -1, dtype=np.int64)  # member holding the report
        self.report_to = np.full(cap, -1, dtype=np.int64)  # its destination (the decider)
        self.req_reported = np.zeros((cap, K))  # the requirement as the report described it
        self.restaff_version = np.full(cap, -1, dtype=np.int64)
        self.restaff_sent = np.full(cap, -1, dtype=np.int64)
        self.progressed = np.zeros(cap, dtype=np.bool_)  # worked on in this step's progress phase
        # what became of the tasks born in each step, for measures that count only tasks that have
        # had the chance to end (sim.observe.summary): done, and the value captured, by birth step
        self.done_by_birth = np.zeros(0, dtype=np.int64)
        self.captured_by_birth = np.zeros(0)

    TASK_ARRAYS = ("task_id", "task_status", "origin", "req", "req_version", "work", "value", "born",
                   "deadline", "started", "lead", "chosen", "decider", "team", "team_size", "radius",
                   "invite_radius", "report", "report_kind", "report_at", "report_to", "req_reported",
                   "restaff_version", "restaff_sent", "progressed")

    # Value of each task field in a free slot.
    TASK_BLANK = {"started": -1, "lead": -1, "decider": -1, "team": -1, "report_at": -1, "report_to": -1,
                  "restaff_version": -1, "restaff_sent": -1}

    def ensure_task_capacity(self, extra: int) -> None:
        cap = len(self.task_id)
        if self.n_tasks + extra <= cap:
            return
        new_cap = max(2 * cap, self.n_tasks + extra)
        for name in self.TASK_ARRAYS:
            old = getattr(self, name)
            new = np.full((new_cap,) + old.shape[1:], self.TASK_BLANK.get(name, 0), dtype=old.dtype)
            new[:cap] = old
            setattr(self, name, new)

    def compact_tasks(self) -> None:
        """Drop ended tasks, keeping live ones in birth order; blank the freed slots so that a
        newborn task never inherits an old one's fields; re-point members' task_of."""
        n_old = self.n_tasks
        status = self.task_status[:n_old]
        self._record_done(np.flatnonzero(status == DONE))
        live = np.flatnonzero((status == OPEN) | (status == ACTIVE))
        m = len(live)
        if m < n_old:
            for name in self.TASK_ARRAYS:
                _compact_rows(getattr(self, name), live, n_old, self.TASK_BLANK.get(name, 0))
            self.n_tasks = m
        _point_members_to_tasks(self.task_of[: self.n], self.team, self.team_size, m)

    def _record_done(self, slots: np.ndarray) -> None:
        """Tally done tasks by their birth step, before their slots are freed. Both engines leave
        the same state, so this one place serves both."""
        if not len(slots):
            return
        born = self.born[slots]
        need = int(born.max()) + 1
        if need > len(self.done_by_birth):
            extra = max(need, 2 * len(self.done_by_birth), 64) - len(self.done_by_birth)
            self.done_by_birth = np.concatenate([self.done_by_birth, np.zeros(extra, np.int64)])
            self.captured_by_birth = np.concatenate([self.captured_by_birth, np.zeros(extra)])
        np.add.at(self.done_by_birth, born, 1)
        np.add.at(self.captured_by_birth, born, self.value[slots])

    # ----- members joining --------------------------------------------------------------
    def hire(self, count: int, step: int) -> np.ndarray:
        """Add `count` members at the bottom of the reporting lines, low-skilled, tied to their
        manager at the starting trust. Their managers are the deepest present members, in id order
        and round robin, so that the placement is deterministic."""
        n0 = self.n
        gen = rng.generator(self.seed, rng.HIRE, step)
        skill, energy, autonomy = self._new_member_traits(gen, count, 0.5)
        present = self.present()
        depth = self.depth[present]
        managers = present[depth == depth.max()] if len(present) else np.array([0])
        new_ids = np.arange(n0, n0 + count)
        bosses = managers[np.arange(count) % len(managers)]
        deg, nbr, trust, base = self.compact_ties()
        self.n = n0 + count
        self.skill = np.vstack([self.skill, skill])
        for name, value in (("energy", energy), ("autonomy", autonomy), ("parent", bosses),
                            ("task_of", -1), ("role_lead", False), ("recover_until", 0), ("gone", False),
                            ("led_count", 0), ("done_count", 0), ("initiated", 0)):
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.broadcast_to(np.asarray(value, dtype=old.dtype), (count,))]))
        # grow the tie table by the new rows, then tie each newcomer to its manager
        self._layout_ties(np.concatenate([deg, np.zeros(count, dtype=np.int64)]), nbr, trust, base, TIE_SLACK)
        self.add_ties(list(zip(new_ids.tolist(), bosses.tolist())), self.cfg.culture.trust0)
        self.refresh_reporting_lines()
        return new_ids


@njit(cache=True)
def _append_ties(G, pairs, trust):
    """Append each pair's tie to both rows, i -> j then j -> i (the rows have room)."""
    for q in range(pairs.shape[0]):
        for a, b in ((pairs[q, 0], pairs[q, 1]), (pairs[q, 1], pairs[q, 0])):
            p = G.start[a] + G.count[a]
            G.nbr[p] = b
            G.trust[p] = trust
            G.base[p] = trust
            G.count[a] += 1


@njit(cache=True)
def _copy_rows(G, start, nbr, trust, base):
    """Each member's live ties into the new rows beginning at start[i]."""
    for i in range(start.shape[0] - 1):
        for a in range(G.count[i]):
            nbr[start[i] + a] = G.nbr[G.start[i] + a]
            trust[start[i] + a] = G.trust[G.start[i] + a]
            base[start[i] + a] = G.base[G.start[i] + a]


@njit(cache=True)
def _compact_rows(arr, live, n_old, blank):
    """arr[:m] = arr[live] (live ascending, so rows only move down) and arr[m:n_old] = blank."""
    m = live.shape[0]
    for w in range(m):
        if live[w] != w:
            arr[w] = arr[live[w]]
    for w in range(m, n_old):
        arr[w] = blank


@njit(cache=True)
def _point_members_to_tasks(task_of, team, team_size, n_tasks):
    """Each member's task_of: the live task whose team it is on, or -1."""
    task_of[:] = -1
    for t in range(n_tasks):
        for a in range(team_size[t]):
            task_of[team[t, a]] = t

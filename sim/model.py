"""LeadershipModel: the Mesa model that builds the state from a config, steps an engine and
records the observables."""

from __future__ import annotations

import dataclasses
import time

import mesa
import networkx as nx
import pandas as pd

from . import events as events_mod
from . import observe
from . import players
from .agents import Member
from .config import ModelConfig, make_config
from .state import State


class LeadershipModel(mesa.Model):
    """An organisation of members who take up the work its environment throws at it.

    Parameters are keywords; any left out takes its default from the schema in sim/config.py
    (regime="distributed", org="flat", n_members=200, seed=1, engine="agents", ...; every
    parameter with its range is in docs/ODD.md). Groups may be given as dicts or by name
    (`org="teams"`, `env={"turbulence": 0.1}`), and any unique leaf by itself
    (`turbulence=0.1`). A `config` (ModelConfig, dict or Hydra DictConfig) is applied first;
    keywords given explicitly override it. `chart` is an org chart already parsed in memory
    (`sim.chart.parse(data, filename)`), for `org="file"` without a path.

    `decisions` are participants' decisions for named members (sim/players.py): `Decision`s or
    dicts with step, member, kind and task_id, such as the entries of another run's
    `decision_log`. Each is validated at the start of its step, exactly as `decide` validates it,
    so a run replays exactly from its seed and its decision log.

    `threads`: how many threads the compiled engine's kernels use. None picks one thread for small
    organisations, where threads cost more than they save, and all cores (as NUMBA_NUM_THREADS
    allows) from sim.engines.numba.PARALLEL_FROM members up. The numbers are the same on any count.
    """

    def __init__(self, regime=None, org=None, n_members=None, seed=None, engine=None, config=None, chart=None,
                 decisions=None, threads=None, **params):
        given = dict(regime=regime, org=org, n_members=n_members, seed=seed, engine=engine)
        given = {k: v for k, v in given.items() if v is not None}
        self.cfg: ModelConfig = make_config(config, chart=chart, **given, **params)
        super().__init__(rng=self.cfg.seed)
        self.chart = chart
        self.state = State(self.cfg, chart)
        self.events = events_mod.parse_schedule(self.cfg.events.schedule, self.cfg.steps)
        self.totals: dict = {}
        self._member_agents: list[Member] = []
        self.grid = None
        self.engine = self._make_engine(threads)
        self.decision_log: list[dict] = []  # every decision, accepted, refused or replaced, with its reason
        self._scheduled: dict[int, list[players.Decision]] = {}  # decisions given up front, by step
        for d in map(players.Decision.of, decisions or ()):
            self._scheduled.setdefault(d.step, []).append(d)
        self._queued: dict[int, tuple[players.Decision, dict]] = {}  # next step's accepted decisions, by member
        self._rule_orders = players.rule_orders(self.state.n)
        self.orders = self._rule_orders  # what the engines read: the step's decisions (sim/players.py)
        self.observables = observe.step_row(self.state, observe.Tally(), self.totals)
        self.datacollector = mesa.DataCollector(
            model_reporters={key: _reporter(key) for key in self.observables})
        self.datacollector.collect(self)

    def _make_engine(self, threads):
        if self.cfg.engine == "agents":
            from .engines.agents import AgentsEngine

            self.member_agents  # the agents engine works through Mesa agents: make them now
            return AgentsEngine(self)
        from .engines.numba import NumbaEngine

        return NumbaEngine(self, threads)

    @property
    def member_agents(self) -> list[Member]:
        """Members as Mesa agents on a Network of the org chart's ties, made on first use.
        Each is a view on the state arrays, so making them never changes a run."""
        s = self.state
        if self.grid is None:
            graph = nx.Graph()
            graph.add_nodes_from(range(s.n))
            for i in range(s.n):
                graph.add_edges_from((i, int(j)) for j in s.neighbours(i) if j > i)
            # topological only: a drawn layout is computed (seeded) by the page that draws it
            self.grid = mesa.discrete_space.Network(graph, random=self.random, layout=None)
        for i in range(len(self._member_agents), s.n):
            cell = self.grid[i] if i in self.grid._cells else None  # hires have no cell in the original chart
            self._member_agents.append(Member(self, i, cell))
        return self._member_agents

    def step(self) -> None:
        self.state.step = self.steps
        self.orders = self._take_orders()
        tally = self.engine.step()
        if self._member_agents:
            self.member_agents  # hires join as agents too
        clock = time.perf_counter()
        self.state.compact_tasks()
        self.observables = observe.step_row(self.state, tally, self.totals)
        self.datacollector.collect(self)
        timings = getattr(self.engine, "timings", None)
        if timings is not None:
            timings["observables"] = timings.get("observables", 0.0) + time.perf_counter() - clock

    # ----- participants (sim/players.py) ------------------------------------------------------
    def decide(self, member: int, kind: str, task_id: int | None = None) -> dict:
        """A participant's decision for `member` in the next step: "step_up" (task_id), "join"
        (task_id), "decline" (task_id) or "rest". It is validated against the state now; a refused
        decision changes nothing and the rule plays the member. A later accepted decision for the
        same member and step replaces an earlier one. Returns its entry in `decision_log` (which
        says so if the decision is later replaced, or refused when its step starts)."""
        return self._record(players.Decision(self.steps + 1, member, kind, task_id))

    def view(self, member: int) -> dict:
        """What `member` sees now, for a participant's screen (see sim.players.view)."""
        return players.view(self.state, member)

    def rule_choice(self, member: int) -> dict:
        """What the rule will do for `member` in the next step if nobody decides for it
        (see sim.players.rule_choice); computed on a copy, so nothing changes."""
        return players.rule_choice(self.state, member)

    def rule_choices(self, members=None) -> dict[int, dict]:
        """rule_choice for several members (all present ones by default), from one look-ahead."""
        ahead = players.look_ahead(self.state)
        ids = self.state.present_ids.tolist() if members is None else members
        return {int(i): players.rule_choice(self.state, int(i), ahead) for i in ids}

    def accepted_decisions(self) -> list[dict]:
        """The decisions that took effect: with the config, enough to replay the run exactly."""
        return [players.Decision.of(e).as_dict() for e in self.decision_log if e["status"] == "accepted"]

    def _record(self, d: "players.Decision") -> dict:
        why = players.refusal(self.state, d)
        entry = {**d.as_dict(), "status": "refused" if why else "accepted",
                 "reason": why or players.confirmation(self.state, d)}
        self.decision_log.append(entry)
        if not why:
            earlier = self._queued.get(d.member)
            if earlier is not None:
                earlier[1]["status"] = "replaced"
                earlier[1]["reason"] = f"replaced by a later decision for member {d.member}"
            self._queued[d.member] = (d, entry)
        return entry

    def _take_orders(self) -> "players.Orders":
        """This step's decisions as the engines' orders. Decisions given up front are validated
        now; queued ones again, in case the state changed since (an intervention)."""
        step = self.state.step
        for d in self._scheduled.pop(step, ()):
            self._record(d)
        taken = []
        for d, entry in self._queued.values():
            why = players.refusal(self.state, d)
            if why:
                entry["status"], entry["reason"] = "refused", f"{why} (at the start of step {step})"
            else:
                taken.append(d)
        self._queued = {}
        if not taken:  # the engines only read orders, so one all-rule set serves every such step
            if self._rule_orders.claim.shape[0] != self.state.n:
                self._rule_orders = players.rule_orders(self.state.n)
            return self._rule_orders
        return players.orders_for(self.state, taken)

    # ----- live interventions (the browser page's buttons) -----------------------------------
    def intervene(self, kind: str, arg=None) -> None:
        """Apply an event now, between steps, as if scheduled for the step just done:
        "leader_leaves", "shock", "regime" (arg: the regime's name) or "hire" (arg: how many)."""
        at = max(self.steps, 1)  # parse_event checks the name and argument like a scheduled event
        events_mod.apply(self.state, events_mod.parse_event(f"{kind}@{at}" + ("" if arg is None else f":{arg}"), at))
        if self._member_agents:
            self.member_agents  # hires join as agents too

    def leader_leaves(self) -> None:
        self.intervene("leader_leaves")

    def shock(self) -> None:
        self.intervene("shock")

    def switch_regime(self, name: str) -> None:
        self.intervene("regime", name)

    # ----- results ----------------------------------------------------------------------------
    def metrics(self) -> pd.DataFrame:
        """One row per step (step 0 is the initial state)."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def summary(self) -> dict:
        return observe.summary(self.metrics(), self.state, self.totals)

    def event_impacts(self) -> list[dict]:
        """Each scheduled event's impact against a paired control run without any events."""
        if not self.events:
            return []
        control_cfg = dataclasses.replace(self.cfg, events=dataclasses.replace(self.cfg.events, schedule=[]))
        control = LeadershipModel(config=control_cfg, chart=self.chart)
        control.run_for(self.steps)
        mine, theirs = self.metrics(), control.metrics()
        return [{"event": str(e), **observe.event_impact(mine, theirs, e.step)} for e in self.events]


def _reporter(key):
    return lambda model: model.observables[key]

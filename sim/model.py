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
    """

    def __init__(self, regime=None, org=None, n_members=None, seed=None, engine=None, config=None, chart=None,
                 **params):
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
        self.engine = self._make_engine()
        self.observables = observe.step_row(self.state, observe.Tally(), self.totals)
        self.datacollector = mesa.DataCollector(
            model_reporters={key: _reporter(key) for key in self.observables})
        self.datacollector.collect(self)

    def _make_engine(self):
        if self.cfg.engine == "agents":
            from .engines.agents import AgentsEngine

            self.member_agents  # the agents engine works through Mesa agents: make them now
            return AgentsEngine(self)
        from .engines.numba import NumbaEngine

        return NumbaEngine(self)

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

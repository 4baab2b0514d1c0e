"""A running organisation for the page, and the page's session: settings, one or two
organisations stepping in lockstep, live interventions and readable errors.

Nothing here imports solara, so the logic is tested without a browser (tests/test_viz_logic.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from .. import chart as charts
from ..config import REGIMES, ConfigError
from ..model import LeadershipModel
from ..scenarios import _merge, _nest
from . import layout, scenarios

log = logging.getLogger("leadsim.viz")

ENGINE = "numba"  # the page always runs the compiled engine; members are drawn through Mesa agent views
# The page serves organisations it can draw and a room can watch; bigger ones are for the command line.
MAX_MEMBERS = 5_000
MAX_CHART_BYTES = 5 * 2**20  # an uploaded chart; GraphML of 5,000 members is well under 1 MB

# Series the plots read, recorded after every step (names are sim/observe.py's observables).
SERIES = ("step", "value_captured", "value_arrived", "backlog", "failed_total", "tasks_failed", "tasks_done",
          "leadership_gini", "distinct_leads", "mean_energy", "share_recovering", "mean_autonomy", "mean_trust",
          "utilisation")
WINDOW = 40  # steps of the windowed measures, as the workshop guide counts them (sim.observe.rolling_value_share)


class History:
    """The observables the page plots, one entry per recorded step, plus cumulative value, the
    designated leader's energy, and measures over the last WINDOW steps."""

    def __init__(self):
        self.columns: dict[str, list] = {name: [] for name in SERIES}
        self.value_total: list[float] = []
        self.leader_energy: list[float] = []

    def record(self, row: dict, leader_energy: float = float("nan")) -> None:
        for name in SERIES:
            self.columns[name].append(row[name])
        before = self.value_total[-1] if self.value_total else 0.0
        self.value_total.append(before + float(row["value_captured"]))
        self.leader_energy.append(leader_energy)

    def __len__(self) -> int:
        return len(self.value_total)

    def array(self, name: str) -> np.ndarray:
        if name == "value_total":
            return np.asarray(self.value_total, dtype=float)
        if name == "leader_energy":
            return np.asarray(self.leader_energy, dtype=float)
        if name == "value_share_window":  # value captured / value arrived, over the last WINDOW steps
            return _window_ratio(self.array("value_captured"), self.array("value_arrived"))
        if name == "completion_window":  # tasks done / tasks ended (done or failed), last WINDOW steps
            done = self.array("tasks_done")
            return _window_ratio(done, done + self.array("tasks_failed"))
        return np.asarray(self.columns[name], dtype=float)


def _window_ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """Trailing sums over WINDOW steps, divided; NaN where nothing was in the window."""
    def trailing(y):
        c = np.cumsum(np.insert(y, 0, 0.0))
        k = np.arange(1, len(y) + 1)
        return c[k] - c[np.maximum(0, k - WINDOW)]

    top, bottom = trailing(part), trailing(whole)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def page_model(params: dict) -> LeadershipModel:
    """A model as the page runs it: the compiled engine, on one thread, since the page shares the
    machine with its browser and steps each session in a thread of its own, where threads inside
    the engine would wait on each other."""
    return LeadershipModel(engine=ENGINE, threads=1, **params)


class LiveOrg:
    """One organisation on the page: a LeadershipModel on the numba engine and its history."""

    def __init__(self, label: str, params: dict):
        self.label = label
        self.params = params
        self.model = page_model(params)
        self.model.member_agents  # the Mesa agent views (and the grid) the page draws from
        self.chart_edges = np.array(sorted(self.model.grid.G.edges()), dtype=np.int64).reshape(-1, 2)
        cfg = self.model.cfg
        chart = params.get("chart") if cfg.org.name == "file" else None
        key = (repr(cfg.org), cfg.n_members, cfg.seed, chart and chart.digest)
        self._positions = layout.positions(self.model.state.parent[: self.model.state.n], self.chart_edges,
                                           cfg.seed, key=key)
        self.history = History()
        self.history.record(self.model.observables, self.leader_energy())
        # what the time plots mark: (step, what happened), scheduled events first, then live ones
        self.marks: list[tuple[int, str]] = [(e.step, describe(e.kind, e.arg)) for e in self.model.events]

    def leader_energy(self) -> float:
        s = self.model.state
        return float("nan") if s.gone[0] else float(s.energy[0])

    def positions(self) -> np.ndarray:
        """Drawing positions in [0, 1]^2; hires get a place next to their manager."""
        s = self.model.state
        if len(self._positions) < s.n:
            self._positions = layout.place_newcomers(self._positions, s.parent, s.n, s.seed)
        return self._positions

    @property
    def steps(self) -> int:
        return int(self.model.steps)

    def step(self) -> None:
        self.model.step()
        self.history.record(self.model.observables, self.leader_energy())

    def member(self, index: int) -> dict | None:
        """What the page shows about one member, read through its Mesa agent view."""
        agents = self.model.member_agents
        if not 0 <= index < len(agents):
            return None
        agent = agents[index]
        skill = np.asarray(agent.skill, dtype=float)
        return {
            "index": index,
            "status": agent.status,
            "autonomy": agent.autonomy,
            "energy": agent.energy,
            "skill": float(skill.mean()),
            "skills": [float(v) for v in skill],
            "tasks_led": agent.led_count,
            "manager": agent.manager,
            "designated_leader": index == 0,
        }


@dataclass
class Settings:
    """What the controls choose. Every organisation on the page is built from these."""

    scenario: str = "default"
    regime: str = "distributed"
    regime_b: str = "heroic"  # the second organisation in compare mode
    compare: bool = False
    org: str = "flat"
    org_chart: charts.Chart | None = None  # the uploaded chart when org == "file", parsed in memory
    n_members: int = 200
    seed: int = 1
    values: dict = field(default_factory=dict)  # slider values by dotted key, e.g. {"env.turbulence": 0.1}
    variant_a: int = 0  # for a scenario with variants: the one drawn (first organisation in compare mode)
    variant_b: int = 1  # the second organisation in compare mode


def model_params(settings: Settings, regime: str, variant: dict | None = None) -> dict:
    """Keyword arguments of LeadershipModel for one organisation: scenario preset, then the
    controls, then what a scenario variant sets beyond its scenario (nested dict)."""
    preset = scenarios.by_name(settings.scenario)
    params = _merge(preset.params, _nest(settings.values))
    n_members = int(settings.n_members)
    if settings.org == "file":
        if settings.org_chart is None:
            raise ConfigError("org = file: drop a GraphML or edge-list chart on the page first")
        n_members = settings.org_chart.n
    if n_members > MAX_MEMBERS:
        raise ConfigError(f"n_members = {n_members:,} is more than this page serves; allowed [2, {MAX_MEMBERS:,}] "
                          "(the command line runs larger organisations)")
    params = _merge(params, {"org": {"name": settings.org}, "regime": {"name": regime},
                             "n_members": n_members, "seed": int(settings.seed)})
    if variant:
        params = _merge(params, variant)
    if settings.org == "file":
        params["chart"] = settings.org_chart
    return params


def _flat(nested: dict) -> dict:
    out = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def describe(kind: str, arg=None) -> str:
    """An event in words, for the plots' marks and the notices."""
    return {"leader_leaves": "the leader leaves", "shock": "a market shock", "regime": f"a switch to {arg}",
            "hire": f"{arg} members are hired"}.get(kind, kind)


def readable(exc: BaseException) -> str:
    """The message a person reads on the page: never a stack trace, and for anything but a
    settings error only the kind of failure (its text may hold server paths; the log has it)."""
    if isinstance(exc, ConfigError):
        return str(exc)
    return f"an internal error ({exc.__class__.__name__}); the details are in the server's log"


class Session:
    """The page's state: settings, the organisations built from them, and the last error.

    Every change goes through `lock`, because the play loop steps the model in a thread while
    buttons arrive on others; the page also redraws under it, so a frame never shows an
    organisation half-changed. A change of settings rebuilds the organisations from step 0; if
    the new settings do not make an organisation, the old ones stay on screen, the error says
    why, and stepping waits until the settings are fixed.
    """

    def __init__(self, settings: Settings | None = None):
        self.lock = threading.RLock()
        self.settings = settings or Settings()
        self.orgs: list[LiveOrg] = []
        self.error: str | None = None
        self.notice: str | None = None
        self.version = 0  # bumped by every change beyond a step: settings, interventions, errors
        self.run_to: int | None = None  # Play pauses here ("Run to step")
        self.pause_at_events = True  # Play pauses the step before each scheduled event
        self.plots: list[str] = []  # the time plots shown (ids in sim/viz/plots.py); empty: the default
        self.rebuild()

    # ----- building -----------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.orgs)

    def sides(self) -> list[dict]:
        """Each organisation to build: its label, regime, what its scenario variant sets beyond
        the scenario (nested, or None), and whether that variant fixes the regime."""
        s = self.settings
        preset = scenarios.by_name(s.scenario)

        def side(variant: int, regime: str) -> dict:
            if not preset.variants:
                return {"label": regime, "regime": regime, "extra": None, "regime_fixed": False}
            label, params = preset.variants[variant % len(preset.variants)]
            own = _flat(params).get("regime.name")
            if own == _flat(preset.params).get("regime.name"):
                own = None  # the scenario's own regime: the regime select shows it and may change it
            return {"label": label, "regime": own or regime, "extra": _variant_rest(preset.params, params),
                    "regime_fixed": own is not None}

        if not s.compare:
            return [side(s.variant_a, s.regime)]
        a, b = side(s.variant_a, s.regime), side(s.variant_b, s.regime_b)
        if a["label"] == b["label"]:
            a["label"], b["label"] = f"{a['label']} (A)", f"{b['label']} (B)"
        return [a, b]

    def rebuild(self) -> bool:
        with self.lock:
            try:
                orgs = [LiveOrg(side["label"], model_params(self.settings, side["regime"], side["extra"]))
                        for side in self.sides()]
            except Exception as exc:  # shown on the page, logged for the developer
                if not isinstance(exc, ConfigError):
                    log.exception("building the organisation failed")
                self.error = f"These settings do not make an organisation: {readable(exc)}"
                self.version += 1
                return False
            self.orgs, self.error, self.notice = orgs, None, None
            self.version += 1
            return True

    def update(self, **changes) -> bool:
        """Change settings and rebuild. Unknown names are a programming error, not a user one."""
        with self.lock:
            self.settings = dataclasses.replace(self.settings, **changes)
            return self.rebuild()

    def set_value(self, key: str, value) -> bool:
        with self.lock:
            return self.update(values={**self.settings.values, key: value})

    def choose_scenario(self, name: str, defaults: dict) -> bool:
        """Load a scenario: sliders back to `defaults` then to the preset's values, its org
        structure and regime; a preset with variants opens compare mode on its first two."""
        preset = scenarios.by_name(name)
        flat = _flat(preset.params)
        values = {key: flat.get(key, default) for key, default in defaults.items()}
        changes = dict(scenario=name, values=values, variant_a=0, variant_b=1 if len(preset.variants) > 1 else 0)
        if "org.name" in flat:
            changes["org"] = flat["org.name"]
        regimes = [flat.get("regime.name")] * 2
        for i, (_, params) in enumerate(preset.variants[:2]):
            regimes[i] = _flat(params).get("regime.name", regimes[i])
        if regimes[0] in REGIMES:
            changes["regime"] = regimes[0]
        if regimes[1] in REGIMES:
            changes["regime_b"] = regimes[1]
        if len(preset.variants) >= 2:
            changes["compare"] = True
        self.plots, self.run_to = list(preset.plots), None
        return self.update(**changes)

    def use_org_file(self, filename: str, data: bytes) -> bool:
        """An uploaded org chart, parsed in memory (its name's suffix tells its format); nothing
        is written to the server's disk, and no path on the server is ever opened."""
        with self.lock:
            try:
                chart = charts.parse(bytes(data), str(filename), f"the uploaded chart {str(filename)[:80]!r}",
                                     max_bytes=MAX_CHART_BYTES)
            except ConfigError as exc:
                self.error = f"This chart does not make an organisation: {exc}"
                self.version += 1
                return False
            return self.update(org="file", org_chart=chart)

    # ----- running ------------------------------------------------------------------------
    def step(self, count: int = 1) -> bool:
        """Advance every organisation `count` steps in lockstep. False if nothing stepped."""
        with self.lock:
            if not self.ok:
                return False
            try:
                for _ in range(count):
                    for org in self.orgs:
                        org.step()
            except Exception as exc:  # the page shows it
                log.exception("stepping failed")
                self.error = f"The model stopped: {readable(exc)}"
                self.version += 1
                return False
            return True

    def play(self, count: int = 1) -> bool:
        """One frame of Play: up to `count` steps, stopping at the next stop (the step before a
        scheduled event, a "run to" target, the scenario's last step). False, with a notice
        saying why, when Play should pause."""
        with self.lock:
            now = self.orgs[0].steps if self.orgs else 0
            stop = self.next_stop()
            if stop is None and self.end is not None and now >= self.end:
                self.notice = (f"The scenario ends at step {self.end}. To go on, choose a later step in "
                               "\u201cRun to step\u201d.")
                self.version += 1
                return False
            count = count if stop is None else min(count, stop - now)
            if not self.step(count):
                return False
            now += count
            if stop is not None and now >= stop:
                self.notice = self._stop_notice(now)
                self.version += 1
                return False
            return True

    @property
    def end(self) -> int | None:
        """The scenario's last step (None for a market, which runs on)."""
        steps = scenarios.by_name(self.settings.scenario).params.get("steps")
        return int(steps) if steps else None

    def event_steps(self) -> list[int]:
        """The steps of the scheduled events (not live interventions), in every organisation."""
        return sorted({e.step for org in self.orgs for e in org.model.events})

    def next_stop(self) -> int | None:
        """The step at which Play pauses next, after the current one."""
        now = self.orgs[0].steps if self.orgs else 0
        stops = [self.end] if self.end is not None else []
        if self.run_to is not None:
            stops.append(self.run_to)
        if self.pause_at_events:
            stops += [step - 1 for step in self.event_steps()]  # just before: the room predicts first
        later = [s for s in stops if s > now]
        return min(later) if later else None

    def _stop_notice(self, now: int) -> str:
        coming = [text for org in self.orgs for step, text in org.marks if step == now + 1]
        if self.pause_at_events and coming:
            return (f"Paused at step {now}: in the next step, {coming[0]}. "
                    "Predict what happens, then press Play.")
        if self.run_to == now:
            return f"Paused at step {now}, as asked."
        return f"The scenario ends here, at step {now}."

    def reset(self) -> bool:
        self.run_to = None
        return self.rebuild()

    def intervene(self, kind: str, arg=None, target: str = "all") -> bool:
        """Apply a live intervention now: "leader_leaves", "shock" or "regime" (arg: name).
        `target` is "all", or the index ("0", "1") of one organisation in compare mode."""
        with self.lock:
            if not self.ok:
                return False
            chosen = self.orgs if target == "all" else [self.orgs[int(target)]]
            try:
                for org in chosen:
                    org.model.intervene(kind, arg)
                    org.marks.append((org.steps, describe(kind, arg)))
                    if kind == "regime":
                        org.label = f"{org.label.split(' →')[0]} → {arg}"
            except Exception as exc:  # the page shows it
                self.notice = readable(exc)
                return False
            finally:
                self.version += 1
            step = self.orgs[0].steps
            self.notice = {"leader_leaves": f"Member 0, the designated leader, left after step {step}.",
                           "shock": f"The market shifted after step {step}: demand was redrawn.",
                           "regime": f"Switched to {arg} leadership after step {step}."}.get(kind)
            return True

    def difference(self) -> dict | None:
        return paired_difference(self.orgs)


def paired_difference(orgs: list[LiveOrg]) -> dict | None:
    """The paired difference in value captured, first organisation (A) minus second (B): both
    face the same task stream, so the difference is the effect of how they are led."""
    if len(orgs) < 2:
        return None
    a, b = orgs[0].history, orgs[1].history
    n = min(len(a), len(b))
    per_a, per_b = a.array("value_captured")[:n], b.array("value_captured")[:n]
    return {"step": a.array("step")[:n], "per_step": per_a - per_b, "cumulative": np.cumsum(per_a - per_b),
            "total_a": float(per_a.sum()), "total_b": float(per_b.sum())}


def _variant_rest(base: dict, variant: dict) -> dict | None:
    """What a scenario variant sets beyond its scenario, other than its regime (the regime
    selects show that): nested, or None."""
    shared = _flat(base)
    rest = {k: v for k, v in _flat(variant).items() if k != "regime.name" and shared.get(k, object()) != v}
    return _nest(rest) or None

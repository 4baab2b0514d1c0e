"""Typed schema of every model parameter, with its range, meaning and theory construct.

This module is the single source of truth for parameters: the Hydra ConfigStore, the
Python API, the validation messages and the parameter table in docs/ODD.md all read the
dataclasses below.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

ORGS = ("hierarchy", "flat", "teams", "star", "file")
REGIMES = ("heroic", "hierarchical", "distributed", "hybrid")
ENGINES = ("agents", "numba")
ENV_DIR = Path(__file__).resolve().parents[1] / "configs" / "env"  # the env group's named presets


class ConfigError(ValueError):
    """A parameter is missing, unknown, of the wrong type or out of its allowed range."""


def param(default, lo=None, hi=None, doc="", construct="", choices=None):
    """A parameter with its allowed range, meaning and the theory construct it stands for."""
    meta = dict(lo=lo, hi=hi, doc=doc, construct=construct, choices=choices)
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class OrgConfig:
    name: str = param("flat", choices=ORGS, doc="org structure", construct="structure")
    span: int = param(5, 1, 1000, doc="reports per manager in `hierarchy`", construct="span of control")
    k: int = param(6, 2, 1000, doc="ties per member in `flat` (even)", construct="network density")
    rewire: float = param(0.1, 0, 1, doc="rewiring probability in `flat`", construct="small-world shortcuts")
    size: int = param(8, 2, 1000, doc="team size in `teams`", construct="team of teams")
    liaison: float = param(0.05, 0, 1, doc="chance a member has a cross-team tie in `teams`", construct="overlapping ties")
    path: Optional[str] = param(None, doc="GraphML or edge-list file for `file`", construct="a real org chart")


@dataclass
class RegimeConfig:
    name: str = param("distributed", choices=REGIMES, doc="leadership regime", construct="leadership regime")
    centralisation: float = param(0.5, 0, 1, doc="share of tasks a manager allocates in `hybrid` (the rest are open to self-selection)", construct="structure (centralisation)")
    decisions_per_step: int = param(2, 1, 10_000, doc="decisions a central decider makes per step", construct="decision capacity")
    cost_decide: float = param(0.01, 0, 1, doc="energy a decider spends per decision", construct="cost of deciding")
    cost_oversee: float = param(0.0002, 0, 1, doc="energy a decider spends per step per active task it staffed", construct="cost of oversight")
    restaff_below: float = param(0.7, 0, 1, doc="coverage under which an appointed lead asks to re-staff", construct="escalation")
    restaff_retry: int = param(10, 1, 100_000, doc="steps before a re-staff request is repeated", construct="escalation")
    report_loss: float = param(0.01, 0, 1, doc="chance a report is lost at each hop up the chain", construct="information filtering")
    max_radius: int = param(3, 1, 50, doc="hops over which word of a task spreads and teams recruit", construct="visibility of emergent work")
    succession_delay: int = param(40, 0, 100_000, doc="steps until a departed leader is replaced", construct="succession")


@dataclass
class EnvConfig:
    task_rate: float = param(0.009, 0, 10, doc="tasks arriving per member per step", construct="load")
    work_mean: float = param(18.0, 0.1, 1e6, doc="mean work content of a task", construct="load")
    patience: int = param(80, 1, 1_000_000, doc="steps from a task's birth to its deadline", construct="time pressure")
    complexity: float = param(2.0, 1, 64, doc="mean number of skill domains a task needs (1..K)", construct="complexity")
    drift: float = param(0.02, 0, 10, doc="size of demand's random walk per step", construct="turbulence (drift)")
    shock_rate: float = param(0.005, 0, 1, doc="chance per step that demand is redrawn", construct="turbulence (shocks)")
    turbulence: float = param(0.02, 0, 1, doc="chance per step that a task's needs change", construct="turbulence (changing work)")
    value_mean: float = param(1.0, 1e-9, 1e9, doc="mean value of a task", construct="stakes")


@dataclass
class CultureConfig:
    purpose: float = param(0.6, 0, 1, doc="weight of organisational value over private interest", construct="key 1: shared purpose")
    contribution: float = param(0.6, 0, 1, doc="readiness to join others' initiatives", construct="key 2: ethic of contribution")
    procedures: float = param(0.5, 0, 1, doc="how far procedures remove self-organisation overhead", construct="key 3: interdependent process management")
    trust0: float = param(0.5, 0, 1, doc="trust on the org chart's ties at the start", construct="key 4: collaborative infrastructure")
    trust_new: float = param(0.3, 0, 1, doc="trust on a newly formed tie", construct="key 4: collaborative infrastructure")
    omega: float = param(0.02, 0, 1, doc="trust gained per step of working together", construct="key 4: collaborative infrastructure")
    p_new_tie: float = param(0.05, 0, 1, doc="chance per step that untied co-workers form a tie", construct="key 4: collaborative infrastructure")
    fade: float = param(0.002, 0, 1, doc="pull of trust back toward its starting level per step", construct="key 4: collaborative infrastructure")
    autonomy0: float = param(0.5, 0, 1, doc="mean initial autonomous motivation", construct="SDT: relative autonomy")
    autonomy_spread: float = param(0.2, 0, 1, doc="half-width of the initial autonomy distribution", construct="SDT: relative autonomy")
    autonomy_support: float = param(0.0, 0, 1, doc="autonomy need met when work is assigned", construct="SDT: autonomy support")
    zeta: float = param(0.01, 0, 1, doc="speed of motivational change", construct="SDT: internalisation")
    mu: float = param(0.5, 0, 1, doc="effort lost to controlled motivation on complex work", construct="SDT: motivation x complexity")


@dataclass
class MemberConfig:
    n_domains: int = param(4, 2, 64, doc="skill domains K", construct="division of expertise")
    gain: float = param(20.0, 0, 1000, doc="steepness of the decision to step up", construct="stepping up")
    threshold: float = param(0.5, 0, 1, doc="score at which stepping up becomes likely", construct="stepping up")
    w_benefit: float = param(0.25, 0, 1, doc="weight of benefit in the claim score", construct="condition (a): beneficial")
    w_fit: float = param(0.25, 0, 1, doc="weight of fit in the claim score", construct="condition (b): equipped")
    w_energy: float = param(0.25, 0, 1, doc="weight of energy in the claim score", construct="condition (c): energy")
    w_support: float = param(0.25, 0, 1, doc="weight of support in the claim score", construct="condition (d): support")
    energy_min: float = param(0.3, 0, 1, doc="energy needed to be available", construct="condition (c): energy")
    team_max: int = param(5, 1, 64, doc="largest team", construct="team formation")
    coverage_target: float = param(0.8, 0, 1, doc="coverage at which a team is complete", construct="team formation")
    coord_cost: float = param(0.1, 0, 10, doc="coordination cost per extra team member", construct="coordination")
    self_org_overhead: float = param(0.3, 0, 10, doc="extra coordination cost of self-organised teams without procedures", construct="key 3: process management")
    cost_work: float = param(0.003, 0, 1, doc="energy a team member spends per step", construct="effort")
    cost_lead: float = param(0.005, 0, 1, doc="energy a lead spends per step", construct="effort of leading")
    recovery: float = param(0.1, 0, 1, doc="share of lost energy an idle member regains per step", construct="recovery")
    burnout: float = param(0.1, 0, 1, doc="energy below which a member burns out", construct="burnout")
    burnout_steps: int = param(20, 0, 1_000_000, doc="steps a burned-out member recovers", construct="burnout")
    eta: float = param(0.01, 0, 1, doc="learning by doing per step", construct="learning")
    eta_peer: float = param(0.01, 0, 1, doc="learning from teammates per step", construct="learning")
    forget: float = param(0.0005, 0, 1, doc="skill lost per step on unused domains", construct="learning")
    specialty: float = param(0.7, 0, 1, doc="mean initial skill in a member's specialty", construct="expertise")
    generalist: float = param(0.2, 0, 1, doc="mean initial skill outside the specialty", construct="expertise")


@dataclass
class EventsConfig:
    schedule: List[str] = param([], doc="events: leader_leaves@t, shock@t, regime@t:name, hire@t:n", construct="scenario")


@dataclass
class ModelConfig:
    n_members: int = param(200, 2, 100_000_000, doc="members at the start", construct="organisation size")
    steps: int = param(500, 1, 100_000_000, doc="steps of a run", construct="time horizon")
    seed: int = param(1, 0, 2**62, doc="seed of every random stream", construct="replication")
    engine: str = param("agents", choices=ENGINES, doc="engine that steps the model", construct="implementation")
    org: OrgConfig = field(default_factory=OrgConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    culture: CultureConfig = field(default_factory=CultureConfig)
    member: MemberConfig = field(default_factory=MemberConfig)
    events: EventsConfig = field(default_factory=EventsConfig)


GROUPS = ("org", "regime", "env", "culture", "member", "events")


def _leaf_index() -> dict[str, str]:
    """Map each leaf name that is unique across groups to its group, for flat keywords."""
    seen: dict[str, list[str]] = {}
    for group in GROUPS:
        for f in dataclasses.fields(ModelConfig.__dataclass_fields__[group].default_factory()):
            seen.setdefault(f.name, []).append(group)
    return {name: groups[0] for name, groups in seen.items() if len(groups) == 1 and name != "name"}


LEAVES = _leaf_index()


def _unknown(key: str, allowed) -> ConfigError:
    hint = difflib.get_close_matches(key, list(allowed), n=1)
    extra = f" (did you mean '{hint[0]}'?)" if hint else ""
    return ConfigError(f"unknown parameter '{key}'{extra}; allowed: {', '.join(sorted(allowed))}")


def _assign(obj, values: dict, prefix: str) -> None:
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in values.items():
        if key not in names:
            raise _unknown(prefix + key, [prefix + n for n in names])
        setattr(obj, key, value)


def make_config(config: Any = None, chart=None, **kwargs) -> ModelConfig:
    """Build a validated ModelConfig from a config object or dict plus keyword overrides.

    Groups may be given as dicts (`env={"turbulence": 0.5}`), as dataclasses, or by name for
    `org` and `regime` (`org="teams"`). Any leaf that is unique across groups may be given flat
    (`turbulence=0.5`). Events may be a list of strings or a single comma-separated string.
    `env` may also name a preset of configs/env/ (`env="turbulent"`). `chart` is an org chart
    parsed in memory (sim.chart.Chart) for `org="file"` without a path.
    """
    cfg = ModelConfig()
    if config is not None:
        kwargs = {**_as_dict(config), **kwargs}
    for key, value in kwargs.items():
        if key in GROUPS:
            group = getattr(cfg, key)
            if key == "events" and not isinstance(value, (dict, EventsConfig)) and not _is_mapping(value):
                value = {"schedule": value}
            elif key == "env" and isinstance(value, str):
                value = env_preset(value)
            elif isinstance(value, str):
                value = {"name": value}
            _assign(group, _as_dict(value), key + ".")
        elif key in {f.name for f in dataclasses.fields(ModelConfig)}:
            setattr(cfg, key, value)
        elif key in LEAVES:
            setattr(getattr(cfg, LEAVES[key]), key, value)
        else:
            raise _unknown(key, [f.name for f in dataclasses.fields(ModelConfig)] + list(LEAVES))
    cfg.events.schedule = _event_list(cfg.events.schedule)
    validate(cfg, chart)
    return cfg


def env_names() -> list[str]:
    return sorted(p.stem for p in ENV_DIR.glob("*.yaml"))


def env_preset(name: str) -> dict:
    """The values of a named environment, configs/env/<name>.yaml, as `env=<name>` gives them on
    the command line (a preset's Hydra defaults list is the default environment)."""
    import yaml

    path = ENV_DIR / f"{name}.yaml"
    if name not in env_names():
        raise ConfigError(f"env = {name!r} is not a preset; choose one of: {', '.join(env_names())} "
                          "(or give values, e.g. env={'turbulence': 0.1})")
    raw = yaml.safe_load(path.read_text()) or {}
    return {k: v for k, v in raw.items() if k != "defaults"}


def _is_mapping(value) -> bool:
    return hasattr(value, "keys") and hasattr(value, "items")


def _as_dict(value) -> dict:
    if dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if _is_mapping(value):
        try:  # an OmegaConf DictConfig resolves to plain containers
            from omegaconf import DictConfig, OmegaConf

            if isinstance(value, DictConfig):
                return OmegaConf.to_container(value, resolve=True)
        except ImportError:  # pragma: no cover
            pass
        return dict(value)
    raise ConfigError(f"expected a mapping of parameters, got {value!r}")


def _event_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v).strip() for v in value]


def _check_leaf(key: str, f: dataclasses.Field, value) -> None:
    meta = f.metadata
    if meta.get("choices"):
        if value not in meta["choices"]:
            raise ConfigError(f"{key} = {value!r} is not allowed; choose one of: {', '.join(meta['choices'])}")
        return
    if f.type in ("int", int):
        if isinstance(value, bool) or not isinstance(value, (int,)) and not (
            isinstance(value, float) and value.is_integer()
        ):
            raise ConfigError(f"{key} = {value!r} must be a whole number in [{meta['lo']}, {meta['hi']}]")
    elif f.type in ("float", float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{key} = {value!r} must be a finite number in [{meta['lo']}, {meta['hi']}]")
    else:
        return
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{key} = {value!r} is out of range; allowed [{lo}, {hi}]")


def _plain(value):
    """A numpy scalar (np.int64(60), np.float32(0.5), as designs and DataFrames give them) as the
    Python value it holds; anything else as it is."""
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


def _plain_values(cfg: ModelConfig) -> None:
    for f in dataclasses.fields(cfg):
        obj = getattr(cfg, f.name) if f.name in GROUPS else cfg
        names = [g.name for g in dataclasses.fields(obj)] if f.name in GROUPS else [f.name]
        for name in names:
            value = getattr(obj, name)
            if isinstance(value, list):
                setattr(obj, name, [_plain(v) for v in value])
            else:
                setattr(obj, name, _plain(value))


def validate(cfg: ModelConfig, chart=None) -> ModelConfig:
    """Check every parameter against its declared range; raise ConfigError naming the key.

    For `org=file` the chart is parsed here (once per file), so that a bad chart stops a run or
    a whole sweep before anything starts; the organisation then has the chart's size. `chart` is
    a chart already parsed in memory (sim.chart.Chart), as the page's uploads are."""
    _plain_values(cfg)
    for f in dataclasses.fields(cfg):
        if f.name in GROUPS:
            group = getattr(cfg, f.name)
            for g in dataclasses.fields(group):
                _check_leaf(f"{f.name}.{g.name}", g, getattr(group, g.name))
        else:
            _check_leaf(f.name, f, getattr(cfg, f.name))
    for group in ("org", "regime", "env", "member"):  # ints given as 3.0 become 3
        obj = getattr(cfg, group)
        for g in dataclasses.fields(obj):
            if g.type in ("int", int) and isinstance(getattr(obj, g.name), float):
                setattr(obj, g.name, int(getattr(obj, g.name)))
    for name in ("n_members", "steps", "seed"):
        setattr(cfg, name, int(getattr(cfg, name)))
    m = cfg.member
    weights = m.w_benefit + m.w_fit + m.w_energy + m.w_support
    if abs(weights - 1.0) > 1e-9:
        raise ConfigError(
            f"member.w_benefit + w_fit + w_energy + w_support = {weights:g}; the weights must sum to 1"
        )
    if cfg.regime.restaff_below >= m.coverage_target:  # MODEL.md: a lead asks for help below what a team aims for
        raise ConfigError(f"regime.restaff_below = {cfg.regime.restaff_below:g} is out of range; allowed "
                          f"[0, member.coverage_target = {m.coverage_target:g}) (a lead asks to re-staff below the "
                          "coverage a complete team has)")
    if cfg.env.complexity > m.n_domains:
        raise ConfigError(f"env.complexity = {cfg.env.complexity} is out of range; allowed [1, member.n_domains={m.n_domains}]")
    if cfg.org.name == "flat":
        if cfg.org.k % 2:
            raise ConfigError(f"org.k = {cfg.org.k} must be even for `flat`; allowed even numbers in [2, n_members-1]")
        if cfg.org.k >= cfg.n_members:
            raise ConfigError(f"org.k = {cfg.org.k} is out of range; allowed [2, n_members-1 = {cfg.n_members - 1}]")
    if cfg.org.name == "file":
        if chart is None:
            if not cfg.org.path:
                raise ConfigError("org.path is missing; `org=file` needs org.path=<GraphML or edge-list file>")
            from .chart import read  # late import: charts depend on this module

            chart = read(cfg.org.path)
        cfg.n_members = chart.n  # the chart says how many members there are
    elif cfg.org.path:
        raise ConfigError(f"org.path = {cfg.org.path!r} is set, but org = {cfg.org.name!r}; "
                          "org.path is used only with org=file")
    from .capacity import check_fits  # late imports: both depend on this module
    from .events import parse_schedule

    parse_schedule(cfg.events.schedule, cfg.steps)
    check_fits(cfg)
    return cfg


def flat_dict(cfg: ModelConfig) -> dict[str, Any]:
    """The resolved config as one flat dict with dotted keys, for result tables."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            for g in dataclasses.fields(value):
                v = getattr(value, g.name)
                out[f"{f.name}.{g.name}"] = ";".join(v) if isinstance(v, list) else v
        else:
            out[f.name] = value
    return out


def parameter_rows():
    """(key, default, range, meaning, construct) for every parameter, for the ODD table."""
    cfg = ModelConfig()
    for f in dataclasses.fields(cfg):
        items = [(f"{f.name}.{g.name}", g) for g in dataclasses.fields(getattr(cfg, f.name))] if f.name in GROUPS else [(f.name, f)]
        for key, g in items:
            meta = g.metadata
            default = g.default if g.default is not dataclasses.MISSING else g.default_factory()
            allowed = " / ".join(meta["choices"]) if meta.get("choices") else (
                f"[{meta['lo']}, {meta['hi']}]" if meta.get("lo") is not None else "")
            yield key, default, allowed, meta.get("doc", ""), meta.get("construct", "")

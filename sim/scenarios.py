"""Scenario presets: the YAML files in configs/scenario/, read the same way by the command line
(`uv run leadsim +scenario=<name>`, through Hydra) and by the browser page (through this module).

A preset is a `# @package _global_` file with a `scenario:` block (name, title, description, a
"predict first" prompt, what to watch, and optional variants for a side-by-side comparison) and
plain model parameters (dotted keys or nested groups). It uses no Hydra defaults list, so that it
reads as plain YAML here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .config import make_config

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "configs" / "scenario"
APP_ONLY = {"compare", "progress", "design", "design_row", "hydra", "scenario"}


@dataclass
class Scenario:
    name: str
    title: str
    description: str
    predict: str
    watch: str
    params: dict  # keyword arguments for LeadershipModel (nested groups as dicts)
    variants: list = field(default_factory=list)  # [(label, params)] for a side-by-side run
    plots: list = field(default_factory=list)  # the page's plots that `watch` names, by title

    def model_params(self, **extra) -> dict:
        """The scenario's parameters, with `extra` on top (nested groups merged)."""
        return _merge(self.params, _nest(extra))


def _nest(flat: dict) -> dict:
    """{"env.turbulence": 0.1} -> {"env": {"turbulence": 0.1}}; nested input passes through."""
    out: dict = {}
    for key, value in flat.items():
        group, dot, leaf = str(key).partition(".")
        if dot:
            out.setdefault(group, {})[leaf] = value
        elif isinstance(value, dict):
            out.setdefault(group, {}).update(value)
        else:
            out[group] = value
    return out


def _merge(base: dict, extra: dict) -> dict:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def apply_overrides(cfg, overrides: dict):
    """A validated copy of a ModelConfig with dotted-key overrides applied (a variant's)."""
    import dataclasses

    return make_config(**_merge(dataclasses.asdict(cfg), _nest(overrides)))


def load(name: str) -> Scenario:
    path = SCENARIO_DIR / f"{name}.yaml"
    if not path.is_file():
        raise KeyError(f"unknown scenario {name!r}; choose one of: {', '.join(names())}")
    raw = yaml.safe_load(path.read_text()) or {}
    info = raw.get("scenario", {})
    params = _nest({k: v for k, v in raw.items() if k not in APP_ONLY})
    variants = [(v["label"], _merge(params, _nest(v.get("overrides", {})))) for v in info.get("variants", [])]
    for label, p in [("base", params)] + variants:
        make_config(**p)  # a preset that does not validate is a bug: fail loudly, naming the key
    return Scenario(name=info.get("name", name), title=info.get("title", name),
                    description=info.get("description", ""), predict=info.get("predict", ""),
                    watch=info.get("watch", ""), params=params, variants=variants, plots=list(info.get("plots", [])))


def names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def all_scenarios() -> list[Scenario]:
    return [load(n) for n in names()]

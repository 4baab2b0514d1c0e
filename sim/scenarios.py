"""Scenario presets: the YAML files in configs/scenario/, read the same way by the command line
(`uv run leadsim +scenario=<name>`, through Hydra) and by the browser page (through this module).

A preset is a `# @package _global_` file with a `scenario:` block (name, title, description, a
"predict first" prompt, what to watch, and optional variants for a side-by-side comparison) and
plain model parameters (dotted keys or nested groups). It uses no Hydra defaults list, so that it
reads as plain YAML here.

Its optional `prediction:` block says what the page checks the room's prediction against: a
question, a measure (sim/viz/predictions.py computes it from the per-step observables), a window
of steps, a kind (a number, a choice among options, or a ranking of them) and the options, each a
variant or the change from one variant to another. `load` validates it like the variants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .config import ConfigError, make_config

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "configs" / "scenario"
APP_ONLY = {"compare", "progress", "design", "design_row", "threads", "hydra", "scenario"}


PREDICTION_KINDS = ("number", "choice", "ranking")


@dataclass(frozen=True)
class PredictionOption:
    """One answer the room can give: a variant's measure, or (with a baseline) its change from
    the baseline variant's. For a scenario without variants, `variant` may name a regime."""

    label: str
    variant: str
    baseline: str = ""


@dataclass(frozen=True)
class Prediction:
    """What a scenario's prediction is checked against (see the module's docstring)."""

    question: str
    measure: str
    window: tuple[int, int]  # the first and last step the measure covers, both included
    kind: str  # one of PREDICTION_KINDS
    options: tuple[PredictionOption, ...]
    pick: str = "higher"  # choice: the answer scores higher (or lower); ranking: which comes first
    tolerance: float | None = None  # number: the largest error counted right, in the measure's unit


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
    prediction: Prediction | None = None  # what the page checks the room's prediction against

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
    prediction = parse_prediction(info.get("prediction"), [label for label, _ in variants], params.get("steps"),
                                  where=f"scenario {name}")
    return Scenario(name=info.get("name", name), title=info.get("title", name),
                    description=info.get("description", ""), predict=info.get("predict", ""),
                    watch=info.get("watch", ""), params=params, variants=variants, plots=list(info.get("plots", [])),
                    prediction=prediction)


def parse_prediction(raw: dict | None, variants: list[str], steps: int | None = None,
                     where: str = "scenario") -> Prediction | None:
    """A `prediction:` block checked and made typed (None when the scenario declares none).
    Raises ConfigError naming the key, as a preset that does not validate is a bug."""
    if not raw or not raw.get("measure"):
        return None

    def bad(key: str, value, why: str):
        raise ConfigError(f"{where}: prediction.{key} = {value!r} {why}")

    kind, pick = raw.get("kind", ""), raw.get("pick", "higher")
    if kind not in PREDICTION_KINDS:
        bad("kind", kind, f"is not one of {', '.join(PREDICTION_KINDS)}")
    if pick not in ("higher", "lower"):
        bad("pick", pick, "is not higher or lower")
    if not str(raw.get("question", "")).strip():
        bad("question", raw.get("question"), "is empty: the page asks it")
    window = raw.get("window")
    if (not isinstance(window, (list, tuple)) or len(window) != 2
            or not all(isinstance(w, int) and not isinstance(w, bool) for w in window)
            or not 0 <= window[0] < window[1] or (steps is not None and window[1] > int(steps))):
        bad("window", window, f"is not [first, last] steps with 0 <= first < last <= {steps or 'the last step'}")
    options = []
    for i, item in enumerate(raw.get("options") or [{"variant": label} for label in variants]):
        item = dict(item)
        for key in ("variant", "baseline"):
            if item.get(key) and variants and item[key] not in variants:
                bad(f"options[{i}].{key}", item[key], f"is not a variant: {', '.join(variants)}")
        if not item.get("variant"):
            bad(f"options[{i}].variant", item.get("variant"), "is missing")
        options.append(PredictionOption(label=str(item.get("label") or item["variant"]), variant=str(item["variant"]),
                                        baseline=str(item.get("baseline") or "")))
    labels = [o.label for o in options]
    if len(set(labels)) != len(labels):
        bad("options", labels, "repeat a label")
    least = {"number": 1, "choice": 2, "ranking": 3}[kind]
    if len(options) < least:
        bad("options", labels, f"are too few for a {kind} (at least {least})")
    tolerance = raw.get("tolerance")
    if kind == "number" and (not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool)
                             or not tolerance > 0):
        bad("tolerance", tolerance, "must be a number above 0 for a number prediction")
    return Prediction(question=" ".join(str(raw["question"]).split()), measure=str(raw["measure"]),
                      window=(int(window[0]), int(window[1])), kind=kind, options=tuple(options), pick=pick,
                      tolerance=None if tolerance is None else float(tolerance))


def names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def all_scenarios() -> list[Scenario]:
    return [load(n) for n in names()]

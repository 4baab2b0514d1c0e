"""Predict first, then check the question the exercise actually asks.

A scenario declares what the room predicts (its `prediction:` block, parsed by sim.scenarios into a
`Prediction`): a measure, a window of steps, a kind and the options. This module computes the
measures from a run's per-step observables (sim/observe.py's names, through `model.metrics()`),
gathers each option's value once the page's run has reached the end of the window, and checks the
room's guess against them:

- number: one number per option, right when every one is within the declared tolerance;
- choice: the option that scores highest (or lowest), right when the room picked it;
- ranking: the options in order, right when the whole order is; the error counts pairs in order.

An option's value comes from the page's own organisation when one runs that variant, and otherwise
from a run made here with the page's settings (scenario, sliders, size, seed), so every option
faces the same task stream (common random numbers). Measures of an event compare the run with the
same run without its scheduled events, as the exercise pages do (observe.event_impact).

Nothing here imports solara, so the logic is tested without a browser (tests/test_predictions.py).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .. import observe
from ..config import REGIMES
from ..scenarios import Prediction, PredictionOption, Scenario, _merge
from . import scenarios
from .live import Session, Settings, page_model

TIE = 1e-12  # options closer than this score the same


def _window(metrics: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    return metrics[(metrics["step"] >= first) & (metrics["step"] <= last)]


def _at(metrics: pd.DataFrame, column: str, step: int) -> float:
    row = metrics.loc[metrics["step"] == step, column]
    return float(row.iloc[0]) if len(row) else math.nan


def value_share(metrics, twin, first, last) -> float:
    w = _window(metrics, first, last)
    arrived = float(w["value_arrived"].sum())
    return float(w["value_captured"].sum()) / arrived if arrived > 0 else math.nan


def value_lost_after_event(metrics, twin, first, last) -> float:
    """The share of value lost from the event (at `first`) to `last`: what the same run without
    the event captured and this one did not, as a share of what that run captured (as
    docs/workshop/make_figures.py's `impact_value_lost_share`)."""
    run, control = metrics[metrics["step"] <= last], twin[twin["step"] <= last]
    lost = observe.event_impact(run, control, first)["value_lost"]
    kept = float(run.loc[run["step"] >= first, "value_captured"].sum())
    return lost / (kept + lost) if kept + lost > 0 else math.nan


def steps_to_recover(metrics, twin, first, last) -> float:
    """Steps from the event until the 40-step value share is back within 10% of the same run
    without the event (observe.event_impact); infinite when not back by `last`."""
    impact = observe.event_impact(metrics[metrics["step"] <= last], twin[twin["step"] <= last], first)
    steps = impact["steps_to_recover"]
    return math.inf if steps is None or (isinstance(steps, float) and math.isnan(steps)) else float(steps)


def time_lost_to_burnout(metrics, twin, first, last) -> float:
    """The share of member-steps spent recovering from burnout (out of work) in the window."""
    return float(_window(metrics, first, last)["share_recovering"].mean())


@dataclass(frozen=True)
class Measure:
    title: str  # what it is, as a phrase ("share of value lost after the event")
    compute: Callable[[pd.DataFrame, pd.DataFrame | None, int, int], float]
    percent: bool = False  # a share, shown and predicted in percent
    unit: str = ""  # the unit of a number that is not a share ("steps")
    digits: int = 2  # decimals shown (percent: of the percentage)
    twin: bool = False  # needs the same run without its scheduled events
    end: bool = False  # read at the last step of the window only


MEASURES: dict[str, Measure] = {
    "value_share": Measure("share of the arriving value captured", value_share, percent=True, digits=1),
    "value_captured": Measure("value captured", lambda m, t, a, b: float(_window(m, a, b)["value_captured"].sum()),
                              digits=1),
    "value_lost_after_event": Measure("share of value lost after the event (against the same run without it)",
                                      value_lost_after_event, percent=True, digits=1, twin=True),
    "steps_to_recover": Measure("steps to recover from the event", steps_to_recover, unit="steps", digits=0,
                                twin=True),
    "time_lost_to_burnout": Measure("share of working time lost to burnout", time_lost_to_burnout, percent=True,
                                    digits=1),
    "mean_utilisation": Measure("share of members on a team (utilisation)",
                                lambda m, t, a, b: float(_window(m, a, b)["utilisation"].mean()), percent=True,
                                digits=1),
    "mean_autonomy_at_end": Measure("mean autonomy (0 to 1)", lambda m, t, a, b: _at(m, "mean_autonomy", b),
                                    end=True),
    "mean_trust_at_end": Measure("mean trust (0 to 1)", lambda m, t, a, b: _at(m, "mean_trust", b), end=True),
    "mean_energy_at_end": Measure("mean energy (0 to 1)", lambda m, t, a, b: _at(m, "mean_energy", b), end=True),
}


def measure(spec: Prediction) -> Measure:
    try:
        return MEASURES[spec.measure]
    except KeyError:
        raise KeyError(f"prediction.measure = {spec.measure!r} is not one of: {', '.join(MEASURES)}") from None


def changes(spec: Prediction) -> bool:
    """Whether the options are changes (from a baseline variant) rather than levels."""
    return any(o.baseline for o in spec.options)


def window_text(spec: Prediction) -> str:
    first, last = spec.window
    return f"at step {last}" if measure(spec).end else f"steps {first}\u2013{last}"


def measure_text(spec: Prediction) -> str:
    """What is measured, as the box and the scorecard say it."""
    title = measure(spec).title
    return f"change in {title}" if changes(spec) else title


def fmt(spec: Prediction, value: float) -> str:
    """A value of the spec's measure as the page shows it (a change shows its sign)."""
    m = measure(spec)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not measurable"
    if math.isinf(value):
        return f"not back by step {spec.window[1]}"
    sign = "+" if changes(spec) else ""
    if m.percent:
        text = f"{value * 100:{sign}.{m.digits}f}" + (" points" if changes(spec) else "%")
    else:
        text = f"{value:{sign}.{m.digits}f} {m.unit}".strip()
    return text.replace("-", "\u2212")  # a minus sign, as the workshop pages print it


def input_unit(spec: Prediction) -> str:
    """The unit the room types a number in: percent for shares, the measure's own unit otherwise."""
    m = measure(spec)
    return "%" if m.percent else m.unit


def to_input(spec: Prediction, value: float) -> float:
    return value * 100 if measure(spec).percent else value


# ----- the room's guess and its check ---------------------------------------------------------
@dataclass(frozen=True)
class Guess:
    """What the room predicted: the part the kind asks for, plus its own words."""

    choice: str = ""  # choice: an option's label
    numbers: tuple = ()  # number: one value per option (in the input unit), None where not given
    ranking: tuple = ()  # ranking: option labels, first to last
    words: str = ""


def complete(spec: Prediction, guess: Guess) -> bool:
    """Whether the guess answers the question, so that it can be locked in and checked."""
    labels = [o.label for o in spec.options]
    if spec.kind == "choice":
        return guess.choice in labels
    if spec.kind == "number":
        return len(guess.numbers) == len(labels) and all(
            isinstance(v, (int, float)) and math.isfinite(v) for v in guess.numbers)
    return sorted(guess.ranking) == sorted(labels) and len(set(guess.ranking)) == len(labels)


def order_word(spec: Prediction) -> str:
    return "highest" if spec.pick == "higher" else "lowest"


def describe(spec: Prediction, guess: Guess) -> str:
    """The guess as one line, for the box and the scorecard."""
    if spec.kind == "choice":
        text = f"{guess.choice}" if guess.choice else "no pick"
    elif spec.kind == "number":
        unit = input_unit(spec)
        parts = [f"{o.label} {'?' if v is None else _number(v, unit)}" for o, v in zip(spec.options, guess.numbers)]
        text = "; ".join(parts) if parts else "no number"
    else:
        text = " > ".join(guess.ranking) if spec.pick == "higher" else " < ".join(guess.ranking)
    words = " ".join(guess.words.split())
    return f"{text}. \u201c{words}\u201d" if words else text


def _number(value: float, unit: str) -> str:
    text = f"{value:g}".replace("-", "\u2212")
    return f"{text}%" if unit == "%" else f"{text} {unit}".strip()


@dataclass(frozen=True)
class Verdict:
    right: bool | None  # None: the outcome could not be measured
    outcome: str  # what happened, as a sentence
    error: str  # how far the guess was off ("" when right, or for a choice that was right)
    values: tuple  # ((label, value), ...) in the spec's order


def _sorted(spec: Prediction, values: dict) -> list[str]:
    """Option labels in the spec's order of merit (highest first, or lowest first)."""
    sign = -1 if spec.pick == "higher" else 1
    return sorted(values, key=lambda label: (sign * values[label], label))


def check(spec: Prediction, guess: Guess, values: dict) -> Verdict:
    """The guess against the options' values (labels to values in the measure's own units)."""
    pairs = tuple((o.label, values[o.label]) for o in spec.options)
    listed = ", ".join(f"{label} {fmt(spec, v)}" for label, v in pairs)
    head = f"{measure_text(spec)[:1].upper()}{measure_text(spec)[1:]}, {window_text(spec)}: {listed}."
    if any(isinstance(v, float) and math.isnan(v) for _, v in pairs):
        return Verdict(None, f"{head} It could not be measured, so the prediction is not checked.", "", pairs)
    if spec.kind == "choice":
        order = _sorted(spec, values)
        best = [label for label in order if abs(values[label] - values[order[0]]) <= TIE
                or values[label] == values[order[0]]]
        answer = " and ".join(best)
        outcome = f"{head} {order_word(spec).capitalize()}: {answer}."
        right = guess.choice in best
        place = order.index(guess.choice) + 1 if guess.choice in order else 0
        error = "" if right or not place else f"{guess.choice} came {_ordinal(place)} of {len(order)}"
        return Verdict(right, outcome, error, pairs)
    if spec.kind == "number":
        errors = []
        for (label, actual), typed in zip(pairs, guess.numbers):
            shown = to_input(spec, actual)
            errors.append((label, abs(float(typed) - shown) if math.isfinite(shown) else math.inf))
        right = all(err <= float(spec.tolerance) + 1e-9 for _, err in errors)
        unit = input_unit(spec)
        off = "; ".join(f"{label} off by {_off(err, unit)}" for label, err in errors)
        tol = f"within {_off(float(spec.tolerance), unit)} counts as right"
        return Verdict(right, f"{head} ({tol}.)", off, pairs)
    order = _sorted(spec, values)
    joiner = " > " if spec.pick == "higher" else " < "
    outcome = f"{head} In order: {joiner.join(order)}."
    guessed = list(guess.ranking)
    total = len(order) * (len(order) - 1) // 2
    # a pair is in order when the room put the better one first; options that tie count either way
    agree = sum(1 for i in range(len(guessed)) for j in range(i + 1, len(guessed))
                if _merit(spec, values, guessed[i]) >= _merit(spec, values, guessed[j]) - TIE)
    right = agree == total
    return Verdict(right, outcome, "" if right else f"{agree} of {total} pairs in the right order", pairs)


def _merit(spec: Prediction, values: dict, label: str) -> float:
    return values[label] if spec.pick == "higher" else -values[label]


def _off(err: float, unit: str) -> str:
    if math.isinf(err):
        return "an unmeasurable amount"
    if unit == "%":
        return f"{err:.1f} points"
    return f"{err:.2f}" if not unit else f"{err:.0f} {unit}"


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


# ----- what the page checks, and the runs it checks against -----------------------------------
DEFAULT_WINDOW = (1, 100)


def spec_for(preset: Scenario, labels: list[str]) -> Prediction:
    """The scenario's declared prediction; for one that declares none (the markets), the value
    share over the first 100 steps: which of the page's organisations captures more (compare
    mode), or what share the organisation captures (one organisation)."""
    if preset.prediction is not None:
        measure(preset.prediction)  # an unknown measure is a bug in the preset: say so at once
        return preset.prediction
    options = tuple(PredictionOption(label=label, variant=label) for label in labels)
    last = DEFAULT_WINDOW[1]
    if len(options) >= 2:
        return Prediction(question="Which organisation captures the larger share of the value that arrives in the "
                                   f"first {last} steps?", measure="value_share", window=DEFAULT_WINDOW,
                          kind="choice", options=options)
    return Prediction(question=f"What share of the value that arrives in the first {last} steps does the "
                               "organisation capture?", measure="value_share", window=DEFAULT_WINDOW,
                      kind="number", options=options, tolerance=5.0)


def steps_to_go(spec: Prediction, step: int) -> int:
    """Steps the page's run must still go before the prediction can be checked."""
    return max(0, spec.window[1] - int(step))


class Stale(RuntimeError):
    """The page moved on to another scenario before the check began: it waits for its own."""


def variant_params(settings: Settings, variant: str) -> dict:
    """The model keywords the page would run `variant` (a scenario variant's label or, for a
    scenario without variants, a regime) with, under these settings."""
    labels = [label for label, _ in scenarios.by_name(settings.scenario).variants]
    if variant in labels:
        settings = dataclasses.replace(settings, compare=False, variant_a=labels.index(variant))
    elif not labels and variant in REGIMES:
        settings = dataclasses.replace(settings, compare=False, regime=variant)
    else:
        raise KeyError(f"{variant!r} is neither a variant of this scenario nor on the page")
    side = Session(settings)
    if not side.ok:
        raise ValueError(side.error)
    return side.orgs[0].params


def run_metrics(params: dict, steps: int) -> pd.DataFrame:
    """A run made here, as the page would make it, to `steps`."""
    model = page_model(params)
    for _ in range(steps):
        model.step()
    return model.metrics()


def without_events(params: dict) -> dict:
    return _merge(params, {"events": {"schedule": []}})


def gather(spec: Prediction, session: Session, scenario: str | None = None) -> dict:
    """Each option's value. The page's settings and organisations are read once, under the
    session's lock (raising Stale if the page no longer shows `scenario`); other variants, and
    the runs without events that event measures compare with, run outside it."""
    last = spec.window[1]
    m = measure(spec)
    with session.lock:
        settings = session.settings
        if scenario is not None and settings.scenario != scenario:
            raise Stale(f"the page shows {settings.scenario!r}, not {scenario!r}")
        live = {org.label: (org.model.metrics(), org.params) for org in session.orgs if org.steps >= last}
    runs = {}
    for variant in dict.fromkeys(v for o in spec.options for v in (o.variant, o.baseline) if v):
        if variant in live:
            metrics, params = live[variant]
        else:
            params = variant_params(settings, variant)
            metrics = run_metrics(params, last)
        runs[variant] = (metrics, run_metrics(without_events(params), last) if m.twin else None)
    first = spec.window[0]
    values = {}
    for o in spec.options:
        value = m.compute(*runs[o.variant], first, last)
        if o.baseline:
            value -= m.compute(*runs[o.baseline], first, last)
        values[o.label] = value
    return values

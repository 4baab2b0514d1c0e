"""Regenerate the workshop's figures, numbers and handouts from real runs of the scenario presets.

    uv run python docs/workshop/make_figures.py [--members N --steps T --seeds S --out DIR]
    uv run python docs/workshop/make_figures.py --scenario four_keys      # a quick look: print only

Every preset in configs/scenario/ is run with each of its variants on the same seeds, so variants
face the identical task stream and their differences are paired. Into DIR (default: docs/workshop)
the script writes

    figures/<scenario>.png        the key figure of each exercise
    figures/handout-*.png         small single-panel figures for the post-session sheet
    figures/numbers.json          every number the guide quotes (means, 95% CIs, per-seed values)
    figures/numbers.md            the same numbers as Markdown
    handout-before.html           the pre-session sheet (A4, two sides): the model, the theory and
                                  each exercise's question with room for a prediction; no results
    handout-after.html            the post-session sheet (A4, one side): what the model did, with the
                                  figures embedded as base64 PNGs

and rewrites, in every DIR/*.md, the blocks between `<!-- numbers:NAME:start -->` and
`<!-- numbers:NAME:end -->` (NAME is a scenario, or `overview`), so the guide never quotes a number
that the model did not produce. With --scenario, it runs only those presets, prints their tables
and writes nothing unless --out is given.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import html
import json
import logging
import math
import re
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, not windows
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere in the repo

from sim import scenarios  # noqa: E402
from sim.config import EventsConfig  # noqa: E402
from sim.model import LeadershipModel  # noqa: E402
from sim.observe import event_impact  # noqa: E402

WORKSHOP = Path(__file__).resolve().parent
ARRIVING = dict(color="0.5", linewidth=1, linestyle=":")
REGIME_COLOURS = {"heroic": "#d95f02", "hierarchical": "#7570b3", "distributed": "#1b9e77"}

# How each measure reads in tables and on axes: (label, format).
MEASURES = {
    "value_share": ("value share captured", "{:.3f}"),
    "completion_rate": ("completion rate", "{:.3f}"),
    "mean_utilisation": ("utilisation", "{:.2f}"),
    "burnout_share": ("time lost to burnout", "{:.1%}"),
    "hero_out_share": ("member 0 out with burnout", "{:.0%}"),
    "final_energy": ("final mean energy", "{:.2f}"),
    "final_autonomy": ("final mean autonomy", "{:.2f}"),
    "final_trust": ("final mean trust", "{:.2f}"),
    "impact_value_lost": ("value lost after the event", "{:.1f}"),
    "impact_value_lost_share": ("share of value lost after the event", "{:.1%}"),
    "control_value_share": ("value share had nobody left", "{:.3f}"),
    "impact_worst_window": ("worst 40-step window vs no event", "{:.2f}"),
    "impact_steps_to_recover": ("steps to recover", "{:.0f}"),
    "value_40": ("value captured per step (40-step average)", "{:.2f}"),
    "backlog": ("backlog (open + active tasks)", "{:.0f}"),
    "mean_energy": ("mean energy", "{:.2f}"),
    "share_recovering": ("share of members recovering", "{:.1%}"),
    "hero_energy": ("member 0's energy", "{:.2f}"),
    "mean_autonomy": ("mean autonomy (SDT)", "{:.2f}"),
    "mean_trust": ("mean trust", "{:.2f}"),
    "utilisation": ("utilisation (share on a team)", "{:.2f}"),
}

# What each exercise shows. Panels: ("series", per-step column) or ("dots", per-run measure).
# Contrasts are paired differences across seeds: (text, measure, {variant: weight}, expected sign);
# `headline` picks those quoted in the guide's overview.
# The guide's prose states the expected sign (None: the prose makes no claim), and the script
# warns when a rerun no longer shows it, so the prose cannot silently drift from the model.
def minus(a: str, b: str, measure: str = "value_share", expect: int | None = None, text: str | None = None):
    """The paired difference a - b."""
    return (text or f"{a} minus {b}", measure, {a: 1, b: -1}, expect)


def loss_vs(a: str, b: str, calm: str, rough: str, expect: int | None):
    """How much more a's value share drops from `calm` to `rough` than b's (difference in differences)."""
    return (f"{a}: change from {calm} to {rough}, minus {b}'s", "value_share",
            {f"{a} · {rough}": 1, f"{a} · {calm}": -1, f"{b} · {rough}": -1, f"{b} · {calm}": 1}, expect)


SV, SR = "autonomy-supportive managers", "controlling managers"
ALL_KEYS = ["purpose", "contribution", "procedures", "infrastructure"]
SPECS = {
    "hero_leaves": dict(
        panels=[("series", "value_40"), ("series", "backlog"), ("dots", "impact_value_lost_share"),
                ("dots", "impact_worst_window")],
        table=["control_value_share", "value_share", "impact_value_lost_share", "impact_worst_window",
               "impact_steps_to_recover"],
        contrasts=[minus("heroic", "distributed", "impact_value_lost_share", +1),
                   minus("heroic", "distributed", "control_value_share")],  # no direction: about level
        handout=("series", "value_40")),
    "burnout": dict(
        reference_condition="rested",
        panels=[("series", "mean_energy"), ("series", "hero_energy"), ("dots", "burnout_share"),
                ("dots", "value_share")],
        table=["value_share", "completion_rate", "burnout_share", "final_energy", "hero_out_share"],
        contrasts=[minus(f"{r} · strained", f"{r} · rested", expect=-1, text=f"{r}: strained minus rested")
                   for r in ("heroic", "hierarchical", "distributed")] + [
            minus("hierarchical · strained", "distributed · strained", "burnout_share", +1),
            minus("hierarchical · strained", "distributed · strained", "value_share", -1),
            minus("heroic · strained", "distributed · strained", "burnout_share", -1),
            minus("heroic · strained", "heroic · rested", "hero_out_share", +1)],
        headline=[3, 6]),
    "controlled_vs_autonomous": dict(
        panels=[("series", "mean_autonomy"), ("dots", "value_share"), ("dots", "burnout_share")],
        table=["final_autonomy", "value_share", "completion_rate", "burnout_share", "final_trust"],
        contrasts=[minus(SV, SR, "final_autonomy", +1), minus(SV, SR, "value_share", +1),
                   minus(SV, SR, "burnout_share", None),
                   minus(SV, "distributed (work chosen)", "final_autonomy", +1),
                   minus(SV, "distributed (work chosen)", "value_share", +1)],
        headline=[0, 1],
        handout=("series", "mean_autonomy")),
    "building_the_network": dict(
        reference_condition="frozen",
        panels=[("series", "mean_trust"), ("series", "value_40"), ("dots", "value_share")],
        table=["value_share", "completion_rate", "final_trust", "mean_utilisation", "final_autonomy"],
        contrasts=[minus(f"{r} · ties grow", f"{r} · frozen", expect=+1, text=f"{r}: ties grow minus frozen")
                   for r in ("distributed", "hierarchical")]
        + [minus(f"distributed · {c}", f"hierarchical · {c}", expect=-1) for c in ("ties grow", "frozen")]
        + [minus("hierarchical · ties grow", "distributed · ties grow", "final_trust", +1)],
        headline=[0, 2]),
    "four_keys": dict(
        colours="each", reference="none",
        panels=[("dots", "value_share"), ("dots", "mean_utilisation"), ("dots", "final_autonomy")],
        table=["value_share", "completion_rate", "mean_utilisation", "final_autonomy", "final_trust"],
        contrasts=[minus(k, "none", expect=sign) for k, sign in zip(ALL_KEYS, (None, None, +1, +1))] + [
            minus("all four", "none", expect=+1),
            ("all four together minus the sum of each key alone (synergy)", "value_share",
             {"all four": 1, **{k: -1 for k in ALL_KEYS}, "none": 3}, +1),
            minus("hierarchical · all four", "hierarchical · none", expect=+1),
            minus("purpose", "none", "completion_rate", -1),
            minus("none", "hierarchical · none", expect=-1),
            minus("all four", "hierarchical · all four", expect=+1)],
        headline=[4, 5],
        handout=("dots", "value_share")),
    "turbulent_market": dict(
        reference_condition="calm",
        panels=[("dots", "value_share"), ("dots", "completion_rate"), ("dots", "mean_utilisation")],
        table=["value_share", "completion_rate", "mean_utilisation", "burnout_share"],
        contrasts=[minus(f"{r} · turbulent", f"{r} · calm", expect=-1, text=f"{r}: turbulent minus calm")
                   for r in ("hierarchical", "distributed", "distributed + procedures")] + [
            loss_vs("distributed", "hierarchical", "calm", "turbulent", -1),
            loss_vs("distributed + procedures", "hierarchical", "calm", "turbulent", +1),
            minus("distributed + procedures · turbulent", "hierarchical · turbulent", expect=+1)],
        headline=[3, 4],
        handout=("dots", "value_share")),
}
HANDOUT_ORDER = ["hero_leaves", "controlled_vs_autonomous", "four_keys", "turbulent_market"]


# ----- running ------------------------------------------------------------------------------
def rescale_events(schedule, preset_steps: int, steps: int) -> list[str]:
    """Move scheduled events in proportion when a run is shorter or longer than the preset's."""
    out = []
    for text in schedule:
        kind, _, rest = str(text).partition("@")
        when, colon, arg = rest.partition(":")
        at = min(steps, max(1, round(int(when) * steps / preset_steps)))
        out.append(f"{kind}@{at}{colon}{arg}")
    return out


def scenario_params(scn, label: str, members: int, steps: int | None) -> dict:
    """The model keywords of one variant (or "base") at the requested size."""
    params = scn.params if label == "base" else dict(scn.variants)[label]
    preset_steps = int(params.get("steps", 500))
    steps = steps or preset_steps
    schedule = params.get("events", {}).get("schedule", [])
    extra = {"n_members": members, "steps": steps, "engine": "numba",
             "events": {"schedule": rescale_events(schedule, preset_steps, steps)}}
    return scenarios._merge(params, extra)


def run_one(params: dict, seed: int) -> tuple[pd.DataFrame, dict]:
    """One run: per-step metrics (with member 0's energy) and the run's results."""
    model = LeadershipModel(seed=seed, **params)
    s = model.state
    hero_energy, hero_out = [float(s.energy[0])], [False]
    for _ in range(model.cfg.steps):
        model.step()
        hero_energy.append(float(s.energy[0]))
        hero_out.append(bool(s.step < s.recover_until[0]) and not s.gone[0])
    metrics = model.metrics().assign(hero_energy=hero_energy)
    result = model.summary()
    result.update(
        burnout_share=result["burnout_days"] / (model.cfg.n_members * model.cfg.steps),
        final_trust=float(metrics["mean_trust"].iloc[-1]),
        hero_out_share=float(np.mean(hero_out[1:])))
    if model.events:  # the first event against the same seed without any (the paired control)
        event = model.events[0]
        control = LeadershipModel(config=dataclasses.replace(model.cfg, events=EventsConfig(schedule=[])))
        control.run_for(model.cfg.steps)
        impact = event_impact(metrics, control.metrics(), event.step)
        kept = float(metrics.loc[metrics["step"] >= event.step, "value_captured"].sum())
        result.update(impact_value_lost=impact["value_lost"], impact_worst_window=impact["worst_window_ratio"],
                      impact_value_lost_share=impact["value_lost"] / (kept + impact["value_lost"]),
                      # counted as value_share is: the tasks that could end (sim.observe.summary)
                      control_value_share=control.summary()["value_share"],
                      impact_steps_to_recover=impact["steps_to_recover"])
    return metrics, result


def run_scenario(scn, members: int, steps: int | None, seeds) -> dict:
    frames, rows = [], []
    for label, _ in scn.variants:
        params = scenario_params(scn, label, members, steps)
        for seed in seeds:
            metrics, result = run_one(params, seed)
            frames.append(metrics.assign(variant=label, seed=seed, run=f"{label}/{seed}"))
            rows.append({"variant": label, "seed": seed, "regime_of_variant": result["regime"], **result})
    metrics = pd.concat(frames, ignore_index=True)
    for column in ("value_captured", "value_arrived"):  # smooth: a task's value lands in one step
        smooth = metrics.groupby("run")[column].transform(lambda x: x.rolling(40, min_periods=1).mean())
        metrics[column + "_40"] = smooth
    metrics["value_40"] = metrics["value_captured_40"]
    events = scenario_params(scn, scn.variants[0][0], members, steps)["events"]["schedule"]
    return {"metrics": metrics, "runs": pd.DataFrame(rows),
            "event_step": int(events[0].split("@")[1].split(":")[0]) if events else None}


# ----- statistics ---------------------------------------------------------------------------
def mean_ci(values) -> tuple[float, float, float, int]:
    """Mean and 95% t-interval across seeds (NaN runs, e.g. never recovered, are left out)."""
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan, 0
    if len(x) == 1:
        return float(x[0]), math.nan, math.nan, 1
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half), len(x)


SHARES = {"value_share", "control_value_share", "completion_rate", "mean_utilisation", "burnout_share",
          "hero_out_share", "final_energy", "final_autonomy", "final_trust"}


def bounded(measure: str, interval) -> dict:
    """A table cell: mean and 95% CI, the CI kept inside [0, 1] for shares (a t-interval does not know)."""
    mean, lo, hi, n = interval
    if measure in SHARES and not math.isnan(lo):
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return {"mean": mean, "lo": lo, "hi": hi, "n": n}


def contrast(runs: pd.DataFrame, measure: str, weights: dict) -> dict:
    """A paired difference: per seed, the weighted sum of the variants' results."""
    wide = runs.pivot(index="seed", columns="variant", values=measure)
    per_seed = sum(w * wide[v] for v, w in weights.items())
    mean, lo, hi, n = mean_ci(per_seed.to_numpy())
    return {"mean": mean, "lo": lo, "hi": hi, "n": n, "positive": int((per_seed > 0).sum()),
            "negative": int((per_seed < 0).sum()), "per_seed": per_seed.round(6).tolist()}


def fmt(measure: str, value: float) -> str:
    if value is None or math.isnan(value):
        return "–"
    return MEASURES[measure][1].format(value).replace("-", "−")


def fmt_diff(measure: str, value: float) -> str:
    text = fmt(measure, abs(value))
    return text if text == "–" else ("+" if value >= 0 else "−") + text


def numbers_for(name: str, scn, result: dict) -> dict:
    spec, runs = SPECS[name], result["runs"]
    table = {label: {m: bounded(m, mean_ci(runs.loc[runs.variant == label, m])) for m in spec["table"]}
             for label, _ in scn.variants}
    found = []
    for text, measure, weights, expect in spec["contrasts"]:
        c = contrast(runs, measure, weights)
        c.update(text=text, measure=measure, expect=expect)
        if expect and c["mean"] * expect <= 0:
            print(f"WARNING {name}: '{text}' ({measure}) is {c['mean']:+.4f}; the guide expects the "
                  f"opposite sign: re-read its prose", file=sys.stderr)
        found.append(c)
    return {"title": scn.title, "table": table, "contrasts": found}


def markdown_block(name: str, numbers: dict, size: dict) -> str:
    spec = SPECS[name]
    head = ["variant"] + [MEASURES[m][0] for m in spec["table"]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, cells in numbers["table"].items():
        row = [label]
        for m in spec["table"]:
            c = cells[m]
            ci = f" ({fmt(m, c['lo'])} to {fmt(m, c['hi'])})" if not math.isnan(c["lo"]) else ""
            never = size["seeds"] - c["n"] if m == "impact_steps_to_recover" else 0
            row.append(fmt(m, c["mean"]) + ci + (f", {never} runs never" if never else ""))
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for c in numbers["contrasts"]:
        m = c["measure"]
        ci = "" if math.isnan(c["lo"]) else f" (95% CI {fmt_diff(m, c['lo'])} to {fmt_diff(m, c['hi'])})"
        lines.append(f"- **{c['text']}**, {MEASURES[m][0]}: {fmt_diff(m, c['mean'])}{ci}; "
                     f"above zero in {c['positive']} of {c['n']} seeds, below in {c['negative']}.")
    lines += ["", f"<sub>{size['members']} members, {size['steps_text']}, seeds {size['seed_text']} "
              "(every variant on the same seeds); mean across seeds with its 95% confidence interval. "
              "Generated by `uv run python docs/workshop/make_figures.py`: do not edit by hand.</sub>"]
    return "\n".join(lines)


def overview_block(all_numbers: dict) -> str:
    lines = ["| exercise | headline (paired difference across seeds) |", "|---|---|"]
    for name, numbers in all_numbers.items():
        cells = []
        for index in SPECS[name].get("headline", [0]):
            c = numbers["contrasts"][index]
            cells.append(f"{c['text']}, {MEASURES[c['measure']][0]}: {fmt_diff(c['measure'], c['mean'])} "
                         f"({c['positive']} of {c['n']} seeds above zero)")
        lines.append(f"| {numbers['title']} | {'<br>'.join(cells)} |")
    return "\n".join(lines)


def rewrite_blocks(folder: Path, blocks: dict) -> list[Path]:
    """Replace every `<!-- numbers:NAME:start -->...<!-- numbers:NAME:end -->` in folder/*.md."""
    changed = []
    for page in sorted(folder.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        new = text
        for name, body in blocks.items():
            pattern = re.compile(rf"(<!-- numbers:{name}:start -->\n).*?(<!-- numbers:{name}:end -->)", re.S)
            new = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), new)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


# ----- figures ------------------------------------------------------------------------------
def styles(scn, runs: pd.DataFrame, colours: str = "regime", reference: str | None = None) -> dict:
    """A colour and line style per variant. Labels read "organisation · condition": the colour is
    the organisation's regime (darker for a second organisation with the same regime), and the
    reference condition (e.g. "calm") is dashed and lighter. colours="each": one colour each."""
    labels = [label for label, _ in scn.variants]
    if colours == "each":
        palette = plt.get_cmap("tab10").colors
        return {label: dict(color=palette[i % 10], linestyle="-", alpha=1.0) for i, label in enumerate(labels)}
    regime_of = runs.groupby("variant")["regime_of_variant"].first()
    group_of = {label: label.split(" · ")[0] for label in labels}
    colour = {}
    for label in labels:
        group, regime = group_of[label], regime_of[label]
        if group not in colour:
            darker = sum(regime_of[next(x for x in labels if group_of[x] == g)] == regime for g in colour)
            colour[group] = tuple(c * 0.6 ** darker for c in matplotlib.colors.to_rgb(REGIME_COLOURS[regime]))
    out = {}
    for label in labels:
        faint = reference is not None and label.endswith(f" · {reference}")
        out[label] = dict(color=colour[group_of[label]], linestyle="--" if faint else "-", alpha=0.55 if faint else 1.0)
    return out


def draw_series(ax, metrics, column, style, event_step=None):
    for label, st in style.items():
        runs = metrics[metrics.variant == label].pivot(index="step", columns="seed", values=column)
        if column == "share_recovering":
            runs = runs.rolling(20, min_periods=1).mean()
        mean = runs.mean(axis=1)
        half = stats.t.ppf(0.975, max(runs.shape[1] - 1, 1)) * runs.std(axis=1, ddof=1) / math.sqrt(runs.shape[1])
        ax.plot(mean.index, mean, label=label, **st, linewidth=1.6)
        if runs.shape[1] > 1:
            ax.fill_between(mean.index, mean - half, mean + half, color=st["color"], alpha=0.15 * st["alpha"],
                            linewidth=0)
    if column == "value_40":  # the same stream of work arrives in every variant
        arriving = metrics.groupby("step")["value_arrived_40"].mean()
        ax.plot(arriving.index, arriving, **ARRIVING, label="value arriving")
    if event_step:
        ax.axvline(event_step, color="0.25", linestyle=":", linewidth=1)
        ax.text(event_step, 0.98, " member 0 leaves", transform=ax.get_xaxis_transform(), va="top", fontsize=8)
    ax.set(xlabel="step", title=MEASURES[column][0])


def draw_dots(ax, runs, measure, style, labels=True, reference=None):
    order = list(style)
    if reference:  # the baseline variant's mean, to read every other variant against
        ax.axvline(runs.loc[runs.variant == reference, measure].mean(), color="0.3", linestyle="--", linewidth=0.8)
    for y, label in enumerate(order):
        values = runs.loc[runs.variant == label, measure].to_numpy(dtype=float)
        mean, lo, hi = (bounded(measure, mean_ci(values))[k] for k in ("mean", "lo", "hi"))
        ax.scatter(values, np.full(len(values), y) + np.linspace(-0.12, 0.12, len(values)), s=9,
                   color="0.45", alpha=0.45, zorder=1)
        if not math.isnan(lo):
            ax.errorbar(mean, y, xerr=[[mean - lo], [hi - mean]], fmt="none", ecolor=style[label]["color"],
                        capsize=3, zorder=2)
        ax.scatter([mean], [y], marker="D", s=40, color=style[label]["color"], zorder=3)
    ax.set_yticks(range(len(order)), order if labels else [""] * len(order))
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.4)
    ax.set_title(MEASURES[measure][0])
    if measure in ("burnout_share", "hero_out_share", "impact_value_lost_share"):
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))


def scenario_figure(name, scn, result, size, path):
    spec, runs = SPECS[name], result["runs"]
    style = styles(scn, runs, spec.get("colours", "regime"), spec.get("reference_condition"))
    panels = spec["panels"]
    height = max(3.4, 0.36 * len(style) + 1.6)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.1 * len(panels), height), squeeze=False)
    first_dots = True
    for ax, (kind, column) in zip(axes.flat, panels):
        if kind == "series":
            draw_series(ax, result["metrics"], column, style, result["event_step"] if column == "value_40" else None)
        else:
            draw_dots(ax, runs, column, style, labels=first_dots, reference=spec.get("reference"))
            first_dots = False
    if any(kind == "series" for kind, _ in panels):
        handles = [plt.Line2D([], [], **st, linewidth=2) for st in style.values()]
        names = list(style)
        if ("series", "value_40") in panels:
            handles, names = handles + [plt.Line2D([], [], **ARRIVING)], names + ["value arriving"]
        fig.legend(handles, names, loc="lower center", ncol=min(len(names), 5), frameon=False,
                   bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(f"{scn.title}: {size['members']} members, {size['steps_text']}, "
                 f"mean and 95% CI over {size['seeds']} seeds (grey dots: single runs)", fontsize=11)
    fig.tight_layout(rect=(0, 0.08 if any(k == "series" for k, _ in panels) else 0, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def handout_figure(name, scn, result, path):
    kind, column = SPECS[name]["handout"]
    runs = result["runs"]
    style = styles(scn, runs, SPECS[name].get("colours", "regime"), SPECS[name].get("reference_condition"))
    fig, ax = plt.subplots(figsize=(3.7, 2.3))
    if kind == "series":
        draw_series(ax, result["metrics"], column, style, result["event_step"] if column == "value_40" else None)
        ax.legend(fontsize=6.5, frameon=False, loc="lower right")
    else:
        draw_dots(ax, runs, column, style, reference=SPECS[name].get("reference"))
    ax.set_title("")
    ax.set_title(f"{scn.title}: {MEASURES[column][0]}", fontsize=7.5, loc="left")
    ax.tick_params(labelsize=6.5)
    ax.xaxis.label.set_size(6.5)
    fig.savefig(path, dpi=170, bbox_inches="tight")
    plt.close(fig)
    return path


# ----- handouts -----------------------------------------------------------------------------
# Two printed sheets, so that nobody reads a result before the room has predicted it: the
# pre-session sheet (the model, the theory and the questions, with room to write predictions)
# carries no result at all; the post-session sheet (what the model did) is handed out at the end.
HANDOUT_CSS = """
@page { size: A4; margin: 10mm 11mm; }
body { font: 8.1pt/1.28 "DejaVu Sans", Arial, sans-serif; color: #222; margin: 0 auto; max-width: 188mm; }
h1 { font-size: 13pt; margin: 0 0 0.5mm; } h2 { font-size: 9.2pt; margin: 1.8mm 0 0.6mm; color: #1b5e4b; }
p, ul { margin: 0.5mm 0; } ul { padding-left: 4mm; } li { margin: 0.1mm 0; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 5mm; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: 0.3mm 1mm;
text-align: left; vertical-align: top; } th { background: #f1f5f3; white-space: nowrap; }
.figs { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5mm 5mm; }
figure { margin: 0; } figure img { width: 100%; max-height: 60mm; object-fit: contain; }
figcaption { font-size: 7.3pt; color: #333; }
.small { font-size: 7.2pt; color: #555; } code { font-size: 7.4pt; }
.sheet { break-after: page; page-break-after: always; } .sheet:last-child { break-after: auto; page-break-after: auto; }
.results th { white-space: normal; width: 30%; }
.predict { break-inside: avoid; margin: 0 0 2.2mm; } .predict h2 { margin-top: 0; }
.write { height: 27mm; border: 1px solid #999; border-radius: 1.5mm; margin-top: 1mm;
background: repeating-linear-gradient(to bottom, transparent 0, transparent 6.6mm, #ddd 6.6mm, #ddd 6.8mm); }
"""

HANDOUT_MODEL = """
<div class="cols"><div>
<h2>What is it?</h2>
<p>An agent-based model of an organisation of 200 people. Work arrives from a changing market; each
task needs a mix of skills, has a value and a deadline. The same org chart, facing the identical
stream of work, is led in three ways:</p>
<table><tr><th>heroic</th><td>one person decides everything: which task is taken on, who leads it, who is
on the team</td></tr>
<tr><th>hierarchical</th><td>managers decide within their part of the org chart, and escalate</td></tr>
<tr><th>distributed</th><td>nobody allocates: anyone may step up to lead a task; others join by
invitation</td></tr></table>
<h2>When do people step up? Four conditions, together</h2>
<ul><li><b>Beneficial</b>: the work benefits the organisation (or, without shared purpose, oneself).</li>
<li><b>Equipped</b>: one's skills fit what the task needs.</li>
<li><b>Energy</b>: one has the energy to take it on.</li>
<li><b>Support</b>: trusted colleagues are around and free to help.</li></ul>
<p>They combine like a product: any one near zero stops initiative, however strong the others.</p>
</div><div>
<h2>Motivation: Self-Determination Theory</h2>
<p>Motivation runs from <b>controlled</b> (pressure, reward) to <b>autonomous</b> (valued, chosen).
Three needs move people to the autonomous end: <b>autonomy</b> (choice), <b>competence</b>
(succeeding), <b>relatedness</b> (trusted colleagues). Values are internalised only where people feel
related. Assigned work meets the autonomy need as far as managers are <i>autonomy-supportive</i>.
Autonomous motivation pays most on complex work.</p>
<h2>The four keys of a collaborative enterprise</h2>
<table><tr><th>shared purpose</th><td>work is chosen by its value to the organisation</td></tr>
<tr><th>ethic of contribution</th><td>people join others' initiatives when asked</td></tr>
<tr><th>procedures</th><td>self-organised teams coordinate cheaply</td></tr>
<tr><th>trust and ties</th><td>trust grows by working together; new ties form</td></tr></table>
<p>Central regimes depend on the keys weakly; distributed leadership depends on them strongly.</p>
</div></div>
"""

HANDOUT_MEASURES = """
<h2>What the model measures</h2>
<table><tr><th>value share captured</th><td>of all the value that arrived, the share the organisation captured by
finishing work in time: the main outcome</td></tr>
<tr><th>completion rate</th><td>the share of tasks finished</td></tr>
<tr><th>utilisation</th><td>the share of people on a team at any moment</td></tr>
<tr><th>energy, burnout</th><td>work costs energy; people who run out burn out and are away for a while</td></tr>
<tr><th>mean autonomy</th><td>how autonomous people's motivation is, from controlled (0) to autonomous (1)</td></tr>
<tr><th>mean trust</th><td>the average trust between colleagues who share a tie</td></tr></table>
<p>Within an exercise every version faces the same people and the identical stream of work, so what differs
between them is caused by how they are led (or by the one setting that differs), not by luck.</p>
"""


def exercise_pages(folder: Path = WORKSHOP) -> dict:
    """{scenario: (exercise number, page)} from the guide's pages (`NN-name.md`, `**Scenario:** `name``)."""
    found = {}
    for page in sorted(folder.glob("[0-9][0-9]-*.md")):
        match = re.search(r"^\*\*Scenario:\*\* `(\w+)`", page.read_text(encoding="utf-8"), re.M)
        if match:
            found[match.group(1)] = (int(page.name[:2]), page.name)
    return found


def session_plan(pages: dict) -> tuple[list[str], list[str]]:
    """(the scenarios of the guide's session plan in its order, the spare ones): one source of truth."""
    plan = (WORKSHOP / "README.md").read_text(encoding="utf-8").split("## The 90-minute session plan")[-1]
    table = [line for line in plan.split("\n## ")[0].splitlines() if line.startswith("|")]
    links = re.findall(r"\]\((\d\d-[\w-]+\.md)\)", "\n".join(table))
    by_page = {page: name for name, (_, page) in pages.items()}
    planned = [by_page[link] for link in links if link in by_page]
    return planned, sorted((n for n in pages if n not in planned), key=lambda n: pages[n][0])


def sheet(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{HANDOUT_CSS}</style></head><body>
{body}
</body></html>
"""


def handout_before_html() -> str:
    """The pre-session sheet: the model and its theory, then each exercise's question with room for
    the participant's prediction. It quotes no result: the room predicts before anything runs."""
    pages = exercise_pages()
    planned, spares = session_plan(pages)
    questions = []
    for name in planned + spares:
        scn = scenarios.load(name)
        number, _ = pages[name]
        spare = " (spare: if there is time)" if name in spares else ""
        questions.append(f'<div class="predict"><h2>Exercise {number}: {html.escape(scn.title)}{spare}</h2>'
                         f'<p>{html.escape(scn.predict)}</p><div class="write"></div></div>')
    return sheet("leadsim workshop: before the session", f"""
<div class="sheet">
<h1>Who leads? Distributed versus heroic leadership</h1>
<p class="small">For a <code>leadsim</code> workshop: read this side before the session. The other side has the
questions the workshop asks; write your prediction for each <b>before</b> the model runs it. The results come
on a second sheet at the end. A model is a thinking tool, not a forecast.</p>
{HANDOUT_MODEL}
{HANDOUT_MEASURES}
</div>
<div class="sheet">
<h1>Your predictions</h1>
<p class="small">One box per exercise. Write a number, a ranking or a sentence, and one reason. At the end,
compare each with what the model did: the predictions that turn out wrong are the most useful ones.</p>
{''.join(questions)}
</div>""")


def handout_captions(all_numbers: dict) -> dict:
    """One plain sentence per handout figure, with the numbers of the current runs."""
    def mean(name, variant, measure):
        return fmt(measure, all_numbers[name]["table"][variant][measure]["mean"])

    def diff(name, text):
        c = next(c for c in all_numbers[name]["contrasts"] if c["text"] == text)
        return fmt_diff(c["measure"], c["mean"])

    keys = all_numbers["four_keys"]["table"]
    best = max(ALL_KEYS, key=lambda k: keys[k]["value_share"]["mean"])
    return {
        "hero_leaves": "Member 0 leaves at step 150. Share of value lost, against the same run without the "
                       f"departure: heroic {mean('hero_leaves', 'heroic', 'impact_value_lost_share')}, distributed "
                       f"{mean('hero_leaves', 'distributed', 'impact_value_lost_share')}.",
        "controlled_vs_autonomous": "The same hierarchy on complex work. Final motivation: controlling managers "
                                    f"{mean('controlled_vs_autonomous', SR, 'final_autonomy')}, autonomy-supportive "
                                    f"{mean('controlled_vs_autonomous', SV, 'final_autonomy')}; value share "
                                    f"{mean('controlled_vs_autonomous', SR, 'value_share')} against "
                                    f"{mean('controlled_vs_autonomous', SV, 'value_share')}.",
        "four_keys": f"Distributed, all keys weak: value share {mean('four_keys', 'none', 'value_share')}; best single "
                     f"key ({best}) {mean('four_keys', best, 'value_share')}; all four "
                     f"{mean('four_keys', 'all four', 'value_share')}. The hierarchy moves only from "
                     f"{mean('four_keys', 'hierarchical · none', 'value_share')} to "
                     f"{mean('four_keys', 'hierarchical · all four', 'value_share')}.",
        "turbulent_market": "Change in value share from the calm to the turbulent market: hierarchical "
                            f"{diff('turbulent_market', 'hierarchical: turbulent minus calm')}, distributed "
                            f"{diff('turbulent_market', 'distributed: turbulent minus calm')}, distributed with good "
                            f"procedures {diff('turbulent_market', 'distributed + procedures: turbulent minus calm')}.",
    }


def handout_after_html(all_numbers: dict, images: dict, size: dict) -> str:
    """The post-session sheet: what the model did, with the figures and numbers of the current runs."""
    captions = handout_captions(all_numbers)
    figures = "".join(
        f'<figure><img alt="{all_numbers[n]["title"]}" src="data:image/png;base64,{images[n]}">'
        f"<figcaption>{captions[n]}</figcaption></figure>" for n in HANDOUT_ORDER if n in images)
    pages = exercise_pages()
    rows = []
    for name in sum(session_plan(pages), []):
        if name not in all_numbers:
            continue
        numbers = all_numbers[name]
        cells = []
        for index in SPECS[name].get("headline", [0]):
            c = numbers["contrasts"][index]
            cells.append(f"{c['text']}, {MEASURES[c['measure']][0]}: {fmt_diff(c['measure'], c['mean'])} "
                         f"({c['positive']} of {c['n']} runs above zero)")
        rows.append(f"<tr><th>{pages[name][0]}. {numbers['title']}</th><td>{'<br>'.join(cells)}</td></tr>")
    return sheet("leadsim workshop: what the model did", f"""
<h1>Who leads? What the model did</h1>
<p class="small">After a <code>leadsim</code> workshop: set each result beside the prediction you wrote. The figures
come from real runs of the model ({size['members']} members, {size['steps_text']}; mean of {size['seeds']} runs with
95% intervals, grey dots single runs; the versions of an exercise face the identical work). A model is a thinking
tool, not a forecast.</p>
<h2>Each exercise in one line (a paired difference: same people, same work, same seed)</h2>
<table class="results">{''.join(rows)}</table>
<h2>What we saw</h2>
<div class="figs">{figures}</div>
<h2>Questions to take home</h2>
<ul><li>Who is "member 0" where you work, and what would stop if they were away for two months?</li>
<li>Who decides whether someone takes on one more piece of work, and what do they know about that person's energy?</li>
<li>When you last assigned work: did you give a rationale, acknowledge feelings, leave choice in how to do it?</li>
<li>Which of the four keys is weakest in your organisation, and what would strengthen it?</li></ul>
<p class="small"><b>Value share</b>: the share of the value arriving that the organisation captured by finishing work
in time. Try it: <code>uv run leadsim-viz</code> (the page) or <code>uv run leadsim +scenario=hero_leaves</code>.
Regenerate this sheet: <code>uv run python docs/workshop/make_figures.py</code>. Sources: Gagné &amp; Deci (2005),
Self-Determination Theory; Adler, Heckscher &amp; Prusak (2011), the collaborative enterprise; the model:
<code>docs/ODD.md</code>.</p>""")


# ----- main ---------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200, help="members per organisation (default 200)")
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: each preset's own)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per variant, 1..S (default 10)")
    parser.add_argument("--out", type=Path, default=None, help="workshop folder to write (default docs/workshop)")
    parser.add_argument("--scenario", action="append", choices=list(SPECS), help="only this preset (repeatable)")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    names = args.scenario or list(SPECS)
    out = args.out or (None if args.scenario else WORKSHOP)
    seeds = range(1, args.seeds + 1)
    size = {"members": args.members, "seeds": args.seeds, "seed_text": f"1–{args.seeds}" if args.seeds > 1 else "1",
            "steps_text": f"{args.steps} steps" if args.steps else "each preset's steps"}
    if out:
        (out / "figures").mkdir(parents=True, exist_ok=True)

    all_numbers, blocks, images = {}, {}, {}
    started = time.perf_counter()
    for name in names:
        clock = time.perf_counter()
        scn = scenarios.load(name)
        result = run_scenario(scn, args.members, args.steps, seeds)
        steps = args.steps or int(scn.params.get("steps", 500))
        size_here = {**size, "steps_text": f"{steps} steps"}
        numbers = numbers_for(name, scn, result)
        numbers["size"] = size_here
        keep = ["variant", "seed"] + sorted(set(SPECS[name]["table"]) | {c[1] for c in SPECS[name]["contrasts"]})
        numbers["runs"] = result["runs"][keep].round(6).to_dict(orient="records")
        all_numbers[name] = numbers
        blocks[name] = markdown_block(name, numbers, size_here)
        print(f"\n## {scn.title} ({name}): {len(scn.variants)} variants x {len(seeds)} seeds "
              f"in {time.perf_counter() - clock:.1f} s\n\n{blocks[name]}")
        if out:
            scenario_figure(name, scn, result, size_here, out / "figures" / f"{name}.png")
            if "handout" in SPECS[name]:
                path = handout_figure(name, scn, result, out / "figures" / f"handout-{name}.png")
                images[name] = base64.b64encode(path.read_bytes()).decode("ascii")
    if not out:
        return 0
    if not args.scenario:
        blocks["overview"] = overview_block(all_numbers)
        (out / "figures" / "numbers.json").write_text(json.dumps(all_numbers, indent=1, default=float) + "\n")
        (out / "figures" / "numbers.md").write_text(
            "# Workshop numbers\n\n"
            + "\n\n".join(f"## {all_numbers[n]['title']} (`{n}`)\n\n{blocks[n]}" for n in names)
            + "\n\n## Overview\n\n" + blocks["overview"] + "\n")
        steps_used = sorted({n["size"]["steps_text"] for n in all_numbers.values()})
        (out / "handout-before.html").write_text(handout_before_html(), encoding="utf-8")
        (out / "handout-after.html").write_text(
            handout_after_html(all_numbers, images, {**size, "steps_text": " or ".join(steps_used)}), encoding="utf-8")
    changed = rewrite_blocks(out, blocks)
    print(f"\nwrote {out / 'figures'}{'' if args.scenario else ' and the handouts ' + str(out / 'handout-*.html')}; updated "
          f"{', '.join(p.name for p in changed) or 'no guide pages'}; {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One self-contained HTML report from a collected sweep folder.

    uv run leadsim-report experiments/crossover/runs --study experiments/crossover/README.md
    uv run leadsim-report multirun/2026-11-27/12-00-00 --out report.html --outcome completion_rate

Collects the sweep first when summary.parquet is missing or older than the job folders. The report
holds the study's question and hypothesis, the design read from the results (factors and levels,
job counts, seeds per cell, the sweep command), tables (mean and 95% CI by regime and factors;
paired differences distributed - heroic and distributed - hierarchical), for a sweep over a design
table or swept keys the scenario discovery (PRIM's boxes where distributed beats every central
regime, analysis/discovery.py), for a sweep of the hybrid regime over three or more settings of
`regime.centralisation` the structure dial (where each condition's curve peaks, with a bootstrap
over seeds, analysis/dial.py; the dial's ends then stand in the regime tables as distributed and
hierarchical), and the figures that apply to the sweep, embedded as PNG. The
PNGs are also written to a `figures/` folder next to the report, for study READMEs to link.
"""

from __future__ import annotations

import argparse
import base64
import html
import re
import shlex
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from . import dial, discovery, plots
from .collect import collect, job_dirs
from .stats import (CROSSOVER_FACTORS, DESIGN_ROW, REGIMES, crossover_table, design_outcomes, events_in,
                    factor_levels, higher_is_better, mean_ci, paired_differences, resilience_table, seeds_per_cell,
                    sensitivity_table, sweep_dimensions, verdict, with_design_row)

MAX_ROWS = 40  # a table longer than this is shown by regime only: the rest is in summary.parquet
OVERVIEW = ["value_share", "completion_rate", "mean_cycle", "leadership_gini", "share_ever_led", "final_autonomy",
            "final_energy", "burnout_days"]


class ReportError(Exception):
    """Bad input: reported as one line, exit code 1."""


# --- reading the sweep folder ------------------------------------------------------------------

def _stale(sweep: Path, jobs: list[Path]) -> bool:
    table = sweep / "summary.parquet"
    if not table.is_file():
        return True
    made = table.stat().st_mtime
    return any(f.is_file() and f.stat().st_mtime > made for job in jobs for f in (job / "summary.json",
                                                                                  job / "error.txt"))


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # a truncated or foreign file: say which, in one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ReportError(f"cannot read {path}: {first} (rerun leadsim-collect {path.parent})") from None


def load_sweep(sweep) -> dict:
    """The sweep's tables, collecting first if they are missing or older than the job folders."""
    sweep = Path(sweep)
    if not sweep.is_dir():
        raise ReportError(f"no such sweep folder: {sweep}")
    jobs = job_dirs(sweep)
    if _stale(sweep, jobs):
        if not jobs:
            raise ReportError(f"{sweep} holds no sweep jobs and no summary.parquet (is it a hydra.sweep.dir?)")
        collect(sweep, quiet=True)
    summary = _read(sweep / "summary.parquet")
    if summary.empty or "regime" not in summary:
        raise ReportError(f"{sweep}: no finished jobs to report on")
    metrics = _read(sweep / "metrics.parquet") if (sweep / "metrics.parquet").is_file() else pd.DataFrame()
    failures = _read(sweep / "failures.csv") if (sweep / "failures.csv").is_file() else pd.DataFrame()
    return {"summary": with_design_row(summary), "metrics": metrics, "failures": failures,
            "jobs": max(len(jobs), len(summary) + len(failures))}


def load_members(sweep: Path, summary: pd.DataFrame) -> pd.DataFrame:
    """Every finished job's members.parquet, with the job's regime, seed and config columns."""
    frames = []
    for job in summary["job_dir"]:
        path = Path(sweep) / job / "members.parquet"
        if path.is_file():
            frames.append(pd.read_parquet(path).assign(job_dir=job))
    if not frames:
        return pd.DataFrame()
    keys = [c for c in ["job_dir", "regime", "seed"] + sweep_dimensions(summary) if c in summary]
    return pd.concat(frames, ignore_index=True).merge(summary[list(dict.fromkeys(keys))], on="job_dir")


def sweep_command(sweep: Path) -> str | None:
    """The command that launched the sweep, from multirun.yaml (hydra.overrides)."""
    path = Path(sweep) / "multirun.yaml"
    if not path.is_file():
        return None
    import yaml

    try:
        overrides = (yaml.safe_load(path.read_text()) or {}).get("hydra", {}).get("overrides", {})
    except yaml.YAMLError:
        return None
    task = [str(o) for o in overrides.get("task") or []]
    launch = [str(o) for o in overrides.get("hydra") or [] if str(o) != "hydra.mode=MULTIRUN"]
    return "uv run leadsim -m " + " ".join(shlex.quote(o) for o in task + launch)


def study_sections(path) -> dict:
    """Title, question and hypothesis from a study README (its `# title` and the `##` sections
    whose headings mention a question or a hypothesis); the intro when neither is there."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"no such study README: {path}")
    text = path.read_text()
    title = re.search(r"^#\s+(.+)$", text, re.M)
    parts = re.split(r"^#{2,3}\s+(.+)$", text, flags=re.M)
    intro, sections = re.sub(r"^#\s+.+$", "", parts[0], flags=re.M).strip(), dict(zip(parts[1::2], parts[2::2]))
    found = {"title": title.group(1).strip() if title else None}
    for key, pattern in (("question", r"question"), ("hypothesis", r"hypothes")):
        found[key] = next((body.strip() for head, body in sections.items() if re.search(pattern, head, re.I)), None)
    if not found["question"] and not found["hypothesis"]:
        found["intro"] = intro
    return found


def find_design(sweep: Path, summary: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """The design table the sweep ran over (from the overrides or a job's .hydra/config.yaml),
    checked against the parameters each job recorded. Returns (table or None, a note)."""
    named = summary["overrides"].astype(str).str.extract(r"(?:^|\s)design=(\S+)")[0].dropna()
    name = named.iloc[0] if len(named) else None
    if name is None:
        import yaml

        config = Path(sweep) / summary["job_dir"].iloc[0] / ".hydra" / "config.yaml"
        if config.is_file():
            name = (yaml.safe_load(config.read_text()) or {}).get("design")
    if not name:
        return None, "the design table is not named in the jobs' overrides or config"
    candidates = [Path(name)] if Path(name).is_absolute() else \
        [Path.cwd() / name] + [p / name for p in [Path(sweep).resolve(), *Path(sweep).resolve().parents]]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        return None, f"design table {name} not found"
    design = pd.read_csv(path)
    rows = summary[DESIGN_ROW].dropna().astype(int)
    if not any(c.startswith("input.") for c in design) or rows.max() >= len(design):
        return None, f"design table {path} does not match the sweep"
    for column in (c for c in design if not c.startswith("input.") and f"cfg.{c}" in summary):
        recorded = summary.groupby(DESIGN_ROW)[f"cfg.{column}"].first()
        if not (recorded - design[column].reindex(recorded.index.astype(int)).to_numpy()).abs().lt(1e-9).all():
            return None, f"design table {path} does not match the parameters the jobs recorded ({column})"
    return design, str(path)


# --- HTML pieces -------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: .2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.8em; }
.meta { color: #666; font-size: .9em; }
table { border-collapse: collapse; margin: .8em 0 1.2em; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
td.text { text-align: left; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: .3em; }
pre { background: #f6f6f6; padding: .7em; overflow-x: auto; white-space: pre-wrap; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: .92em; margin-top: .3em; }
.note { background: #fff8e5; border-left: 4px solid #e0b000; padding: .5em .8em; margin: .8em 0; }
.better { color: #1b7a5a; font-weight: 600; } .worse { color: #b5430d; font-weight: 600; }
"""


def _esc(x) -> str:
    return html.escape(str(x))


def markdown(text: str) -> str:
    """Just enough Markdown for a study README section: paragraphs, lists, code, bold, links."""
    def inline(s: str) -> str:
        s = _esc(s)
        s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![*\w])\*([^*]+)\*(?!\*)", r"<em>\1</em>", s)
        return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', s)

    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        if lines and lines[0].startswith("```"):
            out.append(f"<pre>{_esc(chr(10).join(l for l in lines if not l.startswith('```')))}</pre>")
        elif lines and all(re.match(r"\s*([-*]|\d+\.)\s", line) or line.startswith("  ") for line in lines):
            tag = "ol" if re.match(r"\s*\d+\.", lines[0]) else "ul"
            items, current = [], []
            for line in lines:
                if re.match(r"\s*([-*]|\d+\.)\s", line) and current:
                    items.append(" ".join(current))
                    current = []
                current.append(re.sub(r"^\s*([-*]|\d+\.)\s+", "", line).strip())
            items.append(" ".join(current))
            out.append(f"<{tag}>" + "".join(f"<li>{inline(i)}</li>" for i in items) + f"</{tag}>")
        elif lines:
            out.append(f"<p>{inline(' '.join(lines))}</p>")
    return "\n".join(out)


def fmt(x) -> str:
    """A number as a table shows it: three decimals for shares, fewer for bigger numbers."""
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return "–"
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        return str(x)
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    a = abs(x)
    return f"{x:.0f}" if a >= 100 else f"{x:.1f}" if a >= 10 else f"{x:.3f}"


def level(v) -> str:
    return f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)


def with_ci(mean, lo, hi) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return fmt(mean)
    return f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}]"


def table(frame: pd.DataFrame, caption: str = "", text_columns=(), factors=()) -> str:
    """An HTML table; `factors` columns show their levels as given (0.05, not 0.050)."""
    frame = frame.assign(**{c: frame[c].map(level) for c in factors if c in frame})
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for c, v in row.items():
            cls = ' class="text"' if c in text_columns else ""
            cells.append(f"<td{cls}>{v if str(v).startswith('<span') else _esc(v if isinstance(v, str) else fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def note(text: str) -> str:
    return f'<div class="note">{_esc(text)}</div>'


def figure(path: Path, caption: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(caption)}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


def _verdict_html(text: str) -> str:
    """A verdict, coloured when the CI favours distributed (green) or the other regime (orange)."""
    if text.startswith("distributed"):
        return f'<span class="better">{_esc(text)}</span>'
    if text.endswith(("better", "higher", "lower")):
        return f'<span class="worse">{_esc(text)}</span>'
    return _esc(text)


# --- sections ----------------------------------------------------------------------------------

def design_section(sweep: Path, tables: dict, dims: list[str]) -> str:
    summary, failures = tables["summary"], tables["failures"]
    levels = factor_levels(summary, dims)
    rows = []
    for d, values in levels.items():
        shown = ", ".join(level(v) for v in values)
        if len(values) > 10:
            shown = f"{level(values[0])} … {level(values[-1])}"
        rows.append({"factor": plots.label(d), "column": d, "levels": shown, "n": len(values)})
    seeds = sorted(summary["seed"].unique())
    per_cell = seeds_per_cell(summary, dims)
    finished = len(summary)
    facts = [("jobs", tables["jobs"]), ("finished", finished), ("failed", len(failures)),
             ("missing or still running", max(tables["jobs"] - finished - len(failures), 0)),
             ("seeds", f"{len(seeds)} ({seeds[0]}–{seeds[-1]})" if len(seeds) > 1 else str(seeds[0])),
             ("seeds per cell", f"{per_cell.min()}" if per_cell.min() == per_cell.max()
              else f"{per_cell.min()}–{per_cell.max()}"),
             ("steps", ", ".join(str(s) for s in sorted(summary["steps"].unique()))),
             ("members", ", ".join(str(s) for s in sorted(summary["n_members"].unique())))]
    parts = ["<h2>Design</h2>",
             table(pd.DataFrame(rows, columns=["factor", "column", "levels", "n"]), "Factors and their levels",
                   text_columns=("column", "levels")) if rows else note("Nothing varies across jobs but the seed."),
             table(pd.DataFrame(facts, columns=["", "count"]), "Jobs")]
    command = sweep_command(sweep)
    if command:
        parts.append(f"<p>The sweep command (from <code>multirun.yaml</code>; a folder that several sweeps wrote "
                     f"into records the last one):</p><pre>{_esc(command)}</pre>")
    if per_cell.min() < 2:
        parts.append(note("Some cells hold a single seed: their confidence intervals cannot be computed."))
    if len(failures):
        shown = failures[["job_dir", "error"]].head(10)
        parts.append(table(shown, f"Failed jobs ({len(failures)}; first 10)", text_columns=("job_dir", "error")))
    return "\n".join(parts)


def _cells(summary: pd.DataFrame, by: list[str]) -> int:
    return len(summary.groupby(by, dropna=False)) if by else 1


def results_section(summary: pd.DataFrame, dims: list[str], outcome: str) -> str:
    factors = [d for d in dims if d not in ("regime", DESIGN_ROW)]  # design rows: see the sensitivity analysis
    regimes = [r for r in REGIMES if r in set(summary["regime"])]
    parts = ["<h2>Results</h2>"]

    overview = [c for c in dict.fromkeys([outcome] + OVERVIEW) if c in summary]
    rows = []
    for regime in regimes:
        row = {"regime": regime}
        for c in overview:
            m = mean_ci(summary[summary["regime"] == regime], [], c).iloc[0]
            row[plots.label(c)] = with_ci(m["mean"], m["lo"], m["hi"])
        rows.append(row)
    parts.append(table(pd.DataFrame(rows), "Outcomes by regime, pooled over all other factors: mean [95% CI]",
                       text_columns=()))

    by = factors if _cells(summary, factors) <= MAX_ROWS else []
    if factors:
        m = mean_ci(summary, by + ["regime"], outcome)
        m["cell"] = [with_ci(a, b, c) for a, b, c in zip(m["mean"], m["lo"], m["hi"])]
        wide = m.pivot_table(index=by or None, columns="regime", values="cell", aggfunc="first") if by else \
            m.set_index("regime")[["cell"]].T
        wide = wide.reindex(columns=regimes).reset_index() if by else wide.reindex(columns=regimes)
        wide = wide.rename(columns={c: plots.label(c) for c in by})
        caption = f"{plots.label(outcome).capitalize()} by regime and factors: mean [95% CI across seeds]"
        parts.append(table(wide, caption, factors=[plots.label(c) for c in by]))
        if not by:
            parts.append(note(f"{_cells(summary, factors)} cells: too many to list; the per-job values are in "
                              f"summary.parquet."))

    crossover = [f for f in CROSSOVER_FACTORS if f in factors]
    if crossover and "distributed" in regimes and len(regimes) > 1 and _cells(summary, crossover) <= MAX_ROWS:
        t = crossover_table(summary, outcome, crossover)
        shown = t[crossover + ["best"]].rename(columns={**{c: plots.label(c) for c in crossover}, "best": "best regime"})
        tested = [b for b in ("heroic", "hierarchical") if f"verdict_vs_{b}" in t]
        for b in tested:
            shown[f"distributed − {b}"] = [with_ci(a, lo, hi) for a, lo, hi in
                                           zip(t[f"diff_vs_{b}"], t[f"lo_vs_{b}"], t[f"hi_vs_{b}"])]
            shown[f"pairs ({b})"] = t[f"pairs_vs_{b}"]
            shown[f"Holm p ({b})"] = [f"{q:.3g}" if pd.notna(q) else "–" for q in t[f"p_holm_vs_{b}"]]
            shown[f"verdict ({b})"] = [_verdict_html(v) for v in t[f"verdict_vs_{b}"]]
        parts.append(table(shown, f"Where distributed leadership wins or loses ({plots.label(outcome)}): paired "
                                  f"difference against each central regime in each cell, mean [95% CI across seeds, "
                                  f"unadjusted]; the verdicts come from paired t-tests with Holm's correction over "
                                  f"the {len(tested)} comparison(s) in each cell",
                           factors=[plots.label(c) for c in crossover]))

    for b in ("heroic", "hierarchical"):
        if "distributed" not in regimes or b not in regimes:
            continue
        p = paired_differences(summary, outcome, "distributed", b, by=factors)
        if p.by and _cells(p.pairs, p.by) > MAX_ROWS:
            p = paired_differences(summary, outcome, "distributed", b, by=[])
        t = p.table.rename(columns={c: plots.label(c) for c in p.by})
        shown = t[[plots.label(c) for c in p.by]].copy()
        shown[f"distributed − {b}"] = [with_ci(a, lo, hi) for a, lo, hi in zip(t["mean"], t["lo"], t["hi"])]
        shown["pairs"] = t["n"]
        shown["distributed higher in"] = [f"{s:.0%}" if pd.notna(s) else "–" for s in t["share_a_better"]]
        up = higher_is_better(outcome)
        shown["verdict"] = [_verdict_html(verdict(lo, hi, "distributed", b, up)) for lo, hi in zip(t["lo"], t["hi"])]
        parts.append(table(shown, f"Paired difference distributed − {b} in {plots.label(outcome)} (same seed, same "
                                  f"other factors: the identical task stream): mean [95% CI]",
                           factors=[plots.label(c) for c in p.by]))
        if p.unpaired:
            parts.append(note(f"{p.unpaired} job(s) of distributed or {b} had no partner (same seed and factors) "
                              f"and were left out of this comparison."))
    if DESIGN_ROW in dims:
        parts.append(note("These tables pool the design rows (each row's pairs count once per seed); the "
                          "sensitivity analysis below ranks the levers the rows vary."))
    if len(regimes) < 2 or "distributed" not in regimes:
        parts.append(note("Paired differences need distributed and at least one central regime in the sweep."))
    missing = summary[outcome].isna().sum()
    if missing:
        parts.append(note(f"{missing} job(s) have no value of {outcome} and are left out of its means."))
    return "\n".join(parts)


def resilience_section(summary: pd.DataFrame, event: str) -> str:
    by = ["regime"] + (["cfg.org.name"] if "cfg.org.name" in sweep_dimensions(summary) else [])
    t = resilience_table(summary, event, by)
    shown = t[by].rename(columns={c: plots.label(c) for c in by})
    shown["runs"] = t["n"]
    shown["value lost vs control"] = [with_ci(*v) for v in zip(t["value_lost"], t["value_lost_lo"], t["value_lost_hi"])]
    shown["worst 40-step window / control"] = [with_ci(*v) for v in zip(t["worst_ratio"], t["worst_ratio_lo"],
                                                                          t["worst_ratio_hi"])]
    shown["recovered"] = [f"{int(r)} of {int(n)}" for r, n in zip(t["recovered"], t["n"])]
    shown["median steps to recover"] = t["median_steps_to_recover"]
    return table(shown, f"Impact of {event} against each run's paired control (same seed, no event): mean [95% CI]; "
                        f"recovered = back within 10% of the control before the run ended")


def sensitivity_section(indices: pd.DataFrame, design_path: str) -> str:
    shown = indices[["outcome", "lever", "mu_star", "mu_star_conf", "sigma", "trajectories"]].rename(
        columns={"mu_star": "μ*", "mu_star_conf": "μ* CI half-width", "sigma": "σ"})
    return (f"<p>Morris screening over the design table <code>{_esc(design_path)}</code>: each outcome is the "
            f"per-design-row value averaged over seeds.</p>"
            + table(shown, "Morris indices (higher μ*: more influence; σ near or above μ*: interactions)",
                    text_columns=("outcome", "lever")))


def discovery_section(found: "discovery.Discovery", figure_html: str = "") -> str:
    """Scenario discovery: the cases, then PRIM's boxes at their reported points, with the figure."""
    cases = found.cases
    n, wins = len(cases.table), cases.wins
    what = ("design row" if DESIGN_ROW in cases.table else "cell of the swept keys") + " and seed"
    parts = ["<h2>Scenario discovery</h2>",
             f"<p>Where in the parameter space does distributed leadership win? Each {what} is one case. A case "
             f"counts when distributed's {_esc(plots.label(cases.value))} is above that of every central regime "
             f"({_esc(', '.join(cases.central))}) on the same seed, which is the same task stream: distributed is "
             f"compared with each of them in that seed, not with the one whose mean is best. PRIM (as the EMA "
             f"workbench implements it) then peels the inputs (<code>{_esc(', '.join(cases.inputs))}</code>) towards boxes where "
             f"such cases are dense. <em>Coverage</em>: the share of all cases where distributed wins that lie in "
             f"the box; <em>density</em>: the share of the box's cases where it wins. Each box is read at the point "
             f"of its trajectory with the best balance of the two (their harmonic mean) among points at least "
             f"{found.min_density:g} dense (★); simpler rules, with fewer restricted keys, are listed beside it. "
             f"Boxes after the first are sought in the cases the earlier ones leave.</p>"]
    share = f" ({wins / n:.0%})" if n else ""
    parts.append(f"<p>Distributed beats every central regime in <strong>{wins} of {n} cases</strong>{share}.</p>")
    if found.message:
        parts.append(note(f"No box: {found.message}."))
    if len(found.points):
        qp = found.limits.assign(q=found.limits[["qp_lo", "qp_hi"]].min(axis=1))
        rows = []
        for p in found.points.itertuples():
            q = qp[(qp["box"] == p.box) & (qp["point"] == p.point)]
            rows.append({"box": p.box, "": "★" if p.chosen else "", "limits": p.limits, "keys restricted": p.res_dim,
                         "coverage": p.coverage, "density": p.density, "cases in box": p.n,
                         "distributed wins in box": p.k,
                         "quasi-p of each restriction": "; ".join(f"{k}: {v:.2g}" for k, v in zip(q["key"], q["q"]))
                         or "–"})
        parts.append(table(pd.DataFrame(rows), "Boxes where distributed beats every central regime (★: the chosen "
                                               "point of each box's trajectory)",
                           text_columns=("", "limits", "quasi-p of each restriction")))
        if not found.points[found.points["chosen"]]["meets_density"].all():
            parts.append(note(f"No point of the first box reaches a density of {found.min_density:g}: distributed "
                              f"wins are spread, not concentrated in a box of the inputs; the box shown is the best "
                              f"balance of coverage and density found."))
        parts.append(note("A quasi-p value (Bryant & Lempert 2010) asks whether a restriction raises the density by "
                          "more than chance would (one-sided binomial test); restrictions with large values are "
                          "not supported by these cases. Cases of one design point on different seeds are not "
                          "independent, so read the values as a guide."))
    for key, others in cases.moves_with.items():
        parts.append(note(f"{', '.join(others)} move{'s' if len(others) == 1 else ''} in lockstep with {key} in the "
                          f"design (one lever); {key} stands for {'it' if len(others) == 1 else 'them'} in the boxes."))
    if cases.incomplete:
        parts.append(note(f"{cases.incomplete} point(s) and seed(s) lacked distributed or a central regime and were "
                          f"left out."))
    if figure_html:
        parts.append(figure_html)
    return "\n".join(parts)


def dial_section(peaks: pd.DataFrame, outcome: str, figures_html: list[str]) -> str:
    """The structure dial: where each condition's curve peaks, with the bootstrap over seeds."""
    conditions = [c for c in peaks.columns if c.startswith("cfg.")]
    shown = peaks[conditions].rename(columns={c: plots.label(c) for c in conditions})
    shown["seeds"] = peaks["seeds"]
    shown["peak of the mean curve"] = peaks["peak"].map(level)
    shown["bootstrap median [95% interval]"] = [f"{level(m)} [{level(lo)}, {level(hi)}]" for m, lo, hi in
                                                zip(peaks["peak_median"], peaks["peak_lo"], peaks["peak_hi"])]
    shown["peak interior"] = [f"{s:.0%}" for s in peaks["share_interior"]]
    shown["peak at 0"] = [f"{s:.0%}" for s in peaks["share_at_min"]]
    shown["peak at 1"] = [f"{s:.0%}" for s in peaks["share_at_max"]]
    shown["mean at peak"] = peaks["peak_value"]
    shown["at 0"] = peaks["value_at_min"]
    shown["at 1"] = peaks["value_at_max"]
    shown["curvature [95% CI]"] = [with_ci(c, lo, hi) for c, lo, hi in
                                   zip(peaks["curvature"], peaks["curvature_lo"], peaks["curvature_hi"])]
    text = (f"<p>For each condition, the curve is the mean {_esc(plots.label(outcome))} over seeds at each setting "
            f"of the hybrid regime's <code>regime.centralisation</code> (0: every task open to self-selection, the "
            f"distributed regime; 1: every task allocated by a manager, the hierarchical regime). Its peak is the "
            f"setting with the highest mean. The bootstrap resamples the seeds (each keeps its whole curve), "
            f"recomputes the mean curve and takes its peak: the median and 95% interval of those peaks, and the "
            f"share of resamples whose peak is interior (neither 0 nor 1), at 0 or at 1. Curvature: the quadratic "
            f"coefficient of a parabola fitted to each seed's curve, mean and t interval across seeds (below zero: "
            f"the curve bends down, as an inverted U does).</p>")
    return "\n".join(["<h2>The structure dial</h2>", text,
                      table(shown, "Where performance peaks along the structure dial",
                            factors=[plots.label(c) for c in conditions]), *figures_html])


# --- the report --------------------------------------------------------------------------------

def build_report(sweep, out=None, study=None, outcome: str = "value_share") -> Path:
    """Write the report for `sweep` and return its path (PNGs go into figures/ next to it)."""
    sweep = Path(sweep)
    sections = study_sections(study) if study else {}
    tables = load_sweep(sweep)
    summary, metrics = tables["summary"], tables["metrics"]
    if outcome in summary and summary[outcome].isna().all():
        raise ReportError(f"--outcome {outcome!r} has no value in any job of this sweep (value share and "
                          "completion rate count only tasks born at least env.patience steps before the end: "
                          "a run shorter than that has none)")
    if outcome not in summary or not pd.api.types.is_numeric_dtype(summary[outcome]):
        numeric = [c for c in summary.columns if pd.api.types.is_numeric_dtype(summary[c]) and not c.startswith("cfg.")]
        raise ReportError(f"--outcome {outcome!r} is not a numeric column of the summary; try one of: "
                          f"{', '.join(numeric[:20])}")
    out = Path(out) if out else sweep / "report.html"
    figures_dir = out.parent / "figures"  # <sweep>/figures by default
    figures_dir.mkdir(parents=True, exist_ok=True)
    dial_html, dial_notes = "", []
    if dial.has_dial(summary):
        # the dial's ends are the pure regimes: the regime comparisons and scenario discovery below run
        # on them (with heroic, if the sweep has it); the dial section covers every setting
        peaks = dial.peak_location(summary, outcome)
        shown = []
        try:
            shown.append(figure(plots.dial_curves(summary, figures_dir / f"dial_{outcome}.png", outcome),
                                f"{plots.label(outcome).capitalize()} against the structure dial, one line per "
                                f"turbulence level: mean and 95% CI band across seeds."))
            shown.append(figure(plots.dial_peaks(peaks, figures_dir / "dial_peak.png"),
                                "Where each condition's mean curve peaks along the dial, against turbulence: "
                                "bootstrap median and 95% interval over seeds; cross: the peak of the mean curve."))
        except Exception as exc:
            dial_notes.append(f"a structure-dial figure was not drawn: {type(exc).__name__}: {exc}")
        dial_html = dial_section(peaks, outcome, shown)
        try:
            summary = dial.as_regimes(summary)
            dial_notes.append("The regime tables, figures and scenario discovery compare the dial's ends as the "
                              "pure regimes (centralisation 0 as distributed, 1 as hierarchical) with the other "
                              "regimes of the sweep; the interior settings appear only in the structure-dial section.")
        except ValueError as exc:
            dial_notes.append(f"the regime comparisons pool the hybrid settings: {exc}")
    dims = sweep_dimensions(summary)
    factors = [d for d in dims if d != "regime"]
    org = "cfg.org.name" if "cfg.org.name" in factors else None
    figs, warnings = [], list(dial_notes)

    def add(name: str, caption: str, draw):
        try:
            figs.append(figure(draw(figures_dir / name), caption))
        except Exception as exc:  # one figure that cannot be drawn should not cost the whole report
            warnings.append(f"figure {name} was not drawn: {type(exc).__name__}: {exc}")

    facets = sorted((f for f in factors if f != DESIGN_ROW and summary[f].nunique() <= 6),
                    key=lambda f: summary[f].nunique())[:2]
    add(f"regimes_{outcome}.png", f"{plots.label(outcome).capitalize()} by regime: mean and 95% CI across seeds "
        f"(diamonds), each seed a dot.",
        lambda p: plots.regime_comparison(summary, p, outcome, col=facets[0] if facets else None,
                                          row=facets[1] if len(facets) > 1 else None))
    for x, name in (("cfg.env.turbulence", "turbulence"), ("cfg.env.complexity", "complexity"),
                    ("cfg.n_members", "members")):
        if x not in factors or (x == "cfg.n_members" and summary[x].nunique() < 3):
            continue
        logx = x == "cfg.n_members"
        add(f"crossover_{name}.png", f"{plots.label(outcome).capitalize()} against {name}, by regime: mean and "
            f"95% CI band across seeds; other factors averaged within each seed.",
            lambda p, x=x, logx=logx: plots.crossover_curves(summary, p, outcome, x=x, logx=logx))
        if "distributed" in set(summary["regime"]) and len(set(summary["regime"]) & {"heroic", "hierarchical"}):
            add(f"difference_{name}.png", f"Paired difference distributed − heroic and distributed − hierarchical "
                f"in {plots.label(outcome)} against {name} (same seed, same other factors): mean and 95% CI band. "
                f"Above zero, distributed leadership wins.",
                lambda p, x=x, logx=logx: plots.difference_curves(summary, p, outcome, x=x, logx=logx))
    events = events_in(summary)
    if len(metrics):
        for event, step in list(events.items())[:3]:
            if step is None:
                continue
            jobs = summary[summary[f"impact.{event}.value_lost"].notna()]
            safe = re.sub(r"[^\w@.-]+", "_", event).replace("@", "_at_")
            add(f"resilience_{safe}.png", f"The 40-step rolling value share (value captured / value arrived) around "
                f"{event}, by regime: mean and 95% CI across seeds. A share can exceed 1 when work that arrived "
                f"earlier is finished inside the window.",
                lambda p, jobs=jobs, event=event, step=step: plots.resilience(
                    metrics[metrics["job_dir"].isin(jobs["job_dir"])], jobs, p, step, event, col=org))
    members = load_members(sweep, summary)
    if len(members):
        add("lorenz.png", "Lorenz curves of task leads (members.parquet, led_count): the further below the diagonal, "
            "the more leadership is concentrated. The Gini in the legend is the mean over runs.",
            lambda p: plots.lorenz_curves(members, p, col=org))
    if len(metrics):
        add("motivation_energy.png", "Mean autonomy (autonomous motivation, SDT) and mean energy over time, by regime: "
            "mean and 95% CI across seeds.", lambda p: plots.motivation_energy(metrics, summary, p, col=org))
    sensitivity_html = ""
    if DESIGN_ROW in summary:
        design, where = find_design(sweep, summary)
        if design is None:
            warnings.append(f"sensitivity analysis skipped: {where}")
        else:
            indices = sensitivity_table(design, design_outcomes(summary, outcome))
            if len(indices):
                sensitivity_html = sensitivity_section(indices, where)
                add("sensitivity.png", "Morris screening of the levers for each outcome: μ* (influence) against σ "
                    "(interactions, non-linearity); the bar is μ*'s 95% CI. Above the dashed line a lever acts mostly "
                    "through interactions.", lambda p: plots.sensitivity(indices, p, outcome))
            else:
                warnings.append("sensitivity analysis skipped: no complete Morris trajectory in the results")
    discovery_html = ""
    if discovery.point_keys(summary):  # a design, or swept keys: points in a space to search
        reason = discovery.not_applicable(summary)
        if reason:
            warnings.append(f"scenario discovery skipped: {reason}")
        else:
            try:
                found = discovery.scenario_discovery(summary, outcome)
                shown = ""
                if len(found.trajectories):
                    path = plots.discovery_tradeoff(found.trajectories, figures_dir / "discovery.png",
                                                    found.min_density, found.cases.wins / len(found.cases.table))
                    shown = figure(path, "PRIM's peeling trajectory for each box: coverage against density, "
                                   "coloured by the number of keys restricted; the star is the chosen point, rings "
                                   "the simpler rules in the table; dashed: the density threshold, dotted: the share "
                                   "of cases where distributed wins overall.")
                discovery_html = discovery_section(found, shown)
            except Exception as exc:  # like a figure: one analysis that fails should not cost the whole report
                warnings.append(f"scenario discovery failed: {type(exc).__name__}: {exc}")

    title = sections.get("title") or f"Sweep report: {sweep.resolve().name}"
    parts = [f"<h1>{_esc(title)}</h1>",
             f'<p class="meta">{_esc(sweep)} · {len(summary)} finished jobs · outcome: {_esc(outcome)} · '
             f"made {datetime.now():%Y-%m-%d %H:%M} by leadsim-report</p>"]
    if sections.get("question") or sections.get("hypothesis"):
        for key, head in (("question", "Question"), ("hypothesis", "Hypothesis")):
            if sections.get(key):
                parts += [f"<h2>{head}</h2>", markdown(sections[key])]
    elif sections.get("intro"):
        parts += ["<h2>About this study</h2>", markdown(sections["intro"])]
    else:
        parts += ["<h2>Question</h2>", "<p>How do heroic, hierarchical and distributed leadership compare on "
                  f"{_esc(plots.label(outcome))} across the conditions this sweep varies? (Give "
                  "<code>--study experiments/&lt;name&gt;/README.md</code> for the study's own question and "
                  "hypothesis.)</p>"]
    parts.append(design_section(sweep, tables, sweep_dimensions(tables["summary"])))
    if dial_html:
        parts.append(dial_html)
    parts.append(results_section(summary, dims, outcome))
    for event in events:
        parts.append(resilience_section(summary, event))
    if sensitivity_html:
        parts.append(sensitivity_html)
    if discovery_html:
        parts.append(discovery_html)
    parts += ["<h2>Figures</h2>", *figs]
    if warnings:
        parts += ["<h2>Notes</h2>", *[note(w) for w in warnings]]
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    for w in warnings:
        print(f"leadsim-report: note: {w}", file=sys.stderr)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="leadsim-report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sweep", help="the sweep folder (hydra.sweep.dir)")
    p.add_argument("--out", help="the HTML file to write (default: <sweep>/report.html)")
    p.add_argument("--study", help="the study's README.md, for its question and hypothesis")
    p.add_argument("--outcome", default="value_share", help="the summary column to compare (default: value_share)")
    args = p.parse_args(argv)
    try:
        out = build_report(args.sweep, args.out, args.study, args.outcome)
    except (ReportError, FileNotFoundError) as exc:
        sys.exit(f"leadsim-report: error: {exc}")
    print(f"report -> {out} (figures in {out.parent / 'figures'})")


if __name__ == "__main__":
    main()

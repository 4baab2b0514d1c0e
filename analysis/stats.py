"""Statistics over a collected sweep's result tables (summary.parquet, members.parquet).

Every function takes data frames and returns data frames; nothing here runs the model. Seeds are
the replicates: confidence intervals are t intervals across seeds, and regimes are compared in
exact pairs, because regimes run with the same seed and config face the identical task stream.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

REGIMES = ["heroic", "hierarchical", "distributed", "hybrid"]
CENTRAL = ["heroic", "hierarchical"]
SEED = "seed"
DESIGN_ROW = "design_row"
# outcomes where less is better (for "best regime"); everything else: more is better
LOWER_IS_BETTER = {"mean_cycle", "tasks_failed", "burnout_days", "effective_decision_load", "decision_load",
                   "tasks_running_at_end", "value_running_at_end"}
CROSSOVER_FACTORS = ["cfg.org.name", "cfg.n_members", "cfg.env.turbulence", "cfg.env.complexity"]
_IMPACT = re.compile(r"^impact\.(?P<event>.+)\.(?P<measure>value_lost|steps_to_recover|worst_window_ratio|material)$")


def _as_list(by) -> list:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


# --- the design of a sweep ---------------------------------------------------------------------

def with_design_row(summary: pd.DataFrame) -> pd.DataFrame:
    """Add a `design_row` column, read from each job's overrides (`design_row=N`), when the sweep
    ran over a design table; the config columns record the row's parameters but not its number."""
    if DESIGN_ROW in summary or "overrides" not in summary:
        return summary
    rows = summary["overrides"].astype(str).str.extract(r"(?:^|\s)design_row=(\d+)(?:\s|$)")[0]
    if rows.isna().all():
        return summary
    out = summary.copy()
    out[DESIGN_ROW] = pd.to_numeric(rows).astype("Int64")
    return out


def _varies(column: pd.Series) -> bool:
    return column.astype(str).nunique(dropna=False) > 1


def _moves_only_with(summary: pd.DataFrame, column: str, key: str) -> bool:
    """True when `column` is constant within each value of `key`: an attribute of that key."""
    return bool((summary.groupby(key, dropna=False)[column].agg(lambda s: s.astype(str).nunique()) <= 1).all())


def sweep_dimensions(summary: pd.DataFrame) -> list[str]:
    """The design's factors: `regime`, `design_row` and the `cfg.*` columns that vary across jobs.
    Seeds are replicates, not factors; a config column that only moves with the regime (a regime
    preset) or with the design row (a design parameter) is not a factor of its own."""
    dims = []
    for key in ("regime", DESIGN_ROW):
        if key in summary and _varies(summary[key]):
            dims.append(key)
    known = [c for c in CROSSOVER_FACTORS if c in summary]  # the studies' factors first, in a fixed order
    for column in known + [c for c in summary.columns if c not in known]:
        if not column.startswith("cfg.") or column in ("cfg.seed", "cfg.regime.name"):
            continue
        if not _varies(summary[column]):
            continue
        if any(_moves_only_with(summary, column, key) for key in dims):
            continue
        dims.append(column)
    return dims


def factor_levels(summary: pd.DataFrame, dims: list[str]) -> dict[str, list]:
    """The levels of each factor, sorted (regimes in their natural order)."""
    out = {}
    for d in dims:
        levels = list(pd.unique(summary[d].dropna()))
        if d == "regime":
            levels = [r for r in REGIMES if r in levels] + sorted(set(levels) - set(REGIMES))
        else:
            try:
                levels = sorted(levels)
            except TypeError:
                levels = sorted(levels, key=str)
        out[d] = levels
    return out


def seeds_per_cell(summary: pd.DataFrame, dims: list[str] | None = None) -> pd.Series:
    """How many distinct seeds each cell of the design (a combination of factor levels) holds."""
    dims = sweep_dimensions(summary) if dims is None else dims
    if not dims:
        return pd.Series([summary[SEED].nunique()])
    return summary.groupby(dims, dropna=False)[SEED].nunique()


# --- intervals ---------------------------------------------------------------------------------

def t_interval(values, level: float = 0.95) -> tuple[float, float]:
    """The t-based confidence interval of a mean; (nan, nan) below two values. Usable as a
    seaborn `errorbar=` callable, so figures and tables show the same interval."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 2:
        return math.nan, math.nan
    mean = x.mean()
    half = st.t.ppf((1 + level) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return mean - half, mean + half


def mean_ci(summary: pd.DataFrame, by, value: str, level: float = 0.95) -> pd.DataFrame:
    """Mean, sd, n and the t-based confidence interval (lo, hi) of `value` per group of `by`,
    across seeds (and whatever else the group pools). Missing values are left out of n."""
    by = _as_list(by)
    data = summary[by + [value]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce").astype(float)
    if by:
        g = data.groupby(by, dropna=False, sort=True)[value]
        out = g.agg(mean="mean", sd="std", n="count").reset_index()
    else:
        x = data[value]
        out = pd.DataFrame({"mean": [x.mean()], "sd": [x.std()], "n": [x.count()]})
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = np.where(n >= 2, st.t.ppf((1 + level) / 2, np.maximum(n - 1, 1)), np.nan)
        half = tq * out["sd"].to_numpy(dtype=float) / np.sqrt(n)
    out["lo"] = out["mean"] - half
    out["hi"] = out["mean"] + half
    return out


def seed_means(frame: pd.DataFrame, keys, value: str) -> pd.DataFrame:
    """Average `value` over everything but `keys` and the seed, so that a CI across the result
    is a CI across seeds (other factors are averaged within each seed, not pooled)."""
    keys = [k for k in _as_list(keys) if k != SEED]
    return frame.groupby(keys + [SEED], dropna=False, sort=False)[value].mean().reset_index()


# --- paired comparisons ------------------------------------------------------------------------

@dataclass
class Paired:
    """Paired differences a - b: `pairs` one row per pair, `table` their mean and CI by the other
    factors with `share_a_better` (share of pairs where a > b), `unpaired` jobs dropped."""

    a: str
    b: str
    value: str
    pairs: pd.DataFrame
    table: pd.DataFrame
    unpaired: int
    by: list


def paired_differences(summary: pd.DataFrame, value: str, a: str = "distributed", b: str = "heroic",
                       pair_on=None, by=None, level: float = 0.95) -> Paired:
    """Difference a - b of `value` between regimes in exact pairs: the same seed and the same other
    factors (default `pair_on`: the varying dimensions except regime, plus the seed), then
    `mean_ci` of the differences by the other factors (`by`, default `pair_on` without the seed).
    A job of regime a or b without its partner is dropped and counted in `unpaired`."""
    dims = [d for d in sweep_dimensions(summary) if d != "regime"]
    pair_on = dims + [SEED] if pair_on is None else _as_list(pair_on)
    by = [k for k in pair_on if k != SEED] if by is None else _as_list(by)
    data = summary[summary["regime"].isin([a, b])]
    if data.empty:
        empty = pd.DataFrame(columns=pair_on + [a, b, "diff", "a_better"])
        table = mean_ci(empty.astype({"diff": float}), by, "diff", level).assign(share_a_better=np.nan)
        return Paired(a, b, value, empty, table, 0, by)
    # identical config and seed give identical runs: a repeated job counts once
    cells = data.groupby(pair_on + ["regime"], dropna=False)[value].mean().unstack("regime")
    for regime in (a, b):
        if regime not in cells:
            cells[regime] = np.nan
    present = data.groupby(pair_on + ["regime"], dropna=False).size().unstack("regime").reindex(
        columns=[a, b]).fillna(0)
    complete = (present[a] > 0) & (present[b] > 0)
    unpaired = int(present.loc[~complete, [a, b]].to_numpy().sum())
    pairs = cells.loc[complete, [a, b]].reset_index()
    pairs["diff"] = pairs[a] - pairs[b]
    pairs["a_better"] = (pairs[a] > pairs[b]).astype(float).where(pairs["diff"].notna())
    table = mean_ci(pairs, by, "diff", level)
    share = pairs.groupby(by, dropna=False, sort=True)["a_better"].mean().reset_index(drop=True) if by \
        else pd.Series([pairs["a_better"].mean()])
    table["share_a_better"] = share.to_numpy() if len(table) else []
    return Paired(a, b, value, pairs, table, unpaired, by)


# --- the studies' headline numbers -------------------------------------------------------------

def higher_is_better(value: str) -> bool:
    return value not in LOWER_IS_BETTER and not value.endswith((".value_lost", ".steps_to_recover"))


def verdict(lo: float, hi: float, a: str = "distributed", b: str = "central", better_if_higher: bool = True) -> str:
    """Which of a and b the CI of the difference a - b favours, if either."""
    if math.isnan(lo) or math.isnan(hi):
        return "too few seeds"
    if lo > 0 or hi < 0:
        return f"{a if (lo > 0) == better_if_higher else b} better"
    return "no clear difference"


def holm_adjusted(p_values) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (it controls the family-wise error rate,
    and is uniformly more powerful than Bonferroni): the k-th smallest of m p-values is multiplied
    by m - k + 1, and the adjusted values are made non-decreasing in that order and capped at 1.
    Missing p-values (NaN) are left out of the family and stay NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    known = np.flatnonzero(~np.isnan(p))
    m = len(known)
    if m == 0:
        return out
    order = known[np.argsort(p[known], kind="stable")]
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out


def paired_p_value(differences) -> float:
    """Two-sided paired t-test of mean difference 0 (a one-sample t-test on the paired
    differences); NaN below two pairs. Differences without spread (a regime's effect identical on
    every seed) give 0 when they are not 0, and 1 when they are all 0."""
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if len(d) < 2:
        return math.nan
    if np.ptp(d) == 0:
        return 0.0 if d[0] != 0 else 1.0
    return float(st.ttest_1samp(d, 0.0).pvalue)


def tested_verdict(diff: float, p_adjusted: float, alpha: float, a: str = "distributed", b: str = "central",
                   better_if_higher: bool = True) -> str:
    """Which of a and b the paired test favours, after the multiple-comparison correction."""
    if math.isnan(p_adjusted) or math.isnan(diff):
        return "too few seeds"
    if p_adjusted < alpha and diff != 0:
        return f"{a if (diff > 0) == better_if_higher else b} better"
    return "no clear difference"


def crossover_table(summary: pd.DataFrame, value: str = "value_share", factors=None, level: float = 0.95,
                    family: str = "cell") -> pd.DataFrame:
    """For each cell of (org, n_members, turbulence, complexity) — the ones that vary — the mean of
    each regime, the best regime by mean, and distributed tested against each central regime
    (heroic and hierarchical, whichever the sweep has) on the same seeds.

    Picking the central regime with the better mean in a cell and then testing distributed against
    it alone would be a winner's-curse selection: the pick favours whichever regime happened to do
    well on these seeds. So both comparisons are made and reported, each with its paired difference
    distributed − regime, the t interval of that difference across seeds (at `level`, unadjusted),
    the pairs, the share of pairs where distributed is better, the paired t-test's p-value, and
    that p-value adjusted by Holm's method over the family of comparisons: the two in each cell
    (`family="cell"`), or every comparison in the table (`family="table"`). The verdict of each
    comparison is taken from its adjusted p-value at 1 - level. Columns for the comparison with
    regime r end in `_vs_<r>`: diff, lo, hi, pairs, share_distributed_better, p, p_holm, verdict.
    Better is higher, except for the outcomes in LOWER_IS_BETTER."""
    if family not in ("cell", "table"):
        raise ValueError(f"family = {family!r}; choose 'cell' (the comparisons in each cell) or 'table' (all)")
    factors = [f for f in (CROSSOVER_FACTORS if factors is None else factors)
               if f in summary and _varies(summary[f])]
    regimes = [r for r in REGIMES if r in set(summary["regime"])]
    means = mean_ci(summary, factors + ["regime"], value, level)
    wide = means.pivot_table(index=factors or None, columns="regime", values="mean", dropna=False) if factors \
        else means.set_index("regime")["mean"].to_frame().T
    wide = wide.reindex(columns=regimes)
    up = higher_is_better(value)
    central = [r for r in CENTRAL if r in regimes] if "distributed" in regimes else []
    rows = []
    pair_on = [d for d in sweep_dimensions(summary) if d != "regime"] + [SEED]
    for key, means_row in wide.iterrows():
        cell = summary
        key = key if isinstance(key, tuple) else (key,)
        for f, level_value in zip(factors, key):
            cell = cell[cell[f] == level_value]
        row = dict(zip(factors, key)) if factors else {}
        row.update({r: means_row[r] for r in regimes})
        ranked = means_row.dropna().sort_values(ascending=not up)
        row["best"] = ranked.index[0] if len(ranked) else None
        for b in central:
            p = paired_differences(cell, value, "distributed", b, pair_on=pair_on, by=[], level=level)
            t = p.table.iloc[0]
            row.update({f"diff_vs_{b}": t["mean"], f"lo_vs_{b}": t["lo"], f"hi_vs_{b}": t["hi"],
                        f"pairs_vs_{b}": int(t["n"]), f"share_distributed_better_vs_{b}": t["share_a_better"],
                        f"p_vs_{b}": paired_p_value(p.pairs["diff"])})
        rows.append(row)
    out = pd.DataFrame(rows)
    if central and len(out):
        p_columns = [f"p_vs_{b}" for b in central]
        raw = out[p_columns].to_numpy(dtype=float)
        adjusted = (np.vstack([holm_adjusted(r) for r in raw]) if family == "cell"
                    else holm_adjusted(raw.ravel()).reshape(raw.shape))
        for j, b in enumerate(central):
            out[f"p_holm_vs_{b}"] = adjusted[:, j]
            out[f"verdict_vs_{b}"] = [tested_verdict(d, q, 1 - level, "distributed", b, up)
                                      for d, q in zip(out[f"diff_vs_{b}"], adjusted[:, j])]
    return out


def events_in(summary: pd.DataFrame) -> dict[str, int]:
    """The scheduled events with impact columns, and the step each happens at."""
    events = {}
    for column in summary.columns:
        m = _IMPACT.match(column)
        if m and summary[column].notna().any():
            step = re.search(r"@(\d+)", m["event"])
            events[m["event"]] = int(step.group(1)) if step else None
    return events


def resilience_table(summary: pd.DataFrame, event: str, by=("regime",), level: float = 0.95) -> pd.DataFrame:
    """An event's impact (each job against its paired control run without the event) per group:
    value lost and the worst 40-step window ratio with CIs, and how many runs recovered (came back
    within 10% of the control) with their median steps to recover."""
    by = [b for b in _as_list(by) if b in summary]
    col = f"impact.{event}."
    data = summary[summary[col + "value_lost"].notna()]
    lost = mean_ci(data, by, col + "value_lost", level)
    worst = mean_ci(data, by, col + "worst_window_ratio", level)
    out = lost[by + ["n"]].copy()
    out["value_lost"], out["value_lost_lo"], out["value_lost_hi"] = lost["mean"], lost["lo"], lost["hi"]
    out["worst_ratio"], out["worst_ratio_lo"], out["worst_ratio_hi"] = worst["mean"], worst["lo"], worst["hi"]
    steps = pd.to_numeric(data[col + "steps_to_recover"], errors="coerce")
    recovered = data.assign(_rec=steps.notna(), _steps=steps)
    if by:
        g = recovered.groupby(by, dropna=False, sort=True)
        out["recovered"] = g["_rec"].sum().to_numpy()
        out["median_steps_to_recover"] = g["_steps"].median().to_numpy()
    else:
        out["recovered"] = [recovered["_rec"].sum()]
        out["median_steps_to_recover"] = [recovered["_steps"].median()]
    return out


# --- leadership distribution -------------------------------------------------------------------

def gini(counts) -> float:
    """Gini coefficient of non-negative counts (0: everyone led equally; near 1: one person led)."""
    x = np.sort(np.asarray(counts, dtype=float))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2 * (ranks * x).sum() / (n * total) - (n + 1) / n)


def lorenz(counts, grid=None) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve: the cumulative share of leadership held by the bottom share of members.
    With `grid` (population shares), the curve is interpolated onto it for averaging across runs."""
    x = np.sort(np.asarray(counts, dtype=float))
    n, total = len(x), x.sum()
    people = np.arange(n + 1) / max(n, 1)
    held = np.concatenate([[0.0], np.cumsum(x) / total]) if total > 0 else people.copy()
    if grid is None:
        return people, held
    return np.asarray(grid), np.interp(grid, people, held)


def lorenz_table(members: pd.DataFrame, by="regime", value: str = "led_count", points: int = 101) -> pd.DataFrame:
    """Lorenz curves per job on a common grid, with each job's Gini: rows (by..., job_dir,
    population_share, leadership_share, gini), ready to average across seeds."""
    by = _as_list(by)
    grid = np.linspace(0, 1, points)
    frames = []
    for key, g in members.groupby(by + ["job_dir"], dropna=False, sort=True):
        _, held = lorenz(g[value], grid)
        frame = pd.DataFrame({"population_share": grid, "leadership_share": held, "gini": gini(g[value])})
        for k, v in zip(by + ["job_dir"], key if isinstance(key, tuple) else (key,)):
            frame[k] = v
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --- sensitivity (four keys) -------------------------------------------------------------------

def design_outcomes(summary: pd.DataFrame, value: str, comparisons=(("distributed", "heroic"),
                    ("distributed", "hierarchical")), regime: str = "distributed") -> pd.DataFrame:
    """One row per design row: the paired differences a - b averaged over seeds, and `value` of
    `regime` averaged over seeds; the outcomes a sensitivity analysis ranks the levers by."""
    summary = with_design_row(summary)
    out = pd.DataFrame(index=pd.Index(sorted(summary[DESIGN_ROW].dropna().unique()), name=DESIGN_ROW))
    for a, b in comparisons:
        if not {a, b} <= set(summary["regime"]):
            continue
        p = paired_differences(summary, value, a, b, pair_on=[DESIGN_ROW, SEED], by=[DESIGN_ROW])
        out[f"{a} − {b}"] = p.table.set_index(DESIGN_ROW)["mean"]
    if regime in set(summary["regime"]):
        own = summary[summary["regime"] == regime].groupby(DESIGN_ROW)[value].mean()
        out[f"{regime} alone"] = own
    return out


def sensitivity_table(design: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Morris indices (mu*, sigma) of each outcome column over the design's levers. A partial sweep
    keeps its complete trajectories only (each trajectory is k + 1 consecutive design rows)."""
    from .design import morris_indices, problem

    k = problem()["num_vars"]
    frames = []
    for outcome in outcomes.columns:
        y = outcomes[outcome].reindex(range(len(design)))
        blocks = [range(s, s + k + 1) for s in range(0, len(design) - k, k + 1)]
        keep = [r for block in blocks if y.loc[list(block)].notna().all() for r in block]
        if not keep:
            continue
        res = morris_indices(design.iloc[keep].reset_index(drop=True), y.loc[keep].to_numpy())
        res.insert(0, "outcome", outcome)
        res["trajectories"] = len(keep) // (k + 1)
        frames.append(res)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

"""The structure dial: where on the dial from self-selection (0) to allocation by managers (1) does
performance peak, and does the peak move with the environment?

Davis, Eisenhardt & Bingham (2009, ASQ) find performance an inverted U in the amount of structure,
with the peak moving as the environment's unpredictability changes. Here the dial is the hybrid
regime's `regime.centralisation` (ODD item 36). For each condition (a cell of the other swept keys:
turbulence, complexity, structure, ...) the curve is the mean outcome over seeds at each level of
the dial; its peak is the level with the highest mean. The uncertainty of that peak is found by the
bootstrap over seeds: resample the seeds with replacement, recompute the mean curve over all
levels (each seed keeps its whole curve, so the pairing of levels within a seed, the same task
stream, is kept), take the argmax. The median and the 95% interval of those argmaxes say where the
peak is and how sure we are; the share of resamples whose peak is interior (neither end of the
dial) says whether the curve is an inverted U rather than monotone.

    from analysis.dial import peak_location
    peaks = peak_location(summary, "value_share")   # one row per condition

The ends of the dial are the pure regimes (0 is distributed, 1 is hierarchical; the tests prove
both identical), so `as_regimes` relabels them for the paired comparisons and scenario discovery
the other studies use.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as st

from .stats import SEED, _varies, higher_is_better

CENTRALISATION = "cfg.regime.centralisation"
HYBRID = "hybrid"
MIN_LEVELS = 3  # fewer levels of the dial cannot show a peak inside it


def dial_jobs(summary: pd.DataFrame) -> pd.DataFrame:
    """The hybrid jobs of a sweep, with the dial as a float column."""
    if CENTRALISATION not in summary or "regime" not in summary:
        return summary.iloc[0:0]
    jobs = summary[(summary["regime"] == HYBRID) & summary[CENTRALISATION].notna()].copy()
    jobs[CENTRALISATION] = pd.to_numeric(jobs[CENTRALISATION], errors="coerce").astype(float)
    return jobs


def has_dial(summary: pd.DataFrame, min_levels: int = MIN_LEVELS) -> bool:
    """True when the sweep runs the hybrid regime at `min_levels` settings of the dial or more."""
    jobs = dial_jobs(summary)
    return CENTRALISATION in jobs and jobs[CENTRALISATION].nunique() >= min_levels


def dial_conditions(summary: pd.DataFrame) -> list[str]:
    """The keys other than the dial and the seed that vary across the hybrid jobs: each of their
    combinations is one condition with a curve of its own."""
    jobs = dial_jobs(summary)
    return [c for c in jobs.columns if c.startswith("cfg.") and c not in (CENTRALISATION, "cfg.seed",
            "cfg.regime.name") and _varies(jobs[c])]


def seed_curves(summary: pd.DataFrame, value: str = "value_share", by=None) -> pd.DataFrame:
    """One row per condition and seed, one column per level of the dial: the seed's curve. Repeated
    jobs (same config and seed: identical runs) count once; a seed missing a level is left out of
    its condition, so every curve in a condition covers the same levels."""
    jobs = dial_jobs(summary)
    by = dial_conditions(summary) if by is None else list(by)
    jobs[value] = pd.to_numeric(jobs[value], errors="coerce").astype(float)
    wide = jobs.groupby(by + [SEED, CENTRALISATION], dropna=False)[value].mean().unstack(CENTRALISATION)
    return wide.dropna(how="any").sort_index(axis=1)


def _argmax_random_ties(curves: np.ndarray, rng: np.random.Generator, up: bool) -> np.ndarray:
    """The column of each row's best value; exact ties broken at random, so a perfectly flat curve
    does not pretend its peak is at the first level."""
    x = curves if up else -curves
    best = x.max(axis=1, keepdims=True)
    tied = np.isclose(x, best, rtol=0, atol=1e-12)
    noise = rng.random(x.shape) * tied
    return noise.argmax(axis=1)


def _curvature(curves: pd.DataFrame, level: float) -> tuple[float, float, float]:
    """The quadratic coefficient of a least-squares parabola through each seed's curve, mean and
    t interval across seeds: below zero, the curve bends down (concave, as an inverted U does)."""
    x = curves.columns.to_numpy(dtype=float)
    coef = np.array([np.polyfit(x, row, 2)[0] for row in curves.to_numpy(dtype=float)])
    n = len(coef)
    if n < 2:
        return float(coef.mean()) if n else math.nan, math.nan, math.nan
    half = st.t.ppf((1 + level) / 2, n - 1) * coef.std(ddof=1) / math.sqrt(n)
    return float(coef.mean()), float(coef.mean() - half), float(coef.mean() + half)


def peak_location(summary: pd.DataFrame, value: str = "value_share", by=None, n_boot: int = 2000,
                  level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Where on the dial each condition's mean curve of `value` peaks, with a bootstrap over seeds.

    One row per condition (the combinations of `by`, default: every key other than the dial that
    varies across the hybrid jobs): `seeds`, `levels`, the observed `peak` (argmax of the mean
    curve) and the mean there (`peak_value`), the mean at each end (`value_at_min`,
    `value_at_max`), the bootstrap `peak_median`, `peak_lo`, `peak_hi` (the central `level`
    interval of the resampled argmaxes, on the dial's levels), `share_interior` (the share of
    resamples whose peak is at neither end), `share_at_min` and `share_at_max`, and `curvature`
    with `curvature_lo`, `curvature_hi` (the mean quadratic coefficient across seeds, t interval).
    For an outcome where lower is better, the peak is the minimum."""
    curves = seed_curves(summary, value, by)
    by = list(curves.index.names[:-1])
    up = higher_is_better(value)
    rng = np.random.default_rng(seed)
    tail = (1 - level) / 2
    rows = []
    groups = curves.groupby(level=by, dropna=False, sort=True) if by else [((), curves)]
    for key, g in groups:
        levels = g.columns.to_numpy(dtype=float)
        y = g.to_numpy(dtype=float)
        n = len(y)
        mean = y.mean(axis=0)
        observed = _argmax_random_ties(mean[None, :], rng, up)[0]
        draws = rng.integers(0, n, size=(n_boot, n))
        boot = _argmax_random_ties(y[draws].mean(axis=1), rng, up)
        peaks = levels[boot]
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        c, c_lo, c_hi = _curvature(g, level)
        row.update({
            "seeds": n, "levels": len(levels), "peak": levels[observed], "peak_value": mean[observed],
            "value_at_min": mean[0], "value_at_max": mean[-1],
            "peak_median": float(np.quantile(peaks, 0.5, method="inverted_cdf")),
            "peak_lo": float(np.quantile(peaks, tail, method="inverted_cdf")),
            "peak_hi": float(np.quantile(peaks, 1 - tail, method="inverted_cdf")),
            "share_interior": float(((boot > 0) & (boot < len(levels) - 1)).mean()),
            "share_at_min": float((boot == 0).mean()), "share_at_max": float((boot == len(levels) - 1).mean()),
            "curvature": c, "curvature_lo": c_lo, "curvature_hi": c_hi,
        })
        rows.append(row)
    return pd.DataFrame(rows)


def as_regimes(summary: pd.DataFrame) -> pd.DataFrame:
    """The sweep with the dial's ends named as the pure regimes they are (0: distributed, 1:
    hierarchical) and its interior settings left out, so that the paired comparisons and scenario
    discovery can set distributed against the central regimes (with heroic, if the sweep has it)."""
    jobs = summary.copy()
    if CENTRALISATION not in jobs:
        return jobs
    dial = pd.to_numeric(jobs[CENTRALISATION], errors="coerce")
    hybrid = jobs["regime"] == HYBRID
    lo, hi = dial[hybrid].min(), dial[hybrid].max()
    if lo != 0 or hi != 1:
        raise ValueError(f"the dial runs from {lo:g} to {hi:g}; its ends are the pure regimes only at 0 and 1")
    jobs = jobs[~hybrid | dial.isin([0.0, 1.0])].copy()
    ends = jobs["regime"] == HYBRID
    jobs.loc[ends, "regime"] = np.where(dial[jobs.index][ends] == 0.0, "distributed", "hierarchical")
    if "cfg.regime.name" in jobs:
        jobs.loc[ends, "cfg.regime.name"] = jobs.loc[ends, "regime"]
    return jobs.drop(columns=[CENTRALISATION])

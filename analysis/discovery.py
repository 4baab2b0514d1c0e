"""Scenario discovery: *where* in a sweep's parameter space does distributed leadership win?

The Morris screening (four_keys) ranks the levers; this finds the region. From a collected sweep
(summary.parquet) each design point — a design-table row, or a cell of the swept `cfg.*` keys —
and seed is one case. The case of interest is "distributed beats the best central regime in this
seed": distributed's value share is above heroic's, hierarchical's and hybrid's (those the sweep
has) on the same seed, which is the same task stream. Distributed is compared with *each* central
regime within the seed, not with the one whose mean is best: a regime can be worse on average and
still beat distributed on a given seed, and then distributed did not win there.

PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999, as used for scenario discovery
by Bryant & Lempert 2010; the EMA workbench's implementation) then peels the input space towards
boxes where those cases are dense. Each box is read at a point of its peeling (and pasting)
trajectory: coverage is the share of all cases of interest that fall in the box, density the share
of the box's cases that are of interest. The chosen point has the best balance of the two (their
harmonic mean) among points at least `min_density` dense; simpler points (fewer restricted keys)
are reported beside it, since the analyst, not the algorithm, decides how much density a simpler
rule is worth. Boxes after the first are found in the cases the earlier boxes leave (covering).

    from analysis.discovery import scenario_discovery
    found = scenario_discovery(summary, "value_share")
    found.points        # one row per reported point: box, limits, coverage, density, cases, wins
    found.trajectories  # every point of every box's trajectory (the figure's data)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .stats import CENTRAL, DESIGN_ROW, SEED, higher_is_better, sweep_dimensions, with_design_row

CENTRAL_REGIMES = [*CENTRAL, "hybrid"]  # hybrid allocates a share of the work centrally
DISTRIBUTED = "distributed"
CASE = "distributed_wins"
NOT_INPUTS = {"cfg.seed", "cfg.regime.name"}  # the replicate and the regime itself
MAX_LEVELS = 8  # a numeric key with at most this many values has its levels named in a box's rule


@dataclass
class Cases:
    """One row per design point and seed (`table`): the point's keys, the PRIM inputs (config keys
    without `cfg.`), each regime's value, the seed's best central regime, the margin distributed −
    best central, and `distributed_wins`. `incomplete` counts points and seeds left out because
    distributed or a central regime has no value there; `moves_with` names design parameters that
    move in lockstep with an input (one lever setting several keys) and are represented by it."""

    table: pd.DataFrame
    inputs: list[str]
    central: list[str]
    value: str
    incomplete: int
    moves_with: dict[str, list[str]] = field(default_factory=dict)

    @property
    def wins(self) -> int:
        return int(self.table[CASE].sum())


@dataclass
class Discovery:
    """PRIM's result. `trajectories`: every point of each box's trajectory (box, point, coverage,
    density, mass, n cases, k cases of interest, res_dim, f1, chosen, reported). `points`: the
    reported points (the chosen one and the best with each smaller number of restricted keys), with
    `limits` as text. `limits`: one row per reported point and restricted key (lo, hi, the levels inside the
    box for a categorical key or one with few values, and PRIM's quasi-p values of each restricted side)."""

    cases: Cases
    trajectories: pd.DataFrame
    points: pd.DataFrame
    limits: pd.DataFrame
    min_density: float
    message: str | None = None  # why no box was searched for (no wins, no inputs, ...)


class DiscoveryError(ValueError):
    """The sweep has no design point to discover over, or no distributed and central regime."""


# --- the cases ---------------------------------------------------------------------------------

def point_keys(summary: pd.DataFrame) -> list[str]:
    """What makes a design point: the design row and the swept `cfg.*` keys (not regime, not seed)."""
    return [d for d in sweep_dimensions(with_design_row(summary)) if d != "regime"]


def _lockstep(values: pd.DataFrame) -> dict[str, list[str]]:
    """Numeric columns that are exact affine functions of an earlier one (a lever mapped onto several
    parameters): representative -> the columns it stands for. PRIM could restrict either of two such
    copies at random; one of them is enough."""
    groups: dict[str, list[str]] = {}
    kept: list[str] = []
    for column in values.columns:
        x = values[column]
        twin = None
        if pd.api.types.is_numeric_dtype(x) and x.nunique() > 1:
            for k in kept:
                y = values[k]
                r = np.corrcoef(x.astype(float), y.astype(float))[0, 1] if pd.api.types.is_numeric_dtype(y) else 0
                if abs(r) > 1 - 1e-9:
                    twin = k
                    break
        if twin is None:
            kept.append(column)
            groups[column] = []
        else:
            groups[twin].append(column)
    return groups


def discovery_inputs(summary: pd.DataFrame) -> tuple[list[str], dict[str, list[str]]]:
    """PRIM's inputs as `cfg.*` columns: a design's parameters (config columns that vary across
    jobs but are fixed within each design row; one per lockstep group) and the other swept keys."""
    summary = with_design_row(summary)
    keys = point_keys(summary)
    design = []
    if DESIGN_ROW in keys:
        for column in summary.columns:
            if not column.startswith("cfg.") or column in NOT_INPUTS or column in keys:
                continue
            col = summary[column].astype(str)
            if col.nunique() > 1 and (summary.assign(_c=col).groupby(DESIGN_ROW)["_c"].nunique() <= 1).all():
                design.append(column)
    groups = _lockstep(summary.groupby(DESIGN_ROW)[design].first()) if design else {}
    inputs = list(groups) + [k for k in keys if k != DESIGN_ROW]
    return inputs, {k: v for k, v in groups.items() if v}


def not_applicable(summary: pd.DataFrame) -> str | None:
    """Why scenario discovery cannot run on this sweep (None when it can)."""
    summary = with_design_row(summary)
    if "regime" not in summary:
        return "the summary has no regime column"
    if not point_keys(summary):
        return "the sweep has no design table and no swept key with two values or more: one point, nothing to discover"
    regimes = set(summary["regime"])
    central = [r for r in CENTRAL_REGIMES if r in regimes]
    if DISTRIBUTED not in regimes or not central:
        return (f"it needs distributed and at least one of {', '.join(CENTRAL_REGIMES)} on the same seeds; this "
                f"sweep has {', '.join(sorted(regimes))}")
    if not discovery_inputs(summary)[0]:
        return "the design rows record no parameter that varies"
    return None


def _prim_name(column: str) -> str:
    return column.removeprefix("cfg.")


def discovery_cases(summary: pd.DataFrame, value: str = "value_share") -> Cases:
    """One case per design point and seed: does distributed beat every central regime in it?"""
    summary = with_design_row(summary)
    reason = not_applicable(summary)
    if reason:
        raise DiscoveryError(f"scenario discovery: {reason}")
    keys = point_keys(summary)
    inputs, moves_with = discovery_inputs(summary)
    central = [r for r in CENTRAL_REGIMES if r in set(summary["regime"])]
    regimes = [DISTRIBUTED] + central
    data = summary[summary["regime"].isin(regimes)].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce").astype(float)
    # identical config and seed give identical runs: a repeated job counts once
    wide = data.groupby(keys + [SEED, "regime"], dropna=False)[value].mean().unstack("regime").reindex(columns=regimes)
    complete = wide.notna().all(axis=1)
    wide = wide[complete]
    up = higher_is_better(value)
    best_central = wide[central].idxmax(axis=1) if up else wide[central].idxmin(axis=1)
    best = wide[central].max(axis=1) if up else wide[central].min(axis=1)
    table = wide.reset_index()
    table.columns.name = None
    table["best_central"] = best_central.to_numpy()
    table["margin"] = (wide[DISTRIBUTED] - best).to_numpy() * (1 if up else -1)
    table[CASE] = table["margin"] > 0  # strictly: a tie is no win
    # the inputs: a design's parameters (fixed within a row), the swept keys as they are
    point_inputs = data.groupby(keys, dropna=False)[[c for c in inputs if c not in keys]].first().reset_index()
    table = table.merge(point_inputs, on=keys, how="left") if len(point_inputs.columns) > len(keys) else table
    table = table.rename(columns={c: _prim_name(c) for c in inputs if c in table})
    front = [k for k in keys if k in table] + [SEED]
    ordered = front + [_prim_name(c) for c in inputs if _prim_name(c) not in front] + regimes + \
        ["best_central", "margin", CASE]
    table = table[list(dict.fromkeys(ordered))].sort_values(front, ignore_index=True)
    return Cases(table, [_prim_name(c) for c in inputs], central, value, int((~complete).sum()),
                 {_prim_name(k): [_prim_name(c) for c in v] for k, v in moves_with.items()})


# --- PRIM --------------------------------------------------------------------------------------

def _prim_frame(table: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    """The inputs in the dtypes PRIM tells apart: float64 (peeled by quantiles), int64 (by
    levels), anything else as a category (by dropping levels)."""
    x = pd.DataFrame(index=range(len(table)))
    for c in inputs:
        col = table[c].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            x[c] = col.astype(str).to_numpy(dtype=object)
        elif pd.api.types.is_integer_dtype(col) and not col.isna().any():
            x[c] = col.to_numpy(dtype=np.int64)
        else:
            x[c] = col.to_numpy(dtype=np.float64)
    return x


def _f1(coverage, density):
    c, d = np.asarray(coverage, dtype=float), np.asarray(density, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c + d > 0, 2 * c * d / (c + d), 0.0)


def choose_point(trajectory: pd.DataFrame, min_density: float = 0.8) -> int:
    """The point of a trajectory to read the box at: the best harmonic mean of coverage and density
    among the points at least `min_density` dense (all points when none is), fewer restricted
    keys and then the earlier (larger) box breaking ties. Returns its position in `trajectory`."""
    t = trajectory.reset_index(drop=True).assign(_f1=lambda d: _f1(d["coverage"], d["density"]))
    pool = t[t["density"] >= min_density - 1e-12]
    pool = pool if len(pool) else t
    return int(pool.sort_values(["_f1", "res_dim"], ascending=[False, True], kind="stable").index[0])


def _restrictions(box_lim: pd.DataFrame, box_init: pd.DataFrame, qp: dict, x: pd.DataFrame) -> list[dict]:
    """The keys a box restricts, each with its limits, its quasi-p values and its rule as text. PRIM
    puts a limit between two observed values; for a key with few levels the rule also names the
    levels inside the box, which is what the cases say."""
    rows = []
    for key in box_init.columns:
        lo0, hi0, lo, hi = box_init.at[0, key], box_init.at[1, key], box_lim.at[0, key], box_lim.at[1, key]
        q = qp.get(key, [np.nan, np.nan])
        q = [np.nan if v is None or v < 0 else float(v) for v in q]
        if isinstance(lo0, set):
            if set(lo) == set(lo0):
                continue
            rows.append({"key": key, "lo": np.nan, "hi": np.nan, "levels": sorted(lo, key=str), "qp_lo": q[0],
                         "qp_hi": q[1], "rule": f"{key} ∈ {{{', '.join(sorted(map(str, lo)))}}}"})
            continue
        low, high = lo > lo0, hi < hi0
        if not (low or high):
            continue
        rule = (f"{key} {lo:.3g}–{hi:.3g}" if low and high else f"{key} ≥ {lo:.3g}" if low else f"{key} ≤ {hi:.3g}")
        observed = np.unique(x[key].to_numpy())
        levels = [v.item() for v in observed if lo <= v <= hi] if len(observed) <= MAX_LEVELS else None
        if levels is not None:
            rule += f" (level{'s' if len(levels) != 1 else ''} {', '.join(f'{v:.3g}' for v in levels)})"
        rows.append({"key": key, "lo": float(lo) if low else np.nan, "hi": float(hi) if high else np.nan,
                     "levels": levels, "qp_lo": q[0] if low else np.nan, "qp_hi": q[1] if high else np.nan,
                     "rule": rule})
    return rows


def prim_boxes(cases: Cases, min_density: float = 0.8, max_boxes: int = 3, peel_alpha: float = 0.05,
               paste_alpha: float = 0.05, mass_min: float = 0.05) -> Discovery:
    """Run PRIM over `cases`: up to `max_boxes` boxes, each found in the cases the earlier boxes
    (at their chosen points) leave; a later box is kept only when it reaches `min_density`."""
    empty_t = pd.DataFrame(columns=["box", "point", "coverage", "density", "mass", "n", "k", "res_dim", "f1",
                                    "chosen", "reported"])
    empty_p = pd.DataFrame(columns=["box", "point", "limits", "restricted", "coverage", "density", "mass", "n", "k",
                                    "res_dim", "chosen", "meets_density"])
    empty_l = pd.DataFrame(columns=["box", "point", "key", "lo", "hi", "levels", "qp_lo", "qp_hi", "rule"])
    table = cases.table
    inputs = [c for c in cases.inputs if table[c].astype(str).nunique() > 1]
    message = None
    if len(table) == 0:
        message = "no design point has distributed and every central regime on the same seed"
    elif not inputs:
        message = "no input varies across the cases"
    elif cases.wins == 0:
        message = "distributed beats every central regime in no case: there is no region to find"
    if message:
        return Discovery(cases, empty_t, empty_p, empty_l, min_density, message)

    with warnings.catch_warnings():  # the workbench warns on import that optional parallel back ends are missing
        warnings.simplefilter("ignore")
        from ema_workbench.analysis.prim import Prim

    y = table[CASE].to_numpy(dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation warnings from inside the workbench
        prim = Prim(_prim_frame(table, inputs), y, peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                    mass_min=mass_min)
    trajectories, points, limits = [], [], []
    for b in range(1, max_boxes + 1):
        if b > 1 and (prim.yi_remaining.size == 0 or y[prim.yi_remaining].sum() == 0):
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas FutureWarnings from inside the workbench
            box = prim.find_box()
        if box is None:
            break
        t = box.peeling_trajectory[["coverage", "density", "mass", "n", "k", "res_dim"]].astype(float).copy()
        t[["n", "k", "res_dim"]] = t[["n", "k", "res_dim"]].astype(int)
        t.insert(0, "point", range(len(t)))
        t.insert(0, "box", b)
        t["f1"] = _f1(t["coverage"], t["density"])
        chosen = choose_point(t, min_density)
        meets = bool(t.at[chosen, "density"] >= min_density - 1e-12)
        if b > 1 and not meets:
            break  # what is left is too thin for another box
        t["chosen"] = t["point"] == chosen
        # the chosen point, and for each smaller number of restricted keys its best point: simpler rules
        reported = {chosen}
        for r, g in t[(t["res_dim"] < t.at[chosen, "res_dim"]) & (t["res_dim"] > 0)].groupby("res_dim"):
            reported.add(int(g.sort_values("f1", ascending=False, kind="stable")["point"].iloc[0]))
        t["reported"] = t["point"].isin(reported)
        trajectories.append(t)
        for i in sorted(reported, key=lambda i: (t.at[i, "res_dim"], i)):
            rows = _restrictions(box.box_lims[i], prim.box_init, box.p_values[i], prim.x)
            for r in rows:
                limits.append({"box": b, "point": i, **r})
            points.append({"box": b, "point": i, "limits": "; ".join(r["rule"] for r in rows) or "(everywhere)",
                           "restricted": [r["key"] for r in rows],
                           **t.loc[i, ["coverage", "density", "mass"]].to_dict(),
                           "n": int(t.at[i, "n"]), "k": int(t.at[i, "k"]), "res_dim": int(t.at[i, "res_dim"]),
                           "chosen": i == chosen, "meets_density": bool(t.at[i, "density"] >= min_density - 1e-12)})
        box.select(chosen)  # the next box is sought in the cases outside this one, at this point
    return Discovery(cases, pd.concat(trajectories, ignore_index=True) if trajectories else empty_t,
                     pd.DataFrame(points) if points else empty_p, pd.DataFrame(limits) if limits else empty_l,
                     min_density, message)


def scenario_discovery(summary: pd.DataFrame, value: str = "value_share", **kwargs) -> Discovery:
    """`discovery_cases` then `prim_boxes` (keyword arguments go to `prim_boxes`)."""
    return prim_boxes(discovery_cases(summary, value), **kwargs)

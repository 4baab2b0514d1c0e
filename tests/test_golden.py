"""Golden files: today's numbers, pinned bit for bit, so that a faster engine can prove it changed none.

Six configs cover every organisation (flat, hierarchy, teams, star, the edge-list chart in
tests/data/small_chart.edgelist), every regime (heroic, hierarchical, distributed, hybrid at
regime.centralisation=0.5) and every event (leader_leaves, shock, hire, a regime switch). For each,
tests/data/golden/<name>.metrics.parquet holds every observable at every step (model.metrics())
and <name>.members.parquet the final member state (energy, autonomy, led_count, task_of, gone).
The numba engine must reproduce all of it exactly (floats compared bit for bit, as int64 views),
and the agents engine too on two of the configs.

The files were made at commit 10e0003 (`git rev-parse --short HEAD`; sim/ as at 62016ca), before the work on a faster
compiled core started. Regenerate them ONLY when a change of the numbers is intended (a change of
a rule of MODEL.md, never an optimisation), and say so in the commit:

    LEADSIM_UPDATE_GOLDEN=1 uv run pytest tests/test_golden.py -q -p no:cacheprovider
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import LeadershipModel

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
CHART = str(DATA / "small_chart.edgelist")
UPDATE = os.environ.get("LEADSIM_UPDATE_GOLDEN") == "1"
MEMBER_ARRAYS = ("energy", "autonomy", "led_count", "task_of", "gone")
BUSY_ENV = dict(task_rate=0.03, work_mean=8.0)

CONFIGS = {
    "flat_distributed": dict(
        org={"name": "flat", "k": 4}, regime="distributed", n_members=120, steps=200, seed=11,
        env=dict(BUSY_ENV, turbulence=0.05), events=["shock@60", "hire@90:6", "leader_leaves@140"]),
    "hierarchy_hierarchical": dict(
        org={"name": "hierarchy", "span": 4}, regime="hierarchical", n_members=100, steps=250, seed=23,
        env=dict(BUSY_ENV, complexity=2.0), events=["leader_leaves@70", "regime@160:distributed"]),
    "teams_heroic": dict(
        org={"name": "teams", "size": 6}, regime="heroic", n_members=90, steps=200, seed=5,
        env=dict(BUSY_ENV, turbulence=0.3), events=["hire@50:4", "shock@120", "regime@170:hierarchical"]),
    "star_hybrid": dict(
        org={"name": "star"}, regime={"name": "hybrid", "centralisation": 0.5}, n_members=80, steps=180,
        seed=37, env=dict(BUSY_ENV), events=["leader_leaves@80", "hire@100:3"]),
    "flat_hybrid": dict(
        org={"name": "flat", "k": 6}, regime={"name": "hybrid", "centralisation": 0.5}, n_members=150,
        steps=300, seed=41, env=dict(BUSY_ENV, complexity=3.5), culture=dict(p_new_tie=0.2),
        events=["shock@100", "regime@200:heroic", "hire@220:5"]),
    "chart_distributed": dict(
        org={"name": "file", "path": CHART}, regime="distributed", n_members=60, steps=150, seed=2,
        env=dict(BUSY_ENV), events=["leader_leaves@40", "hire@60:8", "regime@110:heroic"]),
}
ON_AGENTS_TOO = ("hierarchy_hierarchical", "star_hybrid")


def run(name: str, engine: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    metrics, members, _ = run_params(CONFIGS[name], engine)
    return metrics, members


def run_params(params: dict, engine: str, threads: int | None = None):
    """One run to params["steps"]; returns (metrics, final member state, the model)."""
    model = LeadershipModel(engine=engine, threads=threads, **params)
    model.run_for(params["steps"])
    s = model.state
    members = pd.DataFrame({a: np.asarray(getattr(s, a))[: s.n] for a in MEMBER_ARRAYS})
    return model.metrics().reset_index(drop=True), members, model


def assert_bit_identical(expected: pd.DataFrame, got: pd.DataFrame, what: str) -> None:
    assert list(got.columns) == list(expected.columns), what
    assert len(got) == len(expected), f"{what}: {len(got)} rows, golden {len(expected)}"
    for column in expected.columns:
        e, g = expected[column].to_numpy(), got[column].to_numpy()
        if e.dtype == np.float64:
            # bit for bit: NaN equals NaN, and 0.0 differs from -0.0
            assert g.dtype == np.float64, f"{what}: {column} is {g.dtype}, golden float64"
            differs = e.view(np.int64) != g.view(np.int64)
        else:
            differs = np.array([a != b for a, b in zip(e.tolist(), g.tolist())], dtype=bool)
        if differs.any():
            row = int(np.flatnonzero(differs)[0])
            pytest.fail(f"{what}: {column} differs first at row {row}: golden {e[row]!r}, now {g[row]!r}")


def write(name: str) -> None:
    metrics, members = run(name, "numba")
    GOLDEN.mkdir(parents=True, exist_ok=True)
    metrics.to_parquet(GOLDEN / f"{name}.metrics.parquet", compression="zstd", index=False)
    members.to_parquet(GOLDEN / f"{name}.members.parquet", compression="zstd", index=False)


def golden(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.read_parquet(GOLDEN / f"{name}.metrics.parquet"),
            pd.read_parquet(GOLDEN / f"{name}.members.parquet"))


CASES = [(name, "numba") for name in CONFIGS] + [(name, "agents") for name in ON_AGENTS_TOO]


@pytest.mark.parametrize("name,engine", CASES, ids=[f"{n}-{e}" for n, e in CASES])
def test_engine_reproduces_the_golden_numbers_bit_for_bit(name, engine):
    if UPDATE and engine == "numba":
        write(name)
    metrics, members = run(name, engine)
    want_metrics, want_members = golden(name)
    assert_bit_identical(want_metrics, metrics, f"{name} on {engine}: metrics")
    assert_bit_identical(want_members, members, f"{name} on {engine}: final member state")

"""Thread counts: the compiled engine's parallel kernels give the same numbers, bit for bit, on
1, 2 and 4 threads, and those are the golden numbers (tests/test_golden.py).

The runs happen in one child process started with NUMBA_NUM_THREADS=4 (numba allows that many
threads on any machine, and `numba.set_num_threads` then picks 1, 2 or 4 per run). The child
writes each run's tables; this process compares them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_golden import CONFIGS, assert_bit_identical, golden, run_params

from sim import LeadershipModel

THREADS = (1, 2, 4)
GOLDEN_CONFIGS = ("flat_distributed", "flat_hybrid", "hierarchy_hierarchical")
# bigger than the golden configs, so that every thread has many tasks and members of its own
LARGE = dict(n_members=4000, steps=90, seed=7, env=dict(task_rate=0.03, work_mean=8.0, turbulence=0.05))


def run(params: dict, threads: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """One run on `threads` threads; returns (metrics, final member state, scratch rows used)."""
    metrics, members, model = run_params(params, "numba", threads)
    return metrics, members, model.engine.scratch.stamp.shape[0]


def child(out: Path) -> None:
    """Run every config on every thread count into `out` (in the child process)."""
    runs = {name: CONFIGS[name] for name in GOLDEN_CONFIGS}
    runs["large_distributed"] = dict(LARGE, regime="distributed")
    runs["large_hybrid"] = dict(LARGE, regime={"name": "hybrid", "centralisation": 0.5})
    for name, params in runs.items():
        for threads in THREADS:
            metrics, members, rows = run(params, threads)
            metrics.to_parquet(out / f"{name}.{threads}.metrics.parquet", index=False)
            members.assign(rows=rows).to_parquet(out / f"{name}.{threads}.members.parquet", index=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("threads")
    env = {**os.environ, "NUMBA_NUM_THREADS": str(max(THREADS))}
    done = subprocess.run([sys.executable, __file__, str(out)], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).parent, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def load(out: Path, name: str, threads: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    members = pd.read_parquet(out / f"{name}.{threads}.members.parquet")
    rows = int(members.pop("rows").iloc[0])
    return pd.read_parquet(out / f"{name}.{threads}.metrics.parquet"), members, rows


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("name", GOLDEN_CONFIGS)
def test_golden_numbers_hold_on_every_thread_count(runs, name, threads):
    metrics, members, rows = load(runs, name, threads)
    assert rows == threads, "the engine's searches were not split over as many rows as threads"
    want_metrics, want_members = golden(name)
    assert_bit_identical(want_metrics, metrics, f"{name} on {threads} threads: metrics")
    assert_bit_identical(want_members, members, f"{name} on {threads} threads: final member state")


@pytest.mark.parametrize("name", ["large_distributed", "large_hybrid"])
def test_a_large_run_is_identical_on_1_2_and_4_threads(runs, name):
    one_metrics, one_members, _ = load(runs, name, 1)
    assert one_metrics["tasks_started"].sum() > 1000  # a busy organisation, not an idle one
    for threads in THREADS[1:]:
        metrics, members, rows = load(runs, name, threads)
        assert rows == threads
        assert_bit_identical(one_metrics, metrics, f"{name} on {threads} threads against 1: metrics")
        assert_bit_identical(one_members, members, f"{name} on {threads} threads against 1: member state")


def test_search_marks_wrap_around_without_changing_a_number():
    """The searches' visited marks are 32-bit and stamped by a counter that grows with every search;
    the engine resets them before the counter can overflow. Start a run's counter just below 2**31
    and it must still match an untouched twin."""
    params = CONFIGS["flat_distributed"]
    twin = LeadershipModel(engine="numba", **params)
    model = LeadershipModel(engine="numba", **params)
    twin.run_for(30)
    model.run_for(30)
    model.engine.scratch.stamp[:] = 2**31 - 3
    twin.run_for(params["steps"] - 30)
    model.run_for(params["steps"] - 30)
    assert model.engine.scratch.stamp.max() < 2**20  # the reset happened
    assert_bit_identical(twin.metrics(), model.metrics(), "after the marks wrapped")


def test_threads_default_to_one_for_small_organisations_and_all_cores_for_big_ones():
    from numba import config

    from sim.engines.numba import PARALLEL_FROM

    small = LeadershipModel(engine="numba", n_members=200)
    big = LeadershipModel(engine="numba", n_members=PARALLEL_FROM)
    assert small.engine.threads == 1
    assert big.engine.threads == config.NUMBA_NUM_THREADS
    with pytest.raises(ValueError, match=r"threads = 0 is out of range; allowed \[1, "):
        LeadershipModel(engine="numba", n_members=200, threads=0)


if __name__ == "__main__":
    child(Path(sys.argv[1]))

"""Sweep throughput with the joblib launcher.

    uv run python benchmarks/sweep_speed.py            # both measurements (about 5 minutes)
    uv run python benchmarks/sweep_speed.py --overhead # only the per-job overhead

1. Per-job overhead: 40 one-step jobs (the simulation itself takes milliseconds), so the wall time
   is almost all overhead: Hydra composing and launching each job, the worker running it, results
   written. Reported as (wall time x workers - simulation time) / jobs.
2. The reference sweep: 3 regimes x 4 turbulence levels x 2 structures x 10 seeds = 240 jobs of
   200 members and 500 steps, on all cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LEADSIM = str(Path(sys.executable).parent / "leadsim")


def run_sweep(folder: Path, overrides: list[str], workers: int) -> float:
    started = time.perf_counter()
    subprocess.run([LEADSIM, "-m", *overrides, "progress=false", f"hydra.sweep.dir={folder}",
                    "hydra/launcher=joblib", f"hydra.launcher.n_jobs={workers}"],
                   check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def simulation_seconds(folder: Path) -> tuple[int, float]:
    jobs = [json.loads(p.read_text()) for p in folder.glob("*/summary.json")]
    return len(jobs), sum(j["seconds"] for j in jobs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--overhead", action="store_true", help="only the per-job overhead")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores; joblib launcher with {args.workers} workers\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "overhead"
        wall = run_sweep(folder, ["seed=range(40)", "steps=1", "n_members=200", "regime=distributed"], args.workers)
        jobs, sim = simulation_seconds(folder)
        overhead = (wall * args.workers - sim) / jobs
        print(f"per-job overhead: {jobs} one-step jobs in {wall:.1f} s; "
              f"{overhead:.2f} s per job beyond the simulation (target <= 1 s)")
        if args.overhead:
            return
        folder = Path(tmp) / "reference"
        wall = run_sweep(folder, ["+sweep=reference"], args.workers)  # configs/sweep/reference.yaml
        jobs, sim = simulation_seconds(folder)
        print(f"reference sweep: {jobs} jobs (200 members, 500 steps) in {wall:.0f} s = {wall / 60:.1f} min "
              f"(target <= 5 min); {jobs / wall:.2f} jobs/s; simulation {sim:.0f} s of {wall * args.workers:.0f} "
              f"worker-seconds ({sim / (wall * args.workers):.0%})")


if __name__ == "__main__":
    main()

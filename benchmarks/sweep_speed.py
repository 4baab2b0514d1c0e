"""Sweep throughput with the joblib launcher.

    uv run python benchmarks/sweep_speed.py            # both measurements (about 5 minutes)
    uv run python benchmarks/sweep_speed.py --overhead # only the per-job overhead
    uv run python benchmarks/sweep_speed.py --resume   # only resuming a sweep (about 1 minute)

1. Per-job overhead: 40 one-step jobs (the simulation itself takes milliseconds), so the wall time
   is almost all overhead: Hydra composing and launching each job, the worker running it, results
   written. Reported as (wall time x workers - simulation time) / jobs.
2. The reference sweep: 3 regimes x 4 turbulence levels x 2 structures x 10 seeds = 240 jobs of
   200 members and 500 steps, on all cores.
3. Resume (--resume): a 2,000-job sweep of which 1,990 jobs are finished. One job is run for real;
   its folder is copied to the folders of 1,989 others, named as the sweep names them
   (sim.sweep.job_dir_name). Then the whole sweep command runs, through the real skip path: it
   must run exactly the 10 missing jobs (checked). Reported: the sweeper's time to compose, name
   and check every job, per job (the cost of a skip), and the whole command in jobs/s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LEADSIM = str(Path(sys.executable).parent / "leadsim")


def run_sweep(folder: Path, overrides: list[str], workers: int) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([LEADSIM, "-m", *overrides, "progress=false", f"hydra.sweep.dir={folder}",
                           "hydra/launcher=joblib", f"hydra.launcher.n_jobs={workers}"],
                          check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout + done.stderr


def resume(tmp: Path, workers: int, jobs: int = 2000, missing: int = 10) -> None:
    from sim.sweep import SUMMARY, job_dir_name

    folder = tmp / "resume"
    fixed = ["steps=1", "n_members=20", "regime=distributed"]
    run_sweep(folder, ["seed=0", *fixed], workers)  # one real finished job
    [template] = [p.parent for p in folder.glob(f"*/{SUMMARY}")]
    for seed in range(1, jobs - missing):  # the sorted overrides, as Hydra's override_dirname joins them
        shutil.copytree(template, folder / job_dir_name(f"n_members=20,regime=distributed,seed={seed},steps=1"))
    wall, log = run_sweep(folder, [f"seed=range({jobs})", *fixed], workers)
    plan = re.search(r"(\d+) jobs composed and checked in ([\d.]+) s \(([\d.]+) ms a job\): "
                     r"(\d+) finished before \(skipped\), (\d+) to run", log)
    collected = re.search(r"collected (\d+) finished jobs in ([\d.]+) s", log)
    if not plan or not collected or (int(plan[4]), int(plan[5])) != (jobs - missing, missing):
        sys.exit(f"the resume did not skip exactly {jobs - missing} jobs:\n{log[-3000:]}")
    print(f"resume: {jobs} jobs, {jobs - missing} finished; composed, named and checked in {plan[2]} s = "
          f"{plan[3]} ms a job (a skip; target <= 5 ms); whole command {wall:.1f} s = {jobs / wall:.0f} jobs/s, "
          f"including the {missing} jobs run and collecting {collected[1]} jobs ({collected[2]} s)")


def simulation_seconds(folder: Path) -> tuple[int, float]:
    jobs = [json.loads(p.read_text()) for p in folder.glob("*/summary.json")]
    return len(jobs), sum(j["seconds"] for j in jobs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--overhead", action="store_true", help="only the per-job overhead")
    p.add_argument("--resume", action="store_true", help="only resuming a mostly finished sweep")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores; joblib launcher with {args.workers} workers\n")
    with tempfile.TemporaryDirectory() as tmp:
        if args.resume:
            return resume(Path(tmp), args.workers)
        folder = Path(tmp) / "overhead"
        wall, _ = run_sweep(folder, ["seed=range(40)", "steps=1", "n_members=200", "regime=distributed"], args.workers)
        jobs, sim = simulation_seconds(folder)
        overhead = (wall * args.workers - sim) / jobs
        print(f"per-job overhead: {jobs} one-step jobs in {wall:.1f} s; "
              f"{overhead:.2f} s per job beyond the simulation (target <= 1 s)")
        if args.overhead:
            return
        folder = Path(tmp) / "reference"
        wall, _ = run_sweep(folder, ["+sweep=reference"], args.workers)  # configs/sweep/reference.yaml
        jobs, sim = simulation_seconds(folder)
        print(f"reference sweep: {jobs} jobs (200 members, 500 steps) in {wall:.0f} s = {wall / 60:.1f} min "
              f"(target <= 5 min); {jobs / wall:.2f} jobs/s; simulation {sim:.0f} s of {wall * args.workers:.0f} "
              f"worker-seconds ({sim / (wall * args.workers):.0%})")


if __name__ == "__main__":
    main()

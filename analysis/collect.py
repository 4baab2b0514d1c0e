"""Collect a sweep folder into tidy tables.

    uv run leadsim-collect multirun/2026-11-27/12-00-00 [--csv]

Walks the job folders under the sweep folder (any depth), and writes at its root:
- `summary.parquet`: one row per finished job (its summary, flattened config, overrides, seed);
- `metrics.parquet`: one row per step per finished job;
- `failures.csv`: one row per failed job with its error;
and CSV copies with --csv. Works on a partial or failed sweep: a job counts once, as finished
(it has summary.json), failed (it has error.txt and no summary) or missing. Exits non-zero when a
job failed, and when the folder holds a sweep's multirun.yaml but no job folder at all (its jobs
were written somewhere else, or never ran): an empty table is then no answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from sim.run import write_atomic
from sim.sweep import ERROR, METRICS, SUMMARY, error_line


class NoJobsError(RuntimeError):
    """A sweep folder whose multirun.yaml says a sweep was launched there, with no job folder."""


def job_dirs(sweep: Path) -> list[Path]:
    """Every folder under `sweep` that a job ran in (it holds Hydra's .hydra/ record)."""
    return sorted({p.parent.parent for p in Path(sweep).rglob(".hydra/overrides.yaml")} - {Path(sweep)})


def collect(sweep, csv: bool = False, quiet: bool = False) -> dict:
    sweep = Path(sweep)
    if not sweep.is_dir():
        raise FileNotFoundError(f"no such sweep folder: {sweep}")
    jobs = job_dirs(sweep)
    if not jobs and (sweep / "multirun.yaml").is_file():
        raise NoJobsError(f"{sweep} has a sweep's multirun.yaml but no job folder under it: its jobs ran "
                          "somewhere else or not at all")
    rows, frames, failures, missing = [], [], [], []
    for job in jobs:
        name = str(job.relative_to(sweep))
        if (job / SUMMARY).is_file():
            row = json.loads((job / SUMMARY).read_text())
            row["job_dir"] = name
            rows.append(row)
            metrics = pd.read_parquet(job / METRICS)
            metrics.insert(0, "job_dir", name)
            frames.append(metrics)
        elif (job / ERROR).is_file():
            failures.append({"job_dir": name, "error": error_line(job), "details": (job / ERROR).read_text()})
        else:
            missing.append(name)
    summary = pd.DataFrame(rows).sort_values("job_dir", ignore_index=True) if rows else pd.DataFrame()
    metrics = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    failed = pd.DataFrame(failures, columns=["job_dir", "error", "details"])
    write_atomic(sweep / "summary.parquet", lambda p: summary.to_parquet(p, index=False))
    write_atomic(sweep / "metrics.parquet", lambda p: metrics.to_parquet(p, index=False))
    write_atomic(sweep / "failures.csv", lambda p: failed.to_csv(p, index=False))
    if csv:
        write_atomic(sweep / "summary.csv", lambda p: summary.to_csv(p, index=False))
        write_atomic(sweep / "metrics.csv", lambda p: metrics.to_csv(p, index=False))
    if not quiet:
        print(f"collected {len(summary)} finished job(s), {len(failed)} failed, {len(missing)} missing or "
              f"running -> {sweep / 'summary.parquet'}")
        for f in failures:
            print(f"  FAILED {f['job_dir']}: {f['error']}\n         {sweep / f['job_dir'] / ERROR}")
    return {"summary": summary, "metrics": metrics, "failures": failed, "missing": missing}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sweep", help="the sweep folder (hydra.sweep.dir)")
    p.add_argument("--csv", action="store_true", help="also write CSV copies")
    args = p.parse_args(argv)
    try:
        result = collect(args.sweep, csv=args.csv)
    except (FileNotFoundError, NoJobsError) as exc:
        sys.exit(f"leadsim-collect: error: {exc}")
    if len(result["failures"]):
        sys.exit(1)


if __name__ == "__main__":
    main()

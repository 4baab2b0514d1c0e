"""One job of a sweep: its folder, its run, results written atomically, never lose or repeat
finished work.

A job's folder is stable (named by its overrides, see `job_dir_name`), so rerunning a sweep skips
every job whose `summary.json` exists and redoes only the missing or failed ones. `summary.json`
is written last, through a temporary file and a rename: it exists only for a job that finished
completely.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import time
import traceback
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from .config import ConfigError, ModelConfig, flat_dict, make_config
from .run import write_atomic

SUMMARY = "summary.json"
METRICS = "metrics.parquet"
MEMBERS = "members.parquet"
ERROR = "error.txt"

UNSAFE = re.compile(r"[^A-Za-z0-9._=,-]")  # anything else in a folder name becomes "_"
READABLE_CHARS = 120  # of the overrides in a folder name; far below the 255 bytes a name may have


def job_dir_name(override_dirname: str) -> str:
    """The folder name of a sweep job, from its overrides as Hydra joins them
    (`hydra.job.override_dirname`, e.g. `regime=heroic,seed=1`): a readable prefix with only
    [A-Za-z0-9._=,-] in it, cut to READABLE_CHARS, then 10 hex digits of the sha256 of the exact
    overrides. So a value such as `org.path=../../x.txt` can never make a job's folder leave
    the sweep folder, two jobs whose overrides read the same once cleaned still get two folders,
    and the same overrides always get the same folder (resuming a sweep depends on it).

    configs/config.yaml uses it as `hydra.sweep.subdir: ${leadsim_job_dir:${hydra.job.override_dirname}}`.
    """
    digest = hashlib.sha256(str(override_dirname).encode()).hexdigest()[:10]
    # no leading "." (a hidden folder) or "-" (read as an option by command-line tools)
    readable = UNSAFE.sub("_", str(override_dirname))[:READABLE_CHARS].lstrip(".-")
    return f"{readable}-{digest}" if readable else digest


# Registered on import, so that every process that resolves a job's folder has it: the sweeper and
# the basic launcher (in the `leadsim` process), and joblib, submitit and Ray workers, which import
# this module when they unpickle the job's function (sim.cli.app).
OmegaConf.register_new_resolver("leadsim_job_dir", job_dir_name, replace=True)


def apply_design_row(cfg: ModelConfig, design: str | None, row: int) -> ModelConfig:
    """Set the parameters named in row `row` of a design table (CSV whose columns are dotted
    parameter keys, e.g. culture.purpose, plus `input.*` columns that are skipped), as made by
    `leadsim-design`."""
    if row < 0:
        return cfg
    if not design:
        raise ConfigError(f"design_row = {row} needs design=<design table CSV>")
    path = Path(design)
    if not path.is_file():
        raise ConfigError(f"design = {design!r}: no such file")
    import pandas as pd  # here, not above: every `leadsim` imports this module at start-up

    table = pd.read_csv(path)
    if not 0 <= row < len(table):
        raise ConfigError(f"design_row = {row} is out of range; allowed [0, {len(table) - 1}] for {design}")
    values = dataclasses.asdict(cfg)
    for key, value in table.iloc[row].items():
        if str(key).startswith("input."):
            continue  # the design's unit-scale inputs, kept for the sensitivity analysis
        group, _, leaf = str(key).partition(".")
        if leaf:
            values[group][leaf] = value.item() if hasattr(value, "item") else value
        else:
            values[group] = value.item() if hasattr(value, "item") else value
    return make_config(**values)


def is_done(out: Path) -> bool:
    return (Path(out) / SUMMARY).is_file()


def record_failure(out: Path, job: str, overrides: list[str], details: str) -> Path:
    """Write the job's error.txt: which job, its overrides, and what went wrong (last line: the
    error itself, which collect and the sweep's failure list show)."""
    text = f"job: {job}\noverrides: {' '.join(overrides)}\n\n{details.rstrip()}\n"
    return write_atomic(Path(out) / ERROR, lambda p: Path(p).write_text(text))


def error_line(out: Path) -> str:
    """The last line of a failed job's error.txt: the error itself."""
    lines = [line for line in (Path(out) / ERROR).read_text().splitlines() if line.strip()]
    return lines[-1] if lines else "(empty error.txt)"


def _plain(value):
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def run_job(cfg: ModelConfig, out: Path, overrides: list[str], job: str, extra: dict | None = None,
            threads: int = 1) -> str:
    """Run one job into folder `out`. Returns "skipped", "done" or "failed"; never raises for a
    failure inside the model, so that one bad job does not stop a sweep. `extra` (e.g. the
    design table and row) is recorded in the summary beside the model's own config. `threads`:
    the compiled engine's threads (one by default: a sweep runs its jobs side by side)."""
    import pandas as pd

    from .model import LeadershipModel

    out = Path(out)
    if is_done(out):
        return "skipped"
    (out / ERROR).unlink(missing_ok=True)
    for stale in out.glob(".*.tmp.*"):  # left by a run that was killed mid-write
        stale.unlink()
    started = time.perf_counter()
    try:
        model = LeadershipModel(config=cfg, threads=threads)
        model.run_for(cfg.steps)
        impacts = model.event_impacts()
        metrics = model.metrics()
        s = model.state
        members = pd.DataFrame({"member": np.arange(s.n), "led_count": s.led_count[: s.n],
                                "done_count": s.done_count[: s.n], "energy": s.energy[: s.n],
                                "autonomy": s.autonomy[: s.n], "skill": s.skill[: s.n].mean(axis=1),
                                "gone": s.gone[: s.n]})
        row = {"job": job, "overrides": " ".join(overrides), **(extra or {}), **model.summary(),
               "seconds": time.perf_counter() - started}
        for impact in impacts:
            for key, value in impact.items():
                if key != "event":
                    row[f"impact.{impact['event']}.{key}"] = value
        row.update({f"cfg.{k}": v for k, v in flat_dict(cfg).items()})
        write_atomic(out / METRICS, lambda p: metrics.to_parquet(p, index=False))
        write_atomic(out / MEMBERS, lambda p: members.to_parquet(p, index=False))
        payload = json.dumps({k: _plain(v) for k, v in row.items()}, indent=1)
        write_atomic(out / SUMMARY, lambda p: Path(p).write_text(payload))  # last: marks the job done
        return "done"
    except Exception:  # a failed job is recorded, and the sweep goes on
        record_failure(out, job, overrides, traceback.format_exc())
        return "failed"

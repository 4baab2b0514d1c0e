"""Running models headless: one run, or the same organisation under several regimes."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .config import ModelConfig

if TYPE_CHECKING:
    import pandas as pd


def run(cfg: ModelConfig, progress: bool = False, label: str | None = None,
        threads: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Run one model for cfg.steps steps; return (per-step metrics, summary). `threads`: see
    LeadershipModel."""
    # imported here, not above: modules that only write files (sim.sweep, sim.cli) import this one
    # at start-up, and the model brings Mesa, numba and pandas
    from tqdm.auto import tqdm

    from .model import LeadershipModel

    model = LeadershipModel(config=cfg, threads=threads)
    bar = tqdm(total=cfg.steps, desc=label or cfg.regime.name, unit="step", disable=not progress, leave=False)
    for _ in range(cfg.steps):
        model.step()
        bar.update()
    bar.close()
    return model.metrics(), model.summary()


def compare(runs: list[tuple[str, ModelConfig]], progress: bool = False,
            threads: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labelled runs side by side. With one seed they face identical task streams, so every
    difference between them is paired. Returns (metrics with a `run` column, one summary row
    per run)."""
    import pandas as pd

    frames, rows = [], []
    for label, cfg in runs:
        metrics, summary = run(cfg, progress=progress, label=label, threads=threads)
        metrics.insert(0, "run", label)
        frames.append(metrics)
        rows.append({"run": label, **summary})
    return pd.concat(frames, ignore_index=True), pd.DataFrame(rows)


def compare_regimes(cfg: ModelConfig, regimes, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same organisation and seed under each regime."""
    return compare([(name, dataclasses.replace(cfg, regime=dataclasses.replace(cfg.regime, name=name)))
                    for name in regimes], progress)


# The process's umask, read once at import (reading it means setting it, which is not
# thread-safe later, when a page or a launcher may have threads writing files).
UMASK = os.umask(0o022)
os.umask(UMASK)


def write_atomic(path: Path, write) -> Path:
    """Write through a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); results are for collaborators on shared storage
        # too, so they get the mode any new file gets here (0644 under the usual umask)
        os.chmod(tmp, 0o666 & ~UMASK)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path

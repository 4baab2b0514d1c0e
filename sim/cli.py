"""The `leadsim` command line: a Hydra app over the typed schema in sim/config.py.

`uv run leadsim` compares heroic, hierarchical and distributed leadership on one org and seed.
Any parameter can be overridden: `uv run leadsim n_members=500 org=teams env.turbulence=0.1`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from .config import REGIMES, ConfigError, ModelConfig, make_config
from .sweep import apply_design_row, run_job

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")
log = logging.getLogger("leadsim")


@dataclass
class Variant:
    """One organisation of a scenario's side-by-side comparison: a label and its overrides."""
    label: str = ""
    overrides: Dict[str, Any] = field(default_factory=dict)


@dataclass
class PredictionOption:
    """One answer the room can give: a variant, or the change from `baseline` to `variant`."""
    variant: str = ""  # a variant's label
    baseline: str = ""  # if set, the option's value is measure(variant) - measure(baseline)
    label: str = ""  # how the option reads on the page (default: the variant's label)


@dataclass
class PredictionSpec:
    """What the page checks a scenario's prediction against: sim/scenarios.py validates it and
    sim/viz/predictions.py names the measures. An empty `measure` means none is declared."""
    question: str = ""  # the question, as the page asks it
    measure: str = ""  # e.g. value_lost_after_event, time_lost_to_burnout, value_share
    window: List[int] = field(default_factory=list)  # [first, last] step the measure covers
    kind: str = ""  # number, choice (which option scores highest/lowest) or ranking
    pick: str = "higher"  # choice: the answer is the option scoring higher (or lower); ranking: first
    tolerance: Optional[float] = None  # number: the largest error counted right, in the measure's unit
    options: List[PredictionOption] = field(default_factory=list)  # default: every variant


@dataclass
class ScenarioInfo:
    """What a scenario preset (configs/scenario/) tells a workshop: see sim/scenarios.py."""
    name: str = ""
    title: str = ""
    description: str = ""
    predict: str = ""  # the "predict first" prompt shown before a run
    watch: str = ""  # what to watch while it runs
    plots: List[str] = field(default_factory=list)  # the page's plots that `watch` names (sim/viz/plots.py)
    variants: List[Variant] = field(default_factory=list)
    prediction: PredictionSpec = field(default_factory=PredictionSpec)  # checked on the page


@dataclass
class AppConfig(ModelConfig):
    scenario: ScenarioInfo = field(default_factory=ScenarioInfo)
    compare: bool = True  # single runs: all three regimes side by side; sweeps run one regime per job
    progress: bool = True
    design: Optional[str] = None  # a design table (CSV) made by leadsim-design
    design_row: int = -1  # the row of `design` whose parameters this run takes (-1: none)


ConfigStore.instance().store(name="leadsim_schema", node=AppConfig)


def model_config(cfg: DictConfig) -> ModelConfig:
    """The model's part of the app config, validated (raises ConfigError naming the key)."""
    fields = [f.name for f in dataclasses.fields(ModelConfig) if f.name in cfg]
    plain = {k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
             for k in fields}  # never the `hydra` node: a sweeper sees it unresolved
    return make_config(**plain)


def job_model_config(cfg: DictConfig) -> ModelConfig:
    """The model config of one run, with its design row applied."""
    return apply_design_row(model_config(cfg), cfg.get("design"), int(cfg.get("design_row", -1)))


def print_table(summary, out=sys.stdout,
                title: str = "Regime comparison (same org, same seed, same task stream)") -> None:
    from rich.console import Console
    from rich.table import Table

    rows = [
        ("value share captured", "value_share", "{:.3f}"),
        ("completion rate", "completion_rate", "{:.3f}"),
        ("tasks arrived", "tasks_arrived", "{:d}"),
        ("tasks done", "tasks_done", "{:d}"),
        ("tasks failed", "tasks_failed", "{:d}"),
        ("mean cycle time (steps)", "mean_cycle", "{:.1f}"),
        ("mean utilisation", "mean_utilisation", "{:.3f}"),
        ("leadership Gini", "leadership_gini", "{:.3f}"),
        ("share who ever led", "share_ever_led", "{:.3f}"),
        ("initiative Gini", "initiative_gini", "{:.3f}"),
        ("final autonomy", "final_autonomy", "{:.3f}"),
        ("final energy", "final_energy", "{:.3f}"),
        ("burnout-days", "burnout_days", "{:d}"),
        ("nominal decision load", "decision_load", "{:.2f}"),
        ("effective decision load", "effective_decision_load", "{:.2f}"),
    ]
    table = Table(title=title)
    table.add_column("measure")
    for label in summary["run"]:
        table.add_column(label, justify="right")
    for label, key, fmt in rows:
        values = []
        for v in summary[key]:
            try:
                values.append(fmt.format(int(v) if "d}" in fmt else float(v)))
            except (TypeError, ValueError):
                values.append("-")
        table.add_row(label, *[("-" if x == "nan" else x) for x in values])
    Console(file=out, width=120).print(table)


def side_by_side(cfg: DictConfig, mcfg: ModelConfig) -> tuple[list[tuple[str, ModelConfig]], str]:
    """What a single run compares: a scenario's own variants when it has them, else the three
    regimes (or only the chosen regime with compare=false)."""
    from .scenarios import apply_overrides

    variants = cfg.scenario.variants if "scenario" in cfg else []
    if cfg.compare and variants:
        runs = [(v.label, apply_overrides(mcfg, OmegaConf.to_container(v.overrides))) for v in variants]
        return runs, f"{cfg.scenario.title or cfg.scenario.name}: side by side (same seed, same task stream)"
    regimes = list(REGIMES) if cfg.compare else [mcfg.regime.name]
    runs = [(name, dataclasses.replace(mcfg, regime=dataclasses.replace(mcfg.regime, name=name)))
            for name in regimes]
    return runs, "Regime comparison (same org, same seed, same task stream)"


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def app(cfg: DictConfig) -> None:
    from analysis.plots import regime_series

    from .run import compare, write_atomic

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        mcfg = job_model_config(cfg)
    except ConfigError as exc:
        raise SystemExit(f"leadsim: error: {exc}") from None
    if mcfg.n_members != cfg.n_members:  # org=file: the chart says how many members there are
        log.warning(f"org=file: the chart has {mcfg.n_members} members; n_members={cfg.n_members} is not used")
    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    if hc.mode == RunMode.MULTIRUN:
        job = os.path.relpath(out, hc.sweep.dir)  # a job is named by its folder (see sim.sweep.job_dir_name)
        design = {"design": cfg.design, "design_row": cfg.design_row} if cfg.design_row >= 0 else {}
        status = run_job(mcfg, out, list(hc.overrides.task), job, design)
        # joblib's workers get NUMBA_NUM_THREADS = cores / workers, so jobs do not oversubscribe
        threads = os.environ.get("NUMBA_NUM_THREADS", "all cores")
        log.info(f"job {hc.job.num} [{job}]: {status} (NUMBA_NUM_THREADS={threads})")
        return
    runs, title = side_by_side(cfg, mcfg)
    started = time.perf_counter()
    metrics, summary = compare(runs, progress=cfg.progress)
    elapsed = time.perf_counter() - started
    write_atomic(out / "metrics.parquet", lambda p: metrics.to_parquet(p, index=False))
    write_atomic(out / "summary.csv", lambda p: summary.to_csv(p, index=False))
    figure = write_atomic(out / "regimes.png", lambda p: regime_series(
        metrics, p, title=f"{mcfg.n_members} members, org={mcfg.org.name}, seed={mcfg.seed}",
        ) and None)
    print_table(summary, title=title)
    print(f"{len(runs)} run(s) of {mcfg.steps} steps with {mcfg.n_members} members "
          f"took {elapsed:.1f} s ({mcfg.engine} engine)")
    print(f"per-step metrics: {out / 'metrics.parquet'}")
    print(f"summary:          {out / 'summary.csv'}")
    print(f"figure:           {figure}")


def main() -> None:
    # Ray workers (hydra/launcher=ray) reuse this environment rather than rebuilding one with uv
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    # A Ray cluster that a sweep starts itself (hydra/launcher=ray without an address) is for this
    # machine only: with this, Ray gives the node the loopback address, so the GCS, raylet, agents
    # and workers listen on 127.0.0.1 instead of every interface. ray.init(_node_ip_address=
    # "127.0.0.1") does not do it (Ray 2.60 swaps a loopback address for the network one), and
    # Ray reads this variable when it is imported, so it is set here, before Hydra loads the Ray
    # plugin. Joining a running cluster (address=auto) still works: the driver finds its node by
    # its session folder, not by address. RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=1 undoes it.
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    app()


if __name__ == "__main__":
    main()

"""The `leadsim` command line: a Hydra app over the typed schema in sim/config.py.

`uv run leadsim` compares heroic, hierarchical and distributed leadership on one org and seed.
Any parameter can be overridden: `uv run leadsim n_members=500 org=teams env.turbulence=0.1`.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from .config import REGIMES, ConfigError, ModelConfig, make_config

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")
log = logging.getLogger("leadsim")


@dataclass
class AppConfig(ModelConfig):
    compare: bool = True
    progress: bool = True


ConfigStore.instance().store(name="leadsim_schema", node=AppConfig)


def model_config(cfg: DictConfig) -> ModelConfig:
    """The model's part of the app config, validated (raises ConfigError naming the key)."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    return make_config(**{k: v for k, v in plain.items() if k in fields})


def print_table(summary, out=sys.stdout) -> None:
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
    table = Table(title="Regime comparison (same org, same seed, same task stream)")
    table.add_column("measure")
    for regime in summary["regime"]:
        table.add_column(regime, justify="right")
    for label, key, fmt in rows:
        values = []
        for v in summary[key]:
            try:
                values.append(fmt.format(int(v) if "d}" in fmt else float(v)))
            except (TypeError, ValueError):
                values.append("-")
        table.add_row(label, *[("-" if x == "nan" else x) for x in values])
    Console(file=out, width=120).print(table)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def app(cfg: DictConfig) -> None:
    from analysis.plots import regime_series

    from .run import compare_regimes, write_atomic

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        mcfg = model_config(cfg)
    except ConfigError as exc:
        raise SystemExit(f"leadsim: error: {exc}") from None
    out = Path(HydraConfig.get().runtime.output_dir)
    regimes = list(REGIMES) if cfg.compare else [mcfg.regime.name]
    started = time.perf_counter()
    metrics, summary = compare_regimes(mcfg, regimes, progress=cfg.progress)
    elapsed = time.perf_counter() - started
    write_atomic(out / "metrics.parquet", lambda p: metrics.to_parquet(p, index=False))
    write_atomic(out / "summary.csv", lambda p: summary.to_csv(p, index=False))
    figure = write_atomic(out / "regimes.png", lambda p: regime_series(
        metrics, p, title=f"{mcfg.n_members} members, org={mcfg.org.name}, seed={mcfg.seed}",
        ) and None)
    print_table(summary)
    print(f"{len(regimes)} run(s) of {mcfg.steps} steps with {mcfg.n_members} members "
          f"took {elapsed:.1f} s ({mcfg.engine} engine)")
    print(f"per-step metrics: {out / 'metrics.parquet'}")
    print(f"summary:          {out / 'summary.csv'}")
    print(f"figure:           {figure}")


def main() -> None:
    try:
        app()
    except ConfigError as exc:  # pragma: no cover - model_config already turns these into exits
        sys.exit(f"leadsim: error: {exc}")

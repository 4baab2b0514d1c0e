"""The `leadsim` command line: a Hydra app over the typed schema in sim/config.py.

`uv run leadsim` compares heroic, hierarchical and distributed leadership on one org and seed
(and the hybrid regime too, at its dial, with `regime=hybrid regime.centralisation=0.3`).
Any parameter can be overridden: `uv run leadsim n_members=500 org=teams env.turbulence=0.1`.
"""

from __future__ import annotations

import atexit
import dataclasses
import gc
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
    threads: int = 0  # the compiled engine's threads per run; 0: one per sweep job, by size for a single run


ConfigStore.instance().store(name="leadsim_schema", node=AppConfig)


def check_threads(threads: int) -> int:
    """`threads` within what the compiled engine may use (NUMBA_NUM_THREADS, else the cores)."""
    most = int(os.environ.get("NUMBA_NUM_THREADS") or os.cpu_count() or 1)
    if not 0 <= threads <= most:
        raise ConfigError(f"threads = {threads} is out of range; allowed [0, {most}] (0: one per sweep job, "
                          "and for a single run one below 2,000 members and all cores from there)")
    return threads


def model_config(cfg: DictConfig) -> ModelConfig:
    """The model's part of the app config, validated (raises ConfigError naming the key)."""
    fields = [f.name for f in dataclasses.fields(ModelConfig) if f.name in cfg]
    plain = {k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
             for k in fields}  # never the `hydra` node: a sweeper sees it unresolved
    return make_config(**plain)


def job_model_config(cfg: DictConfig) -> ModelConfig:
    """The model config of one run, with its design row applied."""
    return apply_design_row(model_config(cfg), cfg.get("design"), int(cfg.get("design_row", -1)))


# The rows of the command line's table: (label, key in _table_values, format). Value share and
# completion rate count the tasks that could end (born at least `patience` steps before the last
# step); the work still running at the end is shown on its own rows (sim.observe.summary).
TABLE_ROWS = [
    ("value share captured", "value_share", "{:.3f}"),
    ("completion rate", "completion_rate", "{:.3f}"),
    ("tasks that could end (counted)", "tasks_counted", "{:d}"),
    ("tasks arrived", "tasks_arrived", "{:d}"),
    ("tasks done", "tasks_done", "{:d}"),
    ("tasks failed", "tasks_failed", "{:d}"),
    ("tasks running at the end", "tasks_running_at_end", "{:d}"),
    ("value running at the end", "value_running_at_end", "{:.1%}"),
    ("mean cycle time (steps)", "mean_cycle", "{:.1f}"),
    ("mean utilisation", "mean_utilisation", "{:.3f}"),
    ("leadership Gini", "leadership_gini", "{:.3f}"),
    ("share who ever led", "share_ever_led", "{:.3f}"),
    ("initiative Gini", "initiative_gini", "{:.3f}"),
    ("final mean autonomy", "final_autonomy", "{:.3f}"),
    ("final mean energy", "final_energy", "{:.3f}"),
    ("final mean trust", "final_trust", "{:.3f}"),
    ("ties at the end", "final_ties", "{:d}"),
    ("burnout-days", "burnout_days", "{:d}"),
    ("time lost to burnout", "burnout_share", "{:.1%}"),
    ("nominal decision load", "decision_load", "{:.2f}"),
    ("effective decision load", "effective_decision_load", "{:.2f}"),
]


def _table_values(summary, metrics=None) -> dict[str, list]:
    """Each measure of the table, one value per run; measures that need per-step metrics are NaN
    without them."""
    runs = list(summary["run"])
    values = {key: list(summary[key]) for _, key, _ in TABLE_ROWS if key in summary}
    values["burnout_share"] = [b / (n * t) if n and t else float("nan")
                               for b, n, t in zip(summary["burnout_days"], summary["n_members"], summary["steps"])]
    last = metrics.groupby("run", sort=False).tail(1).set_index("run") if metrics is not None else None
    for key, column in (("final_trust", "mean_trust"), ("final_ties", "tie_count")):
        values[key] = [last.at[r, column] if last is not None and r in last.index else float("nan") for r in runs]
    return values


def _cell(fmt: str, value) -> str:
    try:
        text = fmt.format(int(value) if "d}" in fmt else float(value))
    except (TypeError, ValueError):
        return "-"
    return "-" if text in ("nan", "nan%") else text


def _fit(natural: list[int], minimum: list[int], room: int) -> list[int] | None:
    """Column widths that fit `room` characters: the widest columns give way first (their text
    wraps at spaces), none narrower than its longest word; None when even that is too wide."""
    if sum(minimum) > room:
        return None
    level = max(natural)
    while sum(max(m, min(n, level)) for n, m in zip(natural, minimum)) > room:
        level -= 1
    return [max(m, min(n, level)) for n, m in zip(natural, minimum)]


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def print_table(summary, out=None,
                title: str = "Regime comparison (same org, same seed, same task stream)",
                metrics=None, width: int | None = None) -> None:
    """The runs side by side, one column each, fitted to the terminal (`width`, default: its
    width; 120 when the output is not a terminal). Column names wrap at spaces and are never cut;
    when the columns do not fit even then, the table is split into parts of a few columns each."""
    import shutil

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = out or sys.stdout
    width = width or shutil.get_terminal_size((120, 24)).columns
    values = _table_values(summary, metrics)
    labels = [str(label) for label in summary["run"]]
    cells = {label: [_cell(fmt, values[key][i] if key in values else None) for _, key, fmt in TABLE_ROWS]
             for i, label in enumerate(labels)}
    measures = [label for label, _, _ in TABLE_ROWS]
    first = (max(map(len, measures + ["measure"])), max(map(_longest_word, measures)))
    sizes = {label: (max(len(label), *map(len, cells[label])),
                     max(_longest_word(label), *map(len, cells[label]))) for label in labels}

    def widths(part):  # heavy box: a border and one space either side of every column
        room = width - 3 * (len(part) + 1) - 1
        natural, minimum = [sizes[label][0] for label in part], [sizes[label][1] for label in part]
        runs_only = _fit(natural, minimum, room - first[0])  # the measures' names wrap last
        if runs_only is not None:
            return [first[0]] + runs_only
        return _fit([first[0]] + natural, [first[1]] + minimum, room)

    parts, current = [], []
    for label in labels:
        if current and widths(current + [label]) is None:
            parts.append(current)
            current = []
        current.append(label)
    parts.append(current)
    if len(parts) > 1:  # as many parts, but of even size where that fits
        even = -(-len(labels) // len(parts))
        balanced = [labels[i:i + even] for i in range(0, len(labels), even)]
        if len(balanced) == len(parts) and all(widths(p) is not None for p in balanced):
            parts = balanced
    console = Console(file=out, width=width)
    for number, part in enumerate(parts, 1):
        fitted = widths(part) or [first[1]] + [sizes[label][1] for label in part]
        heading = title if len(parts) == 1 else f"{title} (part {number} of {len(parts)})"
        table = Table(box=box.HEAVY_HEAD)
        table.add_column("measure", width=fitted[0], overflow="fold")
        for label, w in zip(part, fitted[1:]):
            table.add_column(Text(label), justify="right", width=w, overflow="fold")  # Text: no markup
        for row, measure in enumerate(measures):
            table.add_row(measure, *[cells[label][row] for label in part])
        console.print(Text(heading, style="bold"))  # above, not centred: a title wider than the table
        console.print(table)                        # would wrap into a narrow column


def _flat(tree, prefix: str = "") -> dict:
    """{"culture": {"omega": 0}} -> {"culture.omega": 0}; dotted keys pass through."""
    out = {}
    for key, value in (tree or {}).items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def overridden_settings(user: list[str], variants: list[tuple[str, dict]], base: dict | None = None,
                        compare: bool = True) -> list[str]:
    """Warnings for the user's key=value settings that a scenario silently replaces: a setting
    that one of the variants also sets (the variant's value wins in its column), and a config-group
    choice such as `regime=heroic` under a scenario that sets keys of that group itself (the
    scenario is read after the group, so its values win in every column)."""
    found = []
    base_keys = _flat(base)
    for text in user:
        key, eq, value = text.lstrip("+~").partition("=")
        if not eq or key in ("scenario", "compare", "progress") or key.startswith(("hydra", "scenario.")):
            continue
        if "." not in key:
            replaced = {k: v for k, v in base_keys.items() if k.startswith(key + ".")}
            if replaced:
                instead = (f"{key}.name={value}" if set(replaced) == {f"{key}.name"}
                           else " ".join(f"{k}=..." for k in replaced))
                found.append(f"{text} is replaced by the scenario's own "
                             f"{', '.join(f'{k}={v}' for k, v in replaced.items())}; write {instead} instead")
        if not compare:
            continue
        hits, kept = [], []
        for label, overrides in variants:
            mine = {k: v for k, v in _flat(overrides).items()
                    if k == key or k.startswith(key + ".") or key.startswith(k + ".")}
            if mine:
                hits.append(f"'{label}' ({', '.join(f'{k}={v}' for k, v in mine.items())})")
            else:
                kept.append(f"'{label}'")
        if hits:
            applies = f"it applies only to {', '.join(kept)}" if kept else "it applies to none of them"
            found.append(f"{text} is replaced by the scenario's variants {', '.join(hits)}; {applies}. "
                         "To run one organisation with your setting, add compare=false")
    return found


def regime_label(name: str, mcfg: ModelConfig) -> str:
    """A run's column: the regime's name, with the structure dial's setting for hybrid."""
    return f"hybrid ({mcfg.regime.centralisation:g} central)" if name == "hybrid" else name


def side_by_side(cfg: DictConfig, mcfg: ModelConfig) -> tuple[list[tuple[str, ModelConfig]], str]:
    """What a single run compares: a scenario's own variants when it has them, else the three
    regimes (or only the chosen regime with compare=false). Warns when the scenario replaces a
    setting given on the command line."""
    from .scenarios import apply_overrides, load

    scenario = cfg.scenario if "scenario" in cfg else None
    variants = [(v.label, OmegaConf.to_container(v.overrides)) for v in scenario.variants] if scenario else []
    if HydraConfig.initialized() and scenario is not None and scenario.name:
        try:
            base = load(scenario.name).params
        except Exception:  # the warnings are advice: a preset that load() cannot read still runs,
            base = None     # and its variants are still checked
        for warning in overridden_settings(list(HydraConfig.get().overrides.task), variants, base, cfg.compare):
            log.warning(warning)
    named = f"{scenario.title or scenario.name}: " if scenario is not None and scenario.name else ""
    if cfg.compare and variants:
        runs = [(label, apply_overrides(mcfg, overrides)) for label, overrides in variants]
        return runs, f"{named}its {len(runs)} variants side by side (same seed, same task stream)"
    # the built-in comparison is the three pure regimes; the hybrid joins it when it is chosen
    regimes = ([r for r in REGIMES if r != "hybrid" or mcfg.regime.name == "hybrid"] if cfg.compare
               else [mcfg.regime.name])
    runs = [(regime_label(name, mcfg), dataclasses.replace(mcfg, regime=dataclasses.replace(mcfg.regime, name=name)))
            for name in regimes]
    if cfg.compare:
        return runs, (f"{named}regime comparison" if named else "Regime comparison") + \
            " (same org, same seed, same task stream)"
    return runs, (f"{named}{mcfg.regime.name} leadership only" if named
                  else f"One organisation, {mcfg.regime.name} leadership") + f" (seed {mcfg.seed})"


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def app(cfg: DictConfig) -> None:
    from .run import compare, write_atomic

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        mcfg = job_model_config(cfg)
        threads = check_threads(cfg.threads)
    except ConfigError as exc:
        raise SystemExit(f"leadsim: error: {exc}") from None
    if mcfg.n_members != cfg.n_members:  # org=file: the chart says how many members there are
        log.warning(f"org=file: the chart has {mcfg.n_members} members; n_members={cfg.n_members} is not used")
    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    if hc.mode == RunMode.MULTIRUN:
        job = os.path.relpath(out, hc.sweep.dir)  # a job is named by its folder (see sim.sweep.job_dir_name)
        design = {"design": cfg.design, "design_row": cfg.design_row} if cfg.design_row >= 0 else {}
        # one thread per job unless asked: the launcher runs jobs side by side on the cores
        threads = threads or 1
        status = run_job(mcfg, out, list(hc.overrides.task), job, design, threads=threads)
        log.info(f"job {hc.job.num} [{job}]: {status} (threads={threads})")
        return
    # matplotlib only here, where the figure is drawn (a sweep's jobs draw none); and not
    # analysis.plots, which loads seaborn as well
    from analysis.series import regime_series

    runs, title = side_by_side(cfg, mcfg)
    started = time.perf_counter()
    metrics, summary = compare(runs, progress=cfg.progress, threads=threads or None)
    elapsed = time.perf_counter() - started
    write_atomic(out / "metrics.parquet", lambda p: metrics.to_parquet(p, index=False))
    write_atomic(out / "summary.csv", lambda p: summary.to_csv(p, index=False))
    figure = write_atomic(out / "regimes.png", lambda p: regime_series(
        metrics, p, title=f"{mcfg.n_members} members, org={mcfg.org.name}, seed={mcfg.seed}",
        ) and None)
    print_table(summary, title=title, metrics=metrics)
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
    # On the way out, Python's garbage collector goes through the hundreds of thousands of objects a
    # run leaves (numba's types and compiled kernels above all) to free them one by one: 0.4 s or
    # more. Frozen, they are skipped, and the operating system takes the memory back all at once.
    atexit.register(gc.freeze)
    app()


if __name__ == "__main__":
    main()

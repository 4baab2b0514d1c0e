"""A Hydra sweeper for leadsim: Hydra's basic cartesian sweep, plus

- every job's config is composed and validated before any job starts, so a bad value anywhere in
  the sweep stops it at once with a message naming the key;
- jobs go to the launcher in batches, with a progress bar and an estimate of the time left.
"""


import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

log = logging.getLogger(__name__)


@dataclass
class LeadsimSweeperConf:
    _target_: str = "hydra_plugins.leadsim_sweeper.leadsim_sweeper.LeadsimSweeper"
    max_batch_size: Optional[int] = None  # jobs per launch; default: 2 per launcher worker
    params: Optional[Dict[str, str]] = None


ConfigStore.instance().store(group="hydra/sweeper", name="leadsim", node=LeadsimSweeperConf, provider="leadsim")


class LeadsimSweeper(BasicSweeper):
    def _batch_size(self) -> int:
        """Jobs per launch: two per worker keeps workers busy while the bar still moves."""
        if self.max_batch_size:
            return self.max_batch_size
        launcher = self.config.hydra.get("launcher", {})
        target = str(launcher.get("_target_", ""))
        workers = launcher.get("n_jobs", None)
        if workers is None or workers < 1:
            workers = 1 if "basic" in target.lower() else os.cpu_count() or 1
        return 2 * int(workers)

    def validate_all(self, jobs: List[List[str]]) -> None:
        """Compose and validate every job's config. Hydra composes once per distinct choice of
        config groups; each job's plain values are then set on a copy, which keeps this to
        milliseconds per job instead of a full composition each."""
        from omegaconf import OmegaConf

        from sim.cli import CONFIG_DIR, job_model_config
        from sim.config import ConfigError

        groups = {p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir()}
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        loader = self.hydra_context.config_loader
        composed = {}
        for overrides in jobs:
            parsed = parser.parse_overrides(list(overrides))
            is_group = [o.key_or_group.lstrip("+~") in groups or o.key_or_group.startswith("hydra")
                        or o.is_delete() for o in parsed]
            selection = tuple(line for line, g in zip(overrides, is_group) if g)
            try:
                if selection not in composed:
                    composed[selection] = loader.load_sweep_config(master_config=self.config,
                                                                   sweep_overrides=list(selection))
                cfg = OmegaConf.masked_copy(composed[selection],
                                            [k for k in composed[selection] if k != "hydra"])
                for override, g in zip(parsed, is_group):
                    if not g:
                        OmegaConf.update(cfg, override.key_or_group, override.value(), merge=False,
                                         force_add=override.is_add())
                job_model_config(cfg)
            except ConfigError as exc:  # stop before any job starts, with the key named and no traceback
                sys.exit(f"leadsim: error in sweep job [{' '.join(overrides)}]: {exc}")
            except Exception as exc:  # a type error that Hydra's full composition would also reject
                sys.exit(f"leadsim: error in sweep job [{' '.join(overrides)}]: {exc}")

    def sweep(self, arguments: List[str]) -> Any:
        from tqdm.auto import tqdm

        params = self._parse_config() + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        jobs = self.split_arguments(parser.parse_overrides(params), None)[0]
        started = time.perf_counter()
        self.validate_all(jobs)
        log.info(f"Validated all {len(jobs)} jobs in {time.perf_counter() - started:.1f} s")
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        size = self._batch_size()
        returns = []
        bar = tqdm(total=len(jobs), desc="sweep", unit="job", smoothing=0.1)
        for first in range(0, len(jobs), size):
            batch = jobs[first : first + size]
            results = self.launcher.launch(batch, initial_job_idx=first)
            for r in results:
                _ = r.return_value  # a job's own failures are recorded by the job; this raises only for crashes
            returns.append(results)
            bar.update(len(batch))
        bar.close()
        return returns

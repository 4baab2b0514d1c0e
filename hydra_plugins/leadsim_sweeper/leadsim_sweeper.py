"""A Hydra sweeper for leadsim: Hydra's basic cartesian sweep, plus

- every job's config is composed and validated before any job starts, so a bad value anywhere in
  the sweep stops it at once with a message naming the key;
- finished jobs (their folder has summary.json) are left out before anything is launched, so
  resuming a sweep costs only the jobs still to do, not a launch per finished job;
- jobs go to the launcher in batches, with a progress bar and an estimate of the time left;
- after the last batch the sweep is collected into tables, and if any job failed the sweep lists
  each one with its error.txt and exits non-zero. This lives here, not in a callback: Hydra does
  not call on_multirun_end when a job fails, and turns a callback's exception into a warning.
"""


import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


@dataclass
class LeadsimSweeperConf:
    _target_: str = "hydra_plugins.leadsim_sweeper.leadsim_sweeper.LeadsimSweeper"
    max_batch_size: Optional[int] = None  # jobs per launch; default: 2 per launcher worker
    params: Optional[Dict[str, str]] = None


ConfigStore.instance().store(group="hydra/sweeper", name="leadsim", node=LeadsimSweeperConf, provider="leadsim")

# hydra/launcher=ray: the Ray plugin's own config with one more default, no dashboard unless asked
# for (hydra.launcher.ray.init.include_dashboard=true). It replaces the plugin's `ray` entry, which
# is imported first so that it cannot come back; a configs/hydra/launcher/ray.yaml would do the
# same, but Hydra warns that matching a file to a schema of the same name is deprecated. That the
# cluster listens on loopback only is set in sim/cli.py main(), before Ray is imported.
try:  # the Ray launcher comes with the `cluster` extra
    from hydra_plugins.hydra_ray_launcher._config import RayConf, RayLauncherConf
except ImportError:
    pass
else:
    ConfigStore.instance().store(group="hydra/launcher", name="ray", provider="leadsim", node=RayLauncherConf(
        ray=RayConf(init={"address": None, "include_dashboard": False})))

Job = Tuple[List[str], Path]  # a job's overrides and the folder it writes to


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

    def job_folder(self, cfg: DictConfig, overrides: List[Override], num: int) -> Path:
        """The folder a job will write to, worked out as Hydra's run_job does it in the job's own
        process: hydra.sweep.dir joined with hydra.sweep.subdir, resolved with the job's
        override_dirname (made by Hydra's own function, with the configured exclude_keys and
        separators) and the number the launcher will give it. `cfg` is the job's composed config,
        changed in place."""
        naming = cfg.hydra.job.config.override_dirname
        cfg.hydra.job.override_dirname = get_overrides_dirname(
            overrides=[o for o in overrides if not o.is_hydra_override()],
            exclude_keys=list(naming.exclude_keys), item_sep=naming.item_sep, kv_sep=naming.kv_sep)
        cfg.hydra.job.num = num
        subdir = str(OmegaConf.select(cfg, "hydra.sweep.subdir"))
        # the default naming (sim.sweep.job_dir_name) cannot leave the sweep folder; this catches
        # a hydra.sweep.subdir set by hand
        if not subdir or os.path.isabs(subdir) or ".." in Path(subdir).parts:
            sys.exit(f"leadsim: error: hydra.sweep.subdir = {subdir!r} for job "
                     f"[{' '.join(o.input_line for o in overrides)}] does not name a folder inside the sweep folder")
        return Path(str(self.config.hydra.sweep.dir)) / subdir

    def plan(self, jobs: List[List[str]]) -> Tuple[List[Job], int]:
        """Compose every job's config and work out its folder; leave out the finished jobs and
        validate the others. Returns the jobs to run, each with its folder, and how many were
        finished already. A bad value in any job to run stops the sweep here, before any job
        starts.

        Hydra composes once per distinct choice of config groups. Every job of a sweep sets the
        same plain keys (it is a cartesian product), so each job's values are set in turn on that
        one composed config rather than on a copy (a copy alone took about 9 ms a job)."""
        from sim.cli import CONFIG_DIR, check_threads, job_model_config
        from sim.config import ConfigError
        from sim.sweep import is_done

        groups = {p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir()}
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        loader = self.hydra_context.config_loader
        parsed_lines: Dict[str, Override] = {}  # a sweep repeats each value across many jobs: parse it once
        composed: Dict[tuple, DictConfig] = {}
        todo: List[Job] = []
        skipped = 0
        for overrides in jobs:
            try:
                for line in overrides:
                    if line not in parsed_lines:
                        parsed_lines[line] = parser.parse_overrides([line])[0]
                parsed = [parsed_lines[line] for line in overrides]
                is_group = [o.key_or_group.lstrip("+~") in groups or o.key_or_group.startswith("hydra")
                            or o.is_delete() for o in parsed]
                selection = tuple(line for line, g in zip(overrides, is_group) if g)
                if selection not in composed:
                    composed[selection] = loader.load_sweep_config(master_config=self.config,
                                                                   sweep_overrides=list(selection))
                cfg = composed[selection]
                for override, g in zip(parsed, is_group):
                    if not g:
                        OmegaConf.update(cfg, override.key_or_group, override.value(), merge=False,
                                         force_add=override.is_add() or override.is_force_add())
                folder = self.job_folder(cfg, parsed, num=len(todo))
                if is_done(folder):
                    skipped += 1  # it ran, so its config was valid then: no need to check it again
                    continue
                job_model_config(cfg)
                check_threads(cfg.threads)
            except ConfigError as exc:  # stop before any job starts, with the key named and no traceback
                sys.exit(f"leadsim: error in sweep job [{' '.join(overrides)}]: {exc}")
            except Exception as exc:  # a type error that Hydra's full composition would also reject
                sys.exit(f"leadsim: error in sweep job [{' '.join(overrides)}]: {exc}")
            todo.append((list(overrides), folder))
        return todo, skipped

    def run_batch(self, batch: List[Job], first: int) -> None:
        """Launch one batch. A job that crashed outside the model (the model's own failures are
        recorded by the job) gets an error.txt here, so that it is listed with the others; the
        sweep goes on either way."""
        from sim.sweep import ERROR, is_done, record_failure

        try:
            results = self.launcher.launch([overrides for overrides, _ in batch], initial_job_idx=first)
            errors = []
            for r in results:
                try:
                    _ = r.return_value  # raises the job's exception if it crashed
                    errors.append(None)
                except Exception as exc:
                    errors.append(exc)
        except Exception as exc:  # e.g. a worker process died: every unfinished job of the batch failed
            log.error(f"the launcher failed on jobs {first}-{first + len(batch) - 1}: {exc!r}")
            errors = [exc] * len(batch)
        for (overrides, folder), error in zip(batch, errors):
            if not is_done(folder) and not (folder / ERROR).is_file():
                reason = f"{type(error).__name__}: {error}" if error else "the job ended without a result"
                record_failure(folder, folder.name, overrides, f"the job stopped outside the model\n{reason}")

    def sweep(self, arguments: List[str]) -> Any:
        from tqdm.auto import tqdm

        from analysis.collect import NoJobsError, collect
        from sim.sweep import ERROR, error_line, is_done

        params = self._parse_config() + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        jobs = self.split_arguments(parser.parse_overrides(params), None)[0]
        started = time.perf_counter()
        todo, skipped = self.plan(jobs)
        seconds = time.perf_counter() - started
        log.info(f"{len(jobs)} jobs composed and checked in {seconds:.1f} s "
                 f"({1000 * seconds / max(1, len(jobs)):.1f} ms a job): {skipped} finished before (skipped), "
                 f"{len(todo)} to run")
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        size = self._batch_size()
        desc = f"sweep ({skipped} of {len(jobs)} jobs finished before, skipped)" if skipped else "sweep"
        bar = tqdm(total=len(todo), desc=desc, unit="job", smoothing=0.1)
        for first in range(0, len(todo), size):
            batch = todo[first : first + size]
            self.run_batch(batch, first)  # job numbers count the jobs launched by this run: 0, 1, ...
            bar.update(len(batch))
        bar.close()

        started = time.perf_counter()
        try:
            summary = collect(sweep_dir, quiet=True)["summary"]
            log.info(f"collected {len(summary)} finished jobs in {time.perf_counter() - started:.1f} s "
                     f"-> {sweep_dir / 'summary.parquet'}")
        except NoJobsError as exc:  # no job even started: the list below says why
            log.error(str(exc))
        failed = [folder for _, folder in todo if not is_done(folder)]
        if failed:
            listing = "\n".join(f"  FAILED {folder.name}: {error_line(folder)}\n         {folder / ERROR}"
                                for folder in failed)
            sys.exit(f"leadsim: {len(failed)} job(s) failed ({len(todo) - len(failed)} of the {len(todo)} run "
                     f"finished; {skipped} had finished before):\n{listing}\n"
                     f"Rerun the same command with hydra.sweep.dir={sweep_dir} to run only the unfinished jobs.")

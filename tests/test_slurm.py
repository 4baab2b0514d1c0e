"""Sweeps on a real Slurm cluster: a single-node cluster started on this machine for this module
(munged, MariaDB and slurmdbd for accounting, slurmctld and slurmd; see tests/slurm_cluster.py),
a sweep submitted with `hydra/launcher=submitit_slurm`, killed halfway (the `leadsim` process
and its Slurm jobs), resumed, and compared with the same sweep on joblib.

Needs Debian's slurm-wlm, munge, slurmdbd and mariadb-server (`.ci/run` installs them); without
them the module is skipped, except under CI, where that is an error.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from itertools import product
from pathlib import Path

import pandas as pd
import pytest
from conftest import leadsim_command
from slurm_cluster import PARTITION, TERMINAL, SlurmCluster, missing_tools

MISSING = missing_tools()
if MISSING:
    if os.environ.get("CI"):
        raise RuntimeError(f"Slurm tools missing: {', '.join(MISSING)}; .ci/run installs slurm-wlm, munge, "
                           "slurmdbd and mariadb-server before the tests")
    pytest.skip(f"no single-node Slurm here (missing {', '.join(MISSING)}; apt-get install -y slurm-wlm munge "
                "slurmdbd mariadb-server)", allow_module_level=True)
if os.geteuid() != 0:  # slurmd starts each job as its user, and the cluster runs as SlurmUser=root
    if os.environ.get("CI"):
        raise RuntimeError("the single-node Slurm cluster of this test needs root, as CI has")
    pytest.skip("the single-node Slurm cluster needs root", allow_module_level=True)

LEADSIM = leadsim_command()
DESIGN = ["regime=heroic,distributed", "seed=1,2,3", "n_members=25", "steps=40", "progress=false"]
JOBS = {f"regime={r} seed={s}" for r, s in product(("heroic", "distributed"), (1, 2, 3))}
SLURM = ["hydra/launcher=submitit_slurm", f"hydra.launcher.partition={PARTITION}", "hydra.launcher.timeout_min=5",
         "hydra.launcher.cpus_per_task=1"]
TIMING = ["seconds"]  # wall-clock time legitimately differs between launchers


@pytest.fixture(scope="module")
def slurm():
    cluster = SlurmCluster()
    try:
        cluster.start()  # stops what it started if it fails
        yield cluster
    finally:
        cluster.stop()  # every daemon and job, on success or failure


def table(folder: Path) -> pd.DataFrame:
    summary = pd.read_parquet(folder / "summary.parquet")
    return summary.drop(columns=TIMING).sort_values("job_dir", ignore_index=True)


def job_of(overrides: str) -> str:
    """The sweep dimensions of a job, from its `overrides` column, in a fixed order."""
    pairs = dict(item.split("=", 1) for item in overrides.split())
    return f"regime={pairs['regime']} seed={pairs['seed']}"


def test_slurm_sweep_killed_halfway_resumes_to_the_joblib_table(slurm, tmp_path):
    folder = tmp_path / "slurm"
    command = LEADSIM + ["-m", *DESIGN, *SLURM, f"hydra.sweep.dir={folder}"]
    env = {**slurm.env, "HYDRA_FULL_ERROR": "0"}

    # 1. submit to Slurm, and kill it all once two of the six jobs have finished
    with open(tmp_path / "first.log", "w") as log:
        first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 240  # a fresh checkout compiles the engine inside the first jobs
    while len(list(folder.glob("*/summary.json"))) < 2 and time.time() < deadline and first.poll() is None:
        time.sleep(0.05)
    in_flight = slurm.queue()  # the sweep's jobs still pending or running in Slurm
    os.killpg(first.pid, signal.SIGKILL)  # the login-node side dies...
    first.wait()
    slurm.cancel_all()  # ...and so do its jobs on the cluster; returns once none is left
    output = (tmp_path / "first.log").read_text()
    assert first.returncode == -signal.SIGKILL, "the first run ended on its own:\n" + output[-3000:]
    finished = {p: p.stat().st_mtime_ns for p in folder.glob("*/summary.json")}
    assert 2 <= len(finished) < 6, f"the sweep should have been killed halfway: {len(finished)} done"
    assert in_flight, "unfinished jobs of the sweep were in Slurm when it was killed"
    states = slurm.accounting_when(lambda states: all(states.get(j) in TERMINAL for j in in_flight))
    assert "CANCELLED" in {states.get(j) for j in in_flight}, states  # scancel really stopped running jobs
    last_first = max(int(job.split("_")[0]) for job in slurm.queue(every_state=True))  # ids only grow

    # 2. rerun the same command on the same folder: only the unfinished jobs run again
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output[-4000:]
    # submitit followed its jobs through sacct, i.e. Slurm's accounting answered (slurmdbd)
    assert "Bypassing sacct error" not in output, output[-4000:]
    for path, stamp in finished.items():
        assert path.stat().st_mtime_ns == stamp, f"{path.parent.name} was finished but ran again"

    # every job exists exactly once, finished, with nothing half-written left behind
    slurm_table = table(folder)
    assert len(slurm_table) == 6 and slurm_table["job_dir"].is_unique
    assert sorted(map(job_of, slurm_table["overrides"])) == sorted(JOBS)
    summaries = list(folder.glob("*/summary.json"))
    assert len(summaries) == 6
    assert {json.loads(p.read_text())["job"] for p in summaries} == set(slurm_table["job"])
    assert not list(folder.glob("*/.*.tmp.*")) and not list(folder.glob("*/error.txt"))

    # Slurm's accounting: the rerun's array tasks (at least one per unfinished job) all completed
    def rerun_tasks(states):
        return {job: state for job, state in states.items() if int(job.split("_")[0]) > last_first}

    rerun = rerun_tasks(slurm.accounting_when(lambda states: len(rerun_tasks(states)) >= 6 - len(finished) and all(
        state in TERMINAL for state in rerun_tasks(states).values())))
    assert len(rerun) >= 6 - len(finished), rerun
    assert set(rerun.values()) == {"COMPLETED"}, rerun

    # 3. the same sweep on joblib gives the identical tables
    reference = tmp_path / "joblib"
    done = subprocess.run(LEADSIM + ["-m", *DESIGN, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                                     f"hydra.sweep.dir={reference}"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    pd.testing.assert_frame_equal(table(reference), slurm_table, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(reference / "metrics.parquet"),
                                  pd.read_parquet(folder / "metrics.parquet"), check_exact=True)

"""Sweeps launched for real: validation before launch, resume, failures, and the same table from
every launcher."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd

from analysis.collect import collect
from conftest import leadsim_command

LEADSIM = leadsim_command()
SMALL = ["n_members=25", "steps=40", "progress=false"]
# columns that legitimately differ between launchers: wall-clock time
TIMING = ["seconds"]


def sweep(folder, *overrides, timeout=240, check=True):
    env = {**os.environ, "RAY_TMPDIR": "/tmp/ray", "HYDRA_FULL_ERROR": "0"}
    done = subprocess.run(LEADSIM + ["-m", *overrides, f"hydra.sweep.dir={folder}"], capture_output=True,
                          text=True, timeout=timeout, env=env)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def table(folder) -> pd.DataFrame:
    summary = pd.read_parquet(Path(folder) / "summary.parquet")
    return summary.drop(columns=TIMING).sort_values("job_dir", ignore_index=True)


DESIGN = ["regime=heroic,distributed", "env.turbulence=0.0,0.3", "seed=1,2", *SMALL]


def test_same_sweep_gives_identical_table_with_basic_joblib_and_ray(tmp_path):
    sweep(tmp_path / "basic", *DESIGN)
    sweep(tmp_path / "joblib", *DESIGN, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    sweep(tmp_path / "ray", *DESIGN, "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2")
    basic = table(tmp_path / "basic")
    assert len(basic) == 8 and basic["job_dir"].is_unique
    logs = [p.read_text() for p in (tmp_path / "joblib").glob("*/cli.log")]
    per_worker = max(1, (os.cpu_count() or 1) // 2)  # joblib gives each of 2 workers its share of cores
    assert logs and all(f"NUMBA_NUM_THREADS={per_worker})" in text for text in logs)
    for other in ("joblib", "ray"):
        pd.testing.assert_frame_equal(basic, table(tmp_path / other), check_exact=True)
    per_step = [pd.read_parquet(tmp_path / name / "metrics.parquet") for name in ("basic", "joblib", "ray")]
    for frame in per_step[1:]:
        pd.testing.assert_frame_equal(per_step[0], frame, check_exact=True)


def test_submitit_local_launcher_runs_the_jobs(tmp_path):
    sweep(tmp_path / "submitit", "regime=heroic,distributed", "seed=1", *SMALL, "hydra/launcher=submitit_local",
          "hydra.launcher.timeout_min=5", "hydra.launcher.cpus_per_task=1")
    basic = sweep(tmp_path / "basic", "regime=heroic,distributed", "seed=1", *SMALL)
    assert basic.returncode == 0
    pd.testing.assert_frame_equal(table(tmp_path / "basic"), table(tmp_path / "submitit"), check_exact=True)


def test_invalid_value_anywhere_fails_before_any_job_starts(tmp_path):
    done = sweep(tmp_path / "bad", "regime=heroic,distributed", "env.turbulence=0.1,1.5", *SMALL, check=False)
    assert done.returncode != 0
    message = done.stdout + done.stderr
    assert "env.turbulence = 1.5 is out of range; allowed [0, 1]" in message
    assert "Traceback" not in message
    assert not list(tmp_path.rglob("summary.json"))


def test_rerun_skips_finished_jobs_and_redoes_only_missing_ones(tmp_path):
    folder = tmp_path / "s"
    sweep(folder, "regime=heroic,distributed", "seed=1,2", *SMALL)
    jobs = sorted(folder.glob("*/summary.json"))
    assert len(jobs) == 4
    stamps = {p: p.stat().st_mtime_ns for p in jobs}
    jobs[0].unlink()  # one job's result lost
    done = sweep(folder, "regime=heroic,distributed", "seed=1,2", *SMALL)
    assert done.stdout.count(": skipped") + done.stderr.count(": skipped") == 3
    for p in jobs[1:]:
        assert p.stat().st_mtime_ns == stamps[p]  # finished jobs were not rewritten
    assert jobs[0].is_file()
    assert len(collect(folder, quiet=True)["summary"]) == 4


def test_failed_job_does_not_stop_the_others_and_is_named(tmp_path):
    broken = tmp_path / "broken.edgelist"
    broken.write_text("a b\nthis line has four words\n")  # exists (passes validation), fails to load
    good = tmp_path / "good.edgelist"
    good.write_text("a b\nb c\nc d\nd a\na c\n")
    done = sweep(tmp_path / "s", "org=file", f"org.path={good},{broken}", "regime=heroic,distributed",
                 "seed=1", *SMALL)
    result = collect(tmp_path / "s", quiet=True)
    assert len(result["summary"]) == 2
    assert len(result["failures"]) == 2
    assert all("line 2" in e for e in result["failures"]["error"])
    assert "FAILED" in done.stdout + done.stderr


def test_killed_sweep_rerun_finishes_with_every_job_exactly_once(tmp_path):
    folder = tmp_path / "s"
    overrides = ["regime=heroic,hierarchical,distributed", "seed=1,2,3", "n_members=60", "steps=150",
                 "progress=false"]
    proc = subprocess.Popen(LEADSIM + ["-m", *overrides, f"hydra.sweep.dir={folder}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while len(list(folder.glob("*/summary.json"))) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # really kill it, halfway
    proc.wait()
    finished = {p: p.stat().st_mtime_ns for p in folder.glob("*/summary.json")}
    assert 3 <= len(finished) < 9, "the sweep should have been killed halfway"
    sweep(folder, *overrides)
    result = collect(folder, quiet=True)
    assert len(result["summary"]) == 9 and result["summary"]["job_dir"].is_unique
    assert len(result["failures"]) == 0 and not result["missing"]
    for p, stamp in finished.items():
        assert p.stat().st_mtime_ns == stamp
    for job in folder.iterdir():
        if job.is_dir():
            assert not list(job.glob(".*.tmp.*")), "no half-written file is left behind"
            summary = json.loads((job / "summary.json").read_text())
            assert summary["job"] == job.name


def test_collect_command_works_on_a_partial_sweep(tmp_path):
    folder = tmp_path / "s"
    sweep(folder, "regime=heroic,distributed", "seed=1", *SMALL)
    victim = sorted(folder.glob("*/summary.json"))[0]
    victim.unlink()
    done = subprocess.run(leadsim_command("leadsim-collect") + [str(folder), "--csv"],
                          capture_output=True, text=True)
    assert done.returncode == 0
    assert "collected 1 finished job(s), 0 failed, 1 missing" in done.stdout
    assert len(pd.read_csv(folder / "summary.csv")) == 1

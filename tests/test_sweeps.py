"""Sweeps launched for real: validation before launch, resume, failures, job folders, and the same
table from every launcher."""

import ipaddress
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from analysis.collect import collect
from conftest import leadsim_command
from sim.sweep import job_dir_name

LEADSIM = leadsim_command()
SMALL = ["n_members=25", "steps=40", "progress=false"]
# columns that legitimately differ between launchers: wall-clock time
TIMING = ["seconds"]


ENV = {**os.environ, "RAY_TMPDIR": "/tmp/ray", "HYDRA_FULL_ERROR": "0"}


def sweep(folder, *overrides, timeout=240, check=True, cwd=None):
    done = subprocess.run(LEADSIM + ["-m", *overrides, f"hydra.sweep.dir={folder}"], capture_output=True,
                          text=True, timeout=timeout, env=ENV, cwd=cwd)
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
    assert logs and all("(threads=1)" in text for text in logs)  # a sweep's jobs run on one thread each
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


@pytest.mark.parametrize("overrides,error", [
    (("regime=heroic,distributed", "env.turbulence=0.1,1.5"), "env.turbulence = 1.5 is out of range; allowed [0, 1]"),
    (("seed=1,2", "threads=0,999"), "threads = 999 is out of range; allowed [0, "),
], ids=["model-key", "threads"])
def test_invalid_value_anywhere_fails_before_any_job_starts(tmp_path, overrides, error):
    done = sweep(tmp_path / "bad", *overrides, *SMALL, check=False)
    assert done.returncode != 0
    message = done.stdout + done.stderr
    assert error in message
    assert "Traceback" not in message
    assert not list(tmp_path.rglob("summary.json"))


def test_threads_leave_job_folders_and_numbers_unchanged(tmp_path):
    one = sweep(tmp_path / "one", "seed=1,2", *SMALL)
    two = sweep(tmp_path / "two", "seed=1,2", "threads=2", *SMALL)
    assert one.returncode == 0 and two.returncode == 0
    names = sorted(p.name for p in (tmp_path / "one").iterdir() if p.is_dir())
    assert names and names == sorted(p.name for p in (tmp_path / "two").iterdir() if p.is_dir())
    assert "(threads=2)" in "".join(p.read_text() for p in (tmp_path / "two").glob("*/cli.log"))
    same = [c for c in table(tmp_path / "one").columns if c != "overrides"]  # the command lines differ
    pd.testing.assert_frame_equal(table(tmp_path / "one")[same], table(tmp_path / "two")[same], check_exact=True)


def test_rerun_skips_finished_jobs_and_redoes_only_missing_ones(tmp_path):
    folder = tmp_path / "s"
    sweep(folder, "regime=heroic,distributed", "seed=1,2", *SMALL)
    jobs = sorted(folder.glob("*/summary.json"))
    assert len(jobs) == 4
    stamps = {p: p.stat().st_mtime_ns for p in jobs}
    jobs[0].unlink()  # one job's result lost
    done = sweep(folder, "regime=heroic,distributed", "seed=1,2", *SMALL)
    assert "3 finished before (skipped), 1 to run" in done.stdout + done.stderr
    for p in jobs[1:]:
        assert p.stat().st_mtime_ns == stamps[p]  # finished jobs were not rewritten
    assert jobs[0].is_file()
    assert len(collect(folder, quiet=True)["summary"]) == 4


def test_rerun_does_not_launch_finished_jobs(tmp_path):
    folder = tmp_path / "s"
    overrides = ["regime=heroic,distributed", "seed=1,2", *SMALL]
    sweep(folder, *overrides)
    jobs = sorted(p.parent for p in folder.glob("*/summary.json"))
    (jobs[0] / "summary.json").unlink()
    # a launched job rewrites its .hydra record and appends to its log, even if it then skips itself
    before = {job: ((job / ".hydra" / "config.yaml").stat().st_mtime_ns, (job / "cli.log").read_text())
              for job in jobs[1:]}
    done = sweep(folder, *overrides)
    for job, (stamp, log) in before.items():
        assert (job / ".hydra" / "config.yaml").stat().st_mtime_ns == stamp
        assert (job / "cli.log").read_text() == log
    assert (jobs[0] / "summary.json").is_file()
    assert "sweep (3 of 4 jobs finished before, skipped)" in done.stderr  # the progress bar says so
    # the one job launched is job 0 of this run (it is job 2 of the sweep: regimes go heroic first)
    assert "    num: 0\n" in (jobs[0] / ".hydra" / "hydra.yaml").read_text()


def break_job(folder, overrides: str) -> Path:
    """Make the job of sweep folder `folder` with these overrides (as Hydra's override_dirname
    joins them) fail when it writes its results: its metrics.parquet is a folder."""
    job = Path(folder) / job_dir_name(overrides)
    (job / "metrics.parquet").mkdir(parents=True)
    return job


def test_failed_jobs_do_not_stop_the_others_and_the_sweep_exits_non_zero_listing_them(tmp_path):
    folder = tmp_path / "s"
    # the heroic jobs come first in the sweep, so the distributed ones run after they failed
    broken = [break_job(folder, f"n_members=25,regime=heroic,seed={seed},steps=40") for seed in (1, 2)]
    done = sweep(folder, "regime=heroic,distributed", "seed=1,2", *SMALL, check=False)
    message = done.stdout + done.stderr
    assert done.returncode != 0
    result = collect(folder, quiet=True)
    assert len(result["summary"]) == 2 and set(result["summary"]["regime"]) == {"distributed"}
    assert sorted(result["failures"]["job_dir"]) == sorted(job.name for job in broken)
    assert len(pd.read_csv(folder / "failures.csv")) == 2
    assert "leadsim: 2 job(s) failed" in message
    for job in broken:
        assert f"FAILED {job.name}: IsADirectoryError" in message
        assert str(job / "error.txt") in message
    assert "Traceback" not in message


def test_job_folders_stay_inside_the_sweep_folder_whatever_the_values(tmp_path):
    (tmp_path / "x.txt").write_text("a b\nb c\nc d\nd a\n")  # an org chart, three folders up
    cwd = tmp_path / "a" / "b" / "c"
    cwd.mkdir(parents=True)
    folder = tmp_path / "s"
    sweep(folder, "org=file", "org.path=../../../x.txt", "regime=heroic,distributed", "steps=40", "progress=false",
          cwd=cwd)
    ran = sorted(p.parent.parent for p in tmp_path.rglob(".hydra/overrides.yaml"))
    assert len(ran) == 2
    for job in ran:
        assert job.parent == folder, f"{job} is outside the sweep folder {folder}"
        assert re.fullmatch(r"[A-Za-z0-9._=,-]+-[0-9a-f]{10}", job.name)
    assert {job.name for job in ran} == {job_dir_name(f"org.path=../../../x.txt,org=file,regime={r},steps=40")
                                         for r in ("heroic", "distributed")}
    assert len(collect(folder, quiet=True)["summary"]) == 2


def test_job_folder_names_are_safe_stable_and_distinct():
    name = job_dir_name("org.path=../../x.txt,regime=heroic")
    assert name == job_dir_name("org.path=../../x.txt,regime=heroic")  # resume depends on it
    assert "/" not in name and not name.startswith((".", "-"))
    assert name.startswith("org.path=.._.._x.txt,regime=heroic-")
    # values that read the same once cleaned still get their own folders
    assert job_dir_name("org.path=a/b") != job_dir_name("org.path=a_b")
    assert job_dir_name("+events.schedule=[shock@10]").startswith("_events.schedule=_shock_10_-")
    long = job_dir_name("x=" + "9" * 1000)
    assert len(long) <= 140 and long != job_dir_name("x=" + "9" * 999)
    assert re.fullmatch(r"[0-9a-f]{10}", job_dir_name(""))


def test_collect_refuses_a_sweep_folder_whose_jobs_are_missing(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "multirun.yaml").write_text("hydra:\n  overrides:\n    task:\n    - seed=1,2\n")
    done = subprocess.run(leadsim_command("leadsim-collect") + [str(folder)], capture_output=True, text=True)
    assert done.returncode != 0
    assert "no job folder" in done.stderr


def test_bad_chart_stops_the_sweep_before_any_job_and_writes_nothing(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("a b\nb c\nc d\nd a\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("a b\nb c\nc d\nd e f\n")  # line 4 has three words
    folder = tmp_path / "s"
    done = sweep(folder, "org=file", f"org.path={good},{bad}", "regime=heroic,distributed", "steps=40",
                 "progress=false", check=False)
    message = done.stdout + done.stderr
    assert done.returncode != 0
    assert str(bad) in message and "line 4" in message
    assert "Traceback" not in message
    assert not folder.exists() or not any(folder.iterdir())
    assert not list(tmp_path.rglob(".hydra"))


def ray_listeners(root: psutil.Process, seen: dict, stop: threading.Event) -> None:
    """Until `stop`, record every listening TCP socket of `root` and its descendants (the Ray
    processes a sweep starts: GCS, raylet, agents, workers): {(process name, address, port)}."""
    while not stop.is_set():
        try:
            tree = {p.pid: p for p in [root, *root.children(recursive=True)]}
        except psutil.NoSuchProcess:
            return
        for c in psutil.net_connections(kind="tcp"):
            if c.status == psutil.CONN_LISTEN and c.pid in tree:
                try:
                    name = tree[c.pid].name()
                except psutil.NoSuchProcess:
                    continue
                seen[(name, c.laddr.ip, c.laddr.port)] = True
        stop.wait(0.2)


def test_ray_sweep_listens_on_loopback_only_and_has_no_dashboard(tmp_path):
    proc = subprocess.Popen(LEADSIM + ["-m", "regime=heroic,distributed", "seed=1", *SMALL, "hydra/launcher=ray",
                                       "+hydra.launcher.ray.init.num_cpus=2", f"hydra.sweep.dir={tmp_path / 's'}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    seen, stop = {}, threading.Event()
    watcher = threading.Thread(target=ray_listeners, args=(psutil.Process(proc.pid), seen, stop))
    watcher.start()
    try:
        output, _ = proc.communicate(timeout=300)
    finally:
        stop.set()
        watcher.join()
    assert proc.returncode == 0, output[-3000:]
    names = {name for name, _, _ in seen}
    assert {"gcs_server", "raylet"} <= names, f"the watcher saw no Ray server: {sorted(seen)}"
    exposed = [(name, ip, port) for name, ip, port in seen
               if not ipaddress.ip_address(ip.removeprefix("::ffff:")).is_loopback]
    assert not exposed, f"Ray listens beyond loopback: {exposed}"
    assert "View the dashboard" not in output
    assert not [s for s in seen if s[2] == 8265], "the dashboard is listening"


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

"""The `leadsim` command line, run as a subprocess exactly as a user runs it.

Each invocation costs a few seconds of start-up, so all six are launched at once by one
module-scoped fixture and the tests only read their results.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import leadsim_command

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["n_members=30", "steps=40", "progress=false"]

SECRET = "s3cret-line-of-a-private-file"
# chart files written for the runs below: (file name, contents)
CHARTS = {
    "weighted.txt": f"a b 0.5\nb c 1 {SECRET}\n".encode(),
    "truncated.graphml": f'<?xml version="1.0"?>\n<graphml><graph edgedefault="undirected"><node id="{SECRET}"'.encode(),
    "six.txt": b"a b\nb c\nc d\nd e\ne f\n",
}
BAD = {
    "negative-size": ("n_members=-5", ["n_members", "allowed [2,"]),
    "weighted-chart": ("org=file org.path=CHARTS/weighted.txt",
                       ["org.path", "line 1: expected two member names", "weights"]),
    "truncated-chart": ("org=file org.path=CHARTS/truncated.graphml", ["org.path", "line 2, column", "malformed XML"]),
    "path-without-file-org": ("org=flat org.path=CHARTS/six.txt", ["org.path", "used only with org=file"]),
    "too-big-for-memory": ("n_members=100000000", ["n_members = 100,000,000 needs about", "allowed up to about"]),
    "probability-above-one": ("culture.purpose=1.5", ["culture.purpose", "allowed [0, 1]"]),
    "unknown-key": ("foo=1", ["foo"]),
    "unknown-org": ("org=bogus", ["org", "bogus"]),
    "event-past-the-end": ("events.schedule=[leader_leaves@900]", ["events.schedule", "leader_leaves@900"]),
}




@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    base = tmp_path_factory.mktemp("cli")
    for name, content in CHARTS.items():
        (base / name).write_bytes(content)
    jobs = {"ok": (SMALL, base / "ok"),
            "chart": (SMALL + ["org=file", f"org.path={base / 'six.txt'}"], base / "chart")}
    for name, (override, _) in BAD.items():
        jobs[name] = (SMALL + override.replace("CHARTS", str(base)).split(), base / name)
    procs = {
        name: subprocess.Popen(leadsim_command() + args + [f"hydra.run.dir={rundir}"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (args, rundir) in jobs.items()
    }
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        results[name] = dict(rc=proc.returncode, out=out, err=err, dir=jobs[name][1])
    return results


def test_a_small_comparison_exits_zero_and_prints_the_table_of_three_regimes(runs):
    r = runs["ok"]
    assert r["rc"] == 0, r["err"]
    out = r["out"]
    assert "Regime comparison" in out
    header = next(line for line in out.splitlines() if "measure" in line)
    assert header.index("heroic") < header.index("hierarchical") < header.index("distributed")
    for label in ("value share captured", "completion rate", "leadership Gini", "nominal decision load"):
        assert label in out
    assert "3 run(s) of 40 steps with 30 members" in out
    assert "Traceback" not in out + r["err"]


def test_a_comparison_writes_metrics_summary_and_figure_into_the_run_dir(runs):
    r = runs["ok"]
    assert r["rc"] == 0, r["err"]
    rundir = r["dir"]
    metrics = pd.read_parquet(rundir / "metrics.parquet")
    assert list(metrics["run"].unique()) == ["heroic", "hierarchical", "distributed"]
    assert metrics.groupby("run").size().to_dict() == {"heroic": 41, "hierarchical": 41, "distributed": 41}
    # paired runs: the same task stream in each regime
    per_regime = {k: g["value_arrived"].to_numpy() for k, g in metrics.groupby("run")}
    assert (per_regime["heroic"] == per_regime["distributed"]).all()
    summary = pd.read_csv(rundir / "summary.csv")
    assert summary["regime"].tolist() == ["heroic", "hierarchical", "distributed"]
    assert (summary["n_members"] == 30).all() and (summary["steps"] == 40).all()
    png = (rundir / "regimes.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert not list(rundir.glob("*.tmp*")), "no half-written temporary files are left"
    for name in ("metrics.parquet", "summary.csv", "regimes.png"):
        assert str(rundir / name) in r["out"]


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_non_zero_naming_the_key_without_a_traceback(runs, case):
    r = runs[case]
    text = r["out"] + r["err"]
    assert r["rc"] != 0
    for needle in BAD[case][1]:
        assert needle in text, text
    assert "Traceback" not in text
    assert not (r["dir"] / "metrics.parquet").exists()


@pytest.mark.parametrize("case", ["weighted-chart", "truncated-chart"])
def test_chart_errors_never_echo_the_files_text(runs, case):
    r = runs[case]
    assert r["rc"] == 1 and SECRET not in r["out"] + r["err"]


def test_a_chart_gives_the_organisation_its_size_and_says_so(runs):
    r = runs["chart"]
    assert r["rc"] == 0, r["err"]
    assert "the chart has 6 members; n_members=30 is not used" in r["out"] + r["err"]
    assert "3 run(s) of 40 steps with 6 members" in r["out"]
    assert (pd.read_csv(r["dir"] / "summary.csv")["n_members"] == 6).all()


def test_result_files_are_readable_by_collaborators(runs):
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ("metrics.parquet", "summary.csv", "regimes.png"):
        mode = stat.S_IMODE((runs["ok"]["dir"] / name).stat().st_mode)
        assert mode == 0o666 & ~umask, f"{name}: {oct(mode)}"
        assert mode & stat.S_IROTH or umask & 0o004, f"{name} is private: {oct(mode)}"


@pytest.mark.parametrize("case", ["negative-size", "probability-above-one", "event-past-the-end",
                                  "weighted-chart", "truncated-chart", "too-big-for-memory"])
def test_model_errors_are_reported_as_leadsim_errors(runs, case):
    r = runs[case]
    assert r["err"].strip().startswith("leadsim: error:"), r["err"]
    assert r["err"].count("\n") <= 2  # one line, not a dump

"""The `leadsim` command line, run as a subprocess exactly as a user runs it.

Each invocation costs a few seconds of start-up, so all six are launched at once by one
module-scoped fixture and the tests only read their results.
"""

from __future__ import annotations

import io
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


# ----- the table: it fits the terminal, names every column in full, and has the exercises' measures --

FOUR_KEYS = ["none", "all four", "purpose", "contribution", "procedures", "infrastructure",
             "hierarchical · none", "hierarchical · all four"]
REPLACED = "is replaced by the scenario"


def table_columns(out: str) -> list[str]:
    """The printed table's column names left to right, across all its parts, with a name that wraps
    over several header lines put back together; `measure` (the first column) left out."""
    names, header = [], None
    for line in out.splitlines():
        if line.startswith("┏"):
            header = []
        elif line.startswith("┡"):
            names += [" ".join(" ".join(cells).split()) for cells in zip(*header)][2:-1]
            header = None
        elif header is not None and line.startswith("┃"):
            header.append(line.split("┃"))
    return names


def table_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line[:1] in set("┏┃┡│└")]


@pytest.fixture(scope="module")
def table_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli-table")
    jobs = {  # name: (arguments, terminal width)
        "keys-80": (["+scenario=four_keys"], 80),
        "one-regime": (["compare=false", "regime.name=heroic"], 120),
        # every variant sets culture.autonomy_support and regime.name, and the scenario itself
        # sets regime.name, which the regime=heroic shortcut comes before
        "replaced": (["+scenario=controlled_vs_autonomous", "culture.autonomy_support=1", "regime=heroic"], 120),
    }
    procs = {}
    for name, (args, columns) in jobs.items():
        env = {**{k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}, "COLUMNS": str(columns)}
        procs[name] = subprocess.Popen(leadsim_command() + SMALL + args + [f"hydra.run.dir={base / name}"],
                                       cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        results[name] = dict(rc=proc.returncode, out=out, err=err, dir=base / name)
    return results


def test_eight_variants_fit_an_80_column_terminal_in_two_parts_with_every_name_in_full(table_runs):
    r = table_runs["keys-80"]  # COLUMNS=80, read through shutil.get_terminal_size
    assert r["rc"] == 0, r["err"]
    lines = table_lines(r["out"])
    assert lines and max(len(line) for line in lines) <= 80
    assert "…" not in r["out"]
    assert table_columns(r["out"]) == FOUR_KEYS  # every variant once, in order, across the parts
    assert r["out"].count("┏") == 2 and "(part 2 of 2)" in r["out"]
    assert r["out"].count("burnout-days") == 2  # each part repeats the measures


def test_eight_variants_fit_a_120_column_terminal_in_one_table_with_every_name_in_full(table_runs):
    from sim.cli import print_table

    r = table_runs["keys-80"]
    summary, metrics = pd.read_csv(r["dir"] / "summary.csv"), pd.read_parquet(r["dir"] / "metrics.parquet")
    out = io.StringIO()
    print_table(summary, out, title="eight variants", metrics=metrics, width=120)
    lines = table_lines(out.getvalue())
    assert max(len(line) for line in lines) <= 120 and "…" not in out.getvalue()
    assert table_columns(out.getvalue()) == FOUR_KEYS and out.getvalue().count("┏") == 1


def test_the_table_has_the_measures_the_exercises_talk_about(table_runs):
    r = table_runs["one-regime"]
    assert r["rc"] == 0, r["err"]
    metrics = pd.read_parquet(r["dir"] / "metrics.parquet")
    summary = pd.read_csv(r["dir"] / "summary.csv")
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in table_lines(r["out"])
            if line.startswith("│")}
    assert rows["final mean trust"] == f"{metrics['mean_trust'].iloc[-1]:.3f}"
    assert rows["ties at the end"] == str(int(metrics["tie_count"].iloc[-1]))
    assert rows["time lost to burnout"] == f"{summary['burnout_days'][0] / (30 * 40):.1%}"
    assert rows["final mean autonomy"] == f"{summary['final_autonomy'][0]:.3f}"


def test_a_single_regime_run_is_not_titled_a_regime_comparison(table_runs):
    r = table_runs["one-regime"]
    assert r["rc"] == 0, r["err"]
    assert "comparison" not in r["out"].lower()
    assert "One organisation, heroic leadership (seed 1)" in r["out"]
    assert table_columns(r["out"]) == ["heroic"]


def test_a_setting_that_the_variants_replace_is_warned_about(table_runs):
    r = table_runs["replaced"]
    assert r["rc"] == 0, r["err"]
    warning = next(line for line in (r["out"] + r["err"]).splitlines()
                   if "culture.autonomy_support=1 " + REPLACED in line)
    assert "WARNING" in warning
    for label in ("controlling managers", "autonomy-supportive managers", "distributed (work chosen)"):
        assert f"'{label}' (culture.autonomy_support=" in warning
    assert "it applies to none of them" in warning and "compare=false" in warning
    assert table_columns(r["out"]) == ["controlling managers", "autonomy-supportive managers",
                                       "distributed (work chosen)"]


def test_a_group_choice_that_the_scenario_replaces_is_warned_about(table_runs):
    r = table_runs["replaced"]
    assert r["rc"] == 0, r["err"]
    assert ("regime=heroic is replaced by the scenario's own regime.name=hierarchical; "
            "write regime.name=heroic instead") in r["out"] + r["err"]
    assert (pd.read_csv(r["dir"] / "summary.csv")["regime"] != "heroic").all()  # what the warning is about


def test_a_setting_only_some_variants_set_is_named_with_the_columns_it_reaches():
    from sim.cli import overridden_settings

    variants = [("a · strained", {"regime.name": "heroic"}),
                ("a · rested", {"regime.name": "heroic", "env.task_rate": 0.009})]
    [warning] = overridden_settings(["+scenario=burnout", "env.task_rate=0.009", "member.recovery=0.1"], variants)
    assert warning.startswith("env.task_rate=0.009 is replaced by the scenario's variants 'a · rested'")
    assert "it applies only to 'a · strained'" in warning
    assert overridden_settings(["env.task_rate=0.009"], variants, compare=False) == []
    assert overridden_settings(["n_members=40", "steps=60", "progress=false"], variants) == []
    [group] = overridden_settings(["org=teams"], [], base={"org": {"name": "hierarchy"}})
    assert group.endswith("write org.name=teams instead")

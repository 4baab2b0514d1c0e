"""The analysis layer: statistics on known numbers, every figure, and the report on a tiny real sweep.

Synthetic result tables keep the unit tests fast; one real sweep of 6 jobs (20 members, 40 steps)
checks that the report reads what the model writes.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from analysis import plots, stats
from analysis.design import morris_design
from analysis.report import build_report, main as report_main

REGIMES = ["heroic", "hierarchical", "distributed"]
EFFECT = {"heroic": 0.0, "hierarchical": 0.05, "distributed": 0.1}


def synthetic_summary(seeds=(1, 2, 3), turbulence=(0.0, 0.2), orgs=("flat", "hierarchy")) -> pd.DataFrame:
    """A summary table shaped like leadsim-collect's: regimes x org x turbulence x seed, with the
    regime's effect known exactly, and a regime preset column that must not count as a factor."""
    rows = []
    for regime in REGIMES:
        for org in orgs:
            for turb in turbulence:
                for seed in seeds:
                    value = 0.5 + EFFECT[regime] - turb * (regime == "distributed") + 0.01 * seed
                    job = f"org={org},regime={regime},seed={seed},turb={turb}"
                    rows.append({"job_dir": job, "overrides": job.replace(",", " "), "regime": regime, "org": org,
                                 "seed": seed, "n_members": 20, "steps": 40, "value_share": value,
                                 "completion_rate": value - 0.1, "leadership_gini": 0.3 + 0.1 * REGIMES.index(regime),
                                 "cfg.seed": seed, "cfg.regime.name": regime, "cfg.org.name": org,
                                 "cfg.env.turbulence": turb, "cfg.env.complexity": 2.0, "cfg.n_members": 20,
                                 "cfg.regime.decisions_per_step": 1 if regime == "heroic" else 2})
    return pd.DataFrame(rows)


def synthetic_metrics(summary: pd.DataFrame, steps: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frames = []
    for job in summary["job_dir"]:
        frames.append(pd.DataFrame({"job_dir": job, "step": np.arange(steps + 1),
                                    "value_arrived": rng.exponential(1.0, steps + 1),
                                    "value_captured": rng.exponential(0.6, steps + 1),
                                    "mean_autonomy": 0.5 + rng.normal(0, 0.02, steps + 1).cumsum(),
                                    "mean_energy": 0.9 - 0.002 * np.arange(steps + 1),
                                    "tasks_failed": rng.integers(0, 2, steps + 1)}))
    return pd.concat(frames, ignore_index=True)


def synthetic_members(summary: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    frames = [pd.DataFrame({"member": np.arange(n), "led_count": rng.poisson(1 + 3 * (r == "heroic"), n)})
              .assign(job_dir=j, regime=r, seed=s, **{"cfg.org.name": o})
              for j, r, s, o in summary[["job_dir", "regime", "seed", "cfg.org.name"]].itertuples(index=False)]
    return pd.concat(frames, ignore_index=True)


def synthetic_design_summary(design: pd.DataFrame, seeds=(1, 2)) -> pd.DataFrame:
    """Distributed depends on the purpose lever only (slope 0.3), heroic on nothing."""
    rows = []
    for row, inputs in design.iterrows():
        for regime in ("heroic", "distributed"):
            for seed in seeds:
                value = 0.5 + (0.3 * inputs["input.purpose"] if regime == "distributed" else 0.0)
                rows.append({"job_dir": f"design_row={row},regime={regime},seed={seed}", "regime": regime,
                             "seed": seed, "value_share": value, "cfg.culture.purpose": inputs["culture.purpose"],
                             "overrides": f"design=/nowhere.csv design_row={row} regime={regime} seed={seed}"})
    return pd.DataFrame(rows)


# --- statistics --------------------------------------------------------------------------------

def test_mean_ci_on_known_numbers():
    frame = pd.DataFrame({"g": ["a", "a", "a", "b"], "x": [1.0, 2.0, 3.0, 7.0]})
    out = stats.mean_ci(frame, "g", "x").set_index("g")
    half = st.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)  # sd of [1, 2, 3] is 1
    assert out.loc["a", "mean"] == 2.0 and out.loc["a", "sd"] == 1.0 and out.loc["a", "n"] == 3
    assert out.loc["a", "lo"] == pytest.approx(2 - half) and out.loc["a", "hi"] == pytest.approx(2 + half)
    assert out.loc["a", "lo"] == pytest.approx(-0.4841, abs=1e-4)
    assert out.loc["b", "n"] == 1 and math.isnan(out.loc["b", "lo"])  # one value: no interval
    assert stats.t_interval([1, 2, 3]) == pytest.approx((2 - half, 2 + half))
    overall = stats.mean_ci(frame, None, "x").iloc[0]
    assert overall["mean"] == pytest.approx(3.25) and overall["n"] == 4


def test_sweep_dimensions_are_the_varying_factors():
    summary = synthetic_summary()
    # decisions_per_step only moves with the regime (a preset), complexity is constant, seed is a replicate
    assert stats.sweep_dimensions(summary) == ["regime", "cfg.org.name", "cfg.env.turbulence"]


def test_paired_differences_pair_by_seed_and_count_the_unpaired():
    summary = synthetic_summary().sample(frac=1, random_state=3)  # pairing must not depend on row order
    p = stats.paired_differences(summary, "value_share", "distributed", "heroic")
    assert p.unpaired == 0 and p.by == ["cfg.org.name", "cfg.env.turbulence"]
    assert len(p.pairs) == 2 * 2 * 3
    table = p.table.set_index(["cfg.org.name", "cfg.env.turbulence"])
    assert table.loc[("flat", 0.0), "mean"] == pytest.approx(0.1)
    assert table.loc[("flat", 0.2), "mean"] == pytest.approx(-0.1)
    assert table.loc[("flat", 0.0), "sd"] == pytest.approx(0.0, abs=1e-12)  # the seed effect cancels in pairs
    assert table.loc[("flat", 0.0), "share_a_better"] == 1.0 and table.loc[("flat", 0.2), "share_a_better"] == 0.0

    lonely = summary[~((summary["regime"] == "heroic") & (summary["seed"] == 2))]
    p = stats.paired_differences(lonely, "value_share", "distributed", "heroic")
    assert p.unpaired == 4  # one distributed job per (org, turbulence) lost its partner
    assert (p.table["n"] == 2).all()
    overall = stats.paired_differences(summary, "value_share", "distributed", "heroic", by=[]).table.iloc[0]
    assert overall["n"] == 12 and overall["mean"] == pytest.approx(0.0)


def test_crossover_table_compares_with_the_best_central_regime():
    t = stats.crossover_table(synthetic_summary(), "value_share").set_index(["cfg.org.name", "cfg.env.turbulence"])
    calm, rough = t.loc[("flat", 0.0)], t.loc[("flat", 0.2)]
    assert calm["best"] == "distributed" and calm["best_central"] == "hierarchical"
    assert calm["diff"] == pytest.approx(0.05) and calm["verdict"] == "distributed better"
    assert rough["best"] == "hierarchical" and rough["verdict"] == "hierarchical better"


def test_gini_and_lorenz():
    assert stats.gini([2, 2, 2, 2]) == 0.0
    assert stats.gini([0, 0, 0, 4]) == pytest.approx(0.75)
    people, held = stats.lorenz([0, 0, 0, 4])
    assert people.tolist() == [0, 0.25, 0.5, 0.75, 1.0] and held.tolist() == [0, 0, 0, 0, 1.0]


def test_sensitivity_ranks_the_lever_that_matters():
    design = morris_design(3)
    summary = synthetic_design_summary(design)
    outcomes = stats.design_outcomes(summary, "value_share")
    assert outcomes["distributed − heroic"].to_numpy() == pytest.approx(0.3 * design["input.purpose"].to_numpy())
    indices = stats.sensitivity_table(design, outcomes)
    top = indices[indices["outcome"] == "distributed − heroic"].iloc[0]
    assert top["lever"] == "purpose" and top["mu_star"] == pytest.approx(0.3)
    partial = stats.sensitivity_table(design, outcomes.drop(index=[0]))  # first trajectory incomplete
    assert (partial["trajectories"] == 2).all()


# --- figures -----------------------------------------------------------------------------------

def test_every_figure_writes_a_png(tmp_path):
    summary = synthetic_summary(seeds=(1, 2))
    metrics = synthetic_metrics(summary)
    design = morris_design(2)
    indices = stats.sensitivity_table(design, stats.design_outcomes(synthetic_design_summary(design), "value_share"))
    drawn = [
        plots.regime_comparison(summary, tmp_path / "a.png", col="cfg.env.turbulence", row="cfg.org.name"),
        plots.crossover_curves(summary, tmp_path / "b.png", x="cfg.env.turbulence"),
        plots.difference_curves(summary, tmp_path / "b2.png", x="cfg.env.turbulence"),
        plots.resilience(metrics, summary, tmp_path / "c.png", event_step=20, event="leader_leaves@20"),
        plots.lorenz_curves(synthetic_members(summary), tmp_path / "d.png", col="cfg.org.name"),
        plots.motivation_energy(metrics, summary, tmp_path / "e.png"),
        plots.sensitivity(indices, tmp_path / "f.png"),
    ]
    for path in drawn:
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and Path(path).stat().st_size > 5000


# --- the report on a tiny real sweep -----------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """6 real jobs: three regimes x two seeds, member 0 leaving at step 20. The collected tables
    are removed, so that the report has to collect the job folders itself."""
    sweep = tmp_path_factory.mktemp("sweep")
    leadsim = Path(sys.executable).parent / "leadsim"
    command = [str(leadsim)] if leadsim.exists() else ["uv", "run", "leadsim"]
    subprocess.run(command + ["-m", "regime=heroic,hierarchical,distributed", "seed=1,2",
                              "events.schedule=[leader_leaves@20]", "n_members=20", "steps=40", "progress=false",
                              f"hydra.sweep.dir={sweep}"], check=True, capture_output=True, cwd=Path(__file__).parents[1])
    for name in ("summary.parquet", "metrics.parquet", "failures.csv"):
        (sweep / name).unlink(missing_ok=True)
    return sweep


def test_report_on_a_real_sweep(tiny_sweep, tmp_path, capsys):
    study = tmp_path / "README.md"
    study.write_text("# Hero leaves (test)\n\n## Question\n\nDoes the org survive its **hero**?\n\n"
                     "## Hypothesis\n\n- distributed loses least\n- heroic loses most\n")
    out = tmp_path / "site" / "report.html"
    report_main([str(tiny_sweep), "--out", str(out), "--study", str(study)])
    page = out.read_text()
    assert (tiny_sweep / "summary.parquet").is_file()  # collected on the way
    assert "Does the org survive its <strong>hero</strong>?" in page and "<li>distributed loses least</li>" in page
    assert "Factors and their levels" in page and "seeds per cell" in page
    assert "uv run leadsim -m regime=heroic,hierarchical,distributed seed=1,2" in page
    assert "Paired difference distributed − heroic" in page and "Paired difference distributed − hierarchical" in page
    assert "Impact of leader_leaves@20" in page
    assert page.count("data:image/png;base64,") >= 4 and "<script" not in page and "http" not in page
    figures = {p.name for p in (out.parent / "figures").glob("*.png")}
    assert {"regimes_value_share.png", "lorenz.png", "motivation_energy.png",
            "resilience_leader_leaves_at_20.png"} <= figures

    summary = pd.read_parquet(tiny_sweep / "summary.parquet")
    assert stats.paired_differences(summary, "value_share").unpaired == 0
    for job, recorded in summary[["job_dir", "leadership_gini"]].itertuples(index=False):
        members = pd.read_parquet(tiny_sweep / job / "members.parquet")
        assert stats.gini(members["led_count"]) == pytest.approx(recorded)  # members.parquet agrees with summary


def test_report_errors_in_one_line(tmp_path, capsys):
    for bad in ([str(tmp_path / "no-such-sweep")], [str(tmp_path)]):  # missing folder; a folder with no jobs
        with pytest.raises(SystemExit) as exc:
            report_main(bad)
        message = str(exc.value.code)
        assert message.startswith("leadsim-report: error:") and "\n" not in message


def test_report_rejects_an_unknown_outcome(tiny_sweep, tmp_path):
    with pytest.raises(SystemExit, match="not a numeric column"):
        report_main([str(tiny_sweep), "--out", str(tmp_path / "r.html"), "--outcome", "nonsense"])


def test_report_with_sensitivity(tmp_path):
    design = morris_design(2)
    design.to_csv(tmp_path / "design.csv", index=False)
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    summary = synthetic_design_summary(design).assign(steps=40, n_members=20)
    summary["overrides"] = summary["overrides"].str.replace("/nowhere.csv", str(tmp_path / "design.csv"))
    summary.to_parquet(sweep / "summary.parquet")
    page = build_report(sweep).read_text()
    assert "Morris indices" in page and (sweep / "figures" / "sensitivity.png").is_file()

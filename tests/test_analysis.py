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


def test_crossover_table_tests_distributed_against_both_central_regimes():
    """No winner's curse: both central regimes are compared on the same seeds and both reported,
    not only the one whose mean happened to be better in the cell."""
    t = stats.crossover_table(synthetic_summary(), "value_share").set_index(["cfg.org.name", "cfg.env.turbulence"])
    calm, rough = t.loc[("flat", 0.0)], t.loc[("flat", 0.2)]
    assert "best_central" not in t and calm["best"] == "distributed" and rough["best"] == "hierarchical"
    assert calm["diff_vs_heroic"] == pytest.approx(0.1) and calm["diff_vs_hierarchical"] == pytest.approx(0.05)
    assert calm["verdict_vs_heroic"] == calm["verdict_vs_hierarchical"] == "distributed better"
    assert rough["diff_vs_heroic"] == pytest.approx(-0.1) and rough["verdict_vs_heroic"] == "heroic better"
    assert rough["verdict_vs_hierarchical"] == "hierarchical better"
    assert (t["pairs_vs_heroic"] == 3).all() and (t["pairs_vs_hierarchical"] == 3).all()


def test_the_report_shows_distributed_against_each_central_regime():
    from analysis.report import results_section

    summary = synthetic_summary()
    page = results_section(summary, stats.sweep_dimensions(summary), "value_share")
    assert "distributed − heroic" in page and "distributed − hierarchical" in page and "Holm" in page
    assert "best central" not in page


def test_holm_adjustment_of_a_family_of_p_values():
    assert stats.holm_adjusted([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm_adjusted([0.2, 0.9]).tolist() == pytest.approx([0.4, 0.9])
    assert stats.holm_adjusted([0.6, 0.4]).tolist() == pytest.approx([0.8, 0.8])  # monotone, capped at 1
    adjusted = stats.holm_adjusted([0.02, np.nan])
    assert adjusted[0] == pytest.approx(0.02) and np.isnan(adjusted[1])  # a missing test is not in the family


def borderline_summary() -> pd.DataFrame:
    """One cell, five seeds: distributed beats each central regime by a margin whose paired t-test
    gives p between 0.025 and 0.05. Each alone would be significant at 0.05; as a family of two,
    after Holm's correction, neither is."""
    spread = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]) / np.sqrt(2.5)  # mean 0, sd 1
    margin = {"heroic": 3.2 * 0.02 / np.sqrt(5), "hierarchical": 3.0 * 0.02 / np.sqrt(5)}  # t = 3.2 and 3.0
    rows = []
    for k, seed in enumerate(range(1, 6)):
        base = 0.5 + 0.01 * seed
        rows.append({"regime": "distributed", "seed": seed, "value_share": base, "cfg.n_members": 20})
        for regime, d in margin.items():
            rows.append({"regime": regime, "seed": seed, "cfg.n_members": 20,
                         "value_share": base - (d + 0.02 * spread[(k + (regime == "heroic")) % 5])})
    return pd.DataFrame(rows)


def test_crossover_verdicts_use_the_holm_adjusted_p_values():
    summary = borderline_summary()
    row = stats.crossover_table(summary, "value_share").iloc[0]
    for b in ("heroic", "hierarchical"):
        d = (summary[summary.regime == "distributed"].set_index("seed")["value_share"]
             - summary[summary.regime == b].set_index("seed")["value_share"])
        assert row[f"p_vs_{b}"] == pytest.approx(st.ttest_1samp(d, 0).pvalue)
        assert 0.025 < row[f"p_vs_{b}"] < 0.05 and row[f"lo_vs_{b}"] > 0  # significant alone
    p = [row["p_vs_heroic"], row["p_vs_hierarchical"]]
    assert [row["p_holm_vs_heroic"], row["p_holm_vs_hierarchical"]] == pytest.approx(stats.holm_adjusted(p))
    assert row["p_holm_vs_heroic"] > 0.05 and row["p_holm_vs_hierarchical"] > 0.05
    assert row["verdict_vs_heroic"] == row["verdict_vs_hierarchical"] == "no clear difference"
    # over the whole table, the family is every comparison in it
    table = stats.crossover_table(synthetic_summary(), "value_share", family="table")
    raw = table[["p_vs_heroic", "p_vs_hierarchical"]].to_numpy().ravel()
    assert table[["p_holm_vs_heroic", "p_holm_vs_hierarchical"]].to_numpy().ravel() == pytest.approx(
        stats.holm_adjusted(raw))


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
    are removed, so that the report has to collect the job folders itself. A patience of 20 steps
    leaves the tasks of the first 20 steps to count in the value share (tasks that could end)."""
    sweep = tmp_path_factory.mktemp("sweep")
    leadsim = Path(sys.executable).parent / "leadsim"
    command = [str(leadsim)] if leadsim.exists() else ["uv", "run", "leadsim"]
    subprocess.run(command + ["-m", "regime=heroic,hierarchical,distributed", "seed=1,2",
                              "events.schedule=[leader_leaves@20]", "n_members=20", "steps=40", "env.patience=20",
                              "progress=false",
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


# --- scenario discovery (PRIM) -----------------------------------------------------------------

def region_summary(rows: int = 300, seeds=(1, 2)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A design sweep where distributed wins exactly when trust0 > 0.6 and procedures > 0.5, on
    every seed; purpose does nothing, and omega moves in lockstep with trust0 (one lever)."""
    rng = np.random.default_rng(7)
    design = pd.DataFrame({"culture.trust0": rng.uniform(0.1, 0.9, rows), "culture.procedures": rng.random(rows),
                           "culture.purpose": rng.random(rows)})
    design["culture.omega"] = 0.005 + 0.045 * (design["culture.trust0"] - 0.1) / 0.8
    out = []
    for row, p in design.iterrows():
        wins = p["culture.trust0"] > 0.6 and p["culture.procedures"] > 0.5
        for seed in seeds:
            luck = 0.02 * seed  # the same task stream for every regime of a seed
            for regime, value in (("heroic", 0.50), ("hierarchical", 0.55), ("distributed", 0.60 if wins else 0.45)):
                out.append({"job_dir": f"design_row={row},regime={regime},seed={seed}", "design_row": row,
                            "regime": regime, "seed": seed, "value_share": value + luck, "cfg.seed": seed,
                            "cfg.regime.name": regime, **{f"cfg.{k}": v for k, v in p.items()}})
    return pd.DataFrame(out), design


def test_prim_finds_the_box_where_distributed_wins():
    from analysis.discovery import discovery_cases, prim_boxes

    summary, design = region_summary()
    cases = discovery_cases(summary.sample(frac=1, random_state=1))
    assert cases.inputs == ["culture.trust0", "culture.procedures", "culture.purpose"]
    assert cases.moves_with == {"culture.trust0": ["culture.omega"]} and cases.incomplete == 0
    truth = (design["culture.trust0"] > 0.6) & (design["culture.procedures"] > 0.5)
    assert cases.wins == 2 * truth.sum() and len(cases.table) == 2 * len(design)

    found = prim_boxes(cases)
    chosen = found.points[found.points["chosen"]].set_index("box").loc[1]
    assert sorted(chosen["restricted"]) == ["culture.procedures", "culture.trust0"]
    limits = found.limits[(found.limits["box"] == 1) & (found.limits["point"] == chosen["point"])].set_index("key")
    assert limits.loc["culture.trust0", "lo"] == pytest.approx(0.6, abs=0.04)
    assert limits.loc["culture.procedures", "lo"] == pytest.approx(0.5, abs=0.04)
    assert limits["hi"].isna().all()  # only the lower sides are restricted
    assert chosen["density"] >= 0.95 and chosen["coverage"] >= 0.9
    # coverage and density are what the box's limits give on the cases
    t = cases.table
    inside = (t["culture.trust0"] >= limits.loc["culture.trust0", "lo"]) & \
        (t["culture.procedures"] >= limits.loc["culture.procedures", "lo"])
    assert chosen["n"] == inside.sum() and chosen["k"] == (inside & t["distributed_wins"]).sum()
    assert chosen["coverage"] == pytest.approx((inside & t["distributed_wins"]).sum() / cases.wins)
    assert chosen["density"] == pytest.approx((inside & t["distributed_wins"]).sum() / inside.sum())
    traj = found.trajectories[found.trajectories["box"] == 1]
    assert traj["point"].iloc[0] == 0 and traj["coverage"].iloc[0] == 1.0  # peeling starts from everything
    assert traj["density"].iloc[0] == pytest.approx(truth.mean())


def dial_summary() -> pd.DataFrame:
    """Two cells (turbulence 0 and 0.3) x five seeds. At turbulence 0 hierarchical has the better
    mean, but on seed 2 heroic beats distributed while distributed beats hierarchical; seed 3 is a
    plain loss, seed 4 lacks its heroic job, seed 5 is a tie. At 0.3 distributed always loses."""
    values = {1: (0.40, 0.60, 0.70), 2: (0.80, 0.60, 0.70), 3: (0.40, 0.75, 0.70), 4: (None, 0.60, 0.70),
              5: (0.40, 0.60, 0.60)}  # (heroic, hierarchical, distributed)
    rows = []
    for turbulence in (0.0, 0.3):
        for seed, triple in values.items():
            for regime, value in zip(("heroic", "hierarchical", "distributed"), triple):
                if value is None:
                    continue
                value = value - 0.5 * turbulence * (regime == "distributed")
                rows.append({"regime": regime, "seed": seed, "value_share": value, "cfg.seed": seed,
                             "cfg.regime.name": regime, "cfg.env.turbulence": turbulence, "cfg.n_members": 30})
    return pd.DataFrame(rows).sample(frac=1, random_state=2)  # pairing must not depend on row order


def test_discovery_cases_pair_by_seed_and_need_distributed_to_beat_every_central_regime():
    from analysis.discovery import discovery_cases

    summary = dial_summary()
    calm = summary[summary["cfg.env.turbulence"] == 0.0]
    means = calm.groupby("regime")["value_share"].mean()
    assert means["hierarchical"] > means["heroic"]  # the mean-best central regime is hierarchical
    cases = discovery_cases(summary)
    assert cases.inputs == ["env.turbulence"] and cases.central == ["heroic", "hierarchical"]
    assert cases.incomplete == 2  # seed 4 has no heroic job, in both cells
    t = cases.table[cases.table["env.turbulence"] == 0.0].set_index("seed")
    assert t.index.tolist() == [1, 2, 3, 5]
    assert t["distributed_wins"].tolist() == [True, False, False, False]  # seed 2: beats hierarchical, not heroic
    assert t["best_central"].tolist() == ["hierarchical", "heroic", "hierarchical", "hierarchical"]
    assert t["margin"].tolist() == pytest.approx([0.10, -0.10, -0.05, 0.0])  # seed 5: a tie is no win
    assert not cases.table[cases.table["env.turbulence"] == 0.3]["distributed_wins"].any()
    assert cases.wins == 1

    # hybrid is a central regime too when the sweep has it: on seed 1 it beats distributed
    hybrid = summary[summary["regime"] == "hierarchical"].assign(regime="hybrid", **{"cfg.regime.name": "hybrid"})
    hybrid.loc[hybrid["seed"] == 1, "value_share"] = 0.71
    with_hybrid = discovery_cases(pd.concat([summary, hybrid], ignore_index=True))
    assert with_hybrid.central == ["heroic", "hierarchical", "hybrid"] and with_hybrid.wins == 0


def test_report_has_scenario_discovery_for_a_design_or_swept_keys_only(tmp_path):
    design = morris_design(2)
    design.to_csv(tmp_path / "design.csv", index=False)
    sweeps = {name: tmp_path / name for name in ("design", "factorial", "plain", "dial")}
    for folder in sweeps.values():
        folder.mkdir()
    with_design = synthetic_design_summary(design).assign(steps=40, n_members=20)
    with_design["overrides"] = with_design["overrides"].str.replace("/nowhere.csv", str(tmp_path / "design.csv"))
    # distributed wins where purpose > 1/2: on this table's rows at purpose 1, not at 1/3
    with_design.loc[with_design["regime"] == "heroic", "value_share"] += 0.15
    with_design.to_parquet(sweeps["design"] / "summary.parquet")
    synthetic_summary().to_parquet(sweeps["factorial"] / "summary.parquet")
    synthetic_summary(turbulence=(0.0,), orgs=("flat",)).to_parquet(sweeps["plain"] / "summary.parquet")
    dial = synthetic_summary(turbulence=(0.02, 0.3), orgs=("flat",))  # the structure dial: hybrid only
    dial[dial["regime"] == "heroic"].assign(regime="hybrid").to_parquet(sweeps["dial"] / "summary.parquet")

    page = build_report(sweeps["design"]).read_text()
    assert "<h2>Scenario discovery</h2>" in page and "Boxes where distributed beats every central regime" in page
    assert "culture.purpose ≥ 0.667 (level 1)" in page and "8 of 28 cases" in page
    assert (sweeps["design"] / "figures" / "discovery.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<script" not in page and "http" not in page
    page = build_report(sweeps["factorial"]).read_text()
    assert "<h2>Scenario discovery</h2>" in page and "env.turbulence ≤ 0.1 (level 0)" in page
    page = build_report(sweeps["plain"]).read_text()
    assert "Scenario discovery" not in page and not (sweeps["plain"] / "figures" / "discovery.png").exists()
    page = build_report(sweeps["dial"]).read_text()
    assert "<h2>Scenario discovery</h2>" not in page and "scenario discovery skipped" in page


# --- the structure dial (analysis/dial.py) -----------------------------------------------------

def dial_curve_summary(curve, seeds=range(1, 11), noise=0.01, turbulence=(0.0,), rng_seed=3) -> pd.DataFrame:
    """Hybrid jobs along the dial 0, 0.1, ..., 1 whose mean curve is `curve(c, turbulence)`, each
    seed with its own offset and a little noise; plus heroic on the same seeds."""
    rng = np.random.default_rng(rng_seed)
    levels = np.round(np.linspace(0, 1, 11), 1)
    rows = []
    for turb in turbulence:
        for seed in seeds:
            offset = rng.normal(0, 0.02)
            for c in levels:
                value = curve(c, turb) + offset + rng.normal(0, noise)
                job = f"regime=hybrid,regime.centralisation={c},env.turbulence={turb},seed={seed}"
                rows.append({"job_dir": job, "overrides": job.replace(",", " "), "regime": "hybrid", "seed": seed,
                             "value_share": value, "cfg.seed": seed, "cfg.regime.name": "hybrid",
                             "cfg.regime.centralisation": c, "cfg.env.turbulence": turb})
            job = f"regime=heroic,env.turbulence={turb},seed={seed}"
            rows.append({"job_dir": job, "overrides": job.replace(",", " "), "regime": "heroic", "seed": seed,
                         "value_share": 0.5 + offset, "cfg.seed": seed, "cfg.regime.name": "heroic",
                         "cfg.regime.centralisation": np.nan, "cfg.env.turbulence": turb})
    return pd.DataFrame(rows)


def test_peak_location_finds_a_known_interior_peak_and_follows_it():
    from analysis.dial import peak_location

    # an inverted U whose peak moves from 0.7 (calm) to 0.3 (turbulent)
    summary = dial_curve_summary(lambda c, t: 0.8 - 2.0 * (c - (0.7 - 2 * t)) ** 2, turbulence=(0.0, 0.2))
    peaks = peak_location(summary, "value_share", n_boot=500).set_index("cfg.env.turbulence")
    assert list(peaks.index) == [0.0, 0.2]
    assert peaks.loc[0.0, "peak"] == pytest.approx(0.7) and peaks.loc[0.2, "peak"] == pytest.approx(0.3)
    for t, true in ((0.0, 0.7), (0.2, 0.3)):
        assert peaks.loc[t, "peak_lo"] <= true <= peaks.loc[t, "peak_hi"]
        assert peaks.loc[t, "peak_hi"] - peaks.loc[t, "peak_lo"] <= 0.2 + 1e-9
        assert peaks.loc[t, "share_interior"] == pytest.approx(1.0)
        assert peaks.loc[t, "curvature_hi"] < 0  # bends down
    assert (peaks["seeds"] == 10).all() and (peaks["levels"] == 11).all()


def test_peak_location_of_a_flat_curve_has_a_wide_interval():
    from analysis.dial import peak_location

    peaks = peak_location(dial_curve_summary(lambda c, t: 0.8, noise=0.01), "value_share", n_boot=500).iloc[0]
    assert peaks["peak_hi"] - peaks["peak_lo"] >= 0.6
    assert peaks["curvature_lo"] < 0 < peaks["curvature_hi"]
    # an exactly flat curve (no noise, no seed offsets) has every level tied: no level is favoured
    exact = dial_curve_summary(lambda c, t: 0.8, noise=0.0)
    exact["value_share"] = 0.8
    p = peak_location(exact, "value_share", n_boot=500).iloc[0]
    assert p["peak_lo"] <= 0.1 and p["peak_hi"] >= 0.9


def test_peak_location_of_a_monotone_curve_sits_at_the_end():
    from analysis.dial import peak_location

    p = peak_location(dial_curve_summary(lambda c, t: 0.7 + 0.1 * c), "value_share", n_boot=500).iloc[0]
    assert p["peak"] == 1.0 and p["share_at_max"] > 0.95 and p["share_interior"] < 0.05


def test_dial_ends_become_the_pure_regimes_for_the_comparisons():
    from analysis.dial import as_regimes, has_dial

    summary = dial_curve_summary(lambda c, t: 0.8 - (c - 0.5) ** 2)
    assert has_dial(summary) and not has_dial(summary[summary["cfg.regime.centralisation"].isin([0.0, 1.0])])
    regimes = as_regimes(summary)
    assert sorted(regimes["regime"].unique()) == ["distributed", "heroic", "hierarchical"]
    assert len(regimes) == 30 and "cfg.regime.centralisation" not in regimes
    assert stats.sweep_dimensions(regimes) == ["regime"]


def test_report_on_a_dial_sweep_has_the_peak_table_and_figures(tmp_path):
    summary = dial_curve_summary(lambda c, t: 0.8 - 2.0 * (c - (0.7 - 2 * t)) ** 2, turbulence=(0.0, 0.2))
    summary["steps"], summary["n_members"] = 500, 200
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    summary.to_parquet(sweep / "summary.parquet")
    out = build_report(sweep, tmp_path / "report.html")
    page = out.read_text()
    assert "The structure dial" in page and "Where performance peaks along the structure dial" in page
    assert (tmp_path / "figures" / "dial_value_share.png").is_file()
    assert (tmp_path / "figures" / "dial_peak.png").is_file()

"""The workshop kit: every scenario preset builds and runs headless (through sim.scenarios and the
command line), and the guide's figures, numbers and handout regenerate from real runs."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import leadsim_command
from sim import scenarios
from sim.model import LeadershipModel

ROOT = Path(__file__).resolve().parents[1]
WORKSHOP = ROOT / "docs" / "workshop"
WORKSHOP_PRESETS = {"hero_leaves", "turbulent_market", "burnout", "building_the_network",
                    "controlled_vs_autonomous", "four_keys"}
PNG = b"\x89PNG\r\n\x1a\n"




@pytest.fixture(scope="module")
def make_figures():
    spec = importlib.util.spec_from_file_location("make_figures", WORKSHOP / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_workshop_presets_exist_with_their_prompts_and_variants():
    assert WORKSHOP_PRESETS <= set(scenarios.names())
    for scn in scenarios.all_scenarios():
        assert scn.title and scn.description and scn.predict and scn.watch, scn.name
        labels = [label for label, _ in scn.variants]
        assert len(labels) >= 2 and len(set(labels)) == len(labels), scn.name
        raw = (scenarios.SCENARIO_DIR / f"{scn.name}.yaml").read_text()
        assert raw.startswith("# @package _global_") and "defaults" not in yaml.safe_load(raw), scn.name


def test_every_preset_and_variant_builds_and_runs_headless(make_figures):
    for scn in scenarios.all_scenarios():
        for label in ["base"] + [label for label, _ in scn.variants]:
            params = make_figures.scenario_params(scn, label, members=40, steps=60)
            model = LeadershipModel(seed=1, **params)
            model.run_for(60)
            last = model.metrics().iloc[-1]
            assert len(model.metrics()) == 61, (scn.name, label)
            assert last["arrived_total"] == last["open"] + last["active"] + last["done_total"] + last["failed_total"]
            assert 0 <= model.summary()["completion_rate"] <= 1, (scn.name, label)


def test_events_move_in_proportion_when_a_run_is_shortened(make_figures):
    assert make_figures.rescale_events(["leader_leaves@150", "hire@200:20"], 400, 60) == [
        "leader_leaves@22", "hire@30:20"]


def test_a_preset_runs_through_the_command_line(tmp_path):
    run_dir = tmp_path / "cli"
    proc = subprocess.run(leadsim_command() + ["+scenario=controlled_vs_autonomous", "n_members=30", "steps=40",
                                               "progress=false", f"hydra.run.dir={run_dir}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())
    assert resolved["env"]["complexity"] == 3.0 and resolved["org"]["name"] == "hierarchy"
    assert resolved["scenario"]["title"] == "Controlled vs autonomous motivation"
    labels = [v["label"] for v in resolved["scenario"]["variants"]]
    summary = pd.read_csv(run_dir / "summary.csv")
    assert summary["run"].tolist() == labels  # the preset's own variants, side by side
    assert summary["value_arrived"].nunique() == 1  # one seed: the same task stream for every variant


def test_the_guide_regenerates_from_real_runs(make_figures, tmp_path):
    for page in WORKSHOP.glob("*.md"):  # copies of the guide, to check that their blocks are rewritten
        shutil.copy(page, tmp_path / page.name)
    assert make_figures.main(["--members", "40", "--steps", "60", "--seeds", "2", "--out", str(tmp_path)]) == 0

    for name in make_figures.SPECS:
        image = tmp_path / "figures" / f"{name}.png"
        assert image.read_bytes().startswith(PNG), name
        assert matplotlib.image.imread(image).shape[0] > 100
    numbers = json.loads((tmp_path / "figures" / "numbers.json").read_text())
    assert set(numbers) == set(make_figures.SPECS)
    for name, entry in numbers.items():
        assert entry["size"]["members"] == 40 and entry["contrasts"] and entry["table"], name
        assert len(entry["runs"]) == 2 * len(entry["table"]), name  # every variant on both seeds
    assert (tmp_path / "figures" / "numbers.md").read_text().count("| variant |") == len(make_figures.SPECS)

    html = (tmp_path / "handout.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(embedded) == len(make_figures.HANDOUT_ORDER)
    assert all(base64.b64decode(data).startswith(PNG) for data in embedded)
    assert "four conditions" in html.lower() and "self-determination" in html.lower()

    for name in list(make_figures.SPECS) + ["overview"]:
        blocks = [_block(p.read_text(), name) for p in tmp_path.glob("*.md") if _block(p.read_text(), name) is not None]
        assert blocks and all("| " in b for b in blocks), f"no filled numbers:{name} block in the guide"
    assert "40 members, 60 steps" in (tmp_path / "05-four-keys.md").read_text()


def test_the_committed_guide_quotes_generated_numbers_and_existing_figures():
    pages = {p.name: p.read_text() for p in WORKSHOP.glob("*.md")}
    for text in pages.values():
        for image in re.findall(r"\]\((figures/[^)]+\.png)\)", text):
            assert (WORKSHOP / image).is_file(), image
        for name in re.findall(r"^<!-- numbers:(\w+):start -->$", text, re.M):
            assert _block(text, name).strip(), f"empty numbers:{name} block: run docs/workshop/make_figures.py"
    assert (WORKSHOP / "handout.html").read_text().count("data:image/png;base64,") >= 4
    links = re.findall(r"\]\(([\w-]+\.md)\)", pages["README.md"])
    assert set(links) >= {"01-hero-leaves.md", "06-turbulent-market.md"} and all(link in pages for link in links)


def _block(text: str, name: str):
    found = re.search(rf"<!-- numbers:{name}:start -->\n(.*?)<!-- numbers:{name}:end -->", text, re.S)
    return found.group(1) if found else None


def test_paired_contrasts_are_differences_per_seed(make_figures):
    import pandas as pd

    runs = pd.DataFrame({"variant": ["a", "a", "b", "b"], "seed": [1, 2, 1, 2], "value_share": [0.5, 0.7, 0.4, 0.5]})
    c = make_figures.contrast(runs, "value_share", {"a": 1, "b": -1})
    assert np.allclose(c["per_seed"], [0.1, 0.2]) and c["positive"] == 2 and np.isclose(c["mean"], 0.15)

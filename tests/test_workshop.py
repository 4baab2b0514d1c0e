"""The workshop kit: every scenario preset builds and runs headless (through sim.scenarios and the
command line), and the guide's figures, numbers and handout regenerate from real runs."""

from __future__ import annotations

import base64
import html
import importlib.util
import json
import os
import re
import shutil
import socket
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
            params = make_figures.scenario_params(scn, label, members=40, steps=120)
            model = LeadershipModel(seed=1, **params)
            model.run_for(120)  # beyond patience (80): the completion rate counts tasks that could end
            last = model.metrics().iloc[-1]
            assert len(model.metrics()) == 121, (scn.name, label)
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

    after = (tmp_path / "handout-after.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', after)
    assert len(embedded) == len(make_figures.HANDOUT_ORDER)
    assert all(base64.b64decode(data).startswith(PNG) for data in embedded)
    before = (tmp_path / "handout-before.html").read_text()
    assert "four conditions" in before.lower() and "self-determination" in before.lower()
    assert _result_numbers(before) == [] and "data:image" not in before
    for scn in scenarios.all_scenarios():  # every exercise's question, with a box to write in
        assert html.escape(scn.predict) in before, scn.name
    assert before.count('class="write"') == len(scenarios.names())

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
    assert (WORKSHOP / "handout-after.html").read_text().count("data:image/png;base64,") >= 4
    assert not (WORKSHOP / "handout.html").exists()  # one sheet before, one after: never the answers first
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


# ----- the two printed sheets: before the session no result, after it the results; both A4 ----------

def _visible_text(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", page, flags=re.S))


def _result_numbers(page: str) -> list[str]:
    """Numbers as the results are written (0.787, 13.3%, +0.45, 54%): any decimal or percentage."""
    return re.findall(r"\d+(?:\.\d+)?\s*%|\d*\.\d+", _visible_text(page))


def test_the_pre_session_sheet_gives_no_result_away():
    before = (WORKSHOP / "handout-before.html").read_text(encoding="utf-8")
    assert _result_numbers(before) == [], "the pre-session sheet quotes a result"
    assert "data:image" not in before  # the figures are results
    numbers = json.loads((WORKSHOP / "figures" / "numbers.json").read_text())
    quoted = {c["text"] for entry in numbers.values() for c in entry["contrasts"]}
    assert not [text for text in quoted if text in _visible_text(before)]
    after = (WORKSHOP / "handout-after.html").read_text(encoding="utf-8")
    assert len(_result_numbers(after)) > 20  # ... which the post-session sheet has (and the test can see)


def test_both_sheets_declare_a4_and_print_on_a4_pages(tmp_path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    for name, pages in (("handout-before.html", 2), ("handout-after.html", 1)):
        sheet = WORKSHOP / name
        assert re.search(r"@page\s*\{\s*size:\s*A4\b", sheet.read_text(encoding="utf-8")), name
        pdf = tmp_path / f"{name}.pdf"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", sheet.as_uri()], capture_output=True, timeout=120, check=True)
        data = pdf.read_bytes()
        assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == pages, name
        sizes = {tuple(round(float(x)) for x in box.split()[2:])
                 for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)}
        assert sizes == {(595, 842)}, (name, sizes)  # A4 in points


def test_the_pre_session_sheet_asks_the_exercises_in_the_session_plans_order(make_figures):
    before = (WORKSHOP / "handout-before.html").read_text(encoding="utf-8")
    asked = re.findall(r"<h2>Exercise (\d): ", before)
    planned, spares = make_figures.session_plan(make_figures.exercise_pages())
    assert asked == ["1", "2", "3", "5", "6", "4"] and spares == ["building_the_network"]
    assert planned == ["hero_leaves", "burnout", "controlled_vs_autonomous", "four_keys", "turbulent_market"]


# ----- the facilitator's pre-flight check: `leadsim-viz --check` ---------------------------------------

@pytest.fixture(scope="module")
def preflight(tmp_path_factory):
    """`leadsim-viz --check` three times at once: here as it is, on a port another program holds,
    and with the page's front-end files missing."""
    empty = tmp_path_factory.mktemp("no-front-end-files")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLARA_ASSETS")}
    with socket.socket() as taken, socket.socket() as probe:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
        probe.close()
        runs = {"ready": (["--port", str(free)], env),
                "port-taken": (["--port", str(taken.getsockname()[1])], env),
                "no-front-end-files": (["--port", str(free)], {**env, "SOLARA_ASSETS_PROXY_CACHE_DIR": str(empty)})}
        procs = {name: subprocess.Popen(leadsim_command("leadsim-viz") + ["--check"] + args, cwd=ROOT, env=e,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name, (args, e) in runs.items()}
        results = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=300)
            results[name] = dict(rc=proc.returncode, out=out, err=err, port=runs[name][0][1])
    return results


def test_the_preflight_check_passes_here_with_one_ok_line_per_check(preflight):
    r = preflight["ready"]
    assert r["rc"] == 0, r["out"] + r["err"]
    lines = r["out"].splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * 4, r["out"]
    for what in ("front-end files", "the page's code loads", "compiled engine: a model ran in",
                 f"port {r['port']} on 127.0.0.1 is free"):
        assert any(what in line for line in lines), what
    assert "FAIL" not in r["out"] and lines[-1].startswith("all checks passed")


def test_the_preflight_check_fails_on_a_taken_port_and_says_what_to_do(preflight):
    r = preflight["port-taken"]
    assert r["rc"] == 1
    failed = [line for line in r["out"].splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and f"port {r['port']} on 127.0.0.1 cannot be used" in failed[0]
    assert f"uv run leadsim-viz --port {int(r['port']) + 1}" in r["out"]


def test_the_preflight_check_fails_without_the_front_end_files_and_says_what_to_do(preflight):
    r = preflight["no-front-end-files"]
    assert r["rc"] == 1
    failed = [line for line in r["out"].splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and "front-end files (missing: " in failed[0] and "requirejs@" in failed[0]
    assert "uv sync --reinstall-package solara-assets" in r["out"]


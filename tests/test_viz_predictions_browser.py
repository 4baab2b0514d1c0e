"""Predict first, then check, in a real browser: the room's predictions in two scenarios are
checked when the run reaches the end of each question's window, the scorecard survives a reload
(it is kept by the browser's session cookie), and it downloads as CSV and as a printable page.

Served by the `leadsim-viz` command itself, with every request that leaves this computer blocked
(the fixtures of test_viz_browser.py); each wait is for a text or an element, never a sleep.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from test_viz_browser import (  # noqa: F401 - pytest fixtures, used by name
    LOAD_TIMEOUT,
    app,
    choose,
    context,
    header_step,
    server,
)


def step_to(page, target: int, letter: str = "a", per_click: int = 10):
    for step in range(per_click, target + 1, per_click):
        page.get_by_role("button", name="Step", exact=True).click()
        header_step(page, step, letter)


def test_predictions_in_two_scenarios_are_checked_and_the_scorecard_survives_a_reload(app):  # noqa: F811
    choose(app, "Steps per frame", "10")
    # 1. The hero leaves: a choice, checked at step 250 against the same runs without the departure
    choose(app, "Scenario", "The hero leaves")
    app.locator(".leadsim-question", has_text="loses the larger share of its value from step 150").wait_for()
    choose(app, "Your pick (highest)", "heroic")
    app.get_by_label("In the room's words (optional)").fill("the hero stalls")
    app.get_by_role("button", name="Lock in the prediction").click()
    app.locator(".leadsim-countdown", has_text="250 steps to go").wait_for()
    step_to(app, 250)
    outcome = app.locator(".leadsim-outcome")
    outcome.wait_for(timeout=LOAD_TIMEOUT)
    text = outcome.inner_text()
    assert "heroic. “the hero stalls”" in text and "Highest: heroic." in text and "✔ right" in text
    lost = dict(re.findall(r"(heroic|distributed) (−?\d+\.\d)%", text))
    assert float(lost["heroic"]) > float(lost["distributed"].replace("−", "-")) + 10

    # 2. The default market, one organisation: a number, the share of value captured by step 100
    choose(app, "Scenario", "Default market")
    app.get_by_role("button", name="single", exact=True).click()
    choose(app, "Leadership regime", "distributed: anyone may step up")
    app.locator(".leadsim-header", has_text="distributed leadership").first.wait_for()
    app.locator(".leadsim-question", has_text="What share of the value").wait_for()
    share = app.get_by_label("distributed (%)")
    share.fill("97")
    share.press("Tab")
    app.get_by_role("button", name="Lock in the prediction").click()
    app.locator(".leadsim-countdown", has_text="100 steps to go").wait_for()
    step_to(app, 100, letter="")
    app.locator(".leadsim-outcome", has_text="distributed 97%").wait_for(timeout=LOAD_TIMEOUT)
    verdict = app.locator(".leadsim-outcome .leadsim-verdict").inner_text()
    assert verdict in ("✔ right", "✘ wrong")

    # 3. A reload: a new page and run, the same browser session, the same scorecard
    app.reload()
    app.locator(".leadsim-network circle.member-0").wait_for(timeout=LOAD_TIMEOUT)
    bar = app.locator(".leadsim-scorecard-bar")
    bar.get_by_text(re.compile(r"Scorecard: 2 predictions: [12] right, [01] wrong, 0 not checked yet")).wait_for()
    app.get_by_role("button", name="Show the scorecard").click()
    rows = app.locator(".leadsim-scorecard .leadsim-scorecard-row")
    rows.nth(1).wait_for()
    assert rows.count() == 2
    assert "The hero leaves" in rows.nth(0).inner_text() and "Default market" in rows.nth(1).inner_text()

    # 4. The exports: a CSV with both rows, and a page to print
    with app.expect_download() as download:
        app.get_by_role("button", name="Scorecard (CSV)").click()
    assert download.value.suggested_filename == "leadsim-scorecard.csv"
    data = pd.read_csv(download.value.path(), dtype=str, keep_default_na=False)
    assert data["scenario"].tolist() == ["The hero leaves", "Default market"]
    assert data["prediction"].tolist() == ["heroic. “the hero stalls”", "distributed 97%"]
    assert data["result"][0] == "right" and data["result"][1] == verdict.split()[-1]
    assert data["made_at_step"].tolist() == ["0", "0"]
    assert "steps 150–250" in data["measured"][0] and "Highest: heroic." in data["outcome"][0]
    with app.expect_download() as download:
        app.get_by_role("button", name="Scorecard (printable)").click()
    assert download.value.suggested_filename == "leadsim-scorecard.html"
    page = Path(download.value.path()).read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "The hero leaves" in page and "Default market" in page

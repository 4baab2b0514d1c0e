"""The page in a real headless browser (Debian's chromium through Playwright), served by the
`leadsim-viz` command itself, with every request that leaves this computer blocked: the page must
load and work offline.

Refresh the README's screenshot (docs/img/page.png) with
`LEADSIM_UPDATE_SCREENSHOT=1 uv run pytest tests/test_viz_browser.py`; it is also written when
missing. Each wait is for a text or an element, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import require_chromium

SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "page.png"
LOAD_TIMEOUT = 90_000  # ms; the first page of a fresh machine waits for compiled kernels
TIMEOUT = 20_000

require_chromium()


@pytest.fixture(scope="module")
def context(browser):
    """One browser context for the module, so the page's scripts are fetched once and cached;
    every test still opens its own page, which gets its own session on the server."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    yield context
    context.close()


@pytest.fixture(scope="module")
def server():
    """`leadsim-viz` on a free port; yields its address once it says it is ready."""
    from sim.viz.launch import free_port

    port = free_port("127.0.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "sim.viz.launch", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log: list[str] = []
    ready = threading.Event()

    def read():
        for line in proc.stdout:
            log.append(line)
            if "ready:" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(120):
            pytest.fail("leadsim-viz did not start:\n" + "".join(log))
        assert f"http://127.0.0.1:{port}/" in "".join(log), "the command prints the page's address"
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not [line for line in log if "Traceback" in line], "".join(log)


@pytest.fixture
def app(context, server):
    """A fresh page (its own session on the server), with the internet cut off."""
    page = context.new_page()
    outside, failed = [], []

    def route(r):
        if r.request.url.startswith(server.rstrip("/")) or r.request.url.startswith("ws://127.0.0.1"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.set_default_timeout(TIMEOUT)
    page.goto(server)
    page.locator(".leadsim-network circle.member-0").wait_for(timeout=LOAD_TIMEOUT)
    yield page
    assert page.get_by_text("Traceback").count() == 0
    page.close()
    assert outside == [], f"the page asked for files from outside this computer: {outside}"
    assert failed == [], f"requests failed: {failed}"


def header_step(page, step: int, letter: str = ""):
    """Wait until the headline (of organisation A or B in compare mode) shows this step."""
    scope = f".leadsim-org-{letter} " if letter else ""
    page.locator(f"{scope}.leadsim-step", has_text=re.compile(rf"^step {step}$")).first.wait_for()


def choose(page, label: str, option: str):
    page.locator(".v-select", has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_page_loads_offline_with_the_network_and_the_plots(app):
    assert app.locator(".leadsim-network circle.member").count() == 200
    app.locator(".leadsim-header", has_text="distributed leadership").first.wait_for()
    app.locator(".leadsim-plot .bqplot").nth(5).wait_for()  # all six plots
    app.locator(".leadsim-plot .bqplot path.line").first.wait_for(state="attached")
    # hovering a member shows its details
    app.locator(".leadsim-network circle.member-5").hover()
    card = app.locator(".leadsim-member", has_text="Member 5")
    card.wait_for()
    assert all(word in card.inner_text() for word in ("autonomy", "skill", "energy", "tasks led"))
    # a picture for the README: 100 steps in, the same every run (ten steps a frame, ten Step clicks)
    choose(app, "Steps per frame", "10")
    for step in range(10, 101, 10):
        app.get_by_role("button", name="Step", exact=True).click()
        header_step(app, step)
    app.locator(".leadsim-network[data-step='100']").wait_for()
    app.mouse.move(0, 0)
    app.evaluate("document.activeElement && document.activeElement.blur()")
    shot = app.screenshot()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    if os.environ.get("LEADSIM_UPDATE_SCREENSHOT") or not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(shot)


def test_step_play_and_pause_advance_time_and_change_the_plots(app):
    line = app.locator(".leadsim-plot .bqplot path.line").nth(2)  # value captured, cumulative
    line.wait_for(state="attached")
    before = line.get_attribute("d")
    for step in (1, 2, 3):
        app.get_by_role("button", name="Step", exact=True).click()
        header_step(app, step)
    app.wait_for_function("([el, d]) => el.getAttribute('d') !== d", arg=[line.element_handle(), before])
    assert app.locator(".leadsim-network[data-step='3']").count() == 1
    app.get_by_role("button", name="Play", exact=True).click()
    app.wait_for_function("document.querySelector('.leadsim-network').dataset.step >= 8")
    app.get_by_role("button", name="Pause", exact=True).click()
    app.get_by_role("button", name="Play", exact=True).wait_for()
    paused = int(app.locator(".leadsim-network").get_attribute("data-step"))  # a frame may still land
    app.get_by_role("button", name="Step", exact=True).click()
    app.wait_for_function(f"document.querySelector('.leadsim-network').dataset.step > {paused}")


def test_changing_the_regime_rebuilds_the_model(app):
    app.get_by_role("button", name="Step", exact=True).click()
    header_step(app, 1)
    choose(app, "Leadership regime", "heroic: everything through member 0")
    app.locator(".leadsim-header", has_text="heroic leadership").first.wait_for()
    header_step(app, 0)


def test_the_leader_leaves_marks_member_0_gone(app):
    assert app.locator(".leadsim-network circle.member-0").get_attribute("data-status") == "idle"
    app.get_by_role("button", name="The leader leaves", exact=True).click()
    app.locator(".leadsim-network circle.member-0[data-status='gone']").wait_for(state="attached")
    app.locator(".leadsim-notice", has_text="Member 0, the designated leader, left").first.wait_for()
    app.locator(".leadsim-leader-status", has_text="gone").wait_for()


def test_compare_mode_shows_both_organisations(app):
    app.get_by_role("button", name="compare", exact=True).click()
    app.locator(".leadsim-org-a .leadsim-network").wait_for()
    app.locator(".leadsim-org-b .leadsim-network").wait_for()
    app.locator(".leadsim-org-a .leadsim-header", has_text="A: distributed").first.wait_for()
    app.locator(".leadsim-org-b .leadsim-header", has_text="B: heroic").first.wait_for()
    app.get_by_role("button", name="Step", exact=True).click()
    header_step(app, 1, "a")
    header_step(app, 1, "b")
    app.locator(".leadsim-difference", has_text=re.compile(r"distributed − heroic = [+-]\d")).first.wait_for()


def test_bad_settings_show_a_message_and_the_page_lives_on(app):
    members = app.get_by_label("Members")
    members.fill("1")
    members.press("Enter")
    app.locator(".leadsim-error", has_text="n_members = 1 is out of range").wait_for()
    assert app.get_by_role("button", name="Step", exact=True).is_disabled()
    members.fill("30")
    members.press("Enter")
    app.locator(".leadsim-error").wait_for(state="detached")
    app.locator(".leadsim-header", has_text="members 30").first.wait_for()
    app.get_by_role("button", name="Step", exact=True).click()
    header_step(app, 1)


def test_a_scenario_with_a_prediction_and_the_csv_export(app):
    choose(app, "Scenario", "The hero leaves")
    app.locator(".leadsim-scenario", has_text="Steve Jobs leaves the building").wait_for()
    app.locator(".leadsim-predict", has_text="Which organisation loses more value after step 150").wait_for()
    app.locator(".leadsim-org-a .leadsim-header", has_text="A: heroic").first.wait_for()
    app.locator(".leadsim-question", has_text="loses the larger share of its value from step 150").wait_for()
    app.get_by_label("In the room's words (optional)").fill("the hero stalls")
    choose(app, "Your pick (highest)", "distributed")
    app.get_by_role("button", name="Lock in the prediction").click()
    app.locator(".leadsim-locked", has_text="distributed. “the hero stalls”").wait_for()
    choose(app, "Steps per frame", "10")
    app.get_by_role("button", name="Step", exact=True).click()
    header_step(app, 10, "a")
    app.locator(".leadsim-countdown", has_text="240 steps to go").wait_for()  # checked: test_viz_predictions_browser.py
    with app.expect_download() as download:
        app.get_by_role("button", name="Metrics (CSV)").click()
    assert download.value.suggested_filename == "leadsim-hero_leaves.csv"
    data = pd.read_csv(download.value.path())
    assert list(data.columns[:2]) == ["organisation", "step"] and len(data) == 2 * 11
    assert set(data["organisation"]) == {"heroic", "distributed"} and data["step"].max() == 10
    app.get_by_role("button", name="Charts (PNG)").wait_for()  # its bytes: test_viz_logic.py


def test_page_works_through_the_lan_address_with_its_token(browser):
    """`--host 0.0.0.0`: the printed LAN address and token open the page, whose files and
    websocket then pass the gate by the cookie; the bare address gets only a refusal."""
    from test_viz_security import Server

    server = Server("--host", "0.0.0.0")
    origin = f"http://{server.host}:{server.port}"
    context = browser.new_context()
    try:
        page = context.new_page()
        outside = []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(origin)
                   else (outside.append(r.request.url), r.abort()))
        assert page.goto(origin + "/").status == 403
        page.goto(server.address)
        page.locator(".leadsim-network circle.member-0").wait_for(timeout=LOAD_TIMEOUT)
        page.get_by_role("button", name="Step", exact=True).click()
        header_step(page, 1)
        assert outside == []
    finally:
        context.close()
        server.stop()


def expected_controls(scenario: str, variants: tuple[int, int] | None = None) -> dict:
    """What each control must show after loading `scenario` (and choosing these variants): the
    values the page's own organisations are built with, read from their models' configs."""
    from sim.config import flat_dict
    from sim.viz.controls import KNOBS, defaults, running_text
    from sim.viz.live import Session

    session = Session()
    session.choose_scenario(scenario, defaults())
    if variants is not None:
        session.update(variant_a=variants[0], variant_b=variants[1])
    running = [flat_dict(org.model.cfg) for org in session.orgs]
    shown = {}
    for knob in KNOBS:
        values = [r[knob.key] for r in running]
        setting = session.settings.values[knob.key]
        thumb = values[0] if all(v != setting for v in values) else setting
        shown[knob.key] = (running_text(values), thumb)
    return {"knobs": shown, "org": running[0]["org.name"], "members": running[0]["n_members"]}


def check_controls(page, expected: dict, where: str) -> None:
    from playwright.sync_api import expect

    from sim.viz.controls import ORG_LABELS

    for key, (text, thumb) in expected["knobs"].items():
        knob = page.locator(f".leadsim-knob-{key.replace('.', '-')}")
        expect(knob.locator(".leadsim-knob-value"), f"{where}: {key}").to_have_text(text)
        expect(knob.locator("[role=slider]"), f"{where}: {key} thumb").to_have_attribute(
            "aria-valuenow", f"{thumb:g}" if float(thumb) != int(thumb) else str(int(thumb)))
    expect(page.locator(".v-select", has_text="Org structure").first).to_contain_text(ORG_LABELS[expected["org"]])
    expect(page.get_by_label("Members")).to_have_value(str(expected["members"]))


def choose_in_open_menu(page, label: str, option: str):
    """`choose`, when several selects hold the same options: pick from the menu that is open."""
    page.locator(".menuable__content__active").wait_for(state="detached")  # the last menu has closed
    page.locator(".v-select", has_text=label).first.click()
    menu = page.locator(".menuable__content__active")
    menu.wait_for()
    menu.get_by_role("option", name=option, exact=True).click()


def test_every_scenario_and_variant_shows_the_values_the_model_runs_with(app):
    """Sliders once showed the values of the controls that stood in their place before a
    scenario with variant selects loaded (trust 1 and coordination cost 1 for The four keys)."""
    from sim.viz import scenarios

    for item in scenarios.menu():
        choose(app, "Scenario", item.title)
        app.locator(".leadsim-scenario", has_text=item.description[:40]).wait_for()
        check_controls(app, expected_controls(item.name), item.name)
        labels = [label for label, _ in item.variants]
        for i in range(len(labels) if len(labels) > 1 else 0):
            j = (i + 1) % len(labels)
            choose_in_open_menu(app, "Organisation A", labels[i])
            app.locator(".leadsim-org-a .leadsim-header", has_text=f"A: {labels[i]}").first.wait_for()
            choose_in_open_menu(app, "Organisation B", labels[j])
            app.locator(".leadsim-org-b .leadsim-header", has_text=f"B: {labels[j]}").first.wait_for()
            check_controls(app, expected_controls(item.name, (i, j)), f"{item.name}: {labels[i]} vs {labels[j]}")


IMG = SCREENSHOT.parent


def plot_titles(page) -> list[str]:
    return [t.strip() for t in page.locator(".leadsim-plot-title").all_inner_texts()]


def test_a_scenario_shows_its_plots_marks_its_event_and_pauses_before_it(app):
    from sim.viz.plots import chosen_panels
    from sim.viz.scenarios import by_name

    choose(app, "Scenario", "The hero leaves")
    app.locator(".leadsim-org-a .leadsim-header", has_text="A: heroic").first.wait_for()
    expected = [p.title for p in chosen_panels(by_name("hero_leaves").plots)]
    app.locator(".leadsim-plot-title", has_text=expected[-1]).first.wait_for()
    assert [t for t in plot_titles(app) if t in expected][:len(expected)] == expected
    # every time plot marks the event: the scenario's plots and the paired difference
    assert app.locator(".leadsim-marks", has_text="step 150: the leader leaves").count() == len(expected) + 1
    assert "This website runs on" not in app.inner_text("body")  # the banner once covered a plot
    choose(app, "Steps per frame", "10")
    app.get_by_role("button", name="Play", exact=True).click()
    app.locator(".leadsim-notice", has_text="Paused at step 149: in the next step, the leader leaves").wait_for()
    header_step(app, 149, "a")
    app.get_by_role("button", name="Play", exact=True).wait_for()  # paused, not playing
    if os.environ.get("LEADSIM_UPDATE_SCREENSHOT") or not (IMG / "scenario-event.png").exists():
        app.get_by_role("button", name="Step", exact=True).click()  # past the event: member 0 is gone
        header_step(app, 159, "a")
        app.mouse.move(0, 0)
        app.screenshot(path=str(IMG / "scenario-event.png"), full_page=True)


def test_hover_picks_the_member_whose_centre_is_nearest(app):
    circles = app.locator(".leadsim-network circle.member").evaluate_all(
        "cs => cs.map(c => [Number(c.getAttribute('cx')), Number(c.getAttribute('cy')), Number(c.getAttribute('r'))])")
    # a member whose centre lies inside a circle drawn after it (on top of it)
    covered = next((i, j) for i, (x, y, _) in enumerate(circles) for j in range(i + 1, len(circles))
                   if ((x - circles[j][0]) ** 2 + (y - circles[j][1]) ** 2) ** 0.5 < circles[j][2])
    i, j = covered
    box = app.locator(f".leadsim-network circle.member-{i}").bounding_box()
    app.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    app.locator(".leadsim-member", has_text=f"Member {i}").wait_for()
    assert f"Member {j}" not in app.locator(".leadsim-member").inner_text()


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_presentation_mode_fits_one_screen(browser, server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.set_default_timeout(TIMEOUT)
        page.goto(server)
        page.locator(".leadsim-network circle.member-0").wait_for(timeout=LOAD_TIMEOUT)
        choose(page, "Scenario", "The hero leaves")
        page.locator(".leadsim-org-a .leadsim-header", has_text="A: heroic").first.wait_for()
        page.get_by_role("button", name="Present").click()
        page.locator(".leadsim-present").wait_for()
        assert page.locator(".leadsim-settings").count() == 0  # the settings collapse to the bar
        choose(page, "Steps per frame", "10")
        page.get_by_role("button", name="Play", exact=True).click()
        page.locator(".leadsim-notice", has_text="Paused at step 149").wait_for()
        page.mouse.move(0, 0)
        parts = [page.locator(".leadsim-org-a .leadsim-network"), page.locator(".leadsim-org-b .leadsim-network"),
                 page.locator(".leadsim-difference").first, *[p for p in page.locator(".leadsim-plot .bqplot").all()]]
        assert len(parts) >= 5  # both organisations, the paired difference and two plots
        for part in parts:
            box = part.bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= height + 1, (part, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (part, box)
        assert page.evaluate("document.scrollingElement.scrollHeight") <= height + 2
        shot = IMG / f"presentation-{width}x{height}.png"
        if os.environ.get("LEADSIM_UPDATE_SCREENSHOT") or not shot.exists():
            page.screenshot(path=str(shot))
    finally:
        context.close()

"""The page as a widget tree, without a browser (solara.render): buttons, selects and sliders
drive the drawing, the plots and the messages."""

from __future__ import annotations

import bqplot
import ipyvuetify as v
import pytest
import solara
from solara.components.file_drop import FileDropZone

from sim.viz.app import Cadence, Page
from sim.viz.controls import REGIME_LABELS
from sim.viz.live import Settings
from sim.viz.network import NetworkCanvas


@pytest.fixture
def rendered():
    box, rc = solara.render(Page(Settings(n_members=40)), handle_error=False)
    yield rc
    box.close()


def button(rc, text):
    return next(w for w in rc.find(v.Btn).widgets if text in w.children)


def select(rc, label):
    return next(w for w in rc.find(v.Select).widgets if w.label == label)


def html(rc) -> str:
    return "\n".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def canvases(rc):
    return rc.find(NetworkCanvas).widgets


def test_page_draws_the_network_and_six_plots(rendered):
    (canvas,) = canvases(rendered)
    assert len(canvas.status) == 40 and canvas.status[0] == "i" and canvas.step == 0
    assert len(canvas.xs.split(",")) == 40 and canvas.ties
    assert len(rendered.find(bqplot.Figure).widgets) == 6
    assert "distributed leadership" in html(rendered)


def test_step_advances_the_drawing_and_the_plots(rendered):
    line = rendered.find(bqplot.Lines).widgets[0]
    assert len(line.x) == 1
    button(rendered, "Step").click()
    button(rendered, "Step").click()
    assert canvases(rendered)[0].step == 2
    assert len(rendered.find(bqplot.Lines).widgets[0].x) == 3
    assert "step 2" in html(rendered)


def test_changing_the_regime_rebuilds_the_model(rendered):
    button(rendered, "Step").click()
    select(rendered, "Leadership regime").v_model = REGIME_LABELS["heroic"]
    assert "heroic leadership" in html(rendered)
    assert canvases(rendered)[0].step == 0


def test_leader_leaves_button_marks_member_0_gone(rendered):
    button(rendered, "The leader leaves").click()
    assert canvases(rendered)[0].status[0] == "g"
    assert 'leadsim-leader-status">gone' in html(rendered)
    assert any("Member 0, the designated leader, left" in str(w.children) for w in rendered.find(v.Alert).widgets)


def test_switch_regime_button_switches_the_running_model(rendered):
    button(rendered, "Step").click()
    select(rendered, "Switch regime to").v_model = "heroic"
    button(rendered, "Switch to heroic").click()
    assert "distributed → heroic" in html(rendered)
    assert canvases(rendered)[0].step == 1, "a live switch keeps the run going"


def test_compare_mode_shows_two_organisations_and_their_difference(rendered):
    rendered.find(v.BtnToggle).widget.v_model = 1  # the "compare" toggle
    a, b = canvases(rendered)
    assert a.xs == b.xs, "the same organisation, drawn the same way"
    button(rendered, "Step").click()
    assert [c.step for c in canvases(rendered)] == [1, 1]
    text = html(rendered)
    assert "A: distributed" in text and "B: heroic" in text
    assert "Paired difference in value captured: distributed − heroic" in text
    assert len(rendered.find(bqplot.Figure).widgets) == 7


def test_hovering_a_member_shows_its_details(rendered):
    canvases(rendered)[0].hovered = 3
    text = html(rendered)
    assert "Member 3" in text and "autonomy" in text and "tasks led" in text and "energy" in text


def test_bad_slider_combination_shows_a_message_and_stops_stepping(rendered):
    slider = next(w for w in rendered.find(v.Slider).widgets if "env-complexity" in w.class_)
    slider.fire_event("change", 6.0)
    (alert,) = [w for w in rendered.find(v.Alert).widgets if "leadsim-error" in (w.class_ or "")]
    message = str(alert.children)
    assert "env.complexity = 6.0 is out of range" in message and "Traceback" not in message
    assert button(rendered, "Step").disabled and button(rendered, "Play").disabled
    slider.fire_event("change", 3.0)
    assert not [w for w in rendered.find(v.Alert).widgets if "leadsim-error" in (w.class_ or "")]
    assert not button(rendered, "Step").disabled


def test_org_from_a_file_takes_an_upload_and_no_server_path(rendered):
    select(rendered, "Org structure").v_model = "from a file (GraphML or edge list)"
    assert not [w for w in rendered.find(v.TextField).widgets if "chart" in (w.label or "").lower()], \
        "no field takes a path on the server"
    alerts = [str(w.children) for w in rendered.find(v.Alert).widgets]
    assert any("drop a GraphML or edge-list chart" in a for a in alerts), alerts
    (drop,) = rendered.find(FileDropZone).widgets
    assert drop.label.startswith("Drop a GraphML or edge-list chart here")


def test_scenario_with_variants_opens_compare_mode(rendered):
    select(rendered, "Scenario").v_model = "The hero leaves"
    text = html(rendered)
    assert "A: heroic" in text and "B: distributed" in text and "Predict first" in text
    assert select(rendered, "Org structure").v_model.startswith("hierarchy")


def test_prediction_box_locks_in_the_scenarios_checked_question_and_counts_down(rendered, monkeypatch):
    from sim.viz import scorecard

    monkeypatch.setattr(scorecard, "STORE", scorecard.Store())  # this test's own scorecard
    select(rendered, "Scenario").v_model = "The hero leaves"
    assert "Predict first" in html(rendered) and "leadsim-outcome" not in html(rendered)
    assert "Which organisation loses the larger share of its value from step 150" in html(rendered)
    field = next(w for w in rendered.find(v.TextField).widgets if w.label == "In the room's words (optional)")
    field.v_model = "the hero stalls"
    select(rendered, "Your pick (highest)").v_model = "distributed"
    button(rendered, "Lock in the prediction").click()
    select(rendered, "Steps per frame").v_model = 10
    button(rendered, "Step").click()
    text = html(rendered)
    assert "distributed. “the hero stalls”" in text and "240 steps to go" in text and "leadsim-outcome" not in text
    select(rendered, "Scenario").v_model = "Default market"  # another scenario: its own question
    assert "loses the larger share" not in html(rendered) and "steps to go" not in html(rendered)
    select(rendered, "Scenario").v_model = "The hero leaves"  # back: the locked prediction waits
    assert "distributed. “the hero stalls”" in html(rendered) and "250 steps to go" in html(rendered)


def test_play_keeps_a_fixed_cadence_and_makes_up_late_frames_without_a_burst():
    now = [0.0]
    cadence = Cadence(0.1, catch_up=3, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    starts = []

    def frame(cost):
        starts.append(round(now[0], 3))
        now[0] += cost
        cadence.wait()

    for cost in (0.03, 0.25, 0.03, 0.03, 0.03):  # the second frame runs 150 ms late
        frame(cost)
    assert starts == [0.0, 0.1, 0.35, 0.38, 0.41]  # the next ones start at once until on time again
    frame(0.03)
    assert starts[-1] == 0.5
    frame(0.6)  # a stall of more than three frames
    for cost in (0.03, 0.03):
        frame(cost)
    assert starts[-3:] == [0.6, 1.2, 1.3]  # starts afresh: no rush through the frames missed

"""Predict first, then check the question the exercise asks: each scenario's `prediction:` block
(through sim.scenarios and the Hydra schema), the measures and checks of sim/viz/predictions.py,
the room's scorecard (sim/viz/scorecard.py), and the prediction box as a widget tree."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import threading
import time
from datetime import datetime

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
import yaml

from sim import scenarios as presets
from sim.config import ConfigError
from sim.model import LeadershipModel
from sim.scenarios import Prediction, PredictionOption
from sim.viz import predictions, scorecard
from sim.viz import scenarios as viz_scenarios
from sim.viz.controls import defaults
from sim.viz.live import Session, Settings
from sim.viz.predictions import Guess, Verdict

SMALL = {"n_members": 40}


def spec(kind="choice", measure="value_share", window=(1, 30), labels=("a", "b"), pick="higher", tolerance=None,
         baselines=None) -> Prediction:
    options = tuple(PredictionOption(label=label, variant=label, baseline=(baselines or {}).get(label, ""))
                    for label in labels)
    return Prediction(question="q?", measure=measure, window=window, kind=kind, options=options, pick=pick,
                      tolerance=tolerance)


def frame(steps, **columns) -> pd.DataFrame:
    return pd.DataFrame({"step": np.arange(steps + 1), **{k: np.asarray(v, dtype=float) for k, v in columns.items()}})


# ----- the scenarios declare what is predicted ------------------------------------------------
def test_every_workshop_preset_declares_a_prediction_the_page_can_check():
    kinds = set()
    for scn in presets.all_scenarios():
        p = scn.prediction
        assert p is not None, scn.name
        assert p.measure in predictions.MEASURES, scn.name
        first, last = p.window
        assert 0 <= first < last <= scn.params["steps"], scn.name
        labels = [label for label, _ in scn.variants]
        assert all(o.variant in labels and (not o.baseline or o.baseline in labels) for o in p.options), scn.name
        kinds.add(p.kind)
    assert kinds == {"number", "choice", "ranking"}


def test_each_exercise_checks_the_measure_its_page_asks_about():
    asked = {name: (presets.load(name).prediction.measure, presets.load(name).prediction.kind)
             for name in presets.names()}
    assert asked == {
        "hero_leaves": ("value_lost_after_event", "choice"),
        "burnout": ("time_lost_to_burnout", "choice"),
        "controlled_vs_autonomous": ("mean_autonomy_at_end", "number"),
        "building_the_network": ("value_share", "ranking"),
        "four_keys": ("value_share", "ranking"),
        "turbulent_market": ("value_share", "choice"),
    }
    turbulent = presets.load("turbulent_market").prediction
    first = turbulent.options[0]
    assert (first.variant, first.baseline) == ("hierarchical · turbulent", "hierarchical · calm")


def test_the_hydra_schema_types_each_presets_prediction():
    from hydra import compose, initialize_config_dir

    from sim import cli

    with initialize_config_dir(config_dir=cli.CONFIG_DIR, version_base="1.3"):
        for name in presets.names():
            node = compose("config", overrides=[f"+scenario={name}"]).scenario.prediction
            parsed = presets.load(name).prediction
            assert (node.measure, node.kind, tuple(node.window), node.pick) == (
                parsed.measure, parsed.kind, parsed.window, parsed.pick), name
            raw = yaml.safe_load((presets.SCENARIO_DIR / f"{name}.yaml").read_text())["scenario"]["prediction"]
            assert [o.variant for o in node.options] == [o["variant"] for o in raw.get("options", [])], name
        with pytest.raises(Exception, match="tolerance"):
            compose("config", overrides=["+scenario=controlled_vs_autonomous", "scenario.prediction.tolerance=abc"])
        with pytest.raises(Exception, match="windw"):
            compose("config", overrides=["+scenario=hero_leaves", "scenario.prediction.windw=[1,2]"])


@pytest.mark.parametrize("change, key", [
    ({"kind": "guess"}, "prediction.kind"),
    ({"pick": "best"}, "prediction.pick"),
    ({"window": [250, 150]}, "prediction.window"),
    ({"window": [1, 900]}, "prediction.window"),
    ({"question": " "}, "prediction.question"),
    ({"options": [{"variant": "heroic"}, {"variant": "charismatic"}]}, "prediction.options[1].variant"),
    ({"options": [{"variant": "heroic", "baseline": "nobody"}, {"variant": "distributed"}]},
     "prediction.options[0].baseline"),
    ({"kind": "number"}, "prediction.tolerance"),
    ({"kind": "ranking"}, "prediction.options"),
    ({"options": [{"variant": "heroic", "label": "x"}, {"variant": "distributed", "label": "x"}]},
     "prediction.options"),
])
def test_a_bad_prediction_block_fails_naming_its_key(change, key):
    raw = {"question": "Who loses more?", "measure": "value_share", "window": [150, 250], "kind": "choice", **change}
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        presets.parse_prediction(raw, ["heroic", "distributed"], steps=400, where="scenario test")


def test_a_prediction_without_options_asks_about_every_variant():
    parsed = presets.parse_prediction({"question": "Who?", "measure": "value_share", "window": [1, 10],
                                       "kind": "choice"}, ["heroic", "distributed"], steps=400)
    assert [(o.label, o.variant, o.baseline) for o in parsed.options] == [("heroic", "heroic", ""),
                                                                        ("distributed", "distributed", "")]
    assert presets.parse_prediction(None, ["heroic"]) is None


# ----- measures from the per-step observables -------------------------------------------------
def test_value_share_counts_only_the_steps_of_the_window():
    m = frame(4, value_arrived=[0, 10, 10, 10, 10], value_captured=[0, 10, 0, 5, 10])
    assert predictions.value_share(m, None, 2, 3) == pytest.approx(5 / 20)
    assert predictions.value_share(m, None, 1, 4) == pytest.approx(25 / 40)


def test_value_lost_after_an_event_is_the_share_lost_against_the_same_run_without_it():
    arrived = [0] + [2.0] * 20
    twin = frame(20, value_captured=[0] + [2.0] * 20, value_arrived=arrived)
    run = frame(20, value_captured=[0] + [2.0] * 9 + [0.5] * 11, value_arrived=arrived)  # a quarter from step 10
    lost = predictions.value_lost_after_event(run, twin, 10, 20)
    assert lost == pytest.approx((11 * 1.5) / (11 * 2.0))
    assert predictions.value_lost_after_event(run, twin, 10, 15) == pytest.approx(0.75)


def test_the_event_measure_agrees_with_the_models_own_event_impact():
    params = dict(n_members=40, regime="heroic", org="hierarchy", seed=2, steps=60,
                  events={"schedule": ["leader_leaves@30"]})
    model = LeadershipModel(engine="numba", **params)
    model.run_for(60)
    (impact,) = model.event_impacts()
    metrics = model.metrics()
    twin = predictions.run_metrics(predictions.without_events(params), 60)
    kept = metrics.loc[metrics["step"] >= 30, "value_captured"].sum()
    assert impact["value_lost"] > 0
    assert predictions.value_lost_after_event(metrics, twin, 30, 60) == pytest.approx(
        impact["value_lost"] / (kept + impact["value_lost"]))
    expected = impact["steps_to_recover"]
    got = predictions.steps_to_recover(metrics, twin, 30, 60)
    assert got == (math.inf if math.isnan(expected) else expected)


def test_steps_to_recover_is_infinite_when_the_run_is_not_back_by_the_end_of_the_window():
    twin = frame(100, value_captured=[0] + [2.0] * 100, value_arrived=[0] + [2.0] * 100)
    run = frame(100, value_captured=[0] + [2.0] * 49 + [0.0] * 51, value_arrived=[0] + [2.0] * 100)
    assert predictions.steps_to_recover(run, twin, 50, 100) == math.inf
    assert predictions.fmt(spec(measure="steps_to_recover", window=(50, 100)), math.inf) == "not back by step 100"


def test_time_lost_to_burnout_is_the_mean_share_recovering_in_the_window():
    m = frame(4, share_recovering=[0.9, 0.1, 0.2, 0.3, 0.9])
    assert predictions.time_lost_to_burnout(m, None, 1, 3) == pytest.approx(0.2)


def test_an_end_measure_reads_the_last_step_of_the_window():
    m = frame(4, mean_autonomy=[0.5, 0.4, 0.3, 0.2, 0.1])
    assert predictions.MEASURES["mean_autonomy_at_end"].compute(m, None, 1, 3) == pytest.approx(0.2)
    assert predictions.window_text(spec(measure="mean_autonomy_at_end", window=(1, 3))) == "at step 3"


# ----- the room's guess against the outcome ---------------------------------------------------
def test_a_choice_is_right_when_the_room_picked_the_option_that_scores_highest():
    s = spec(labels=("heroic", "distributed", "hierarchical"))
    values = {"heroic": 0.35, "distributed": 0.02, "hierarchical": 0.10}
    right = predictions.check(s, Guess(choice="heroic"), values)
    assert right.right is True and right.error == ""
    assert "heroic 35.0%, distributed 2.0%, hierarchical 10.0%" in right.outcome and "Highest: heroic." in right.outcome
    wrong = predictions.check(s, Guess(choice="distributed"), values)
    assert wrong.right is False and wrong.error == "distributed came 3rd of 3"


def test_a_choice_of_the_lowest_change_finds_who_loses_most():
    s = spec(labels=("hierarchical", "distributed"), pick="lower", baselines={"hierarchical": "x", "distributed": "y"})
    values = {"hierarchical": -0.06, "distributed": -0.08}
    verdict = predictions.check(s, Guess(choice="distributed"), values)
    assert verdict.right is True and "Lowest: distributed." in verdict.outcome
    assert "hierarchical \u22126.0 points" in verdict.outcome and verdict.outcome.startswith("Change in share")


def test_a_number_is_right_when_every_option_is_within_the_tolerance():
    s = spec(kind="number", measure="mean_autonomy_at_end", labels=("controlling", "supportive"), tolerance=0.1)
    values = {"controlling": 0.30, "supportive": 0.74}
    assert predictions.check(s, Guess(numbers=(0.35, 0.7)), values).right is True
    off = predictions.check(s, Guess(numbers=(0.5, 0.7)), values)
    assert off.right is False and off.error == "controlling off by 0.20; supportive off by 0.04"


def test_a_number_of_a_share_is_typed_and_checked_in_percent():
    s = spec(kind="number", labels=("only",), tolerance=5.0)
    assert predictions.input_unit(s) == "%"
    assert predictions.check(s, Guess(numbers=(80.0,)), {"only": 0.77}).right is True
    wrong = predictions.check(s, Guess(numbers=(60.0,)), {"only": 0.77})
    assert wrong.right is False and wrong.error == "only off by 17.0 points"
    assert predictions.describe(s, Guess(numbers=(60.0,), words="a guess")) == "only 60%. \u201ca guess\u201d"


def test_a_ranking_is_right_only_in_full_order_and_counts_the_pairs_in_order():
    s = spec(kind="ranking", labels=("purpose", "contribution", "procedures", "infrastructure"))
    values = {"purpose": 0.69, "contribution": 0.73, "procedures": 0.72, "infrastructure": 0.74}
    exact = predictions.check(s, Guess(ranking=("infrastructure", "contribution", "procedures", "purpose")), values)
    assert exact.right is True and "In order: infrastructure > contribution > procedures > purpose." in exact.outcome
    swapped = predictions.check(s, Guess(ranking=("contribution", "infrastructure", "procedures", "purpose")),
                                values)
    assert swapped.right is False and swapped.error == "5 of 6 pairs in the right order"
    reversed_ = predictions.check(s, Guess(ranking=("purpose", "procedures", "contribution", "infrastructure")),
                                  values)
    assert reversed_.error == "0 of 6 pairs in the right order"


def test_an_outcome_that_cannot_be_measured_is_not_checked():
    verdict = predictions.check(spec(), Guess(choice="a"), {"a": math.nan, "b": 0.5})
    assert verdict.right is None and "could not be measured" in verdict.outcome


def test_a_guess_can_be_locked_in_only_when_it_answers_the_kind():
    assert not predictions.complete(spec(), Guess(words="only words"))
    assert predictions.complete(spec(), Guess(choice="b"))
    number = spec(kind="number", labels=("a", "b"), tolerance=1)
    assert not predictions.complete(number, Guess(numbers=(1.0, None)))
    assert predictions.complete(number, Guess(numbers=(1.0, 2.0)))
    ranking = spec(kind="ranking", labels=("a", "b", "c"))
    assert not predictions.complete(ranking, Guess(ranking=("a", "a", "c")))
    assert predictions.complete(ranking, Guess(ranking=("c", "a", "b")))


def test_a_market_without_a_declared_prediction_asks_about_the_value_share():
    market = viz_scenarios.by_name("default")
    pair = predictions.spec_for(market, ["distributed", "heroic"])
    assert (pair.kind, pair.measure, pair.window, [o.label for o in pair.options]) == (
        "choice", "value_share", (1, 100), ["distributed", "heroic"])
    one = predictions.spec_for(market, ["distributed"])
    assert one.kind == "number" and one.tolerance == 5.0


# ----- the runs a prediction is checked against -----------------------------------------------
def test_a_variant_run_for_the_check_is_the_run_the_page_shows_for_it():
    session = Session(Settings(**SMALL))
    session.choose_scenario("burnout", defaults())
    session.step(25)
    page = session.orgs[1]  # B: distributed · strained
    params = predictions.variant_params(session.settings, page.label)
    pd.testing.assert_frame_equal(predictions.run_metrics(params, 25), page.model.metrics())


def test_gather_reads_the_page_and_runs_every_other_variant_with_the_pages_settings():
    session = Session(Settings(**SMALL))
    session.choose_scenario("turbulent_market", defaults())
    session.set_value("env.task_rate", 0.02)  # a slider the side runs must take too
    session.step(30)
    s = dataclasses.replace(presets.load("turbulent_market").prediction, window=(1, 30))
    values = predictions.gather(s, session)
    scn = presets.load("turbulent_market")
    expected = {}
    for option in s.options:
        share = {}
        for variant in (option.variant, option.baseline):
            params = presets._merge(dict(scn.variants)[variant], {"n_members": 40, "env": {"task_rate": 0.02},
                                                                  "seed": 1})
            share[variant] = predictions.value_share(predictions.run_metrics(params, 30), None, 1, 30)
        expected[option.label] = share[option.variant] - share[option.baseline]
    assert values == pytest.approx(expected)
    assert len(set(values.values())) == 3


def test_gather_measures_an_event_against_the_same_run_without_it():
    session = Session(Settings(**SMALL))
    session.choose_scenario("hero_leaves", defaults())
    session.step(170)
    s = dataclasses.replace(presets.load("hero_leaves").prediction, window=(150, 170))
    values = predictions.gather(s, session)
    for org in session.orgs:
        twin = predictions.run_metrics(predictions.without_events(org.params), 170)
        assert values[org.label] == pytest.approx(
            predictions.value_lost_after_event(org.model.metrics(), twin, 150, 170))
    assert values["heroic"] > values["distributed"]


def test_a_check_for_a_scenario_the_page_has_left_waits_for_it():
    session = Session(Settings(**SMALL))
    session.choose_scenario("hero_leaves", defaults())
    session.step(3)
    s = dataclasses.replace(presets.load("hero_leaves").prediction, window=(1, 3))
    session.choose_scenario("burnout", defaults())
    with pytest.raises(predictions.Stale):
        predictions.gather(s, session, "hero_leaves")


# ----- the scorecard --------------------------------------------------------------------------
def row_fields():
    return dict(scenario="hero_leaves", title="The hero leaves", spec=spec(), guess=Guess(choice="a"), step=0)


def test_the_store_keeps_one_scorecard_per_browser_session_and_forgets_the_least_recent():
    store = scorecard.Store(max_sessions=2)
    first = store.get("cookie-1")
    first.add(**row_fields())
    assert store.get("cookie-1") is first and len(store.get("cookie-1").rows()) == 1
    assert store.get("cookie-2").rows() == []
    store.get("cookie-1")  # used again: now the most recent
    store.get("cookie-3")
    assert len(store) == 2 and store.get("cookie-1") is first
    assert "cookie-1" not in repr(store._cards), "the raw session id is kept nowhere"


def test_a_scorecard_keeps_its_newest_rows():
    card = scorecard.Scorecard(max_rows=3)
    for _ in range(5):
        card.add(**row_fields())
    assert [r.number for r in card.rows()] == [3, 4, 5]


def test_a_prediction_is_checked_once_even_when_two_tabs_reach_the_window():
    card = scorecard.Scorecard()
    row = card.add(**row_fields())
    claims = []
    threads = [threading.Thread(target=lambda: claims.append(card.claim(row.number))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(c is not None for c in claims) == 1
    card.settle(row.number, Verdict(True, "it happened", "", ()))
    (done,) = card.rows()
    assert done.status == scorecard.CHECKED and done.result == "right" and card.claim(row.number) is None


def test_a_withdrawn_prediction_leaves_the_scorecard_but_a_checked_one_stays():
    card = scorecard.Scorecard()
    pending, checked = card.add(**row_fields()), card.add(**row_fields())
    card.claim(checked.number)
    card.settle(checked.number, Verdict(False, "no", "", ()))
    assert card.withdraw(pending.number) and not card.withdraw(checked.number)
    assert [r.number for r in card.rows()] == [checked.number]


def test_the_csv_export_has_a_row_per_prediction_and_defuses_formulas():
    card = scorecard.Scorecard()
    first = card.add(scenario="hero_leaves", title="The hero leaves", spec=spec(labels=("heroic", "distributed")),
                     guess=Guess(choice="heroic", words="the hero stalls"), step=0, when=datetime(2026, 12, 1, 10, 5))
    card.settle(first.number, Verdict(True, "Highest: heroic.", "", ()), when=datetime(2026, 12, 1, 10, 9))
    card.add(scenario="burnout", title="Running on empty", spec=spec(labels=("heroic", "distributed")),
             guess=Guess(choice="distributed", words="=HYPERLINK(\"http://x\")"), step=12)
    data = pd.read_csv(io.BytesIO(card.csv_bytes()), dtype=str, keep_default_na=False)
    assert list(data.columns) == list(scorecard.COLUMNS)
    assert data["scenario"].tolist() == ["The hero leaves", "Running on empty"]
    assert data["prediction"][0] == "heroic. \u201cthe hero stalls\u201d" and data["result"][0] == "right"
    assert data["made_at"][0] == "2026-12-01 10:05:00" and data["checked_at"][0] == "2026-12-01 10:09:00"
    assert data["result"][1] == "waiting for step 30" and data["made_at_step"][1] == "12"
    rows = list(csv.reader(io.StringIO(card.csv_bytes().decode())))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_printable_page_is_self_contained_and_escapes_what_the_room_typed():
    card = scorecard.Scorecard()
    card.add(**{**row_fields(), "guess": Guess(choice="a", words="<script>alert(1)</script>")})
    page = card.html_bytes().decode()
    assert page.startswith("<!doctype html>") and "@media print" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http" not in page.replace("http-equiv", ""), "nothing fetched from elsewhere"
    assert "1 prediction: 0 right, 0 wrong, 1 not checked" in page


# ----- the box, as a widget tree --------------------------------------------------------------
@pytest.fixture
def store(monkeypatch):
    fresh = scorecard.Store()
    monkeypatch.setattr(scorecard, "STORE", fresh)
    return fresh


@pytest.fixture
def box(store):
    """The prediction box alone, over a session the test steps itself; `redraw()` is a frame."""
    from sim.viz.workshop import PredictionBox

    session = Session(Settings(**SMALL))
    frame, playing = solara.reactive(0), solara.reactive(False)

    @solara.component
    def Harness():
        frame.value
        PredictionBox(session, frame, playing).key(f"prediction-{session.settings.scenario}")

    widget, rc = solara.render(Harness(), handle_error=False)

    class Box:
        def __init__(self):
            self.session, self.rc = session, rc

        def redraw(self):
            frame.set(frame.value + 1)

        def html(self) -> str:
            return "\n".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)

        def select(self, label):
            return next(w for w in rc.find(v.Select).widgets if w.label == label)

        def button(self, text):
            return next(w for w in rc.find(v.Btn).widgets if text in w.children)

        def field(self, label):
            return next(w for w in rc.find(v.TextField).widgets if w.label == label)

        def wait_for(self, text, seconds=60):
            deadline = time.monotonic() + seconds
            while text not in self.html():
                assert time.monotonic() < deadline, f"{text!r} did not appear:\n{self.html()}"
                time.sleep(0.05)

        def card(self):
            (card,) = store._cards.values()
            return card

    yield Box()
    widget.close()


def test_the_box_asks_the_scenarios_question_and_counts_down_to_the_end_of_the_window(box):
    box.session.choose_scenario("hero_leaves", defaults())
    box.redraw()
    assert "Which organisation loses the larger share of its value from step 150" in box.html()
    lock = box.button("Lock in the prediction")
    assert lock.disabled, "nothing to lock in before a pick"
    box.select("Your pick (highest)").v_model = "heroic"
    box.field("In the room's words (optional)").v_model = "the hero <b>stalls</b>"
    assert not box.button("Lock in the prediction").disabled
    box.button("Lock in the prediction").click()
    assert "250 steps to go" in box.html()
    assert "heroic. \u201cthe hero &lt;b&gt;stalls&lt;/b&gt;\u201d" in box.html() and "<b>stalls" not in box.html()
    box.session.step(10)
    box.redraw()
    assert "240 steps to go" in box.html() and "leadsim-outcome" not in box.html()


def test_the_box_checks_the_prediction_once_the_run_reaches_the_end_of_the_window(box):
    box.session.choose_scenario("hero_leaves", defaults())
    box.redraw()
    box.select("Your pick (highest)").v_model = "distributed"
    box.button("Lock in the prediction").click()
    box.session.step(250)
    box.redraw()
    box.wait_for("leadsim-outcome")
    (row,) = box.card().rows()
    values = dict(row.verdict.values)
    assert values["heroic"] > values["distributed"], "at this seed the hero's departure costs more"
    assert row.result == "wrong" and row.error == "distributed came 2nd of 2"
    assert "\u2718 wrong" in box.html() and "Highest: heroic." in box.html()
    assert not [w for w in box.rc.find(v.Btn).widgets if "Lock in the prediction" in w.children]
    box.button("Predict again").click()  # the room may predict again; the checked row stays
    box.select("Your pick (highest)").v_model = "heroic"
    box.button("Lock in the prediction").click()
    box.wait_for("\u2714 right")  # checked at once: the run is past step 250
    assert [r.result for r in box.card().rows()] == ["wrong", "right"]


def test_a_ranking_is_locked_in_only_with_each_option_once(box):
    box.session.choose_scenario("four_keys", defaults())
    box.redraw()
    for place, key in zip(("1st (highest)", "2nd", "3rd", "4th"), ("purpose", "purpose", "procedures", "contribution")):
        box.select(place).v_model = key
    assert box.button("Lock in the prediction").disabled and "Use each option once." in str(
        [w.children for w in box.rc.find(v.Html).widgets])
    box.select("2nd").v_model = "infrastructure"
    box.button("Lock in the prediction").click()
    (row,) = box.card().rows()
    assert row.guess.ranking == ("purpose", "infrastructure", "procedures", "contribution")


def test_the_scorecard_keeps_predictions_across_scenarios_and_a_new_box(box, store):
    box.session.choose_scenario("controlled_vs_autonomous", defaults())
    box.redraw()
    box.field("controlling managers").v_model = "0.5"
    box.field("autonomy-supportive managers").v_model = "0.8"
    box.button("Lock in the prediction").click()
    box.session.choose_scenario("burnout", defaults())
    box.redraw()
    assert "Under strain, which organisation loses the most working time" in box.html()
    box.select("Your pick (highest)").v_model = "distributed"
    box.button("Lock in the prediction").click()
    assert "Scorecard: 2 predictions: 0 right, 0 wrong, 2 not checked yet" in str(
        [w.children for w in box.rc.find(v.Html).widgets])
    box.button("Show the scorecard").click()
    table = box.html()
    assert "Controlled vs autonomous motivation" in table and "Running on empty" in table
    assert "controlling managers 0.5; autonomy-supportive managers 0.8" in table
    box.session.choose_scenario("controlled_vs_autonomous", defaults())  # back: the prediction waits
    box.redraw()
    assert "controlling managers 0.5; autonomy-supportive managers 0.8" in box.html()
    assert "400 steps to go" in box.html()


def test_a_preset_naming_an_unknown_measure_shows_a_message_not_a_crash(box, monkeypatch):
    preset = viz_scenarios.by_name("hero_leaves")
    monkeypatch.setattr(preset, "prediction", dataclasses.replace(preset.prediction, measure="happiness"))
    box.session.choose_scenario("hero_leaves", defaults())
    box.redraw()
    alerts = [str(w.children) for w in box.rc.find(v.Alert).widgets]
    assert any("prediction.measure = 'happiness' is not one of: value_share" in a for a in alerts), alerts
    assert not [w for w in box.rc.find(v.Btn).widgets if "Lock in the prediction" in w.children]

"""The browser page's logic without a browser: sessions, compare mode, interventions, errors,
scenarios, sliders, layout, drawing data, offline assets, predictions and exports (sim/viz)."""

from __future__ import annotations

import dataclasses
import io
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import scenarios as presets
from sim.agents import GONE, WORKING
from sim.config import ModelConfig
from sim.viz import assets, controls, debrief, layout, live, network, plots, scenarios
from sim.viz.launch import parse_args
from sim.viz.live import MAX_CHART_BYTES, MAX_MEMBERS, Session, Settings, readable

SMALL = {"n_members": 40}


def small(**changes) -> Session:
    return Session(Settings(**{**SMALL, **changes}))


def test_session_builds_numba_model_with_agent_views():
    session = small()
    org = session.orgs[0]
    assert session.ok and len(session.orgs) == 1
    assert org.model.cfg.engine == "numba"
    assert len(org.model.member_agents) == 40 and org.model.grid is not None
    assert len(org.history) == 1  # step 0, the initial state


def test_step_records_history_every_step():
    session = small()
    assert session.step(5)
    org = session.orgs[0]
    assert org.steps == 5 and len(org.history) == 6
    np.testing.assert_array_equal(org.history.array("step"), np.arange(6))
    np.testing.assert_allclose(org.history.array("value_total"), np.cumsum(org.history.array("value_captured")))


def test_compare_mode_organisations_step_in_lockstep_on_identical_task_stream():
    session = small(compare=True, regime="distributed", regime_b="heroic")
    a, b = session.orgs
    assert (a.model.cfg.regime.name, b.model.cfg.regime.name) == ("distributed", "heroic")
    session.step(30)
    assert a.steps == b.steps == 30
    arrived_a = a.model.metrics()[["tasks_arrived", "value_arrived"]]
    arrived_b = b.model.metrics()[["tasks_arrived", "value_arrived"]]
    assert arrived_a.equals(arrived_b), "same seed, same task stream whatever the regime"
    diff = session.difference()
    np.testing.assert_allclose(diff["cumulative"][-1], diff["total_a"] - diff["total_b"])


def test_same_regime_twice_in_compare_mode_gets_distinct_labels():
    session = small(compare=True, regime="heroic", regime_b="heroic")
    assert [o.label for o in session.orgs] == ["heroic (A)", "heroic (B)"]


def test_bad_slider_combination_gives_readable_message_and_keeps_last_organisation():
    session = small()
    session.step(3)
    before = session.orgs[0]
    assert not session.set_value("env.complexity", 6.0)  # more domains than members know (4)
    assert "env.complexity = 6.0 is out of range" in session.error
    assert "Traceback" not in session.error
    assert session.orgs[0] is before and not session.step()  # shown, but not stepped while invalid
    assert session.set_value("member.n_domains", 8)  # now six domains fit
    assert session.ok and session.orgs[0].steps == 0


@pytest.mark.parametrize("content, message", [
    (b"a b\nb\n", "line 2: expected two member names separated by a space, found 1 field"),
    (b"", "has 0 members; at least 2 are needed"),
])
def test_bad_org_file_gives_readable_message(content, message):
    session = small()
    session.update(org="file")
    assert not session.use_org_file("chart.edgelist", content)
    assert message in session.error and session.settings.org == "file"


def test_bad_graphml_gives_a_message_with_the_line_and_no_file_text():
    session = small()
    assert not session.use_org_file("chart.graphml", b"<graphml><secret-text-here")
    assert "line 1, column" in session.error and "malformed XML" in session.error
    assert "secret" not in session.error


def test_org_file_never_opens_a_server_path():
    """The settings hold only an uploaded chart: there is no path for a visitor to choose."""
    assert "org_path" not in {f.name for f in dataclasses.fields(Settings)}
    session = small()
    assert not session.update(org="file")  # nothing uploaded yet
    assert "drop a GraphML or edge-list chart" in session.error


def test_uploaded_chart_is_parsed_in_memory_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None  # re-read TMPDIR
    try:
        session = small()
        assert session.use_org_file("chart.edgelist", b"a b\nb c\nc d\n")
        assert session.orgs[0].model.state.n == 4
        assert list(tmp_path.iterdir()) == []
    finally:
        tempfile.tempdir = None


def test_uploaded_chart_over_the_size_cap_is_refused():
    session = small()
    big = b"a b\n" * (MAX_CHART_BYTES // 4 + 1)
    assert not session.use_org_file("chart.edgelist", big)
    assert f"the limit is {MAX_CHART_BYTES:,} bytes" in session.error


def test_members_above_the_page_cap_are_refused_before_building():
    session = small()
    assert not session.update(n_members=MAX_MEMBERS + 1)
    assert f"n_members = {MAX_MEMBERS + 1:,} is more than this page serves; allowed [2, {MAX_MEMBERS:,}]" in session.error


def test_errors_other_than_settings_never_show_their_text():
    message = readable(OSError("/etc/shadow: root:$6$secret"))
    assert "shadow" not in message and "secret" not in message and "OSError" in message


def test_good_org_file_is_drawn():
    session = small()
    data = (Path(__file__).parent / "data" / "small_chart.edgelist").read_bytes()
    names = {w for line in data.decode().splitlines() if line.strip() and not line.startswith("#")
             for w in line.split()}
    assert session.use_org_file("small_chart.edgelist", data)
    assert session.orgs[0].model.state.n == len(names)
    assert session.orgs[0].positions().shape == (len(names), 2)


def test_leader_leaves_marks_member_0_gone_in_every_organisation():
    session = small(compare=True)
    session.step(2)
    assert session.intervene("leader_leaves")
    assert [org.member(0)["status"] for org in session.orgs] == [GONE, GONE]
    assert "Member 0" in session.notice


def test_switch_regime_in_one_organisation_of_a_pair():
    session = small(compare=True, regime="distributed", regime_b="heroic")
    assert session.intervene("regime", "distributed", target="1")
    assert [o.model.state.regime for o in session.orgs] == [2, 2]
    assert session.orgs[1].label == "heroic → distributed"
    assert session.intervene("shock")


def test_bad_intervention_is_a_notice_not_a_crash():
    session = small()
    assert not session.intervene("regime", "anarchic")
    assert "anarchic" in session.notice and session.ok


def test_scenario_menu_is_data_driven():
    names = [s.name for s in scenarios.menu()]
    assert names[:3] == ["default", "stable", "turbulent"]
    assert set(presets.names()) <= set(names), "every preset in configs/scenario/ is offered"
    assert scenarios.by_name("stable").params == {"env": {"drift": 0.0, "shock_rate": 0.0, "turbulence": 0.0}}


def test_choosing_a_scenario_with_variants_loads_its_pair():
    session = small()
    session.set_value("culture.purpose", 0.1)
    assert session.choose_scenario("hero_leaves", controls.defaults())
    s = session.settings
    assert (s.compare, s.regime, s.regime_b, s.org) == (True, "heroic", "distributed", "hierarchy")
    assert s.values["culture.purpose"] == 0.6, "sliders go back to their defaults"
    assert [o.model.cfg.events.schedule for o in session.orgs] == [["leader_leaves@150"]] * 2


def test_choosing_a_market_sets_its_sliders():
    session = small()
    assert session.choose_scenario("turbulent", controls.defaults())
    assert session.settings.values["env.turbulence"] == 0.1
    assert session.orgs[0].model.cfg.env.shock_rate == 0.02


def test_sliders_stay_inside_the_schema_and_name_their_construct():
    cfg = ModelConfig()
    for knob in controls.KNOBS:
        m = controls.meta(knob.key)
        assert m["lo"] <= knob.lo < knob.hi <= m["hi"], knob.key
        assert knob.lo <= m["default"] <= knob.hi, knob.key
        assert m["construct"] and m["doc"] in controls.tooltip(knob)
        group, _, name = knob.key.partition(".")
        assert getattr(getattr(cfg, group), name) == m["default"]
    labels = {k.label for k in controls.KNOBS}
    assert {"shared purpose", "ethic of contribution", "coordination cost", "autonomy support", "turbulence",
            "complexity", "load"} <= labels


def test_layout_is_seeded_and_the_same_in_every_regime():
    a = small(regime="heroic").orgs[0].positions()
    b = small(regime="distributed").orgs[0].positions()
    c = small(seed=2).orgs[0].positions()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.shape == (40, 2) and (a >= 0).all() and (a <= 1).all()


def test_radial_tree_puts_member_0_in_the_centre():
    parent = np.array([-1, 0, 0, 1, 1, 2, 2])
    pos = layout.radial_tree(parent)
    assert np.allclose(pos[0], 0) and np.allclose(np.hypot(*pos[1:].T)[:2], np.sqrt(0.5))


def test_drawing_data_comes_from_the_agent_views():
    session = small()
    session.step(20)
    org = session.orgs[0]
    shape = network.geometry(org)
    data = network.frame(org, shape["pos"])
    agents = org.model.member_agents
    assert data["status"] == "".join(network.CODES[a.status] for a in agents)
    assert len(data["radius"].split(",")) == len(data["opacity"].split(",")) == 40
    working = sum(a.status == WORKING for a in agents)
    assert data["links"].count("M") == working > 0
    assert len(shape["xs"].split(",")) == 40 and shape["ties"].count("M") == len(org.chart_edges)


def test_hired_members_get_a_place_next_to_their_manager():
    session = small()
    org = session.orgs[0]
    org.model.intervene("hire", 3)
    pos = org.positions()
    assert pos.shape == (43, 2)
    assert len(network.frame(org, pos)["status"]) == 43


def test_member_details_read_through_the_agent_view():
    org = small().orgs[0]
    info = org.member(0)
    agent = org.model.member_agents[0]
    assert info["autonomy"] == agent.autonomy and info["tasks_led"] == agent.led_count
    assert info["designated_leader"] and org.member(999) is None


def test_page_front_end_files_are_installed():
    assert assets.missing() == [], "solara-assets must provide every file the page loads"
    assert not any("vuetify3" in p for p in assets.required(vue_3=False))


def test_missing_front_end_package_is_detected_and_unpacked(tmp_path):
    package = "@widgetti/demo-app@1.0.0"
    assert assets.missing(tmp_path, [package]) == [package]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"console.log('ok')"
        info = tarfile.TarInfo("package/dist/app.js")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assets.unpack(buffer.getvalue(), tmp_path / package)
    assert (tmp_path / package / "dist" / "app.js").read_bytes() == data
    assert assets.missing(tmp_path, [package]) == []
    assert assets.tarball_url(package) == "https://registry.npmjs.org/@widgetti/demo-app/-/demo-app-1.0.0.tgz"


def test_launch_listens_on_localhost_by_default():
    args = parse_args([])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 8765, False)
    assert parse_args(["--host", "0.0.0.0", "--port", "9000"]).port == 9000


def test_every_scenario_in_the_menu_builds_on_the_page():
    session = small()
    for item in scenarios.menu():
        assert session.choose_scenario(item.name, controls.defaults()), (item.name, session.error)
        assert session.step(2) and all(org.steps == 2 for org in session.orgs)


def test_scenario_variants_choose_the_pair_in_compare_mode():
    if "four_keys" not in presets.names():
        pytest.skip("no four_keys preset")
    session = small()
    preset = scenarios.by_name("four_keys")
    labels = [label for label, _ in preset.variants]
    assert session.choose_scenario("four_keys", controls.defaults())
    a, b = session.orgs
    assert (a.label, b.label) == tuple(labels[:2])
    assert a.model.cfg.culture.purpose == preset.params["culture"]["purpose"]
    assert session.update(variant_b=labels.index("hierarchical · none"))
    assert session.orgs[1].model.cfg.regime.name == "hierarchical"
    assert session.sides()[1]["regime_fixed"] and not session.sides()[0]["regime_fixed"]


@pytest.mark.parametrize("lo, hi, integer", [(0, 6.2, False), (0, 94, True), (-7, 3, False), (0, 0, False),
                                             (0, 0.35, False), (0, 1234, True)])
def test_plot_ticks_are_round_and_cover_the_data(lo, hi, integer):
    from sim.viz.plots import nice_ticks, tick_format

    ticks = nice_ticks(lo, hi, integer=integer)
    assert ticks[0] <= min(lo, 0) and ticks[-1] >= hi and 2 <= len(ticks) <= 7
    steps = np.diff(ticks)
    np.testing.assert_allclose(steps, steps[0])
    if integer:
        assert (ticks == np.round(ticks)).all() and tick_format(ticks) == ",.0f"


# ----- the workshop's export (sim/viz/debrief.py) ---------------------------------------------
def test_csv_export_has_one_row_per_step_per_organisation():
    session = small(compare=True, regime="distributed", regime_b="heroic")
    session.step(12)
    data = pd.read_csv(io.BytesIO(debrief.csv_bytes(session.orgs)))
    assert list(data.columns[:3]) == ["organisation", "step", "regime"]
    assert {"value_captured", "value_arrived", "backlog", "leadership_gini", "mean_autonomy"} <= set(data.columns)
    assert len(data) == 2 * 13
    for label, rows in data.groupby("organisation"):
        assert rows["step"].tolist() == list(range(13)), label
    assert set(data["organisation"]) == {"distributed", "heroic"}
    first = session.orgs[0].model.metrics()
    np.testing.assert_allclose(data.loc[data.organisation == "distributed", "value_captured"], first["value_captured"])


def test_png_export_is_a_picture_of_the_key_series():
    session = small(compare=True)
    session.step(12)
    png = debrief.png_bytes(session.orgs, title="a test")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert 20_000 < len(png) < 2_000_000


# ----- running a scenario: stops, marks and the exercises' plots -------------------------------

def hero_leaves(**changes) -> Session:
    session = Session(Settings(n_members=40))
    session.choose_scenario("hero_leaves", controls.defaults())
    session.update(n_members=40, **changes)
    return session


def play_until_paused(session: Session, speed: int = 25) -> int:
    while session.play(speed):
        pass
    return session.orgs[0].steps


def test_play_pauses_before_a_scheduled_event_and_at_the_scenarios_end():
    session = hero_leaves()
    assert session.end == 400 and session.event_steps() == [150]
    assert play_until_paused(session) == 149
    assert "in the next step, the leader leaves" in session.notice
    assert play_until_paused(session) == 400
    assert "ends here, at step 400" in session.notice
    assert not session.play(25) and session.orgs[0].steps == 400  # Play does not run past the end
    assert "ends at step 400" in session.notice
    session.run_to = 420  # ...unless asked to
    assert play_until_paused(session) == 420 and "Paused at step 420, as asked" in session.notice


def test_pausing_at_events_can_be_switched_off():
    session = hero_leaves()
    session.pause_at_events = False
    assert play_until_paused(session) == 400


def test_run_to_stops_at_the_chosen_step():
    session = hero_leaves()
    session.run_to = 37
    assert play_until_paused(session, speed=10) == 37


def test_markets_run_on_without_an_end():
    session = small()
    assert session.end is None and session.next_stop() is None
    assert session.play(5) and session.orgs[0].steps == 5


def test_scheduled_events_and_live_interventions_are_marked_on_the_plots():
    session = hero_leaves()
    assert [org.marks for org in session.orgs] == [[(150, "the leader leaves")]] * 2
    session.step(3)
    session.intervene("shock")
    assert all(org.marks[-1] == (3, "a market shock") for org in session.orgs)
    assert plots.event_marks(session.orgs) == [(3, "a market shock"), (150, "the leader leaves")]
    assert "step 150: the leader leaves" in plots.marks_html(plots.event_marks(session.orgs))


def test_windowed_value_share_on_the_page_is_the_guides_measure():
    from sim.observe import rolling_value_share

    session = small()
    session.step(90)
    org = session.orgs[0]
    expected = rolling_value_share(org.model.metrics(), live.WINDOW).to_numpy()
    np.testing.assert_allclose(org.history.array("value_share_window"), expected, equal_nan=True)
    assert live.WINDOW == 40


def test_member_0s_energy_is_recorded_and_a_gap_once_gone():
    session = small()
    session.step(2)
    assert session.orgs[0].history.array("leader_energy")[-1] == session.orgs[0].model.state.energy[0]
    session.intervene("leader_leaves")
    session.step(1)
    assert np.isnan(session.orgs[0].history.array("leader_energy")[-1])


def test_every_scenarios_plots_are_plots_the_page_has():
    for preset in presets.all_scenarios():
        assert preset.plots, f"{preset.name} lists no plots"
        assert set(preset.plots) <= set(plots.BY_ID), f"{preset.name}: {preset.plots}"


def test_a_scenario_shows_its_own_plots():
    session = hero_leaves()
    assert [p.id for p in plots.chosen_panels(session.plots)] == ["value", "backlog", "leader_energy", "value_share"]
    assert [p.id for p in plots.chosen_panels([])] == list(plots.DEFAULT_PLOTS)

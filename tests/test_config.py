"""Configuration: validation messages that name the key and its allowed range or choices, and the
forms in which the Python API accepts parameters (including file org charts)."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from sim import ConfigError, LeadershipModel, ModelConfig, make_config
from sim.config import ORGS, REGIMES


# ----- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,key,allowed", [
    (dict(n_members=-5), "n_members = -5", "allowed [2, 100000000]"),
    (dict(n_members=1), "n_members = 1", "allowed [2, 100000000]"),
    (dict(steps=0), "steps = 0", "allowed [1,"),
    (dict(culture={"purpose": 1.5}), "culture.purpose = 1.5", "allowed [0, 1]"),
    (dict(purpose=1.5), "culture.purpose = 1.5", "allowed [0, 1]"),
    (dict(purpose=-0.1), "culture.purpose = -0.1", "allowed [0, 1]"),
    (dict(turbulence=2.0), "env.turbulence = 2.0", "allowed [0, 1]"),
    (dict(regime={"report_loss": 1.01}), "regime.report_loss = 1.01", "allowed [0, 1]"),
    (dict(team_max=0), "member.team_max = 0", "allowed [1, 64]"),
])
def test_out_of_range_values_name_the_key_and_the_allowed_range(kwargs, key, allowed):
    with pytest.raises(ConfigError) as err:
        make_config(**kwargs)
    assert key in str(err.value)
    assert allowed in str(err.value)


@pytest.mark.parametrize("kwargs,key", [
    (dict(n_members="many"), "n_members = 'many' must be a whole number"),
    (dict(n_members=2.5), "n_members = 2.5 must be a whole number"),
    (dict(steps=True), "steps = True must be a whole number"),
    (dict(purpose=float("nan")), "culture.purpose = nan must be a finite number"),
    (dict(purpose="high"), "culture.purpose = 'high' must be a finite number"),
])
def test_values_of_the_wrong_type_name_the_key_and_the_range(kwargs, key):
    with pytest.raises(ConfigError, match="in \\[") as err:
        make_config(**kwargs)
    assert key in str(err.value)


def test_whole_floats_are_accepted_for_integers_and_become_ints():
    cfg = make_config(n_members=30.0, team_max=4.0)
    assert cfg.n_members == 30 and isinstance(cfg.n_members, int)
    assert cfg.member.team_max == 4 and isinstance(cfg.member.team_max, int)


@pytest.mark.parametrize("kwargs,unknown,hint", [
    (dict(turbulance=0.1), "'turbulance'", "did you mean 'turbulence'?"),
    (dict(n_member=30), "'n_member'", "did you mean 'n_members'?"),
    (dict(env={"turbulance": 0.1}), "'env.turbulance'", "did you mean 'env.turbulence'?"),
    (dict(culture={"purpos": 0.5}), "'culture.purpos'", "did you mean 'culture.purpose'?"),
])
def test_an_unknown_key_is_named_with_a_close_match_hint(kwargs, unknown, hint):
    with pytest.raises(ConfigError) as err:
        make_config(**kwargs)
    msg = str(err.value)
    assert f"unknown parameter {unknown}" in msg
    assert hint in msg
    assert "allowed:" in msg


def test_an_unknown_key_reaches_the_model_constructor_as_a_config_error():
    with pytest.raises(ConfigError, match="did you mean 'turbulence'"):
        LeadershipModel(n_members=20, turbulance=0.1)


@pytest.mark.parametrize("kwargs,key,choices", [
    (dict(org="bogus"), "org.name = 'bogus' is not allowed", ORGS),
    (dict(regime="anarchy"), "regime.name = 'anarchy' is not allowed", REGIMES),
    (dict(engine="gpu"), "engine = 'gpu' is not allowed", ("agents",)),
])
def test_unknown_names_list_the_choices(kwargs, key, choices):
    with pytest.raises(ConfigError) as err:
        LeadershipModel(n_members=20, **kwargs)
    msg = str(err.value)
    assert key in msg
    assert "choose one of" in msg
    assert all(c in msg for c in choices)


def test_weights_that_do_not_sum_to_one_are_rejected():
    with pytest.raises(ConfigError) as err:
        make_config(member={"w_fit": 0.5})
    assert "member.w_benefit + w_fit + w_energy + w_support = 1.25" in str(err.value)
    assert "must sum to 1" in str(err.value)
    make_config(member={"w_fit": 0.4, "w_benefit": 0.1})  # these do sum to 1


def test_complexity_above_the_number_of_domains_is_rejected():
    with pytest.raises(ConfigError) as err:
        make_config(complexity=5)
    assert "env.complexity = 5" in str(err.value)
    assert "allowed [1, member.n_domains=4]" in str(err.value)
    assert make_config(complexity=5, n_domains=6).env.complexity == 5


def test_flat_org_needs_an_even_k_below_the_headcount():
    with pytest.raises(ConfigError) as err:
        make_config(org={"name": "flat", "k": 5})
    assert "org.k = 5 must be even" in str(err.value)
    with pytest.raises(ConfigError) as err:
        make_config(n_members=6, org={"name": "flat", "k": 6})
    assert "org.k = 6 is out of range" in str(err.value) and "n_members-1 = 5" in str(err.value)
    make_config(org={"name": "hierarchy", "k": 5})  # k only matters for `flat`


def test_file_org_without_a_path_is_rejected():
    with pytest.raises(ConfigError) as err:
        make_config(org="file")
    assert "org.path is missing" in str(err.value)


def test_file_org_with_a_nonexistent_file_is_rejected(tmp_path):
    missing = tmp_path / "nowhere.graphml"
    with pytest.raises(ConfigError) as err:
        make_config(org={"name": "file", "path": str(missing)})
    assert "org.path" in str(err.value) and "no such file" in str(err.value)


@pytest.mark.parametrize("name,content", [
    ("chart.graphml", b"<graphml><node id="),
    ("chart.xml", b"\x00\x01 not xml at all"),
    ("chart.txt", b"\xff\xfe\xfa\x00\x9c garbage bytes \x81\x82\n\x90 \x91\n"),
    ("chart.edges", b"lonely\n"),
])
def test_file_org_with_a_malformed_file_is_rejected(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        LeadershipModel(org={"name": "file", "path": str(path)}, n_members=10)
    assert "org.path" in str(err.value)
    assert str(path) in str(err.value)


def test_file_org_with_prose_instead_of_an_edge_list_is_rejected(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Minutes of the board meeting held on Tuesday\nAll directors were present and agreed\n")
    with pytest.raises(ConfigError, match="org.path"):
        LeadershipModel(org={"name": "file", "path": str(path)}, n_members=10)


def test_file_org_whose_managers_do_not_form_a_tree_is_rejected(tmp_path):
    g = nx.Graph()
    g.add_node("boss")
    g.add_node("a", manager="b")
    g.add_node("b", manager="a")
    g.add_edge("a", "b")
    path = tmp_path / "loop.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError, match="do not form one tree"):
        LeadershipModel(org={"name": "file", "path": str(path)})
    g.add_node("c", manager="nobody")
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError, match="names a manager that is not a node"):
        LeadershipModel(org={"name": "file", "path": str(path)})


# ----- API forms -----------------------------------------------------------------------------

def test_groups_can_be_named_by_string():
    m = LeadershipModel(regime="heroic", org="teams", n_members=30)
    assert m.cfg.regime.name == "heroic" and m.cfg.org.name == "teams"
    s = m.state
    assert s.regime == 0
    # teams of 8: member 1 leads 1..8 and reports to member 0; member 9 leads the next team
    assert s.parent[1] == 0 and (s.parent[2:9] == 1).all() and s.parent[9] == 0 and s.parent[10] == 9


def test_group_dicts_and_flat_leaves_are_the_same_configuration():
    as_dict = LeadershipModel(n_members=30, env={"turbulence": 0.1}).cfg
    as_leaf = LeadershipModel(n_members=30, turbulence=0.1).cfg
    assert as_dict.env.turbulence == as_leaf.env.turbulence == 0.1
    assert as_dict == as_leaf
    assert as_dict.env.task_rate == ModelConfig().env.task_rate  # the rest of the group keeps its defaults


def test_a_model_config_or_a_dict_can_be_given_as_config():
    base = make_config(regime="hierarchical", org="hierarchy", n_members=30, env={"turbulence": 0.3})
    from_cfg = LeadershipModel(config=base)
    assert from_cfg.cfg == base
    from_dict = LeadershipModel(config={"regime": "hierarchical", "org": {"name": "hierarchy"}, "n_members": 30,
                                        "env": {"turbulence": 0.3}})
    assert from_dict.cfg == base
    plain = dataclasses.asdict(base)
    assert LeadershipModel(config=plain).cfg == base


def test_a_hydra_dictconfig_can_be_given_as_config():
    from omegaconf import OmegaConf

    dc = OmegaConf.create({"regime": {"name": "heroic"}, "n_members": 25, "culture": {"purpose": 0.9}})
    cfg = LeadershipModel(config=dc).cfg
    assert (cfg.regime.name, cfg.n_members, cfg.culture.purpose) == ("heroic", 25, 0.9)


def test_explicit_keywords_override_the_config():
    base = make_config(regime="heroic", n_members=30, seed=4)
    m = LeadershipModel(config=base, n_members=24, seed=9, purpose=0.2)
    assert (m.cfg.regime.name, m.cfg.n_members, m.cfg.seed, m.cfg.culture.purpose) == ("heroic", 24, 9, 0.2)
    assert m.state.n == 24
    assert base.n_members == 30  # the given config is not modified


def test_an_explicit_keyword_equal_to_its_default_still_overrides_the_config():
    base = make_config(regime="heroic", n_members=30)
    assert LeadershipModel(config=base, regime="distributed").cfg.regime.name == "distributed"


def write_chart(tmp_path):
    """A GraphML chart listed with the CEO last: ann and bob report to ceo; cat and dan to ann."""
    g = nx.Graph()
    for node, manager in (("ann", "ceo"), ("bob", "ceo"), ("cat", "ann"), ("dan", "ann"), ("eve", "bob"),
                          ("ceo", None)):
        if manager:
            g.add_node(node, manager=manager)
        else:
            g.add_node(node)
    g.add_edges_from([("cat", "dan"), ("dan", "eve")])  # peer ties besides the reporting lines
    path = tmp_path / "chart.graphml"
    nx.write_graphml(g, path)
    return path


def test_a_graphml_chart_with_managers_builds_the_org(tmp_path):
    path = write_chart(tmp_path)
    m = LeadershipModel(org={"name": "file", "path": str(path)}, n_members=10, regime="hierarchical", steps=20)
    s = m.state
    # the CEO (the only node without a manager) becomes member 0; others keep file order
    assert s.n == 6
    np.testing.assert_array_equal(s.parent, [-1, 0, 0, 1, 1, 2])
    assert set(s.neighbours(3).tolist()) == {1, 4}  # cat: her manager ann and her peer dan
    assert set(s.neighbours(0).tolist()) == {1, 2}
    m.run_for(20)
    assert (m.metrics()["members"] == 6).all()
    assert m.summary()["n_members"] == 6


def test_an_edge_list_chart_gets_breadth_first_reporting_lines(tmp_path):
    path = tmp_path / "chart.edges"
    path.write_text("# a small org\n0 1\n0 2\n1 3\n3 4\n2 4\n4 5\n")
    m = LeadershipModel(org={"name": "file", "path": str(path)}, n_members=50)
    s = m.state
    assert s.n == 6
    np.testing.assert_array_equal(s.parent, [-1, 0, 0, 1, 2, 4])
    assert s.tie_count[:6].sum() == 2 * 6


def test_restaffing_threshold_must_sit_below_the_coverage_a_team_aims_for():
    with pytest.raises(ConfigError) as err:
        make_config(restaff_below=0.8, coverage_target=0.8)
    assert "regime.restaff_below = 0.8 is out of range; allowed [0, member.coverage_target = 0.8)" in str(err.value)
    with pytest.raises(ConfigError, match="regime.restaff_below = 0.9"):
        make_config(restaff_below=0.9)
    assert make_config(restaff_below=0.79, coverage_target=0.8).regime.restaff_below == 0.79

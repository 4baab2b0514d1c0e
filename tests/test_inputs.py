"""Inputs a careless or hostile user may give: chart files that do not parse, sizes that do not
fit, and the forms values naturally take in Python (numpy scalars, preset names). Each gets one
clear message naming the key, and a chart's text is never quoted back."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim import LeadershipModel, chart, make_config
from sim.capacity import bytes_needed
from sim.config import ConfigError

SECRET = "root:$6$private-text"

MANAGERS = ('<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
            '<key id="m" for="node" attr.name="manager" attr.type="string"/>'
            '<graph edgedefault="undirected">{}</graph></graphml>')


def node(name, manager=None):
    data = f'<data key="m">{manager}</data>' if manager else ""
    return f'<node id="{name}">{data}</node>'


# (file name, contents, what the message must say)
BAD_CHARTS = {
    "empty edge list": ("chart.txt", b"", "has 0 members; at least 2 are needed"),
    "only comments": ("chart.txt", f"# {SECRET}\n".encode(), "has 0 members"),
    "weighted edge list": ("chart.txt", f"a b 0.5\nb {SECRET} 1\n".encode(),
                           "line 1: expected two member names separated by a space, found 3 fields"),
    "one name on a line": ("chart.txt", f"a b\n{SECRET}\n".encode(), "line 2: expected two member names"),
    "not UTF-8": ("chart.txt", b"a b\n\xff\xfe\xfa c\n", "line 2: not UTF-8 text"),
    "binary": ("chart.graphml", b"\x89PNG\r\n\x1a\n\x00\x00" + SECRET.encode(), "is not a text file"),
    "truncated GraphML": ("chart.graphml", f'<graphml>\n<graph>\n<node id="{SECRET}"'.encode(),
                          "line 3, column"),
    "XML that is not GraphML": ("chart.xml", f"<html><body>{SECRET}</body></html>".encode(),
                                "not a GraphML graph"),
    "a DOCTYPE": ("chart.graphml", f'<?xml version="1.0"?><!DOCTYPE g [<!ENTITY x "{SECRET}">]><graphml/>'.encode(),
                  "DOCTYPE or ENTITY"),
    "a manager cycle": ("chart.graphml", MANAGERS.format(node("boss") + node("a", "b") + node("b", "a")).encode(),
                        "do not form one tree"),
    "a manager that is not a node": ("chart.graphml",
                                     MANAGERS.format(node("boss") + node("a", SECRET) + node("b", "boss")).encode(),
                                     "node number 2 (in file order) names a manager that is not a node"),
    "two top members": ("chart.graphml", MANAGERS.format(node("a") + node("b") + node("c", "a")).encode(),
                        "2 members have no `manager`"),
}


@pytest.mark.parametrize("case", list(BAD_CHARTS))
def test_chart_content_errors_name_the_place_and_never_quote_the_file(tmp_path, case):
    name, content, expected = BAD_CHARTS[case]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        LeadershipModel(org={"name": "file", "path": str(path)})
    message = str(err.value)
    assert expected in message and message.startswith(f"org.path = {str(path)!r}")
    assert SECRET not in message and "private" not in message
    with pytest.raises(ConfigError) as err:  # the same from memory, as the page parses uploads
        chart.parse(content, name)
    assert expected in str(err.value) and SECRET not in str(err.value)


def test_chart_is_parsed_in_memory_without_a_file():
    parsed = chart.parse(b"a b\nb c\nc d # a comment\n", "upload.txt")
    model = LeadershipModel(org="file", chart=parsed, n_members=30)
    assert model.state.n == 4 and model.cfg.n_members == 4 and model.cfg.org.path is None
    np.testing.assert_array_equal(model.state.parent[:4], [-1, 0, 1, 2])


def test_chart_size_replaces_n_members(tmp_path):
    path = tmp_path / "six.txt"
    path.write_text("a b\nb c\nc d\nd e\ne f\n")
    model = LeadershipModel(org={"name": "file", "path": str(path)}, n_members=30)
    assert model.cfg.n_members == 6 and model.state.n == 6


def test_chart_with_managers_puts_the_top_member_first(tmp_path):
    g = nx.Graph()
    g.add_node("a", manager="boss")
    g.add_node("boss")
    g.add_node("b", manager="a")
    g.add_edge("a", "b")
    path = tmp_path / "chart.graphml"
    nx.write_graphml(g, path)
    parsed = chart.read(str(path))
    assert parsed.n == 3 and parsed.parent.tolist() == [-1, 0, 1]  # boss, a, b


def test_chart_over_the_size_cap_is_refused_before_parsing():
    with pytest.raises(ConfigError, match="is 1,000 bytes; the limit is 999 bytes"):
        chart.parse(b"a b\n" * 250, "big.txt", max_bytes=999)


def test_org_path_without_org_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"org.path = .* is set, but org = 'flat'; org.path is used only with org=file"):
        make_config(org={"name": "flat", "path": str(tmp_path / "chart.txt")})


def test_numpy_scalars_are_accepted_as_plain_values():
    cfg = make_config(n_members=np.int64(60), steps=np.int32(10), purpose=np.float32(0.5),
                      turbulence=np.float64(0.1), org={"name": np.str_("hierarchy"), "span": np.int64(4)})
    assert cfg.n_members == 60 and type(cfg.n_members) is int
    assert cfg.culture.purpose == 0.5 and type(cfg.culture.purpose) is float
    assert cfg.org.name == "hierarchy" and type(cfg.org.span) is int
    assert LeadershipModel(config=cfg).state.n == 60


def test_env_preset_by_name_loads_its_values():
    turbulent = make_config(env="turbulent").env
    assert (turbulent.drift, turbulent.shock_rate, turbulent.turbulence) == (0.1, 0.02, 0.1)
    assert make_config(env="stable").env.turbulence == 0.0
    with pytest.raises(ConfigError, match="env = 'stormy' is not a preset; choose one of: default, stable, turbulent"):
        make_config(env="stormy")


def test_a_size_that_will_not_fit_in_memory_is_refused_naming_the_limit(monkeypatch):
    monkeypatch.setenv("LEADSIM_MEMORY_LIMIT", str(2**30))  # a 1 GB computer
    small = make_config(n_members=1000)
    assert bytes_needed(small) < 2**30
    with pytest.raises(ConfigError) as err:
        LeadershipModel(n_members=1_000_000, engine="numba")
    message = str(err.value)
    assert message.startswith("n_members = 1,000,000 needs about") and "1.0 GB available" in message
    limit = int(message.rsplit("allowed up to about ", 1)[1].split()[0].replace(",", ""))
    assert 100_000 < limit < 1_000_000
    make_config(n_members=limit, engine="numba")  # the limit it names is itself allowed
    with pytest.raises(ConfigError):
        make_config(n_members=limit + 1000, engine="numba")


def test_hires_count_towards_the_memory_a_run_needs():
    plain = make_config(n_members=1000, steps=100)
    hiring = make_config(n_members=1000, steps=100, events=["hire@50:1000"])
    assert bytes_needed(hiring) > bytes_needed(plain)

"""Real org charts from files: a GraphML file or an edge list, parsed in memory.

A chart is read once into bytes and parsed from those bytes, so the page can take an uploaded
chart without writing it anywhere, and the command line and a sweep's pre-check parse each file
once (a cache keyed by the file's identity).

Error messages name the line (or the node's position) and what was expected. They never quote
the file's text: a chart may come from someone else, and a server must not become a way to read
its own files back.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .config import ConfigError

GRAPHML_SUFFIXES = (".graphml", ".xml")
MAX_NODES = 100_000_000  # the schema's largest organisation


@dataclass(frozen=True, eq=False)
class Chart:
    """A parsed org chart: `n` members, undirected ties `edges` (E, 2) with i < j, and
    `parent[i]`, member i's manager (-1 for member 0)."""

    n: int
    edges: np.ndarray
    parent: np.ndarray
    source: str  # how messages name it: "org.path = 'x.graphml'" or "the uploaded chart 'x'"
    digest: str = ""  # of the file's bytes: the same chart gets the same drawing


def read(path: str) -> Chart:
    """The chart in file `path`, parsed once per version of the file."""
    try:
        stat = os.stat(path)
    except OSError:
        raise ConfigError(f"org.path = {path!r}: no such file") from None
    if not os.path.isfile(path):
        raise ConfigError(f"org.path = {path!r} is not a file")
    return _read_cached(os.path.realpath(path), stat.st_mtime_ns, stat.st_size, path)


@lru_cache(maxsize=32)
def _read_cached(real: str, mtime_ns: int, size: int, shown: str) -> Chart:
    try:
        with open(real, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(f"org.path = {shown!r} cannot be read ({exc.strerror})") from None
    return parse(data, shown, f"org.path = {shown!r}")


def parse(data: bytes, filename: str, source: str | None = None, max_bytes: int | None = None) -> Chart:
    """Parse a chart held in memory. `filename` picks the format by its suffix (GraphML for
    .graphml/.xml, an edge list otherwise); `max_bytes` caps the size (the page's uploads)."""
    source = source or f"the chart {os.path.basename(filename)!r}"
    if max_bytes is not None and len(data) > max_bytes:
        raise ConfigError(f"{source} is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    if b"\x00" in data:
        raise ConfigError(f"{source} is not a text file; expected GraphML or an edge list")
    if filename.lower().endswith(GRAPHML_SUFFIXES):
        graph = _graphml(data, source)
    else:
        graph = _edge_list(data, source)
    n, edges, parent = _structure(graph, source)
    return Chart(n, edges, parent, source, hashlib.sha256(data).hexdigest()[:16])


def _edge_list(data: bytes, source: str):
    """One tie `u v` per line; `#` starts a comment."""
    import networkx as nx

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{source} line {line}: not UTF-8 text; expected an edge list 'member member'") from None
    graph = nx.Graph()
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2:
            hint = " (weights or other columns are not supported)" if len(words) > 2 else ""
            raise ConfigError(f"{source} line {number}: expected two member names separated by a space, "
                              f"found {len(words)} field{'s' if len(words) != 1 else ''}{hint}")
        graph.add_edge(*words)
    return graph


def _graphml(data: bytes, source: str):
    import xml.etree.ElementTree as ET

    import networkx as nx

    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        # GraphML needs no document type; entities are how XML files blow up in memory
        raise ConfigError(f"{source}: GraphML with a DOCTYPE or ENTITY declaration is not accepted")
    try:
        return nx.read_graphml(io.BytesIO(data))
    except ET.ParseError as exc:
        line, column = exc.position
        raise ConfigError(f"{source} line {line}, column {column}: malformed XML "
                          "(truncated, or not a GraphML file)") from None
    except Exception:  # networkx raises many types for XML that is not a GraphML graph
        raise ConfigError(f"{source}: the XML is not a GraphML graph that networkx can read "
                          "(expected <graphml><graph><node id=…/><edge source=… target=…/></graph></graphml>)") from None


def _structure(graph, source: str):
    """Number members in file order; the first node is member 0 unless exactly one node lacks
    the `manager` attribute that the others have. Reporting lines follow `manager`, else the
    breadth-first tree from member 0."""
    import networkx as nx

    from .org import _unique_edges, bfs_parent, reaches_root

    graph = nx.Graph(graph)
    n = graph.number_of_nodes()
    if n < 2:
        raise ConfigError(f"{source} has {n} member{'s' if n != 1 else ''}; at least 2 are needed")
    if n > MAX_NODES:
        raise ConfigError(f"{source} has {n:,} members; at most {MAX_NODES:,} are allowed")
    in_file_order = list(graph.nodes)
    nodes = list(in_file_order)
    managers = {v: d.get("manager") for v, d in graph.nodes(data=True)}
    has_manager = [managers[v] not in (None, "") for v in nodes]
    roots = [v for v, m in zip(nodes, has_manager) if not m]
    if any(has_manager):
        if len(roots) != 1:
            raise ConfigError(f"{source}: {len(roots)} members have no `manager`; expected exactly one top member "
                              "when the chart gives managers")
        nodes.remove(roots[0])
        nodes.insert(0, roots[0])
    index = {v: i for i, v in enumerate(nodes)}
    e = np.array([(index[u], index[v]) for u, v in graph.edges], dtype=np.int64).reshape(-1, 2)
    edges = _unique_edges(e[:, 0], e[:, 1])
    if not any(has_manager):
        return n, edges, bfs_parent(n, edges)
    parent = np.full(n, -1, dtype=np.int64)
    for v in nodes[1:]:
        m = managers[v]
        key = m if m in index else str(m)
        if key not in index:
            raise ConfigError(f"{source}: node number {in_file_order.index(v) + 1} (in file order) names a manager that is "
                              "not a node of the chart; expected every `manager` to be another node's id")
        parent[index[v]] = index[key]
    if not reaches_root(parent):
        raise ConfigError(f"{source}: the `manager` attributes do not form one tree (a cycle, or a second "
                          "member without a manager); expected exactly one top member and a chain of managers "
                          "from everyone else up to it")
    edges = _unique_edges(np.concatenate([edges[:, 0], np.arange(1, n)]), np.concatenate([edges[:, 1], parent[1:]]))
    return n, edges, parent

"""Org structures: the ties between members and the reporting lines, built from the seed.

Every builder returns (n, edges, parent): `edges` is an (E, 2) array of undirected ties with
i < j and no duplicates, and `parent[i]` is member i's manager (-1 for member 0, the root).
Builders are vectorised, O(N k), so that a million members build in seconds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import rng
from .config import ConfigError, OrgConfig


def _unique_edges(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    key = np.unique(lo[keep].astype(np.int64) << 32 | hi[keep].astype(np.int64))
    return np.stack([key >> 32, key & 0xFFFFFFFF], axis=1).astype(np.int64)


def hierarchy(n: int, span: int):
    """A balanced tree; members who share a manager are tied too (they form a team)."""
    ids = np.arange(1, n)
    parent = np.concatenate([[-1], (ids - 1) // span]).astype(np.int64)
    a, b = [ids], [parent[1:]]
    for offset in range(1, span):  # siblings: members whose ids differ by < span under one manager
        j = ids + offset
        ok = (j < n) & ((j - 1) // span == (ids - 1) // span)
        a.append(ids[ok])
        b.append(j[ok])
    return n, _unique_edges(np.concatenate(a), np.concatenate(b)), parent


def flat(n: int, k: int, rewire: float, gen: np.random.Generator):
    """Watts-Strogatz small world; reporting lines are the breadth-first tree from member 0."""
    i = np.repeat(np.arange(n), k // 2)
    j = (i + np.tile(np.arange(1, k // 2 + 1), n)) % n
    moved = gen.random(len(i)) < rewire
    j = np.where(moved, gen.integers(0, n, len(i)), j)
    edges = _unique_edges(i, j)
    return n, edges, bfs_parent(n, edges)


def teams(n: int, size: int, liaison: float, gen: np.random.Generator):
    """Cliques of `size`; each team's first member leads it and reports to member 0."""
    ids = np.arange(1, n)
    team = (ids - 1) // size
    lead = 1 + team * size
    parent = np.concatenate([[-1], np.where(ids == lead, 0, lead)]).astype(np.int64)
    a, b = [ids[ids == lead]], [np.zeros((ids == lead).sum(), dtype=np.int64)]
    for offset in range(1, size):
        j = ids + offset
        ok = (j < n) & ((j - 1) // size == team)
        a.append(ids[ok])
        b.append(j[ok])
    has_liaison = gen.random(len(ids)) < liaison
    partner = gen.integers(1, n, len(ids)) if n > 1 else np.zeros(len(ids), dtype=np.int64)
    cross = has_liaison & ((partner - 1) // size != team)
    a.append(ids[cross])
    b.append(partner[cross])
    return n, _unique_edges(np.concatenate(a), np.concatenate(b)), parent


def star(n: int):
    ids = np.arange(1, n)
    parent = np.concatenate([[-1], np.zeros(n - 1, dtype=np.int64)]).astype(np.int64)
    return n, _unique_edges(ids, np.zeros(n - 1, dtype=np.int64)), parent


def build(cfg: OrgConfig, n: int, seed: int, chart=None):
    """Build the structure named in `cfg`: (n, edges, parent). For `file`, `chart` is a chart
    already parsed in memory (sim.chart.Chart), else the one at `cfg.path`."""
    gen = rng.generator(seed, rng.ORG)
    if cfg.name == "hierarchy":
        return hierarchy(n, cfg.span)
    if cfg.name == "flat":
        return flat(n, cfg.k, cfg.rewire, gen)
    if cfg.name == "teams":
        return teams(n, cfg.size, cfg.liaison, gen)
    if cfg.name == "star":
        return star(n)
    if cfg.name == "file":
        from .chart import read

        chart = chart or read(cfg.path)
        return chart.n, chart.edges, chart.parent
    raise ConfigError(f"org.name = {cfg.name!r} is not allowed")


def csr(n: int, edges: np.ndarray):
    """Symmetric adjacency in CSR form, neighbours sorted by id."""
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    return np.cumsum(indptr), dst.astype(np.int64)


@njit(cache=True)
def _bfs(n, indptr, nbr):
    parent = np.full(n, -2, dtype=np.int64)
    parent[0] = -1
    queue = np.empty(n, dtype=np.int64)
    queue[0] = 0
    head, tail = 0, 1
    while head < tail:
        v = queue[head]
        head += 1
        for p in range(indptr[v], indptr[v + 1]):
            w = nbr[p]
            if parent[w] == -2:
                parent[w] = v
                queue[tail] = w
                tail += 1
    return parent


def bfs_parent(n: int, edges: np.ndarray) -> np.ndarray:
    """Breadth-first tree from member 0; members it cannot reach report to member 0 directly."""
    indptr, nbr = csr(n, edges)
    parent = _bfs(n, indptr, nbr)
    parent[parent == -2] = 0
    return parent


@njit(cache=True)
def reporting_lines(parent, outside):
    """Depth-first pre-order of the reporting forest: every member with parent -1 (and not
    `outside` it) heads a tree, taken in id order.

    Returns (depth, tin, tout, order): member j is in the subtree of m exactly when
    tin[m] <= tin[j] < tout[m], and order[tin[m]:tout[m]] lists that subtree. Members outside
    the forest (the departed) get depth -1 and an empty range.
    """
    n = len(parent)
    count = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        if parent[i] >= 0 and not outside[i]:
            count[parent[i] + 1] += 1
    start = np.cumsum(count)
    fill = start[:-1].copy()
    children = np.empty(max(start[-1], 1), dtype=np.int64)
    for i in range(n):  # children in id order
        if parent[i] >= 0 and not outside[i]:
            children[fill[parent[i]]] = i
            fill[parent[i]] += 1
    depth = np.full(n, -1, dtype=np.int64)
    tin = np.zeros(n, dtype=np.int64)
    tout = np.zeros(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    cursor = np.zeros(n, dtype=np.int64)
    visited = 0
    for root in range(n):
        if parent[root] >= 0 or outside[root]:
            continue
        top = 0
        stack[0] = root
        depth[root] = 0
        tin[root] = visited
        order[visited] = root
        visited += 1
        while top >= 0:
            v = stack[top]
            k = start[v] + cursor[v]
            if k < start[v + 1]:
                cursor[v] += 1
                w = children[k]
                if depth[w] == -1:
                    depth[w] = depth[v] + 1
                    tin[w] = visited
                    order[visited] = w
                    visited += 1
                    top += 1
                    stack[top] = w
            else:
                tout[v] = visited
                top -= 1
    return depth, tin, tout, order[:visited]


def reaches_root(parent: np.ndarray) -> bool:
    """True when the manager chain of every member ends at member 0."""
    parent = parent.copy()
    parent[0] = -1
    depth = reporting_lines(parent, np.zeros(len(parent), dtype=np.bool_))[0]
    return bool((depth >= 0).all())

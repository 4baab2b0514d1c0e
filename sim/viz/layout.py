"""Seeded, stable positions for drawing an organisation.

The start is a radial tree of the reporting lines (member 0 in the centre, each manager's people
in a wedge around it), which shows the org chart at once. A short force-directed relaxation
(Fruchterman-Reingold, vectorised) then pulls tied members together, so small worlds and cross-team
ties read as well. Everything is deterministic given the structure and the seed, so the same
organisation is drawn the same way in every regime and every session: members do not jump when
the regime is switched or the page reloaded.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from numba import njit

RELAX_UP_TO = 3000  # members; above this the radial tree alone is drawn (relaxation is O(n^2))


def radial_tree(parent: np.ndarray) -> np.ndarray:
    """(n, 2) positions in [-1, 1]: depth is the radius, wedges are shared by subtree size.
    Members without a manager other than member 0 hang off member 0."""
    n = len(parent)
    par = np.where((parent < 0) | (parent >= n), 0, parent).astype(np.int64)
    par[0] = -1
    children: list[list[int]] = [[] for _ in range(n)]
    for i in range(1, n):
        children[par[i]].append(i)
    order, depth = [0], np.zeros(n, dtype=np.int64)
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    for i in order:  # breadth-first; grows while iterating
        for c in children[i]:
            if not seen[c]:
                seen[c] = True
                depth[c] = depth[i] + 1
                order.append(c)
    for i in np.flatnonzero(~seen):  # a cycle in the manager links: attach under member 0
        depth[i] = 1
        children[0].append(int(i))
        order.append(int(i))
    leaves = np.ones(n)
    for i in reversed(order):
        if children[i]:
            leaves[i] = sum(leaves[c] for c in children[i])
    start, width = np.zeros(n), np.zeros(n)
    width[0] = 2 * np.pi
    for i in order:
        at = start[i]
        for c in children[i]:
            start[c], width[c] = at, width[i] * leaves[c] / leaves[i]
            at += width[c]
    angle = start + width / 2
    radius = np.sqrt(depth / max(1, depth.max()))  # rings further out hold more members
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def relax(pos: np.ndarray, edges: np.ndarray, seed: int, iterations: int = 60) -> np.ndarray:
    """Fruchterman-Reingold from `pos`, with a seeded nudge so no two members coincide."""
    gen = np.random.default_rng([seed, 20_241])
    pos = np.ascontiguousarray(pos + gen.normal(0.0, 0.01, pos.shape), dtype=np.float64)
    edges = np.ascontiguousarray(edges.reshape(-1, 2), dtype=np.int64)
    return _fruchterman_reingold(pos, edges, iterations)


@njit(cache=True)
def _fruchterman_reingold(pos, edges, iterations):
    n = pos.shape[0]
    k = 2.0 / np.sqrt(n)  # ideal distance in a box of side 2
    temperature = 0.1
    force = np.zeros_like(pos)
    for _ in range(iterations):
        force[:] = 0.0
        for i in range(n):  # repulsion between all pairs
            for j in range(i + 1, n):
                dx = pos[i, 0] - pos[j, 0]
                dy = pos[i, 1] - pos[j, 1]
                d2 = max(dx * dx + dy * dy, 1e-6)
                f = k * k / d2
                force[i, 0] += dx * f
                force[i, 1] += dy * f
                force[j, 0] -= dx * f
                force[j, 1] -= dy * f
        for e in range(edges.shape[0]):  # attraction along ties
            a, b = edges[e, 0], edges[e, 1]
            dx = pos[a, 0] - pos[b, 0]
            dy = pos[a, 1] - pos[b, 1]
            f = np.sqrt(max(dx * dx + dy * dy, 1e-12)) / k
            force[a, 0] -= dx * f
            force[a, 1] -= dy * f
            force[b, 0] += dx * f
            force[b, 1] += dy * f
        for i in range(n):  # weak gravity keeps loose members on screen; steps capped by temperature
            fx = force[i, 0] - 0.05 * pos[i, 0] / k
            fy = force[i, 1] - 0.05 * pos[i, 1] / k
            size = np.sqrt(max(fx * fx + fy * fy, 1e-12))
            step = min(size, temperature) / size
            pos[i, 0] += fx * step
            pos[i, 1] += fy * step
        temperature *= 0.95
    return pos


def normalise(pos: np.ndarray, margin: float = 0.04) -> np.ndarray:
    """Scale into [margin, 1 - margin] on both axes, keeping the aspect ratio."""
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    span = float(max((hi - lo).max(), 1e-9))
    centred = (pos - (lo + hi) / 2) / span
    return 0.5 + centred * (1 - 2 * margin)


_cache: OrderedDict = OrderedDict()


def positions(parent: np.ndarray, edges: np.ndarray, seed: int, key=None) -> np.ndarray:
    """Positions in [0, 1]^2 of members 0..n-1, cached by `key` (the structure and seed)."""
    if key is not None and key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    pos = radial_tree(parent)
    if len(pos) <= RELAX_UP_TO:
        pos = relax(pos, edges, seed)
    pos = normalise(pos)
    if key is not None:
        _cache[key] = pos
        while len(_cache) > 16:
            _cache.popitem(last=False)
    return pos


def place_newcomers(pos: np.ndarray, parent: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Extend `pos` to n members: a hire sits next to its manager, nudged by a seeded offset."""
    if len(pos) >= n:
        return pos
    gen = np.random.default_rng([seed, 7_919, n])
    extra = np.empty((n - len(pos), 2))
    for row, i in enumerate(range(len(pos), n)):
        m = parent[i] if 0 <= parent[i] < len(pos) else 0
        angle = gen.uniform(0, 2 * np.pi)
        extra[row] = pos[m] + 0.03 * np.array([np.cos(angle), np.sin(angle)])
    return np.clip(np.concatenate([pos, extra]), 0.01, 0.99)

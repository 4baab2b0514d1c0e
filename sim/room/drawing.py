"""The projector's pictures, as SVG made on the server: the organisation, with the participants'
members ringed and named, and a few line plots. No JavaScript library, so nothing to fetch.

The organisation is drawn as on the page (sim/viz/network.py): the same seeded layout
(sim/viz/layout.py through LiveOrg), status colours from the Okabe-Ito palette, size by skill,
faded by low energy, member 0 ringed in black, and lines from each team member to its lead.
"""

from __future__ import annotations

import html
import math

import numpy as np

from ..agents import status_of
from ..viz.live import WINDOW
from .room import Room

# As the page's network view (sim/viz/network.py FILLS), colour-blind safe
FILLS = {"idle": "#9aa7b4", "working": "#0072b2", "leading": "#e69f00", "recovering": "#cc79a7", "gone": "#ffffff"}
PLAYER = "#d62728"
SIZE = 1000
TIES_UP_TO = 1500  # members; above this the org chart's ties would hide the members


def organisation(room: Room) -> str:
    """The whole organisation as one SVG (viewBox 0..1000)."""
    org, s = room.org, room.model.state
    n = s.n
    pos = np.round(org.positions()[:n] * SIZE, 1)
    skill = s.skill[:n].mean(axis=1)
    base = min(16.0, max(2.5, 260.0 / math.sqrt(max(1, n))))
    out = [f'<svg class="org" viewBox="0 0 {SIZE} {SIZE}" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'aria-label="the organisation at step {int(room.model.steps)}">']
    if n <= TIES_UP_TO and len(org.chart_edges):
        ties = "".join(f"M{pos[a, 0]:g} {pos[a, 1]:g}L{pos[b, 0]:g} {pos[b, 1]:g}" for a, b in org.chart_edges
                       if a < n and b < n)
        out.append(f'<path d="{ties}" stroke="#d5dbe1" stroke-width="1" fill="none"/>')
    links = []
    statuses = [status_of(s, i) for i in range(n)]
    for i in range(n):
        if statuses[i] == "working":
            lead = int(s.lead[s.task_of[i]])
            if 0 <= lead < n:
                links.append(f"M{pos[i, 0]:g} {pos[i, 1]:g}L{pos[lead, 0]:g} {pos[lead, 1]:g}")
    if links:
        out.append(f'<path d="{"".join(links)}" stroke="#3b4a5a" stroke-opacity="0.45" stroke-width="1.6" fill="none"/>')
    radius = base * (0.5 + 1.5 * skill)
    for i in range(n):
        gone = statuses[i] == "gone"
        opacity = 1.0 if gone else 0.25 + 0.75 * float(s.energy[i])
        stroke = 'stroke="#8a939c" stroke-width="2" stroke-dasharray="4 3"' if gone else 'stroke="#fff" stroke-width="0.8"'
        out.append(f'<circle class="m" data-member="{i}" data-status="{statuses[i]}" cx="{pos[i, 0]:g}" '
                   f'cy="{pos[i, 1]:g}" r="{radius[i]:.1f}" fill="{FILLS[statuses[i]]}" '
                   f'fill-opacity="{opacity:.2f}" {stroke}/>')
    if n:
        ring = "#8a939c" if statuses[0] == "gone" else "#111"
        out.append(f'<circle cx="{pos[0, 0]:g}" cy="{pos[0, 1]:g}" r="{radius[0] + 9:.1f}" fill="none" '
                   f'stroke="{ring}" stroke-width="4"/>')
    placed: list[tuple[float, float, float, float]] = []
    for p in room.active:
        m = p.member
        if m is None or m >= n:
            continue
        x, y, r = pos[m, 0], pos[m, 1], radius[m]
        name = p.name[:14]
        lx, ly = _label_spot(x, y, r, 12.5 * len(name) + 6, placed)
        out.append(f'<g class="player" data-member="{m}"><circle cx="{x:g}" cy="{y:g}" r="{r + 5:.1f}" fill="none" '
                   f'stroke="{PLAYER}" stroke-width="4"/>'
                   f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" font-size="22" font-weight="600" '
                   f'fill="{PLAYER}" stroke="#fff" stroke-width="5" paint-order="stroke">'
                   f'{html.escape(name)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _label_spot(x: float, y: float, r: float, width: float, placed: list) -> tuple[float, float]:
    """Where a participant's name goes: above its member, else below, right or left, whichever
    first overlaps no name already placed (names crowd around member 0)."""
    height = 24.0
    spots = [(x, y - r - 10), (x, y + r + 28), (x + r + 8 + width / 2, y + 8), (x - r - 8 - width / 2, y + 8),
             (x, y - r - 34), (x, y + r + 52)]
    for lx, ly in spots:
        box = (lx - width / 2, ly - height + 4, lx + width / 2, ly + 4)
        if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in placed):
            placed.append(box)
            return lx, ly
    lx, ly = spots[0]
    placed.append((lx - width / 2, ly - height + 4, lx + width / 2, ly + 4))
    return lx, ly


def legend() -> str:
    chips = "".join(f'<span class="chip"><i style="background:{colour}"></i>{name}</span>'
                    for name, colour in FILLS.items())
    return (chips + f'<span class="chip"><i style="background:#fff;border:3px solid {PLAYER}"></i>a participant</span>'
            '<span class="note">size: skill · faded: low energy · black ring: member 0 · lines: team → lead</span>')


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    if len(y) == 0:
        return y
    c = np.cumsum(np.insert(np.nan_to_num(y), 0, 0.0))
    k = np.arange(1, len(y) + 1)
    return (c[k] - c[np.maximum(0, k - window)]) / np.minimum(k, window)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 (times a power of ten) at or above `value`: round axis ends."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(k * power for k in (1, 2, 2.5, 5, 10) if k * power >= value * (1 - 1e-9))


def line_plot(title: str, x, lines, marks=(), unit_range: bool = False, width: int = 380, height: int = 220,
              xlabel: str = "step") -> str:
    """A small SVG line plot. `lines`: (label, y, colour, dashed); `marks`: (x, label) drawn as
    vertical lines (events). NaN leaves a gap."""
    x = np.asarray(x, dtype=float)
    left, right, top, bottom = 44, 10, 30, 44
    w, h = width - left - right, height - top - bottom
    ys = [np.asarray(y, dtype=float) for _, y, _, _ in lines]
    finite = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.array([])
    lo, hi = (0.0, 1.0) if unit_range else (min(0.0, float(finite.min())) if finite.size else 0.0,
                                            nice_ceiling(float(finite.max())) if finite.size else 1.0)
    hi = hi if hi > lo else lo + 1.0
    x0, x1 = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    x1 = x1 if x1 > x0 else x0 + 1.0

    def sx(v):
        return left + (v - x0) / (x1 - x0) * w

    def sy(v):
        return top + h - (v - lo) / (hi - lo) * h

    out = [f'<svg class="plot" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
           f'<text x="{left}" y="19" font-size="15" font-weight="600" fill="#1d2730">{html.escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fbfcfd" stroke="#d5dbe1"/>']
    for v in (lo, (lo + hi) / 2, hi):
        out.append(f'<text x="{left - 5}" y="{sy(v) + 4:.1f}" font-size="12" text-anchor="end" fill="#556">'
                   f'{v:.3g}</text>')  # ends are round (nice_ceiling): short labels
    for v in (x0, x1):
        out.append(f'<text x="{sx(v):.1f}" y="{top + h + 15}" font-size="12" text-anchor="middle" fill="#556">'
                   f'{v:.0f}</text>')
    out.append(f'<text x="{left + w / 2:.1f}" y="{top + h + 15}" font-size="12" text-anchor="middle" fill="#556">{xlabel}</text>')
    for step, label in marks:
        if x0 <= step <= x1:
            out.append(f'<line x1="{sx(step):.1f}" x2="{sx(step):.1f}" y1="{top}" y2="{top + h}" stroke="#7f7f7f" '
                       f'stroke-dasharray="3 3"><title>{html.escape(label)}</title></line>')
    legend_x = left
    for (label, _, colour, dashed), y in zip(lines, ys):
        parts, pen = [], "M"
        for xi, yi in zip(x, y):
            if not np.isfinite(yi):
                pen = "M"
                continue
            parts.append(f"{pen}{sx(xi):.1f} {sy(yi):.1f}")
            pen = "L"
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<path d="{"".join(parts)}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<line x1="{legend_x}" x2="{legend_x + 16}" y1="{height - 9}" y2="{height - 9}" '
                   f'stroke="{colour}" stroke-width="2.5"{dash}/>'
                   f'<text x="{legend_x + 20}" y="{height - 5}" font-size="12" fill="#333">{html.escape(label)}</text>')
        legend_x += 34 + 7.2 * len(label)
    out.append("</svg>")
    return "".join(out)


def agreement(room: Room) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per completed round: its number, the room's own decisions, and the share of them that
    were what the rule would have chosen (NaN when nobody decided)."""
    rounds, own, share = [], [], []
    for record in room.rounds:
        mine = [r for r in record["players"] if r["agreed"] is not None]
        rounds.append(record["round"])
        own.append(len(mine))
        share.append(sum(r["agreed"] for r in mine) / len(mine) if mine else np.nan)
    return np.array(rounds, dtype=float), np.array(own, dtype=float), np.array(share, dtype=float)


def plots(room: Room) -> list[str]:
    """The projector's plots: value, backlog, who leads, the room's members against the rest
    (energy, autonomy), and how often the room decided as the rule would have."""
    hist = room.org.history
    step = hist.array("step")
    marks = room.org.marks
    value = hist.array("value_captured")
    groups = np.array(room.group_energy, dtype=float).reshape(-1, 5)
    rounds, _, share = agreement(room)
    return [
        line_plot("Value captured per step", step,
                  [("per step", value, "#9ab8d3", False), (f"{WINDOW}-step mean", _smooth(value, WINDOW), "#0072b2", False)],
                  marks),
        line_plot("Backlog and tasks failed", step,
                  [("backlog", hist.array("backlog"), "#0072b2", False),
                   ("failed, total", hist.array("failed_total"), "#d55e00", True)], marks),
        line_plot("Who leads", step, [("distinct leaders", hist.array("distinct_leads"), "#e69f00", False)], marks),
        line_plot("Energy: room's members vs the rest", groups[:, 0],
                  [("room's members", groups[:, 1], PLAYER, False), ("the rest", groups[:, 2], "#0072b2", True)],
                  marks, unit_range=True),
        line_plot("Autonomy: room's members vs the rest", groups[:, 0],
                  [("room's members", groups[:, 3], PLAYER, False), ("the rest", groups[:, 4], "#0072b2", True)],
                  marks, unit_range=True),
        line_plot("Choices agreeing with the rule", rounds,
                  [("share agreeing", share, "#009e73", False)], unit_range=True, xlabel="round"),
    ]

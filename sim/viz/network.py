"""The organisation view: members on a seeded layout, coloured by status, sized by skill, faded
by low energy, member 0 ringed, and lines from each team member to the lead of its task.

The drawing is an SVG in a small Vue template (network.vue), so it needs no JavaScript library
beyond what the page already loads. Positions and ties are sent once per organisation; each frame
sends only status, radius, opacity and team links (a few kB at 500 members).
"""

from __future__ import annotations

import math

import ipyvue
import numpy as np
import solara
import traitlets

from ..agents import GONE, IDLE, LEADING, RECOVERING, WORKING
from .live import LiveOrg

# One letter per status on the wire; colours from the Okabe-Ito palette (safe for colour blindness)
CODES = {IDLE: "i", WORKING: "w", LEADING: "l", RECOVERING: "r", GONE: "g"}
FILLS = {"i": "#9aa7b4", "w": "#0072b2", "l": "#e69f00", "r": "#cc79a7", "g": "#ffffff"}
LEGEND = [(IDLE, FILLS["i"]), (WORKING, FILLS["w"]), (LEADING, FILLS["l"]), (RECOVERING, FILLS["r"]),
          (GONE, "#ffffff")]
SIZE = 1000  # the SVG's user units


class NetworkCanvas(ipyvue.VueTemplate):
    """Per-member numbers travel as comma-separated text: one string, not a list of hundreds of
    items that every redraw would walk through (reacton visits list props item by item)."""

    template_file = (__file__, "network.vue")

    xs = traitlets.Unicode("").tag(sync=True)  # "x0,x1,..." in SVG units
    ys = traitlets.Unicode("").tag(sync=True)
    ties = traitlets.Unicode("").tag(sync=True)  # one SVG path for every tie of the org chart
    fills = traitlets.Dict(FILLS).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)  # one letter a member, see CODES
    radius = traitlets.Unicode("").tag(sync=True)
    opacity = traitlets.Unicode("").tag(sync=True)  # energy, as a percentage of full opacity
    links = traitlets.Unicode("").tag(sync=True)  # team member -> lead of its task
    step = traitlets.Int(0).tag(sync=True)
    height = traitlets.Int(560).tag(sync=True)
    css_height = traitlets.Unicode("").tag(sync=True)  # a CSS height instead (presentation: fills the screen)
    hovered = traitlets.Int(-1).tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)


def _numbers(values) -> str:
    return ",".join(f"{v:g}" for v in values)


def geometry(org: LiveOrg) -> dict:
    """What stays fixed while an organisation runs: positions and the org chart's ties."""
    pos = np.round(org.positions() * SIZE, 1)
    xs, ys = pos[:, 0].tolist(), pos[:, 1].tolist()
    parts = [f"M{xs[a]:g} {ys[a]:g}L{xs[b]:g} {ys[b]:g}" for a, b in org.chart_edges]
    return {"xs": _numbers(xs), "ys": _numbers(ys), "ties": "".join(parts), "n": len(xs), "pos": pos}


def frame(org: LiveOrg, pos: np.ndarray) -> dict:
    """What changes every step, read member by member through the Mesa agent views."""
    model = org.model
    n = len(pos)
    lead_of_task = model.state.lead
    # the agents' `skill` rows, read as one array: a per-agent mean would cost more than the step
    skill = model.state.skill[:n].mean(axis=1)
    base = min(16.0, max(2.5, 260.0 / math.sqrt(max(1, n))))  # members shrink as the org grows
    status, opacity, links = [], [], []
    for agent in model.member_agents[:n]:
        code = CODES[agent.status]
        status.append(code)
        opacity.append(int(25 + 75 * agent.energy))  # a tired member fades, never vanishes
        if code == "w":
            lead = int(lead_of_task[agent.task])
            if 0 <= lead < n:
                (x0, y0), (x1, y1) = pos[agent.index], pos[lead]
                links.append(f"M{x0:g} {y0:g}L{x1:g} {y1:g}")
    radius = np.round(base * (0.5 + 1.5 * skill), 1)
    return {"status": "".join(status), "radius": _numbers(radius.tolist()),
            "opacity": ",".join(map(str, opacity)), "links": "".join(links), "step": org.steps}


@solara.component
def NetworkView(org: LiveOrg, version: int, height: int = 560, on_member=None, css_height: str = ""):
    """The drawing of one organisation; `on_member(index)` gets the member hovered or clicked
    (-1 when the pointer leaves and nothing is selected)."""
    shape = solara.use_memo(lambda: geometry(org), [id(org.model), len(org.positions())])
    drawn = {k: shape[k] for k in ("xs", "ys", "ties")}
    hovered, set_hovered = solara.use_state(-1)
    selected, set_selected = solara.use_state(-1)

    def hover(index):
        set_hovered(index)
        if on_member:
            on_member(index if index >= 0 else selected)

    def select(index):
        set_selected(index)
        if on_member:
            on_member(index)

    data = frame(org, shape["pos"])
    NetworkCanvas.element(**drawn, **data, fills=FILLS, height=height, css_height=css_height, selected=selected,
                          hovered=hovered, on_hovered=hover, on_selected=select)


@solara.component
def Legend():
    chips = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:14px">'
        f'<span style="width:13px;height:13px;border-radius:50%;background:{colour};display:inline-block;'
        f'margin-right:5px;border:{"2px dashed #8a939c" if name == GONE else "1px solid #fff"}"></span>{name}</span>'
        for name, colour in LEGEND)
    notes = ("size: skill · faded: low energy · black ring: member 0, the designated leader · "
             "lines: team member → lead of its task · hover or click a member for details")
    solara.HTML(tag="div", unsafe_innerHTML=f'<div class="leadsim-legend" style="font-size:14px">{chips}</div>'
                f'<div style="font-size:12px;color:#555">{notes}</div>')


@solara.component
def MemberCard(org: LiveOrg, index: int, version: int):
    """Autonomy, skill, energy and tasks led of one member (member 0 until one is chosen)."""
    info = org.member(index if index >= 0 else 0)
    if info is None:
        return
    who = f"Member {info['index']}" + (" (designated leader)" if info["designated_leader"] else "")
    skills = ", ".join(f"{v:.2f}" for v in info["skills"])
    manager = "none" if info["manager"] < 0 else str(info["manager"])
    solara.HTML(tag="div", unsafe_innerHTML=(
        f'<div class="leadsim-member" style="font-size:14px;line-height:1.5">'
        f'<b>{who}</b>: <span class="member-status">{info["status"]}</span><br>'
        f'autonomy <b>{info["autonomy"]:.2f}</b> · skill <b>{info["skill"]:.2f}</b> '
        f'<span style="color:#777">({skills})</span> · energy <b>{info["energy"]:.2f}</b> · '
        f'tasks led <b>{info["tasks_led"]}</b> · manager {manager}</div>'))

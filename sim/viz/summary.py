"""One line of headline numbers for an organisation, above its drawing."""

from __future__ import annotations

import html

import solara

from .live import LiveOrg


@solara.component
def OrgHeader(org: LiveOrg, frame: int, letter: str = "", colour: str = "#333333", compact: bool = False):
    """`frame` changes with every step: components redraw only when an argument changes.
    `compact` (presentation mode) keeps to what a room reads from the back."""
    row = org.model.observables
    total = org.history.value_total[-1]
    leader = org.model.member_agents[0].status
    name = html.escape(f"{letter}: {org.label}" if letter else f"{org.label} leadership")
    more = "" if compact else (f' · leading now <b>{row["active_leads"]}</b> · members <b>{row["members"]}</b>')
    solara.HTML(tag="div", unsafe_innerHTML=(
        f'<div class="leadsim-header" style="font-size:15px">'
        f'<b style="color:{colour}">{name}</b> · <span class="leadsim-step">step {org.steps}</span>'
        f' · value captured <b>{total:.1f}</b> · backlog <b>{row["backlog"]}</b>{more}'
        f' · member 0 <b class="leadsim-leader-status">{leader}</b></div>'))

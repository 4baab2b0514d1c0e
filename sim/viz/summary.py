"""One line of headline numbers for an organisation, above its drawing."""

from __future__ import annotations

import solara

from .live import LiveOrg


@solara.component
def OrgHeader(org: LiveOrg, frame: int, letter: str = "", colour: str = "#333333"):
    """`frame` changes with every step: components redraw only when an argument changes."""
    row = org.model.observables
    total = org.history.value_total[-1]
    leader = org.model.member_agents[0].status
    name = f"{letter}: {org.label}" if letter else f"{org.label} leadership"
    solara.HTML(tag="div", unsafe_innerHTML=(
        f'<div class="leadsim-header" style="font-size:15px">'
        f'<b style="color:{colour}">{name}</b> · <span class="leadsim-step">step {org.steps}</span>'
        f' · value captured <b>{total:.1f}</b> · backlog <b>{row["backlog"]}</b>'
        f' · leading now <b>{row["active_leads"]}</b> · members <b>{row["members"]}</b>'
        f' · member 0 <b class="leadsim-leader-status">{leader}</b></div>'))

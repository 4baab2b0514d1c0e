"""Compare mode: two organisations side by side, built from the same settings and seed except
their regime, so they face the identical task stream (common random numbers) and step in
lockstep. Their paired difference in value captured is the effect of the regime."""

from __future__ import annotations

import solara

from .live import LiveOrg, paired_difference
from .network import Legend, MemberCard, NetworkView
from .plots import ORG_COLOURS, DifferencePanel, PlotPanel, Plots, chosen_panels, event_marks
from .summary import OrgHeader


@solara.component
def CompareView(orgs: list[LiveOrg], frame: int, version: int, chosen=(), present: bool = False):
    """In presentation mode: both drawings, then the paired difference and two plots in one row,
    sized for a 1280x720 projector screen."""
    member, set_member = solara.use_state((0, -1))  # (organisation, member) hovered or chosen
    with solara.Columns([1, 1], gutters_dense=True):
        for o, org in enumerate(orgs[:2]):
            with solara.Column(gap="2px", classes=[f"leadsim-org-{'ab'[o]}"]):
                OrgHeader(org, frame, letter="AB"[o], colour=ORG_COLOURS[o], compact=present)
                NetworkView(org, frame, height=430, on_member=lambda i, o=o: set_member((o, i)),
                            css_height="max(200px, calc(100vh - 470px))" if present else "")
    if present:
        with solara.Columns([1, 1, 1], gutters_dense=True):
            DifferencePanel(paired_difference(orgs), (orgs[0].label, orgs[1].label), frame, height=135,
                            events=tuple(event_marks(orgs)))
            for panel in chosen_panels(chosen)[:2]:
                PlotPanel(panel, orgs, frame, height=135).key(f"plot-{panel.id}")
        return
    Legend()
    which, index = member
    if which < len(orgs):
        with solara.Row(gap="6px", style={"align-items": "baseline"}):
            solara.Text(f"{'AB'[which]}:", style={"font-weight": "600"})
            MemberCard(orgs[which], index, frame)
    DifferencePanel(paired_difference(orgs), (orgs[0].label, orgs[1].label), frame, events=tuple(event_marks(orgs)))
    Plots(orgs, frame, chosen=chosen)

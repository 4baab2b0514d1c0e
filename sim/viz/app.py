"""The leadsim page: `page` is what `uv run leadsim-viz` serves (solara run sim.viz.app).

State lives in a Session (sim/viz/live.py) per browser tab. Two counters redraw the page: `frame`
(every step: drawings, plots, headline numbers) and `version` (settings, interventions, errors:
also the controls). Only the components that read a counter redraw when it changes, so playing
redraws the drawing and the plots, not the controls.
"""

from __future__ import annotations

import html
import logging
import os
import time

import solara
import solara.lab

from .compare import CompareView
from .controls import Interventions, RunBar, SettingsPanel
from .live import Session, Settings
from .network import Legend, MemberCard, NetworkView
from . import scenarios
from .plots import PANELS, Plots, chosen_panels
from .summary import OrgHeader
from .workshop import PredictionBox

log = logging.getLogger("leadsim.viz")

# time per frame while playing: 10 frames a second (LEADSIM_VIZ_FRAME_SECONDS=0 runs flat out,
# for benchmarks/viz_speed.py --uncapped)
FRAME_SECONDS = float(os.environ.get("LEADSIM_VIZ_FRAME_SECONDS", "0.1"))


class Cadence:
    """Frames due at fixed times, `seconds` apart. Frames that run late are made up by starting the
    next ones at once, so the page keeps its rate when some frames cost more than others (a busy
    machine, a plot's scale changing). Only up to `catch_up` frames: after a longer stall the
    cadence starts afresh instead of rushing through all the frames it missed."""

    def __init__(self, seconds: float, catch_up: int = 5, clock=time.perf_counter, sleep=time.sleep):
        self.seconds, self.catch_up, self.clock, self.sleep = seconds, catch_up, clock, sleep
        self.due = clock()

    def wait(self) -> None:
        """Return when the next frame is due."""
        self.due += self.seconds
        now = self.clock()
        if now - self.due > self.catch_up * self.seconds:
            self.due = now
        elif self.due > now:
            self.sleep(self.due - now)


CSS = """
.leadsim-page { font-size: 15px; }
.leadsim-settings { width: 340px; min-width: 300px; max-height: calc(100vh - 24px); overflow-y: auto;
                    padding-right: 8px; border-right: 1px solid #e3e7eb; }
.leadsim-main { flex: 1 1 0; min-width: 0; }
.leadsim-plot .bqplot { min-width: 0 !important; }
.leadsim-knob .v-input__slot { margin-bottom: 0; }
/* presentation mode: for a projector, everything larger and nothing but the run on screen */
.leadsim-present { font-size: 19px; }
.leadsim-present .leadsim-header { font-size: 17px !important; }
.leadsim-present .leadsim-plot-title { font-size: 18px !important; }
.leadsim-present .leadsim-notice, .leadsim-present .leadsim-error { font-size: 18px; }
.leadsim-present .bqplot text { font-size: 14px !important; }
"""


@solara.component
def LiveArea(session: Session, frame: solara.Reactive, version: solara.Reactive, present: bool = False):
    """The drawings, headline numbers and plots: redrawn every frame. In presentation mode they
    are sized to fit one 1280x720 projector screen beneath the bar of controls."""
    frame_now, version_now = frame.value, version.value
    member, set_member = solara.use_state(-1)
    orgs = list(session.orgs)  # one snapshot for the whole frame
    if not orgs:  # the very first settings failed: Messages says why
        return
    chosen = list(session.plots)
    if len(orgs) > 1:
        CompareView(orgs, frame_now, version_now, chosen=chosen, present=present)
        return
    org = orgs[0]
    with solara.Row(gap="16px", style={"align-items": "flex-start"}):
        with solara.Column(style={"flex": "11 1 0", "min-width": "0"}, gap="4px"):
            OrgHeader(org, frame_now, compact=present)
            NetworkView(org, frame_now, height=520, on_member=set_member,
                        css_height="max(300px, calc(100vh - 230px))" if present else "")
            if not present:
                Legend()
            MemberCard(org, member, frame_now)
        with solara.Column(style={"flex": "10 1 0", "min-width": "0"}):
            Plots(orgs, frame_now, columns=2, height=190 if present else 140,
                  chosen=chosen_panels(chosen)[:4] if present else chosen)


@solara.component
def PlotChooser(session: Session, version: int, refresh):
    """Which time plots to show; a scenario starts with the ones its `watch` text names."""
    titles = {panel.id: panel.title for panel in PANELS}
    shown = [titles[p.id] for p in chosen_panels(session.plots)]

    def choose(selected):
        session.plots = [pid for pid, title in titles.items() if title in selected]
        refresh()

    solara.SelectMultiple("Plots", values=shown, all_values=list(titles.values()), on_value=choose,
                          classes=["leadsim-plot-chooser"])


@solara.component
def Messages(session: Session, version: solara.Reactive):
    version.value  # redraw when settings or interventions change
    if session.error:
        solara.Error(session.error, classes=["leadsim-error"], icon="mdi-alert-circle-outline", dense=True)
    elif session.notice:
        solara.Info(session.notice, classes=["leadsim-notice"], dense=True)


@solara.component
def Page(settings: Settings | None = None):
    """The whole page; `settings` (tests, benchmarks) replaces the default first organisation."""
    session = solara.use_memo(lambda: Session(settings), [])
    frame = solara.use_reactive(0)
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(1)
    present = solara.use_reactive(False)  # presentation mode, for a projector

    def redraw():  # after a step
        with session.lock:
            frame.set(frame.value + 1)

    def refresh():  # after any other change
        with session.lock:
            version.set(session.version)
            frame.set(frame.value + 1)

    task = solara.use_ref(None)

    def play():
        """Step and redraw until paused, one frame every FRAME_SECONDS. Stops as well when this
        call is superseded (pause, then play again) or the page is closed."""
        cadence = Cadence(FRAME_SECONDS)
        while playing.value and task.current is not None and task.current.is_current():
            with session.lock:
                stepped = session.play(speed.value)  # pauses at a scenario's end, a target, before an event
                frame.set(frame.value + 1)  # the redraw happens here, in this thread
            if not stepped:
                playing.set(False)
                version.set(session.version)
                break
            cadence.wait()

    task.current = solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    solara.Title("leadsim: who leads?")
    solara.Style(CSS)
    if present.value:  # the settings collapse to one bar; the run fills the screen
        with solara.Column(classes=["leadsim-page", "leadsim-present"], gap="4px", style={"padding": "6px 10px"}):
            with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "nowrap"}):
                title = scenarios.by_name(session.settings.scenario).title
                solara.HTML(tag="div", unsafe_innerHTML=f'<div class="leadsim-present-title" '
                            f'style="font-size:22px;font-weight:700;white-space:nowrap">{html.escape(title)}</div>')
                RunBar(session, playing, speed, version.value, refresh, redraw, compact=True)
                solara.Button(icon_name="mdi-tune", on_click=lambda: present.set(False), icon=True,
                              classes=["leadsim-leave-presentation"], style={"margin-left": "auto"})
            Messages(session, version)
            LiveArea(session, frame, version, present=True)
        return
    with solara.Row(gap="16px", classes=["leadsim-page"], style={"align-items": "flex-start", "padding": "8px"}):
        with solara.Column(classes=["leadsim-settings"], gap="6px"):
            with solara.Row(style={"align-items": "center"}):
                solara.HTML(tag="div", unsafe_innerHTML='<div style="font-size:20px;font-weight:700">leadsim</div>'
                            '<div style="font-size:13px;color:#555">distributed vs heroic leadership, live</div>')
                solara.Button("Present", icon_name="mdi-projector-screen", on_click=lambda: present.set(True),
                              outlined=True, classes=["leadsim-enter-presentation"], style={"margin-left": "auto"})
            SettingsPanel(session, version.value, refresh)
            PlotChooser(session, version.value, refresh)
        with solara.Column(classes=["leadsim-main"], gap="6px"):
            RunBar(session, playing, speed, version.value, refresh, redraw)
            Interventions(session, version.value, refresh)
            Messages(session, version)
            PredictionBox(session, frame, playing).key(f"prediction-{session.settings.scenario}")
            LiveArea(session, frame, version)


page = Page

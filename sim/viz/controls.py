"""Controls: settings (scenario, regime, structure, size, seed, the theory's sliders), the run bar
(step, play, pause, reset) and live interventions.

Sliders are data: each names a parameter of sim/config.py, whose field metadata gives the
label (the theory construct), the tooltip (its meaning) and the default. A slider commits its
value when released, and every committed change rebuilds the organisation from step 0.
"""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass

import reacton.ipyvuetify as rv
import solara

from ..config import ORGS, REGIMES, ModelConfig, flat_dict as flat_config
from . import scenarios
from .live import MAX_CHART_BYTES, MAX_MEMBERS, Session

ORG_LABELS = {"hierarchy": "hierarchy (a tree of managers)", "flat": "flat (a small world)",
              "teams": "teams (a team of teams)", "star": "star (everyone tied to member 0)",
              "file": "from a file (GraphML or edge list)"}
REGIME_LABELS = {"heroic": "heroic: everything through member 0",
                 "hierarchical": "hierarchical: managers decide",
                 "distributed": "distributed: anyone may step up",
                 "hybrid": "hybrid: managers allocate a share of the work"}
SPEEDS = (1, 2, 5, 10)  # steps per frame while playing


@dataclass(frozen=True)
class Knob:
    key: str  # dotted parameter name in sim/config.py
    lo: float
    hi: float
    step: float
    label: str = ""  # shown name; the parameter's theory construct when empty


KNOBS = (
    Knob("culture.purpose", 0, 1, 0.05, "shared purpose"),
    Knob("culture.contribution", 0, 1, 0.05, "ethic of contribution"),
    Knob("culture.procedures", 0, 1, 0.05, "process management"),
    Knob("culture.trust0", 0, 1, 0.05, "trust at the start"),
    Knob("member.coord_cost", 0, 1, 0.01, "coordination cost"),
    Knob("culture.autonomy_support", 0, 1, 0.05, "autonomy support"),
    Knob("env.turbulence", 0, 0.5, 0.01, "turbulence"),
    Knob("env.complexity", 1, 8, 0.5, "complexity"),
    Knob("member.n_domains", 2, 8, 1, "division of expertise"),
    Knob("env.task_rate", 0.001, 0.05, 0.001, "load"),
    Knob("regime.centralisation", 0, 1, 0.05, "centralisation (hybrid)"),
)


def meta(key: str) -> dict:
    """Default, range, meaning and construct of a dotted parameter, from sim/config.py."""
    group, _, name = key.partition(".")
    obj = getattr(ModelConfig(), group)
    f = {g.name: g for g in dataclasses.fields(obj)}[name]
    return {**f.metadata, "default": getattr(obj, name), "integer": f.type in ("int", int)}


def defaults() -> dict:
    return {knob.key: meta(knob.key)["default"] for knob in KNOBS}


def tooltip(knob: Knob) -> str:
    m = meta(knob.key)
    return f"{m['doc']} ({knob.key}; construct: {m['construct']}; default {m['default']:g})"


def running_text(running: list[float]) -> str:
    """What a knob's organisations run with: one value, or each organisation's when a scenario
    variant sets it apart ("A 0.2 · B 0.9")."""
    if len(set(running)) <= 1:
        return f"{running[0]:g}" if running else ""
    return " · ".join(f"{letter} {v:g}" for letter, v in zip("AB", running))


@solara.component
def KnobSlider(knob: Knob, value: float, running: list[float], on_commit, disabled: bool = False):
    """A slider that shows, beside its name, the value the organisation(s) run with; while it is
    dragged, the value under the thumb; on release it commits. `value` places the thumb."""
    m = meta(knob.key)
    shown, set_shown = solara.use_state(value)
    dragging, set_dragging = solara.use_state(False)
    solara.use_effect(lambda: set_shown(value), [value])
    label = knob.label or m["construct"]
    css = knob.key.replace(".", "-")
    with solara.Column(gap="0px", classes=["leadsim-knob", f"leadsim-knob-{css}"]):
        with solara.Row(gap="6px", style={"align-items": "baseline"}):
            with solara.Tooltip(tooltip(knob)):
                solara.HTML(tag="span", unsafe_innerHTML=f'<span style="font-size:14px;font-weight:500">{label}</span>'
                            f' <span style="font-size:11px;color:#888">{knob.key}</span>')
            solara.Text(f"{shown:g}" if dragging else running_text(running), classes=["leadsim-knob-value"],
                        style={"margin-left": "auto", "font-size": "14px"})

        def drag(v):
            set_dragging(True)
            set_shown(float(v))

        slider = rv.Slider(v_model=shown, on_v_model=drag, min=knob.lo, max=knob.hi,
                           step=knob.step, hide_details=True, dense=True, disabled=disabled,
                           class_=f"leadsim-slider-{css}")

        def commit(widget, event, data):
            set_dragging(False)
            number = int(round(float(data))) if m["integer"] else round(float(data), 6)
            on_commit(knob.key, number)

        rv.use_event(slider, "change", commit)


@solara.component
def SettingsPanel(session: Session, version: int, refresh):
    """Scenario, mode, regimes, structure, size, seed and the sliders."""
    s = session.settings

    def apply(method, *args, **kwargs):
        method(*args, **kwargs)
        refresh()

    preset = scenarios.by_name(s.scenario)
    names = [item.name for item in scenarios.menu()]
    titles = {item.name: item.title for item in scenarios.menu()}
    solara.Select("Scenario", values=[titles[n] for n in names], value=titles[s.scenario],
                  on_value=lambda title: apply(session.choose_scenario,
                                               names[[titles[n] for n in names].index(title)], defaults()))
    # plain HTML, not solara.Markdown: Markdown loads KaTeX from a CDN, which is unreachable offline.
    # The "predict first" question and what to watch are in the prediction box (workshop.py).
    solara.HTML(tag="div", unsafe_innerHTML='<div class="leadsim-scenario" style="font-size:13px;line-height:1.4">'
                f"<p style='margin:0 0 6px 0'>{html.escape(preset.description)}</p></div>")
    solara.ToggleButtonsSingle(value="compare" if s.compare else "single", values=["single", "compare"],
                               on_value=lambda mode: apply(session.update, compare=mode == "compare"))
    sides = session.sides()
    labels = [label for label, _ in preset.variants]
    if labels:  # the scenario's variants choose the organisation(s)
        boxes = ["Organisation A", "Organisation B"] if s.compare else ["Variant"]
        for name, field, side in zip(boxes, ("variant_a", "variant_b"), sides):
            current = getattr(s, field) % len(labels)
            solara.Select(name, values=labels, value=labels[current],
                          on_value=lambda label, field=field: apply(session.update, **{field: labels.index(label)})
                          ).key(f"select-{field}")
            if side["extra"]:
                sets = ", ".join(f"{k} = {v}" for k, v in _flat_items(side["extra"]))
                solara.Text(f"sets {sets}", style={"font-size": "12px", "color": "#666", "margin-top": "-8px"}
                            ).key(f"sets-{field}")
    regime_names = ["Regime of A", "Regime of B"] if s.compare else ["Leadership regime"]
    for name, field, side in zip(regime_names, ("regime", "regime_b"), sides):
        if not side["regime_fixed"]:
            _select(name, REGIMES, REGIME_LABELS, getattr(s, field),
                    lambda r, field=field: apply(session.update, **{field: r})).key(f"select-{field}")
    _select("Org structure", ORGS, ORG_LABELS, s.org, lambda o: apply(session.update, org=o)).key("select-org")
    if s.org == "file":
        # an upload only: the page never opens a path on the server, whoever is typing
        solara.FileDrop(label=f"Drop a GraphML or edge-list chart here (up to {MAX_CHART_BYTES // 2**20} MB, "
                              f"{MAX_MEMBERS:,} members)",
                        on_file=lambda f: apply(session.use_org_file, f["name"], f["data"]), lazy=False)
        if s.org_chart is not None:
            solara.Text(f"{s.org_chart.source}: {s.org_chart.n} members",
                        style={"font-size": "12px", "color": "#666"})
    with solara.Row(gap="12px"):
        solara.InputInt(f"Members (up to {MAX_MEMBERS:,})", value=int(s.n_members), continuous_update=False,
                        disabled=s.org == "file", on_value=lambda n: apply(session.update, n_members=n))
        solara.InputInt("Seed", value=int(s.seed), continuous_update=False,
                        on_value=lambda n: apply(session.update, seed=n))
    solara.Text("Culture, work and environment (hover a name for its meaning):",
                style={"font-size": "13px", "color": "#555", "margin-top": "6px"})
    running = [flat_config(org.model.cfg) for org in session.orgs]
    for knob in KNOBS:
        value = s.values.get(knob.key, meta(knob.key)["default"])
        values = [r[knob.key] for r in running] or [value]
        set_apart = bool(running) and all(v != value for v in values)  # every organisation's variant sets it
        # keyed: when the controls above change (a scenario's variant selects), each slider
        # keeps its own state instead of inheriting the one that stood in its place
        KnobSlider(knob, values[0] if set_apart else value, values, disabled=set_apart,
                   on_commit=lambda key, v: apply(session.set_value, key, v)).key(f"knob-{knob.key}")
    solara.Text("Changing a setting restarts the organisation at step 0 with the same seed.",
                style={"font-size": "12px", "color": "#777"})


def _flat_items(nested: dict):
    for key, value in nested.items():
        if isinstance(value, dict):
            yield from ((f"{key}.{k}", v) for k, v in value.items())
        else:
            yield key, value


def _select(label, options, labels, value, on_value):
    shown = [labels.get(o, o) for o in options]
    return solara.Select(label, values=shown, value=labels.get(value, value),
                         on_value=lambda text: on_value(options[shown.index(text)]))


@solara.component
def RunBar(session: Session, playing: solara.Reactive, speed: solara.Reactive, version: int, refresh, redraw,
           compact: bool = False):
    def step():  # one frame's worth: "Steps per frame" applies to Step as well as to Play
        if session.step(speed.value):
            redraw()
        else:
            refresh()

    def reset():
        playing.set(False)
        session.reset()
        refresh()

    now = session.orgs[0].steps if session.orgs else 0
    target, set_target = solara.use_state(None)

    def run_to():
        goal = target if target is not None else (session.end or now + 100)
        if goal > now:
            session.run_to = int(goal)
            playing.set(True)

    def pause_at_events(on):
        session.pause_at_events = bool(on)
        refresh()

    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Step", icon_name="mdi-step-forward", on_click=step, disabled=playing.value or not session.ok,
                      color="primary", outlined=True)
        if playing.value:
            solara.Button("Pause", icon_name="mdi-pause", on_click=lambda: playing.set(False), color="primary")
        else:
            solara.Button("Play", icon_name="mdi-play", on_click=lambda: playing.set(True), color="primary",
                          disabled=not session.ok)
        solara.Button("Reset", icon_name="mdi-restore", on_click=reset, outlined=True)
        with solara.Div(style={"width": "130px"}):
            solara.Select("Steps per frame", values=list(SPEEDS), value=speed.value, on_value=speed.set)
        with solara.Div(style={"width": "110px"}, classes=["leadsim-run-to"]):
            solara.InputInt("Run to step", value=target if target is not None else (session.end or now + 100),
                            on_value=set_target, continuous_update=False)
        solara.Button("Run", icon_name="mdi-fast-forward", on_click=run_to, outlined=True,
                      disabled=playing.value or not session.ok)
        if session.event_steps():
            solara.Checkbox(label="pause before events" if compact else "pause before each scheduled event",
                            value=session.pause_at_events, on_value=pause_at_events)


@solara.component
def Interventions(session: Session, version: int, refresh):
    """Live events on the running organisations: the leader leaves, a market shock, a new regime."""
    target, set_target = solara.use_state("all")
    switch_to, set_switch_to = solara.use_state("distributed")
    compare = len(session.orgs) > 1

    def act(kind, arg=None, where="all"):
        session.intervene(kind, arg, where)
        refresh()

    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("The leader leaves", icon_name="mdi-exit-run", on_click=lambda: act("leader_leaves"),
                      disabled=not session.ok, color="error", outlined=True)
        solara.Button("Market shock", icon_name="mdi-flash", on_click=lambda: act("shock"),
                      disabled=not session.ok, color="warning", outlined=True)
        with solara.Div(style={"width": "150px"}):
            solara.Select("Switch regime to", values=list(REGIMES), value=switch_to, on_value=set_switch_to)
        if compare:
            labels = {"all": "both", "0": f"A ({session.orgs[0].label})", "1": f"B ({session.orgs[1].label})"}
            with solara.Div(style={"width": "170px"}):
                solara.Select("in", values=list(labels.values()), value=labels[target],
                              on_value=lambda text: set_target(next(k for k, v in labels.items() if v == text)))
        solara.Button(f"Switch to {switch_to}", icon_name="mdi-swap-horizontal",
                      on_click=lambda: act("regime", switch_to, target if compare else "all"),
                      disabled=not session.ok, outlined=True)

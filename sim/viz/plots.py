"""Live plots of the observables (bqplot: each frame sends only the new arrays, drawn as SVG).

The panels are data: a title, the lines to draw (observable names from sim/observe.py) and their
axes. In compare mode every line is drawn once per organisation, coloured by organisation.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import bqplot
import ipywidgets
import numpy as np
import solara

from .live import WINDOW, History

MAX_POINTS = 500  # per line and frame: longer histories are thinned, keeping the latest point
LINE_COLOURS = ("#0072b2", "#d55e00")  # first and second line of a panel (one organisation)
ORG_COLOURS = ("#0072b2", "#d55e00")  # first and second organisation (compare mode)


@dataclass(frozen=True)
class Line:
    key: str  # an observable, or "value_total" (cumulative value captured)
    label: str
    smooth: int = 0  # trailing mean over this many steps
    dashed: bool = False
    faint: bool = False
    right: bool = False  # on the right-hand axis


@dataclass(frozen=True)
class Panel:
    id: str  # how a scenario's `plots:` list names it (configs/scenario/*.yaml)
    title: str
    lines: tuple
    left: str = ""
    right: str = ""
    unit_range: bool = False  # a share or index in [0, 1]
    whole: bool = False  # the left axis counts things: whole-number ticks


PANELS = (
    Panel("value", "Value captured per step", (Line("value_captured", "per step", faint=True),
                                                 Line("value_captured", f"{WINDOW}-step mean", smooth=WINDOW)),
          "value"),
    Panel("value_total", "Value captured, cumulative", (Line("value_total", "cumulative"),), "value"),
    Panel("backlog", "Backlog and tasks failed", (Line("backlog", "backlog (open + active tasks)"),
                                                  Line("failed_total", "tasks failed, total", dashed=True)),
          "tasks", whole=True),
    Panel("leaders", "Who leads", (Line("leadership_gini", "leadership Gini (left)"),
                                   Line("distinct_leads", "distinct leaders (right)", dashed=True, right=True)),
          "Gini", "members"),
    Panel("energy", "Energy", (Line("mean_energy", "mean energy"),
                               Line("share_recovering", "share recovering", dashed=True)), "share", unit_range=True),
    Panel("motivation", "Motivation", (Line("mean_autonomy", "mean autonomy"),), "autonomy", unit_range=True),
    Panel("value_share", f"Value share, last {WINDOW} steps",
          # a live window: value captured in these steps over value arriving in them, so work still
          # running counts as not yet captured (the run's summary counts only tasks that could end)
          (Line("value_share_window", "value captured / value arrived in the window (work still running: "
                                      "not yet captured)"),), "share", unit_range=True),
    Panel("trust", "Trust", (Line("mean_trust", "mean trust on ties"),), "trust", unit_range=True),
    Panel("leader_energy", "Member 0's energy", (Line("leader_energy", "energy of member 0 (gap: gone)"),),
          "energy", unit_range=True),
    Panel("utilisation", "Utilisation", (Line("utilisation", "share of members on a team"),), "share",
          unit_range=True),
    Panel("completion", f"Completion, last {WINDOW} steps",
          (Line("completion_window", "tasks done / tasks ended"),), "share", unit_range=True),
)
DEFAULT_PLOTS = ("value", "value_total", "backlog", "leaders", "energy", "motivation")
BY_ID = {panel.id: panel for panel in PANELS}
# Measures that are undefined at times (member 0 gone, nothing ended in the window): drawn with gaps
GAPPED = {"leader_energy", "value_share_window", "completion_window"}
MARK_COLOUR = "#7f7f7f"


def chosen_panels(ids) -> list[Panel]:
    """The panels to draw: the ids given (a scenario's `plots:` or the page's choice), else the default."""
    return [BY_ID[i] for i in (ids or DEFAULT_PLOTS) if i in BY_ID]


def trailing_mean(y: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(y) == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    out = np.empty_like(y)
    k = np.arange(1, len(y) + 1)
    lo = np.maximum(0, k - window)
    out[:] = (c[k] - c[lo]) / (k - lo)
    return out


def nice_ticks(lo: float, hi: float, count: int = 4, integer: bool = False) -> np.ndarray:
    """About `count` round tick values covering [lo, hi] and 0 (1, 2, 2.5 or 5 times a power of
    ten apart; whole numbers if `integer`). The scale then spans exactly the ticks, so a small
    plot gets a few clean labels."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if not np.isfinite(lo) or not np.isfinite(hi) or hi - lo < 1e-9:
        hi = lo + (count if integer else 1.0)
    raw = (hi - lo) / count
    power = 10.0 ** np.floor(np.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in steps if m * power >= raw)
    if integer:
        step = max(1.0, round(step))
    return np.arange(np.floor(lo / step) * step, hi + step * 0.999, step)


def tick_format(ticks: np.ndarray) -> str:
    """A d3 format with just enough decimals for these ticks (0.25 needs two, 2.5 one)."""
    step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = next((d for d in range(4) if abs(round(step * 10 ** d) - step * 10 ** d) < 1e-6), 3)
    return f",.{decimals}f"


def step_ticks(last: float) -> np.ndarray:
    """Ticks of the step axis, which reaches a little past the last step: its scale then changes
    only every few dozen steps, not every frame (a changed scale redraws every line on it)."""
    return nice_ticks(0.0, max(last, 20.0), count=5, integer=True)


def thin(n: int) -> np.ndarray:
    """Indices of at most MAX_POINTS evenly spread points, always with the last one."""
    if n <= MAX_POINTS:
        return np.arange(n)
    idx = np.unique(np.linspace(0, n - 1, MAX_POINTS).astype(np.int64))
    return idx


def series(history: History, line: Line) -> np.ndarray:
    y = history.array(line.key)
    if line.key not in GAPPED:
        y = np.nan_to_num(y, nan=0.0)
    return trailing_mean(y, line.smooth)


def event_marks(orgs: list) -> list[tuple[int, str]]:
    """Every organisation's events (scheduled and live), once each, in order of step."""
    return sorted({mark for org in orgs for mark in org.marks})


def marks_html(marks: list[tuple[int, str]]) -> str:
    if not marks:
        return ""
    text = "; ".join(f"step {step}: {html.escape(what)}" for step, what in marks)
    return (f'<div class="leadsim-marks" style="font-size:12px;color:#555">'
            f'<span style="border-left:2px dashed {MARK_COLOUR};margin-right:4px"></span>{text}</div>')


def legend_html(items: list[tuple[str, str, bool]]) -> str:
    parts = []
    for label, colour, dashed in items:
        style = "dashed" if dashed else "solid"
        parts.append(f'<span style="display:inline-flex;align-items:center;margin-right:10px">'
                     f'<span style="width:18px;border-top:3px {style} {colour};display:inline-block;'
                     f'margin-right:4px"></span>{label}</span>')
    return f'<div style="font-size:12px;color:#333;line-height:1.3">{"".join(parts)}</div>'


@solara.component
def PlotPanel(panel: Panel, orgs: list, version: int, height: int = 160):
    size = solara.use_memo(lambda: ipywidgets.Layout(height=f"{height}px", width="100%", min_width="0"), [height])
    compare = len(orgs) > 1
    events = event_marks(orgs)
    lines, legend = [], []
    for o, org in enumerate(orgs):
        hist = org.history
        idx = thin(len(hist))
        x = hist.array("step")[idx]
        for k, line in enumerate(panel.lines):
            colour = ORG_COLOURS[o % 2] if compare else LINE_COLOURS[k % 2]
            lines.append((line, x, series(hist, line)[idx], colour))
            legend.append((f"{org.label}: {line.label}" if compare else line.label, colour, line.dashed))
    x_max = max(float(x[-1]) for _, x, _, _ in lines) if lines else 1.0
    left = [y for line, _, y, _ in lines if not line.right]
    right = [y for line, _, y, _ in lines if line.right]
    y_ticks = nice_ticks(0.0, 1.0) if panel.unit_range else nice_ticks(0.0, max(_top(y) for y in left),
                                                                       integer=panel.whole)
    y2_ticks = nice_ticks(0.0, max(_top(y) for y in right), integer=True) if right else None
    x_ticks = step_ticks(x_max)
    sx = bqplot.LinearScale.element(min=0.0, max=float(x_ticks[-1]))
    sy = bqplot.LinearScale.element(min=float(y_ticks[0]), max=float(y_ticks[-1]))
    sy2 = bqplot.LinearScale.element(min=0.0, max=float(y2_ticks[-1])) if right else None
    marks = [bqplot.Lines.element(
        x=x, y=y, scales={"x": sx, "y": sy2 if line.right else sy}, colors=[colour],
        line_style="dashed" if line.dashed else "solid", stroke_width=1 if line.faint else 2.2,
        opacities=[0.35 if line.faint else 1.0]) for line, x, y, colour in lines]
    marks += [bqplot.Lines.element(x=np.array([step, step], dtype=float), y=y_ticks[[0, -1]].astype(float),
                                   scales={"x": sx, "y": sy}, colors=[MARK_COLOUR], line_style="dashed",
                                   stroke_width=1.5) for step, _ in events]
    axes = [bqplot.Axis.element(scale=sx, label="step", tick_format="d", tick_values=x_ticks),
            bqplot.Axis.element(scale=sy, side="left", label=panel.left, tick_format=tick_format(y_ticks),
                                tick_values=y_ticks)]
    if right:
        axes.append(bqplot.Axis.element(scale=sy2, side="right", label=panel.right,
                                        tick_format=tick_format(y2_ticks), tick_values=y2_ticks))
    with solara.Column(gap="0px", classes=["leadsim-plot", f"leadsim-plot-{panel.id}"], style={"min-width": "0"}):
        solara.HTML(tag="div", unsafe_innerHTML=f'<div class="leadsim-plot-title" style="font-weight:600;'
                    f'font-size:14px">{panel.title}</div>' + legend_html(legend) + marks_html(events))
        bqplot.Figure.element(marks=marks, axes=axes, animation_duration=0, padding_y=0,
                              fig_margin={"top": 8, "bottom": 34, "left": 48, "right": 40 if panel.right else 12},
                              layout=size)


@solara.component
def Plots(orgs: list, version: int, columns: int = 3, height: int = 160, chosen=()):
    with solara.GridFixed(columns=columns, align_items="start", justify_items="stretch"):
        for panel in chosen_panels(chosen):
            PlotPanel(panel, orgs, version, height=height).key(f"plot-{panel.id}")


def _top(y: np.ndarray) -> float:
    return float(np.nanmax(y)) if np.isfinite(y).any() else 1.0


@solara.component
def DifferencePanel(difference: dict | None, labels: tuple[str, str], version: int, height: int = 180,
                    events: tuple = ()):
    """The paired difference in value captured: first organisation (A) minus second (B)."""
    size = solara.use_memo(lambda: ipywidgets.Layout(height=f"{height}px", width="100%"), [height])
    if difference is None:
        return
    idx = thin(len(difference["step"]))
    x = difference["step"][idx]
    cumulative = difference["cumulative"][idx]
    per_step = trailing_mean(difference["per_step"], 20)[idx]
    zero = np.zeros_like(x)
    a, b = labels
    y_ticks = nice_ticks(float(cumulative.min()), float(cumulative.max()))
    y2_ticks = nice_ticks(float(per_step.min()), float(per_step.max()))
    x_ticks = step_ticks(float(x[-1]))
    sx = bqplot.LinearScale.element(min=0.0, max=float(x_ticks[-1]))
    sy = bqplot.LinearScale.element(min=float(y_ticks[0]), max=float(y_ticks[-1]))
    sy2 = bqplot.LinearScale.element(min=float(y2_ticks[0]), max=float(y2_ticks[-1]))
    marks = [
        bqplot.Lines.element(x=x, y=zero, scales={"x": sx, "y": sy}, colors=["#999999"], line_style="dashed",
                             stroke_width=1),
        bqplot.Lines.element(x=x, y=cumulative, scales={"x": sx, "y": sy}, colors=["#333333"], stroke_width=2.5),
        bqplot.Lines.element(x=x, y=per_step, scales={"x": sx, "y": sy2}, colors=["#009e73"], stroke_width=1.5,
                             line_style="dashed"),
    ] + [bqplot.Lines.element(x=np.array([step, step], dtype=float), y=y_ticks[[0, -1]].astype(float),
                              scales={"x": sx, "y": sy}, colors=[MARK_COLOUR], line_style="dashed", stroke_width=1.5)
         for step, _ in events]
    axes = [bqplot.Axis.element(scale=sx, label="step", tick_format="d", tick_values=x_ticks),
            bqplot.Axis.element(scale=sy, side="left", label="cumulative", tick_format=tick_format(y_ticks),
                                tick_values=y_ticks),
            bqplot.Axis.element(scale=sy2, side="right", label="per step", tick_format=tick_format(y2_ticks),
                                tick_values=y2_ticks)]
    total_a, total_b = difference["total_a"], difference["total_b"]
    gap = total_a - total_b
    relative = f" ({gap / total_b:+.0%} of {b})" if total_b > 0 else ""
    ahead = "level" if abs(gap) < 0.05 else f"{a if gap > 0 else b} ahead"
    summary = (f'<span class="leadsim-difference">After step {int(x[-1]) if len(x) else 0}: '
               f'{a} captured <b>{total_a:.1f}</b>, {b} <b>{total_b:.1f}</b>; {a} − {b} = '
               f'<b>{gap:+.1f}</b>{relative}: {ahead}.</span>')
    with solara.Column(gap="0px", classes=["leadsim-plot"]):
        solara.HTML(tag="div", unsafe_innerHTML=(
            f'<div style="font-weight:600;font-size:14px">Paired difference in value captured: {a} − {b} '
            f'<span style="font-weight:400;color:#666">(same task stream, same seed)</span></div>'
            f'<div style="font-size:13px">{summary}</div>'
            + legend_html([("cumulative difference", "#333333", False),
                           ("per step, 20-step mean (right)", "#009e73", True)]) + marks_html(list(events))))
        bqplot.Figure.element(marks=marks, axes=axes, animation_duration=0, padding_y=0,
                              fig_margin={"top": 8, "bottom": 34, "left": 56, "right": 48},
                              layout=size)

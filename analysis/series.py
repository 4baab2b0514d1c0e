"""The key series of a run over time, one line per organisation: the figure that `uv run leadsim`
writes on every run (and the page's debrief exports).

It is drawn with matplotlib alone, in the look seaborn gives the other figures
(analysis/plots.py): importing seaborn, and scipy.stats with it, would add about half a second to
the start of every run.
"""

from __future__ import annotations

import pandas as pd
from matplotlib import cycler, rc_context
from matplotlib.figure import Figure  # not pyplot: no global figure state, safe in a server thread

KEY_SERIES = [
    ("value_share_40", "value share captured (40-step window)"),
    ("backlog", "backlog (open + active tasks)"),
    ("tasks_failed_40", "tasks failed (40-step sum)"),
    ("leadership_gini", "leadership Gini"),
    ("mean_energy", "mean energy"),
    ("mean_autonomy", "mean autonomy (SDT)"),
]

# What sns.set_theme(style="whitegrid", context="notebook") sets (seaborn 0.13), with its "deep"
# palette: light grey axes and grid, no tick marks, 12-point text.
WHITEGRID = {
    "axes.facecolor": "white", "axes.edgecolor": ".8", "axes.linewidth": 1.25, "axes.grid": True,
    "axes.axisbelow": True, "axes.labelcolor": ".15", "axes.labelsize": 12, "axes.titlesize": 12,
    "grid.color": ".8", "grid.linewidth": 1, "text.color": ".15", "font.size": 12,
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "xtick.color": ".15", "ytick.color": ".15", "xtick.labelsize": 11, "ytick.labelsize": 11,
    "xtick.bottom": False, "ytick.left": False, "xtick.major.size": 6, "ytick.major.size": 6,
    "xtick.major.width": 1.25, "ytick.major.width": 1.25, "xtick.minor.size": 4, "ytick.minor.size": 4,
    "xtick.minor.width": 1, "ytick.minor.width": 1, "legend.fontsize": 11, "legend.title_fontsize": 12,
    "lines.linewidth": 1.5, "lines.solid_capstyle": "round",
    "axes.prop_cycle": cycler(color=["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
                                     "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]),
}


def with_rolling(metrics: pd.DataFrame, by: str = "run", window: int = 40) -> pd.DataFrame:
    """Add smoothed series that read better than per-step noise."""
    out = []
    for _, g in metrics.groupby(by, sort=False):
        g = g.copy()
        captured = g["value_captured"].rolling(window, min_periods=1).sum()
        arrived = g["value_arrived"].rolling(window, min_periods=1).sum()
        g["value_share_40"] = captured / arrived.where(arrived > 0)
        g["tasks_failed_40"] = g["tasks_failed"].rolling(window, min_periods=1).sum()
        out.append(g)
    return pd.concat(out, ignore_index=True)


def regime_series(metrics: pd.DataFrame, path, title: str = "", by: str = "run"):
    """A grid of the key series over time, one line per regime (per value of `by`)."""
    data = with_rolling(metrics, by)
    with rc_context(WHITEGRID):
        fig = Figure(figsize=(15, 8))
        axes = fig.subplots(2, 3, sharex=True)
        for ax, (column, label) in zip(axes.flat, KEY_SERIES):
            for name, run in data.groupby(by, sort=False):
                run = run.dropna(subset=[column])  # a line across a gap (e.g. no value arrived yet)
                ax.plot(run["step"], run[column], label=name)
            ax.set_title(label)
        axes[0, 0].legend(title=by)
        for ax in axes[-1]:
            ax.set_xlabel("step")
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    return path

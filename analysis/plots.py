"""Seaborn figures from result tables (never from the engines)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files, not windows: runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

KEY_SERIES = [
    ("value_share_40", "value share captured (40-step window)"),
    ("backlog", "backlog (open + active tasks)"),
    ("tasks_failed_40", "tasks failed (40-step sum)"),
    ("leadership_gini", "leadership Gini"),
    ("mean_energy", "mean energy"),
    ("mean_autonomy", "mean autonomy (SDT)"),
]


def with_rolling(metrics: pd.DataFrame, by: str = "run_regime", window: int = 40) -> pd.DataFrame:
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


def regime_series(metrics: pd.DataFrame, path, title: str = "", by: str = "run_regime"):
    """A grid of the key series over time, one line per regime."""
    data = with_rolling(metrics, by)
    sns.set_theme(style="whitegrid", context="notebook")
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True)
    for ax, (column, label) in zip(axes.flat, KEY_SERIES):
        sns.lineplot(data=data, x="step", y=column, hue=by, ax=ax, legend=ax is axes.flat[0])
        ax.set_title(label)
        ax.set_ylabel("")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

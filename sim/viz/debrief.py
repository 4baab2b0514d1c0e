"""The workshop's debrief: the run exported (a CSV of the per-step metrics, a PNG of the key
series) to take away. The room's predictions are checked in predictions.py and kept in
scorecard.py.

Nothing here imports solara, so the logic is tested without a browser (tests/test_viz_logic.py).
"""

from __future__ import annotations

import io
import threading

import pandas as pd

from .live import LiveOrg

_pyplot = threading.Lock()  # matplotlib's pyplot is not thread-safe; downloads run in threads


# ----- export --------------------------------------------------------------------------------
def metrics_frame(orgs: list[LiveOrg]) -> pd.DataFrame:
    """The per-step metrics of every organisation, one row per step (step 0 is the initial
    state), with an `organisation` column naming each."""
    frames = [o.model.metrics().assign(organisation=o.label) for o in orgs]
    data = pd.concat(frames, ignore_index=True)
    return data[["organisation"] + [c for c in data.columns if c != "organisation"]]


def csv_bytes(orgs: list[LiveOrg]) -> bytes:
    return metrics_frame(orgs).to_csv(index=False).encode("utf-8")


def png_bytes(orgs: list[LiveOrg], title: str = "") -> bytes:
    """The key series (analysis.plots.regime_series), one line per organisation, as a PNG."""
    return chart_png(metrics_frame(orgs), title)


def chart_png(metrics: pd.DataFrame, title: str = "") -> bytes:
    from analysis.plots import regime_series  # matplotlib and seaborn: loaded on the first export only

    out = io.BytesIO()
    with _pyplot:
        regime_series(metrics, out, title=title, by="organisation")
    return out.getvalue()

"""The workshop's debrief: a prediction made before the run, set beside what happened, and the
run exported (a CSV of the per-step metrics, a PNG of the key series) to take away.

Nothing here imports solara, so the logic is tested without a browser (tests/test_viz_logic.py).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import pandas as pd

from .live import LiveOrg, paired_difference

REVEAL_STEPS = 10  # the outcome is shown once the run has gone this far and is not playing
LEVEL = 0.05  # a paired difference in value captured smaller than this is "level" (as the page's panel)
SHARE_TOLERANCE = 0.05  # a predicted value share this close to the actual one counts as right

_pyplot = threading.Lock()  # matplotlib's pyplot is not thread-safe; downloads run in threads


@dataclass(frozen=True)
class Prediction:
    """What the room predicted before the run; every part is optional."""

    text: str = ""
    winner: str = ""  # compare mode: the label of the organisation expected to capture more value
    share: float | None = None  # single mode: the expected value share captured, in [0, 1]


def revealed(steps: int, playing: bool) -> bool:
    """Whether to show the outcome beside the prediction: after REVEAL_STEPS, while paused."""
    return steps >= REVEAL_STEPS and not playing


def value_share(org: LiveOrg) -> float | None:
    """Of all the value that arrived so far, the share this organisation captured (None before any)."""
    arrived = float(org.history.array("value_arrived").sum())
    return float(org.history.array("value_captured").sum()) / arrived if arrived > 0 else None


def outcome(orgs: list[LiveOrg]) -> dict:
    """What happened so far: each organisation's value captured and share and, with two, the
    paired difference A − B and which one captured more ("" when level)."""
    result = {"step": orgs[0].steps,
              "orgs": [{"label": o.label, "value": float(o.history.value_total[-1]), "share": value_share(o)}
                       for o in orgs]}
    diff = paired_difference(orgs)
    if diff is not None:
        gap = diff["total_a"] - diff["total_b"]
        result["difference"] = gap
        result["winner"] = "" if abs(gap) < LEVEL else orgs[0 if gap > 0 else 1].label
    return result


def compare(prediction: Prediction, result: dict) -> dict:
    """The prediction beside the outcome, for the debrief: `predicted` and `actual` as sentences,
    and `hit`: True/False when the prediction can be checked, None when it cannot."""
    labels = [o["label"] for o in result["orgs"]]
    if "difference" in result:  # compare mode: who captures more
        a, b = result["orgs"]
        more = f"{result['winner']} captured more" if result["winner"] else "they are level"
        actual = (f"After step {result['step']}: {a['label']} captured {a['value']:.1f}, {b['label']} "
                  f"{b['value']:.1f}; {a['label']} − {b['label']} = {result['difference']:+.1f}: {more}.")
        picked = prediction.winner if prediction.winner in labels else ""
        predicted = f"{picked} captures more value" if picked else "no organisation picked"
        hit = (picked == result["winner"]) if picked else None
    else:  # one organisation: its value share
        share = result["orgs"][0]["share"]
        shown = "no value has arrived yet" if share is None else f"{share:.0%} of the value that arrived"
        off = None if share is None or prediction.share is None else share - prediction.share
        gap = "" if off is None else f" ({abs(off) * 100:.0f} points {'above' if off >= 0 else 'below'} the prediction)"
        actual = f"After step {result['step']}: captured {shown}{gap}."
        predicted = ("no value share given" if prediction.share is None
                     else f"captures {prediction.share:.0%} of the value")
        hit = None if off is None else bool(abs(off) <= SHARE_TOLERANCE)
    if prediction.text.strip():
        predicted = f"{predicted}. “{prediction.text.strip()}”"
    return {"predicted": predicted, "actual": actual, "hit": hit}


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

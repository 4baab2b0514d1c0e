"""The workshop box above the drawing: the scenario's "predict first" question, the room's
prediction, and, once the run has gone a little way and is paused, the prediction beside what
happened; plus the run's export (CSV of the metrics, PNG of the charts) for the debrief.
The logic is in debrief.py."""

from __future__ import annotations

import dataclasses
import html

import solara

from . import debrief, scenarios
from .live import Session

NO_PICK = "no pick"


@solara.component
def PredictionBox(session: Session, frame: solara.Reactive, playing: solara.Reactive):
    """Mounted afresh for every scenario (app.py keys it by scenario), which clears the prediction."""
    frame.value  # redraw every step: the outcome follows the run
    prediction, set_prediction = solara.use_state(debrief.Prediction())
    preset = scenarios.by_name(session.settings.scenario)
    orgs = list(session.orgs)

    def change(**changes):
        set_prediction(lambda p: dataclasses.replace(p, **changes))

    prompt = preset.predict or "What will happen? Write the room's prediction before you run."
    parts = [f"<b>Predict first:</b> {html.escape(prompt)}"]
    if preset.watch:
        parts.append(f"<b>Watch:</b> {html.escape(preset.watch)}")
    with solara.Card(classes=["leadsim-prediction"], style={"padding": "8px 12px", "margin": "0"}):
        solara.HTML(tag="div", unsafe_innerHTML='<div class="leadsim-predict" style="font-size:13px;line-height:1.4">'
                    + "".join(f"<p style='margin:0 0 4px 0'>{p}</p>" for p in parts) + "</div>")
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
            with solara.Div(style={"flex": "1 1 300px"}):
                solara.InputText("Your prediction", value=prediction.text, on_value=lambda t: change(text=t or ""))
            if len(orgs) > 1:
                labels = [NO_PICK] + [o.label for o in orgs]
                with solara.Div(style={"width": "220px"}):
                    solara.Select("Captures more value", values=labels, value=prediction.winner if prediction.winner in labels else NO_PICK,
                                  on_value=lambda v: change(winner="" if v == NO_PICK else v))
            else:
                with solara.Div(style={"width": "220px"}):
                    solara.InputFloat("Value share captured (%)", optional=True,
                                      value=None if prediction.share is None else round(prediction.share * 100, 1),
                                      on_value=lambda v: change(share=None if v is None else min(max(v, 0), 100) / 100))
        if orgs and session.ok and debrief.revealed(orgs[0].steps, playing.value):
            result = debrief.compare(prediction, debrief.outcome(orgs))
            mark = {True: " ✔ as predicted", False: " ✘ not as predicted", None: ""}[result["hit"]]
            solara.HTML(tag="div", unsafe_innerHTML=(
                f'<div class="leadsim-outcome" style="font-size:13px;margin-top:4px">'
                f'<div><b>Predicted:</b> {html.escape(result["predicted"])}</div>'
                f'<div><b>Happened:</b> {html.escape(result["actual"])}<b>{mark}</b></div></div>'))
        elif orgs:
            solara.Text(f"The outcome appears here after step {debrief.REVEAL_STEPS}, while the run is paused.",
                        style={"font-size": "12px", "color": "#777"})
        if orgs:
            Exports(session)


@solara.component
def Exports(session: Session):
    """Downloads of the current run. The data are functions, called on click, so each download
    holds the run as it is then; memoised, as FileDownload forgets a click when its data change."""

    def csv():
        with session.lock:  # a consistent run, even while it plays
            return debrief.csv_bytes(session.orgs)

    def png():
        with session.lock:
            data, steps, name = debrief.metrics_frame(session.orgs), session.orgs[0].steps, session.settings.scenario
        return debrief.chart_png(data, title=f"leadsim: {scenarios.by_name(name).title}, step {steps}")

    csv_data = solara.use_memo(lambda: csv, [session])
    png_data = solara.use_memo(lambda: png, [session])
    stem = f"leadsim-{session.settings.scenario}"
    with solara.Row(gap="8px", style={"align-items": "center"}):
        solara.Text("Export for the debrief:", style={"font-size": "13px", "color": "#555"})
        solara.FileDownload(csv_data, f"{stem}.csv", label="Metrics (CSV)", mime_type="text/csv",
                            icon_name="mdi-table-arrow-down")
        solara.FileDownload(png_data, f"{stem}.png", label="Charts (PNG)", mime_type="image/png",
                            icon_name="mdi-chart-line")

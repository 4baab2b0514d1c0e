"""The workshop box above the drawing: the scenario's "predict first" question, the question the
page checks (its measure, window and kind, from the scenario's `prediction:` block), the room's
prediction locked in before the run, and, once the run reaches the end of the window, the
prediction beside what happened. Below it, the room's scorecard across exercises and the exports
for the debrief (the run's metrics and charts; the scorecard as CSV and as a page to print).

The logic is in predictions.py (measures, checks), scorecard.py (the store, exports) and
debrief.py (the run's exports); this file is only the box.
"""

from __future__ import annotations

import html
import logging

import solara
import solara.lab

from . import debrief, predictions, scenarios, scorecard
from .live import Session, readable
from .predictions import Guess, Verdict
from .scorecard import CHECKED, PENDING

log = logging.getLogger("leadsim.viz")

NO_PICK = "no pick"
SMALL = {"font-size": "12px", "color": "#666"}


def browser_session() -> str:
    """The browser's session id (solara's cookie, kept across reloads); outside a server, one id."""
    try:
        return solara.get_session_id()
    except Exception:  # noqa: BLE001 - no kernel context (a script): one scorecard for the process
        return "local"


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


@solara.component
def PredictionBox(session: Session, frame: solara.Reactive, playing: solara.Reactive):
    """Mounted afresh for every scenario (app.py keys it by scenario); what the room predicted
    lives in the scorecard, so a new scenario or a reload finds it again."""
    frame.value  # redraw every step: the countdown and the check follow the run
    card = solara.use_memo(lambda: scorecard.STORE.get(browser_session()), [])
    changed, set_changed = solara.use_state(0)  # bumped when this box changes the scorecard
    again, set_again = solara.use_state(0)  # the checked row after which the room predicts again
    preset = scenarios.by_name(session.settings.scenario)
    orgs = list(session.orgs)
    step = orgs[0].steps if orgs else 0
    current = card.latest(preset.name)
    locked = current if current is not None and current.status != CHECKED else None
    due = locked is not None and locked.status == PENDING and session.ok and step >= locked.spec.window[1]

    def check():
        """Once the run has reached the end of the window: gather every option's value (other
        variants run here, in this thread) and settle the row."""
        if not due:
            return
        row = card.claim(locked.number)
        if row is None:  # another tab of this browser is checking it
            return
        try:
            verdict = predictions.check(row.spec, row.guess, predictions.gather(row.spec, session, row.scenario))
        except predictions.Stale:  # another scenario is on the page now: the row waits for its own
            card.release(row.number)
            return
        except Exception as exc:  # the box says it could not check; the log has why
            log.exception("checking a prediction failed")
            verdict = Verdict(None, f"The prediction could not be checked: {readable(exc)}", "", ())
        except BaseException:  # the task was stopped (the page closed): the row waits again
            card.release(row.number)
            raise
        card.settle(row.number, verdict)
        set_changed(lambda n: n + 1)

    solara.lab.use_task(check, dependencies=[locked.number if due else None], prefer_threaded=True)

    prompt = preset.predict or "What will happen? Write the room's prediction before you run."
    parts = [f"<b>Predict first:</b> {html.escape(prompt)}"]
    if preset.watch:
        parts.append(f"<b>Watch:</b> {html.escape(preset.watch)}")
    with solara.Card(classes=["leadsim-prediction"], style={"padding": "8px 12px", "margin": "0"}):
        solara.HTML(tag="div", unsafe_innerHTML='<div class="leadsim-predict" style="font-size:13px;line-height:1.4">'
                    + "".join(f"<p style='margin:0 0 4px 0'>{p}</p>" for p in parts) + "</div>")
        if locked is not None:
            Locked(locked, step, checking=due or locked.status != PENDING, ok=session.ok,
                   on_withdraw=lambda: (card.withdraw(locked.number), set_changed(lambda n: n + 1)))
        else:
            if current is not None:
                Outcome(current)
            if orgs and (current is None or again == current.number):
                try:
                    spec = predictions.spec_for(preset, [o.label for o in orgs])
                except KeyError as exc:  # a preset naming an unknown measure: say so, keep the page
                    solara.Error(f"This scenario's prediction cannot be checked: {exc.args[0]}", dense=True)
                else:
                    Form(spec, step, on_lock=lambda guess: (card.add(preset.name, preset.title, spec, guess, step),
                                                            set_changed(lambda n: n + 1))).key(f"form-{hash(spec)}")
            elif orgs:
                solara.Button("Predict again", icon_name="mdi-refresh", text=True, small=True,
                              on_click=lambda: set_again(current.number), classes=["leadsim-predict-again"])
        if orgs:
            Exports(session)
        ScorecardPanel(card, changed)


def _question_html(spec) -> str:
    return (f'<div class="leadsim-question" style="font-size:13px;margin:2px 0 4px 0">'
            f"<b>The page checks:</b> {html.escape(spec.question)} "
            f'<span style="color:#666">({html.escape(predictions.measure_text(spec))}, '
            f"{html.escape(predictions.window_text(spec))})</span></div>")


@solara.component
def Form(spec, step: int, on_lock):
    """The room's prediction, in the form its kind asks for, and its own words."""
    guess, set_guess = solara.use_state(Guess())
    labels = [o.label for o in spec.options]

    def change(**changes):
        set_guess(lambda g: Guess(**{**g.__dict__, **changes}))

    solara.HTML(tag="div", unsafe_innerHTML=_question_html(spec))
    with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
        if spec.kind == "choice":
            with solara.Div(style={"width": "240px"}):
                solara.Select(f"Your pick ({predictions.order_word(spec)})", values=[NO_PICK] + labels,
                              value=guess.choice if guess.choice in labels else NO_PICK,
                              on_value=lambda v: change(choice="" if v == NO_PICK else v))
        elif spec.kind == "number":
            unit = predictions.input_unit(spec)
            numbers = list(guess.numbers) or [None] * len(labels)
            for i, label in enumerate(labels):

                def typed(v, i=i):
                    values = list(guess.numbers) or [None] * len(labels)
                    values[i] = v
                    change(numbers=tuple(values))

                with solara.Div(style={"width": "200px"}):
                    solara.InputFloat(f"{label}" + (f" ({unit})" if unit else ""), value=numbers[i],
                                      optional=True, on_value=typed, continuous_update=True)
        else:
            ranking = list(guess.ranking) or [""] * len(labels)
            for i in range(len(labels)):

                def placed(v, i=i):
                    values = list(guess.ranking) or [""] * len(labels)
                    values[i] = "" if v == NO_PICK else v
                    change(ranking=tuple(values))

                end = f" ({predictions.order_word(spec)})" if i == 0 else ""
                with solara.Div(style={"width": "190px"}):
                    solara.Select(f"{_ordinal(i + 1)}{end}", values=[NO_PICK] + labels,
                                  value=ranking[i] if ranking[i] in labels else NO_PICK, on_value=placed)
        with solara.Div(style={"flex": "1 1 240px"}):
            solara.InputText("In the room's words (optional)", value=guess.words,
                             on_value=lambda t: change(words=t or ""), continuous_update=True)
        ready = predictions.complete(spec, guess)
        solara.Button("Lock in the prediction", icon_name="mdi-lock-outline", color="primary", disabled=not ready,
                      on_click=lambda: (on_lock(guess), set_guess(Guess())), classes=["leadsim-lock"])
    first, last = spec.window
    if spec.kind == "ranking" and not ready and any(guess.ranking):
        hint = "Use each option once."
    elif step >= first:
        hint = (f"The run is at step {step}, inside or past the window: a prediction locked in now is marked "
                f"as made at step {step}.")
    else:
        hint = f"Lock in the prediction before the run; it is checked when the run reaches step {last}."
    solara.Text(hint, style=SMALL)


@solara.component
def Locked(row, step: int, checking: bool, ok: bool, on_withdraw):
    """A prediction waiting for the run: what it says, and how many steps until it is checked."""
    last = row.spec.window[1]
    late = f" (made at step {row.made_at_step})" if row.made_at_step else ""
    if checking:
        status = "Checking: the runs the question needs are being made with the page's settings\u2026"
    elif not ok:
        status = "Waiting: the settings do not make an organisation."
    else:
        status = f"Checked when the run reaches step {last}: {predictions.steps_to_go(row.spec, step)} steps to go."
    solara.HTML(tag="div", unsafe_innerHTML=(
        _question_html(row.spec)
        + f'<div class="leadsim-locked" style="font-size:13px"><b>Locked in</b> at '
        f"{row.made_at.strftime('%H:%M')}{html.escape(late)}: {html.escape(row.prediction)}</div>"
        f'<div class="leadsim-countdown" style="font-size:12px;color:#666">{html.escape(status)}</div>'))
    if not checking:
        with solara.Row(style={"justify-content": "flex-start"}):
            solara.Button("Withdraw", icon_name="mdi-lock-open-variant-outline", text=True, small=True,
                          on_click=on_withdraw, classes=["leadsim-withdraw"])


@solara.component
def Outcome(row):
    """The last checked prediction of this scenario beside what happened."""
    verdict = row.verdict
    mark = {True: "\u2714 right", False: "\u2718 wrong", None: "not checked"}[verdict.right]
    colour = {True: "#1b7f3b", False: "#b00020", None: "#666"}[verdict.right]
    off = f'<div><b>Off by:</b> {html.escape(verdict.error)}</div>' if verdict.error else ""
    solara.HTML(tag="div", unsafe_innerHTML=(
        f'<div class="leadsim-outcome" style="font-size:13px;margin:2px 0 6px 0">'
        f"<div><b>Predicted:</b> {html.escape(row.prediction)}</div>"
        f"<div><b>Happened:</b> {html.escape(verdict.outcome)} "
        f'<b class="leadsim-verdict" style="color:{colour}">{mark}</b></div>{off}</div>'))


@solara.component
def ScorecardPanel(card: scorecard.Scorecard, changed: int):
    """The room's predictions across exercises, and their exports."""
    shown, set_shown = solara.use_state(False)
    rows = card.rows()
    results = [r.result for r in rows]
    right, wrong = results.count("right"), results.count("wrong")
    summary = (f"{len(rows)} prediction{'s' if len(rows) != 1 else ''}: {right} right, {wrong} wrong, "
               f"{len(rows) - right - wrong} not checked yet" if rows else "no predictions yet")
    csv_data = solara.use_memo(lambda: card.csv_bytes, [card])
    html_data = solara.use_memo(lambda: card.html_bytes, [card])
    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}, classes=["leadsim-scorecard-bar"]):
        solara.Text(f"Scorecard: {summary}", style={"font-size": "13px", "color": "#555"})
        if rows:
            solara.Button("Hide the scorecard" if shown else "Show the scorecard", text=True, small=True,
                          on_click=lambda: set_shown(not shown))
        solara.FileDownload(csv_data, "leadsim-scorecard.csv", label="Scorecard (CSV)", mime_type="text/csv",
                            icon_name="mdi-table-arrow-down")
        solara.FileDownload(html_data, "leadsim-scorecard.html", label="Scorecard (printable)",
                            mime_type="text/html", icon_name="mdi-printer-outline")
    if shown and rows:
        solara.HTML(tag="div", unsafe_innerHTML=scorecard_table(rows))


def scorecard_table(rows) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 6px'>{h}</th>" for h in
                   ("#", "time", "scenario", "the room predicted", "what happened", "result", "off by"))
    body = "".join(
        "<tr class='leadsim-scorecard-row' style='border-top:1px solid #e3e7eb'>"
        + "".join(f"<td style='padding:2px 6px;vertical-align:top'>{html.escape(cell)}</td>" for cell in (
            str(r.number), r.made_at.strftime("%H:%M"), r.title, r.prediction, r.outcome, r.result, r.error))
        + "</tr>" for r in rows)
    return (f'<table class="leadsim-scorecard" style="font-size:12px;border-collapse:collapse;width:100%">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


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
        solara.Text("Export the run:", style={"font-size": "13px", "color": "#555"})
        solara.FileDownload(csv_data, f"{stem}.csv", label="Metrics (CSV)", mime_type="text/csv",
                            icon_name="mdi-table-arrow-down")
        solara.FileDownload(png_data, f"{stem}.png", label="Charts (PNG)", mime_type="image/png",
                            icon_name="mdi-chart-line")

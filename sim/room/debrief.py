"""The room's debrief: what each participant decided beside what the rule would have chosen, the
room's members against the rule-played ones, and the organisation's results. Tables for CSV, a
participant's own summary, and a printable page (every name escaped).

"Agreed" compares a participant's own choices only (step up, join, decline, rest): a round left
to the rule (a wait, or the timer running out) or one in which the member had nothing to decide
is counted apart. A choice agrees with the rule's when both lead the same task, both join the same
team, or neither does (rest and decline count as neither).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from ..agents import status_of
from .room import Participant, Room, shown_code

RESULTS = (("value_share", "value share captured"), ("completion_rate", "completion rate"),
           ("tasks_done", "tasks done"), ("tasks_failed", "tasks failed"), ("leadership_gini", "leadership Gini"),
           ("share_ever_led", "share of members who ever led"), ("final_energy", "mean energy at the end"),
           ("final_autonomy", "mean autonomy at the end"), ("burnout_days", "days lost to burnout"))


def decisions(room: Room) -> pd.DataFrame:
    """One row per participant and round: the choice, the rule's, and what came of it."""
    rows = []
    for record in room.rounds:
        for r in record["players"]:
            rows.append({"round": record["round"], "step": record["first_step"] + 1, "regime": record["regime"],
                         "participant": r["participant"], "name": r["name"], "member": r["member"],
                         "decision": r["choice"] or ("(busy)" if r["busy"] else "(timed out)"),
                         "task_id": r["task_id"], "left_to_rule": r["left_to_rule"] or "",
                         "rule_decision": r["rule"], "rule_task_id": r["rule_task_id"],
                         "agreed": r["agreed"], "outcome": r["status"] or "", "reason": r["reason"],
                         "rule_reason": r["rule_reason"], "energy_before": r["energy_before"],
                         "energy_after": r.get("energy_after"), "leading_after": r.get("leading")})
    columns = ["round", "step", "regime", "participant", "name", "member", "decision", "task_id", "left_to_rule",
               "rule_decision", "rule_task_id", "agreed", "outcome", "reason", "rule_reason", "energy_before",
               "energy_after", "leading_after"]
    return pd.DataFrame(rows, columns=columns)


def _summary(p: Participant, rows: list[dict]) -> dict:
    own = [r for r in rows if r["choice"] not in (None, "wait")]
    agreed = [r for r in own if r["agreed"]]
    led = []
    for r in rows:
        if r.get("leading") is not None and r["leading"] not in led:
            led.append(r["leading"])
    energy = [r["energy_after"] for r in rows if r.get("energy_after") is not None]
    count = {kind: sum(1 for r in own if r["choice"] == kind) for kind in ("step_up", "join", "decline", "rest")}
    return {"participant": p.id, "name": p.name, "members": " ".join(str(m) for m in p.members),
            "active": p.active, "rounds": len(rows), "own_decisions": len(own),
            "timed_out": sum(1 for r in rows if r["left_to_rule"] == "timeout"),
            "waited": sum(1 for r in rows if r["left_to_rule"] == "wait"),
            "busy": sum(1 for r in rows if r["busy"]), "agreed": len(agreed),
            "agreement": len(agreed) / len(own) if own else math.nan,
            "stepped_up": count["step_up"], "joined": count["join"], "declined": count["decline"],
            "rested": count["rest"], "refused": sum(1 for r in own if r["status"] == "refused"),
            "tasks_led": len(led), "led_task_ids": " ".join(map(str, led)),
            "energy_start": rows[0]["energy_before"] if rows else math.nan,
            "energy_end": energy[-1] if energy else math.nan,
            "energy_mean": float(np.mean(energy)) if energy else math.nan}


def participants(room: Room) -> pd.DataFrame:
    """One row per participant: decisions, agreement with the rule, tasks led, energy."""
    by_id: dict[str, list[dict]] = {}
    for record in room.rounds:
        for r in record["players"]:
            by_id.setdefault(r["participant"], []).append(r)
    return pd.DataFrame([_summary(p, by_id.get(p.id, [])) for p in room.participants.values()])


def personal(room: Room, p: Participant) -> dict:
    """A participant's own summary, for its screen at the end."""
    rows = [r for record in room.rounds for r in record["players"] if r["participant"] == p.id]
    out = _summary(p, rows)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def played_members(room: Room) -> set[int]:
    return {m for p in room.participants.values() for m in p.members}


def members(room: Room) -> pd.DataFrame:
    """One row per member: who played it (if anyone), and how it ended up."""
    s = room.model.state
    names: dict[int, list[str]] = {}
    for p in room.participants.values():
        for m in p.members:
            names.setdefault(m, []).append(p.name)
    return pd.DataFrame({"member": np.arange(s.n), "played_by": [", ".join(names.get(i, [])) for i in range(s.n)],
                         "status": [status_of(s, i) for i in range(s.n)], "energy": s.energy[: s.n],
                         "autonomy": s.autonomy[: s.n], "tasks_led": s.led_count[: s.n],
                         "tasks_done": s.done_count[: s.n], "initiated": s.initiated[: s.n]})


def groups(room: Room) -> pd.DataFrame:
    """The members the room played against those the rules played all along (descriptive: the
    room's members are few, and member 0 may be among them)."""
    table = members(room)
    table["group"] = np.where(table["played_by"] != "", "played by the room", "played by the rules")
    out = table.groupby("group", sort=False).agg(
        members=("member", "size"), mean_energy=("energy", "mean"), mean_autonomy=("autonomy", "mean"),
        tasks_led_per_member=("tasks_led", "mean"), share_ever_led=("tasks_led", lambda x: float((x > 0).mean())),
        tasks_done_per_member=("tasks_done", "mean"), gone=("status", lambda x: int((x == "gone").sum())))
    return out.reindex([g for g in ("played by the room", "played by the rules") if g in out.index]).reset_index()


def results(room: Room) -> pd.DataFrame:
    """The organisation's results over the whole run, one row."""
    summary = room.model.summary()
    row = {"rounds": len(room.rounds), "steps": int(room.model.steps), "regime_now": room.regime, **summary}
    return pd.DataFrame([row])


def metrics(room: Room) -> pd.DataFrame:
    """The organisation's measures, one row per step (step 0 is the start)."""
    return room.model.metrics()


TABLES = {"decisions": decisions, "participants": participants, "members": members, "groups": groups,
          "results": results, "metrics": metrics}


def csv(room: Room, name: str) -> str:
    return TABLES[name](room).to_csv(index=False)


def export(room: Room, folder) -> list:
    """Every table as CSV and the printable page, into `folder` (atomically)."""
    from pathlib import Path

    from ..run import write_atomic

    folder, written = Path(folder), []
    for name in TABLES:
        text = csv(room, name)
        written.append(write_atomic(folder / f"{name}.csv", lambda tmp, text=text: Path(tmp).write_text(text)))
    page = printable(room, served=False)
    written.append(write_atomic(folder / "debrief.html", lambda tmp: Path(tmp).write_text(page)))
    return written


# ----- the printable page ------------------------------------------------------------------------
def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}f}"
    return str(value)


def _table(frame: pd.DataFrame, columns: dict, cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(row[key]))}</td>" for key in columns) + "</tr>"
                   for _, row in frame.iterrows())
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _overview(people: pd.DataFrame) -> str:
    """One row per participant: the debrief at a glance."""
    if not len(people):
        return "<p>Nobody joined.</p>"
    rows = []
    for _, r in people.iterrows():
        share = "–" if math.isnan(r["agreement"]) else f"{r['agreement']:.0%}"
        cells = [r["name"], r["members"], r["own_decisions"], f"{r['agreed']} ({share})",
                 f"{r['timed_out']} / {r['waited']}", f"{r['stepped_up']} / {r['joined']} / {r['declined']} / {r['rested']}",
                 r["tasks_led"], f"{_fmt(r['energy_start'])} → {_fmt(r['energy_end'])}"]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = ("<th>name</th><th>member</th><th>own decisions</th><th>as the rule would</th>"
            "<th>timed out / waited</th><th>stepped up / joined / declined / rested</th><th>tasks led</th>"
            "<th>energy start → end</th>")
    return f'<table class="overview"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


CHOICE_WORDS = {"step_up": "step up", "join": "join", "decline": "decline", "rest": "rest", "wait": "wait",
                "none": "neither", None: "–"}


def _choice(kind, task_id) -> str:
    words = CHOICE_WORDS.get(kind, str(kind))
    return f"{words} {task_id}" if task_id is not None and not (isinstance(task_id, float) and math.isnan(task_id)) \
        else words


def printable(room: Room, plots: str = "", served: bool = True) -> str:
    """The debrief as one self-contained HTML page (A4, prints as it shows). `served`: with a
    Print button and the CSV links (the copy saved in the room's folder has neither)."""
    people = participants(room)
    result = room.model.summary()
    grp = groups(room)
    title = f"Room {shown_code(room.code)}: debrief"
    s = room.settings
    intro = (f"{len(room.rounds)} rounds ({int(room.model.steps)} steps) · {s.n_members} members, "
             f"{s.org} org, started {s.regime}, now {room.regime} · scenario {s.scenario} · seed {s.seed} · "
             f"{len(room.participants)} participants")
    overall = people["own_decisions"].sum() if len(people) else 0
    agreed = people["agreed"].sum() if len(people) else 0
    headline = (f"The room made {overall} decisions of its own; {agreed} of them "
                f"({agreed / overall:.0%}) were what the rule would have chosen." if overall else
                "The room made no decisions of its own.")
    cards = []
    rows_by = {}
    for record in room.rounds:
        for r in record["players"]:
            rows_by.setdefault(r["participant"], []).append((record["round"], r))
    for _, row in people.iterrows():
        detail = "".join(
            f"<tr><td>{n}</td><td>{html.escape(_choice(r['choice'], r['task_id']) if r['choice'] else 'timed out')}</td>"
            f"<td>{html.escape(_choice(r['rule'], r['rule_task_id']))}</td>"
            f"<td>{'' if r['agreed'] is None else ('✓' if r['agreed'] else '✗')}</td>"
            f"<td>{html.escape(r['status'] or '')}</td><td>{_fmt(r.get('energy_after'))}</td></tr>"
            for n, r in rows_by.get(row["participant"], []) if not r["busy"])
        share = "–" if math.isnan(row["agreement"]) else f"{row['agreement']:.0%}"
        cards.append(
            f'<section class="person"><h3>{html.escape(row["name"])} <small>member {html.escape(row["members"])}'
            f'</small></h3><p>{row["own_decisions"]} own decisions, agreed with the rule in {row["agreed"]} '
            f'({share}); {row["timed_out"]} timed out, {row["waited"]} left to the rule, {row["busy"]} busy. '
            f'Led {row["tasks_led"]} task{"s" if row["tasks_led"] != 1 else ""}'
            f'{(" (" + html.escape(row["led_task_ids"]) + ")") if row["tasks_led"] else ""}. Energy '
            f'{_fmt(row["energy_start"])} → {_fmt(row["energy_end"])} (mean {_fmt(row["energy_mean"])}).</p>'
            + (f'<table class="rounds"><thead><tr><th>round</th><th>decided</th><th>the rule</th><th>agreed</th>'
               f'<th>outcome</th><th>energy after</th></tr></thead><tbody>{detail}</tbody></table>' if detail else "")
            + "</section>")
    result_rows = "".join(f"<tr><td>{html.escape(label)}</td><td>{html.escape(_fmt(result.get(key), 3))}</td></tr>"
                          for key, label in RESULTS)
    links = " · ".join(f'<a href="/export/{name}.csv">{name}.csv</a>' for name in TABLES)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #1d2730; padding: 0 16px; }}
h1 {{ font-size: 24px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 22px 0 8px; border-bottom: 1px solid #ccd; }}
h3 {{ font-size: 15px; margin: 10px 0 2px; }} h3 small {{ color: #667; font-weight: normal; }}
p {{ margin: 4px 0; }} .intro {{ color: #556; }} .headline {{ font-size: 17px; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 4px 0; }}
th, td {{ border-bottom: 1px solid #e3e6ea; padding: 3px 8px; text-align: left; }}
th {{ background: #f3f5f7; }} table.rounds {{ font-size: 12px; }}
.person {{ break-inside: avoid; }} .plots svg {{ width: 32%; height: auto; }}
.two {{ display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.6fr); gap: 24px; }}
table.overview td:nth-child(n+3) {{ text-align: right; font-variant-numeric: tabular-nums; }}
.noprint {{ margin: 8px 0; }}
@media print {{ .noprint {{ display: none; }} body {{ margin: 0; max-width: none; }} @page {{ size: A4; margin: 14mm; }} }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="intro">{html.escape(intro)}</p>
{f'<p class="noprint"><button id="print">Print</button> · CSV: {links}</p>' if served else ''}
<p class="headline">{html.escape(headline)}</p>
<h2>Each participant</h2>
{_overview(people)}
<div class="two">
<div><h2>The organisation's results</h2>
<table><tbody>{result_rows}</tbody></table></div>
<div><h2>The room's members against the rule-played ones</h2>
{_table(grp, {"group": "", "members": "members", "mean_energy": "mean energy", "mean_autonomy": "mean autonomy",
              "tasks_led_per_member": "tasks led per member", "share_ever_led": "share who ever led",
              "tasks_done_per_member": "tasks done per member", "gone": "gone"})}
<p class="intro">Members played by the room at any time, against all the others. Descriptive only: a few
members, played for part of the run.</p></div>
</div>
{f'<div class="plots">{plots}</div>' if plots else ''}
<h2>Round by round: each participant's decisions beside the rule's</h2>
{''.join(cards) if cards else '<p>Nobody joined.</p>'}
{'<script src="/static/print.js"></script>' if served else ''}
</body></html>
"""

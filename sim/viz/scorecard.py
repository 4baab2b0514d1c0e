"""The room's scorecard: one row per prediction locked in on the page, with what happened, whether
it was right and by how much it was off, for the workshop's debrief.

Scorecards live in the server's memory, one per browser session (solara's `solara-session-id`
cookie, which a reload keeps), so they survive a change of scenario and a reload, and end with the
server. The store is bounded: the newest MAX_ROWS rows of a scorecard and the MAX_SESSIONS most
recently used scorecards are kept. Exports: CSV, and a self-contained HTML page to print.

Nothing here imports solara, so the logic is tested without a browser (tests/test_predictions.py).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import html
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from ..scenarios import Prediction
from . import predictions
from .predictions import Guess, Verdict

MAX_ROWS = 200  # a 90-minute workshop makes a dozen
MAX_SESSIONS = 500

PENDING, CHECKING, CHECKED = "pending", "checking", "checked"
COLUMNS = ("number", "made_at", "scenario", "question", "measured", "prediction", "made_at_step", "outcome",
           "result", "error", "checked_at")


@dataclass
class Row:
    """One prediction: what was asked and guessed, and (once checked) what happened."""

    number: int  # its place in the scorecard, from 1
    scenario: str  # the scenario's name
    title: str  # the scenario's title
    spec: Prediction
    guess: Guess
    made_at: datetime
    made_at_step: int  # the page's step when the prediction was locked in (0: before the run)
    status: str = PENDING
    verdict: Verdict | None = None
    checked_at: datetime | None = None

    @property
    def question(self) -> str:
        return self.spec.question

    @property
    def prediction(self) -> str:
        return predictions.describe(self.spec, self.guess)

    @property
    def measured(self) -> str:
        return f"{predictions.measure_text(self.spec)}, {predictions.window_text(self.spec)}"

    @property
    def result(self) -> str:
        if self.status != CHECKED or self.verdict is None:
            return f"waiting for step {self.spec.window[1]}"
        return {True: "right", False: "wrong", None: "not checked"}[self.verdict.right]

    @property
    def outcome(self) -> str:
        return self.verdict.outcome if self.verdict else ""

    @property
    def error(self) -> str:
        return self.verdict.error if self.verdict else ""

    def record(self) -> dict:
        """The row as text, in COLUMNS order, for the exports."""
        return {"number": str(self.number), "made_at": self.made_at.strftime("%Y-%m-%d %H:%M:%S"),
                "scenario": self.title, "question": self.question, "measured": self.measured,
                "prediction": self.prediction, "made_at_step": str(self.made_at_step), "outcome": self.outcome,
                "result": self.result, "error": self.error,
                "checked_at": self.checked_at.strftime("%Y-%m-%d %H:%M:%S") if self.checked_at else ""}


class Scorecard:
    """The rows of one browser session. Every change goes through a lock: the page's checks run
    in threads, and two tabs of one browser share the scorecard."""

    def __init__(self, max_rows: int = MAX_ROWS):
        self._lock = threading.Lock()
        self._rows: list[Row] = []
        self._made = 0
        self.max_rows = max_rows

    def add(self, scenario: str, title: str, spec: Prediction, guess: Guess, step: int,
            when: datetime | None = None) -> Row:
        with self._lock:
            self._made += 1
            row = Row(self._made, scenario, title, spec, guess, when or datetime.now(), int(step))
            self._rows = (self._rows + [row])[-self.max_rows:]
            return dataclasses.replace(row)

    def rows(self) -> list[Row]:
        """A snapshot: copies, so a reader never sees a row half-changed."""
        with self._lock:
            return [dataclasses.replace(r) for r in self._rows]

    def latest(self, scenario: str, status: str | None = None) -> Row | None:
        with self._lock:
            for row in reversed(self._rows):
                if row.scenario == scenario and (status is None or row.status == status):
                    return dataclasses.replace(row)
        return None

    def claim(self, number: int) -> Row | None:
        """Mark a pending row as being checked; None if it is not pending (checked elsewhere)."""
        with self._lock:
            for row in self._rows:
                if row.number == number and row.status == PENDING:
                    row.status = CHECKING
                    return dataclasses.replace(row)
        return None

    def settle(self, number: int, verdict: Verdict, when: datetime | None = None) -> None:
        with self._lock:
            for row in self._rows:
                if row.number == number:
                    row.status, row.verdict, row.checked_at = CHECKED, verdict, when or datetime.now()

    def release(self, number: int) -> None:
        """A check that did not finish: the row waits again."""
        with self._lock:
            for row in self._rows:
                if row.number == number and row.status == CHECKING:
                    row.status = PENDING

    def withdraw(self, number: int) -> bool:
        """Take back a prediction not yet checked (a slip of the hand); checked ones stay."""
        with self._lock:
            kept = [r for r in self._rows if not (r.number == number and r.status == PENDING)]
            gone = len(kept) < len(self._rows)
            self._rows = kept
            return gone

    def clear(self) -> None:
        with self._lock:
            self._rows = []

    # ----- exports ----------------------------------------------------------------------------
    def csv_bytes(self) -> bytes:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({k: _cell(v) for k, v in row.record().items()})
        return out.getvalue().encode("utf-8")

    def html_bytes(self, title: str = "The room's predictions") -> bytes:
        """A self-contained page to print (A4, landscape), every text escaped."""
        rows = self.rows()
        results = [r.result for r in rows]
        tally = (f"{len(rows)} prediction{'s' if len(rows) != 1 else ''}: {results.count('right')} right, "
                 f"{results.count('wrong')} wrong, {len(rows) - results.count('right') - results.count('wrong')} "
                 "not checked")
        head = "".join(f"<th>{html.escape(name)}</th>" for name in
                       ("#", "time", "scenario", "question", "the room predicted", "what happened", "result", "off by"))
        body = []
        for row in rows:
            r = row.record()
            cells = [r["number"], row.made_at.strftime("%H:%M"), r["scenario"],
                     f"{r['question']}\n({r['measured']})", r["prediction"], r["outcome"], r["result"], r["error"]]
            body.append(f'<tr class="{html.escape(r["result"].split()[0])}">'
                        + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        when = datetime.now().strftime("%Y-%m-%d %H:%M")
        return (f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>leadsim: {html.escape(title)}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 20px; margin: 0 0 4px 0; }}
p {{ margin: 0 0 12px 0; color: #555; font-size: 13px; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #c8cdd2; padding: 4px 6px; font-size: 12px; vertical-align: top; text-align: left;
          white-space: pre-line; }}
th {{ background: #f1f3f5; }}
tr.right td:nth-child(7) {{ color: #1b7f3b; font-weight: 600; }}
tr.wrong td:nth-child(7) {{ color: #b00020; font-weight: 600; }}
@page {{ size: A4 landscape; margin: 12mm; }}
@media print {{ body {{ margin: 0; }} tr {{ break-inside: avoid; }} }}
</style></head>
<body>
<h1>leadsim: {html.escape(title)}</h1>
<p>{html.escape(tally)} · exported {html.escape(when)}</p>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
""").encode("utf-8")


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (the room's words are typed on the page)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class Store:
    """Scorecards by browser session, the most recently used kept. Keys are hashes of the session
    id: the raw cookie is a credential and is kept nowhere."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, max_rows: int = MAX_ROWS):
        self._lock = threading.Lock()
        self._cards: OrderedDict[str, Scorecard] = OrderedDict()
        self.max_sessions, self.max_rows = max_sessions, max_rows

    def get(self, session_id: str) -> Scorecard:
        key = hashlib.sha256(str(session_id).encode("utf-8")).hexdigest()
        with self._lock:
            card = self._cards.pop(key, None) or Scorecard(self.max_rows)
            self._cards[key] = card
            while len(self._cards) > self.max_sessions:
                self._cards.popitem(last=False)
            return card

    def __len__(self) -> int:
        return len(self._cards)


STORE = Store()

"""Every `uv run leadsim` command quoted in docs/workshop/ runs as written and prints the columns its
page promises.

The pages quote each command in a fenced code block, one command a line, and follow the block with
one marker per command, in order: `<!-- columns: a, b -->` (the table's columns, left to right) or
`<!-- prints: text -->` (for a command that prints something else). Each command runs with the
arguments it is quoted with, through the `leadsim` entry point, at a small size: n_members=40,
only as many steps as its events need, no progress bar. Those are settings no scenario variant
sets (checked below), so they change no column. One module fixture runs them all, in two worker
processes (see WORKER); tests/test_cli.py runs the `leadsim` script itself.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import scenarios
from test_cli import table_columns

ROOT = Path(__file__).resolve().parents[1]
WORKSHOP = ROOT / "docs" / "workshop"
SMALL = {"n_members": "40", "progress": "false"}
COMMAND = re.compile(r"uv run (?:--[\w-]+ )*leadsim(?![\w-])")
FENCE = re.compile(r"^(?P<indent>[ \t]*)```[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*\n"
                   r"(?P<after>(?:(?P=indent)<!--[^\n]*-->[ \t]*\n)*)", re.M | re.S)
MARKER = re.compile(r"<!-- (columns|prints): ?(.*?) ?-->")
REPLACED = "is replaced by the scenario"


def quoted_blocks() -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    """(page, the `uv run leadsim` lines of a fenced block, the markers after it), every block."""
    found = []
    for page in sorted(WORKSHOP.glob("*.md")):
        for block in FENCE.finditer(page.read_text(encoding="utf-8")):
            lines = [line.strip() for line in block["body"].splitlines() if COMMAND.match(line.strip())]
            if lines:
                found.append((page.name, lines, MARKER.findall(block["after"])))
    return found


def quoted_commands() -> dict[str, list[tuple[str, str, str]]]:
    """{command: [(kind, expected, page), one per quote]}; kind is `columns` or `prints`."""
    commands: dict[str, list[tuple[str, str, str]]] = {}
    for page, lines, markers in quoted_blocks():
        for line, (kind, expected) in zip(lines, markers):
            commands.setdefault(" ".join(shlex.split(line, comments=True)), []).append((kind, expected, page))
    return commands


COMMANDS = quoted_commands()


def small_overrides(args: list[str]) -> list[str]:
    """The settings that make a quoted command small: enough steps for every event it schedules."""
    events = [a.partition("=")[2] for a in args if a.lstrip("+").startswith("events.schedule=")]
    scenario = next((a.partition("=")[2] for a in args if a.startswith("+scenario=")), None)
    if scenario:
        events += [str(e) for e in scenarios.load(scenario).params.get("events", {}).get("schedule", [])]
    last = max((int(step) for text in events for step in re.findall(r"@(\d+)", text)), default=0)
    assert not any(a.partition("=")[0] in {*SMALL, "steps"} for a in args), "a quoted command sets a size"
    return [f"{k}={v}" for k, v in SMALL.items()] + [f"steps={max(60, last)}"]


# A worker runs commands one after another through `sim.cli.main`, the function the `leadsim`
# script calls, with the command's arguments as sys.argv, and reports each one's exit code and
# output as JSON. Start-up (Hydra, numba's cached kernels, pandas, matplotlib: about 3 s of CPU)
# is then paid once per worker rather than once per command, which keeps ~25 commands near 30 s.
WORKER = r"""
import contextlib, io, json, sys
import sim.cli

results = []
for args in json.load(sys.stdin):
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = ["leadsim", *args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            sim.cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
            if not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
    results.append({"rc": code, "out": out.getvalue(), "err": err.getvalue()})
json.dump(results, sys.__stdout__)
"""


@pytest.fixture(scope="module")
def doc_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("workshop-commands")
    env = {**{k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}, "COLUMNS": "250"}
    runs = {command: shlex.split(command)[3:] for command in COMMANDS}  # after `uv run leadsim`
    argv = {}
    for i, (command, args) in enumerate(runs.items()):
        options = next((k for k, a in enumerate(args) if a.startswith("--")), len(args))  # overrides go before
        argv[command] = (args[:options] + small_overrides(args)                          # --cfg and the like
                         + [f"hydra.run.dir={base / f'run{i}'}"] + args[options:])
    shares = [list(argv)[k::2] for k in range(2)]  # two workers for two cores
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for _ in shares]
    results = {}
    for commands, worker in zip(shares, workers):
        out, err = worker.communicate(json.dumps([argv[c] for c in commands]), timeout=600)
        assert worker.returncode == 0, err[-3000:]
        for command, result in zip(commands, json.loads(out)):
            results[command] = {**result, "dir": base / f"run{list(argv).index(command)}"}
    return results


def test_every_leadsim_command_in_the_guide_is_in_a_code_block_with_what_it_prints():
    for page in sorted(WORKSHOP.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        in_blocks = [lines for name, lines, _ in quoted_blocks() if name == page.name]
        assert len(COMMAND.findall(text)) == sum(map(len, in_blocks)), (
            f"{page.name}: a `uv run leadsim` command outside a fenced code block is not tested")
    for page, lines, markers in quoted_blocks():
        assert len(markers) == len(lines), f"{page}: {lines} needs one <!-- columns: ... --> marker per command"
    assert len(COMMANDS) >= 20 and {"README.md", "01-hero-leaves.md", "06-turbulent-market.md"} <= {
        page for quotes in COMMANDS.values() for _, _, page in quotes}


def test_the_settings_that_make_a_command_small_are_set_by_no_variant():
    for scn in scenarios.all_scenarios():
        for label, params in scn.variants:
            for key in (*SMALL, "steps"):
                assert params.get(key) == scn.params.get(key), f"{scn.name} · {label} sets {key}"


def test_a_command_quoted_twice_makes_the_same_promise_each_time():
    for command, quotes in COMMANDS.items():
        assert len({(kind, expected) for kind, expected, _ in quotes}) == 1, f"{command}: {quotes}"


def _quoted(kind: str) -> list[str]:
    return [command for command, quotes in COMMANDS.items() if quotes[0][0] == kind]


def _ran_cleanly(run: dict, command: str) -> None:
    pages = sorted({page for _, _, page in COMMANDS[command]})
    assert run["rc"] == 0, f"{command} (quoted in {pages}):\n{run['err'][-2000:]}"
    assert "Traceback" not in run["out"] + run["err"]
    assert REPLACED not in run["out"] + run["err"], f"{command}: the scenario replaces one of its settings"


@pytest.mark.parametrize("command", _quoted("columns"))
def test_every_quoted_command_prints_the_columns_its_page_promises(doc_runs, command):
    run = doc_runs[command]
    _ran_cleanly(run, command)
    columns = [c.strip() for c in COMMANDS[command][0][1].split(",")]
    assert table_columns(run["out"]) == columns, run["out"][:3000]
    assert pd.read_csv(run["dir"] / "summary.csv")["run"].tolist() == columns


@pytest.mark.parametrize("command", _quoted("prints"))
def test_every_other_quoted_command_prints_what_its_page_says(doc_runs, command):
    run = doc_runs[command]
    _ran_cleanly(run, command)
    assert COMMANDS[command][0][1] in run["out"], run["out"][-2000:]


def test_the_handouts_quote_only_commands_the_guide_tests():
    quoted = set()
    for sheet in WORKSHOP.glob("handout-*.html"):
        quoted |= {" ".join(c.split()) for c in re.findall(r"<code>(uv run [^<]*leadsim[^<]*)</code>",
                                                               sheet.read_text(encoding="utf-8"))
                   if COMMAND.match(c)}
    assert quoted and quoted <= set(COMMANDS)

"""Regenerate the parameter table in docs/ODD.md from the schema in sim/config.py.

    uv run python docs/make_parameter_table.py           # rewrite the table in docs/ODD.md
    uv run python docs/make_parameter_table.py --check   # exit 1 if docs/ODD.md is stale

The table sits between the markers START and END below; everything else in the file is left
as it is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: make `sim` importable
    sys.path.insert(0, str(ROOT))

from sim.config import parameter_rows  # noqa: E402

ODD = ROOT / "docs" / "ODD.md"
START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
HEADER = ("key", "meaning", "default", "allowed", "construct")


def _value(v) -> str:
    """A default or bound as a reader would type it."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, float):  # 18.0 stays 18.0, so that a float reads as one
        return f"{v:.1f}" if v.is_integer() and abs(v) < 1e6 else format(v, "g")
    return str(v)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _allowed(allowed: str) -> str:
    """Ranges come as "[lo, hi]"; print floats in the same style as defaults."""
    if allowed.startswith("[") and allowed.endswith("]") and ", " in allowed:
        lo, hi = allowed[1:-1].split(", ", 1)
        return f"[{_number(lo)}, {_number(hi)}]"
    return allowed or "any"


def _number(text: str) -> str:
    try:
        return str(int(text))
    except ValueError:
        return format(float(text), "g")


def render_table() -> str:
    """The Markdown parameter table, one row per parameter, in schema order."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for key, default, allowed, doc, construct in parameter_rows():
        cells = (f"`{key}`", doc, f"`{_value(default)}`", _allowed(allowed), construct)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def current_table(text: str) -> str:
    """The table as it stands between the markers of `text`."""
    if START not in text or END not in text:
        raise ValueError(f"{ODD} lacks the markers {START} and {END}")
    inner = text.split(START, 1)[1].split(END, 1)[0]
    return inner.strip("\n")


def updated(text: str) -> str:
    """`text` with the table between the markers replaced by a freshly generated one."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{render_table()}\n{END}{tail}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/ODD.md is out of date")
    args = parser.parse_args(argv)
    text = ODD.read_text(encoding="utf-8")
    current_table(text)  # raises when the markers are missing
    new = updated(text)
    if args.check:
        if new != text:
            print(f"{ODD.relative_to(ROOT)}: parameter table is stale; run "
                  "`uv run python docs/make_parameter_table.py`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        ODD.write_text(new, encoding="utf-8")
        print(f"updated {ODD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The parameter table in docs/ODD.md is generated from sim/config.py and must be current."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "make_parameter_table.py"


def _script():
    spec = importlib.util.spec_from_file_location("make_parameter_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parameter_table_is_current():
    script = _script()
    text = script.ODD.read_text(encoding="utf-8")
    assert script.current_table(text) == script.render_table(), (
        "docs/ODD.md's parameter table is stale; run `uv run python docs/make_parameter_table.py`")

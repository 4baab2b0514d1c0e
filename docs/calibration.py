"""The calibration figures of docs/ODD.md ("Calibration"), recomputed from the code as it is.

    uv run python docs/calibration.py            # seeds 1-3, 300 and 500 steps, the defaults

For each regime, seed and run length it prints the value share and completion rate (counting only
the tasks that could end: born at least `patience` steps before the last step), the share of the
arrived value still running at the end, the mean utilisation, the effective decision load and,
under heroic, the lowest energy the hero reached and whether it ever burned out. Then the range
of each figure over seeds and run lengths. Takes a few seconds (compiled engine).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: make `sim` importable
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from sim import LeadershipModel  # noqa: E402

REGIMES = ("heroic", "hierarchical", "distributed")
SEEDS = (1, 2, 3)
LENGTHS = (300, 500)
COLUMNS = ("value_share", "completion_rate", "value_running_at_end", "mean_utilisation", "effective_decision_load")


def one_run(regime: str, seed: int, steps: int) -> dict:
    model = LeadershipModel(regime=regime, seed=seed, steps=steps, engine="numba")
    s = model.state
    hero_low, hero_burned_out = float(s.energy[0]), False
    for _ in range(steps):
        model.step()
        hero_low = min(hero_low, float(s.energy[0]))
        hero_burned_out |= bool(s.step < s.recover_until[0])
    row = {"regime": regime, "seed": seed, "steps": steps, **{k: model.summary()[k] for k in COLUMNS}}
    if regime == "heroic":
        row.update(hero_lowest_energy=hero_low, hero_burned_out=hero_burned_out)
    return row


def main() -> int:
    runs = pd.DataFrame([one_run(r, seed, steps) for r in REGIMES for seed in SEEDS for steps in LENGTHS])
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(runs.to_string(index=False))
        print("\nrange over seeds 1-3 and 300 and 500 steps:")
        print(runs.groupby("regime", sort=False)[list(COLUMNS)].agg(["min", "max"]).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())

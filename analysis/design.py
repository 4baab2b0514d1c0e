"""Design tables for global sensitivity analysis (SALib), swept as `design_row=range(n)`.

    uv run leadsim-design morris --trajectories 10 --out experiments/four_keys/design.csv
    uv run leadsim -m design=experiments/four_keys/design.csv design_row='range(70)' regime=...

Each input is a lever on the unit interval, mapped onto one or more model parameters (the trust
lever moves starting trust, trust growth and tie formation together: the collaborative
infrastructure key). The table holds the mapped parameters (dotted keys) and the unit inputs
(`input.<name>`), which `morris_indices` / `sobol_indices` use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.run import write_atomic

# lever -> {parameter: (value at 0, value at 1)}
FOUR_KEYS = {
    "purpose": {"culture.purpose": (0.0, 1.0)},
    "contribution": {"culture.contribution": (0.0, 1.0)},
    "procedures": {"culture.procedures": (0.0, 1.0)},
    "trust": {"culture.trust0": (0.1, 0.9), "culture.omega": (0.005, 0.05), "culture.p_new_tie": (0.01, 0.2)},
    "autonomy0": {"culture.autonomy0": (0.1, 0.9)},
    "autonomy_support": {"culture.autonomy_support": (0.0, 1.0)},
}


def problem(levers=FOUR_KEYS) -> dict:
    return {"num_vars": len(levers), "names": list(levers), "bounds": [[0.0, 1.0]] * len(levers)}


def to_table(unit: np.ndarray, levers=FOUR_KEYS) -> pd.DataFrame:
    """Map unit-scale inputs (rows x levers) to a design table of model parameters."""
    columns = {}
    for k, (name, params) in enumerate(levers.items()):
        for key, (lo, hi) in params.items():
            columns[key] = lo + (hi - lo) * unit[:, k]
    for k, name in enumerate(levers):
        columns[f"input.{name}"] = unit[:, k]
    return pd.DataFrame(columns)


def morris_design(trajectories: int, levels: int = 4, seed: int = 1) -> pd.DataFrame:
    from SALib.sample import morris

    unit = morris.sample(problem(), N=trajectories, num_levels=levels, seed=seed)
    return to_table(unit)


def sobol_design(base: int, seed: int = 1) -> pd.DataFrame:
    from SALib.sample import sobol

    unit = sobol.sample(problem(), base, calc_second_order=False, seed=seed)
    return to_table(unit)


def morris_indices(design: pd.DataFrame, outcome: np.ndarray, levels: int = 4) -> pd.DataFrame:
    """Morris elementary effects: mu* (overall influence) and sigma (interactions, non-linearity)."""
    from SALib.analyze import morris

    inputs = design[[f"input.{n}" for n in problem()["names"]]].to_numpy()
    res = morris.analyze(problem(), inputs, np.asarray(outcome, dtype=float), num_levels=levels)
    return pd.DataFrame({"lever": res["names"], "mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                         "mu": res["mu"], "sigma": res["sigma"]}).sort_values("mu_star", ascending=False)


def sobol_indices(outcome: np.ndarray) -> pd.DataFrame:
    from SALib.analyze import sobol

    res = sobol.analyze(problem(), np.asarray(outcome, dtype=float), calc_second_order=False)
    return pd.DataFrame({"lever": problem()["names"], "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"]}).sort_values("ST", ascending=False)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("method", choices=["morris", "sobol"])
    p.add_argument("--trajectories", type=int, default=10, help="Morris trajectories (rows = r x (k+1))")
    p.add_argument("--base", type=int, default=64, help="Sobol base sample (power of 2; rows = N x (k+2))")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.trajectories < 2 or args.base < 2:
        sys.exit("leadsim-design: error: --trajectories and --base must be at least 2")
    table = morris_design(args.trajectories, seed=args.seed) if args.method == "morris" else \
        sobol_design(args.base, seed=args.seed)
    out = Path(args.out)
    write_atomic(out, lambda path: table.to_csv(path, index=False))
    print(f"{len(table)} design rows -> {out}; sweep them with design={out} design_row='range({len(table)})'")


if __name__ == "__main__":
    main()

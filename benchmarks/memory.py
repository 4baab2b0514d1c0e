"""Peak memory of a run against the estimate that refuses runs too big for this computer.

    uv run python benchmarks/memory.py                          # numba 100k, 300k; agents 20k, 50k
    uv run python benchmarks/memory.py --runs numba:1000000

Each run is its own process (build the organisation, then 20 steps); its peak resident memory
(ru_maxrss) is printed beside `sim.capacity.bytes_needed`, which must stay above it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CHILD = """
import resource, sys
from sim import LeadershipModel
n, engine = int(sys.argv[1]), sys.argv[2]
model = LeadershipModel(n_members=n, engine=engine, steps=20)
model.run_for(20)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def main() -> None:
    from sim import make_config
    from sim.capacity import bytes_needed

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", default=["numba:100000", "numba:300000", "agents:20000", "agents:50000"])
    args = p.parse_args()
    print(f"{'engine':>7} {'members':>10} {'peak MB':>9} {'estimate MB':>12} {'estimate/peak':>14} "
          f"{'bytes/member since the last size':>33}")
    last: dict[str, tuple[int, int]] = {}
    for item in args.runs:
        engine, n = item.split(":")
        peak = int(subprocess.run([sys.executable, "-c", CHILD, n, engine], check=True, capture_output=True,
                                  text=True).stdout.split()[-1])
        estimate = bytes_needed(make_config(n_members=int(n), engine=engine, steps=20))
        before = last.get(engine)
        marginal = f"{(peak - before[1]) / (int(n) - before[0]):.0f}" if before and int(n) > before[0] else "-"
        last[engine] = (int(n), peak)
        print(f"{engine:>7} {int(n):>10,} {peak / 2**20:>9.0f} {estimate / 2**20:>12.0f} {estimate / peak:>14.2f} "
              f"{marginal:>33}")


if __name__ == "__main__":
    main()

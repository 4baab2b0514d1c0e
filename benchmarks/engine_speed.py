"""Member-steps per second of each engine on the default config.

    uv run python benchmarks/engine_speed.py --engines agents --sizes 200 2000 10000

Each model first runs --warmup steps so that the organisation is busy (the first steps have
few tasks), then --steps timed steps. Prints one row per (engine, size) and, where both engines
ran at a size, their ratio measured in this same process.
"""

from __future__ import annotations

import argparse
import platform
import time

from sim import LeadershipModel


def measure(engine: str, n: int, warmup: int, steps: int, regime: str, org: str) -> dict:
    started = time.perf_counter()
    model = LeadershipModel(engine=engine, n_members=n, regime=regime, org=org, steps=max(steps + warmup, 1))
    built = time.perf_counter() - started
    model.run_for(warmup)
    t0 = time.perf_counter()
    model.run_for(steps)
    elapsed = time.perf_counter() - t0
    return {"engine": engine, "members": n, "regime": regime, "org": org, "build_s": built,
            "step_s": elapsed / steps, "member_steps_per_s": n * steps / elapsed}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--engines", nargs="+", default=["agents"])
    p.add_argument("--sizes", nargs="+", type=int, default=[200, 2000, 10000])
    p.add_argument("--warmup", type=int, default=60)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--regime", default="distributed")
    p.add_argument("--org", default="flat")
    args = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"config: default, regime={args.regime}, org={args.org}, {args.warmup} warm-up + {args.steps} timed steps")
    print(f"{'engine':8s} {'members':>9s} {'build s':>8s} {'s/step':>9s} {'member-steps/s':>15s}")
    rows = []
    for n in args.sizes:
        for engine in args.engines:
            r = measure(engine, n, args.warmup, args.steps, args.regime, args.org)
            rows.append(r)
            print(f"{engine:8s} {n:9d} {r['build_s']:8.2f} {r['step_s']:9.4f} {r['member_steps_per_s']:15.3g}", flush=True)
    by = {(r["engine"], r["members"]): r for r in rows}
    for n in args.sizes:
        if ("agents", n) in by and ("numba", n) in by:
            ratio = by[("numba", n)]["member_steps_per_s"] / by[("agents", n)]["member_steps_per_s"]
            print(f"numba / agents at {n} members: {ratio:.0f}x")


if __name__ == "__main__":
    main()

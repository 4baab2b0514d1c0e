"""Where the numba engine spends a step, phase by phase.

    uv run python benchmarks/profile_phases.py --members 100000 --regime distributed
"""

from __future__ import annotations

import argparse

from sim import LeadershipModel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=int, default=100_000)
    p.add_argument("--regime", default="distributed")
    p.add_argument("--org", default="flat")
    p.add_argument("--warmup", type=int, default=60)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    model = LeadershipModel(engine="numba", n_members=args.members, regime=args.regime, org=args.org)
    model.run_for(args.warmup)
    model.engine.timings = {}
    model.run_for(args.steps)
    total = sum(model.engine.timings.values())
    print(f"{args.members} members, {args.regime}, {args.org}: {total / args.steps * 1000:.2f} ms per step, "
          f"{args.members * args.steps / total:.3g} member-steps/s; live tasks {model.state.n_tasks}")
    for name, seconds in sorted(model.engine.timings.items(), key=lambda kv: -kv[1]):
        print(f"  {name:30s} {seconds / args.steps * 1000:8.2f} ms  {seconds / total:6.1%}")


if __name__ == "__main__":
    main()

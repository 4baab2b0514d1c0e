"""Speed and memory of the two engines on the default config.

    uv run python benchmarks/engine_speed.py            # the full table (about 10 minutes)
    uv run python benchmarks/engine_speed.py --quick    # 1,000 and 10,000 members only
    uv run python benchmarks/engine_speed.py --engines agents --sizes 200 2000 10000   # any sizes

Prints, for the default config (distributed regime, flat org):
- member-steps per second of both engines at 1,000 and 10,000 members, and their ratio,
  measured in this same process one after the other;
- the numba engine alone at 100,000 and 1,000,000 members, each in a fresh process, with the
  process's peak memory;
- the first-ever compile time (empty numba cache) and the warm start (cached) to the first step.

Each model first runs --warmup steps so that the organisation is busy (the first steps have few
tasks), then --steps timed steps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time


def measure(engine: str, n: int, warmup: int, steps: int) -> dict:
    from sim import LeadershipModel

    started = time.perf_counter()
    model = LeadershipModel(engine=engine, n_members=n, steps=warmup + steps)
    built = time.perf_counter() - started
    model.run_for(warmup)
    t0 = time.perf_counter()
    model.run_for(steps)
    elapsed = time.perf_counter() - t0
    return {"engine": engine, "members": n, "build_s": built, "step_s": elapsed / steps,
            "member_steps_per_s": n * steps / elapsed,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def in_fresh_process(args: list[str], env=None) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_step(engine: str) -> dict:
    """Seconds from a fresh interpreter to a model built and stepped once (run in a subprocess)."""
    t0 = time.perf_counter()
    from sim import LeadershipModel

    model = LeadershipModel(engine=engine)
    model.step()
    return {"seconds_to_first_step": time.perf_counter() - t0}


def row(r: dict) -> str:
    return (f"{r['engine']:8s} {r['members']:>10,d} {r['build_s']:8.2f} {r['step_s'] * 1000:10.2f} "
            f"{r['member_steps_per_s']:15.3g} {r['peak_mb']:9.0f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="only the side-by-side sizes")
    p.add_argument("--engines", nargs="+", choices=["agents", "numba"], help="with --sizes: engines to time")
    p.add_argument("--sizes", nargs="+", type=int, help="time these sizes only (in this process)")
    p.add_argument("--warmup", type=int, default=60)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--one", nargs=2, metavar=("ENGINE", "MEMBERS"), help=argparse.SUPPRESS)
    p.add_argument("--first-step", metavar="ENGINE", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.warmup, args.steps)))
        return
    if args.first_step:
        print(json.dumps(first_step(args.first_step)))
        return

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    print(f"config: defaults (distributed, flat); {args.warmup} warm-up + {args.steps} timed steps\n")
    print(f"{'engine':8s} {'members':>10s} {'build s':>8s} {'ms/step':>10s} {'member-steps/s':>15s} {'peak MB':>9s}")
    measure("numba", 200, 1, 1)  # load the compiled kernels before timing
    if args.sizes:
        for n in args.sizes:
            for engine in args.engines or ["agents", "numba"]:
                print(row(measure(engine, n, args.warmup, args.steps)), flush=True)
        return
    for n in (1_000, 10_000):
        pair = {engine: measure(engine, n, args.warmup, args.steps) for engine in ("agents", "numba")}
        for r in pair.values():
            print(row(r), flush=True)
        ratio = pair["numba"]["member_steps_per_s"] / pair["agents"]["member_steps_per_s"]
        print(f"{'':8s} numba / agents at {n:,d} members: {ratio:.0f}x\n", flush=True)
    if args.quick:
        return
    for n, warmup, steps in ((100_000, args.warmup, args.steps), (1_000_000, 0, 100)):
        r = in_fresh_process(["--one", "numba", str(n), "--warmup", str(warmup), "--steps", str(steps)])
        print(row(r) + ("   (100 steps from a cold start)" if n == 1_000_000 else ""), flush=True)
    with tempfile.TemporaryDirectory() as cache:
        cold = in_fresh_process(["--first-step", "numba"], env={**os.environ, "NUMBA_CACHE_DIR": cache})
    warm = in_fresh_process(["--first-step", "numba"])
    print(f"\nfirst-ever compile, import to first step (empty cache): {cold['seconds_to_first_step']:.1f} s")
    print(f"warm start, import to first step (cached kernels):      {warm['seconds_to_first_step']:.2f} s")


if __name__ == "__main__":
    main()

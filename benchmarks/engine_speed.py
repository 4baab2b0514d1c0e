"""Speed and memory of the two engines on the default config.

    uv run python benchmarks/engine_speed.py            # the full table (about 10 minutes)
    uv run python benchmarks/engine_speed.py --quick    # 1,000 and 10,000 members only
    uv run python benchmarks/engine_speed.py --engines agents --sizes 200 2000 10000   # any sizes
    uv run python benchmarks/engine_speed.py --against HEAD~5 --sizes 2000 10000        # this tree / a revision
    uv run python benchmarks/engine_speed.py --against cc01f02 --sizes 10000 100000 --threads 1 2

Prints, for the default config (distributed regime, flat org), with the numba engine on each of
--threads thread counts (default: 1 and all cores):
- member-steps per second of both engines at 1,000 and 10,000 members, and their ratio,
  measured in this same process one after the other;
- the numba engine alone at 100,000 members on each thread count, with the speed-up over one
  thread, and at 1,000,000 members on all of them, each in a fresh process, with the process's
  peak memory;
- the first-ever compile time (empty numba cache) and the warm start (cached) to the first step.

Each model first runs --warmup steps so that the organisation is busy (the first steps have few
tasks), then --steps timed steps.

With --against REV (any git revision), the numba engine of this working tree (uncommitted changes
included) and of REV are timed side by side in one run, and the ratio of their member-steps/s is
printed per size (above 1: this tree is faster), for this tree on each of --threads thread
counts (REV on the smallest), with this tree's speed-up from the fewest threads to the most.
REV is checked out with `git worktree add` into a
temporary folder and gets its own environment there (`uv sync --frozen --no-dev`, from uv's cache);
this same timing code then runs against each side's `sim`, so REV must have today's
`LeadershipModel(engine=, n_members=, steps=)` and `run_for`. Every measurement is a fresh process;
both sides first compile or load their kernels once, untimed, and then alternate (this tree first
in odd rounds, REV first in even ones) for --rounds rounds, so that a change of load hits both
alike. The ratio is of the medians. The worktree and its environment are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(engine: str, n: int, warmup: int, steps: int, threads: int | None = None) -> dict:
    import sim
    from sim import LeadershipModel

    started = time.perf_counter()
    # threads=None: the model's own choice (one thread below sim.engines.numba.PARALLEL_FROM members)
    model = LeadershipModel(engine=engine, n_members=n, steps=warmup + steps,
                            **({"threads": threads} if engine == "numba" and threads else {}))
    built = time.perf_counter() - started
    model.run_for(warmup)
    t0 = time.perf_counter()
    model.run_for(steps)
    elapsed = time.perf_counter() - t0
    return {"engine": engine, "members": n, "threads": model.engine.threads if engine == "numba" else 1,
            "build_s": built, "step_s": elapsed / steps, "member_steps_per_s": n * steps / elapsed,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "sim": str(Path(sim.__file__).parent)}


def in_fresh_process(args: list[str], env=None, python: str = sys.executable, cwd=None) -> dict:
    out = subprocess.run([python, __file__, *args], capture_output=True, text=True, env=env, check=True, cwd=cwd)
    return json.loads(out.stdout.strip().splitlines()[-1])


def checkout(rev: str, folder: Path) -> tuple[str, Path]:
    """`rev` in a git worktree under `folder`, with its own environment; returns (short hash, its python)."""
    top = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip())
    tree, venv = folder / "tree", folder / "venv"
    subprocess.run(["git", "-C", str(top), "worktree", "add", "--detach", "--quiet", str(tree), rev], check=True)
    short = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True, check=True).stdout.strip()
    subprocess.run(["uv", "sync", "--quiet", "--frozen", "--no-dev", "--project", str(tree)], check=True,
                   env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)})
    return short, venv / "bin" / "python"


def against(rev: str, sizes: list[int], warmup: int, steps: int, rounds: int, threads: list[int]) -> None:
    """Time the numba engine of this tree (on each thread count) and of `rev` side by side; print
    the ratios per size, and this tree's speed-up over one thread."""
    here_tree = Path(__file__).resolve().parent.parent
    here = subprocess.run(["git", "-C", str(here_tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(here_tree), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=True).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix="leadsim-against-"))
    try:
        short, rev_python = checkout(rev, folder)
        rev_threads = min(threads)
        # side name -> (python, folder, NUMBA_NUM_THREADS)
        sides = {f"this@{t}": (sys.executable, str(here_tree), t) for t in threads}
        sides["rev"] = (str(rev_python), str(folder / "tree"), rev_threads)
        print(f"this tree: {here}{' + uncommitted changes' if dirty else ''};  {rev} = {short}")
        print(f"numba engine, defaults (distributed, flat); {warmup} warm-up + {steps} timed steps; "
              f"{rounds} alternating rounds, each run a fresh process; this tree on {threads} threads, "
              f"{short} on {rev_threads}")
        for side, (python, cwd, t) in sides.items():  # compile (a new worktree has no cache) or load, untimed
            out = in_fresh_process(["--one", "numba", "200", "--warmup", "1", "--steps", "1"], python=python, cwd=cwd,
                                   env=with_threads(t))
            print(f"{side + ':':8s} sim from {out['sim']}")
        header = f"\n{'members':>10s} {short + ' (rev)':>14s}"
        for t in threads:
            header += f" {f'this@{t}':>10s} {f'/ rev':>7s}"
        print(header + (f" {'speed-up ' + str(max(threads)) + ' threads':>20s}" if len(threads) > 1 else "")
              + "   member-steps/s; ratios of medians")
        for n in sizes:
            rate = {side: [] for side in sides}
            for r in range(rounds):
                order = list(sides) if r % 2 == 0 else list(reversed(sides))
                for side in order:
                    python, cwd, t = sides[side]
                    out = in_fresh_process(["--one", "numba", str(n), "--warmup", str(warmup), "--steps", str(steps)],
                                           python=python, cwd=cwd, env=with_threads(t))
                    rate[side].append(out["member_steps_per_s"])
            median = {side: statistics.median(values) for side, values in rate.items()}
            line = f"{n:>10,d} {median['rev']:>14.3g}"
            for t in threads:
                line += f" {median[f'this@{t}']:>10.3g} {median[f'this@{t}'] / median['rev']:>7.2f}"
            if len(threads) > 1:
                line += f" {median[f'this@{max(threads)}'] / median[f'this@{min(threads)}']:>20.2f}"
            print(line, flush=True)
            print(f"{'':>10s} each round's this / rev: " + "; ".join(
                f"{t} threads " + " ".join(f"{a / b:.2f}" for a, b in zip(rate[f'this@{t}'], rate["rev"]))
                for t in threads), flush=True)
    finally:
        if (folder / "tree").exists():
            subprocess.run(["git", "-C", str(here_tree), "worktree", "remove", "--force", str(folder / "tree")],
                           check=False)
        shutil.rmtree(folder, ignore_errors=True)


def with_threads(threads: int | None) -> dict:
    """This process's environment, with the compiled kernels limited to `threads` threads."""
    env = dict(os.environ)
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    return env


def first_step(engine: str) -> dict:
    """Seconds from a fresh interpreter to a model built and stepped once (run in a subprocess)."""
    t0 = time.perf_counter()
    from sim import LeadershipModel

    model = LeadershipModel(engine=engine)
    model.step()
    return {"seconds_to_first_step": time.perf_counter() - t0}


def row(r: dict) -> str:
    return (f"{r['engine']:8s} {r['threads']:>7d} {r['members']:>10,d} {r['build_s']:8.2f} {r['step_s'] * 1000:10.2f} "
            f"{r['member_steps_per_s']:15.3g} {r['peak_mb']:9.0f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="only the side-by-side sizes")
    p.add_argument("--engines", nargs="+", choices=["agents", "numba"], help="with --sizes: engines to time")
    p.add_argument("--sizes", nargs="+", type=int, help="time these sizes only (in this process)")
    p.add_argument("--warmup", type=int, default=60)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--against", metavar="REV", help="time the numba engine of this tree and of git revision "
                   "REV side by side (default sizes 1,000 and 10,000) and print their ratio")
    p.add_argument("--rounds", type=int, default=3, help="with --against: alternating rounds per size")
    p.add_argument("--threads", nargs="+", type=int, default=[1, os.cpu_count() or 1],
                   help="thread counts for the numba engine (default: 1 and all cores); with --against, "
                        "REV runs on the smallest")
    p.add_argument("--one", nargs=2, metavar=("ENGINE", "MEMBERS"), help=argparse.SUPPRESS)
    p.add_argument("--first-step", metavar="ENGINE", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:  # threads: as NUMBA_NUM_THREADS says (all cores when unset)
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.warmup, args.steps)))
        return
    if args.first_step:
        print(json.dumps(first_step(args.first_step)))
        return
    if args.against:
        if args.engines and args.engines != ["numba"]:
            p.error("--against times the numba engine only")
        known = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "--verify", "--quiet",
                                f"{args.against}^{{commit}}"], capture_output=True)
        if known.returncode:
            p.error(f"--against: {args.against!r} is not a git revision of this repository")
        against(args.against, args.sizes or [1_000, 10_000], args.warmup, args.steps, args.rounds,
                sorted(set(args.threads)))
        return

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    print(f"config: defaults (distributed, flat); {args.warmup} warm-up + {args.steps} timed steps\n")
    print(f"{'engine':8s} {'threads':>7s} {'members':>10s} {'build s':>8s} {'ms/step':>10s} {'member-steps/s':>15s} "
          f"{'peak MB':>9s}")
    threads = sorted(set(args.threads))
    os.environ["NUMBA_NUM_THREADS"] = str(max(threads))  # children may use up to this many
    measure("numba", 200, 1, 1)  # load the compiled kernels before timing
    if args.sizes:
        for n in args.sizes:
            for engine in args.engines or ["agents", "numba"]:
                for t in (threads if engine == "numba" else [1]):
                    print(row(measure(engine, n, args.warmup, args.steps, t)), flush=True)
        return
    for n in (1_000, 10_000):
        agents = measure("agents", n, args.warmup, args.steps)
        print(row(agents), flush=True)
        for t in threads:
            numba = measure("numba", n, args.warmup, args.steps, t)
            print(row(numba) + f"   numba / agents: {numba['member_steps_per_s'] / agents['member_steps_per_s']:.0f}x",
                  flush=True)
        print()
    if args.quick:
        return
    rates = {}
    for t in threads:  # each in a fresh process, for an honest peak memory
        r = in_fresh_process(["--one", "numba", "100000", "--warmup", str(args.warmup), "--steps", str(args.steps)],
                             env=with_threads(t))
        rates[t] = r["member_steps_per_s"]
        print(row(r), flush=True)
    if len(threads) > 1:
        print(f"{'':8s} speed-up at 100,000 members, {max(threads)} threads over {min(threads)}: "
              f"{rates[max(threads)] / rates[min(threads)]:.2f}x", flush=True)
    r = in_fresh_process(["--one", "numba", "1000000", "--warmup", "0", "--steps", "100"],
                         env=with_threads(max(threads)))
    print(row(r) + "   (100 steps from a cold start)", flush=True)
    with tempfile.TemporaryDirectory() as cache:
        cold = in_fresh_process(["--first-step", "numba"], env={**os.environ, "NUMBA_CACHE_DIR": cache})
    warm = in_fresh_process(["--first-step", "numba"])
    print(f"\nfirst-ever compile, import to first step (empty cache): {cold['seconds_to_first_step']:.1f} s")
    print(f"warm start, import to first step (cached kernels):      {warm['seconds_to_first_step']:.2f} s")


if __name__ == "__main__":
    main()

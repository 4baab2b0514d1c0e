"""How long a warm `uv run leadsim` spends outside the simulation.

    uv run python benchmarks/startup.py              # 5 repetitions of each measurement
    uv run python benchmarks/startup.py --repeat 9

Every measurement runs in fresh processes, from a temporary folder (Hydra writes its outputs
there). The table gives the median, fastest and slowest wall time of the repetitions, and the
median CPU time (user + system, of the process, its threads and its children). On a busy machine
the wall times grow with the load much more than the CPU times do; outside the simulation almost
all the work is on one thread, so there the CPU time is close to what an idle machine's wall time
would be.

1. `uv run true`: what uv itself costs before any Python starts (checking the environment).
2. `uv run python -c pass`: uv plus a bare interpreter.
3. `import sim.cli`, timed inside the process.
4. `uv run leadsim`, the default run (three organisations, 500 steps each).
5. The simulation inside that run: the same default run, in a process that times the call that
   builds and steps the models (`sim.run.compare`, the span the command's own "took ... s" line
   reports), and, within it, the models' steps alone. Building the models includes loading the
   compiled kernels from numba's cache, about 0.3 s in all.

Time outside the simulation is 4 - 5: uv, the interpreter, imports, Hydra, writing the files and
the figure, the table. The kernels load from numba's cache, so this is a warm start; the very
first run, which compiles them, takes about 30 s more.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Under `uv run`, uv names its own executable in UV; a `uv` found on PATH may be a pyenv shim that
# fails outside the repository, and these processes run in a temporary folder.
UV = os.environ.get("UV") or shutil.which("uv") or "uv"
MARK = "startup-benchmark:"


def timed_default_run() -> None:
    """The default run, in this process, with the simulation and the models' steps timed."""
    import pandas  # noqa: F401
    import tqdm.auto  # noqa: F401

    import sim.run
    from sim.model import LeadershipModel

    # sim.run imports the model, pandas and tqdm on first use; imported above, they stay out of the
    # timed spans, which then hold only building, stepping and reading out the models
    totals = {"simulation": [0.0, 0.0], "steps": [0.0, 0.0]}  # [wall, CPU]

    def timed(function, total):
        def wrapper(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                total[0] += time.perf_counter() - wall
                total[1] += time.process_time() - cpu
        return wrapper

    sim.run.compare = timed(sim.run.compare, totals["simulation"])  # sim.cli looks it up at run time
    LeadershipModel.step = timed(LeadershipModel.step, totals["steps"])
    from sim.cli import main

    sys.argv = ["leadsim"]
    try:
        main()
    finally:
        for name, (wall, cpu) in totals.items():
            print(f"{MARK} {name} {wall:.6f} {cpu:.6f}", file=sys.stderr)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_command(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its children, its output)"""
    started, cpu_started = time.perf_counter(), children_cpu()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - started, children_cpu() - cpu_started
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, cpu, done.stdout + done.stderr


def reported(output: str, prefix: str) -> tuple[float, float]:
    """The (wall, CPU) seconds a child process printed on its last line starting with `prefix`."""
    line = [line for line in output.splitlines() if line.startswith(prefix)][-1]
    wall, cpu = line.split()[-2:]
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per measurement")
    parser.add_argument("--timed-default-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.timed_default_run:
        timed_default_run()
        return

    uv_run = [UV, "run", "--project", str(ROOT)]
    timer = ("import time; w, c = time.perf_counter(), time.process_time(); import sim.cli; "
             "print('import', time.perf_counter() - w, time.process_time() - c)")
    whole, simulation, steps = "uv run leadsim (whole run)", "simulation inside it", "  of which the models' steps"
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def record(name: str, seconds: float, cpu_seconds: float) -> None:
        wall.setdefault(name, []).append(seconds)
        cpu.setdefault(name, []).append(cpu_seconds)

    with tempfile.TemporaryDirectory(prefix="leadsim-startup-") as tmp:
        folder = Path(tmp)
        for _ in range(args.repeat):  # interleaved, so that a burst of load elsewhere hits all alike
            record("uv run true", *timed_command(uv_run + ["true"], folder)[:2])
            record("uv run python -c pass", *timed_command(uv_run + ["python", "-c", "pass"], folder)[:2])
            output = timed_command(uv_run + ["python", "-c", timer], folder)[2]
            record("import sim.cli (in the process)", *reported(output, "import"))
            record(whole, *timed_command(uv_run + ["leadsim"], folder)[:2])
            output = timed_command(uv_run + ["python", __file__, "--timed-default-run"], folder)[2]
            record(simulation, *reported(output, f"{MARK} simulation"))
            record(steps, *reported(output, f"{MARK} steps"))

    median = statistics.median
    print(f"{'seconds':<34}{'wall':>8}{'min':>8}{'max':>8}{'CPU':>8}")
    for name in wall:
        print(f"{name:<34}{median(wall[name]):>8.2f}{min(wall[name]):>8.2f}{max(wall[name]):>8.2f}"
              f"{median(cpu[name]):>8.2f}")
    print(f"{'outside the simulation':<34}{median(wall[whole]) - median(wall[simulation]):>8.2f}{'':>16}"
          f"{median(cpu[whole]) - median(cpu[simulation]):>8.2f}   (whole run - simulation, medians)")
    print(f"{args.repeat} fresh processes each (wall: median, min, max; CPU: median); "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

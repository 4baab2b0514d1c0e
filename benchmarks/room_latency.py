"""Round latency of the participatory room (target: under 1 s at 30 participants and 200 members).

    uv run python benchmarks/room_latency.py                       # 30 participants, 200 members, 12 rounds
    uv run python benchmarks/room_latency.py --participants 60 --members 1000 --rounds 20

`leadsim-room` runs in its own process on loopback, as in a workshop; each participant is a
protocol-level client (sim/room/client.py) in a thread of this process, following the rounds by
long polling as a phone does. A participant decides at random after a random pause (0 to 0.3 s),
so most rounds close on the last decision; a few participants never decide in the timer
measurement, whose rounds close when the timer runs out.

The latency of a round is the time from the close of the round before it (the last decision
arriving, or the timer running out: the server's clock, in the round's state) until the last
participant has received the new round (this machine's clock: the same one). It covers stepping
the model, saving the round to disk, working out every participant's screen and delivering it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.room.client import Bot, Served, round_latencies  # noqa: E402


def measure(participants: int, members: int, rounds: int, timer: float, idle: int = 0) -> list[float]:
    """Latencies (s) of `rounds` rounds; `idle` participants never decide (the timer closes)."""
    with tempfile.TemporaryDirectory() as folder:
        served = Served(Path(folder) / "room", "--members", str(members), "--timer", str(timer))
        try:
            bots = [Bot(served.base, served.code, f"p{i}", seed=i, decides=i >= idle) for i in range(participants)]
            for bot in bots:
                bot.start()
            console = served.console()
            console.request("POST", "/api/control", {"action": "start"})
            deadline = time.time() + 60 + rounds * (timer + 2)
            while min(len(b.seen) for b in bots) < rounds + 1 and time.time() < deadline:
                time.sleep(0.05)
            console.request("POST", "/api/control", {"action": "pause"})
            for bot in bots:
                bot.halt.set()
            errors = [e for b in bots for e in b.errors]
            if errors:
                raise RuntimeError(f"participants failed: {errors[:3]}")
            closed = {r: t for b in bots for r, t in b.closed.items() if 2 <= r <= rounds + 1}
            latency = round_latencies([b.seen for b in bots], closed)
            if len(latency) < rounds:
                raise RuntimeError(f"only {len(latency)} of {rounds} rounds reached every participant")
            return [latency[r] for r in sorted(latency)]
        finally:
            served.stop()


def describe(label: str, values: list[float]) -> str:
    ms = sorted(1000 * v for v in values)
    return (f"{label}: median {statistics.median(ms):.0f} ms, 90th percentile {ms[int(0.9 * (len(ms) - 1))]:.0f} ms, "
            f"max {ms[-1]:.0f} ms over {len(ms)} rounds")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args(argv)
    print(f"room latency, {args.participants} participants, {args.members} members, loopback; "
          "from a round's close until every participant has the next one", flush=True)
    decided = measure(args.participants, args.members, args.rounds, timer=20)
    print(describe("  rounds closed by the last decision", decided), flush=True)
    timed = measure(args.participants, args.members, max(3, args.rounds // 3), timer=2, idle=3)
    print(describe("  rounds closed by the timer (2 s)", timed), flush=True)


if __name__ == "__main__":
    main()

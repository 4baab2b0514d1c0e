"""What a run needs in memory, estimated before anything is allocated, so that a size this
computer cannot hold is refused with a message instead of ending in a MemoryError.

The per-member figures come from peak resident memory measured with `benchmarks/memory.py`
(docs/performance.md, "Memory a run needs"): about 1.5 KB a member for the compiled engine and
3.4 KB for the agents engine (a Mesa agent and a network node per member), on top of about
0.3 GB for Python and its libraries. The estimate takes larger figures, and comes out 1.7-1.9
times the measured peak, so it errs towards refusing a run that would only just fit.
"""

from __future__ import annotations

import os

from .config import ConfigError, ModelConfig

PROCESS_BASE = 500 * 2**20  # Python, numba, pandas and Mesa loaded: about 0.4-0.5 GB
BYTES_PER_MEMBER = {"numba": 2_200, "agents": 6_000}
BYTES_PER_TIE_END = 48  # a CSR slot: neighbour, trust, and spare room for growth
BYTES_PER_SKILL = 16  # skill and its scratch copy, per member and domain


def ties_per_member(cfg: ModelConfig) -> float:
    org = cfg.org
    return {"flat": org.k, "hierarchy": org.span + 1, "teams": org.size, "star": 2}.get(org.name, 8)


def members_at_most(cfg: ModelConfig) -> int:
    """Members at the start plus every hire the event schedule brings."""
    from .events import parse_schedule

    hires = sum(int(e.arg) for e in parse_schedule(cfg.events.schedule, cfg.steps) if e.kind == "hire")
    return cfg.n_members + hires


def bytes_needed(cfg: ModelConfig) -> int:
    per_member = (BYTES_PER_MEMBER[cfg.engine] + BYTES_PER_TIE_END * ties_per_member(cfg)
                  + BYTES_PER_SKILL * cfg.member.n_domains)
    return int(PROCESS_BASE + per_member * members_at_most(cfg))


def bytes_available() -> int | None:
    """Memory this process may still take: LEADSIM_MEMORY_LIMIT (bytes) if set, else what the
    operating system reports as available; None where neither is known."""
    if os.environ.get("LEADSIM_MEMORY_LIMIT"):
        return int(float(os.environ["LEADSIM_MEMORY_LIMIT"]))
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(cfg: ModelConfig) -> None:
    """Raise ConfigError, naming n_members and the limit, when the run will not fit in memory."""
    available = bytes_available()
    if available is None:
        return
    needed = bytes_needed(cfg)
    if needed <= available:
        return
    per_member = (needed - PROCESS_BASE) / members_at_most(cfg)
    limit = max(0, int((available - PROCESS_BASE) / per_member))
    raise ConfigError(f"n_members = {cfg.n_members:,} needs about {needed / 2**30:.1f} GB of memory "
                      f"({cfg.engine} engine), more than the {available / 2**30:.1f} GB available here; "
                      f"allowed up to about {limit:,} members on this computer")

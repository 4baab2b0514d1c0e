"""Counter-based random numbers: every draw is a hash of (seed, step, stream, index...).

A draw never depends on how many draws came before it, so results do not depend on the order
in which members are visited, on the engine, or on the number of threads. Two runs with the
same seed face the same luck wherever their situations coincide (common random numbers).
"""

import math

import numpy as np
from numba import njit

# Streams. The task stream (DRIFT..TURBULENCE) is separate from the organisation's, so that
# every regime with the same seed sees the identical environment.
DRIFT, SHOCK, ARRIVALS, TASK, TURBULENCE = 1, 2, 3, 4, 5
INTEREST, CLAIM, JOIN, REPORT_LOSS, NEW_TIE = 11, 12, 13, 14, 15
# The structure dial's per-task draw (hybrid regime), keyed (0, task id, 0): a stream of its own, so
# that every setting of the dial meets the same task stream and the same draw for each task.
ALLOCATION = 16
ORG, INIT, HIRE = 21, 22, 23

# Fields of a newborn task, drawn from stream TASK with index (task id, field). Each field owns a
# range of keys: complexity trials d = 0..K-2, domain picks 10..10+K-1, shares 100..100+K-1 (K <= 64).
F_COMPLEXITY, F_DOMAINS, F_SHARE, F_WORK, F_VALUE, F_ORIGIN = 0, 10, 100, 200, 210, 220
F_COMPLEXITY_MORE = 1000  # complexity trials from d = 10 on, which would meet the domain picks' keys


@njit(cache=True, inline="always")
def complexity_key(d):
    """The key of complexity trial d. The first ten keep their original keys, so every run with
    fewer than 12 skill domains draws exactly as before; later trials get keys of their own."""
    return F_COMPLEXITY + d if d < F_DOMAINS - F_COMPLEXITY else F_COMPLEXITY_MORE + d

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def mix64(z):
    """splitmix64's finaliser: a bijective scramble of 64 bits."""
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def uniform(seed, step, stream, a, b):
    """A uniform draw in [0, 1) fixed by its five coordinates."""
    h = mix64(np.uint64(seed))
    h = mix64(h ^ np.uint64(step))
    h = mix64(h ^ np.uint64(stream))
    h = mix64(h ^ np.uint64(a))
    h = mix64(h ^ np.uint64(b))
    return (h >> np.uint64(11)) * _TO_UNIT


@njit(cache=True)
def exponential(seed, step, stream, a, b):
    """Exp(1) by inversion; 1-u keeps the log finite."""
    return -math.log(1.0 - uniform(seed, step, stream, a, b))


@njit(cache=True)
def normal(seed, step, stream, a, b):
    """Standard normal by Box-Muller from two coordinates (b and b + 1 << 20)."""
    u1 = 1.0 - uniform(seed, step, stream, a, b)
    u2 = uniform(seed, step, stream, a, b + 1048576)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def poisson(seed, step, stream, lam):
    """Poisson(lam) by inversion of one uniform; a rounded normal above lam = 30."""
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        x = lam + math.sqrt(lam) * normal(seed, step, stream, 0, 0)
        return max(0, int(math.floor(x + 0.5)))
    u = uniform(seed, step, stream, 0, 0)
    k = 0
    p = math.exp(-lam)
    cdf = p
    while u > cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k


def generator(seed: int, stream: int, *more: int) -> np.random.Generator:
    """A numpy Generator for one-off, vectorised set-up draws (org chart, initial members)."""
    return np.random.default_rng([int(seed), int(stream), *map(int, more)])

"""Hypothesis profiles for the property tests, and a count of the configs they run.

Two profiles, chosen by the environment variable ``LEADSIM_PROPERTY_PROFILE`` (tests/conftest.py
loads it before any test module is imported; ``pytest --hypothesis-profile=deep`` works too):

- ``fast`` (the default, also when the variable is unset): each property test runs the number of
  examples written beside it (`property_settings(20, ...)`), with the settings written there; this
  is what CI runs.
- ``deep``: every property test that takes its settings from `property_settings` runs
  ``DEEP_EXAMPLES`` (1,050) examples, so that each reaches ``DEEP_CONFIGS`` (1,000) distinct
  configs; not derandomised, so each deep run draws fresh configs (``--hypothesis-seed=N`` repeats
  a run); a failure prints the shrunk falsifying example and a ``@reproduce_failure`` blob. Nothing
  is written to the example database.

    LEADSIM_PROPERTY_PROFILE=deep uv run pytest tests/test_invariants.py tests/test_engines.py -q -p no:cacheprovider

A test's own ``@settings(max_examples=...)`` would override any profile, so the property tests
take theirs from `property_settings`, which returns the fast counts under the fast profile and
defers to the loaded profile otherwise.

`record(config)` counts the configs a property test really draws, per test (parametrisation
included; a failing test's count includes its shrinking), and how many of them are distinct; under
the deep profile, or whenever ``LEADSIM_PROPERTY_PROFILE`` is set, each test module prints those
counts when it finishes, so a deep run's depth is shown, not assumed.
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

PROFILE_ENV = "LEADSIM_PROPERTY_PROFILE"
DEEP_CONFIGS = 1000  # distinct configs each property test must reach under the deep profile
# Hypothesis avoids repeating its own choices, but two choice sequences can make one config (the
# simplest config is drawn twice: sampled_from([4, 4, 2, 3, 6]) gives 4 for either of two choices),
# so about one in a thousand examples repeats a config; 5% more examples leave room for that.
DEEP_EXAMPLES = 1050

# `fast` leaves Hypothesis's own defaults (or its `ci` profile, which it loads by itself on a CI
# machine) alone: the fast counts and settings are written at each test.
settings.register_profile("fast", settings())
# The deep profile keeps out of the example database (.hypothesis/): the fast suite's engine tests,
# would otherwise replay a deep run's failures on the next fast run.
settings.register_profile("deep", max_examples=DEEP_EXAMPLES, derandomize=False, database=None, deadline=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])


def load_profile_from_environment() -> str:
    """Load the profile named by LEADSIM_PROPERTY_PROFILE, if set; return the loaded profile's name."""
    name = os.environ.get(PROFILE_ENV, "").strip()
    if name:
        try:
            settings.load_profile(name)
        except InvalidArgument:
            raise ValueError(f"{PROFILE_ENV}={name!r}: no such Hypothesis profile; use 'fast' or 'deep'") from None
    return settings.get_current_profile_name()


def is_deep() -> bool:
    """The deep profile is loaded (Hypothesis names it `deep-with-...` when a verbosity or phase
    option of its pytest plugin is given as well)."""
    name = settings.get_current_profile_name()
    return name == "deep" or name.startswith("deep-with-")


def property_settings(fast_examples: int, **fast_settings) -> settings:
    """Settings for one property test: `fast_examples` examples and `fast_settings` under the fast
    profile; under the deep profile, the profile's settings with at least `fast_examples` examples.
    Call it at import (as a decorator), after conftest has loaded the profile."""
    if is_deep():
        return settings(max_examples=max(fast_examples, settings.default.max_examples))
    return settings(max_examples=fast_examples, **fast_settings)


# ----- counting the configs the tests run -------------------------------------------------------

_drawn: dict[str, list[str]] = defaultdict(list)


def record(config) -> None:
    """Count one config drawn by the running test (keyed by pytest's id of it, parameters included)."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]
    _drawn[test].append(repr(config))


def counts(prefix: str = "") -> dict[str, tuple[int, int]]:
    """{test id: (configs run, distinct configs)} for the tests whose id starts with `prefix`."""
    return {test: (len(seen), len(set(seen))) for test, seen in _drawn.items() if test.startswith(prefix)}


def report(config, module: str, label: str) -> None:
    """Print the configs run by the tests of `module` (a path like tests/test_engines.py) through
    pytest's terminal, under the deep profile or when LEADSIM_PROPERTY_PROFILE is set."""
    if not (os.environ.get(PROFILE_ENV) or is_deep()):
        return
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    found = counts(module)
    if terminal is None or not found:
        return
    total, distinct = (sum(c[i] for c in found.values()) for i in (0, 1))
    short = f" (SHORT of the deep profile's {DEEP_CONFIGS:,} distinct)" if is_deep() else ""
    lines = [f"[{settings.get_current_profile_name()} profile] {label}: {total} configs run, {distinct} distinct, "
             f"over {len(found)} property tests"]
    lines += [f"    {test.split('::', 1)[-1]}: {n} configs, {d} distinct{short if d < DEEP_CONFIGS else ''}"
              for test, (n, d) in found.items()]
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        terminal.ensure_newline()
        for line in lines:
            terminal.write_line(line)

"""The page's scenario menu, data-driven: three market presets read from configs/env/, then every
preset in configs/scenario/ (through sim.scenarios, the same files as `leadsim +scenario=...`).
A new YAML preset appears in the menu without touching the page (read once per server start).
A preset's variants become the organisations to choose from, two of them side by side in
compare mode."""

from __future__ import annotations

import logging
from functools import lru_cache

from .. import scenarios as presets
from ..config import env_preset
from ..scenarios import Scenario

log = logging.getLogger("leadsim.viz")

# (menu name, configs/env file, title, description): markets that any organisation can face
MARKETS = (
    ("default", "default", "Default market",
     "The calibrated default environment: some drift in demand, rare shocks, some work that changes."),
    ("stable", "stable", "Stable market",
     "A calm market: demand does not drift, no shocks, and work does not change once it has arrived."),
    ("turbulent", "turbulent", "Turbulent market",
     "Fast drift in demand, frequent shocks, and work whose needs keep changing."),
)


@lru_cache(maxsize=1)
def menu() -> tuple[Scenario, ...]:
    """Every scenario the page offers, in menu order. Presets that fail to load are left out
    (sim.scenarios raises for an invalid preset; the page must still open)."""
    items = [Scenario(name=name, title=title, description=text, predict="", watch="",
                      params={"env": env_preset(stem)} if stem != "default" else {})
             for name, stem, title, text in MARKETS]
    for name in presets.names():
        try:
            items.append(presets.load(name))
        except Exception as exc:  # noqa: BLE001 - a broken preset file must not take the page down
            log.warning("scenario preset %s left out of the menu: %s", name, exc)
    return tuple(items)


def by_name(name: str) -> Scenario:
    for item in menu():
        if item.name == name:
            return item
    raise KeyError(f"unknown scenario {name!r}; choose one of: {', '.join(s.name for s in menu())}")

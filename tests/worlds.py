"""Helpers shared by the engine tests: scenario variants, runs and the material-balance check.

Everything is derived from the bundled baseline at run time (ids, transport costs, horizons), so
the tests survive recalibration of the scenario data.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache

import numpy as np

from world import World, load_scenario
from world.scenario import Scenario, scenario_from_dict

BASE = "baseline-2024"


@cache
def base_data() -> dict:
    """The baseline scenario as plain JSON data (never mutate: use :func:`variant`)."""
    return load_scenario(BASE).model_dump(mode="json")


def variant(*policies: dict, drop: tuple[str, ...] = (), mutate=None) -> Scenario:
    """The baseline plus ``policies``, less the policies whose id is in ``drop``.

    ``mutate`` is an optional callable that edits the plain data in place before validation.
    """
    data = copy.deepcopy(base_data())
    data["policies"] = [p for p in data["policies"] if p["id"] not in drop] + [
        dict(p) for p in policies
    ]
    if mutate is not None:
        mutate(data)
    return scenario_from_dict(data)


@dataclass
class Run:
    """A finished run with the arrays the tests read."""

    world: World
    initial: dict[str, np.ndarray]
    min_agent_stock: float

    def array(self, variable: str) -> np.ndarray:
        return self.world.recorder.array(variable)

    def index(self, commodity: str | None = None, region: str | None = None) -> int:
        if commodity is not None:
            return self.world.commodity_ids.index(commodity)
        return self.world.region_ids.index(region)


def _min_agent_stock(world: World) -> float:
    """Smallest stock any single agent holds of anything (t)."""
    lowest = np.inf
    for firm in world.firms:
        for stock in firm.inventory.values():
            lowest = min(lowest, float(np.min(stock)))
    for user in world.end_users:
        lowest = min(lowest, float(user.inventory))
    for state in world.states:
        for stock in state.stockpile.values():
            lowest = min(lowest, float(np.min(stock)))
    return lowest


def run(scenario: Scenario, months: int, seed: int = 0) -> Run:
    """Run ``months`` months month by month, watching every agent's stocks on the way."""
    world = World(scenario, seed=seed)
    initial = world.recorder.snapshot()
    lowest = _min_agent_stock(world)
    for _ in range(months):
        world.step()
        lowest = min(lowest, _min_agent_stock(world))
    return Run(world=world, initial=initial, min_agent_stock=lowest)


def balance_residual(result: Run) -> tuple[np.ndarray, np.ndarray]:
    """Material-balance residual and gross throughput, both (months, C, R).

    residual = production + imports - exports - use - consumption - change in stock, where
    stock is commercial plus strategic and the stock before month 0 is the initial snapshot.
    """
    prod = result.array("production")
    use = result.array("use")
    cons = result.array("consumption")
    exports = result.array("exports")  # (months, C, origin, destination), diagonal zeroed
    stock = result.array("stock_commercial") + result.array("stock_strategic")
    before = result.initial["stock_commercial"] + result.initial["stock_strategic"]
    previous = np.concatenate([before[None], stock[:-1]])
    imports = exports.sum(axis=2)
    shipped = exports.sum(axis=3)
    residual = prod + imports - shipped - use - cons - (stock - previous)
    throughput = prod + imports + shipped + use + cons
    return residual, throughput


def assert_sane(result: Run) -> None:
    """Mass balance, no negative stock, finite positive prices, no NaN in the core variables."""
    residual, throughput = balance_residual(result)
    tolerance = 1e-6 * (throughput + 1.0)
    bad = np.abs(residual) > tolerance
    if bad.any():
        m, c, r = np.argwhere(bad)[0]
        w = result.world
        raise AssertionError(
            f"material balance broken in {bad.sum()} cells; first: month {m}, "
            f"{w.commodity_ids[c]} in {w.region_ids[r]}: residual {residual[m, c, r]:.6g} t "
            f"on throughput {throughput[m, c, r]:.6g} t"
        )
    for name in ("stock_commercial", "stock_strategic"):
        lowest = result.array(name).min()
        assert lowest > -1e-6, f"negative {name}: {lowest}"
    assert result.min_agent_stock > -1e-6, f"an agent held {result.min_agent_stock} t"
    prices = result.array("price")
    assert np.isfinite(prices).all(), "non-finite price"
    assert (prices > 0).all(), f"non-positive price: {prices.min()}"
    for name in ("production", "exports", "use", "consumption"):
        values = result.array(name)
        assert not np.isnan(values).any(), f"NaN in {name}"
        assert values.min() > -1e-9, f"negative {name}: {values.min()}"
    assert not np.isnan(result.world.flows).any()

"""The "why did this move?" breakdown: its parts add up to the price the world formed, in
every region and month, and it says which policy wedge and which supplier lie behind it."""

from __future__ import annotations

import numpy as np
import pytest

from world import World, load_scenario
from world.price_breakdown import PARTS, explain

MONTHS = 24


@pytest.fixture(scope="module", params=["alliance-vs-tariffs-2025", "quota-2010"])
def world(request):
    w = World(load_scenario(request.param), seed=3)
    w.run(months=MONTHS)
    return w


def test_parts_add_up_to_every_recorded_price(world):
    prices = world.results().query("variable == 'price'")
    assert len(world.price_breakdown.history) == MONTHS
    checked = 0
    for row in prices.itertuples(index=False):
        e = explain(world, row.commodity, row.region, row.month)
        assert sum(e.parts.values()) == pytest.approx(row.value, abs=1e-9 * max(1.0, row.value))
        checked += 1
    assert checked == MONTHS * len(world.commodity_ids) * len(world.region_ids)


def test_changes_are_the_month_on_month_differences(world):
    a = explain(world, "magnet", "US", 10)
    b = explain(world, "magnet", "US", 11)
    for name in PARTS:
        assert b.change[name] == pytest.approx(b.parts[name] - a.parts[name], abs=1e-12)


def test_importers_carry_freight_and_wedges(world):
    # Across the run some imported price carries freight, and one carries a policy wedge.
    history = np.array(world.price_breakdown.history)
    assert (history[..., PARTS.index("transport")] > 0).any()
    assert (np.abs(history[..., PARTS.index("policy")]) > 1e-6).any()


def test_a_tariff_shows_as_a_policy_wedge_in_the_importers_price():
    w = World(load_scenario("baseline-2024"), seed=1)
    w.run(months=3)
    base = w.fork()
    w.desk.apply_now(
        {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"], "partners": ["CN"],
         "rate": 1.0}
    )  # fmt: skip
    w.run(months=6)
    base.run(months=6)
    taxed = explain(w, "magnet", "US", 8)
    free = explain(base, "magnet", "US", 8)
    assert taxed.parts["policy"] > free.parts["policy"] + 1.0
    assert any("import tariff" in p and "100%" in p for p in taxed.policies)


def test_bad_choices_name_the_field():
    w = World(load_scenario("baseline-2024"), seed=1)
    w.run(months=2)
    with pytest.raises(ValueError, match="commodity must be one of"):
        explain(w, "gold", "US", 0)
    with pytest.raises(ValueError, match="region must be one of"):
        explain(w, "magnet", "XX", 0)
    with pytest.raises(ValueError, match="month must be between 0 and 1"):
        explain(w, "magnet", "US", 2)

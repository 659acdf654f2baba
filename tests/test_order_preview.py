"""The order preview (world/order_preview.py): a dry run that tells the truth and changes
nothing."""

import numpy as np
import pytest

from world import World, load_scenario
from world.order_preview import PREVIEW_MONTHS, preview_order

SCENARIO = "alliance-vs-tariffs-2025"


@pytest.fixture(scope="module")
def spec():
    return load_scenario(SCENARIO)


def _world(spec, months=1):
    world = World(spec, seed=0, human_seats=frozenset({"US"}))
    world.run(months)
    return world


def _stock(world, commodity="magnet"):
    return float(np.sum(world.states_by_region["US"].stockpile[commodity]))


def test_a_purchase_preview_is_what_the_game_then_delivers_and_costs(spec):
    order = {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 500}
    world = _world(spec)
    preview = preview_order(world, order, "US")
    assert preview.rejected == "" and preview.start == "2025-04"
    assert preview.months == PREVIEW_MONTHS and preview.asked_t == pytest.approx(250)
    assert 0 < preview.delivered_t <= preview.asked_t
    # Played for real, with and without the order, the game gives the same figures.
    played, without = _world(spec), _world(spec)
    played.submit(order, seat="US")
    spent = []
    for game in (without, played):
        game.run(2)  # to the turn boundary (month 3)
        stock, cost = _stock(game), game.states_by_region["US"].fiscal_cost_usd
        game.run(PREVIEW_MONTHS)
        spent.append((_stock(game) - stock, game.states_by_region["US"].fiscal_cost_usd - cost))
    assert preview.delivered_t == pytest.approx(spent[1][0] - spent[0][0], rel=1e-9)
    assert sum(preview.fiscal_usd_per_month) == pytest.approx(spent[1][1] - spent[0][1], rel=1e-9)
    assert preview.mean_fiscal_usd_per_month > 0
    words = preview.in_words()
    assert "buys 500 t of magnet" in words and "M USD a month" in words
    assert "t of the 250.0 t due" in words


def test_a_tariff_preview_shows_the_seats_price_rising_and_costs_nothing(spec):
    order = {
        "kind": "import_tariff",
        "issuer": "US",
        "commodities": ["magnet"],
        "partners": ["CN"],
        "rate": 0.5,
    }
    preview = preview_order(_world(spec), order, "US")
    magnet = next(p for p in preview.prices if p.commodity == "magnet")
    assert magnet.with_usd_per_kg > magnet.without_usd_per_kg and magnet.change > 0.05
    assert preview.asked_t is None and preview.delivered_t is None
    assert abs(preview.mean_fiscal_usd_per_month) < 1.0
    assert f"magnet {magnet.change:+.1%}" in preview.in_words()


def test_the_preview_changes_nothing_in_the_world(spec):
    world = _world(spec)
    world.submit({"kind": "rnd_programme", "issuer": "US", "usd_per_year": 1e8}, seat="US")
    orders, prices, pending = world.orders().copy(), world.prices.copy(), list(world.desk.pending)
    counter = world.desk._counter
    preview_order(
        world, {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 50}, "US"
    )
    assert world.month == 1 and world.desk._counter == counter
    assert world.orders().equals(orders) and np.array_equal(world.prices, prices)
    assert world.desk.pending == pending


def test_a_bad_order_previews_as_the_worlds_refusal(spec):
    world = _world(spec)
    preview = preview_order(
        world,
        {"kind": "import_tariff", "issuer": "US", "commodities": ["magnt"], "rate": 0.2},
        "US",
    )
    assert "commodity: unknown commodity 'magnt'" in preview.rejected
    assert preview.in_words().startswith("The world would refuse this order")
    other = preview_order(
        world,
        {"kind": "import_tariff", "issuer": "CN", "commodities": ["magnet"], "rate": 0.2},
        "US",
    )
    assert "seat 'US' cannot act for 'CN'" in other.rejected


def test_a_preview_says_why_an_order_would_do_nothing(spec):
    order = {
        "kind": "import_tariff",
        "issuer": "US",
        "commodities": ["concentrate"],
        "partners": ["JP"],
        "rate": 0.2,
    }
    world = _world(spec)
    other = {"kind": "capex_subsidy", "issuer": "US", "stages": ["recycler"], "share": 0.3}
    assert world.submit(other, seat="US").status == "pending"
    preview = preview_order(world, order, "US")
    assert preview.shortfall == "concentrate: none is made or offered in JP"
    assert "It would do less than ordered: concentrate: none is made or offered in JP." in (
        preview.in_words()
    )
    # The seat's other order falling short is not this order's reason; an order that acts
    # has none.
    acting = {**order, "commodities": ["magnet"], "partners": ["CN"]}
    assert preview_order(world, acting, "US").shortfall == ""

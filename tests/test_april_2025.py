"""The bundled ``april-2025-licensing`` scenario: it loads, runs sanely, applies its scripted
orders at their months, and China's April 2025 licence binds on magnets to the US.

The licence test compares the scenario with itself less the licence orders (same seed), so it
asserts what the instrument does (a review delay, then rationing), never a price level.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from worlds import Run, assert_sane, run

from world import load_scenario
from world.calendar import months_between
from world.scenario import Scenario, scenario_from_dict

NAME = "april-2025-licensing"
MONTHS = 24

#: The scripted orders that make up China's licensing of heavy rare earths and magnets.
#: (Heavy oxide is covered whole, magnets only in their Dy/Tb-bearing share: two licences.)
LICENCE_ORDERS = (
    "cn-licence-apr",
    "cn-licence-apr-magnet",
    "cn-licence-apr-end",
    "cn-licence-apr-magnet-end",
    "cn-licence-jul",
    "cn-licence-jul-magnet",
    "cn-busan-lift-licence",
    "cn-busan-lift-licence-magnet",
    "cn-licence-nov",
    "cn-licence-nov-magnet",
)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(NAME)


@pytest.fixture(scope="module")
def result(scenario) -> Run:
    return run(scenario, months=MONTHS, seed=0)


@pytest.fixture(scope="module")
def unlicensed(scenario) -> Run:
    """The same scenario without China's licence orders."""
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    data["orders"] = [o for o in data["orders"] if o["id"] not in LICENCE_ORDERS]
    return run(scenario_from_dict(data, f"{NAME} without licences"), months=MONTHS, seed=0)


def orders_by_id(scenario: Scenario) -> dict[str, dict]:
    return {str(o["id"]): o for o in scenario.orders}


def month_of(scenario: Scenario, order_id: str) -> int:
    return months_between(scenario.start, orders_by_id(scenario)[order_id]["date"])


def test_scenario_loads_and_validates(scenario):
    assert scenario.name == NAME
    assert scenario.extends == "baseline-2024"
    assert scenario.start == "2025-01"
    assert scenario.months >= MONTHS
    # inherited standing policies are moved into the horizon, not left in 2024
    assert {p.id: p.start for p in scenario.policies} == {
        "us-mfn-metal": "2025-01",
        "us-defense-priority": "2025-01",
        "cn-heavy-reserve": "2025-01",
    }
    # seats stay passive: only the script acts
    assert not scenario.seats
    ids = set(orders_by_id(scenario))
    assert set(LICENCE_ORDERS) <= ids
    assert {"mp-halts-china-shipments", "dod-mp-price-floor", "us-reciprocal-10"} <= ids
    # its own observed 2025 prices replace the baseline's 2024 series
    assert {s.id for s in scenario.references.series} == {"ndpr-price-2025", "dytb-price-2025"}
    for series in scenario.references.series:
        assert series.source and all(p.date >= "2025-01" and p.label for p in series.points)


def test_runs_with_finite_prices_and_material_balance(result):
    assert result.array("price").shape[0] == MONTHS
    assert_sane(result)  # balance, no negative stock, finite positive prices, no NaN


def test_scripted_orders_are_applied_at_their_months(scenario, result):
    log = result.world.orders()
    assert {"month", "date", "issuer", "kind", "status"} <= set(log.columns)
    due = [o for o in scenario.orders if month_of(scenario, str(o["id"])) < MONTHS]
    assert len(due) >= 15
    for order in due:
        rows = log[log["order_id"] == order["id"]]
        assert len(rows) == 1, f"{order['id']}: {len(rows)} log rows"
        row = rows.iloc[0]
        assert row["status"] == "applied", f"{order['id']}: {row['status']}: {row['message']}"
        # An order dated before the start (inherited from the baseline) applies from the start.
        month = max(month_of(scenario, str(order["id"])), 0)
        assert row["month"] == month
        assert row["date"] == (order["date"] if month > 0 else scenario.start)
        assert row["kind"] == order["kind"]
        assert row["issuer"] == order["issuer"]
    assert (log["status"] == "applied").all()


def test_licensing_holds_magnets_to_the_us_for_the_review_then_rations(
    scenario, result, unlicensed
):
    licence = orders_by_id(scenario)["cn-licence-apr-magnet"]
    start = month_of(scenario, "cn-licence-apr-magnet")
    covered = float(licence["covered_share"])
    review = int(licence["review_months"])
    general = month_of(scenario, "cn-busan-lift-licence")  # US end users get general licences
    w = result.world
    mag, cn, us = w.commodity_index["magnet"], w.region_index["CN"], w.region_index["US"]
    licensed = result.array("exports")[:, mag, cn, us]
    free = unlicensed.array("exports")[:, mag, cn, us]

    # before the licence, magnets flow to the US in both runs alike
    assert (licensed[:start] > 0).all()
    np.testing.assert_allclose(licensed[:start], free[:start])
    # during the review only the grades the licence does not cover ship (Dy/Tb-free NdFeB):
    # at first their share of what buyers take without the licence
    review_months = slice(start, start + review)
    assert 0.0 < covered < 1.0
    np.testing.assert_allclose(licensed[start], (1.0 - covered) * free[start], rtol=0.1)
    assert (licensed[review_months] > 0).all(), licensed[review_months]
    assert (licensed[review_months] < free[review_months]).all()
    # heavy oxide is covered whole: none of it leaves China in the first month (no review is
    # shorter than a month)
    heavy = result.array("exports")[:, w.commodity_index["oxide_heavy"], cn]
    heavy = np.delete(heavy, cn, axis=1).sum(axis=1)
    assert heavy[start - 1] > 0.0
    assert heavy[start] == 0.0, heavy[start]
    # approved tonnes then ship, but fewer than buyers take without the licence: the uncovered
    # share and 25-60% of the covered one, of asks that grow as buyers restock
    rationed = slice(start + review, general)
    assert (licensed[rationed] > 0).all(), licensed[rationed]
    assert licensed[rationed].sum() < 0.9 * free[rationed].sum()


def test_mp_leaves_the_shenghe_offtake_in_april_2025(scenario, result):
    """Both Shenghe contracts on MP's output end at April 2025; MP's NdPr stops going to China."""
    halt = month_of(scenario, "mp-halts-china-shipments")
    w = result.world
    shenghe = [
        p
        for p in w.desk.programmes
        if p.kind == "offtake_contract"
        and p.params["supplier"] in ("mp-separation", "mp-mountain-pass")
    ]
    assert len(shenghe) == 2
    assert all(p.start == 0 and p.end == halt for p in shenghe), [(p.start, p.end) for p in shenghe]
    ndpr, us, cn = w.commodity_index["oxide_light"], w.region_index["US"], w.region_index["CN"]
    to_china = result.array("exports")[:, ndpr, us, cn]
    assert (to_china[:halt] > 0).all()
    until_busan = month_of(scenario, "cn-busan-lift-licence")
    assert to_china[halt:until_busan].sum() < 0.01 * to_china[:halt].sum(), to_china


def test_chinas_2025_mining_quota_is_held_flat_without_headroom(scenario, result):
    """China's mines stay within the 2025 quotas as issued (no growth, no running over the
    light-ore quota when prices are high), although the concentrate price is above its start."""
    quotas = {str(o["id"]): o for o in scenario.orders if o["kind"] == "production_quota"}
    light, clay = quotas["cn-mining-quota"], quotas["cn-ion-clay-quota"]
    assert light["growth_per_year"] == 0.0 and light["headroom"] == 0.0
    ceiling = (
        float(light["tonnes_per_year"])
        + float(clay["tonnes_per_year"]) * (1.0 + float(clay["headroom"]))
    ) / 12.0
    w = result.world
    conc, cn = w.commodity_index["concentrate"], w.region_index["CN"]
    mined = result.array("production")[:, conc, cn]
    assert mined.max() <= ceiling * (1.0 + 1e-9), (mined.max(), ceiling)
    # the cap binds: the state groups would run over the quota at these prices
    assert (result.array("price")[:, conc, cn] > result.array("price")[0, conc, cn]).any()
    assert mined.max() > 0.99 * ceiling

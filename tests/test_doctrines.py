"""Doctrines (issue #3): each doctrine's characteristic behaviour, seen through the order log and
its effects on the world; no re-issued or rejected orders; determinism and replay with doctrines.

Worlds are the bundled baseline with a ``seats`` table (and scripted orders) added.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from functools import cache
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from agents.doctrines import DOCTRINES, make_doctrine
from agents.doctrines.base import in_force, tariff_rate
from world import World, load_scenario
from world.deals import deals_of
from world.scenario import ScenarioError, scenario_from_dict

REPO = Path(__file__).resolve().parents[1]

CHINA = ("value-chain-upgrader", "coercive-retaliator", "market-share-defender", "dealmaker")
US = ("tariff-hawk", "alliance-builder", "dealmaker-resilience", "stockpiler")
ALLIES = ("follower", "hedger", "japan-diversifier")

US_TARIFF = {
    "id": "us-tariff",
    "date": "2024-04",
    "kind": "import_tariff",
    "issuer": "US",
    "commodities": ["magnet"],
    "partners": ["CN"],
    "rate": 0.25,
}
US_LIFT = {
    "id": "us-lift",
    "date": "2024-10",
    "kind": "lift",
    "issuer": "US",
    "measure": "import_tariff",
    "commodities": ["magnet"],
    "partners": ["CN"],
}
MP_BUILDS = {
    "id": "mp-build",
    "date": "2024-02",
    "kind": "invest",
    "issuer": "mp-10x",
    "capacity_tpy": 7000.0,
}


@cache
def _base() -> str:
    return json.dumps(load_scenario("baseline-2024").model_dump(mode="json"))


def scenario(seats: dict, orders: tuple | list = ()):
    data = json.loads(_base())
    data["seats"] = copy.deepcopy(seats)
    data["orders"] = copy.deepcopy(list(orders))
    return scenario_from_dict(data)


def play(seats: dict, orders: tuple | list = (), months: int = 24, seed: int = 0) -> World:
    world = World(scenario(seats, orders), seed=seed)
    world.run(months=months)
    return world


def log(world: World, issuer: str | None = None, kind: str | None = None) -> pd.DataFrame:
    """The order log with parameters parsed, filtered by issuer and kind."""
    table = world.orders()
    if issuer is not None:
        table = table[table["issuer"] == issuer]
    if kind is not None:
        table = table[table["kind"] == kind]
    table = table.copy()
    table["params"] = table["parameters"].map(json.loads)
    return table


def series(world: World, variable: str, *keys: str) -> np.ndarray:
    """A recorded variable by commodity and region ids (and partner), months first."""
    data = world.recorder.array(variable)
    index = []
    for i, key in enumerate(keys):
        index.append(world.commodity_index[key] if i == 0 else world.region_index[key])
    return data[(slice(None), *index)]


@cache
def baseline() -> World:
    return play({}, months=24)


# --------------------------------------------------------------------------- registry


def test_every_doctrine_of_the_issue_is_registered_and_documented():
    for name in (*CHINA, *US, *ALLIES, "passive"):
        assert name in DOCTRINES, name
        cls = DOCTRINES[name]
        assert cls.name == name
        assert cls.__doc__ and len(cls.__doc__) > 40, f"{name} needs a documented behaviour"
        if name != "passive":
            for param in cls.defaults:
                assert f"``{param}``" in cls.__doc__, f"{name}: parameter '{param}' undocumented"


def test_unknown_parameter_is_an_error_that_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown parameter.*bogus.*allowed: .*max_rate"):
        make_doctrine("tariff-hawk", "US", {"bogus": 1})
    # Read by the objectives and by the negotiation engine: allowed for every seat.
    make_doctrine("tariff-hawk", "US", {"adversaries": ["CN"], "diplomacy": {"trust": {}}})


def test_seats_name_registered_doctrines_only():
    scenario({"CN": {"doctrine": "coercive-retaliator"}, "US": {"doctrine": "tariff-hawk"}})
    with pytest.raises(ScenarioError, match="unknown doctrine 'tarif-hawk'"):
        scenario({"US": {"doctrine": "tarif-hawk"}})


# --------------------------------------------------------------------------- China


def test_coercive_retaliator_licenses_within_one_turn_of_a_tariff_and_eases_when_it_is_cut():
    world = play({"CN": {"doctrine": "coercive-retaliator"}}, [US_TARIFF, US_LIFT], months=18)
    tariff_month = world.month_of(US_TARIFF["date"])
    lift_month = world.month_of(US_LIFT["date"])
    licences = log(world, "CN", "export_licence")
    assert len(licences) == 1, "one answer, never re-issued"
    row = licences.iloc[0]
    assert row["status"] == "applied"
    assert row["source"] == "doctrine:coercive-retaliator"
    assert tariff_month <= row["month"] <= tariff_month + world.spec.turn_months
    assert set(row["params"]["commodities"]) == {"magnet", "oxide_heavy"}
    assert row["params"]["partners"] == ["US"]
    lifts = log(world, "CN", "lift")
    assert len(lifts) == 1 and lifts.iloc[0]["status"] == "applied"
    assert lift_month <= lifts.iloc[0]["month"] <= lift_month + world.spec.turn_months
    # The licence binds: nothing ships while the first applications are reviewed (each month's
    # review is drawn, one to three months), then approved tonnes flow again.
    flows = series(world, "exports", "magnet", "CN", "US")
    start = int(row["month"])
    assert flows[start - 3 : start].min() > 0
    assert flows[start] == 0.0
    assert flows[int(lifts.iloc[0]["month"]) + 1 :].min() > 0
    assert world.policies.licensed[world.commodity_index["magnet"]].sum() == 0, "lifted"


def test_coercive_retaliator_answers_a_tariff_set_in_the_very_first_turn():
    """The status quo is the scenario's own policies (the 5% MFN duty on metal is tolerated),
    not what a rival does before China's first move: a seat's first-turn tariff, applied at
    month 0 ahead of the doctrines, is answered as any other."""
    spec = scenario({"CN": {"doctrine": "coercive-retaliator"}, "US": {"doctrine": "passive"}})
    world = World(spec, seed=0, human_seats=frozenset({"US"}))
    first = {k: v for k, v in US_TARIFF.items() if k not in ("id", "date")}
    assert world.submit(first, seat="US").status == "pending"
    world.run(months=3)
    licences = log(world, "CN", "export_licence")
    assert len(licences) == 1 and licences.iloc[0]["month"] == 0
    assert licences.iloc[0]["params"]["partners"] == ["US"]
    # With no rival tariff beyond the scenario's own, China stays quiet.
    assert log(play({"CN": {"doctrine": "coercive-retaliator"}}, months=6), "CN").empty


def test_coercive_retaliator_answers_a_technology_control_and_is_quiet_otherwise():
    quiet = play({"CN": {"doctrine": "coercive-retaliator"}}, months=24)
    assert log(quiet, "CN").empty
    control = {
        "id": "us-tech",
        "date": "2024-07",
        "kind": "tech_export_ban",
        "issuer": "US",
        "stages": ["separator", "magnet"],
    }
    world = play({"CN": {"doctrine": "coercive-retaliator"}}, [control], months=12)
    licences = log(world, "CN", "export_licence")
    assert len(licences) == 1
    assert 6 <= licences.iloc[0]["month"] <= 9


def test_value_chain_upgrader_taxes_raw_material_and_oxides_but_not_magnets():
    # China makes ~93% of the magnets, less than this target: it ratchets the duties yearly.
    seats = {"CN": {"doctrine": "value-chain-upgrader", "params": {"target_magnet_share": 0.99}}}
    world = play(seats, months=24)
    duties = log(world, "CN", "export_duty")
    assert (duties["status"] == "applied").all()
    taxed = {c for params in duties["params"] for c in params["commodities"]}
    assert taxed == {"concentrate", "oxide_light", "oxide_heavy"}
    ci = world.commodity_index
    cn, jp = world.region_index["CN"], world.region_index["JP"]
    duty = world.policies.duty_rates
    assert duty[ci["oxide_light"], cn, jp] >= 0.15
    assert duty[ci["oxide_heavy"], cn, jp] >= 0.25
    assert duty[ci["magnet"], cn].max() == 0.0
    # It ratchets once a year while China makes less than 95% of the world's magnets.
    first = duties[duties["month"] == 0]
    assert len(first) == 3
    assert set(duties["month"]) <= {0, 12}
    assert np.isclose(duty[ci["oxide_light"], cn, jp], 0.20)
    subsidies = log(world, "CN", "production_subsidy")
    assert set(subsidies["month"]) == {0, 12}, "renewed only when it lapses"
    # With the default target (95%) the duties start at month 0 and ratchet at most yearly.
    calm = play({"CN": {"doctrine": "value-chain-upgrader"}}, months=24)
    assert 0 in set(log(calm, "CN", "export_duty")["month"])
    assert set(log(calm, "CN", "export_duty")["month"]) <= {0, 12}
    # Effect: oxide leaves China less, magnets more, than in the baseline.
    base = baseline()
    oxide = series(world, "exports", "oxide_light", "CN").sum(axis=1)[6:].sum()
    assert oxide < 0.5 * series(base, "exports", "oxide_light", "CN").sum(axis=1)[6:].sum()
    magnets = series(world, "exports", "magnet", "CN").sum(axis=1)[6:].sum()
    assert magnets > series(base, "exports", "magnet", "CN").sum(axis=1)[6:].sum()


def test_market_share_defender_subsidises_output_when_western_capacity_grows():
    quiet = play({"CN": {"doctrine": "market-share-defender"}}, [MP_BUILDS], months=1)
    assert log(quiet, "CN").empty, "no history yet at the first turn"
    world = play({"CN": {"doctrine": "market-share-defender"}}, [MP_BUILDS], months=24)
    subsidies = log(world, "CN", "production_subsidy")
    assert list(subsidies["month"]) == [3, 3]
    assert {s for p in subsidies["params"] for s in p["stages"]} == {"separator", "magnet"}
    # Without Western investment it does nothing.
    assert log(play({"CN": {"doctrine": "market-share-defender"}}, months=24), "CN").empty
    # Effect: China makes more magnets and sells them cheaper than it would have.
    passive = play({}, [MP_BUILDS], months=24)
    made = series(world, "production", "magnet", "CN")[6:].sum()
    assert made > series(passive, "production", "magnet", "CN")[6:].sum()
    price = series(world, "price", "magnet", "CN")[6:].mean()
    assert price < 0.95 * series(passive, "price", "magnet", "CN")[6:].mean()


def test_market_share_defender_lifts_its_restrictions_on_entrants_markets():
    licence = {
        "id": "cn-licence",
        "date": "2024-01",
        "kind": "export_licence",
        "issuer": "CN",
        "commodities": ["magnet"],
        "approval_share": 0.5,
    }
    world = play({"CN": {"doctrine": "market-share-defender"}}, [licence, MP_BUILDS], months=6)
    lifts = log(world, "CN", "lift")
    assert len(lifts) == 1 and lifts.iloc[0]["status"] == "applied"
    assert lifts.iloc[0]["params"]["policy_id"] == "CN-export_licence-cn-licence"


def test_dealmaker_frees_states_without_tariffs_and_keeps_licensing_the_others():
    licence = {
        "id": "cn-licence",
        "date": "2024-01",
        "kind": "export_licence",
        "issuer": "CN",
        "commodities": ["magnet"],
        "partners": ["US", "JP"],
        "approval_share": 0.5,
    }
    tariff = {**US_TARIFF, "date": "2024-01"}
    world = play({"CN": {"doctrine": "dealmaker"}}, [licence, tariff], months=12)
    orders = log(world, "CN")
    assert "propose_deal" in list(orders["kind"]), "it offers the US a deal for its tariff"
    orders = orders[(orders["status"] != "committed") & (orders["kind"] != "propose_deal")]
    assert (orders["status"] == "applied").all()
    assert list(orders["kind"])[:3] == ["export_licence", "lift", "export_licence"]
    assert orders.iloc[2]["params"]["partners"] == ["US"]
    m = world.commodity_index["magnet"]
    cn = world.region_index["CN"]
    assert not world.policies.licensed[m, cn, world.region_index["JP"]]
    # the US took the deal: its tariff is down to the tolerated 5%, so it is freed too
    deal = next(iter(deals_of(world).deals.values()))
    assert deal.status == "active"
    assert np.isclose(world.policies.tariff_rates[m, cn, world.region_index["US"]], 0.05)


# --------------------------------------------------------------------------- United States


def test_tariff_hawk_raises_bilateral_tariffs_piecemeal_up_to_its_cap():
    world = play({"US": {"doctrine": "tariff-hawk"}}, months=24)
    tariffs = log(world, "US", "import_tariff")
    assert (tariffs["status"] == "applied").all()
    assert all(p["partners"] == ["CN"] and len(p["commodities"]) == 1 for p in tariffs["params"])
    assert list(tariffs["month"]) == [0, 3, 6, 9], "one tranche a turn until the cap"
    ci, cn, us = world.commodity_index, world.region_index["CN"], world.region_index["US"]
    rates = world.policies.tariff_rates
    assert np.isclose(rates[ci["magnet"], cn, us], 0.5)
    assert np.isclose(rates[ci["metal"], cn, us], 0.5 + 0.05)  # plus the MFN duty
    assert rates[ci["magnet"], world.region_index["JP"], us] == 0.0, "bilateral only"
    # Effect: US buyers pay more for magnets.
    price = series(world, "price", "magnet", "US")[6:].mean()
    assert price > 1.2 * series(baseline(), "price", "magnet", "US")[6:].mean()


def test_alliance_builder_floors_subsidises_stockpiles_and_sets_the_common_tariff_once():
    world = play({"US": {"doctrine": "alliance-builder"}}, months=24)
    orders = log(world, "US")
    assert (orders["status"] == "applied").all()
    assert set(orders["month"]) == {0}, "nothing issued again while in force"
    floors = orders[orders["kind"] == "price_floor"]["params"].tolist()
    assert "mp-separation" in {f["firm"] for f in floors}, "every home NdPr producer"
    assert all(f["commodity"] == "oxide_light" and f["floor_usd_per_kg"] == 110.0 for f in floors)
    capex = orders[orders["kind"] == "capex_subsidy"].iloc[0]["params"]
    assert set(capex["stages"]) == {"separator", "magnet"}
    assert len(orders[orders["kind"] == "stockpile_target"]) == 3
    tariff = orders[orders["kind"] == "import_tariff"].iloc[0]["params"]
    assert tariff["partners"] == ["CN"] and tariff["rate"] == 0.25
    # The floor costs money: NdPr trades well below 110 USD/kg.
    assert world.states_by_region["US"].fiscal_cost_usd > 1e7
    assert series(world, "stock_strategic", "magnet", "US")[-1] > 0


def test_dealmaker_resilience_cuts_tariffs_step_by_step_while_funding_resilience():
    tariff = {**US_TARIFF, "date": "2024-01", "rate": 0.3, "partners": ["CN", "ROW"]}
    world = play({"US": {"doctrine": "dealmaker-resilience"}}, [tariff], months=15)
    orders = log(world, "US")
    assert (orders["status"] == "applied").all()
    m = world.commodity_index["magnet"]
    us = world.region_index["US"]
    assert world.policies.tariff_rates[m, world.region_index["CN"], us] == 0.0
    assert np.isclose(world.policies.tariff_rates[m, world.region_index["ROW"], us], 0.3)
    lifts = orders[orders["kind"] == "lift"]
    # The scripted tariff is in force when the doctrine first plays (month 0), so the cuts come
    # at months 0, 3 and 6.
    assert list(lifts["month"]) == [0, 3, 6], "one 10-point cut a turn: 30% -> 0 in three turns"
    assert len(orders[orders["kind"] == "capex_subsidy"]) == 1
    assert len(orders[orders["kind"] == "stockpile_target"]) == 2


def test_stockpiler_builds_a_strategic_stock():
    world = play({"US": {"doctrine": "stockpiler"}}, months=24)
    targets = log(world, "US", "stockpile_target")
    assert len(targets) == 3 and set(targets["month"]) == {0}
    assert log(world, "US", "defense_priority").empty, "already in force in the baseline"
    stock = series(world, "stock_strategic", "magnet", "US")
    assert stock[0] < 0.05 * stock[-1], "it builds the stock over the months"
    assert stock[-1] > 500.0
    assert series(baseline(), "stock_strategic", "magnet", "US").max() == 0.0


def test_stockpiler_resets_a_target_at_another_level():
    target = {
        "id": "us-target",
        "date": "2024-01",
        "kind": "stockpile_target",
        "issuer": "US",
        "commodities": ["magnet", "metal"],
        "months_of_cover": 1.0,
    }
    world = play({"US": {"doctrine": "stockpiler"}}, [target], months=6)
    assert (world.orders()["status"] == "applied").all()
    assert {
        c: s.months_of_cover
        for s in in_force(world, "US", "stockpile_target")
        for c in s.commodities
    } == {
        "magnet": 6.0,
        "metal": 1.0,
        "oxide_heavy": 6.0,
        "oxide_light": 3.0,
    }


# --------------------------------------------------------------------------- allies


def test_followers_copy_the_leaders_tariffs_scaled():
    seats = {
        "EU": {"doctrine": "follower"},  # seated before the leader: follows a turn later
        "US": {"doctrine": "tariff-hawk"},
        "JP": {"doctrine": "follower", "params": {"scale": 0.5}},
    }
    world = play(seats, months=13)
    for c in ("magnet", "metal"):
        led = tariff_rate(world, "US", "CN", c, discriminatory=True)
        assert led == pytest.approx(0.5)
        assert tariff_rate(world, "JP", "CN", c, discriminatory=True) == pytest.approx(0.25)
        assert tariff_rate(world, "EU", "CN", c, discriminatory=True) == pytest.approx(0.5)
    first = {
        issuer: int(log(world, issuer, "import_tariff")["month"].min()) for issuer in ("EU", "JP")
    }
    assert first == {"JP": 0, "EU": 3}
    assert (world.orders()["status"] == "applied").all()


def test_follower_copies_import_bans_and_their_lifting():
    ban = {
        "id": "us-ban",
        "date": "2024-04",
        "kind": "import_ban",
        "issuer": "US",
        "commodities": ["magnet"],
        "partners": ["CN"],
    }
    lift = {**US_LIFT, "id": "us-unban", "measure": "import_ban"}
    world = play({"JP": {"doctrine": "follower"}}, [ban, lift], months=15)
    orders = log(world, "JP")
    assert list(zip(orders["month"], orders["kind"], strict=True)) == [
        (3, "import_ban"),
        (9, "lift"),
    ]


def test_hedger_keeps_buying_from_china_and_invests_modestly():
    tariff = {**US_TARIFF, "id": "eu-tariff", "issuer": "EU", "date": "2024-01", "rate": 0.1}
    world = play({"EU": {"doctrine": "hedger"}, "US": {"doctrine": "tariff-hawk"}}, [tariff], 12)
    orders = log(world, "EU")
    # The scripted tariff is in force at the first turn, so the hedger lifts it at once.
    assert list(orders["kind"]) == ["import_tariff", "lift", "capex_subsidy"]
    assert orders[orders["kind"] == "capex_subsidy"].iloc[0]["params"]["share"] == 0.1
    assert tariff_rate(world, "EU", "CN", "magnet") == 0.0
    flows = series(world, "exports", "magnet", "CN", "EU")
    assert flows[-6:].min() > 0


def test_japan_diversifier_stockpiles_sixty_days_subsidises_and_underwrites_home_producers():
    world = play({"JP": {"doctrine": "japan-diversifier"}}, months=24)
    orders = log(world, "JP")
    assert (orders["status"] == "applied").all()
    assert set(orders["month"]) == {0}
    targets = orders[orders["kind"] == "stockpile_target"]
    assert {p["months_of_cover"] for p in targets["params"]} == {2.0}
    floors = orders[orders["kind"] == "price_floor"]
    assert {(p["firm"], p["commodity"]) for p in floors["params"]} == {
        ("jp-metal", "metal"),
        ("jp-magnet", "magnet"),
        ("jp-recycling", "oxide_light"),
        ("jp-recycling", "oxide_heavy"),
    }
    for p in floors["params"]:
        ci = world.commodity_index[p["commodity"]]
        ref = world.reference_prices[ci, world.region_index["JP"]]
        assert p["floor_usd_per_kg"] == pytest.approx(0.9 * ref)
    assert log(world, "JP", "import_tariff").empty
    assert series(world, "stock_strategic", "magnet", "JP")[-1] > 1000.0


# --------------------------------------------------------------------------- every pairing


@pytest.mark.parametrize(("china", "us"), list(product(CHINA, US)))
def test_every_pairing_plays_36_months_with_valid_orders(china, us):
    seats = {
        "CN": {"doctrine": china},
        "US": {"doctrine": us},
        "JP": {"doctrine": "japan-diversifier"},
        "EU": {"doctrine": "follower"},
        "AU": {"doctrine": "hedger"},
    }
    world = play(seats, [MP_BUILDS], months=36)
    orders = world.orders()
    doctrine = orders[orders["source"].str.startswith("doctrine:")]
    rejected = doctrine[doctrine["status"] != "applied"]
    assert rejected.empty, rejected[["month", "issuer", "kind", "message"]].to_string()
    prices = world.recorder.array("price")
    assert np.isfinite(prices).all() and (prices > 0).all()
    # Doctrines act only at turn boundaries.
    assert (doctrine["month"] % world.spec.turn_months == 0).all()


# --------------------------------------------------------------------------- determinism

MIXED = {
    "CN": {"doctrine": "coercive-retaliator"},
    "US": {"doctrine": "tariff-hawk", "params": {"max_rate": 0.75}},
    "JP": {"doctrine": "japan-diversifier"},
    "EU": {"doctrine": "follower"},
    "AU": {"doctrine": "hedger"},
}
SCRIPT = """
import json, sys
from world import World
from world.scenario import scenario_from_dict
world = World(scenario_from_dict(json.loads(open(sys.argv[1]).read())), seed=3)
world.run(months=24)
world.results().to_parquet(sys.argv[2])
world.orders().to_parquet(sys.argv[3])
"""


def test_same_seed_gives_identical_results_and_order_log_with_doctrines():
    first = play(MIXED, [MP_BUILDS], months=24, seed=3)
    second = play(MIXED, [MP_BUILDS], months=24, seed=3)
    assert len(first.orders()) > 5
    assert_frame_equal(first.orders(), second.orders(), check_exact=True)
    assert_frame_equal(first.results(), second.results(), check_exact=True)
    assert first.log == second.log


def test_doctrines_are_deterministic_across_processes(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario(MIXED, [MP_BUILDS]).model_dump(mode="json")))
    here = play(MIXED, [MP_BUILDS], months=24, seed=3)
    for hash_seed in ("1", "4242"):
        results, orders = tmp_path / f"r{hash_seed}.parquet", tmp_path / f"o{hash_seed}.parquet"
        subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path), str(results), str(orders)],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=True,
            timeout=120,
        )
        np.testing.assert_array_equal(
            pd.read_parquet(results)["value"].to_numpy(), here.results()["value"].to_numpy()
        )
        assert list(pd.read_parquet(orders)["parameters"]) == list(here.orders()["parameters"])


def test_replaying_the_order_log_reproduces_a_game_with_doctrines():
    original = play(MIXED, [MP_BUILDS, US_LIFT], months=24, seed=3)
    replay = World.replay(original.spec, 3, original.orders())
    replay.run(months=24)
    assert_frame_equal(original.results(), replay.results(), check_exact=True)


def _tariff(date: str, rate: float, oid: str) -> dict:
    return {**US_TARIFF, "id": oid, "date": date, "rate": rate}


def _terms(world: World) -> list[dict]:
    return log(world, "CN", "licence_terms")["params"].tolist()


def test_coercive_retaliator_refuses_defence_users_and_reviews_case_by_case():
    from world.market import TIERS

    world = play({"CN": {"doctrine": "coercive-retaliator"}}, [US_TARIFF], months=9)
    (spec,) = [s for s in in_force(world, "CN", "export_licence") if "US" in s.partners]
    assert spec.end_use == {"defense": 0.0, "civilian": 0.5}
    assert (spec.review_low_months, spec.review_months, spec.review_high_months) == (1, 2, 3)
    # What the book approves on the arc China -> US: nothing for defence, half for civilians.
    book, cn, us = world.policies, world.region_index["CN"], world.region_index["US"]
    magnet = world.commodity_index["magnet"]
    assert book.approval[magnet, TIERS.index("defense"), cn, us] == 0.0
    assert book.approval[magnet, TIERS.index("normal"), cn, us] == 0.5


def test_coercive_retaliator_tightens_when_pressed_harder_then_eases_and_lifts_as_cut():
    orders = [
        _tariff("2024-04", 0.25, "t1"),
        _tariff("2024-10", 0.50, "t2"),  # stacked: 75% in all
        {**US_LIFT, "id": "cut1", "date": "2025-04", "policy_id": "US-import_tariff-t2"},
        {**US_LIFT, "id": "cut2", "date": "2025-10", "policy_id": "US-import_tariff-t1"},
    ]
    for order in orders[2:]:
        order.pop("measure"), order.pop("commodities"), order.pop("partners")
    world = play({"CN": {"doctrine": "coercive-retaliator"}}, orders, months=27)
    licences, lifts = log(world, "CN", "export_licence"), log(world, "CN", "lift")
    assert len(licences) == 1 and (licences["status"] == "applied").all()
    terms = log(world, "CN", "licence_terms")
    assert (terms["status"] == "applied").all()
    # Tighten at the second tranche (civilians 50% -> 25%), ease at the first cut (-> 90%, the
    # licence stays on the book), lift at the second.
    shares = [p["end_use"]["civilian"] for p in terms["params"]]
    assert shares == [0.25, 0.9]
    assert all(p["end_use"]["defense"] == 0.0 for p in terms["params"])
    months = [world.month_of(o["date"]) for o in orders]
    tightened, eased = terms["month"].tolist()
    assert months[1] <= tightened <= months[1] + world.spec.turn_months
    assert months[2] <= eased <= months[2] + world.spec.turn_months
    assert len(lifts) == 1 and months[3] <= lifts.iloc[0]["month"] <= months[3] + 3
    assert not [s for s in in_force(world, "CN", "export_licence") if "US" in s.partners]


def test_coercive_retaliator_answers_a_technology_ban_with_an_extraterritorial_control():
    control = {"id": "us-tech", "date": "2024-07", "kind": "tech_export_ban", "issuer": "US",
               "stages": ["separator", "magnet"]}  # fmt: skip
    ended = {"id": "us-tech-off", "date": "2025-04", "kind": "lift", "issuer": "US",
             "measure": "tech_export_ban"}  # fmt: skip
    world = play({"CN": {"doctrine": "coercive-retaliator"}}, [control, ended], months=24)
    (rule,) = log(world, "CN", "extraterritorial_control").itertuples()
    assert rule.status == "applied" and rule.params["commodities"] == ["magnet"]
    assert rule.params["partners"] == ["US"] and 6 <= rule.month <= 9
    # The ban is lifted in 2025-04: the pressure is back to what China tolerates, and it lifts
    # both its licence and its control.
    lifted = log(world, "CN", "lift")
    assert len(lifted) == 2 and world.month_of("2025-04") <= lifted["month"].min()
    assert not in_force(world, "CN", "extraterritorial_control")
    # Without the rule in its menu it licenses only.
    seats = {"CN": {"doctrine": "coercive-retaliator", "params": {"extraterritorial": []}}}
    assert log(play(seats, [control], months=12), "CN", "extraterritorial_control").empty

"""Orders (world/orders.py, world/order_desk.py): every kind parses and round-trips; invalid
orders are rejected with a message naming the field and change nothing; seat orders wait for the
turn boundary and scripted ones for their date; the log; each instrument's effect; replay.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas.testing as pdt
import pytest
from worlds import base_data

from world import World, load_scenario
from world.instruments import programmes, trade
from world.orders import ORDER_KINDS, parse_order
from world.scenario import scenario_from_dict

SAMPLES: dict[str, dict] = {
    "licence_decision": {"issuer": "CN", "commodity": "magnet", "partner": "US", "share": 0.5},
    "equity_stake": {"issuer": "US", "firm": "mp-separation", "usd": 4e8},
    "rnd_programme": {"issuer": "US", "usd_per_year": 2e8, "duration_months": 24},
    "offtake_guarantee": {
        "issuer": "JP",
        "firm": "jp-magnet",
        "commodity": "magnet",
        "share": 0.2,
        "price_usd_per_kg": 80.0,
    },
    "purchase_commitment": {
        "issuer": "JP",
        "commodity": "magnet",
        "partner": "CN",
        "t_per_month": 200.0,
        "duration_months": 12,
    },
    "offtake_contract": {"issuer": "jp-metal", "supplier": "lynas-malaysia"},
    "set_premium": {"issuer": "jp-magnet", "premium": 0.2},
    "export_ban": {"issuer": "CN", "commodities": ["magnet"], "partners": ["US"]},
    "export_quota": {"issuer": "CN", "commodities": ["oxide_light"], "quota_t": 1000},
    "export_licence": {
        "issuer": "CN",
        "commodities": ["oxide_heavy", "magnet"],
        "partners": ["US", "JP"],
        "review_months": 2,
        "approval_share": 0.25,
        "end_use": {"defense": 0.0},
        "general_licences": ["EU"],
        "duration_months": 12,
    },
    "extraterritorial_control": {
        "issuer": "CN",
        "commodities": ["metal", "magnet"],
        "partners": ["US"],
        "content_threshold": 0.001,
    },
    "licence_terms": {
        "issuer": "CN",
        "commodities": ["magnet"],
        "approval_share": 0.6,
        "grant": ["US"],
    },
    "export_duty": {"issuer": "CN", "commodities": ["concentrate"], "rate": 0.2},
    "import_tariff": {
        "issuer": "US",
        "commodities": ["magnet"],
        "rate": 0.25,
        "exempt": ["JP"],
    },
    "import_ban": {"issuer": "US", "commodities": ["magnet"], "partners": ["CN"]},
    "lift": {"issuer": "CN", "measure": "export_licence", "commodities": ["magnet"]},
    "tech_export_ban": {"issuer": "CN", "stages": ["separator", "magnet"]},
    "defense_priority": {"issuer": "JP"},
    "capex_subsidy": {"issuer": "US", "stages": ["magnet"], "share": 0.3},
    "production_subsidy": {"issuer": "US", "stages": ["separator"], "usd_per_kg": 5},
    "production_quota": {
        "issuer": "CN",
        "stages": ["mine"],
        "tonnes_per_year": 300000,
        "growth_per_year": 0.05,
        "restraint": 1.0,
    },
    "price_floor": {
        "issuer": "US",
        "firm": "mp-separation",
        "commodity": "oxide_light",
        "floor_usd_per_kg": 110,
        "duration_months": 120,
    },
    "stockpile_buy": {"issuer": "US", "commodity": "magnet", "tonnes": "1 kt", "months": 6},
    "stockpile_release": {"issuer": "JP", "commodity": "magnet", "tonnes": 50},
    "stockpile_target": {"issuer": "JP", "commodities": ["oxide_heavy"], "months_of_cover": 2},
    "invest": {"issuer": "mp-independence", "capacity_tpy": 1000},
    "idle": {"issuer": "lynas-malaysia", "share": 0.5},
    "restart": {"issuer": "lynas-malaysia"},
    "alliance": {
        "issuer": "US",
        "action": "form",
        "name": "minerals-club",
        "invite": ["JP", "EU"],
        "common_external_tariff": {"magnet": 0.2},
        "pooled_offtake_premium": 0.1,
        "fund_usd": 1e9,
        "shared_release": True,
    },
    "propose_deal": {
        "issuer": "US",
        "recipients": ["CN"],
        "duration_months": 12,
        "commitments": [
            {"kind": "lift", "issuer": "CN", "measure": "export_licence", "partners": ["US"]},
            {
                "kind": "import_tariff",
                "issuer": "US",
                "commodities": ["magnet"],
                "partners": ["CN"],
                "rate": 0.1,
            },
        ],
    },
    "respond_deal": {"issuer": "CN", "deal_id": "deal-1", "action": "accept"},
}


def scenario(**changes):
    """The baseline with top-level changes (states, orders, ...) as plain data.

    The baseline's own scripted orders (China's mining quota, offtake contracts) are left out
    unless ``orders`` is given, so that the desk's log holds only what a test submits.
    """
    data = copy.deepcopy(base_data())
    data["orders"] = []
    for key, value in changes.items():
        if callable(value):
            value(data)
        else:
            data[key] = value
    return scenario_from_dict(data)


def with_states(**extra: dict):
    """The baseline with extra fields on some states (e.g. US={"budget_usd_per_year": 1e6})."""

    def edit(data: dict) -> None:
        for state in data["states"]:
            state.update(extra.get(state["region"], {}))

    return edit


def snapshot(world: World) -> dict:
    """Everything an order could change, as comparable plain data."""
    return {
        "active": [s.model_dump() for s in world.policies.active],
        "specs": [s.model_dump() for s in world.policies.specs],
        "programmes": [
            (p.id, p.kind, p.issuer, p.start, p.end, dict(p.params)) for p in world.desk.programmes
        ],
        "pending": len(world.desk.pending),
        "stockpiles": {
            s.region: {c: float(np.sum(v)) for c, v in s.stockpile.items()} for s in world.states
        },
        "spent": {s.region: s.fiscal_cost_usd for s in world.states},
        "firms": [(f.firm_id, f.capacity_tpy, f.idle_tpy, list(f.pipeline)) for f in world.firms],
        "alliances": list(world.desk.diplomacy.alliances),
        "deals": list(world.desk.diplomacy.deals),
    }


# --------------------------------------------------------------------------- schema


def test_every_kind_has_a_sample():
    assert set(SAMPLES) == set(ORDER_KINDS)


@pytest.mark.parametrize("kind", ORDER_KINDS)
def test_every_order_kind_parses_and_round_trips(kind):
    order = parse_order({"kind": kind, **SAMPLES[kind]})
    assert order.kind == kind
    text = order.model_dump_json()
    again = parse_order(text)
    assert again == order
    assert json.loads(again.model_dump_json()) == json.loads(text)
    assert parse_order(json.loads(text)) == order
    params = order.parameters()
    assert "kind" not in params and "issuer" not in params
    assert parse_order({"kind": kind, "issuer": order.issuer, **params}) == order


def test_units_are_converted_when_parsed():
    assert parse_order({"kind": "stockpile_buy", **SAMPLES["stockpile_buy"]}).tonnes == 1000.0


# --------------------------------------------------------------------------- rejections

INVALID = [
    (
        "unknown commodity",
        {"kind": "export_ban", "issuer": "CN", "commodities": ["unobtainium"], "partners": ["US"]},
        None,
        "commodity",
        {},
    ),
    (
        "unknown region in partners",
        {"kind": "export_ban", "issuer": "CN", "commodities": ["magnet"], "partners": ["XX"]},
        None,
        "partners",
        {},
    ),
    (
        "a state acting for another",
        {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"], "rate": 0.25},
        "JP",
        "issuer",
        {},
    ),
    (
        "a negative tariff",
        {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"], "rate": -0.1},
        "US",
        "rate",
        {},
    ),
    (
        "a quota on an import",
        {
            "kind": "import_quota",
            "issuer": "US",
            "commodities": ["magnet"],
            "partners": ["CN"],
            "quota_t": 500,
        },
        "US",
        "kind",
        {},
    ),
    (
        "a stockpile release larger than the stockpile",
        {"kind": "stockpile_release", "issuer": "US", "commodity": "magnet", "tonnes": 500},
        "US",
        "tonnes",
        {"states": with_states(US={"stockpile_t": {"magnet": 100}})},
    ),
    (
        "a budget overrun",
        {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 10000},
        "US",
        "budget",
        {"states": with_states(US={"budget_usd_per_year": 1e6})},
    ),
    (
        "a partner equal to the issuer",
        {"kind": "export_ban", "issuer": "CN", "commodities": ["magnet"], "partners": ["CN"]},
        "CN",
        "partners",
        {},
    ),
    (
        "a price floor for a firm in another state's region",
        {
            "kind": "price_floor",
            "issuer": "US",
            "firm": "lynas-malaysia",
            "commodity": "oxide_light",
            "floor_usd_per_kg": 110,
        },
        "US",
        "firm",
        {},
    ),
]


@pytest.mark.parametrize(
    ("case", "order", "seat", "field", "changes"), INVALID, ids=[c[0] for c in INVALID]
)
def test_invalid_order_is_rejected_naming_the_field_and_changes_nothing(
    case, order, seat, field, changes
):
    world = World(scenario(**changes), seed=0)
    world.run(2)
    before = snapshot(world)
    result = world.submit(order, seat=seat)
    assert result.status == "rejected", case
    assert result.message.startswith(f"{field}:"), result.message
    assert snapshot(world) == before
    # a doctrine's order at a turn boundary is checked the same way
    direct = world.desk.apply_now(order, source="doctrine:test", seat=seat)
    assert direct.status == "rejected"
    assert direct.message == result.message
    assert snapshot(world) == before
    log = world.orders()
    assert list(log["status"]) == ["rejected", "rejected"]
    assert list(log["message"]) == [result.message, result.message]
    assert (log["kind"] == order["kind"]).all()
    # and the world runs on unchanged
    world.run(1)
    assert (world.orders()["status"] == "rejected").all()


def test_unknown_kind_lists_the_allowed_kinds():
    world = World(scenario(), seed=0)
    result = world.submit({"kind": "import_quota", "issuer": "US", "commodities": ["magnet"]})
    assert result.status == "rejected"
    assert "import_quota" in result.message
    for kind in ORDER_KINDS:
        assert kind in result.message
    assert "import_tariff or import_ban" in result.message


def test_negative_tariff_message_says_what_is_allowed():
    world = World(scenario(), seed=0)
    order = {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"], "rate": -0.1}
    message = world.submit(order).message
    # The one field-path formatter (world/field_errors.py) states both bounds of the field.
    assert message.startswith("rate: must be between 0 and 10")
    assert "-0.1" in message


def test_release_within_the_stockpile_is_accepted():
    world = World(scenario(states=with_states(US={"stockpile_t": {"magnet": 100}})), seed=0)
    order = {"kind": "stockpile_release", "issuer": "US", "commodity": "magnet", "tonnes": 60}
    assert world.submit(order, seat="US").status == "pending"
    # a second release counts what the first one has committed: 60 + 60 > 100
    world.run(1)
    assert world.orders()["status"].tolist() == ["applied"]
    world.run(2)
    second = world.submit(order, seat="US")
    assert second.status == "rejected" and second.message.startswith("tonnes:")


# --------------------------------------------------------------------------- timing and the log


def test_seat_orders_apply_only_at_the_next_turn_boundary():
    world = World(scenario(), seed=0)
    assert world.spec.turn_months == 3
    mag, cn, us = (
        world.commodity_index["magnet"],
        world.region_index["CN"],
        world.region_index["US"],
    )
    world.run(1)  # now in month 1, mid-turn
    order = {
        "kind": "import_tariff",
        "issuer": "US",
        "commodities": ["magnet"],
        "partners": ["CN"],
        "rate": 0.25,
    }
    assert world.submit(order, seat="US").status == "pending"
    assert world.orders().empty
    world.run(2)  # months 1 and 2 run without it
    assert world.policies.wedge[mag, cn, us] == pytest.approx(1.0)
    assert world.orders().empty
    world.step()  # month 3: a turn boundary
    log = world.orders()
    assert log["month"].tolist() == [3]
    assert log["status"].tolist() == ["applied"]
    assert world.policies.wedge[mag, cn, us] == pytest.approx(1.25)


def test_scripted_orders_apply_at_their_date():
    orders = [
        {
            "id": "cn-ban",
            "date": "2024-05",
            "kind": "export_ban",
            "issuer": "CN",
            "commodities": ["magnet"],
            "partners": ["US"],
        },
        {
            "id": "us-buy",
            "date": "2024-02",
            "kind": "stockpile_buy",
            "issuer": "US",
            "commodity": "magnet",
            "tonnes": 300,
            "months": 3,
        },
    ]
    world = World(scenario(orders=orders), seed=0)
    world.run(7)
    mag, cn, us = (
        world.commodity_index["magnet"],
        world.region_index["CN"],
        world.region_index["US"],
    )
    flow = world.recorder.array("exports")[:, mag, cn, us]
    assert (flow[:4] > 0).all()
    assert (flow[4:] == 0).all()
    log = world.orders()
    assert log["order_id"].tolist() == ["us-buy", "cn-ban"]
    assert log["month"].tolist() == [1, 4]
    assert (log["source"] == "script").all()
    assert any(s.id == "CN-export_ban-cn-ban" for s in world.policies.active)


def test_orders_table_records_applied_and_rejected_orders():
    world = World(scenario(), seed=0)
    world.run(1)
    world.submit({"kind": "defense_priority", "issuer": "JP"}, seat="JP")
    world.submit({"kind": "export_ban", "issuer": "CN", "commodities": ["gold"]}, seat="CN")
    world.run(3)
    log = world.orders()
    for column in ("month", "issuer", "kind", "parameters", "status"):
        assert column in log.columns
    assert log[["month", "issuer", "kind", "status"]].values.tolist() == [
        [1, "CN", "export_ban", "rejected"],
        [3, "JP", "defense_priority", "applied"],
    ]
    params = json.loads(log.loc[log["kind"] == "export_ban", "parameters"].iloc[0])
    assert params["commodities"] == ["gold"]
    assert json.loads(log["parameters"].iloc[1]) == {"breach": False, "note": ""}


# --------------------------------------------------------------------------- instruments


def test_tech_export_ban_raises_capex_and_lead_time_abroad():
    world = World(scenario(), seed=0)
    firms = world.firms_by_id
    abroad = [firms["mp-independence"], firms["lynas-malaysia"], firms["jp-magnet"]]
    home = [firms["cn-magnet-leaders"], firms["cn-northern-separation"]]
    mine = firms["mp-mountain-pass"]
    for firm in [*abroad, *home, mine]:
        assert programmes.capex_multiplier(world, firm) == pytest.approx(1.0)
    order = {
        "kind": "tech_export_ban",
        "issuer": "CN",
        "stages": ["separator", "magnet"],
        "capex_multiplier": 1.5,
        "extra_lead_months": 12,
    }
    assert world.desk.apply_now(order).status == "applied"
    for firm in abroad:
        assert programmes.capex_multiplier(world, firm) == pytest.approx(1.5)
        assert trade.lead_time_extra(world, firm) >= 12
    delay = world.uncertainty.project_delay_share
    for firm in [*home, mine]:
        assert programmes.capex_multiplier(world, firm) == pytest.approx(1.0)
        # the seed's drawn delay only
        assert trade.lead_time_extra(world, firm) <= round(firm.lead_time * delay.high)


def test_price_floor_pays_the_gap_every_month():
    world = World(scenario(), seed=0)
    world.run(1)
    order = {
        "kind": "price_floor",
        "issuer": "US",
        "firm": "mp-separation",
        "commodity": "oxide_light",
        "floor_usd_per_kg": 110,
    }
    assert world.submit(order, seat="US").status == "pending"
    world.run(5)
    us, ol = world.region_index["US"], world.commodity_index["oxide_light"]
    fiscal = world.recorder.array("fiscal_cost")[:, us]
    price = world.recorder.array("price")[:, ol, us]
    assert (fiscal[:3] == 0).all()
    assert (price[3:] < 110).all()
    assert (fiscal[3:] > 0).all()


def test_subsidies_cost_money():
    world = World(scenario(), seed=0)
    us = world.states_by_region["US"]
    world.run(1)
    world.submit(
        {"kind": "production_subsidy", "issuer": "US", "stages": ["separator"], "usd_per_kg": 5},
        seat="US",
    )
    world.submit({"kind": "capex_subsidy", "issuer": "US", "stages": ["magnet"], "share": 0.5})
    world.submit({"kind": "invest", "issuer": "mp-independence", "capacity_tpy": 1000})
    world.run(2)
    spent_before = us.fiscal_cost_usd
    assert spent_before == 0.0
    firm = world.firms_by_id["mp-independence"]
    world.step()  # month 3: all three apply
    assert programmes.capex_multiplier(world, firm) == pytest.approx(0.5)
    capex_share = 0.5 * 1000 * firm.capex_per_tpy
    assert us.fiscal_cost_usd > capex_share  # the capex share plus a month of production
    production_part = us.fiscal_cost_usd - capex_share
    fiscal = world.recorder.array("fiscal_cost")[:, world.region_index["US"]]
    assert fiscal[3] == pytest.approx(us.fiscal_cost_usd)
    assert production_part > 0
    world.run(3)
    us_index = world.region_index["US"]
    # It keeps paying while the plant runs (a slack month with unsold stock may idle it).
    assert fiscal.size == 4 and world.recorder.array("fiscal_cost")[4:, us_index].sum() > 0


def test_stockpile_buy_and_release():
    world = World(scenario(), seed=0)
    jp, mag = world.region_index["JP"], world.commodity_index["magnet"]
    world.run(1)
    buy = {
        "kind": "stockpile_buy",
        "issuer": "JP",
        "commodity": "magnet",
        "tonnes": 600,
        "months": 3,
    }
    assert world.desk.apply_now(buy, source="doctrine:test", seat="JP").status == "applied"
    world.run(4)
    stock = world.recorder.array("stock_strategic")[:, mag, jp]
    fiscal = world.recorder.array("fiscal_cost")[:, jp]
    assert stock[0] == 0
    assert stock[3] == pytest.approx(600)
    assert (np.diff(stock[:4]) > 0).all()
    assert (fiscal[1:4] > 0).all()
    assert fiscal[4] == 0  # the purchase is over
    release = {"kind": "stockpile_release", "issuer": "JP", "commodity": "magnet", "tonnes": 240}
    assert world.desk.apply_now(release, source="doctrine:test", seat="JP").status == "applied"
    world.run(3)
    after = world.recorder.array("stock_strategic")[5:, mag, jp]
    assert (np.diff(np.concatenate([[stock[4]], after])) < 0).all()
    assert after[-1] == pytest.approx(600 - 240, abs=1.0)
    assert (world.recorder.array("fiscal_cost")[5:, jp] < 0).all()  # sales earn money back


def test_firm_orders_change_capacity():
    world = World(scenario(), seed=0)
    lynas = world.firms_by_id["lynas-malaysia"]
    mp = world.firms_by_id["mp-independence"]
    capacity = lynas.capacity_tpy
    pipeline = mp.pipeline_tpy()
    assert (
        world.desk.apply_now({"kind": "idle", "issuer": "lynas-malaysia", "share": 0.5}).status
        == "applied"
    )
    assert lynas.capacity_tpy == pytest.approx(capacity / 2)
    assert lynas.idle_tpy == pytest.approx(capacity / 2)
    assert world.desk.apply_now({"kind": "restart", "issuer": "lynas-malaysia"}).status == "applied"
    assert lynas.capacity_tpy == pytest.approx(capacity)
    assert lynas.idle_tpy == 0
    again = world.desk.apply_now({"kind": "restart", "issuer": "lynas-malaysia"})
    assert again.status == "rejected" and again.message.startswith("issuer:")
    order = {"kind": "invest", "issuer": "mp-independence", "capacity_tpy": 1500}
    assert world.desk.apply_now(order).status == "applied"
    assert mp.pipeline_tpy() == pytest.approx(pipeline + 1500)
    world.step()
    ox = world.commodity_index["magnet"]
    assert world.recorder.array("capacity_pipeline")[0, ox, world.region_index["US"]] >= 1500
    # a firm order from a seat that plays another firm is refused
    refused = world.submit({"kind": "idle", "issuer": "lynas-malaysia"}, seat="mp-independence")
    assert refused.status == "rejected" and refused.message.startswith("issuer:")


def test_a_scripted_policy_can_be_lifted_before_the_first_month():
    """A seat sees the scenario's standing policies from the start, and may lift one in its
    first turn: the order is checked against the policies in force at month 0."""
    world = World("alliance-vs-tariffs-2025", seed=0, human_seats=frozenset({"US"}))
    assert [p.id for p in world.policies.active if p.issuer == "US"] == [
        "us-mfn-metal",
        "us-defense-priority",
    ]
    lift = {"kind": "lift", "issuer": "US", "measure": "import_tariff", "commodities": ["metal"]}
    assert world.check(lift, "US") == ""
    assert world.submit(lift, seat="US").status == "pending"
    world.step()
    assert "us-mfn-metal" not in [p.id for p in world.policies.active]


def test_lift_ends_measures():
    world = World(scenario(), seed=0)
    mag, cn, us, jp = (
        world.commodity_index["magnet"],
        *(world.region_index[r] for r in ("CN", "US", "JP")),
    )
    licence = {
        "kind": "export_licence",
        "issuer": "CN",
        "commodities": ["magnet", "oxide_heavy"],
        "partners": ["US", "JP"],
        "approval_share": 0.3,
    }
    assert world.desk.apply_now(licence).status == "applied"
    world.desk.apply_now(
        {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 100}
    )
    world.step()
    assert world.policies.licensed[mag, cn, us] and world.policies.licensed[mag, cn, jp]
    # lifting for one partner and one product leaves the rest in force
    partial = {
        "kind": "lift",
        "issuer": "CN",
        "measure": "export_licence",
        "commodities": ["magnet"],
        "partners": ["US"],
    }
    result = world.desk.apply_now(partial)
    assert result.status == "applied", result.message
    world.step()
    heavy = world.commodity_index["oxide_heavy"]
    assert not world.policies.licensed[mag, cn, us]
    assert world.policies.licensed[mag, cn, jp]
    assert world.policies.licensed[heavy, cn, us] and world.policies.licensed[heavy, cn, jp]
    # lifting the rest by measure, and a programme by its kind
    assert (
        world.desk.apply_now({"kind": "lift", "issuer": "CN", "measure": "export_licence"}).status
        == "applied"
    )
    assert (
        world.desk.apply_now({"kind": "lift", "issuer": "US", "measure": "stockpile_buy"}).status
        == "applied"
    )
    world.step()
    assert not world.policies.licensed.any()
    assert not world.desk.active("stockpile_buy")
    nothing = world.desk.apply_now({"kind": "lift", "issuer": "CN", "measure": "export_ban"})
    assert nothing.status == "rejected" and "nothing to lift" in nothing.message
    # another state's measure cannot be lifted by its id
    spec = next(s for s in world.policies.active if s.issuer == "US")
    other = world.desk.apply_now({"kind": "lift", "issuer": "CN", "policy_id": spec.id})
    assert other.status == "rejected" and other.message.startswith("policy_id:")


# --------------------------------------------------------------------------- replay


def _played(seed: int = 3) -> World:
    """A game with seat orders at several months, some lifting earlier ones by id."""
    world = World(scenario(), seed=seed)
    world.run(1)
    world.submit(
        {
            "kind": "export_licence",
            "issuer": "CN",
            "commodities": ["oxide_heavy", "magnet"],
            "partners": ["US", "JP"],
            "approval_share": 0.4,
        },
        seat="CN",
    )
    world.submit(
        {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 900}, seat="US"
    )
    world.submit({"kind": "export_ban", "issuer": "CN", "commodities": ["gold"]}, seat="CN")
    world.run(3)
    world.submit(
        {
            "kind": "import_tariff",
            "issuer": "US",
            "commodities": ["magnet"],
            "partners": ["CN"],
            "rate": 0.5,
        },
        seat="US",
    )
    world.submit(
        {"kind": "capex_subsidy", "issuer": "JP", "stages": ["magnet"], "share": 0.4}, seat="JP"
    )
    world.submit({"kind": "invest", "issuer": "jp-magnet", "capacity_tpy": 2000}, seat="jp-magnet")
    world.run(3)
    tariff = next(s.id for s in world.policies.active if s.issuer == "US" and s.rate == 0.5)
    world.submit({"kind": "lift", "issuer": "US", "policy_id": tariff}, seat="US")
    world.submit(
        {"kind": "lift", "issuer": "CN", "measure": "export_licence", "partners": ["JP"]}, seat="CN"
    )
    world.submit(
        {
            "kind": "price_floor",
            "issuer": "US",
            "firm": "mp-separation",
            "commodity": "oxide_light",
            "floor_usd_per_kg": 90,
        },
        seat="US",
    )
    world.run(6)
    return world


def test_replay_reproduces_the_results_exactly():
    world = _played()
    log = world.orders()
    assert (log["status"] == "applied").sum() == 8
    assert (log["status"] == "rejected").sum() == 1
    again = World.replay(world.spec, world.seed, log)
    again.run(world.month)
    pdt.assert_frame_equal(world.results(), again.results())
    replayed = again.orders()
    assert replayed["status"].eq("applied").all()
    cols = ["month", "issuer", "kind", "parameters", "message"]
    pdt.assert_frame_equal(
        log.loc[log["status"] == "applied", cols].reset_index(drop=True),
        replayed[cols].reset_index(drop=True),
    )


def test_an_order_keeps_one_id_from_pending_to_applied_and_its_measures_carry_it():
    world = World(scenario(), seed=3)
    world.run(1)
    waiting = world.submit(
        {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 900}, seat="US"
    )
    tariff = world.submit(
        {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"], "partners": ["CN"],
         "rate": 0.5},
        seat="US",
    )  # fmt: skip
    assert waiting.status == tariff.status == "pending"
    assert [p[3] for p in world.desk.pending] == [waiting.order_id, tariff.order_id]
    world.run(3)
    log = world.orders().set_index("order_id")
    assert log.loc[[waiting.order_id, tariff.order_id], "status"].tolist() == ["applied"] * 2
    programme = f"US-stockpile_buy-{waiting.order_id}"
    assert [p.id for p in world.desk.programmes if p.issuer == "US"] == [programme]
    assert programme in log.loc[waiting.order_id, "message"]
    measure = f"US-import_tariff-{tariff.order_id}"
    assert measure in {s.id for s in world.policies.active}
    assert measure in log.loc[tariff.order_id, "message"]
    # A replay applies them under the same ids, so a lift naming one lifts it again.
    lift = world.submit({"kind": "lift", "issuer": "US", "policy_id": measure}, seat="US")
    world.run(3)
    again = World.replay(world.spec, world.seed, world.orders())
    again.run(world.month)
    assert {s.id for s in again.policies.specs} == {s.id for s in world.policies.specs}
    assert measure not in {s.id for s in again.policies.active}
    assert again.orders().set_index("order_id").loc[lift.order_id, "status"] == "applied"
    # and a new order there takes an id no logged order has.
    new = again.submit({"kind": "export_ban", "issuer": "CN", "commodities": ["gold"]})
    assert new.order_id not in set(world.orders()["order_id"])


# --------------------------------------------------------------------------- industrial policy


def test_equity_stake_pays_the_firm_and_costs_the_state():
    world = World(load_scenario("baseline-2024"), seed=0)
    firm = world.firms_by_id["mp-separation"]
    cash = firm.cash_usd
    result = world.desk.apply_now({"kind": "equity_stake", **SAMPLES["equity_stake"]})
    assert result.status == "applied", result.message
    assert firm.cash_usd == pytest.approx(cash + 4e8)
    assert world.states_by_region["US"].fiscal_cost_usd == pytest.approx(4e8)


def test_research_speeds_thrift_and_costs_money_each_month():
    world = World(load_scenario("baseline-2024"), seed=0)
    mi, us = world.commodity_index["magnet"], world.region_index["US"]
    assert programmes.research_speedup(world, mi, us) == 1.0
    world.desk.apply_now({"kind": "rnd_programme", **SAMPLES["rnd_programme"]})
    assert programmes.research_speedup(world, mi, us) == pytest.approx(1.4)
    world.run(months=3)
    spent = world.recorder.array("fiscal_cost")[:, us]
    assert spent == pytest.approx([2e8 / 12] * 3)


def test_offtake_guarantee_fills_the_stockpile_from_the_plant():
    world = World(load_scenario("baseline-2024"), seed=0)
    result = world.desk.apply_now({"kind": "offtake_guarantee", **SAMPLES["offtake_guarantee"]})
    assert result.status == "applied", result.message
    world.run(months=6)
    mi, jp = world.commodity_index["magnet"], world.region_index["JP"]
    stock = world.recorder.array("stock_strategic")[:, mi, jp]
    assert stock[-1] > stock[0] > 0.0
    made = world.firms_by_id["jp-magnet"].throughput
    assert stock[-1] - stock[-2] == pytest.approx(0.2 * made, rel=1e-6)
    assert world.recorder.array("fiscal_cost")[:, jp].min() > 0


def test_offtake_contract_routes_supply_outside_the_market():
    world = World(load_scenario("baseline-2024"), seed=0)
    result = world.desk.apply_now({"kind": "offtake_contract", **SAMPLES["offtake_contract"]})
    assert result.status == "applied", result.message
    world.run(months=6)
    ox, my, jp = (
        world.commodity_index["oxide_light"],
        world.region_index["MY"],
        world.region_index["JP"],
    )
    assert world.recorder.array("exports")[1:, ox, my, jp].sum() > 0
    bad = world.desk.apply_now(
        {"kind": "offtake_contract", "issuer": "jp-metal", "supplier": "cn-magnet-leaders"}
    )
    assert bad.status == "rejected" and "makes nothing" in bad.message


def test_premium_for_non_chinese_supply_lowers_china_in_the_buyers_order():
    world = World(load_scenario("baseline-2024"), seed=0)
    mi, cn, jp = world.commodity_index["magnet"], world.region_index["CN"], world.region_index["JP"]
    before = world.supplier_preference(mi)[cn, jp]
    world.desk.apply_now({"kind": "set_premium", **SAMPLES["set_premium"]})
    assert world.supplier_preference(mi)[cn, jp] == pytest.approx(before / 1.2)


def test_a_seat_decides_each_licence():
    """With ``decided_by = "seat"`` nothing ships until the licensing state decides; then the
    approved share of the applications ships and the rest is refused."""
    world = World(load_scenario("baseline-2024"), seed=0)
    mi, cn, us = world.commodity_index["magnet"], world.region_index["CN"], world.region_index["US"]
    licence = {
        "kind": "export_licence",
        "issuer": "CN",
        "commodities": ["magnet"],
        "partners": ["US"],
        "review_months": 1,
        "decided_by": "seat",
    }
    assert world.desk.apply_now(licence).status == "applied"
    world.run(months=3)
    assert world.recorder.array("exports")[:, mi, cn, us].sum() == 0.0
    pending = world.policies.pending_applications[mi, cn, us]
    assert pending > 0
    result = world.desk.apply_now({"kind": "licence_decision", **SAMPLES["licence_decision"]})
    assert result.status == "applied", result.message
    assert world.policies.pending_applications[mi, cn, us] == 0.0
    world.step()
    shipped = world.recorder.array("exports")[-1, mi, cn, us]
    assert 0 < shipped <= 0.5 * pending + 1e-6
    refused = world.desk.apply_now(
        {
            "kind": "licence_decision",
            "issuer": "CN",
            "commodity": "metal",
            "partner": "US",
            "share": 1.0,
        }
    )
    assert refused.status == "rejected" and "no licence" in refused.message

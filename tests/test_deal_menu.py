"""The newer terms of the deal menu (agents/doctrines/bargaining.py): purchase commitments
(``purchase_commitment``, world/instruments/trade.py) and technology export bans suspended by
a deal (world/deals.py), in ``alliance-vs-tariffs-2025`` with people on the seats concerned.

What is measured: a proposal holding a purchase commitment is made when it is a gain for the
proposer; an accepted commitment moves its tonnes from the partner's producers to the issuer's
buyers each month, paid at the price, and stops when the deal ends; a suspended technology ban
comes back into force when the deal ends; the terms read as a person would say them; bad input
is refused naming the field and the values allowed; material balance holds.
"""

from __future__ import annotations

import numpy as np
import pytest
from worlds import assert_sane, run, variant

from agents.doctrines import bargaining, make_doctrine
from world import World, load_scenario
from world.deal_words import deal_words
from world.deals import deals_of, heuristic_parts
from world.instruments import REGISTRY
from world.instruments.trade import tech_ban
from world.orders import parse_order

SCENARIO = "alliance-vs-tariffs-2025"
ALL_HUMAN = frozenset({"US", "CN", "JP", "EU", "AU"})
#: Japan's buyers commit to buy 50 t/month of Chinese NdPr oxide (its metal maker buys ~500
#: t/month of it, most under Lynas's offtake contract, which comes first, leaving it 60-110
#: t/month to buy; ~50 t/month came from China at the start).
JP_BUYS = {
    "kind": "purchase_commitment",
    "issuer": "JP",
    "commodity": "oxide_light",
    "partner": "CN",
    "t_per_month": 50.0,
    "duration_months": 6,
}
#: China's October 2025 technology controls (the engine's default severity).
TECH_BAN = {
    "kind": "tech_export_ban",
    "issuer": "CN",
    "stages": ["separator", "metal", "magnet"],
    "capex_multiplier": 1.5,
    "extra_lead_months": 12,
}


def game(months: int = 3) -> World:
    """Every seat played by people (no doctrine acts), a few months in (flows warmed up)."""
    world = World(load_scenario(SCENARIO), seed=0, human_seats=ALL_HUMAN)
    for _ in range(months):
        world.step()
    return world


def agree(world: World, proposer: str, recipient: str, commitments: list, months: int):
    """Propose a deal and have the recipient accept it; returns the deal, now active."""
    result = world.desk.apply_now(
        {
            "kind": "propose_deal",
            "issuer": proposer,
            "recipients": [recipient],
            "commitments": commitments,
            "duration_months": months,
        },
        seat=proposer,
    )
    assert result.status == "applied", result.message
    deal = list(deals_of(world).deals.values())[-1]
    answer = {"kind": "respond_deal", "issuer": recipient, "deal_id": deal.id, "action": "accept"}
    accepted = world.desk.apply_now(answer, seat=recipient)
    assert accepted.status == "applied", accepted.message
    assert deal.status == "active"
    return deal


def committed_t(world: World, commodity: str, origin: str, destination: str) -> float:
    """Tonnes moved outside the spot market on the arc last month."""
    ci = world.commodity_index[commodity]
    o, d = world.region_index[origin], world.region_index[destination]
    return float(world.contract_flows[ci, o, d])


# --------------------------------------------------------------------------- words


def test_a_purchase_commitment_reads_as_a_person_would_say_it():
    world = game(months=0)
    order = parse_order({**JP_BUYS, "issuer": "US", "t_per_month": 500, "duration_months": 12})
    assert REGISTRY["purchase_commitment"].words(world, order) == (
        "The United States commits its buyers to buy 500 t/month of Chinese NdPr oxide for 12 "
        "months"
    )
    text = deal_words(
        world,
        "CN",
        [
            {"kind": "lift", "issuer": "CN", "measure": "tech_export_ban", "suspend": True},
            {**JP_BUYS, "issuer": "US", "commodity": "magnet", "duration_months": 12},
        ],
        12,
    )
    # The commitment's term is the deal's: said once.
    assert text == (
        "China offers to suspend its ban on exports of processing technology for 12 months "
        "(they come back into force when the deal ends) if the United States commits its "
        "buyers to buy 50 t/month of Chinese magnets"
    )


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        ({"commodity": "oxide"}, "commodity: unknown commodity 'oxide'", "oxide_light"),
        ({"partner": "XX"}, "partner: unknown region 'XX'", "CN"),
        ({"partner": "JP"}, "partner: 'JP' is the issuer itself", "CN"),
        ({"t_per_month": -50}, "t_per_month: must be > 0", "1e+07"),
        ({"partner": "AU", "commodity": "magnet"}, "commodity: no producer in AU makes", "oxide"),
    ],
)
def test_bad_purchase_commitments_are_refused_naming_the_field(change, field, allowed):
    world = game(months=0)
    result = world.desk.apply_now({**JP_BUYS, **change}, seat="JP")
    assert result.status == "rejected"
    assert result.message.startswith(field), result.message
    assert allowed in result.message, result.message
    assert not world.desk.active("purchase_commitment")
    # The same term in a deal is refused with the commitment's place named.
    if "t_per_month" in change:
        proposal = world.desk.apply_now(
            {
                "kind": "propose_deal",
                "issuer": "CN",
                "recipients": ["JP"],
                "commitments": [{**JP_BUYS, **change}],
                "duration_months": 6,
            },
            seat="CN",
        )
        assert proposal.status == "rejected"
        assert "commitments[0].t_per_month" in proposal.message, proposal.message


# --------------------------------------------------------------------------- binding


def test_a_purchase_commitment_moves_tonnes_and_money_each_month_until_the_deal_ends():
    world = game()
    assert committed_t(world, "oxide_light", "CN", "JP") == 0.0
    deal = agree(world, "CN", "JP", [JP_BUYS], months=6)
    assert deal.end == world.month + 6
    # One month's delivery, measured on a copy: the Chinese separators are paid the Chinese
    # price for every tonne, Japan's metal maker pays it landed (freight, duty, tariff) and
    # holds the tonnes.
    clone = world.fork()
    clone.desk.start_of_month(clone.month)
    clone.produce()
    offers = {f: f.offers() for f in clone.firms}
    bids = {f: f.bids() for f in clone.firms}
    wanted = {u: {clone.commodity_ids[u.c]: u.bid()} for u in clone.end_users}
    ci = clone.commodity_index["oxide_light"]
    cn, jp = (clone.region_index[r] for r in ("CN", "JP"))
    sellers = [f for f in clone.firms if f.r == cn and "oxide_light" in f.output_commodities()]
    firms = [f for f in clone.firms if f.r == jp and "oxide_light" in f.inputs]
    users = [u for u in clone.end_users if u.r == jp and u.c == ci]
    assert firms and users, "Japan's metal maker and its end users buy NdPr oxide"
    cash = {f.firm_id: f.cash_usd for f in sellers + firms}
    held = {f.firm_id: float(f.inventory["oxide_light"]) for f in firms}
    user_held = [u.inventory for u in users]
    # The commitment's own claims (what World._deliver_contracts delivers after integrated
    # chains and offtake contracts, which move other money of the same firms).
    (prog,) = clone.desk.active("purchase_commitment")
    claims = {**bids, **wanted}
    flows = np.zeros_like(clone.flows)
    links = clone._commitment_claims(prog, offers, claims)
    clone._deliver_claims(links, offers, claims, flows, "oxide_light")
    moved = float(flows[ci, cn, jp])
    assert moved == pytest.approx(50.0) and flows.sum() == pytest.approx(moved)
    price = float(clone.prices[ci, cn])
    landed = price * clone.policies.wedge[ci, cn, jp] + clone.transport[ci, cn, jp]
    earned = sum(f.cash_usd - cash[f.firm_id] for f in sellers)
    assert earned == pytest.approx(moved * price * 1000.0, rel=1e-9)
    to_firms = sum(float(f.inventory["oxide_light"]) - held[f.firm_id] for f in firms)
    to_users = sum(u.inventory - before for u, before in zip(users, user_held, strict=True))
    assert to_firms > 0 and to_users > 0
    assert to_firms + to_users == pytest.approx(moved, rel=1e-9)
    paid = sum(cash[f.firm_id] - f.cash_usd for f in firms)
    assert paid == pytest.approx(to_firms * landed * 1000.0, rel=1e-9)
    # Month by month in the game: the tonnes go while the deal holds, and show in trade flows.
    ci = world.commodity_index["oxide_light"]
    during = []
    while world.month < deal.end:
        world.step()
        during.append(committed_t(world, "oxide_light", "CN", "JP"))
        assert world.flows[ci, cn, jp] >= during[-1] - 1e-9
    assert during == pytest.approx([50.0] * 6)
    exports = world.results()
    exports = exports[
        (exports["variable"] == "exports")
        & (exports["commodity"] == "oxide_light")
        & (exports["region"] == "CN")
        & (exports["partner"] == "JP")
    ]
    assert exports["value"].iloc[-6:].min() >= 50.0 - 1e-6
    world.step()
    assert deal.status == "expired"
    assert committed_t(world, "oxide_light", "CN", "JP") == 0.0
    assert not world.desk.active("purchase_commitment")


def test_a_commitment_across_a_licence_delivers_nothing_and_says_why():
    world = game()
    licence = {
        "kind": "export_licence",
        "issuer": "CN",
        "commodities": ["oxide_light"],
        "partners": ["JP"],
        "approval_share": 1.0,
        "review_months": 1,
    }
    assert world.desk.apply_now(licence, seat="CN").status == "applied"
    assert world.desk.apply_now(JP_BUYS, seat="JP").status == "applied"
    world.step()
    assert committed_t(world, "oxide_light", "CN", "JP") == 0.0
    (found,) = [f for f in world.shortfalls.values() if f.issuer == "JP"]
    assert found.text.endswith(
        "delivers nothing: a ban, quota or licence stands on oxide_light from CN to JP"
    )


def test_material_balance_holds_with_purchase_commitments():
    def commit(data: dict) -> None:
        data["orders"] = [
            *data.get("orders", []),
            {
                "id": "us-buys-magnets",
                "date": data["start"],
                "kind": "purchase_commitment",
                "issuer": "US",
                "commodity": "magnet",
                "partner": "CN",
                "t_per_month": 500.0,
                "duration_months": 9,
            },
            {
                "id": "jp-buys-oxide",
                "date": data["start"],
                **{k: v for k, v in JP_BUYS.items() if k != "duration_months"},
                "duration_months": 9,
            },
        ]

    result = run(variant(mutate=commit), months=12, seed=1)
    assert_sane(result)
    world = result.world
    assert not world.desk.active("purchase_commitment"), "both ran out after nine months"
    flows = world.recorder.array("exports")
    ci = world.commodity_index["oxide_light"]
    cn, jp = (world.region_index[r] for r in ("CN", "JP"))
    assert flows[:9, ci, cn, jp].min() >= 50.0 - 1e-6


# --------------------------------------------------------------------------- technology


def test_a_suspended_technology_ban_comes_back_when_the_deal_ends():
    world = game()
    assert world.desk.apply_now(TECH_BAN, seat="CN").status == "applied"
    us_magnets = next(f for f in world.firms if f.region == "US" and f.stage == "magnet")
    assert tech_ban(world, us_magnets) == (1.5, 12)
    suspend = {"kind": "lift", "issuer": "CN", "measure": "tech_export_ban", "suspend": True}
    # The suspension is worth something to those it frees and costs the issuer leverage.
    assert heuristic_parts(world, [suspend], "US")["security"] > 0
    assert heuristic_parts(world, [suspend], "CN")["leverage"] < 0
    deal = agree(world, "CN", "US", [suspend, {**JP_BUYS, "issuer": "US"}], months=4)
    assert "suspend its ban on exports of separation, metal-making and magnet technology" in (
        deal.summary()
    )
    assert tech_ban(world, us_magnets) == (1.0, 0)
    again = world.desk.apply_now(TECH_BAN, seat="CN")
    assert again.status == "rejected" and "breaks " + deal.id in again.message
    while world.month < deal.end:
        world.step()
        assert tech_ban(world, us_magnets) == (1.0, 0)
    world.step()
    assert deal.status == "expired"
    assert tech_ban(world, us_magnets) == (1.5, 12), "the ban is back, on its own terms"
    (back,) = [p for p in world.desk.active("tech_export_ban") if p.issuer == "CN"]
    assert back.params["stages"] == TECH_BAN["stages"] and back.end is None


# --------------------------------------------------------------------------- proposals


def china(world: World):
    """China's doctrine as the scenario seats it (it proposes deals), for a human-held seat."""
    seat = world.spec.seats["CN"]
    doctrine = make_doctrine(seat.doctrine, "CN", seat.params)
    assert doctrine.proposes or (seat.params.get("diplomacy") or {}).get("propose")
    return doctrine


def test_china_offers_a_purchase_commitment_when_it_is_its_gain():
    """China has no restriction on the US to give; the US taxes its magnets. Its one
    concession on the menu is a purchase commitment, which it offers for the tariff cut
    because it expects to gain on balance (and the US to gain too)."""
    world = World(load_scenario(SCENARIO), seed=0, human_seats=ALL_HUMAN)
    tariff = {
        "kind": "import_tariff",
        "issuer": "US",
        "commodities": ["magnet"],
        "partners": ["CN"],
        "rate": 0.5,
    }
    assert world.desk.apply_now(tariff, seat="US").status == "applied"
    for _ in range(9):
        world.step()
    doctrine = china(world)
    give, ask = bargaining.offer(doctrine, world, "US")
    assert not give and ask, "China has nothing of the old menu to give"
    orders = [o for o in bargaining.proposals(doctrine, world) if o["recipients"] == ["US"]]
    assert len(orders) == 1
    commitments = orders[0]["commitments"]
    own = [c for c in commitments if c["issuer"] == "CN"]
    assert own and all(c["kind"] == "purchase_commitment" and c["partner"] == "US" for c in own), (
        "China's concession is a purchase commitment for American goods"
    )
    assert all(c in commitments for c in ask), "against the US tariff cut"
    gain = sum(heuristic_parts(world, commitments, "CN").values())
    assert gain > bargaining.MIN_GAIN
    assert sum(heuristic_parts(world, commitments, "US").values()) > 0
    rest = [c for c in commitments if c not in own]
    assert sum(heuristic_parts(world, rest, "CN").values()) > gain, "it costs China"
    text = deal_words(world, "CN", commitments, orders[0]["duration_months"])
    assert text.startswith("China offers to commit its buyers to buy "), text
    assert " t/month of American " in text, text
    assert " for 12 months if the United States cuts its tariff on magnets from China to 10%" in (
        text
    )


def test_no_proposal_of_a_purchase_commitment_that_is_a_loss_for_the_proposer():
    """Without a tariff to cut, a purchase commitment is all China could give and nothing is
    asked in return: nothing is proposed."""
    world = game(months=9)
    doctrine = china(world)
    assert bargaining.offer(doctrine, world, "US") == ([], []), "no measure either side"
    assert bargaining.newer_terms(world, "CN", "US", 12)[0], "a commitment is on the menu"
    assert not [o for o in bargaining.proposals(doctrine, world) if o["recipients"] == ["US"]]

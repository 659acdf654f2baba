"""Deals in plain words, suspension and restoration (world/deals.py, world/deal_words.py), in a
single-player game of ``alliance-vs-tariffs-2025`` with the US seat human."""

from __future__ import annotations

import json

from test_deals import LICENCE as DEALS_LICENCE
from test_deals import TARIFF as DEALS_TARIFF
from test_deals import TRUCE as DEALS_TRUCE

from world import World, load_scenario
from world.deals import deals_of

SCENARIO = "alliance-vs-tariffs-2025"
TARIFF = {**DEALS_TARIFF, "commodities": ["magnet"]}
LICENCE = {
    **DEALS_LICENCE,
    "commodities": ["magnet", "oxide_heavy"],
    "partners": ["US"],
    "approval_share": 0.5,
}
#: China suspends its licences for the US; the US cuts its magnet tariff to 10%.
TRUCE = [
    {**DEALS_TRUCE[0], "commodities": ["magnet", "oxide_heavy"], "suspend": True},
    *DEALS_TRUCE[1:],
]


def licences_on_us(world: World) -> list:
    """China's export licences covering the US in force this month."""
    month = world.month
    return [
        s
        for s in world.policies.specs
        if s.issuer == "CN"
        and s.kind == "export_licence"
        and "US" in s.partners
        and world.month_of(s.start) <= month
        and (s.end is None or month < world.month_of(s.end))
    ]


def game(human=("US", "CN")) -> World:
    """The scenario with the US tariff and China's licence in force from the first month."""
    world = World(load_scenario(SCENARIO), seed=0, human_seats=frozenset(human))
    for order in (TARIFF, LICENCE):
        assert world.desk.apply_now(order).status == "applied"
    world.step()
    return world


def test_suspended_measures_return_when_the_deal_ends():
    world = game()
    result = world.desk.apply_now(
        {
            "kind": "propose_deal",
            "issuer": "CN",
            "recipients": ["US"],
            "commitments": TRUCE,
            "duration_months": 6,
        },
        seat="CN",
    )
    assert result.status == "applied", result.message
    deal = list(deals_of(world).deals.values())[-1]
    text = deal.summary()
    for words in (
        "China offers to suspend",
        "export licences",
        "magnets",
        "Dy/Tb oxide",
        "6 months",
        "cuts its tariff on magnets from China to 10%",
    ):
        assert words in text, (words, text)
    accepted = world.submit(
        {"kind": "respond_deal", "issuer": "US", "deal_id": deal.id, "action": "accept"}, seat="US"
    )
    assert accepted.status == "pending", accepted.message
    world.step()  # month 1 is not a turn boundary: the answer waits
    while deal.status == "proposed":
        world.step()
    assert deal.status == "active"
    assert not licences_on_us(world), "the suspended licences are out of force during the deal"
    while world.month < deal.end:
        world.step()
        assert not licences_on_us(world)
    world.step()  # the deal's last month runs out: the licences are back
    assert deal.status == "expired"
    back = licences_on_us(world)
    assert back and sorted(back[0].commodities) == ["magnet", "oxide_heavy"]
    assert back[0].approval_share == 0.5


def test_breach_restores_the_other_partys_suspension():
    world = game()
    world.desk.apply_now(
        {
            "kind": "propose_deal",
            "issuer": "CN",
            "recipients": ["US"],
            "commitments": TRUCE,
            "duration_months": 12,
        },
        seat="CN",
    )
    deal = list(deals_of(world).deals.values())[-1]
    world.desk.apply_now(
        {"kind": "respond_deal", "issuer": "US", "deal_id": deal.id, "action": "accept"},
        seat="US",
    )
    world.step()
    assert deal.status == "active" and not licences_on_us(world)
    raised = world.desk.apply_now({**TARIFF, "breach": True}, seat="US")
    assert raised.status == "applied", raised.message
    assert deal.status == "breached"
    assert licences_on_us(world), "the US broke the deal: China's licences are back"


def test_an_ai_refusal_gives_its_reason_in_words():
    world = game(human=("US",))
    deals_of(world).evaluation = "heuristic"
    world.desk.apply_now(
        {
            "kind": "propose_deal",
            "issuer": "US",
            "recipients": ["CN"],
            # China lifts everything, the US gives nothing: China refuses
            "commitments": [TRUCE[0]],
            "duration_months": 12,
        },
        seat="US",
    )
    deal = list(deals_of(world).deals.values())[-1]
    for _ in range(4):
        world.step()
    assert deal.status == "rejected"
    reason = deal.decisions["CN"]["reason"]
    assert "x trust" not in reason and "<=" not in reason
    assert reason.startswith("China refuses")
    assert "expects to lose" in reason and "points a month" in reason
    assert "trusts the United States" in reason
    answers = world.orders()
    logged = answers[answers["kind"] == "respond_deal"].iloc[-1]["parameters"]
    assert json.loads(logged)["note"] == reason


def test_ai_china_proposes_and_the_human_accepts():
    spec = load_scenario(SCENARIO)
    cn = spec.seats["CN"]
    seats = {**spec.seats, "CN": cn.model_copy(update={"params": {"diplomacy": {"propose": True}}})}
    world = World(spec.model_copy(update={"seats": seats}), seed=0, human_seats=frozenset({"US"}))
    assert world.submit(TARIFF, seat="US").status == "pending"
    proposal = None
    for _ in range(12):  # China answers the tariff with licences, then offers a way out
        world.step()
        offers = [d for d in deals_of(world).deals.values() if d.recipients == ["US"]]
        if offers:
            proposal = offers[0]
            break
    assert proposal is not None, "China proposes nothing to the US within a year"
    text = proposal.summary()
    for words in (
        "China offers to",
        "export licences",
        "magnets",
        "12 months",
        "United States",
        "cuts its tariff on magnets from China to 10%",
    ):
        assert words in text, (words, text)
    suspended = licences_on_us(world)
    assert suspended and all(s.approval_share == 0.5 for s in suspended)
    accept = {"kind": "respond_deal", "issuer": "US", "deal_id": proposal.id, "action": "accept"}
    assert world.submit(accept, seat="US").status == "pending"
    while proposal.status == "proposed":
        world.step()
    assert proposal.status == "active"
    us, cn_ = world.region_index["US"], world.region_index["CN"]
    magnet = world.commodity_index["magnet"]
    assert abs(world.policies.tariff_rates[magnet, cn_, us] - 0.10) < 1e-9
    during = licences_on_us(world)
    assert all(s.id not in [x.id for x in suspended] for s in during)
    assert all(s.approval_share == 1.0 for s in during), "only the general licence is in force"
    refused = [s.end_use.get("defense", s.approval_share) for s in suspended]
    assert min(refused) == 0.0, "coercive-retaliator's licences refuse defence users"
    assert all(s.end_use.get("defense") == 0.0 for s in during), "eased for civilians only"
    defence_tier = world.policies.approval[magnet, 0, cn_, us]
    assert defence_tier == 0.0 and world.policies.approval[magnet, 1, cn_, us] == 1.0
    while world.month <= proposal.end:
        world.step()
    assert proposal.status == "expired"
    back = licences_on_us(world)
    assert back and all(s.approval_share == 0.5 for s in back), "the licences are restored"

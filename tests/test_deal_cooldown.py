"""The proposal cooldown grows after refusals in a row and starts again after a deal
(agents/doctrines/bargaining.py ``Cooldown``), in a game of ``alliance-vs-tariffs-2025`` where
China's AI proposes and the US seat is human."""

from __future__ import annotations

from itertools import pairwise

import pytest
from test_deal_proposals import SCENARIO, TARIFF

from agents.doctrines.bargaining import Cooldown
from world import World, load_scenario
from world.deals import deals_of

#: Every ally human, so China's proposals to the US are the only ones the AI weighs.
HUMANS = frozenset({"US", "JP", "EU", "AU"})


def game(diplomacy: dict | None = None) -> World:
    """China's AI proposing (with these ``params.diplomacy`` on top), the US seat human with
    its magnet tariff submitted: China answers with licences and offers to suspend them."""
    spec = load_scenario(SCENARIO)
    params = {"diplomacy": {"propose": True, **(diplomacy or {})}}
    seats = {**spec.seats, "CN": spec.seats["CN"].model_copy(update={"params": params})}
    world = World(spec.model_copy(update={"seats": seats}), seed=0, human_seats=HUMANS)
    assert world.submit(TARIFF, seat="US").status == "pending"
    return world


def offers_to_us(world: World) -> list:
    """China's proposals to the US so far, in the order made."""
    return [
        d for d in deals_of(world).deals.values() if d.proposer == "CN" and d.recipients == ["US"]
    ]


def gaps(months: list[int]) -> list[int]:
    """Months between one proposal and the next."""
    return [b - a for a, b in pairwise(months)]


def test_the_wait_doubles_after_each_refusal_in_a_row_up_to_the_longest():
    world = game()
    world.run(months=100)
    offers = offers_to_us(world)
    assert [d.status for d in offers] == ["lapsed"] * len(offers), "the US never answers"
    # 6 months after the first refusal, then 12, then 24, and 24 at most.
    assert gaps([d.proposed for d in offers]) == [6, 12, 24, 24, 24]


def test_a_fixed_wait_is_a_seat_parameter():
    world = game({"deal_cooldown_growth": 1.0, "deal_cooldown_months": 9})
    world.run(months=48)
    assert set(gaps([d.proposed for d in offers_to_us(world)])) == {9}


def test_an_agreed_deal_starts_the_count_again():
    world = game()
    for _ in range(36):  # two refusals: the next wait would be 24 months
        if len(offers_to_us(world)) == 3:
            break
        world.step()
    third = offers_to_us(world)[-1]
    accept = {"kind": "respond_deal", "issuer": "US", "deal_id": third.id, "action": "accept"}
    assert world.submit(accept, seat="US").status == "pending"
    for _ in range(24):
        if third.status not in ("proposed", "active"):
            break
        world.step()
    assert third.status == "expired", third.status
    # The deal's tariff cut stays; the US raises its tariff again and China offers again.
    assert world.submit(TARIFF, seat="US").status == "pending"
    world.run(months=48)
    after = [d for d in offers_to_us(world) if d.proposed > third.proposed]
    assert len(after) >= 4 and [d.status for d in after[:3]] == ["lapsed"] * 3
    # The first refusal after the deal waits 6 months again, the second 12, the third 24.
    assert gaps([d.proposed for d in after])[:3] == [6, 12, 24]


def test_cooldown_months_grow_and_stop_at_the_longest():
    cooldown = Cooldown.of({"deal_cooldown_months": 3, "deal_cooldown_growth": 3})
    assert [cooldown.months(n) for n in range(5)] == [0, 3, 9, 24, 24]


@pytest.mark.parametrize(
    ("diplomacy", "field"),
    [
        ({"deal_cooldown_growth": 0.5}, "params.diplomacy.deal_cooldown_growth"),
        ({"deal_cooldown_months": "six"}, "params.diplomacy.deal_cooldown_months"),
        ({"deal_cooldown_max_months": 3}, "params.diplomacy.deal_cooldown_max_months"),
    ],
)
def test_a_bad_cooldown_is_refused_when_the_seat_is_built(diplomacy, field):
    with pytest.raises(ValueError, match=field) as caught:
        game(diplomacy)
    assert "allowed" in str(caught.value) and "for CN" in str(caught.value)

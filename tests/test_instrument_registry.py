"""The instruments' registry (world/instruments/): one instrument per order kind, each naming
methods that exist, its words agreeing with what the log says when it applies, and the kind
lists derived from the instruments' attributes."""

from __future__ import annotations

from typing import get_args

import pytest
from test_orders import SAMPLES

from agents.states import State
from world import World, load_scenario
from world.deals import Diplomacy
from world.instruments import (
    LIFTABLE,
    REGISTRY,
    RESTRICTIVE,
    TRADE_KINDS,
    VOLUME_KINDS,
    instrument,
)
from world.orders import ORDER_KINDS, Lift, OrderRejected, parse_order
from world.policy import PolicyBook

OWNERS = {"World": World, "State": State, "PolicyBook": PolicyBook, "Diplomacy": Diplomacy}


def test_every_order_kind_has_one_instrument():
    assert list(REGISTRY) == [i.kind for i in REGISTRY.values()]
    assert set(REGISTRY) == set(ORDER_KINDS)


def test_an_unknown_kind_is_refused_by_name():
    with pytest.raises(OrderRejected, match="kind: 'embargo' is not supported"):
        instrument("embargo")


@pytest.mark.parametrize("kind", list(REGISTRY))
def test_where_an_instrument_binds_names_methods_that_exist(kind):
    for name in filter(None, (n.strip() for n in REGISTRY[kind].binds.split(","))):
        owner, method = name.split(".")
        assert callable(getattr(OWNERS[owner], method)), name


def test_a_lift_names_exactly_the_liftable_instruments():
    measure = Lift.model_fields["measure"].annotation
    assert set(get_args(get_args(measure)[0])) == set(LIFTABLE)
    assert all(REGISTRY[k].liftable for k in TRADE_KINDS)
    assert "lift" not in LIFTABLE and "invest" not in LIFTABLE


def test_the_kind_lists_follow_the_instruments_attributes():
    assert set(RESTRICTIVE) <= set(VOLUME_KINDS) <= set(TRADE_KINDS)
    assert all(REGISTRY[k].direction == "export" for k in RESTRICTIVE)
    assert [k for k in VOLUME_KINDS if k not in RESTRICTIVE] == ["import_ban"]
    assert all(REGISTRY[k].direction is None for k in REGISTRY if k not in TRADE_KINDS)


@pytest.mark.parametrize("kind", [k for k, i in REGISTRY.items() if i.words is not None])
def test_an_instrument_reads_in_words_as_the_log_says_when_it_applies(kind):
    world = World(load_scenario("baseline-2024"), seed=1)
    order = parse_order({"kind": kind, **SAMPLES[kind]})
    if kind == "stockpile_release":  # something to release
        world.states_by_region[order.issuer].receive(order.commodity, order.tonnes, 0.0, 0.0)
    if kind == "licence_terms":  # a licence to change
        licence = world.desk.apply_now({"kind": "export_licence", **SAMPLES["export_licence"]})
        assert licence.status == "applied", licence.message
    expected = REGISTRY[kind].words(world, order)
    result = world.desk.apply_now(order)
    assert result.status == "applied", result.message
    assert result.message.startswith(expected)

"""The instruments' registry (world/instruments/): one instrument per order kind, each naming
methods that exist, its words agreeing with what the log says when it applies, and the kind
lists derived from the instruments' attributes."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest
from test_orders import SAMPLES

import world.instruments as instruments
from agents.states import State
from world import World, load_scenario
from world.deal_words import MEASURES
from world.deals import Diplomacy
from world.instruments import (
    LIFTABLE,
    MEASURE_NOUNS,
    OBSERVED,
    PRIVATE_ORDER_KINDS,
    REGISTRY,
    RESTRICTIVE,
    SCENARIO_ONLY_POLICY_KINDS,
    TRADE_KINDS,
    VOLUME_KINDS,
    instrument,
)
from world.orders import ORDER_KINDS, Lift, OrderRejected, parse_order
from world.policy import PolicyBook

ROOT = Path(__file__).resolve().parent.parent

OWNERS = {
    "World": World,
    "State": State,
    "PolicyBook": PolicyBook,
    "Diplomacy": Diplomacy,
    "programmes": instruments.programmes,
    "trade": instruments.trade,
}


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


#: Each derived kind list and the instruments it must hold, as a test of their attributes: a
#: registered kind that has the attributes but is missing from the list fails, and so does a
#: kind in the list that is not registered or lacks them.
DERIVED = {
    "TRADE_KINDS": lambda i: i.family == "trade" and i.direction is not None,
    "LIFTABLE": lambda i: i.liftable,
    "VOLUME_KINDS": lambda i: i.volume,
    "RESTRICTIVE": lambda i: i.volume and i.direction == "export",
    "WEDGE_KINDS": lambda i: i.direction is not None and not i.volume,
    "EXPORT_KINDS": lambda i: i.direction == "export",
    "IMPORT_KINDS": lambda i: i.direction == "import",
    "FIRM_ORDER_KINDS": lambda i: i.family == "firm",
    "PRIVATE_ORDER_KINDS": lambda i: i.private,
    "NEGOTIATION_KINDS": lambda i: i.family == "negotiation",
    "DIPLOMACY_KINDS": lambda i: i.family in ("alliance", "negotiation"),
    "RESTRICTIONS": lambda i: i.restriction,
    "BOOK_KINDS": lambda i: i.in_book,
    "SPENDING_KINDS": lambda i: i.spends,
    "STOCK_KINDS": lambda i: i.stock_tonnes,
    "NOT_COMMITTABLE": lambda i: not i.committable,
}


@pytest.mark.parametrize("name", list(DERIVED))
def test_a_derived_kind_list_holds_exactly_the_registered_kinds_it_describes(name):
    listed = getattr(instruments, name)
    assert len(set(listed)) == len(listed), f"{name} repeats a kind"
    assert set(listed) <= set(REGISTRY), f"{name} names unregistered kinds"
    assert set(listed) == {k for k, i in REGISTRY.items() if DERIVED[name](i)}, name
    # In registry order, so that code iterating over a list is as deterministic as the registry.
    assert list(listed) == [k for k in REGISTRY if k in listed], name


def test_every_kind_list_of_the_registry_is_checked():
    lists = {n for n in instruments.__all__ if isinstance(getattr(instruments, n), tuple)}
    assert lists - {"POLICY_KINDS", "SCENARIO_ONLY_POLICY_KINDS"} == set(DERIVED)


def test_the_scenario_policy_kinds_are_the_book_kinds_and_the_scenario_only_ones():
    assert instruments.POLICY_KINDS == instruments.BOOK_KINDS + SCENARIO_ONLY_POLICY_KINDS
    # A scenario-only measure that became an order must be dropped from the scenario-only list.
    assert not set(SCENARIO_ONLY_POLICY_KINDS) & set(REGISTRY)


def test_words_keyed_by_kind_come_from_the_registry():
    assert set(OBSERVED) == set(PRIVATE_ORDER_KINDS)
    assert all(OBSERVED[k] for k in PRIVATE_ORDER_KINDS)
    assert set(MEASURE_NOUNS) == set(TRADE_KINDS)
    assert MEASURES is MEASURE_NOUNS


#: Where a literal list of order kinds may stay: the instruments' own modules dispatch on their
#: kinds.
HAND_LISTS_ALLOWED = ("world/instruments/",)


def _kind_lists_in(rel: str, source: str) -> list[str]:
    """Tuples, lists and sets of two or more order kinds written out in a module, outside the
    places :data:`HAND_LISTS_ALLOWED` (a table keyed by kind, such as a kind's words, is data
    about each kind, not a list of them)."""
    known = set(REGISTRY) | set(SCENARIO_ONLY_POLICY_KINDS)
    tree = ast.parse(source)
    found = []
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
    allowed = set()
    for scope in scopes:
        where = rel if scope is tree else f"{rel}:{scope.name}"
        if where.startswith(HAND_LISTS_ALLOWED):
            allowed |= {id(n) for n in ast.walk(scope)}
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if not isinstance(node, ast.Tuple | ast.List | ast.Set):
            continue
        words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        if len(words) == len(node.elts) >= 2 and set(words) <= known:
            found.append(f"{rel}:{node.lineno}: {words}")
    return found


def test_no_module_lists_order_kinds_by_hand():
    found = []
    for package in ("world", "agents", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            found += _kind_lists_in(rel, path.read_text(encoding="utf-8"))
    assert found == []


def test_the_check_finds_a_list_of_kinds_written_by_hand():
    source = 'STOCK = ("stockpile_buy", "stockpile_release")\nx = k in ["stockpile_band", "lift"]\n'
    assert len(_kind_lists_in("world/order_preview.py", source)) == 2
    assert _kind_lists_in("world/instruments/trade.py", source) == []
    assert _kind_lists_in("world/x.py", 'ORDER = ("stockpile_buy", "month")\n') == []

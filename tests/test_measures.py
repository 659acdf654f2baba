"""The measure book (world/measures.py): what is in force for a seat, kind, commodity or
partner, what waits for a seat, and withdrawing a pending order."""

from __future__ import annotations

from test_orders import scenario

from world import World

TARIFF = {
    "kind": "import_tariff",
    "issuer": "US",
    "commodities": ["magnet"],
    "partners": ["CN"],
    "rate": 0.5,
}
DUTY = {"kind": "export_duty", "issuer": "CN", "commodities": ["concentrate"], "rate": 0.2}


def _world_with_pending() -> tuple[World, str, str]:
    world = World(scenario(), seed=3)
    world.run(1)
    us = world.submit(TARIFF, seat="US")
    cn = world.submit(DUTY, seat="CN")
    assert us.status == cn.status == "pending"
    return world, us.order_id, cn.order_id


def test_pending_orders_are_listed_for_their_seat_in_the_order_submitted():
    world, us, cn = _world_with_pending()
    book = world.measures
    assert [p.order_id for p in book.pending()] == [us, cn]
    assert [p.order_id for p in book.pending("US")] == [us]
    assert [p.order.kind for p in book.pending("CN")] == ["export_duty"]
    assert book.pending("JP") == []


def test_cancelling_withdraws_one_order_and_only_a_pending_one():
    world, us, cn = _world_with_pending()
    assert world.measures.cancel(us) is True
    assert world.measures.cancel(us) is False, "no longer pending"
    assert [p.order_id for p in world.measures.pending()] == [cn]
    world.run(world.spec.turn_months)
    log = world.orders().set_index("order_id")
    assert us not in log.index, "a withdrawn order never applies"
    assert log.loc[cn, "status"] == "applied"


def test_cancelling_a_seats_orders_leaves_the_others():
    world, _us, cn = _world_with_pending()
    assert world.measures.cancel_all("US") == 1
    assert [p.order_id for p in world.measures.pending()] == [cn]
    assert world.measures.cancel_all() == 1
    assert world.measures.pending() == []


def test_in_force_filters_by_seat_kind_commodity_and_partner():
    world, us, _cn = _world_with_pending()
    world.run(world.spec.turn_months)
    book = world.measures
    tariff = f"US-import_tariff-{us}"
    assert tariff in [s.id for s in book.in_force("US", "import_tariff")]
    assert tariff in [s.id for s in book.in_force(commodity="magnet", partner="CN")]
    assert tariff not in [s.id for s in book.in_force(partner="JP")], "names CN only"
    assert tariff not in [s.id for s in book.in_force("US", commodity="concentrate")]
    assert tariff not in [s.id for s in book.in_force("CN")]
    assert all(s.kind == "export_duty" for s in book.in_force(kind="export_duty"))
    assert book.in_force(kind="export_duty", issuer="CN")


def test_trade_measures_and_programmes_come_in_one_shape_with_the_orders_field_names():
    world = World(scenario(), seed=3)
    world.run(1)
    floor = {"kind": "price_floor", "issuer": "US", "firm": "mp-separation",
             "commodity": "oxide_light", "floor_usd_per_kg": 80}  # fmt: skip
    for order in (TARIFF, floor):
        assert world.submit(order, seat="US").status == "pending"
    world.run(3)
    us = world.measures.measures("US")
    tariff = next(m for m in us if m.kind == "import_tariff" and "magnet" in m.commodities)
    prog = next(m for m in us if m.kind == "price_floor")
    assert not tariff.programme and prog.programme
    assert (tariff.issuer, tariff.commodities, tariff.partners) == ("US", ("magnet",), ("CN",))
    assert tariff.terms["rate"] == 0.5 and tariff.end is None
    assert 1 <= tariff.start <= 3 and tariff.record.id == tariff.id
    assert prog.commodities == ("oxide_light",) and prog.terms["floor_usd_per_kg"] == 80
    assert prog.terms["firm"] == "mp-separation" and prog.record.kind == "price_floor"
    # Every measure the book and the desk hold in force, and only those, once each.
    ids = [m.id for m in world.measures.measures()]
    assert sorted(ids) == sorted(
        [s.id for s in world.measures.in_force()] + [p.id for p in world.measures.programmes()]
    )
    assert [m.kind for m in world.measures.measures(kind="price_floor")] == ["price_floor"]
    # In words: the policy book's own line for a trade measure, the terms for a programme.
    assert tariff.in_words() == tariff.record.in_words()
    assert prog.in_words().startswith("US price floor firm mp-separation, commodity oxide_light")
    assert "floor usd per kg 80" in prog.in_words()

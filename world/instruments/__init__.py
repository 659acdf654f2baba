"""The instruments: for every order kind, how it is checked, applied, binds on the world each
month, is valued by an AI and reads in words.

One module per family: :mod:`~world.instruments.trade` (trade measures, technology bans,
defence priority), :mod:`~world.instruments.programmes` (subsidies, quotas, floors,
guarantees, research, stakes), :mod:`~world.instruments.stockpiles`,
:mod:`~world.instruments.firms` (firms' own orders), :mod:`~world.instruments.alliances`,
:mod:`~world.instruments.negotiation` (deals) and :mod:`~world.instruments.lift`. Adding an
instrument means its order class in world/orders.py and an :class:`Instrument` in one of these
modules; the order desk (world/order_desk.py) only takes orders in and hands them over.

The kind lists other modules use (:data:`TRADE_KINDS`, :data:`LIFTABLE`, ...) are derived here
from the instruments' attributes, never listed by hand.
"""

from __future__ import annotations

from world.instruments import alliances, firms, lift, negotiation, programmes, stockpiles, trade
from world.instruments.base import Instrument, OrderRejected

#: Every instrument, by order kind, in the order of the family modules.
REGISTRY: dict[str, Instrument] = {
    i.kind: i
    for module in (trade, programmes, stockpiles, firms, alliances, negotiation, lift)
    for i in module.INSTRUMENTS
}


def instrument(kind: str) -> Instrument:
    """The instrument of an order kind.

    Raises:
        OrderRejected: if no instrument handles the kind.
    """
    found = REGISTRY.get(kind)
    if found is None:
        raise OrderRejected(f"kind: '{kind}' is not supported")
    return found


def kinds(**attributes: object) -> tuple[str, ...]:
    """The kinds whose instruments have all these attribute values, in registry order."""
    return tuple(
        k for k, i in REGISTRY.items() if all(getattr(i, a) == v for a, v in attributes.items())
    )


#: Trade measures that go into the policy book: bans, quotas, licences, duties, tariffs.
TRADE_KINDS = tuple(k for k in kinds(family="trade") if REGISTRY[k].direction is not None)
#: Measures a ``lift`` order may end.
LIFTABLE = kinds(liftable=True)
#: Trade measures that limit tonnes rather than price them: bans, quotas, licences.
VOLUME_KINDS = kinds(volume=True)
#: A state's own restrictions of its exports by volume: what gives it leverage and what
#: buyers fear (export bans, quotas, licences).
RESTRICTIVE = kinds(volume=True, direction="export")
#: Firms' own orders: the issuer is a firm id.
FIRM_ORDER_KINDS = kinds(family="firm")
#: Orders whose terms are the issuer's secret (a state's strategic stockpile).
PRIVATE_ORDER_KINDS = kinds(private=True)
#: Orders that negotiate a deal: private to its parties until it is agreed.
NEGOTIATION_KINDS = kinds(family="negotiation")
#: Orders the diplomacy keeps (alliances and deals).
DIPLOMACY_KINDS = kinds(family="alliance") + NEGOTIATION_KINDS
#: Commitments whose lifting is never a breach: restrictions (lifting one only helps others).
RESTRICTIONS = kinds(restriction=True)
#: Trade measures that drive a price wedge rather than limit tonnes: duties and tariffs.
WEDGE_KINDS = tuple(k for k in TRADE_KINDS if not REGISTRY[k].volume)
#: Trade measures on a state's exports, and on its imports.
EXPORT_KINDS = kinds(direction="export")
IMPORT_KINDS = kinds(direction="import")
#: Orders whose measure goes into the policy book.
BOOK_KINDS = kinds(in_book=True)
#: Measures a scenario may only start with, never order: no order class or instrument has them
#: (a stockpile agency's price band is a standing rule of the scenario's, agents/states.py).
SCENARIO_ONLY_POLICY_KINDS = ("stockpile_band",)
#: The kinds of a scenario's ``[[policies]]``.
POLICY_KINDS = BOOK_KINDS + SCENARIO_ONLY_POLICY_KINDS
#: Orders that may spend public money.
SPENDING_KINDS = kinds(spends=True)
#: Orders whose tonnes go into or out of the issuer's strategic stockpile.
STOCK_KINDS = kinds(stock_tonnes=True)
#: Orders that may not be a deal's commitments.
NOT_COMMITTABLE = kinds(committable=False)
#: Trade measures as plural noun phrases ("its export licences on magnets").
MEASURE_NOUNS = {k: i.noun for k, i in REGISTRY.items() if i.noun}
#: What the other states learn of a private order (templates with ``{name}`` and ``{what}``).
OBSERVED = {k: REGISTRY[k].observed for k in PRIVATE_ORDER_KINDS}

__all__ = [
    "BOOK_KINDS",
    "DIPLOMACY_KINDS",
    "EXPORT_KINDS",
    "FIRM_ORDER_KINDS",
    "IMPORT_KINDS",
    "LIFTABLE",
    "MEASURE_NOUNS",
    "NEGOTIATION_KINDS",
    "NOT_COMMITTABLE",
    "OBSERVED",
    "POLICY_KINDS",
    "PRIVATE_ORDER_KINDS",
    "REGISTRY",
    "RESTRICTIONS",
    "RESTRICTIVE",
    "SCENARIO_ONLY_POLICY_KINDS",
    "SPENDING_KINDS",
    "STOCK_KINDS",
    "TRADE_KINDS",
    "VOLUME_KINDS",
    "WEDGE_KINDS",
    "Instrument",
    "OrderRejected",
    "instrument",
    "kinds",
]

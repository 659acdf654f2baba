"""What an instrument is: the record the registry (world/instruments/__init__.py) keeps per order
kind, and the error an instrument raises when it refuses an order.

This module imports nothing of the world, so that world/orders.py can derive its kind lists
(the measures a ``lift`` may name) from the registry without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import BaseModel

    from world.instruments.valuation import Valuation
    from world.order_desk import OrderDesk


class OrderRejected(ValueError):
    """An order the world will not apply; the message says why."""


#: The families of instruments, one module each under world/instruments/.
Family = Literal["trade", "programme", "stockpile", "firm", "alliance", "negotiation", "lift"]


@dataclass(frozen=True)
class Instrument:
    """One order kind: how it is checked, applied, binds on the world, valued and read.

    Attributes:
        kind: the order kind (``kind`` of its class in world/orders.py).
        family: the module it lives in (see :data:`Family`).
        apply: ``apply(desk, order) -> str``: checks the order against the world as it is
            (raising :class:`OrderRejected` before anything changes), puts it in force and
            returns the sentence the order log gives it. The desk's field checks (issuer,
            commodities, regions, stages) have passed already.
        binds: where the measure acts on the world each month: the ``World`` / agent methods
            that read it (``""`` for a one-off order). tests/test_instrument_registry.py checks
            that every name exists.
        value: ``value(valuation, spec, sign)``: how an AI weighs the order as a deal
            commitment (world/instruments/valuation.py); None: it does not count.
        words: ``words(world, order) -> str``: the order in a line of words, without applying
            it (the log sentence for orders whose effect does not depend on the world's state).
        direction: ``"export"`` or ``"import"`` for trade measures (a new measure contradicts a
            deal's commitment in the same direction), else None.
        volume: a trade measure that limits tonnes (ban, quota, licence), not a price wedge.
        liftable: a ``lift`` order may end it.
        private: its terms are the issuer's secret (others see what world/orders.py
            ``observed`` says).
        restriction: lifting it is never a breach of a deal (it only helps the others).
        in_book: it puts a measure (a ``PolicySpec``) in the policy book (world/policy.py), so a
            scenario may also start with it in force.
        spends: it may spend public money: the order form dry-runs it before sending it.
        stock_tonnes: its tonnes go into or out of the issuer's strategic stockpile (the dry run
            of world/order_preview.py reports the tonnes it delivered).
        committable: it may be one of a deal's commitments.
        noun: the measure as a plural noun phrase ("export licences", as in "its export
            licences on magnets"); ``""``: the kind's words with spaces.
        observed: for a private order, what the other states learn of it, a template with
            ``{name}`` (the issuer's name) and ``{what}`` (its products).
    """

    kind: str
    family: Family
    apply: Callable[[OrderDesk, BaseModel], str]
    binds: str = ""
    value: Callable[[Valuation, dict, float], None] | None = None
    words: Callable[[Any, BaseModel], str] | None = None
    direction: Literal["export", "import"] | None = None
    volume: bool = False
    liftable: bool = False
    private: bool = False
    restriction: bool = False
    in_book: bool = False
    spends: bool = False
    stock_tonnes: bool = False
    committable: bool = True
    noun: str = ""
    observed: str = ""

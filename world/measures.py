"""The measure book: public queries on the measures in force and the orders waiting to apply.

Trade measures stand in the policy book (world/policy.py, as :class:`PolicySpec`) and
programmes on the order desk (world/order_desk.py, as :class:`Programme`); orders a seat has
submitted wait on the desk until the next turn boundary. Doctrines, objectives and the UI ask
here instead of reading those lists, so what "in force" and "pending" mean is written once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pydantic import BaseModel

    from world.model import World
    from world.order_desk import Programme
    from world.scenario import PolicySpec


class PendingOrder(NamedTuple):
    """An order submitted and waiting for the turn boundary."""

    order: BaseModel
    #: The seat that submitted it ("" for the facilitator or a script, who act for anyone).
    seat: str
    #: Who sent it, for the log (``seat``, ``doctrine``, ``script``, ...).
    source: str
    order_id: str

    @property
    def by(self) -> str:
        """The seat the order plays for: its submitter's, else its issuer."""
        return self.seat or self.order.issuer


def covers(spec: PolicySpec, partner: str) -> bool:
    """Whether a trade measure applies to ``partner`` (empty partners: every other region)."""
    if partner == spec.issuer:
        return False
    return not spec.partners or partner in spec.partners


class MeasureBook:
    """What is in force in a world and what waits to apply (a view: it holds no state).

    Args:
        world: the world whose policy book and order desk it reads.
    """

    def __init__(self, world: World):
        self.world = world

    def in_force(
        self,
        issuer: str | None = None,
        kind: str | tuple[str, ...] | None = None,
        commodity: str | None = None,
        partner: str | None = None,
    ) -> list[PolicySpec]:
        """Trade measures in force this month, in the order they were put on the book.

        Read from the policy book by date, so a measure applied earlier this month (a scripted
        order, or another seat's order this turn) counts, and one lifted this month does not.

        Args:
            issuer: only this region's measures (None: everyone's).
            kind: only measures of this kind or kinds (None: every kind).
            commodity: only measures on this commodity (None: any).
            partner: only measures that apply to this region (:func:`covers`; None: any).
        """
        kinds = (kind,) if isinstance(kind, str) else kind
        return [
            spec
            for spec in self.world.policies.in_force(self.world.month)
            if (issuer is None or spec.issuer == issuer)
            and (kinds is None or spec.kind in kinds)
            and (commodity is None or commodity in spec.commodities)
            and (partner is None or covers(spec, partner))
        ]

    def programmes(self, issuer: str | None = None, kind: str | None = None) -> list[Programme]:
        """Programmes (subsidies, floors, stockpile purchases, technology bans...) running this
        month, of ``issuer`` and ``kind`` (None: any), in the order they started."""
        month = self.world.month
        return [
            p
            for p in self.world.desk.programmes
            if (issuer is None or p.issuer == issuer)
            and (kind is None or p.kind == kind)
            and p.active(month)
        ]

    def pending(self, seat: str | None = None) -> list[PendingOrder]:
        """Orders waiting for the turn boundary, in the order submitted: those played for
        ``seat`` (:attr:`PendingOrder.by`), or everyone's."""
        return [p for p in self.world.desk.pending if seat is None or p.by == seat]

    def cancel(self, order_id: str) -> bool:
        """Withdraw a pending order. Returns whether it was pending (else nothing changes)."""
        desk = self.world.desk
        kept = [p for p in desk.pending if p.order_id != order_id]
        withdrawn = len(kept) < len(desk.pending)
        desk.pending[:] = kept
        return withdrawn

    def cancel_all(self, seat: str | None = None) -> int:
        """Withdraw every pending order played for ``seat`` (None: everyone's). Returns how
        many were withdrawn."""
        desk = self.world.desk
        kept = [p for p in desk.pending if seat is not None and p.by != seat]
        withdrawn = len(desk.pending) - len(kept)
        desk.pending[:] = kept
        return withdrawn

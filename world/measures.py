"""The measure book: public queries on the measures in force and the orders waiting to apply.

Trade measures stand in the policy book (world/policy.py, as :class:`PolicySpec`) and
programmes on the order desk (world/order_desk.py, as :class:`Programme`); orders a seat has
submitted wait on the desk until the next turn boundary. Doctrines, objectives and the UI ask
here instead of reading those lists, so what "in force" and "pending" mean is written once.
:meth:`MeasureBook.measures` gives both kinds in one typed shape, :class:`Measure`, whose
``terms`` use the names of the order's own fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

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


#: A trade measure's fields that are not its terms (they are a :class:`Measure`'s own).
_SPEC_FRAME = {"id", "kind", "issuer", "commodities", "partners", "start", "end", "source", "note"}


@dataclass(frozen=True)
class Measure:
    """A measure in force, a trade measure or a programme alike.

    Attributes:
        id: the policy's or programme's id.
        kind: its order kind (``import_tariff``, ``price_floor``, ...).
        issuer: the state (or, for a firm's own contract, the firm) that put it in force.
        start: the month it came into force (0 = the scenario's start).
        end: the month it ends (exclusive), or None while it has no end.
        commodities: what it acts on (empty where it acts on stages or a firm).
        partners: the regions it applies to (empty: every other region, or none).
        terms: its settings by the order's field names (rate, quota_t, floor_usd_per_kg, ...).
        record: the policy book's :class:`PolicySpec` or the desk's :class:`Programme` it is.
    """

    id: str
    kind: str
    issuer: str
    start: int
    end: int | None
    commodities: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    terms: Mapping[str, Any] = field(default_factory=dict)
    record: Any = field(default=None, repr=False, compare=False)

    @property
    def programme(self) -> bool:
        """Whether it runs on the order desk (a subsidy, floor, purchase...), not the policy
        book (a trade measure)."""
        return not hasattr(self.record, "model_dump")

    def in_words(self) -> str:
        """The measure in a line of words: the policy book's own for trade measures, its
        issuer, kind and terms for a programme."""
        if not self.programme:
            return self.record.in_words()
        return f"{self.issuer} {self.kind.replace('_', ' ')} {terms_in_words(self.terms)}"


def terms_in_words(terms: Mapping[str, Any]) -> str:
    """Settings in words: ``commodity magnet, t per month 41.7`` (blanks left out)."""
    return ", ".join(
        f"{k.replace('_', ' ')} {plain(v)}"
        for k, v in terms.items()
        if v not in ("", [], {}, None, False)
    )


def plain(value: object) -> str:
    """A setting as a person writes it: lists joined, big numbers with thousands separators,
    small ones to four significant figures."""
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {plain(v)}" for k, v in value.items())
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


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

    def measures(self, issuer: str | None = None, kind: str | None = None) -> list[Measure]:
        """Every measure in force this month, of ``issuer`` and ``kind`` (None: any), in one
        shape: the trade measures (:meth:`in_force`), then the programmes (:meth:`programmes`),
        each in the order it came into force."""
        world = self.world
        out = []
        for spec in self.in_force(issuer, kind):
            dumped = spec.model_dump(exclude_defaults=True)
            out.append(
                Measure(
                    id=spec.id,
                    kind=spec.kind,
                    issuer=spec.issuer,
                    start=world.month_of(spec.start),
                    end=world.month_of(spec.end) if spec.end else None,
                    commodities=tuple(spec.commodities),
                    partners=tuple(spec.partners),
                    terms={k: v for k, v in dumped.items() if k not in _SPEC_FRAME},
                    record=spec,
                )
            )
        for prog in self.programmes(issuer, kind):
            params = prog.params
            commodities = params.get("commodities") or (
                [params["commodity"]] if params.get("commodity") else []
            )
            out.append(
                Measure(
                    id=prog.id,
                    kind=prog.kind,
                    issuer=prog.issuer,
                    start=prog.start,
                    end=prog.end,
                    commodities=tuple(commodities),
                    partners=tuple(params.get("partners") or ()),
                    terms=dict(params),
                    record=prog,
                )
            )
        return out

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

"""The doctrine interface, the passive doctrine, and what a doctrine may observe.

A doctrine reads only what its state could observe: prices and flows (``world.prices``,
``world.flows``, ``world.recorder`` arrays), the policies in force (:func:`in_force`) and the
programmes running (:func:`programmes`), the order log (``world.orders()``), its own region's
firms, and the month. It returns orders as dicts (world/orders.py gives their fields); the world
validates and applies them. Doctrines are deterministic: they keep their memory on the doctrine
object and iterate in fixed orders (never over a set); randomness, if any, comes from
``world.rng``.

Parameters come from the scenario's ``[seats]`` table. Each doctrine declares its parameters
with their defaults in ``defaults``; an unknown parameter is an error (a typo in a scenario
should not pass silently), except :data:`COMMON_PARAMS`, which any seat may carry.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from world.instruments import RESTRICTIVE as RESTRICTIVE
from world.instruments import WEDGE_KINDS
from world.measures import covers as covers

if TYPE_CHECKING:
    from world.model import World
    from world.order_desk import Programme
    from world.scenario import PolicySpec

#: Seat parameters any doctrine accepts, read elsewhere: ``adversaries`` by world/objectives.py,
#: ``diplomacy`` (trust, deal thresholds) by world/deals.py.
COMMON_PARAMS = ("adversaries", "diplomacy")


class Doctrine(ABC):
    """A state's AI: at each turn boundary it reads the world and returns orders.

    Args:
        region: the state it plays (region id).
        params: the doctrine's parameters from the scenario's ``[seats]`` table; missing ones
            take the class's ``defaults``.

    Attributes:
        name: the registered name.
        defaults: every parameter the doctrine reads, with its default.
        params: the defaults overridden by the seat's parameters.

    Raises:
        ValueError: if ``params`` names a parameter the doctrine does not have, or its
            ``diplomacy`` proposal cooldown is out of range (agents/doctrines/bargaining.py).
    """

    name = "doctrine"
    defaults: ClassVar[dict[str, Any]] = {}
    #: Reject unknown parameters (the passive doctrine accepts anything).
    strict = True

    def __init__(self, region: str, params: dict[str, Any]):
        self.region = region
        if self.strict:
            unknown = sorted(set(params) - set(self.defaults) - set(COMMON_PARAMS))
            if unknown:
                allowed = ", ".join(sorted(self.defaults)) or "none"
                raise ValueError(
                    f"doctrine '{self.name}' for {region}: unknown parameter(s) "
                    f"{', '.join(unknown)}; allowed: {allowed}"
                )
        self.params = {**copy.deepcopy(self.defaults), **dict(params)}
        diplomacy = self.params.get("diplomacy")
        if isinstance(diplomacy, dict):
            from agents.doctrines.bargaining import Cooldown

            try:  # a bad proposal cooldown fails when the seat is built, not years into a run
                Cooldown.of(diplomacy)
            except ValueError as exc:
                raise ValueError(f"doctrine '{self.name}' for {region}: {exc}") from None

    def begin(self, world: World) -> None:  # noqa: B027 (an optional hook: most need nothing)
        """Called once when the world is built, with the scenario's own policies in force and
        before any seat's order: what a doctrine takes as the status quo. A doctrine handed a
        seat during play starts from the world as it finds it instead."""

    @abstractmethod
    def decide(self, world: World) -> list[BaseModel | dict]:
        """Orders for this turn (models or dicts); the world validates and applies them."""

    #: Whether the doctrine proposes deals (agents/doctrines/bargaining.py) unless its seat's
    #: ``params.diplomacy.propose`` says otherwise.
    proposes = False

    def proposals(self, world: World) -> list[dict]:
        """Deals it proposes this turn (``propose_deal`` orders), if it proposes."""
        from agents.doctrines.bargaining import proposals

        wanted = (self.params.get("diplomacy") or {}).get("propose", self.proposes)
        return proposals(self, world) if wanted else []

    def asked_tariff(self, world: World, partner: str) -> float:
        """The tariff rate it asks a partner to cut to in a deal (and cuts its own to):
        the seat's ``params.diplomacy.deal_tariff``, else the bargaining default."""
        from agents.doctrines.bargaining import ASKED_TARIFF

        return float((self.params.get("diplomacy") or {}).get("deal_tariff", ASKED_TARIFF))

    def order(self, kind: str, **fields: Any) -> dict:
        """An order of ``kind`` issued by this state, noted with the doctrine's name."""
        fields.setdefault("note", self.name)
        return {"kind": kind, "issuer": self.region, **fields}

    def others(self, world: World) -> list[str]:
        """The other states, in the scenario's order."""
        return [s.region for s in world.states if s.region != self.region]


class Passive(Doctrine):
    """Issues no orders: the state keeps only the policies its scenario scripts."""

    name = "passive"
    strict = False

    def decide(self, world: World) -> list[BaseModel | dict]:
        return []


# --------------------------------------------------------------------------- observations


def in_force(
    world: World,
    issuer: str | None = None,
    kind: str | tuple[str, ...] | None = None,
    commodity: str | None = None,
) -> list[PolicySpec]:
    """Policies in force this month (:meth:`world.measures.MeasureBook.in_force`)."""
    return world.measures.in_force(issuer, kind, commodity)


def tariff_rate(
    world: World, importer: str, origin: str, commodity: str, discriminatory: bool = False
) -> float:
    """The importer's total ad valorem tariff on ``commodity`` from ``origin`` in force.

    ``discriminatory``: count only tariffs that name the origin (not those on every origin,
    such as most-favoured-nation duties).
    """
    return sum(
        spec.rate or 0.0
        for spec in world.measures.in_force(importer, "import_tariff", commodity, origin)
        if not discriminatory or origin in spec.partners
    )


def import_banned(world: World, importer: str, origin: str, commodity: str) -> bool:
    """Whether the importer bans imports of ``commodity`` from ``origin``."""
    return bool(world.measures.in_force(importer, "import_ban", commodity, origin))


def export_duty(world: World, exporter: str, partner: str, commodity: str) -> float:
    """The exporter's total export duty on ``commodity`` to ``partner`` in force."""
    return sum(
        spec.rate or 0.0
        for spec in world.measures.in_force(exporter, "export_duty", commodity, partner)
    )


def programmes(world: World, issuer: str, kind: str) -> list[Programme]:
    """Programmes of the issuer running this month
    (:meth:`world.measures.MeasureBook.programmes`)."""
    return world.measures.programmes(issuer, kind)


def capex_share(world: World, issuer: str, stage: str) -> float:
    """The share of new plants' capex at ``stage`` the issuer pays now."""
    return sum(
        p.params.get("share", 0.0)
        for p in programmes(world, issuer, "capex_subsidy")
        if stage in p.params.get("stages", [])
    )


def production_subsidy(world: World, issuer: str, stage: str) -> float:
    """USD/kg the issuer pays its producers at ``stage`` now."""
    return sum(
        p.params.get("usd_per_kg", 0.0)
        for p in programmes(world, issuer, "production_subsidy")
        if stage in p.params.get("stages", [])
    )


def floor_for(world: World, issuer: str, firm: str, commodity: str) -> float | None:
    """The price floor (USD/kg) the issuer guarantees a firm for a product, if any."""
    floors = [
        p.params["floor_usd_per_kg"]
        for p in programmes(world, issuer, "price_floor")
        if p.params.get("firm") == firm and p.params.get("commodity") == commodity
    ]
    return max(floors) if floors else None


def stockpile_cover(world: World, issuer: str, commodity: str) -> float | None:
    """The months of cover the issuer's stockpile targets for ``commodity``, if any."""
    covers_ = [
        spec.months_of_cover or 0.0
        for spec in in_force(world, issuer, "stockpile_target", commodity)
    ]
    return max(covers_) if covers_ else None


def liftable(world: World, spec: PolicySpec) -> bool:
    """Whether a lift of ``spec`` would be accepted now: the order desk lifts only measures the
    policy book has brought into force, which it does after the turn's orders (so a measure
    put on earlier this month can be lifted from next month)."""
    return any(s.id == spec.id for s in world.policies.active)


def lift(spec: PolicySpec, note: str = "") -> dict:
    """An order lifting one measure in force by its id."""
    return {"kind": "lift", "issuer": spec.issuer, "policy_id": spec.id, "note": note}


def reissue(world: World, spec: PolicySpec, partners: list[str], note: str = "") -> dict:
    """An order putting a trade measure back on for other partners, with its remaining term."""
    order: dict[str, Any] = {
        "kind": spec.kind,
        "issuer": spec.issuer,
        "commodities": list(spec.commodities),
        "partners": list(partners),
        "note": note or spec.note,
    }
    if spec.end is not None:
        order["duration_months"] = max(world.month_of(spec.end) - world.month, 1)
    if spec.kind == "export_quota":
        order.update(quota_t=spec.quota_t or 0.0, period_months=spec.period_months)
    elif spec.kind == "export_licence":
        order.update(
            review_months=max(spec.review_months, 1),
            approval_share=spec.approval_share,
            covered_share=spec.covered_share,
        )
    elif spec.kind in WEDGE_KINDS:
        order.update(rate=spec.rate or 0.0)
    return order


def own_firms(world: World, region: str, stage: str | None = None, makes: str | None = None):
    """The region's firms (not exited), optionally at one stage or making one commodity."""
    return [
        f
        for f in world.firms
        if f.region == region
        and f.status != "exited"
        and (stage is None or f.stage == stage)
        and (makes is None or makes in f.output_commodities())
    ]


def stockpile_orders(doctrine: Doctrine, world: World, wanted: dict[str, float]) -> list[dict]:
    """Orders that bring the state's stockpile targets to ``wanted`` months of cover.

    Targets already at the wanted level are left alone. A target at another level is lifted;
    if it also covered products not in ``wanted``, those are set again at their old level.
    """
    region = doctrine.region
    wanted = {c: float(m) for c, m in wanted.items() if c in world.commodity_index}
    specs = in_force(world, region, "stockpile_target")
    wrong = [
        s
        for s in specs
        if any(
            c in wanted and abs((s.months_of_cover or 0.0) - wanted[c]) > 1e-9
            for c in s.commodities
        )
    ]
    if not all(liftable(world, s) for s in wrong):
        return []  # put on earlier this month: adjust next turn
    orders: list[dict] = []
    kept: dict[str, float] = {}
    for s in specs:
        if s in wrong:
            continue
        for c in s.commodities:
            kept[c] = max(kept.get(c, 0.0), s.months_of_cover or 0.0)
    for s in wrong:
        orders.append({"kind": "lift", "issuer": region, "policy_id": s.id, "note": doctrine.name})
        others = [c for c in s.commodities if c not in wanted and c not in kept]
        if others:
            orders.append(
                doctrine.order(
                    "stockpile_target",
                    commodities=others,
                    months_of_cover=s.months_of_cover or 0.0,
                    note=s.note,
                )
            )
            kept.update(dict.fromkeys(others, s.months_of_cover or 0.0))
    for c, months in wanted.items():
        if months > 0 and abs(kept.get(c, -1.0) - months) > 1e-9:
            orders.append(
                doctrine.order("stockpile_target", commodities=[c], months_of_cover=months)
            )
    return orders


def capex_orders(doctrine: Doctrine, world: World, share: float, stages: list[str]) -> list[dict]:
    """Orders that bring the state's capex subsidy at each of ``stages`` up to ``share``
    (one order per distinct top-up; nothing where the share is already paid)."""
    gaps: dict[float, list[str]] = {}
    for stage in stages:
        if stage not in world.spec.stages:
            continue
        gap = round(share - capex_share(world, doctrine.region, stage), 6)
        if gap > 1e-6:
            gaps.setdefault(gap, []).append(stage)
    return [
        doctrine.order("capex_subsidy", stages=group, share=min(gap, 1.0))
        for gap, group in gaps.items()
    ]


def floor_orders(
    doctrine: Doctrine,
    world: World,
    firms: list,
    commodity: str,
    floor_usd_per_kg: float,
    months: int | None,
) -> list[dict]:
    """Price-floor orders for the state's ``firms`` that make ``commodity``, where no floor as
    high is already guaranteed."""
    orders = []
    for firm in firms:
        if commodity not in firm.output_commodities():
            continue
        now = floor_for(world, doctrine.region, firm.firm_id, commodity)
        if now is not None and now >= floor_usd_per_kg - 1e-9:
            continue
        orders.append(
            doctrine.order(
                "price_floor",
                firm=firm.firm_id,
                commodity=commodity,
                floor_usd_per_kg=round(float(floor_usd_per_kg), 6),
                duration_months=months,
            )
        )
    return orders

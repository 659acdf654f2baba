"""Alliances: the ``alliance`` order (form, invite, join, leave; kept by the world's diplomacy,
world/deals.py) and every monthly effect of an alliance's terms on the world, in one place.

- **Tariff terms** go into the policy book as a :class:`~world.policy.TariffUnion`
  (:func:`sync_alliances`).
- **Pooled offtake** has two sides. Members' buyers take members' supply first
  (:func:`offtake_preference`, multiplied into ``World.supplier_preference``), and they pay
  for it: on every tonne a member's buyer takes from a member's producer in the market (at
  home or across a border, never from China) the buyer pays the premium
  (``pooled_offtake_premium`` x its regional price, :func:`settle_premium`, called by
  ``World._settle``) and the producer receives it. The premium is a cost of inputs for the
  buyers (:func:`input_premium`, in ``Firm.unit_costs``, hence in downstream prices) and
  revenue for the producers (:func:`output_premium`, in their margins, hence in their
  planning and investment). Captive supply (integrated chains, offtake contracts) carries its
  own price and pays none.
- **The fund** pays ``fund_capex_share`` of the capex of members' new plants at
  ``fund_stages`` (or of the named ``fund_projects``) until ``fund_usd`` is spent in the
  calendar year (:func:`fund_share` for the firm's decision, :func:`pay_fund` when it builds).
  Each payment is charged to the members' fiscal accounts, split by ``fund_contributions``
  or, without them, pro rata to the members' final magnet demand.
- **Shared release** puts part of members' strategic stocks on the market, one month at a
  time, for a member whose buyers go short (:func:`shared_release`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from world.instruments.base import Instrument

if TYPE_CHECKING:
    from pydantic import BaseModel

    from agents.firms import Firm
    from world.alliances import AllianceState
    from world.model import World
    from world.order_desk import OrderDesk

#: A member whose buyers' shortage (share of use, smoothed) exceeds this gets shared releases.
SHORT_THRESHOLD = 0.02
#: Most of its strategic stock a member releases for others in one month.
RELEASE_SHARE = 0.25


def apply_alliance(desk: OrderDesk, order: BaseModel) -> str:
    """Form, invite to, join or leave an alliance."""
    return desk.diplomacy.alliance(order)


def _alliances(world: World) -> list[AllianceState]:
    """The live alliances (formed, with members left): the ones whose terms bind."""
    desk = getattr(world, "desk", None)
    diplomacy = getattr(desk, "diplomacy", None) if desk is not None else None
    if diplomacy is None:
        return []
    return [a for a in diplomacy.alliances.values() if a.live]


def sync_alliances(world: World) -> None:
    """Bring the policy book's tariff unions in line with the live alliances."""
    from world.policy import TariffUnion

    world.policies.set_unions(
        [
            TariffUnion(
                name=a.name,
                members=tuple(a.members),
                internal_tariff=a.terms["internal_tariff"],
                external=tuple(sorted(a.terms["common_external_tariff"].items())),
            )
            for a in _alliances(world)
        ]
    )


def start_of_month(world: World, month: int) -> None:
    """The alliances' effects that start a month: shared releases."""
    shared_release(world, month)


# --------------------------------------------------------------------------- pooled offtake


def _pooled(world: World, ci: int) -> list[tuple[AllianceState, np.ndarray]]:
    """Alliances pooling offtake of commodity index ``ci``, each with its members (R,) mask."""
    commodity = world.commodity_ids[ci]
    out = []
    for a in _alliances(world):
        if len(a.members) < 2 or a.terms["pooled_offtake_premium"] <= 0:
            continue
        if commodity not in a.terms["offtake_commodities"]:
            continue
        inside = np.zeros(len(world.region_ids), dtype=bool)
        for r in a.members:
            inside[world.region_index[r]] = True
        out.append((a, inside))
    return out


def offtake_preference(world: World, ci: int) -> np.ndarray:
    """Pooled offtake: how readily buyers in each destination take each origin's supply of
    commodity index ``ci`` (R origins, R destinations), 0-1, to multiply into
    ``World.supplier_preference(ci)``.

    For every live alliance of two or more members with a ``pooled_offtake_premium`` p on this
    commodity, a member's buyers discount non-members' supply by 1 / (1 + p): members' plants
    are served first unless a non-member's netback beats theirs by more than the premium. Ones
    elsewhere.
    """
    n = len(world.region_ids)
    pref = np.ones((n, n))
    for a, inside in _pooled(world, ci):
        premium = a.terms["pooled_offtake_premium"]
        pref = np.where(np.outer(~inside, inside), np.minimum(pref, 1.0 / (1.0 + premium)), pref)
    return pref


def premium_rates(world: World, ci: int) -> np.ndarray | None:
    """The pooled-offtake premium on each arc (R origins, R destinations) for commodity index
    ``ci``, as a share of the destination's price: the largest premium of the alliances that
    hold both ends, on arcs from a member other than the tracked origin (China) to a member.
    None when no alliance pays a premium on this commodity."""
    pooled = _pooled(world, ci)
    if not pooled:
        return None
    n = len(world.region_ids)
    rates = np.zeros((n, n))
    for a, inside in pooled:
        rates = np.where(
            np.outer(inside, inside), np.maximum(rates, a.terms["pooled_offtake_premium"]), rates
        )
    china = world.region_index.get(world.tracked_origin)
    if china is not None:
        rates[china, :] = 0.0
    return rates


@dataclass
class PremiumBook:
    """The premium money of pooled offtake: rates last settled, and what moved each month.

    Attributes:
        buyer_rate: (C, R) premium each region's buyers paid per USD of their market purchases
            at the regional price, last settlement (the share of their supply from members,
            times the premium).
        seller_rate: (C, R) premium each region's sellers received per USD of their market
            revenue, last settlement.
        paid: month -> (C, R) USD of premium paid by buyers in each region.
        received: month -> (C, R) USD of premium received by sellers in each region.
    """

    buyer_rate: np.ndarray
    seller_rate: np.ndarray
    paid: dict[int, np.ndarray] = field(default_factory=dict)
    received: dict[int, np.ndarray] = field(default_factory=dict)

    def _month(self, ledger: dict[int, np.ndarray], month: int) -> np.ndarray:
        if month not in ledger:
            ledger[month] = np.zeros_like(self.buyer_rate)
        return ledger[month]

    def pay(self, month: int, ci: int, region: int, usd: float) -> None:
        """Book premium paid by a buyer in ``region``."""
        self._month(self.paid, month)[ci, region] += usd

    def receive(self, month: int, ci: int, region: int, usd: float) -> None:
        """Book premium received by a seller in ``region``."""
        self._month(self.received, month)[ci, region] += usd


def premium_book(world: World) -> PremiumBook | None:
    """The world's premium book (None until an alliance has paid a premium)."""
    return getattr(world.desk.diplomacy, "premiums", None)


@dataclass
class Settlement:
    """One commodity's pooled-offtake premium this month.

    Attributes:
        rates: premium on each arc (R origins, R destinations), share of the destination price.
        usd: premium due on each arc for what it shipped, USD (R, R).
        book: where the payments are entered, buyer by buyer and seller by seller.
    """

    rates: np.ndarray
    usd: np.ndarray
    book: PremiumBook


def settle_premium(
    world: World, ci: int, shipped: np.ndarray, netback: np.ndarray
) -> Settlement | None:
    """This month's pooled-offtake premium on commodity index ``ci``, for ``World._settle`` to
    charge to the buyers and credit to the sellers; the rates buyers and sellers count on
    (:func:`input_premium`, :func:`output_premium`) are updated. None when no alliance pays a
    premium on this commodity (the rates return to zero).

    Args:
        shipped: t shipped on each arc this month in the market (R, R).
        netback: what a seller earns per kg on each arc, USD/kg (R, R).
    """
    rates = premium_rates(world, ci)
    diplomacy = world.desk.diplomacy
    book = premium_book(world)
    if rates is None:
        if book is not None:
            book.buyer_rate[ci] = 0.0
            book.seller_rate[ci] = 0.0
        return None
    if book is None:
        shape = (len(world.commodity_ids), len(world.region_ids))
        book = diplomacy.premiums = PremiumBook(np.zeros(shape), np.zeros(shape))
    price = world.prices[ci]
    home = np.diag(rates)
    bought = shipped.sum(axis=0)
    book.buyer_rate[ci] = np.divide(
        (rates * shipped).sum(axis=0), bought, out=home.copy(), where=bought > 1e-12
    )
    revenue = (shipped * netback).sum(axis=1)
    book.seller_rate[ci] = np.divide(
        (rates * shipped * price[None, :]).sum(axis=1),
        revenue,
        out=home.copy(),
        where=revenue > 1e-12,
    )
    return Settlement(rates, rates * price[None, :] * shipped * 1000.0, book)


def input_premium(world: World, ci: int, r: int) -> float:
    """The premium buyers in region index ``r`` pay on commodity index ``ci``, per USD of
    purchases at the regional price (0 without pooled offtake)."""
    book = premium_book(world)
    return 0.0 if book is None else float(book.buyer_rate[ci, r])


def output_premium(world: World, ci: int, r: int) -> float:
    """The premium sellers in region index ``r`` earn on commodity index ``ci``, per USD of
    their market revenue (0 without pooled offtake)."""
    book = premium_book(world)
    return 0.0 if book is None else float(book.seller_rate[ci, r])


# --------------------------------------------------------------------------- the fund


def _year(world: World) -> str:
    return world.date_of(world.month)[:4]


def fund_left_usd(world: World, a: AllianceState) -> float:
    """What the fund can still pay this calendar year, USD (a new year opens a new budget)."""
    year = _year(world)
    if a.fund_year != year:
        a.fund_year = year
        a.fund_paid_usd = 0.0
    return max(a.terms["fund_usd"] - a.fund_paid_usd, 0.0)


def _funds(world: World, a: AllianceState, firm: Firm) -> bool:
    """Whether the alliance's fund pays part of the firm's new capacity now."""
    terms = a.terms
    if terms["fund_usd"] <= 0 or terms["fund_capex_share"] <= 0 or firm.region not in a.members:
        return False
    projects = terms.get("fund_projects") or []
    if projects:
        named = firm.firm_id in projects or (firm.spec.project or "") in projects
    else:
        named = firm.stage in terms["fund_stages"]
    return named and fund_left_usd(world, a) > 0


def fund_share(world: World, firm: Firm) -> float:
    """Share of a new plant's capex (0-1) the alliance funds pay for this firm now."""
    return min(
        sum(a.terms["fund_capex_share"] for a in _alliances(world) if _funds(world, a, firm)), 1.0
    )


def contributions(world: World, a: AllianceState) -> dict[str, float]:
    """Each member's share of the fund's payments: ``fund_contributions`` among the members
    named there, or, without them, pro rata to the members' final magnet demand."""
    named = a.terms.get("fund_contributions") or {}
    weights = {r: float(named.get(r, 0.0)) for r in a.members}
    if sum(weights.values()) <= 1e-12:
        mi = world.commodity_index.get("magnet")
        weights = {
            r: float(world.use_ema[mi, world.region_index[r]]) if mi is not None else 0.0
            for r in a.members
        }
    total = sum(weights.values())
    if total <= 1e-12:
        return {r: 1.0 / len(a.members) for r in a.members}
    return {r: v / total for r, v in weights.items()}


def pay_fund(world: World, firm: Firm, full_usd: float, room: float = 1.0) -> float:
    """The alliance funds pay their share of a firm's new plant; returns USD paid.

    Each fund pays ``fund_capex_share`` of ``full_usd`` (the plant's capex before subsidies,
    after any foreign technology ban), within ``room`` (the share national subsidies leave) and
    what is left of its year's ``fund_usd``; the members' states pay it (:func:`contributions`).
    A fund short of money pays what it has left and the firm, which counted on the whole
    share when it decided, pays the rest.
    """
    promised = paid = 0.0
    for a in _alliances(world):
        if room <= 1e-12 or not _funds(world, a, firm):
            continue
        share = min(a.terms["fund_capex_share"], room)
        room -= share
        due = share * full_usd
        usd = min(due, fund_left_usd(world, a))
        promised += due
        paid += usd
        split = {r: usd * s for r, s in contributions(world, a).items()}
        for region, part in split.items():
            world.states_by_region[region].spend(part)
        a.fund_paid_usd += usd
        a.fund_paid_total_usd += usd
        a.fund_payments.append(
            {
                "month": world.month,
                "firm": firm.firm_id,
                "capex_usd": full_usd,
                "share": share,
                "paid_usd": usd,
                "members": split,
            }
        )
    firm.cash_usd -= promised - paid
    return paid


# --------------------------------------------------------------------------- shared release


def shared_release(world: World, month: int) -> None:
    """Members with strategic stock release part of it for a member short of supply."""
    w = world
    desk = w.desk
    desk.programmes = [
        p
        for p in desk.programmes
        if not (p.params.get("shared_release") and p.end is not None and p.end < month)
    ]
    for a in _alliances(w):
        if not a.terms["shared_release"] or len(a.members) < 2:
            continue
        for ci, c in enumerate(w.commodity_ids):
            short = [
                r for r in a.members if w.shortage_ema[ci, w.region_index[r]] > SHORT_THRESHOLD
            ]
            if not short:
                continue
            need = sum(
                w.shortage_ema[ci, w.region_index[r]]
                * w.monthly_use_estimate(ci, w.region_index[r])
                * 2.0
                for r in short
            )
            helpers = {
                r: float(np.sum(w.states_by_region[r].stockpile[c]))
                for r in a.members
                if r not in short
            }
            helpers = {r: s for r, s in helpers.items() if s > 1e-9}
            stock = sum(helpers.values())
            if need <= 1e-9 or stock <= 1e-9:
                continue
            for r, held in helpers.items():
                tonnes = min(need * held / stock, RELEASE_SHARE * held)
                if tonnes <= 1e-9:
                    continue
                desk.add_programme(
                    id=f"{a.name}-release-{r}-{c}-m{month}",
                    kind="stockpile_release",
                    issuer=r,
                    params={
                        "commodity": c,
                        "t_per_month": tonnes,
                        "alliance": a.name,
                        "shared_release": True,
                    },
                    end=month + 1,
                )


INSTRUMENTS = (
    Instrument(
        kind="alliance",
        family="alliance",
        apply=apply_alliance,
        binds=(
            "Diplomacy.start_of_month, World.supplier_preference, World.trade, "
            "programmes.capex_multiplier, programmes.pay_capex_subsidy"
        ),
        spends=True,
        committable=False,
    ),
)

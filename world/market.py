"""Market clearing: regional prices, trade flows and how trade policy binds.

**Mechanism: tatonnement with inventories and netback-ordered trade.** Each commodity has one
price per region: the price a buyer there pays. Every month, at the posted prices:

1. Sellers in each region offer their stocks; buyers bid for their needs plus an inventory
   correction, in priority tiers (defence where its state orders priority, then everyone, then
   strategic stockpiles).
2. Offers are matched to bids arc by arc (origin -> destination, including the home market), in
   order of the seller's *netback*, ``(P_dest - transport) / ((1 + duty) (1 + tariff))``: a seller
   ships where it earns most. Bans close arcs; quota room, approved licences and buyers' supplier
   qualification cap them.
3. Where a region has producers, its price is their full unit cost (processing plus inputs at
   this month's input prices) times a markup; the markup moves with excess demand (unmet bids
   less unsold offers, relative to the market's size). Downstream prices thus follow input costs
   at once, while scarcity shows in the markup. Regions without producers move their price with
   excess demand directly. Importers' prices are pulled toward the landed cost of their marginal
   uncapped supplier (import parity), so a used, unconstrained arc carries a price wedge equal to
   its duty, tariff and transport. Where an arc is capped (quota, licence), no arbitrage closes
   the gap: the importer's price rises above landed cost, and the difference is the scarcity
   rent of the quota or licence, as in China's two-tier pricing of 2010-2012.

Why this and not a spatial-equilibrium LP solved every month: the historical episodes the model
must reproduce are *disequilibrium* stories. Prices in 2010-11 peaked 12-15 months after the
quota cut because inventories drained, buyers hoarded and then destocked; a per-month equilibrium
would jump at once and have no memory. Tatonnement with inventories gives lags and overshoot from
the agents' own stock decisions, keeps prices continuous, costs O(R^2) per commodity per month
(hundreds of microseconds), and its cost does not grow with the number of firms (offers and bids
are summed per region before matching). The price of that choice: the wedge on a used arc
converges over a few months rather than holding exactly every month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from world.policy import Quota

TIERS = ("defense", "normal", "stockpile")


@dataclass
class Clearing:
    """What one commodity's market did this month.

    Attributes:
        flows: t shipped per tier, origin and destination, shape (T, R, R).
        capped: arcs whose flow was stopped by a cap (quota, licence, qualification), (R, R).
        desired: what buyers would have taken on each arc without licence caps, (R, R).
    """

    flows: np.ndarray
    capped: np.ndarray
    desired: np.ndarray


def netbacks(prices: np.ndarray, wedge: np.ndarray, transport: np.ndarray) -> np.ndarray:
    """What a seller in each origin earns per kg sold to each destination, USD/kg (R, R)."""
    return (prices[None, :] - transport) / wedge


def clear(
    offers: np.ndarray,
    bids: np.ndarray,
    prices: np.ndarray,
    wedge: np.ndarray,
    transport: np.ndarray,
    banned: np.ndarray,
    arc_cap: np.ndarray,
    quotas: list[Quota],
    quota_room: dict[str, float],
    licensed: np.ndarray,
    preference: np.ndarray | None = None,
) -> Clearing:
    """Match offers (R,) to tiered bids (T, R) along arcs in order of netback.

    ``preference`` (R, R), between 0 and 1, scales each arc's netback for ordering only: buyers
    who judge an origin's supply at risk take it last, after safer sources, at the same price.

    ``quota_room`` (t left this month per quota id) is shared across commodities and is reduced
    in place. Licensed arcs ship at most ``arc_cap``; ``desired`` records what buyers wanted from
    them, which becomes next month's licence applications.
    """
    n = len(offers)
    supply = offers.astype(float).copy()
    demand = bids.astype(float).copy()
    flows = np.zeros((bids.shape[0], n, n))
    capped = np.zeros((n, n), dtype=bool)
    desired = np.zeros((n, n))
    cap_left = arc_cap.astype(float).copy()
    nb = netbacks(prices, wedge, transport)
    ranking = nb if preference is None else nb * preference
    order = np.argsort(-ranking, axis=None, kind="stable")
    arc_quotas: dict[tuple[int, int], list[Quota]] = {}
    for q in quotas:
        for d in np.nonzero(q.destinations)[0]:
            arc_quotas.setdefault((q.origin, int(d)), []).append(q)
    for tier in range(demand.shape[0]):
        if demand[tier].sum() <= 0:
            continue
        for flat in order:
            o, d = divmod(int(flat), n)
            if supply[o] <= 1e-12 or demand[tier, d] <= 1e-12 or banned[o, d]:
                continue
            if nb[o, d] <= 0:
                continue
            want = min(supply[o], demand[tier, d])
            amount = want
            if licensed[o, d]:
                desired[o, d] += want
            if cap_left[o, d] < amount:
                amount = cap_left[o, d]
                capped[o, d] = True
            for q in arc_quotas.get((o, d), ()):
                room = quota_room[q.spec.id]
                if room < amount:
                    amount = room
                    capped[o, d] = True
            if amount <= 1e-12:
                continue
            flows[tier, o, d] += amount
            supply[o] -= amount
            demand[tier, d] -= amount
            cap_left[o, d] -= amount
            for q in arc_quotas.get((o, d), ()):
                quota_room[q.spec.id] -= amount
                q.used_t += amount
    return Clearing(flows=flows, capped=capped, desired=desired)


def unfilled_by_origin(bids: np.ndarray, clearing: Clearing) -> np.ndarray:
    """Unmet bids (R,) assigned to the regions whose sellers could have filled them, t.

    A destination's unmet demand counts against the origins that supplied it over open,
    uncapped arcs this month (in proportion to what they shipped); if every supplier was capped
    (or none shipped), it stays with the destination itself. Demand turned away by a quota or a
    licence therefore raises the importer's price, not the exporter's: the two tiers.
    """
    shipped = clearing.flows.sum(axis=0)
    n = shipped.shape[0]
    unmet = np.maximum(bids.sum(axis=0) - shipped.sum(axis=0), 0.0)
    free = np.where(clearing.capped, 0.0, shipped)
    free_total = free.sum(axis=0)
    weights = np.where(free_total[None, :] > 1e-12, free / np.maximum(free_total, 1e-12), np.eye(n))
    return weights @ unmet


def excess_steps(
    offers: np.ndarray,
    bids: np.ndarray,
    clearing: Clearing,
    normal_stock: np.ndarray,
    speed: float,
    max_step: float,
) -> np.ndarray:
    """Log-price steps (R,) from this month's excess demand.

    Excess demand in a region is the unmet demand it is responsible for (its own buyers', or
    importers' it supplies over uncapped arcs: :func:`unfilled_by_origin`) less the sellers'
    stock left over beyond their normal finished-goods cover (``normal_stock``, t): sellers
    offer everything they hold, so some unsold stock is normal and does not push the price down.
    """
    shipped = clearing.flows.sum(axis=0)
    sold = shipped.sum(axis=1)
    wanted = bids.sum(axis=0)
    unmet = unfilled_by_origin(bids, clearing)
    unsold = np.maximum(offers - sold - normal_stock, 0.0)
    size = np.maximum(wanted, sold) + offers
    excess = np.divide(unmet - unsold, size, out=np.zeros_like(size), where=size > 1e-9)
    return np.clip(speed * excess, -max_step, max_step)


def import_parity(
    prices: np.ndarray,
    offers: np.ndarray,
    bids: np.ndarray,
    clearing: Clearing,
    wedge: np.ndarray,
    transport: np.ndarray,
    banned: np.ndarray,
    restricted: np.ndarray,
    pull: float,
) -> np.ndarray:
    """Pull importers' prices (R,) toward the landed cost of their marginal uncapped supplier.

    Regions with no buyers this month quote import parity from the cheapest open source, so
    every region always has a price a buyer there would pay.
    """
    shipped = clearing.flows.sum(axis=0)
    wanted = bids.sum(axis=0)
    new = prices.copy()
    landed = prices[:, None] * wedge + transport  # (o, d): o's goods delivered in d
    idle = wanted <= 1e-9
    for d in range(len(prices)):
        imports = shipped[:, d].copy()
        imports[d] = 0.0
        free = (imports > 1e-9) & ~clearing.capped[:, d]
        if free.any():
            new[d] += pull * (landed[free, d].max() - new[d])
    # No buyers here this month. A region whose sellers shipped abroad quotes export parity
    # (what its sellers earn, net of freight, duty and tariff); one with no trade at all quotes
    # import parity from a source that could actually ship (no ban, no quota or licence in the
    # way). Only real markets anchor these quotes, so they cannot chase each other down.
    anchored = ~idle.copy()
    nb = (new[None, :] - transport) / wedge
    for o in np.nonzero(idle)[0]:
        out = shipped[o].copy()
        out[o] = 0.0
        if out.sum() > 1e-9:
            new[o] = float((out * nb[o]).sum() / out.sum())
            anchored[o] = True
    landed = new[:, None] * wedge + transport
    for d in np.nonzero(idle & ~anchored)[0]:
        open_src = ~banned[:, d] & ~restricted[:, d] & (offers > 1e-9) & anchored
        open_src[d] = False
        if open_src.any():
            new[d] = landed[open_src, d].min()
    return new

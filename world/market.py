"""Market clearing: regional prices, trade flows and how trade policy binds.

**Mechanism: tatonnement with inventories and netback-ordered trade.** Each commodity has one
price per region: the price a buyer there pays. Every month, at the posted prices:

1. Sellers in each region offer their stocks; buyers bid for their needs plus an inventory
   correction, in end-use tiers (defence, other users, strategic stockpiles), so that a licence
   can approve each apart. Defence is served first where its state orders priority and with
   other users, pro rata, elsewhere; strategic stockpiles are served last.
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

import itertools
import math
from dataclasses import dataclass

import numpy as np

from world import numerics
from world.policy import Quota

TIERS = ("defense", "normal", "stockpile")


@dataclass
class Clearing:
    """What one commodity's market did this month.

    Attributes:
        flows: t shipped per tier, origin and destination, shape (T, R, R).
        capped: arcs whose flow was stopped by a cap (quota, licence, qualification), (R, R).
        desired: what buyers would have taken on each arc without licence caps, per tier
            (T, R, R): the licence applications.
        contracted: t shipped under long-term contracts, before the spot, (R, R).
    """

    flows: np.ndarray
    capped: np.ndarray
    desired: np.ndarray
    contracted: np.ndarray | None = None


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
    contracts: np.ndarray | None = None,
    licence_cap: np.ndarray | None = None,
    defense_first: np.ndarray | None = None,
    covered: np.ndarray | None = None,
) -> Clearing:
    """Match offers (R,) to tiered bids (T, R) along arcs in order of netback.

    ``preference`` (R, R), between 0 and 1, scales each arc's netback for ordering only: buyers
    who judge an origin's supply at risk take it last, after safer sources, at the same price.

    ``contracts`` (R, R), t/month, are long-term contract volumes: each open arc ships up to its
    contract first (defence, then other buyers; bans, caps and quotas bind them as any flow),
    whatever the netbacks; the rest clears on the spot in order of netback.

    ``quota_room`` (t left this month per quota id) is shared across commodities and is reduced
    in place. Arcs ship at most ``arc_cap`` (buyers' qualification); licensed arcs also at most
    ``licence_cap`` (T, R, R), the tonnes approved for each tier (end use), zero if None.
    ``desired`` records what each tier wanted from licensed arcs: its licence applications.
    ``covered`` (R, R), 0-1, is the share of a licensed arc's tonnage the licence covers (1 if
    None): see :meth:`_Matching.licence`.

    Tiers are end uses (defence, other users, strategic stockpiles), so a licence can treat
    each apart; the order they are served in is separate. ``defense_first`` (R,) marks the
    destinations whose state orders defence served first (priority ratings, as the US Defense
    Priorities and Allocations System); elsewhere defence bids are served together with other
    users', pro rata on each arc. None: defence first everywhere.
    """
    n = len(offers)
    n_t = bids.shape[0]
    nb = netbacks(prices, wedge, transport)
    ranking = nb if preference is None else nb * preference
    open_arc = (nb > 0) & ~banned
    # Buyers' side breaks sellers' ties: among arcs that earn sellers the same, the cheaper
    # landed supply goes first (what a buyer would choose), and only arcs equal on both share.
    landed = prices[:, None] * wedge + transport
    groups = _tied_groups(ranking, landed, open_arc)
    arc_quotas: dict[tuple[int, int], list[Quota]] = {}
    for q in quotas:
        for d in np.nonzero(q.destinations)[0].tolist():
            arc_quotas.setdefault((q.origin, d), []).append(q)
    # The matching walks arcs one at a time: plain lists of floats, which Python indexes far
    # faster than numpy indexes small arrays (the arithmetic is the same IEEE doubles).
    demand = bids.astype(float).tolist()
    flows = [[[0.0] * n for _ in range(n)] for _ in range(n_t)]
    state = _Matching(
        offers.astype(float).tolist(),
        arc_cap.astype(float).tolist(),
        [[False] * n for _ in range(n)],
        [[[0.0] * n for _ in range(n)] for _ in range(n_t)],
        licensed.tolist(),
        arc_quotas,
        quota_room,
        [[[0.0] * n for _ in range(n)] for _ in range(n_t)]
        if licence_cap is None
        else licence_cap.astype(float).tolist(),
        [[1.0] * n for _ in range(n)] if covered is None else covered.astype(float).tolist(),
    )
    contracted = [[0.0] * n for _ in range(n)]
    supply = state.supply
    first = [True] * n if defense_first is None else defense_first.tolist()
    # Destinations whose defence bids are served with other users' (second tier) this month.
    joint = [] if n_t < 2 else [d for d in range(n) if not first[d] and demand[0][d] > 1e-12]
    joined = set(joint)
    if contracts is not None:
        # In a fixed (id) order: an arc's contract does not depend on the others' netbacks.
        volume = contracts.tolist()
        arcs = np.nonzero((contracts > 1e-12) & ~banned)
        for o, d in zip(arcs[0].tolist(), arcs[1].tolist(), strict=True):
            if d in joined:
                before = flows[0][o][d] + flows[1][o][d]
                state.share_slots([(o, d, 1), (o, d, 0)], demand, flows, limit=volume[o][d])
                contracted[o][d] += flows[0][o][d] + flows[1][o][d] - before
                continue
            for tier in range(min(2, n_t)):
                if supply[o] <= 1e-12 or demand[tier][d] <= 1e-12:
                    continue  # nothing to ship (what ship itself would find)
                state.tier = tier
                left = volume[o][d] - contracted[o][d]
                before = flows[tier][o][d]
                state.ship(o, d, demand[tier], flows[tier], limit=left)
                contracted[o][d] += flows[tier][o][d] - before
    for tier in range(n_t):
        wanted, shipped = demand[tier], flows[tier]
        shared = tier == 1 and bool(joint)
        if numerics.total(wanted) <= 0 and not shared:
            continue
        state.tier = tier
        for origins, destinations in groups:
            if tier == 0 and joined:
                # Defence bids served with other users' wait for the second tier.
                arcs = [(o, d) for o, d in zip(origins, destinations, strict=True)
                        if d not in joined]  # fmt: skip
                if not arcs:
                    continue
                origins, destinations = [o for o, _ in arcs], [d for _, d in arcs]
            if shared and any(d in joined for d in destinations):
                slots = [(o, d, 1) for o, d in zip(origins, destinations, strict=True)]
                slots += [(o, d, 0) for o, d in zip(origins, destinations, strict=True)
                          if d in joined]  # fmt: skip
                state.share_slots(slots, demand, flows)
                state.tier = tier
            elif len(origins) == 1:
                o, d = origins[0], destinations[0]
                if supply[o] > 1e-12 and wanted[d] > 1e-12:
                    state.ship(o, d, wanted, shipped)
            else:
                state.share_tie(origins, destinations, wanted, shipped)
    flows = np.array(flows)
    capped = np.array(state.capped)
    desired = np.array(state.desired)
    contracted = np.array(contracted)
    return Clearing(flows=flows, capped=capped, desired=desired, contracted=contracted)


def _tied_groups(
    ranking: np.ndarray, landed: np.ndarray, open_arc: np.ndarray
) -> list[tuple[list[int], list[int]]]:
    """Open arcs in order of falling ranking (then of rising landed cost), arcs equal on both
    (to 1e-9) in one group.

    Each group is (origins, destinations), one entry per arc. Arcs equal in the sellers' netback
    and the buyers' landed cost are equally good to both sides, so they are filled together, pro
    rata, rather than in the order the regions happen to be listed.
    """
    flat = np.flatnonzero(open_arc)
    if flat.size == 0:
        return []
    rank, cost = ranking.ravel()[flat], landed.ravel()[flat]
    order = np.lexsort((cost, -rank))
    rank, cost, arcs = rank[order], cost[order], flat[order]
    # A new group starts wherever either key differs from the group's first arc; comparing
    # neighbours is enough here because equal keys are adjacent after the sort.
    new = np.ones(len(arcs), dtype=bool)
    same_rank = np.abs(np.diff(rank)) <= 1e-9 * np.maximum(np.abs(rank[:-1]), 1e-12)
    same_cost = np.abs(np.diff(cost)) <= 1e-9 * np.maximum(np.abs(cost[:-1]), 1e-12)
    new[1:] = ~(same_rank & same_cost)
    n = ranking.shape[1]
    origins, destinations = np.divmod(arcs, n)
    starts = [*np.flatnonzero(new).tolist(), len(arcs)]
    o_list, d_list = origins.tolist(), destinations.tolist()
    return [(o_list[i:j], d_list[i:j]) for i, j in itertools.pairwise(starts)]


class _Matching:
    """Offers left, arc caps and quota room while one commodity's market is matched."""

    def __init__(
        self,
        supply,
        cap_left,
        capped,
        desired,
        licensed,
        arc_quotas,
        quota_room,
        tier_left,
        covered,
    ):
        self.supply = supply
        self.cap_left = cap_left
        self.capped = capped
        self.desired = desired
        self.licensed = licensed
        self.arc_quotas = arc_quotas
        self.quota_room = quota_room
        #: Licensed arcs' approved tonnes left per tier (T, R, R), and the tier being matched.
        self.tier_left = tier_left
        self.tier = 0
        #: Licensed arcs' share of tonnage under licence (R, R), and per tier (T, R, R) the
        #: covered tonnes refused this month that the tier still wants (see :meth:`licence`).
        self.covered = covered
        self.refused = [[[0.0] * len(supply) for _ in supply] for _ in tier_left]

    def licence(self, o: int, d: int, tier: int, ask: float) -> tuple[float, float, float]:
        """What a licence does to ``ask`` t a tier wants over licensed arc (o, d) now.

        Returns (applied, free, allowed), t: the covered tonnes applied for, the uncovered
        tonnes that ship without a licence, and the most that may ship (free plus approvals).

        The economic reading: a licensed commodity is a mix of grades, of which the licence
        covers ``covered`` by tonnage (NdFeB containing Dy/Tb, not Dy/Tb-free NdFeB), and each
        month buyers want that mix from the arc. The uncovered share of what they want ships as
        on an open arc (no review, no approval share); the covered share is applied for and
        ships only against approvals. A refused covered tonne stays covered: buyers who need
        that grade keep asking for it (here or, if another origin can ship it, there), so when
        the arc is asked again within the month the refused tonnes come first and only fresh
        demand splits into covered and free. The share is thus of each month's demand on the
        arc, never of its shipments: refusing the covered grades does not let more of the free
        ones through, and a buyer cannot dodge the licence by asking twice.
        """
        refused = self.refused[tier][o][d]
        free = (1.0 - self.covered[o][d]) * max(ask - refused, 0.0)
        applied = ask - free
        approved = min(applied, self.tier_left[tier][o][d])
        self.refused[tier][o][d] = refused - min(ask, refused) + applied - approved
        return applied, free, free + approved

    def room(self, o: int, d: int, amount: float, allowed: float = math.inf) -> float:
        """How much of ``amount`` the arc's cap, ``allowed`` (a licence's, t) and quotas let
        through (marks capped arcs)."""
        cap = min(self.cap_left[o][d], allowed)
        if cap < amount:
            amount = cap
            self.capped[o][d] = True
        for q in self.arc_quotas.get((o, d), ()):
            room = self.quota_room[q.spec.id]
            if room < amount:
                amount = room
                self.capped[o][d] = True
        return amount

    def move(
        self, o: int, d: int, amount: float, demand: list, flows: list, free: float = 0.0
    ) -> None:
        """Ship ``amount`` t; on a licensed arc the ``free`` t uncovered by the licence go
        first and only the rest uses approvals."""
        flows[o][d] += amount
        self.supply[o] -= amount
        demand[d] -= amount
        self.cap_left[o][d] -= amount
        if self.licensed[o][d]:
            self.tier_left[self.tier][o][d] -= max(amount - free, 0.0)
        for q in self.arc_quotas.get((o, d), ()):
            self.quota_room[q.spec.id] -= amount
            q.used_t += amount

    def ship(self, o: int, d: int, demand: list, flows: list, limit: float = math.inf) -> None:
        """Fill one arc as far as supply, demand, cap, quota (and ``limit``, t) allow."""
        if self.supply[o] <= 1e-12 or demand[d] <= 1e-12 or limit <= 1e-12:
            return
        want = min(self.supply[o], demand[d], limit)
        free, allowed = 0.0, math.inf
        if self.licensed[o][d]:
            applied, free, allowed = self.licence(o, d, self.tier, want)
            self.desired[self.tier][o][d] += applied
        amount = self.room(o, d, want, allowed)
        if amount > 1e-12:
            self.move(o, d, amount, demand, flows, free)

    def share_tie(
        self, origins: list[int], destinations: list[int], demand: list, flows: list
    ) -> None:
        """Fill arcs of equal netback together, for the tier being matched: see
        :meth:`share_slots`."""
        tier, n_t = self.tier, len(self.desired)
        slots = [(o, d, tier) for o, d in zip(origins, destinations, strict=True)]
        demands = [demand if t == tier else None for t in range(n_t)]
        shipments = [flows if t == tier else None for t in range(n_t)]
        self.share_slots(slots, demands, shipments)

    def share_slots(
        self,
        slots: list[tuple[int, int, int]],
        demand: list,
        flows: list,
        limit: float = math.inf,
    ) -> None:
        """Fill (origin, destination, tier) slots of equal standing together: each seller's
        offer is split over the tied bids in proportion to what they want, each bid over the
        tied sellers in proportion to what they offer; caps and quotas scale their arcs down
        pro rata, a licence its tier's slots. A few rounds hand on what a capped slot could not
        take. Tied arcs (equal netback and landed cost) and the tiers served together at one
        destination are both such slots. ``demand`` and ``flows`` are per tier; ``limit``
        caps the total shipped, t (a contract's volume)."""
        supply = self.supply
        left = limit
        for first in (True, False, False, False):
            live = [(o, d, t) for o, d, t in slots if supply[o] > 1e-12 and demand[t][d] > 1e-12]
            if not live or left <= 1e-12:
                return
            wanted_from: dict[int, float] = {}
            offered_to: dict[tuple[int, int], float] = {}
            for o, d, t in live:
                wanted_from[o] = wanted_from.get(o, 0.0) + demand[t][d]
                offered_to[d, t] = offered_to.get((d, t), 0.0) + supply[o]
            raw = {}
            for o, d, t in live:
                want = demand[t][d]
                raw[o, d, t] = min(
                    supply[o] * want / wanted_from[o], want * supply[o] / offered_to[d, t]
                )
            if left < math.inf:
                total = sum(raw.values())
                if total > left:
                    raw = {slot: amount * left / total for slot, amount in raw.items()}
            plan, free = {}, {}
            per_arc: dict[tuple[int, int], list] = {}
            for (o, d, t), amount in raw.items():
                if self.licensed[o][d]:
                    applied, free[o, d, t], allowed = self.licence(o, d, t, amount)
                    if first:
                        self.desired[t][o][d] += applied
                    if allowed < amount:
                        amount = allowed  # uncovered tonnes and this tier's approvals
                        self.capped[o][d] = True
                plan[o, d, t] = amount
                per_arc.setdefault((o, d), []).append((o, d, t))
            for (o, d), on in per_arc.items():
                # Tiers served together on one arc share its (qualification) cap, pro rata.
                cap = self.cap_left[o][d]
                if len(on) == 1:
                    if cap < plan[on[0]]:
                        plan[on[0]] = cap
                        self.capped[o][d] = True
                    continue
                total = sum(plan[slot] for slot in on)
                if total > cap:
                    scale = cap / total if total > 0 else 0.0
                    for slot in on:
                        plan[slot] *= scale
                    self.capped[o][d] = True
            tied_quotas = {id(q): q for o, d, _ in live for q in self.arc_quotas.get((o, d), ())}
            for q in tied_quotas.values():
                on = [slot for slot in live if q in self.arc_quotas.get(slot[:2], ())]
                total = sum(plan[slot] for slot in on)
                room = self.quota_room[q.spec.id]
                if total > room:
                    scale = room / total if total > 0 else 0.0
                    for slot in on:
                        plan[slot] *= scale
                        self.capped[slot[0]][slot[1]] = True
            moved = 0.0
            for (o, d, t), amount in plan.items():
                if amount > 1e-12:
                    self.tier = t
                    self.move(o, d, amount, demand[t], flows[t], free.get((o, d, t), 0.0))
                    moved += amount
            left -= moved
            if moved <= 1e-12:
                return


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
    return numerics.matmul(weights, unmet)


def excess_steps(
    offers: np.ndarray,
    bids: np.ndarray,
    clearing: Clearing,
    normal_stock: np.ndarray,
    speed: float,
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
    # The posted price is the contract market's: renegotiated month by month, it moves at most
    # ``speed`` in log a month, at a market short (or long) by all of its size (an exporter
    # answering for its importers' unmet demand can be short by more than its own market).
    # Jumps within the month belong to the thin spot (:func:`spot_prices`).
    return speed * np.minimum(np.maximum(excess, -1.0), 1.0)  # np.clip, without its overhead


def spot_prices(
    posted: np.ndarray,
    bids: np.ndarray,
    clearing: Clearing,
    elasticity: float,
    ceiling: np.ndarray,
) -> np.ndarray:
    """The thin spot's price (R,): what buyers left unserved bid it up to, USD/kg.

    In each region the spot is what trades outside the contracts plus the demand nobody met
    (strategic stockpiles aside). Buyers with short-run price elasticity ``elasticity`` give up
    an unmet share ``u`` of it only when the price rises by ``(1 - u) ** (-1 / elasticity)``
    over the posted price; ``ceiling`` (R,) is where end users substitute nearly all use away.
    A region whose contracts and spot are all served quotes the posted price.
    """
    received = clearing.flows[:2].sum(axis=(0, 1))
    contract = np.zeros_like(received)
    if clearing.contracted is not None:
        contract = clearing.contracted.sum(axis=0)
    unmet = np.maximum(bids[:2].sum(axis=0) - received, 0.0)
    spot = np.maximum(received - contract, 0.0) + unmet
    share = np.divide(unmet, spot, out=np.zeros_like(spot), where=spot > 1e-9)
    premium = -numerics.log1p(-np.minimum(share, 0.999)) / elasticity
    return np.minimum(posted * numerics.exp(premium), np.maximum(ceiling, posted))


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
    min_share: float,
    trace: dict | None = None,
) -> np.ndarray:
    """Pull importers' prices (R,) toward the landed cost of their marginal uncapped supplier.

    Import parity binds a region's price only where uncapped imports supply a material share of
    what it buys: the marginal supplier is the dearest source that, with the sources dearer
    than it, supplies at least ``min_share`` of the region's purchases this month (home
    supply included). Slivers dearer than that margin (a stray cargo of stranded stock into a
    market a hundred times its size) do not set the price; with ``min_share`` 0 the dearest
    uncapped source does.

    Regions with no buyers this month quote import parity from the cheapest open source, so
    every region always has a price a buyer there would pay.

    ``trace``, if given, is filled with the choices made (for
    :class:`~world.price_breakdown.PriceBreakdown`; the prices do not depend on it):
    ``import`` {destination: marginal origin}, ``export`` {origin: {destination: t shipped}},
    ``stranded`` {origin: destination netted back}, ``idle`` {destination: origin}.
    """
    if trace is not None:
        for kind in ("import", "export", "stranded", "idle"):
            trace[kind] = {}
    shipped = clearing.flows.sum(axis=0)
    wanted = bids.sum(axis=0)
    new = prices.copy()
    landed = prices[:, None] * wedge + transport  # (o, d): o's goods delivered in d
    idle = wanted <= 1e-9
    # Each destination on its own (one column each), all at once.
    free = (shipped > 1e-9) & ~clearing.capped
    np.fill_diagonal(free, False)
    # Each destination's uncapped sources from the dearest landed cost down, and the tonnes
    # supplied by each source and all dearer ones: the margin is where they reach the share.
    dearest_first = np.argsort(np.where(free, -landed, np.inf), axis=0, kind="stable")
    cumulative = np.take_along_axis(np.where(free, shipped, 0.0), dearest_first, axis=0).cumsum(
        axis=0
    )
    needed = np.maximum(min_share * shipped.sum(axis=0), 1e-9)
    pulled = cumulative[-1] >= needed
    if pulled.any():
        origin = np.take_along_axis(
            dearest_first, np.argmax(cumulative >= needed, axis=0)[None, :], axis=0
        )[0]
        columns = np.arange(len(new))
        new[pulled] += pull * (landed[origin, columns][pulled] - new[pulled])
        if trace is not None:
            for d in np.flatnonzero(pulled).tolist():
                trace["import"][d] = int(origin[d])
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
            if trace is not None:
                trace["export"][int(o)] = {int(d): float(out[d]) for d in np.flatnonzero(out)}
    landed = new[:, None] * wedge + transport
    # A region whose sellers could not sell keeps their own (falling) asking price, at most
    # what they would net in the best market open to them: quoting it import parity would price
    # them out of every export market for ever.
    stranded = idle & ~anchored & (offers > 1e-9)
    for o in np.nonzero(stranded)[0]:
        reach = ~banned[o] & ~restricted[o] & anchored
        reach[o] = False
        if reach.any():
            best = float(nb[o, reach].max())
            if trace is not None and best < new[o]:
                trace["stranded"][int(o)] = int(np.flatnonzero(reach)[np.argmax(nb[o, reach])])
            new[o] = min(new[o], best)
    for d in np.nonzero(idle & ~anchored & (offers <= 1e-9))[0]:
        open_src = ~banned[:, d] & ~restricted[:, d] & (offers > 1e-9) & anchored
        open_src[d] = False
        if open_src.any():
            new[d] = landed[open_src, d].min()
            if trace is not None:
                trace["idle"][int(d)] = int(
                    np.flatnonzero(open_src)[np.argmin(landed[open_src, d])]
                )
    return new

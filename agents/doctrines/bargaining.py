"""Deals an AI seat proposes: its own restrictions on a partner suspended for a term against the
partner's restrictions on it suspended and its tariffs on it cut.

One mechanism for every doctrine that proposes (the dealmakers by default; any seat with
``params.diplomacy.propose = true``). At a turn boundary, for each other state in the
scenario's order, the offer is built from the measures in force:

- each export restriction (ban, quota, licence) either side has on the other, and each import
  ban: **suspended** for ``deal_months`` (``lift`` with ``suspend = true``: it comes back when
  the deal ends); the proposer may instead **ease** its own licences (a general licence for
  the term in place of the suspended one);
- each side's tariff on the other's goods above the doctrine's asked rate: **cut** to that rate
  (a lift and a new tariff; a cut stays when the deal ends).

It is proposed (a plain ``propose_deal`` order) when both sides give something and the
proposer's own estimate of the deal (world/deals.py ``heuristic_parts``) is a gain; it also
tries the offer with one of its own concessions at a time, and with its licences eased rather
than suspended, and takes the best. At most one proposal is open or one deal holds per pair,
and after a proposal is refused, lapses or fails the proposer waits ``deal_cooldown_months``
before proposing to that partner again. Inside a look-ahead copy nobody proposes (the copies
only weigh a deal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.doctrines.base import covers, in_force, liftable, tariff_rate
from world.instruments import VOLUME_KINDS

if TYPE_CHECKING:
    from agents.doctrines.base import Doctrine
    from world.model import World

#: Months a proposed deal holds, unless the seat says otherwise (the November 2025 US-China
#: truce suspended China's October controls for a year).
DEAL_MONTHS = 12
#: Months a proposer waits after a refusal before proposing to the same partner again.
COOLDOWN_MONTHS = 6
#: Tariff a proposer asks a partner to cut to when its doctrine names none (0.10: the
#: November 2025 truce cut the US tariff on Chinese goods by 10 points) [EST].
ASKED_TARIFF = 0.10
#: Score a month the proposer must expect to gain (it proposes what it expects to gain on; the
#: recipient weighs the deal with its own threshold and trust).
MIN_GAIN = 1e-6
#: What a deal may suspend: the measures that limit tonnes, on exports and imports.
SUSPENDABLE = VOLUME_KINDS


def _suspensions(world: World, issuer: str, partner: str) -> list[dict]:
    seen: list[tuple[str, tuple[str, ...]]] = []
    out = []
    for spec in in_force(world, issuer, SUSPENDABLE):
        key = (spec.kind, tuple(spec.commodities))
        if not covers(spec, partner) or not liftable(world, spec) or key in seen:
            continue
        seen.append(key)
        out.append(
            {
                "kind": "lift",
                "issuer": issuer,
                "measure": spec.kind,
                "commodities": list(spec.commodities),
                "partners": [partner],
                "suspend": True,
            }
        )
    return out


def _eased(commitments: list[dict], months: int) -> list[dict]:
    """The commitments with each licence suspension turned into licence easing: the licence is
    suspended and a general licence (every application approved after a one-month review)
    runs for the deal's term in its place, so the measure stays on the book (and the leverage
    it gives) while the goods flow."""
    out = []
    for c in commitments:
        out.append(c)
        if c["kind"] == "lift" and c.get("measure") == "export_licence":
            out.append(
                {
                    "kind": "export_licence",
                    "issuer": c["issuer"],
                    "commodities": list(c["commodities"]),
                    "partners": list(c["partners"]),
                    "review_months": 1,
                    "approval_share": 1.0,
                    "duration_months": months,
                }
            )
    return out


def _tariff_cut(world: World, importer: str, origin: str, rate: float) -> list[dict]:
    goods = [
        c
        for c in world.commodity_ids
        if tariff_rate(world, importer, origin, c, discriminatory=True) > 1e-9
        and tariff_rate(world, importer, origin, c) > rate + 1e-9
        and all(
            liftable(world, s)
            for s in in_force(world, importer, "import_tariff", c)
            if covers(s, origin)
        )
    ]
    if not goods:
        return []
    cut = [
        {
            "kind": "lift",
            "issuer": importer,
            "measure": "import_tariff",
            "commodities": goods,
            "partners": [origin],
        }
    ]
    if rate > 1e-9:
        cut.append(
            {
                "kind": "import_tariff",
                "issuer": importer,
                "commodities": goods,
                "partners": [origin],
                "rate": round(rate, 6),
            }
        )
    return cut


def offer(doctrine: Doctrine, world: World, partner: str) -> tuple[list[dict], list[dict]]:
    """What the proposer would give and what it asks of ``partner``: (its own commitments
    grouped one concession per list item, the partner's commitments)."""
    me = doctrine.region
    rate = doctrine.asked_tariff(world, partner)
    give = [[s] for s in _suspensions(world, me, partner)]
    mine = _tariff_cut(world, me, partner, rate)
    if mine:
        give.append(mine)
    ask = _suspensions(world, partner, me) + _tariff_cut(world, partner, me, rate)
    return give, ask


def deal_holds(world: World, me: str, partner: str) -> bool:
    """Whether a deal between the two holds this month."""
    from world.deals import deals_of

    return any(
        {me, partner} <= set(d.parties) and d.holds(world.month)
        for d in deals_of(world).deals.values()
    )


def _busy(world: World, me: str, partner: str, cooldown: int) -> bool:
    """Whether a proposal between the pair is open or a deal holds, or ``me`` was refused by
    ``partner`` less than ``cooldown`` months ago."""
    from world.deals import deals_of

    for deal in deals_of(world).deals.values():
        pair = {me, partner} <= set(deal.parties)
        if not pair:
            continue
        if deal.status == "proposed" or deal.holds(world.month):
            return True
        refused = deal.status in ("rejected", "lapsed", "failed", "countered")
        if refused and deal.proposer == me and world.month - deal.proposed < cooldown:
            return True
    return False


def proposals(doctrine: Doctrine, world: World) -> list[dict]:
    """``propose_deal`` orders this turn (see the module docstring)."""
    from world.deals import deals_of, heuristic_parts

    diplomacy = deals_of(world)
    if diplomacy.lookahead:
        return []
    params = doctrine.params.get("diplomacy") or {}
    months = int(params.get("deal_months", DEAL_MONTHS))
    cooldown = int(params.get("deal_cooldown_months", COOLDOWN_MONTHS))
    me = doctrine.region
    orders = []
    for partner in doctrine.others(world):
        if _busy(world, me, partner, cooldown):
            continue
        give, ask = offer(doctrine, world, partner)
        if not give or not ask:
            continue
        candidates = [[c for item in give for c in item]]
        if len(give) > 1:
            candidates += give
        candidates.append([c for item in give for c in _eased(item, months)])
        best, best_gain = None, MIN_GAIN
        for own in candidates:
            gain = sum(heuristic_parts(world, own + ask, me).values())
            if gain > best_gain + 1e-12:
                best, best_gain = own, gain
        if best is None:
            continue
        orders.append(
            doctrine.order(
                "propose_deal",
                recipients=[partner],
                commitments=best + ask,
                duration_months=months,
            )
        )
    return orders

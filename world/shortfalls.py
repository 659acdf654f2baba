"""Why an applied order delivered less than it asked: news for the issuing seat alone.

An order can apply and still do little: a stockpile purchase bids in the market like any other
buyer, at the lowest priority, so it gets what the others leave. After each month's trade the
world compares what each stockpile purchase programme asked for with what it got and, when it
got less, logs why in the issuer's private news, e.g. ``stockpile purchase US-stockpile_buy-o4:
0.0 of 41.7 t of oxide_heavy bought in 2025-06: no seller at your bid ...``.

The reason is read off the month's clearing (world/market.py), in this order: nobody offered
the product; everything offered was sold to buyers who come first; what was left sat behind a
ban; behind a cap (quota, licence, buyers' qualification); else sellers earned more elsewhere
than the issuer's price pays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from world.market import TIERS

if TYPE_CHECKING:
    from world.model import World

__all__ = ["SHORTFALL", "record_shortfalls"]

#: The kind of a shortfall's entry in the world's log (the news).
SHORTFALL = "shortfall"
#: Shortfalls smaller than this (t, and share of what was asked) are rounding, not news.
MIN_SHORT_T = 0.05
MIN_SHORT_SHARE = 0.01
_STOCKPILE = TIERS.index("stockpile")


def record_shortfalls(world: World) -> None:
    """Log, for each stockpile purchase programme in force, why it got less than its monthly
    tonnes in this month's trade (call right after the trade)."""
    clearings = dict(world.clearings)
    for prog in world.desk.active("stockpile_buy"):
        asked = float(prog.params["t_per_month"])
        commodity = prog.params["commodity"]
        ci, d = world.commodity_index[commodity], world.region_index[prog.issuer]
        clearing = clearings.get(ci)
        bid = float(world.bids[ci, _STOCKPILE, d])
        if clearing is None or bid <= 1e-12:
            continue
        got = float(clearing.flows[_STOCKPILE, :, d].sum()) * asked / bid
        if asked - got < max(MIN_SHORT_T, MIN_SHORT_SHARE * asked):
            continue
        reason = _reason(world, ci, d, clearing)
        date = world.date_of(world.month)
        world.log.append(
            {
                "month": world.month,
                "date": date,
                "actor": prog.issuer,
                "region": prog.issuer,
                "kind": SHORTFALL,
                "text": f"stockpile purchase {prog.id}: {got:,.1f} of {asked:,.1f} t of "
                f"{commodity} bought in {date}: {reason}",
                "reason": reason,
                "programme": prog.id,
                "private_to": [prog.issuer],
            }
        )


def _reason(world: World, ci: int, d: int, clearing) -> str:
    """Why the stockpile tier in region ``d`` went short in commodity ``ci``'s clearing."""
    offers = world.offers[ci]
    names = world.region_ids
    if offers.sum() <= 1e-9:
        return "no seller at your bid: nobody offered any this month"
    sold = clearing.flows.sum(axis=(0, 2))  # by origin
    left = np.maximum(offers - sold, 0.0)
    if left.sum() <= 1e-6 * max(offers.sum(), 1.0):
        before = float(clearing.flows[:_STOCKPILE].sum())
        return (
            f"the market sold out: all {before:,.0f} t offered worldwide went to buyers served "
            "before a stockpile (firms and end users buy first)"
        )
    banned = world.policies.banned[ci][:, d]
    capped = clearing.capped[:, d]
    holders = [o for o in np.argsort(-left, kind="stable") if left[o] > 1e-6 and o != d]
    if left[d] <= 1e-6 and holders and all(banned[o] for o in holders):
        return f"the sellers with some left ({', '.join(names[o] for o in holders)}) are banned"
    if left[d] <= 1e-6 and holders and all(banned[o] or capped[o] for o in holders):
        return (
            "the supply left was held back by export licences, quotas or buyers' qualification "
            f"({', '.join(names[o] for o in holders)})"
        )
    price = float(world.prices[ci, d])
    return (
        f"no seller at your bid: sellers with {float(left.sum()):,.0f} t left earn more "
        f"elsewhere than your price of {price:,.3g} USD/kg pays after freight and duties"
    )

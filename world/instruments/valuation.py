"""How an AI state values an order offered as a deal commitment, from the world as it is.

:func:`world.deals.heuristic_gain` makes one :class:`Valuation` for the state weighing a deal
and passes it every commitment; each instrument's ``value`` adds its effect to the four parts
of the state's objective score (welfare, security, leverage, fiscal; world/objectives.py).
Welfare and fiscal cost are in USD/month divided by the region's scale; security and leverage
are shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from world.model import World


class Valuation:
    """The running estimate of one state's gain from a set of orders.

    Args:
        world: the world as it is now.
        region: the state weighing the orders.
        scale: the region's economy scale, USD/month (world/objectives.py).
        hostile: the region's adversaries.
        chain: commodity indices of the magnet chain.
    """

    def __init__(
        self, world: World, region: str, scale: float, hostile: set[str], chain: list[int]
    ):
        self.world = world
        self.region = region
        self.r = world.region_index[region]
        self.scale = scale
        self.hostile = hostile
        self.chain = chain
        self.parts = {"welfare": 0.0, "security": 0.0, "leverage": 0.0, "fiscal": 0.0}

    def dependence(self) -> float:
        """Share of the world's cross-border chain imports that come from this region."""
        w = self.world
        imports = w.import_ema[self.chain]
        others = np.ones(len(w.region_ids), dtype=bool)
        others[self.r] = False
        everything = float(imports[:, :, others].sum())
        return float(imports[:, self.r, others].sum()) / everything if everything > 1e-9 else 0.0

    def my_chain_exports(self) -> float:
        """This region's chain exports, t/month (smoothed)."""
        exports = self.world.import_ema[self.chain][:, self.r, :].copy()
        exports[:, self.r] = 0.0
        return float(exports.sum())

    def fiscal(self, cost_usd: float, sign: float) -> None:
        """Count a programme's monthly cost (USD) of this region's own programme."""
        self.parts["fiscal"] -= sign * cost_usd / self.scale

    def value_order(self, spec: dict, sign: float) -> None:
        """Add one order (as a dict, with ``kind`` and ``issuer``) with weight ``sign`` (1: the
        order applies; -1: it is undone)."""
        from world.instruments import REGISTRY

        instrument = REGISTRY.get(spec["kind"])
        if instrument is not None and instrument.value is not None:
            instrument.value(self, spec, sign)

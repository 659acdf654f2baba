"""End users: the final demand of one sector in one region for one commodity (mostly magnets).

Demand grows at the sector's rate, responds weakly to price in the short run, and thrifts or
substitutes over years while prices stay above their reference (less Dy per magnet, smaller
motors, other technologies). End users hold a working inventory that they raise when they judge
supply at risk and run down afterwards, which is what amplifies a spike and then deepens the bust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from world.model import World
    from world.scenario import EndUserSpec


class EndUser(mesa.Agent):
    """Final demand of one sector in one region.

    Attributes:
        base_tpy: demand at reference prices and full intensity, t/yr (grows over time).
        intensity: material per unit of service (1 at the start; thrifting lowers it).
        inventory: t held.
        wanted, consumed: this month's desired and actual consumption, t.
    """

    model: World

    def __deepcopy__(self, memo: dict) -> EndUser:
        # Forks copy every end user (twice for each deal an AI weighs): see world/copying.py.
        # Imported here: this module imports nothing of the world, so it loads on its own.
        from world.copying import copy_state

        return copy_state(self, memo)

    def __init__(self, model: World, spec: EndUserSpec):
        super().__init__(model)
        self.spec = spec
        self.region = spec.region
        self.sector = spec.sector
        self.commodity = spec.commodity
        self.r = model.region_index[spec.region]
        self.c = model.commodity_index[spec.commodity]
        self.s = model.sector_index[spec.sector]
        self.base_tpy = spec.demand_tpy
        self.monthly_growth = (1.0 + spec.growth_per_year) ** (1.0 / 12.0)
        self.elasticity = spec.elasticity
        self.cover_months = spec.cover_months
        self.intensity = 1.0
        self.shock = 0.0  # events: demand change as a share
        self.reference_price = model.prices[self.c, self.r]
        self.inventory = self.desired_use() * self.cover_months
        self.tracked = self.inventory * model.initial_tracked_share(spec.commodity, spec.region)
        #: Element content (E,) of the stock held, of the material in use and of the scrap.
        self.content = model.content.nominal(spec.commodity, self.inventory)
        self.wanted = 0.0
        self.consumed = 0.0
        self.consumed_tracked = 0.0
        self.consumed_content = model.content.zero
        # End of life: material in use retires over its service life; a share is collected as
        # scrap, which the end user sells to recyclers.
        rec = model.spec.recycling
        self.recycles = rec is not None and rec.product == spec.commodity
        self.in_use_t = spec.demand_tpy * rec.in_use_years if self.recycles else 0.0
        self.scrap_t = 0.0
        self.scrap_tracked_t = 0.0
        self.in_use_content = model.content.nominal(spec.commodity, self.in_use_t)
        self.scrap_content = model.content.zero.copy()

    def desired_use(self) -> float:
        """Tonnes this sector wants to use this month at the current price."""
        w = self.model
        ratio = max(w.prices[self.c, self.r] / self.reference_price, 1e-6)
        return (
            self.base_tpy
            / 12.0
            * self.intensity
            * (1.0 + self.shock)
            * ratio**self.elasticity
            * w.backstop(w.prices, self.c, self.r)
        )

    def bid(self) -> float:
        """Tonnes wanted this month: this month's use plus an inventory correction."""
        w = self.model
        p = w.params
        use = self.desired_use()
        risk = w.risk[self.c, self.r]
        target = use * self.cover_months * (1.0 + p.hoarding * risk)
        gap = (target - self.inventory) / p.restock_months
        return max(0.0, use + w.restock_factor(self.c, self.r, gap))

    def receive(
        self,
        amount: float,
        cost_usd: float,
        tracked_t: float = 0.0,
        content: np.ndarray | None = None,
    ) -> None:
        """Take delivery of bought material (``tracked_t`` of it from the tracked origin,
        carrying ``content``, by default its recipe grade)."""
        if content is None:
            content = self.model.content.nominal(self.model.commodity_ids[self.c], amount)
        self.inventory += amount
        self.tracked += tracked_t
        self.content = self.content + content

    def consume(self) -> None:
        """Use material from stock; what is missing is this month's shortage."""
        self.wanted = self.desired_use()
        self.consumed = min(self.wanted, self.inventory)
        share = self.tracked / self.inventory if self.inventory > 1e-12 else 0.0
        self.consumed_tracked = self.consumed * min(share, 1.0)
        self.tracked = max(self.tracked - self.consumed_tracked, 0.0)
        used = self.content * (self.consumed / self.inventory if self.inventory > 1e-12 else 0.0)
        self.content = self.content - used
        self.consumed_content = used
        self.model.content.consumed[:, self.r] += used
        self.inventory -= self.consumed

    def retire(self) -> float:
        """Material leaving use this month; returns the tonnes collected as scrap."""
        if not self.recycles:
            return 0.0
        rec = self.model.spec.recycling
        self.in_use_t += self.consumed
        self.in_use_content = self.in_use_content + self.consumed_content
        retired = self.in_use_t / (rec.life_years * 12.0)
        share = retired / self.in_use_t if self.in_use_t > 1e-12 else 0.0
        self.in_use_t -= retired
        collected = retired * rec.collection_share
        # Scrap carries what the retiring magnets carry (lean magnets give lean scrap).
        retired_content = self.in_use_content * share
        self.in_use_content = self.in_use_content - retired_content
        self.scrap_content = self.scrap_content + retired_content * rec.collection_share
        self.model.content.collected[:, self.r] += retired_content * rec.collection_share
        share = self.tracked / self.inventory if self.inventory > 1e-12 else 0.0
        self.scrap_t += collected
        self.scrap_tracked_t += collected * min(share, 1.0)
        return collected

    def deliver(
        self, commodity: str, amount: float, revenue_usd: float
    ) -> tuple[float, float, np.ndarray]:
        """Ship ``amount`` t of collected scrap; returns (t shipped, t of tracked origin,
        element content (E,))."""
        amount = min(amount, self.scrap_t)
        share = amount / self.scrap_t if self.scrap_t > 0 else 0.0
        tracked = self.scrap_tracked_t * share
        content = self.scrap_content * share
        self.scrap_t -= amount
        self.scrap_tracked_t = max(self.scrap_tracked_t - tracked, 0.0)
        self.scrap_content = self.scrap_content - content
        return amount, tracked, content

    def adapt(self) -> None:
        """Grow, and thrift or substitute if prices stay high."""
        self.base_tpy *= self.monthly_growth * (1.0 + self.model.demand_growth_shock) ** (1 / 12)
        self.intensity = self.model.thrift(self.intensity, self.c, self.r)

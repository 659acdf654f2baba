"""States: one per region with a government. A state holds its policies and a strategic stockpile.

In the engine the policies come from the scenario with start and end dates; a state's AI (its
doctrine) or a human seat chooses them in the game. The stockpile buys in the market like any
other buyer (at the lowest priority) toward a target in months of cover, and is released into the
home market when the region's buyers go short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from agents.firms import stock_total
from world.copying import copy_state

if TYPE_CHECKING:
    from world.model import World
    from world.scenario import StateSpec


class State(mesa.Agent):
    """A state agent.

    Attributes:
        stockpile: strategic stock per commodity, t.
        fiscal_cost_usd: cumulative spending on the stockpile, USD (sales earn it back).
    """

    model: World

    def __deepcopy__(self, memo: dict) -> State:
        # Forks copy every state (twice for each deal an AI weighs): see world/copying.py.
        return copy_state(self, memo)

    def __init__(self, model: World, spec: StateSpec):
        super().__init__(model)
        self.spec = spec
        self.region = spec.region
        self.name = spec.name
        self.r = model.region_index[spec.region]
        self.stockpile = {c: model.new_stock(c) for c in model.commodity_ids}
        for c, t in spec.stockpile_t.items():
            self.stockpile[c] = model.new_stock(c, t, self.region)
        self.tracked = {
            c: stock_total(self.stockpile[c]) * model.initial_tracked_share(c, self.region)
            for c in model.commodity_ids
        }
        #: Element content (t of each element's oxide) of each non-concentrate stockpile.
        self.content = {
            c: model.content.nominal(c, stock_total(self.stockpile[c]))
            for c in model.commodity_ids
            if c != model.graded
        }
        #: Tonnes released from the stockpile into the market, by commodity: (month, t).
        self.released_t: dict[str, tuple[int, float]] = {}
        self.fiscal_cost_usd = 0.0
        self.spent_this_year_usd = 0.0
        self.fiscal_month_usd = 0.0
        self.fiscal_carry_usd = 0.0

    def spend(self, usd: float) -> None:
        """Book policy spending (negative for receipts): cumulative, this year, this month.

        Spending between two steps (an order applied by hand) counts in the month that follows.
        """
        self.fiscal_cost_usd += usd
        self.spent_this_year_usd += usd
        if self.model.stepping:
            self.fiscal_month_usd += usd
        else:
            self.fiscal_carry_usd += usd

    def start_month(self, january: bool) -> None:
        """Open a new month's accounts (and a new year's budget in January)."""
        self.fiscal_month_usd = self.fiscal_carry_usd
        self.fiscal_carry_usd = 0.0
        if january:
            self.spent_this_year_usd = 0.0

    def _bands(self):
        """The state's price-band stockpile policies in force (buy cheap, sell dear)."""
        return [
            s
            for s in self.model.policies.active
            if s.kind == "stockpile_band" and s.issuer == self.region
        ]

    def stockpile_bids(self) -> dict[str, float]:
        """Tonnes the stockpile wants to buy this month, by commodity."""
        w = self.model
        bids = {}
        for pol in w.policies.stockpile_targets(self.region):
            for c in pol.commodities:
                ci = w.commodity_index[c]
                if w.shortage_ema[ci, self.r] > 0.01:
                    continue  # never buy against one's own short market
                use = w.monthly_use_estimate(ci, self.r)
                target = use * (pol.months_of_cover or 0.0)
                gap = target - stock_total(self.stockpile[c])
                if gap > 0:
                    bids[c] = gap / w.params.restock_months
        for pol in self._bands():
            for c in pol.commodities:
                ci = w.commodity_index[c]
                low = pol.price_low_usd_per_kg
                if low is not None and w.prices[ci, self.r] < low:
                    bids[c] = bids.get(c, 0.0) + (pol.tonnes_per_month or 0.0)
        for prog in w.desk.active("stockpile_buy"):
            if prog.issuer == self.region:
                c = prog.params["commodity"]
                bids[c] = bids.get(c, 0.0) + prog.params["t_per_month"]
        return bids

    def stockpile_offers(self) -> dict[str, float]:
        """Tonnes released into the home market this month, by commodity."""
        w = self.model
        offers = {}
        for c, stock in self.stockpile.items():
            held = stock_total(stock)
            if held <= 0:
                continue
            ci = w.commodity_index[c]
            short = w.shortage_ema[ci, self.r]
            if short > 0.02:
                use = w.monthly_use_estimate(ci, self.r)
                offers[c] = min(held, short * use * 2.0)
        for pol in self._bands():
            for c in pol.commodities:
                ci = w.commodity_index[c]
                high = pol.price_high_usd_per_kg
                held = stock_total(self.stockpile[c])
                if high is not None and w.prices[ci, self.r] > high and held > 0:
                    offers[c] = min(held, offers.get(c, 0.0) + (pol.tonnes_per_month or 0.0))
        for prog in w.desk.active("stockpile_release"):
            if prog.issuer == self.region:
                c = prog.params["commodity"]
                held = stock_total(self.stockpile[c])
                offers[c] = min(held, offers.get(c, 0.0) + prog.params["t_per_month"])
        return offers

    def released_this_month(self, commodity: str) -> float:
        """Tonnes of ``commodity`` the stockpile sold into the market this month."""
        month, tonnes = self.released_t.get(commodity, (-1, 0.0))
        return tonnes if month == self.model.month else 0.0

    def receive(
        self,
        commodity: str,
        amount: float,
        cost_usd: float,
        tracked_t: float = 0.0,
        content: np.ndarray | None = None,
    ) -> None:
        """Take stock into the stockpile (``tracked_t`` of it from the tracked origin, carrying
        ``content``, by default its recipe grade)."""
        self.stockpile[commodity] = self.stockpile[commodity] + amount
        self.tracked[commodity] += tracked_t
        if commodity in self.content:
            if content is None:
                content = self.model.content.nominal(commodity, float(amount))
            self.content[commodity] = self.content[commodity] + content
        self.spend(cost_usd)

    def deliver(self, commodity: str, amount: float, revenue_usd: float):
        """Release ``amount`` t from the stockpile.

        Returns:
            What left (t, or a deposit vector), its tonnes from the tracked origin and its
            element content (E,; zero for concentrate, whose vector carries it).
        """
        self.spend(-revenue_usd)
        self.released_t[commodity] = (
            self.model.month,
            self.released_this_month(commodity) + amount,
        )
        held = stock_total(self.stockpile[commodity])
        share = min(amount / held, 1.0) if held > 1e-12 else 0.0
        tracked = self.tracked[commodity] * share
        self.tracked[commodity] = max(self.tracked[commodity] - tracked, 0.0)
        content = self.model.content.zero
        if commodity in self.content:
            content = self.content[commodity] * share
            self.content[commodity] = self.content[commodity] - content
        shipped, self.stockpile[commodity] = self.model.split_stock(
            self.stockpile[commodity], amount
        )
        return shipped, tracked, content

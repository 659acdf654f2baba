"""Producer firms: one plant or an aggregated group at one stage of the chain in one region.

A firm turns inputs into outputs within its capacity, sells its output, buys inputs toward an
inventory target that rises with perceived supply risk (precautionary hoarding), thrifts inputs
whose price stays high (where its stage allows), invests in capacity when expected margins pay
the capex back (plants come online after the stage's lead time), idles after persistent losses,
restarts when margins recover, and exits after a long idle spell. Capex is sunk: once spent it
never enters the idle or exit decisions.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import mesa
import numpy as np

from world import numerics
from world.copying import copy_state
from world.instruments import programmes, trade
from world.instruments.alliances import input_premium, output_premium

if TYPE_CHECKING:
    from world.model import World
    from world.scenario import FirmSpec

#: Share of capacity a new plant runs at in its first month of output.
RAMP_START = 0.3

OPERATING, CONSTRUCTION, CANDIDATE, IDLE, EXITED = (
    "operating",
    "construction",
    "candidate",
    "idle",
    "exited",
)


class Firm(mesa.Agent):
    """A producer at one stage in one region.

    Quantities are in tonnes (t), flows per month unless the name says ``_tpy`` (t/yr), prices in
    USD/kg. Concentrate is held as a vector over deposit types (t REO of each), because the
    separation yields depend on the deposit the feed came from.

    Attributes:
        capacity_tpy: installed and producing (or idle) throughput capacity, t/yr.
        pipeline: capacity under construction as (online month, t/yr) pairs.
        inventory: t held of each commodity (a deposit vector for concentrate).
        cash_usd: cumulative operating cash flow less capex, USD.
    """

    model: World

    def __deepcopy__(self, memo: dict) -> Firm:
        # Forks copy every firm (twice for each deal an AI weighs): see world/copying.py.
        return copy_state(self, memo)

    def __init__(self, model: World, spec: FirmSpec):
        super().__init__(model)
        self.spec = spec
        self.firm_id = spec.id
        self.name = spec.name
        self.stage = spec.stage
        self.region = spec.region
        self.r = model.region_index[spec.region]
        stage = model.spec.stages[spec.stage]
        self.inputs: dict[str, float] = dict(stage.inputs)
        self.outputs: dict[str, float] = dict(stage.outputs)
        self.joint_outputs = stage.joint_outputs_by_deposit
        self.intensity = dict.fromkeys(self.inputs, 1.0)
        # Only an input whose content per tonne of product can change (Dy/Tb per t of alloy) is
        # thrifted; stoichiometric inputs (NdPr in the metal, metal in the magnet) never are.
        self.substitutable = set(stage.substitutable)
        self.ramp_months = stage.ramp_months
        #: Joint products the plant separates only from a month on (month index).
        self.separates_from = {c: model.month_of(d) for c, d in spec.separates_from.items()}
        self.online_month: int | None = None
        self.unit_cost = spec.unit_cost_usd_per_kg
        self.lead_time = spec.lead_time_months or stage.lead_time_months
        self.capex_per_tpy = (
            spec.capex_usd_per_tpy
            if spec.capex_usd_per_tpy is not None
            else stage.capex_usd_per_tpy
        )
        self.life_years = stage.life_years
        self.deposit_index = model.deposit_index[spec.deposit] if spec.deposit is not None else None
        self.status = spec.status
        self.capacity_tpy = spec.capacity_tpy if spec.status == OPERATING else 0.0
        self.idle_tpy = spec.capacity_tpy if spec.status == IDLE else 0.0
        self.planned_tpy = spec.capacity_tpy
        self.pipeline: list[tuple[int, float]] = []
        self.capacity_factor = 1.0  # events and outages scale effective capacity
        self.outage: tuple[int, float] = (0, 0.0)  # (month it ends, share of capacity lost)
        self.utilisation = spec.utilisation if spec.status == OPERATING else 0.0
        self.cash_usd = spec.cash_usd
        self.loss_months = 0
        self.profit_months = 0
        self.idle_months = 0
        self.last_invest_month = -(10**6)
        self.margin_usd_per_kg = 0.0
        self.throughput = 0.0  # t this month
        outputs = (
            model.nominal_joint_yields(spec.region) if self.joint_outputs else dict(self.outputs)
        )
        cap_month = spec.capacity_tpy / 12.0 * self.utilisation
        self.sales_ema = {c: cap_month * y for c, y in outputs.items()}
        self.sold = dict.fromkeys(outputs, 0.0)
        # The past year's run rate, backcast at the market's outlook (the end users' demand
        # growth): firms know the trend they start in, and plan capacity for it from month 0.
        growth = model.demand_outlook_per_year
        self.run_rate_history: deque[float] = deque(
            (
                cap_month * (1.0 + growth) ** ((k - 12) / 12.0) if spec.status == OPERATING else 0
                for k in range(13)
            ),
            maxlen=13,
        )
        self.backlog = dict.fromkeys(outputs, 0.0)
        self.inventory: dict[str, float | np.ndarray] = {}
        for c in self.inputs:
            self.inventory[c] = model.new_stock(c)
        for c in self._output_commodities():
            self.inventory.setdefault(c, model.new_stock(c))
        # Tonnes of each stock that came from the tracked origin (China by default): provenance
        # follows material through trade and processing, so "magnets made without Chinese
        # material" can be measured.
        self.tracked: dict[str, float] = {}
        #: Element content (t of each element's oxide) of each non-concentrate stock.
        self.content: dict[str, np.ndarray] = {}
        self._feed_cache: tuple | None = None
        #: (prices, month, margin and revenue) of this month's production run, for its bids.
        self._run_terms: tuple | None = None
        if spec.status == CONSTRUCTION and spec.online is not None:
            # Announced dates slip: each seed draws the delay.
            # Members of one project (a mine and its refinery) slip together.
            delay = model.announced_delay(spec.project or spec.id, self.lead_time)
            self._schedule(model.month_of(spec.online) + delay, spec.capacity_tpy)

    # ------------------------------------------------------------------ structure

    def _output_commodities(self) -> list[str]:
        if self.joint_outputs:
            return list(self.model.joint_products)
        return list(self.outputs)

    def output_commodities(self) -> list[str]:
        """Commodities this firm sells."""
        return self._output_commodities()

    def nominal_yields(self) -> dict[str, float]:
        """Output per t of throughput, t/t, at the firm's nominal feed."""
        if not self.joint_outputs:
            return self.outputs
        return self._separated(self.model.nominal_joint_yields(self.region))

    def feed_yields(self) -> dict[str, float]:
        """Output per t of throughput given the feed now in stock (separators) or the recipe."""
        if not self.joint_outputs:
            return self.outputs
        return self._feed_terms()[0]

    def _feed_terms(self) -> tuple[dict[str, float], float]:
        """(:meth:`feed_yields`, :meth:`byproduct_value`) of a separator's feed in stock.

        Both are read several times a month between changes of the feed; a stock is replaced,
        never changed in place, so the cache is keyed on the stock object (and the month, for
        :meth:`_separated`).
        """
        feed = self.inventory[self.model.graded]
        month = self.model.month
        cached = self._feed_cache
        if cached is not None and cached[0] is feed and cached[1] == month:
            return cached[2]
        total = stock_total(feed)
        if total <= 1e-12:
            yields = self.nominal_yields()
            share = self.model.nominal_feed_share(self.region)
        else:
            share = feed / total
            yields = self._separated(self.model.joint_yields(share))
        terms = (yields, float(numerics.matmul(share, self.model.byproduct_usd_per_kg)))
        self._feed_cache = (feed, month, terms)
        return terms

    def _separated(self, yields: dict[str, float]) -> dict[str, float]:
        """Joint yields less the products the plant cannot separate yet (they leave with the
        unseparated by-products): Lynas separated no heavy oxide before May 2025."""
        if not self.separates_from:
            return yields
        month = self.model.month
        return {
            c: (0.0 if month < self.separates_from.get(c, -1) else y) for c, y in yields.items()
        }

    def byproduct_value(self) -> float:
        """USD per kg throughput earned from unmodelled co-products (e.g. La, Ce)."""
        if not self.joint_outputs:
            return 0.0
        return self._feed_terms()[1]

    # ------------------------------------------------------------------ monthly phases

    def unit_margin(self, prices: np.ndarray, internal: frozenset[str] = frozenset()) -> float:
        """Margin per kg of throughput, USD/kg: outputs at the best price the firm can realise
        (home market or an export market it can reach freely), inputs at home prices.

        ``internal`` names commodities made and used inside an integrated project: they are
        neither sold nor bought, so they carry no price.
        """
        return self._margin_revenue(prices, internal)[0]

    def _margin_revenue(
        self, prices: np.ndarray, internal: frozenset[str] = frozenset()
    ) -> tuple[float, float]:
        """(:meth:`unit_margin`, the revenue per kg of throughput it counts), USD/kg: one pass
        for callers that weigh the margin against the revenue."""
        w = self.model
        sell = w.sell_prices(prices)
        revenue = self.byproduct_value()
        for c, y in self.feed_yields().items():
            if c not in internal:
                revenue += y * self._sale_value(c, sell[w.commodity_index[c], self.r])
        cost = self.unit_cost - programmes.subsidy_usd_per_kg(w, self)
        for c, q in self.inputs.items():
            if c not in internal:
                cost += q * self.use_intensity(c, prices) * self._input_price(c, prices)
        return revenue - cost, revenue

    def ramp_share(self) -> float:
        """Share of capacity a new plant can run at: 30% at its first output, rising linearly to
        100% over the stage's ramp time (commissioning, learning, customers' qualification)."""
        if self.online_month is None:
            return 1.0
        progress = (self.model.month - self.online_month) / self.ramp_months
        return min(1.0, RAMP_START + (1.0 - RAMP_START) * max(progress, 0.0))

    def operable_tpy(self) -> float:
        """Capacity that can run this month, t/yr: installed capacity less shocks and ramp."""
        return self.capacity_tpy * self.capacity_factor * self.ramp_share()

    def planned_throughput(
        self,
        adjust_months: float | None = None,
        capped: bool = True,
        terms: tuple[float, float] | None = None,
    ) -> float:
        """Throughput the firm plans for a month, t: expected sales plus a stock correction.

        Production is pulled by demand: each output's expected sales plus a correction toward
        the normal finished-goods cover, converted to throughput (for joint products, weighted
        by value, leaving out a co-product in glut), capped by capacity and cut when the plant
        loses money on each kg. ``terms``: this month's :meth:`_margin_revenue` at current
        prices, if the caller has it.
        """
        w = self.model
        p = w.params
        # operable_tpy() with its ramp share kept: the ramp decides below too.
        ramp = self.ramp_share()
        operable = self.capacity_tpy * self.capacity_factor * ramp
        cap_month = min(operable / 12.0, programmes.quota_month(w, self))
        if self.status != OPERATING or cap_month <= 0:
            return 0.0
        # Joint products: throughputs weighted by value, leaving out a co-product in glut
        # (more stock than the recovery limit), which is simply not recovered (see _recovery)
        # rather than allowed to stop the plant.
        needs: list[tuple[float, float, bool]] = []
        limit = p.joint_stock_limit_months
        adjust = adjust_months or p.production_adjust_months
        cover = p.output_cover_months
        prices, index, r = w.prices, w.commodity_index, self.r
        sales_ema, inventory, joint = self.sales_ema, self.inventory, self.joint_outputs
        for c, y in self.nominal_yields().items():
            if y <= 0:
                continue
            sales = sales_ema[c]
            stock = stock_total(inventory[c])
            need = sales + (cover * sales - stock) / adjust
            value = y * prices[index[c], r]
            glut = joint and sales > 0 and stock > limit * sales
            needs.append((value, max(need, 0.0) / y, glut))
        drivers = [(v, n) for v, n, glut in needs if not glut] or [(v, n) for v, n, _ in needs]
        weight_sum = sum(v for v, _ in drivers)
        desired = sum(v * n for v, n in drivers) / weight_sum if weight_sum > 0 else 0.0
        ramping = ramp < 1.0
        if not (capped or ramping):
            return desired
        margin, revenue = terms or self._margin_revenue(w.prices)
        margin_share = margin / max(revenue, 1e-9)
        margin_factor = min(1.0, max(0.0, 1.0 + 4.0 * margin_share))
        if ramping and margin_share > 0:
            # A plant in its ramp sells to the customers it signed while it was built: it runs
            # as fast as its ramp allows while its output sells (no stock piling up).
            stock_months = self._output_stock_months(cap_month)
            if stock_months <= p.output_cover_months + 1.0:
                desired = max(desired, cap_month)
        if not capped:
            return desired
        return min(desired, cap_month) * margin_factor

    def produce(self) -> None:
        """Run the plant for one month from the inputs in stock."""
        w = self.model
        self.throughput = 0.0
        for c in self.sold:
            self.sold[c] = 0.0
            self.backlog[c] = 0.0
        cap_month = self.operable_tpy() / 12.0
        if self.status != OPERATING or cap_month <= 0:
            return
        terms = self._margin_revenue(w.prices)
        self._run_terms = (w.prices, w.month, terms)
        self.margin_usd_per_kg = terms[0]
        target = self.planned_throughput(terms=terms)
        intensity = {c: self.use_intensity(c, w.prices) for c in self.inputs}
        for c, q in self.inputs.items():
            need = q * intensity[c]
            # A substitutable input never stops the line: without it the plant makes grades
            # that need less (Dy-free magnets), so only the other inputs cap production.
            if need > 0 and c not in self.substitutable:
                target = min(target, stock_total(self.inventory[c]) / need)
        target = max(target, 0.0)
        self.utilisation = target / (self.capacity_tpy / 12.0)
        if target <= 0:
            return
        self.throughput = target
        produced = w.production_buffer
        used = w.use_buffer
        book = w.content
        used_t = used_tracked = 0.0
        content_in = book.zero
        # Yields of the feed actually used, read before it leaves the stock (an emptied stock
        # would otherwise read as the region's nominal feed).
        joint_yields = self.feed_yields() if self.joint_outputs else None
        for c, q in self.inputs.items():
            amount = min(target * q * intensity[c], stock_total(self.inventory[c]))
            tracked = self._take_tracked(c, amount)
            used_t += amount
            used_tracked += tracked
            ci = w.commodity_index[c]
            if c == w.graded:
                stock = self.inventory[c]
                share = stock / stock.sum()
                content_in = content_in + book.of_concentrate(share * amount)
                self.inventory[c] = np.maximum(stock - amount * share, 0.0)
            else:
                content_in = content_in + self._take_content(c, amount)
                self.inventory[c] = max(self.inventory[c] - amount, 0.0)
            used[ci, self.r] += amount
        if self.region == w.tracked_origin:
            origin_share = 1.0
        else:
            origin_share = used_tracked / used_t if used_t > 0 else 0.0
        yields = joint_yields if self.joint_outputs else self._content_yields(content_in)
        content_out = book.zero
        products = [c for c in yields if c not in book.elements]
        for c, y in yields.items():
            amount = target * y * self._recovery(c)
            self.tracked[c] = self.tracked.get(c, 0.0) + amount * origin_share
            ci = w.commodity_index[c]
            if c == w.graded:
                vec = np.zeros(len(w.deposit_ids))
                vec[self.deposit_index] = amount
                self.inventory[c] = self.inventory[c] + vec
                book.mined[:, self.r] += book.of_concentrate(vec)
            else:
                self.inventory[c] = self.inventory[c] + amount
                if c in book.elements:
                    added = book.nominal(c, amount)
                else:
                    # A stage product carries what went into it (shared by tonnes if several).
                    total = sum(target * yields[k] for k in products)
                    added = (content_in - self._element_out(yields, target)) * (
                        amount / total if total > 0 else 0.0
                    )
                self.content[c] = self.content.get(c, book.zero) + added
                content_out = content_out + added
            produced[ci, self.r] += amount
        if self.inputs:
            # What the plant put in but did not recover (tailings, unseparated co-products).
            book.lost[:, self.r] += content_in - content_out
        self.cash_usd -= self.unit_cost * target * 1000.0
        programmes.pay_production_subsidy(w, self, target)

    def _content_yields(self, content_in: np.ndarray) -> dict[str, float]:
        """A fixed-recipe stage's yields; an element it recovers (a recycler's oxides) comes in
        the recipe's recovery of what the feed actually carries, so lean scrap gives less Dy/Tb.
        """
        book = self.model.content
        if not any(c in book.elements for c in self.outputs) or self.throughput <= 0:
            return self.outputs
        nominal = sum((q * book.coef.get(c, book.zero) for c, q in self.inputs.items()), book.zero)
        carried = content_in / self.throughput
        out = dict(self.outputs)
        for i, c in enumerate(book.elements):
            if c in out and nominal[i] > 0:
                out[c] = self.outputs[c] / nominal[i] * carried[i]
        return out

    def _element_out(self, yields: dict[str, float], target: float) -> np.ndarray:
        """Content (E,) of the element oxides a fixed-recipe stage makes from ``target`` t."""
        book = self.model.content
        return sum(
            (book.nominal(c, target * y) for c, y in yields.items() if c in book.elements),
            book.zero,
        )

    def _take_content(self, commodity: str, amount: float) -> np.ndarray:
        """Remove ``amount`` t pro rata from a stock's content ledger (before the stock itself is
        reduced); returns the content removed (E,)."""
        held = self.content.get(commodity)
        if held is None:
            return self.model.content.zero
        total = stock_total(self.inventory[commodity])
        taken = held * min(amount / total, 1.0) if total > 1e-12 else held * 0.0
        self.content[commodity] = held - taken
        return taken

    def use_intensity(self, commodity: str, prices: np.ndarray) -> float:
        """Input used per unit of the recipe (1 = the recipe): thrift, then substitution.

        Substitutable inputs (the stage's ``substitutable`` list, e.g. Dy in magnet alloys) are
        also cut at once when their price soars, by switching to grades that need less.
        """
        value = self.intensity[commodity]
        if commodity in self.substitutable:
            value *= self.model.backstop(prices, self.model.commodity_index[commodity], self.r)
        return value

    def _recovery(self, commodity: str) -> float:
        """Share of a joint product the separator recovers (0.2-1).

        A separator drowning in one co-product (more than ``joint_stock_limit_months`` of sales in
        stock) stops separating it and ships it unseparated with the by-products, as plants do
        with minor co-products nobody buys; main outputs are always recovered.
        """
        if not self.joint_outputs or commodity == self.model.primary_joint:
            return 1.0
        limit = self.model.params.joint_stock_limit_months * self.sales_ema.get(commodity, 0.0)
        if limit <= 0:
            return 1.0
        return min(1.0, max(0.2, 2.0 - stock_total(self.inventory[commodity]) / limit))

    def unit_costs(self, prices: np.ndarray) -> dict[str, float]:
        """Full cost per kg of each output at the given prices, USD/kg.

        Separation is costed by the by-product method: the main product (the joint product of
        largest yield, NdPr oxide) bears the feed and processing cost less the value of every
        co-product, whose own prices are set by their markets alone.
        """
        w = self.model
        cost = self.unit_cost - programmes.subsidy_usd_per_kg(w, self)
        for c, q in self.inputs.items():
            cost += q * self.use_intensity(c, prices) * self._input_price(c, prices)
        if self.joint_outputs:
            cost -= self.byproduct_value()
            yields = self.feed_yields()
            primary = w.primary_joint
        elif len(self.outputs) == 1:
            return {c: cost / y for c, y in self.outputs.items() if y > 0}
        else:  # several fixed outputs (a recycler's oxides): by-product costing too
            yields = self.outputs
            primary = max(yields, key=yields.get)
        for c, y in yields.items():
            if c != primary:
                # Credit co-products at their expected price: a spike in Dy should not swing
                # the NdPr cost basis month by month.
                cost -= y * w.expected_prices[w.commodity_index[c], self.r]
        y_main = yields.get(primary, 0.0)
        return {primary: max(cost, 0.0) / y_main} if y_main > 0 else {}

    def _floored(self, commodity: str, price: float) -> float:
        """The price the firm counts on for an output: the market's (for a mine's concentrate,
        scaled by its basket against the region's), or a state's floor."""
        if self.deposit_index is not None and commodity == self.model.graded:
            price *= self.model.basket_factor(self)
        floor = programmes.guaranteed_price(self.model, self, commodity)
        return price if floor is None else max(price, floor)

    def _sale_value(self, commodity: str, price: float) -> float:
        """What the firm counts on per kg of an output sold at ``price`` (USD/kg): the market's
        price or a state's floor (:meth:`_floored`), plus the pooled-offtake premium its
        region's sellers earn on the market price (world/instruments/alliances.py)."""
        w = self.model
        value = self._floored(commodity, price)
        rate = output_premium(w, w.commodity_index[commodity], self.r)
        if rate > 0:
            basket = w.basket_factor(self) if commodity == w.graded else 1.0
            value += rate * price * basket
        return value

    def _input_price(self, commodity: str, prices: np.ndarray) -> float:
        """What the firm pays per kg of an input, USD/kg: the home price, plus the
        pooled-offtake premium its region's buyers pay on it (world/instruments/alliances.py)."""
        w = self.model
        ci = w.commodity_index[commodity]
        return prices[ci, self.r] * (1.0 + input_premium(w, ci, self.r))

    def _output_stock_months(self, cap_month: float) -> float:
        if cap_month <= 0:
            return 0.0
        months = 0.0
        for c, y in self.nominal_yields().items():
            if y > 0:
                months = max(months, stock_total(self.inventory[c]) / (cap_month * y))
        return months

    def offers(self) -> dict[str, float]:
        """Tonnes offered for sale this month, by commodity.

        A seller offers its whole stock unless the price has fallen below what it expects, in
        which case it holds some back for better days (speculative storage), which is what
        keeps a glut from driving prices to nothing in a month. A product under a price floor
        above the price is offered in full: every kg sold earns the floor, so nothing is worth
        holding back.
        """
        w = self.model
        k = w.params.withholding
        out = {}
        for c in self._output_commodities():
            ci = w.commodity_index[c]
            price = w.prices[ci, self.r]
            ratio = price / max(w.expected_prices[ci, self.r], 1e-9)
            floor = programmes.guaranteed_price(w, self, c)
            if floor is not None and floor >= price:
                ratio = 1.0
            out[c] = stock_total(self.inventory[c]) * min(1.0, max(0.5, ratio**k))
        return out

    def bids(self) -> dict[str, float]:
        """Tonnes of each input wanted this month: next month's use plus an inventory correction."""
        w = self.model
        if self.status != OPERATING or self.capacity_tpy <= 0:
            return {}
        # Inputs are bought for a run rate that corrects finished-goods stock only slowly, so
        # purchases do not swing with every production adjustment (the bullwhip).
        p = w.params
        # A plant of fixed recipe earns what it earned when it ran this month (prices, policies
        # and its intensities are unchanged since); a separator's feed has changed since.
        terms = None
        if self._run_terms is not None and not self.joint_outputs:
            prices, month, ran = self._run_terms
            if prices is w.prices and month == w.month:
                terms = ran
        planned = self.planned_throughput(adjust_months=3 * p.restock_months, terms=terms)
        result = {}
        for c, q in self.inputs.items():
            ci = w.commodity_index[c]
            need = planned * q * self.use_intensity(c, w.prices)
            risk = w.risk[ci, self.r]
            target = need * p.input_cover_months * (1.0 + p.hoarding * risk)
            gap = (target - stock_total(self.inventory[c])) / p.restock_months
            result[c] = max(0.0, need + w.restock_factor(ci, self.r, gap))
        return result

    def _take_tracked(self, commodity: str, amount: float) -> float:
        """Remove ``amount`` t pro rata from the tracked-origin part of a stock (before the
        stock itself is reduced); returns the tracked tonnes removed."""
        total = stock_total(self.inventory[commodity])
        tracked = self.tracked.get(commodity, 0.0)
        taken = tracked * min(amount / total, 1.0) if total > 1e-12 else 0.0
        self.tracked[commodity] = max(tracked - taken, 0.0)
        return taken

    def receive(
        self,
        commodity: str,
        amount: float | np.ndarray,
        cost_usd: float,
        tracked_t: float = 0.0,
        content: np.ndarray | None = None,
    ) -> None:
        """Take delivery of bought material (``tracked_t`` of it from the tracked origin,
        carrying ``content``, by default its recipe grade)."""
        self.inventory[commodity] = self.inventory[commodity] + amount
        self.tracked[commodity] = self.tracked.get(commodity, 0.0) + tracked_t
        if commodity != self.model.graded:
            if content is None:
                content = self.model.content.nominal(commodity, float(amount))
            self.content[commodity] = self.content.get(commodity, self.model.content.zero) + (
                content
            )
        self.cash_usd -= cost_usd

    def deliver(
        self, commodity: str, amount: float, revenue_usd: float, sale: bool = True
    ) -> tuple[float | np.ndarray, float, np.ndarray]:
        """Ship ``amount`` t of ``commodity``.

        ``sale`` is False for stock a state takes off the firm's hands because it did not sell
        (a price floor's backstop): the firm is paid, but does not plan its output on it.

        Returns:
            What left (t, or a deposit vector), how many of those tonnes came from the tracked
            origin, and their element content (E,; zero for concentrate, whose vector carries it).
        """
        tracked = self._take_tracked(commodity, amount)
        content = self._take_content(commodity, amount)
        shipped, self.inventory[commodity] = self.model.split_stock(
            self.inventory[commodity], amount
        )
        if sale:
            self.sold[commodity] = self.sold.get(commodity, 0.0) + amount
        self.cash_usd += revenue_usd
        return shipped, tracked, content

    def adapt(self) -> None:
        """Thrift costly inputs, and decide on idling, restart, exit and investment."""
        w = self.model
        for c, sold in self.sold.items():
            orders = sold + self.backlog.get(c, 0.0)
            self.sales_ema[c] = 0.7 * self.sales_ema.get(c, 0.0) + 0.3 * orders
        if self.status == OPERATING:
            self.run_rate_history.append(self.planned_throughput(adjust_months=1e9, capped=False))
        for c in self.substitutable:
            ci = w.commodity_index[c]
            self.intensity[c] = w.thrift(
                self.intensity[c], ci, self.r, floor=w.params.content_thrift_floor
            )
        if self.status in (OPERATING, IDLE):
            self._idle_restart_exit()
            if self.status == OPERATING:
                self._consider_investment()
        elif self.status == CANDIDATE:
            self._consider_entry()

    def _idle_restart_exit(self) -> None:
        """Mothball capacity after persistent losses, restart it when margins recover, retire it
        after a long idle spell.

        An aggregated firm stands for many plants, so it idles a share of its capacity at a
        time (``idle_step_share``) rather than all at once; a single plant has one step.
        """
        w = self.model
        p = w.params
        expected, revenue = self._margin_revenue(w.expected_prices)
        revenue = max(revenue, 1e-9)
        losing = expected < -p.idle_loss_share * revenue
        self.loss_months = self.loss_months + 1 if losing else 0
        self.profit_months = self.profit_months + 1 if expected > p.idle_loss_share * revenue else 0
        if self.idle_tpy > 0:
            self.idle_months += 1
        if self.capacity_tpy > 0 and self.loss_months >= p.idle_after_months:
            step = self.capacity_tpy * p.idle_step_share
            if self.capacity_tpy - step < 0.05 * self.planned_tpy:
                step = self.capacity_tpy
            self.mothball(step)
            w.log_firm_event(self, f"idles {step:,.0f} t/yr after persistent losses")
        elif self.idle_tpy > 0 and self.profit_months >= p.restart_after_months:
            w.log_firm_event(self, f"restarts {self.idle_tpy:,.0f} t/yr")
            self.restart_idle()
        elif self.idle_tpy > 0 and self.idle_months >= p.exit_after_months:
            w.log_firm_event(self, f"retires {self.idle_tpy:,.0f} t/yr of idle capacity")
            self.idle_tpy = 0.0
        self._update_status()

    def mothball(self, tpy: float) -> None:
        """Idle ``tpy`` of operating capacity (it can restart later)."""
        tpy = min(tpy, self.capacity_tpy)
        self.capacity_tpy -= tpy
        self.idle_tpy += tpy
        self.loss_months = 0
        self.idle_months = 0
        self._update_status()

    def restart_idle(self) -> None:
        """Bring all idle capacity back into operation."""
        self.capacity_tpy += self.idle_tpy
        self.idle_tpy = 0.0
        self.profit_months = 0
        self.utilisation = max(self.utilisation, 0.5)
        self._update_status()

    def _update_status(self) -> None:
        if self.status in (CANDIDATE, CONSTRUCTION) and self.capacity_tpy <= 0:
            return
        if self.capacity_tpy > 0:
            self.status = OPERATING
        elif self.idle_tpy > 0:
            self.status = IDLE
            self.utilisation = 0.0
        else:
            self.status = EXITED

    def _payback_ok(self, margin_usd_per_kg: float, capex_per_tpy: float) -> bool:
        annual_margin_usd_per_tpy = margin_usd_per_kg * 1000.0
        p = self.model.params
        required = capex_per_tpy * (p.invest_hurdle + 1.0 / self.life_years)
        return annual_margin_usd_per_tpy > required

    def _consider_investment(self) -> None:
        """Expand when the demand expected by the time new capacity could run exceeds what the
        firm has installed and under construction, and the margin pays the capex back.

        Expected demand extrapolates the firm's own order trend of the past year over the
        stage's lead time: a plant that takes three years must be started three years of
        growth ahead, which is why slow stages lag behind demand.
        """
        w = self.model
        p = w.params
        if w.month - self.last_invest_month < p.invest_cooldown_months or self.idle_tpy > 0:
            return
        history = list(self.run_rate_history)
        if len(history) < 13:
            return
        # Quarter-on-quarter a year apart, so a month of backlog does not read as a boom.
        then, now = sum(history[:3]) / 3.0, sum(history[-3:]) / 3.0
        if then <= 0:
            return
        trend = min(max(now / then - 1.0, -0.1), p.invest_max_trend)
        years = (self.lead_time + 6) / 12.0
        projected_tpy = now * 12.0 * (1.0 + trend) ** years
        installed = self.capacity_tpy + self.pipeline_tpy()
        if projected_tpy <= p.invest_utilisation * installed:
            return
        # Under a production quota new capacity beyond the firm's share could never run.
        room_tpy = programmes.capacity_ceiling(w, self) - installed
        if room_tpy <= 0:
            return
        expected = self.unit_margin(w.investor_prices)
        capex = self.capex_per_tpy * programmes.capex_multiplier(w, self)
        if self._payback_ok(expected, capex):
            added = min(
                max(
                    projected_tpy / p.invest_utilisation - installed,
                    self.capacity_tpy * p.invest_step_share,
                ),
                self.capacity_tpy * p.invest_max_step_share,
                room_tpy,
            )
            self._invest(added, capex, "expands capacity")

    def _consider_entry(self) -> None:
        w = self.model
        if self.pipeline:
            return
        if self.spec.project:
            self._consider_project()
            return
        capex = self.capex_per_tpy * programmes.capex_multiplier(w, self)
        expected = self.unit_margin(w.investor_prices)
        if not self._trigger_met():
            return
        if self._payback_ok(expected, capex):
            self.status = CONSTRUCTION
            self._invest(self.planned_tpy, capex, "commits to build")

    def trigger_price(self) -> float | None:
        """The expected price of its main product (USD/kg) a candidate waits for before it
        commits (``min_price_usd_per_kg``), after what the state changes in its capex.

        The scenario's trigger is the project's incentive price: the price at which it pays
        back unaided, capex charge included. A capex subsidy takes its share of that charge
        (capex x (hurdle + 1 / life) a year, per kg of the product) off the price; a foreign
        technology ban that makes the plant dearer adds to it.
        """
        trigger = self.spec.min_price_usd_per_kg
        if trigger is None:
            return None
        w = self.model
        product = self._output_commodities()[0]
        per_kg = self.nominal_yields().get(product, 0.0)
        if per_kg <= 0:
            return trigger
        charge = self.capex_per_tpy * (w.params.invest_hurdle + 1.0 / self.life_years) / 1000.0
        return max(trigger + (programmes.capex_multiplier(w, self) - 1.0) * charge / per_kg, 0.0)

    def _trigger_met(self) -> bool:
        """Whether the candidate's expected price reaches its trigger price; a state's price
        floor on the product counts as its price (a floor is what de-risks such projects)."""
        trigger = self.trigger_price()
        if trigger is None:
            return True
        w = self.model
        product = self._output_commodities()[0]
        price = w.expected_prices[w.commodity_index[product], self.r]
        floor = programmes.guaranteed_price(w, self, product)
        return max(price, floor or 0.0) >= trigger

    def _consider_project(self) -> None:
        """Commit an integrated project (e.g. a mine with its separation plant) as one decision.

        The project's margin per t of throughput adds its members' margins with the material
        passed between them unpriced; its capex adds theirs. The first candidate member decides
        for all.
        """
        w = self.model
        members = [f for f in w.projects[self.spec.project] if f.status == CANDIDATE]
        if not members or members[0] is not self:
            return
        # A project waits for its members' trigger prices, as a single candidate does.
        if not all(f._trigger_met() for f in members):
            return
        made = {c for f in members for c in f.output_commodities()}
        used = {c for f in members for c in f.inputs}
        internal = frozenset(made & used)
        margin = sum(f.unit_margin(w.investor_prices, internal) for f in members)
        capex = sum(f.capex_per_tpy * programmes.capex_multiplier(w, f) for f in members)
        if self._payback_ok(margin, capex):
            # Members start together, when the slowest is ready: a mine without its
            # separation plant has nobody to sell to.
            online = w.month + max(f.lead_time for f in members) + trade.lead_time_extra(w, self)
            for f in members:
                f.status = CONSTRUCTION
                f._invest(
                    f.planned_tpy,
                    f.capex_per_tpy * programmes.capex_multiplier(w, f),
                    f"commits to build ({self.spec.project})",
                    online=online,
                )

    def order_capacity(self, capacity_tpy: float) -> None:
        """Order new capacity now (the firm's own ``invest`` order), t/yr, at its capex after
        technology bans and subsidies (a candidate project starts construction)."""
        capex = self.capex_per_tpy * programmes.capex_multiplier(self.model, self)
        if self.status == CANDIDATE:
            self.status = CONSTRUCTION
        self._invest(capacity_tpy, capex, "orders new capacity")

    def _invest(
        self, added_tpy: float, capex_per_tpy: float, verb: str, online: int | None = None
    ) -> None:
        w = self.model
        self.cash_usd -= added_tpy * capex_per_tpy * w.capex_overrun()
        programmes.pay_capex_subsidy(w, self, added_tpy)
        self.last_invest_month = w.month
        if online is None:
            online = w.month + self.lead_time + trade.lead_time_extra(w, self)
        self._schedule(online, added_tpy)
        w.log_firm_event(self, f"{verb}: +{added_tpy:,.0f} t/yr from {w.date_of(online)}")

    def _schedule(self, online_month: int, added_tpy: float) -> None:
        self.pipeline.append((online_month, added_tpy))
        self.model.schedule_event(self.complete_construction, at=max(online_month, 0) + 0.5)

    def complete_construction(self) -> None:
        """Bring every pipeline project due by now online (called by the model's event list)."""
        w = self.model
        due = [(m, q) for m, q in self.pipeline if m <= w.month]
        if not due:
            return
        self.pipeline = [(m, q) for m, q in self.pipeline if m > w.month]
        for _, added in due:
            self.capacity_tpy += added
        if self.status in (CONSTRUCTION, CANDIDATE):
            self.status = OPERATING
            self.commission()
        w.log_firm_event(self, f"brings {sum(q for _, q in due):,.0f} t/yr online")

    def commission(self) -> None:
        """First output of a new plant: it starts its ramp, and plans its first months' sales
        at the ramp's starting rate (its customers were signed up while it was built), so that
        it buys inputs and produces instead of waiting for orders it never had."""
        self.online_month = self.model.month
        self.utilisation = RAMP_START
        self.loss_months = 0
        cap_month = self.capacity_tpy / 12.0 * RAMP_START
        for c, y in self.nominal_yields().items():
            self.sales_ema[c] = max(self.sales_ema.get(c, 0.0), cap_month * y)

    def pipeline_tpy(self) -> float:
        """Capacity under construction, t/yr."""
        return sum(q for _, q in self.pipeline)


def stock_total(stock: float | np.ndarray) -> float:
    """Tonnes in a stock: a float, or the sum of a concentrate's deposit vector (t REO)."""
    if isinstance(stock, np.ndarray):
        # numerics.total adds as stock.sum() does, at a third of its cost on a few deposits.
        return numerics.total(stock.tolist()) if stock.ndim == 1 else float(stock.sum())
    return float(stock)

"""The world: a Mesa model of the rare-earth supply chain, stepped one month at a time.

``World(scenario, seed)`` builds firms, end users and states from a scenario; ``step()`` runs
one month as a short list of phases (policies, production, trade, consumption, prices, adaptation,
recording); ``results()`` returns the tidy table of DESIGN.md.
"""

from __future__ import annotations

import copy
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence

import mesa
import numpy as np
import pandas as pd
from mesa.time import Priority, Schedule
from pydantic import BaseModel, ValidationError

# Imported as a module: the doctrines read the instruments' kind lists (world/instruments/),
# so importing agents.doctrines first imports the world, which must not need its names yet.
import agents.doctrines
from agents.end_users import EndUser
from agents.firms import CANDIDATE, CONSTRUCTION, EXITED, IDLE, OPERATING, Firm, stock_total
from agents.states import State
from world import market, numerics
from world.calendar import add_months, is_boundary, months_between
from world.content import ContentBook
from world.field_errors import field_problems
from world.instruments import programmes
from world.instruments.alliances import offtake_preference, settle_premium
from world.measures import MeasureBook
from world.objectives import ObjectiveRecorder, objectives_table
from world.order_desk import OrderDesk
from world.policy import PolicyBook
from world.price_breakdown import PriceBreakdown
from world.recorder import Recorder
from world.scenario import (
    SECTORS,
    EventSpec,
    Scenario,
    ScenarioError,
    entry_label,
    load_scenario,
)
from world.shortfalls import Shortfall, record_shortfalls

#: The largest seed a game takes: numpy seeds it, and the workshop stores it as an integer.
MAX_SEED = 2**32 - 1


#: The plants that share one production quota: (region, stage, the deposits the quota names,
#: empty for the whole stage; None where no quota covers them).
QuotaGroup = tuple[str, str, tuple[str, ...] | None]


def _tracked_share(agent, commodity: str) -> float:
    """Share of an agent's stock of a commodity that came from the tracked origin (0 for
    agents that keep no provenance ledger: end users' scrap, states' stockpiles)."""
    tracked = getattr(agent, "tracked", None)
    if not tracked:
        return 0.0
    stock = stock_total(agent.inventory.get(commodity, 0.0))
    return min(tracked.get(commodity, 0.0) / stock, 1.0) if stock > 1e-12 else 0.0


def _models_in(value) -> list[BaseModel]:
    """Every pydantic model in ``value`` (a model, or lists, tuples and dicts of them), itself
    included."""
    found: list[BaseModel] = []
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, BaseModel):
            found.append(item)
            todo.extend(item.__dict__.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
    return found


#: The last word of the seed entropy of the licence reviews' stream (any fixed number would do).
_LICENCE_STREAM = 0x11CE


def licence_stream(entropy: list[int]) -> np.random.Generator:
    """The generator licence reviews draw their delays from, for a seed's ``entropy``."""
    return np.random.default_rng(np.random.SeedSequence([*entropy, _LICENCE_STREAM]))


class World(mesa.Model):
    """The rare-earth world.

    Args:
        scenario: a validated :class:`~world.scenario.Scenario`, or a bundled scenario's name or
            a path to a scenario file.
        seed: random seed. The engine's behaviour is deterministic given the scenario; the seed
            drives the small random perturbations of firms' investment timing.
        human_seats: states played by people (their doctrines stay silent; they submit orders).

    Attributes:
        month: months completed since the scenario start (the index of the next month to run).
        prices: buyer price per commodity and region, USD/kg, shape (C, R).
    """

    def __init__(
        self,
        scenario: Scenario | str,
        seed: int = 0,
        human_seats: set[str] | frozenset[str] = frozenset(),
    ):
        super().__init__(rng=seed)
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.spec = scenario
        #: The scenario's models, found once: every fork shares them (see :meth:`fork`).
        self._spec_models: tuple[BaseModel, ...] = tuple(_models_in(scenario))
        self.seed = seed
        #: Licence reviews draw from a stream of their own, seeded by the world's seed, so that
        #: a licence's reviews do not reshuffle the other draws (outages, project delays).
        self.licence_rng = licence_stream([int(seed)])
        self.params = scenario.dynamics
        self.uncertainty = scenario.uncertainty
        #: This year's drawn deviation of world demand growth from the end users' rates.
        self.demand_growth_shock = 0.0
        self.month = 0
        # Agents and regions are held in a canonical order (by id), never the file's: no result
        # may depend on where a region or a firm happens to be listed (ties, sums, ordering).
        self.region_ids = sorted(scenario.regions)
        self.commodity_ids = [c for c in scenario.commodities]
        self.sector_ids = list(SECTORS)
        self.region_index = {r: i for i, r in enumerate(self.region_ids)}
        self.commodity_index = {c: i for i, c in enumerate(self.commodity_ids)}
        self.sector_index = {s: i for i, s in enumerate(self.sector_ids)}
        self.deposit_ids = sorted(scenario.deposits)
        self.deposit_index = {d: i for i, d in enumerate(self.deposit_ids)}
        self.graded = "concentrate"
        n_c, n_r = len(self.commodity_ids), len(self.region_ids)
        self.joint_products = sorted(
            {c for dep in scenario.deposits.values() for c in dep.yields},
            key=self.commodity_index.get,
        )
        self.primary_joint = max(
            self.joint_products,
            key=lambda c: sum(scenario.deposits[d].yields.get(c, 0.0) for d in self.deposit_ids),
        )
        deposits = [scenario.deposits[d] for d in self.deposit_ids]
        self.yield_matrix = np.array(
            [[dep.yields.get(c, 0.0) for c in self.joint_products] for dep in deposits]
        )
        self.byproduct_usd_per_kg = np.array(
            [getattr(dep, "byproduct_usd_per_kg", 0.0) for dep in deposits]
        )
        #: Element content of stocks and flows (NdPr, Dy/Tb), month by month.
        self.content = ContentBook(self)
        self.transport = np.zeros((n_c, n_r, n_r))
        for ci, c in enumerate(self.commodity_ids):
            self.transport[ci] = scenario.commodities[c].transport_usd_per_kg
            np.fill_diagonal(self.transport[ci], 0.0)
        self.prices = self._initial_prices()
        self.reference_prices = self.prices.copy()
        #: Price / reference at which half of each commodity's use substitutes away (C,).
        self.choke_ratios = np.array(
            [
                scenario.commodities[c].choke_ratio or self.params.choke_ratio
                for c in self.commodity_ids
            ]
        )
        #: The thin spot's price (C, R), USD/kg: see :func:`world.market.spot_prices`.
        self.spot_prices = self.prices.copy()
        self.investor_prices = self.prices.copy()
        self.expected_prices = self.prices.copy()
        self.price_floor = 0.05 * self.reference_prices
        self.risk = np.zeros((n_c, n_r))
        self.shortage_ema = np.zeros((n_c, n_r))
        self.policy_alarm = np.zeros((n_c, n_r))
        self.restricted_seen = np.zeros((n_c, n_r))
        self.import_ema = np.zeros((n_c, n_r, n_r))
        self.use_ema = np.zeros((n_c, n_r))
        self.qualified = np.full((n_c, n_r, n_r), np.inf)
        self.final_wanted = np.zeros((n_c, n_r))
        self.final_consumed = np.zeros((n_c, n_r))
        self.flows = np.zeros((n_c, n_r, n_r))
        #: Long-term contract volumes per arc (C, R, R), t/month: a share of each arc's flows,
        #: following them over ``contract_months``. The scenario records no contracts by arc,
        #: so the book is written over the first ``contract_months`` of trade.
        self.contracts = np.zeros((n_c, n_r, n_r))
        self.production_buffer = np.zeros((n_c, n_r))
        self.use_buffer = np.zeros((n_c, n_r))
        self.policies = PolicyBook(scenario, self.region_ids, self.commodity_ids)
        self._sell_cache: dict = {}
        self.log: list[dict] = []
        #: This month's measures in force that fall short, by id (world/shortfalls.py).
        self.shortfalls: dict[str, Shortfall] = {}
        #: Every month each measure fell short so far, by id: (months, the last shortfall).
        self.shortfall_record: dict[str, tuple[int, Shortfall]] = {}
        self.recorder = Recorder(self)
        self.firm_specs = sorted(scenario.firms, key=lambda f: f.id)
        self._announced_delays: dict[str, int] = {}
        self._basket_cache: tuple[tuple[int, int], dict[str, float]] = ((-1, 0), {})
        #: The end users' demand-weighted growth rate at the start, a year (the market outlook).
        total = sum(u.demand_tpy for u in scenario.end_users)
        self.demand_outlook_per_year = (
            sum(u.demand_tpy * u.growth_per_year for u in scenario.end_users) / total
            if total > 0
            else 0.0
        )
        self._stage_capacity: tuple[int, dict[QuotaGroup, float]] = (-1, {})
        self._nominal_feed = self._regional_feed_mix()
        self._nominal_yields: dict[str, dict[str, float]] = {}

        self.tracked_origin = scenario.tracked_origin
        self.firms: list[Firm] = [Firm(self, spec) for spec in self.firm_specs]
        self.makers: dict[str, list[Firm]] = {c: [] for c in self.commodity_ids}
        for firm in self.firms:
            for c in firm.output_commodities():
                self.makers[c].append(firm)
        self._origin_capacity_share = self._capacity_share_of_origin()
        self.end_users: list[EndUser] = [
            EndUser(self, spec) for spec in sorted(scenario.end_users, key=_end_user_key)
        ]
        # States keep the scenario's order: it is the seats' order of play.
        self.states: list[State] = [State(self, spec) for spec in scenario.states]
        self.states_by_region = {s.region: s for s in self.states}
        self.firms_by_id = {f.firm_id: f for f in self.firms}
        self.desk = OrderDesk(self)
        self.objective_recorder = ObjectiveRecorder(self)
        self.human_seats = frozenset(human_seats)
        self.doctrines = {
            region: agents.doctrines.make_doctrine(seat.doctrine, region, seat.params)
            for region, seat in scenario.seats.items()
            if region not in self.human_seats
        }
        #: The scenario's events and any injected during play (see :meth:`inject_event`).
        self.events: list[EventSpec] = list(scenario.events)
        self.projects: dict[str, list[Firm]] = defaultdict(list)
        for firm in self.firms:
            if firm.spec.project:
                self.projects[firm.spec.project].append(firm)
        self._initial_stocks()
        self.use_ema = self._initial_use()
        self._initial_qualification()
        self.markup = np.zeros_like(self.prices)
        for ci in range(len(self.commodity_ids)):
            basis = self._markup_basis(self.cost_basis(self.prices, ci), ci)
            self.markup[ci] = np.where(
                np.isnan(basis),
                0.0,
                numerics.log(self.prices[ci] / np.where(np.isnan(basis), 1, basis)),
            )
        self.normal_markup = self.markup.copy()
        self.price_breakdown = PriceBreakdown(
            self.prices,
            np.array([self.cost_basis(self.prices, ci) for ci in range(len(self.commodity_ids))]),
        )
        self.wall_time_s = 0.0
        self.stepping = False
        # The policies in force at the start, so that orders checked before the first step see
        # them (a lift of a scripted policy); the markups above are set before any policy bites.
        self.policies.update(self.month)
        for doctrine in self.doctrines.values():
            doctrine.begin(self)

    # ------------------------------------------------------------------ set-up

    def _initial_prices(self) -> np.ndarray:
        prices = np.zeros((len(self.commodity_ids), len(self.region_ids)))
        for ci, c in enumerate(self.commodity_ids):
            given = self.spec.commodities[c].price_usd_per_kg
            base = min(given.values()) if given else 1.0
            for ri, r in enumerate(self.region_ids):
                transport = self.spec.commodities[c].transport_usd_per_kg
                prices[ci, ri] = given.get(r, base + transport)
        return prices

    def _regional_feed_mix(self) -> np.ndarray:
        """Deposit mix (R, D) of the concentrate each region's separators start on."""
        n_r, n_d = len(self.region_ids), len(self.deposit_ids)
        world_mix = np.zeros(n_d)
        regional = np.zeros((n_r, n_d))
        for spec in self.firm_specs:
            if spec.deposit is not None and spec.status == OPERATING:
                d = self.deposit_index[spec.deposit]
                world_mix[d] += spec.capacity_tpy
                regional[self.region_index[spec.region], d] += spec.capacity_tpy
        world_mix = world_mix / world_mix.sum() if world_mix.sum() > 0 else np.ones(n_d) / n_d
        for spec in self.firm_specs:
            if spec.feed:
                mix = np.zeros(n_d)
                for dep, share in spec.feed.items():
                    mix[self.deposit_index[dep]] = share
                regional[self.region_index[spec.region]] = mix * 1e12
        out = np.zeros((n_r, n_d))
        for r in range(n_r):
            total = regional[r].sum()
            out[r] = regional[r] / total if total > 0 else world_mix
        return out

    def nominal_feed_share(self, region: str) -> np.ndarray:
        """The deposit mix (D,) a region's separators are calibrated on."""
        return self._nominal_feed[self.region_index[region]]

    def nominal_joint_yields(self, region: str) -> dict[str, float]:
        """Separation yields (t oxide per t REO) at a region's nominal feed mix (the same dict
        on every call: read it, do not change it)."""
        yields = self._nominal_yields.get(region)
        if yields is None:
            yields = self.joint_yields(self.nominal_feed_share(region))
            self._nominal_yields[region] = yields
        return yields

    def joint_yields(self, share: np.ndarray) -> dict[str, float]:
        """Separation yields for a feed with deposit mix ``share``."""
        values = numerics.matmul(share, self.yield_matrix)
        return dict(zip(self.joint_products, values.tolist(), strict=True))

    def new_stock(self, commodity: str, tonnes: float = 0.0, region: str | None = None):
        """An empty (or filled) stock of a commodity: a deposit vector for concentrate."""
        if commodity != self.graded:
            return float(tonnes)
        vec = np.zeros(len(self.deposit_ids))
        if tonnes:
            share = (
                self.nominal_feed_share(region)
                if region
                else np.ones(len(self.deposit_ids)) / len(self.deposit_ids)
            )
            vec = share * tonnes
        return vec

    @staticmethod
    def split_stock(stock, amount: float):
        """Take ``amount`` t out of a stock; returns (taken, left). Vectors split pro rata."""
        if isinstance(stock, np.ndarray):
            total = stock_total(stock)
            if total <= 0:
                return stock * 0.0, stock
            share = min(amount / total, 1.0)
            taken = stock * share
            return taken, stock - taken
        taken = min(amount, stock)
        return taken, stock - taken

    def initial_tracked_share(self, commodity: str, region: str) -> float:
        """Share of a starting stock that came from the tracked origin (China by default).

        The origin's own stocks are all its own; elsewhere, a starting stock is assumed to
        come from the origin in proportion to its share of the world's capacity for that
        commodity (a fair prior for a month-0 inventory whose history is unknown).
        """
        if region == self.tracked_origin:
            return 1.0
        return float(self._origin_capacity_share.get(commodity, 0.0))

    def _capacity_share_of_origin(self) -> dict[str, float]:
        """The tracked origin's share of world operating capacity, by commodity."""
        origin_share: dict[str, float] = {}
        for c in self.commodity_ids:
            total = here = 0.0
            for firm in self.makers.get(c, []):
                if firm.status == OPERATING:
                    y = firm.nominal_yields().get(c, 0.0)
                    total += firm.capacity_tpy * y
                    if firm.region == self.tracked_origin:
                        here += firm.capacity_tpy * y
            origin_share[c] = here / total if total > 0 else 0.0
        return origin_share

    def _initial_stocks(self) -> None:
        p = self.params
        for firm in self.firms:
            cap_month = firm.capacity_tpy / 12.0 * firm.utilisation
            for c, q in firm.inputs.items():
                tonnes = cap_month * q * p.input_cover_months
                if c == self.graded:
                    firm.inventory[c] = self.nominal_feed_share(firm.region) * tonnes
                else:
                    firm.inventory[c] = tonnes
            for c, y in firm.nominal_yields().items():
                tonnes = cap_month * y * p.output_cover_months
                if c == self.graded:
                    vec = np.zeros(len(self.deposit_ids))
                    if firm.deposit_index is not None:
                        vec[firm.deposit_index] = tonnes
                    firm.inventory[c] = vec
                else:
                    firm.inventory[c] = tonnes
        for firm in self.firms:
            for c, stock in firm.inventory.items():
                firm.tracked[c] = stock_total(stock) * self.initial_tracked_share(c, firm.region)
                if c != self.graded:
                    firm.content[c] = self.content.nominal(c, float(stock))

    def _initial_qualification(self) -> None:
        """Volumes buyers have qualified from each origin at the start, t/month.

        Where a commodity needs qualification, each destination starts qualified for a share of
        its use equal to the origin's share of world capacity: established suppliers are
        qualified in proportion to their presence; a region with no plants starts from zero
        and must earn its place.
        """
        for ci, c in enumerate(self.commodity_ids):
            if self.spec.commodities[c].qualification_growth_per_month is None:
                continue
            capacity = np.zeros(len(self.region_ids))
            for firm in self.makers[c]:
                if firm.status == OPERATING:
                    capacity[firm.r] += firm.capacity_tpy
            share = capacity / capacity.sum() if capacity.sum() > 0 else capacity
            self.qualified[ci] = share[:, None] * self.use_ema[ci][None, :]

    def _initial_use(self) -> np.ndarray:
        use = np.zeros((len(self.commodity_ids), len(self.region_ids)))
        for firm in self.firms:
            cap_month = firm.capacity_tpy / 12.0 * firm.utilisation
            for c, q in firm.inputs.items():
                use[self.commodity_index[c], firm.r] += cap_month * q
        for user in self.end_users:
            use[user.c, user.r] += user.desired_use()
        return use

    # ------------------------------------------------------------------ helpers for agents

    @property
    def measures(self) -> MeasureBook:
        """The measures in force and the orders waiting to apply (world/measures.py)."""
        return MeasureBook(self)

    def month_of(self, date: str) -> int:
        """Month index of a ``YYYY-MM`` date."""
        return months_between(self.spec.start, date)

    def date_of(self, month: int) -> str:
        """``YYYY-MM`` of a month index."""
        return add_months(self.spec.start, month)

    def restock_factor(self, ci: int, r: int, gap: float) -> float:
        """Inventory correction a buyer makes this month: restocking waits when prices are high."""
        if gap <= 0:
            return gap
        ratio = self.prices[ci, r] / max(self.expected_prices[ci, r], 1e-9)
        return gap * min(1.2, ratio ** (-self.params.restock_elasticity))

    def thrift(self, intensity: float, ci: int, r: int, floor: float | None = None) -> float:
        """Next month's material intensity: thrift while the expected price is high.

        ``floor`` is the lowest intensity thrift reaches (default: end users' ``thrift_floor``).
        """
        p = self.params
        gap = math.log(self.expected_prices[ci, r] / self.reference_prices[ci, r])
        if gap > 0.1:
            rate = p.thrift_rate * programmes.research_speedup(self, ci, r)
            lowest = p.thrift_floor if floor is None else floor
            return max(lowest, intensity * math.exp(-rate * (gap - 0.1)))
        # Cheap material wins back the uses thrift took from it, faster the cheaper it is.
        pace = p.thrift_recovery + p.thrift_rate * max(0.0, -gap)
        return intensity + min(pace, 1.0) * (1.0 - intensity)

    def backstop(self, prices: np.ndarray, ci: int, r: int) -> float:
        """Share of use that survives substitution at this price (1 at the reference price).

        Far above the reference price users switch technology (ferrite or induction motors,
        Dy-free grades): demand falls steeply past the commodity's choke ratio times the
        reference, which bounds any spike.
        """
        ratio = prices[ci, r] / self.reference_prices[ci, r]
        choke = self.choke_ratios[ci]
        return (1.0 + (1.0 / choke) ** 4) / (1.0 + (ratio / choke) ** 4)

    def sell_prices(self, prices: np.ndarray) -> np.ndarray:
        """The best price (C, R) a seller in each region can realise, USD/kg.

        The home price, or the netback of an export market reachable without a ban, quota or
        licence, whichever is higher: a Malaysian separator is paid Japanese prices less
        freight, while Chinese sellers under a quota earn their home price.
        """
        key = (id(prices), self.month)
        cached = self._sell_cache.get(key)
        if cached is not None and cached[0] is prices:
            return cached[1]
        book = self.policies
        net = (prices[:, None, :] - self.transport) / book.wedge  # (c, o, d)
        blocked = book.restricted | book.banned
        net = np.where(blocked, -np.inf, net)
        best = np.maximum(prices, net.max(axis=2))
        if len(self._sell_cache) > 8:
            self._sell_cache.clear()
        self._sell_cache[key] = (prices, best)
        return best

    def monthly_use_estimate(self, ci: int, r: int) -> float:
        """Recent use (inputs and final consumption) of a commodity in a region, t/month."""
        return float(self.use_ema[ci, r])

    def project_delay(self, lead_time_months: int) -> int:
        """Months a project of this lead time slips, drawn from ``project_delay_share``."""
        return round(lead_time_months * self.uncertainty.project_delay_share.draw(self.rng))

    def announced_delay(self, key: str, lead_time_months: int) -> int:
        """The drawn slip of an announced project (one draw per project id, shared by its
        members), months."""
        if key not in self._announced_delays:
            self._announced_delays[key] = self.project_delay(lead_time_months)
        return self._announced_delays[key]

    def capex_overrun(self) -> float:
        """Capex paid per capex planned for one commitment, drawn from ``capex_overrun``."""
        return self.uncertainty.capex_overrun.draw(self.rng)

    def pay_price_floor(
        self, firm: Firm, commodity: str, tonnes: float, revenue_usd: float
    ) -> None:
        """A sale of a firm's product under a price floor: the state pays the gap to the floor
        (:func:`world.instruments.programmes.pay_floor_gap`)."""
        programmes.pay_floor_gap(self, firm, commodity, tonnes, revenue_usd)

    def log_firm_event(self, firm: Firm, text: str) -> None:
        """Record a firm's strategic decision in the world's log."""
        self.log.append(
            {
                "month": self.month,
                "date": self.date_of(self.month),
                "actor": firm.firm_id,
                "region": firm.region,
                "kind": "firm",
                "text": f"{firm.name} {text}",
            }
        )

    # ------------------------------------------------------------------ the month

    def step(self) -> None:
        """Advance one month."""
        started = time.perf_counter()
        self.stepping = True
        if self.content.initial_stock is None:
            self.content.initial_stock = self.content.stocks()
        self._new_month()
        self.desk.start_of_month(self.month)
        if is_boundary(self.month, self.spec.turn_months):
            # Doctrines see this month's policies, scripted orders included.
            self.policies.update(self.month)
            self.play_doctrines()
        self.policies.update(self.month)
        self.apply_events()
        self.produce()
        programmes.guaranteed_offtake(self)
        self.trade()
        record_shortfalls(self)
        programmes.floor_stockpile_intake(self)
        self.consume()
        self.update_prices()
        self.adapt()
        self.recorder.record()
        self.content.record()
        self.objective_recorder.record(self, month=self.month)
        self.stepping = False
        self.month += 1
        # Mesa's runners (mesa.batch_run, run_model) step while ``running``: stop at the horizon.
        self.running = self.month < self.spec.months
        self.wall_time_s += time.perf_counter() - started

    def play_doctrines(self) -> None:
        """Each AI seat reads the world and gives its orders, applied at once (a turn boundary).

        Seats play in a fixed order (their order in the scenario), so runs are reproducible.
        """
        for region, doctrine in self.doctrines.items():
            for order in [*doctrine.decide(self), *doctrine.proposals(self)]:
                self.desk.apply_now(order, source=f"doctrine:{doctrine.name}", seat=region)

    def _new_month(self) -> None:
        january = self.date_of(self.month).endswith("-01")
        sd = self.uncertainty.demand_growth_sd
        if sd > 0 and (january or self.month == 0):
            # One draw a year for the whole world: demand growth is common to all sectors.
            self.demand_growth_shock = float(self.rng.normal(0.0, sd))
        for state in self.states:
            state.start_month(january)
        for prog in self.desk.active("rnd_programme"):
            self.states_by_region[prog.issuer].spend(prog.params["usd_per_year"] / 12.0)

    def submit(self, order, seat: str | None = None, source: str = "seat"):
        """Submit an order (a model, dict or JSON) for the next turn boundary.

        Returns an :class:`~world.order_desk.OrderResult`: ``pending`` or ``rejected`` with why.
        """
        return self.desk.submit(order, seat=seat, source=source)

    def check(self, order, seat: str | None = None) -> str:
        """Would ``order`` apply now if ``seat`` submitted it? ``""`` if so, else the reason.
        Nothing changes: no id is used and nothing is logged."""
        return self.desk.check(order, seat=seat)

    def inject_event(self, event: dict | EventSpec) -> EventSpec:
        """Add an event during play (a facilitator's mine accident, seizure, demand shock or
        announcement). It must start this month or later; it takes effect from its date.

        Raises:
            ScenarioError: the event names a field wrongly (the message says which and what is
                allowed).
        """
        spec = self.check_event(event)
        self.events.append(spec)
        return spec

    def check_event(self, event: dict | EventSpec) -> EventSpec:
        """The event :meth:`inject_event` would add now, validated; nothing changes.

        Raises:
            ScenarioError: as :meth:`inject_event`.
        """
        try:
            spec = event if isinstance(event, EventSpec) else EventSpec.model_validate(event)
        except ValidationError as exc:
            problems = field_problems(exc, EventSpec, event, prefix="event", label=entry_label)
            raise ScenarioError("event", problems) from None
        stages = sorted({f.stage for f in self.firms})
        problems = [
            f"event.{name}: unknown {name} '{value}'; allowed: {', '.join(allowed)}"
            for name, value, allowed in (
                ("region", spec.region, self.region_ids),
                ("stage", spec.stage, stages),
                ("sector", spec.sector, self.sector_ids),
            )
            if value is not None and value not in allowed
        ]
        try:
            start = self.month_of(spec.date)
        except ValueError:
            problems.append(f"event.date: '{spec.date}' is not a YYYY-MM date")
        else:
            earliest, last = self.date_of(self.month), self.date_of(self.spec.months - 1)
            if start < self.month:
                problems.append(
                    f"event.date: {spec.date} is in the past; the earliest is {earliest}"
                )
            elif start >= self.spec.months:
                problems.append(f"event.date: {spec.date} is after the game's last month, {last}")
        if any(e.id == spec.id for e in self.events):
            problems.append(f"event.id: '{spec.id}' is already an event of this game")
        if problems:
            raise ScenarioError("event", problems)
        return spec

    def injected_events(self) -> list[EventSpec]:
        """Events added during play (not in the scenario), in the order injected."""
        return self.events[len(self.spec.events) :]

    def fork(self, seed: int | Sequence[int] | None = None, *, all_ai: bool = False) -> World:
        """An independent copy of the world that runs on by itself; the original is untouched.

        A copy taken in the middle of :meth:`step` (an AI weighing a deal at the start of a month)
        has no next step on Mesa's clock, since Mesa schedules it when the current step
        returns, in the original only. The copy gets a clock of its own through Mesa's public
        ``schedule_recurring``, one step a time unit from the next unit on, as Mesa's own: so
        stepping the copy runs the current month from its start (the order desk does not start
        the same month twice, so the month goes on from where it was).

        Args:
            seed: None keeps the random streams: the copy draws what the original would next.
                Otherwise the copy gets streams of its own from ``numpy.random.SeedSequence(seed)``,
                e.g. ``(game seed, future index)`` for one member of an ensemble.
            all_ai: hand every human seat to its scenario doctrine (deal proposals to those seats
                are then answered by the AI). Doctrines already playing keep their memory.

        Raises:
            Whatever ``copy.deepcopy`` raises; callers that can do without a copy catch it.
        """
        # The scenario is read, never written, during a game: the copy shares its models (the
        # firms', end users' and states' specs are among them) instead of copying them. So do
        # the policies put on the book during play: frozen models too (amending or ending one
        # replaces it on the book).
        memo: dict[int, object] = {id(self._spec_models): self._spec_models}
        # A policy spec holds no models of its own, so the specs themselves are enough.
        for model in (*self._spec_models, *self.policies.held_specs()):
            memo[id(model)] = model
        # The logs' entries are written once and only read after: the copy appends to a list
        # of its own holding the same entries.
        for log in (self.log, self.desk.log):
            memo[id(log)] = list(log)
        clone = copy.deepcopy(self, memo)
        if clone.stepping:
            clone.schedule_recurring(
                clone._step_on_clock, Schedule(interval=1.0, start=clone.time + 1), Priority.HIGH
            )
        if all_ai:
            for region in sorted(clone.human_seats & clone.spec.seats.keys()):
                clone.set_seat(region, human=False)
            clone.human_seats = frozenset()
        if seed is not None:
            entropy = [int(seed)] if isinstance(seed, (int, np.integer)) else [int(s) for s in seed]
            stream = np.random.SeedSequence(entropy)
            clone.rng = np.random.default_rng(stream)
            clone.random = random.Random(int(stream.generate_state(1)[0]))
            clone.licence_rng = licence_stream(entropy)
        return clone

    def _step_on_clock(self) -> None:
        """One step from a copy's own clock (see :meth:`fork`), as Mesa's clock steps: it counts
        the step, then runs the class's :meth:`step` (a subclass's too)."""
        self.steps += 1
        type(self).step(self)

    def set_seat(self, region: str, human: bool, doctrine: str | None = None) -> None:
        """Hand a seat to people (its doctrine falls silent) or to a doctrine (the scenario's,
        or ``doctrine``). Meant for a turn boundary: the doctrine decides at the next one."""
        if region not in self.spec.seats:
            raise ValueError(
                f"seat: '{region}' is not a seat of this scenario; allowed: "
                f"{', '.join(self.spec.seats)}"
            )
        seats = set(self.human_seats)
        if human:
            seats.add(region)
        else:
            seats.discard(region)
        self.human_seats = frozenset(seats)
        doctrines = {}
        for r, seat in self.spec.seats.items():  # scenario order: reproducible play order
            if r in self.human_seats:
                continue
            if r == region and doctrine and doctrine != seat.doctrine:
                doctrines[r] = agents.doctrines.make_doctrine(doctrine, r, {})
            else:  # a doctrine already playing keeps its memory
                doctrines[r] = self.doctrines.get(r) or agents.doctrines.make_doctrine(
                    seat.doctrine, r, seat.params
                )
        self.doctrines = doctrines

    def orders(self):
        """Every order applied or rejected so far, as a DataFrame."""
        return self.desk.table()

    @classmethod
    def replay(
        cls,
        scenario: Scenario | str,
        seed: int,
        orders: pd.DataFrame,
        events: list[EventSpec] | None = None,
    ) -> World:
        """A world that will re-apply a logged game's orders at their months.

        Scripted orders come from the scenario again; every other applied order in ``orders``
        (the table of :meth:`orders`) is re-applied in its original sequence, and the doctrines
        stay silent (their decisions are in the log). ``events`` are those injected during the
        game (:meth:`injected_events`). Running it for as many months reproduces the original
        results exactly, under the same order ids (so measures get the same ids too).
        """
        spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        world = cls(spec, seed=seed, human_seats=frozenset(spec.seats))
        for event in events or []:
            world.inject_event(event)
        applied = orders[(orders["status"] == "applied") & (orders["source"] != "script")]
        for row in applied.itertuples(index=False):
            body = {"kind": row.kind, "issuer": row.issuer, **json.loads(row.parameters)}
            world.desk.schedule(
                int(row.month), body, source=f"replay:{row.source}", order_id=str(row.order_id)
            )
        world.desk.reserve_ids(list(orders["order_id"]))
        return world

    def run(self, months: int | None = None, progress=None) -> World:
        """Run ``months`` months (default: to the scenario's horizon).

        Args:
            months: months to run from now.
            progress: optional callable called with the month index after each month.
        """
        months = self.spec.months - self.month if months is None else months
        for _ in range(months):
            self.step()
            if progress is not None:
                progress(self.month)
        return self

    def apply_events(self) -> None:
        """Apply scripted events (capacity and demand shocks) in force this month."""
        for firm in self.firms:
            firm.capacity_factor = 1.0
        self._mine_outages()
        for user in self.end_users:
            user.shock = 0.0
        for event in self.events:
            start = self.month_of(event.date)
            if not start <= self.month < start + event.months:
                continue
            if event.kind == "announcement":
                pass
            elif event.kind == "capacity_shock":
                for firm in self.firms:
                    if firm.region == event.region and event.stage in (None, firm.stage):
                        firm.capacity_factor *= max(0.0, 1.0 + event.share)
            else:
                for user in self.end_users:
                    if user.region == event.region and event.sector in (None, user.sector):
                        user.shock += event.share
            if self.month == start:
                self.log.append(
                    {
                        "month": self.month,
                        "date": self.date_of(self.month),
                        "actor": "scenario",
                        "region": event.region,
                        "kind": "event",
                        "text": event.note or f"{event.kind} in {event.region}",
                    }
                )

    def _mine_outages(self) -> None:
        """Draw new mine outages (accidents, floods, seizures) and apply those in progress."""
        u = self.uncertainty
        for firm in self.firms:
            if firm.stage != "mine" or firm.status != OPERATING:
                continue
            end, share = firm.outage
            starts = (
                self.month >= end
                and u.mine_outages_per_year > 0
                and self.rng.random() < u.mine_outages_per_year / 12.0
            )
            if starts:
                months = max(1, round(u.mine_outage_months.draw(self.rng)))
                operation = min(1.0, u.operation_tpy / max(firm.capacity_tpy, 1e-9))
                share = u.mine_outage_share.draw(self.rng) * operation
                end = self.month + months
                firm.outage = (end, share)
                self.log_firm_event(
                    firm, f"loses {share:.0%} of its output for {months} months (outage)"
                )
            if self.month < end:
                firm.capacity_factor *= 1.0 - share

    def produce(self) -> None:
        """Every operating plant runs for the month."""
        self.production_buffer[:] = 0.0
        self.use_buffer[:] = 0.0
        self.content.reset()
        for firm in self.firms:
            firm.produce()

    def trade(self) -> None:
        """Offers and bids meet in each commodity's market; goods and money change hands."""
        n_c, n_r = len(self.commodity_ids), len(self.region_ids)
        n_t = len(market.TIERS)
        sellers: dict[tuple[int, int], list] = defaultdict(list)
        buyers: dict[tuple[int, int, int], list] = defaultdict(list)
        offers = np.zeros((n_c, n_r))
        bids = np.zeros((n_c, n_t, n_r))
        firm_offers = {firm: firm.offers() for firm in self.firms}
        firm_bids = {firm: firm.bids() for firm in self.firms}
        # End users' bids are known before the market (a purchase commitment serves them first).
        user_bids = {user: {self.commodity_ids[user.c]: user.bid()} for user in self.end_users}
        contracted = self._deliver_contracts(firm_offers, firm_bids, user_bids)
        #: t moved this month outside the spot market (integrated chains, offtake contracts).
        self.contract_flows = contracted
        for firm in self.firms:
            for c, q in firm_offers[firm].items():
                if q > 1e-12:
                    ci = self.commodity_index[c]
                    sellers[ci, firm.r].append((firm, q))
                    offers[ci, firm.r] += q
            for c, q in firm_bids[firm].items():
                if q > 1e-12:
                    ci = self.commodity_index[c]
                    buyers[ci, 1, firm.r].append((firm, q))
                    bids[ci, 1, firm.r] += q
        scrap = self.spec.recycling.scrap if self.spec.recycling else None
        for user in self.end_users:
            if user.scrap_t > 1e-12:
                ci = self.commodity_index[scrap]
                sellers[ci, user.r].append((user, user.scrap_t))
                offers[ci, user.r] += user.scrap_t
        # Tiers are end uses, so that a licence can screen defence users wherever they are;
        # whether defence is served first is the destination state's priority order.
        for user in self.end_users:
            q = user_bids[user][self.commodity_ids[user.c]]
            if q > 1e-12:
                tier = 0 if user.sector == "defense" else 1
                buyers[user.c, tier, user.r].append((user, q))
                bids[user.c, tier, user.r] += q
        for state in self.states:
            for c, q in state.stockpile_offers().items():
                if q > 1e-12:
                    ci = self.commodity_index[c]
                    sellers[ci, state.r].append((state, q))
                    offers[ci, state.r] += q
            for c, q in state.stockpile_bids().items():
                if q > 1e-12:
                    ci = self.commodity_index[c]
                    buyers[ci, 2, state.r].append((state, q))
                    bids[ci, 2, state.r] += q

        book = self.policies
        approved = book.approved_now(self.month)
        month_room = {qid: q.room(self.month) for qid, q in book.quotas.items()}
        self.flows = np.zeros((n_c, n_r, n_r))
        self.offers = offers
        self.bids = bids
        self.clearings = []
        # Quota room is shared across commodities: exporters put scarce licences on the
        # products that earn most per tonne, so the dearest products use it first.
        order = np.argsort(-self.prices.mean(axis=1), kind="stable")
        for ci in order:
            cap = self.qualified[ci].copy()
            np.fill_diagonal(cap, np.inf)
            licensed = book.licensed[ci]
            licence_cap, general, first = None, np.zeros((n_r, n_r)), {}
            if licensed.any():
                licence_cap = np.zeros((n_t, n_r, n_r)) if approved is None else approved[ci]
                general, first = self._general_licences(ci, firm_bids)
                licence_cap[1] += general
            clearing = market.clear(
                offers[ci],
                bids[ci],
                self.prices[ci],
                book.wedge[ci],
                self.transport[ci],
                book.banned[ci] | self._extraterritorial_bans(ci, sellers),
                cap,
                book.quotas_on(ci),
                month_room,
                licensed,
                self.supplier_preference(ci),
                self.contracts[ci],
                licence_cap,
                book.defense_priority,
                book.covered[ci],
            )
            applied = clearing.desired.copy()
            applied[1] = np.maximum(applied[1] - general, 0.0)
            book.apply_for_licences(self.month, ci, applied, self.licence_rng)
            self.clearings.append((ci, clearing))
            self._settle(ci, clearing, sellers, buyers, bids[ci], first)
            self.flows[ci] = clearing.flows.sum(axis=0) + contracted[ci]
        self._renew_contracts()
        self.clearings.sort(key=lambda item: item[0])

    def _extraterritorial_bans(self, ci: int, sellers: dict) -> np.ndarray:
        """Arcs (R, R) closed this month by extraterritorial controls on commodity ``ci``.

        An origin's arcs to a control's destinations close when what its sellers offer carries
        at least the control's threshold of the issuer's origin (the tracked-origin ledger that
        follows material through trade and processing). The region's offers are judged
        together, weighted by tonnes offered: its exporters share one arc.
        """
        n_r = len(self.region_ids)
        closed = np.zeros((n_r, n_r), dtype=bool)
        c = self.commodity_ids[ci]
        for cis, issuer, destinations, threshold in self.policies.extraterritorial:
            if ci not in cis:
                continue
            for o in range(n_r):
                group = sellers.get((ci, o), [])
                offered = sum(q for _, q in group)
                if o == issuer or offered <= 1e-12:
                    continue
                tracked = sum(q * _tracked_share(agent, c) for agent, q in group)
                if tracked >= threshold * offered:
                    closed[o] |= destinations
                    closed[o, o] = False
        return closed

    def _general_licences(self, ci: int, firm_bids: dict) -> tuple[np.ndarray, dict]:
        """What firms holding a general licence may take at once over licensed arcs.

        Returns the room (R, R) they add to the civilian tier's approvals on each arc, t, and
        ``first`` {destination: {firm: t}}: their bids, served first from what those arcs
        bring (see :meth:`_settle`).
        """
        n_r = len(self.region_ids)
        room = np.zeros((n_r, n_r))
        first: dict[int, dict] = defaultdict(dict)
        c = self.commodity_ids[ci]
        licensed = self.policies.licensed[ci]
        for (gci, o), holders in self.policies.general_firms.items():
            if gci != ci:
                continue
            for firm_id in sorted(holders):
                firm = self.firms_by_id.get(firm_id)
                q = firm_bids.get(firm, {}).get(c, 0.0) if firm is not None else 0.0
                if q > 1e-12 and licensed[o, firm.r]:
                    # Only the covered share of its bids would have been applied for.
                    room[o, firm.r] += q * self.policies.covered[ci, o, firm.r]
                    first[firm.r][firm] = q
        return room, first

    def _renew_contracts(self) -> None:
        """Contract volumes follow each arc's market flows slowly: a contract expiring on a
        closed arc is not renewed, one on a growing arc is enlarged, over ``contract_months``."""
        p = self.params
        target = np.zeros_like(self.contracts)
        for ci, clearing in self.clearings:
            target[ci] = p.contract_share * clearing.flows.sum(axis=0)
        self.contracts += (target - self.contracts) / p.contract_months

    def supplier_preference(self, ci: int) -> np.ndarray:
        """How readily buyers in each destination take each origin's supply (R, R), 0-1.

        Buyers avoid suppliers they judge at risk: an origin whose exports to them are banned,
        under quota or licensed is discounted by ``risk_aversion`` (and further while the alarm
        at a new restriction lasts), so safer sources are used first at equal netback.
        """
        p = self.params
        restricted = self.policies.restricted[ci]
        alarm = self.policy_alarm[ci][None, :]
        risk = 1.0 - np.where(restricted, np.minimum(p.risk_aversion * (1.0 + alarm), 0.9), 0.0)
        # Buyers paying a premium for non-Chinese supply take it first.
        origin = self.region_index.get(self.tracked_origin)
        if origin is not None:
            for prog in self.desk.active("set_premium"):
                d = self.region_index[prog.params["region"]]
                risk[origin, d] = min(risk[origin, d], 1.0 / (1.0 + prog.params["premium"]))
        # Alliance members' buyers take members' supply first (pooled offtake).
        return risk * offtake_preference(self, ci)

    def _deliver_contracts(
        self, firm_offers: dict, firm_bids: dict, user_bids: dict | None = None
    ) -> np.ndarray:
        """Captive supply: a firm takes its contracted suppliers' output first (``feed_from``).

        An integrated producer (Lynas's Mt Weld feeding its Malaysian plant) or an offtake
        contract moves material outside the spot market, at the supplier's home price plus
        freight, duty and tariff, as long as no ban, quota or licence stands on the arc. What
        the contract does not take goes to the market. A state's purchase commitment comes
        last, the same way: its region's buyers of the commodity (firms, and end users, whose
        bids ``user_bids`` {user: {commodity: t}} holds) take the partner's producers' output,
        up to its tonnes a month (:meth:`_commitment_claims`). Bids and offers are reduced by
        what is delivered. Returns the flows it made (C, R, R), t.
        """
        n_c, n_r = len(self.commodity_ids), len(self.region_ids)
        flows = np.zeros((n_c, n_r, n_r))
        # Integrated chains take their own feed first; offtake contracts come next, each up to
        # its yearly volume. Within each, a supplier's output is shared among the buyers that
        # hold a claim on it in proportion to what they want, whatever order firms are listed in.
        integrated = [
            (buyer, supplier_id, math.inf)
            for buyer in self.firms
            for supplier_id in dict.fromkeys(buyer.spec.feed_from)
        ]
        contracts = [
            (
                self.firms_by_id[prog.params["buyer"]],
                prog.params["supplier"],
                (prog.params.get("tonnes_per_year") or math.inf) / 12.0,
            )
            for prog in self.desk.active("offtake_contract")
        ]
        for links in (integrated, contracts):
            self._deliver_claims(links, firm_offers, firm_bids, flows)
        commitments = self.desk.active("purchase_commitment")
        if commitments:
            bids = {**firm_bids, **(user_bids or {})}
            for prog in commitments:
                links = self._commitment_claims(prog, firm_offers, bids)
                self._deliver_claims(links, firm_offers, bids, flows, prog.params["commodity"])
        return flows

    def _commitment_claims(self, prog, firm_offers: dict, bids: dict) -> list:
        """A purchase commitment as (buyer, supplier id, t/month cap) claims: its tonnes a month
        shared among the issuer's buyers in proportion to what they still want and among the
        partner's producers in proportion to what they still offer."""
        c = prog.params["commodity"]
        d, o = self.region_index[prog.issuer], self.region_index[prog.params["partner"]]
        buyers = [(b, q[c]) for b, q in bids.items() if b.r == d and q.get(c, 0.0) > 1e-12]
        sellers = [(f, q[c]) for f, q in firm_offers.items() if f.r == o and q.get(c, 0.0) > 1e-12]
        wanted = sum(q for _, q in buyers)
        offered = sum(q for _, q in sellers)
        if wanted <= 1e-12 or offered <= 1e-12:
            return []
        cap = prog.params["t_per_month"]
        return [
            (buyer, seller.firm_id, cap * (qb / wanted) * (qs / offered))
            for buyer, qb in buyers
            for seller, qs in sellers
        ]

    def _deliver_claims(
        self,
        links,
        firm_offers: dict,
        firm_bids: dict,
        flows: np.ndarray,
        commodity: str | None = None,
    ) -> None:
        """Deliver (buyer, supplier id, t/month cap) claims, pro rata per supplier: of every
        product the supplier sells, or only of ``commodity``. A buyer is a firm or an end
        user (its bids in ``firm_bids`` too)."""
        book = self.policies
        holders: dict[str, list[tuple[Firm, float]]] = defaultdict(list)
        for buyer, supplier_id, cap in links:
            holders[supplier_id].append((buyer, cap))
        for supplier in self.firms:
            claims = holders.get(supplier.firm_id)
            if not claims:
                continue
            o = supplier.r
            for c in supplier.output_commodities():
                if commodity is not None and c != commodity:
                    continue
                ci = self.commodity_index[c]
                wants = [
                    0.0
                    if book.restricted[ci, o, buyer.r]
                    else min(firm_bids[buyer].get(c, 0.0), cap)
                    for buyer, cap in claims
                ]
                wanted = sum(wants)
                have = firm_offers[supplier].get(c, 0.0)
                if wanted <= 1e-12 or have <= 1e-12:
                    continue
                scale = min(1.0, have / wanted)
                price = float(self.prices[ci, o])
                if ci == self.commodity_index[self.graded]:
                    price *= self.basket_factor(supplier)
                for (buyer, _), want in zip(claims, wants, strict=True):
                    amount = want * scale
                    if amount <= 1e-12:
                        continue
                    d = buyer.r
                    landed = price * book.wedge[ci, o, d] + self.transport[ci, o, d]
                    revenue = amount * price * 1000.0
                    shipped, tracked, content = supplier.deliver(c, amount, revenue)
                    self.pay_price_floor(supplier, c, amount, revenue)
                    cost = amount * landed * 1000.0
                    if isinstance(buyer, EndUser):
                        buyer.receive(shipped, cost, tracked, content)
                    else:
                        buyer.receive(c, shipped, cost, tracked, content)
                    if o != d:
                        self.content.exports[:, o, d] += (
                            self.content.of_concentrate(shipped) if np.ndim(shipped) else content
                        )
                    firm_offers[supplier][c] -= amount
                    firm_bids[buyer][c] -= amount
                    flows[ci, o, d] += amount

    def _settle(self, ci: int, clearing, sellers, buyers, bids, first=None) -> None:
        """Move goods and money for one commodity's clearing.

        Each tier's receipts in a region are shared among its buyers in proportion to their
        bids, except that holders of a general licence (``first``: {destination: {firm: t}})
        take theirs first from what came over licensed arcs.
        """
        c = self.commodity_ids[ci]
        shipped = clearing.flows.sum(axis=0)  # (o, d)
        book = self.policies
        netback = market.netbacks(self.prices[ci], book.wedge[ci], self.transport[ci])
        graded = c == self.graded
        n_r = len(self.region_ids)
        origin_mix = np.zeros((n_r, len(self.deposit_ids))) if graded else None
        # Orders that went unfilled count as demand for the sellers who serve those buyers, so
        # producers plan on orders, not only on what they managed to ship.
        unfilled = market.unfilled_by_origin(bids, clearing)
        shipped_tracked = np.zeros(n_r)
        # Pooled offtake: members' buyers pay members' producers a premium on what they take.
        pooled = settle_premium(self, ci, shipped, netback)
        book = self.content
        shipped_content = np.zeros((n_r, len(book.elements)))
        # Price floors top up sales only where a state guarantees one (rarely).
        floors = bool(self.desk.active("price_floor"))
        for o in range(n_r):
            group = sellers.get((ci, o))
            if not group:
                continue
            sold = shipped[o].sum()
            if sold + unfilled[o] <= 1e-12:
                continue
            # Concentrate is paid by value: each mine's part of the revenue weighs its tonnes by
            # its basket (heavy-rich ion clay earns a premium per t REO).
            value = [
                q * (self.basket_factor(agent) if graded and isinstance(agent, Firm) else 1.0)
                for agent, q in group
            ]
            total_offer = sum(q for _, q in group)
            total_value = sum(value)
            revenue = float((shipped[o] * netback[o]).sum()) * 1000.0
            bonus = float(pooled.usd[o].sum()) if pooled is not None else 0.0
            for (agent, q), v in zip(group, value, strict=True):
                share = q / total_offer
                revenue_share = v / total_value
                if isinstance(agent, Firm):
                    agent.backlog[c] = agent.backlog.get(c, 0.0) + unfilled[o] * share
                if sold <= 1e-12:
                    continue
                earned = revenue * revenue_share
                if bonus > 0:
                    pooled.book.receive(self.month, ci, o, bonus * revenue_share)
                out, tracked, content = agent.deliver(
                    c, sold * share, earned + bonus * revenue_share
                )
                shipped_tracked[o] += tracked
                shipped_content[o] += content
                if floors and isinstance(agent, Firm):
                    self.pay_price_floor(agent, c, stock_total(out), earned)
                if graded:
                    origin_mix[o] += out
        if graded:
            totals = origin_mix.sum(axis=1, keepdims=True)
            origin_mix = np.divide(
                origin_mix, totals, out=np.zeros_like(origin_mix), where=totals > 0
            )
        price = self.prices[ci]
        sold_by_origin = shipped.sum(axis=1)
        origin_tracked_share = np.divide(
            shipped_tracked,
            sold_by_origin,
            out=np.zeros(n_r),
            where=sold_by_origin > 1e-12,
        )
        # Element content per t each origin shipped (concentrate: its deposit mix's yields).
        content_per_t = (
            numerics.matmul(origin_mix, self.yield_matrix)
            if graded
            else np.divide(
                shipped_content,
                sold_by_origin[:, None],
                out=np.zeros_like(shipped_content),
                where=sold_by_origin[:, None] > 1e-12,
            )
        )
        abroad = shipped.copy()
        np.fill_diagonal(abroad, 0.0)
        book.exports += np.einsum("od,oe->eod", abroad, content_per_t)
        # Flows are zero or above 1e-12 t: a (tier, destination) with none received nothing.
        delivered = (clearing.flows > 0).any(axis=1).tolist()
        for d in range(n_r):
            for tier in range(clearing.flows.shape[0]):
                group = buyers.get((ci, tier, d))
                if not group or not delivered[tier][d]:
                    continue
                got = clearing.flows[tier, :, d]
                received = got.sum()
                if received <= 1e-12:
                    continue
                wanted = bids[tier, d]
                mix = numerics.matmul(got, origin_mix) / received if graded else None
                tracked_share = float(numerics.matmul(got, origin_tracked_share)) / received
                content_share = numerics.matmul(got, content_per_t) / received
                uplift = 0.0
                if pooled is not None:
                    uplift = float(numerics.matmul(got, pooled.rates[:, d])) / received
                heads = (first or {}).get(d, {}) if tier == 1 else {}
                head_total, scale = 0.0, 0.0
                if heads:
                    over_licensed = float(got[self.policies.general_origins(ci, d)].sum())
                    head_total = min(sum(heads.values()), over_licensed)
                    scale = head_total / max(sum(heads.values()), 1e-12)
                rest = max(wanted - head_total, 1e-12)
                for agent, q in group:
                    head = heads.get(agent, 0.0) * scale
                    amount = head + (received - head_total) * (q - head) / rest
                    cost = amount * price[d] * 1000.0
                    if uplift > 0:
                        pooled.book.pay(self.month, ci, d, cost * uplift)
                        cost += cost * uplift
                    tracked = amount * tracked_share
                    if graded:
                        agent.receive(c, mix * amount, cost, tracked)
                    elif isinstance(agent, EndUser):
                        agent.receive(amount, cost, tracked, content_share * amount)
                    else:
                        agent.receive(c, amount, cost, tracked, content_share * amount)

    def consume(self) -> None:
        """End users use what they hold; what retires from use is partly collected as scrap
        (counted as the scrap's production in the user's region)."""
        scrap = self.commodity_index.get(self.spec.recycling.scrap) if self.spec.recycling else None
        for user in self.end_users:
            user.consume()
            collected = user.retire()
            if collected > 0:
                self.production_buffer[scrap, user.r] += collected

    def cost_basis(self, prices: np.ndarray, ci: int) -> np.ndarray:
        """Throughput-weighted full unit cost (R,) of commodity ``ci`` by region, USD/kg.

        NaN where no plant in the region makes the commodity.
        """
        c = self.commodity_ids[ci]
        n_r = len(self.region_ids)
        num = np.zeros(n_r)
        den = np.zeros(n_r)
        for firm in self.makers[c]:
            if firm.status != OPERATING or firm.capacity_tpy <= 0:
                continue
            # Concentrate stays priced on mining cost (each mine is then paid on its basket, see
            # _settle): pricing it on its oxide basket while the oxides are priced on their feed
            # cost makes the two prices chase each other without bound.
            cost = firm.unit_costs(prices).get(c)
            if cost is None:
                continue
            weight = max(firm.throughput, 0.05 * firm.capacity_tpy / 12.0)
            num[firm.r] += cost * weight
            den[firm.r] += weight
        return np.divide(num, den, out=np.full(n_r, np.nan), where=den > 0)

    def basket_usd_per_kg(self, prices: np.ndarray, firm: Firm) -> float:
        """Value of the separated oxides and by-products in a kg REO of a mine's concentrate,
        at the mine's home oxide prices, USD/kg."""
        oxides = prices[[self.commodity_index[c] for c in self.joint_products], firm.r]
        d = firm.deposit_index
        return float(numerics.matmul(self.yield_matrix[d], oxides) + self.byproduct_usd_per_kg[d])

    def basket_factor(self, firm: Firm) -> float:
        """A mine's concentrate value relative to its region's average mined basket at this
        month's prices (1 for other firms): what it earns per t REO over the regional price."""
        if firm.deposit_index is None:
            return 1.0
        key = (self.month, id(self.prices))
        if self._basket_cache[0] != key:
            self._basket_cache = (key, self._basket_factors())
        return self._basket_cache[1].get(firm.firm_id, 1.0)

    def _basket_factors(self) -> dict[str, float]:
        mines = [f for f in self.makers[self.graded] if f.capacity_tpy > 0]
        value = {f.firm_id: self.basket_usd_per_kg(self.prices, f) for f in mines}
        weight: dict[int, float] = defaultdict(float)
        total: dict[int, float] = defaultdict(float)
        for f in mines:
            weight[f.r] += f.capacity_tpy
            total[f.r] += f.capacity_tpy * value[f.firm_id]
        return {
            f.firm_id: value[f.firm_id] / (total[f.r] / weight[f.r]) if total[f.r] > 0 else 1.0
            for f in mines
        }

    def normal_stock(self, ci: int) -> np.ndarray:
        """Finished-goods stock (R,) that sellers of ``ci`` normally hold, t."""
        c = self.commodity_ids[ci]
        cover = self.params.output_cover_months
        out = np.zeros(len(self.region_ids))
        for firm in self.makers[c]:
            if firm.status == OPERATING:
                out[firm.r] += cover * firm.sales_ema.get(c, 0.0)
        return out

    def _markup_basis(self, basis: np.ndarray, ci: int) -> np.ndarray:
        """The cost basis (R,) that a cost-plus price of ``ci`` marks up, USD/kg: the producers'
        cost, at least a tenth of the reference price. A by-product credit can take a
        separator's cost of its main product to nothing (a clay separator whose heavy oxides
        pay for everything), and a markup on nothing is infinite. NaN (no producer) stays."""
        return np.where(np.isnan(basis), basis, np.maximum(basis, 0.1 * self.reference_prices[ci]))

    def update_prices(self) -> None:
        """Prices follow costs and scarcity, then import parity; expectations and risk follow.

        Commodities are updated upstream first, so a dearer oxide raises the metal and magnet
        makers' cost basis in the same month.
        """
        p = self.params
        book = self.policies
        new = self.prices.copy()
        off_diagonal = ~np.eye(len(self.region_ids), dtype=bool)
        for ci, clearing in self.clearings:
            step = market.excess_steps(
                self.offers[ci],
                self.bids[ci],
                clearing,
                self.normal_stock(ci),
                p.price_speed,
            )
            basis = self._markup_basis(self.cost_basis(new, ci), ci)
            known = ~np.isnan(basis)
            has = known & self._price_setters(ci)
            # Markups relax toward normal when the market is balanced: competition erodes rents.
            relaxed = self.markup[ci] - p.markup_relaxation * (
                self.markup[ci] - self.normal_markup[ci]
            )
            # np.minimum(np.maximum()) is np.clip (NaN included) without its wrapper's cost,
            # which on arrays this small is most of the work; likewise np.where for nan_to_num
            # (which it falls back to for an infinite basis, never seen).
            self.markup[ci] = np.where(
                has, np.minimum(np.maximum(relaxed + step, -0.7), 2.5), self.markup[ci]
            )
            old = new[ci].copy()
            filled = np.where(known, basis, 0.0)
            if np.isinf(filled).any():
                filled = np.nan_to_num(basis)
            used_basis = np.maximum(filled, 1e-6)
            new[ci] = np.where(
                has, used_basis * numerics.exp(self.markup[ci]), new[ci] * numerics.exp(step)
            )
            home = new[ci].copy()
            capped_in = (clearing.capped & off_diagonal).any(axis=0)
            self.price_breakdown.home(ci, has, used_basis, old, home, capped_in)
            trace: dict = {}
            new[ci] = market.import_parity(
                new[ci],
                self.offers[ci],
                self.bids[ci],
                clearing,
                book.wedge[ci],
                self.transport[ci],
                book.banned[ci],
                book.restricted[ci] | clearing.capped,
                p.arbitrage_pull,
                p.import_parity_share,
                trace,
            )
            self.price_breakdown.arbitrage(
                ci, trace, home, book.wedge[ci], self.transport[ci], p.arbitrage_pull
            )
            unfloored = new[ci].copy()
            new[ci] = np.maximum(new[ci], self.price_floor[ci])
            self.price_breakdown.floor(ci, unfloored, new[ci])
            # Most a buyer pays on the spot: where substitution leaves a tenth of end use.
            ceiling = self.reference_prices[ci] * self.choke_ratios[ci] * 9.0**0.25
            # The first month trades before any contract is written: it has no thin spot yet.
            self.spot_prices[ci] = (
                market.spot_prices(new[ci], self.bids[ci], clearing, p.spot_elasticity, ceiling)
                if self.month > 0
                else new[ci]
            )
            # Every region with plants keeps the markup its price implies, so a region whose
            # producers become price setters again starts from the price it had.
            safe = np.where(known, used_basis, 1.0)
            self.markup[ci] = np.where(
                known,
                np.minimum(np.maximum(numerics.log(new[ci] / safe), -0.7), 2.5),
                self.markup[ci],
            )
            self._qualify(ci, clearing)
        self.prices = new
        self.price_breakdown.close_month()
        a = 1.0 / p.expectation_months
        self.expected_prices = (1 - a) * self.expected_prices + a * self.prices
        # Investors extrapolate more than traders: half the spot price, half the trend.
        self.investor_prices = 0.5 * (self.prices + self.expected_prices)
        self._update_risk()

    def _price_setters(self, ci: int) -> np.ndarray:
        """Regions (R,) whose own producers set the price of ``ci`` there (cost plus markup):
        those that supplied at least half of what the region bought this month. Elsewhere home
        plants are price takers: the price follows scarcity and import parity, and a small
        plant's costs do not become the region's price. A region that only exports is a taker
        too (it quotes export parity): carrying the markup its parity implies onto its own
        cost basis, which swings with output mix and by-product credits, made that swing the
        quote its importers, and through them the world, were pulled to."""
        flows = self.flows[ci]
        home = np.diag(flows)
        bought = flows.sum(axis=0)
        return (bought > 1e-9) & (home >= 0.5 * bought)

    def _qualify(self, ci: int, clearing) -> None:
        """Buyers qualify more volume from each supplier region, faster when it saves more.

        The volume a destination can take from an origin grows by the commodity's
        qualification rate each month, faster (up to ``qualification_speedup`` times) when the
        origin's landed price undercuts the local price (a 20% saving doubles the pace).
        """
        growth = self.spec.commodities[self.commodity_ids[ci]].qualification_growth_per_month
        if growth is None:
            return
        shipped = clearing.flows.sum(axis=0)
        base = self.qualified[ci]
        market_size = self.bids[ci].sum(axis=0)[None, :]
        prices = self.prices[ci]
        landed = prices[:, None] * self.policies.wedge[ci] + self.transport[ci]
        saving = np.maximum((prices[None, :] - landed) / landed, 0.0)
        pace = growth * np.minimum(
            np.maximum(1.0 + 5.0 * saving, 1.0), self.params.qualification_speedup
        )
        self.qualified[ci] = np.maximum(np.maximum(base, shipped) * (1 + pace), 0.02 * market_size)

    def _update_risk(self) -> None:
        p = self.params
        a = 1.0 / p.risk_memory_months
        n_c, n_r = len(self.commodity_ids), len(self.region_ids)
        wanted = np.zeros((n_c, n_r))
        got = np.zeros((n_c, n_r))
        use = self.use_buffer.copy()
        for user in self.end_users:
            wanted[user.c, user.r] += user.wanted
            got[user.c, user.r] += user.consumed
            use[user.c, user.r] += user.consumed
        short = np.divide(wanted - got, wanted, out=np.zeros_like(wanted), where=wanted > 1e-9)
        # Strategic stockpile bids (the last tier) are not anyone's shortage.
        bids = self.bids[:, :-1].sum(axis=1)
        received = np.minimum(self.flows.sum(axis=1), bids)
        unmet = np.divide(
            np.maximum(bids - received, 0.0), bids, out=np.zeros_like(bids), where=bids > 1e-9
        )
        # Unmet restocking bids are not yet a shortage; only a large unmet share signals risk.
        self.shortage_ema = (1 - a) * self.shortage_ema + a * np.maximum(short, unmet - 0.2)
        imports = self.flows.copy()
        for ci in range(n_c):
            np.fill_diagonal(imports[ci], 0.0)
        b = 1.0 / 12.0
        self.import_ema = (1 - b) * self.import_ema + b * imports
        supply = self.import_ema.sum(axis=1) + np.maximum(
            self.use_ema - self.import_ema.sum(axis=1), 0.0
        )
        restricted = (self.import_ema * self.policies.restricted).sum(axis=1)
        restricted_share = np.divide(
            restricted, supply, out=np.zeros_like(supply), where=supply > 1e-9
        )
        # A new restriction alarms buyers; the alarm fades as they get used to it (the risk
        # stays as long as the restriction keeps tightening).
        news = np.maximum(restricted_share - self.restricted_seen, 0.0)
        self.policy_alarm = np.maximum(self.policy_alarm * (1 - 1.0 / p.alarm_months), news)
        self.restricted_seen = np.maximum(
            restricted_share, self.restricted_seen * (1 - 1.0 / p.alarm_months)
        )
        rise = np.maximum(numerics.log(self.prices / self.expected_prices) - 0.1, 0.0)
        self.risk = np.clip(
            0.5 * rise + 2.0 * self.shortage_ema + self.policy_alarm + 0.25 * restricted_share,
            0.0,
            1.0,
        )
        self.use_ema = 0.9 * self.use_ema + 0.1 * use
        self.final_wanted = wanted
        self.final_consumed = got

    def adapt(self) -> None:
        """Firms and end users adapt: thrift, invest, idle, restart, exit; demand grows."""
        for firm in self.firms:
            firm.adapt()
        for user in self.end_users:
            user.adapt()

    # ------------------------------------------------------------------ results

    def results(self) -> pd.DataFrame:
        """The tidy results table (DESIGN.md): one row per observation, with each state's
        objectives as variable ``objective`` (partner = the objective's name)."""
        return pd.concat(
            [self.recorder.frame(), self.objective_recorder.results_rows(self)],
            ignore_index=True,
        )

    def objectives(self) -> pd.DataFrame:
        """Each state's objectives and weighted score, month by month."""
        return objectives_table(self)

    def firm_table(self) -> pd.DataFrame:
        """One row per firm with its current state."""
        return pd.DataFrame(
            [
                {
                    "id": f.firm_id,
                    "name": f.name,
                    "stage": f.stage,
                    "region": f.region,
                    "status": f.status,
                    "capacity_tpy": f.capacity_tpy,
                    "pipeline_tpy": f.pipeline_tpy(),
                    "utilisation": f.utilisation,
                    "cash_usd": f.cash_usd,
                }
                for f in self.firms
            ]
        )


def _end_user_key(spec) -> tuple[str, str, str, str]:
    """Canonical order of end users: region, commodity, sector, then id."""
    return (spec.region, spec.commodity, spec.sector, spec.id or "")


__all__ = ["CANDIDATE", "CONSTRUCTION", "EXITED", "IDLE", "OPERATING", "World"]

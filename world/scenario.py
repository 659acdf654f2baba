"""Scenario files: their schema, validation, inheritance and loading.

A scenario is one TOML file describing the world (regions, commodities, stages and recipes,
firms, end users, states, initial prices and stocks), the scripted policies and events, and the
behavioural parameters. It is validated with pydantic; every problem is reported with its field
path and what is allowed. A file may ``extends = "other-scenario"`` and override only what differs:
tables merge key by key, and lists of tables (firms, end users, states, policies, events) merge
by their ``id``; an entry with ``drop = true`` removes the inherited one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from world.calendar import add_months, months_between, parse_month
from world.field_errors import ProblemsError, Strict, did_you_mean, field_problems
from world.observed import References, series_problems
from world.units import CapexUsdPerTpy, PriceUsdPerKg, RatePerYear, Tonnes

SCENARIO_DIR = Path(__file__).parent / "scenarios"

COMMODITY_IDS = ("concentrate", "oxide_light", "oxide_heavy", "metal", "magnet", "scrap")
#: The longest turn a scenario (or a game made from it) may have, months.
MAX_TURN_MONTHS = 24
SECTORS = ("ev", "wind", "electronics", "industrial", "defense", "other")
STAGES = ("mine", "separator", "metal", "magnet", "recycler")

NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1)]


class ScenarioError(ProblemsError):
    """A scenario that cannot be used, with every problem found."""

    what = "scenario"


class RegionSpec(Strict):
    """A region: where production, demand and policy sit."""

    name: str
    source: str = ""


class CommoditySpec(Strict):
    """A stage product of the chain."""

    unit: Literal["t", "t REO"] = Field(description="unit of quantities: tonnes (t) or t REO")
    description: str = ""
    price_usd_per_kg: dict[str, PriceUsdPerKg] = Field(
        description="initial buyer price per region; regions not listed start at import parity"
    )
    transport_usd_per_kg: NonNeg = 0.5
    qualification_growth_per_month: NonNeg | None = Field(
        None,
        description="how fast buyers can qualify more supply from an origin, as a share of the "
        "arc's recent flow per month; None means no qualification limit",
    )
    choke_ratio: float | None = Field(
        None,
        gt=1,
        description="price / reference at which half of this commodity's use substitutes away "
        "(None: dynamics.choke_ratio); an input that is a small share of its product's cost "
        "(Dy/Tb in a magnet) is given up only at a far higher multiple",
    )
    source: str = ""

    @field_validator("price_usd_per_kg")
    @classmethod
    def _positive_prices(cls, prices: dict[str, float]) -> dict[str, float]:
        # prices enter log-price dynamics: zero or less gives NaN for every later month
        bad = {r: p for r, p in prices.items() if not p > 0}
        if bad:
            raise ValueError(f"initial prices must be above 0 USD/kg (got {bad})")
        return prices


class DepositSpec(Strict):
    """A deposit type: the separation yields of its concentrate (t oxide per t REO)."""

    yields: dict[str, Share]
    byproduct_usd_per_kg: NonNeg = Field(
        0.0, description="value of unmodelled co-products (La, Ce, ...) per kg of REO separated"
    )
    source: str = ""


class StageSpec(Strict):
    """A stage of the chain: what one tonne of throughput takes and gives."""

    inputs: dict[str, NonNeg] = Field(default_factory=dict, description="t input per t throughput")
    outputs: dict[str, NonNeg] = Field(
        default_factory=dict, description="t output per t throughput"
    )
    substitutable: list[str] = Field(
        default_factory=list, description="inputs users can cut at once when their price soars"
    )
    joint_outputs_by_deposit: bool = Field(
        False, description="outputs are the feed's deposit yields (separation)"
    )
    lead_time_months: int = Field(ge=1, description="months from investment to production")
    ramp_months: int = Field(
        12,
        ge=1,
        le=60,
        description="months from a new plant's first output until it can run at full capacity",
    )
    capex_usd_per_tpy: CapexUsdPerTpy = Field(ge=0)
    life_years: float = Field(20, gt=0)
    source: str = ""


class FirmSpec(Strict):
    """One plant or an aggregated group of plants at one stage in one region."""

    id: str
    name: str
    stage: str
    region: str
    capacity_tpy: RatePerYear = Field(ge=0, description="throughput capacity, t/yr")
    unit_cost_usd_per_kg: PriceUsdPerKg = Field(
        ge=0, description="processing cost per kg of throughput, excluding inputs"
    )
    deposit: str | None = Field(None, description="deposit type (mines only)")
    feed: dict[str, Share] = Field(
        default_factory=dict, description="separators: the deposit mix the plant starts on"
    )
    status: Literal["operating", "construction", "candidate", "idle"] = "operating"
    online: str | None = Field(None, description="YYYY-MM when a plant under construction starts")
    utilisation: Share = Field(0.85, description="initial utilisation of capacity")
    lead_time_months: int | None = Field(None, ge=1, description="overrides the stage's lead time")
    capex_usd_per_tpy: CapexUsdPerTpy | None = Field(None, ge=0)
    min_price_usd_per_kg: PriceUsdPerKg | None = Field(
        None, ge=0, description="candidates only: the expected price that triggers investment"
    )
    cash_usd: float = 0.0
    project: str | None = Field(
        None, description="candidates with the same project id are committed together"
    )
    feed_from: list[str] = Field(
        default_factory=list,
        description="firms whose output this firm takes first, outside the spot market "
        "(an integrated chain or an offtake contract)",
    )
    separates_from: dict[str, str] = Field(
        default_factory=dict,
        description="separators: joint products separated only from a YYYY-MM date on (before "
        "it they leave unseparated with the by-products)",
    )
    source: str = ""


class EndUserSpec(Strict):
    """Final demand of one sector in one region."""

    id: str | None = None
    region: str
    sector: str
    commodity: str = "magnet"
    demand_tpy: RatePerYear = Field(ge=0)
    growth_per_year: float = Field(0.0, ge=-0.5, le=1.0)
    elasticity: float = Field(-0.2, le=0, ge=-3, description="short-run price elasticity")
    cover_months: NonNeg = 1.5
    source: str = ""


class RecyclingSpec(Strict):
    """End-of-life magnets: what retires from use, how much is collected as scrap."""

    product: str = Field("magnet", description="the commodity that reaches end of life")
    scrap: str = Field("scrap", description="the commodity collected scrap is traded as")
    life_years: float = Field(12.0, gt=0, le=50, description="average service life")
    in_use_years: float = Field(
        6.0, ge=0, le=50, description="stock in use at the start, as years of demand"
    )
    collection_share: Share = Field(
        0.05, description="share of retiring material collected for recycling"
    )
    source: str = ""


class StateSpec(Strict):
    """A state: holds policies and a strategic stockpile."""

    id: str | None = None
    region: str
    name: str
    stockpile_t: dict[str, Tonnes] = Field(default_factory=dict)
    budget_usd_per_year: float | None = Field(
        None, ge=0, description="spending allowed on policies per calendar year; None: unlimited"
    )
    source: str = ""


class SeatSpec(Strict):
    """Who plays a state: a doctrine (the AI) with its parameters, and the state's objectives."""

    doctrine: str = "passive"
    params: dict[str, Any] = Field(default_factory=dict)
    weights: dict[str, float] = Field(
        default_factory=dict, description="objective weights (welfare, security, leverage, fiscal)"
    )
    source: str = ""


class SeatBriefing(Strict):
    """What a seat's players read before they play."""

    role: str = Field(description="who the seat is and where it stands at the start")
    success: str = Field(description="what success looks like, in terms the dashboard shows")


class Briefing(Strict):
    """The scenario told to its players: the situation, each seat's brief, the debrief questions.

    A scenario that ``extends`` another inherits its briefing and may override parts of it, as
    any table; a scenario about a different situation should write all of it.
    """

    situation: str = Field(description="the situation at the start, for every seat")
    seats: dict[str, SeatBriefing] = Field(
        default_factory=dict, description="per state region: its role and what success is"
    )
    debrief_questions: list[str] = Field(
        default_factory=list, description="questions for a class or a workshop's debrief"
    )


class LicenceSpecTerms(Strict):
    """An export licence's terms beyond its approval share (with ``review_months``, the most
    likely review delay, which the classes using these terms define): a policy's and an
    order's."""

    review_low_months: NonNeg | None = Field(
        None, le=24, description="licences: the shortest review, months; None: review_months - 1"
    )
    review_high_months: NonNeg | None = Field(
        None, le=36, description="licences: the longest review, months; None: review_months + 1"
    )
    end_use: dict[str, Share] = Field(
        default_factory=dict,
        description="licences: approval share by end use (defense, civilian, stockpile), "
        "overriding approval_share; defense 0 refuses defence end users",
    )
    general_licences: list[str] = Field(
        default_factory=list,
        description="licences: buyers (region or firm ids) holding a general licence: they "
        "ship without review at full approval",
    )
    # Left out of dumps at 1 (every tonne covered): licences, orders and their logs read as
    # they did before the term existed.
    covered_share: Share = Field(
        1.0,
        description="licences: the share of an arc's tonnage that needs a licence (the "
        "controlled grades, as Dy/Tb-bearing magnets); the rest ships as if unlicensed",
        exclude_if=lambda share: share == 1.0,
    )

    _check_end_use = field_validator("end_use")(lambda v: check_end_use(v))

    @model_validator(mode="after")
    def _review_ordered(self) -> LicenceSpecTerms:
        self.review()
        return self

    def review(self) -> Triangular:
        """The review delay, months, as a distribution (one draw per application)."""
        return review_distribution(
            self.review_months, self.review_low_months, self.review_high_months
        )


class PolicySpec(LicenceSpecTerms):
    """A scripted policy, active from ``start`` until ``end`` (exclusive)."""

    id: str
    kind: str
    issuer: str
    commodities: list[str]
    partners: list[str] = Field(
        default_factory=list,
        description="destinations (export measures) or origins (tariffs); empty means all others",
    )
    start: str
    end: str | None = None
    quota_t: Tonnes | None = Field(None, ge=0, description="export quota per period, t")
    period_months: int = Field(12, ge=1, le=120)
    scale: Share = Field(1.0, description="share of the quota that falls on modelled commodities")
    review_months: int = Field(
        2, ge=0, le=24, description="licences: the most likely review delay, months"
    )
    approval_share: Share = 1.0
    decided_by: Literal["rule", "seat"] = Field(
        "rule",
        description="licences: 'rule' approves approval_share automatically after the review; "
        "'seat' leaves each month's applications to the issuer's licence_decision orders",
    )
    rate: NonNeg | None = Field(None, description="ad valorem rate (0.25 = 25%)")
    content_threshold: Share = Field(
        0.001,
        description="extraterritorial controls: the share of a product's tonnes of the "
        "issuer's origin from which exporters abroad may not ship it to the partners",
    )
    months_of_cover: NonNeg | None = None
    price_low_usd_per_kg: PriceUsdPerKg | None = Field(
        None, ge=0, description="stockpile_band: buy below this home price"
    )
    price_high_usd_per_kg: PriceUsdPerKg | None = Field(
        None, ge=0, description="stockpile_band: sell above this home price"
    )
    tonnes_per_month: Tonnes | None = Field(
        None, ge=0, description="stockpile_band: most bought or sold in a month"
    )
    note: str = ""
    source: str = ""

    def in_force(self, date: str) -> bool:
        """Whether the policy stands at ``date`` ("YYYY-MM")."""
        return self.start <= date and (self.end is None or date < self.end)

    def in_words(self, commodities: bool = True) -> str:
        """The policy in a line of words (its issuer, kind, partners, rate, quota, approval),
        naming its commodities unless the reader already knows them."""
        what = f"{self.issuer} {self.kind.replace('_', ' ')}"
        if commodities:
            what += f" on {', '.join(self.commodities)}"
        if self.partners:
            what += f" ({', '.join(self.partners)})"
        if self.rate is not None:
            what += f" at {self.rate:.0%}"
        if self.quota_t is not None:
            what += f", quota {self.quota_t:,.0f} t"
        if self.kind == "export_licence":
            what += f", {self.approval_share:.0%} approved"
            what += "".join(f", {use} {share:.0%}" for use, share in self.end_use.items())
            if self.covered_share < 1.0:
                what += f", covering {self.covered_share:.0%} of the tonnage"
            if self.general_licences:
                what += f", general licences for {', '.join(self.general_licences)}"
        return what


#: End uses a licence can approve apart, each a tier of market clearing (world/market.py):
#: defence users (where their state orders defence priority), other users, strategic stockpiles.
END_USES = ("defense", "civilian", "stockpile")


def check_end_use(shares: dict[str, float] | None) -> dict[str, float] | None:
    """Refuse end uses the market cannot license apart, naming the allowed ones.

    Raises:
        ValueError: an unknown end use, or a sector that clears with the civilian users.
    """
    for use in shares or {}:
        if use in END_USES:
            continue
        if use in SECTORS:
            raise ValueError(
                f"sector '{use}' is not licensed apart: its users clear with the other civilian "
                f"users; allowed: {', '.join(END_USES)}"
            )
        raise ValueError(f"unknown end use '{use}'; allowed: {', '.join(END_USES)}")
    return shares


def review_distribution(mode: float, low: float | None, high: float | None) -> Triangular:
    """A licence review's delay, months: triangular around ``mode``, by default one month
    either side (never under a month): about 45 working days at a mode of 2.

    Raises:
        ValueError: unless low <= mode <= high.
    """
    low = max(min(1.0, mode), mode - 1.0) if low is None else low
    high = mode + 1.0 if high is None else high
    if not low <= mode <= high:
        raise ValueError(
            f"review_low_months <= review_months <= review_high_months is needed "
            f"(got {low}, {mode}, {high})"
        )
    return Triangular(low=low, mode=mode, high=high)


class EventSpec(Strict):
    """Something that happens to the world at a date: a shock to capacity (a mine accident, a
    seizure of mines) or to demand, or an announcement that only makes the news."""

    id: str
    kind: Literal["capacity_shock", "demand_shock", "announcement"]
    date: str
    months: int = Field(1, ge=1, le=600)
    region: str
    stage: str | None = None
    sector: str | None = None
    share: float = Field(0.0, ge=-1, le=5, description="change as a share: -0.5 halves")
    note: str = ""
    source: str = ""


class Triangular(Strict):
    """A triangular distribution: lowest, most likely and highest value."""

    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"needs low <= mode <= high (got {self.low}, {self.mode}, {self.high})"
            )
        return self

    def draw(self, rng) -> float:
        """One draw from ``rng`` (a numpy Generator)."""
        if self.low == self.high:
            return self.low
        return float(rng.triangular(self.low, self.mode, self.high))


class UncertaintySpec(Strict):
    """What a seed draws: the scenario's uncertain world, as distributions.

    Every draw comes from the world's seeded generator in a fixed order, so a seed gives one
    world and the same seed always the same one.
    """

    demand_growth_sd: NonNeg = Field(
        0.0, le=0.5, description="sd of each year's world demand growth around the end users' rates"
    )
    project_delay_share: Triangular = Field(
        default_factory=lambda: Triangular(low=0, mode=0.05, high=0.1),
        description="how far a project slips beyond its lead time or announced date, as a share "
        "of its lead time (big projects slip by more months)",
    )
    capex_overrun: Triangular = Field(
        default_factory=lambda: Triangular(low=1, mode=1, high=1),
        description="capex paid per capex planned, at each commitment",
    )
    mine_outages_per_year: NonNeg = Field(
        0.0, le=12, description="chance per mine-year of an outage (accident, flood, seizure)"
    )
    mine_outage_months: Triangular = Field(
        default_factory=lambda: Triangular(low=1, mode=2, high=6),
        description="how long an outage lasts, months",
    )
    mine_outage_share: Triangular = Field(
        default_factory=lambda: Triangular(low=0.2, mode=0.5, high=1.0),
        description="share of one operation's capacity an outage takes out",
    )
    operation_tpy: float = Field(
        30000,
        gt=0,
        description="size of one mining operation, t/yr: a firm that aggregates several loses "
        "only one operation's share in an outage",
    )
    source: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> UncertaintySpec:
        problems = []
        if self.project_delay_share.low < 0:
            problems.append("project_delay_share: low must be at least 0")
        if self.capex_overrun.low <= 0:
            problems.append("capex_overrun: low must be above 0")
        if self.mine_outage_months.low < 1:
            problems.append("mine_outage_months: low must be at least 1")
        share = self.mine_outage_share
        if share.low < 0 or share.high > 1:
            problems.append("mine_outage_share: must lie between 0 and 1")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class DynamicsSpec(Strict):
    """Behavioural parameters. Every default is documented; scenarios cite what they change."""

    price_speed: NonNeg = Field(0.3, description="log-price change per month per unit excess")
    contract_share: Share = Field(
        0.7,
        description="share of each trade arc's normal volume sold under long-term contracts "
        "(shipped first, at the posted price); the rest trades on a thin spot",
    )
    contract_months: float = Field(
        12.0, gt=0, description="months over which contract volumes follow the arc's flows"
    )
    spot_elasticity: float = Field(
        0.3,
        gt=0,
        description="short-run price elasticity of the buyers left unserved in the spot: the "
        "spot price rises until they give up their unmet share",
    )
    withholding: NonNeg = Field(
        1.0, description="how strongly sellers hold stock back when the price is below expected"
    )
    joint_stock_limit_months: float = Field(
        6.0, gt=0, description="co-product stock (months of sales) beyond which it goes unseparated"
    )
    choke_ratio: float = Field(
        4.0, gt=1, description="price / reference at which half of end-use demand substitutes away"
    )
    qualification_speedup: float = Field(
        1.0, ge=1, le=10, description="most that a large saving speeds up supplier qualification"
    )
    markup_relaxation: Share = Field(
        0.05, description="monthly share of a markup's gap to its normal level that closes"
    )
    arbitrage_pull: Share = Field(0.5, description="share of the gap to import parity closed")
    import_parity_share: Share = Field(
        0.03,
        description="share of a region's purchases its uncapped imports must supply before "
        "import parity binds its price: the marginal source is the dearest one that, with the "
        "sources dearer than it, supplies this share; a stray cargo below it is not the margin",
    )
    input_cover_months: NonNeg = Field(2.0, description="firms' normal input inventory")
    output_cover_months: NonNeg = Field(0.5, description="firms' normal finished-goods stock")
    floor_backstop_months: NonNeg = Field(
        3.0,
        description="finished stock (months of sales) a producer under a price floor keeps "
        "for its customers; the state takes what it holds beyond that, which has not sold",
    )
    production_adjust_months: float = Field(
        2.0, gt=0, description="months over which producers correct their finished-goods stock"
    )
    restock_months: float = Field(4.0, gt=0, description="months to close an inventory gap")
    restock_elasticity: NonNeg = Field(1.5, description="how much a high price defers restocking")
    hoarding: NonNeg = Field(2.0, description="extra cover per unit of perceived risk (x normal)")
    risk_aversion: Share = Field(
        0.1, description="discount buyers put on supply from an origin that restricts exports"
    )
    risk_memory_months: float = Field(6.0, gt=0)
    alarm_months: float = Field(
        6.0, gt=0, description="months over which the alarm at a new restriction fades"
    )
    thrift_rate: NonNeg = Field(0.03, description="monthly cut in intensity per unit log price gap")
    thrift_floor: Share = Field(
        0.4, description="lowest magnet intensity of end users' service reached by substitution"
    )
    content_thrift_floor: Share = Field(
        0.5,
        description="lowest share of the recipe a plant's substitutable input (Dy/Tb per t of "
        "alloy) falls to by thrift: grain-boundary diffusion and low-Dy grades halve it at most",
    )
    thrift_recovery: NonNeg = Field(0.001, description="monthly recovery of intensity")
    expectation_months: float = Field(12.0, gt=0, description="memory of price expectations")
    invest_hurdle: NonNeg = Field(0.10, description="required return on capex per year")
    invest_step_share: Share = Field(0.03, description="expansion size as a share of capacity")
    invest_utilisation: Share = Field(
        0.85, description="utilisation firms plan new capacity for (they expand above it)"
    )
    invest_max_trend: NonNeg = Field(
        0.15, description="largest yearly demand growth firms extrapolate when they invest"
    )
    invest_max_step_share: NonNeg = Field(
        0.25, description="largest expansion in one decision, as a share of capacity"
    )
    invest_cooldown_months: int = Field(12, ge=0)
    idle_after_months: int = Field(6, ge=1, description="months of loss before a plant idles")
    idle_loss_share: NonNeg = Field(
        0.03, description="expected loss per kg, as a share of revenue, that counts as a loss"
    )
    idle_step_share: Share = Field(0.25, description="share of capacity idled at each step")
    restart_after_months: int = Field(4, ge=1, description="months of profit before restart")
    exit_after_months: int = Field(36, ge=1, description="months idle before a plant exits")
    source: str = ""


class Scenario(Strict):
    """A whole scenario: the world, its seats and its script."""

    name: str
    version: str = "1"
    description: str
    extends: str | None = None
    start: str
    months: int = Field(ge=1, le=600, description="horizon in months")
    turn_months: int = Field(3, ge=1, le=MAX_TURN_MONTHS)
    regions: dict[str, RegionSpec]
    commodities: dict[str, CommoditySpec]
    deposits: dict[str, DepositSpec]
    stages: dict[str, StageSpec]
    firms: list[FirmSpec]
    end_users: list[EndUserSpec]
    states: list[StateSpec] = Field(default_factory=list)
    tracked_origin: str = Field(
        "CN", description="region whose material is traced through the chain (provenance)"
    )
    seats: dict[str, SeatSpec] = Field(
        default_factory=dict, description="per state region: its doctrine and objective weights"
    )
    policies: list[PolicySpec] = Field(default_factory=list)
    orders: list[dict[str, Any]] = Field(
        default_factory=list,
        description="scripted orders: each an order (see world/orders.py) with an id and a date",
    )
    events: list[EventSpec] = Field(default_factory=list)
    recycling: RecyclingSpec | None = Field(
        None, description="end-of-life collection of scrap (None: no recycling)"
    )
    dynamics: DynamicsSpec = Field(default_factory=DynamicsSpec)
    uncertainty: UncertaintySpec = Field(
        default_factory=UncertaintySpec, description="what each seed draws (see UncertaintySpec)"
    )
    briefing: Briefing | None = Field(
        None, description="the situation, each seat's brief and the debrief questions"
    )
    references: References = Field(
        default_factory=References,
        description="the historical record: observed series with sources and tolerance bands "
        "(world/observed.py), compared by `chokepoint history` and drawn on the charts",
    )

    @field_validator("start")
    @classmethod
    def _start_is_date(cls, value: str) -> str:
        parse_month(value)
        return value

    @field_validator("regions")
    @classmethod
    def _region_ids(cls, value: dict[str, RegionSpec]) -> dict[str, RegionSpec]:
        for rid in value:
            if not rid.isupper() or not rid.isalpha():
                raise ValueError(f"region id '{rid}' must be upper-case letters (e.g. CN, US)")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        problems = _reference_problems(self.model_dump())
        if problems:
            raise ValueError("\n".join(problems))
        return self


# --------------------------------------------------------------------------- cross-references
# These checks read the scenario as plain data so that they can also run on a file whose fields
# failed validation: every problem is then reported at once, not one round at a time.


def entry_label(section: str, item: Any) -> str:
    """What identifies an entry of a list of tables: its id, else its merge key."""
    if not isinstance(item, dict):
        return ""
    if item.get("id"):
        return str(item["id"])
    if section == "end_users":
        return f"{item.get('region')}/{item.get('sector')}/{item.get('commodity', 'magnet')}"
    if section == "states" and item.get("region"):
        return str(item["region"])
    return ""


def _item_path(section: str, index: int, item: Any) -> str:
    label = entry_label(section, item)
    return f"{section}[{index}] ({label})" if label else f"{section}[{index}]"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _reference_problems(data: dict) -> list[str]:
    """Problems of reference and consistency between the parts of a scenario (plain data)."""
    # The registry's instruments import this module (PolicySpec), so it is read here.
    from world.instruments import POLICY_KINDS

    problems: list[str] = []

    def table(key: str) -> dict:
        value = data.get(key)
        return value if isinstance(value, dict) else {}

    def entries(key: str) -> list[tuple[str, dict]]:
        value = data.get(key)
        if not isinstance(value, list):
            return []
        return [(_item_path(key, i, x), x) for i, x in enumerate(value) if isinstance(x, dict)]

    regions, commodities = sorted(table("regions")), sorted(table("commodities"))
    deposits, stages = table("deposits"), table("stages")

    def check_choice(path: str, value: Any, allowed: Any, what: str) -> None:
        if isinstance(value, str) and value not in allowed:
            problems.append(f"{path}: unknown {what} '{value}'; allowed: {', '.join(allowed)}")

    start, months = data.get("start"), data.get("months")
    horizon: tuple[str, int] | None = None
    if isinstance(start, str) and isinstance(months, int) and not isinstance(months, bool):
        try:
            parse_month(start)
            horizon = (start, months)
        except ValueError:
            pass

    def check_date(
        path: str,
        date: Any,
        allow_end: bool = False,
        allow_before: bool = False,
        allow_after: bool = False,
    ) -> bool:
        """Report a malformed date or one outside the horizon; True when the date parses."""
        if not isinstance(date, str):
            return False
        try:
            parse_month(date)
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
            return False
        if horizon is not None:
            first, length = horizon
            last = 10**6 if allow_after else (length if allow_end else length - 1)
            earliest = -(10**6) if allow_before else 0
            if not earliest <= months_between(first, date) <= last:
                problems.append(
                    f"{path}: date {date} is outside the scenario's horizon; allowed: "
                    f"{first} .. {add_months(first, last)}"
                )
        return True

    for cid, commodity in table("commodities").items():
        if cid not in COMMODITY_IDS:
            problems.append(
                f"commodities.{cid}: unknown commodity id; allowed: {', '.join(COMMODITY_IDS)}"
            )
        prices = commodity.get("price_usd_per_kg") if isinstance(commodity, dict) else None
        for rid in prices if isinstance(prices, dict) else {}:
            check_choice(f"commodities.{cid}.price_usd_per_kg.{rid}", rid, regions, "region")

    for did, deposit in deposits.items():
        yields = deposit.get("yields") if isinstance(deposit, dict) else None
        if not isinstance(yields, dict):
            continue
        for cid in yields:
            check_choice(f"deposits.{did}.yields.{cid}", cid, commodities, "commodity")
        if all(_is_number(v) for v in yields.values()):
            total = sum(yields.values())
            if total > 1.0 + 1e-9:
                problems.append(
                    f"deposits.{did}.yields: yields add up to {total:g} t oxide per t REO; "
                    "allowed: at most 1"
                )

    for sid, stage in stages.items():
        if sid not in STAGES:
            problems.append(f"stages.{sid}: unknown stage id; allowed: {', '.join(STAGES)}")
        if not isinstance(stage, dict):
            continue
        for part in ("inputs", "outputs"):
            recipe = stage.get(part)
            for cid in recipe if isinstance(recipe, dict) else {}:
                check_choice(f"stages.{sid}.{part}.{cid}", cid, commodities, "commodity")
        if not stage.get("outputs") and not stage.get("joint_outputs_by_deposit"):
            problems.append(
                f"stages.{sid}: a stage needs outputs or joint_outputs_by_deposit = true"
            )

    def check_unique(section: str, what: str) -> None:
        seen: set[str] = set()
        for path, item in entries(section):
            ident = item.get("id")
            if isinstance(ident, str):
                if ident in seen:
                    problems.append(f"{path}.id: duplicate {what} id '{ident}'; ids must be unique")
                seen.add(ident)

    check_unique("firms", "firm")
    stage_ids, deposit_ids = sorted(stages), sorted(deposits)
    firm_ids = sorted(str(f.get("id")) for _, f in entries("firms"))
    for path, firm in entries("firms"):
        check_choice(f"{path}.region", firm.get("region"), regions, "region")
        for supplier in firm.get("feed_from") or []:
            if supplier not in firm_ids:
                problems.append(f"{path}.feed_from: unknown firm '{supplier}'")
        stage_id = firm.get("stage")
        check_choice(f"{path}.stage", stage_id, stage_ids, "stage")
        stage = stages.get(stage_id) if isinstance(stage_id, str) else None
        if isinstance(stage, dict) and not stage.get("inputs"):
            if firm.get("deposit") is None:
                problems.append(
                    f"{path}.deposit: a firm at stage '{stage_id}' (a mine) needs a deposit type; "
                    f"allowed: {', '.join(deposit_ids)}"
                )
            else:
                check_choice(f"{path}.deposit", firm.get("deposit"), deposit_ids, "deposit type")
        feed = firm.get("feed")
        for dep in feed if isinstance(feed, dict) else {}:
            check_choice(f"{path}.feed.{dep}", dep, deposit_ids, "deposit type")
        if firm.get("status") == "construction":
            if firm.get("online") is None:
                problems.append(
                    f"{path}.online: a plant under construction needs a date (YYYY-MM) "
                    "when it starts producing"
                )
            else:
                # A date before the start (a plant inherited from an earlier scenario) means
                # it comes online at the start.
                check_date(f"{path}.online", firm.get("online"), allow_end=True, allow_before=True)
        later = firm.get("separates_from")
        for product, date in later.items() if isinstance(later, dict) else ():
            check_choice(f"{path}.separates_from.{product}", product, commodities, "commodity")
            # A date before the start means separating from the start; after the end, never.
            check_date(
                f"{path}.separates_from.{product}", date, allow_before=True, allow_after=True
            )

    recycling = data.get("recycling")
    if isinstance(recycling, dict):
        for key in ("product", "scrap"):
            default = "magnet" if key == "product" else "scrap"
            check_choice(f"recycling.{key}", recycling.get(key, default), commodities, "commodity")

    for path, user in entries("end_users"):
        check_choice(f"{path}.region", user.get("region"), regions, "region")
        check_choice(f"{path}.commodity", user.get("commodity", "magnet"), commodities, "commodity")
        check_choice(f"{path}.sector", user.get("sector"), SECTORS, "sector")

    for path, state in entries("states"):
        check_choice(f"{path}.region", state.get("region"), regions, "region")
        stockpile = state.get("stockpile_t")
        for cid in stockpile if isinstance(stockpile, dict) else {}:
            check_choice(f"{path}.stockpile_t.{cid}", cid, commodities, "commodity")

    check_unique("policies", "policy")
    required = {
        "export_quota": "quota_t",
        "export_duty": "rate",
        "import_tariff": "rate",
        "stockpile_target": "months_of_cover",
        "stockpile_band": "tonnes_per_month",
    }
    for path, pol in entries("policies"):
        kind = pol.get("kind")
        check_choice(f"{path}.kind", kind, POLICY_KINDS, "policy kind")
        check_choice(f"{path}.issuer", pol.get("issuer"), regions, "region")
        for key, allowed, what in (
            ("commodities", commodities, "commodity"),
            ("partners", regions, "region"),
        ):
            values = pol.get(key)
            for value in values if isinstance(values, list) else []:
                check_choice(f"{path}.{key}", value, allowed, what)
        for buyer in pol.get("general_licences") or []:
            if buyer not in regions and buyer not in firm_ids:
                problems.append(
                    f"{path}.general_licences: '{buyer}' is neither a region "
                    f"({', '.join(regions)}) nor a firm id"
                )
        partners = pol.get("partners")
        if isinstance(partners, list) and pol.get("issuer") in partners:
            problems.append(
                f"{path}.partners: '{pol.get('issuer')}' is the issuer itself; a trade measure "
                "applies to other regions (leave partners empty for all others)"
            )
        start_ok = check_date(f"{path}.start", pol.get("start"))
        end_ok = check_date(f"{path}.end", pol.get("end"), allow_end=True)
        if start_ok and end_ok and months_between(pol["start"], pol["end"]) <= 0:
            problems.append(f"{path}.end: end {pol['end']} must be after start {pol['start']}")
        field = required.get(kind) if isinstance(kind, str) else None
        if field and pol.get(field) is None:
            problems.append(f"{path}.{field}: required for a policy of kind '{kind}'")

    from agents.doctrines import DOCTRINES

    state_regions = {st.get("region") for st in data.get("states") or [] if isinstance(st, dict)}
    for rid, seat in table("seats").items():
        if rid not in state_regions:
            problems.append(
                f"seats.{rid}: not a state of this scenario; allowed: "
                f"{', '.join(sorted(r for r in state_regions if isinstance(r, str)))}"
            )
        doctrine = seat.get("doctrine", "passive") if isinstance(seat, dict) else None
        if isinstance(doctrine, str) and doctrine not in DOCTRINES:
            problems.append(
                f"seats.{rid}.doctrine: unknown doctrine '{doctrine}'; "
                f"allowed: {', '.join(sorted(DOCTRINES))}"
            )

    brief = data.get("briefing")
    brief_seats = brief.get("seats") if isinstance(brief, dict) else None
    for rid in brief_seats if isinstance(brief_seats, dict) else {}:
        if rid not in state_regions:
            problems.append(
                f"briefing.seats.{rid}: not a state of this scenario; allowed: "
                f"{', '.join(sorted(r for r in state_regions if isinstance(r, str)))}"
            )

    check_unique("orders", "order")
    for path, order in entries("orders"):
        problems.extend(_order_problems(path, order, regions, commodities, data))
        if "date" not in order:
            problems.append(f"{path}.date: required (the YYYY-MM the order is issued)")
        else:
            # An order dated before the start (inherited from an earlier scenario) is in force
            # from the start.
            check_date(f"{path}.date", order.get("date"), allow_before=True)

    check_unique("events", "event")
    for path, event in entries("events"):
        check_choice(f"{path}.region", event.get("region"), regions, "region")
        if event.get("stage") is not None:
            check_choice(f"{path}.stage", event.get("stage"), stage_ids, "stage")
        if event.get("sector") is not None:
            check_choice(f"{path}.sector", event.get("sector"), SECTORS, "sector")
        check_date(f"{path}.date", event.get("date"))

    def months_after(date: str, n: int) -> str | None:
        try:
            return add_months(date, n)
        except ValueError:
            return None

    problems += series_problems(
        data.get("references"), regions, commodities, check_date, months_after
    )
    return problems


def _order_problems(path: str, order: dict, regions, commodities, data: dict) -> list[str]:
    """Problems of one scripted order: its schema (world/orders.py) and its references."""
    from pydantic import ValidationError

    from world.orders import FIRM_ORDER_KINDS, parse_order

    body = {k: v for k, v in order.items() if k not in ("id", "date")}
    try:
        parsed = parse_order(body)
    except ValidationError as exc:
        problems = field_problems(exc, Scenario)
        return [f"{path}{p if p.startswith('.') else '.' + p}" for p in problems]
    problems = []
    firm_ids = {f.get("id") for f in data.get("firms") or [] if isinstance(f, dict)}
    if parsed.kind in FIRM_ORDER_KINDS or hasattr(parsed, "firm"):
        firm = parsed.issuer if parsed.kind in FIRM_ORDER_KINDS else parsed.firm
        if firm not in firm_ids:
            problems.append(f"{path}: unknown firm '{firm}'")
    if parsed.kind not in FIRM_ORDER_KINDS and parsed.issuer not in regions:
        allowed = ", ".join(sorted(regions))
        problems.append(f"{path}.issuer: unknown region '{parsed.issuer}'; allowed: {allowed}")
    for c in list(getattr(parsed, "commodities", []) or []) + (
        [parsed.commodity] if hasattr(parsed, "commodity") else []
    ):
        if c not in commodities:
            problems.append(
                f"{path}.commodities: unknown commodity '{c}'; "
                f"allowed: {', '.join(sorted(commodities))}"
            )
    for r in getattr(parsed, "partners", []) or []:
        if r not in regions:
            problems.append(
                f"{path}.partners: unknown region '{r}'; allowed: {', '.join(sorted(regions))}"
            )
    return problems


# --------------------------------------------------------------------------- loading

_KEYED_LISTS = ("firms", "end_users", "states", "policies", "orders", "events")


def _item_key(section: str, item: Any) -> str:
    if not isinstance(item, dict):
        return json.dumps(item, sort_keys=True, default=str)
    if "id" in item:
        return str(item["id"])
    if section == "end_users":
        return f"{item.get('region')}-{item.get('sector')}-{item.get('commodity', 'magnet')}"
    if section == "states":
        return str(item.get("region"))
    return json.dumps(item, sort_keys=True, default=str)


def _merge(
    parent: Any,
    child: Any,
    section: str = "",
    problems: list[str] | None = None,
    where: str = "the file",
) -> Any:
    """Overlay ``child`` on ``parent``: tables key by key, lists of tables by their id.

    Problems of the overlay itself (dropping what is not inherited, the same entry twice in
    ``where``) are appended to ``problems``.
    """
    if isinstance(parent, dict) and isinstance(child, dict):
        merged = dict(parent)
        for key, value in child.items():
            merged[key] = (
                _merge(parent[key], value, key, problems, where) if key in parent else value
            )
        return merged
    if section in _KEYED_LISTS and isinstance(parent, list) and isinstance(child, list):
        order = [_item_key(section, item) for item in parent]
        items = {_item_key(section, item): item for item in parent}
        first_at: dict[str, int] = {}
        for index, item in enumerate(child):
            key = _item_key(section, item)
            if key in first_at and problems is not None:
                field = ".id" if isinstance(item, dict) and "id" in item else ""
                problems.append(
                    f"{section}[{index}] ({key}){field}: duplicate entry '{key}' in {where} "
                    f"(first at {section}[{first_at[key]}]); each entry must appear once"
                )
            first_at.setdefault(key, index)
            if isinstance(item, dict) and "drop" in item:
                drop = item["drop"]
                item = {k: v for k, v in item.items() if k != "drop"}
                if drop is True:
                    if key not in items and problems is not None:
                        problems.append(
                            f"{section}[{index}] ({key}).drop: {where} drops '{key}' but "
                            "nothing with this key is inherited" + did_you_mean(key, items)
                        )
                    items.pop(key, None)
                    continue
                if drop is not False and problems is not None:
                    problems.append(
                        f"{section}[{index}] ({key}).drop: must be true or false (got {drop!r})"
                    )
            if key in items:
                items[key] = _merge(items[key], item, problems=problems, where=where)
            else:
                order.append(key)
                items[key] = item
        return [items[k] for k in order if k in items]
    return copy.deepcopy(child)


def seat_every_state(spec: Scenario) -> Scenario:
    """The scenario with a seat for every state, so that people or a chosen doctrine can take
    any of them (a workshop). States its ``[seats]`` table leaves out get a ``passive`` seat (no
    orders but the script's) after the others; the table's own order, which is the order the
    doctrines play in, is kept."""
    missing = [s.region for s in spec.states if s.region not in spec.seats]
    if not missing:
        return spec
    added = {r: SeatSpec(source="every state is a seat: passive by default") for r in missing}
    return spec.model_copy(update={"seats": {**spec.seats, **added}})


def bundled_scenarios() -> dict[str, Path]:
    """Names and paths of the scenarios shipped with the package."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def _resolve(ref: str, base_dir: Path | None, source: str | None = None) -> Path:
    """The file a scenario reference names; ``source`` is the file whose ``extends`` it is."""
    bundled = bundled_scenarios()
    if ref in bundled:
        return bundled[ref]
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
        path = base_dir / path
    if path.is_file():
        return path
    if path.suffix == ".toml" or len(path.parts) > 1:
        where = (
            f" (looked in {base_dir})" if base_dir is not None and not path.is_absolute() else ""
        )
        what = "not a file" if path.exists() else "no such file"
        problem = f"{what}: {ref}{where}"
    else:
        problem = (
            f"no bundled scenario named '{ref}' and no file of that name; "
            f"bundled: {', '.join(bundled) or 'none'}" + did_you_mean(ref, bundled)
        )
    if source is not None:
        raise ScenarioError(source, [f"extends: {problem}"])
    raise ScenarioError(ref, [problem])


def _read_raw(path: Path, chain: tuple[Path, ...] = (), problems: list[str] | None = None) -> dict:
    """The file's data merged over everything it extends; merge problems go to ``problems``."""
    if path.resolve() in chain:
        cycle = " -> ".join(p.name for p in (*chain, path.resolve()))
        raise ScenarioError(
            str(path), [f"extends: the scenarios extend each other in a cycle: {cycle}"]
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), [f"not valid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ScenarioError(str(path), [f"cannot read the file: {reason}"]) from None
    parent_ref = data.get("extends")
    if parent_ref is not None:
        if not isinstance(parent_ref, str) or not parent_ref:
            raise ScenarioError(
                str(path), [f"extends: must be a scenario name or a path (got {parent_ref!r})"]
            )
        parent_path = _resolve(parent_ref, path.parent, str(path))
        parent = _read_raw(parent_path, (*chain, path.resolve()), problems)
        parent.pop("extends", None)
        data = _merge(parent, data, problems=problems, where=path.name)
    return data


def _covered(problem: str, paths: list[str]) -> bool:
    path = problem.split(": ", 1)[0]
    return any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in paths)


def scenario_from_dict(data: dict, source: str = "<dict>") -> Scenario:
    """Validate a scenario given as a dictionary (already merged with its parent).

    Raises:
        ScenarioError: listing every problem, each starting with its field path.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = field_problems(exc, Scenario, data, label=entry_label)
        model_level = any(not err["loc"] for err in exc.errors())
        if not model_level and isinstance(data, dict):
            # Field errors stop pydantic before the cross-reference checks; run them here so
            # that one pass reports everything, except where a field error already speaks.
            paths = [p.split(": ", 1)[0] for p in problems]
            # dates are checked against the horizon only when the horizon itself is valid
            usable = {
                k: v for k, v in data.items() if k not in ("start", "months") or k not in paths
            }
            problems += [p for p in _reference_problems(usable) if not _covered(p, paths)]
        raise ScenarioError(source, problems) from None


def load_scenario(ref: str | Path) -> Scenario:
    """Load a bundled scenario by name, or a scenario TOML file by path.

    Raises:
        ScenarioError: listing every problem with its field path.
    """
    path = _resolve(str(ref), None)
    merge_problems: list[str] = []
    data = _read_raw(path, (), merge_problems)
    data.pop("drop", None)
    try:
        scenario = scenario_from_dict(data, str(ref))
    except ScenarioError as exc:
        raise ScenarioError(str(ref), merge_problems + exc.problems) from None
    if merge_problems:
        raise ScenarioError(str(ref), merge_problems)
    return scenario


def scenario_hash(scenario: Scenario) -> str:
    """A stable hash of the scenario's content (sha256 of its canonical JSON), 16 hex digits."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

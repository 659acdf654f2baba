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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from world.calendar import months_between, parse_month
from world.units import CapexUsdPerTpy, PriceUsdPerKg, RatePerYear, Tonnes

SCENARIO_DIR = Path(__file__).parent / "scenarios"

COMMODITY_IDS = ("concentrate", "oxide_light", "oxide_heavy", "metal", "magnet")
SECTORS = ("ev", "wind", "electronics", "industrial", "defense", "other")
STAGES = ("mine", "separator", "metal", "magnet")
POLICY_KINDS = (
    "export_ban",
    "export_quota",
    "export_licence",
    "export_duty",
    "import_tariff",
    "stockpile_target",
    "defense_priority",
)

NonNeg = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class ScenarioError(ValueError):
    """A scenario that cannot be used, with every problem found.

    Attributes:
        problems: one line per problem, each starting with the field path.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"scenario {source} has {len(problems)} problem(s):\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionSpec(_Strict):
    """A region: where production, demand and policy sit."""

    name: str
    source: str = ""


class CommoditySpec(_Strict):
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
    source: str = ""


class DepositSpec(_Strict):
    """A deposit type: the separation yields of its concentrate (t oxide per t REO)."""

    yields: dict[str, Share]
    byproduct_usd_per_kg: NonNeg = Field(
        0.0, description="value of unmodelled co-products (La, Ce, ...) per kg of REO separated"
    )
    source: str = ""


class StageSpec(_Strict):
    """A stage of the chain: what one tonne of throughput takes and gives."""

    inputs: dict[str, NonNeg] = Field(default_factory=dict, description="t input per t throughput")
    outputs: dict[str, NonNeg] = Field(default_factory=dict, description="t output per t throughput")
    joint_outputs_by_deposit: bool = Field(
        False, description="outputs are the feed's deposit yields (separation)"
    )
    lead_time_months: int = Field(ge=1, description="months from investment to production")
    capex_usd_per_tpy: CapexUsdPerTpy = Field(ge=0)
    life_years: float = Field(20, gt=0)
    source: str = ""


class FirmSpec(_Strict):
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
    source: str = ""


class EndUserSpec(_Strict):
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


class StateSpec(_Strict):
    """A state: holds policies and a strategic stockpile."""

    id: str | None = None
    region: str
    name: str
    stockpile_t: dict[str, Tonnes] = Field(default_factory=dict)
    source: str = ""


class PolicySpec(_Strict):
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
    review_months: int = Field(2, ge=0, le=24, description="licence review delay")
    approval_share: Share = 1.0
    rate: NonNeg | None = Field(None, description="ad valorem rate (0.25 = 25%)")
    months_of_cover: NonNeg | None = None
    note: str = ""
    source: str = ""


class EventSpec(_Strict):
    """Something that happens to the world at a date."""

    id: str
    kind: Literal["capacity_shock", "demand_shock"]
    date: str
    months: int = Field(1, ge=1)
    region: str
    stage: str | None = None
    sector: str | None = None
    share: float = Field(ge=-1, le=5, description="change as a share: -0.5 halves")
    note: str = ""
    source: str = ""


class DynamicsSpec(_Strict):
    """Behavioural parameters. Every default is documented; scenarios cite what they change."""

    price_speed: NonNeg = Field(0.1, description="log-price change per month per unit excess")
    max_price_step: NonNeg = Field(0.15, description="largest log-price change in one month")
    arbitrage_pull: Share = Field(0.5, description="share of the gap to import parity closed")
    input_cover_months: NonNeg = Field(2.0, description="firms' normal input inventory")
    output_cover_months: NonNeg = Field(0.5, description="firms' normal finished-goods stock")
    restock_months: float = Field(6.0, gt=0, description="months to close an inventory gap")
    restock_elasticity: NonNeg = Field(1.5, description="how much a high price defers restocking")
    hoarding: NonNeg = Field(2.0, description="extra cover per unit of perceived risk (x normal)")
    risk_memory_months: float = Field(6.0, gt=0)
    thrift_rate: NonNeg = Field(0.01, description="monthly cut in intensity per unit log price gap")
    thrift_floor: Share = Field(0.5, description="lowest intensity thrifting reaches")
    thrift_recovery: NonNeg = Field(0.001, description="monthly recovery of intensity")
    expectation_months: float = Field(12.0, gt=0, description="memory of price expectations")
    invest_hurdle: NonNeg = Field(0.15, description="required return on capex per year")
    invest_step_share: Share = Field(0.15, description="expansion size as a share of capacity")
    invest_cooldown_months: int = Field(12, ge=0)
    idle_after_months: int = Field(6, ge=1, description="months of loss before a plant idles")
    restart_after_months: int = Field(4, ge=1, description="months of profit before restart")
    exit_after_months: int = Field(36, ge=1, description="months idle before a plant exits")
    source: str = ""


class Scenario(_Strict):
    """A whole scenario: the world, its seats and its script."""

    name: str
    version: str = "1"
    description: str
    extends: str | None = None
    start: str
    months: int = Field(ge=1, le=600, description="horizon in months")
    turn_months: int = Field(3, ge=1, le=24)
    regions: dict[str, RegionSpec]
    commodities: dict[str, CommoditySpec]
    deposits: dict[str, DepositSpec]
    stages: dict[str, StageSpec]
    firms: list[FirmSpec]
    end_users: list[EndUserSpec]
    states: list[StateSpec] = Field(default_factory=list)
    policies: list[PolicySpec] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)
    dynamics: DynamicsSpec = Field(default_factory=DynamicsSpec)
    references: dict[str, Any] = Field(
        default_factory=dict, description="historical reference points drawn on figures"
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
        problems: list[str] = []
        regions = set(self.regions)
        commodities = set(self.commodities)
        allowed_r = ", ".join(sorted(regions))
        allowed_c = ", ".join(sorted(commodities))

        def check_region(path: str, rid: str) -> None:
            if rid not in regions:
                problems.append(f"{path}: unknown region '{rid}'; allowed: {allowed_r}")

        def check_commodity(path: str, cid: str) -> None:
            if cid not in commodities:
                problems.append(f"{path}: unknown commodity '{cid}'; allowed: {allowed_c}")

        def check_date(path: str, date: str | None, allow_end: bool = False) -> None:
            if date is None:
                return
            try:
                offset = months_between(self.start, date)
            except ValueError as exc:
                problems.append(f"{path}: {exc}")
                return
            last = self.months if allow_end else self.months - 1
            if not 0 <= offset <= last:
                end = months_between(self.start, self.start) + self.months
                problems.append(
                    f"{path}: date {date} is outside the horizon {self.start} .. "
                    f"{_add(self.start, end - (0 if allow_end else 1))}"
                )

        for cid in self.commodities:
            if cid not in COMMODITY_IDS:
                problems.append(
                    f"commodities.{cid}: unknown commodity id; allowed: {', '.join(COMMODITY_IDS)}"
                )
            for rid in self.commodities[cid].price_usd_per_kg:
                check_region(f"commodities.{cid}.price_usd_per_kg.{rid}", rid)
        for did, dep in self.deposits.items():
            for cid in dep.yields:
                check_commodity(f"deposits.{did}.yields.{cid}", cid)
            if sum(dep.yields.values()) > 1.0 + 1e-9:
                problems.append(f"deposits.{did}.yields: yields add up to more than 1 t per t REO")
        for sid, stage in self.stages.items():
            if sid not in STAGES:
                problems.append(f"stages.{sid}: unknown stage; allowed: {', '.join(STAGES)}")
            for cid in stage.inputs:
                check_commodity(f"stages.{sid}.inputs.{cid}", cid)
            for cid in stage.outputs:
                check_commodity(f"stages.{sid}.outputs.{cid}", cid)
            if not stage.outputs and not stage.joint_outputs_by_deposit:
                problems.append(f"stages.{sid}: a stage needs outputs or joint_outputs_by_deposit")
        seen: set[str] = set()
        for i, firm in enumerate(self.firms):
            path = f"firms[{i}] ({firm.id})"
            if firm.id in seen:
                problems.append(f"{path}.id: duplicate firm id '{firm.id}'")
            seen.add(firm.id)
            check_region(f"{path}.region", firm.region)
            if firm.stage not in self.stages:
                problems.append(
                    f"{path}.stage: unknown stage '{firm.stage}'; "
                    f"allowed: {', '.join(sorted(self.stages))}"
                )
            elif not self.stages[firm.stage].inputs:
                if firm.deposit is None:
                    problems.append(f"{path}.deposit: a mine needs a deposit type")
                elif firm.deposit not in self.deposits:
                    problems.append(
                        f"{path}.deposit: unknown deposit type '{firm.deposit}'; "
                        f"allowed: {', '.join(sorted(self.deposits))}"
                    )
            for dep in firm.feed:
                if dep not in self.deposits:
                    problems.append(
                        f"{path}.feed.{dep}: unknown deposit type; "
                        f"allowed: {', '.join(sorted(self.deposits))}"
                    )
            if firm.status == "construction":
                if firm.online is None:
                    problems.append(f"{path}.online: a plant under construction needs a date")
                else:
                    check_date(f"{path}.online", firm.online, allow_end=True)
        for i, user in enumerate(self.end_users):
            path = f"end_users[{i}]"
            check_region(f"{path}.region", user.region)
            check_commodity(f"{path}.commodity", user.commodity)
            if user.sector not in SECTORS:
                problems.append(
                    f"{path}.sector: unknown sector '{user.sector}'; allowed: {', '.join(SECTORS)}"
                )
        for i, state in enumerate(self.states):
            check_region(f"states[{i}].region", state.region)
            for cid in state.stockpile_t:
                check_commodity(f"states[{i}].stockpile_t.{cid}", cid)
        for i, pol in enumerate(self.policies):
            path = f"policies[{i}] ({pol.id})"
            if pol.kind not in POLICY_KINDS:
                problems.append(
                    f"{path}.kind: unknown policy kind '{pol.kind}'; allowed: "
                    f"{', '.join(POLICY_KINDS)}"
                )
            check_region(f"{path}.issuer", pol.issuer)
            for cid in pol.commodities:
                check_commodity(f"{path}.commodities", cid)
            for rid in pol.partners:
                check_region(f"{path}.partners", rid)
            check_date(f"{path}.start", pol.start)
            check_date(f"{path}.end", pol.end, allow_end=True)
            if pol.end is not None and months_between(pol.start, pol.end) <= 0:
                problems.append(f"{path}.end: end {pol.end} must be after start {pol.start}")
            needs = {
                "export_quota": "quota_t",
                "export_duty": "rate",
                "import_tariff": "rate",
                "stockpile_target": "months_of_cover",
            }
            field = needs.get(pol.kind)
            if field and getattr(pol, field) is None:
                problems.append(f"{path}.{field}: required for a policy of kind '{pol.kind}'")
        for i, event in enumerate(self.events):
            path = f"events[{i}] ({event.id})"
            check_region(f"{path}.region", event.region)
            check_date(f"{path}.date", event.date)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _add(start: str, months: int) -> str:
    from world.calendar import add_months

    return add_months(start, months)


# --------------------------------------------------------------------------- loading

_KEYED_LISTS = ("firms", "end_users", "states", "policies", "events")


def _item_key(section: str, item: dict) -> str:
    if "id" in item:
        return str(item["id"])
    if section == "end_users":
        return f"{item.get('region')}-{item.get('sector')}-{item.get('commodity', 'magnet')}"
    if section == "states":
        return str(item.get("region"))
    return json.dumps(item, sort_keys=True)


def _merge(parent: Any, child: Any, section: str = "") -> Any:
    if isinstance(parent, dict) and isinstance(child, dict):
        merged = dict(parent)
        for key, value in child.items():
            merged[key] = _merge(parent[key], value, key) if key in parent else value
        return merged
    if section in _KEYED_LISTS and isinstance(parent, list) and isinstance(child, list):
        order = [_item_key(section, item) for item in parent]
        items = {_item_key(section, item): item for item in parent}
        for item in child:
            key = _item_key(section, item)
            if item.get("drop"):
                items.pop(key, None)
                continue
            if key in items:
                items[key] = _merge(items[key], item)
            else:
                order.append(key)
                items[key] = item
        return [items[k] for k in order if k in items]
    return copy.deepcopy(child)


def bundled_scenarios() -> dict[str, Path]:
    """Names and paths of the scenarios shipped with the package."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def _resolve(ref: str, base_dir: Path | None) -> Path:
    bundled = bundled_scenarios()
    if ref in bundled:
        return bundled[ref]
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
        path = base_dir / path
    if path.exists():
        return path
    raise ScenarioError(
        ref,
        [f"no bundled scenario or file named '{ref}'; bundled: {', '.join(bundled) or 'none'}"],
    )


def _read_raw(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    if path.resolve() in chain:
        raise ScenarioError(str(path), ["extends: the scenario extends itself (a cycle)"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), [f"not valid TOML: {exc}"]) from None
    except OSError as exc:
        raise ScenarioError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    parent_ref = data.get("extends")
    if parent_ref:
        if not isinstance(parent_ref, str):
            raise ScenarioError(str(path), ["extends: must be a scenario name or a path"])
        parent_path = _resolve(parent_ref, path.parent)
        parent = _read_raw(parent_path, (*chain, path.resolve()))
        parent.pop("extends", None)
        data = _merge(parent, data)
    return data


def _format_errors(exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for err in exc.errors():
        loc = ""
        for part in err["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the scenario format; check the spelling)"
        elif err["type"] == "literal_error":
            msg = f"{msg} (got {err.get('input')!r})"
        elif err["type"].startswith("greater_than") or err["type"].startswith("less_than"):
            msg = f"{msg} (got {err.get('input')!r})"
        if err["type"] == "value_error" and not loc and "\n" in msg:
            problems.extend(msg.split("\n"))
        else:
            problems.append(f"{loc}: {msg}" if loc else msg)
    return problems


def scenario_from_dict(data: dict, source: str = "<dict>") -> Scenario:
    """Validate a scenario given as a dictionary (already merged with its parent)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, _format_errors(exc)) from None


def load_scenario(ref: str | Path) -> Scenario:
    """Load a bundled scenario by name, or a scenario TOML file by path.

    Raises:
        ScenarioError: listing every problem with its field path.
    """
    path = _resolve(str(ref), None)
    data = _read_raw(path)
    data.pop("drop", None)
    return scenario_from_dict(data, str(ref))


def scenario_hash(scenario: Scenario) -> str:
    """A stable hash of the scenario's content (sha256 of its canonical JSON), 16 hex digits."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

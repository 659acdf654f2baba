"""Orders: every policy decision as plain, typed data.

Doctrines, human players, scenario scripts and experiment specs all produce the same orders; the
world validates them against its state and applies them at turn boundaries (scripted orders at
their date), and logs every order applied or rejected with the reason. An order is a pydantic
model, serialisable to JSON; :data:`ORDER_ADAPTER` parses one from a dict or JSON text.

Units: tonnes (t), USD/kg, shares (0.25 = 25%), months.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

from world.field_errors import Strict, error_problems
from world.instruments import FIRM_ORDER_KINDS as FIRM_ORDER_KINDS
from world.instruments import LIFTABLE, NEGOTIATION_KINDS, NOT_COMMITTABLE, OBSERVED
from world.instruments import PRIVATE_ORDER_KINDS as PRIVATE_ORDER_KINDS
from world.instruments.base import OrderRejected as OrderRejected
from world.scenario import LicenceSpecTerms, check_end_use
from world.units import PriceUsdPerKg, Tonnes

NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1)]
Months = Annotated[int, Field(ge=1, le=600)]
#: Ceilings that no real order comes near (world mine output is ~0.4 Mt REO a year), so a slip
#: of the keyboard is refused rather than turned into infinities in the state's accounts.
MAX_TONNES = 1e7
MAX_USD = 1e12
MAX_USD_PER_KG = 1e5


class _Order(Strict):
    issuer: str = Field(description="region id of the issuing state, or a firm id for firm orders")
    note: str = ""
    breach: bool = Field(
        False,
        description="apply even if it breaks a deal in force: the deal ends and the issuer "
        "loses trust (world/deals.py)",
    )

    def parameters(self) -> dict:
        """The order's parameters (everything but kind and issuer), as JSON-ready data."""
        return self.model_dump(mode="json", exclude={"kind", "issuer"})


class _TradeMeasure(_Order):
    commodities: list[str] = Field(min_length=1)
    partners: list[str] = Field(
        default_factory=list, description="the other regions it applies to; empty means all"
    )
    duration_months: Months | None = Field(None, description="None: until lifted")


class ExportBan(_TradeMeasure):
    """Stop exports of the commodities to the partners."""

    kind: Literal["export_ban"] = "export_ban"


class ExportQuota(_TradeMeasure):
    """Cap the tonnes exported per period, summed over the commodities and partners."""

    kind: Literal["export_quota"] = "export_quota"
    quota_t: Tonnes = Field(ge=0, le=MAX_TONNES)
    period_months: Months = 12


class _LicenceTerms(LicenceSpecTerms, _Order):
    """Terms of an export licence regime (see world/policy.py)."""

    review_months: int = Field(
        2, ge=1, le=24, description="most likely review delay, months (2: about 45 working days)"
    )
    approval_share: Share = 1.0


class ExportLicence(_LicenceTerms, _TradeMeasure):
    """Hold exports for a review and approve a share of what buyers apply for, by end use;
    holders of general licences ship at once."""

    kind: Literal["export_licence"] = "export_licence"
    decided_by: Literal["rule", "seat"] = Field(
        "rule",
        description="'rule': approval_share of applications after the review; 'seat': the "
        "issuer decides the applications itself with licence_decision orders",
    )


class ExtraterritorialControl(_TradeMeasure):
    """Control products made abroad from the issuer's material: exporters in other regions may
    not ship these commodities to the partners while what they sell carries at least
    ``content_threshold`` of the issuer's origin (China's October 2025 rule on products with
    0.1% Chinese rare-earth content; its licences treated as refused)."""

    kind: Literal["extraterritorial_control"] = "extraterritorial_control"
    content_threshold: Share = Field(
        0.001, description="share of the issuer's origin in a product that puts it under control"
    )


class LicenceTerms(_Order):
    """Ease or tighten export licences in force: new approval shares (overall or by end use),
    a new covered share of the tonnage, and general licences granted or withdrawn, from this
    month on, for the issuer's licences on these commodities (all if none) or the one
    ``policy_id`` names. Approvals already granted stand."""

    kind: Literal["licence_terms"] = "licence_terms"
    policy_id: str | None = None
    commodities: list[str] = Field(default_factory=list)
    approval_share: Share | None = None
    end_use: dict[str, Share] | None = Field(
        None, description="approval share by end use (defense, civilian, stockpile); replaces"
    )
    covered_share: Share | None = Field(
        None,
        description="the share of an arc's tonnage that needs a licence; None: unchanged",
        exclude_if=lambda share: share is None,  # logs read as before the term existed
    )
    grant: list[str] = Field(
        default_factory=list, description="buyers (region or firm ids) given general licences"
    )
    withdraw: list[str] = Field(
        default_factory=list, description="buyers whose general licences are withdrawn"
    )

    _check_end_use = field_validator("end_use")(lambda v: check_end_use(v))


class LicenceDecision(_Order):
    """The licensing state decides the applications pending on its seat-decided licences:
    approve ``share`` of what buyers in ``partner`` applied for (the rest is refused); the
    approved tonnes may ship from this month."""

    kind: Literal["licence_decision"] = "licence_decision"
    commodity: str
    partner: str
    share: Share


class ExportDuty(_TradeMeasure):
    """An ad valorem duty on exports."""

    kind: Literal["export_duty"] = "export_duty"
    rate: NonNeg = Field(le=10)


class ImportTariff(_TradeMeasure):
    """An ad valorem tariff on imports from the partners (origins)."""

    kind: Literal["import_tariff"] = "import_tariff"
    rate: NonNeg = Field(le=10)
    exempt: list[str] = Field(default_factory=list, description="origins exempted")


class ImportBan(_TradeMeasure):
    """Stop imports of the commodities from the partners (origins)."""

    kind: Literal["import_ban"] = "import_ban"


class Lift(_Order):
    """End measures in force: one by its id, or every measure of a kind the issuer has on
    these commodities (and partners, if given).

    With ``partners`` (or ``commodities``), a trade measure that covers more stays in force for
    the others: lifting China's licence on magnets for the US alone leaves it on for Japan. An
    export quota is lifted whole (its allowance is shared by all its destinations).
    """

    kind: Literal["lift"] = "lift"
    policy_id: str | None = None
    measure: Literal[LIFTABLE] | None = None  # type: ignore[valid-type]
    commodities: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)
    suspend: bool = Field(
        False,
        description="as a deal's commitment: the trade measures it lifts come back into force "
        "(same terms, for what was left of their term) when the deal ends or another party "
        "breaks it; outside a deal, a plain lift",
    )


class TechExportBan(_Order):
    """Ban the export of processing technology: separation and magnet plants built outside the
    issuer cost more and take longer (China's December 2023 catalogue)."""

    kind: Literal["tech_export_ban"] = "tech_export_ban"
    stages: list[str] = Field(default_factory=lambda: ["separator", "metal", "magnet"])
    capex_multiplier: float = Field(1.5, ge=1, le=5)
    extra_lead_months: int = Field(12, ge=0, le=120)


class DefensePriority(_Order):
    """Serve the issuer's defence end users first in its home market."""

    kind: Literal["defense_priority"] = "defense_priority"


class CapexSubsidy(_Order):
    """Pay a share of the capex of new plants at these stages in the issuer's region."""

    kind: Literal["capex_subsidy"] = "capex_subsidy"
    stages: list[str] = Field(min_length=1)
    share: Share
    duration_months: Months | None = None


class ProductionSubsidy(_Order):
    """Pay producers at these stages in the issuer's region per kg they produce."""

    kind: Literal["production_subsidy"] = "production_subsidy"
    stages: list[str] = Field(min_length=1)
    usd_per_kg: PriceUsdPerKg = Field(ge=0, le=MAX_USD_PER_KG)
    duration_months: Months | None = None


class ProductionQuota(_Order):
    """Cap the issuer's own output at these stages, t/yr: China's yearly mining and
    smelting-separation quotas. Plants at the stage share the quota in proportion to their
    capacity and build no capacity beyond their share (plus ``headroom``). With ``restraint``
    above 0 the state flexes output with the price: the groups hold output below the quota when
    prices fall below their reference level, as in 2016 and 2023-24, and may run into the
    headroom when prices are above it, as in 2021-22: output = quota x (price / reference) **
    restraint, at most quota x (1 + headroom)."""

    kind: Literal["production_quota"] = "production_quota"
    stages: list[str] = Field(min_length=1)
    deposits: list[str] | None = Field(
        None,
        description="deposit types the quota covers (mines); none: every plant at the stages "
        "not under a quota of its own deposit, as China sets ion-clay quotas apart",
    )
    tonnes_per_year: Tonnes = Field(ge=0, le=MAX_TONNES, description="quota per year, t/yr")
    growth_per_year: float = Field(
        0.0, ge=-0.5, le=1.0, description="yearly change of the quota the state has announced"
    )
    headroom: Share = Field(
        0.1, description="capacity firms may hold beyond their quota share, as a share of it"
    )
    restraint: NonNeg = Field(0.0, le=5, description="output elasticity to a price below reference")
    duration_months: Months | None = None


class PriceFloor(_Order):
    """Guarantee a domestic producer a minimum price for a product, as a contract for
    difference: the output sells to users as usual and the state pays the gap between the
    floor and the price realised on every kg sold, on contract and spot alike, month by month;
    what does not sell at all the state takes into its stockpile at the floor (the July 2025
    DoD-MP Materials deal: 110 USD/kg NdPr "stockpiled or sold" for ten years)."""

    kind: Literal["price_floor"] = "price_floor"
    firm: str
    commodity: str
    floor_usd_per_kg: PriceUsdPerKg = Field(ge=0, le=MAX_USD_PER_KG)
    stockpile_tonnes_per_year: Tonnes | None = Field(
        None,
        ge=0,
        le=MAX_TONNES,
        description="most the state takes a year of the output that does not sell, t/yr (a "
        "twelfth a month); none: all of it; 0: a pure contract for difference",
    )
    duration_months: Months | None = None


class StockpileBuy(_Order):
    """Buy tonnes for the strategic stockpile, spread over some months; purchases compete in
    the market like any other demand."""

    kind: Literal["stockpile_buy"] = "stockpile_buy"
    commodity: str
    tonnes: Tonnes = Field(gt=0, le=MAX_TONNES)
    months: Months = 12


class StockpileRelease(_Order):
    """Release tonnes from the strategic stockpile into the home market over some months."""

    kind: Literal["stockpile_release"] = "stockpile_release"
    commodity: str
    tonnes: Tonnes = Field(gt=0, le=MAX_TONNES)
    months: Months = 3


class StockpileTarget(_Order):
    """Hold a strategic stock of some months of the region's use, buying toward it and
    releasing when buyers go short."""

    kind: Literal["stockpile_target"] = "stockpile_target"
    commodities: list[str] = Field(min_length=1)
    months_of_cover: NonNeg = Field(le=60)
    duration_months: Months | None = None


class Invest(_Order):
    """A firm's order: build capacity (its stage's lead time and capex apply)."""

    kind: Literal["invest"] = "invest"
    capacity_tpy: NonNeg = Field(gt=0, le=MAX_TONNES)


class Idle(_Order):
    """A firm's order: mothball a share of its operating capacity."""

    kind: Literal["idle"] = "idle"
    share: Share = 1.0


class Restart(_Order):
    """A firm's order: bring its idle capacity back."""

    kind: Literal["restart"] = "restart"


class EquityStake(_Order):
    """The state buys equity in a domestic producer: cash for the firm, a cost for the state
    (the DoD's 400 M USD for ~15% of MP Materials, July 2025)."""

    kind: Literal["equity_stake"] = "equity_stake"
    firm: str
    usd: NonNeg = Field(gt=0, le=MAX_USD)


class RndProgramme(_Order):
    """Fund research that speeds up thrifting and substitution of the commodities at home:
    ``usd_per_year`` speeds the region's thrift rate by ``usd_per_year / 500 M USD`` (so 500 M
    USD a year doubles it) [EST]."""

    kind: Literal["rnd_programme"] = "rnd_programme"
    commodities: list[str] = Field(default_factory=lambda: ["magnet", "oxide_heavy"])
    usd_per_year: NonNeg = Field(gt=0, le=MAX_USD)
    duration_months: Months | None = None


class OfftakeGuarantee(_Order):
    """The state buys ``share`` of a domestic producer's monthly output of a product at
    ``price_usd_per_kg`` into its stockpile (the DoD's 100% offtake of MP's magnets)."""

    kind: Literal["offtake_guarantee"] = "offtake_guarantee"
    firm: str
    commodity: str
    share: Share = 1.0
    price_usd_per_kg: PriceUsdPerKg = Field(ge=0, le=MAX_USD_PER_KG)
    duration_months: Months | None = None


class PurchaseCommitment(_Order):
    """Commit the issuer's buyers to buy up to ``t_per_month`` of a commodity from the
    partner's producers for ``duration_months``, at market prices (the producers' home price
    plus freight, duty and tariff), before the spot market: the purchase commitments of the
    January 2020 Phase One deal and of the November 2025 truce. The tonnes go as offtake
    contracts go (the region's firms and end users that buy the commodity take them first, in
    proportion to what they want, from the partner's producers in proportion to what they
    offer) and only while no ban, quota or licence stands on the arc."""

    kind: Literal["purchase_commitment"] = "purchase_commitment"
    commodity: str
    partner: str = Field(description="the region whose producers the buyers buy from")
    t_per_month: Tonnes = Field(
        gt=0, le=MAX_TONNES, description="the most the buyers buy a month, t/month"
    )
    duration_months: Months = Field(12, description="how long the commitment holds, months")


class OfftakeContract(_Order):
    """A firm's order: take a supplier firm's output first, outside the spot market."""

    kind: Literal["offtake_contract"] = "offtake_contract"
    supplier: str
    tonnes_per_year: Tonnes | None = Field(
        None, ge=0, le=MAX_TONNES, description="most taken a year, t/yr; None: all it wants"
    )
    duration_months: Months | None = None


class SetPremium(_Order):
    """A firm's order: pay up to ``premium`` (0.2 = 20%) more for supply that does not come
    from the tracked origin (China), so its region's buyers take such supply first."""

    kind: Literal["set_premium"] = "set_premium"
    premium: NonNeg = Field(le=2)


class Alliance(_Order):
    """Form, join, leave an alliance, or invite states into it (world/deals.py).

    ``form`` founds the alliance ``name`` with the issuer as its first member and the terms
    below; ``invite`` lists states asked to join (an AI state decides at the start of the next
    month, a human seat joins with its own ``join`` order). ``join`` needs the alliance to exist
    and an invitation (or, uninvited, the acceptance of an AI founder that trusts the joiner);
    ``leave`` ends the issuer's membership. ``invite`` (the action) lets a member invite more.

    Terms (for ``form``):

    - ``internal_tariff``: the most one member's import tariffs may charge another member
      (0: preferential zero tariffs); None: members' tariffs apply to each other as usual;
    - ``common_external_tariff``: ad valorem rate per commodity on members' imports from
      non-members (a member's own higher tariff stays);
    - ``pooled_offtake_premium``: members' buyers take members' supply first, accepting up to
      this premium (0.2 = 20%) over non-members' netback, for ``offtake_commodities``, and pay
      it: a member's buyer pays the premium times its price on what it buys in the market from
      members' producers (at home or abroad, never from China), and the producer receives it;
    - ``fund_usd``: a pooled investment fund, USD per calendar year, paying
      ``fund_capex_share`` of the capex of new ``fund_stages`` plants in member regions (or,
      if ``fund_projects`` names projects or firms, of theirs only) until the year's money is
      spent; each payment is split among the members by ``fund_contributions`` (region ->
      weight, among the members named) or, without them, pro rata to their final magnet
      demand;
    - ``shared_release``: members release strategic stocks toward a member short of supply.
    """

    kind: Literal["alliance"] = "alliance"
    action: Literal["form", "join", "leave", "invite"]
    name: str = Field(min_length=1, max_length=80)
    invite: list[str] = Field(default_factory=list, description="states invited to join")
    internal_tariff: NonNeg | None = Field(0.0, le=10)
    common_external_tariff: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict, description="commodity -> rate on imports from non-members"
    )
    pooled_offtake_premium: NonNeg = Field(0.0, le=2)
    offtake_commodities: list[str] = Field(
        default_factory=lambda: ["oxide_light", "oxide_heavy", "metal", "magnet"]
    )
    fund_usd: NonNeg = Field(
        0.0, le=MAX_USD, description="pooled investment fund, USD per calendar year"
    )
    fund_capex_share: Share = 0.3
    fund_stages: list[str] = Field(default_factory=lambda: ["separator", "magnet"])
    fund_projects: list[str] = Field(
        default_factory=list, description="projects or firms it pays for (none: all at fund_stages)"
    )
    fund_contributions: dict[str, NonNeg] = Field(
        default_factory=dict, description="member -> weight of its share of the fund's payments"
    )
    shared_release: bool = False

    def terms(self) -> dict[str, Any]:
        """The alliance's terms as JSON-ready data."""
        return self.model_dump(
            mode="json",
            include={
                "internal_tariff",
                "common_external_tariff",
                "pooled_offtake_premium",
                "offtake_commodities",
                "fund_usd",
                "fund_capex_share",
                "fund_stages",
                "fund_projects",
                "fund_contributions",
                "shared_release",
            },
        )


def _commitment_list(value: list[Any]) -> list[dict]:
    """Validate each commitment as an order; keep its normalised JSON form."""
    out = []
    for i, item in enumerate(value):
        if isinstance(item, BaseModel):
            item = item.model_dump(mode="json")
        if not isinstance(item, dict):
            raise ValueError(f"commitments[{i}]: must be an order (a table with kind and issuer)")
        if item.get("kind") in NOT_COMMITTABLE:
            raise ValueError(
                f"commitments[{i}].kind: '{item.get('kind')}' cannot be a deal's commitment; "
                f"allowed: {', '.join(k for k in ORDER_KINDS if k not in NOT_COMMITTABLE)}"
            )
        try:
            parsed = parse_order(item)
        except ValidationError as exc:
            problems = "; ".join(f"commitments[{i}].{p}" for p in order_field_problems(exc))
            raise ValueError(problems) from None
        data = parsed.model_dump(mode="json")
        data.pop("breach", None)
        out.append(data)
    return out


class ProposeDeal(_Order):
    """Propose a deal: a bundle of commitments (each an order, with its own issuer among the
    parties) that all ``recipients`` must accept. Accepted, the commitments are applied at once
    and the deal holds for ``duration_months``: orders by a party that contradict its
    commitments are rejected unless they carry ``breach = true`` (world/deals.py).

    Example: China lifts its magnet licence for the US, the US cuts its tariff on Chinese
    magnets to 10%::

        {"kind": "propose_deal", "issuer": "US", "recipients": ["CN"], "duration_months": 12,
         "commitments": [
            {"kind": "lift", "issuer": "CN", "measure": "export_licence",
             "commodities": ["magnet"], "partners": ["US"]},
            {"kind": "lift", "issuer": "US", "measure": "import_tariff",
             "commodities": ["magnet"], "partners": ["CN"]},
            {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"],
             "partners": ["CN"], "rate": 0.10}]}
    """

    kind: Literal["propose_deal"] = "propose_deal"
    recipients: list[str] = Field(min_length=1)
    commitments: list[dict[str, Any]] = Field(min_length=1)
    duration_months: Months

    _check_commitments = field_validator("commitments", mode="before")(_commitment_list)


class RespondDeal(_Order):
    """Answer a proposed deal: ``accept``, ``reject`` or ``counter`` (a new proposal to the
    other parties with ``commitments`` and, optionally, another ``duration_months``)."""

    kind: Literal["respond_deal"] = "respond_deal"
    deal_id: str = Field(min_length=1)
    action: Literal["accept", "reject", "counter"]
    commitments: list[dict[str, Any]] = Field(default_factory=list)
    duration_months: Months | None = None

    _check_commitments = field_validator("commitments", mode="before")(_commitment_list)


Order = Annotated[
    ExportBan
    | ExportQuota
    | ExportLicence
    | LicenceDecision
    | LicenceTerms
    | ExtraterritorialControl
    | ExportDuty
    | ImportTariff
    | ImportBan
    | Lift
    | TechExportBan
    | DefensePriority
    | CapexSubsidy
    | ProductionSubsidy
    | ProductionQuota
    | PriceFloor
    | StockpileBuy
    | StockpileRelease
    | StockpileTarget
    | Invest
    | Idle
    | Restart
    | EquityStake
    | RndProgramme
    | OfftakeGuarantee
    | PurchaseCommitment
    | OfftakeContract
    | SetPremium
    | Alliance
    | ProposeDeal
    | RespondDeal,
    Field(discriminator="kind"),
]
"""Any order; pydantic picks the class by its ``kind``."""

ORDER_ADAPTER: TypeAdapter = TypeAdapter(Order)
#: Every order class by its kind, in the order forms and docs list them.
ORDER_CLASSES: dict[str, type[BaseModel]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        ExportBan,
        ExportQuota,
        ExportLicence,
        LicenceDecision,
        LicenceTerms,
        ExtraterritorialControl,
        ExportDuty,
        ImportTariff,
        ImportBan,
        Lift,
        TechExportBan,
        DefensePriority,
        CapexSubsidy,
        ProductionSubsidy,
        ProductionQuota,
        PriceFloor,
        StockpileBuy,
        StockpileRelease,
        StockpileTarget,
        Invest,
        Idle,
        Restart,
        EquityStake,
        RndProgramme,
        OfftakeGuarantee,
        PurchaseCommitment,
        OfftakeContract,
        SetPremium,
        Alliance,
        ProposeDeal,
        RespondDeal,
    )
}
ORDER_KINDS = tuple(ORDER_CLASSES)
# The kind lists (FIRM_ORDER_KINDS; PRIVATE_ORDER_KINDS, whose terms the other states learn
# only as :func:`observed` says; NOT_COMMITTABLE) come from the instruments' registry
# (world/instruments/).


def observed(kind: str, state_name: str, parameters: dict[str, Any]) -> str | None:
    """What states other than the issuer learn of an applied order: for the
    :data:`PRIVATE_ORDER_KINDS`, only that the issuer's stockpile agency is in the market for a
    product (no tonnes, months or cover), e.g. "Japan's stockpile agency is buying magnet";
    None for any other kind (its message is public)."""
    template = OBSERVED.get(kind)
    if template is None:
        return None
    products = parameters.get("commodities") or [parameters.get("commodity") or "rare earths"]
    return template.format(name=state_name, what=", ".join(str(p) for p in products))


#: What a state issues with an order form: every kind but firms' own orders and the deal
#: orders (proposals and answers have a negotiation form of their own).
STATE_ORDER_KINDS = tuple(
    k for k in ORDER_KINDS if k not in FIRM_ORDER_KINDS and k not in NEGOTIATION_KINDS
)

#: What to say when someone asks for an order kind that does not exist.
_KIND_HINTS = {
    "import_quota": "a quota caps exports; on imports use import_tariff or import_ban",
    "tariff": "use import_tariff (or export_duty)",
    "export_tariff": "use export_duty",
    "subsidy": "use capex_subsidy or production_subsidy",
    "deal": "use propose_deal",
}


def parse_order(data: dict | str) -> BaseModel:
    """Parse an order from a dict or JSON text.

    Raises:
        pydantic.ValidationError: naming the field and what is allowed.
    """
    if isinstance(data, str):
        return ORDER_ADAPTER.validate_json(data)
    return ORDER_ADAPTER.validate_python(data)


def order_field_problems(exc: ValidationError) -> list[str]:
    """One line per problem: the field path and what is wrong, with the allowed values."""
    problems = []
    for err in exc.errors():
        loc, given = tuple(err["loc"]), err.get("input")
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            tag = given.get("kind") if isinstance(given, dict) else None
            hint = _KIND_HINTS.get(str(tag))
            what = f"unknown order kind '{tag}'" if tag is not None else "an order needs a kind"
            problems.append(
                f"kind: {what}; allowed: {', '.join(ORDER_KINDS)}" + (f" ({hint})" if hint else "")
            )
            continue
        root = ORDER_CLASSES.get(str(loc[0])) if loc else None
        if root is not None:
            loc = loc[1:]  # the union's tag, not a field
        msg = err["msg"].removeprefix("Value error, ")
        path = ".".join(str(p) for p in loc if not str(p).startswith("function"))
        if err["type"] == "value_error" and path and msg.startswith(path + "["):
            problems.append(msg)  # the validator already names the item
            continue
        problems.extend(error_problems({**err, "loc": loc}, root))
    return problems


def order_problems(data: Any) -> list[str]:
    """Why an order does not parse (empty if it does): one line per field."""
    if isinstance(data, BaseModel):
        return []
    try:
        parse_order(data)
    except ValidationError as exc:
        return order_field_problems(exc)
    return []

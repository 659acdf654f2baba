"""Orders: every policy decision as plain, typed data.

Doctrines, human players, scenario scripts and experiment specs all produce the same orders; the
world validates them against its state and applies them at turn boundaries (scripted orders at
their date), and logs every order applied or rejected with the reason. An order is a pydantic
model, serialisable to JSON; :data:`ORDER_ADAPTER` parses one from a dict or JSON text.

Units: tonnes (t), USD/kg, shares (0.25 = 25%), months.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from world.units import PriceUsdPerKg, Tonnes

NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1)]
Months = Annotated[int, Field(ge=1, le=600)]


class _Order(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(description="region id of the issuing state, or a firm id for firm orders")
    note: str = ""

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
    quota_t: Tonnes = Field(ge=0)
    period_months: Months = 12


class ExportLicence(_TradeMeasure):
    """Hold exports for a review and approve a share of what buyers apply for."""

    kind: Literal["export_licence"] = "export_licence"
    review_months: int = Field(2, ge=1, le=24)
    approval_share: Share = 1.0


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
    these commodities (and partners, if given)."""

    kind: Literal["lift"] = "lift"
    policy_id: str | None = None
    measure: (
        Literal[
            "export_ban",
            "export_quota",
            "export_licence",
            "export_duty",
            "import_tariff",
            "import_ban",
            "tech_export_ban",
            "defense_priority",
            "stockpile_target",
        ]
        | None
    ) = None
    commodities: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)


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
    usd_per_kg: PriceUsdPerKg = Field(ge=0)
    duration_months: Months | None = None


class PriceFloor(_Order):
    """Guarantee a domestic producer a minimum price for a product; the state pays the gap
    between the floor and the price realised on every kg sold, month by month (the July 2025
    DoD-MP Materials deal: 110 USD/kg NdPr for ten years)."""

    kind: Literal["price_floor"] = "price_floor"
    firm: str
    commodity: str
    floor_usd_per_kg: PriceUsdPerKg = Field(ge=0)
    duration_months: Months | None = None


class StockpileBuy(_Order):
    """Buy tonnes for the strategic stockpile, spread over some months; purchases compete in
    the market like any other demand."""

    kind: Literal["stockpile_buy"] = "stockpile_buy"
    commodity: str
    tonnes: Tonnes = Field(gt=0)
    months: Months = 12


class StockpileRelease(_Order):
    """Release tonnes from the strategic stockpile into the home market over some months."""

    kind: Literal["stockpile_release"] = "stockpile_release"
    commodity: str
    tonnes: Tonnes = Field(gt=0)
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
    capacity_tpy: NonNeg = Field(gt=0)


class Idle(_Order):
    """A firm's order: mothball a share of its operating capacity."""

    kind: Literal["idle"] = "idle"
    share: Share = 1.0


class Restart(_Order):
    """A firm's order: bring its idle capacity back."""

    kind: Literal["restart"] = "restart"


Order = Annotated[
    ExportBan
    | ExportQuota
    | ExportLicence
    | ExportDuty
    | ImportTariff
    | ImportBan
    | Lift
    | TechExportBan
    | DefensePriority
    | CapexSubsidy
    | ProductionSubsidy
    | PriceFloor
    | StockpileBuy
    | StockpileRelease
    | StockpileTarget
    | Invest
    | Idle
    | Restart,
    Field(discriminator="kind"),
]
"""Any order; pydantic picks the class by its ``kind``."""

ORDER_ADAPTER: TypeAdapter = TypeAdapter(Order)
ORDER_KINDS = tuple(
    cls.model_fields["kind"].default
    for cls in (
        ExportBan,
        ExportQuota,
        ExportLicence,
        ExportDuty,
        ImportTariff,
        ImportBan,
        Lift,
        TechExportBan,
        DefensePriority,
        CapexSubsidy,
        ProductionSubsidy,
        PriceFloor,
        StockpileBuy,
        StockpileRelease,
        StockpileTarget,
        Invest,
        Idle,
        Restart,
    )
)
FIRM_ORDER_KINDS = ("invest", "idle", "restart")
TRADE_KINDS = (
    "export_ban",
    "export_quota",
    "export_licence",
    "export_duty",
    "import_tariff",
    "import_ban",
)


def parse_order(data: dict | str) -> BaseModel:
    """Parse an order from a dict or JSON text.

    Raises:
        pydantic.ValidationError: naming the field and what is allowed.
    """
    if isinstance(data, str):
        return ORDER_ADAPTER.validate_json(data)
    return ORDER_ADAPTER.validate_python(data)

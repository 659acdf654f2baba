"""The order form: every instrument a state has, with its fields, built from world/orders.py.

The form reads each order class's fields (their types, defaults and descriptions) rather than
listing instruments by hand, so a new instrument or field shows up here by itself. The world
checks the order and its message is shown as is: the form only turns text into numbers and
lists. :func:`JsonOrder` takes any order typed as JSON. Both serve the single-player game and
the workshop through a ``submit(order) -> (taken, message)`` function.
"""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

import solara
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from play.session import in_force
from world import World
from world.field_errors import unwrap_type
from world.instruments import SPENDING_KINDS, VOLUME_KINDS
from world.order_preview import OrderPreview
from world.orders import ORDER_CLASSES, STATE_ORDER_KINDS

#: A form's ``preview`` function: the dry run of an order (world/order_preview.py).
Preview = Callable[[dict], OrderPreview]

#: What a submit function returns: whether the order was taken, and the message to show.
Outcome = tuple[bool, str]

#: Field labels a player reads (units in the label); other fields show their own name.
LABELS = {
    "commodities": "Commodities",
    "commodity": "Commodity",
    "partners": "Partners (none = all)",
    "partner": "Partner",
    "exempt": "Exempt origins",
    "rate": "Rate (0.25 = 25%)",
    "approval_share": "Share approved (0-1)",
    "covered_share": "Share of tonnage licensed (0-1)",
    "share": "Share (0-1)",
    "review_months": "Review, months",
    "decided_by": "Decided by (rule: the share above; seat: you decide each month)",
    "duration_months": "Duration, months (blank: until lifted)",
    "quota_t": "Quota, t per period",
    "period_months": "Period, months",
    "tonnes": "Tonnes",
    "months": "Over months",
    "floor_usd_per_kg": "Floor, USD/kg",
    "usd_per_kg": "Subsidy, USD/kg produced",
    "price_usd_per_kg": "Price, USD/kg",
    "usd": "Amount, USD",
    "usd_per_year": "USD per year",
    "months_of_cover": "Months of cover",
    "stages": "Stages",
    "tonnes_per_year": "Tonnes per year, t/yr",
    "t_per_month": "Tonnes a month, t/month",
    "growth_per_year": "Change per year (0.05 = +5%)",
    "headroom": "Headroom beyond the quota (0-1)",
    "restraint": "Restraint: output elasticity to the price (0 = none)",
    "capex_multiplier": "Capex multiplier abroad",
    "extra_lead_months": "Extra lead time abroad, months",
    "measure": "Measure (kind)",
    "policy_id": "Or one measure by id",
    "firm": "Firm",
    "action": "Action",
    "name": "Alliance name",
    "invite": "Invite",
    "internal_tariff": "Tariff between members (blank: as usual)",
    "common_external_tariff": "Common external tariff (commodity=rate, ...)",
    "pooled_offtake_premium": "Pooled offtake premium (0.2 = 20%)",
    "offtake_commodities": "Offtake commodities",
    "fund_usd": "Investment fund, USD per year",
    "fund_capex_share": "Fund's share of capex (0-1)",
    "fund_stages": "Fund stages",
    "fund_projects": "Fund only these projects or firms (none: all at the fund stages)",
    "fund_contributions": "Members' shares of the fund's payments (region=weight, ...)",
    "shared_release": "Members release stocks to a member short of supply",
    "note": "Note (logged with the order)",
    "breach": "Apply even if it breaks a deal (trust falls)",
}
#: Starting values for numbers: required ones (an empty required field only annoys), and a
#: licence's approval share (a licence that approves everything only delays).
SUGGESTED = {
    "rate": "0.25",
    "approval_share": "0.5",
    "share": "0.5",
    "quota_t": "20000",
    "tonnes": "500",
    "t_per_month": "500",
    "usd_per_kg": "5",
    "price_usd_per_kg": "60",
    "usd": "400000000",
    "usd_per_year": "100000000",
    "months_of_cover": "2",
}
#: Rates above this (100%) are far outside any measure in force in the scenarios: the form
#: asks the player to confirm one.
EXTREME_RATE = 1.0
#: A price floor above this multiple of the commodity's price now asks for confirmation too.
EXTREME_FLOOR = 2.0
#: A purchase of more than this many years of the world's output of a product asks too: no
#: stockpile agency buys a year of the world's supply.
EXTREME_YEARS_OF_OUTPUT = 1.0
#: Extra spending above this, USD a month (its preview's mean over six months), asks too: it
#: is several times the largest programme in the bundled scenarios (the DoD-MP package).
EXTREME_USD_PER_MONTH = 100e6
#: Fields laid out last, in every form.
LAST = ("duration_months", "note", "breach")


#: Instruments whose kind does not read as a name once its underscores are spaces.
NAMES = {
    "licence_decision": "Licence decisions (your queue)",
    "lift": "Lift a measure",
    "tech_export_ban": "Technology export ban",
    "rnd_programme": "R&D programme",
    "stockpile_buy": "Stockpile purchase",
    "stockpile_release": "Stockpile release",
    "alliance": "Alliance (form, join, leave, invite)",
}


def instrument_name(kind: str) -> str:
    """What a player calls an instrument: "Import tariff" for ``import_tariff``."""
    return NAMES.get(kind, kind.replace("_", " ").capitalize())


def instrument_help(kind: str) -> str:
    """The first paragraph of the order class's docstring, on one line."""
    doc = ORDER_CLASSES[kind].__doc__ or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def form_fields(kind: str) -> list[tuple[str, FieldInfo]]:
    """The fields a player fills for an order of ``kind`` (not its kind or issuer)."""
    fields = [
        (n, f) for n, f in ORDER_CLASSES[kind].model_fields.items() if n not in ("kind", "issuer")
    ]
    return sorted(fields, key=lambda nf: LAST.index(nf[0]) if nf[0] in LAST else -1)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The base type of a field (:func:`world.field_errors.unwrap_type`) and whether None is
    allowed."""
    optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(
        annotation
    )
    return unwrap_type(annotation)[0], optional


def widget_kind(name: str, field: FieldInfo) -> str:
    """How a field is entered: ``choice``, ``multi``, ``pairs``, ``check``, ``number`` or
    ``text``."""
    base, _ = _unwrap(field.annotation)
    origin = get_origin(base)
    if origin is Literal or name in ("commodity", "partner", "firm", "policy_id"):
        return "choice"
    if origin is list:
        return "multi"
    if origin is dict:
        return "pairs"
    if base is bool:
        return "check"
    if base in (int, float):
        return "number"
    return "text"


def choices(
    name: str, field: FieldInfo, world: World, seat: str, firm: str | None = None
) -> list[str]:
    """The values a choice or multi field offers in this world, for this seat (a programme for
    ``firm`` offers that firm's products only)."""
    inner, optional = _unwrap(field.annotation)
    if get_origin(inner) is Literal:
        values = [str(v) for v in get_args(inner)]
    elif name == "commodity" and firm in world.firms_by_id:
        values = list(world.firms_by_id[firm].output_commodities())
    elif name in ("commodities", "commodity", "offtake_commodities"):
        values = list(world.commodity_ids)
    elif name in ("partners", "partner", "exempt"):
        values = [r for r in world.region_ids if r != seat]
    elif name == "invite":
        values = [s.region for s in world.states if s.region != seat]
    elif name in ("stages", "fund_stages"):
        values = list(world.spec.stages)
    elif name == "fund_projects":
        projects = sorted({f.spec.project for f in world.firms if f.spec.project})
        values = projects + [f.firm_id for f in world.firms]
    elif name == "firm":
        values = [f.firm_id for f in world.firms if f.region == seat]
    elif name == "policy_id":
        values = [line.split(":", 1)[0] for line in in_force(world, seat)]
        optional = True
    else:
        values = []
    return ([""] if optional else []) + values


def current_price(world: World, commodity: str, seat: str) -> float:
    """What a buyer in the seat's region pays for the commodity now, USD/kg."""
    region = world.region_index.get(seat, 0)
    return float(world.prices[world.commodity_index[commodity], region])


def starting_value(
    name: str,
    field: FieldInfo,
    offered: list[str],
    kind: str = "",
    world: World | None = None,
    seat: str = "",
    commodity: str = "",
) -> Any:
    """What a field shows before the player touches it (``offered``: its :func:`choices`).

    Args:
        kind: the instrument (a restrictive one preselects no commodity).
        world, seat, commodity: for a price floor, which starts at the commodity's price now
            in the seat's region (a floor far above it would cost a fortune).
    """
    how = widget_kind(name, field)
    default = None if field.is_required() else field.get_default(call_default_factory=True)
    if name == "floor_usd_per_kg" and world is not None and commodity in world.commodity_index:
        return f"{current_price(world, commodity, seat):.3g}"
    if how == "multi":
        if default:
            return [v for v in default if v in offered]
        if name == "commodities":
            # An untouched form submitted by mistake must stop or hold back nothing.
            if kind in VOLUME_KINDS:
                return []
            return ["magnet"] if "magnet" in offered else offered[:1]
        if name == "partners":
            if kind in VOLUME_KINDS:  # nothing banned or held back by default
                return []
            return ["CN"] if "CN" in offered else []
        if name == "stages":
            return ["magnet"] if "magnet" in offered else offered[:1]
        return []
    if how == "choice":
        if default is not None and str(default) in offered:
            return str(default)
        if name == "measure":
            return "import_tariff"
        if name == "commodity" and "magnet" in offered:
            return "magnet"
        if name == "partner" and "CN" in offered:
            return "CN"
        return offered[0] if offered else ""
    if how == "check":
        return bool(default)
    if how == "pairs":
        return ""
    if name in SUGGESTED and (field.is_required() or name == "approval_share"):
        return SUGGESTED[name]
    return "" if default is None else str(default)


def number(text: str) -> Any:
    """A number if the text is one, else the text itself (the world then says what is wrong)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    return int(value) if value.is_integer() and "." not in str(text) else value


def pairs(name: str, text: str) -> dict[str, Any]:
    """``"magnet=0.1, metal=0.05"`` as a dict (the rates as numbers).

    Raises:
        ValueError: naming the field and the expected form.
    """
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{name}: write key=value pairs separated by commas, e.g. magnet=0.1")
        out[key.strip()] = number(value.strip())
    return out


def build_order(kind: str, seat: str, values: dict[str, Any]) -> dict[str, Any]:
    """The order (plain data) from the form's values; blanks leave a field at its default.

    Raises:
        ValueError: a field the form itself cannot read (a malformed list of pairs).
    """
    if kind not in ORDER_CLASSES:
        raise ValueError(f"kind: unknown order kind {kind!r}; allowed: {', '.join(ORDER_CLASSES)}")
    order: dict[str, Any] = {"kind": kind, "issuer": seat}
    for name, field in form_fields(kind):
        value = values.get(name)
        how = widget_kind(name, field)
        if how == "number":
            if str(value or "").strip():
                order[name] = number(str(value).strip())
        elif how == "pairs":
            if str(value or "").strip():
                order[name] = pairs(name, value)
        elif how == "check":
            if bool(value) != bool(field.get_default()):
                order[name] = bool(value)
        elif how == "multi":
            order[name] = [value] if isinstance(value, str) else list(value or [])
        elif value not in (None, "") or field.is_required():
            order[name] = value if value is not None else ""
    return order


def valid(order: dict[str, Any]) -> bool:
    """Whether the order's fields pass its class's checks (world/orders.py)."""
    try:
        ORDER_CLASSES[order["kind"]].model_validate(order)
    except ValidationError:
        return False
    return True


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def world_output_tpy(world: World, commodity: str) -> float:
    """What the world's plants can make of a product in a year at their installed capacity,
    t/yr."""
    return sum(f.capacity_tpy * f.nominal_yields().get(commodity, 0.0) for f in world.firms)


def extreme(
    order: dict[str, Any], world: World, seat: str, preview: OrderPreview | None = None
) -> str:
    """Why an order is far outside the usual, in words ("" if it is not): a tariff, duty or
    rate above 100%, a price floor more than twice the commodity's price now, a restriction
    on every partner, a purchase beyond a year of the world's output, or (from its
    ``preview``) spending above :data:`EXTREME_USD_PER_MONTH`. The world accepts such orders
    (a 500% tariff is legal); the form asks the player to confirm them.
    """
    rates = {name: order.get(name) for name in ("rate", "internal_tariff")}
    rates.update(
        {f"tariff on {c}": r for c, r in (order.get("common_external_tariff") or {}).items()}
    )
    reasons = [
        f"{LABELS.get(name, name).split(' (')[0].lower()} {value:.0%} is above 100%"
        for name, value in rates.items()
        if _real(value) and value > EXTREME_RATE
    ]
    floor, commodity = order.get("floor_usd_per_kg"), order.get("commodity")
    if _real(floor) and commodity in world.commodity_index:
        price = current_price(world, commodity, seat)
        if floor > EXTREME_FLOOR * price:
            reasons.append(
                f"a floor of {floor:g} USD/kg is {floor / max(price, 1e-9):.1f} times the "
                f"price of {commodity} now ({price:.3g} USD/kg)"
            )
    if order.get("kind") in VOLUME_KINDS and order.get("commodities") and not order.get("partners"):
        reasons.append("no partner is chosen, so it applies to every other region")
    tonnes = order.get("tonnes")
    if order.get("kind") == "stockpile_buy" and _real(tonnes) and commodity in world.commodity_ids:
        output = world_output_tpy(world, commodity)
        if tonnes > EXTREME_YEARS_OF_OUTPUT * output:
            reasons.append(
                f"{tonnes:,.0f} t is more than a year of the world's {commodity} output "
                f"({output:,.0f} t/yr)"
            )
    if preview is not None and preview.mean_fiscal_usd_per_month > EXTREME_USD_PER_MONTH:
        reasons.append(
            f"its dry run spends {preview.mean_fiscal_usd_per_month / 1e6:,.0f} M USD a month, "
            f"above {EXTREME_USD_PER_MONTH / 1e6:,.0f} M USD"
        )
    return "; ".join(reasons)


@solara.component
def OrderForm(
    world: World,
    seat: str,
    submit: Callable[[dict], Outcome],
    version: int = 0,
    preview: Preview | None = None,
):
    """The order form of a seat: every instrument with its fields; ``submit`` takes the order
    (plain data) and says whether it was taken, with the world's own message if not.

    ``version`` changes whenever the world does: the same world object and an equal ``submit``
    closure would otherwise let the form skip re-rendering and keep a stale message.
    ``preview`` (if given) dry-runs an order: a Preview button shows what it would do, and an
    order that may spend money is dry-run on Submit, so that a costly one is confirmed first."""
    kind = solara.use_reactive("import_tariff")
    # (kind, field) -> what the player entered: switching instruments keeps each one's inputs.
    entered = solara.use_reactive({})
    # A message belongs to the month, world and instrument it was given for:
    # (month, world id, kind, outcome).
    result = solara.use_reactive(None)
    confirmed = solara.use_reactive(None)  # the extreme order the player confirmed
    # (version, world id, order, OrderPreview): a preview holds for that order in that world
    # as it was (an order submitted since, or a month played, makes it stale).
    previewed = solara.use_reactive(None)
    w = world
    k = kind.value
    fields = form_fields(k)
    values: dict[str, Any] = {}
    offers: dict[str, list[str]] = {}
    for name, field in fields:  # a firm comes before its commodity: the latter offers its products
        offers[name] = choices(name, field, w, seat, values.get("firm"))
        start = starting_value(name, field, offers[name], k, w, seat, values.get("commodity", ""))
        values[name] = entered.value.get((k, name), start)
        if name == "commodity" and values[name] not in offers[name]:
            values[name] = start  # another firm was chosen since

    def enter(name: str, value: Any) -> None:
        entered.set({**entered.value, (k, name): value})

    try:
        order: dict[str, Any] | None = build_order(k, seat, values)
    except ValueError:
        order = None  # send() says what is wrong
    good = order is not None and valid(order)
    shown = previewed.value
    now_preview = (
        shown[3] if shown is not None and shown[:3] == (version, id(w), order) and good else None
    )
    # Only an order that is otherwise good asks for confirmation: a bad one gets the world's
    # own reason when it is sent.
    warning = extreme(order, w, seat, now_preview) if good else ""
    # A confirmation holds for the order as it was ticked: changing a value asks again.
    sure = not warning or confirmed.value == order

    def run_preview() -> OrderPreview | None:
        if preview is None or not good:
            return None
        made = preview(order)
        previewed.set((version, id(w), order, made))
        return made

    def send() -> None:
        month, world_id = w.month, id(w)
        try:
            if not sure:
                raise ValueError(f"Confirm first: {warning}")
            # A costly order not previewed yet is dry-run so that it asks for confirmation.
            if now_preview is None and k in SPENDING_KINDS:
                made = run_preview()
                costly = extreme(order, w, seat, made) if made is not None else ""
                if costly and confirmed.value != order:
                    raise ValueError(f"Confirm first: {costly}")
            outcome = submit(build_order(k, seat, values))
        except ValueError as exc:
            outcome = (False, str(exc))
        if outcome[0]:
            previewed.set(None)  # it was for the world before this order
        result.set((month, world_id, k, outcome))

    with solara.Column():
        # Named for people, with the kind that JSON orders and the news use.
        solara.v.Select(
            label="Order",
            items=[{"text": f"{instrument_name(c)} ({c})", "value": c} for c in STATE_ORDER_KINDS],
            v_model=k,
            on_v_model=kind.set,
        )
        solara.Text(instrument_help(k), style={"color": "#555"})
        now = in_force(w, seat, None if k == "lift" else k)
        if now:
            solara.Markdown(
                "**Yours in force now:**\n\n" + "\n".join(f"- {line}" for line in now),
                style={"font-size": "13px"},
            )
        for name, field in fields:
            _field(name, field, values[name], functools.partial(enter, name), offers[name])
        if warning:
            solara.Warning(f"This is far outside the usual: {warning}.", classes=["order-extreme"])
            solara.Checkbox(
                label="I mean it: submit these values",
                value=sure,
                on_value=lambda yes: confirmed.set(order if yes else None),
            )
        with solara.Row():
            if preview is not None:
                solara.Button(
                    "Preview",
                    on_click=run_preview,
                    disabled=not good,
                    classes=["preview-order"],
                )
            solara.Button(
                "Submit order",
                on_click=send,
                color="primary",
                disabled=not sure,
                classes=["submit-order"],
            )
        if now_preview is not None:
            PreviewCard(now_preview)
        if result.value is not None and result.value[:3] == (w.month, id(w), k):
            taken, message = result.value[3]
            (solara.Success if taken else solara.Error)(message, classes=["order-message"])


@solara.component
def PreviewCard(preview: OrderPreview):
    """A dry run's result in words, then its numbers: spending month by month and the seat's
    prices with and without the order."""
    with solara.Column(classes=["order-preview"]):
        if preview.rejected:
            solara.Error(preview.in_words(), classes=["order-preview-words"])
            return
        solara.Info(preview.in_words(), classes=["order-preview-words"])
        spent = " | ".join(f"{usd / 1e6:,.1f}" for usd in preview.fiscal_usd_per_month)
        rows = "\n".join(
            f"| {p.commodity} | {p.without_usd_per_kg:,.4g} | {p.with_usd_per_kg:,.4g} | "
            f"{p.change:+.1%} |"
            for p in preview.prices
        )
        solara.Markdown(
            f"Extra spending, M USD per month from {preview.start}: {spent or 'none'}\n\n"
            f"| your price, mean of {preview.months} months | without, USD/kg | with, USD/kg "
            f"| change |\n|---|---|---|---|\n{rows}",
            style={"font-size": "13px"},
        )


def field_label(name: str) -> str:
    """What the form calls a field: its :data:`LABELS` entry, else its name in words."""
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _field(name: str, field: FieldInfo, value: Any, on_value: Callable, offered: list) -> None:
    label = field_label(name)
    classes = [f"order-{name.replace('_', '-')}"]
    how = widget_kind(name, field)
    if how == "choice":
        solara.Select(label, values=offered, value=value, on_value=on_value, classes=classes)
    elif how == "multi":
        solara.SelectMultiple(label, value, offered, on_value=on_value, classes=classes)
    elif how == "check":
        solara.Checkbox(label=label, value=value, on_value=on_value)
    else:
        solara.InputText(
            label, value=value, on_value=on_value, continuous_update=True, classes=classes
        )


def json_object(text: str, what: str = "order") -> dict:
    """A JSON object typed by a player or a facilitator (an order or an event).

    Raises:
        ValueError: not JSON, or JSON but not an object; the message says which.
    """
    if not isinstance(text, str):
        raise ValueError(f"{what}: JSON text (got {type(text).__name__})")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what}: not JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise ValueError(f"{what}: nested too deeply to be an {what}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what}: a JSON object of fields (kind, region, ...)")
    return value


@solara.component
def JsonOrder(submit: Callable[[dict], Outcome], now: tuple[int, int]):
    """Any order of world/orders.py typed as JSON. ``now`` is the world's (month, id): a
    message shows only in the month it was given in."""
    text = solara.use_reactive("")
    result = solara.use_reactive(None)

    def send():
        try:
            outcome = submit(json_object(text.value))
        except ValueError as exc:
            outcome = (False, str(exc))
        result.set((*now, outcome))

    solara.InputTextArea("Order as JSON", value=text, rows=4, continuous_update=True)
    solara.Button("Submit JSON order", on_click=send, classes=["submit-json"])
    if result.value is not None and result.value[:2] == now:
        taken, message = result.value[2]
        (solara.Success if taken else solara.Error)(message, classes=["json-message"])

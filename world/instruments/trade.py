"""Trade measures: export bans, quotas, licences and duties, import tariffs and bans, the
licensing seat's decisions, technology export bans, defence priority and purchase commitments.

A trade measure goes into force as a :class:`~world.scenario.PolicySpec` in the world's policy
book (world/policy.py), which binds it on every arc each month: a ban zeroes a flow, a quota
caps a total, a licence delays and rations, a duty or tariff drives a price wedge. A technology
export ban and a purchase commitment are programmes of the order desk instead: the ban makes
plants abroad dearer and slower (:func:`tech_ban`), the commitment's tonnes go as offtake
contracts go (``World._deliver_contracts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from world.instruments.base import Instrument, OrderRejected
from world.scenario import PolicySpec

if TYPE_CHECKING:
    from pydantic import BaseModel

    from agents.firms import Firm
    from world.instruments.valuation import Valuation
    from world.model import World
    from world.order_desk import OrderDesk

#: Where a trade measure binds each month.
_POLICY_BOOK = "PolicyBook.update, World.trade"


def apply_trade(desk: OrderDesk, order: BaseModel) -> str:
    """Put a trade measure in force (its partners less any exempted ones)."""
    w = desk.world
    partners = _partners(w, order)
    if getattr(order, "exempt", None) and not partners:
        raise OrderRejected("exempt: every partner is exempted; the order would do nothing")
    end = desk.end_month(order)
    fields: dict[str, Any] = {
        "id": desk.new_id(order.issuer, order.kind),
        "kind": order.kind,
        "issuer": order.issuer,
        "commodities": list(order.commodities),
        "partners": partners,
        "start": desk.date(w.month),
        "end": None if end is None else desk.date(end),
        "note": order.note,
    }
    if order.kind == "export_quota":
        fields.update(quota_t=order.quota_t, period_months=order.period_months)
    elif order.kind == "export_licence":
        _check_buyers(w, "general_licences", order.general_licences)
        fields.update(
            review_months=order.review_months,
            review_low_months=order.review_low_months,
            review_high_months=order.review_high_months,
            approval_share=order.approval_share,
            end_use=dict(order.end_use),
            general_licences=list(order.general_licences),
            decided_by=order.decided_by,
            covered_share=order.covered_share,
        )
    elif order.kind in ("export_duty", "import_tariff"):
        fields.update(rate=order.rate)
    elif order.kind == "extraterritorial_control":
        if order.issuer != w.tracked_origin:
            raise OrderRejected(
                f"issuer: only {w.tracked_origin}, the origin the provenance ledger tracks, can "
                "control products made abroad from its material"
            )
        fields.update(content_threshold=order.content_threshold)
    w.policies.add(PolicySpec(**fields))
    return trade_words(w, order, partners)


def _partners(world: World, order: BaseModel) -> list[str]:
    """The partners a trade measure covers once exemptions are taken out (empty: all)."""
    partners = list(order.partners)
    exempt = set(getattr(order, "exempt", []) or [])
    if exempt:
        pool = partners or [r for r in world.region_ids if r != order.issuer]
        partners = [r for r in pool if r not in exempt]
    return partners


def trade_words(world: World, order: BaseModel, partners: list[str] | None = None) -> str:
    """A trade measure in words; ``partners``: those it covers (default: the order's, less
    any exempted)."""
    partners = _partners(world, order) if partners is None else partners
    who = world.spec.regions[order.issuer].name
    what = ", ".join(order.commodities)
    to = ", ".join(partners) if partners else "all others"
    duration = f" for {order.duration_months} months" if order.duration_months is not None else ""
    text = {
        "export_ban": f"{who} bans exports of {what} to {to}",
        "import_ban": f"{who} bans imports of {what} from {to}",
        "export_duty": f"{who} sets a {getattr(order, 'rate', 0):.0%} export duty on {what} "
        f"to {to}",
        "import_tariff": f"{who} sets a {getattr(order, 'rate', 0):.0%} tariff on {what} from {to}",
    }.get(order.kind)
    if order.kind == "extraterritorial_control":
        text = (
            f"{who} controls {what} made abroad with {order.content_threshold:.1%} or more of "
            f"its material: no exports of them to {to}"
        )
    elif order.kind == "export_quota":
        text = (
            f"{who} caps exports of {what} to {to} at {order.quota_t:,.0f} t per "
            f"{order.period_months} months"
        )
    elif order.kind == "export_licence":
        review = order.review()
        text = (
            f"{who} requires export licences for {what} to {to}: {review.low:g}-{review.high:g} "
            f"month review (mostly {review.mode:g}), {order.approval_share:.0%} approved"
            + _terms_words(order.end_use, order.general_licences, order.covered_share)
        )
    return text + duration


def _terms_words(end_use: dict[str, float], general: list[str], covered: float = 1.0) -> str:
    """ "; defense users 0% approved; general licences for US; covering 40% of the tonnage"
    (empty if none is set)."""
    text = "".join(f"; {use} users {share:.0%} approved" for use, share in end_use.items())
    if covered < 1.0:
        text += f"; {_coverage_words(covered)}"
    if general:
        text += f"; general licences for {', '.join(general)}"
    return text


def _check_buyers(world: World, field: str, buyers: list[str]) -> None:
    """Refuse a general licence for a buyer that is neither a region nor a firm."""
    for buyer in buyers:
        if buyer not in world.region_index and buyer not in world.firms_by_id:
            raise OrderRejected(
                f"{field}: '{buyer}' is neither a region ({', '.join(world.region_ids)}) nor a "
                "firm id"
            )


def apply_licence_terms(desk: OrderDesk, order: BaseModel) -> str:
    """Change the terms of the issuer's export licences in force (easing or tightening)."""
    w = desk.world
    _check_buyers(w, "grant", order.grant)
    book = w.policies
    live = book.in_force(w.month)
    targets = [
        spec
        for spec in live
        if spec.kind == "export_licence"
        and spec.issuer == order.issuer
        and (order.policy_id is None or spec.id == order.policy_id)
        and (not order.commodities or set(order.commodities) & set(spec.commodities))
    ]
    if not targets:
        held = [s.id for s in live if s.kind == "export_licence"]
        raise OrderRejected(
            f"policy_id/commodities: {order.issuer} has no export licence in force that matches "
            f"(in force: {', '.join(held) or 'none'})"
        )
    for spec in targets:
        changes: dict[str, Any] = {}
        if order.approval_share is not None:
            changes["approval_share"] = order.approval_share
        if order.end_use is not None:
            changes["end_use"] = dict(order.end_use)
        if order.covered_share is not None:
            changes["covered_share"] = order.covered_share
        general = [g for g in spec.general_licences if g not in order.withdraw]
        changes["general_licences"] = general + [g for g in order.grant if g not in general]
        book.amend(spec.id, w.month, changes)
    return licence_terms_words(w, order) + f" ({', '.join(s.id for s in targets)})"


def licence_terms_words(world: World, order: BaseModel) -> str:
    """A change of licence terms in words."""
    who = world.spec.regions[order.issuer].name
    what = ", ".join(order.commodities) or "all licensed goods"
    parts = []
    if order.approval_share is not None:
        parts.append(f"approves {order.approval_share:.0%}")
    parts += [f"{use} users {share:.0%}" for use, share in (order.end_use or {}).items()]
    if order.covered_share is not None:
        parts.append(_coverage_words(order.covered_share))
    if order.grant:
        parts.append(f"grants general licences to {', '.join(order.grant)}")
    if order.withdraw:
        parts.append(f"withdraws general licences from {', '.join(order.withdraw)}")
    return f"{who} changes its export licences on {what}: {'; '.join(parts) or 'no change'}"


def _coverage_words(covered: float) -> str:
    """ "covering 40% of the tonnage" (a licence on every tonne says "covering all of it")."""
    if covered >= 1.0:
        return "covering all of the tonnage"
    return f"covering {covered:.0%} of the tonnage"


def severity(kind: str, spec: dict, flow: float) -> float:
    """Share of an arc's value a trade measure takes (see :func:`value_trade`): ban 1, licence
    its covered share times (1 - approval share), quota the share of the flow (t/month) above
    the allowance, duty or tariff t / (1 + t)."""
    if kind in ("export_ban", "import_ban"):
        return 1.0
    if kind == "export_licence":
        covered = float(spec.get("covered_share", 1.0))
        return covered * (1.0 - float(spec.get("approval_share", 1.0)))
    if kind == "export_quota":
        period = float(spec.get("period_months") or 12)
        allowance = float(spec.get("quota_t") or 0.0) * float(spec.get("scale", 1.0)) / period
        return max(0.0, 1.0 - allowance / flow) if flow > 0 else 0.0
    rate = float(spec.get("rate") or 0.0)
    return rate / (1.0 + rate)


def value_trade(v: Valuation, spec: dict, sign: float) -> None:
    """A trade measure's effect on the valuing region, arc by arc (x -> d, commodity c).

    - the importer d (export measures by x; its own import measures): welfare falls by
      s x the value of the flow (the price rise and the lost supply), and for volume
      restrictions security falls by s x the flow over d's use of c / 3 (the magnet fill rate),
      rising back by the same amount if x is d's adversary (less adversary content);
    - the exporter x (its own export measures; others' import measures on it): welfare falls by
      the lost margin, s x 0.3 x the flow's value (a tariff: t / (1 + t) of it), and for its own
      volume restrictions leverage rises by its dependence x the share of its chain exports
      newly restricted.
    """
    from world.instruments import REGISTRY

    w, parts, r = v.world, v.parts, v.r
    kind, issuer = spec["kind"], spec["issuer"]
    partners = spec.get("partners") or [x for x in w.region_ids if x != issuer]
    partners = [p for p in partners if p not in (spec.get("exempt") or [])]
    xi = w.region_index[issuer]
    volume = REGISTRY[kind].volume
    for c in spec.get("commodities") or []:
        ci = w.commodity_index[c]
        for p in partners:
            pi = w.region_index[p]
            if kind.startswith("export"):
                o, d = xi, pi
            else:
                o, d = pi, xi
            flow = float(w.import_ema[ci, o, d])
            if flow <= 1e-9:
                continue
            price = float(w.prices[ci, d])
            value = flow * price * 1000.0
            s = severity(kind, spec, flow)
            if d == r:
                parts["welfare"] -= sign * s * value / v.scale
                if volume:
                    use = max(float(w.use_ema[ci, r]), 1e-9)
                    effect = s * flow / use / 3.0
                    parts["security"] -= sign * effect
                    if w.region_ids[o] in v.hostile:
                        parts["security"] += sign * effect
            if o == r:
                margin = s if kind in ("import_tariff", "export_duty") else 0.3 * s
                parts["welfare"] -= sign * margin * value / v.scale
                if volume and kind.startswith("export") and ci in v.chain:
                    mine = v.my_chain_exports()
                    if mine > 1e-9:
                        parts["leverage"] += sign * v.dependence() * flow / mine


def apply_licence_decision(desk: OrderDesk, order: BaseModel) -> str:
    """The licensing seat approves a share of the applications pending on an arc."""
    w = desk.world
    if order.partner not in w.region_index:
        raise OrderRejected(f"partner: unknown region '{order.partner}'")
    ci = w.commodity_index[order.commodity]
    o, d = w.region_index[order.issuer], w.region_index[order.partner]
    book = w.policies
    if not book.seat_decided[ci, o, d]:
        raise OrderRejected(
            f"{order.commodity} to {order.partner}: no licence of "
            f"{order.issuer} that its seat decides is in force"
        )
    approved = book.decide_licences(w.month, ci, o, d, order.share)
    return (
        f"{w.spec.regions[order.issuer].name} approves {order.share:.0%} of licence "
        f"applications for {order.commodity} to {order.partner} ({approved:,.0f} t)"
    )


def apply_tech_export_ban(desk: OrderDesk, order: BaseModel) -> str:
    """Plants abroad at the stages cost more and take longer while the ban stands."""
    desk.start_programme(
        order,
        stages=list(order.stages),
        capex_multiplier=order.capex_multiplier,
        extra_lead_months=order.extra_lead_months,
    )
    return tech_export_ban_words(desk.world, order)


def tech_export_ban_words(world: World, order: BaseModel) -> str:
    """A technology export ban in words."""
    return (
        f"{world.spec.regions[order.issuer].name} bans the export of "
        f"{', '.join(order.stages)} technology: plants abroad cost "
        f"{order.capex_multiplier:.1f}x and take {order.extra_lead_months} months longer"
    )


def tech_ban(world: World, firm: Firm) -> tuple[float, int]:
    """(capex multiplier, extra months of lead time) that foreign technology export bans
    impose on a firm's new plants."""
    mult, extra = 1.0, 0
    for prog in world.desk.active("tech_export_ban"):
        if prog.issuer != firm.region and firm.stage in prog.params["stages"]:
            mult *= prog.params["capex_multiplier"]
            extra += prog.params["extra_lead_months"]
    return mult, extra


def lead_time_extra(world: World, firm: Firm) -> int:
    """Extra months of lead time for a firm's new plant: a drawn project delay
    (:meth:`World.project_delay`), plus technology export bans."""
    return world.project_delay(firm.lead_time) + tech_ban(world, firm)[1]


#: Months of lead time against which a technology ban's delay is weighed: about a separation
#: plant's (DESIGN.md: separation plants take about 5 years).
TECH_LEAD_REF_MONTHS = 60
#: Score a month a technology ban is worth at full severity to a region wholly dependent on
#: the issuer's chain exports (less security for the region, more leverage for the issuer):
#: small next to a cut-off of supply, since it only slows plants not yet built [EST].
TECH_BAN_WEIGHT = 0.05
#: Share of the value of the tonnes a purchase commitment adds that its buyers lose, against
#: buying where they would have (the committed supply is not their cheapest) [EST].
COMMITMENT_PREMIUM = 0.1


def tech_ban_severity(spec: dict) -> float:
    """The share of a new plant abroad's value a technology ban takes, 0-1: the plant costs
    ``capex_multiplier`` times as much and comes ``extra_lead_months`` later (weighed against
    :data:`TECH_LEAD_REF_MONTHS`)."""
    mult = max(float(spec.get("capex_multiplier", 1.5)), 1.0)
    late = max(int(spec.get("extra_lead_months", 12)), 0)
    return 1.0 - (1.0 / mult) * TECH_LEAD_REF_MONTHS / (TECH_LEAD_REF_MONTHS + late)


def value_tech_export_ban(v: Valuation, spec: dict, sign: float) -> None:
    """A technology export ban slows the plants others would build to need the issuer less.

    - the issuer: leverage rises by :data:`TECH_BAN_WEIGHT` x severity x its dependence (the
      share of others' chain imports that come from it);
    - another region with producers at the banned stages: security falls by
      :data:`TECH_BAN_WEIGHT` x severity x the share of its chain imports that come from the
      issuer (0 if it buys none from it).

    Lifting the ban (a ``lift``, or a deal suspending it) counts the same with the sign turned.
    """
    w = v.world
    severity = tech_ban_severity(spec)
    if severity <= 0:
        return
    issuer = spec["issuer"]
    if v.region == issuer:
        v.parts["leverage"] += sign * TECH_BAN_WEIGHT * severity * v.dependence()
        return
    stages = spec.get("stages") or []
    if not any(f.region == v.region and f.stage in stages for f in w.firms):
        return
    imports = w.import_ema[v.chain][:, :, v.r]
    total = float(imports.sum())
    if total <= 1e-9:
        return
    from_issuer = float(imports[:, w.region_index[issuer]].sum()) / total
    v.parts["security"] -= sign * TECH_BAN_WEIGHT * severity * from_issuer


def apply_purchase_commitment(desk: OrderDesk, order: BaseModel) -> str:
    """The issuer's buyers take the partner's producers' output first, up to the tonnes a
    month, for the commitment's term.

    Raises:
        OrderRejected: if the partner is not another region, no producer there makes the
            commodity, or nobody in the issuer's region buys it.
    """
    w = desk.world
    regions = w.region_ids
    if order.partner not in w.region_index:
        raise OrderRejected(
            f"partner: unknown region '{order.partner}'; allowed: "
            f"{', '.join(r for r in regions if r != order.issuer)}"
        )
    if order.partner == order.issuer:
        raise OrderRejected(
            f"partner: '{order.partner}' is the issuer itself; a purchase commitment buys from "
            f"another region's producers; allowed: "
            f"{', '.join(r for r in regions if r != order.issuer)}"
        )
    c = order.commodity
    makers = [f for f in w.firms if f.region == order.partner and c in f.output_commodities()]
    if not makers:
        made = sorted(
            {x for f in w.firms if f.region == order.partner for x in f.output_commodities()}
        )
        raise OrderRejected(
            f"commodity: no producer in {order.partner} makes {c}; allowed: "
            f"{', '.join(made) or 'none (it has no producers)'}"
        )
    ci = w.commodity_index[c]
    buys = any(f.region == order.issuer and c in f.inputs for f in w.firms) or any(
        u.c == ci and u.region == order.issuer for u in w.end_users
    )
    if not buys:
        raise OrderRejected(
            f"commodity: nobody in {order.issuer} buys {c}; its firms and end users buy: "
            f"{', '.join(_bought(w, order.issuer)) or 'nothing'}"
        )
    desk.start_programme(
        order, commodity=c, partner=order.partner, t_per_month=float(order.t_per_month)
    )
    return purchase_commitment_words(w, order)


def _bought(world: World, region: str) -> list[str]:
    """The commodities a region's firms and end users buy."""
    found = {c for f in world.firms if f.region == region for c in f.inputs}
    found |= {world.commodity_ids[u.c] for u in world.end_users if u.region == region}
    return [c for c in world.commodity_ids if c in found]


def purchase_commitment_words(world: World, order: BaseModel) -> str:
    """A purchase commitment in words: "The United States commits its buyers to buy 500
    t/month of Chinese NdPr oxide for 12 months"."""
    from world.deal_words import purchase_phrase, region_name

    who = region_name(world, order.issuer)
    text = f"{who} {purchase_phrase(world, order.model_dump(mode='json'))[1]}"
    return text[0].upper() + text[1:]


def commitment_added_t(world: World, spec: dict) -> float:
    """The tonnes a month a purchase commitment adds to what the issuer's buyers take from the
    partner: ``min(t_per_month, the issuer region's use of the commodity, what the partner's
    producers made last month) - what the issuer imports from the partner`` (use and imports
    smoothed, ``world.use_ema`` and ``world.import_ema``), t/month; 0 if nothing is added."""
    ci = world.commodity_index[spec["commodity"]]
    i, p = world.region_index[spec["issuer"]], world.region_index[spec["partner"]]
    use = float(world.use_ema[ci, i])
    made = float(world.production_buffer[ci, p])
    committed = min(float(spec["t_per_month"]), use, made)
    return max(committed - float(world.import_ema[ci, p, i]), 0.0)


def value_purchase_commitment(v: Valuation, spec: dict, sign: float) -> None:
    """A purchase commitment's effect on the seller's and the buyer's region, on the tonnes it
    adds (:func:`commitment_added_t`), worth their value at the partner's price:

    - the partner (seller): welfare rises by its producers' margin on them, 0.3 x their value
      (the margin :func:`value_trade` counts on a lost export);
    - the issuer (buyer): welfare falls by :data:`COMMITMENT_PREMIUM` x their value, and
      security moves by the change of the adversary share of its use (the added tonnes
      displace its current supply pro rata): down if the partner is an adversary, up
      if it is not and the supply displaced was partly an adversary's; a third of it, as the
      adversary share is one of security's three parts.
    """
    w = v.world
    ci = w.commodity_index[spec["commodity"]]
    i, p = w.region_index[spec["issuer"]], w.region_index[spec["partner"]]
    if v.r not in (i, p):
        return
    added = commitment_added_t(w, spec)
    if added <= 1e-9:
        return
    value = added * float(w.prices[ci, p]) * 1000.0
    if v.r == p:
        v.parts["welfare"] += sign * 0.3 * value / v.scale
        return
    v.parts["welfare"] -= sign * COMMITMENT_PREMIUM * value / v.scale
    use = float(w.use_ema[ci, i])
    hostile = [w.region_index[x] for x in sorted(v.hostile) if x in w.region_index]
    hostile_share = min(float(w.import_ema[ci, hostile, i].sum()) / use, 1.0) if hostile else 0.0
    adverse = 1.0 if spec["partner"] in v.hostile else 0.0
    v.parts["security"] -= sign * added / use * (adverse - hostile_share) / 3.0


def apply_defense_priority(desk: OrderDesk, order: BaseModel) -> str:
    """The issuer's defence end users are served first in its home market."""
    w = desk.world
    w.policies.add(
        PolicySpec(
            id=desk.new_id(order.issuer, order.kind),
            kind="defense_priority",
            issuer=order.issuer,
            commodities=["magnet"],
            start=desk.date(w.month),
        )
    )
    return defense_priority_words(w, order)


def defense_priority_words(world: World, order: BaseModel) -> str:
    """Defence priority in words."""
    return f"{world.spec.regions[order.issuer].name} puts defence demand first"


def _trade(kind: str, direction: str, volume: bool, noun: str) -> Instrument:
    return Instrument(
        kind=kind,
        family="trade",
        apply=apply_trade,
        binds=_POLICY_BOOK,
        value=value_trade,
        words=trade_words,
        direction=direction,  # type: ignore[arg-type]
        volume=volume,
        liftable=True,
        restriction=True,
        in_book=True,
        noun=noun,
    )


INSTRUMENTS = (
    _trade("export_ban", "export", volume=True, noun="export ban"),
    _trade("export_quota", "export", volume=True, noun="export quota"),
    _trade("export_licence", "export", volume=True, noun="export licences"),
    Instrument(
        kind="licence_decision",
        family="trade",
        apply=apply_licence_decision,
        binds="PolicyBook.decide_licences",
    ),
    Instrument(
        kind="extraterritorial_control",
        family="trade",
        apply=apply_trade,
        binds="World._extraterritorial_bans",
        words=trade_words,
        liftable=True,
        restriction=True,
        in_book=True,
    ),
    Instrument(
        kind="licence_terms",
        family="trade",
        apply=apply_licence_terms,
        binds="PolicyBook.amend",
        words=licence_terms_words,
    ),
    _trade("export_duty", "export", volume=False, noun="export duty"),
    _trade("import_tariff", "import", volume=False, noun="tariff"),
    _trade("import_ban", "import", volume=True, noun="import ban"),
    Instrument(
        kind="tech_export_ban",
        family="trade",
        apply=apply_tech_export_ban,
        binds="programmes.capex_multiplier, trade.lead_time_extra",
        value=value_tech_export_ban,
        words=tech_export_ban_words,
        liftable=True,
        restriction=True,
    ),
    Instrument(
        kind="defense_priority",
        family="trade",
        apply=apply_defense_priority,
        binds="World.trade",
        words=defense_priority_words,
        liftable=True,
        in_book=True,
    ),
    Instrument(
        kind="purchase_commitment",
        family="trade",
        apply=apply_purchase_commitment,
        binds="World._deliver_contracts",
        value=value_purchase_commitment,
        words=purchase_commitment_words,
        liftable=True,
    ),
)

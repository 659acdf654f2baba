"""Lifting measures in force: one by its id, or every measure of a kind the issuer has on some
commodities (and partners). A trade measure that covers more stays in force for the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.instruments.base import Instrument, OrderRejected

if TYPE_CHECKING:
    from pydantic import BaseModel

    from world.instruments.valuation import Valuation
    from world.model import World
    from world.order_desk import OrderDesk, Programme
    from world.scenario import PolicySpec


def lift_targets(world: World, order: BaseModel) -> tuple[list[PolicySpec], list[Programme]]:
    """The policies and programmes of the issuer in force that a ``lift`` order would end.

    Raises:
        OrderRejected: if ``policy_id`` names another state's measure, or the order names
            neither a ``policy_id`` nor a ``measure``.
    """
    w = world
    month = w.month
    desk = w.desk
    if order.policy_id:
        policies = [s for s in w.policies.active if s.id == order.policy_id]
        progs = [p for p in desk.programmes if p.id == order.policy_id and p.active(month)]
        owners = [s.issuer for s in policies] + [p.issuer for p in progs]
        if owners and owners[0] != order.issuer:
            raise OrderRejected(f"policy_id: '{order.policy_id}' belongs to {owners[0]}")
        return policies, progs
    if order.measure is None:
        raise OrderRejected("measure: lift needs a policy_id or a measure")
    policies = [
        s
        for s in w.policies.active
        if s.issuer == order.issuer
        and s.kind == order.measure
        and (not order.commodities or set(order.commodities) & set(s.commodities))
        and (not order.partners or not s.partners or set(order.partners) & set(s.partners))
    ]
    progs = [
        p
        for p in desk.programmes
        if p.issuer == order.issuer
        and p.kind == order.measure
        and p.active(month)
        and "alliance" not in p.params
        and (
            not order.commodities
            or "commodity" not in p.params
            or p.params["commodity"] in order.commodities
        )
    ]
    return policies, progs


def apply_lift(desk: OrderDesk, order: BaseModel) -> str:
    """End the measures the order names; what a partial lift leaves stays in force under new
    ids."""
    w = desk.world
    policies, progs = lift_targets(w, order)
    if not policies and not progs:
        raise OrderRejected("nothing to lift: no such measure of the issuer is in force")
    ended, kept = [], []
    for spec in policies:
        remainders = _remainders(w, spec, order)
        if w.policies.end(spec.id, w.month):
            ended.append(spec.id)
        for update in remainders:
            new = spec.model_copy(
                update={
                    **update,
                    "id": desk.new_id(spec.issuer, spec.kind),
                    "start": desk.date(w.month),
                }
            )
            w.policies.add(new)
            kept.append(
                f"{new.id} ({', '.join(new.commodities)} to "
                f"{', '.join(new.partners) or 'all others'})"
            )
    for prog in progs:
        prog.end = w.month
        ended.append(prog.id)
    text = f"{w.spec.regions[order.issuer].name} lifts {', '.join(ended)}"
    if kept:
        text += f"; it stays in force as {'; '.join(kept)}"
    return text


def _remainders(world: World, spec: PolicySpec, order: BaseModel) -> list[dict]:
    """What of a trade measure stays in force after a lift for some of its commodities or
    partners: updates (commodities, partners) for the policies that carry on."""
    from world.instruments import TRADE_KINDS

    if spec.kind not in TRADE_KINDS and spec.kind != "stockpile_target":
        return []
    if spec.kind == "export_quota":
        return []
    goods = [c for c in spec.commodities if not order.commodities or c in order.commodities]
    out = []
    other_goods = [c for c in spec.commodities if c not in goods]
    if other_goods:
        out.append({"commodities": other_goods, "partners": list(spec.partners)})
    if order.partners and spec.kind in TRADE_KINDS:
        covered = spec.partners or [r for r in world.region_ids if r != spec.issuer]
        left = [r for r in covered if r not in order.partners]
        if left:
            out.append({"commodities": goods, "partners": left})
    return out


def value_lift(v: Valuation, spec: dict, sign: float) -> None:
    """Minus the measures the lift would end (for the partners and commodities it names)."""
    from world.orders import parse_order

    w = v.world
    policies, progs = lift_targets(w, parse_order(spec))
    lifted_partners = spec.get("partners") or []
    lifted_goods = spec.get("commodities") or []
    for pol in policies:
        data = pol.model_dump()
        if lifted_partners:
            data["partners"] = [p for p in (pol.partners or w.region_ids) if p in lifted_partners]
        if lifted_goods:
            data["commodities"] = [c for c in pol.commodities if c in lifted_goods]
        v.value_order(data, -sign)
    for prog in progs:
        v.value_order({"kind": prog.kind, "issuer": prog.issuer, **prog.params}, -sign)


INSTRUMENTS = (Instrument(kind="lift", family="lift", apply=apply_lift, value=value_lift),)

"""Alliances: who is in which, and the orders that form, widen, join and leave one.

An alliance (the ``alliance`` order, :class:`world.orders.Alliance`) is formed by a founder with
its terms, invites states, and is joined or left; an AI invitee joins when it trusts the inviter
enough and the inviter is not one of its adversaries. Its terms bind each month in
world/instruments/alliances.py (tariff union, pooled offtake and premium, fund, shared release).
The membership book is a part of the negotiation state (:class:`world.deals.Diplomacy` is an
:class:`AllianceMembership`): it uses the same trust, seat parameters and news.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from world.instruments.alliances import sync_alliances
from world.orders import OrderRejected

if TYPE_CHECKING:
    from pydantic import BaseModel

    from world.model import World

#: An AI joins an alliance it is invited to when it trusts the inviter at least this much (and
#: the inviter is not one of its adversaries).
ALLIANCE_TRUST = 0.5


@dataclass
class AllianceState:
    """An alliance: its members, invitations and terms (see :class:`world.orders.Alliance`).

    Attributes:
        fund_year: the calendar year (YYYY) whose fund ``fund_paid_usd`` counts.
        fund_paid_usd: what the fund paid this calendar year, USD.
        fund_paid_total_usd: what it paid since it was formed, USD.
        fund_payments: one entry per payment: month, firm, capex_usd (the plant's capex
            before subsidies), share, paid_usd and members (region -> USD it paid).
    """

    name: str
    founder: str
    members: list[str]
    terms: dict[str, Any]
    formed: int
    invited: dict[str, str] = field(default_factory=dict)  # invitee -> inviter
    declined: list[str] = field(default_factory=list)
    ended: int | None = None
    fund_year: str = ""
    fund_paid_usd: float = 0.0
    fund_paid_total_usd: float = 0.0
    fund_payments: list[dict] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.ended is None and bool(self.members)


def _adversaries(world: World, region: str) -> tuple[str, ...]:
    from world.objectives import adversaries

    return adversaries(world, region)


class AllianceMembership:
    """The alliances of one world and the orders on them; mixed into
    :class:`world.deals.Diplomacy`, whose trust (``trust_in``), seat parameters
    (``_seat_params``), AI seats (``is_ai``), state checks (``_check_state``) and news
    (``_log``, ``_name``) it uses.

    Attributes:
        alliances: every alliance by name, in the order formed.
    """

    world: World
    alliances: dict[str, AllianceState]

    def answer_invitations(self) -> None:
        """AI invitees answer their invitations: join (an ``alliance`` order) or decline."""
        w = self.world
        for alliance in list(self.alliances.values()):
            if not alliance.live:
                continue
            for region, inviter in list(alliance.invited.items()):
                if region in alliance.members or region in alliance.declined:
                    continue
                if not self.is_ai(region):
                    continue
                if self.accepts_invitation(alliance, region, inviter):
                    w.desk.respond_for(
                        {
                            "kind": "alliance",
                            "issuer": region,
                            "action": "join",
                            "name": alliance.name,
                            "note": f"AI: trusts {inviter} ({self.trust_in(region, inviter):.2f})",
                        },
                        source="ai:alliance",
                    )
                else:
                    alliance.declined.append(region)
                    self._log("alliance", region, f"{self._name(region)} declines {alliance.name}")

    def accepts_invitation(self, alliance: AllianceState, region: str, inviter: str) -> bool:
        """An AI joins when invited by a state it trusts that is not its adversary (unless
        its doctrine's optional ``consider_alliance(world, alliance)`` says otherwise)."""
        w = self.world
        doctrine = w.doctrines.get(region) if hasattr(w, "doctrines") else None
        if doctrine is not None and hasattr(doctrine, "consider_alliance"):
            verdict = doctrine.consider_alliance(w, alliance)
            if verdict is not None:
                return bool(verdict)
        if inviter in _adversaries(w, region):
            return False
        threshold = float(self._seat_params(region).get("alliance_trust", ALLIANCE_TRUST))
        return self.trust_in(region, inviter) >= threshold

    def alliance(self, order: BaseModel) -> str:
        """Apply an ``alliance`` order; returns what happened."""
        handler = getattr(self, f"_alliance_{order.action}")
        message = handler(order)
        sync_alliances(self.world)
        return message

    def _live(self, name: str) -> AllianceState:
        alliance = self.alliances.get(name)
        if alliance is None or not alliance.live:
            known = ", ".join(a.name for a in self.alliances.values() if a.live)
            raise OrderRejected(f"name: no alliance '{name}'; alliances: {known or 'none'}")
        return alliance

    def _check_terms(self, order: BaseModel) -> None:
        w = self.world
        for c in [*order.common_external_tariff, *order.offtake_commodities]:
            if c not in w.commodity_index:
                raise OrderRejected(
                    f"commodity: unknown commodity '{c}'; allowed: {', '.join(w.commodity_ids)}"
                )
        for s in order.fund_stages:
            if s not in w.spec.stages:
                raise OrderRejected(
                    f"fund_stages: unknown stage '{s}'; allowed: {', '.join(w.spec.stages)}"
                )
        projects = sorted({f.spec.project for f in w.firms if f.spec.project})
        for p in order.fund_projects:
            if p not in projects and p not in w.firms_by_id:
                raise OrderRejected(
                    f"fund_projects: unknown project or firm '{p}'; allowed: projects "
                    f"{', '.join(projects) or 'none'}, or a firm id"
                )
        for r in order.fund_contributions:
            self._check_state(r, "fund_contributions")

    def _invite(self, alliance: AllianceState, inviter: str, invitees: list[str]) -> list[str]:
        for r in invitees:
            self._check_state(r, "invite")
            if r == inviter:
                raise OrderRejected(f"invite: '{r}' is the issuer itself")
        added = []
        for r in invitees:
            if r in alliance.members or r in added:
                continue
            alliance.invited.setdefault(r, inviter)
            if r in alliance.declined:
                alliance.declined.remove(r)
            added.append(r)
        return added

    def _alliance_form(self, order: BaseModel) -> str:
        w = self.world
        if order.name in self.alliances and self.alliances[order.name].live:
            raise OrderRejected(f"name: an alliance '{order.name}' already exists")
        self._check_terms(order)
        alliance = AllianceState(
            name=order.name,
            founder=order.issuer,
            members=[order.issuer],
            terms=order.terms(),
            formed=w.month,
            fund_year=w.date_of(w.month)[:4],
        )
        invited = self._invite(alliance, order.issuer, list(order.invite))
        self.alliances[order.name] = alliance
        self._log(
            "alliance",
            order.issuer,
            f"{self._name(order.issuer)} forms {order.name}"
            + (f", inviting {', '.join(invited)}" if invited else ""),
        )
        return f"{order.issuer} forms alliance '{order.name}'" + (
            f" and invites {', '.join(invited)}" if invited else ""
        )

    def _alliance_invite(self, order: BaseModel) -> str:
        alliance = self._live(order.name)
        if order.issuer not in alliance.members:
            raise OrderRejected(f"issuer: {order.issuer} is not a member of {order.name}")
        if not order.invite:
            raise OrderRejected("invite: name the states to invite")
        added = self._invite(alliance, order.issuer, list(order.invite))
        if not added:
            raise OrderRejected("invite: every state named is already a member")
        return f"{order.issuer} invites {', '.join(added)} into {order.name}"

    def _alliance_join(self, order: BaseModel) -> str:
        alliance = self._live(order.name)
        region = order.issuer
        if region in alliance.members:
            raise OrderRejected(f"name: {region} is already a member of {order.name}")
        if region not in alliance.invited:
            founder = alliance.founder
            if founder not in alliance.members or not self.is_ai(founder):
                raise OrderRejected(
                    f"name: {region} is not invited into {order.name}; a member must invite it "
                    "(alliance action 'invite')"
                )
            trust = self.trust_in(founder, region)
            need = float(self._seat_params(founder).get("alliance_trust", ALLIANCE_TRUST))
            if region in _adversaries(self.world, founder) or trust < need:
                raise OrderRejected(
                    f"name: {founder} (the founder) declines {region}'s request to join "
                    f"{order.name} (trust {trust:.2f}, needs {need:.2f}, not an adversary)"
                )
        alliance.members.append(region)
        alliance.invited.pop(region, None)
        self._log("alliance", region, f"{self._name(region)} joins {order.name}")
        return f"{region} joins {order.name} (members: {', '.join(alliance.members)})"

    def _alliance_leave(self, order: BaseModel) -> str:
        w = self.world
        alliance = self._live(order.name)
        if order.issuer not in alliance.members:
            raise OrderRejected(f"name: {order.issuer} is not a member of {order.name}")
        alliance.members.remove(order.issuer)
        self._log("alliance", order.issuer, f"{self._name(order.issuer)} leaves {order.name}")
        if not alliance.members:
            alliance.ended = w.month
            return f"{order.issuer} leaves {order.name}; the alliance ends"
        return f"{order.issuer} leaves {order.name} (members: {', '.join(alliance.members)})"

    def members_of(self, name: str) -> list[str]:
        """Members of a live alliance (empty if none)."""
        alliance = self.alliances.get(name)
        return list(alliance.members) if alliance is not None and alliance.live else []

    def alliances_of(self, region: str) -> list[str]:
        """Names of the live alliances ``region`` belongs to."""
        return [a.name for a in self.alliances.values() if a.live and region in a.members]

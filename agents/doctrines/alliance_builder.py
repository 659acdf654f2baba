"""The United States' ``alliance-builder``: de-risk allied supply and coordinate with allies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.base import (
    Doctrine,
    capex_orders,
    floor_orders,
    own_firms,
    programmes,
    stockpile_orders,
    tariff_rate,
)

if TYPE_CHECKING:
    from world.model import World


class AllianceBuilder(Doctrine):
    """Build supply outside the rival with floors, subsidies and stocks, and set the tariff
    the allies coordinate on.

    Behaviour, each turn (nothing already in force is issued again):

    - a **price floor** of ``floor_usd_per_kg`` on ``floor_commodity`` for its producers
      (``floor_firms``, or every home firm that makes it) for ``floor_months``: the July 2025
      DoD-MP deal, 110 USD/kg NdPr for ten years (facts §4f);
    - a **capex subsidy** of ``capex_share`` at ``capex_stages`` (separation and magnets)
      [EST: DoD awards of $35-400 M a project, facts §4f-g];
    - a **stockpile target** of ``stockpile_months`` per product (~60 days, the aim of the US
      "Project Vault" and of JOGMEC, facts §7);
    - a **common external tariff** of ``common_tariff`` on ``tariff_commodities`` from
      ``target`` (25% on magnets: Section 301, facts §4e), bilateral so allies are exempt;
      allies playing ``follower`` copy it.

    - **equity stakes** of ``equity_usd`` (firm id -> USD) in home firms, bought once (the
      DoD's 400 M USD of MP Materials preferred stock, July 2025, facts §4f);
    - an **alliance** named ``alliance_name`` with ``allies`` (:meth:`alliance_orders`): zero
      internal tariffs, the common external tariff, pooled offtake at ``offtake_premium`` and a
      pooled investment fund of ``fund_usd`` a year.
    """

    name = "alliance-builder"
    defaults: ClassVar[dict[str, Any]] = {
        "floor_usd_per_kg": 110.0,
        "floor_commodity": "oxide_light",
        "floor_firms": None,
        "floor_months": 120,
        "capex_share": 0.3,
        "capex_stages": ["separator", "magnet"],
        "stockpile_months": {"magnet": 2.0, "oxide_light": 2.0, "oxide_heavy": 2.0},
        "target": "CN",
        "common_tariff": 0.25,
        "tariff_commodities": ["magnet"],
        "allies": ["JP", "EU", "AU"],
        "alliance_name": "Minerals Security Partnership",
        "offtake_premium": 0.2,
        "fund_usd": 1.0e9,
        "equity_usd": {},
    }

    def equity_orders(self, world: World) -> list[dict]:
        """An ``equity_stake`` order for each firm of ``equity_usd`` the state holds no stake in
        yet (a stake is bought once: its programme stays on the book)."""
        held = {prog.params.get("firm") for prog in programmes(world, self.region, "equity_stake")}
        return [
            self.order("equity_stake", firm=firm, usd=float(usd))
            for firm, usd in self.params["equity_usd"].items()
            if usd > 0 and firm in world.firms_by_id and firm not in held
        ]

    def alliance_orders(self, world: World) -> list[dict]:
        """Found the alliance with ``allies`` once: zero internal tariffs, the common external
        tariff on ``tariff_commodities``, pooled offtake at ``offtake_premium`` and a pooled fund
        of ``fund_usd`` a year paying ``capex_share`` of new separation and magnet plants in
        member regions (the Minerals Security Partnership idea, facts §4f-h) [EST terms]."""
        from world.deals import deals_of

        name = self.params["alliance_name"]
        alliance = deals_of(world).alliances.get(name)
        if alliance is not None and alliance.live:
            return []
        allies = [r for r in self.params["allies"] if r in world.states_by_region]
        return [
            {
                "kind": "alliance",
                "issuer": self.region,
                "action": "form",
                "name": name,
                "invite": allies,
                "internal_tariff": 0.0,
                "common_external_tariff": dict.fromkeys(
                    self.params["tariff_commodities"], self.params["common_tariff"]
                ),
                "pooled_offtake_premium": self.params["offtake_premium"],
                "fund_usd": self.params["fund_usd"],
                "fund_capex_share": self.params["capex_share"],
                "shared_release": True,
                "note": f"{self.name}: found {name}",
            }
        ]

    def decide(self, world: World) -> list[dict]:
        p = self.params
        orders: list[dict] = []
        commodity = p["floor_commodity"]
        if commodity in world.commodity_index and p["floor_usd_per_kg"] > 0:
            firms = own_firms(world, self.region, makes=commodity)
            if p["floor_firms"] is not None:
                firms = [f for f in firms if f.firm_id in p["floor_firms"]]
            orders += floor_orders(
                self, world, firms, commodity, p["floor_usd_per_kg"], p["floor_months"]
            )
        if p["capex_share"] > 0:
            orders += capex_orders(self, world, p["capex_share"], p["capex_stages"])
        orders += stockpile_orders(self, world, p["stockpile_months"])
        target = p["target"]
        if target in world.region_index and target != self.region:
            for c in p["tariff_commodities"]:
                if c not in world.commodity_index:
                    continue
                now = tariff_rate(world, self.region, target, c, discriminatory=True)
                if p["common_tariff"] - now > 1e-6:
                    orders.append(
                        self.order(
                            "import_tariff",
                            commodities=[c],
                            partners=[target],
                            rate=round(p["common_tariff"] - now, 6),
                        )
                    )
        orders += self.alliance_orders(world)
        orders += self.equity_orders(world)
        return orders

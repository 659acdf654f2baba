"""Doctrines: the AI that chooses a state's orders each turn.

A doctrine reads what its state can observe in the world and returns orders (world/orders.py),
the same orders a human seat or a script would give. A new doctrine is one file with one class
registered here by name; its parameters come from the scenario's ``[seats]`` table.

| doctrine | for | in short |
| --- | --- | --- |
| ``passive`` | anyone | only the scenario's script |
| ``value-chain-upgrader`` | China | export duties on concentrate and oxides, support for magnets |
| ``coercive-retaliator`` | China | licensing on Dy/Tb oxide and magnets against tariffs |
| ``market-share-defender`` | China | subsidised output when entrants invest |
| ``dealmaker`` | China | lifts restrictions on states that do not tariff it |
| ``tariff-hawk`` | US | piecemeal bilateral tariffs on magnets and metal |
| ``alliance-builder`` | US | price floor, capex subsidies, stockpile, common tariff |
| ``dealmaker-resilience`` | US | lowers tariffs, funds capex subsidies and a stockpile |
| ``stockpiler`` | US | strategic stock targets, defence first |
| ``follower`` | allies | copies the US's tariffs and bans on China |
| ``hedger`` | allies | keeps buying from China, modest capex subsidy |
| ``japan-diversifier`` | Japan | JOGMEC stockpile, capex subsidies, price floors at home |
"""

from __future__ import annotations

from agents.doctrines.alliance_builder import AllianceBuilder
from agents.doctrines.base import Doctrine, Passive
from agents.doctrines.coercive_retaliator import CoerciveRetaliator
from agents.doctrines.dealmaker import Dealmaker
from agents.doctrines.dealmaker_resilience import DealmakerResilience
from agents.doctrines.follower import Follower
from agents.doctrines.hedger import Hedger
from agents.doctrines.japan_diversifier import JapanDiversifier
from agents.doctrines.market_share_defender import MarketShareDefender
from agents.doctrines.stockpiler import Stockpiler
from agents.doctrines.tariff_hawk import TariffHawk
from agents.doctrines.value_chain_upgrader import ValueChainUpgrader

DOCTRINES: dict[str, type[Doctrine]] = {
    cls.name: cls
    for cls in (
        Passive,
        ValueChainUpgrader,
        CoerciveRetaliator,
        MarketShareDefender,
        Dealmaker,
        TariffHawk,
        AllianceBuilder,
        DealmakerResilience,
        Stockpiler,
        Follower,
        Hedger,
        JapanDiversifier,
    )
}


def make_doctrine(name: str, region: str, params: dict | None = None) -> Doctrine:
    """Build the doctrine ``name`` for the state of ``region``.

    Raises:
        ValueError: if no doctrine has that name (the message lists the known ones), or if
            ``params`` names a parameter the doctrine does not have.
    """
    if name not in DOCTRINES:
        raise ValueError(f"unknown doctrine '{name}'; allowed: {', '.join(sorted(DOCTRINES))}")
    return DOCTRINES[name](region, params or {})


__all__ = [
    "DOCTRINES",
    "AllianceBuilder",
    "CoerciveRetaliator",
    "Dealmaker",
    "DealmakerResilience",
    "Doctrine",
    "Follower",
    "Hedger",
    "JapanDiversifier",
    "MarketShareDefender",
    "Passive",
    "Stockpiler",
    "TariffHawk",
    "ValueChainUpgrader",
    "make_doctrine",
]

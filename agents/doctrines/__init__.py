"""Doctrines: the AI that chooses a state's orders each turn.

A doctrine reads what its state can observe in the world and returns orders (world/orders.py),
the same orders a human seat or a script would give. A new doctrine is one file with one class
registered here by name; its parameters come from the scenario's ``[seats]`` table.
"""

from __future__ import annotations

from agents.doctrines.base import Doctrine, Passive

DOCTRINES: dict[str, type[Doctrine]] = {
    "passive": Passive,
}


def make_doctrine(name: str, region: str, params: dict | None = None) -> Doctrine:
    """Build the doctrine ``name`` for the state of ``region``.

    Raises:
        ValueError: if no doctrine has that name (the message lists the known ones).
    """
    if name not in DOCTRINES:
        raise ValueError(f"unknown doctrine '{name}'; allowed: {', '.join(sorted(DOCTRINES))}")
    return DOCTRINES[name](region, params or {})


__all__ = ["DOCTRINES", "Doctrine", "Passive", "make_doctrine"]

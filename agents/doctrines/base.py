"""The doctrine interface, and the passive doctrine that only follows the scenario's script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from world.model import World


class Doctrine:
    """A state's AI: at each turn boundary it reads the world and returns orders.

    Args:
        region: the state it plays (region id).
        params: the doctrine's parameters from the scenario's ``[seats]`` table.

    Attributes:
        name: the registered name.
    """

    name = "doctrine"

    def __init__(self, region: str, params: dict[str, Any]):
        self.region = region
        self.params = dict(params)

    def decide(self, world: World) -> list[BaseModel | dict]:
        """Orders for this turn (models or dicts); the world validates and applies them."""
        raise NotImplementedError


class Passive(Doctrine):
    """Issues no orders: the state keeps only the policies its scenario scripts."""

    name = "passive"

    def decide(self, world: World) -> list[BaseModel | dict]:
        return []

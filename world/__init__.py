"""The Chokepoint world: the rare-earth supply-chain model and its scenarios.

Public API::

    from world import World, load_scenario
    world = World(load_scenario("baseline-2024"), seed=7)
    world.run(months=24)
    world.results()  # tidy pandas DataFrame
"""

from world.model import World
from world.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario

__all__ = ["Scenario", "ScenarioError", "World", "bundled_scenarios", "load_scenario"]

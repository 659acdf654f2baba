"""``World`` for ``mesa.batch_run``: a thin :class:`mesa.Model` that takes keyword parameters,
stops at its horizon and collects the experiment outcomes in a DataCollector.

``mesa.batch_run`` builds each model as ``model_cls(**parameters, rng=seed)``, steps it while
``model.running`` (up to ``max_steps``) and reads ``model.datacollector``. ``World`` itself
takes a scenario object and ``seed``, runs for ever and has no DataCollector, so::

    import mesa
    from experiments import BatchWorld

    rows = mesa.batch_run(
        BatchWorld,
        parameters={"US": ["tariff-hawk", "alliance-builder"], "months": 24},
        rng=[0, 1, 2],               # seeds: every parameter combination runs each
        max_steps=1000,              # an upper bound: the model stops at its horizon
        data_collection_period=-1,   # the outcomes, collected once at the horizon
        number_processes=1,
        display_progress=False,
    )

Each row has the parameters, ``seed`` and one column per outcome (:data:`DEFAULT_OUTCOMES`, or
``outcomes=[...]`` of :class:`experiments.spec.Outcome`), computed exactly as ``chokepoint
batch`` computes them.
"""

from __future__ import annotations

from typing import Any

import mesa

from experiments.outcomes import compute
from experiments.spec import Outcome
from world import World, load_scenario
from world.scenario import scenario_from_dict

#: Outcomes collected when none are given.
DEFAULT_OUTCOMES = (
    Outcome(name="clean_share", derived="clean_share"),
    Outcome(name="years_to_resilience", derived="years_to_resilience"),
    Outcome(name="us_magnet_price", variable="price", commodity="magnet", region="US"),
    Outcome(name="fiscal_cost_usd_bn", derived="fiscal_cost", scale=1e-9),
)


class BatchWorld(mesa.Model):
    """A :class:`world.World` run to its horizon, for ``mesa.batch_run``.

    Args:
        scenario: a bundled scenario's name or a scenario file's path.
        months: the horizon (default: the scenario's).
        rng: the seed (``mesa.batch_run`` passes it); ``seed`` is the same.
        outcomes: the outcomes to collect at the horizon.
        **doctrines: a doctrine per seat region, e.g. ``US="tariff-hawk"``.
    """

    def __init__(
        self,
        scenario: str = "alliance-vs-tariffs-2025",
        months: int | None = None,
        rng: int | None = None,
        seed: int | None = None,
        outcomes: tuple[Outcome, ...] | list[Outcome] = DEFAULT_OUTCOMES,
        **doctrines: str,
    ):
        seed = int(rng if rng is not None else (seed or 0))
        super().__init__(rng=seed)
        data = load_scenario(scenario).model_dump(mode="json")
        seats = data.setdefault("seats", {})
        for region, doctrine in doctrines.items():
            seats[region] = {**seats.get(region, {}), "doctrine": doctrine, "params": {}}
        self.world = World(scenario_from_dict(data, data["name"]), seed=seed)
        self.seed = seed
        self.months = self.world.spec.months if months is None else months
        self.outcomes = list(outcomes)
        reporters: dict[str, Any] = {"seed": "seed"}
        reporters.update({o.name: self._reporter(o) for o in self.outcomes})
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.running = self.months > 0

    @staticmethod
    def _reporter(outcome: Outcome):
        def report(model: BatchWorld) -> float:
            return compute(model.world, outcome)

        report.__name__ = outcome.name
        return report

    def step(self) -> None:
        """One month; at the horizon the model stops and collects its outcomes."""
        self.world.step()
        if self.world.month >= self.months:
            self.running = False
            self.datacollector.collect(self)

"""Element content: the NdPr and Dy/Tb every tonne carries, and where it goes each month.

The elements are the joint products of separation (``oxide_light``: NdPr, ``oxide_heavy``:
Dy/Tb), counted in tonnes of their oxide. Concentrate carries them by deposit (t REO of each
deposit times its yields); an oxide carries one tonne of its own element; a stage product carries
what its plant put into it. Each agent keeps a content ledger beside each non-concentrate stock, so
a metal made lean in Dy/Tb (thrift, low-Dy grades) stays lean through the magnet, its use and its
scrap: Dy/Tb per magnet is a property of the magnets made, not of the recipe.

Each month the book records, per element and region: content mined, scrap collected from end of
life, consumed by final users, lost in processing (co-products a separator does not recover or
cannot separate yet, a recycler's losses) and exported on each arc. With the stocks it gives the
element balance ``mined + collected + imports = exports + consumed + lost + stock change``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from world import numerics
from world.recorder import copy_sharing_history

if TYPE_CHECKING:
    from world.model import World
    from world.scenario import Scenario


def nominal_content(scenario: Scenario, elements: list[str]) -> dict[str, np.ndarray]:
    """Content per tonne (E,) of each commodity other than concentrate, t oxide per t.

    Oxides carry their own element; a stage's single product carries its recipe's inputs;
    collected scrap carries the product it was. Commodities nobody makes carry nothing.

    Raises:
        ValueError: a stage recovers more of an element than its inputs carry (the message
            names the stage and the element).
    """
    n = len(elements)
    coef = {c: np.eye(n)[i] for i, c in enumerate(elements)}
    stages = scenario.stages
    for _ in range(len(scenario.commodities) + 1):
        for stage in stages.values():
            if stage.joint_outputs_by_deposit or not all(c in coef for c in stage.inputs):
                continue
            carried = sum((q * coef[c] for c, q in stage.inputs.items()), np.zeros(n))
            products = [c for c in stage.outputs if c not in elements]
            for c in products:
                y = stage.outputs[c]
                if y > 0:
                    coef[c] = carried / y / len(products)
        rec = scenario.recycling
        if rec is not None and rec.product in coef:
            coef[rec.scrap] = coef[rec.product]
    for name, stage in stages.items():
        if stage.joint_outputs_by_deposit or not all(c in coef for c in stage.inputs):
            continue
        carried = sum((q * coef[c] for c, q in stage.inputs.items()), np.zeros(n))
        for i, c in enumerate(elements):
            if stage.outputs.get(c, 0.0) > carried[i] + 1e-12:
                raise ValueError(
                    f"stages.{name}.outputs.{c}: {stage.outputs[c]} t per t is more than the "
                    f"{carried[i]:.4g} t its inputs carry; allowed: at most that"
                )
    return {c: v for c, v in coef.items() if c in scenario.commodities}


class ContentBook:
    """Element content of the world's stocks and flows, month by month (t of oxide)."""

    def __init__(self, world: World):
        self.world = world
        self.elements = list(world.joint_products)
        try:
            self.coef = nominal_content(world.spec, self.elements)
        except ValueError as exc:
            from world.scenario import ScenarioError

            raise ScenarioError("scenario", [str(exc)]) from None
        n_e, n_r = len(self.elements), len(world.region_ids)
        self.zero = np.zeros(n_e)
        self.mined = np.zeros((n_e, n_r))
        self.collected = np.zeros((n_e, n_r))
        self.consumed = np.zeros((n_e, n_r))
        self.lost = np.zeros((n_e, n_r))
        self.exports = np.zeros((n_e, n_r, n_r))
        self.rows: dict[str, list[np.ndarray]] = {
            k: [] for k in ("mined", "collected", "consumed", "lost", "exports", "stock")
        }
        self.initial_stock: np.ndarray | None = None

    def nominal(self, commodity: str, tonnes: float) -> np.ndarray:
        """Content (E,) of ``tonnes`` of a commodity at its recipe grade."""
        return self.coef.get(commodity, self.zero) * tonnes

    def of_concentrate(self, vec: np.ndarray) -> np.ndarray:
        """Content (E,) of a concentrate deposit vector (t REO of each deposit)."""
        return numerics.matmul(vec, self.world.yield_matrix)

    def reset(self) -> None:
        """Start a month's flows at zero."""
        for buffer in (self.mined, self.collected, self.consumed, self.lost, self.exports):
            buffer[:] = 0.0

    def stocks(self) -> np.ndarray:
        """Content (E, R) held by firms, end users and states now."""
        w = self.world
        # Summed per region in plain lists (the same additions in the same order as on the
        # array's columns, without numpy's cost on each two-element add), then made an array.
        by_region = [[0.0] * len(self.elements) for _ in w.region_ids]

        def add(r: int, v: np.ndarray) -> None:
            column = by_region[r]
            for e, x in enumerate(v.tolist()):
                column[e] += x

        for firm in w.firms:
            stock = firm.inventory.get(w.graded)
            if stock is not None:
                add(firm.r, self.of_concentrate(stock))
            for v in firm.content.values():
                add(firm.r, v)
        for user in w.end_users:
            add(user.r, user.content + user.scrap_content)
        for state in w.states:
            stock = state.stockpile.get(w.graded)
            if stock is not None:
                add(state.r, self.of_concentrate(stock))
            for v in state.content.values():
                add(state.r, v)
        return np.array(by_region, dtype=float).T.copy()

    def __deepcopy__(self, memo: dict) -> ContentBook:
        return copy_sharing_history(self, memo, ("rows",))

    def record(self) -> None:
        """Store this month's flows and the stocks at its end."""
        if self.initial_stock is None:
            raise RuntimeError("ContentBook.record before the world's initial stocks were set")
        for name in ("mined", "collected", "consumed", "lost", "exports"):
            self.rows[name].append(getattr(self, name).copy())
        self.rows["stock"].append(self.stocks())

    def array(self, name: str) -> np.ndarray:
        """All months of one record, stacked: (months, E, R) or (months, E, R, R) for exports."""
        return np.stack(self.rows[name])

    def residual(self) -> np.ndarray:
        """Element balance residual (months, E, R), t: in less out less stock change."""
        stock = self.array("stock")
        previous = np.concatenate([self.initial_stock[None], stock[:-1]])
        exports = self.array("exports")
        imports, shipped = exports.sum(axis=2), exports.sum(axis=3)
        inflow = self.array("mined") + self.array("collected") + imports
        outflow = shipped + self.array("consumed") + self.array("lost")
        return inflow - outflow - (stock - previous)

"""Recording the world month by month, and the tidy results table.

Mesa's DataCollector stores Python objects per step; the world's state is a handful of small
numpy arrays, so the recorder copies those arrays each month (a few microseconds) and builds the
long, tidy table only when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from agents.firms import stock_total
from world.copying import copy_state

if TYPE_CHECKING:
    from world.model import World

#: variable -> (keys, unit); keys name what the array's axes are.
VARIABLES: dict[str, tuple[str, str]] = {
    "price": ("commodity,region", "USD/kg"),
    "price_spot": ("commodity,region", "USD/kg"),
    "production": ("commodity,region", "t/month"),
    "exports": ("commodity,region,partner", "t/month"),
    "demand": ("commodity,region", "t/month"),
    "consumption": ("commodity,region", "t/month"),
    "consumption_tracked": ("commodity,region", "t/month"),
    "shortage": ("commodity,region", "t/month"),
    "use": ("commodity,region", "t/month"),
    "stock_commercial": ("commodity,region", "t"),
    "stock_strategic": ("commodity,region", "t"),
    "cover_months": ("commodity,region", "months"),
    "capacity": ("commodity,region", "t/yr"),
    "capacity_idle": ("commodity,region", "t/yr"),
    "capacity_pipeline": ("commodity,region", "t/yr"),
    "fill_rate": ("region,partner", "share"),
    "fiscal_cost": ("region", "USD/month"),
}


def copy_sharing_history(obj: Any, memo: dict, history: tuple[str, ...]) -> Any:
    """A deep copy of ``obj`` (for its ``__deepcopy__``) whose ``history`` attributes are new
    lists (or dicts of new lists) of the same entries (:func:`world.copying.copy_state`).

    A history's entries are written once, when a month is recorded, and only read after; a copy
    of the world (:meth:`World.fork`) appends its own months to its own lists, so it can share
    the months before. Copying every month's arrays and dicts was most of a fork's cost.
    """
    return copy_state(obj, memo, write_once=history)


class Recorder:
    """Keeps one array per variable per month."""

    def __init__(self, world: World):
        self.world = world
        self.rows: dict[str, list[np.ndarray]] = {v: [] for v in VARIABLES}

    def __deepcopy__(self, memo: dict) -> Recorder:
        return copy_sharing_history(self, memo, ("rows",))

    def snapshot(self) -> dict[str, np.ndarray]:
        """The world's observable state now, one array per variable."""
        w = self.world
        n_c, n_r = len(w.commodity_ids), len(w.region_ids)
        index = w.commodity_index
        # Summed in plain nested lists (the same additions in the same order as on arrays,
        # without numpy's cost per element), then made arrays.
        commercial, strategic, capacity, idle, pipeline = (
            [[0.0] * n_r for _ in range(n_c)] for _ in range(5)
        )
        for firm in w.firms:
            r = firm.r
            for c, stock in firm.inventory.items():
                commercial[index[c]][r] += stock_total(stock)
            building = firm.pipeline_tpy()
            for c, y in firm.nominal_yields().items():
                ci = index[c]
                capacity[ci][r] += firm.capacity_tpy * y
                idle[ci][r] += firm.idle_tpy * y
                pipeline[ci][r] += building * y
        tracked = [[0.0] * n_r for _ in range(n_c)]
        fill_want = [[0.0] * len(w.sector_ids) for _ in range(n_r)]
        fill_got = [[0.0] * len(w.sector_ids) for _ in range(n_r)]
        magnet = index.get("magnet")
        for user in w.end_users:
            commercial[user.c][user.r] += user.inventory
            if user.scrap_t > 0:
                commercial[index[w.spec.recycling.scrap]][user.r] += user.scrap_t
            tracked[user.c][user.r] += user.consumed_tracked
            if user.c == magnet:
                fill_want[user.r][user.s] += user.wanted
                fill_got[user.r][user.s] += user.consumed
        for state in w.states:
            for c, stock in state.stockpile.items():
                strategic[index[c]][state.r] += stock_total(stock)
        commercial, strategic, capacity, idle, pipeline, tracked, fill_want, fill_got = (
            np.array(rows, dtype=float)
            for rows in (
                commercial,
                strategic,
                capacity,
                idle,
                pipeline,
                tracked,
                fill_want,
                fill_got,
            )
        )
        wanted, got = w.final_wanted, w.final_consumed
        fill = np.divide(
            fill_got, fill_want, out=np.full_like(fill_want, np.nan), where=fill_want > 1e-12
        )
        exports = w.flows.copy()
        for ci in range(n_c):
            np.fill_diagonal(exports[ci], 0.0)
        use_rate = w.use_ema
        cover = np.divide(
            commercial + strategic,
            use_rate,
            out=np.full_like(commercial, np.nan),
            where=use_rate > 1e-9,
        )
        fiscal = np.zeros(n_r)
        for state in w.states:
            fiscal[state.r] = state.fiscal_month_usd
        return {
            "fiscal_cost": fiscal,
            "price": w.prices.copy(),
            "price_spot": w.spot_prices.copy(),
            "production": w.production_buffer.copy(),
            "exports": exports,
            "demand": wanted.copy(),
            "consumption": got.copy(),
            "consumption_tracked": tracked,
            "shortage": np.maximum(wanted - got, 0.0),
            "use": w.use_buffer.copy(),
            "stock_commercial": commercial,
            "stock_strategic": strategic,
            "cover_months": cover,
            "capacity": capacity,
            "capacity_idle": idle,
            "capacity_pipeline": pipeline,
            "fill_rate": fill,
        }

    def record(self) -> None:
        """Store this month's snapshot."""
        for name, array in self.snapshot().items():
            self.rows[name].append(array)

    def array(self, variable: str) -> np.ndarray:
        """All months of one variable, stacked: shape (months, ...)."""
        return np.stack(self.rows[variable]) if self.rows[variable] else np.empty((0,))

    def frame(self) -> pd.DataFrame:
        """The tidy table: month, date, variable, commodity, region, partner, value."""
        w = self.world
        months = len(self.rows["price"])
        if months == 0:
            return pd.DataFrame(
                columns=["month", "date", "variable", "commodity", "region", "partner", "value"]
            )
        dates = np.array([w.date_of(m) for m in range(months)])
        labels = {
            "commodity": np.array(w.commodity_ids, dtype=object),
            "region": np.array(w.region_ids, dtype=object),
            "partner": np.array(w.region_ids, dtype=object),
            "sector": np.array(w.sector_ids, dtype=object),
        }
        parts = []
        for name, (keys, _unit) in VARIABLES.items():
            data = self.array(name)
            axes = keys.split(",")
            axis_labels = [
                labels["sector"] if (ax == "partner" and name == "fill_rate") else labels[ax]
                for ax in axes
            ]
            grids = np.meshgrid(
                np.arange(months), *[np.arange(len(a)) for a in axis_labels], indexing="ij"
            )
            flat = {"month": grids[0].ravel()}
            for ax, labs, grid in zip(axes, axis_labels, grids[1:], strict=True):
                flat[ax] = labs[grid.ravel()]
            values = data.ravel()
            keep = np.ones(values.shape, dtype=bool)
            if name == "exports":
                keep = flat["region"] != flat["partner"]
            elif name == "fill_rate":
                keep = ~np.isnan(values)
            frame = pd.DataFrame({k: v[keep] for k, v in flat.items()})
            frame["value"] = values[keep]
            frame["variable"] = name
            parts.append(frame)
        out = pd.concat(parts, ignore_index=True)
        for col in ("commodity", "region", "partner"):
            if col not in out:
                out[col] = ""
            out[col] = out[col].fillna("").astype(str)
        out["month"] = out["month"].astype(int)
        out["date"] = dates[out["month"].to_numpy()]
        out["value"] = out["value"].astype(float)
        return out[["month", "date", "variable", "commodity", "region", "partner", "value"]]

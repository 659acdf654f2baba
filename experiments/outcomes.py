"""Outcomes of one run, computed from the world's recorded arrays (no tidy table needed).

- a **variable** outcome selects a recorded variable by commodity, region and partner (empty:
  all), combines the selected keys each month (sum or mean), and reduces the months of a window
  (mean, min, max, last, sum);
- a **derived** outcome is one of ``years_to_resilience``, ``clean_share``, ``peak_price``,
  ``cumulative_shortage``, ``fiscal_cost``, ``deal_months`` (months of the window in which a
  deal binding every one of the outcome's regions held);
- a **function** outcome is ``module:function`` called with ``(world, outcome)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import numpy as np

from experiments.spec import Outcome, Series

if TYPE_CHECKING:
    from world import World

BLOC = ("US", "JP", "EU", "AU")


def years_to_resilience(
    demand: np.ndarray, clean: np.ndarray, threshold: float = 0.8, streak_months: int = 12
) -> float:
    """Years until the bloc's magnet demand is met at least ``threshold`` by non-Chinese magnets
    for ``streak_months`` consecutive months (counted when the last month ends); NaN if never.

    Args:
        demand: bloc magnet demand per month, t.
        clean: bloc magnet consumption without Chinese material per month, t.
    """
    share = np.divide(clean, demand, out=np.zeros_like(clean, dtype=float), where=demand > 0)
    streak = 0
    for month, value in enumerate(share):
        streak = streak + 1 if value >= threshold else 0
        if streak >= streak_months:
            return (month + 1) / 12.0
    return float("nan")


def _listed(value: str | list[str]) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return list(value)


def select(world: World, item: Outcome | Series) -> np.ndarray:
    """The monthly series an outcome or series names: shape (months,)."""
    from world.recorder import VARIABLES

    keys = VARIABLES[item.variable][0].split(",")
    data = world.recorder.array(item.variable)
    if data.size == 0:
        return np.zeros(0)
    for axis, key in enumerate(keys, start=1):
        if key == "partner" and item.variable == "fill_rate":
            index = world.sector_index
        else:
            index = world.commodity_index if key == "commodity" else world.region_index
        wanted = _listed(getattr(item, key))
        if wanted:
            missing = [w for w in wanted if w not in index]
            if missing:
                raise KeyError(f"{key} {missing[0]!r} is not in the world")
            data = np.take(data, [index[w] for w in wanted], axis=axis)
    flat = data.reshape(data.shape[0], -1)
    if item.across == "mean":
        with np.errstate(invalid="ignore"):
            return np.nanmean(flat, axis=1) if flat.shape[1] else np.zeros(len(flat))
    return np.nansum(flat, axis=1)


def _window(series: np.ndarray, window: tuple[int, int] | None) -> np.ndarray:
    return series if window is None else series[window[0] : window[1]]


def _reduce(series: np.ndarray, stat: str) -> float:
    if series.size == 0:
        return float("nan")
    if stat == "last":
        return float(series[-1])
    return float(
        {"mean": np.nanmean, "min": np.nanmin, "max": np.nanmax, "sum": np.nansum}[stat](series)
    )


def _bloc(world: World, out: Outcome) -> list[int]:
    regions = _listed(out.region) or list(BLOC)
    return [world.region_index[r] for r in regions if r in world.region_index]


def derived(world: World, out: Outcome) -> float:
    """A derived outcome."""
    rec = world.recorder
    commodity = (_listed(out.commodity) or ["magnet"])[0]
    ci = world.commodity_index[commodity]
    if out.derived in ("years_to_resilience", "clean_share"):
        bloc = _bloc(world, out)
        demand = rec.array("demand")[:, ci, bloc].sum(axis=1)
        consumed = rec.array("consumption")[:, ci, bloc].sum(axis=1)
        tracked = rec.array("consumption_tracked")[:, ci, bloc].sum(axis=1)
        clean = consumed - tracked
        if out.derived == "years_to_resilience":
            years = years_to_resilience(demand, clean, out.threshold, out.streak_months)
            return out.never if np.isnan(years) and out.never is not None else years
        window = out.window or (max(0, len(demand) - 12), len(demand))
        total = _window(demand, window).sum()
        return float(_window(clean, window).sum() / total) if total > 0 else float("nan")
    if out.derived == "peak_price":
        regions = [world.region_index[r] for r in _listed(out.region) or ["US"]]
        price = rec.array("price")[:, ci, regions].max(axis=1)
        return float(np.max(_window(price, out.window)) * out.scale)
    if out.derived == "cumulative_shortage":
        regions = [world.region_index[r] for r in _listed(out.region)] or list(
            range(len(world.region_ids))
        )
        shortage = rec.array("shortage")[:, ci, regions].sum(axis=1)
        return float(_window(shortage, out.window).sum() * out.scale)
    if out.derived == "fiscal_cost":
        regions = [world.region_index[r] for r in _listed(out.region) or ["US"]]
        fiscal = rec.array("fiscal_cost")[:, regions].sum(axis=1)
        return float(_window(fiscal, out.window).sum() * out.scale)
    if out.derived == "deal_months":
        return float(_window(deal_held(world, _listed(out.region)), out.window).sum())
    raise ValueError(f"unknown derived outcome {out.derived!r}")


def deal_held(world: World, regions: list[str]) -> np.ndarray:
    """Per month run, 1.0 where a deal whose parties include every one of ``regions`` held
    (agreed, to its end: its term or the month it was breached), else 0.0."""
    from world.deals import deals_of

    months = len(world.recorder.array("fiscal_cost"))
    held = np.zeros(months)
    for deal in deals_of(world).deals.values():
        if deal.start is None or not set(regions) <= set(deal.parties):
            continue
        end = months if deal.end is None else min(deal.end, months)
        held[max(deal.start, 0) : end] = 1.0
    return held


def compute(world: World, out: Outcome) -> float:
    """The value of one outcome for a finished world."""
    if out.function is not None:
        module, name = out.function.split(":", 1)
        return float(getattr(importlib.import_module(module), name)(world, out))
    if out.derived is not None:
        return derived(world, out)
    series = select(world, out)
    return _reduce(_window(series, out.window), out.stat) * out.scale


def series_name(item: Series) -> str:
    if item.name:
        return item.name
    keys = [item.variable, *(_listed(item.commodity)), *(_listed(item.region))]
    return ":".join(keys + _listed(item.partner))

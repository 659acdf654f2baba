"""Model versus history: run a scenario and compare it with its observed series.

Each of a scenario's ``references.series`` (world/observed.py) names a variable, a commodity and
a region (or the aggregates ``exCN`` and ``world``). :func:`model_series` reads the model's
monthly value of that series from the tidy results table (``World.results()``, so a saved
``results.parquet`` works as well); :func:`compare` puts it beside every observed point and
check; :func:`run_history` does both for a scenario and a seed.

Every model series is kept as a monthly numerator and denominator, so that a value over several
months is a ratio of sums: a share or a quota's use over a year is the year's tonnes over the
year's tonnes, a price or a flow over a year is its monthly mean.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from world.calendar import add_months, months_between, parse_month
from world.model import World
from world.observed import EX_CHINA, WORLD, ObservedSeries
from world.scenario import Scenario, load_scenario

#: Columns of the comparison table.
COLUMNS = [
    "scenario",
    "series",
    "label",
    "check",
    "date",
    "months",
    "unit",
    "observed",
    "model",
    "low",
    "high",
    "ok",
]


def year_of(date: str) -> float:
    """A ``YYYY-MM`` month as a decimal year (2011-07 -> 2011.5), for numeric date columns."""
    year, month = parse_month(date)
    return year + (month - 1) / 12


def _table(frame: pd.DataFrame, variable: str, commodity: str, months: int) -> pd.DataFrame:
    """One variable of one commodity: index month 0..months-1, columns region (0 if missing)."""
    rows = frame[(frame["variable"] == variable) & (frame["commodity"] == commodity)]
    out = rows.pivot_table(index="month", columns="region", values="value", aggfunc="sum")
    return out.reindex(index=range(months)).fillna(0.0)


def _regions(series: ObservedSeries, regions: list[str]) -> list[str]:
    if series.region == EX_CHINA:
        return [r for r in regions if r != "CN"]
    if series.region == WORLD:
        return list(regions)
    return [series.region]


def _price(frame: pd.DataFrame, spec: Scenario, series: ObservedSeries, months: int):
    prices = _table(frame, "price", series.commodity, months)
    if series.region not in (EX_CHINA, WORLD):
        return prices.get(series.region, pd.Series(np.nan, index=prices.index)), 1.0
    # The mean over the regions where someone buys the commodity (final use or as an input):
    # a region without buyers has a price no one pays.
    wanted = (
        _table(frame, "demand", series.commodity, months)
        .add(_table(frame, "use", series.commodity, months), fill_value=0.0)
        .max(axis=0)
    )
    candidates = _regions(series, list(spec.regions))
    buyers = [r for r in candidates if wanted.get(r, 0.0) > 1e-9] or candidates
    present = [r for r in buyers if r in prices.columns]
    return prices[present].sum(axis=1), float(len(present)) if present else math.nan


def _exports(
    frame: pd.DataFrame, spec: Scenario, series: ObservedSeries, commodities: list, months: int
) -> pd.Series:
    """Tonnes a month from the series' regions to its partner (all others if none)."""
    rows = frame[(frame["variable"] == "exports") & frame["commodity"].isin(commodities)]
    rows = rows[rows["region"].isin(_regions(series, list(spec.regions)))]
    if series.partner:
        rows = rows[rows["partner"] == series.partner]
    return rows.groupby("month")["value"].sum().reindex(range(months)).fillna(0.0)


def _quota_allowance(
    spec: Scenario, series: ObservedSeries, months: int
) -> tuple[list, np.ndarray]:
    """The commodities under the region's scripted export quotas and their allowance, t/month."""
    allowance = np.zeros(months)
    covered: set[str] = set()
    for policy in spec.policies:
        if policy.kind != "export_quota" or policy.issuer != series.region:
            continue
        if series.commodity and series.commodity not in policy.commodities:
            continue
        covered.update(policy.commodities)
        first = max(months_between(spec.start, policy.start), 0)
        last = months if policy.end is None else min(months_between(spec.start, policy.end), months)
        if first < last:
            allowance[first:last] += (policy.quota_t or 0.0) * policy.scale / policy.period_months
    commodities = [series.commodity] if series.commodity else sorted(covered)
    return commodities, allowance


def model_series(frame: pd.DataFrame, spec: Scenario, series: ObservedSeries) -> pd.DataFrame:
    """The model's monthly series for an observed one, in the series' unit.

    Args:
        frame: the tidy results table of a run of ``spec`` (``World.results()``).
        spec: the scenario that was run (its regions and, for quota_use, its quotas).
        series: the observed series.

    Returns:
        One row per month run: ``month``, ``date``, ``numerator``, ``denominator`` and
        ``value`` (= numerator / denominator x the unit's scale; NaN where undefined).
    """
    months = int(frame["month"].max()) + 1 if len(frame) else 0
    index = pd.RangeIndex(months)
    if series.variable == "price":
        num, den = _price(frame, spec, series, months)
    elif series.variable in ("production", "share"):
        production = _table(frame, "production", series.commodity, months)
        chosen = [r for r in _regions(series, list(spec.regions)) if r in production.columns]
        num = production[chosen].sum(axis=1)
        den = production.sum(axis=1) if series.variable == "share" else 1.0
    elif series.variable == "exports":
        num, den = _exports(frame, spec, series, [series.commodity], months), 1.0
    else:  # quota_use
        commodities, allowance = _quota_allowance(spec, series, months)
        num = _exports(frame, spec, series, commodities, months)
        den = pd.Series(allowance, index=index)
    num = pd.Series(num, index=index, dtype=float)
    den = pd.Series(den, index=index, dtype=float)
    out = pd.DataFrame(
        {
            "month": index,
            "date": [add_months(spec.start, m) for m in index],
            "numerator": num.to_numpy(),
            "denominator": den.to_numpy(),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(out["denominator"] > 0, out["numerator"] / out["denominator"], np.nan)
    out["value"] = value * series.scale
    return out


def window_value(model: pd.DataFrame, series: ObservedSeries, first: int, count: int) -> float:
    """The model's value over ``count`` months from month ``first`` (a ratio of sums); NaN if
    any of those months was not run or the denominator is zero."""
    if first < 0 or first + count > len(model):
        return math.nan
    part = model.iloc[first : first + count]
    den = float(part["denominator"].sum())
    return float(part["numerator"].sum()) / den * series.scale if den > 0 else math.nan


def _row(spec: Scenario, series: ObservedSeries, check: str, **values) -> dict:
    return {
        "scenario": spec.name,
        "series": series.id,
        "label": series.title(),
        "check": check,
        "unit": series.unit,
        **values,
    }


def _within(value: float, low: float, high: float) -> bool:
    return math.isfinite(value) and low <= value <= high


def _peak_rows(spec: Scenario, series: ObservedSeries, model: pd.DataFrame) -> list[dict]:
    """The peak check: its multiple of the base period and its date."""
    peak = series.peak
    assert peak is not None
    values = model["value"].to_numpy(dtype=float)
    rows = []
    at = int(np.nanargmax(values)) if np.isfinite(values).any() else None
    observed = max(series.points, key=lambda p: p.value)
    if peak.base is not None:
        first = months_between(spec.start, peak.base[0])
        count = months_between(peak.base[0], peak.base[1]) + 1
        base = window_value(model, series, first, count)
        multiple = values[at] / base if at is not None and base > 0 else math.nan
        in_base = [
            p.value
            for p in series.points
            if peak.base[0] <= p.date <= peak.base[1]
            and add_months(p.date, p.months - 1) <= peak.base[1]
        ]
        seen = observed.value / float(np.mean(in_base)) if in_base else math.nan
        low = -math.inf if peak.min_multiple is None else peak.min_multiple
        high = math.inf if peak.max_multiple is None else peak.max_multiple
        rows.append(
            _row(
                spec,
                series,
                "peak multiple",
                date=peak.base[0],
                months=count,
                observed=seen,
                model=multiple,
                low=low,
                high=high,
                ok=_within(multiple, low, high),
            )
            | {"unit": "x base"}
        )
    when = year_of(add_months(spec.start, at)) if at is not None else math.nan
    low, high = year_of(peak.window[0]), year_of(peak.window[1])
    rows.append(
        _row(
            spec,
            series,
            "peak date",
            date=peak.window[0],
            months=months_between(peak.window[0], peak.window[1]) + 1,
            observed=year_of(observed.date),
            model=when,
            low=low,
            high=high,
            ok=_within(when, low, high),
        )
        | {"unit": "year"}
    )
    return rows


def compare(frame: pd.DataFrame, spec: Scenario) -> pd.DataFrame:
    """Every observed point and check of ``spec`` beside the model's value in ``frame``.

    Returns:
        The comparison table (:data:`COLUMNS`), one row per point and per peak check. ``low``
        and ``high`` are the band (infinite where open); ``ok`` is True or False, or NA for a
        series shown for context only. Peak dates are decimal years (unit ``year``).
    """
    rows = []
    for series in spec.references.series:
        model = model_series(frame, spec, series)
        for point in series.points:
            value = window_value(
                model, series, months_between(spec.start, point.date), point.months
            )
            band = series.band(point) if series.scored else None
            low, high = band if band is not None else (math.nan, math.nan)
            rows.append(
                _row(
                    spec,
                    series,
                    "point",
                    date=point.date,
                    months=point.months,
                    observed=point.value,
                    model=value,
                    low=low,
                    high=high,
                    ok=pd.NA if band is None else _within(value, low, high),
                )
            )
        if series.peak is not None:
            rows.extend(_peak_rows(spec, series, model))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["ok"] = table["ok"].astype("boolean")
    return table


def run_history(
    scenario: Scenario | str, seed: int = 0
) -> tuple[Scenario, pd.DataFrame, pd.DataFrame]:
    """Run a scenario over its horizon and compare it with its observed series.

    Returns:
        (the scenario, the run's tidy results, the comparison table of :func:`compare`).

    Raises:
        ScenarioError: if the scenario cannot be loaded.
    """
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    frame = World(spec, seed=seed).run().results()
    return spec, frame, compare(frame, spec)


def failed_series(table: pd.DataFrame) -> list[str]:
    """Ids of the series with a row outside its band, in table order."""
    bad = table[table["ok"].eq(False).fillna(False)]
    return list(
        dict.fromkeys(f"{s}/{i}" for s, i in zip(bad["scenario"], bad["series"], strict=True))
    )

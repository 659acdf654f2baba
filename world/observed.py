"""Observed series: the historical record a scenario carries, with sources and tolerance bands.

A historical scenario lists, under ``[[references.series]]``, what was observed (a price path,
a producer's output, China's share of a stage, the use of an export quota), where it comes
from, and how far the model may stray from it. ``chokepoint history`` (world/history.py) runs
the scenario and compares; the dashboard and docs/make_figures.py draw the observed points over
the model's lines. This module holds only the schema and its checks against the scenario.

Two kinds of check:

- per point: each observed point (a month, or the mean of ``months`` months from ``date``) is
  compared with the model's value over the same months; the band is the point's own
  ``low``/``high`` where given, else the series' ``tolerance`` around the observed value;
- ``peak``: the model's highest monthly value must come ``min_multiple`` .. ``max_multiple``
  times its mean over the ``base`` months, within the ``window`` of dates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from world.calendar import months_between
from world.field_errors import Strict

#: Variables a series may observe, and for each the units it may be written in: the factor
#: from the model's unit (first listed) to that unit.
VARIABLE_UNITS: dict[str, dict[str, float]] = {
    "price": {"USD/kg": 1.0},
    "production": {"t/month": 1.0, "t/yr": 12.0},
    "exports": {"t/month": 1.0, "t/yr": 12.0},
    "share": {"share": 1.0, "%": 100.0},
    "quota_use": {"share": 1.0, "%": 100.0},
}
VARIABLE_DOCS = {
    "price": "the price buyers pay in the region; exCN/world: the mean over the regions "
    "(other than China, for exCN) with buyers of the commodity",
    "production": "output of the commodity in the region; exCN/world: summed",
    "exports": "exports of the commodity from the region (to partner, or to all others)",
    "share": "the region's share of world production of the commodity (exCN: all but China)",
    "quota_use": "the region's exports under its scripted export quotas over the quotas' "
    "allowance for the same months (commodity: one of them, or all when left out)",
}
EX_CHINA = "exCN"
WORLD = "world"
AGGREGATES = (EX_CHINA, WORLD)


Finite = Field(allow_inf_nan=False)


class ObservedPoint(Strict):
    """One observation: a month's value, or the mean over ``months`` months from ``date``."""

    date: str = Field(description="YYYY-MM: the month observed, or the first of the months")
    months: int = Field(
        1, ge=1, le=120, description="months the observation covers (a yearly figure: 12)"
    )
    value: float = Field(allow_inf_nan=False, description="observed value, in the series' unit")
    low: float | None = Field(
        None, allow_inf_nan=False, description="lowest model value accepted (overrides tolerance)"
    )
    high: float | None = Field(
        None, allow_inf_nan=False, description="highest model value accepted (overrides tolerance)"
    )
    label: str = ""
    source: str = ""

    def centre(self, start: str) -> float:
        """Where the point sits on a month axis from ``start``: the middle of its months."""
        return months_between(start, self.date) + (self.months - 1) / 2

    @model_validator(mode="after")
    def _ordered(self) -> ObservedPoint:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self


class Tolerance(Strict):
    """How far the model may be from each observed point: exactly one of the three."""

    relative: float | None = Field(
        None, gt=0, description="|model / observed - 1| at most this (0.25 = within 25%)"
    )
    absolute: float | None = Field(
        None, gt=0, description="|model - observed| at most this, in the series' unit"
    )
    factor: float | None = Field(
        None, gt=1, description="observed / factor .. observed x factor (a log-ratio band)"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Tolerance:
        given = [k for k in ("relative", "absolute", "factor") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of relative, absolute, factor"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    def band(self, observed: float) -> tuple[float, float]:
        """The (low, high) band around an observed value."""
        if self.relative is not None:
            spread = abs(observed) * self.relative
            return observed - spread, observed + spread
        if self.absolute is not None:
            return observed - self.absolute, observed + self.absolute
        assert self.factor is not None
        low, high = observed / self.factor, observed * self.factor
        return min(low, high), max(low, high)


class PeakCheck(Strict):
    """A spike: how high the model's peak must rise over a base period, and when it comes."""

    window: list[str] = Field(
        min_length=2, max_length=2, description="[first, last] YYYY-MM the peak must fall in"
    )
    base: list[str] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="[first, last] YYYY-MM: the level the peak is a multiple of",
    )
    min_multiple: float | None = Field(None, gt=0, description="peak / base mean at least this")
    max_multiple: float | None = Field(None, gt=0, description="peak / base mean at most this")
    source: str = ""

    @model_validator(mode="after")
    def _multiple_needs_base(self) -> PeakCheck:
        multiple = self.min_multiple is not None or self.max_multiple is not None
        if multiple and self.base is None:
            raise ValueError("min_multiple / max_multiple need base = [first, last] months")
        if self.base is not None and not multiple:
            raise ValueError("base is given but neither min_multiple nor max_multiple")
        low, high = self.min_multiple, self.max_multiple
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_multiple ({low:g}) must not exceed max_multiple ({high:g})")
        return self


class ObservedSeries(Strict):
    """An observed historical series, its source, and how the model is judged against it."""

    id: str
    label: str = Field("", description="what the series is, for tables and legends")
    variable: Literal["price", "production", "exports", "share", "quota_use"]
    commodity: str = Field("", description="the commodity observed (quota_use: may be empty)")
    region: str = Field(description="a region id, or exCN (all but China) or world")
    partner: str = Field("", description="exports only: the destination; empty means all")
    unit: str = Field(description="the unit of the values (see VARIABLE_UNITS)")
    source: str = Field(min_length=1, description="where the figures come from")
    points: list[ObservedPoint] = Field(min_length=1)
    tolerance: Tolerance | None = Field(None, description="the band around every point")
    peak: PeakCheck | None = Field(None, description="a check of the spike's height and date")
    scored: bool = Field(
        True,
        validate_default=True,
        description="false: shown beside the model for context, never judged (no band)",
    )

    # Field validators (not one model validator) so that each problem is reported at its field;
    # each sees the fields declared before it in ``info.data``.
    @field_validator("commodity")
    @classmethod
    def _commodity_needed(cls, value: str, info: ValidationInfo) -> str:
        variable = info.data.get("variable")
        if not value and variable not in (None, "quota_use"):
            raise ValueError(f"required for variable '{variable}'")
        return value

    @field_validator("region")
    @classmethod
    def _region_fits(cls, value: str, info: ValidationInfo) -> str:
        variable = info.data.get("variable")
        if value == WORLD and variable in ("share", "quota_use"):
            raise ValueError(f"'{WORLD}' has no {variable}; name a region or {EX_CHINA}")
        if value == EX_CHINA and variable == "quota_use":
            raise ValueError("quota_use is the quota of one region; name it")
        return value

    @field_validator("partner")
    @classmethod
    def _partner_for_exports(cls, value: str, info: ValidationInfo) -> str:
        if value and info.data.get("variable") not in (None, "exports"):
            raise ValueError("only exports have a partner; leave it out")
        return value

    @field_validator("unit")
    @classmethod
    def _unit_of_variable(cls, value: str, info: ValidationInfo) -> str:
        units = VARIABLE_UNITS.get(info.data.get("variable", ""))
        if units is not None and value not in units:
            variable = info.data["variable"]
            raise ValueError(f"unknown unit '{value}' for {variable}; allowed: {', '.join(units)}")
        return value

    @field_validator("scored")
    @classmethod
    def _judged_somehow(cls, value: bool, info: ValidationInfo) -> bool:
        points = info.data.get("points") or []
        banded = info.data.get("tolerance") is not None or any(
            p.low is not None or p.high is not None for p in points
        )
        checked = banded or info.data.get("peak") is not None
        if "points" not in info.data or "tolerance" not in info.data or "peak" not in info.data:
            return value  # an earlier field failed: it speaks for itself
        if value and not checked:
            raise ValueError(
                "the series is never compared: give a tolerance, a point's low/high or a "
                "peak check (or scored = false to show it for context only)"
            )
        if not value and checked:
            raise ValueError("a series shown for context only (false) has no band or peak")
        return value

    @property
    def scale(self) -> float:
        """Factor from the model's unit to the series' unit."""
        return VARIABLE_UNITS[self.variable][self.unit]

    def band(self, point: ObservedPoint) -> tuple[float, float] | None:
        """The (low, high) a point's model value must lie in; None if the point is not scored.

        A point's own ``low``/``high`` win; a missing side comes from the tolerance, else is
        open.
        """
        if self.tolerance is None and point.low is None and point.high is None:
            return None
        low, high = self.tolerance.band(point.value) if self.tolerance else (-math.inf, math.inf)
        return (
            low if point.low is None else point.low,
            high if point.high is None else point.high,
        )

    def title(self) -> str:
        """The label, else a description built from the fields."""
        if self.label:
            return self.label
        where = self.region + (f" -> {self.partner}" if self.partner else "")
        return f"{self.variable} {self.commodity or 'quota'} {where}".replace("  ", " ")


class References(Strict):
    """A scenario's historical record: the observed series the model is compared with."""

    series: list[ObservedSeries] = Field(
        default_factory=list, description="observed series with sources and tolerance bands"
    )


def series_problems(
    data: Any,
    regions: list[str],
    commodities: list[str],
    check_date: Callable[[str, Any, bool], bool],
    months_after: Callable[[str, int], str | None],
) -> list[str]:
    """Problems of reference between the observed series and the scenario (plain data).

    Args:
        data: the scenario's ``references`` table as read from the file.
        regions, commodities: the scenario's ids.
        check_date: reports a malformed date or one outside the horizon at a field path; True
            when the date parses.
        months_after: the date ``n`` months after a date (None if it does not parse).
    """
    problems: list[str] = []
    series = data.get("series") if isinstance(data, dict) else None
    if not isinstance(series, list):
        return problems
    seen: set[str] = set()
    places = [*regions, *AGGREGATES]
    for i, item in enumerate(series):
        if not isinstance(item, dict):
            continue
        ident = item.get("id")
        path = f"references.series[{i}]" + (f" ({ident})" if ident else "")
        if isinstance(ident, str):
            if ident in seen:
                problems.append(f"{path}.id: duplicate series id '{ident}'; ids must be unique")
            seen.add(ident)
        commodity = item.get("commodity")
        if isinstance(commodity, str) and commodity and commodity not in commodities:
            problems.append(
                f"{path}.commodity: unknown commodity '{commodity}'; "
                f"allowed: {', '.join(commodities)}"
            )
        for key, allowed in (("region", places), ("partner", regions)):
            value = item.get(key)
            if isinstance(value, str) and value and value not in allowed:
                problems.append(
                    f"{path}.{key}: unknown region '{value}'; allowed: {', '.join(allowed)}"
                )
        points = item.get("points")
        for j, point in enumerate(points if isinstance(points, list) else []):
            if not isinstance(point, dict):
                continue
            where = f"{path}.points[{j}].date"
            span = point.get("months", 1)
            if check_date(where, point.get("date"), False) and isinstance(span, int) and span > 1:
                last = months_after(point["date"], span - 1)
                if last is not None:
                    check_date(f"{path}.points[{j}].months", last, False)
        peak = item.get("peak")
        if isinstance(peak, dict):
            for key in ("window", "base"):
                span = peak.get(key)
                for k, date in enumerate(span if isinstance(span, list) else []):
                    check_date(f"{path}.peak.{key}[{k}]", date, False)
                ordered = isinstance(span, list) and all(isinstance(d, str) for d in span)
                if ordered and len(span) == 2 and span[0] > span[1]:
                    problems.append(
                        f"{path}.peak.{key}: first month {span[0]} is after last {span[1]}"
                    )
    return problems

"""Quantities with units in scenario files.

Scenario authors may write a bare number in the field's canonical unit (the unit is in the field
name: ``capacity_tpy`` is t/yr, ``price_usd_per_kg`` is USD/kg) or a string with an explicit unit
(``"45 kt/yr"``, ``"3750 t/month"``, ``"58000 USD/t"``). Anything else is rejected with the units
the field allows, so a wrong unit never slips in silently.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator

_NUMBER_UNIT = re.compile(r"^\s*([-+]?\d[\d_,]*(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")

#: Conversion factors into each canonical unit.
RATE_UNITS = {"t/yr": 1.0, "kt/yr": 1000.0, "t/month": 12.0, "kt/month": 12000.0}
PRICE_UNITS = {"USD/kg": 1.0, "USD/t": 0.001, "kUSD/t": 1.0}
MASS_UNITS = {"t": 1.0, "kt": 1000.0}
MONEY_UNITS = {"USD/tpy": 1.0, "kUSD/tpy": 1000.0, "MUSD/ktpy": 1000.0}


def _converter(units: dict[str, float]):
    canonical = next(iter(units))
    allowed = f"{', '.join(units)} (a bare number is {canonical})"

    def convert(value: object) -> float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number or a quantity; allowed units: {allowed}")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            match = _NUMBER_UNIT.match(value)
            if not match:
                raise ValueError(f"'{value}' is not a quantity; allowed units: {allowed}")
            number = float(match.group(1).replace("_", "").replace(",", ""))
            unit = match.group(2)
            if unit and unit not in units:
                raise ValueError(f"unit '{unit}' is not allowed here; allowed units: {allowed}")
            number *= units[unit] if unit else 1.0
        else:
            raise ValueError(
                f"expected a number or a quantity (got {type(value).__name__}); "
                f"allowed units: {allowed}"
            )
        if not math.isfinite(number):
            raise ValueError(f"must be a finite number (got {value!r})")
        return number

    return convert


RatePerYear = Annotated[float, BeforeValidator(_converter(RATE_UNITS))]
"""A flow in tonnes per year (t/yr)."""
PriceUsdPerKg = Annotated[float, BeforeValidator(_converter(PRICE_UNITS))]
"""A price in USD/kg."""
Tonnes = Annotated[float, BeforeValidator(_converter(MASS_UNITS))]
"""A stock in tonnes."""
CapexUsdPerTpy = Annotated[float, BeforeValidator(_converter(MONEY_UNITS))]
"""Capital cost in USD per t/yr of capacity."""

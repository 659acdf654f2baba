"""Mass balance: material neither appears nor vanishes, whatever policies and parameters do.

Every month, for every commodity and region:

    production + imports - exports - use - consumption = change in (commercial + strategic stock)

and no stock goes negative, every price stays finite and positive, and nothing turns NaN. The
property test draws seeds, policy schedules (0-4 trade and stockpile policies with random issuer,
commodities, partners, dates and parameters) and perturbations of capacities, demand and dynamics.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from worlds import assert_sane, balance_residual, base_data, run, variant

from world.calendar import add_months

DATA = base_data()
REGIONS = sorted(DATA["regions"])
COMMODITIES = sorted(DATA["commodities"])
START = DATA["start"]
HORIZON = DATA["months"]

#: Dynamics parameters perturbed by the property test, with ranges they can safely take.
DYNAMICS = {
    "price_speed": (0.05, 0.4),
    "contract_share": (0.0, 0.9),
    "spot_elasticity": (0.1, 1.0),
    "withholding": (0.5, 1.5),
    "arbitrage_pull": (0.3, 0.8),
    "import_parity_share": (0.0, 0.1),
    "hoarding": (0.0, 3.0),
    "restock_months": (3.0, 9.0),
    "restock_elasticity": (0.5, 2.5),
    "expectation_months": (6.0, 18.0),
    "markup_relaxation": (0.02, 0.1),
}


@st.composite
def policies(draw, months: int, index: int) -> dict:
    """One random policy in force somewhere inside the first ``months`` months."""
    kind = draw(
        st.sampled_from(
            [
                "export_ban",
                "export_quota",
                "export_licence",
                "export_duty",
                "import_tariff",
                "stockpile_target",
            ]
        )
    )
    issuer = draw(st.sampled_from(REGIONS))
    others = [r for r in REGIONS if r != issuer]
    start = draw(st.integers(0, months - 1))
    spec: dict = {
        "id": f"random-{index}",
        "kind": kind,
        "issuer": issuer,
        "commodities": draw(
            st.lists(st.sampled_from(COMMODITIES), min_size=1, max_size=3, unique=True)
        ),
        "partners": draw(st.lists(st.sampled_from(others), max_size=3, unique=True)),
        "start": add_months(START, start),
    }
    if draw(st.booleans()):
        end = draw(st.integers(start + 1, min(start + 24, HORIZON)))
        spec["end"] = add_months(START, end)
    if kind == "export_quota":
        spec["quota_t"] = draw(st.floats(0.0, 50_000.0))
        spec["period_months"] = draw(st.integers(1, 24))
        spec["scale"] = draw(st.floats(0.1, 1.0))
    elif kind == "export_licence":
        spec["review_months"] = draw(st.integers(0, 6))
        spec["approval_share"] = draw(st.floats(0.0, 1.0))
    elif kind in ("export_duty", "import_tariff"):
        spec["rate"] = draw(st.floats(0.0, 1.0))
    elif kind == "stockpile_target":
        spec["months_of_cover"] = draw(st.floats(0.0, 6.0))
    return spec


@st.composite
def cases(draw) -> dict:
    """Plain data for one case: seed, months, extra policies and perturbations of the baseline."""
    months = draw(st.integers(24, 36))
    extra = [draw(policies(months, i)) for i in range(draw(st.integers(0, 4)))]
    names = draw(st.lists(st.sampled_from(sorted(DYNAMICS)), max_size=3, unique=True))
    return {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "months": months,
        "policies": extra,
        "firm": (draw(st.integers(0, len(DATA["firms"]) - 1)), draw(st.floats(0.5, 1.5))),
        "user": (draw(st.integers(0, len(DATA["end_users"]) - 1)), draw(st.floats(0.5, 1.5))),
        "dynamics": {n: draw(st.floats(*DYNAMICS[n])) for n in names},
    }


def scenario_of(case: dict):
    def mutate(data: dict) -> None:
        firm, firm_scale = case["firm"]
        user, user_scale = case["user"]
        data["firms"][firm]["capacity_tpy"] *= firm_scale
        data["end_users"][user]["demand_tpy"] *= user_scale
        data["dynamics"].update(case["dynamics"])

    return variant(*case["policies"], mutate=mutate)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_material_balance_holds_under_random_policies_and_perturbations(case):
    result = run(scenario_of(case), months=case["months"], seed=case["seed"])
    assert result.array("price").shape[0] == case["months"]
    assert_sane(result)


def test_baseline_material_balance_over_five_years():
    result = run(variant(), months=60, seed=3)
    assert_sane(result)
    residual, throughput = balance_residual(result)
    # The check is not vacuous: material moves through every stage and across borders.
    assert (throughput.sum(axis=(0, 2)) > 0).all()
    assert result.array("exports").sum() > 0
    assert np.abs(residual).max() < 1e-6


def test_balance_check_detects_a_leak():
    """The residual is sensitive: a tonne that vanishes from a stock shows up in it."""
    result = run(variant(), months=3, seed=0)
    stocks = result.world.recorder.rows["stock_commercial"]
    stocks[1] = stocks[1].copy()
    stocks[1][0, 0] -= 1.0
    residual, _ = balance_residual(result)
    assert abs(residual[1, 0, 0] - 1.0) < 1e-6
    assert abs(residual[2, 0, 0] + 1.0) < 1e-6

"""The alliance-vs-tariffs experiment: its resilience metric and one short game."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from experiments.alliance_vs_tariffs import run_one, summarise, years_to_resilience


def test_years_to_resilience_counts_twelve_consecutive_months():
    demand = np.full(48, 100.0)
    clean = np.full(48, 50.0)
    clean[10:21] = 90.0  # eleven months: not enough
    clean[30:] = 85.0  # from month 30 on: the twelfth month is month 41
    assert years_to_resilience(demand, clean) == 42 / 12
    assert math.isnan(years_to_resilience(demand, np.full(48, 79.0)))


def test_one_short_game_reports_every_outcome():
    row = run_one("tariff-hawk", "coercive-retaliator", seed=0, months=12)
    assert row["us_doctrine"] == "tariff-hawk" and row["cn_doctrine"] == "coercive-retaliator"
    assert 0.0 <= row["clean_share_last_year"] <= 1.0
    assert 0.0 <= row["defense_fill_worst"] <= row["defense_fill_mean"] <= 1.0
    assert row["fiscal_cost_usd_bn"] >= 0.0
    assert row["us_magnet_price_usd_per_kg"] > 0.0
    assert row["orders_applied"] > 0, "the tariff hawk sets tariffs and China answers"


def test_summary_aggregates_over_seeds():
    runs = pd.DataFrame(
        [
            {
                "us_doctrine": "a",
                "cn_doctrine": "b",
                "seed": s,
                "years_to_resilience": y,
                "clean_share_last_year": 0.5,
                "defense_fill_mean": 1.0,
                "defense_fill_worst": w,
                "fiscal_cost_usd_bn": 1.0,
                "us_magnet_price_usd_per_kg": 60.0,
            }
            for s, (y, w) in enumerate([(5.0, 0.9), (float("nan"), 0.8), (7.0, 1.0)])
        ]
    )
    row = summarise(runs).iloc[0]
    assert row["seeds"] == 3
    assert row["share_reaching_resilience"] == 2 / 3
    assert row["median_years_to_resilience"] == 6.0
    assert row["defense_fill_worst"] == 0.8

"""Small experiment specs (a few months, a few runs) shared by the experiment tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from experiments.batch import load_outcomes

TINY = """
name = "tiny"
scenario = "alliance-vs-tariffs-2025"
months = 4
seeds = 2
chunk_runs = 2

[levers.doctrines]
US = ["tariff-hawk", "alliance-builder"]

[uncertainties."stages.magnet.lead_time_months"]
low = 24
high = 48

[uncertainties."end_users.*.elasticity"]
apply = "scale"
distribution = "triangular"
low = 0.5
mode = 1.0
high = 1.5

[sampling]
method = "lhs"
samples = 2

[[outcomes]]
name = "us_magnet_price"
variable = "price"
commodity = "magnet"
region = "US"

[[outcomes]]
name = "clean_share"
derived = "clean_share"

[[outcomes]]
name = "fiscal_cost"
derived = "fiscal_cost"
scale = 1e-9

[[series]]
variable = "price"
commodity = "magnet"
region = "US"
"""


def write_spec(tmp_path: Path, text: str = TINY, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def sorted_outcomes(out: Path) -> pd.DataFrame:
    frame = load_outcomes(out)
    return frame.sort_values(["run_id", "outcome"]).reset_index(drop=True)


SOBOL = """
name = "tiny-sobol"
scenario = "alliance-vs-tariffs-2025"
months = 4
seeds = 1

[levers.doctrines]
US = ["alliance-builder"]
CN = ["coercive-retaliator"]

[uncertainties."dynamics.price_speed"]
low = 0.1
high = 0.6

[uncertainties."end_users.*.elasticity"]
apply = "scale"
low = 0.5
high = 1.5

[sampling]
method = "sobol"
samples = 4

[[outcomes]]
name = "us_magnet_price"
variable = "price"
commodity = "magnet"
region = "US"

[[outcomes]]
name = "years_to_resilience"
derived = "years_to_resilience"
streak_months = 1
threshold = 0.0

[[series]]
variable = "shortage"
commodity = "magnet"
"""

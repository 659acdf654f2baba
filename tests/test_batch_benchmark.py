"""The batch benchmark's agreement check: it fails when any runner's outcomes differ."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "batch.py"
_spec = importlib.util.spec_from_file_location("benchmark_batch", SCRIPT)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _frame(values: list[float]) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples(
        [("tariff-hawk", 0), ("tariff-hawk", 1)], names=["us", "seed"]
    )
    return pd.DataFrame({"a": values, "b": [np.nan, 1.0]}, index=index)


def test_the_benchmark_accepts_agreeing_runners_and_names_disagreeing_ones():
    reference = _frame([1.0, 2.0])
    same = {"x": {"runner": "same", "results": _frame([1.0, 2.0])}}
    assert bench.disagreements(reference, same) == []  # NaN equals NaN
    off = {"y": {"runner": "off", "results": _frame([1.0, 2.0 + 1e-9])}}
    assert bench.disagreements(reference, off) == [
        "off: 1 values differ, first at ('tariff-hawk', '1')"
    ]
    short = {"z": {"runner": "short", "results": _frame([1.0, 2.0]).iloc[:1]}}
    assert bench.disagreements(reference, short) == ["short: other runs (1 against 2)"]


def test_mesa_rows_and_batch_rows_line_up():
    rows = [{"US": "tariff-hawk", "seed": 1, **{n: 1.0 for n in bench.NAMES}}]
    frame = bench.rows_frame(rows, "US")
    assert list(frame.index) == [("tariff-hawk", 1)] and list(frame.columns) == bench.NAMES

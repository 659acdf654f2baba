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


def _row(name: str, procs: int, results: pd.DataFrame, model_ms: float, total_ms: float):
    return {
        "runner": name,
        "processes": procs,
        "runs": len(results),
        "wall_s": 1.0,
        "runs_per_min": 60.0 * len(results) * max(1, procs) * 0.9,
        "parent_cpu_s": 1e-3 * (total_ms - model_ms),
        "workers_cpu_s": 1e-3 * model_ms,
        "cpu_s": 1e-3 * total_ms,
        "model_cpu_s": 1e-3 * model_ms,
        "results": results,
    }


def test_the_benchmark_exits_non_zero_when_runners_disagree_or_the_pool_wastes_cpu(
    monkeypatch, capsys
):
    agreeing = {
        "serial": _row("chokepoint, serial", 0, _frame([1.0, 2.0]), 100.0, 101.0),
        "pool 2": _row("chokepoint, pool x2", 2, _frame([1.0, 2.0]), 100.0, 102.0),
    }
    monkeypatch.setattr(bench, "run_all", lambda *_args: agreeing)
    assert bench.main(["--quick", "--runs", "8"]) == 0
    out = capsys.readouterr().out
    assert "all 2 runners agree" in out and "chokepoint, pool x2" in out

    disagreeing = {**agreeing, "ema 2": _row("EMA x2", 2, _frame([1.0, 3.0]), 100.0, 104.0)}
    monkeypatch.setattr(bench, "run_all", lambda *_args: disagreeing)
    assert bench.main(["--quick", "--runs", "8"]) == 1
    assert "FAIL: the runners' results differ:\n  EMA x2: 1 values differ" in (
        capsys.readouterr().out
    )

    wasteful = {**agreeing, "pool 2": _row("chokepoint, pool x2", 2, _frame([1.0, 2.0]), 50, 100)}
    monkeypatch.setattr(bench, "run_all", lambda *_args: wasteful)
    assert bench.main(["--quick", "--runs", "8"]) == 2
    assert "CPU efficiency 0.50 is below 0.90: it spends 50.0 ms" in capsys.readouterr().out


def test_the_table_sets_each_runner_against_the_serial_loop():
    rows = {
        "serial": _row("serial", 0, _frame([1.0, 2.0]), 100.0, 104.0),
        "pool 1": _row("pool x1", 1, _frame([1.0, 2.0]), 100.0, 104.0),
        "pool 2": _row("pool x2", 2, _frame([1.0, 2.0]), 100.0, 110.0),
    }
    rows["pool 2"]["runs_per_min"] = 1.5 * rows["serial"]["runs_per_min"]
    rows["pool 1"]["runs_per_min"] = 0.5 * rows["serial"]["runs_per_min"]
    table = bench.summary(rows)
    pool = table.loc["pool x2"]
    assert pool["efficiency"] == 0.75 and pool["eff_vs_own_x1"] == 1.5
    assert round(pool["overhead_ms"], 6) == 10.0 and round(pool["cpu_efficiency"], 6) == round(
        100 / 110, 6
    )
    assert np.isnan(table.loc["serial", "eff_vs_own_x1"])


def test_the_measured_cpu_of_our_runners_splits_into_parent_workers_and_runs(tmp_path):
    spec = tmp_path / "benchmark.toml"
    # six months a run, so that the runs' own CPU outweighs what the parent spends per run on
    # feeding, collecting and writing (about 10-20 ms): with one-month runs (~15 ms) the
    # comparison below was decided by that overhead, and failed under load
    spec.write_text(bench.spec_text(4, 6), encoding="utf-8")
    args = bench.argparse.Namespace(quick=True, months=6, skip_dask=True, skip_ema=True)
    args.skip_mesa = args.skip_single = True
    rows = bench.run_all(args, spec, tmp_path, 1)
    assert set(rows) == {"serial", "pool 1", "pool 2"}
    assert bench.disagreements(rows["serial"]["results"], rows) == []
    serial, pool = rows["serial"], rows["pool 2"]
    # the serial loop runs in this process; the pool's workers are reaped inside the window
    assert serial["workers_cpu_s"] == 0 and serial["parent_cpu_s"] >= serial["model_cpu_s"] > 0
    assert pool["workers_cpu_s"] >= pool["model_cpu_s"] > 0
    # the pool's parent only feeds and collects: the runs' CPU is not in it
    assert pool["parent_cpu_s"] < serial["parent_cpu_s"] - 0.5 * serial["model_cpu_s"]

"""Batch benchmark: runs per minute of ``chokepoint batch`` against Mesa's own ``batch_run``.

The same runs for every runner: the ``alliance-vs-tariffs-2025`` scenario with the US seat
playing each of four doctrines over consecutive seeds (RUNS runs of MONTHS months), the same
outcomes computed at the end. Runners:

- ``batch, 1 worker``: :class:`experiments.batch.ProcessRunner` with one worker process;
- ``batch, 2 workers``: the same with two (parallel efficiency = 2-worker throughput over twice
  the 1-worker throughput);
- ``batch, dask local``: a ``dask.distributed`` LocalCluster, two single-threaded worker
  processes on loopback (cluster start timed separately);
- ``mesa.batch_run`` with 1 and 2 processes, over :class:`experiments.mesa_model.BatchWorld`
  (the world for ``batch_run``: keyword parameters, stops at its horizon, a DataCollector of
  the same outcomes);
- EMA Workbench's ``MultiprocessingEvaluator`` with 1 and 2 processes, over an EMA ``Model``
  whose function runs the same world and returns the same outcomes.

The benchmark fails (exit 1) if any runner's outcomes differ from the 1-worker batch's for any
(doctrine, seed), and (exit 2) if the batch's parallel efficiency at 2 workers is below
``--floor`` (default 0.85; the goal is 0.9). Each runner's efficiency (its 2-process
throughput over twice its 1-process throughput) is printed side by side. On a machine whose
cores other jobs share, efficiencies are depressed for every runner alike.

Peak memory: tracemalloc in this process during our batches (results stream to disk, so it
should not grow with the number of runs) and the peak resident memory of the worker processes
(psutil, sampled every 0.2 s).

    uv run python benchmarks/batch.py [--runs 200] [--months 120] [--skip-mesa] [--skip-ema]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import mesa  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.batch import DaskRunner, ProcessRunner, load_outcomes, run_batch  # noqa: E402
from experiments.mesa_model import DEFAULT_OUTCOMES, BatchWorld  # noqa: E402
from experiments.outcomes import compute  # noqa: E402

SCENARIO = "alliance-vs-tariffs-2025"
US_DOCTRINES = ["tariff-hawk", "alliance-builder", "dealmaker-resilience", "stockpiler"]
#: The outcomes every runner computes (those BatchWorld collects for mesa.batch_run).
OUTCOMES = list(DEFAULT_OUTCOMES)


def spec_text(runs: int, months: int) -> str:
    seeds = max(1, runs // len(US_DOCTRINES))
    outcomes = "\n".join(
        "[[outcomes]]\n"
        + "\n".join(
            f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}"
            for k, v in o.model_dump(exclude_defaults=True).items()
        )
        for o in OUTCOMES
    )
    doctrines = ", ".join(f'"{d}"' for d in US_DOCTRINES)
    return (
        f'name = "benchmark"\nscenario = "{SCENARIO}"\nmonths = {months}\nseeds = {seeds}\n'
        f"chunk_runs = 50\n\n[levers.doctrines]\nUS = [{doctrines}]\n\n{outcomes}\n"
    ).replace("'", '"')


def ema_run(us: str = "alliance-builder", seed: int = 0, months: int = 120) -> dict[str, float]:
    """The function of the EMA Workbench model: one run, its outcomes."""
    model = BatchWorld(SCENARIO, months=months, rng=int(seed), outcomes=OUTCOMES, US=us)
    while model.running:
        model.step()
    return {o.name: compute(model.world, o) for o in OUTCOMES}


def ema_experiments(seeds: int, months: int, processes: int) -> list[dict]:
    """The same runs through EMA Workbench's MultiprocessingEvaluator: rows (us, seed, ...)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ema_workbench as ema

    model = ema.Model("chokepoint", function=ema_run)
    model.uncertainties = [ema.IntegerParameter("seed", 0, max(1, seeds - 1))]
    model.levers = [ema.CategoricalParameter("us", US_DOCTRINES)]
    model.constants = [ema.Constant("months", months)]
    model.outcomes = [ema.ScalarOutcome(o.name) for o in OUTCOMES]
    scenarios = [ema.Sample(f"seed{s}", seed=s) for s in range(seeds)]
    policies = [ema.Sample(d, us=d) for d in US_DOCTRINES]
    with ema.MultiprocessingEvaluator(model, n_processes=processes) as evaluator:
        # log_progress: to EMA's (silent) logger instead of a tqdm bar
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=scenarios, policies=policies, log_progress=True
        )
    frame = experiments[["us", "seed"]].assign(**{k: v for k, v in outcomes.items()})
    return frame.to_dict("records")


class MemoryWatch:
    """Peak RSS of this process's children (and of itself), sampled in a thread."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process()
        self.children_peak = 0
        self.parent_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                kids = self.proc.children(recursive=True)
                total = sum(k.memory_info().rss for k in kids if k.is_running())
            except Exception:
                total = 0
            self.children_peak = max(self.children_peak, total)
            self.parent_peak = max(self.parent_peak, self.proc.memory_info().rss)
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def measure(label: str, runs: int, fn, trace: bool = True) -> dict:
    """Time ``fn`` (which returns a frame of outcomes indexed by doctrine and seed)."""
    if trace:
        tracemalloc.start()
    with MemoryWatch() as watch:
        started = time.perf_counter()
        results = fn()
        done = len(results)
        wall = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    row = {
        "runner": label,
        "runs": done,
        "wall_s": wall,
        "runs_per_min": 60.0 * done / wall,
        "parent_traced_mb": peak / 1e6 if peak is not None else float("nan"),
        "parent_rss_mb": watch.parent_peak / 1e6,
        "workers_rss_mb": watch.children_peak / 1e6,
        "results": results,
    }
    print(
        f"{label:<24} {done:>5} runs {wall:>8.1f} s {row['runs_per_min']:>9.1f} runs/min  "
        f"parent traced peak {row['parent_traced_mb']:>7.1f} MB  parent RSS "
        f"{row['parent_rss_mb']:>7.1f} MB  workers RSS {row['workers_rss_mb']:>7.1f} MB",
        flush=True,
    )
    return row


NAMES = [o.name for o in OUTCOMES]


def batch_frame(out: Path) -> pd.DataFrame:
    """A batch's outcomes as one row per (doctrine, seed)."""
    outcomes = load_outcomes(out)
    wide = outcomes.pivot_table(
        index=["doctrine.US", "seed"], columns="outcome", values="value", dropna=False
    )
    return wide[NAMES].rename_axis(["us", "seed"]).sort_index()


def rows_frame(rows: list[dict], us: str) -> pd.DataFrame:
    """mesa.batch_run's or EMA's rows as one row per (doctrine, seed)."""
    frame = pd.DataFrame(rows).rename(columns={us: "us"})
    frame["seed"] = frame["seed"].astype(int)
    return frame.set_index(["us", "seed"])[NAMES].astype(float).sort_index()


def disagreements(reference: pd.DataFrame, rows: dict[str, dict]) -> list[str]:
    """Runners whose outcomes differ from the reference (NaN equals NaN)."""
    bad = []
    for row in rows.values():
        other = row["results"]
        if not other.index.equals(reference.index):
            bad.append(f"{row['runner']}: other runs ({len(other)} against {len(reference)})")
            continue
        a, b = reference.to_numpy(float), other[reference.columns].to_numpy(float)
        same = np.isclose(a, b, rtol=1e-12, atol=0.0) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            where = tuple(str(k) for k in reference.index[~same.all(axis=1)][0])
            bad.append(f"{row['runner']}: {int((~same).sum())} values differ, first at {where}")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--skip-mesa", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-ema", action="store_true")
    parser.add_argument(
        "--floor", type=float, default=0.85, help="least parallel efficiency at 2 workers"
    )
    args = parser.parse_args(argv)

    seeds = max(1, args.runs // len(US_DOCTRINES))
    runs = seeds * len(US_DOCTRINES)
    print(
        f"{runs} runs x {args.months} months of {SCENARIO}; {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, mesa {mesa.__version__}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="chokepoint-bench-"))
    spec = tmp / "benchmark.toml"
    spec.write_text(spec_text(runs, args.months), encoding="utf-8")
    rows = {}
    try:
        for workers in (1, 2):
            runner = ProcessRunner(workers)
            # start the workers before tracemalloc does: forked children would inherit tracing
            for future in [runner._pool().submit(os.getpid) for _ in range(workers)]:
                future.result()
            try:
                rows[f"batch {workers}"] = measure(
                    f"batch, {workers} worker{'s' if workers > 1 else ''}",
                    runs,
                    lambda r=runner, w=workers: (
                        run_batch(spec, tmp / f"w{w}", progress=False, runner=r)
                        and batch_frame(tmp / f"w{w}")
                    ),
                )
            finally:
                runner.close()
        if not args.skip_dask:
            started = time.perf_counter()
            dask_runner = DaskRunner("local", 2, announce=lambda _m: None)
            print(
                f"(dask LocalCluster, 2 workers, started in {time.perf_counter() - started:.1f} s)"
            )
            try:
                rows["dask"] = measure(
                    "batch, dask local x2",
                    runs,
                    lambda: (
                        run_batch(spec, tmp / "dask", progress=False, runner=dask_runner)
                        and batch_frame(tmp / "dask")
                    ),
                )
            finally:
                dask_runner.close()
        if not args.skip_ema:
            # before mesa.batch_run, which sets the spawn start method for the whole process
            for procs in (1, 2):
                rows[f"ema {procs}"] = measure(
                    f"EMA multiprocessing x{procs}",
                    runs,
                    lambda p=procs: rows_frame(ema_experiments(seeds, args.months, p), "us"),
                    trace=False,
                )
        if not args.skip_mesa:
            from mesa.batchrunner import batch_run

            for procs in (1, 2):
                rows[f"mesa {procs}"] = measure(
                    f"mesa.batch_run, {procs} proc",
                    runs,
                    lambda p=procs: rows_frame(
                        batch_run(
                            BatchWorld,
                            parameters={"US": US_DOCTRINES, "months": args.months},
                            number_processes=p,
                            max_steps=args.months + 1,
                            data_collection_period=-1,
                            display_progress=False,
                            rng=list(range(seeds)),
                        ),
                        "US",
                    ),
                    trace=procs > 1,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"{'runner':<22}{'1 proc runs/min':>16}{'2 procs runs/min':>18}{'efficiency':>12}")
    efficiency = {}
    for key, label in (
        ("batch", "chokepoint batch"),
        ("ema", "EMA Workbench"),
        ("mesa", "mesa.batch_run"),
    ):
        one, two = rows.get(f"{key} 1"), rows.get(f"{key} 2")
        if one is None or two is None:
            continue
        efficiency[key] = two["runs_per_min"] / (2 * one["runs_per_min"])
        print(
            f"{label:<22}{one['runs_per_min']:>16.1f}{two['runs_per_min']:>18.1f}"
            f"{efficiency[key]:>12.2f}"
        )
    if "dask" in rows:
        print(f"{'chokepoint, dask x2':<22}{'':>16}{rows['dask']['runs_per_min']:>18.1f}")
    for procs in (1, 2):
        ours = rows[f"batch {procs}"]["runs_per_min"]
        for key, label in (("ema", "EMA Workbench"), ("mesa", "mesa.batch_run")):
            if f"{key} {procs}" in rows:
                theirs = rows[f"{key} {procs}"]["runs_per_min"]
                print(f"throughput vs {label}, {procs} process(es): {ours / theirs:.2f}x")

    reference = rows["batch 1"]["results"]
    others = {k: v for k, v in rows.items() if k != "batch 1"}
    bad = disagreements(reference, others)
    if bad:
        print("FAIL: the runners' results differ:\n  " + "\n  ".join(bad))
        return 1
    print(f"all {len(rows)} runners agree on every outcome of all {len(reference)} runs")
    if efficiency["batch"] < args.floor:
        print(
            f"FAIL: parallel efficiency {efficiency['batch']:.2f} at 2 workers is below the "
            f"floor of {args.floor:.2f} (goal 0.90); on a shared machine compare it with the "
            "other runners' efficiencies above"
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

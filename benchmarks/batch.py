"""Batch benchmark: our serial loop and process pool against ``mesa.batch_run`` and EMA Workbench.

The same runs for every runner: the ``alliance-vs-tariffs-2025`` scenario with the US seat
playing each of four doctrines over consecutive seeds (RUNS runs of MONTHS months), the same
outcomes computed at the end. Runners:

- ``chokepoint, serial``: ``run_batch`` with one worker, in this process;
- ``chokepoint, pool x2`` (and with ``--quick`` ``x1``): :class:`experiments.batch.ProcessRunner`
  with two (one) worker processes;
- ``chokepoint, dask local x2``: a ``dask.distributed`` LocalCluster, two single-threaded
  worker processes on loopback;
- EMA Workbench's ``MultiprocessingEvaluator`` with 1 and 2 processes, over an EMA ``Model``
  whose function runs the same world and returns the same outcomes;
- ``mesa.batch_run`` with 1 and 2 processes, over :class:`experiments.mesa_model.BatchWorld`
  (keyword parameters, stops at its horizon, a DataCollector of the same outcomes).

One table side by side: wall time, runs/min, parallel efficiency (runs/min over the number of
processes times the serial loop's runs/min, and over the runner's own 1-process figure) and CPU
per run: the parent's, the workers' (start-up and exit included) and the runs' own (process time
from building the world to its outcomes, measured inside each run). Their difference is what
the runner costs per run, and the runs' share of all the CPU (``cpu_efficiency``) is the wall
efficiency an idle machine allows; unlike the wall clock it holds on a machine other jobs share.
``--quick`` makes the runs small (48 runs of 6 months) so that the per-run overhead shows.

Exit 1 if any runner's outcomes differ from the serial loop's for any (doctrine, seed); exit 2
if the 2-worker pool's CPU efficiency is below ``--cpu-floor`` (default 0.9) or, without
``--quick``, its wall-clock efficiency is below ``--floor`` (default 0.85; the goal is 0.9 at
200 runs of 120 months).

Peak memory (without ``--quick``): the peak resident memory of this process and of the worker
processes (psutil, sampled every 0.2 s), and, in a separate untimed pass of as many runs of one
month through our pool, tracemalloc in this process (results stream to disk, so it should not
grow with the number of runs). Tracing is kept out of every timed pass: it slows the process it
traces, and was charged to whichever runner it traced.

    uv run python benchmarks/batch.py [--quick] [--runs 200] [--months 120]
        [--skip-mesa] [--skip-ema] [--skip-dask] [--skip-single] [--repeat N]

``--repeat N`` then runs the three 2-process runners N rounds more, interleaved, and prints
their throughput ratios round by round: whether our pool is ahead beyond the machine's drift.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
NAMES = [o.name for o in OUTCOMES]


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
    """The function of the EMA Workbench model: one run, its outcomes and its CPU seconds."""
    started = time.process_time()
    model = BatchWorld(SCENARIO, months=months, rng=int(seed), outcomes=OUTCOMES, US=us)
    while model.running:
        model.step()
    outcomes = {o.name: compute(model.world, o) for o in OUTCOMES}
    return {**outcomes, "cpu_s": time.process_time() - started}


class TimedWorld(BatchWorld):
    """:class:`BatchWorld` for ``mesa.batch_run`` that also reports its own CPU seconds
    (``cpu_s``, from construction to the horizon), as the other runners' runs do."""

    def __init__(self, *args: Any, **kwargs: Any):
        self._cpu_started = time.process_time()
        super().__init__(*args, **kwargs)
        self.datacollector._new_model_reporter("cpu_s", TimedWorld._cpu_seconds)

    def _cpu_seconds(self) -> float:
        return time.process_time() - self._cpu_started


class Timed:
    """Our runner (or the serial loop) passing every record on, summing the runs' own CPU."""

    def __init__(self, inner: ProcessRunner | DaskRunner | None = None):
        self.inner, self.cpu_s = inner, 0.0

    def __call__(self, plan: Any, todo: list) -> Iterator[tuple[dict, int]]:
        from experiments.batch import _serial

        for record, attempts in (self.inner or _serial)(plan, todo):
            self.cpu_s += record.get("cpu_s", 0.0)
            yield record, attempts

    def close(self, terminate: bool = False) -> None:
        if self.inner is not None:
            self.inner.close(terminate)


def ema_experiments(seeds: int, months: int, processes: int) -> list[dict]:
    """The same runs through EMA Workbench's MultiprocessingEvaluator: rows (us, seed, ...,
    cpu_s)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ema_workbench as ema

    model = ema.Model("chokepoint", function=ema_run)
    model.uncertainties = [ema.IntegerParameter("seed", 0, max(1, seeds - 1))]
    model.levers = [ema.CategoricalParameter("us", US_DOCTRINES)]
    model.constants = [ema.Constant("months", months)]
    model.outcomes = [ema.ScalarOutcome(name) for name in [*NAMES, "cpu_s"]]
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


def cpu_seconds(who: int) -> float:
    """User plus system CPU seconds of this process (``RUSAGE_SELF``, all its threads) or of its
    reaped children (``RUSAGE_CHILDREN``: worker processes count once they have been joined)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure(
    label: str,
    fn: Callable[[Any], pd.DataFrame],
    *,
    processes: int,
    start: Callable[[], Any] | None = None,
    stop: Callable[[Any], None] | None = None,
    watch: bool = True,
) -> dict:
    """Run one runner once: ``fn(start())`` returns a frame of outcomes indexed by doctrine and
    seed; ``stop`` ends whatever ``start`` began (a pool), inside the timed window, so worker
    start-up and shutdown count for every runner alike.

    CPU time is measured as well as wall time, since on a machine other jobs share the wall
    clock says little: the parent's CPU (``RUSAGE_SELF``: feeding, collecting, writing) and the
    workers' (``RUSAGE_CHILDREN``, from start-up to exit), each per run, and the runs' own
    (process time from building the world to its outcomes, summed in ``results.attrs["cpu_s"]``):
    the rest is what the runner costs.

    Args:
        processes: the runner's worker processes (0: runs in this process).
        watch: sample resident memory every 0.2 s (psutil, in a thread of this process; its
            CPU counts as the parent's).
    """
    parent0, children0 = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    memory = MemoryWatch() if watch else None
    if memory is not None:
        memory.__enter__()
    started = time.perf_counter()
    try:
        handle = start() if start is not None else None
        try:
            results = fn(handle)
        finally:
            if stop is not None:
                stop(handle)
        wall = time.perf_counter() - started
    finally:
        if memory is not None:
            memory.__exit__(None, None, None)
    done = len(results)
    model = results.attrs.get("cpu_s", float("nan"))
    parent = cpu_seconds(resource.RUSAGE_SELF) - parent0
    children = cpu_seconds(resource.RUSAGE_CHILDREN) - children0
    row = {
        "runner": label,
        "processes": processes,
        "runs": done,
        "wall_s": wall,
        "runs_per_min": 60.0 * done / wall,
        "parent_cpu_s": parent / done,
        "workers_cpu_s": children / done,
        "cpu_s": (parent + children) / done,
        "model_cpu_s": model / done,
        "parent_rss_mb": memory.parent_peak / 1e6 if memory else float("nan"),
        "workers_rss_mb": memory.children_peak / 1e6 if memory else float("nan"),
        "results": results,
    }
    print(
        f"{label:<26} {done:>4} runs {wall:>7.1f} s {row['runs_per_min']:>7.1f} runs/min  "
        f"CPU/run: parent {1e3 * row['parent_cpu_s']:>6.1f} ms, workers "
        f"{1e3 * row['workers_cpu_s']:>7.1f} ms, in runs {1e3 * row['model_cpu_s']:>7.1f} ms  "
        f"RSS parent {row['parent_rss_mb']:>5.0f} MB "
        f"workers {row['workers_rss_mb']:>5.0f} MB",
        flush=True,
    )
    return row


def batch_frame(out: Path) -> pd.DataFrame:
    """A batch's outcomes as one row per (doctrine, seed)."""
    outcomes = load_outcomes(out)
    wide = outcomes.pivot_table(
        index=["doctrine.US", "seed"], columns="outcome", values="value", dropna=False
    )
    return wide[NAMES].rename_axis(["us", "seed"]).sort_index()


def rows_frame(rows: list[dict], us: str) -> pd.DataFrame:
    """mesa.batch_run's or EMA's rows as one row per (doctrine, seed); the runs' CPU seconds,
    when the rows have them, summed in ``frame.attrs["cpu_s"]``."""
    frame = pd.DataFrame(rows).rename(columns={us: "us"})
    frame["seed"] = frame["seed"].astype(int)
    wide = frame.set_index(["us", "seed"])[NAMES].astype(float).sort_index()
    wide.attrs["cpu_s"] = float(frame["cpu_s"].sum()) if "cpu_s" in frame else float("nan")
    return wide


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


#: ``--quick``: enough small runs that the per-run overhead shows beside the model's own CPU.
QUICK_RUNS, QUICK_MONTHS = 48, 6


def warm_pool(workers: int) -> ProcessRunner:
    """A ProcessRunner whose workers are already forked (before tracemalloc starts)."""
    runner = ProcessRunner(workers)
    for future in [runner._pool().submit(os.getpid) for _ in range(workers)]:
        future.result()
    return runner


def warm_up(spec: Path) -> None:
    """One run in this process and every runner's imports, before any is measured: the first
    runner would otherwise pay for the imports and caches that the others (forked from this
    process) inherit."""
    import warnings

    import mesa.batchrunner  # noqa: F401

    from experiments.batch import execute, make_plan
    from experiments.spec import as_spec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ema_workbench  # noqa: F401
    loaded, text, base_dir = as_spec(spec)
    plan = make_plan(loaded, text, base_dir)
    execute(plan.text, plan.scenario_ref, plan.months, plan.runs[0])


def ours(spec: Path, out: Path) -> Callable[[Timed], pd.DataFrame]:
    """Our batch of the spec into ``out`` through a runner: a frame of its outcomes (and the
    runs' own CPU seconds in ``attrs["cpu_s"]``)."""

    def fn(runner: Timed) -> pd.DataFrame:
        run_batch(
            spec,
            out,
            workers=1,
            progress=False,
            progress_every_s=float("inf"),
            announce=lambda _m: None,
            runner=runner,
        )
        frame = batch_frame(out)
        frame.attrs["cpu_s"] = runner.cpu_s
        return frame

    return fn


def run_all(args: argparse.Namespace, spec: Path, tmp: Path, seeds: int) -> dict[str, dict]:
    """Every runner once on the same runs: a row of figures each (see :func:`measure`).

    No timed pass runs tracemalloc: it costs the process it traces (about 1% of a 2-worker
    batch's CPU in our parent, more than the runner itself) and would be charged to whichever
    runner it traced. :func:`traced_peak` measures the parent's Python memory apart.
    """
    watch = not args.quick
    rows: dict[str, dict] = {}

    warm_up(spec)
    # no memory-sampling thread where the runs are in this process: it would slow them
    rows["serial"] = measure(
        "chokepoint, serial",
        ours(spec, tmp / "serial"),
        processes=0,
        start=Timed,
        watch=False,
    )
    # the 1-worker pool isolates the pool's own cost from the serial loop's: worth its runs in
    # --quick, where that cost shows, not in the full benchmark (200 runs of 2 s each)
    for workers in (1, 2) if args.quick else (2,):
        rows[f"pool {workers}"] = measure(
            f"chokepoint, pool x{workers}",
            ours(spec, tmp / f"pool{workers}"),
            processes=workers,
            start=lambda w=workers: Timed(warm_pool(w)),
            stop=lambda runner: runner.close(),
            watch=watch,
        )
    if not args.skip_dask:
        rows["dask 2"] = measure(
            "chokepoint, dask local x2",
            ours(spec, tmp / "dask"),
            processes=2,
            start=lambda: Timed(DaskRunner("local", 2, announce=lambda _m: None)),
            stop=lambda runner: runner.close(),
            watch=watch,
        )
    # EMA's and mesa.batch_run's process counts (their 1-process pass gives eff_vs_own_x1)
    sizes = (2,) if args.skip_single else (1, 2)
    if not args.skip_ema:
        # before mesa.batch_run, which sets the spawn start method for the whole process
        for procs in sizes:
            rows[f"ema {procs}"] = measure(
                f"EMA multiprocessing x{procs}",
                lambda _h, p=procs: rows_frame(ema_experiments(seeds, args.months, p), "us"),
                processes=procs,
                watch=watch,
            )
    if not args.skip_mesa:
        from mesa.batchrunner import batch_run

        for procs in sizes:
            rows[f"mesa {procs}"] = measure(
                f"mesa.batch_run x{procs}",
                lambda _h, p=procs: rows_frame(
                    batch_run(
                        TimedWorld,
                        parameters={"US": US_DOCTRINES, "months": args.months},
                        number_processes=p,
                        max_steps=args.months + 1,
                        data_collection_period=-1,
                        display_progress=False,
                        rng=list(range(seeds)),
                    ),
                    "US",
                ),
                # number_processes=1 runs in this process
                processes=procs if procs > 1 else 0,
                watch=watch and procs > 1,
            )
    return rows


def traced_peak(tmp: Path, runs: int) -> float:
    """Peak Python memory (MB) traced in this process while our 2-worker pool runs a batch of
    ``runs`` runs of one month: results stream to disk, so it should not grow with the number
    of runs (it is the runs' number, not their length, that the parent holds results for)."""
    spec = tmp / "traced.toml"
    spec.write_text(spec_text(runs, 1), encoding="utf-8")
    runner = Timed(warm_pool(2))
    tracemalloc.start()
    try:
        ours(spec, tmp / "traced")(runner)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
        runner.close()


def repeats(args: argparse.Namespace, spec: Path, tmp: Path, seeds: int) -> dict[str, list[float]]:
    """The 2-process runners again, ``args.repeat`` times, interleaved (the order rotates each
    round, so a slow spell of the machine falls on each runner alike): runs/min per round.

    A single pass compares runners a few minutes apart, and this machine's speed drifts by a few
    per cent between passes (the same engine code ran at 1,259 and 1,287 ms per run), as much as
    the runners differ; ratios taken within a round, over rounds, show whether one is ahead.
    """
    import multiprocessing

    from mesa.batchrunner import batch_run

    def ema(_h: Any) -> pd.DataFrame:
        # mesa.batch_run forces spawn process-wide; EMA's users get Linux's default, fork
        multiprocessing.set_start_method("fork", force=True)
        return rows_frame(ema_experiments(seeds, args.months, 2), "us")

    def mesa_runs(_h: Any) -> pd.DataFrame:
        return rows_frame(
            batch_run(
                TimedWorld,
                parameters={"US": US_DOCTRINES, "months": args.months},
                number_processes=2,
                max_steps=args.months + 1,
                data_collection_period=-1,
                display_progress=False,
                rng=list(range(seeds)),
            ),
            "US",
        )

    runners: dict[str, Callable[[int], dict]] = {
        "chokepoint, pool x2": lambda r: {
            "fn": ours(spec, tmp / f"pool-round{r}"),
            "start": lambda: Timed(warm_pool(2)),
            "stop": lambda runner: runner.close(),
        }
    }
    if not args.skip_ema:
        runners["EMA multiprocessing x2"] = lambda _r: {"fn": ema}
    if not args.skip_mesa:
        runners["mesa.batch_run x2"] = lambda _r: {"fn": mesa_runs}
    speeds: dict[str, list[float]] = {label: [] for label in runners}
    labels = list(runners)
    for round_ in range(args.repeat):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            row = measure(
                f"{label} #{round_ + 1}",
                processes=2,
                watch=False,
                **runners[label](round_),
            )
            speeds[label].append(row["runs_per_min"])
    return speeds


def paired(speeds: dict[str, list[float]]) -> list[str]:
    """Lines comparing our pool with each other runner round by round: the ratio of runs/min
    in each round, their median and range, and whether the pool was ahead in every round."""
    ours = speeds["chokepoint, pool x2"]
    lines = []
    for label, theirs in speeds.items():
        if label == "chokepoint, pool x2":
            continue
        ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
        verdict = (
            "ahead in every round"
            if min(ratios) > 1.0
            else "behind in every round"
            if max(ratios) < 1.0
            else "on par (the sign changes between rounds)"
        )
        lines.append(
            f"pool x2 / {label}: throughput ratio median {float(np.median(ratios)):.3f}, "
            f"range {min(ratios):.3f}-{max(ratios):.3f} over {len(ratios)} rounds: {verdict}"
        )
    return lines


def summary(rows: dict[str, dict]) -> pd.DataFrame:
    """The side-by-side table: wall time, runs/min and efficiencies, CPU per run.

    Columns:
        efficiency: runs/min over ``procs`` x the serial loop's runs/min (wall clock; 0
            processes, in this process, count as one).
        eff_vs_own_x1: the same against the runner's own 1-process figure.
        parent_ms, workers_ms: CPU milliseconds per run of this process and of the workers
            (their start-up and exit included).
        in_runs_ms: CPU milliseconds per run inside the runs (world, steps, outcomes).
        overhead_ms: parent plus workers minus in-runs: what the runner costs per run.
        cpu_efficiency: in-runs over parent plus workers: the share of the CPU that went into
            the runs, the wall efficiency an idle machine allows (the parent's CPU takes from
            the workers' cores).
    """
    serial = rows["serial"]
    table = []
    for key, row in rows.items():
        procs = max(1, row["processes"])
        own = rows.get(key.rsplit(" ", 1)[0] + " 1")
        table.append(
            {
                "runner": row["runner"],
                "procs": row["processes"],
                "runs": row["runs"],
                "wall_s": row["wall_s"],
                "runs_per_min": row["runs_per_min"],
                "efficiency": row["runs_per_min"] / (procs * serial["runs_per_min"]),
                "eff_vs_own_x1": (
                    row["runs_per_min"] / (2 * own["runs_per_min"])
                    if own is not None and row["processes"] == 2
                    else float("nan")
                ),
                "parent_ms": 1e3 * row["parent_cpu_s"],
                "workers_ms": 1e3 * row["workers_cpu_s"],
                "in_runs_ms": 1e3 * row["model_cpu_s"],
                "overhead_ms": 1e3 * (row["cpu_s"] - row["model_cpu_s"]),
                "cpu_efficiency": row["model_cpu_s"] / row["cpu_s"],
            }
        )
    return pd.DataFrame(table).set_index("runner")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="default 200 (quick: 48)")
    parser.add_argument("--months", type=int, default=None, help="default 120 (quick: 6)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            f"{QUICK_RUNS} runs of {QUICK_MONTHS} months, no tracemalloc, no wall-clock floor: "
            "the per-run overhead in CPU time, for a machine other jobs share"
        ),
    )
    parser.add_argument("--skip-mesa", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-ema", action="store_true")
    parser.add_argument(
        "--skip-single",
        action="store_true",
        help=(
            "run EMA and mesa.batch_run with 2 processes only (their own 1-process figures, "
            "eff_vs_own_x1, are then left out): halves the time of the full benchmark"
        ),
    )
    parser.add_argument(
        "--floor",
        type=float,
        default=0.85,
        help="least wall-clock efficiency of the 2-worker pool (not checked with --quick)",
    )
    parser.add_argument(
        "--cpu-floor",
        type=float,
        default=0.9,
        help="least CPU efficiency of the 2-worker pool (the runs' CPU over all its CPU)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help=(
            "after the table, run the 2-process runners (our pool, EMA, mesa) N more rounds, "
            "interleaved, and compare their throughput round by round"
        ),
    )
    args = parser.parse_args(argv)
    args.runs = args.runs or (QUICK_RUNS if args.quick else 200)
    args.months = args.months or (QUICK_MONTHS if args.quick else 120)

    seeds = max(1, args.runs // len(US_DOCTRINES))
    runs = seeds * len(US_DOCTRINES)
    print(
        f"{runs} runs x {args.months} months of {SCENARIO}; {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}; Python {platform.python_version()}, mesa {mesa.__version__}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="chokepoint-bench-"))
    spec = tmp / "benchmark.toml"
    spec.write_text(spec_text(runs, args.months), encoding="utf-8")
    try:
        rows = run_all(args, spec, tmp, seeds)
        if not args.quick:
            traced = traced_peak(tmp, runs)
            print(
                f"Python memory traced in this process, our pool x2, {runs} runs: {traced:.1f} MB"
            )
        speeds = repeats(args, spec, tmp, seeds) if args.repeat > 0 else {}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    table = summary(rows)
    print()
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(float_format=lambda v: f"{v:.2f}", na_rep="-"))
    print()
    ours = rows["pool 2"]
    for key, label in (("ema 2", "EMA Workbench"), ("mesa 2", "mesa.batch_run")):
        if key in rows:
            speed = ours["runs_per_min"] / rows[key]["runs_per_min"]
            cpu = ours["cpu_s"] / rows[key]["cpu_s"]
            print(f"pool x2 against {label} x2: throughput {speed:.2f}x, CPU per run {cpu:.2f}x")

    for line in paired(speeds) if speeds else []:
        print(line)

    reference = rows["serial"]["results"]
    bad = disagreements(reference, {k: v for k, v in rows.items() if k != "serial"})
    if bad:
        print("FAIL: the runners' results differ:\n  " + "\n  ".join(bad))
        return 1
    print(f"all {len(rows)} runners agree on every outcome of all {len(reference)} runs")
    pool = table.loc[ours["runner"]]
    if pool["cpu_efficiency"] < args.cpu_floor:
        print(
            f"FAIL: the 2-worker pool's CPU efficiency {pool['cpu_efficiency']:.2f} is below "
            f"{args.cpu_floor:.2f}: it spends {pool['overhead_ms']:.1f} ms CPU per run beside "
            f"the runs' own {pool['in_runs_ms']:.1f} ms"
        )
        return 2
    if not args.quick and pool["efficiency"] < args.floor:
        print(
            f"FAIL: parallel efficiency {pool['efficiency']:.2f} at 2 workers is below the "
            f"floor of {args.floor:.2f} (goal 0.90); on a shared machine compare it with the "
            "other runners' efficiencies above and with the CPU efficiency"
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

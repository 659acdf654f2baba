"""Batch benchmark: runs per minute of ``chokepoint batch`` against Mesa's own ``batch_run``.

The same runs for every runner: the ``alliance-vs-tariffs-2025`` scenario with the US seat
playing each of four doctrines over consecutive seeds (RUNS runs of MONTHS months), the same
outcomes computed at the end. Runners:

- ``batch, 1 worker``: :class:`experiments.batch.ProcessRunner` with one worker process;
- ``batch, 2 workers``: the same with two (parallel efficiency = 2-worker throughput over twice
  the 1-worker throughput);
- ``batch, dask local``: a ``dask.distributed`` LocalCluster, two single-threaded worker
  processes on loopback (cluster start timed separately);
- ``mesa.batch_run`` with 1 and 2 processes, over a thin ``mesa.Model`` wrapper taking keyword
  parameters (``us``, ``seed``, ``months``) with a DataCollector of the same outcomes.

Peak memory: tracemalloc in this process during our batches (results stream to disk, so it
should not grow with the number of runs) and the peak resident memory of the worker processes
(psutil, sampled every 0.2 s).

    uv run python benchmarks/batch.py [--runs 200] [--months 120] [--skip-mesa]
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

from experiments.batch import DaskRunner, ProcessRunner, run_batch  # noqa: E402
from experiments.outcomes import compute  # noqa: E402
from experiments.spec import Outcome  # noqa: E402
from world import World, load_scenario  # noqa: E402
from world.scenario import scenario_from_dict  # noqa: E402

SCENARIO = "alliance-vs-tariffs-2025"
US_DOCTRINES = ["tariff-hawk", "alliance-builder", "dealmaker-resilience", "stockpiler"]
OUTCOMES = [
    Outcome(name="clean_share", derived="clean_share"),
    Outcome(name="years_to_resilience", derived="years_to_resilience"),
    Outcome(name="us_magnet_price", variable="price", commodity="magnet", region="US"),
    Outcome(name="fiscal_cost", derived="fiscal_cost", scale=1e-9),
]


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


class BatchWorld(mesa.Model):
    """A thin Mesa model over the world, taking keyword parameters as ``batch_run`` needs."""

    _base: dict | None = None

    def __init__(self, us: str = "alliance-builder", months: int = 120, seed: int = 0):
        super().__init__(rng=seed)
        if BatchWorld._base is None:
            BatchWorld._base = load_scenario(SCENARIO).model_dump(mode="json")
        data = {**BatchWorld._base, "seats": dict(BatchWorld._base["seats"])}
        data["seats"]["US"] = {**data["seats"]["US"], "doctrine": us, "params": {}}
        self.world = World(scenario_from_dict(data, SCENARIO), seed=seed)
        self.months = months
        self.datacollector = mesa.DataCollector(
            model_reporters={o.name: (lambda m, o=o: compute(m.world, o)) for o in OUTCOMES}
        )

    def step(self) -> None:
        self.world.step()
        if self.world.month >= self.months:
            self.running = False
            self.datacollector.collect(self)  # the outcomes, once, at the end


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
    if trace:
        tracemalloc.start()
    with MemoryWatch() as watch:
        started = time.perf_counter()
        done = fn()
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
    }
    print(
        f"{label:<24} {done:>5} runs {wall:>8.1f} s {row['runs_per_min']:>9.1f} runs/min  "
        f"parent traced peak {row['parent_traced_mb']:>7.1f} MB  parent RSS "
        f"{row['parent_rss_mb']:>7.1f} MB  workers RSS {row['workers_rss_mb']:>7.1f} MB",
        flush=True,
    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--skip-mesa", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
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
                        run_batch(spec, tmp / f"w{w}", progress=False, runner=r).executed
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
                        run_batch(spec, tmp / "dask", progress=False, runner=dask_runner).executed
                    ),
                )
            finally:
                dask_runner.close()
        if not args.skip_mesa:
            from mesa.batchrunner import batch_run

            for procs in (1, 2):
                rows[f"mesa {procs}"] = measure(
                    f"mesa.batch_run, {procs} proc",
                    runs,
                    lambda p=procs: len(
                        batch_run(
                            BatchWorld,
                            parameters={"us": US_DOCTRINES, "months": args.months},
                            number_processes=p,
                            max_steps=args.months,
                            data_collection_period=-1,
                            display_progress=False,
                            rng=list(range(seeds)),
                        )
                    ),
                    trace=procs > 1,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    one, two = rows["batch 1"]["runs_per_min"], rows["batch 2"]["runs_per_min"]
    print(f"parallel efficiency (2 workers / (2 x 1 worker)): {two / (2 * one):.2f} (floor 0.85)")
    for procs in (1, 2):
        if f"mesa {procs}" in rows:
            ours = rows[f"batch {procs}"]["runs_per_min"]
            theirs = rows[f"mesa {procs}"]["runs_per_min"]
            if theirs <= 0:
                print(f"mesa.batch_run, {procs} process(es): returned no rows")
                continue
            print(f"throughput vs mesa.batch_run, {procs} process(es): {ours / theirs:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Batches: every run of an experiment spec, on local processes or a Dask cluster.

A run is one (lever setting, uncertainty sample, seed). Its id is a hash of the base scenario's
content hash, the horizon, the lever values (order sets by content), the sample's values and the
seed, so a run gives the same row whichever runner runs it, and a rerun skips it.

Output directory::

    DIR/spec.toml              the spec as run
    DIR/manifest.json          spec hash, scenario hash, package version, seeds, counts
    DIR/outcomes/part-*.parquet   one row per run and outcome  ->  pandas.read_parquet(DIR/outcomes)
    DIR/series/part-*.parquet     monthly series chosen in the spec (run_id, series, month, value)
    DIR/failures/part-*.parquet   runs that raised: parameters, seed, error, traceback

Each part file is written to a temporary name and renamed, so an interrupted batch leaves only
whole files; rerunning the same command runs what is missing.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import platform
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.outcomes import compute, select, series_name
from experiments.runs import package_version
from experiments.spec import (
    ExperimentSpec,
    SpecError,
    lever_label,
    lever_settings,
    load_spec,
    resolve_scenario_ref,
    run_id,
    scale_path,
    set_path,
    spec_from_dict,
    spec_hash,
    uncertainty_samples,
)

OUTCOMES_DIR = "outcomes"
SERIES_DIR = "series"
FAILURES_DIR = "failures"
SPEC_FILE = "spec.toml"
MANIFEST_FILE = "manifest.json"
MAX_ATTEMPTS = 3


class BatchError(Exception):
    """A batch that cannot start, for a reason the user can fix."""


@dataclass(frozen=True)
class Run:
    """One run of the plan."""

    run_id: str
    lever: dict[str, Any]
    sample_index: int
    sample: dict[str, float]
    seed: int

    def row(self) -> dict[str, Any]:
        """The run's identifying columns."""
        return {
            "run_id": self.run_id,
            "lever": lever_label(self.lever),
            "sample": self.sample_index,
            "seed": self.seed,
            **{k: v for k, v in self.lever.items()},
            **{k: v for k, v in self.sample.items()},
        }


@dataclass
class Plan:
    spec: ExperimentSpec
    text: str
    scenario_ref: str
    scenario_hash: str
    months: int
    levers: list[dict[str, Any]]
    samples: list[dict[str, float]]
    runs: list[Run]


def make_plan(spec: ExperimentSpec, text: str, base_dir: Path | None = None) -> Plan:
    """Every run of a spec, in a fixed order (lever, sample, seed)."""
    from world import load_scenario
    from world.scenario import scenario_hash

    ref = resolve_scenario_ref(spec.scenario, base_dir)
    base = load_scenario(ref)
    data = base.model_dump(mode="json")
    shash = scenario_hash(base)
    months = spec.months or base.months
    levers = lever_settings(spec)
    samples = uncertainty_samples(spec, data)
    runs = []
    for lever in levers:
        ident = dict(lever)
        if "orders" in ident:
            ident["orders"] = spec.levers.orders[ident["orders"]]
        for i, sample in enumerate(samples):
            for seed in spec.seed_list:
                runs.append(Run(run_id(shash, months, ident, sample, seed), lever, i, sample, seed))
    return Plan(spec, text, ref, shash, months, levers, samples, runs)


# --------------------------------------------------------------------------- one run (workers)

#: per worker process: spec text hash -> (spec, base scenario data)
_CONTEXT: dict[str, tuple[ExperimentSpec, dict]] = {}


def _context(text: str, scenario_ref: str) -> tuple[ExperimentSpec, dict]:
    import tomllib

    from world import load_scenario

    key = spec_hash(text + scenario_ref)
    if key not in _CONTEXT:
        data = tomllib.loads(text)
        data["scenario"] = scenario_ref
        spec = spec_from_dict(data, "<batch>")
        _CONTEXT[key] = (spec, load_scenario(scenario_ref).model_dump(mode="json"))
    return _CONTEXT[key]


def build_scenario(spec: ExperimentSpec, base: dict, run: Run):
    """The scenario of one run: the base with the lever setting and the sample applied."""
    from world.scenario import scenario_from_dict

    data = copy.deepcopy(base)
    seats = data.setdefault("seats", {})
    for factor, value in run.lever.items():
        if factor.startswith("doctrine."):
            region = factor.removeprefix("doctrine.")
            seat = dict(seats.get(region, {}))
            if seat.get("doctrine") != value:
                seat["params"] = {}
            seat["doctrine"] = value
            seats[region] = seat
        elif factor == "orders":
            data["orders"] = [*data.get("orders", []), *spec.levers.orders[value]]
        else:
            set_path(data, factor, value)
    for path, value in run.sample.items():
        if spec.uncertainties[path].apply == "scale":
            scale_path(data, path, value)
        else:
            set_path(data, path, value)
    return scenario_from_dict(data, f"{data['name']}[{run.run_id}]")


def execute(text: str, scenario_ref: str, months: int, run: Run) -> dict[str, Any]:
    """Run one world and compute its outcomes; an exception is returned as a failure record."""
    from world import World

    started = time.perf_counter()
    try:
        spec, base = _context(text, scenario_ref)
        world = World(build_scenario(spec, base, run), seed=run.seed)
        world.run(months)
        outcomes = {out.name: compute(world, out) for out in spec.outcomes}
        series = {series_name(s): select(world, s).tolist() for s in spec.series}
    except Exception as exc:
        return {
            "run_id": run.run_id,
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "wall_s": time.perf_counter() - started,
        }
    return {
        "run_id": run.run_id,
        "ok": True,
        "outcomes": outcomes,
        "series": series,
        "wall_s": time.perf_counter() - started,
    }


# --------------------------------------------------------------------------- storage


def _write_atomic(frame: pd.DataFrame, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"part-{time.time_ns():x}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = directory / f".{name}.tmp"
    frame.to_parquet(tmp, engine="pyarrow", index=False)
    os.replace(tmp, directory / name)
    return directory / name


def _read_dir(directory: Path, columns: list[str] | None = None) -> pd.DataFrame:
    if not directory.is_dir() or not any(directory.glob("part-*.parquet")):
        return pd.DataFrame()
    return pd.read_parquet(directory, columns=columns)


def completed_ids(out: Path) -> set[str]:
    """Ids of the runs whose outcomes are stored."""
    frame = _read_dir(out / OUTCOMES_DIR, ["run_id"])
    return set(frame["run_id"]) if not frame.empty else set()


def load_outcomes(out: Path | str) -> pd.DataFrame:
    """One row per run and outcome (same as ``pandas.read_parquet(DIR / "outcomes")``)."""
    return _read_dir(Path(out) / OUTCOMES_DIR)


def load_series(out: Path | str) -> pd.DataFrame:
    return _read_dir(Path(out) / SERIES_DIR)


def load_failures(out: Path | str) -> pd.DataFrame:
    """Failed runs, latest attempt per run, without runs that later succeeded."""
    frame = _read_dir(Path(out) / FAILURES_DIR)
    if frame.empty:
        return frame
    done = completed_ids(Path(out))
    frame = frame[~frame["run_id"].isin(done)]
    return frame.drop_duplicates("run_id", keep="last").reset_index(drop=True)


class ChunkWriter:
    """Buffers finished runs and writes them as whole part files."""

    def __init__(self, out: Path, runs: dict[str, Run], chunk_runs: int):
        self.out, self.runs, self.chunk_runs = out, runs, chunk_runs
        self.rows: list[dict] = []
        self.series: list[dict] = []
        self.failures: list[dict] = []
        self.pending = 0

    def add(self, record: dict, attempts: int = 1) -> None:
        run = self.runs[record["run_id"]]
        base = run.row()
        if record["ok"]:
            for name, value in record["outcomes"].items():
                self.rows.append({**base, "outcome": name, "value": float(value)})
            for name, values in record["series"].items():
                self.series.extend(
                    {"run_id": run.run_id, "series": name, "month": m, "value": float(v)}
                    for m, v in enumerate(values)
                )
        else:
            self.failures.append(
                {
                    "run_id": run.run_id,
                    "lever": base["lever"],
                    "sample": run.sample_index,
                    "seed": run.seed,
                    "parameters": json.dumps({**run.lever, **run.sample}, default=str),
                    "error": record["error"],
                    "traceback": record.get("traceback", ""),
                    "attempts": attempts,
                    "when": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        self.pending += 1
        if self.pending >= self.chunk_runs:
            self.flush()

    def flush(self) -> None:
        # series and failures first: a run counts as done once its outcomes are written
        if self.series:
            _write_atomic(pd.DataFrame(self.series), self.out / SERIES_DIR)
        if self.failures:
            _write_atomic(pd.DataFrame(self.failures), self.out / FAILURES_DIR)
        if self.rows:
            _write_atomic(pd.DataFrame(self.rows), self.out / OUTCOMES_DIR)
        self.rows, self.series, self.failures, self.pending = [], [], [], 0


# --------------------------------------------------------------------------- runners


def _serial(plan: Plan, todo: list[Run]) -> Iterator[tuple[dict, int]]:
    for run in todo:
        yield execute(plan.text, plan.scenario_ref, plan.months, run), 1


def _died(run: Run, attempts: int, why: str) -> dict:
    return {
        "run_id": run.run_id,
        "ok": False,
        "error": f"WorkerDied: {why} ({attempts} attempts)",
        "traceback": "",
    }


class ProcessRunner:
    """A reused process pool; a pool broken by a dying worker is rebuilt and its runs retried."""

    def __init__(self, workers: int, max_attempts: int = MAX_ATTEMPTS):
        self.workers, self.max_attempts = workers, max_attempts
        self.pool: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # fork where it exists: workers start in milliseconds with the engine imported, and
            # the pool does not depend on a start method someone else set (mesa.batch_run
            # forces spawn process-wide)
            context = (
                multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
            )
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self.pool

    def __call__(self, plan: Plan, todo: list[Run]) -> Iterator[tuple[dict, int]]:
        queue = list(reversed(todo))
        attempts: dict[str, int] = {}
        in_flight: dict[Any, Run] = {}
        window = 2 * self.workers
        try:
            while queue or in_flight:
                while queue and len(in_flight) < window:
                    run = queue.pop()
                    attempts[run.run_id] = attempts.get(run.run_id, 0) + 1
                    try:
                        future = self._pool().submit(
                            execute, plan.text, plan.scenario_ref, plan.months, run
                        )
                    except BrokenProcessPool:
                        queue.append(run)
                        attempts[run.run_id] -= 1
                        self._reset()
                        continue
                    in_flight[future] = run
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    run = in_flight.pop(future)
                    try:
                        yield future.result(), attempts[run.run_id]
                    except BrokenProcessPool:
                        broken = True
                        if attempts[run.run_id] >= self.max_attempts:
                            yield (
                                _died(run, attempts[run.run_id], "a worker process died"),
                                (attempts[run.run_id]),
                            )
                        else:
                            queue.append(run)
                if broken:
                    for future, run in list(in_flight.items()):
                        queue.append(run)
                        in_flight.pop(future)
                    self._reset()
        finally:
            for future in in_flight:
                future.cancel()

    def _reset(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None


class DaskRunner:
    """Runs on a dask.distributed cluster: ``local`` starts a LocalCluster on loopback."""

    def __init__(
        self,
        address: str,
        workers: int,
        retries: int = MAX_ATTEMPTS - 1,
        announce: Callable[[str], None] = print,
    ):
        from dask.distributed import Client, LocalCluster

        self.cluster = None
        if address == "local":
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(address)
        self.retries = retries
        self.owns_client = True
        announce(f"Dask scheduler {self.client.scheduler.address}; dashboard {self.dashboard}")

    @classmethod
    def from_client(cls, client: Any, retries: int = MAX_ATTEMPTS - 1) -> DaskRunner:
        """A runner on an existing client (which the caller closes)."""
        runner = cls.__new__(cls)
        runner.client, runner.cluster, runner.retries = client, None, retries
        runner.owns_client = False
        return runner

    @property
    def dashboard(self) -> str:
        return self.client.dashboard_link or "(none)"

    def __call__(self, plan: Plan, todo: list[Run]) -> Iterator[tuple[dict, int]]:
        from dask.distributed import as_completed
        from distributed.client import FutureCancelledError

        window = max(4, 2 * len(self.client.scheduler_info()["workers"]))
        queue = list(reversed(todo))
        futures = {}

        def submit(run: Run):
            future = self.client.submit(
                execute,
                plan.text,
                plan.scenario_ref,
                plan.months,
                run,
                key=f"run-{run.run_id}-{uuid.uuid4().hex[:8]}",
                pure=False,
                retries=self.retries,
            )
            futures[future] = run
            return future

        first = [submit(queue.pop()) for _ in range(min(window, len(queue)))]
        pending = as_completed(first)
        try:
            for future in pending:
                run = futures.pop(future)
                try:
                    record = future.result()
                except (FutureCancelledError, Exception) as exc:  # the cluster gave up
                    record = _died(run, self.retries + 1, f"{type(exc).__name__}: {exc}")
                future.release()
                yield record, 1
                if queue:
                    pending.add(submit(queue.pop()))
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self.owns_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# --------------------------------------------------------------------------- the batch


@dataclass
class BatchResult:
    out: Path
    planned: int
    skipped: int
    executed: int = 0
    failed: int = 0
    wall_s: float = 0.0
    manifest: dict = field(default_factory=dict)


def _check_out(out: Path, text: str) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot create output directory {out}: {exc.strerror or exc}") from None
    previous = out / SPEC_FILE
    if previous.exists() and spec_hash(previous.read_text(encoding="utf-8")) != spec_hash(text):
        raise BatchError(
            f"{out} holds results of a different spec ({previous}); use another --out directory"
        )


def _manifest(plan: Plan, out: Path, extra: dict) -> dict:
    spec = plan.spec
    stored = completed_ids(out)
    failures = load_failures(out)
    manifest = {
        "experiment": spec.name,
        "spec_file": SPEC_FILE,
        "spec_hash": spec_hash(plan.text),
        "scenario": spec.scenario,
        "scenario_hash": plan.scenario_hash,
        "months": plan.months,
        "seeds": spec.seed_list,
        "sampling": spec.sampling.model_dump(),
        "uncertainties": list(spec.uncertainties),
        "levers": [lever_label(lever) for lever in plan.levers],
        "outcomes": [o.name for o in spec.outcomes],
        "series": [series_name(s) for s in spec.series],
        "counts": {
            "lever_settings": len(plan.levers),
            "samples": len(plan.samples),
            "seeds": len(spec.seed_list),
            "runs_planned": len(plan.runs),
            "runs_completed": len(stored & {r.run_id for r in plan.runs}),
            "runs_failed": len(failures),
        },
        "chokepoint_version": package_version(),
        "python": platform.python_version(),
        "load": "pandas.read_parquet(DIR / 'outcomes')",
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        **extra,
    }
    tmp = out / f".{MANIFEST_FILE}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / MANIFEST_FILE)
    return manifest


def run_batch(
    spec_path: Path | str,
    out: Path | str,
    *,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
    announce: Callable[[str], None] = print,
    runner: Any = None,
) -> BatchResult:
    """Run every missing run of a spec into ``out``.

    Args:
        workers: local worker processes (default: one per core); 1 runs in this process.
        dask: ``"local"`` for a LocalCluster, or a scheduler address (``tcp://host:8786``).
        progress: show a tqdm bar (default: when stderr is a terminal).
        runner: a ready runner (ProcessRunner or DaskRunner) to reuse across batches.

    Raises:
        SpecError: if the spec is invalid.
        BatchError: if the output directory cannot be used.
    """
    spec, text = load_spec(spec_path)
    out = Path(out)
    _check_out(out, text)
    plan = make_plan(spec, text, Path(spec_path).parent)
    tmp = out / f".{SPEC_FILE}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out / SPEC_FILE)

    done = completed_ids(out)
    todo = [run for run in plan.runs if run.run_id not in done]
    result = BatchResult(out, len(plan.runs), len(plan.runs) - len(todo))
    workers = workers or os.cpu_count() or 1
    own_runner = runner is None
    if runner is None and todo:
        if dask is not None:
            runner = DaskRunner(dask, workers, announce=announce)
        elif workers > 1:
            runner = ProcessRunner(workers)
    execute_all = runner if runner is not None else (lambda p, t: _serial(p, t))
    kind = "dask" if isinstance(runner, DaskRunner) else f"processes x{workers}"
    if runner is None:
        kind = "in-process"

    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=spec.name, unit="run", file=sys.stderr)
    writer = ChunkWriter(out, {r.run_id: r for r in plan.runs}, spec.chunk_runs)
    started = time.perf_counter()
    try:
        for record, attempts in execute_all(plan, todo):
            writer.add(record, attempts)
            result.executed += 1
            result.failed += 0 if record["ok"] else 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=result.failed)
    finally:
        writer.flush()
        if bar is not None:
            bar.close()
        if own_runner and runner is not None:
            runner.close()
        result.wall_s = time.perf_counter() - started
        result.manifest = _manifest(plan, out, {"runner": kind})
    return result


__all__ = [
    "BatchError",
    "DaskRunner",
    "ProcessRunner",
    "Run",
    "SpecError",
    "execute",
    "load_failures",
    "load_outcomes",
    "load_series",
    "make_plan",
    "run_batch",
]

"""Batches: every run of an experiment spec, on local processes or a Dask cluster.

A run is one (lever setting, uncertainty sample, seed). Its id is a hash of the base scenario's
content hash, the horizon, the lever values (order sets by content), the sample's values and the
seed, so a run gives the same row whichever runner runs it, and a rerun skips it.

Output directory::

    DIR/spec.json              the spec as run (canonical JSON; what the spec hash is of)
    DIR/spec.toml              the spec file as written, when the batch ran from a file
    DIR/manifest.json          spec, scenario and package hashes, seeds, counts
    DIR/outcomes/part-*.parquet   one row per run and outcome  ->  pandas.read_parquet(DIR/outcomes)
    DIR/series/part-*.parquet     monthly series chosen in the spec (run_id, series, month, value)
    DIR/failures/part-*.parquet   runs that raised: parameters, seed, error, traceback

Each part file is written to a temporary name and renamed, so an interrupted batch leaves only
whole files; rerunning the same command runs what is missing. A rerun whose spec, scenario or
engine differs from the stored runs' is refused (``fresh=True`` starts afresh). SIGTERM and
SIGINT stop the batch cleanly: finished runs are written, workers are ended.
"""

from __future__ import annotations

import copy
import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import signal
import sys
import threading
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
from experiments.progress import Progress
from experiments.runs import package_version
from experiments.spec import (
    ExperimentSpec,
    SpecError,
    as_spec,
    lever_identity,
    lever_label,
    lever_settings,
    resolve_scenario_ref,
    results_hash,
    run_id,
    scale_path,
    seat_setting,
    set_path,
    spec_from_dict,
    spec_hash,
    spec_payload,
    uncertainty_samples,
)

OUTCOMES_DIR = "outcomes"
SERIES_DIR = "series"
FAILURES_DIR = "failures"
SPEC_FILE = "spec.toml"
SPEC_JSON = "spec.json"
MANIFEST_FILE = "manifest.json"
MAX_ATTEMPTS = 3
#: Seconds a Dask batch waits with no worker connected before it gives up.
DASK_WORKER_TIMEOUT_S = 120.0
#: Seconds to connect to a Dask scheduler.
DASK_CONNECT_TIMEOUT_S = 10.0
#: The packages and modules whose code determines a run's results (hashed in the manifest).
ENGINE_SOURCES = ("world", "agents", "experiments/spec.py", "experiments/outcomes.py")


class BatchError(Exception):
    """A batch that cannot start, for a reason the user can fix."""


class BatchInterrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT stopped a batch; finished runs were written.

    Attributes:
        signum: the signal's number (exit with ``128 + signum``).
    """

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


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
    source_text: str | None = None


def make_plan(
    spec: ExperimentSpec,
    text: str | None = None,
    base_dir: Path | None = None,
    levers: list[dict[str, Any]] | None = None,
) -> Plan:
    """Every run of a spec, in a fixed order (lever, sample, seed).

    Args:
        text: the spec file's text, kept beside the results (None for a spec given as data).
        base_dir: where a relative scenario path starts from.
        levers: lever settings to run instead of the spec's full factorial (the search's).
    """
    from world import load_scenario
    from world.scenario import scenario_hash

    ref = resolve_scenario_ref(spec.scenario, base_dir)
    base = load_scenario(ref)
    data = base.model_dump(mode="json")
    shash = scenario_hash(base)
    months = spec.months or base.months
    levers = lever_settings(spec) if levers is None else levers
    samples = uncertainty_samples(spec, data)
    runs = []
    for lever in levers:
        ident = lever_identity(spec, lever)
        for i, sample in enumerate(samples):
            for seed in spec.seed_list:
                rid = run_id(shash, months, ident, sample, seed, point=i)
                runs.append(Run(rid, lever, i, sample, seed))
    payload = spec_payload(spec.model_copy(update={"scenario": ref}))
    plan = Plan(spec, payload, ref, shash, months, levers, samples, runs)
    plan.source_text = text
    return plan


def check_plan(plan: Plan, limit: int = 20) -> list[str]:
    """Every design point's scenario validated before any run starts (seeds aside, as they do
    not change the scenario): one line per distinct problem, naming the first point it occurs
    at and how many points share it.

    Args:
        limit: at most this many lines (then one saying how many more).
    """
    from world.field_errors import ProblemsError

    spec, base = _context(plan.text, plan.scenario_ref)
    found: dict[str, tuple[str, int]] = {}
    for lever in plan.levers:
        for i, sample in enumerate(plan.samples):
            run = Run("check", lever, i, sample, 0)
            try:
                build_scenario(spec, base, run)
            except ProblemsError as exc:
                problems = exc.problems
            except (KeyError, TypeError, ValueError) as exc:
                problems = [f"{type(exc).__name__}: {exc}"]
            else:
                continue
            values = ", ".join(f"{k}={v:g}" for k, v in sample.items())
            where = f"lever {lever_label(lever)}" + (f"; sample {i} ({values})" if values else "")
            for problem in problems:
                first, count = found.get(problem, (where, 0))
                found[problem] = (first, count + 1)
    lines = [
        f"{problem} (at {where}" + (f", and {count - 1} more design points)" if count > 1 else ")")
        for problem, (where, count) in found.items()
    ]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more problems"]
    return lines


# --------------------------------------------------------------------------- one run (workers)

#: per worker process: spec text hash -> (spec, base scenario data)
_CONTEXT: dict[str, tuple[ExperimentSpec, dict]] = {}


def _context(text: str, scenario_ref: str) -> tuple[ExperimentSpec, dict]:
    from world import load_scenario

    key = spec_hash(text + scenario_ref)
    if key not in _CONTEXT:
        data = json.loads(text)
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
            doctrine, params = seat_setting(spec, value)
            seat = dict(seats.get(region, {}))
            if seat.get("doctrine") != doctrine:
                seat["params"] = {}
            if params is not None:
                seat["params"] = copy.deepcopy(params)
            seat["doctrine"] = doctrine
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
    """Run one world and compute its outcomes; an exception is returned as a failure record.

    The record has the run's wall and CPU seconds (``wall_s``, ``cpu_s``: process time in the
    process that ran it), which the batch benchmark sets against the runner's own CPU.
    """
    from world import World

    started, cpu_started = time.perf_counter(), time.process_time()
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
            "cpu_s": time.process_time() - cpu_started,
        }
    return {
        "run_id": run.run_id,
        "ok": True,
        "outcomes": outcomes,
        "series": series,
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,
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


def _worker_start() -> None:
    """In a new pool worker: die on SIGTERM and leave Ctrl-C to the parent, which ends the
    workers after writing the finished runs (a forked worker would otherwise inherit the batch's
    handlers and outlive the terminate).

    And freeze the objects inherited from the parent (modules, the engine's imports: some
    150,000) out of the garbage collector's reach: they live as long as the worker, yet every
    full collection walked them, about 15 ms per 60-month run (1.5% of it), and copied their
    pages (fork shares them copy-on-write). What the runs allocate is collected as before.
    """
    import gc

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()


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
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_worker_start
            )
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

    def worker_pids(self) -> list[int]:
        """The pool's worker processes' ids (empty before the first run)."""
        processes = getattr(self.pool, "_processes", None) or {}
        return [p.pid for p in processes.values() if p.pid is not None]

    def close(self, terminate: bool = False) -> None:
        """Shut the pool down.

        Args:
            terminate: end the workers now (on SIGTERM or SIGINT) instead of letting their
                runs finish; their runs are not stored and a rerun does them again.
        """
        if self.pool is None:
            return
        if terminate:
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
        self.pool.shutdown(wait=not terminate, cancel_futures=True)
        self.pool = None


class DaskRunner:
    """Runs on a dask.distributed cluster: ``local`` starts a LocalCluster on loopback."""

    def __init__(
        self,
        address: str,
        workers: int,
        retries: int = MAX_ATTEMPTS - 1,
        announce: Callable[[str], None] = print,
        worker_timeout_s: float = DASK_WORKER_TIMEOUT_S,
    ):
        from dask.distributed import Client, LocalCluster

        self.cluster = None
        self.worker_timeout_s = worker_timeout_s
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
            self.client = _connect(address)
        self.retries = retries
        self.owns_client = True
        announce(f"Dask scheduler {self.client.scheduler.address}; dashboard {self.dashboard}")

    @classmethod
    def from_client(
        cls,
        client: Any,
        retries: int = MAX_ATTEMPTS - 1,
        worker_timeout_s: float = DASK_WORKER_TIMEOUT_S,
    ) -> DaskRunner:
        """A runner on an existing client (which the caller closes)."""
        runner = cls.__new__(cls)
        runner.client, runner.cluster, runner.retries = client, None, retries
        runner.worker_timeout_s = worker_timeout_s
        runner.owns_client = False
        return runner

    def _workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    @property
    def dashboard(self) -> str:
        return self.client.dashboard_link or "(none)"

    def __call__(self, plan: Plan, todo: list[Run]) -> Iterator[tuple[dict, int]]:
        from dask.distributed import wait as dask_wait
        from distributed.client import FutureCancelledError

        window = max(4, 2 * self._workers())
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

        for _ in range(min(window, len(queue))):
            submit(queue.pop())
        alone_since: float | None = None
        try:
            while futures:
                try:
                    done, _ = dask_wait(list(futures), timeout=1.0, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                if not done:
                    # tasks wait silently for workers for ever: give up after a while
                    if self._workers():
                        alone_since = None
                    elif alone_since is None:
                        alone_since = time.monotonic()
                    elif time.monotonic() - alone_since > self.worker_timeout_s:
                        raise BatchError(
                            f"no Dask worker has been connected to the scheduler "
                            f"{self.client.scheduler.address} for {self.worker_timeout_s:g} s; "
                            "start workers (dask worker ADDRESS --nthreads 1) and rerun the "
                            "same command to resume"
                        )
                    continue
                for future in done:
                    run = futures.pop(future)
                    try:
                        record = future.result()
                    except (FutureCancelledError, Exception) as exc:  # the cluster gave up
                        record = _died(run, self.retries + 1, f"{type(exc).__name__}: {exc}")
                    future.release()
                    yield record, 1
                    if queue:
                        submit(queue.pop())
        finally:
            for future in futures:
                future.cancel()

    def close(self, terminate: bool = False) -> None:
        """Close the client and a LocalCluster this runner started (its workers end too)."""
        if self.owns_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _connect(address: str) -> Any:
    """A Dask client on a scheduler address, or a BatchError saying what is wrong with it."""
    from dask.distributed import Client

    if "://" not in address and ":" not in address:
        raise BatchError(
            f"--dask {address!r}: not a scheduler address; give 'local' or tcp://HOST:PORT"
        )
    try:
        return Client(address, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise BatchError(
            f"--dask {address!r}: cannot reach a Dask scheduler there within "
            f"{DASK_CONNECT_TIMEOUT_S:g} s ({type(exc).__name__}: {_short(exc)}); give 'local' or "
            "the tcp://HOST:PORT that `dask scheduler` printed"
        ) from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
    warnings: list[str] = field(default_factory=list)
    runner: str = "in-process"


def engine_hash() -> str:
    """A hash of the code that determines a run's results (:data:`ENGINE_SOURCES`) and of the
    package version: a rerun on changed code would mix results of two engines."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(package_version().encode())
    for source in ENGINE_SOURCES:
        path = root / source
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _provenance(plan: Plan) -> dict[str, str]:
    return {
        "spec_hash": results_hash(plan.text),
        "scenario_hash": plan.scenario_hash,
        "engine_hash": engine_hash(),
    }


#: What each provenance hash is of, for the refusal message.
_PROVENANCE_NAMES = {
    "spec_hash": "the spec (what it runs; description, ranking and discovery aside)",
    "scenario_hash": "the scenario",
    "engine_hash": "the engine (world, agents, outcomes code or package version)",
}


def _prepare_out(out: Path, provenance: dict[str, str], fresh: bool) -> None:
    """Create ``out``; refuse to add to results made by a different spec, scenario or engine
    (or, with ``fresh``, delete them first)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot create output directory {out}: {exc.strerror or exc}") from None
    if fresh:
        for name in (OUTCOMES_DIR, SERIES_DIR, FAILURES_DIR, "report"):
            shutil.rmtree(out / name, ignore_errors=True)
        for name in (SPEC_FILE, SPEC_JSON, MANIFEST_FILE):
            (out / name).unlink(missing_ok=True)
        return
    stored = completed_ids(out) or not load_failures(out).empty
    manifest_path = out / MANIFEST_FILE
    if not stored:
        return
    if not manifest_path.is_file():
        raise BatchError(
            f"{out} holds runs but no {MANIFEST_FILE}, so what made them is unknown; "
            "use another --out directory, or --fresh to delete them and start afresh"
        )
    previous = json.loads(manifest_path.read_text(encoding="utf-8"))
    changed = [
        f"{_PROVENANCE_NAMES[key]} ({previous.get(key, 'not recorded')} -> {value})"
        for key, value in provenance.items()
        if previous.get(key) != value
    ]
    if changed:
        raise BatchError(
            f"{out} holds runs of a different experiment; changed since: {'; '.join(changed)}. "
            "Mixing them would give a wrong report: use another --out directory, or --fresh to "
            "delete the stored runs and start afresh"
        )


def _manifest(plan: Plan, out: Path, extra: dict) -> dict:
    spec = plan.spec
    planned = {r.run_id for r in plan.runs}
    stored = completed_ids(out) & planned
    failures = load_failures(out)
    failed = int(failures["run_id"].isin(planned).sum()) if not failures.empty else 0
    manifest = {
        "experiment": spec.name,
        "spec_file": SPEC_JSON,
        **_provenance(plan),
        "scenario": spec.scenario,
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
            "runs_completed": len(stored),
            "runs_failed": failed,
        },
        "chokepoint_version": package_version(),
        "python": platform.python_version(),
        "load": "pandas.read_parquet(DIR / 'outcomes')",
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        **extra,
    }
    _write_text(out / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    return manifest


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class _StopOnSignals:
    """While active, SIGTERM (what ``timeout`` and cluster schedulers send) raises
    :class:`BatchInterrupted` in the main thread like SIGINT does, so the batch's ``finally``
    writes the finished runs and ends the workers instead of the process dying with them.

    Does nothing off the main thread, where Python cannot set signal handlers."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self):
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self.previous[signum] = signal.signal(signum, self._raise)
        return self

    def _raise(self, signum, frame):
        # once is enough: a second signal while cleaning up must not cut the cleanup short
        for other in self.SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        raise BatchInterrupted(signum)

    def __exit__(self, *exc):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def run_plan(
    plan: Plan,
    out: Path,
    result: BatchResult,
    *,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
    progress_every_s: float = 5.0,
    announce: Callable[[str], None] = print,
    runner: Any = None,
    manifest: bool = True,
) -> BatchResult:
    """Run the runs of a checked plan that ``out`` does not hold yet, writing them as they
    finish (arguments as :func:`run_batch`); counts go into ``result``.

    Args:
        manifest: write ``out/manifest.json`` for this plan at the end, however it ends.

    Raises:
        BatchError: if Dask cannot be reached or has no workers.
        BatchInterrupted: on SIGTERM or SIGINT, after writing the finished runs.
    """
    done = completed_ids(out)
    todo = [run for run in plan.runs if run.run_id not in done]
    result.skipped += len(plan.runs) - len(todo)
    workers = workers or os.cpu_count() or 1
    own_runner = runner is None
    writer = ChunkWriter(out, {r.run_id: r for r in plan.runs}, plan.spec.chunk_runs)
    meter = None
    interrupted = False
    started = time.perf_counter()
    with _StopOnSignals():
        try:
            if runner is None and todo:
                if dask is not None:
                    runner = DaskRunner(dask, workers, announce=announce)
                elif workers > 1:
                    runner = ProcessRunner(workers)
            if isinstance(runner, DaskRunner):
                result.runner = "dask"
            elif runner is not None:
                result.runner = f"processes x{getattr(runner, 'workers', workers)}"
            execute_all = runner if runner is not None else _serial
            meter = Progress(plan.spec.name, len(todo), bar=progress, every_s=progress_every_s)
            for record, attempts in execute_all(plan, todo):
                writer.add(record, attempts)
                result.executed += 1
                result.failed += 0 if record["ok"] else 1
                meter.update(record["ok"])
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            writer.flush()
            if meter is not None:
                meter.close()
            if runner is not None and (own_runner or interrupted):
                runner.close(terminate=interrupted)
            result.wall_s += time.perf_counter() - started
            if manifest:
                result.manifest = _manifest(plan, out, {"runner": result.runner})
    return result


def run_batch(
    spec: ExperimentSpec | dict | str | Path,
    out: Path | str,
    *,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
    progress_every_s: float = 5.0,
    announce: Callable[[str], None] = print,
    runner: Any = None,
    fresh: bool = False,
    check_only: bool = False,
) -> BatchResult:
    """Run every missing run of a spec into ``out``.

    Every design point is first checked against the scenario: a batch with an invalid point
    does not start.

    Args:
        spec: a spec file's path, a spec as a dictionary, or an :class:`ExperimentSpec`.
        workers: local worker processes (default: one per core); 1 runs in this process.
        dask: ``"local"`` for a LocalCluster, or a scheduler address (``tcp://host:8786``).
        progress: a tqdm bar (True) or a plain line every ``progress_every_s`` seconds
            (False); default: a bar when stderr is a terminal, else lines.
        runner: a ready runner (ProcessRunner or DaskRunner) to reuse across batches.
        fresh: delete results already in ``out`` first.
        check_only: check the spec and every design point, run nothing, write nothing.

    Raises:
        SpecError: if the spec or a design point is invalid.
        BatchError: if the output directory cannot be used or Dask cannot be reached.
        BatchInterrupted: on SIGTERM or SIGINT, after writing the finished runs.
    """
    spec, text, base_dir = as_spec(spec)
    plan = make_plan(spec, text, base_dir)
    problems = check_plan(plan)
    if problems:
        raise SpecError(str(spec.name), [f"design point: {p}" for p in problems])
    out = Path(out)
    result = BatchResult(out, len(plan.runs), 0)
    from experiments.spec import spec_warnings

    result.warnings = spec_warnings(spec)
    if check_only:
        return result
    _prepare_out(out, _provenance(plan), fresh)
    _write_text(out / SPEC_JSON, json.dumps(json.loads(plan.text), indent=2) + "\n")
    if text is not None:
        _write_text(out / SPEC_FILE, text)
    run_plan(
        plan,
        out,
        result,
        workers=workers,
        dask=dask,
        progress=progress,
        progress_every_s=progress_every_s,
        announce=announce,
        runner=runner,
    )
    return result


__all__ = [
    "BatchError",
    "BatchInterrupted",
    "DaskRunner",
    "ProcessRunner",
    "Run",
    "SpecError",
    "check_plan",
    "execute",
    "load_failures",
    "load_outcomes",
    "load_series",
    "make_plan",
    "run_batch",
    "run_plan",
]

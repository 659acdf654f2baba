"""Robust policy search (``chokepoint search SPEC``): many-objective optimisation of lever
parameters over sampled futures, with Platypus (the optimiser EMA Workbench's optimisation uses)
evaluating on the batch runners.

A spec's ``[search]`` table names the lever parameters to search (dotted scenario paths with a
range: tariff rates, subsidies, price floors, stockpile targets) and the objectives (outcomes
with a direction and a robustness measure). Each candidate policy is run over every future of
the spec (its uncertainty samples and seeds, as a batch would) and against each China doctrine of
``levers.doctrines`` (the doctrines are the adversaries, not decision variables), and each
objective summarises those runs: their mean, their 90th percentile on the bad side (``p90``),
or the worst case.

All candidates of a generation go to the runner together (local processes, in-process or
Dask), so the search scales like a batch. The runs land in ``DIR/outcomes`` like a batch's, so
a rerun of the same search reuses them and ``chokepoint report DIR`` reads them; the search's
own results are::

    DIR/search/evaluations.parquet   every candidate: lever values, objectives, generation
    DIR/search/pareto.parquet        the non-dominated candidates

The optimiser's random seed is ``search.seed``: the same spec gives the same Pareto set.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import random
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.batch import (
    BatchResult,
    _manifest,
    _prepare_out,
    _provenance,
    _write_text,
    check_plan,
    load_outcomes,
    make_plan,
    run_plan,
)
from experiments.spec import ExperimentSpec, SpecError, as_spec, lever_settings

SEARCH_DIR = "search"
PARETO_FILE = f"{SEARCH_DIR}/pareto.parquet"
EVALUATIONS_FILE = f"{SEARCH_DIR}/evaluations.parquet"


@dataclass
class SearchResult:
    """A finished search: where its files are, its Pareto set and every evaluation."""

    out: Path
    pareto: pd.DataFrame
    evaluations: pd.DataFrame
    batch: BatchResult
    generations: int = 0
    warnings: list[str] = field(default_factory=list)


def robust_value(values: np.ndarray, direction: str, robustness: str) -> float:
    """One number for a candidate's outcomes over futures, doctrines and seeds.

    Args:
        values: the outcome in each run (NaN runs are left out).
        direction: ``minimize`` or ``maximize``.
        robustness: ``mean``; ``p90``: the 90th percentile on the bad side (the 90th for a
            minimised outcome, the 10th for a maximised one); ``worst``: the worst run.
    """
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan
    if robustness == "mean":
        return float(values.mean())
    bad_high = direction == "minimize"
    if robustness == "worst":
        return float(values.max() if bad_high else values.min())
    return float(np.quantile(values, 0.9 if bad_high else 0.1))


def _penalised(spec: ExperimentSpec, name: str, values: np.ndarray, months: int) -> np.ndarray:
    """Years to resilience never reached count as one year past the horizon (or the outcome's
    own ``never``), so that a policy that never gets there is worse than one that does late."""
    out = next(o for o in spec.outcomes if o.name == name)
    if out.derived != "years_to_resilience":
        return values
    never = out.never if out.never is not None else months / 12.0 + 1.0
    return np.where(np.isnan(values), never, values)


class _Evaluator:
    """Platypus's evaluator interface, evaluating a whole generation as one batch plan."""

    def __init__(self, search: PolicySearch):
        self.search = search

    def evaluate_all(self, jobs: list) -> list:
        self.search.evaluate([job.solution for job in jobs])
        return jobs

    def close(self) -> None:
        """Nothing to release (the runner is the search's)."""


class PolicySearch:
    """The state of one search: spec, output directory, runner and every evaluation so far."""

    def __init__(self, spec: ExperimentSpec, text: str | None, base_dir: Path | None, out: Path,
                 run_options: dict[str, Any]):  # fmt: skip
        self.spec, self.text, self.base_dir, self.out = spec, text, base_dir, out
        self.run_options = run_options
        self.paths = list(spec.search.levers)
        self.objectives = spec.search.objectives
        self.adversaries = lever_settings(spec)
        self.rows: list[dict[str, Any]] = []
        self.generation = 0
        self.batch = BatchResult(out, 0, 0)
        self.all_runs: dict[str, Any] = {}
        self.plan = None

    def levers_of(self, values: list[float]) -> dict[str, Any]:
        """A candidate's lever values, rounded as the spec says."""
        levers = {}
        for path, value in zip(self.paths, values, strict=True):
            bounds = self.spec.search.levers[path]
            levers[path] = round(value) if bounds.integer else round(float(value), 6)
        return levers

    def evaluate(self, solutions: list) -> None:
        """Run every candidate of a generation against every adversary and future; set each
        solution's objectives."""
        candidates = [self.levers_of(list(s.variables)) for s in solutions]
        settings = [{**adv, **cand} for cand in candidates for adv in self.adversaries]
        plan = make_plan(self.spec, self.text, self.base_dir, levers=settings)
        problems = check_plan(plan)
        if problems:
            raise SpecError(self.spec.name, [f"search candidate: {p}" for p in problems])
        self.plan = plan if self.plan is None else self.plan
        self.all_runs.update({r.run_id: r for r in plan.runs})
        self.batch.planned = len(self.all_runs)
        run_plan(plan, self.out, self.batch, manifest=False, **self.run_options)
        stored = load_outcomes(self.out)
        stored = stored[stored["run_id"].isin({r.run_id for r in plan.runs})]
        by_run = stored.pivot_table(index="run_id", columns="outcome", values="value")
        for solution, candidate in zip(solutions, candidates, strict=True):
            ids = [
                r.run_id
                for r in plan.runs
                if all(r.lever.get(path) == value for path, value in candidate.items())
            ]
            frame = by_run.reindex(ids)
            row: dict[str, Any] = {"generation": self.generation, **candidate, "runs": len(ids)}
            for k, obj in enumerate(self.objectives):
                values = frame[obj.outcome].to_numpy(dtype=float)
                values = _penalised(self.spec, obj.outcome, values, plan.months)
                value = robust_value(values, obj.direction, obj.robustness)
                row[objective_name(obj)] = value
                # a candidate whose runs all failed must lose against every other
                worst = math.inf if obj.direction == "minimize" else -math.inf
                solution.objectives[k] = value if math.isfinite(value) else worst
            solution.evaluated = True
            self.rows.append(row)
        self.generation += 1


def objective_name(obj) -> str:
    """The column of an objective: its outcome and robustness (``fiscal_cost_usd_bn_p90``)."""
    return f"{obj.outcome}_{obj.robustness}"


@contextlib.contextmanager
def _private_random(seed: int):
    """Give Platypus a generator of its own while it runs.

    Platypus draws from the ``random`` module's global generator, which a Dask scheduler or
    client in this process also draws from (choosing workers, in its own thread): seeding the
    global one would not make the search repeatable. Platypus's modules get a private
    ``random.Random(seed)`` under the same name, and their own back afterwards."""
    import platypus

    rng = random.Random(seed)
    modules = [
        module
        for module in vars(platypus).values()
        if isinstance(module, types.ModuleType) and getattr(module, "random", None) is random
    ]
    for module in modules:
        module.random = rng
    try:
        yield rng
    finally:
        for module in modules:
            module.random = random


def _problem(spec: ExperimentSpec):
    import platypus

    levers = spec.search.levers
    problem = platypus.Problem(len(levers), len(spec.search.objectives))
    for i, bounds in enumerate(levers.values()):
        # integers are searched as reals and rounded: one variator serves every lever
        problem.types[i] = platypus.Real(bounds.low, bounds.high)
    for k, obj in enumerate(spec.search.objectives):
        minimize = obj.direction == "minimize"
        problem.directions[k] = (
            platypus.Direction.MINIMIZE if minimize else platypus.Direction.MAXIMIZE
        )
    return problem


def run_search(
    spec: ExperimentSpec | dict | str | Path,
    out: Path | str,
    *,
    workers: int | None = None,
    dask: str | None = None,
    runner: Any = None,
    progress: bool | None = None,
    announce: Callable[[str], None] = print,
    evaluations: int | None = None,
    fresh: bool = False,
) -> SearchResult:
    """Search the spec's ``[search]`` levers for robust policies; write the Pareto set.

    Args:
        spec: a spec file's path, a dictionary or an :class:`ExperimentSpec` with ``[search]``.
        out: the output directory (a batch directory of the search's runs).
        workers, dask, runner, progress: as :func:`experiments.batch.run_batch`.
        evaluations: candidate policies to evaluate (default: ``search.evaluations``).
        fresh: delete the results already in ``out`` first.

    Raises:
        SpecError: if the spec has no ``[search]`` table or a candidate is invalid.
        BatchError: if ``out`` holds another experiment's runs or Dask cannot be reached.
    """
    import platypus

    spec, text, base_dir = as_spec(spec)
    if spec.search is None:
        raise SpecError(spec.name, ["search: the spec has no [search] table to search with"])
    out = Path(out)
    first = make_plan(spec, text, base_dir)
    _prepare_out(out, _provenance(first), fresh)
    _write_text(out / "spec.json", json.dumps(json.loads(first.text), indent=2) + "\n")
    if text is not None:
        _write_text(out / "spec.toml", text)
    from experiments.batch import DaskRunner, ProcessRunner

    own = runner is None
    if runner is None:
        workers_n = workers or 1
        if dask is not None:
            runner = DaskRunner(dask, workers_n, announce=announce)
        elif workers_n > 1:
            runner = ProcessRunner(workers_n)
    options = {"runner": runner, "progress": progress, "announce": announce, "workers": 1}
    search = PolicySearch(spec, text, base_dir, out, options)
    try:
        algorithm = platypus.NSGAII(
            _problem(spec),
            population_size=spec.search.population,
            evaluator=_Evaluator(search),
            log_frequency=10**9,
        )
        with _private_random(spec.search.seed):
            algorithm.run(evaluations or spec.search.evaluations)
        front = platypus.nondominated(algorithm.result)
    finally:
        if search.plan is not None:
            union = copy.copy(search.plan)
            union.runs = list(search.all_runs.values())
            union.levers = list({json.dumps(r.lever, sort_keys=True): r.lever
                                 for r in union.runs}.values())  # fmt: skip
            search.batch.manifest = _manifest(union, out, {"runner": search.batch.runner,
                                                           "search": True})  # fmt: skip
        if own and runner is not None:
            runner.close()
    evaluations_frame = pd.DataFrame(search.rows)
    names = [objective_name(o) for o in spec.search.objectives]
    keys = [search.levers_of(list(s.variables)) for s in front]
    pareto = pd.DataFrame([{**k} for k in keys]).drop_duplicates()
    pareto = pareto.merge(
        evaluations_frame.drop_duplicates(search.paths, keep="last")[[*search.paths, *names]],
        on=search.paths,
        how="left",
    )
    (out / SEARCH_DIR).mkdir(exist_ok=True)
    evaluations_frame.to_parquet(out / EVALUATIONS_FILE, index=False)
    pareto.to_parquet(out / PARETO_FILE, index=False)
    return SearchResult(out, pareto, evaluations_frame, search.batch, search.generation)


def parallel_coordinates(pareto: pd.DataFrame, spec: ExperimentSpec):
    """A parallel-coordinates figure of a Pareto set (EMA Workbench's ``ParallelAxes``): lever
    values, then objectives, each objective's axis flipped where needed so up is better."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import parcoords

    columns = [c for c in pareto.columns if pareto[c].dtype.kind in "fi"]
    data = pareto[columns].astype(float)
    limits = parcoords.get_limits(data)
    for column in columns:
        if limits[column].iloc[0] == limits[column].iloc[1]:
            limits.loc[:, column] = [limits[column].iloc[0] - 0.5, limits[column].iloc[1] + 0.5]
    with warnings.catch_warnings():
        # ParallelAxes lays itself out at matplotlib's default size, too narrow for many axes,
        # and says so on every report; the figure is widened below, which is what is saved
        warnings.filterwarnings("ignore", message="Tight layout not applied")
        axes = parcoords.ParallelAxes(limits, fontsize=8, rot=30)
        axes.plot(data, color="tab:blue", lw=1.2, alpha=0.8)
        minimised = [objective_name(o) for o in spec.search.objectives if o.direction == "minimize"]
        flip = [c for c in minimised if c in columns]
        if flip:
            axes.invert_axis(flip)
    axes.fig.set_size_inches(max(7, 1.6 * len(columns)), 4.5)
    return axes.fig

"""Experiment specs: what a batch runs, validated like scenarios (every problem with its path).

An experiment spec is one TOML file::

    name = "alliance-vs-tariffs"
    scenario = "alliance-vs-tariffs-2025"    # bundled name or path (relative to the spec)
    months = 120                             # horizon; default: the scenario's
    seeds = 20                               # replications: a count (0..n-1) or a list

    [levers.doctrines]                       # full factorial over every lever
    US = ["tariff-hawk", "alliance-builder"]
    CN = ["coercive-retaliator", "dealmaker"]

    [levers.parameters]                      # scenario values by dotted path
    "dynamics.thrift_rate" = [0.02, 0.03]

    [levers.orders]                          # named sets of scripted orders (one lever)
    none = []
    stockpile = [{id = "buy", date = "2025-06", kind = "stockpile_buy", issuer = "US", ...}]

    [levers.doctrine_params.alliance-builder] # a doctrine's parameters wherever it is picked
    common_tariff = 0.5

    [levers.doctrine_variants."alliance-builder+deal"]  # a doctrine under a name of its own,
    doctrine = "alliance-builder"                        # with more parameters: a doctrine
    params = { diplomacy = { propose = true } }          # lever can list it beside the bare one

    [uncertainties."stages.mine.lead_time_months"]
    distribution = "triangular"              # uniform | triangular | normal (truncated)
    low = 96
    mode = 120
    high = 156

    [uncertainties."end_users.*.elasticity"]
    apply = "scale"                          # multiply each entry's own value
    low = 0.5
    high = 1.5

    [sampling]
    method = "lhs"                           # nominal | lhs | sobol | morris
    samples = 8
    seed = 0

    [[outcomes]]
    name = "us_magnet_price"
    variable = "price"
    commodity = "magnet"
    region = "US"
    stat = "mean"                            # mean | min | max | last | sum
    window = [0, 120]                        # months [from, to)

    [[outcomes]]
    name = "years_to_resilience"
    derived = "years_to_resilience"
    unit = "years"                           # shown on axes and in tables

    [discovery]                              # scenario discovery in the report (sampled batches)
    case = "years_to_resilience > 8 or bloc_magnet_shortage_t > 5000"
    case_label = "slow or short"             # what the case of interest is called

Dotted paths walk the scenario's data: table keys (``dynamics.price_speed``), list entries by id
or index (``firms.us-mp-mine.capacity_tpy``, ``end_users.0.elasticity``) and ``*`` for every
entry of a list or table (``end_users.*.elasticity``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from world.field_errors import ProblemsError, Strict, field_problems
from world.model import MAX_SEED

SAMPLING_METHODS = ("nominal", "lhs", "sobol", "morris")
STATS = ("mean", "min", "max", "last", "sum")
DERIVED = (
    "years_to_resilience",
    "clean_share",
    "peak_price",
    "cumulative_shortage",
    "fiscal_cost",
    "deal_months",
)


class SpecError(ProblemsError):
    """An experiment spec that cannot be used, with every problem (each starting with its path)."""

    what = "experiment spec"


class DoctrineVariant(Strict):
    """A doctrine played under a name of its own with more parameters.

    Its seat parameters are the doctrine's ``levers.doctrine_params`` (if any) updated with
    ``params`` key by key (a key given here replaces the whole value there).
    """

    doctrine: str = Field(description="the registered doctrine it plays")
    params: dict[str, Any] = Field(
        default_factory=dict, description="parameters over the doctrine's doctrine_params"
    )


class Levers(Strict):
    """Policy choices, crossed in a full factorial."""

    doctrines: dict[str, list[str]] = Field(
        default_factory=dict, description="per seat region: the doctrines to try"
    )
    parameters: dict[str, list[Any]] = Field(
        default_factory=dict, description="per dotted scenario path: the values to try"
    )
    orders: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="named sets of scripted orders, one of which is added"
    )
    doctrine_params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per doctrine name: the seat parameters it plays with wherever a doctrine "
        "lever picks it (so the doctrines compared can act at the same intensity)",
    )
    doctrine_variants: dict[str, DoctrineVariant] = Field(
        default_factory=dict,
        description="named variants of a doctrine (its name, with parameters over its "
        "doctrine_params) that a doctrine lever lists like doctrines: one doctrine played with "
        "two parameter sets in the same batch",
    )


class Uncertainty(Strict):
    """An uncertain scenario parameter and its distribution."""

    distribution: Literal["uniform", "triangular", "normal"] = "uniform"
    low: float = Field(description="lower bound")
    high: float = Field(description="upper bound")
    mode: float | None = Field(None, description="triangular: the most likely value")
    mean: float | None = Field(None, description="normal: the mean (default: mid-range)")
    sd: float | None = Field(None, gt=0, description="normal: the standard deviation")
    integer: bool | None = Field(None, description="round to whole numbers (default: as the base)")
    apply: Literal["set", "scale"] = Field(
        "set", description="set: the value replaces the scenario's; scale: it multiplies it"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Uncertainty:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.distribution == "triangular":
            if self.mode is None:
                raise ValueError("a triangular distribution needs mode")
            if not self.low <= self.mode <= self.high:
                raise ValueError(f"mode ({self.mode:g}) must lie between low and high")
        if self.distribution == "normal" and self.sd is None:
            raise ValueError("a normal distribution needs sd (it is truncated to [low, high])")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval quantiles to values of this distribution."""
        from scipy import stats

        if self.distribution == "uniform":
            return self.low + u * (self.high - self.low)
        if self.distribution == "triangular":
            c = (self.mode - self.low) / (self.high - self.low)
            return stats.triang.ppf(u, c, loc=self.low, scale=self.high - self.low)
        mean = (self.low + self.high) / 2 if self.mean is None else self.mean
        a, b = (self.low - mean) / self.sd, (self.high - mean) / self.sd
        return stats.truncnorm.ppf(u, a, b, loc=mean, scale=self.sd)


class Sampling(Strict):
    """How uncertainties are sampled (levers are always crossed in full)."""

    method: Literal["nominal", "lhs", "sobol", "morris"] = "nominal"
    samples: int = Field(
        8, ge=1, le=100_000, description="LHS: points; Sobol: base samples N; Morris: trajectories"
    )
    seed: int = 0
    levels: int = Field(4, ge=2, le=20, description="Morris: grid levels")


class Outcome(Strict):
    """A number kept per run: a variable aggregated over a window, or a derived measure."""

    name: str
    variable: str | None = Field(None, description="a recorded variable (price, shortage, ...)")
    derived: str | None = Field(None, description=f"one of {', '.join(DERIVED)}")
    function: str | None = Field(
        None, description="'module:function' taking (world, outcome) and returning a number"
    )
    commodity: str | list[str] = ""
    region: str | list[str] = ""
    partner: str | list[str] = ""
    across: Literal["sum", "mean"] = Field(
        "sum", description="how the selected keys combine each month"
    )
    stat: Literal["mean", "min", "max", "last", "sum"] = "mean"
    window: tuple[int, int] | None = Field(None, description="months [from, to); default: all")
    scale: float = Field(1.0, description="multiplies the value (e.g. 1e-9 for USD bn)")
    threshold: float = Field(0.8, description="years_to_resilience: clean share needed")
    never: float | None = Field(
        None, description="years_to_resilience: value when never reached (default: NaN)"
    )
    streak_months: int = Field(12, ge=1, description="years_to_resilience: months in a row")
    unit: str = Field("", description="unit shown on axes and in tables (default: by kind)")
    better: Literal["higher", "lower"] | None = Field(
        None, description="which way is better, for regret (default: by kind where known)"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Outcome:
        kinds = [k for k in ("variable", "derived", "function") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of variable, derived or function")
        if self.derived is not None and self.derived not in DERIVED:
            raise ValueError(f"unknown derived outcome {self.derived!r}; allowed: {DERIVED}")
        if self.function is not None and ":" not in self.function:
            raise ValueError(f"function must be 'module:function' (got {self.function!r})")
        if self.window is not None and not 0 <= self.window[0] < self.window[1]:
            raise ValueError(f"window must be [from, to) with 0 <= from < to (got {self.window})")
        return self


#: Default units of derived outcomes (before ``scale``).
DERIVED_UNITS = {
    "years_to_resilience": "years",
    "clean_share": "share 0-1",
    "peak_price": "USD/kg",
    "cumulative_shortage": "t",
    "fiscal_cost": "USD",
    "deal_months": "months",
}


#: Which way is better for outcomes of a known kind (derived kind or variable).
BETTER = {
    "years_to_resilience": "lower",
    "clean_share": "higher",
    "peak_price": "lower",
    "cumulative_shortage": "lower",
    "fiscal_cost": "lower",
    "price": "lower",
    "shortage": "lower",
    "fill_rate": "higher",
}


def outcome_better(out: Outcome, spec: ExperimentSpec) -> str | None:
    """``"higher"`` or ``"lower"``: which way is better for an outcome (None when unknown)."""
    if out.better is not None:
        return out.better
    if out.name == (spec.rank_by or spec.outcomes[0].name):
        return "higher" if spec.higher_is_better else "lower"
    return BETTER.get(out.derived or out.variable or "")


def outcome_unit(out: Outcome) -> str:
    """The unit of an outcome's values: its own ``unit``, else the derived kind's (noting a
    ``scale`` that is not 1)."""
    if out.unit:
        return out.unit
    if out.variable is not None:
        from world.recorder import VARIABLES

        unit = VARIABLES.get(out.variable, ("", ""))[1]
        unit = unit.removesuffix("/month") if out.stat == "sum" else unit
    else:
        unit = DERIVED_UNITS.get(out.derived or "", "")
    if unit and out.scale != 1.0:
        return f"{unit} x {out.scale:g}"
    return unit


class Discovery(Strict):
    """Scenario discovery in the report: which futures and levers lead to a case of interest."""

    case: str | None = Field(
        None,
        description="a pandas expression over outcome names that marks the runs of interest, "
        "e.g. 'years_to_resilience > 8 or bloc_magnet_shortage_t > 5000' (default: the worst "
        "quarter of runs by rank_by)",
    )
    case_label: str = Field("case of interest", description="what the case is called")
    peel_alpha: float = Field(0.05, gt=0, lt=1, description="PRIM: share peeled per step")
    mass_min: float = Field(0.05, gt=0, lt=1, description="PRIM: smallest box, share of runs")


class SearchLever(Strict):
    """A lever parameter the policy search varies over a range."""

    low: float
    high: float
    integer: bool = Field(False, description="whole numbers only")

    @model_validator(mode="after")
    def _ordered(self) -> SearchLever:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class Objective(Strict):
    """One objective of the policy search: an outcome summarised over the sampled futures."""

    outcome: str = Field(description="an outcome name")
    direction: Literal["minimize", "maximize"] = "minimize"
    robustness: Literal["mean", "p90", "worst"] = Field(
        "p90",
        description="how a policy's outcomes over futures, doctrines and seeds are summarised: "
        "mean, the 90th percentile of the bad side (p90), or the worst case",
    )


class Search(Strict):
    """Robust policy search (``chokepoint search``): many-objective optimisation of lever
    parameters over the spec's sampled futures (its uncertainties and sampling) against each of
    its China doctrines (``levers.doctrines``)."""

    levers: dict[str, SearchLever] = Field(
        default_factory=dict, description="per dotted scenario path: the range searched"
    )
    objectives: list[Objective] = Field(default_factory=list)
    evaluations: int = Field(48, ge=2, le=100_000, description="candidate policies evaluated")
    population: int = Field(8, ge=2, le=1000, description="candidates per generation")
    seed: int = Field(0, ge=0, description="the optimiser's random seed")


class Series(Strict):
    """Monthly series kept per run (tidy rows, for fan charts)."""

    variable: str
    commodity: str | list[str] = ""
    region: str | list[str] = ""
    partner: str | list[str] = ""
    across: Literal["sum", "mean"] = "sum"
    name: str | None = None


class ExperimentSpec(Strict):
    """A whole experiment."""

    name: str
    description: str = ""
    scenario: str = Field(description="bundled scenario name or path to a scenario file")
    months: int | None = Field(None, ge=1, le=600, description="horizon in months")
    seeds: int | list[int] = Field(1, description="a count of seeds (0..n-1) or a list of seeds")
    levers: Levers = Field(default_factory=Levers)
    uncertainties: dict[str, Uncertainty] = Field(default_factory=dict)
    sampling: Sampling = Field(default_factory=Sampling)
    outcomes: list[Outcome] = Field(min_length=1)
    series: list[Series] = Field(default_factory=list)
    chunk_runs: int = Field(50, ge=1, description="runs per Parquet file")
    rank_by: str | None = Field(
        None, description="outcome that ranks runs and doctrines in reports (default: the first)"
    )
    higher_is_better: bool = Field(True, description="whether a higher rank_by value is better")
    discovery: Discovery = Field(default_factory=Discovery)
    search: Search | None = None

    @model_validator(mode="after")
    def _checks(self) -> ExperimentSpec:
        problems = []
        if isinstance(self.seeds, int) and self.seeds < 1:
            problems.append(f"seeds: must be at least 1 (got {self.seeds})")
        if isinstance(self.seeds, int) and self.seeds > MAX_SEED + 1:
            problems.append(f"seeds: must be at most {MAX_SEED + 1} (got {self.seeds})")
        if isinstance(self.seeds, list):
            if len(set(self.seeds)) != len(self.seeds):
                problems.append("seeds: the list repeats a seed")
            problems.extend(
                f"seeds[{i}]: a seed must be from 0 to {MAX_SEED} (got {seed})"
                for i, seed in enumerate(self.seeds)
                if not 0 <= seed <= MAX_SEED
            )
        names = [o.name for o in self.outcomes]
        for i, name in enumerate(names):
            if names.index(name) != i:
                problems.append(f"outcomes[{i}].name: duplicate outcome name {name!r}")
        if self.rank_by is not None and self.rank_by not in names:
            problems.append(
                f"rank_by: no outcome named {self.rank_by!r}; outcomes: {', '.join(names)}"
            )
        if self.sampling.method != "nominal" and not self.uncertainties:
            problems.append(f"sampling.method: {self.sampling.method} needs uncertainties")
        if self.sampling.method in ("sobol", "morris") and len(self.uncertainties) < 2:
            problems.append(f"uncertainties: {self.sampling.method} needs at least two")
        for key, values in self.levers.doctrines.items():
            if not values:
                problems.append(f"levers.doctrines.{key}: give at least one doctrine")
        for key, values in self.levers.parameters.items():
            if not values:
                problems.append(f"levers.parameters.{key}: give at least one value")
        if self.search is not None:
            if not self.search.levers:
                problems.append("search.levers: give at least one lever range to search")
            if not self.search.objectives:
                problems.append("search.objectives: give at least one objective")
            for i, obj in enumerate(self.search.objectives):
                if obj.outcome not in names:
                    problems.append(
                        f"search.objectives[{i}].outcome: no outcome named {obj.outcome!r}; "
                        f"outcomes: {', '.join(names)}"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


# --------------------------------------------------------------------------- loading


def spec_from_dict(data: dict, source: str = "<dict>", base_dir: Path | None = None):
    """Validate a spec given as a dictionary; check its names against the scenario.

    Raises:
        SpecError: listing every problem, each starting with its field path.
    """
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(source, field_problems(exc, ExperimentSpec)) from None
    problems = _semantic_problems(spec, base_dir)
    if problems:
        raise SpecError(source, problems)
    return spec


def load_spec(path: str | Path) -> tuple[ExperimentSpec, str]:
    """Load and validate a spec file; return it with its text (kept as run).

    Raises:
        SpecError: listing every problem with its field path.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), [f"not valid TOML: {exc}"]) from None
    return spec_from_dict(data, str(path), path.parent), text


def spec_payload(spec: ExperimentSpec) -> str:
    """The spec as canonical JSON: what workers rebuild it from and what its hash is of (so a
    comment or a reordered key in the TOML file does not count as a change)."""
    return json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def as_spec(
    spec: ExperimentSpec | dict | str | Path,
) -> tuple[ExperimentSpec, str | None, Path | None]:
    """A spec given as a file path, a dictionary or an :class:`ExperimentSpec`, validated; with
    the file's text (None otherwise) and the folder relative scenario paths start from.

    Raises:
        SpecError: listing every problem with its field path.
    """
    if isinstance(spec, str | Path):
        loaded, text = load_spec(spec)
        return loaded, text, Path(spec).parent
    if isinstance(spec, ExperimentSpec):
        spec = spec.model_dump(mode="json")
    if not isinstance(spec, dict):
        raise SpecError(
            "<spec>", [f"a spec is a path, a dict or an ExperimentSpec (got {type(spec)})"]
        )
    return spec_from_dict(spec, "<dict>", Path.cwd()), None, Path.cwd()


def resolve_scenario_ref(ref: str, base_dir: Path | None) -> str:
    """A scenario reference made absolute when it is a path relative to the spec."""
    from world import bundled_scenarios

    if ref in bundled_scenarios() or base_dir is None:
        return ref
    candidate = base_dir / ref
    return str(candidate.resolve()) if candidate.exists() else ref


def _semantic_problems(spec: ExperimentSpec, base_dir: Path | None) -> list[str]:
    from agents.doctrines import DOCTRINES
    from world import ScenarioError, load_scenario
    from world.recorder import VARIABLES

    problems: list[str] = []
    try:
        base = load_scenario(resolve_scenario_ref(spec.scenario, base_dir))
    except ScenarioError as exc:
        return [f"scenario: {p}" for p in exc.problems]
    data = base.model_dump(mode="json")
    states = {s["region"] for s in data["states"]}
    for region, doctrines in spec.levers.doctrines.items():
        if region not in states:
            problems.append(
                f"levers.doctrines.{region}: no state of region {region!r} in the scenario; "
                f"states: {', '.join(sorted(states))}"
            )
        variants = spec.levers.doctrine_variants
        for i, name in enumerate(doctrines):
            if name not in DOCTRINES and name not in variants:
                problems.append(
                    f"levers.doctrines.{region}[{i}]: unknown doctrine {name!r}; "
                    f"allowed: {', '.join(sorted([*DOCTRINES, *variants]))}"
                )
    for name, params in spec.levers.doctrine_params.items():
        problems.extend(doctrine_params_problems(name, params))
    for name, variant in spec.levers.doctrine_variants.items():
        where = f"levers.doctrine_variants.{name}"
        if name in DOCTRINES:
            problems.append(
                f"{where}: {name!r} is a doctrine's own name; give the variant a name of its own "
                f"(e.g. {name + '+deal'!r})"
            )
        elif variant.doctrine not in DOCTRINES:
            problems.append(
                f"{where}.doctrine: unknown doctrine {variant.doctrine!r}; "
                f"allowed: {', '.join(sorted(DOCTRINES))}"
            )
        else:
            problems.extend(
                doctrine_params_problems(variant.doctrine, variant.params, f"{where}.params")
            )
    levers = {f"levers.parameters.{p}": p for p in spec.levers.parameters}
    if spec.search is not None:
        levers.update({f"search.levers.{p}": p for p in spec.search.levers})
    for where, path in levers.items():
        problem = path_problem(data, path)
        if problem:
            problems.append(f"{where}: {problem}")
    for path in spec.uncertainties:
        problem = path_problem(data, path)
        if problem:
            problems.append(f"uncertainties.{path}: {problem}")
        elif not all(_is_number(v) for v in get_path(data, path)):
            problems.append(f"uncertainties.{path}: the scenario value is not a number")
        else:
            # a value both set by a lever and sampled would take the sample's value while the
            # run is labelled with the lever's
            for where, lever in levers.items():
                if not path_problem(data, lever) and _overlap(data, lever, path):
                    problems.append(
                        f"uncertainties.{path}: also set by the lever {where}; a value is either "
                        "a lever or an uncertainty, not both"
                    )
    horizon = spec.months or base.months
    known = {*VARIABLES, "objective"}
    for i, out in enumerate([*spec.outcomes, *spec.series]):
        where = f"outcomes[{i}]" if i < len(spec.outcomes) else f"series[{i - len(spec.outcomes)}]"
        if out.variable is not None and out.variable not in VARIABLES:
            problems.append(
                f"{where}.variable: unknown variable {out.variable!r}; "
                f"allowed: {', '.join(sorted(known - {'objective'}))}"
            )
        for key, allowed in (("commodity", data["commodities"]), ("region", data["regions"])):
            for value in _as_list(getattr(out, key)):
                if value and value not in allowed:
                    problems.append(f"{where}.{key}: unknown {key} {value!r}")
        window = getattr(out, "window", None)
        if window is not None and window[1] > horizon:
            problems.append(
                f"{where}.window: [{window[0]}, {window[1]}) ends after the horizon of "
                f"{horizon} months; use an end of at most {horizon}"
            )
        function = getattr(out, "function", None)
        if function is not None:
            problem = _function_problem(function)
            if problem:
                problems.append(f"{where}.function: {problem}")
    return problems


def doctrine_params_problems(
    name: str, params: dict[str, Any], where: str | None = None
) -> list[str]:
    """What is wrong with ``levers.doctrine_params.<name>`` (or the parameters at ``where``):
    an unknown doctrine or parameter."""
    from agents.doctrines import DOCTRINES
    from agents.doctrines.base import COMMON_PARAMS

    where = where or f"levers.doctrine_params.{name}"
    if name not in DOCTRINES:
        return [f"{where}: unknown doctrine {name!r}; allowed: {', '.join(sorted(DOCTRINES))}"]
    doctrine = DOCTRINES[name]
    if not doctrine.strict:
        return []
    allowed = sorted({*doctrine.defaults, *COMMON_PARAMS})
    return [
        f"{where}.{key}: {name} has no parameter {key!r}; allowed: {', '.join(allowed)}"
        for key in params
        if key not in allowed
    ]


def seat_setting(spec: ExperimentSpec, name: str) -> tuple[str, dict[str, Any] | None]:
    """The registered doctrine a doctrine lever's value ``name`` plays and the seat parameters
    the spec gives it: a variant's doctrine with its parameters over the doctrine's
    ``doctrine_params``; a doctrine with its ``doctrine_params``, or None where the spec gives
    none (the seat keeps the scenario's)."""
    variant = spec.levers.doctrine_variants.get(name)
    if variant is None:
        return name, spec.levers.doctrine_params.get(name)
    return variant.doctrine, {
        **spec.levers.doctrine_params.get(variant.doctrine, {}),
        **variant.params,
    }


def lever_identity(spec: ExperimentSpec, setting: dict[str, Any]) -> dict[str, Any]:
    """What a lever setting stands for in a run's id: named order sets by their orders, a
    doctrine given parameters by ``levers.doctrine_params`` with them (a doctrine without keeps
    its bare name, so such runs keep their ids) and a variant by its name, doctrine and
    parameters."""
    ident = dict(setting)
    for factor, value in setting.items():
        if factor == "orders":
            ident[factor] = spec.levers.orders[value]
        elif factor.startswith("doctrine.") and value in spec.levers.doctrine_variants:
            doctrine, params = seat_setting(spec, value)
            ident[factor] = {"variant": value, "doctrine": doctrine, "params": params}
        elif factor.startswith("doctrine.") and value in spec.levers.doctrine_params:
            ident[factor] = {"doctrine": value, "params": spec.levers.doctrine_params[value]}
    return ident


def _overlap(data: dict, first: str, second: str) -> bool:
    """Whether two dotted paths name any of the same values."""
    slots = {(id(c), k) for c, k in _locate(data, first)}
    return any((id(c), k) in slots for c, k in _locate(data, second))


def _function_problem(function: str) -> str | None:
    """Why ``module:function`` cannot be called, or None."""
    import importlib
    import importlib.util

    module, name = function.split(":", 1)
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        return f"no module {module!r} can be imported (is it on PYTHONPATH for every worker?)"
    try:
        loaded = importlib.import_module(module)
    except Exception as exc:
        return f"importing {module!r} fails: {type(exc).__name__}: {exc}"
    if not callable(getattr(loaded, name, None)):
        return f"module {module!r} has no function {name!r}"
    return None


#: Below this many base samples, Sobol confidence intervals are too wide to read.
SOBOL_MIN_SAMPLES = 64


def spec_warnings(spec: ExperimentSpec) -> list[str]:
    """Things that make a spec's results hard to read, though it can run."""
    warnings = []
    n = spec.sampling.samples
    if spec.sampling.method == "sobol" and n < SOBOL_MIN_SAMPLES:
        warnings.append(
            f"sampling.samples: N = {n} is too small for Sobol indices: their 95% confidence "
            f"intervals will be about as wide as the indices; use N >= {SOBOL_MIN_SAMPLES} "
            "(a power of two)"
        )
    return warnings


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# --------------------------------------------------------------------------- dotted paths


def _children(node: Any, part: str) -> list[tuple[Any, Any]]:
    """(container, key) pairs that ``part`` names inside ``node``."""
    if isinstance(node, dict):
        if part == "*":
            return [(node, k) for k in node]
        return [(node, part)] if part in node else []
    if isinstance(node, list):
        if part == "*":
            return [(node, i) for i in range(len(node))]
        if part.isdigit() and int(part) < len(node):
            return [(node, int(part))]
        return [
            (node, i)
            for i, item in enumerate(node)
            if isinstance(item, dict) and item.get("id") == part
        ]
    return []


def _locate(data: Any, path: str) -> list[tuple[Any, Any]]:
    parts = path.split(".")
    nodes = [data]
    slots: list[tuple[Any, Any]] = []
    for j, part in enumerate(parts):
        slots = [slot for node in nodes for slot in _children(node, part)]
        if not slots:
            raise KeyError(".".join(parts[: j + 1]))
        nodes = [container[key] for container, key in slots]
    return slots


def path_problem(data: dict, path: str) -> str | None:
    """Why ``path`` names nothing in the scenario data, or None."""
    try:
        _locate(data, path)
    except KeyError as exc:
        return f"names nothing in the scenario (no {exc.args[0]!r})"
    return None


def get_path(data: dict, path: str) -> list[Any]:
    """The values a dotted path names."""
    return [container[key] for container, key in _locate(data, path)]


def set_path(data: dict, path: str, value: Any) -> None:
    """Set every value a dotted path names (in place)."""
    for container, key in _locate(data, path):
        container[key] = value


def scale_path(data: dict, path: str, factor: float) -> None:
    """Multiply every value a dotted path names (in place); whole numbers stay whole."""
    for container, key in _locate(data, path):
        old = container[key]
        new = old * factor
        container[key] = int(np.rint(new)) if isinstance(old, int) else float(new)


# --------------------------------------------------------------------------- the plan


def lever_settings(spec: ExperimentSpec) -> list[dict[str, Any]]:
    """Every combination of lever values, as ``{factor: value}`` (full factorial)."""
    factors: list[tuple[str, list[Any]]] = []
    factors += [(f"doctrine.{r}", list(v)) for r, v in spec.levers.doctrines.items()]
    factors += [(path, list(v)) for path, v in spec.levers.parameters.items()]
    if spec.levers.orders:
        factors.append(("orders", list(spec.levers.orders)))
    if not factors:
        return [{}]
    names = [name for name, _ in factors]
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(v for _, v in factors))
    ]


def lever_label(setting: dict[str, Any]) -> str:
    """A short readable name of a lever setting."""
    if not setting:
        return "base"
    return ", ".join(f"{k.removeprefix('doctrine.')}={v}" for k, v in setting.items())


def salib_problem(spec: ExperimentSpec) -> dict:
    """The SALib problem over unit quantiles (distributions are applied afterwards)."""
    names = list(spec.uncertainties)
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def unit_samples(spec: ExperimentSpec) -> np.ndarray:
    """Quantiles in [0, 1) of the uncertainty samples, shape (samples, uncertainties)."""
    method, n, seed = spec.sampling.method, spec.sampling.samples, spec.sampling.seed
    if method == "nominal" or not spec.uncertainties:
        return np.empty((1, 0))
    problem = salib_problem(spec)
    if method == "lhs":
        from SALib.sample import latin

        return latin.sample(problem, n, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        # scramble keeps points off the exact 0 and 1 quantiles of bounded distributions
        return sobol.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, n, num_levels=spec.sampling.levels, seed=seed)


def uncertainty_samples(spec: ExperimentSpec, base: dict) -> list[dict[str, float]]:
    """Each sample as ``{path: value}`` (empty when nothing is uncertain)."""
    unit = unit_samples(spec)
    if unit.shape[1] == 0:
        return [{}]
    columns = {}
    for j, (path, unc) in enumerate(spec.uncertainties.items()):
        values = unc.ppf(np.clip(unit[:, j], 0.0, 1.0))
        integer = unc.integer
        if integer is None:
            integer = unc.apply == "set" and all(isinstance(v, int) for v in get_path(base, path))
        columns[path] = [int(np.rint(v)) if integer else float(v) for v in values]
    return [{p: columns[p][i] for p in columns} for i in range(len(unit))]


def run_id(
    scenario_hash: str, months: int, levers: dict, sample: dict, seed: int, point: int = 0
) -> str:
    """A stable id of one run: a hash of everything that determines its results and of its
    design point's index (Morris trajectories and Sobol matrices with whole-number values can
    repeat the same values at two points, which both need a row)."""
    text = json.dumps(
        {
            "scenario": scenario_hash,
            "months": months,
            "levers": levers,
            "sample": sample,
            "seed": seed,
            "point": point,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def spec_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


#: Spec keys that change how results are read, not which runs exist or what they hold.
REPORT_ONLY_KEYS = ("description", "rank_by", "higher_is_better", "discovery", "chunk_runs")


def results_hash(payload: str) -> str:
    """The hash of a spec payload (:func:`spec_payload`) without its report-only keys: a rerun
    with another case of interest or ranking reuses the stored runs."""
    data = {k: v for k, v in json.loads(payload).items() if k not in REPORT_ONLY_KEYS}
    return spec_hash(json.dumps(data, sort_keys=True, separators=(",", ":")))


def finite(value: float) -> bool:
    return isinstance(value, float | int) and math.isfinite(value)

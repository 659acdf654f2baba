"""Scenario discovery and lever comparison for sampled batches, on EMA Workbench's analysis.

Given one row per run (the wide table of :func:`experiments.report.wide_runs`), this module
answers the questions an exploratory-modelling analyst asks of a sampled batch:

- which uncertainties, levers and how much seed noise drive each outcome (extra-trees feature
  scores, ``ema_workbench.analysis.feature_scoring``);
- in which region of the uncertainty space a case of interest (the spec's ``[discovery] case``)
  happens: PRIM boxes with coverage and density (``ema_workbench.analysis.prim``) and CART leaves
  (``ema_workbench.analysis.cart``);
- how each lever setting does across the sampled futures: its regret (the gap to the best
  setting in the same future) and paired differences against a reference setting, which the
  common random numbers of the design make exact comparisons (same sample, same seed).

A *future* is one (sample, seed) pair: every lever setting runs each of them.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.spec import ExperimentSpec, outcome_better

#: Column of the seed as a factor: its feature score is the share of spread that is noise.
SEED_FACTOR = "seed"
#: Extra trees' seed, so a report is the same every time it is made.
TREES_SEED = 0


def _quiet_ema():
    """Import EMA Workbench's analysis package without its import-time chatter (it warns that
    optional parallel back-ends are missing, which a report does not use)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import analysis
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return analysis


def factors(spec: ExperimentSpec, runs: pd.DataFrame) -> pd.DataFrame:
    """The columns that vary between runs: uncertainties, lever factors and the seed.

    Whole-number and real uncertainties stay numeric; levers (doctrines, order sets, parameter
    values) are categories.
    """
    columns: dict[str, pd.Series] = {}
    for path in spec.uncertainties:
        if path in runs and runs[path].nunique() > 1:
            columns[path] = runs[path].astype(float)
    for column in runs.columns:
        is_lever = column.startswith("doctrine.") or column == "orders"
        is_lever = is_lever or column in spec.levers.parameters
        if is_lever and runs[column].nunique() > 1:
            columns[column] = runs[column].astype(str).astype("category")
    if SEED_FACTOR in runs and runs[SEED_FACTOR].nunique() > 1:
        columns[SEED_FACTOR] = runs[SEED_FACTOR].astype(float)
    return pd.DataFrame(columns, index=runs.index)


def canonical_order(x: pd.DataFrame) -> np.ndarray:
    """Row positions of ``x`` sorted by its factor values (categories by their labels): the
    order in which runs reach the analysis then does not depend on the order their results
    were stored in (which follows the workers' finishing order)."""
    keys = [x[c].astype(str) if not pd.api.types.is_numeric_dtype(x[c]) else x[c] for c in x]
    frame = pd.DataFrame({str(i): k.to_numpy() for i, k in enumerate(keys)})
    return frame.sort_values(list(frame.columns), kind="mergesort").index.to_numpy()


def feature_scores(x: pd.DataFrame, runs: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Extra-trees feature scores: one row per factor, one column per outcome (each column sums
    to 1); outcomes that do not vary, or are NaN in every run, are left out.

    The scores are the same for the same runs in any process and in any row or column order:
    the trees' seed is fixed (:data:`TREES_SEED`), the rows are put in :func:`canonical_order`
    and the columns in name order first (extra trees draw their splits row by row and their
    candidate features by position, so a reordering alone moves the scores).
    """
    fs = _quiet_ema().feature_scoring
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    # columns by name (each tree draws its candidate features by position), then rows
    x = x[sorted(x.columns)]
    order = canonical_order(x)
    x = x.iloc[order].reset_index(drop=True)
    scores = {}
    for name in outcomes:
        y = runs[name].to_numpy(dtype=float)[order]
        keep = np.isfinite(y)
        if keep.sum() < 4 or np.nanstd(y[keep]) == 0:
            continue
        table, _ = fs.get_ex_feature_scores(
            x[keep].reset_index(drop=True),
            y[keep],
            mode=RuleInductionType.REGRESSION,
            random_state=TREES_SEED,
        )
        scores[name] = table.iloc[:, 0]
    return pd.DataFrame(scores).fillna(0.0)


def case_of_interest(spec: ExperimentSpec, runs: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Which runs are of interest, and the case's description.

    The spec's ``[discovery] case`` is evaluated over the outcome columns; a years-to-resilience
    outcome that was never reached counts as infinitely long. Without a case: the worst quarter
    of runs by ``rank_by``.

    Raises:
        ValueError: if the case expression cannot be evaluated (naming it).
    """
    frame = runs.copy()
    for out in spec.outcomes:
        if out.derived == "years_to_resilience" and out.name in frame:
            frame[out.name] = frame[out.name].fillna(np.inf)
    case = spec.discovery.case
    if case is None:
        rank_by = spec.rank_by or spec.outcomes[0].name
        y = frame[rank_by]
        cut = y.quantile(0.25 if spec.higher_is_better else 0.75)
        flag = y <= cut if spec.higher_is_better else y >= cut
        return flag.to_numpy(dtype=bool), f"worst quarter of runs by {rank_by}"
    names = [o.name for o in spec.outcomes]
    try:
        flag = frame[names].eval(case)
    except Exception as exc:
        raise ValueError(
            f"discovery.case {case!r} cannot be evaluated ({type(exc).__name__}: {exc}); it is "
            f"a pandas expression over the outcomes {', '.join(names)}"
        ) from None
    return np.asarray(flag, dtype=bool), f"{spec.discovery.case_label}: {case}"


@dataclass
class BoxResult:
    """A scenario-discovery box: its statistics and the limits of its restricted factors."""

    method: str
    stats: dict[str, float]
    limits: pd.DataFrame  # factor, low, high (numeric) or values (categories)


def _limits(box: pd.DataFrame, initial: pd.DataFrame) -> pd.DataFrame:
    """The factors a box restricts, with their limits (from EMA's box-limits frames)."""
    rows = []
    for column in box.columns:
        low, high = box[column].iloc[0], box[column].iloc[1]
        first, last = initial[column].iloc[0], initial[column].iloc[1]
        if isinstance(low, set):
            if low != first:
                rows.append({"factor": column, "limits": ", ".join(sorted(map(str, low)))})
        elif low != first or high != last:
            rows.append({"factor": column, "limits": f"{low:.4g} .. {high:.4g}"})
    return pd.DataFrame(rows, columns=["factor", "limits"])


def prim_box(
    spec: ExperimentSpec, x: pd.DataFrame, flag: np.ndarray
) -> tuple[BoxResult | None, pd.DataFrame]:
    """The first PRIM box of the case and its peeling trajectory (coverage, density, mass,
    restricted dimensions per step).

    The box chosen on the trajectory is the densest one that still covers at least half the
    cases (the usual reading of the coverage-density trade-off)."""
    if flag.sum() == 0 or flag.all():
        return None, pd.DataFrame()
    prim = _quiet_ema().prim
    algorithm = prim.Prim(
        x.reset_index(drop=True),
        flag.astype(int),
        peel_alpha=spec.discovery.peel_alpha,
        mass_min=spec.discovery.mass_min,
    )
    box = algorithm.find_box()
    if box is None:
        return None, pd.DataFrame()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
    candidates = trajectory[trajectory["coverage"] >= 0.5]
    chosen = int(candidates["density"].idxmax()) if not candidates.empty else len(trajectory) - 1
    box.select(chosen)
    stats = {k: float(v) for k, v in box.stats.items()}
    stats["step"] = chosen
    return BoxResult("PRIM", stats, _limits(box.box_lim, algorithm.box_init)), trajectory


def cart_boxes(
    spec: ExperimentSpec, x: pd.DataFrame, flag: np.ndarray, top: int = 3
) -> list[BoxResult]:
    """The ``top`` densest CART leaves of the case that hold at least one case."""
    if flag.sum() == 0 or flag.all() or int(spec.discovery.mass_min * len(flag)) < 1:
        return []  # (a leaf must hold at least one run)
    cart = _quiet_ema().cart
    tree = cart.CART(x.reset_index(drop=True), flag.astype(int), mass_min=spec.discovery.mass_min)
    tree.build_tree()
    # the initial box: every factor's full range (as EMA builds it)
    from ema_workbench.analysis.scenario_discovery_util import _make_box

    initial = _make_box(tree.x)
    leaves = [
        BoxResult("CART", {k.replace(" ", "_"): float(v) for k, v in stats.items()}, box)
        for stats, box in zip(tree.stats, tree.boxes, strict=True)
        if stats["coverage"] > 0
    ]
    leaves.sort(key=lambda b: (-b.stats["density"], -b.stats["coverage"]))
    found, seen = [], set()
    for leaf in leaves:
        result = BoxResult(leaf.method, leaf.stats, _limits(leaf.limits, initial))
        key = result.limits.to_json()
        if key not in seen:  # sklearn can split a leaf into two with the same limits
            seen.add(key)
            found.append(result)
    return found[:top]


def _futures(runs: pd.DataFrame, name: str) -> pd.DataFrame:
    """An outcome as one row per future (sample, seed) and one column per lever setting."""
    levers = list(dict.fromkeys(runs["lever"]))
    table = runs.set_index(["sample", "seed", "lever"])[name].unstack("lever")
    # only futures every setting has run: a comparison needs the same futures on both sides
    return table.reindex(columns=levers).dropna(how="all").loc[lambda t: t.notna().any(axis=1)]


def quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile (linear interpolation), infinite where it falls on or beyond an
    infinite value: numpy's interpolates ``inf - inf`` into NaN (and warns), which made the
    90th-percentile regret of a setting that never reaches resilience in most futures n/a."""
    ordered = np.sort(np.asarray(values, dtype=float))
    position = q * (len(ordered) - 1)
    upper = ordered[int(np.ceil(position))]
    if np.isposinf(upper):
        return float("inf")
    return float(np.quantile(ordered, q))


def regret(spec: ExperimentSpec, runs: pd.DataFrame) -> pd.DataFrame:
    """Per lever setting and outcome: regret over the sampled futures, i.e. how far the setting
    falls behind the best setting in the same future (mean, 90th percentile, maximum), and how
    often it is the best. Outcomes without a known better direction are left out."""
    rows = []
    for out in spec.outcomes:
        better = outcome_better(out, spec)
        if better is None or out.name not in runs:
            continue
        table = _futures(runs, out.name)
        if table.empty:
            continue
        values = table.to_numpy(dtype=float)
        if out.derived == "years_to_resilience":
            # never reached is worse than any year within the horizon
            values = np.where(np.isnan(values), np.inf, values)
        best = values.max(axis=1) if better == "higher" else values.min(axis=1)
        gap = np.abs(values - best[:, None])
        gap = np.where(np.isinf(best)[:, None] & np.isinf(values), 0.0, gap)
        for j, lever in enumerate(table.columns):
            g = gap[:, j]
            rows.append(
                {
                    "outcome": out.name,
                    "better": better,
                    "lever": lever,
                    "futures": int(np.isfinite(values[:, j]).sum()),
                    "mean_regret": float(np.mean(g)),
                    "p90_regret": quantile(g, 0.9),
                    "max_regret": float(np.max(g)),
                    "best_in": float(np.mean(g == 0)),
                }
            )
    return pd.DataFrame(rows)


def paired_differences(spec: ExperimentSpec, runs: pd.DataFrame) -> pd.DataFrame:
    """Each lever setting against the first, future by future (same sample and seed): mean
    difference with its 95% confidence interval (t distribution over the paired differences)
    and the share of futures in which the setting does better."""
    from scipy import stats

    rows = []
    for out in spec.outcomes:
        if out.name not in runs:
            continue
        table = _futures(runs, out.name)
        if table.shape[1] < 2:
            continue
        reference = table.columns[0]
        better = outcome_better(out, spec)
        for lever in table.columns[1:]:
            diff = (table[lever] - table[reference]).dropna().to_numpy(dtype=float)
            n = len(diff)
            if n == 0:
                continue
            mean = float(diff.mean())
            half = (
                float(stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n))
                if n > 1
                else float("nan")
            )
            wins = diff > 0 if better == "higher" else diff < 0
            rows.append(
                {
                    "outcome": out.name,
                    "lever": lever,
                    "against": reference,
                    "futures": n,
                    "mean_diff": mean,
                    "ci95_low": mean - half,
                    "ci95_high": mean + half,
                    "better_in": float(wins.mean()) if better else float("nan"),
                }
            )
    return pd.DataFrame(rows)

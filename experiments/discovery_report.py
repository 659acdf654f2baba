"""The report's scenario-discovery and policy-search sections (figures and tables).

The analyses are in :mod:`experiments.discovery` (on EMA Workbench) and
:mod:`experiments.search`; this module lays them out on a report :class:`~experiments.report.Page`.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import discovery
from experiments.report import Page, _plt, axis_label
from experiments.spec import ExperimentSpec

#: At most this many factors in the pairs plot (the highest-scoring ones).
PAIRS_FACTORS = 4


def _para(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def add_discovery(page: Page, spec: ExperimentSpec, runs: pd.DataFrame) -> None:
    """Feature scores, PRIM and CART boxes of the case, pairs and scatter plots coloured by it,
    regret and paired differences of the lever settings."""
    names = [o.name for o in spec.outcomes if o.name in runs]
    x = discovery.factors(spec, runs)
    page.html("<h2>Scenario discovery</h2>")
    if x.shape[1] == 0 or len(runs) < 4:
        page.html(_para("Nothing varies between the runs: no scenario discovery."))
        return
    scores = discovery.feature_scores(x, runs, names)
    if not scores.empty:
        _feature_scores(page, scores)
    try:
        flag, label = discovery.case_of_interest(spec, runs)
    except ValueError as exc:
        page.html(f"<p class='warn'>{html.escape(str(exc))}</p>")
        flag, label = None, ""
    if flag is not None:
        _boxes(page, spec, x, flag, label)
        ranked = list(scores.mean(axis=1).sort_values(ascending=False).index) if len(scores) else []
        # the sampled uncertainties (not levers, not the seed), highest-scoring first
        numeric = [f for f in ranked if f in spec.uncertainties and f in x]
        # with no sampled uncertainty, the numeric factors (a lever's doctrine names cannot be
        # plotted on an axis)
        plotted = numeric or [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
        _pairs(page, x, plotted[:PAIRS_FACTORS], flag, label)
        _scatter(page, spec, runs, x, numeric[:3], flag)
    if runs["lever"].nunique() > 1:
        _levers(page, spec, runs)


def _feature_scores(page: Page, scores: pd.DataFrame) -> None:
    plt = _plt()
    order = scores.mean(axis=1).sort_values(ascending=False).index
    scores = scores.loc[order]
    fig, ax = plt.subplots(figsize=(1.2 * scores.shape[1] + 4, 0.35 * len(scores) + 1.5))
    image = ax.imshow(scores.to_numpy(), cmap="viridis", aspect="auto", vmin=0)
    ax.set_xticks(range(scores.shape[1]), scores.columns, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(scores)), scores.index, fontsize=7)
    for i in range(scores.shape[0]):
        for j in range(scores.shape[1]):
            value = scores.iat[i, j]
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6, color="w")
    fig.colorbar(image, ax=ax, label="feature score (share of explained spread)")
    page.figure(
        "Feature scores",
        fig,
        "feature-scores",
        _para(
            "Which factors drive each outcome: extra-trees feature scores (EMA Workbench), "
            "each outcome's column summing to 1. 'seed' is the model's own noise: a factor "
            "scoring below it is not distinguishable from chance in this batch."
        ),
    )
    page.table("Feature scores (table)", scores.reset_index(names="factor"), level=3)


def _boxes(page: Page, spec: ExperimentSpec, x: pd.DataFrame, flag: np.ndarray, label: str):
    plt = _plt()
    count = int(flag.sum())
    page.html(
        f"<h3>The case of interest</h3><p><b>{html.escape(label)}</b>: {count} of {len(flag)} "
        f"runs ({count / len(flag):.0%}).</p>"
    )
    if count == 0 or count == len(flag):
        page.html(_para("The case holds in no run or in every run: there is no box to find."))
        return
    box, trajectory = discovery.prim_box(spec, x, flag)
    if box is not None:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        points = ax.scatter(
            trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis"
        )
        step = int(box.stats["step"])
        ax.scatter(
            [trajectory["coverage"].iat[step]], [trajectory["density"].iat[step]],
            s=160, facecolors="none", edgecolors="red", label="chosen box",
        )  # fmt: skip
        ax.set_xlabel("coverage (share of the cases inside the box)")
        ax.set_ylabel("density (share of the box's runs that are cases)")
        fig.colorbar(points, ax=ax, label="restricted dimensions")
        ax.legend(fontsize=7)
        stats = box.stats
        note = _para(
            f"PRIM (EMA Workbench) box {step} of its peeling trajectory: coverage "
            f"{stats['coverage']:.2f}, density {stats['density']:.2f}, mass {stats['mass']:.2f} "
            f"(share of all runs inside), {int(stats['res_dim'])} restricted dimensions. The "
            "chosen box is the densest that still covers half the cases."
        )
        page.figure("PRIM: coverage against density", fig, "prim-tradeoff", note)
        page.table("PRIM box limits", box.limits, level=3)
    leaves = discovery.cart_boxes(spec, x, flag)
    if leaves:
        rows = []
        for i, leaf in enumerate(leaves, start=1):
            limits = "; ".join(f"{r.factor}: {r.limits}" for r in leaf.limits.itertuples())
            rows.append(
                {
                    "leaf": i,
                    "coverage": leaf.stats["coverage"],
                    "density": leaf.stats["density"],
                    "mass": leaf.stats["mass"],
                    "limits": limits or "(everything)",
                }
            )
        page.table(
            "CART: the densest leaves of the case",
            pd.DataFrame(rows),
            _para("A classification tree (EMA Workbench's CART) split on the same factors."),
            level=3,
        )


def _pairs(page: Page, x: pd.DataFrame, chosen: list[str], flag: np.ndarray, label: str):
    plt = _plt()
    if len(chosen) < 2:
        return
    n = len(chosen)
    fig, axes = plt.subplots(n, n, figsize=(2.3 * n + 1, 2.3 * n), squeeze=False)
    colours = np.where(flag, "tab:red", "lightgrey")
    order = np.argsort(flag)  # cases drawn last, on top
    for i, row in enumerate(chosen):
        for j, column in enumerate(chosen):
            ax = axes[i, j]
            if i == j:
                values = x[row].to_numpy(dtype=float)
                bins = np.histogram_bin_edges(values, bins=10)
                ax.hist(values[~flag], bins=bins, color="lightgrey")
                ax.hist(values[flag], bins=bins, color="tab:red", alpha=0.7)
            else:
                ax.scatter(
                    x[column].to_numpy(float)[order], x[row].to_numpy(float)[order],
                    c=colours[order], s=8,
                )  # fmt: skip
            if i == n - 1:
                ax.set_xlabel(column, fontsize=7)
            if j == 0:
                ax.set_ylabel(row, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"Red: {label}", fontsize=9)
    page.figure(
        "Pairs of the highest-scoring uncertainties",
        fig,
        "pairs",
        _para("Each point is a run; red runs are the case of interest."),
    )


def _scatter(page: Page, spec: ExperimentSpec, runs, x: pd.DataFrame, chosen, flag) -> None:
    plt = _plt()
    rank_by = spec.rank_by or spec.outcomes[0].name
    # colour by another outcome that has values (years to resilience may never be reached)
    colour_by = next(
        (o.name for o in spec.outcomes if o.name != rank_by and runs[o.name].notna().any()),
        rank_by,
    )
    if not chosen or runs[rank_by].isna().all():
        return
    fig, axes = plt.subplots(1, len(chosen), figsize=(4.2 * len(chosen), 3.6), squeeze=False)
    colour = runs[colour_by].to_numpy(dtype=float)
    for ax, factor in zip(axes[0], chosen, strict=True):
        points = ax.scatter(
            x[factor].to_numpy(float), runs[rank_by].to_numpy(float), c=colour, s=10,
            cmap="plasma", edgecolors=np.where(flag, "k", "none"), linewidths=0.5,
        )  # fmt: skip
        ax.set_xlabel(factor, fontsize=8)
        ax.set_ylabel(axis_label(spec, rank_by), fontsize=8)
    fig.colorbar(points, ax=list(axes[0]), label=axis_label(spec, colour_by))
    page.figure(
        f"Scatter: {rank_by} against the highest-scoring uncertainties",
        fig,
        "scatter",
        _para(
            f"Colour: {colour_by}; black edge: the case of interest. Runs whose "
            f"{rank_by} is NaN (never reached) are not drawn."
        ),
    )


def _levers(page: Page, spec: ExperimentSpec, runs: pd.DataFrame) -> None:
    plt = _plt()
    table = discovery.regret(spec, runs)
    if not table.empty:
        rank_by = spec.rank_by or spec.outcomes[0].name
        focus = table[table["outcome"] == rank_by]
        if not focus.empty:
            fig, ax = plt.subplots(figsize=(8, 0.4 * len(focus) + 1.8))
            y = np.arange(len(focus))
            ax.barh(y - 0.2, focus["mean_regret"], 0.4, label="mean")
            ax.barh(y + 0.2, focus["p90_regret"], 0.4, label="90th percentile")
            ax.set_yticks(y, focus["lever"], fontsize=7)
            ax.set_xlabel(f"regret in {axis_label(spec, rank_by)}")
            ax.legend(fontsize=7)
            page.figure(
                f"Regret of each lever setting: {rank_by}",
                fig,
                "regret",
                _para(
                    "Regret: how far a setting falls behind the best setting in the same future "
                    "(same sample, same seed); a robust setting has a small regret everywhere. "
                    "Years to resilience never reached count as infinitely long."
                ),
            )
        page.table("Regret over the sampled futures", table, level=3)
    diffs = discovery.paired_differences(spec, runs)
    if not diffs.empty:
        page.table(
            "Paired differences under common random numbers",
            diffs,
            _para(
                "Every lever setting meets the same futures and seeds, so each is compared with "
                "the first setting future by future: mean difference (setting minus "
                "reference), its 95% confidence interval, and the share of futures where the "
                "setting does better."
            ),
        )


def add_search(page: Page, out: Path, spec: ExperimentSpec) -> None:
    """The Pareto set of a policy search stored in ``out`` (nothing when there is none)."""
    from experiments.search import PARETO_FILE, parallel_coordinates

    path = out / PARETO_FILE
    if not path.is_file():
        return
    pareto = pd.read_parquet(path)
    fig = parallel_coordinates(pareto, spec)
    page.figure(
        f"Robust policy search: the Pareto set ({len(pareto)} policies)",
        fig,
        "pareto",
        _para(
            "Each line is a non-dominated policy: its lever values (left) and its robust "
            "objectives over the sampled futures and China doctrines (right); every axis is "
            "oriented so that up is better for objectives."
        ),
    )
    page.table("Pareto set", pareto, level=3)

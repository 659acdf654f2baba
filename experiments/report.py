"""``chokepoint report DIR``: figures (PNG) and a self-contained HTML summary of a batch.

The summary has, as the batch allows: outcomes per lever setting (mean and 5-95% range), fan
charts of the stored monthly series per lever setting, bars of years to resilience with their
interquartile range, a league table when two or more seats' doctrines are crossed, Sobol indices
(or Morris elementary effects) with confidence intervals, scenario discovery for sampled batches
(feature scores, PRIM and CART boxes of the spec's case, pairs and scatter plots coloured by
it, regret and paired differences of the lever settings: :mod:`experiments.discovery`), the
Pareto set of a policy search (:mod:`experiments.search`), and the top and worst runs.
Everything goes to ``DIR/report/``; ``index.html`` embeds its images, so it can be mailed as one
file.
"""

from __future__ import annotations

import base64
import html
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.batch import (
    MANIFEST_FILE,
    SPEC_FILE,
    SPEC_JSON,
    load_failures,
    load_outcomes,
    load_series,
)
from experiments.spec import (
    ExperimentSpec,
    outcome_unit,
    salib_problem,
    spec_warnings,
    unit_samples,
)
from world.pages import html_page, html_table, png_bytes

REPORT_DIR = "report"


class ReportError(Exception):
    """A directory that holds no usable batch."""


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> str:
    data = png_bytes(fig)
    _plt().close(fig)
    path.write_bytes(data)
    return base64.b64encode(data).decode()


def wide_runs(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per run, one column per outcome (NaN outcomes kept)."""
    keys = [c for c in outcomes.columns if c not in ("outcome", "value")]
    wide = outcomes.set_index([*keys, "outcome"])["value"].unstack("outcome")
    wide.columns.name = None
    names = list(dict.fromkeys(outcomes["outcome"]))
    return wide[names].reset_index()


def lever_summary(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per lever setting and outcome: runs, mean, 5th and 95th percentiles."""
    grouped = outcomes.groupby(["lever", "outcome"], sort=False)["value"]
    return grouped.agg(
        runs="size",
        mean="mean",
        p05=lambda v: v.quantile(0.05),
        p95=lambda v: v.quantile(0.95),
    ).reset_index()


def league_table(
    runs: pd.DataFrame, seats: list[str], outcomes: list[str], rank_by: str, higher: bool
) -> pd.DataFrame:
    """Each seat's doctrines ranked by ``rank_by`` averaged over every opponent and seed."""
    rows = []
    for seat in seats:
        column = f"doctrine.{seat}"
        stats = runs.groupby(column)[outcomes].mean()
        stats = stats.sort_values(rank_by, ascending=not higher)
        for rank, (doctrine, row) in enumerate(stats.iterrows(), start=1):
            rows.append({"seat": seat, "rank": rank, "doctrine": doctrine, **row.to_dict()})
    return pd.DataFrame(rows)


def sensitivity(spec: ExperimentSpec, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices per lever setting and outcome."""
    method = spec.sampling.method
    problem = salib_problem(spec)
    unit = unit_samples(spec)
    rows = []
    for (lever, name), group in outcomes.groupby(["lever", "outcome"], sort=False):
        y = group.groupby("sample")["value"].mean().reindex(range(len(unit))).to_numpy()
        if np.isnan(y).any() or np.nanstd(y) == 0:
            continue
        if method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False, seed=0)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            from SALib.analyze import morris

            res = morris.analyze(problem, unit, y, num_levels=spec.sampling.levels, seed=0)
            keys = ("mu_star", "mu_star_conf", "sigma")
        rows.extend(
            {"lever": lever, "outcome": name, "parameter": param, **{k: res[k][j] for k in keys}}
            for j, param in enumerate(problem["names"])
        )
    return pd.DataFrame(rows)


class Page:
    """The sections of a report page being built, and the folder its PNGs go to."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.sections: list[str] = []

    def figure(self, title: str, fig, name: str, note: str = "") -> None:
        """A figure saved as ``name.png`` and embedded under a heading."""
        data = _save(fig, self.folder / f"{name}.png")
        self.sections.append(
            f"<h2>{html.escape(title)}</h2>{note}"
            f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
        )

    def table(self, title: str, frame: pd.DataFrame, note: str = "", level: int = 2) -> None:
        """A table under a heading, scrolling sideways rather than overflowing the page."""
        self.sections.append(
            f"<h{level}>{html.escape(title)}</h{level}>{note}"
            f"<div class='scroll'>{html_table(frame)}</div>"
        )

    def html(self, text: str) -> None:
        """Raw HTML (escaped by the caller)."""
        self.sections.append(text)


#: Extra style of batch reports: wide tables scroll inside the page.
REPORT_STYLE = ".scroll{overflow-x:auto;max-width:100%;}.warn{background:#fff3cd;padding:4px 8px;}"


def axis_label(spec: ExperimentSpec, name: str) -> str:
    """An outcome's name with its unit, for axes and headings."""
    out = next((o for o in spec.outcomes if o.name == name), None)
    unit = outcome_unit(out) if out is not None else ""
    return f"{name} ({unit})" if unit else name


def read_batch_spec(out: Path) -> tuple[ExperimentSpec, str]:
    """The spec a batch directory was run with, and its text to show (the TOML file when the
    batch ran from one)."""
    if (out / SPEC_JSON).is_file():
        data = json.loads((out / SPEC_JSON).read_text(encoding="utf-8"))
    elif (out / SPEC_FILE).is_file():
        data = tomllib.loads((out / SPEC_FILE).read_text(encoding="utf-8"))
    else:
        raise ReportError(f"{out} is not a batch directory (no {SPEC_JSON} or {SPEC_FILE})")
    shown = out / SPEC_FILE if (out / SPEC_FILE).is_file() else out / SPEC_JSON
    return ExperimentSpec.model_validate(data), shown.read_text(encoding="utf-8")


def _fan_charts(page: Page, series: pd.DataFrame, outcomes: pd.DataFrame, levers: list) -> None:
    plt = _plt()
    lever_of = outcomes.drop_duplicates("run_id").set_index("run_id")["lever"]
    series = series.assign(lever=series["run_id"].map(lever_of)).dropna(subset=["lever"])
    for k, (name, group) in enumerate(series.groupby("series", sort=False)):
        # up to six settings share one panel; more get one small panel each
        panels = [levers] if len(levers) <= 6 else [[lever] for lever in levers]
        ncols = min(4, len(panels))
        nrows = -(-len(panels) // ncols)
        size = (9, 4.5) if len(panels) == 1 else (3.2 * ncols, 2.4 * nrows + 0.6)
        fig, axes = plt.subplots(
            nrows, ncols, figsize=size, sharex=True, sharey=True, squeeze=False
        )
        for ax, panel in zip(axes.flat, panels, strict=False):
            for lever in panel:
                table = group[group["lever"] == lever].pivot_table(
                    index="month", columns="run_id", values="value"
                )
                if table.empty:
                    continue
                q = table.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
                (line,) = ax.plot(q.index, q[0.5], label=lever)
                ax.fill_between(q.index, q[0.05], q[0.95], color=line.get_color(), alpha=0.12)
                ax.fill_between(q.index, q[0.25], q[0.75], color=line.get_color(), alpha=0.25)
            if len(panels) == 1:
                ax.legend(fontsize=7, ncol=2)
            else:
                ax.set_title(panel[0], fontsize=7)
        for ax in axes.flat[len(panels) :]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("month since the scenario start")
        for ax in axes[:, 0]:
            ax.set_ylabel(_series_unit(str(name)), fontsize=8)
        fig.suptitle(f"{name}: median, 50% and 90% bands over runs")
        page.figure(f"Fan chart: {name}", fig, f"fan-{k}")


def _series_unit(name: str) -> str:
    """The unit of a stored series, from its variable (the first part of its name)."""
    from world.recorder import VARIABLES

    variable = name.split(":")[0]
    entry = VARIABLES.get(variable)
    unit = entry[1] if entry is not None and len(entry) > 1 else ""
    return f"{name} ({unit})" if unit else name


def _resilience_bars(page: Page, spec: ExperimentSpec, outcomes: pd.DataFrame, months: int):
    plt = _plt()
    levers = list(dict.fromkeys(outcomes["lever"]))
    for out in spec.outcomes:
        if out.derived != "years_to_resilience":
            continue
        data = outcomes[outcomes["outcome"] == out.name]
        never = data["value"].isna() if out.never is None else data["value"] == out.never
        data = data.assign(value=data["value"].where(~never))
        stats = (
            data.groupby("lever", sort=False)["value"]
            .agg(
                median="median",
                q25=lambda v: v.quantile(0.25),
                q75=lambda v: v.quantile(0.75),
                reached=lambda v: v.notna().mean(),
            )
            .reindex(levers)
        )
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(levers) + 2.5))
        y = np.arange(len(stats))
        med = stats["median"].to_numpy(dtype=float)
        err = np.vstack([med - stats["q25"].to_numpy(float), stats["q75"].to_numpy(float) - med])
        ax.barh(y, np.nan_to_num(med), xerr=np.nan_to_num(err), capsize=3, color="tab:green")
        for i, reached in enumerate(stats["reached"].fillna(0.0)):
            ax.text(np.nan_to_num(med[i]) + 0.1, i, f"{reached:.0%} reach", va="center", fontsize=7)
        ax.set_yticks(y, stats.index, fontsize=7)
        ax.set_xlim(0, max(months / 12.0, float(np.nanmax(np.nan_to_num(med + err[1]))) + 1))
        ax.set_xlabel("years to resilience (median over runs that reach it; bars: IQR)")
        note = ""
        if not stats["reached"].fillna(0.0).any():
            message = f"No run reached resilience within the {months}-month horizon."
            ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center")
            note = f"<p class='warn'>{html.escape(message)}</p>"
        page.figure(f"Years to resilience: {out.name}", fig, f"resilience-{out.name}", note)


def _sensitivity_section(page: Page, spec: ExperimentSpec, outcomes: pd.DataFrame) -> None:
    plt = _plt()
    indices = sensitivity(spec, outcomes)
    if indices.empty:
        return
    method = spec.sampling.method
    note = "".join(f"<p class='warn'>{html.escape(w)}</p>" for w in spec_warnings(spec))
    page.table(f"Sensitivity ({method})", indices, note)
    first, second = ("S1", "ST") if method == "sobol" else ("mu_star", None)
    for k, ((lever, name), group) in enumerate(indices.groupby(["lever", "outcome"], sort=False)):
        fig, ax = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
        x = np.arange(len(group))
        width = 0.4 if second else 0.8
        ax.bar(x, group[first], width, yerr=group[f"{first}_conf"], capsize=3, label=first)
        if second:
            ax.bar(
                x + width, group[second], width, yerr=group[f"{second}_conf"], capsize=3,
                label=second,
            )  # fmt: skip
        ax.set_xticks(
            x + (width / 2 if second else 0), group["parameter"], rotation=20, ha="right",
            fontsize=7,
        )  # fmt: skip
        ax.set_ylabel(
            "share of output variance" if second else f"mean |elementary effect| of {name}"
        )
        ax.legend()
        ax.set_title(f"{axis_label(spec, name)} | {lever}", fontsize=9)
        page.figure(f"Sensitivity of {name} ({lever})", fig, f"sensitivity-{k}")


def _batch_sections(
    page: Page,
    spec: ExperimentSpec,
    out: Path,
    outcomes: pd.DataFrame,
    runs: pd.DataFrame,
    months: int,
) -> None:
    """The sections of a batch (not a search): per lever setting, fans, resilience, league,
    sensitivity and scenario discovery."""
    from experiments.discovery_report import add_discovery

    rank_by = spec.rank_by or spec.outcomes[0].name
    higher = spec.higher_is_better
    levers = list(dict.fromkeys(outcomes["lever"]))
    summary = lever_summary(outcomes)
    units = {o.name: outcome_unit(o) for o in spec.outcomes}
    summary.insert(2, "unit", summary["outcome"].map(units).fillna(""))
    page.table("Outcomes by lever setting", summary)

    series = load_series(out)
    if not series.empty:
        _fan_charts(page, series, outcomes, levers)
    _resilience_bars(page, spec, outcomes, months)

    seats = [c.removeprefix("doctrine.") for c in runs.columns if c.startswith("doctrine.")]
    if len(seats) >= 2:
        league = league_table(runs, seats, [o.name for o in spec.outcomes], rank_by, higher)
        page.table(
            "League table",
            league,
            f"<p>Doctrines ranked by mean {html.escape(rank_by)} "
            f"({'higher' if higher else 'lower'} is better) over every opponent and seed.</p>",
        )

    if spec.sampling.method in ("sobol", "morris"):
        _sensitivity_section(page, spec, outcomes)

    if spec.sampling.method != "nominal" or len(levers) > 1:
        add_discovery(page, spec, runs)


def write_report(out: Path | str) -> Path:
    """Write ``DIR/report/*.png`` and ``DIR/report/index.html``; return the HTML's path."""
    out = Path(out)
    if not (out / MANIFEST_FILE).is_file():
        raise ReportError(f"{out} is not a batch directory (no {MANIFEST_FILE})")
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    spec, spec_text = read_batch_spec(out)
    outcomes = load_outcomes(out)
    if outcomes.empty:
        raise ReportError(f"{out} holds no finished runs yet")
    twice = outcomes.duplicated(["run_id", "outcome"])
    if twice.any():
        raise ReportError(
            f"{out} holds {outcomes.loc[twice, 'run_id'].nunique()} runs twice (a batch made "
            "before run ids were unique per design point, or part files copied in); rerun the "
            "batch with --fresh"
        )
    folder = out / REPORT_DIR
    folder.mkdir(exist_ok=True)
    page = Page(folder)
    rank_by = spec.rank_by or spec.outcomes[0].name
    higher = spec.higher_is_better
    from experiments.discovery_report import add_search
    from experiments.search import PARETO_FILE

    runs = wide_runs(outcomes)
    if spec.search is not None and (out / PARETO_FILE).is_file():
        # a search's runs are its candidates': per-setting sections would list each of them
        add_search(page, out, spec)
    else:
        _batch_sections(page, spec, out, outcomes, runs, int(manifest.get("months") or 0))

    ranked = runs.sort_values(rank_by, ascending=not higher, na_position="last")
    page.table(f"Top runs by {rank_by}", ranked.head(10))
    worst = runs.sort_values(rank_by, ascending=higher, na_position="first")
    page.table(f"Worst runs by {rank_by}", worst.head(10))

    failures = load_failures(out)
    if not failures.empty:
        page.table(
            f"Failed runs ({len(failures)})",
            failures[["run_id", "lever", "sample", "seed", "parameters", "error"]],
        )

    counts = manifest.get("counts", {})
    warnings = "".join(f"<p class='warn'>{html.escape(w)}</p>" for w in spec_warnings(spec))
    head = (
        f"<h1>{html.escape(spec.name)}</h1><p>{html.escape(spec.description)}</p>{warnings}"
        f"<p>Spec <code>{html.escape(str(out / SPEC_JSON))}</code> (hash "
        f"<code>{html.escape(manifest.get('spec_hash', ''))}</code>); manifest "
        f"<code>{html.escape(str(out / MANIFEST_FILE))}</code>; scenario "
        f"<code>{html.escape(manifest.get('scenario', ''))}</code> (hash "
        f"<code>{html.escape(manifest.get('scenario_hash', ''))}</code>), "
        f"{manifest.get('months')} months; engine hash "
        f"<code>{html.escape(manifest.get('engine_hash', ''))}</code>; chokepoint "
        f"{html.escape(manifest.get('chokepoint_version', ''))}."
        f"</p><p>Runs: {counts.get('runs_completed')} of {counts.get('runs_planned')} stored, "
        f"{counts.get('runs_failed')} failed; {counts.get('lever_settings')} lever settings × "
        f"{counts.get('samples')} samples × {counts.get('seeds')} seeds. Load the results with "
        f"<code>pandas.read_parquet('{html.escape(str(out / 'outcomes'))}')</code>.</p>"
        f"<details><summary>the spec as run</summary><pre>{html.escape(spec_text)}</pre>"
        "</details>"
    )
    text = html_page(spec.name, head + "".join(page.sections), REPORT_STYLE)
    path = folder / "index.html"
    path.write_text(text, encoding="utf-8")
    return path

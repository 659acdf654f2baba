"""``chokepoint report DIR``: figures (PNG) and a self-contained HTML summary of a batch.

The summary has, as the batch allows: outcomes per lever setting (mean and 5-95% range), fan
charts of the stored monthly series per lever setting, bars of years to resilience with their
interquartile range, a league table when two or more seats' doctrines are crossed, Sobol indices
(or Morris elementary effects) with confidence intervals, and the top and worst runs. Everything
goes to ``DIR/report/``; ``index.html`` embeds its images, so it can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.batch import (
    MANIFEST_FILE,
    SPEC_FILE,
    load_failures,
    load_outcomes,
    load_series,
)
from experiments.spec import ExperimentSpec, salib_problem, unit_samples

REPORT_DIR = "report"


class ReportError(Exception):
    """A directory that holds no usable batch."""


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig, dpi: int = 110) -> bytes:
    """A figure (pyplot's or a bare ``matplotlib.figure.Figure``) as PNG bytes, trimmed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def _save(fig, path: Path) -> str:
    data = png_bytes(fig)
    _plt().close(fig)
    path.write_bytes(data)
    return base64.b64encode(data).decode()


def html_table(frame: pd.DataFrame) -> str:
    """A frame as a plain HTML table (values HTML-escaped, floats to 3 significant digits)."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="n/a", border=0)


#: The inline style of a self-contained report page.
PAGE_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;}"
    "table{border-collapse:collapse;font-size:12px;}td,th{padding:2px 8px;"
    "border-bottom:1px solid #ddd;}img{max-width:100%;}"
)


def html_page(title: str, body: str, style: str = "") -> str:
    """One self-contained HTML page: ``title`` (escaped here), :data:`PAGE_STYLE` plus ``style``
    inline, and ``body`` (HTML, escaped by the caller)."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{PAGE_STYLE}{style}</style></head><body>{body}</body></html>"
    )


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


def write_report(out: Path | str) -> Path:
    """Write ``DIR/report/*.png`` and ``DIR/report/index.html``; return the HTML's path."""
    out = Path(out)
    if not (out / MANIFEST_FILE).is_file() or not (out / SPEC_FILE).is_file():
        raise ReportError(f"{out} is not a batch directory (no {MANIFEST_FILE} or {SPEC_FILE})")
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    spec_text = (out / SPEC_FILE).read_text(encoding="utf-8")
    spec = ExperimentSpec.model_validate(tomllib.loads(spec_text))
    outcomes = load_outcomes(out)
    if outcomes.empty:
        raise ReportError(f"{out} holds no finished runs yet")
    plt = _plt()
    folder = out / REPORT_DIR
    folder.mkdir(exist_ok=True)
    rank_by = spec.rank_by or spec.outcomes[0].name
    higher = spec.higher_is_better
    levers = list(dict.fromkeys(outcomes["lever"]))
    sections: list[str] = []

    def figure_section(title: str, fig, name: str, note: str = "") -> None:
        data = _save(fig, folder / f"{name}.png")
        sections.append(
            f"<h2>{html.escape(title)}</h2>{note}"
            f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'
        )

    summary = lever_summary(outcomes)
    sections.append("<h2>Outcomes by lever setting</h2>" + html_table(summary))

    series = load_series(out)
    if not series.empty:
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
                ax.set_xlabel("month")
            fig.suptitle(f"{name}: median, 50% and 90% bands over runs")
            figure_section(f"Fan chart: {name}", fig, f"fan-{k}")

    ytr = [o.name for o in spec.outcomes if o.derived == "years_to_resilience"]
    for name in ytr:
        data = outcomes[outcomes["outcome"] == name]
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
        for i, reached in enumerate(stats["reached"]):
            ax.text(np.nan_to_num(med[i]) + 0.1, i, f"{reached:.0%} reach", va="center", fontsize=7)
        ax.set_yticks(y, stats.index, fontsize=7)
        ax.set_xlabel("years to resilience (median over runs that reach it; bars: IQR)")
        figure_section(f"Years to resilience: {name}", fig, f"resilience-{name}")

    runs = wide_runs(outcomes)
    seats = [c.removeprefix("doctrine.") for c in runs.columns if c.startswith("doctrine.")]
    if len(seats) >= 2:
        league = league_table(runs, seats, [o.name for o in spec.outcomes], rank_by, higher)
        sections.append(
            f"<h2>League table</h2><p>Doctrines ranked by mean {html.escape(rank_by)} "
            f"({'higher' if higher else 'lower'} is better) over every opponent and seed.</p>"
            + html_table(league)
        )

    if spec.sampling.method in ("sobol", "morris"):
        indices = sensitivity(spec, outcomes)
        if not indices.empty:
            sections.append(f"<h2>Sensitivity ({spec.sampling.method})</h2>" + html_table(indices))
            first, second = ("S1", "ST") if spec.sampling.method == "sobol" else ("mu_star", None)
            for k, ((lever, name), group) in enumerate(
                indices.groupby(["lever", "outcome"], sort=False)
            ):
                fig, ax = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
                x = np.arange(len(group))
                width = 0.4 if second else 0.8
                ax.bar(x, group[first], width, yerr=group[f"{first}_conf"], capsize=3, label=first)
                if second:
                    ax.bar(
                        x + width,
                        group[second],
                        width,
                        yerr=group[f"{second}_conf"],
                        capsize=3,
                        label=second,
                    )
                ax.set_xticks(
                    x + (width / 2 if second else 0),
                    group["parameter"],
                    rotation=20,
                    ha="right",
                    fontsize=7,
                )
                ax.legend()
                ax.set_title(f"{name} | {lever}", fontsize=9)
                figure_section(f"Sensitivity of {name} ({lever})", fig, f"sensitivity-{k}")

    ranked = runs.sort_values(rank_by, ascending=not higher, na_position="last")
    sections.append(f"<h2>Top runs by {html.escape(rank_by)}</h2>" + html_table(ranked.head(10)))
    worst = runs.sort_values(rank_by, ascending=higher, na_position="first")
    sections.append(f"<h2>Worst runs by {html.escape(rank_by)}</h2>" + html_table(worst.head(10)))

    failures = load_failures(out)
    if not failures.empty:
        sections.append(
            f"<h2>Failed runs ({len(failures)})</h2>"
            + html_table(failures[["run_id", "lever", "sample", "seed", "parameters", "error"]])
        )

    counts = manifest.get("counts", {})
    head = (
        f"<h1>{html.escape(spec.name)}</h1><p>{html.escape(spec.description)}</p>"
        f"<p>Spec <code>{html.escape(str(out / SPEC_FILE))}</code> (hash "
        f"<code>{html.escape(manifest.get('spec_hash', ''))}</code>); manifest "
        f"<code>{html.escape(str(out / MANIFEST_FILE))}</code>; scenario "
        f"<code>{html.escape(manifest.get('scenario', ''))}</code> (hash "
        f"<code>{html.escape(manifest.get('scenario_hash', ''))}</code>), "
        f"{manifest.get('months')} months; chokepoint "
        f"{html.escape(manifest.get('chokepoint_version', ''))}."
        f"</p><p>Runs: {counts.get('runs_completed')} of {counts.get('runs_planned')} stored, "
        f"{counts.get('runs_failed')} failed; {counts.get('lever_settings')} lever settings × "
        f"{counts.get('samples')} samples × {counts.get('seeds')} seeds. Load the results with "
        f"<code>pandas.read_parquet('{html.escape(str(out / 'outcomes'))}')</code>.</p>"
        f"<details><summary>spec.toml</summary><pre>{html.escape(spec_text)}</pre></details>"
    )
    page = html_page(spec.name, head + "".join(sections))
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path

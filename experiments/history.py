"""What ``chokepoint history`` shows and writes: model beside history, as a table and a figure.

The comparison itself is world/history.py; this module formats it for a terminal, draws the fit
figure (one panel per observed series: the model's monthly line, the observed points with their
bands, the peak window) and writes the figure and the comparison table to a directory.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from world.calendar import add_months, months_between
from world.history import model_series
from world.scenario import Scenario

matplotlib.use("Agg")

CSV_FILE = "history.csv"
OK, FAIL, SHOWN = "ok", "FAIL", "shown"
HEADER = ("check", "observed", "model", "band", "")


def _date_of_year(value: float) -> str:
    """A decimal year (2011.5) as the ``YYYY-MM`` month it starts."""
    if not math.isfinite(value):
        return "-"
    months = round(value * 12)
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def _number(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "-"
    if unit == "year":
        return _date_of_year(value)
    if unit in ("share", "x base") or abs(value) < 10:
        return f"{value:.3g}" if unit != "x base" else f"{value:.1f}x"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"


def _band(low: float, high: float, unit: str) -> str:
    if math.isnan(low) and math.isnan(high):
        return "(not scored)"
    if not math.isfinite(low) and not math.isfinite(high):
        return "any"
    if not math.isfinite(low):
        return f"<= {_number(high, unit)}"
    if not math.isfinite(high):
        return f">= {_number(low, unit)}"
    return f"{_number(low, unit)} .. {_number(high, unit)}"


def _when(row) -> str:
    span = row.date if row.months == 1 else f"{row.date}..{add_months(row.date, row.months - 1)}"
    if row.check == "peak date":
        return f"in {span}"
    if row.check == "peak multiple":
        return f"over {span}"
    return span


def verdict(ok) -> str:
    """ok / FAIL / shown (a context series) for a row's ``ok`` value."""
    return SHOWN if pd.isna(ok) else (OK if ok else FAIL)


def format_table(table: pd.DataFrame) -> str:
    """The comparison of one scenario as text: per series, its rows, model beside history."""
    lines = []
    for series, rows in table.groupby("series", sort=False):
        first = rows.iloc[0]
        scored = rows["ok"].dropna()
        status = SHOWN if scored.empty else (OK if bool(scored.all()) else FAIL)
        lines.append(f"  {series}: {first.label} [{first.unit}] -> {status}")
        cells = [
            (
                f"{r.check}, {_when(r)}",
                _number(r.observed, r.unit),
                _number(r.model, r.unit),
                _band(r.low, r.high, r.unit),
                verdict(r.ok),
            )
            for r in rows.itertuples(index=False)
        ]
        widths = [max(len(c[i]) for c in [*cells, HEADER]) for i in range(5)]
        for cell in [HEADER, *cells]:
            lines.append(
                "    "
                + cell[0].ljust(widths[0])
                + "".join(f"  {c:>{w}}" for c, w in zip(cell[1:], widths[1:], strict=True))
            )
    return "\n".join(lines)


def fit_figure(spec: Scenario, frame: pd.DataFrame, table: pd.DataFrame) -> Figure:
    """One panel per observed series: the model's monthly line (solid), the observed points
    (dotted, with their bands as bars) and a peak check's window (shaded)."""
    series = list(spec.references.series)
    cols = 3 if len(series) > 4 else max(len(series), 1)
    rows = -(-max(len(series), 1) // cols)
    fig = Figure(figsize=(5.2 * cols, 3.4 * rows + 0.6), dpi=90)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, observed in zip(axes, series, strict=False):
        model = model_series(frame, spec, observed)
        rows_of = table[table["series"] == observed.id]
        scored = rows_of["ok"].dropna()
        status = SHOWN if scored.empty else (OK if bool(scored.all()) else FAIL)
        ax.plot(model["month"], model["value"], color="#1f77b4", lw=1.6, label="model")
        x = [p.centre(spec.start) for p in observed.points]
        ax.plot(x, [p.value for p in observed.points], ls=":", marker="D", color="#222222",
                ms=5, label="observed")  # fmt: skip
        for p in observed.points:  # a figure over several months spans them
            if p.months > 1:
                first = months_between(spec.start, p.date)
                ax.hlines(p.value, first, first + p.months - 1, color="#222222", lw=1.2)
        if observed.peak is not None:
            _draw_peak(ax, spec, observed, model, rows_of)
        _draw_bands(ax, x, rows_of[rows_of["check"] == "point"])
        ax.set_title(
            f"{observed.id}: {status}", fontsize=9, color="#d62728" if status == FAIL else "black"
        )
        ax.set_ylabel(observed.unit, fontsize=8)
        ax.set_xlabel(f"month (0 = {spec.start})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.2)
        ax.legend(fontsize=6, loc="best")
    for ax in axes[len(series) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{spec.name}: model (solid) vs history (dotted); bars: the band, green in, red out",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig


def _draw_peak(ax, spec: Scenario, observed, model: pd.DataFrame, rows: pd.DataFrame) -> None:
    """The window the peak must fall in (shaded) and the height it must reach (dashed)."""
    first, last = (months_between(spec.start, d) for d in observed.peak.window)
    ax.axvspan(first, last + 1, color="#ffbf00", alpha=0.2, label="peak window")
    multiple = rows[rows["check"] == "peak multiple"]
    if multiple.empty or not math.isfinite(multiple.iloc[0]["low"]):
        return
    row = multiple.iloc[0]
    start = months_between(spec.start, row["date"])
    part = model.iloc[start : start + int(row["months"])]
    den = float(part["denominator"].sum())
    if den > 0:
        base = float(part["numerator"].sum()) / den * observed.scale
        ax.axhline(row["low"] * base, color="#d62728", ls="--", lw=1,
                   label=f"peak needed: {row['low']:g}x the model's base")  # fmt: skip


def _draw_bands(ax, x: list[float], points: pd.DataFrame) -> None:
    """Each scored point's band as a bar (green if the model is in it, red if not); an open
    side runs to the panel's edge."""
    bottom, top = ax.get_ylim()
    for xi, row in zip(x, points.itertuples(index=False), strict=True):
        if math.isnan(row.low) and math.isnan(row.high):
            continue
        low = row.low if math.isfinite(row.low) else bottom
        high = row.high if math.isfinite(row.high) else top
        ax.plot([xi, xi], [low, high], color="#2ca02c" if row.ok else "#d62728", lw=4, alpha=0.45)
    ax.set_ylim(bottom, top)


def write_outputs(out: Path, results: list[tuple[Scenario, pd.DataFrame, pd.DataFrame]]) -> list:
    """Write ``out/<scenario>-history.png`` per scenario and ``out/history.csv`` (every
    scenario's comparison table); returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for spec, frame, table in results:
        path = out / f"{spec.name}-history.png"
        fit_figure(spec, frame, table).savefig(path)
        written.append(path)
    csv = out / CSV_FILE
    pd.concat([t for _, _, t in results], ignore_index=True).to_csv(csv, index=False)
    written.append(csv)
    return written

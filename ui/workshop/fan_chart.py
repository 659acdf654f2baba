"""The facilitator's fan chart: the futures of play/branching.py drawn as median and bands."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from play.branching import PANELS, key_curves
from ui import charts
from world import World


def _series_colour(variable: str, commodity: str, region: str) -> str | None:
    if variable == "china_share":
        return None  # one line per stage: matplotlib's cycle, as charts.china_share
    if variable == "defense_fill_rate":
        return charts.SECTOR_COLOURS["defense"]
    return charts.colour(region)


def _label(variable: str, commodity: str, region: str) -> str:
    if variable == "china_share":
        return charts.STAGE_OF.get(commodity, commodity)
    return region


def _panel_rows(frame: pd.DataFrame, variable: str, commodity: str | None) -> pd.DataFrame:
    data = frame[frame["variable"] == variable]
    if commodity is not None:
        return data[data["commodity"] == commodity]
    if variable == "stock_strategic":
        # One line per region: the stockpiled products together.
        keys = [k for k in ("future", "month", "region") if k in data.columns]
        data = data.groupby(keys, sort=False, as_index=False)["value"].sum()
        data["commodity"] = ""
    return data


def fan_chart(frame: pd.DataFrame, now_month: int, world: World | None = None) -> Figure:
    """Median and 10-90% / 25-75% bands of each key curve over the futures in ``frame`` (from
    :func:`futures`), a vertical line at ``now_month``, and, if ``world`` is given, the game so
    far (its recorder) as a solid line before it and, when the futures fork from an earlier
    month, what was actually played since as a dotted line."""
    rows = -(-len(PANELS) // 2)
    fig, axes = charts._figure(rows, 2, height=3.0)
    history = key_curves(world, 0, now_month) if world is not None else None
    played = key_curves(world, now_month) if world is not None else None
    xlabel = f"month (0 = {world.spec.start})" if world is not None else "month"
    for ax, (variable, commodity, title, unit, scale) in zip(axes, PANELS, strict=False):
        ax.set_title(title)
        data = _panel_rows(frame, variable, commodity)
        past = None if history is None else _panel_rows(history, variable, commodity)
        if data.empty and (past is None or past.empty):
            charts._empty(ax, "No futures yet.")
            continue
        keys = data.groupby(["commodity", "region"], sort=False).groups.keys()
        if past is not None:
            keys = dict.fromkeys(
                [*keys, *past.groupby(["commodity", "region"], sort=False).groups.keys()]
            )
        for c, region in keys:
            colour = _series_colour(variable, c, region)
            label = _label(variable, c, region)
            line = None
            if past is not None:
                mine = past[(past["commodity"] == c) & (past["region"] == region)]
                if not mine.empty:
                    (line,) = ax.plot(
                        mine["month"], scale * mine["value"], color=colour, label=label, lw=1.4
                    )
                    colour = line.get_color()
            if played is not None and not played.empty:
                since = _panel_rows(played, variable, commodity)
                since = since[(since["commodity"] == c) & (since["region"] == region)]
                if not since.empty:
                    ax.plot(since["month"], scale * since["value"], color=colour, lw=1.2, ls=":")
            series = data[(data["commodity"] == c) & (data["region"] == region)]
            if series.empty:
                continue
            table = series.pivot_table(index="month", columns="future", values="value")
            q = scale * table.quantile([0.1, 0.25, 0.5, 0.75, 0.9], axis=1).T
            (median,) = ax.plot(
                q.index, q[0.5], color=colour, lw=1.4, ls="--", label=None if line else label
            )
            colour = median.get_color()
            ax.fill_between(q.index, q[0.1], q[0.9], color=colour, alpha=0.12, lw=0)
            ax.fill_between(q.index, q[0.25], q[0.75], color=colour, alpha=0.25, lw=0)
        ax.axvline(now_month, color="#000000", lw=1.0, ls="-", zorder=0)
        ax.set_ylabel(unit)
        if scale == 100.0:
            ax.set_ylim(0, 105)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.2)
        if variable != "defense_fill_rate":
            ax.legend(fontsize=7, ncol=2)
    for ax in axes[len(PANELS) :]:
        ax.set_visible(False)
    futures_count = frame["future"].nunique() if not frame.empty else 0
    fig.suptitle(
        f"{futures_count} futures from month {now_month} (black line): median dashed, "
        "bands 25-75% and 10-90%"
    )
    return fig

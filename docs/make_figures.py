"""Debrief figures for every bundled scenario: prices, China's shares and stocks over time.

For each bundled scenario this runs ``World(load_scenario(name), seed=0)`` over its horizon and
writes ``<out>/<name>.png``, a 2x2 figure:

(a) oxide_light prices, China vs ex-China (the mean of the other regions with buyers), USD/kg;
(b) oxide_heavy and magnet prices indexed to month 0 = 100, China vs ex-China;
(c) China's share of world production by commodity, %;
(d) commercial + strategic magnet stocks as months of cover by region (t if cover is undefined).

The observed price series of the scenario's ``[[references.series]]`` (world/observed.py) are
drawn on the price panels as labelled markers (region ``exCN`` is the ex-China line); ``chokepoint
history`` compares them with the model. It also writes ``<out>/README.md`` listing the figures.

    uv run python docs/make_figures.py [--out docs/figures] [--log] [--scenario NAME ...]
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``world`` importable without installing
    sys.path.insert(0, str(REPO))

from world import World, bundled_scenarios, load_scenario  # noqa: E402
from world.observed import EX_CHINA  # noqa: E402
from world.scenario import Scenario  # noqa: E402

DEFAULT_OUT = REPO / "docs" / "figures"
COMMAND = "uv run python docs/make_figures.py"

#: One colour per region, the same on every figure.
REGION_COLOURS = {
    "CN": "#d62728",  # red
    "US": "#1f77b4",  # blue
    "JP": "#7b3fa0",  # purple
    "EU": "#e69f00",  # gold/orange
    "AU": "#2ca02c",  # green
    "MY": "#17a2a2",  # teal
    "MM": "#8c564b",  # brown
    "ROW": "#8c8c8c",  # grey
}
#: Regions a scenario may add (KR, CA, IN, ...) take these in turn.
SPARE_COLOURS = ["#e377c2", "#bcbd22", "#393b79", "#ad494a", "#637939", "#6baed6"]
EX_CHINA_COLOUR = "#222222"
COMMODITY_COLOURS = {
    "concentrate": "#7f7f7f",
    "oxide_light": "#1f77b4",
    "oxide_heavy": "#9467bd",
    "metal": "#ff7f0e",
    "magnet": "#d62728",
}
COMMODITY_STYLES = {"oxide_heavy": "-", "magnet": "--"}
SHARE_COMMODITIES = ("concentrate", "oxide_light", "oxide_heavy", "metal", "magnet")
#: A reference point this many times above the model's lines is drawn at the panel's top edge.
OFF_SCALE = 5.0


def region_colour(region: str, regions: list[str]) -> str:
    """The region's fixed colour; an unknown region gets a spare one, stable within a scenario."""
    if region == EX_CHINA:
        return EX_CHINA_COLOUR
    if region in REGION_COLOURS:
        return REGION_COLOURS[region]
    extra = [r for r in regions if r not in REGION_COLOURS]
    index = extra.index(region) if region in extra else len(extra)
    return SPARE_COLOURS[index % len(SPARE_COLOURS)]


# --------------------------------------------------------------------------- data


class Series:
    """The results of one run, reshaped for plotting: (month x region) tables per variable."""

    def __init__(self, world: World):
        self.world = world
        self.regions = list(world.region_ids)
        frame = world.results()
        self.frame = frame
        months = int(frame["month"].max()) + 1 if len(frame) else 0
        self.dates = pd.to_datetime([world.date_of(m) for m in range(months)], format="%Y-%m")

    def table(self, variable: str, commodity: str) -> pd.DataFrame:
        """Values of one variable for one commodity: index month, columns region."""
        f = self.frame
        sel = f[(f["variable"] == variable) & (f["commodity"] == commodity)]
        out = sel.pivot_table(index="month", columns="region", values="value", dropna=False)
        out = out.reindex(index=range(len(self.dates)), columns=self.regions)
        return out

    def buyer_regions(self, commodity: str) -> list[str]:
        """Regions other than China where someone buys the commodity (final or as an input)."""
        demand = self.table("demand", commodity).fillna(0.0)
        use = self.table("use", commodity).fillna(0.0)
        wanted = (demand + use).max(axis=0)
        return [r for r in self.regions if r != "CN" and wanted.get(r, 0.0) > 1e-9]

    def ex_china(self, commodity: str) -> tuple[pd.Series, list[str]]:
        """The ex-China price: mean over the other regions with buyers (all others if none)."""
        prices = self.table("price", commodity)
        regions = self.buyer_regions(commodity) or [r for r in self.regions if r != "CN"]
        return prices[regions].mean(axis=1), regions


# --------------------------------------------------------------------------- references


def reference_points(scenario: Scenario) -> list[dict]:
    """The observed price points of the scenario's ``references.series`` (world/observed.py),
    each placed at the middle of the months it covers."""
    out = []
    for observed in scenario.references.series:
        if observed.variable != "price":
            continue
        for point in observed.points:
            middle = pd.Timestamp(point.date) + pd.DateOffset(months=(point.months - 1) // 2)
            out.append(
                {
                    "commodity": observed.commodity,
                    "region": observed.region,
                    "when": middle,
                    "value": point.value,
                    "label": point.label or observed.title(),
                }
            )
    return out


# --------------------------------------------------------------------------- panels


def _line_for(series: Series, commodity: str, region: str) -> pd.Series | None:
    """The price line a reference point refers to: a region's, or the ex-China mean."""
    if region == EX_CHINA:
        return series.ex_china(commodity)[0]
    prices = series.table("price", commodity)
    return prices.get(region)


def _lines_top(ax) -> float:
    """The highest finite y value of the lines drawn so far on ``ax``."""
    tops = [np.nanmax(np.asarray(line.get_ydata(), dtype=float)) for line in ax.get_lines()]
    tops = [t for t in tops if np.isfinite(t)]
    return max(tops) if tops else math.inf


def _draw_points(
    ax, series: Series, points: list[dict], commodity: str, indexed: bool, log: bool
) -> int:
    """Markers with labels for the points of one commodity; returns how many were drawn.

    On a linear axis, a point more than ``OFF_SCALE`` times above the model's lines would squash
    them: it is drawn as a triangle at the top edge with its value in the label.
    """
    drawn = 0
    top = _lines_top(ax)
    first, last = series.dates[0], series.dates[-1]
    for point in points:
        if point["commodity"] != commodity:
            continue
        line = _line_for(series, commodity, point["region"])
        if line is None or not first <= point["when"] <= last + pd.offsets.MonthEnd(1):
            continue
        value = point["value"]
        if indexed:
            base = float(line.iloc[0])
            if not base > 0:
                continue
            value = 100.0 * value / base
        colour = region_colour(point["region"], series.regions)
        text = point["label"] + (f" ({commodity})" if indexed else "")
        off_scale = not log and value > OFF_SCALE * top
        x = mdates.date2num(point["when"])  # plain floats: transforms do not convert units
        if off_scale:
            where, transform, marker = (x, 0.97), ax.get_xaxis_transform(), "^"
            shown = f" = index {value:.0f}" if indexed else ""
            text += f": {point['value']:g} USD/kg{shown}, off scale"
        else:
            where, transform, marker = (x, value), ax.transData, "D"
        ax.plot(
            *where,
            marker=marker,
            markersize=6,
            markerfacecolor=colour,
            markeredgecolor="black",
            linestyle="none",
            zorder=5,
            transform=transform,
        )
        ax.annotate(
            text,
            where,
            xycoords=transform,
            xytext=(5, -11 if off_scale or drawn % 2 else 6),
            textcoords="offset points",
            fontsize=6.5,
            color="#333333",
        )
        drawn += 1
    return drawn


def _price_scale(ax, log: bool) -> None:
    """Log scale with plain-number ticks, or a linear scale from zero."""
    if log:
        ax.set_yscale("log")
        plain = FuncFormatter(lambda value, _pos: f"{value:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    else:
        ax.set_ylim(bottom=0)


def panel_light_prices(ax, series: Series, points: list[dict], log: bool) -> int:
    """(a) oxide_light: China, ex-China mean, and the US and Japan lines."""
    commodity = "oxide_light"
    prices = series.table("price", commodity)
    ex_cn, regions = series.ex_china(commodity)
    ax.plot(series.dates, prices["CN"], color=REGION_COLOURS["CN"], lw=2, label="China (CN)")
    ax.plot(
        series.dates,
        ex_cn,
        color=EX_CHINA_COLOUR,
        lw=2,
        label=f"ex-China: mean of {', '.join(regions)}",
    )
    for region in ("JP", "US"):
        if region in prices:
            ax.plot(
                series.dates,
                prices[region],
                color=REGION_COLOURS[region],
                lw=1,
                alpha=0.8,
                label=region,
            )
    drawn = _draw_points(ax, series, points, commodity, indexed=False, log=log)
    ax.set_title("(a) Light oxide (NdPr-type) price")
    ax.set_ylabel("USD/kg (buyer's price)")
    _price_scale(ax, log)
    ax.legend(fontsize=7, loc="best")
    return drawn


def panel_indexed_prices(ax, series: Series, points: list[dict], log: bool) -> int:
    """(b) oxide_heavy and magnet prices, month 0 = 100, China and ex-China."""
    drawn = 0
    for commodity in ("oxide_heavy", "magnet"):
        if commodity not in series.world.commodity_index:
            continue
        prices = series.table("price", commodity)
        style = COMMODITY_STYLES[commodity]
        curves = {"CN": prices["CN"], EX_CHINA: series.ex_china(commodity)[0]}
        for region, line in curves.items():
            base = float(line.iloc[0])
            if not base > 0:
                continue
            name = "China" if region == "CN" else "ex-China"
            ax.plot(
                series.dates,
                100.0 * line / base,
                color=region_colour(region, series.regions),
                ls=style,
                lw=1.8,
                label=f"{commodity} {name} (month 0 = {base:.0f} USD/kg)",
            )
        drawn += _draw_points(ax, series, points, commodity, indexed=True, log=log)
    ax.set_title("(b) Heavy oxide and magnet prices, indexed")
    ax.set_ylabel("index, month 0 = 100")
    _price_scale(ax, log)
    ax.legend(fontsize=6.5, loc="best")
    return drawn


def panel_china_share(ax, series: Series) -> None:
    """(c) China's share of world production by commodity."""
    for commodity in SHARE_COMMODITIES:
        if commodity not in series.world.commodity_index:
            continue
        production = series.table("production", commodity).fillna(0.0)
        world_total = production.sum(axis=1)
        share = (100.0 * production["CN"] / world_total).where(world_total > 1e-9)
        ax.plot(
            series.dates,
            share,
            color=COMMODITY_COLOURS.get(commodity),
            lw=1.6,
            label=commodity,
        )
    ax.set_title("(c) China's share of world production")
    ax.set_ylabel("% of world output (t/month)")
    ax.set_ylim(0, 102)
    ax.legend(fontsize=7, loc="lower left", ncol=2)


def panel_stocks(ax, series: Series) -> None:
    """(d) magnet stocks as months of cover by region; tonnes where cover is undefined."""
    cover = series.table("cover_months", "magnet")
    usable = [r for r in series.regions if cover[r].notna().any()]
    if usable:
        for region in usable:
            ax.plot(
                series.dates,
                cover[region],
                color=region_colour(region, series.regions),
                lw=1.6,
                label=region,
            )
        ax.set_ylabel("months of cover (stock / monthly use)")
        ax.set_title("(d) Magnet stocks (commercial + strategic), months of cover")
        top = np.nanpercentile(cover[usable].to_numpy(), 99)
        if np.isfinite(top) and top > 0:
            ax.set_ylim(0, top * 1.1)
    else:
        stocks = series.table("stock_commercial", "magnet") / 1000.0
        for region in series.regions:
            if stocks[region].abs().max() > 0:
                ax.plot(
                    series.dates,
                    stocks[region],
                    color=region_colour(region, series.regions),
                    lw=1.6,
                    label=region,
                )
        ax.set_ylabel("kt held by firms and users")
        ax.set_title("(d) Commercial magnet stocks (cover undefined)")
        ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="best", ncol=2)


# --------------------------------------------------------------------------- figures


def make_figure(name: str, out: Path, log: bool = False, seed: int = 0) -> tuple[Path, float]:
    """Run one scenario over its horizon and write its figure; returns (path, run seconds)."""
    scenario = load_scenario(name)
    started = time.perf_counter()
    world = World(scenario, seed=seed)
    world.run()
    run_s = time.perf_counter() - started
    series = Series(world)

    fig, axes = plt.subplots(2, 2, figsize=(14, 9.5), sharex=True)
    points = reference_points(scenario)
    drawn = panel_light_prices(axes[0, 0], series, points, log)
    drawn += panel_indexed_prices(axes[0, 1], series, points, log)
    if drawn < len(points):
        print(
            f"  {name}: {len(points) - drawn} reference point(s) not drawn (commodity without a "
            "price panel, unknown region or date outside the horizon)"
        )
    panel_china_share(axes[1, 0], series)
    panel_stocks(axes[1, 1], series)
    locator = mdates.AutoDateLocator(minticks=5, maxticks=12)
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.tick_params(labelbottom=True)
    title = f"{scenario.name} (v{scenario.version}): {scenario.description}"
    fig.suptitle("\n".join(textwrap.wrap(title, 120)), fontsize=12, fontweight="bold")
    fig.text(
        0.5,
        0.005,
        f"World(load_scenario({name!r}), seed={seed}), {scenario.months} months from "
        f"{scenario.start}. Diamonds: observed prices (references.series) from the scenario "
        f"file. Regenerate: {COMMAND}",
        ha="center",
        fontsize=7.5,
        color="#555555",
    )
    fig.tight_layout(rect=(0, 0.02, 1, 0.95))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path, run_s


def write_readme(out: Path, made: list[tuple[str, Path, Scenario]]) -> Path:
    """``<out>/README.md``: the figures and the command that regenerates them."""
    lines = [
        "# Scenario figures",
        "",
        "One 2×2 debrief figure per bundled scenario, from `World(load_scenario(name), seed=0)`",
        "run over the scenario's full horizon:",
        "",
        "- (a) light oxide (NdPr-type) price, China vs ex-China (mean of the other regions with",
        "  buyers), with the Japan and US lines, USD/kg;",
        "- (b) heavy oxide and magnet prices indexed to month 0 = 100, China vs ex-China;",
        "- (c) China's share of world production by commodity, %;",
        "- (d) commercial + strategic magnet stocks as months of cover by region.",
        "",
        "Diamond markers are the observed prices of the scenario's `[[references.series]]`",
        "(see docs/model.md, Model versus history; `chokepoint history` compares them).",
        "",
        "| scenario | figure | description |",
        "| --- | --- | --- |",
    ]
    for name, path, scenario in made:
        desc = scenario.description.replace("|", "\\|")
        lines.append(f"| `{name}` | [{path.name}]({path.name}) | {desc} |")
    lines += [
        "",
        "Regenerate (from the repository root):",
        "",
        "```sh",
        f"{COMMAND} [--out docs/figures] [--log] [--scenario NAME ...]",
        "```",
        "",
    ]
    readme = out / "README.md"
    readme.write_text("\n".join(lines), encoding="utf-8")
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--log", action="store_true", help="log scale on the price panels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--scenario",
        action="append",
        help="only these bundled scenarios (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    names = args.scenario or list(bundled_scenarios())
    made = []
    for name in names:
        path, run_s = make_figure(name, args.out, log=args.log, seed=args.seed)
        made.append((name, path, load_scenario(name)))
        print(f"{name}: run {run_s:.2f} s -> {path}")
    if args.scenario is None:
        print(f"index -> {write_readme(args.out, made)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The dashboard's matplotlib figures, in one style.

Every function takes a world and returns a :class:`matplotlib.figure.Figure` (no pyplot, so
figures of different browser sessions never share state). Labels carry units; regions keep
their colours everywhere; a dotted vertical line marks each turn boundary and a dashed one each
scripted event.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from world import World
from world.history import model_series
from world.observed import EX_CHINA, WORLD

REGION_COLOURS = {
    "CN": "#d62728",
    "US": "#1f77b4",
    "JP": "#9467bd",
    "EU": "#ff7f0e",
    "AU": "#2ca02c",
    "MY": "#17becf",
    "MM": "#8c564b",
    "ROW": "#7f7f7f",
}
SECTOR_COLOURS = {
    "ev": "#1f77b4",
    "wind": "#2ca02c",
    "electronics": "#9467bd",
    "industrial": "#7f7f7f",
    "defense": "#000000",
    "other": "#bcbd22",
}
STAGE_OF = {
    "concentrate": "mining",
    "oxide_light": "separation (light)",
    "oxide_heavy": "separation (heavy)",
    "metal": "metal",
    "magnet": "magnets",
}
#: Observed series of an aggregate (ex-China) are black; a region's take its colour.
OBSERVED_COLOUR = "#222222"
TABS = ["Prices", "Stocks", "China's share", "Shortages", "Capacity", "Fiscal & score", "Trade"]


def png(figure: Figure) -> bytes:
    """A figure as PNG bytes, lightly compressed (encoding dominates a redraw otherwise)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def colour(region: str) -> str:
    return REGION_COLOURS.get(region, "#444444")


def _figure(rows: int = 1, cols: int = 1, height: float = 3.6) -> tuple[Figure, np.ndarray]:
    # A fixed layout: matplotlib's constrained/tight layouts measure every text several times
    # and cost most of a redraw.
    fig = Figure(figsize=(10, height * rows), dpi=72)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    fig.subplots_adjust(
        left=0.08, right=0.98, bottom=0.16 / rows, top=1 - 0.2 / rows, wspace=0.3, hspace=0.55
    )
    return fig, axes


def _months(world: World) -> np.ndarray:
    return np.arange(world.month)


def _markers(ax, world: World) -> None:
    """Turn boundaries (dotted) and scripted events (dashed)."""
    t = world.spec.turn_months
    for m in range(t, max(world.month, 1), t):
        ax.axvline(m, color="#999999", lw=0.8, ls=":", zorder=0)
    for event in world.events:
        m = world.month_of(event.date)
        if 0 <= m < world.month:
            ax.axvline(m, color="#555555", lw=0.8, ls="--", zorder=0)
    ax.set_xlabel(f"month (0 = {world.spec.start})")
    ax.grid(alpha=0.2)


def _log_y(ax) -> None:
    """A log y axis labelled in plain numbers (40, 60, 100), not powers of ten."""
    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _pos: f"{value:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)


def _empty(ax, text: str = "This chart fills in\nonce the first month\nhas run.") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


def observed(world: World, variable: str, commodity: str) -> list[tuple[str, list, list, list]]:
    """The scenario's observed series of one variable and commodity (world/observed.py), as
    ``(region, months since the start, values, months covered)`` in the chart's unit: USD/kg
    for prices, % for China's share (an ex-China share is drawn as China's, 100 less it). A
    point covering several months sits at their middle. Empty for a scenario without history."""
    out = []
    for series in world.spec.references.series:
        if series.variable != variable or series.commodity != commodity:
            continue
        x = [p.centre(world.spec.start) for p in series.points]
        y = [p.value for p in series.points]
        if variable == "share":
            if series.region not in ("CN", EX_CHINA):
                continue
            y = [100.0 * v / series.scale for v in y]
            y = [100.0 - v for v in y] if series.region == EX_CHINA else y
        out.append((series.region, x, y, [p.months for p in series.points]))
    return out


def _draw_observed(ax, world: World, variable: str, commodity: str, color=None) -> int:
    """Dotted lines with diamonds for the observed series on ``ax``; returns how many."""
    drawn = observed(world, variable, commodity)
    for region, x, y, spans in drawn:
        _plot_observed(ax, x, y, spans, color or _observed_colour(region))
    return len(drawn)


def _observed_colour(region: str) -> str:
    return OBSERVED_COLOUR if region in (EX_CHINA, WORLD) else colour(region)


def _plot_observed(ax, x: list, y: list, spans: list[int], color: str) -> None:
    """One observed series: dotted, with diamonds; a figure over several months spans them."""
    ax.plot(
        x,
        y,
        ls=":",
        marker="D",
        ms=4,
        lw=1.2,
        zorder=4,
        gid="observed",
        color=color,
        label="_observed",
    )  # fmt: skip  (kept out of the legend: one "observed" entry)
    for xi, yi, months in zip(x, y, spans, strict=True):
        if months > 1:
            half = (months - 1) / 2
            ax.hlines(yi, xi - half, xi + half, color=color, lw=1.2, zorder=4, gid="observed")


def _observed_entry() -> Line2D:
    return Line2D([], [], ls=":", marker="D", ms=4, color=OBSERVED_COLOUR, label="observed")


def _legend_handles(world: World, ax, variable: str) -> list:
    """The handles of ``ax``'s lines, and one "observed" entry if the scenario has observed
    series of ``variable`` (the observed lines themselves stay out of the legend)."""
    handles, _ = ax.get_legend_handles_labels()
    if any(observed(world, variable, c) for c in world.commodity_ids):
        handles.append(_observed_entry())
    return handles


def _price_title(world: World) -> str:
    history = any(observed(world, "price", c) for c in world.commodity_ids)
    return "Price a buyer pays, by region (China thick" + (
        "; dotted: observed)" if history else ")"
    )


def prices(world: World, log: bool = False) -> Figure:
    """Price per commodity: China and the ex-China regions."""
    n = len(world.commodity_ids)
    cols = 3
    rows = -(-n // cols)
    fig, axes = _figure(rows, cols, height=2.8)
    data = world.recorder.array("price")
    for ci, (c, ax) in enumerate(zip(world.commodity_ids, axes, strict=False)):
        ax.set_title(c)
        if data.size == 0:
            _empty(ax)
            continue
        for r, region in enumerate(world.region_ids):
            ax.plot(
                _months(world),
                data[:, ci, r],
                color=colour(region),
                label=region,
                lw=2.2 if region == "CN" else 1.2,
            )
        _draw_observed(ax, world, "price", c)
        ax.set_ylabel("USD/kg")
        if log:
            _log_y(ax)
        _markers(ax, world)
    for ax in axes[n:]:
        ax.set_visible(False)
    if data.size:
        axes[0].legend(handles=_legend_handles(world, axes[0], "price"), fontsize=7, ncol=2)
    fig.suptitle(_price_title(world))
    return fig


class LivePrices:
    """The price figure, built once and redrawn by blitting each month (the dashboard's default
    tab: re-creating, or even fully redrawing, its five panels would cost more than the month's
    step and the browser's round trip together).

    The axes, ticks and labels are drawn only when a limit moves: the x axis runs to the end of
    the current year of play and the y axes grow with headroom, so most months redraw just the
    lines and markers over a cached background, then encode the PNG quickly.
    """

    X_CHUNK_MONTHS = 12
    HEADROOM = 1.3

    def __init__(self, world: World, log: bool = False):
        self.world = world
        self.log = log
        n = len(world.commodity_ids)
        cols = 3
        rows = -(-n // cols)
        self.fig, axes = _figure(rows, cols, height=2.8)
        self.canvas = FigureCanvasAgg(self.fig)
        self.axes = list(axes[:n])
        for ax in axes[n:]:
            ax.set_visible(False)
        self.lines = {}
        self.history: dict[int, list[tuple[float, float]]] = {}  # observed (month, USD/kg)
        for ci, (c, ax) in enumerate(zip(world.commodity_ids, self.axes, strict=True)):
            ax.set_title(c)
            ax.set_ylabel("USD/kg")
            ax.set_xlabel(f"month (0 = {world.spec.start})")
            ax.grid(alpha=0.2)
            for r, region in enumerate(world.region_ids):
                (self.lines[ci, r],) = ax.plot(
                    [],
                    [],
                    color=colour(region),
                    label=region,
                    lw=2.2 if region == "CN" else 1.2,
                    animated=True,
                )
            # History does not move: drawn once, in the cached background.
            _draw_observed(ax, world, "price", c)
            self.history[ci] = [
                (x, y)
                for _, xs, ys, _ in observed(world, "price", c)
                for x, y in zip(xs, ys, strict=True)
            ]
            if log:
                _log_y(ax)
        # A fixed place ("best" searches every position against every line on each draw): the
        # spare panel of the grid if there is one, else a corner of the first.
        if len(axes) > n:
            box = axes[n].get_position()
            self.fig.legend(
                handles=_legend_handles(world, self.axes[0], "price"),
                loc="center",
                bbox_to_anchor=(box.x0 + box.width / 2, box.y0 + box.height / 2),
                ncol=2,
                title="region",
            )
        else:
            self.axes[0].legend(
                handles=_legend_handles(world, self.axes[0], "price"),
                fontsize=7,
                ncol=2,
                loc="upper left",
            )
        self.fig.suptitle(_price_title(world))
        self.markers: list = []
        self.marked: set[int] = set()
        # Broken over lines so that it stays inside the first panel (on one line it ran over
        # the panel's y label).
        self.hint = self.axes[0].text(
            0.5,
            0.5,
            "Prices show once\nthe first month\nhas run.",
            ha="center",
            va="center",
            fontsize=9,
            transform=self.axes[0].transAxes,
        )
        self.limits: tuple | None = None
        self.background = None
        self._drawn: tuple[int, bytes] | None = None  # (month, PNG) of the last picture
        for ax in self.axes:  # before the first month: the first year, no price scale yet
            ax.set_xlim(0, self._x_limit())
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(axis="y", left=False, labelleft=False)

    def _x_limit(self) -> int:
        w = self.world
        chunk = self.X_CHUNK_MONTHS
        return max(chunk, min(w.spec.months, -(-(w.month + 1) // chunk) * chunk))

    def _y_limits(self, data: np.ndarray, ci: int, old: tuple[float, float] | None):
        # The observed prices of the months on show count too, so that history stays in view.
        shown = [y for x, y in self.history.get(ci, []) if x <= self._x_limit()]
        values = np.concatenate([data[:, ci, :].ravel(), shown])
        values = values[np.isfinite(values) & (values > 0)]
        if values.size == 0:
            return old or ((0.1, 1.0) if self.log else (0.0, 1.0))
        lo, hi = float(values.min()), float(values.max())
        if old is not None and old[0] <= lo and hi <= old[1]:
            return old
        if self.log:
            return (lo / self.HEADROOM**2, hi * self.HEADROOM**2)
        return (0.0, hi * self.HEADROOM)

    def _mark(self) -> None:
        w = self.world
        turn = w.spec.turn_months
        events = {w.month_of(e.date) for e in w.events}
        for m in range(w.month):
            if m in self.marked or not (m in events or (m and m % turn == 0)):
                continue
            self.marked.add(m)
            event = m in events
            style = {"ls": "--" if event else ":", "color": "#555555" if event else "#999999"}
            for ax in self.axes:
                self.markers.append(ax.axvline(m, lw=0.8, zorder=0, animated=True, **style))

    def update(self) -> Figure:
        """Bring the lines and markers up to the world's month; returns the figure."""
        w = self.world
        data = w.recorder.array("price")
        if data.size == 0:
            return self.fig
        self.hint.set_visible(False)
        x = _months(w)
        for (ci, r), line in self.lines.items():
            line.set_data(x, data[:, ci, r])
        self._mark()
        old = self.limits
        limits = (
            self._x_limit(),
            tuple(
                self._y_limits(data, ci, old[1][ci] if old else None)
                for ci in range(len(self.axes))
            ),
        )
        if limits != old:
            for ci, ax in enumerate(self.axes):
                if old is None:
                    ax.tick_params(axis="y", left=True, labelleft=True)
                ax.set_xlim(0, limits[0])
                ax.set_ylim(*limits[1][ci])
            self.limits = limits
            self.background = None
        return self.fig

    def png(self) -> bytes:
        """The figure as PNG bytes (fast: a cached background, the lines blitted on top, and
        light compression). Drawn once per month: every browser showing the same world (a
        workshop's teams) gets the same picture."""
        self.update()
        canvas = self.canvas
        month = self.world.month
        if self.background is not None and self._drawn and self._drawn[0] == month:
            return self._drawn[1]
        if self.background is None:
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        for artist in self.markers:
            artist.axes.draw_artist(artist)
        for line in self.lines.values():
            line.axes.draw_artist(line)
        image = PIL.Image.frombuffer(
            "RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        )
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        self._drawn = (month, buffer.getvalue())
        return self._drawn[1]


def stocks(world: World, commodity: str = "magnet", viewer: str | None = None) -> Figure:
    """Stocks of one commodity by region: commercial and strategic, each as months of cover (of
    the region's use), and the strategic stockpiles in tonnes.

    Args:
        viewer: a state whose team looks (a workshop seat): other states' strategic stockpiles
            are secret (JOGMEC's and China's holdings are not published), so the strategic
            panels show the viewer's own only. None shows every region's.
    """
    fig, axes = _figure(1, 3)
    ci = world.commodity_index[commodity]
    cover = world.recorder.array("cover_months")
    commercial = world.recorder.array("stock_commercial")
    strategic = world.recorder.array("stock_strategic")
    whose = "" if viewer is None else f" ({viewer} only)"
    axes[0].set_title(f"{commodity}: commercial stocks", fontsize=10)
    axes[1].set_title(f"{commodity}: strategic stocks{whose}", fontsize=10)
    axes[2].set_title(f"strategic stockpiles{whose}", fontsize=10)
    if cover.size == 0:
        for ax in axes:
            _empty(ax)
        return fig
    months = _months(world)
    held = commercial[:, ci, :] + strategic[:, ci, :]
    # cover = (commercial + strategic) / use, so each part's cover is its share of the whole.
    per_t = np.divide(cover[:, ci, :], held, out=np.zeros_like(held), where=held > 0)
    for r, region in enumerate(world.region_ids):
        axes[0].plot(months, commercial[:, ci, r] * per_t[:, r], color=colour(region), label=region)
        if viewer is None or region == viewer:
            axes[1].plot(months, strategic[:, ci, r] * per_t[:, r], color=colour(region))
            axes[2].plot(months, strategic[:, ci, r], color=colour(region), label=region)
    axes[0].set_ylabel("months of cover (of use)")
    axes[1].set_ylabel("months of cover (of use)")
    axes[2].set_ylabel("t")
    for ax in axes:
        _markers(ax, world)
    axes[0].legend(fontsize=7, ncol=2)
    return fig


def china_share(world: World) -> Figure:
    """China's share of production at each stage, with the observed shares (dotted)."""
    fig, axes = _figure()
    ax = axes[0]
    prod = world.recorder.array("production")
    ax.set_title("China's share of world production, by stage")
    if prod.size == 0:
        _empty(ax)
        return fig
    cn = world.region_index.get("CN")
    for ci, c in enumerate(world.commodity_ids):
        total = prod[:, ci, :].sum(axis=1)
        share = np.where(total > 0, prod[:, ci, cn] / np.where(total > 0, total, 1), np.nan)
        (line,) = ax.plot(_months(world), 100 * share, label=STAGE_OF.get(c, c))
        _draw_observed(ax, world, "share", c, color=line.get_color())
    ax.set_ylabel("% of world t/month")
    ax.set_ylim(0, 105)
    ax.legend(handles=_legend_handles(world, ax, "share"), fontsize=8)
    _markers(ax, world)
    return fig


def shortages(world: World, region: str = "US") -> Figure:
    """Magnet fill rate by sector in one region (defence thick black) and shortages by region."""
    fig, axes = _figure(1, 2)
    fill = world.recorder.array("fill_rate")
    short = world.recorder.array("shortage")
    ax = axes[0]
    ax.set_title(f"{region}: share of magnet demand met, by sector")
    if fill.size == 0:
        _empty(ax)
        _empty(axes[1])
        return fig
    r = world.region_index[region]
    for si, sector in enumerate(world.sector_ids):
        ax.plot(
            _months(world),
            100 * fill[:, r, si],
            label=sector,
            color=SECTOR_COLOURS.get(sector),
            lw=3 if sector == "defense" else 1.2,
        )
    ax.set_ylabel("fill rate, %")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=7, ncol=2)
    _markers(ax, world)
    ax = axes[1]
    ci = world.commodity_index["magnet"]
    ax.set_title("magnet shortage by region")
    for ri, reg in enumerate(world.region_ids):
        ax.plot(_months(world), short[:, ci, ri], color=colour(reg), label=reg)
    ax.set_ylabel("t/month not met")
    _markers(ax, world)
    return fig


def capacity(world: World) -> Figure:
    """Capacity in operation (solid) and under construction (hatched) by stage and region, now."""
    fig, axes = _figure()
    ax = axes[0]
    cap = world.recorder.array("capacity")
    pipe = world.recorder.array("capacity_pipeline")
    ax.set_title("capacity now: operating (solid) and under construction (hatched)")
    if cap.size == 0:
        _empty(ax)
        return fig
    x = np.arange(len(world.commodity_ids))
    width = 0.8 / len(world.region_ids)
    for r, region in enumerate(world.region_ids):
        pos = x - 0.4 + width * (r + 0.5)
        ax.bar(pos, cap[-1, :, r] / 1000, width, color=colour(region), label=region)
        ax.bar(
            pos,
            pipe[-1, :, r] / 1000,
            width,
            bottom=cap[-1, :, r] / 1000,
            color=colour(region),
            alpha=0.35,
            hatch="//",
        )
    ax.set_xticks(x, [STAGE_OF.get(c, c) for c in world.commodity_ids])
    ax.set_ylabel("kt/year")
    ax.legend(fontsize=7, ncol=4)
    ax.grid(alpha=0.2, axis="y")
    return fig


def fiscal(world: World, seat: str) -> Figure:
    """The seat's fiscal cost, each month and summed since the start, and its score (all
    states when observing). The world records ``fiscal_cost`` in USD/month
    (world/objectives.py); the running total is its cumulative sum."""
    fig, axes = _figure(1, 3)
    table = world.objectives()
    regions = [s.region for s in world.spec.states] if seat not in world.region_index else [seat]
    axes[0].set_title("fiscal cost each month")
    axes[1].set_title("fiscal cost since the start")
    axes[2].set_title("weighted score")
    if table.empty:
        for ax in axes:
            _empty(ax)
        return fig
    for region in regions:
        rows = table[table.region == region]
        cost = rows[rows.objective == "fiscal_cost"].sort_values("month")
        score = rows[rows.objective == "score"]
        axes[0].plot(cost.month, cost.value / 1e6, color=colour(region), label=region)
        axes[1].plot(cost.month, cost.value.cumsum() / 1e6, color=colour(region), label=region)
        axes[2].plot(score.month, score.value, color=colour(region), label=region)
    axes[0].set_ylabel("million USD/month")
    axes[1].set_ylabel("million USD (cumulative)")
    axes[2].set_ylabel("score (higher is better)")
    for ax in axes:
        _markers(ax, world)
    axes[0].legend(fontsize=7)
    return fig


#: Observed series the Trade tab draws over time beside its matrix: tonnes that flow.
FLOW_VARIABLES = ("production", "exports")


def trade(world: World, commodity: str = "magnet") -> Figure:
    """Origin → destination flows of one commodity in the last month; in a historical scenario,
    beside them, the observed output and export series over time against the model's."""
    history = [s for s in world.spec.references.series if s.variable in FLOW_VARIABLES]
    fig, axes = _figure(1, 2 if history else 1, height=4.2)
    ax = axes[0]
    flows = world.recorder.array("exports")
    where = "(row = origin, column = destination)"
    ax.set_title(f"{commodity}: exports last month, t " + ("\n" if history else "") + where)
    if flows.size == 0:
        for panel in axes:
            _empty(panel)
        return fig
    m = flows[-1, world.commodity_index[commodity]]
    ax.imshow(np.log1p(m), cmap="Blues")
    ids = world.region_ids
    ax.set_xticks(range(len(ids)), ids)
    ax.set_yticks(range(len(ids)), ids)
    for i in range(len(ids)):
        for j in range(len(ids)):
            if m[i, j] >= 0.5:
                ax.text(j, i, f"{m[i, j]:,.0f}", ha="center", va="center", fontsize=7)
    ax.set_xlabel("destination")
    ax.set_ylabel("origin")
    if history:
        _flow_history(axes[1], world, history)
    return fig


def _flow_history(ax, world: World, history: list) -> None:
    """The model's value of each observed flow series (solid) and the observation (dotted), in
    t/yr, read as ``chokepoint history`` reads them (world/history.py)."""
    frame = world.recorder.frame()  # the results without the objectives: all the series read
    for series in history:
        per_year = 12.0 / series.scale  # the series' unit -> t/yr
        model = model_series(frame, world.spec, series)
        (line,) = ax.plot(model["month"], model["value"] * per_year, lw=1.2, label=series.title())
        tone = line.get_color()  # a colour per series: one region may have several
        x = [p.centre(world.spec.start) for p in series.points]
        y = [p.value * per_year for p in series.points]
        _plot_observed(ax, x, y, [p.months for p in series.points], tone)
    ax.set_title("output and exports: model (solid) and observed (dotted)", fontsize=10)
    ax.set_ylabel("t/yr (log scale)")
    # a mine's 45,000 t and a separator's 1,300 t on one panel; minor ticks unlabelled (crowded)
    _log_y(ax)
    ax.yaxis.set_minor_formatter(NullFormatter())
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*handles, _observed_entry()], fontsize=6)
    _markers(ax, world)


def figures_zip(world: World, seat: str = "US", log: bool = False) -> bytes:
    """Every dashboard tab as a PNG (each stage's stocks and trade for magnets), in one zip:
    ``01-prices.png``, ``02-stocks.png``, ..."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed
        for i, tab in enumerate(TABS, 1):
            name = tab.lower().replace("'s", "").replace(" & ", "-").replace(" ", "-")
            archive.writestr(f"{i:02d}-{name}.png", png(draw(world, tab, seat, log=log)))
    return buffer.getvalue()


def draw(
    world: World,
    tab: str,
    seat: str = "US",
    log: bool = False,
    commodity: str = "magnet",
    viewer: str | None = None,
) -> Figure:
    """The figure of one dashboard tab; ``viewer`` hides other states' secrets (see
    :func:`stocks`)."""
    region = seat if seat in world.region_index else "US"
    if region not in world.region_index:
        region = world.region_ids[0]
    return {
        "Prices": lambda: prices(world, log=log),
        "Stocks": lambda: stocks(world, commodity, viewer),
        "China's share": lambda: china_share(world),
        "Shortages": lambda: shortages(world, region),
        "Capacity": lambda: capacity(world),
        "Fiscal & score": lambda: fiscal(world, seat),
        "Trade": lambda: trade(world, commodity),
    }[tab]()

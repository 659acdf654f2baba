"""The dashboard's matplotlib figures, in one style.

Every function takes a world and returns a :class:`matplotlib.figure.Figure` (no pyplot, so
figures of different browser sessions never share state). Labels carry units; regions keep
their colours everywhere; a dotted vertical line marks each turn boundary and a dashed one each
scripted event. Figures are drawn at about the width the dashboard shows them at on a
1024-px projector, with text a room can read (:data:`TEXT_PT`), and legends beside or under
the data, never over it. :func:`hover_layer` gives any of them its values on demand: an HTML
layer laid over the picture that shows every series' value at the month under the pointer.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from html import escape

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter
from matplotlib.transforms import offset_copy

from world import World
from world.history import model_series
from world.observed import EX_CHINA, WORLD

#: Width of every dashboard figure, px: about the dashboard's column on a 1024-px projector,
#: so that the picture shows near its own size (a 720-px one shrank 10 pt text to 8 px).
WIDTH_PX = 600
#: 72 dots an inch: a point is a pixel of the picture.
DPI = 72
#: Text sizes, pt: ticks, legends and values; titles and axis labels.
TEXT_PT = 12
LABEL_PT = 13

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
#: The stages as a bar chart's ticks (two lines where one would run into the next).
STAGE_TICK = {"oxide_light": "separation\nlight", "oxide_heavy": "separation\nheavy"}
#: The heading of the Capacity tab's panels by stage.
EX_CHINA_TITLE = "ex-China capacity by region, each stage on its own scale, t/yr"
#: Observed series of an aggregate (ex-China) are black; a region's take its colour.
OBSERVED_COLOUR = "#222222"
TABS = ["Prices", "Stocks", "China's share", "Shortages", "Capacity", "Fiscal & score", "Trade"]


#: zlib level of the dashboard's PNGs: 2 encodes in about 3 ms at 600 x 444 px, the size
#: within a tenth of level 9's (a chart is mostly flat colour).
PNG_ZLIB_LEVEL = 2


def png(figure: Figure) -> bytes:
    """A figure as PNG bytes (drawn whole; :func:`encode_png` encodes it)."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return encode_png(canvas.buffer_rgba())


def encode_png(rgba) -> bytes:
    """An opaque RGBA picture (rows x columns x 4, uint8: an Agg canvas's buffer) as a lossless
    RGB PNG, unfiltered and lightly deflated: Pillow's encoder tries every row filter and took
    7 ms a month of the price chart's 10 ms; this takes 3 ms, at about the same size. The
    figures are opaque (white face), so dropping alpha loses nothing."""
    pixels = np.asarray(rgba)
    height, width = pixels.shape[:2]
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 (none) on every row
    rows[:, 1:] = pixels[:, :, :3].reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_ZLIB_LEVEL)),
            chunk(b"IEND", b""),
        ]
    )


def colour(region: str) -> str:
    return REGION_COLOURS.get(region, "#444444")


def _figure(
    rows: int = 1,
    cols: int = 1,
    height: float = 3.0,
    legend_px: int = 0,
    right_px: int = 0,
    top_px: int = 34,
) -> tuple[Figure, np.ndarray]:
    """A figure of ``rows`` x ``cols`` panels, each ``height`` inches (72 px) tall, at the
    dashboard's width (:data:`WIDTH_PX`); ``legend_px`` are kept free at the foot for legends
    under the panels, ``right_px`` at the right for legends beside them and ``top_px`` at the
    top for the titles."""
    # A fixed layout: matplotlib's constrained/tight layouts measure every text several times
    # and cost most of a redraw. The margins are in px, so that they hold the text at its size.
    w = WIDTH_PX
    h = round(height * DPI * rows + legend_px)
    fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    left, right, bottom, gap_w, gap_h = 66, 12 + right_px, 50 + legend_px, 62, 80
    axes_w = max((w - left - right - gap_w * (cols - 1)) / cols, 1.0)
    axes_h = max((h - top_px - bottom - gap_h * (rows - 1)) / rows, 1.0)
    fig.subplots_adjust(
        left=left / w,
        right=1 - right / w,
        bottom=bottom / h,
        top=1 - top_px / h,
        wspace=gap_w / axes_w,
        hspace=gap_h / axes_h,
    )
    return fig, axes


def _readable(fig: Figure) -> Figure:
    """Every tick, label and title of ``fig`` at the sizes a room reads (:data:`TEXT_PT`)."""
    for ax in fig.axes:
        ax.tick_params(labelsize=TEXT_PT)
        ax.xaxis.label.set_fontsize(LABEL_PT)
        ax.yaxis.label.set_fontsize(LABEL_PT)
        ax.title.set_fontsize(LABEL_PT)
    if fig._suptitle is not None:
        fig._suptitle.set_fontsize(LABEL_PT + 1)
    return fig


def _legend_right(ax, handles: list | None = None, **kwargs):
    """A legend beside ``ax``, off its data (the figure keeps ``right_px`` for it)."""
    return _legend(ax, handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), **kwargs)


def _legend_below(ax, handles: list | None = None, ncol: int = 4, **kwargs):
    """A legend under ``ax``'s x label, off its data (the figure keeps ``legend_px`` for it)."""
    under = offset_copy(ax.transAxes, fig=ax.figure, y=-46, units="dots")
    place = {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "bbox_transform": under}
    return _legend(ax, handles, ncol=ncol, columnspacing=1.0, handlelength=1.5, **place | kwargs)


def _legend_in(spare, handles: list, **kwargs):
    """A figure's legend in the middle of a spare panel of its grid (``spare``, hidden)."""
    box = spare.get_position()
    spare.set_visible(False)
    centre = (box.x0 + box.width / 2, box.y0 + box.height / 2)
    options = {"frameon": False, "fontsize": TEXT_PT} | kwargs
    return spare.figure.legend(handles=handles, loc="center", bbox_to_anchor=centre, **options)


def _legend(ax, handles: list | None, **kwargs):
    """``ax``'s legend at the room's text size, unframed, where ``kwargs`` place it."""
    options = {"borderaxespad": 0.0, "frameon": False}
    options |= {"fontsize": TEXT_PT, "title_fontsize": TEXT_PT}
    return ax.legend(handles=handles, **(options | kwargs))


def _months(world: World) -> np.ndarray:
    return np.arange(world.month)


def _markers(ax, world: World) -> None:
    """Turn boundaries (dotted) and scripted events (dashed), the month axis and its label."""
    t = world.spec.turn_months
    for m in range(t, max(world.month, 1), t):
        ax.axvline(m, color="#999999", lw=0.8, ls=":", zorder=0)
    for event in world.events:
        m = world.month_of(event.date)
        if 0 <= m < world.month:
            ax.axvline(m, color="#555555", lw=0.8, ls="--", zorder=0)
    _month_axis(ax, world)


def _month_axis(ax, world: World) -> None:
    # Few ticks: at the room's text size more would run into each other in a narrow panel.
    ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    ax.set_xlabel(f"month (0 = {world.spec.start})")
    ax.grid(alpha=0.2)


def _log_y(ax) -> None:
    """A log y axis labelled in plain numbers (40, 60, 100), not powers of ten."""
    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _pos: f"{value:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)


def _empty(ax, text: str = "This chart fills in\nonce the first month\nhas run.") -> None:
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        transform=ax.transAxes,
        color="#666666",
        fontsize=LABEL_PT,
    )
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


def price_data(world: World) -> np.ndarray:
    """The buyer prices month by month, USD/kg, shape (months, commodity, region): those
    recorded, or before the first month has run the start prices as month 0 (so that the
    chart shows the prices a player starts from, not an empty frame)."""
    data = world.recorder.array("price")
    return data if data.size else world.prices[np.newaxis].copy()


def prices(world: World, log: bool = False) -> Figure:
    """Price per commodity: China and the ex-China regions (the live figure, drawn whole)."""
    live = LivePrices(world, log=log, animated=False)
    live.update()
    return live.fig


class LivePrices:
    """The price figure, built once and redrawn by blitting each month (the dashboard's default
    tab: re-creating, or even fully redrawing, its five panels would cost more than the month's
    step and the browser's round trip together).

    The axes, ticks and labels are drawn only when a limit moves: the x axis runs to the end of
    the current year of play and the y axes grow with headroom, so most months redraw just the
    lines and markers over a cached background, then encode the PNG quickly. Each line ends in
    a dot at the latest month, so that a single month (the start prices at month 0, or the
    first month played) shows too.

    Args:
        animated: False draws every line in a plain ``savefig`` (:func:`prices`); True leaves
            them to :meth:`png`'s blitting.
    """

    X_CHUNK_MONTHS = 12
    HEADROOM = 1.3

    def __init__(self, world: World, log: bool = False, animated: bool = True):
        self.world = world
        self.log = log
        self.animated = animated
        n = len(world.commodity_ids)
        cols = 3
        rows = -(-n // cols)
        spare = rows * cols > n  # a free panel holds the legend; else a strip at the foot
        self.fig, axes = _figure(rows, cols, height=2.9, legend_px=0 if spare else 26, top_px=58)
        self.canvas = FigureCanvasAgg(self.fig)
        self.axes = list(axes[:n])
        for ax in axes[n:]:
            ax.set_visible(False)
        self.lines = {}
        self.history: dict[int, list[tuple[float, float]]] = {}  # observed (month, USD/kg)
        for ci, (c, ax) in enumerate(zip(world.commodity_ids, self.axes, strict=True)):
            ax.set_title(c)
            ax.set_ylabel("USD/kg")
            _month_axis(ax, world)
            for r, region in enumerate(world.region_ids):
                (self.lines[ci, r],) = ax.plot(
                    [],
                    [],
                    color=colour(region),
                    label=region,
                    lw=2.2 if region == "CN" else 1.2,
                    marker="o",
                    ms=4,
                    animated=animated,
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
        # spare panel of the grid if there is one, else a strip under the last row.
        handles = _legend_handles(world, self.axes[0], "price")
        if spare:
            _legend_in(axes[n], handles, ncol=2, title="region", title_fontsize=TEXT_PT)
        else:
            _legend_below(self.axes[-cols + cols // 2], handles, ncol=len(handles))
        self.fig.suptitle(_price_title(world))
        _readable(self.fig)
        self.markers: list = []
        self.marked: set[int] = set()
        self.limits: tuple | None = None
        self.background = None
        # The markers (indices into self.markers) already drawn into the background: a
        # marker never moves, so it is drawn once, not every month (by month 60 they were
        # ~140 of the ~190 artists blitted a month).
        self._baked: set[int] = set()
        self._drawn: tuple[int, bytes] | None = None  # (month, PNG) of the last picture
        self._hover: tuple[int, list[str]] | None = None  # (month, pieces) of the last hover layer
        self._cells: dict = {}  # each panel's tips by month, for hover_pieces
        self._events: tuple[int, set[int]] = (-1, set())  # (how many, their months)
        self._stale: set[int] = set()  # panels whose y axis grew since the background was cached
        self._boxes: list[tuple] = []  # each panel's pixels when last drawn (_box)
        self._fixed: list[tuple] = []  # the figure's title's and legends' pixels
        for ax in self.axes:
            ax.set_xlim(0, self._x_limit())

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
        if self._events[0] != len(w.events):  # events are only ever added (injected in play)
            self._events = (len(w.events), {w.month_of(e.date) for e in w.events})
        events = self._events[1]
        for m in range(w.month):
            if m in self.marked or not (m in events or (m and m % turn == 0)):
                continue
            self.marked.add(m)
            event = m in events
            style = {"ls": "--" if event else ":", "color": "#555555" if event else "#999999"}
            for ax in self.axes:
                self.markers.append(
                    ax.axvline(m, lw=0.8, zorder=0, animated=self.animated, **style)
                )

    def update(self) -> Figure:
        """Bring the lines and markers up to the world's month; returns the figure."""
        data = price_data(self.world)
        x = np.arange(len(data))
        for (ci, r), line in self.lines.items():
            line.set_data(x, data[:, ci, r])
            line.set_markevery([len(x) - 1])  # a dot on the latest month only
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
                ax.set_xlim(0, limits[0])
                ax.set_ylim(*limits[1][ci])
            self.limits = limits
            if old is None or limits[0] != old[0]:  # the months run on: every panel moves
                self.background = None
            else:  # only these panels' y axes grew: redrawn alone (see _redraw_panels)
                self._stale |= {ci for ci in range(len(self.axes)) if limits[1][ci] != old[1][ci]}
        return self.fig

    def png(self) -> bytes:
        """The figure as PNG bytes (fast: a cached background, the lines blitted on top, and
        light compression). Drawn once per month: every browser showing the same world (a
        workshop's teams) gets the same picture."""
        self.update()
        canvas = self.canvas
        month = self.world.month
        fresh = self.background is not None and not self._stale
        if fresh and self._drawn and self._drawn[0] == month:
            return self._drawn[1]
        redrawn = self.background is not None and bool(self._stale) and self._redraw_panels()
        if self._stale:  # not redrawn alone: redrawn whole
            self.background = None
        if self.background is None:
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
            self._baked.clear()
            self._boxes = [self._box(ax) for ax in self.axes]
            fixed = [self.fig._suptitle, *self.fig.legends]
            self._fixed = [self._box(a) for a in fixed if a is not None and a.get_visible()]
            self._stale.clear()
        elif not redrawn:
            canvas.restore_region(self.background)
        # New markers (and those of panels redrawn alone) go into the background, in the
        # order they were made: the pixels are those of drawing every marker every month.
        new = [i for i in range(len(self.markers)) if i not in self._baked]
        for i in new:
            self.markers[i].axes.draw_artist(self.markers[i])
        if new:
            self.background = canvas.copy_from_bbox(self.fig.bbox)
            self._baked.update(new)
        for line in self.lines.values():
            line.axes.draw_artist(line)
        self._drawn = (month, encode_png(canvas.buffer_rgba()))
        return self._drawn[1]

    def _box(self, artist) -> tuple[int, int, int, int]:
        """The pixels ``artist`` draws on now, as (top, bottom, left, right) rows and columns of
        the canvas: its tight box (a panel's: axes, ticks, labels, title, legend), rounded
        outward."""
        box = artist.get_tightbbox(self.canvas.get_renderer())
        width, height = self.canvas.get_width_height()
        return (
            max(0, int(np.floor(height - box.y1))),
            min(height, int(np.ceil(height - box.y0))),
            max(0, int(np.floor(box.x0))),
            min(width, int(np.ceil(box.x1))),
        )

    def _redraw_panels(self) -> bool:
        """Redraw only the panels whose y axis grew (``_stale``) over the cached background,
        and cache the result: a whole redraw costs ~100-150 ms (the text of six panels' axes),
        a panel a sixth of it. Each is wiped to the figure's face where it drew before and
        where it draws now (its tick labels may narrow or widen); a neighbour whose pixels lie
        in a wiped box is redrawn with it, and the panels are drawn in the figure's order, so
        the picture is the one a whole redraw makes. False (nothing drawn) if a wiped box
        reaches the figure's title or legends: a whole redraw is needed."""
        canvas = self.canvas
        boxes = self._boxes
        wiped = {ci: [boxes[ci], self._box(self.axes[ci])] for ci in self._stale}
        grown = True
        while grown:  # take in every panel that a wiped box touches
            grown = False
            for ci in range(len(self.axes)):
                if ci not in wiped and any(
                    _overlap(boxes[ci], b) for bs in wiped.values() for b in bs
                ):
                    wiped[ci] = [boxes[ci]]
                    grown = True
        if any(_overlap(f, b) for f in self._fixed for bs in wiped.values() for b in bs):
            return False
        canvas.restore_region(self.background)
        renderer = canvas.get_renderer()
        pixels = np.asarray(canvas.buffer_rgba())
        face = np.round(np.asarray(to_rgba(self.fig.get_facecolor())) * 255).astype(np.uint8)
        for bs in wiped.values():
            for top, bottom, left, right in bs:
                pixels[top:bottom, left:right] = face
        for ci in sorted(wiped):
            self.axes[ci].draw(renderer)
        for ci in wiped:
            boxes[ci] = wiped[ci][-1]
        # The wiped panels lost their markers: png() draws them again.
        redrawn_axes = {id(self.axes[ci]) for ci in wiped}
        self._baked = {i for i in self._baked if id(self.markers[i].axes) not in redrawn_axes}
        self.background = canvas.copy_from_bbox(self.fig.bbox)
        self._stale.clear()
        return True

    def hover(self) -> list[str]:
        """The figure's :func:`hover_pieces`, built once per month (as :meth:`png`)."""
        month = self.world.month
        if self._hover is None or self._hover[0] != month:
            if self._drawn is None or self._drawn[0] != month:  # else png() has just updated
                self.update()
            # Recorded months are final: their tips are kept (not the start prices of month 0).
            cache = self._cells if self.world.month else None
            self._hover = (month, hover_pieces(self.fig, self.world, cache))
        return self._hover[1]


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two (top, bottom, left, right) pixel boxes share a pixel."""
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def stocks(world: World, commodity: str = "magnet", viewer: str | None = None) -> Figure:
    """Stocks of one commodity by region: commercial and strategic, each as months of cover (of
    the region's use), and the strategic stockpiles in tonnes.

    Args:
        viewer: a state whose team looks (a workshop seat): other states' strategic stockpiles
            are secret (JOGMEC's and China's holdings are not published), so the strategic
            panels show the viewer's own only. None shows every region's.
    """
    fig, axes = _figure(1, 3, height=3.6, legend_px=24, top_px=58)
    ci = world.commodity_index[commodity]
    cover = world.recorder.array("cover_months")
    commercial = world.recorder.array("stock_commercial")
    strategic = world.recorder.array("stock_strategic")
    whose = "" if viewer is None else f" ({viewer} only)"
    fig.suptitle(f"{commodity} stocks: months of cover (of each region's use), and tonnes")
    axes[0].set_title("commercial")
    axes[1].set_title(f"strategic{whose}")
    axes[2].set_title(f"stockpiles{whose}")
    if cover.size == 0:
        for ax in axes:
            _empty(ax)
        return _readable(fig)
    months = _months(world)
    held = commercial[:, ci, :] + strategic[:, ci, :]
    # cover = (commercial + strategic) / use, so each part's cover is its share of the whole.
    per_t = np.divide(cover[:, ci, :], held, out=np.zeros_like(held), where=held > 0)
    for r, region in enumerate(world.region_ids):
        axes[0].plot(months, commercial[:, ci, r] * per_t[:, r], color=colour(region), label=region)
        if viewer is None or region == viewer:
            axes[1].plot(
                months, strategic[:, ci, r] * per_t[:, r], color=colour(region), label=region
            )
            axes[2].plot(months, strategic[:, ci, r], color=colour(region), label=region)
    axes[0].set_ylabel("months of use")
    axes[1].set_ylabel("months of use")
    axes[2].set_ylabel("t")
    for ax in axes:
        _markers(ax, world)
    _legend_below(axes[1], axes[0].get_legend_handles_labels()[0], ncol=len(world.region_ids))
    return _readable(fig)


def china_share(world: World) -> Figure:
    """China's share of production at each stage, with the observed shares (dotted)."""
    fig, axes = _figure(height=4.2, right_px=150)
    ax = axes[0]
    prod = world.recorder.array("production")
    ax.set_title("China's share of world production, by stage")
    if prod.size == 0:
        _empty(ax)
        return _readable(fig)
    cn = world.region_index.get("CN")
    for ci, c in enumerate(world.commodity_ids):
        total = prod[:, ci, :].sum(axis=1)
        share = np.where(total > 0, prod[:, ci, cn] / np.where(total > 0, total, 1), np.nan)
        (line,) = ax.plot(_months(world), 100 * share, label=STAGE_OF.get(c, c))
        _draw_observed(ax, world, "share", c, color=line.get_color())
    ax.set_ylabel("% of world t/month")
    ax.set_ylim(0, 105)
    _legend_right(ax, _legend_handles(world, ax, "share"), title="stage")
    _markers(ax, world)
    return _readable(fig)


def shortages(world: World, region: str = "US") -> Figure:
    """Magnet fill rate by sector in one region (defence thick black) and shortages by region."""
    fig, axes = _figure(2, 1, height=2.8, right_px=110)
    fill = world.recorder.array("fill_rate")
    short = world.recorder.array("shortage")
    ax = axes[0]
    ax.set_title(f"{region}: share of magnet demand met, by sector")
    axes[1].set_title("magnet shortage by region")
    if fill.size == 0:
        _empty(ax)
        _empty(axes[1])
        return _readable(fig)
    r = world.region_index[region]
    for si, sector in enumerate(world.sector_ids):
        ax.plot(
            _months(world),
            100 * fill[:, r, si],
            label=sector,
            color=SECTOR_COLOURS.get(sector),
            lw=3 if sector == "defense" else 1.2,
        )
    ax.set_ylabel("demand met, %")
    ax.set_ylim(0, 105)
    _legend_right(ax, title="sector")
    _markers(ax, world)
    ax = axes[1]
    ci = world.commodity_index["magnet"]
    for ri, reg in enumerate(world.region_ids):
        ax.plot(_months(world), short[:, ci, ri], color=colour(reg), label=reg)
    ax.set_ylabel("t/month not met")
    _legend_right(ax, title="region")
    _markers(ax, world)
    return _readable(fig)


def ex_china_capacity(world: World) -> tuple[np.ndarray, np.ndarray]:
    """Capacity outside China now, t/yr per (commodity, region) with China's column zero:
    operating and under construction (the recorder's latest month)."""
    cap = world.recorder.array("capacity")[-1].copy()
    pipe = world.recorder.array("capacity_pipeline")[-1].copy()
    cn = world.region_index.get("CN")
    if cn is not None:
        cap[:, cn] = pipe[:, cn] = 0.0
    return cap, pipe


def capacity(world: World) -> Figure:
    """Capacity now by stage: China against the rest of the world (kt/yr) across the top, then
    a panel per stage of the capacity outside China by region (t/yr), each on its own scale:
    on a shared one China's plants (and the mines' tonnage) flatten the allies' separators and
    magnet plants to nothing. Operating solid, under construction hatched beyond it."""
    cap, pipe = world.recorder.array("capacity"), world.recorder.array("capacity_pipeline")
    ids = world.commodity_ids
    stages = [
        c for ci, c in enumerate(ids) if not cap.size or cap[-1, ci].sum() + pipe[-1, ci].sum() > 0
    ]
    cols = 3
    rows = -(-len(stages) // cols)
    spare = rows * cols > len(stages)
    fig, axes = _figure(rows + 1, cols, height=2.5, legend_px=0 if spare else 26, top_px=40)
    grid = axes[0].get_subplotspec().get_gridspec()
    for ax in axes[:cols]:
        ax.remove()
    top = fig.add_subplot(grid[0, :])
    top.set_title("capacity by stage: China and the rest of the world")
    panels = list(axes[cols : cols + len(stages)])
    for ax in axes[cols + len(stages) :]:
        ax.set_visible(False)
    if cap.size == 0:
        _empty(top)
        for ax, c in zip(panels, stages, strict=True):
            ax.set_title(STAGE_OF.get(c, c))
            _empty(ax, "")
        return _readable(fig)
    outside, building = ex_china_capacity(world)
    cn = world.region_index.get("CN")
    index = [world.commodity_index[c] for c in stages]
    x = np.arange(len(stages))
    china = (cap[-1, index, cn], pipe[-1, index, cn]) if cn is not None else (0 * x, 0 * x)
    for i, (name, now, later, tone) in enumerate(
        [
            ("China", *china, colour("CN")),
            ("ex-China", outside[index].sum(axis=1), building[index].sum(axis=1), OBSERVED_COLOUR),
        ]
    ):
        pos = x - 0.2 + 0.4 * i
        top.bar(pos, now / 1000, 0.4, color=tone, label=name)
        top.bar(pos, later / 1000, 0.4, bottom=now / 1000, color=tone, alpha=0.35, hatch="//",
                label=f"{name} building")  # fmt: skip
    top.set_ylabel("kt/yr")
    top.set_xticks(x, [STAGE_TICK.get(c, STAGE_OF.get(c, c)) for c in stages])
    top.set_xlim(-0.5, len(x) - 0.5)
    top.grid(alpha=0.2, axis="y")
    regions = [(r, reg) for r, reg in enumerate(world.region_ids) if r != cn]
    y = np.arange(len(regions))
    for ax, c in zip(panels, stages, strict=True):
        ci = world.commodity_index[c]
        now = np.array([outside[ci, r] for r, _ in regions])
        later = np.array([building[ci, r] for r, _ in regions])
        tones = [colour(reg) for _, reg in regions]
        # Unlabelled bars: the values are written beside them (no hover cells by stage here).
        ax.barh(y, now, 0.7, color=tones, label="_operating")
        ax.barh(y, later, 0.7, left=now, color=tones, alpha=0.35, hatch="//", label="_building")
        ends = now + later
        for yi, a, b in zip(y, now, later, strict=True):
            if a + b >= 0.5:
                text = _compact(a) + (f" +{_compact(b)}" if b >= 0.5 else "")
                ax.text(a + b, yi, " " + text, va="center", fontsize=TEXT_PT - 1)
        ax.set_xlim(0, max(float(ends.max()), 1.0) * 1.8)  # room for the values
        ax.xaxis.set_major_locator(MaxNLocator(2))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _compact(v)))
        ax.set_yticks(y, [reg for _, reg in regions])
        ax.invert_yaxis()
        ax.set_title(STAGE_OF.get(c, c))
        ax.set_xlabel("t/yr")
        ax.set_gid(f"ex-china:{c}")
        ax.grid(alpha=0.2, axis="x")
    below = top.get_position().y0 - 36 / fig.bbox.height  # under the top panel's stage names
    fig.text(0.5, below, EX_CHINA_TITLE, ha="center", va="top", fontsize=LABEL_PT)
    hatched = Patch(facecolor="#bbbbbb", hatch="//", label="under construction")
    handles = [*top.get_legend_handles_labels()[0][::2], hatched]
    if spare:
        _legend_in(axes[-1], handles)
    else:
        _legend_below(panels[-cols + cols // 2], handles, ncol=3)  # under the last row's middle
    _readable(fig)
    for ax in panels:  # a stage's name, in a narrow panel
        ax.title.set_fontsize(TEXT_PT)
    return fig


def objective_series(world: World, region: str, objective: str) -> tuple[np.ndarray, np.ndarray]:
    """One state's objective month by month (units: world.objectives.OBJECTIVES), as (months,
    values), read from the world's objective recorder: no table is built (``world.objectives()``
    builds one of every objective of every state, ~50 ms, too slow for every redraw)."""
    recorder = world.objective_recorder
    values = [record[region][objective] for record in recorder.values if region in record]
    return np.asarray(recorder.months[: len(values)], dtype=int), np.asarray(values, dtype=float)


def fiscal(world: World, seat: str) -> Figure:
    """The seat's fiscal cost each month and summed since the start (the running sum of the
    monthly figures), and its score against where it started (all states when observing). The
    world records ``fiscal_cost`` in USD/month (world/recorder.py)."""
    regions = [s.region for s in world.spec.states] if seat not in world.region_index else [seat]
    many = len(regions) > 1
    fig, axes = _figure(1, 3, height=3.6, legend_px=24 if many else 0, top_px=58)
    fig.suptitle(
        "fiscal cost and score" + ("" if many else f" of {seat}") + " (dashed: score at the start)"
    )
    axes[0].set_title("spent each month")
    axes[1].set_title("spent since the start")
    axes[2].set_title("score")
    spent = world.recorder.array("fiscal_cost")
    if spent.size == 0:
        for ax in axes:
            _empty(ax)
        return _readable(fig)
    months = _months(world)
    for region in regions:
        tone = colour(region)
        usd = spent[:, world.region_index[region]] / 1e6
        axes[0].plot(months, usd, color=tone, label=region)
        axes[1].plot(months, np.cumsum(usd), color=tone, label=region)
        when, score = objective_series(world, region, "score")
        axes[2].plot(when, score, color=tone, label=region)
        if score.size:
            axes[2].axhline(score[0], color=tone, lw=0.9, ls="--", zorder=1)
    axes[0].set_ylabel("USD million/month")
    axes[1].set_ylabel("USD million")
    axes[2].set_ylabel("score (-1 to 1)")
    for ax in axes:
        _markers(ax, world)
    if many:
        _legend_below(axes[1], axes[0].get_legend_handles_labels()[0], ncol=len(regions))
    return _readable(fig)


#: Observed series the Trade tab draws over time beside its matrix: tonnes that flow.
FLOW_VARIABLES = ("production", "exports")


def _compact(tonnes: float) -> str:
    """Tonnes in at most four characters: 850, 4.2k, 37k."""
    if tonnes < 999.5:
        return f"{tonnes:.0f}"
    return f"{tonnes / 1e3:.1f}k" if tonnes < 9950 else f"{tonnes / 1e3:.0f}k"


def trade(world: World, commodity: str = "magnet") -> Figure:
    """Origin → destination flows of one commodity in the last month; in a historical scenario,
    under them, the observed output and export series over time against the model's."""
    history = [s for s in world.spec.references.series if s.variable in FLOW_VARIABLES]
    legend_px = 20 * -(-len(history) // 2) + 10 if history else 0
    fig, axes = _figure(
        2 if history else 1, 1, height=4.4 if history else 6.0, legend_px=legend_px, top_px=52
    )
    ax = axes[0]
    flows = world.recorder.array("exports")
    ax.set_title(f"{commodity}: exports last month, t/month\n(row = origin, column = destination)")
    if flows.size == 0:
        for panel in axes:
            _empty(panel)
        return _readable(fig)
    m = flows[-1, world.commodity_index[commodity]]
    ax.imshow(np.log1p(m), cmap="Blues")
    ids = world.region_ids
    ax.set_xticks(range(len(ids)), ids)
    ax.set_yticks(range(len(ids)), ids)
    dark = np.log1p(m) > 0.6 * max(float(np.log1p(m).max()), 1e-9)
    for i in range(len(ids)):
        for j in range(len(ids)):
            if m[i, j] >= 0.5:
                ax.text(j, i, _compact(m[i, j]), ha="center", va="center", fontsize=TEXT_PT,
                        color="white" if dark[i, j] else "black")  # fmt: skip
    ax.set_xlabel("destination")
    ax.set_ylabel("origin")
    if history:
        _flow_history(axes[1], world, history)
    return _readable(fig)


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
    ax.set_title("output and exports: model (solid) and observed (dotted)")
    ax.set_ylabel("t/yr (log scale)")
    # a mine's 45,000 t and a separator's 1,300 t on one panel; minor ticks unlabelled (crowded)
    _log_y(ax)
    ax.yaxis.set_minor_formatter(NullFormatter())
    handles, _ = ax.get_legend_handles_labels()
    _markers(ax, world)
    _legend_below(ax, [*handles, _observed_entry()], ncol=2, fontsize=TEXT_PT - 1)


# ---------------------------------------------------------------------- values on demand


def _value(v: float) -> str:
    """A value to read off a chart: three significant figures, thousands separated."""
    if not np.isfinite(v):
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 999.5 else f"{v:.3g}"


def _line_cells(ax, world: World, known: dict) -> list[tuple[float, str]]:
    """One cell per month of a time panel, as (month, its HTML tip): the heading (panel, date,
    unit) and every labelled line's value that month. Months in ``known`` keep their tip."""
    series = []
    for line in ax.get_lines():
        label = str(line.get_label())
        x = np.asarray(line.get_xdata(), dtype=float)
        if label.startswith("_") or x.size == 0:
            continue  # markers, observed history and the like
        y = np.asarray(line.get_ydata(), dtype=float)
        series.append((label, dict(zip(np.rint(x).astype(int).tolist(), y, strict=True))))
    months = sorted({m for _, values in series for m in values})
    title, unit = ax.get_title().replace("\n", " "), escape(ax.get_ylabel())
    cells = []
    for m in months:
        if m not in known:
            rows = "\n".join(f"{label}  {_value(v[m])}" for label, v in series if m in v)
            head = escape(f"{title} · {world.date_of(m)} (month {m})")
            known[m] = f"<b>{head}\n{unit}</b>\n{escape(rows)}"
        cells.append((m, known[m]))
    return cells


def _bar_cells(ax, world: World) -> list[tuple[float, str]]:
    """One cell per stage of a bar panel (bars at 0, 1, ... in the order of its stages), as
    (position, its HTML tip): every labelled bar's value there."""
    bars = [
        c
        for c in ax.containers
        if isinstance(c, BarContainer) and not str(c.get_label()).startswith("_")
    ]
    names = [str(t.get_text()).replace("\n", " ") for t in ax.get_xticklabels()]
    cells = []
    for i, name in enumerate(names):
        rows = [
            f"{bar.get_label()}  {_value(bar.patches[i].get_height())}"
            for bar in bars
            if i < len(bar.patches) and abs(bar.patches[i].get_height()) > 1e-9
        ]
        if rows:
            head = escape(f"{ax.get_title()}: {name}\n{ax.get_ylabel()}")
            cells.append((i, f"<b>{head}</b>\n{escape(chr(10).join(rows))}"))
    return cells


def hover_layer(fig: Figure, world: World, cache: dict | None = None) -> str:
    """``fig``'s values on demand, as HTML to lay over its picture (ui/page_style.py styles
    it): a cell per month of each time panel, per stage of each bar panel, that shows on hover
    (or a tap) the value of every series there, with its unit. Plain HTML and CSS: no script,
    nothing fetched, no round trip to the server. Empty if no panel has values to show.

    Cells sit in each panel's units (a CSS variable holds the panel's scale), so a month's
    cell does not change when the axis grows: with ``cache`` (kept by the caller between
    calls, for data whose past months are final) each month's tip is written once."""
    return "".join(hover_pieces(fig, world, cache))


#: Months of cells in one piece of :func:`hover_pieces`: a year, as the price chart's x axis
#: grows (LivePrices.X_CHUNK_MONTHS), so a piece changes only in its own year or when the
#: axis grows.
HOVER_PIECE_MONTHS = 12


def hover_pieces(fig: Figure, world: World, cache: dict | None = None) -> list[str]:
    """:func:`hover_layer` in pieces that change independently: the bar panels' cells, then
    a piece per year of months holding that year's cells of every time panel. Each piece is
    its own element in the page, so a month's step sends only the pieces that changed (the
    current year's) rather than the whole layer, which grew by ~1.5 kB a month (~110 kB by
    month 70, parsed again by the browser every month). Pieces repeat each panel's frame;
    ui/page_style.py lets the pointer through the frames to the cells."""
    cache = {} if cache is None else cache
    pieces: dict[object, list[str]] = {}
    for index, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        bars = bool(ax.containers)
        cells = (
            _bar_cells(ax, world) if bars else _line_cells(ax, world, cache.setdefault(index, {}))
        )
        if not cells:
            continue
        box = ax.get_position()
        x0, x1 = ax.get_xlim()
        frame = (
            f'<div class="hover-axes" style="left:{100 * box.x0:.2f}%;'
            f"top:{100 * (1 - box.y1):.2f}%;width:{100 * box.width:.2f}%;"
            f'height:{100 * box.height:.2f}%;--u:{100 / ((x1 - x0) or 1.0):.5f}%">'
        )
        opened: dict[object, list[str]] = {}
        for at, tip in cells:
            lo, hi = max(at - 0.5, x0), min(at + 0.5, x1)  # inside the panel, never past it
            if hi <= lo:
                continue
            # The tip opens toward the middle of the figure, so that it stays on the page.
            middle = box.x0 + box.width * (at - x0) / ((x1 - x0) or 1.0)
            side = " tip-left" if middle > 0.5 else ""
            key = "bars" if bars else int(at) // HOVER_PIECE_MONTHS
            opened.setdefault(key, [frame]).append(
                f'<div class="hover-cell{side}" style="left:calc({lo - x0:.4g} * var(--u));'
                f'width:calc({hi - lo:.4g} * var(--u))">'
                f'<div class="hover-tip">{tip}</div></div>'
            )
        for key, parts in opened.items():
            pieces.setdefault(key, []).extend([*parts, "</div>"])
    order = sorted(pieces, key=lambda k: (k != "bars", k if k != "bars" else 0))
    return ["".join(pieces[k]) for k in order]


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

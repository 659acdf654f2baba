"""The after-action report of a workshop game: one HTML page to hand out at the debrief.

:func:`after_action_report` returns a self-contained page (inline CSS, figures and data as
``data:`` URIs, no external resource) with who played each seat, the decisions turn by turn
(each seat's applied, committed and rejected orders and the facilitator's actions), the key
curves with turn and event markers, each seat's objectives at the end, the deals made and
broken, and the game's data to download. :func:`report_bundle` zips the page with the same data
as separate files.

Sizes (measured on ``alliance-vs-tariffs-2025``): the results table is about 0.9 MB as CSV and
45 kB as Parquet for 24 months, 4.7 MB and 0.22 MB for 120 months. The page embeds the results as
Parquet always and as CSV only up to :data:`CSV_EMBED_LIMIT`, so a full game's page stays near
1 MB; the bundle has both.
"""

from __future__ import annotations

import base64
import html
import io
import json
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from play.session import debrief_questions
from ui import charts
from world import Scenario, World
from world.calendar import turn_of
from world.deals import deals_of
from world.pages import html_page, html_table, png_bytes

#: Largest results CSV (bytes, before base64) embedded in the page; above it, Parquet only.
CSV_EMBED_LIMIT = 300_000
#: Figure resolution in the page (dots per inch): legible, and ~60 kB per figure.
FIGURE_DPI = 80
#: Order statuses shown in the timeline ("pending" orders never reached the world).
TIMELINE_STATUSES = ("applied", "committed", "rejected")
#: What each deal status means (world/deals.py), and whether the deal was made or broken.
DEAL_STATUSES = {
    "proposed": ("open", "proposed and still awaiting answers"),
    "active": ("made", "agreed by every recipient and in force"),
    "expired": ("made", "agreed and kept to its term"),
    "breached": ("broken", "agreed, then broken by a party's contrary order (trust fell)"),
    "rejected": ("broken", "refused by a recipient"),
    "lapsed": ("broken", "not answered within a turn"),
    "failed": ("broken", "accepted, but a commitment could not be applied, so nothing changed"),
    "countered": ("superseded", "answered with a counter-proposal (a new deal)"),
    "withheld": ("n/a", "only in an AI's look-ahead copy of the world"),
}
FACILITATOR = "facilitator"
#: The source of the game's own actions in the timeline (the facilitator's, the timer's, a
#: resolution set off by the last team to submit), as against the seats' orders.
CONSOLE = "console"

STYLE = (
    "h3{margin-bottom:0.2em;}tr.rejected td{color:#999;text-decoration:line-through;}"
    "tr.rejected td.status{text-decoration:none;color:#b00;font-weight:bold;}"
    "tr.facilitator td{background:#fff6d6;}.note{color:#555;font-size:13px;}"
    "a.download{display:inline-block;margin:0 1em 0.5em 0;}"
    # On paper the embedded data are dead links: the printed report leaves them out.
    "@media print{.data{display:none;}h2{break-after:avoid;}img{break-inside:avoid;}}"
)


def _e(value) -> str:
    return html.escape(str(value))


def _figure_html(title: str, fig) -> str:
    data = base64.b64encode(png_bytes(fig, dpi=FIGURE_DPI)).decode()
    return f'<h3>{_e(title)}</h3><img alt="{_e(title)}" src="data:image/png;base64,{data}">'


def _download(name: str, mime: str, payload: bytes, what: str) -> str:
    data = base64.b64encode(payload).decode()
    size = f"{len(payload) / 1024:,.0f} kB"
    return (
        f'<a class="download" download="{_e(name)}" href="data:{mime};base64,{data}">'
        f"{_e(name)}</a> <span class='note'>{_e(what)}, {size}</span><br>"
    )


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def news_frame(world: World) -> pd.DataFrame:
    """The world's news log (firm events, scripted events, deals, ...) as a table."""
    columns = ["month", "date", "actor", "region", "kind", "text"]
    frame = pd.DataFrame(world.log)
    return frame.reindex(columns=[*columns, *[c for c in frame.columns if c not in columns]])


def _note(parameters: str) -> str:
    try:
        note = json.loads(parameters).get("note")
    except (TypeError, ValueError, AttributeError):
        return ""
    return str(note) if note else ""


def timeline(world: World, facilitator_log: list[dict] | None = None) -> pd.DataFrame:
    """Decisions in order: every applied, committed and rejected order and every facilitator
    action, with its turn (from 1, :func:`world.calendar.turn_of`): turn, month, date, seat,
    kind, status, source, message, note (an order's ``note``; a facilitator entry's
    ``reason``)."""
    orders = world.orders()
    orders = orders[orders["status"].isin(TIMELINE_STATUSES)]
    rows = pd.DataFrame(
        {
            "month": orders["month"].astype(int),
            "date": orders["date"],
            "seat": orders["issuer"],
            "kind": orders["kind"],
            "status": orders["status"],
            "source": orders["source"],
            "message": orders["message"],
            # A seat's own words (an order's optional note) say why it acted.
            "note": orders["parameters"].map(_note),
        }
    )
    actions = pd.DataFrame(
        [
            {
                "month": int(entry.get("month", 0)),
                "date": entry.get("date", world.date_of(int(entry.get("month", 0)))),
                # who acted: the facilitator, the timer, or the team whose submission resolved
                "seat": entry.get("actor", FACILITATOR),
                "kind": entry.get("kind", "action"),
                "status": "undone" if entry.get("undone") else "",
                "source": CONSOLE,
                "message": entry.get("text", ""),
                "note": entry.get("reason", ""),
            }
            for entry in facilitator_log or []
        ],
        columns=rows.columns,
    )
    out = pd.concat([rows, actions], ignore_index=True) if len(actions) else rows
    # Facilitator actions after the seats' orders of the same month: they react to the turn.
    out = out.sort_values("month", kind="stable", ignore_index=True)
    out.insert(0, "turn", turn_of(out["month"], world.spec.turn_months))
    return out


def _timeline_html(events: pd.DataFrame, seats: dict[str, str]) -> str:
    if events.empty:
        return "<p>No decisions were recorded.</p>"
    parts = []
    head = (
        "<tr><th>date</th><th>seat</th><th>played by</th><th>order</th><th>status</th>"
        "<th>source</th><th>message</th><th>note</th></tr>"
    )
    for turn, group in events.groupby("turn", sort=True):
        first, last = group["date"].iloc[0], group["date"].iloc[-1]
        span = first if first == last else f"{first} to {last}"
        body = []
        for row in group.itertuples(index=False):
            css = FACILITATOR if row.source == CONSOLE else row.status
            status = {"rejected": "REJECTED", "undone": "UNDONE"}.get(row.status, row.status)
            player = seats.get(row.seat, "") if row.source != CONSOLE else ""
            body.append(
                f'<tr class="{_e(css)}"><td>{_e(row.date)}</td><td>{_e(row.seat)}</td>'
                f"<td>{_e(player)}</td><td>{_e(row.kind)}</td>"
                f'<td class="status">{_e(status)}</td><td>{_e(row.source)}</td>'
                f"<td>{_e(row.message)}</td><td>{_e(row.note)}</td></tr>"
            )
        parts.append(f"<h3>Turn {int(turn)} ({_e(span)})</h3><table>{head}{''.join(body)}</table>")
    return "".join(parts)


def objectives_at_end(world: World) -> pd.DataFrame:
    """Each state's objectives in the last month played: one row per objective, one column per
    region (``score`` included)."""
    table = world.objectives()
    if table.empty:
        return pd.DataFrame()
    last = table[table["month"] == table["month"].max()]
    wide = last.pivot_table(index="objective", columns="region", values="value", sort=False)
    regions = [s.region for s in world.spec.states if s.region in wide.columns]
    wide = wide[regions]
    wide.columns.name = None
    return wide.reset_index()


def deals_table(world: World) -> pd.DataFrame:
    """Every deal: id, proposer, recipients, status, outcome (made / broken / ...), start, end,
    breached_by, and what its status means."""
    frame = deals_of(world).deals_frame()
    outcome = frame["status"].map(lambda s: DEAL_STATUSES.get(s, ("?", s))[0])
    meaning = frame["status"].map(lambda s: DEAL_STATUSES.get(s, ("?", s))[1])
    out = frame[["id", "proposer", "recipients", "status", "start", "end", "breached_by"]].copy()
    out.insert(4, "outcome", outcome)
    out["meaning"] = meaning
    return out


def _figures(world: World) -> str:
    if world.month == 0:
        return "<p>The game has not started: no curves yet.</p>"
    defended = "US" if "US" in world.region_index else world.region_ids[0]
    figures = [
        ("Prices (USD/kg)", charts.prices(world)),
        ("China's share of world production (%)", charts.china_share(world)),
        (
            f"{defended}: fill rate by sector (%) and magnet shortages (t/month)",
            charts.shortages(world, defended),
        ),
        ("Magnet stocks (months of cover; strategic t)", charts.stocks(world)),
        ("Fiscal cost (million USD) and score", charts.fiscal(world, FACILITATOR)),
    ]
    note = "<p class='note'>Dotted vertical lines: turn boundaries; dashed: scripted events.</p>"
    return note + "".join(_figure_html(title, fig) for title, fig in figures)


def _seats_html(world: World, seats: dict[str, str]) -> str:
    rows = pd.DataFrame(
        [
            {
                "seat": region,
                "played by": seats.get(region, f"AI: {seat.doctrine}"),
                "scenario doctrine": seat.doctrine,
            }
            for region, seat in world.spec.seats.items()
        ]
    )
    return html_table(rows)


def _downloads_html(world: World, results: pd.DataFrame) -> str:
    csv = results.to_csv(index=False).encode()
    links = [
        _download(
            "orders.csv", "text/csv", world.orders().to_csv(index=False).encode(), "every order"
        ),
        _download(
            "results.parquet",
            "application/vnd.apache.parquet",
            _parquet(results),
            "tidy results (month, date, variable, commodity, region, partner, value); read "
            "with pandas.read_parquet",
        ),
    ]
    if len(csv) <= CSV_EMBED_LIMIT:
        links.append(_download("results.csv", "text/csv", csv, "tidy results as CSV"))
        note = ""
    else:
        note = (
            f"<p class='note'>The results as CSV ({len(csv) / 1e6:.1f} MB) are too big to embed "
            "here, so the page carries them as Parquet only; the zip bundle has the CSV.</p>"
        )
    links.append(
        _download("news.csv", "text/csv", news_frame(world).to_csv(index=False).encode(), "news")
    )
    return "".join(links) + note


def after_action_report(
    world: World,
    *,
    title: str,
    seats: dict[str, str],
    facilitator_log: list[dict] | None = None,
    results: pd.DataFrame | None = None,
) -> str:
    """The after-action report of a game, as one self-contained HTML page.

    Args:
        world: the game (at its end, or wherever it stands).
        title: the page's title (e.g. the workshop's name).
        seats: region -> who played it (e.g. ``"team"``, ``"AI: hawk"``); a seat missing here
            is shown as played by its scenario doctrine.
        facilitator_log: the facilitator's actions, dicts with ``month``, ``date``, ``actor``,
            ``text`` (and optionally ``kind``): injected events, vetoes with reasons, broadcasts.
        results: ``world.results()`` if the caller has it already (it is recomputed otherwise).

    Returns:
        The page (text is escaped; images and data are ``data:`` URIs).
    """
    results = world.results() if results is None else results
    spec = world.spec
    played = f"{world.month} of {spec.months} months" if world.month else "not started"
    objectives = objectives_at_end(world)
    deals = deals_table(world)
    sections = [
        f"<h1>{_e(title)}</h1>",
        f"<p>Scenario <b>{_e(spec.name)}</b> from {_e(spec.start)}, seed {_e(world.seed)}; "
        f"{_e(played)} played in turns of {_e(spec.turn_months)} months.</p>",
        "<h2>Seats</h2>",
        _seats_html(world, seats),
        "<h2>Decisions, turn by turn</h2>",
        "<p class='note'>Orders applied or committed (by a deal) at each turn, and rejected "
        "orders (struck through, with the reason); facilitator actions highlighted.</p>",
        _timeline_html(timeline(world, facilitator_log), seats),
        "<h2>Key curves</h2>",
        _figures(world),
        "<h2>Objectives at the end</h2>",
        "<p class='note'>Last month played. welfare and fiscal_cost in USD/month; security, "
        "leverage and their parts as shares (0-1); score is the seat's weighted score "
        "(-1 to 1, higher is better).</p>",
        html_table(objectives) if not objectives.empty else "<p>No month played yet.</p>",
        "<h2>Deals made and broken</h2>",
        html_table(deals) if not deals.empty else "<p>No deal was proposed.</p>",
        "<p class='note'>"
        + "; ".join(f"<b>{_e(k)}</b>: {_e(v[1])}" for k, v in DEAL_STATUSES.items())
        + ".</p>",
        *_questions_html(spec),
        "<section class='data'><h2>Data</h2>",
        _downloads_html(world, results),
        "</section>",
    ]
    return html_page(title, "".join(sections), STYLE)


def _questions_html(spec: Scenario) -> list[str]:
    questions = debrief_questions(spec)
    if not questions:
        return []
    items = "".join(f"<li>{_e(q)}</li>" for q in questions)
    return ["<h2>Questions for the debrief</h2>", f"<ol class='questions'>{items}</ol>"]


class ReportError(RuntimeError):
    """A report could not be made; the message says why and what to do instead."""


#: Browsers that print a page to PDF headless, looked for on PATH in this order.
PDF_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def pdf_browser() -> str | None:
    """The first of :data:`PDF_BROWSERS` on this machine (None if there is none)."""
    return next((path for name in PDF_BROWSERS if (path := shutil.which(name))), None)


def report_pdf(page: str, browser: str | None = None, timeout_s: float = 120.0) -> bytes:
    """The after-action report (the HTML of :func:`after_action_report`) printed to PDF.

    A headless Chromium prints the page; the page is self-contained, so nothing is fetched, and
    the browser runs with a throw-away profile and its background networking off. Chromium
    rather than a Python PDF library: it lays the page out exactly as the HTML report shows it.

    Raises:
        ReportError: no browser to print with, or the browser failed or ran out of time.
    """
    browser = browser or pdf_browser()
    if browser is None:
        raise ReportError(
            f"PDF: no Chromium on this machine (looked for {', '.join(PDF_BROWSERS)}); "
            "download the HTML report and print it to PDF from any browser"
        )
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(page, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",  # a root account (a workshop laptop's container) needs it
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise ReportError(f"PDF: {browser} did not finish within {timeout_s:.0f} s") from None
        if not out.is_file() or out.stat().st_size == 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
            raise ReportError(f"PDF: {browser} printed nothing (exit {done.returncode}): {tail[0]}")
        return out.read_bytes()


def report_bundle(
    world: World,
    *,
    title: str,
    seats: dict[str, str],
    facilitator_log: list[dict] | None = None,
) -> bytes:
    """A zip of the report and its data: report.html, results.csv, results.parquet,
    orders.csv, news.csv. Arguments as :func:`after_action_report`."""
    results = world.results()
    page = after_action_report(
        world, title=title, seats=seats, facilitator_log=facilitator_log, results=results
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.html", page)
        archive.writestr("results.csv", results.to_csv(index=False))
        archive.writestr("results.parquet", _parquet(results))
        archive.writestr("orders.csv", world.orders().to_csv(index=False))
        archive.writestr("news.csv", news_frame(world).to_csv(index=False))
    return buffer.getvalue()

"""The Solara panels of the game page.

Each panel takes the :class:`~play.session.GameSession` and the session's ``version`` (a number
that changes whenever the world does), so it re-renders after every step or order; controls
that change the world call ``on_change`` afterwards.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from html import escape

import reacton.ipywidgets as rw
import solara

from agents.doctrines import DOCTRINES
from play import verdict
from play.saved_games import saved_games
from play.session import (
    NEWS_FILTERS,
    OBSERVER,
    GameSession,
    briefing,
    debrief_questions,
    decisions,
    default_doctrine,
    seats_of,
    trust_table,
)
from play.store import StoreError
from ui import charts, page_style
from ui.guide import HelpBar
from ui.order_form import JsonOrder, OrderForm, Outcome
from ui.readouts import Readouts
from ui.results_screen import GradingDownload, ResultsScreen
from ui.resume_panel import SavedGamesList
from ui.why import WhyPanel
from world import bundled_scenarios, load_scenario
from world.calendar import next_boundary, turn_start
from world.deals import deals_of
from world.instruments import TRADE_KINDS
from world.order_preview import preview_order

#: Play speeds: (seconds between redraws, months stepped per redraw).
SPEEDS = {
    "slow (1 month/s)": (1.0, 1),
    "medium (3 months/s)": (0.33, 1),
    "fast (a turn per redraw)": (0.0, 0),
}


# ---------------------------------------------------------------------- start screen


@solara.component
def StartScreen(on_start: Callable[[GameSession], None], scenario: str = "baseline-2024"):
    names = sorted(bundled_scenarios())
    name = solara.use_reactive(scenario if scenario in names else names[0])
    spec = solara.use_memo(lambda: load_scenario(name.value), dependencies=[name.value])
    seat = solara.use_reactive("US")
    seed = solara.use_reactive(0)
    turn = solara.use_reactive(spec.turn_months)
    seats = seats_of(spec)
    if seat.value not in seats:
        seat.set(seats[0])

    # (scenario, region) -> the doctrine the player picked for that AI seat
    chosen = solara.use_reactive({})

    def choose(region: str, doctrine: str) -> None:
        chosen.set({**chosen.value, (name.value, region): doctrine})

    problem = solara.use_reactive("")

    def start():
        picked = {r: d for (n, r), d in chosen.value.items() if n == name.value and r != seat.value}
        try:
            session = GameSession(
                name.value,
                seed=seed.value,
                seat=seat.value,
                turn_months=turn.value,
                doctrines=picked,
            )
        except ValueError as exc:  # the session names the field and what it allows
            problem.set(str(exc))
            return
        problem.set("")
        on_start(session)

    with solara.Card("Chokepoint: the rare-earth supply chain", style={"max-width": "900px"}):
        solara.Select("Scenario", values=names, value=name)
        solara.Markdown(
            f"**{spec.name}** — {spec.description}\n\nStarts {spec.start}, runs "
            f"{spec.months} months, one turn = {spec.turn_months} months."
        )
        solara.Select("Your seat", values=seats, value=seat)
        with solara.Column(classes=["briefing"]):
            solara.Markdown(briefing(spec, seat.value))
        solara.Markdown(
            "**The AI seats** play these doctrines (the scenario's unless you change them; "
            "*passive* issues no orders):"
        )
        with solara.Row(style={"flex-wrap": "wrap"}, classes=["ai-doctrines"]):
            for region in [s.region for s in spec.states if s.region != seat.value]:
                solara.Select(
                    region,
                    values=list(DOCTRINES),
                    value=chosen.value.get((name.value, region), default_doctrine(spec, region)),
                    on_value=functools.partial(choose, region),
                    style={"max-width": "210px"},
                )
        solara.InputInt("Seed", value=seed, continuous_update=True)
        solara.SliderInt("Turn length (months)", value=turn, min=1, max=12)
        solara.Button("Start the game", on_click=start, color="primary", classes=["start-game"])
        if problem.value:
            solara.Error(problem.value, classes=["start-problem"])


# ---------------------------------------------------------------------- controls


@solara.component
def Controls(
    session: GameSession,
    version: int,
    on_change: Callable[[], None],
    on_quit: Callable[[], None] | None = None,
):
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(next(iter(SPEEDS)))

    def run(cancel: threading.Event):
        if not playing.value:
            return
        delay, months = SPEEDS[speed.value]
        while not cancel.is_set() and not session.finished:
            if months:
                session.step()
            else:
                session.end_turn()
            on_change()
            time.sleep(max(delay, 0.02))
        playing.set(False)

    solara.use_thread(run, dependencies=[playing.value, speed.value], intrusive_cancel=False)

    def act(fn):
        def go():
            fn()
            on_change()

        return go

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Text(session.clock(), classes=["game-clock"])
        solara.Button("Step 1 month", on_click=act(session.step), disabled=session.finished)
        solara.Button(
            "End turn",
            on_click=act(session.end_turn),
            color="primary",
            disabled=session.finished,
            classes=["end-turn"],
        )
        solara.Button(
            "Pause" if playing.value else "Play", on_click=lambda: playing.set(not playing.value)
        )
        solara.Select("Speed", values=list(SPEEDS), value=speed, style={"max-width": "220px"})
        UndoAndReset(session, version, on_change)
        if on_quit is not None:
            solara.Button("New game", on_click=on_quit, text=True)


@solara.component
def UndoAndReset(session: GameSession, version: int, on_change: Callable[[], None]):
    """Reset and undo, each asking to be confirmed (a second click): one stray click must not
    throw away a game, and Redo takes either back until something else is played. The undo
    selector starts at the latest turn that can be returned to
    (``version``: as in :func:`Controls`, so that it follows the world)."""
    chosen = solara.use_reactive(None)  # a turn the player picked; None: the latest
    confirming = solara.use_reactive("")  # "reset", "undo" or "" (nothing to confirm)
    w = session.world
    t = session.spec.turn_months
    # Every turn that began before now, the current one too if some of it has been played.
    turns = [turn for turn in range(1, session.turn + 1) if turn_start(turn, t) < w.month]
    latest = turns[-1] if turns else 1
    target = latest if chosen.value is None else min(chosen.value, latest)

    def confirm():
        if confirming.value == "reset":
            session.reset()
        else:
            session.undo_to_turn(target)
        chosen.set(None)
        confirming.set("")
        on_change()

    # One wrapping row: a component with several children would stack them in a column.
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, classes=["undo-reset"]):
        solara.Button("Reset", on_click=lambda: confirming.set("reset"), disabled=w.month == 0)
        if turns:
            solara.Select(
                "Undo to start of turn",
                values=turns,
                value=target,
                on_value=chosen.set,
                style={"max-width": "180px"},
            )
            solara.Button("Undo", on_click=lambda: confirming.set("undo"))
        if session.can_redo:
            solara.Button("Redo", on_click=lambda: (session.redo(), on_change()), classes=["redo"])
        if confirming.value:
            back = 0 if confirming.value == "reset" else turn_start(target, t)
            what = "Start again" if confirming.value == "reset" else f"Go back to turn {target}"
            with solara.Row(classes=["confirm-rewind"], style={"align-items": "center"}):
                solara.Warning(
                    f"{what}: from month {w.month} to month {back} ({w.date_of(back)})? "
                    "Redo brings it back until you play on."
                )
                solara.Button(f"Yes, {confirming.value}", on_click=confirm, color="error")
                solara.Button("Keep playing", on_click=lambda: confirming.set(""), text=True)


# ---------------------------------------------------------------------- dashboard


@solara.component
def Dashboard(session: GameSession, version: int):
    tab = solara.use_reactive(charts.TABS[0])
    log = solara.use_reactive(False)
    commodity = solara.use_reactive("magnet")
    w = session.world
    # Only the visible tab is drawn, and only again when the world or the options change; the
    # price tab (the default) keeps its figure and updates its lines in place.
    live = solara.use_memo(
        lambda: charts.LivePrices(w, log=log.value), dependencies=[id(w), log.value]
    )
    key = [version, id(w), tab.value, log.value, commodity.value]

    def make() -> tuple[bytes, list[str]]:
        if tab.value == "Prices":
            return live.png(), live.hover()
        figure = charts.draw(w, tab.value, session.seat, log=log.value, commodity=commodity.value)
        return charts.png(figure), charts.hover_pieces(figure, w)

    image, hover = solara.use_memo(make, dependencies=key)
    with solara.Column(classes=["dashboard"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.ToggleButtonsSingle(value=tab, values=charts.TABS)
            if tab.value == "Prices":
                solara.Checkbox(label="log scale", value=log)
            if tab.value in ("Trade", "Stocks"):
                solara.Select(
                    "Commodity",
                    values=w.commodity_ids,
                    value=commodity,
                    style={"max-width": "200px"},
                )
        with solara.Div(classes=["chart-frame"]):
            rw.Image(value=image, format="png")
            # Values on demand (ui/charts.py hover_pieces): point at a month to read it. A
            # piece per year: a step re-sends only the pieces that changed.
            with solara.Div(classes=["hover-layer"]):
                for piece in hover:
                    solara.HTML(tag="div", unsafe_innerHTML=piece, classes=["hover-piece"])


# ---------------------------------------------------------------------- news


@solara.component
def NewsFeed(session: GameSession, version: int, per_page: int = 40):
    """The seat's news, newest first, a page at a time: nothing is dropped, however long the
    game (``version``: as in :func:`Controls`). A filter keeps one topic (play/session.py's
    ``NEWS_FILTERS``; the observer has nothing of its own)."""
    page = solara.use_reactive(0)  # 0: the newest
    filters = [f for f in NEWS_FILTERS if f != "mine" or session.seat != OBSERVER]
    show = solara.use_reactive("all")
    news = solara.use_memo(
        lambda: session.news(show.value), dependencies=[*session.news_mark(), show.value]
    )

    def choose(value: str) -> None:
        show.set(value)
        page.set(0)

    pages = max(1, -(-len(news) // per_page))
    shown = min(page.value, pages - 1)
    rows = news.iloc[shown * per_page : (shown + 1) * per_page]
    # One HTML element for the whole feed: a widget per line would cost more than the step.
    lines = "".join(
        f"<p><code>{escape(str(row.date))}</code> <b>{escape(str(row.who))}</b> "
        f"({escape(str(row.kind))}) {escape(str(row.text))}</p>"
        for row in rows.itertuples(index=False)
    )
    with solara.Card(
        "News", classes=["news-feed"], style={"max-height": "420px", "overflow-y": "auto"}
    ):
        solara.ToggleButtonsSingle(
            value=show.value,
            values=filters,
            on_value=choose,
            dense=True,
        )
        if news.empty:
            solara.Text(
                "Nothing yet: step the world." if show.value == "all" else f"No {show.value} yet."
            )
            return
        if pages > 1:
            with solara.Row(style={"align-items": "center"}):
                solara.Button(
                    "Newer", on_click=lambda: page.set(shown - 1), disabled=shown == 0, text=True
                )
                solara.Text(f"page {shown + 1} of {pages} ({len(news)} items)")
                solara.Button(
                    "Older",
                    on_click=lambda: page.set(shown + 1),
                    disabled=shown == pages - 1,
                    text=True,
                )
        solara.HTML(tag="div", unsafe_innerHTML=lines, classes=["news-lines"])


# ---------------------------------------------------------------------- orders


def session_submit(session: GameSession, on_change: Callable[[], None]):
    """A form's ``submit`` for a one-player game: the world queues the order for the turn end."""

    def submit(order: dict) -> Outcome:
        result = session.submit(order)
        on_change()
        if result.status == "rejected":
            return False, f"Rejected: {result.message}"
        w = session.world
        boundary = next_boundary(w.month, session.spec.turn_months)
        return True, (
            f"Order {result.order_id} is {result.status}: "
            + (
                result.message
                or f"it takes effect from {w.date_of(boundary)}, as the turn is played (End turn)."
            )
        )

    return submit


@solara.component
def OrderPanel(session: GameSession, version: int, on_change: Callable[[], None]):
    seat = session.seat
    if seat == OBSERVER:
        solara.Info("You are observing: the states are all played by the machine.")
        return
    with solara.Card(f"Orders for {seat}", classes=["order-panel"]):
        submit = session_submit(session, on_change)
        OrderForm(
            session.world,
            seat,
            submit,
            version,
            preview=functools.partial(preview_order, session.world, seat=seat),
        )
        JsonOrder(submit, (session.world.month, id(session.world)))
        pending = session.pending_orders()
        solara.Markdown("**Pending until the turn ends:** " + ("" if pending else "none"))
        for order_id, text in pending:
            with solara.Row(classes=["pending-order"], style={"align-items": "center"}):
                solara.Text(f"{order_id}: {text}")
                solara.Button(
                    "Cancel",
                    on_click=functools.partial(_cancel, session, order_id, on_change),
                    text=True,
                    small=True,
                )
        if len(pending) > 1:
            solara.Button(
                "Cancel all pending orders",
                on_click=lambda: (session.cancel_pending(), on_change()),
                text=True,
            )
        in_force = session.in_force(seat)
        solara.Markdown(
            "**In force:** "
            + ("none" if not in_force else "\n\n" + "\n".join(f"- {p}" for p in in_force))
        )


def _cancel(session: GameSession, order_id: str, on_change: Callable[[], None]) -> None:
    session.cancel(order_id)
    on_change()


# ---------------------------------------------------------------------- negotiation


@solara.component
def DealsPanel(session: GameSession, version: int, on_change: Callable[[], None]):
    with solara.Card("Negotiation", classes=["deals-panel"]):
        if session.seat != OBSERVER:
            NegotiationForm(
                session.world,
                session.seat,
                session.inbox(),
                session_submit(session, on_change),
                version,
                answers(session.world, session.seat),
            )
        DealsTables(session.world, version=version)


def answers(world, seat: str) -> dict[str, str]:
    """The seat's answers to proposals that wait for the turn's end: deal id -> action."""
    return {
        p.order.deal_id: p.order.action
        for p in world.measures.pending(seat)
        if p.order.kind == "respond_deal"
    }


@solara.component
def NegotiationForm(
    world,
    seat: str,
    inbox: list,
    submit: Callable[[dict], Outcome],
    version: int = 0,
    answered: dict[str, str] | None = None,
):
    """The seat's inbox (accept, reject, counter) and a form to propose a deal; every answer
    and proposal goes to ``submit`` as an order (``version``: as in :func:`OrderForm`).
    ``answered``: the seat's answers that wait for the turn's end (deal id -> action), shown
    in place of the buttons (from :func:`answers`)."""
    answered = answered or {}
    w = world
    states = [s.region for s in w.spec.states]
    partner = solara.use_reactive(next((r for r in states if r != seat), ""))
    mine = solara.use_reactive("import_tariff")
    theirs = solara.use_reactive("export_licence")
    goods = solara.use_reactive("magnet")
    months = solara.use_reactive(12)
    result = solara.use_reactive(None)
    countering = solara.use_reactive("")
    counter_to = {d.id: d for d in inbox}.get(countering.value)
    # A counter-proposal goes to the proposer (and any other party) of the deal it answers.
    other = counter_to.proposer if counter_to else partner.value

    def respond(deal_id: str, action: str):
        result.set(submit({"kind": "respond_deal", "deal_id": deal_id, "action": action}))

    def commitments() -> list[dict]:
        return [
            {"kind": "lift", "issuer": seat, "measure": mine.value, "commodities": [goods.value]},
            {
                "kind": "lift",
                "issuer": other,
                "measure": theirs.value,
                "commodities": [goods.value],
            },
        ]

    def propose():
        if counter_to is not None:
            order = {
                "kind": "respond_deal",
                "deal_id": counter_to.id,
                "action": "counter",
                "commitments": commitments(),
                "duration_months": int(months.value),
            }
            countering.set("")
        else:
            order = {
                "kind": "propose_deal",
                "recipients": [partner.value],
                "duration_months": int(months.value),
                "commitments": commitments(),
            }
        result.set(submit(order))

    def counter(deal) -> None:
        countering.set(deal.id)
        months.set(int(deal.duration_months))

    with solara.Column():
        solara.Markdown(f"**Inbox** ({len(inbox)})")
        for deal in inbox:
            with solara.Row(style={"align-items": "center"}, classes=["inbox-deal"]):
                solara.Text(
                    f"{deal.id} from {deal.proposer}: {deal.summary()} for "
                    f"{deal.duration_months} months"
                )
                if deal.id in answered:
                    solara.Text(
                        f"Your answer to {deal.id}: {answered[deal.id]}, sent as the turn is "
                        "played (End turn); cancel it under Orders to change it.",
                        classes=["deal-answer"],
                    )
                else:
                    solara.Button("Accept", on_click=lambda d=deal.id: respond(d, "accept"))
                    solara.Button("Reject", on_click=lambda d=deal.id: respond(d, "reject"))
                    solara.Button("Counter", on_click=lambda d=deal: counter(d))
        if counter_to is not None:
            solara.Markdown(
                f"**Counter-proposal to {counter_to.id}** from {counter_to.proposer} "
                f"({counter_to.summary()}): set your terms below; the original closes."
            )
            solara.Button("Cancel counter", on_click=lambda: countering.set(""), text=True)
        else:
            solara.Markdown("**Propose a deal**: each side lifts a measure on a commodity.")
            solara.Select("With", values=[r for r in states if r != seat], value=partner)
        # Trade measures stand on the policy book by commodity: the ones a lift on a
        # commodity ends (world/instruments: TRADE_KINDS).
        solara.Select("We lift", values=list(TRADE_KINDS), value=mine)
        solara.Select(
            "They lift",
            values=list(TRADE_KINDS),
            value=theirs,
        )
        solara.Select("On", values=w.commodity_ids, value=goods)
        solara.SliderInt("Months", value=months, min=3, max=60, step=3)
        solara.Button(
            "Send counter-proposal" if counter_to is not None else "Propose",
            on_click=propose,
            classes=["propose-deal"],
        )
        if result.value is not None:
            taken, message = result.value
            (solara.Success if taken else solara.Error)(message)


@solara.component
def DealsTables(world, seat: str | None = None, version: int = 0):
    """The deals so far and the trust between states (public knowledge). With ``seat``, deals
    still under negotiation show only to their parties. ``version`` (as in :func:`Controls`):
    the world object stays the same as it plays, so the tables follow the game by it."""
    diplomacy = deals_of(world)
    deals = diplomacy.deals_frame()
    if seat is not None and not deals.empty:
        deals = deals[[diplomacy.deals[i].visible_to(seat) for i in deals["id"]]]
    solara.Markdown("**Deals**")
    if deals.empty:
        solara.Text("No deals yet.")
    else:
        with solara.Div(classes=["deals-table"]):
            solara.DataFrame(
                deals[["id", "proposer", "recipients", "status", "start", "end"]],
                items_per_page=8,
            )
    solara.Markdown("**Trust** (row trusts column, 0-1)")
    solara.DataFrame(trust_table(world).round(2).reset_index(names="truster"))


# ---------------------------------------------------------------------- debrief


@solara.component
def Debrief(session: GameSession, version: int):
    w = session.world
    seat = None if session.seat == OBSERVER else session.seat
    table = decisions(w, seat, session.spec.turn_months)
    figure = solara.use_memo(lambda: charts.prices(w), dependencies=[version, id(w)])
    with solara.Columns([1, 1]):
        with solara.Column():
            solara.Markdown("### Decisions by seat, turn by turn")
            if table.empty:
                solara.Text("No orders applied yet.")
            else:
                solara.DataFrame(table, items_per_page=15)
        with solara.Column():
            solara.FigureMatplotlib(figure, dependencies=[version, id(w)], format="png")
    objectives = w.objectives()
    if not objectives.empty:
        last = objectives[objectives.month == objectives.month.max()]
        pivot = last.pivot_table(index="objective", columns="region", values="value")
        keep = [
            o
            for o in ("welfare", "security", "leverage", "fiscal_cost", "score")
            if o in pivot.index
        ]
        solara.Markdown(
            f"### Objectives in {w.date_of(w.month - 1)}; your weights: "
            + ", ".join(f"{k} {v:g}" for k, v in session.weights().items())
        )
        shown = pivot.loc[keep].apply(
            lambda row: row.map(functools.partial(verdict.objective_value, row.name)), axis=1
        )
        solara.DataFrame(shown.reset_index())
    questions = debrief_questions(session.spec)
    if questions:
        with solara.Column(classes=["debrief-questions"]):
            solara.Markdown(
                "### Questions for the debrief\n\n"
                + "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1))
            )
    with solara.Row():
        name = f"{session.spec.name}-seed{session.seed}-m{w.month}"
        solara.FileDownload(session.results_csv, filename=f"{name}.csv", label="Results (CSV)")
        solara.FileDownload(
            session.results_parquet, filename=f"{name}.parquet", label="Results (Parquet)"
        )
        solara.FileDownload(session.orders_csv, filename=f"{name}-orders.csv", label="Orders (CSV)")
        GradingDownload(session)
        solara.FileDownload(
            lambda: charts.png(figure), filename=f"{name}-prices.png", label="Price figure (PNG)"
        )
        solara.FileDownload(
            lambda: charts.figures_zip(w, session.seat),
            filename=f"{name}-figures.zip",
            label="Every figure (PNG, zip)",
        )


# ---------------------------------------------------------------------- the game


@solara.component
def Game(session: GameSession, on_quit: Callable[[], None] | None = None):
    version, set_version = solara.use_state(session.version)
    side = solara.use_reactive("Orders")

    def changed():
        set_version(session.version)

    with solara.Column(style={"padding": "8px"}, classes=["game-page"]):
        Controls(session, version, changed, on_quit)
        HelpBar(session, version, changed)
        Readouts(session, version)
        if session.finished:
            ResultsScreen(session, version)
        # Side by side when both fit, stacked otherwise (ui/page_style.py).
        with solara.Div(classes=["game-columns"]):
            with solara.Column(classes=["game-main"]):
                Dashboard(session, version)
                NewsFeed(session, version)
            with solara.Column(classes=["game-side"]):
                solara.ToggleButtonsSingle(
                    value=side, values=["Orders", "Why?", "Negotiation", "Briefing", "Debrief"]
                )
                if side.value == "Orders":
                    OrderPanel(session, version, changed)
                elif side.value == "Why?":
                    WhyPanel(session, version)
                elif side.value == "Negotiation":
                    DealsPanel(session, version, changed)
                elif side.value == "Briefing":
                    with solara.Card("Briefing", classes=["briefing"]):
                        solara.Markdown(briefing(session.spec, session.seat))
                else:
                    solara.Info("The debrief is below the dashboard, across the page.")
        if side.value == "Debrief":
            with solara.Card("Debrief", classes=["debrief"]):
                Debrief(session, version)


@solara.component
def GamePage(scenario: str = "baseline-2024"):
    """The whole page: the start screen (with the saved games to resume), then the game. Each
    browser session has its own; every game is stored as it is played (play/saved_games.py)."""
    session, set_session = solara.use_state(None)
    solara.Title("Chokepoint")

    def start(new: GameSession) -> None:
        try:
            saved_games().keep(new)
        except StoreError as exc:  # the game is still played, only not kept
            print(f"warning: the game is not saved: {exc}", file=sys.stderr)
        set_session(new)

    solara.Style(page_style.CSS)
    if session is None:
        StartScreen(on_start=start, scenario=scenario)
        SavedGamesList(on_resume=set_session)
    else:
        Game(session, on_quit=lambda: set_session(None))


__all__ = [
    "Controls",
    "Dashboard",
    "DealsPanel",
    "Debrief",
    "Game",
    "GamePage",
    "NewsFeed",
    "OrderPanel",
    "StartScreen",
]

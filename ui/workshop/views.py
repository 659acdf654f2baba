"""The workshop's panels: a team's seat view and the facilitator's console.

Every panel reads one shared :class:`~play.room.Game` and acts only through its methods,
which check the session's credential; a panel never decides on its own who may do what. Each
browser session follows its game with :func:`use_live`: a thread that waits on the game's
version and re-renders the page within a fraction of a second of any change.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import reacton.ipywidgets as rw
import solara

from play.room import Credential, Game, Refused, WorkshopError, Workshops
from play.session import briefing, in_force, inbox, news
from ui import charts
from ui.components import DealsTables, NegotiationForm
from ui.order_form import JsonOrder, OrderForm, Outcome, json_object
from world import bundled_scenarios, load_scenario
from world.scenario import seat_every_state

logger = logging.getLogger("chokepoint.workshop")
DEFAULT_SCENARIO = "alliance-vs-tariffs-2025"
#: The charts every participant sees (a seat's fiscal cost and score are its own business).
PUBLIC_TABS = [t for t in charts.TABS if t != "Fiscal & score"]
#: Events a facilitator can inject, as starting points for the form.
EVENT_PRESETS = {
    "Mine accident": {"kind": "capacity_shock", "region": "AU", "stage": "mine", "share": -0.5,
                      "months": 6, "note": "An accident shuts half of Australia's mining"},
    "Rebels seize Myanmar's mines": {"kind": "capacity_shock", "region": "MM", "stage": "mine",
                                     "share": -1.0, "months": 12,
                                     "note": "Rebels seize Myanmar's rare-earth mines"},
    "Demand shock": {"kind": "demand_shock", "region": "CN", "sector": "ev", "share": 0.3,
                     "months": 12, "note": "EV sales in China surge"},
    "Policy announcement": {"kind": "announcement", "region": "US", "months": 1,
                            "note": "The US announces a review of rare-earth supply"},
}  # fmt: skip


def attempt(action: Callable[[], object], done: str) -> Outcome:
    """Run a game action; the outcome to show (the game's own words if it refused, or what was
    wrong with the input: WorkshopError and JSON problems are ValueErrors)."""
    try:
        action()
    except (Refused, ValueError) as exc:
        return False, str(exc)
    return True, done


@dataclass(frozen=True)
class Job:
    """A slow piece of work a page runs on request (see :func:`use_job`)."""

    start: Callable[[], None]
    busy: bool
    error: str
    value: Any


def use_job(work: Callable[[], Any], expected: tuple[type[Exception], ...], what: str) -> Job:
    """Run ``work`` in a thread each time ``Job.start`` is called; the page re-renders with its
    value, or with its error: the message of an ``expected`` exception, or for any other one
    "``what`` failed (...)", rather than a spinner that never stops (a worker that died)."""
    value = solara.use_reactive(None)
    error = solara.use_reactive("")
    busy = solara.use_reactive(False)
    runs = solara.use_reactive(0)  # each start asks for one more run

    def run(cancel: threading.Event) -> None:
        if runs.value == 0:
            return
        busy.set(True)
        error.set("")
        try:
            value.set(work())
        except expected as exc:
            error.set(str(exc))
        except Exception as exc:
            error.set(f"{what} failed ({type(exc).__name__}: {exc}); try again")
        finally:
            busy.set(False)

    # solara's thread keeps the session's context, so the results reach this page.
    solara.use_thread(run, dependencies=[runs.value], intrusive_cancel=False)
    return Job(lambda: runs.set(runs.value + 1), busy.value, error.value, value.value)


#: How often an open page checks that its session still holds, in seconds (and at each change
#: of the game): signed out, expired or its seat handed over, it goes dark within this time.
SESSION_CHECK_S = 0.5


def signed_in(cred: Credential) -> bool:
    """Whether the browser session behind ``cred`` still holds (always, for a credential with
    no session behind it)."""
    return cred.alive is None or cred.alive()


def use_signed_in(cred: Credential) -> bool:
    """Whether the page's session still holds: checked at each render and every
    :data:`SESSION_CHECK_S` by a thread, which re-renders the page the moment it ends."""
    ended = solara.use_reactive(False)

    def watch(cancel: threading.Event) -> None:
        while not cancel.wait(SESSION_CHECK_S):
            if not signed_in(cred):
                ended.set(True)
                return

    solara.use_thread(watch, dependencies=[cred], intrusive_cancel=False)
    return not ended.value and signed_in(cred)


def use_live(game: Game, cred: Credential) -> int | None:
    """The game's version, re-read whenever the game changes (and each second while a turn
    timer runs, for the countdown); the session counts as connected while mounted. None once
    the session has ended: the caller then shows nothing of the game, and no change of the game
    reaches the page any more."""
    version, set_version = solara.use_state(game.version)
    _tick, set_tick = solara.use_state(0.0)

    def watch(cancel: threading.Event) -> None:
        seen = game.version
        while not cancel.is_set():
            now = game.wait(seen, SESSION_CHECK_S)
            if not signed_in(cred):
                return  # no more pushes; use_signed_in replaces the page
            if now != seen:
                seen = now
                set_version(now)
            elif game.seconds_left() is not None:
                set_tick(time.monotonic())

    solara.use_thread(watch, dependencies=[game.id], intrusive_cancel=False)

    def presence():
        game.connect(cred)
        return lambda: game.disconnect(cred)

    solara.use_effect(presence, [game.id, cred])
    return version if signed_in(cred) else None


#: What a page shows after it sent something no control of it offers (a crafted message).
REFUSED = (
    "That request was refused: the page sent a value none of its controls offers. "
    "Nothing changed; the page starts again from its first tab."
)


@solara.component
def Refusing(children: list | None = None):
    """Catches what a crafted widget message makes a panel raise (a choice no control offers,
    a toggle index out of range, a value of the wrong type): the server logs it, the page
    says it was refused, and the panels under it are unmounted for one render and mounted
    afresh, so a bad value held in a panel's state cannot fail every render after. No
    traceback reaches the page."""
    exception, clear = solara.use_exception()
    refused = solara.use_reactive(0)
    unmounted = solara.use_reactive(False)

    def remount():
        if unmounted.value:
            unmounted.set(False)

    solara.use_effect(remount, [unmounted.value])
    if exception is not None:
        logger.warning(
            "refused a malformed message from a page: %s: %s",
            type(exception).__name__,
            str(exception)[:200],
        )
        refused.set(refused.value + 1)
        unmounted.set(True)
        clear()
    if refused.value:
        solara.Warning(REFUSED, classes=["refused"])
    if exception is None and not unmounted.value:
        solara.Column(children=children or [])


@solara.component
def SignedOut(message: str = "You have been signed out of this workshop."):
    """What a page without a session shows: why, and the way back in."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<p class='signed-out'>{escape(message)}</p>"
            '<p><a class="join-link" href="/join">Sign in with your join code</a></p>'
        ),
    )


@solara.component
def SignedIn(workshops: Workshops, cred: Credential, sign_out: str):
    """The page of a signed-in browser; "signed out" the moment its session ends (signed out in
    another tab, expired, or its seat handed to a doctrine or another team).

    Args:
        sign_out: the HTML of the sign-out form (ui/workshop/server.py, with its CSRF token).
    """
    if not use_signed_in(cred):
        SignedOut("Signed out: this session has ended (signed out, expired, or the seat was "
                  "handed over). Sign in again to go on.")  # fmt: skip
        return
    with solara.Row(style={"justify-content": "flex-end"}):
        solara.Text(f"Signed in as {cred.seat or cred.role}", classes=["signed-in"])
        solara.HTML(tag="div", unsafe_innerHTML=sign_out)
    Workshop(workshops, cred)


#: Each game's price figure, shared by every session of the game (used under the game's
#: lock): a resolved turn is drawn once, not once per open browser.
_LIVE: dict[str, charts.LivePrices] = {}


def _live_prices(game_id: str, world) -> charts.LivePrices:
    live = _LIVE.get(game_id)
    if live is None or live.world is not world:  # a new game, or an undo's world
        live = _LIVE[game_id] = charts.LivePrices(world)
    return live


def _lines(items: list[str], empty: str = "none") -> str:
    # A Markdown list needs a blank line before it, or it runs on as one paragraph.
    return empty if not items else "\n\n" + "\n".join(f"- {escape(i)}" for i in items)


# ---------------------------------------------------------------------- shared by all


@solara.component
def Clock(game: Game, version: int):
    left = game.seconds_left()
    status = "finished" if game.finished else ("paused" if game.paused else "running")
    text = f"{game.name} · {game.date()} · turn {game.turn} · {status}"
    if left is not None:
        text += f" · {int(left) // 60}:{int(left) % 60:02d} left"
    waiting = game.waiting_for()
    text += " · waiting for " + ", ".join(waiting) if waiting else ""
    solara.Text(text, classes=["workshop-clock"])
    if game.messages:
        latest = game.messages[-1]
        solara.Info(f"{latest['date']} · facilitator: {latest['text']}", classes=["broadcast"])


@solara.component
def PublicBoard(game: Game, version: int, seat: str | None = None):
    """The dashboard everyone shares: prices, shares, shortages, stocks, capacity, trade, and
    the news (with ``seat``, its own failed orders too, nobody else's)."""
    tab = solara.use_reactive(PUBLIC_TABS[0])
    commodity = solara.use_reactive("magnet")
    w = game.world
    live = solara.use_memo(lambda: _live_prices(game.id, w), dependencies=[id(w)])

    def draw() -> bytes:
        with game.lock:  # the world moves only under the game's lock
            if tab.value == "Prices":
                return live.png()
            figure = charts.draw(w, tab.value, seat or "US", commodity=commodity.value, viewer=seat)
            return charts.png(figure)

    image = solara.use_memo(draw, dependencies=[version, id(w), tab.value, commodity.value])
    with game.lock:
        feed = news(w, seat).head(30)
    with solara.Column(classes=["public-board"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.ToggleButtonsSingle(value=tab, values=PUBLIC_TABS)
            if tab.value in ("Trade", "Stocks"):
                solara.Select("Commodity", values=w.commodity_ids, value=commodity)
        rw.Image(value=image, format="png")
        rows = "".join(
            f"<li><b>{escape(str(r.date))}</b> {escape(str(r.who))}: {escape(str(r.text))}</li>"
            for r in feed.itertuples(index=False)
        )
        solara.HTML(tag="div", unsafe_innerHTML=f"<ul class='workshop-news'>{rows}</ul>")


# ---------------------------------------------------------------------- a team


@solara.component
def Drafts(game: Game, cred: Credential, seat: str, version: int):
    """The seat's orders for this turn, with withdraw, and the submit button."""
    result = solara.use_reactive(None)
    drafts = game.drafts_of(cred, seat)
    submitted = seat in game.submitted
    solara.Markdown(f"**Your orders this turn** ({len(drafts)})")
    for d in drafts:
        words = ", ".join(f"{k}={v}" for k, v in d.order.items() if k not in ("issuer",))
        status = f" — vetoed: {d.note}" if d.vetoed else (f" — edited: {d.note}" if d.note else "")
        with solara.Row(style={"align-items": "center"}, classes=["draft"]):
            solara.Text(f"#{d.id} {words}{status}")
            solara.Button(
                "Withdraw",
                text=True,
                on_click=lambda i=d.id: result.set(
                    attempt(lambda: game.withdraw(cred, seat, i), f"Order #{i} withdrawn.")
                ),
            )
    if seat in game.teams:
        if submitted:
            solara.Success("Submitted: waiting for the other teams.", classes=["submitted"])
            solara.Button(
                "Take back",
                on_click=lambda: result.set(
                    attempt(lambda: game.submit_turn(cred, seat, False), "Taken back.")
                ),
            )
        else:
            solara.Button(
                "Submit turn",
                color="primary",
                classes=["submit-turn"],
                on_click=lambda: result.set(
                    attempt(lambda: game.submit_turn(cred, seat), "Submitted.")
                ),
            )
    else:
        solara.Warning(f"{seat} is played by a doctrine now.")
    if result.value is not None and not result.value[0]:
        solara.Error(result.value[1])


@solara.component
def Intelligence(game: Game, seat: str, version: int):
    """What only the seat knows: its budget, stockpiles, score, policies and licence queue."""
    w = game.world
    with game.lock:
        state = w.states_by_region.get(seat)
        table = w.objectives()
        mine = in_force(w, seat)
        r = w.region_index[seat]
        queued = state is not None and float(w.policies.pending_applications[:, r, :].sum())
        cover = w.recorder.array("cover_months")
    if state is None:
        solara.Text(f"{seat} has no government in this scenario.")
        return
    budget = state.spec.budget_usd_per_year
    lines = [
        f"Spent this year: {state.spent_this_year_usd / 1e6:,.0f} million USD"
        + (f" of {budget / 1e6:,.0f}" if budget else " (no budget cap)"),
        f"Fiscal cost so far: {state.fiscal_cost_usd / 1e6:,.0f} million USD",
    ]
    for c in w.commodity_ids:
        tonnes = float(np.sum(state.stockpile[c]))  # concentrate is held by deposit
        months = f", {cover[-1, w.commodity_index[c], r]:.1f} months of cover" if cover.size else ""
        lines.append(f"Strategic {c}: {tonnes:,.0f} t{months}")
    if queued:
        lines.append(f"Licence applications waiting for your decision: {queued:,.0f} t")
    if not table.empty:
        last = table[(table.region == seat) & (table.month == table.month.max())]
        lines.append(
            "Objectives now: "
            + ", ".join(f"{o} {v:.3g}" for o, v in zip(last.objective, last.value, strict=True))
        )
    solara.Markdown("**Intelligence** (only you see this)" + _lines(lines))
    solara.Markdown("**Your measures in force:** " + _lines(mine))


@solara.component
def SeatView(game: Game, cred: Credential, seat: str):
    """A team's page: the shared dashboard, its orders, negotiation and intelligence."""
    version = use_live(game, cred)
    side = solara.use_reactive("Orders")
    if version is None:
        return

    def submit(order: dict) -> Outcome:
        try:
            draft = game.add_order(cred, seat, order)
        except (Refused, WorkshopError) as exc:
            return False, str(exc)
        date = game.world.date_of(game.world.month)
        return True, (
            f"Order #{draft.id} drafted: when the turn resolves it takes effect from {date}, "
            "the turn's first month."
        )

    with solara.Column(style={"padding": "8px"}, classes=["seat-view"]):
        solara.Markdown(f"## {seat} · {game.name}")
        Clock(game, version)
        with solara.Columns([3, 2]):
            PublicBoard(game, version, seat)
            with solara.Column():
                solara.ToggleButtonsSingle(
                    value=side, values=["Orders", "Negotiation", "Intelligence", "Briefing"]
                )
                with game.lock:
                    world_now = game.world
                    offers = inbox(world_now, seat)
                if side.value == "Orders":
                    with solara.Card(f"Orders for {seat}", classes=["order-panel"]):
                        Drafts(game, cred, seat, version)
                        if seat in game.teams and not game.finished:
                            OrderForm(world_now, seat, submit, version)
                            JsonOrder(submit, (world_now.month, id(world_now)))
                elif side.value == "Negotiation":
                    with solara.Card("Negotiation", classes=["deals-panel"]):
                        NegotiationForm(world_now, seat, offers, submit, version)
                        DealsTables(world_now, seat, version=version)
                elif side.value == "Intelligence":
                    Intelligence(game, seat, version)
                else:
                    with solara.Column(classes=["briefing"]):
                        solara.Markdown(briefing(game.world.spec, seat))


# ---------------------------------------------------------------------- the facilitator


@solara.component
def NewGame(workshops: Workshops, cred: Credential, on_created: Callable[[str], None]):
    names = sorted(bundled_scenarios())
    # The scenario written for play between states, if bundled.
    scenario = solara.use_reactive(DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else names[0])
    spec = solara.use_memo(
        lambda: seat_every_state(load_scenario(scenario.value)), dependencies=[scenario.value]
    )
    teams = solara.use_reactive(list(spec.seats)[:3])
    seed = solara.use_reactive(0)
    turn = solara.use_reactive(spec.turn_months)
    name = solara.use_reactive("")
    result = solara.use_reactive(None)

    def create():
        try:
            game = workshops.create_game(
                cred,
                scenario.value,
                [t for t in teams.value if t in spec.seats],
                seed=int(seed.value),
                name=name.value,
                turn_months=int(turn.value),
            )
        except (Refused, WorkshopError) as exc:
            result.set((False, str(exc)))
            return
        result.set((True, f"Created {game.name}"))
        on_created(game.id)

    with solara.Card("New game", classes=["new-game"]):
        solara.Select("Scenario", values=names, value=scenario)
        solara.Markdown(escape(spec.description))
        solara.SelectMultiple("Seats played by teams", teams.value, list(spec.seats),
                              on_value=teams.set)  # fmt: skip
        ai = ", ".join(f"{r}: {s.doctrine}" for r, s in spec.seats.items() if r not in teams.value)
        solara.Markdown(f"The other seats start with their doctrines: {escape(ai) or 'none'}.")
        solara.InputInt("Seed", value=seed)
        solara.InputInt("Months per turn", value=turn)
        solara.InputText("Name (optional)", value=name)
        solara.Button("Create game", on_click=create, color="primary", classes=["create-game"])
        if result.value is not None and not result.value[0]:
            solara.Error(result.value[1])


def join_sheet(game: Game, cred: Credential, url: str = "") -> str:
    """A printable page: one card per seat with its join code."""
    cards = "".join(
        f"<div class='card'><h2>{escape(seat)}</h2><p>{escape(game.name)}</p>"
        f"<p class='code'>{escape(game.code(cred, seat))}</p>"
        f"<p>Open {escape(url or 'the workshop page')} and enter this code.</p></div>"
        for seat in game.seats
    )
    style = (
        "body{font-family:sans-serif}.card{border:2px dashed #444;padding:16px;margin:12px;"
        "page-break-inside:avoid}.code{font:bold 28px monospace;letter-spacing:2px}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Join codes: "
        f"{escape(game.name)}</title><style>{style}</style></head><body>{cards}</body></html>"
    )


@solara.component
def Roster(game: Game, cred: Credential, version: int):
    doctrine = solara.use_reactive("")
    result = solara.use_reactive(None)
    from agents.doctrines import DOCTRINES

    rows = game.roster(cred)
    solara.Markdown("**Roster**")
    for row in rows:
        who = "team" if row.team else f"AI: {row.doctrine}"
        online = f"{row.connected} connected" if row.connected else "not connected"
        done = "submitted" if row.submitted else ("waiting" if row.team else "")
        with solara.Row(style={"align-items": "center"}, classes=["roster-row"]):
            parts = [row.seat, who, online, done, f"{row.drafts} order(s)"]
            parts.append(f"code {game.code(cred, row.seat)}")
            solara.Text(" · ".join(p for p in parts if p))
            solara.Button(
                "Hand to AI" if row.team else "Hand to team",
                text=True,
                on_click=lambda s=row.seat, t=row.team: result.set(
                    attempt(
                        lambda: game.set_team(cred, s, not t, "" if t else doctrine.value),
                        f"{s} handed over.",
                    )
                ),
            )
    solara.Select(
        "Doctrine for a seat handed to AI (blank: the scenario's)",
        values=["", *sorted(DOCTRINES)],
        value=doctrine,
    )
    if result.value is not None:
        (solara.Success if result.value[0] else solara.Error)(result.value[1])


@solara.component
def Adjudication(game: Game, cred: Credential, version: int):
    """Every seat's drafts this turn: veto or edit them, with a logged reason."""
    reason = solara.use_reactive("")
    edit_text = solara.use_reactive("")
    result = solara.use_reactive(None)
    solara.Markdown("**Orders waiting for this turn** (teams see only their own)")
    any_drafts = False
    for seat in game.seats:
        for d in game.drafts_of(cred, seat):
            any_drafts = True
            mark = " (vetoed)" if d.vetoed else ""
            with solara.Row(style={"align-items": "center"}, classes=["adjudicate-row"]):
                solara.Text(f"{seat} #{d.id}{mark}: {json.dumps(d.order)}")
                solara.Button(
                    "Veto",
                    text=True,
                    on_click=lambda s=seat, i=d.id: result.set(
                        attempt(lambda: game.veto(cred, s, i, reason.value), f"#{i} vetoed.")
                    ),
                )
                solara.Button(
                    "Edit",
                    text=True,
                    on_click=lambda s=seat, i=d.id: result.set(
                        attempt(
                            lambda: game.edit(
                                cred, s, i, json_object(edit_text.value), reason.value
                            ),
                            f"#{i} edited.",
                        )
                    ),
                )
    if not any_drafts:
        solara.Text("No orders drafted yet.")
        return
    solara.InputText("Reason (logged)", value=reason, continuous_update=True)
    solara.InputTextArea("Replacement order for Edit (JSON)", value=edit_text, rows=3)
    if result.value is not None:
        (solara.Success if result.value[0] else solara.Error)(result.value[1])


@solara.component
def EventForm(game: Game, cred: Credential):
    preset = solara.use_reactive(next(iter(EVENT_PRESETS)))
    text = solara.use_reactive(json.dumps(EVENT_PRESETS[preset.value]))
    result = solara.use_reactive(None)
    templates = {
        f"Scenario: {e.id}": e.model_dump(exclude={"id", "date"}) for e in game.spec.events
    }
    choices = {**EVENT_PRESETS, **templates}

    def pick(name: str):
        preset.set(name)
        text.set(json.dumps({k: v for k, v in choices[name].items() if v not in (None, "")}))

    def inject():
        def go():
            body = json_object(text.value, "event")
            body.setdefault("id", f"injected-{game.world.month}-{len(game.world.events)}")
            body.setdefault("date", game.date())
            game.inject_event(cred, body)

        result.set(attempt(go, "Event injected: it starts this turn."))

    solara.Markdown("**Inject an event** (edit the fields; it starts now unless you give a date)")
    solara.Select("Start from", values=list(choices), value=preset.value, on_value=pick)
    solara.InputTextArea("Event (JSON)", value=text, rows=3, continuous_update=True)
    solara.Button("Inject event", on_click=inject, classes=["inject-event"])
    if result.value is not None:
        (solara.Success if result.value[0] else solara.Error)(result.value[1])


@solara.component
def TurnControls(game: Game, cred: Credential, version: int):
    seconds = solara.use_reactive(300)
    message = solara.use_reactive("")
    result = solara.use_reactive(None)

    def act(fn: Callable[[], object], done: str) -> Callable[[], None]:
        return lambda: result.set(attempt(fn, done))

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button(
            "Resolve turn now",
            color="primary",
            classes=["resolve-turn"],
            disabled=game.finished,
            on_click=act(lambda: game.resolve(cred), "Turn resolved."),
        )
        solara.Button(
            "Resume" if game.paused else "Pause",
            on_click=act(lambda: game.pause(cred, not game.paused), "Done."),
        )
        solara.Button("Undo last turn", on_click=act(lambda: game.undo(cred), "Turn undone."))
        solara.InputInt("Turn timer, s", value=seconds, style={"max-width": "140px"})
        solara.Button(
            "Set timer", on_click=act(lambda: game.set_timer(cred, int(seconds.value)), "Set.")
        )
        solara.Button(
            "No timer", text=True, on_click=act(lambda: game.set_timer(cred, None), "Off.")
        )
    with solara.Row(style={"align-items": "center"}):
        solara.InputText("Message to every team", value=message, continuous_update=True)
        solara.Button(
            "Broadcast",
            classes=["broadcast-button"],
            on_click=act(lambda: game.broadcast(cred, message.value), "Sent."),
        )
    if result.value is not None:
        (solara.Success if result.value[0] else solara.Error)(result.value[1])


@solara.component
def Branching(game: Game, cred: Credential):
    """Fork the game into headless futures under the doctrines; the fan chart, live game
    untouched."""
    n = solara.use_reactive(20)
    months = solara.use_reactive(24)
    start = solara.use_reactive(0)  # the turn to fork from; 0: the turn being played

    def run() -> bytes:
        from play.branching import futures
        from ui.workshop.fan_chart import fan_chart

        live = game.snapshot(cred)
        fork = game.world_at(cred, int(start.value or game.turn))
        frame = futures(fork, int(n.value), int(months.value))
        return charts.png(fan_chart(frame, fork.month, live))

    job = use_job(run, (Refused, WorkshopError, ValueError), "the futures (try fewer)")
    solara.Markdown(
        "**Branch**: N futures from the start of a turn (now, or an earlier one), every seat "
        "played by its doctrine; what was actually played since shows dotted"
    )
    with solara.Row(style={"align-items": "center"}):
        turns = list(range(1, game.turn + 1))
        solara.Select(
            "From the start of turn",
            values=turns,
            value=int(start.value) if start.value in turns else game.turn,
            on_value=start.set,
            style={"max-width": "170px"},
        )
        solara.InputInt("Futures", value=n, style={"max-width": "100px"})
        solara.InputInt("Months ahead", value=months, style={"max-width": "120px"})
        solara.Button("Run futures", on_click=job.start, disabled=job.busy, classes=["run-futures"])
    if job.busy:
        solara.Text("Running the futures…")
    if job.error:
        solara.Error(job.error)
    if job.value is not None:
        rw.Image(value=job.value, format="png")


@solara.component
def Exports(game: Game, cred: Credential):
    from ui.workshop.report import after_action_report, report_bundle

    def arguments() -> dict:
        world = game.snapshot(cred)
        seats = {
            s: ("team" if s in world.human_seats else f"AI: {world.doctrines[s].name}")
            for s in game.seats
        }
        return {"world": world, "title": game.name, "seats": seats,
                "facilitator_log": game.history + game.messages}  # fmt: skip

    def html() -> bytes:
        args = arguments()
        return after_action_report(args.pop("world"), **args).encode()

    def bundle() -> bytes:
        args = arguments()
        return report_bundle(args.pop("world"), **args)

    stem = f"{game.name}-{game.date()}".replace(" ", "-").replace("#", "")
    with solara.Row():
        solara.FileDownload(html, filename=f"{stem}-report.html", label="After-action report")
        solara.FileDownload(bundle, filename=f"{stem}.zip", label="Report + data (zip)")
        solara.FileDownload(
            lambda: join_sheet(game, cred).encode(),
            filename=f"{stem}-join-codes.html",
            label="Printable join codes",
        )
    PdfReport(html, f"{stem}-report.pdf")


@solara.component
def PdfReport(html: Callable[[], bytes], filename: str):
    """The after-action report as PDF: printed on request (a second or two), then saved."""
    from ui.workshop.report import ReportError, pdf_browser, report_pdf

    job = use_job(lambda: report_pdf(html().decode()), (Refused, ReportError), "the PDF")
    if pdf_browser() is None:
        solara.Text("PDF: no Chromium here; print the HTML report to PDF from a browser.")
        return
    with solara.Row(style={"align-items": "center"}):
        solara.Button(
            "Make the PDF report", on_click=job.start, disabled=job.busy, classes=["make-pdf"]
        )
        if job.busy:
            solara.Text("Printing…")
        elif job.value is not None:
            solara.FileDownload(job.value, filename=filename, label="Save the PDF")
    if job.error:
        solara.Error(job.error)


@solara.component
def GameConsole(game: Game, cred: Credential):
    version = use_live(game, cred)
    view = solara.use_reactive("Console")
    if version is None:
        return
    with solara.Column(style={"padding": "8px"}, classes=["console"]):
        Clock(game, version)
        solara.ToggleButtonsSingle(value=view, values=["Console", *game.seats])
        if view.value != "Console":
            solara.Info(f"You are viewing {view.value}'s seat (as facilitator you may act for it).")
            SeatView(game, cred, view.value)
            return
        with solara.Columns([3, 2]):
            PublicBoard(game, version)
            with solara.Column():
                with solara.Card("Turn"):
                    TurnControls(game, cred, version)
                with solara.Card("Seats"):
                    Roster(game, cred, version)
                with solara.Card("Adjudicate"):
                    Adjudication(game, cred, version)
                with solara.Card("Events"):
                    EventForm(game, cred)
        with solara.Card("Branching and exports"):
            Branching(game, cred)
            Exports(game, cred)
        if game.history:
            solara.Markdown(
                "**Facilitator log**"
                + _lines([f"{h['date']} {h['text']}" for h in reversed(game.history)])
            )


@solara.component
def Console(workshops: Workshops, cred: Credential):
    """The facilitator's page: the games, a new game, and the console of the chosen one."""
    games = workshops.list_games(cred)
    # The latest game to begin with: a page remounted after a server restart is back in it.
    chosen = solara.use_reactive(games[-1].id if games else "")
    labels = {f"{g.name} ({g.id})": g.id for g in games}
    with solara.Column(style={"padding": "8px"}):
        solara.Markdown("# Chokepoint workshop · facilitator")
        for game_id, why in workshops.broken.items():
            solara.Error(f"Game {game_id} could not be reopened and is left as stored: {why}")
        with solara.Row(style={"align-items": "center"}):
            if labels:
                current = next((k for k, v in labels.items() if v == chosen.value), None)
                solara.Select(
                    "Game",
                    values=list(labels),
                    value=current,
                    on_value=lambda label: chosen.set(labels[label]),
                )
            solara.Button("New game", on_click=lambda: chosen.set(""), text=True)
        if chosen.value and chosen.value in workshops.games:
            game = workshops.game(cred, chosen.value)
            GameConsole(game, cred)
        else:
            NewGame(workshops, cred, chosen.set)


@solara.component
def Workshop(workshops: Workshops, cred: Credential):
    """The page for a signed-in session: the console or the seat's view."""
    if cred.facilitator:
        Console(workshops, cred)
        return
    game = workshops.game(cred, cred.game_id)
    SeatView(game, cred, cred.seat)

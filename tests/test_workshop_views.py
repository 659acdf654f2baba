"""Headless tests of the workshop's panels (solara.render, no browser)."""

import time

import ipyvuetify as v
import solara

from play.room import SESSION_MAX_AGE_S
from play.session import news
from ui.workshop.views import Console, Refusing, SeatView, SignedIn, join_sheet


def _click(rc, label):
    rc.find(v.Btn, children=[label]).widget.click()


def _texts(rc) -> str:
    """Every text the page shows (plain texts, markdown, alerts, HTML)."""
    from solara.widgets.widgets import HTML

    parts = [str(w.children) for w in rc.find(v.Alert).widgets]
    parts += [str(w.template) for w in rc.find(v.VuetifyTemplate).widgets]
    parts += [w.unsafe_innerHTML for w in rc.find(HTML).widgets]
    parts += [str(w.children) for w in rc.find(v.Html).widgets]
    return " ".join(parts)


def _wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_team_drafts_submits_and_sees_only_its_own_orders(workshops, facilitator, game):
    us = workshops.login(game.code(facilitator, "US"))
    cn = workshops.login(game.code(facilitator, "CN"))
    game.add_order(cn, "CN", {"kind": "export_ban", "commodities": ["magnet"], "partners": ["US"]})
    _, rc = solara.render(SeatView(game, us, "US"), handle_error=False)
    _click(rc, "Submit order")
    (draft,) = game.drafts_of(us, "US")
    assert _wait_for(lambda: f"Order #{draft.id} drafted" in _texts(rc))
    assert _wait_for(lambda: f"#{draft.id} kind=import_tariff" in _texts(rc))
    assert "export_ban" not in _texts(rc)  # China's draft stays China's
    _click(rc, "Submit turn")
    assert "US" in game.submitted
    assert _wait_for(lambda: "Submitted" in _texts(rc))
    rc.close()


def test_a_team_cannot_issue_an_order_for_another_state(workshops, facilitator, game):
    us = workshops.login(game.code(facilitator, "US"))
    _, rc = solara.render(SeatView(game, us, "US"), handle_error=False)
    rc.find(
        v.Textarea, label="Order as JSON"
    ).widget.v_model = '{"kind": "export_ban", "issuer": "CN", "commodities": ["magnet"]}'
    _click(rc, "Submit JSON order")
    assert _wait_for(lambda: "your code admits US only; this order is issued by CN" in _texts(rc))
    rc.find(v.Textarea, label="Order as JSON").widget.v_model = "{not json"
    _click(rc, "Submit JSON order")
    assert _wait_for(lambda: "order: not JSON" in _texts(rc))
    assert game.drafts_of(us, "US") == []
    rc.close()


def test_a_team_reads_its_briefing_and_its_intelligence(workshops, facilitator, game):
    jp = workshops.login(game.code(facilitator, "JP"))
    _, rc = solara.render(SeatView(game, jp, "JP"), handle_error=False)
    brief = game.world.spec.briefing
    assert brief.seats["JP"].role not in _texts(rc)
    side = next(w for w in rc.find(v.BtnToggle).widgets if len(w.children) == 4)
    side.v_model = 3  # Orders, Negotiation, Intelligence, Briefing
    assert _wait_for(lambda: brief.seats["JP"].role in _texts(rc))
    assert brief.seats["US"].role not in _texts(rc)  # each seat reads its own
    side.v_model = 2
    # One list item per line: a Markdown list needs the blank line before it.
    assert _wait_for(lambda: "<li>Spent this year" in _texts(rc))
    rc.close()


def test_every_browser_sees_the_new_turn_without_a_reload(workshops, facilitator, game):
    us = workshops.login(game.code(facilitator, "US"))
    _, rc = solara.render(SeatView(game, us, "US"), handle_error=False)
    assert game.presence.get("US") == 1  # the roster shows the team connected
    assert _wait_for(lambda: "turn 1" in _texts(rc))
    game.resolve(facilitator)  # from another session
    assert _wait_for(lambda: "turn 2" in _texts(rc), timeout=2.0)
    game.broadcast(facilitator, "Coffee break: ten minutes")
    assert _wait_for(lambda: "Coffee break" in _texts(rc), timeout=2.0)
    rc.close()
    assert _wait_for(lambda: game.presence.get("US") == 0)


def test_the_facilitator_creates_a_game_and_runs_it(workshops, facilitator):
    _, rc = solara.render(Console(workshops, facilitator), handle_error=False)
    _click(rc, "Create game")
    (game,) = workshops.list_games(facilitator)
    assert game.turn == 1 and "Resolve turn now" in str(rc.find(v.Btn).widgets)
    codes = [game.code(facilitator, s) for s in game.seats]
    assert _wait_for(lambda: all(code in _texts(rc) for code in codes))  # on the roster
    sheet = join_sheet(game, facilitator)
    assert all(code in sheet for code in codes) and sheet.startswith("<!doctype html>")
    rc.find(v.TextField, label="Message to every team").widget.v_model = "Welcome"
    _click(rc, "Broadcast")
    _click(rc, "Inject event")
    _click(rc, "Resolve turn now")
    assert game.turn == 2 and game.messages[-1]["text"] == "Welcome"
    assert any("injects an event" in h["text"] for h in game.history)
    _click(rc, "Undo last turn")
    assert game.turn == 1
    first = rc.find(v.Btn, children=["Hand to AI"]).widgets[0]
    first.click()  # the first team seat goes to its doctrine
    assert game.seats[0] not in game.teams
    _click(rc, "Make the PDF report")
    assert _wait_for(
        lambda: any("Save the PDF" in str(w.children) for w in rc.find(v.Btn).widgets), timeout=60
    ), _texts(rc)[-300:]
    rc.close()


def test_the_facilitator_vetoes_an_order_with_a_reason(workshops, facilitator, game):
    cn = workshops.login(game.code(facilitator, "CN"))
    draft = game.add_order(cn, "CN", {"kind": "export_ban", "commodities": ["magnet"]})
    _, rc = solara.render(Console(workshops, facilitator), handle_error=False)
    rc.find(v.Select, label="Game").widget.v_model = f"{game.name} ({game.id})"
    _click(rc, "Veto")
    assert _wait_for(lambda: "reason" in _texts(rc))  # a veto needs a logged reason
    rc.find(v.TextField, label="Reason (logged)").widget.v_model = "out of scope"
    _click(rc, "Veto")
    assert game.drafts_of(facilitator, "CN")[0].vetoed
    assert f"vetoes CN's order {draft.id}: out of scope" in game.history[-1]["text"]
    rc.close()


def test_the_facilitator_branches_the_game_without_changing_it(workshops, facilitator, game):
    import ipywidgets

    game.resolve(facilitator)
    before = game.world.results()
    _, rc = solara.render(Console(workshops, facilitator), handle_error=False)
    rc.find(v.Select, label="Game").widget.v_model = f"{game.name} ({game.id})"
    rc.find(v.TextField, label="Futures").widget.v_model = "3"
    rc.find(v.TextField, label="Months ahead").widget.v_model = "3"
    charts_before = len(rc.find(ipywidgets.Image).widgets)
    _click(rc, "Run futures")
    assert _wait_for(lambda: len(rc.find(ipywidgets.Image).widgets) > charts_before, timeout=60)
    assert game.world.results().equals(before) and game.turn == 2  # the live game is untouched
    rc.close()


def _signed_in_page(workshops, game, facilitator, region):
    """A team's page as the server mounts it for a browser session: its token and render."""
    token = workshops.new_session(workshops.login(game.code(facilitator, region)))
    cred = workshops.credential(token)
    page = Refusing(children=[SignedIn(workshops, cred, "<form class='logout'></form>")])
    _, rc = solara.render(page, handle_error=False)
    side = next(w for w in rc.find(v.BtnToggle).widgets if len(w.children) == 4)
    side.v_model = 2  # Intelligence: what only the seat may read
    assert _wait_for(lambda: "Spent this year" in _texts(rc))
    return token, rc


def test_a_page_goes_dark_the_moment_its_session_ends(workshops, facilitator, game):
    token, rc = _signed_in_page(workshops, game, facilitator, "JP")
    workshops.end_session(token)  # signed out in another tab of the same browser
    assert _wait_for(lambda: "Signed out" in _texts(rc), timeout=2.0)
    assert "Spent this year" not in _texts(rc) and "turn 1" not in _texts(rc)
    game.resolve(facilitator)  # no live update reaches it any more
    time.sleep(1.0)
    assert "turn 2" not in _texts(rc) and 'href="/join"' in _texts(rc)
    rc.close()


def test_handing_the_seat_to_ai_takes_the_teams_page_away(workshops, facilitator, game):
    _token, rc = _signed_in_page(workshops, game, facilitator, "JP")
    game.set_team(facilitator, "JP", False)
    assert _wait_for(lambda: "Signed out" in _texts(rc), timeout=2.0)
    assert "Spent this year" not in _texts(rc)
    rc.close()


def test_crafted_widget_values_get_a_refusal_not_a_traceback(workshops, facilitator, game, caplog):
    jp = workshops.login(game.code(facilitator, "JP"))
    box, rc = solara.render(Refusing(children=[SeatView(game, jp, "JP")]), handle_error=True)
    side = next(w for w in rc.find(v.BtnToggle).widgets if len(w.children) == 4)
    side.v_model = 99  # a toggle index no button has
    assert _wait_for(lambda: "That request was refused" in _texts(rc))
    assert _wait_for(lambda: any(len(w.children) == 6 for w in rc.find(v.BtnToggle).widgets))
    tabs = next(w for w in rc.find(v.BtnToggle).widgets if len(w.children) == 6)
    tabs.v_model = 1  # Stocks: its commodity menu
    assert _wait_for(lambda: rc.find(v.Select, label="Commodity").widgets)
    rc.find(v.Select, label="Commodity").widget.v_model = {"__class__": "magnet"}
    assert _wait_for(lambda: len([r for r in caplog.records if "refused" in r.msg]) >= 2)
    shown = [getattr(w, "value", "") for w in box.children] + [_texts(rc)]
    assert not any("Traceback" in str(text) for text in shown)
    # The panels are unmounted for one render and mounted afresh: wait for the remount.
    assert _wait_for(lambda: any(len(w.children) == 4 for w in rc.find(v.BtnToggle).widgets))
    side = next(w for w in rc.find(v.BtnToggle).widgets if len(w.children) == 4)
    side.v_model = 2  # and the page goes on working
    assert _wait_for(lambda: "Spent this year" in _texts(rc))
    rc.close()


def test_other_seats_stockpiles_stay_secret_in_the_news(workshops, facilitator, game):
    jp = workshops.login(game.code(facilitator, "JP"))
    game.add_order(jp, "JP", {"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 500,
                              "months": 3})  # fmt: skip
    game.resolve(facilitator)
    own = " ".join(news(game.world, "JP").text)
    theirs = " ".join(news(game.world, "US").text)
    assert "Japan buys 500 t of magnet for its stockpile over 3 months" in own
    assert "500 t of magnet" not in theirs and "Japan buys" not in theirs
    assert "Japan's stockpile agency is buying magnet" in theirs
    assert "Japan buys 500 t" in " ".join(news(game.world).text)  # the facilitator sees all


def test_a_page_goes_dark_when_its_session_expires(workshops, facilitator, game):
    _token, rc = _signed_in_page(workshops, game, facilitator, "US")
    day = SESSION_MAX_AGE_S + 1
    workshops.store._write([("UPDATE sessions SET created = created - ?", (day,))])  # a day on
    assert _wait_for(lambda: "Signed out" in _texts(rc), timeout=2.0)
    assert "Spent this year" not in _texts(rc)
    rc.close()

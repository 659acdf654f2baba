"""Browser test of the negotiation panel in a single-player game of alliance-vs-tariffs-2025,
played as the US: China's AI seat proposes deals, and the open panel shows each proposal, each
answer and each deal's status as they happen, without a tab switch or a reload (the fixtures
are tests/test_app_browser.py's)."""

import pytest
from test_app_browser import Tab, chrome, server  # noqa: F401  (fixtures)

from play.session import GameSession


@pytest.fixture
def game_tab(chrome, server):  # noqa: F811
    t = Tab(chrome, server)
    yield t
    t.close()


def _proposals(months: int) -> dict[int, list[str]]:
    """China's proposals to the US, by the month they reach the inbox, in the game the browser
    plays (the start screen's defaults and a 50% magnet tariff on China from the first turn;
    every proposal is rejected), played without a browser: the same world (deterministic)."""
    game = GameSession("alliance-vs-tariffs-2025", seed=0, seat="US")
    tariff = {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.5}
    assert game.submit(tariff).status == "pending"
    seen = {}
    while game.month < months:
        game.end_turn()
        inbox = game.inbox()
        if inbox:
            seen[game.month] = [d.id for d in inbox]
        for deal in inbox:
            game.submit({"kind": "respond_deal", "deal_id": deal.id, "action": "reject"})
    return seen


def _status(panel, status: str) -> None:
    """Wait until the deals table shows a deal of ``status``."""
    panel.locator(".deals-table").get_by_text(status, exact=True).first.wait_for()


def test_the_inbox_shows_chinas_proposals_and_the_answers_as_they_happen(game_tab):
    tab = game_tab
    tab.start()
    tab.set_rate("0.5").wait_for()  # a 50% tariff on China's magnets: something to bargain on
    tab.page.get_by_role("button", name="Negotiation", exact=True).click()
    panel = tab.page.locator(".deals-panel")
    panel.get_by_text("Inbox (0)").wait_for()
    panel.get_by_text("No deals yet.").wait_for()
    tab.end_turn(3)
    tab.end_turn(6)
    # The proposal arrives while the panel is open: no tab switch, no reload.
    panel.get_by_text("Inbox (1)").wait_for()
    offer = panel.locator(".inbox-deal").first
    offer.get_by_text("deal-1 from CN: China offers to ease its export licences").wait_for()
    assert panel.get_by_text("No deals yet.").count() == 0
    _status(panel, "proposed")

    # Rejecting shows at once: the answer waits for the turn's end, in the inbox itself.
    offer.get_by_role("button", name="Reject").click()
    panel.get_by_text("Your answer to deal-1: reject").wait_for()
    assert offer.get_by_role("button", name="Accept").count() == 0
    tab.end_turn(9)
    panel.get_by_text("Inbox (0)").wait_for()
    _status(panel, "rejected")

    # China proposes again once its cool-down is over; accepting it shows at once too.
    month = min(m for m in _proposals(24) if m > 6)
    while f"month {month}/" not in tab.clock():
        tab.end_turn(int(tab.clock().split("month ")[1].split("/")[0]) + 3)
    panel.get_by_text("Inbox (1)").wait_for()
    offer = panel.locator(".inbox-deal").first
    deal_id = offer.inner_text().split(" from ")[0].strip()
    assert deal_id != "deal-1"
    offer.get_by_role("button", name="Accept").click()
    panel.get_by_text(f"Your answer to {deal_id}: accept").wait_for()
    tab.end_turn(month + 3)
    panel.get_by_text("Inbox (0)").wait_for()
    _status(panel, "active")
    assert tab.errors == [], tab.errors

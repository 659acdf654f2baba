"""The after-action report: decisions by seat, deals, objectives, figures, escaping, bundle."""

from __future__ import annotations

import html
import io
import re
import zipfile
from functools import cache

import pandas as pd
import pytest

from ui.workshop.report import (
    ReportError,
    after_action_report,
    report_bundle,
    report_pdf,
    timeline,
)
from world import World, load_scenario

SCENARIO = "alliance-vs-tariffs-2025"
SEATS = {"US": "team", "CN": "AI: coercive-retaliator", "JP": "team"}
MALICIOUS = "<script>alert('x')</script>"
FACILITATOR_LOG = [
    {"month": 3, "date": "2025-04", "actor": "facilitator", "text": f"veto: {MALICIOUS}"},
    {"month": 6, "date": "2025-07", "actor": "facilitator", "text": "broadcast: markets calm"},
]


@cache
def game() -> World:
    """A short game: the US team tariffs, is rejected once, and proposes a deal to China."""
    world = World(SCENARIO, seed=3, human_seats=frozenset({"US", "JP"}))
    world.run(3)
    tariff = {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"], "rate": 0.1}
    assert world.submit({**tariff, "note": MALICIOUS}, seat="US").status == "pending"
    bad = {**tariff, "rate": -1, "note": MALICIOUS}
    assert world.submit(bad, seat="US").status == "rejected"
    jp = {"kind": "import_tariff", "issuer": "JP", "commodities": ["metal"], "rate": 0.05}
    assert world.submit(jp, seat="JP").status == "pending"
    deal = {
        "kind": "propose_deal",
        "issuer": "US",
        "recipients": ["CN"],
        "commitments": [
            {"kind": "lift", "issuer": "US", "measure": "import_tariff", "commodities": ["magnet"]}
        ],
        "duration_months": 6,
    }
    assert world.submit(deal, seat="US").status == "pending"
    world.run(6)
    return world


@cache
def page() -> str:
    return after_action_report(
        game(), title="Workshop <1>", seats=SEATS, facilitator_log=FACILITATOR_LOG
    )


def test_report_has_each_seats_decisions_by_turn():
    text = page()
    orders = game().orders()
    assert {"US", "JP", "CN"} <= set(orders["issuer"])
    # the teams' orders and the AI's answer at month 3 (turn 2), the facilitator at month 6
    assert "<h3>Turn 2 (2025-04)</h3>" in text and "<h3>Turn 3 (2025-07)</h3>" in text
    for seat in ("US", "JP", "CN"):
        assert f"<td>{seat}</td>" in text
    assert "<td>team</td>" in text and "AI: coercive-retaliator" in text
    assert "REJECTED" in text and 'class="rejected"' in text
    assert "broadcast: markets calm" in text


def test_report_has_deal_objectives_and_images():
    text = page()
    assert "deal-1" in text
    assert "Deals made and broken" in text
    assert "Objectives at the end" in text and "<td>score</td>" in text
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', text)) == 5
    assert 'download="orders.csv"' in text and 'download="results.parquet"' in text
    assert "Questions for the debrief" in text
    for question in load_scenario(SCENARIO).briefing.debrief_questions:
        assert f"<li>{html.escape(question)}</li>" in text


def test_report_has_no_external_resources_and_escapes_text():
    text = page()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "<script" not in text
    assert text.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 3  # 2 notes, 1 veto
    assert "Workshop &lt;1&gt;" in text


def test_bundle_holds_the_files_and_the_results_read_back():
    world = game()
    blob = report_bundle(world, title="w", seats=SEATS, facilitator_log=FACILITATOR_LOG)
    archive = zipfile.ZipFile(io.BytesIO(blob))
    names = set(archive.namelist())
    assert names == {"report.html", "results.csv", "results.parquet", "orders.csv", "news.csv"}
    back = pd.read_parquet(io.BytesIO(archive.read("results.parquet")))
    pd.testing.assert_frame_equal(back, world.results())
    orders = pd.read_csv(io.BytesIO(archive.read("orders.csv")))
    assert len(orders) == len(world.orders())
    assert archive.read("report.html").decode().startswith("<!doctype html>")


def test_the_report_prints_to_pdf_without_its_dead_data_links():
    pdf = report_pdf(page())  # Debian's Chromium, as the browser tests use
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 3  # five figures do not fit on two
    assert b"/URI" not in pdf  # the data: links (useless on paper) are left out when printing


def test_a_pdf_without_a_browser_or_with_a_failing_one_says_why(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ReportError, match=r"no Chromium on this machine .* print it to PDF"):
        report_pdf(page())
    with pytest.raises(ReportError, match=r"/bin/false printed nothing \(exit 1\)"):
        report_pdf(page(), browser="/bin/false")


def test_the_timeline_marks_what_an_undo_took_back(workshops, facilitator, game):
    jp = workshops.login(game.code(facilitator, "JP"))
    game.broadcast(facilitator, "turn 1 begins")
    game.resolve(facilitator)
    game.broadcast(facilitator, "said in the turn that is undone")
    game.undo(facilitator)
    events = timeline(game.snapshot(facilitator), game.history + game.messages)
    console = events[events["source"] == "console"].set_index("message")
    resolved = console.loc["Turn 1 resolved (forced by the facilitator)"]
    assert (resolved["seat"], resolved["kind"], resolved["status"]) == (
        "facilitator", "resolve", "undone"
    )  # fmt: skip
    assert console.loc["said in the turn that is undone", "status"] == "undone"
    assert console.loc["turn 1 begins", "status"] == ""  # before the undone resolution
    assert console.loc["turn 1 begins", "kind"] == "broadcast"
    page = after_action_report(
        game.snapshot(facilitator), title="g", seats={"JP": "team"},
        facilitator_log=game.history + game.messages,
    )  # fmt: skip
    assert '<td class="status">UNDONE</td>' in page
    # A resolution set off by the last team to submit is that team's act, not the console's.
    game.add_order(jp, "JP", {"kind": "defense_priority"})
    for seat in game.teams:
        game.submit_turn(workshops.login(game.code(facilitator, seat)), seat)
    last = timeline(game.snapshot(facilitator), game.history).iloc[-1]
    assert last["kind"] == "resolve" and last["seat"] in game.teams

"""Workshop games without a browser: who may do what, turns, the facilitator, restarts."""

import json
import re
import sqlite3
import threading
import time

import pytest
from workshop_setup import KEY, SCENARIO

from play.room import (
    CODE_ALPHABET,
    Credential,
    Refused,
    WorkshopError,
    Workshops,
    normalise_code,
)
from play.store import Store, StoreError
from ui.workshop.views import join_sheet
from world import World, load_scenario

TARIFF = {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.25}


def seat(workshops, game, facilitator, region) -> Credential:
    return workshops.login(game.code(facilitator, region))


def test_codes_are_unguessable_and_admit_one_seat(workshops, facilitator, game):
    codes = {s: game.code(facilitator, s) for s in game.seats}
    assert len(set(codes.values())) == len(codes)
    for region, code in codes.items():
        assert len(code.replace("-", "")) == 12 and set(code) <= set(CODE_ALPHABET + "-")
        # Typed loosely (lower case, spaces) it still admits exactly that seat of that game.
        cred = workshops.login(code.lower().replace("-", " "))
        if region in game.teams:
            assert (cred.role, cred.game_id, cred.seat) == ("seat", game.id, region)
        else:  # a seat played by a doctrine admits nobody until handed to a team
            assert cred is None
    assert workshops.login("AAAA-AAAA-AAAA") is None
    assert workshops.login("") is None
    assert workshops.login(KEY).facilitator
    assert normalise_code("ab cd-efgh ijkl") == "ABCD-EFGH-IJKL"
    assert KEY not in repr(workshops.login(KEY)) and codes["US"] not in repr(
        workshops.login(codes["US"])
    )


def test_sessions_survive_a_restart_and_store_no_token(tmp_path, workshops, facilitator, game):
    us = seat(workshops, game, facilitator, "US")
    token = workshops.new_session(us)
    assert workshops.credential(token) == us
    assert workshops.credential("forged") is None and workshops.credential(None) is None
    workshops.close()
    again = Workshops(tmp_path, KEY, clock_s=0)
    assert again.credential(token) == us
    rows = sqlite3.connect(tmp_path / "workshop.sqlite").execute("SELECT * FROM sessions")
    assert token not in str(rows.fetchall())
    boss = again.new_session(again.login(KEY))
    assert again.credential(boss).facilitator
    again.end_session(token)
    assert again.credential(token) is None
    again.close()
    # Restarted with another key, the old facilitator sessions open nothing; a team's still do.
    other = Workshops(tmp_path, "another-facilitator-key", clock_s=0)
    team = other.new_session(us)
    assert other.credential(boss) is None and other.credential(team) == us
    other.close()


def test_a_team_cannot_act_for_another_seat_or_as_facilitator(workshops, facilitator, game):
    us = seat(workshops, game, facilitator, "US")
    cn = seat(workshops, game, facilitator, "CN")
    game.add_order(cn, "CN", {"kind": "export_ban", "commodities": ["magnet"], "partners": ["US"]})
    attempts = [
        lambda: game.add_order(us, "CN", {"kind": "export_ban", "commodities": ["magnet"]}),
        lambda: game.add_order(
            us, "US", {"kind": "export_ban", "issuer": "CN", "commodities": ["magnet"]}
        ),
        lambda: game.drafts_of(us, "CN"),
        lambda: game.withdraw(us, "CN", game.drafts_of(cn, "CN")[0].id),
        lambda: game.submit_turn(us, "CN"),
        lambda: game.resolve(us),
        lambda: game.veto(us, "CN", 1, "no"),
        lambda: game.edit(us, "CN", 1, TARIFF, "no"),
        lambda: game.set_team(us, "EU", True),
        lambda: game.inject_event(
            us, {"id": "x", "kind": "announcement", "date": game.date(), "region": "US"}
        ),
        lambda: game.broadcast(us, "hello"),
        lambda: game.pause(us, True),
        lambda: game.set_timer(us, 60),
        lambda: game.undo(us),
        lambda: game.code(us, "CN"),
        lambda: game.roster(us),
        lambda: workshops.create_game(us, SCENARIO, teams=["US"]),
        lambda: workshops.list_games(us),
    ]
    for attempt in attempts:
        with pytest.raises(Refused):
            attempt()
    # Nothing changed: China's order is intact and nobody submitted.
    assert len(game.drafts_of(cn, "CN")) == 1 and game.waiting_for() == ["US", "CN", "JP"]
    # A code of another game admits nothing in this one.
    other = workshops.create_game(facilitator, SCENARIO, teams=["US"])
    stranger = workshops.login(other.code(facilitator, "US"))
    with pytest.raises(Refused):
        workshops.game(stranger, game.id)
    with pytest.raises(Refused):
        game.add_order(stranger, "US", TARIFF)


def test_bad_orders_are_explained_and_not_stored(workshops, facilitator, game):
    us = seat(workshops, game, facilitator, "US")
    with pytest.raises(WorkshopError, match="commodity: unknown commodity 'unobtainium'"):
        game.add_order(us, "US", {**TARIFF, "commodities": ["unobtainium"]})
    with pytest.raises(WorkshopError, match="rate"):
        game.add_order(us, "US", {**TARIFF, "rate": -0.1})
    with pytest.raises(WorkshopError, match="seat: unknown seat 'XX'"):
        game.drafts_of(facilitator, "XX")
    assert game.drafts_of(us, "US") == []
    assert game.store.inputs(game.id) == []


def test_the_turn_resolves_when_every_team_has_submitted(workshops, facilitator, game):
    creds = {r: seat(workshops, game, facilitator, r) for r in ("US", "CN", "JP")}
    draft = game.add_order(creds["US"], "US", TARIFF)
    game.submit_turn(creds["US"], "US")
    game.submit_turn(creds["CN"], "CN")
    assert game.turn == 1 and game.waiting_for() == ["JP"]
    # Drafting again takes the submission back.
    extra = game.add_order(creds["US"], "US", {**TARIFF, "partners": ["MM"], "rate": 0.1})
    game.withdraw(creds["US"], "US", extra.id)
    assert game.waiting_for() == ["US", "JP"]
    game.submit_turn(creds["US"], "US")
    game.submit_turn(creds["JP"], "JP")
    assert game.turn == 2 and game.world.month == game.spec.turn_months
    applied = game.world.orders()
    tariff = applied[(applied.issuer == "US") & (applied.kind == "import_tariff")]
    assert list(tariff.status) == ["applied"] and tariff.iloc[0].source == "team:US"
    assert game.drafts_of(creds["US"], "US") == [] and draft.id > 0


def test_facilitator_vetoes_edits_injects_and_broadcasts(workshops, facilitator, game):
    us = seat(workshops, game, facilitator, "US")
    cn = seat(workshops, game, facilitator, "CN")
    vetoed = game.add_order(cn, "CN", {"kind": "export_ban", "commodities": ["magnet"]})
    edited = game.add_order(us, "US", TARIFF)
    with pytest.raises(WorkshopError, match="reason"):
        game.veto(facilitator, "CN", vetoed.id, "  ")
    game.veto(facilitator, "CN", vetoed.id, "not in this exercise")
    game.edit(facilitator, "US", edited.id, {**TARIFF, "rate": 0.1}, "the rules cap tariffs at 10%")
    with pytest.raises(WorkshopError, match=r"event\.region: unknown region .ZZ."):
        game.inject_event(facilitator, {"id": "e", "kind": "demand_shock", "date": game.date(),
                                        "region": "ZZ", "share": 0.2})  # fmt: skip
    game.inject_event(
        facilitator,
        {"id": "seize", "kind": "capacity_shock", "date": game.date(), "region": "MM",
         "stage": "mine", "share": -1.0, "months": 6, "note": "Rebels seize Myanmar's mines"},
    )  # fmt: skip
    game.broadcast(facilitator, "Ten minutes to the end of the turn")
    game.resolve(facilitator)
    table = game.world.orders()
    assert not ((table.issuer == "CN") & (table.kind == "export_ban")).any()
    rate = table[(table.issuer == "US") & (table.kind == "import_tariff")].parameters.iloc[0]
    assert '"rate": 0.1' in rate
    mm_mines = game.world.recorder.array("production")[:, game.world.commodity_index["concentrate"],
                                                       game.world.region_index["MM"]]  # fmt: skip
    assert mm_mines.max() == 0.0  # every month of the turn: seized
    texts = " ".join(h["text"] for h in game.history)
    assert "not in this exercise" in texts and "cap tariffs at 10%" in texts
    assert "Rebels seize Myanmar's mines" in texts
    assert game.messages[0]["text"] == "Ten minutes to the end of the turn"


def test_undo_and_seat_switching(workshops, facilitator, game):
    us = seat(workshops, game, facilitator, "US")
    game.add_order(us, "US", TARIFF)
    with pytest.raises(WorkshopError, match="undo"):
        game.undo(facilitator)
    game.resolve(facilitator)
    after = game.world.results()
    game.undo(facilitator)
    assert game.turn == 1 and game.world.month == 0
    assert [d.order["rate"] for d in game.drafts_of(us, "US")] == [0.25]  # drafts again
    game.resolve(facilitator)
    assert game.world.results().equals(after)
    # A doctrine takes over the US; the team can no longer draft; then it comes back.
    game.set_team(facilitator, "US", False, "tariff-hawk")
    assert "US" not in game.teams and game.world.doctrines["US"].name == "tariff-hawk"
    with pytest.raises(Refused, match="doctrine"):
        game.add_order(us, "US", TARIFF)
    with pytest.raises(WorkshopError, match="doctrine"):
        game.set_team(facilitator, "US", False, "no-such-doctrine")
    game.set_team(facilitator, "US", True)
    game.add_order(us, "US", TARIFF)


def test_timer_and_pause(workshops, facilitator, game):
    with pytest.raises(WorkshopError, match="seconds"):
        game.set_timer(facilitator, 3)
    before = time.time()
    game.set_timer(facilitator, 60)
    assert before + 60 <= game.deadline <= time.time() + 60  # however slow the machine
    assert game.seconds_left(game.deadline - 60) == 60
    game.tick(game.deadline - 1)
    assert game.turn == 1
    game.pause(facilitator, True)
    assert game.seconds_left() is None
    game.tick(game.deadline + 1)
    assert game.turn == 1  # paused: the timer does not resolve
    game.pause(facilitator, False)
    game.deadline -= 61  # as if a minute had passed
    game.tick(time.time())
    assert game.turn == 2 and "timer" in game.history[-1]["text"]


def test_a_restarted_server_resumes_every_game_exactly(tmp_path, workshops, facilitator, game):
    us = seat(workshops, game, facilitator, "US")
    cn = seat(workshops, game, facilitator, "CN")
    game.add_order(us, "US", TARIFF)
    game.resolve(facilitator)
    game.inject_event(facilitator, {"id": "demand", "kind": "demand_shock", "date": game.date(),
                                    "region": "US", "sector": "ev", "share": 0.3})  # fmt: skip
    game.set_team(facilitator, "JP", False)
    game.resolve(facilitator)
    pending = game.add_order(cn, "CN", {"kind": "export_ban", "commodities": ["magnet"]})
    game.submit_turn(cn, "CN")
    results, orders = game.world.results(), game.world.orders()
    workshops.close()  # as if killed: every input was committed when acknowledged

    again = Workshops(tmp_path, KEY, clock_s=0)
    resumed = again.game(again.login(KEY), game.id)
    assert resumed.turn == 3 and resumed.world.results().equals(results)
    assert resumed.world.orders().equals(orders)
    assert [d.id for d in resumed.drafts_of(cn, "CN")] == [pending.id]
    assert resumed.waiting_for() == ["US"] and "JP" not in resumed.teams
    # Both go on identically (the doctrines' memory was rebuilt too).
    resumed.resolve(again.login(KEY))
    assert resumed.world.month == 9
    # And a replay from scenario, seed and the logged orders reproduces the results.
    replay = World.replay(
        game.spec,
        game.record.seed,
        resumed.world.orders(),
        events=resumed.world.injected_events(),
    )
    replay.run(resumed.world.month)
    assert replay.results().equals(resumed.world.results())
    again.close()


def test_bad_data_and_bad_settings_are_explained(tmp_path, facilitator, workshops):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "workshop.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable workshop database"):
        Store(broken / "workshop.sqlite")
    with pytest.raises(WorkshopError, match="facilitator key"):
        Workshops(tmp_path / "x", "short")
    with pytest.raises(WorkshopError, match="teams: unknown seat"):
        workshops.create_game(facilitator, SCENARIO, teams=["US", "Atlantis"])
    with pytest.raises(WorkshopError, match="scenario"):
        workshops.create_game(facilitator, "no-such-scenario", teams=["US"])
    assert load_scenario(SCENARIO).seats  # the bundled scenario has seats to play


#: Malformed input of every kind a page, a script or a slip could send: (call, message).
MALFORMED = [
    (lambda g, f, us: g.set_timer(f, 10**400), "seconds: a turn timer is a whole number"),
    (lambda g, f, us: g.set_timer(f, "60"), "seconds: a turn timer is a whole number"),
    (lambda g, f, us: g.add_order(us, "US", {**TARIFF, "issuer": ["US"]}), "issuer: a state's"),
    (lambda g, f, us: g.add_order(us, ["US"], TARIFF), "seat: unknown seat"),
    (lambda g, f, us: g.add_order(us, "US", ["not", "a", "table"]), "order: expected a table"),
    (lambda g, f, us: g.add_order(us, "US", {**TARIFF, "rate": 1e308}), "rate"),
    (
        lambda g, f, us: g.add_order(
            us, "US", {"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 1e308}
        ),
        "tonnes",
    ),
    (lambda g, f, us: g.withdraw(us, "US", "abc"), "draft: an order's number"),
    (lambda g, f, us: g.withdraw(us, "US", 1.5), "draft: an order's number"),
    (lambda g, f, us: g.veto(f, "US", None, "why"), "draft: an order's number"),
    (lambda g, f, us: g.set_team(f, "US", "false"), "team: true or false"),
    (lambda g, f, us: g.set_team(f, "US", False, ["hedger"]), "doctrine: a doctrine's name"),
    (lambda g, f, us: g.pause(f, "false"), "paused: true or false"),
    (lambda g, f, us: g.broadcast(f, None), "text: a message"),
    (lambda g, f, us: g.inject_event(f, "a mine accident"), "event: expected a table"),
    (lambda g, f, us: g.inject_event(f, {**EVENT, "date": "1990-01"}), "is in the past"),
    (lambda g, f, us: g.inject_event(f, {**EVENT, "date": "9999-12"}), "after the game's last"),
    (lambda g, f, us: g.inject_event(f, {**EVENT, "months": 10**400}), "event.months: must be"),
    (
        lambda g, f, us: g.inject_event(f, {**EVENT, "colour": "red"}),
        "event.colour: unknown key 'colour'; allowed keys: id, kind, date",
    ),
]
EVENT = {"id": "accident", "kind": "capacity_shock", "date": "2025-04", "region": "AU",
         "stage": "mine", "share": -0.5, "months": 6}  # fmt: skip
BAD_GAMES = [
    ({"turn_months": 10**6}, "turn_months: a whole number of months from 1 to 24"),
    ({"turn_months": 0}, "turn_months: a whole number of months from 1 to 24"),
    ({"seed": 2**63}, "seed: a whole number from 0 to"),
    ({"seed": "7"}, "seed: a whole number from 0 to"),
    ({"name": 5}, "name: text"),
    ({"teams": None}, "teams: a list of seats"),
    ({"teams": [["US"]]}, "teams: a list of seats"),
]


@pytest.mark.parametrize("index", range(len(MALFORMED)))
def test_malformed_input_is_named_refused_and_never_stored(tmp_path, workshops, facilitator,
                                                           game, index):  # fmt: skip
    us = seat(workshops, game, facilitator, "US")
    call, message = MALFORMED[index]
    before = game.store.inputs(game.id)
    with pytest.raises(WorkshopError, match=re.escape(message)):
        call(game, facilitator, us)
    assert game.store.inputs(game.id) == before and game.world.month == 0
    workshops.close()
    again = Workshops(tmp_path, KEY, clock_s=0)  # the game still opens
    assert list(again.games) == [game.id] and not again.broken
    again.close()


@pytest.mark.parametrize(("settings", "message"), BAD_GAMES)
def test_a_malformed_new_game_is_refused_and_never_stored(tmp_path, workshops, facilitator,
                                                          settings, message):  # fmt: skip
    with pytest.raises(WorkshopError, match=re.escape(message)):
        workshops.create_game(facilitator, SCENARIO, **{"teams": ["US"], **settings})
    assert workshops.list_games(facilitator) == []
    workshops.close()
    assert not Workshops(tmp_path, KEY, clock_s=0).games


def test_an_open_page_cannot_act_once_its_session_has_ended(workshops, facilitator, game):
    token = workshops.new_session(workshops.login(game.code(facilitator, "US")))
    us = workshops.credential(token)  # what the page holds while it stays open
    game.add_order(us, "US", TARIFF)
    boss = workshops.credential(workshops.new_session(facilitator))
    game.broadcast(boss, "hello")
    workshops.end_session(token)  # signed out in another tab (or expired)
    with pytest.raises(Refused, match="your session has ended"):
        game.add_order(us, "US", TARIFF)
    with pytest.raises(Refused, match="your session has ended"):
        game.submit_turn(us, "US")
    assert len(game.drafts_of(facilitator, "US")) == 1 and "US" not in game.submitted
    game.broadcast(boss, "the facilitator's own session is still open")


def test_every_state_of_any_scenario_is_a_seat(workshops, facilitator):
    """Scenarios without a [seats] table (the historical ones) are playable in a workshop too:
    every state gets a seat, passive unless handed to a team or a doctrine."""
    spec = load_scenario("quota-2010")
    assert not spec.seats
    game = workshops.create_game(facilitator, "quota-2010", teams=["US", "JP"])
    assert game.seats == [s.region for s in spec.states]
    assert game.teams == {"US", "JP"} and game.world.doctrines["CN"].name == "passive"
    us = seat(workshops, game, facilitator, "US")
    game.add_order(us, "US", {**TARIFF, "rate": 0.1})
    game.set_team(facilitator, "US", False, "tariff-hawk")  # the team leaves mid-turn
    assert (
        game.drafts_of(facilitator, "US") == []
        and "1 draft order(s) are withdrawn" in (game.history[-1]["text"])
    )
    game.set_team(facilitator, "CN", False, "coercive-retaliator")
    game.resolve(facilitator)
    assert not (game.world.orders()["source"] == "team:US").any()
    assert game.world.doctrines["US"].name == "tariff-hawk"
    assert game.world.doctrines["CN"].name == "coercive-retaliator"
    # The alliance scenario's own seat order (the doctrines' play order) is kept.
    alliance = workshops.create_game(facilitator, SCENARIO, teams=["US"])
    assert alliance.seats == list(load_scenario(SCENARIO).seats)


def told(world, seat) -> str:
    """Everything ``seat``'s news feed says (None: the facilitator's)."""
    from play.session import news

    return "\n".join(news(world, seat)["text"])


def test_two_teams_make_a_deal_across_turns(workshops, facilitator, game):
    from play.session import inbox

    us = seat(workshops, game, facilitator, "US")
    cn = seat(workshops, game, facilitator, "CN")
    game.add_order(us, "US", TARIFF)
    game.resolve(facilitator)
    lift_us = {
        "kind": "lift",
        "issuer": "US",
        "measure": "import_tariff",
        "commodities": ["magnet"],
    }
    lift_cn = {"kind": "export_licence", "issuer": "CN", "commodities": ["oxide_heavy"],
               "approval_share": 0.9}  # fmt: skip
    proposal = {"kind": "propose_deal", "recipients": ["US"], "duration_months": 12}
    game.add_order(cn, "CN", {**proposal, "commitments": [lift_us, lift_cn]})
    game.resolve(facilitator)
    (offer,) = inbox(game.world, "US")  # the US team's inbox, a turn later
    assert offer.proposer == "CN"
    # The talks are the parties' business: a third seat's news and deal table do not show them.
    said = f"proposes {offer.id}"
    assert said in told(game.world, "US") and said in told(game.world, "CN")
    assert said in told(game.world, None)  # the facilitator sees everything
    assert offer.id not in told(game.world, "JP") and not offer.visible_to("JP")
    game.add_order(us, "US", {"kind": "respond_deal", "deal_id": offer.id, "action": "accept"})
    game.resolve(facilitator)
    deal = game.world.desk.diplomacy.deals[offer.id]
    assert deal.status == "active"
    # An agreement is public; how it was reached stays private.
    assert f"{offer.id} agreed by CN, US" in told(game.world, "JP") and deal.visible_to("JP")
    assert said not in told(game.world, "JP") and said in told(game.world, "US")
    table = game.world.orders()
    assert ((table.status == "committed") & (table.issuer == "US") & (table.kind == "lift")).any()


def test_a_game_that_no_longer_replays_does_not_close_the_others(tmp_path, workshops, facilitator):
    good = workshops.create_game(facilitator, SCENARIO, teams=["US"])
    bad = workshops.create_game(facilitator, SCENARIO, teams=["US"])
    bad.store.add_input(bad.id, "no-such-input", "facilitator", {})
    workshops.close()
    again = Workshops(tmp_path, KEY, clock_s=0)
    assert list(again.games) == [good.id]
    assert "input kind: unknown 'no-such-input'" in again.broken[bad.id]
    again.close()


def _session(workshops, game, facilitator, region) -> tuple[str, Credential]:
    """A browser's session for ``region``: its token and the credential its page holds."""
    token = workshops.new_session(seat(workshops, game, facilitator, region))
    return token, workshops.credential(token)


def test_handing_a_seat_to_ai_ends_its_sessions(workshops, facilitator, game):
    token, jp = _session(workshops, game, facilitator, "JP")
    _other, us = _session(workshops, game, facilitator, "US")
    code = game.code(facilitator, "JP")
    game.set_team(facilitator, "JP", False)
    assert not jp.alive() and workshops.credential(token) is None
    with pytest.raises(Refused):
        game.add_order(jp, "JP", TARIFF)
    assert workshops.login(code) is None  # a doctrine's seat admits nobody
    assert us.alive()  # the other seats' sessions are untouched


def test_handing_a_seat_to_a_team_rotates_its_code(tmp_path, workshops, facilitator, game):
    token, jp = _session(workshops, game, facilitator, "JP")
    old = game.code(facilitator, "JP")
    game.set_team(facilitator, "JP", False)
    game.set_team(facilitator, "JP", True)  # handed to another team
    new = game.code(facilitator, "JP")
    assert new != old and len(new.replace("-", "")) == 12
    assert workshops.login(old) is None and workshops.credential(token) is None
    with pytest.raises(Refused, match="your session has ended"):
        game.submit_turn(jp, "JP")
    assert workshops.login(new).seat == "JP"
    assert old not in join_sheet(game, facilitator) and new in join_sheet(game, facilitator)
    # a team seat handed to a team again (a straight swap) rotates too, and all of it persists
    _t, again = _session(workshops, game, facilitator, "JP")
    game.set_team(facilitator, "JP", True)
    newest = game.code(facilitator, "JP")
    assert newest != new and not again.alive()
    workshops.close()
    reopened = Workshops(tmp_path, KEY, clock_s=0)
    assert reopened.login(newest).seat == "JP" and reopened.login(new) is None
    reopened.close()


def test_ten_browsers_submit_while_the_facilitator_resolves_and_undoes(tmp_path, facilitator):
    """10 team sessions (2 per seat) each draft an order, then submit within the same moment
    while the facilitator resolves; then two facilitator sessions undo and resolve at once.
    No acknowledged order is lost or applied twice, and the game rebuilt from the database is
    the live one."""
    room = Workshops(tmp_path, KEY, clock_s=0)
    boss = room.login(KEY)
    game = room.create_game(boss, SCENARIO, teams=["US", "CN", "JP", "EU", "AU"], seed=5)
    sessions = [(s, _session(room, game, boss, s)[1]) for s in game.seats for _ in range(2)]
    assert len(sessions) == 10
    rates = {}
    for i, (region, cred) in enumerate(sessions):
        partner = "AU" if region != "AU" else "CN"
        rate = round(0.01 * (i + 1), 2)
        draft = game.add_order(cred, region, {**TARIFF, "partners": [partner], "rate": rate})
        rates[rate] = (region, draft.id)  # acknowledged: its id came back
    bosses = [room.credential(room.new_session(boss)) for _ in range(2)]
    start = threading.Barrier(11)
    errors: list[BaseException] = []

    def run(action):
        start.wait()
        try:
            action()
        except (Refused, WorkshopError):
            pass  # e.g. a submission after the turn resolved on its own
        except BaseException as exc:  # anything else is a bug
            errors.append(exc)

    actions = [lambda r=r, c=c: game.submit_turn(c, r) for r, c in sessions]
    actions.append(lambda: game.resolve(bosses[0]))
    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors

    def applied(world) -> list[float]:
        orders = world.orders()
        mine = orders[orders["source"].str.startswith("team:")]
        return sorted(json.loads(p)["rate"] for p in mine["parameters"])

    assert applied(game.world) == sorted(rates)  # each once: none lost, none twice
    turn = game.turn
    start = threading.Barrier(2)
    both = (lambda: game.undo(bosses[0]), lambda: game.resolve(bosses[1]))
    threads = [threading.Thread(target=run, args=(a,)) for a in both]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and game.turn == turn  # one step back and one forward, in either order
    assert applied(game.world) == sorted(rates)
    live = game.world.results()
    room.close()
    again = Workshops(tmp_path, KEY, clock_s=0)
    rebuilt = again.game(again.login(KEY), game.id)
    assert rebuilt.turn == turn and rebuilt.world.results().equals(live)
    assert applied(rebuilt.world) == sorted(rates)
    again.close()

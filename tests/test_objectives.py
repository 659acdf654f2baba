"""Objectives and scores (issue #3): finite, in their documented ranges, recorded month by month
in a tidy table, and moving the right way when the world changes."""

from __future__ import annotations

import copy
import json
import math
from functools import cache

import numpy as np
import pandas as pd
import pytest

from world import World, load_scenario
from world.objectives import (
    OBJECTIVES,
    ObjectiveRecorder,
    adversaries,
    adversary_content,
    economy_scale,
    objectives_table,
    scores,
    weighted_score,
    weights,
)
from world.scenario import scenario_from_dict

SHARES = (
    "security",
    "defense_fill_rate",
    "magnet_fill_rate",
    "adversary_share",
    "leverage",
    "dependence",
    "willingness",
)
CN_BAN_US = {
    "id": "cn-ban",
    "date": "2024-04",
    "kind": "export_ban",
    "issuer": "CN",
    "commodities": ["magnet"],
    "partners": ["US"],
}


@cache
def _base() -> str:
    return json.dumps(load_scenario("baseline-2024").model_dump(mode="json"))


def build(seats: dict | None = None, orders: tuple | list = (), seed: int = 0) -> World:
    data = json.loads(_base())
    data["seats"] = copy.deepcopy(seats or {})
    data["orders"] = copy.deepcopy(list(orders))
    return World(scenario_from_dict(data), seed=seed)


def run(seats: dict | None = None, orders: tuple | list = (), months: int = 18) -> World:
    world = build(seats, orders)
    recorder = ObjectiveRecorder(world)
    for _ in range(months):
        world.step()
        recorder.record(world)
    return world


def pivot(world: World, region: str) -> pd.DataFrame:
    table = objectives_table(world)
    table = table[table["region"] == region]
    return table.pivot(index="month", columns="objective", values="value")


@cache
def baseline() -> World:
    return run()


@cache
def banned() -> World:
    return run(orders=[CN_BAN_US])


GAME = {
    "CN": {"doctrine": "coercive-retaliator"},
    "US": {"doctrine": "alliance-builder"},
    "JP": {"doctrine": "japan-diversifier"},
    "EU": {"doctrine": "follower"},
    "AU": {"doctrine": "hedger"},
}


@cache
def game() -> World:
    return run(GAME, [CN_BAN_US], months=18)


# --------------------------------------------------------------------------- the table


def test_table_has_every_state_objective_and_month_in_documented_ranges():
    world = game()
    table = objectives_table(world)
    assert list(table.columns) == ["month", "date", "region", "objective", "value"]
    states = [s.region for s in world.states]
    assert len(table) == 18 * len(states) * len(OBJECTIVES)
    assert set(table["objective"]) == set(OBJECTIVES)
    assert set(table["region"]) == set(states)
    assert table["month"].tolist()[0] == 0 and table["month"].max() == 17
    assert (table["date"] == table["month"].map(world.date_of)).all()
    assert np.isfinite(table["value"]).all()
    shares = table[table["objective"].isin(SHARES)]["value"]
    assert shares.between(0.0, 1.0).all()
    assert table[table["objective"] == "score"]["value"].between(-1.0, 1.0).all()
    assert (table[table["objective"] == "fiscal_cost"]["value"] > -1e12).all()
    for units, _meaning in OBJECTIVES.values():
        assert units  # every objective documents its unit


def test_welfare_is_the_sum_of_its_parts_and_fiscal_cost_adds_up_to_spending():
    world = game()
    for state in world.states:
        frame = pivot(world, state.region)
        np.testing.assert_allclose(
            frame["welfare"], frame["consumer_surplus"] + frame["producer_surplus"]
        )
        # Monthly fiscal cost adds up to the state's cumulative spending.
        assert frame["fiscal_cost"].sum() == pytest.approx(state.fiscal_cost_usd, rel=1e-9)
    assert pivot(world, "US")["fiscal_cost"].sum() > 1e7, "the US price floor costs money"


def test_recording_a_month_twice_keeps_one_row_and_results_rows_match_the_results_layout():
    world = build()
    recorder = ObjectiveRecorder(world)
    world.step()
    recorder.record(world)
    recorder.record(world, month=0)
    assert recorder.months == [0]
    rows = recorder.results_rows(world)
    assert list(rows.columns) == list(world.results().columns)
    assert set(rows["variable"]) == {"objective"}
    assert (rows["commodity"] == "").all()
    assert objectives_table(build()).empty, "no recorder attached: an empty table"


def test_scores_are_deterministic():
    first = objectives_table(run(GAME, [CN_BAN_US], months=9))
    second = objectives_table(run(GAME, [CN_BAN_US], months=9))
    pd.testing.assert_frame_equal(first, second, check_exact=True)


# --------------------------------------------------------------------------- adversaries, weights


def test_default_adversaries_and_seat_override():
    world = build()
    # Regions are held in canonical (id) order, whatever the file lists first.
    assert adversaries(world, "CN") == ("AU", "EU", "JP", "US")
    assert adversaries(world, "US") == ("CN",)
    assert adversaries(world, "JP") == ("CN",)
    custom = build({"AU": {"doctrine": "hedger", "params": {"adversaries": ["CN", "MM"]}}})
    assert adversaries(custom, "AU") == ("CN", "MM")
    wrong = build({"AU": {"doctrine": "hedger", "params": {"adversaries": ["XX"]}}})
    with pytest.raises(ValueError, match=r"unknown region.*XX"):
        adversaries(wrong, "AU")


def test_weights_default_by_seat_and_the_score_follows_them():
    world = build({"US": {"doctrine": "stockpiler", "weights": {"security": 3.0}}})
    assert weights(world, "US") == {"welfare": 1.0, "security": 3.0, "leverage": 0.0, "fiscal": 0.5}
    assert weights(world, "CN")["leverage"] == 1.0
    bad = build({"US": {"doctrine": "stockpiler", "weights": {"securty": 1.0}}})
    with pytest.raises(ValueError, match=r"unknown objective.*securty"):
        weights(bad, "US")
    values = {"welfare": 5e6, "security": 0.6, "leverage": 0.2, "fiscal_cost": 2e6}
    w = {"welfare": 1.0, "security": 2.0, "leverage": 0.0, "fiscal": 1.0}
    expected = (1.0 * 0.5 + 2.0 * 0.6 + 1.0 * -0.2) / 4.0
    assert weighted_score(values, w, 1e7) == pytest.approx(expected)
    assert weighted_score(values, dict.fromkeys(w, 0.0), 1e7) == 0.0
    huge = {**values, "welfare": -1e15}
    assert weighted_score(huge, w, 1e7) >= -1.0
    assert economy_scale(world, "MM") >= 1e6


# --------------------------------------------------------------------------- adversary content


def test_adversary_content_is_traced_through_the_stages():
    """A magnet made in Japan of metal made in Japan of oxide bought from China passed through
    China; the same chain fed by Malaysian oxide from Australian ore did not."""
    world = build()
    ci, ri = world.commodity_index, world.region_index
    world.flows = np.zeros_like(world.flows)
    world.flows[ci["oxide_light"], ri["CN"], ri["JP"]] = 30.0
    world.flows[ci["oxide_light"], ri["MY"], ri["JP"]] = 10.0
    world.flows[ci["metal"], ri["JP"], ri["JP"]] = 20.0
    world.flows[ci["magnet"], ri["JP"], ri["JP"]] = 60.0
    world.flows[ci["magnet"], ri["CN"], ri["US"]] = 30.0
    world.flows[ci["magnet"], ri["JP"], ri["US"]] = 10.0
    world.flows[ci["concentrate"], ri["AU"], ri["MY"]] = 50.0
    received, share = adversary_content(world, ("CN",))
    assert share[ci["oxide_light"], ri["JP"]] == pytest.approx(0.75)
    # Metal is made of light and heavy oxide; JP received heavy oxide from nobody, so its own
    # (zero) content counts for it, and light oxide carries the value-weighted rest.
    assert 0.0 < share[ci["metal"], ri["JP"]] <= 0.75
    assert share[ci["magnet"], ri["JP"]] == pytest.approx(share[ci["metal"], ri["JP"]])
    us = share[ci["magnet"], ri["US"]]
    assert us == pytest.approx((30.0 + 10.0 * share[ci["magnet"], ri["JP"]]) / 40.0)
    assert share[ci["oxide_light"], ri["MY"]] == 0.0
    assert received[ci["magnet"], ri["US"]] == 40.0


def test_the_west_depends_on_china_and_china_does_not_depend_on_the_west():
    frame = {r: pivot(baseline(), r) for r in ("US", "JP", "EU", "CN")}
    for r in ("US", "EU"):
        assert frame[r]["adversary_share"].mean() > 0.8, r
    # Japan takes Lynas's NdPr under JARE: about 70% from China in 2024 (facts §4h).
    assert 0.55 < frame["JP"]["adversary_share"].mean() < 0.85
    assert frame["CN"]["adversary_share"].mean() < 0.3
    assert frame["CN"]["dependence"].mean() > 0.9, "others import mostly from China"
    assert frame["CN"]["leverage"].max() == 0.0, "no restrictions, no leverage"


# --------------------------------------------------------------------------- directions


def test_a_chinese_magnet_ban_lowers_us_security_and_welfare_and_raises_chinas_leverage():
    base, ban = pivot(baseline(), "US"), pivot(banned(), "US")
    months = slice(3, 17)
    # Less Chinese content offsets part of the lost fill (allies' magnets reach the US too).
    assert ban["security"][months].mean() < base["security"][months].mean() - 0.01
    assert ban["magnet_fill_rate"][months].min() < 0.5
    assert ban["consumer_surplus"][months].mean() < base["consumer_surplus"][months].mean()
    assert ban["score"][months].mean() < base["score"][months].mean()
    cn = pivot(banned(), "CN")
    assert cn["willingness"][months].min() > 0.0
    assert cn["leverage"][months].mean() > 0.0
    assert pivot(baseline(), "CN")["leverage"].max() == 0.0


def test_leverage_is_dependence_times_willingness_and_rises_with_broad_licensing():
    licence = {
        "id": "cn-licence",
        "date": "2024-04",
        "kind": "export_licence",
        "issuer": "CN",
        "commodities": ["magnet", "oxide_light", "oxide_heavy"],
        "approval_share": 0.5,
    }
    cn = pivot(run(orders=[licence], months=9), "CN")
    np.testing.assert_allclose(cn["leverage"], cn["dependence"] * cn["willingness"])
    assert cn["willingness"].iloc[-1] == pytest.approx(1.0)
    # Others' dependence on China is ~0.75-0.8 once Lynas supplies Japan (facts §4h: ~70%).
    assert cn["leverage"].iloc[-1] > 0.7
    assert cn["leverage"].iloc[:3].max() == 0.0


def test_scores_returns_every_state_with_finite_values():
    world = build()
    world.step()
    values = scores(world)
    assert list(values) == [s.region for s in world.states]
    for objectives in values.values():
        assert set(objectives) == set(OBJECTIVES)
        assert all(math.isfinite(v) for v in objectives.values())

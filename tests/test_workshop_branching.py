"""Facilitator forks: deterministic futures that leave the live game alone, and their chart."""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest
from matplotlib.figure import Figure

from play.branching import futures
from play.room import Refused, WorkshopError
from ui.workshop.fan_chart import fan_chart
from world import World

SCENARIO = "alliance-vs-tariffs-2025"


@cache
def live() -> World:
    world = World(SCENARIO, seed=1, human_seats=frozenset({"US"}))
    world.run(6)
    order = {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"], "rate": 0.1}
    assert world.submit(order, seat="US").status == "pending"
    return world


def test_futures_are_deterministic_and_leave_the_live_world_alone():
    world = live()
    results, orders, month = world.results(), world.orders(), world.month
    first = futures(world, n=3, months=6, seed=5, workers=1)
    second = futures(world, n=3, months=6, seed=5, workers=1)
    pd.testing.assert_frame_equal(first, second)
    assert world.month == month
    pd.testing.assert_frame_equal(world.results(), results)
    pd.testing.assert_frame_equal(world.orders(), orders)
    assert world.human_seats == frozenset({"US"}) and "US" not in world.doctrines
    assert list(first.columns) == [
        "future",
        "month",
        "date",
        "variable",
        "commodity",
        "region",
        "value",
    ]
    assert set(first["future"]) == {0, 1, 2}
    assert first["month"].min() == month and first["month"].max() == month + 5
    assert {"price", "china_share", "defense_fill_rate", "stock_strategic"} <= set(
        first["variable"]
    )


def test_futures_differ_and_the_pool_gives_the_same_table():
    world = live()
    # Randomness enters through firms' investment timing, so it shows after one to two years.
    frame = futures(world, n=2, months=24, seed=0, workers=1)
    values = [group["value"].to_numpy() for _, group in frame.groupby("future")]
    assert values[0].shape == values[1].shape and not (values[0] == values[1]).all()
    pooled = futures(world, n=2, months=24, seed=0, workers=2)
    pd.testing.assert_frame_equal(pooled, frame)
    other = futures(world, n=2, months=24, seed=1, workers=1)
    assert not other.equals(frame)


def test_fan_chart_draws_history_and_bands():
    world = live()
    frame = futures(world, n=3, months=6, seed=0, workers=1)
    fig = fan_chart(frame, world.month, world)
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5
    assert all(ax.lines and ax.get_ylabel() for ax in visible)
    assert any(ax.collections for ax in visible)  # the bands
    fig.canvas.draw()
    bare = fan_chart(frame, world.month)
    assert bare.axes[0].get_xlabel() == "month"


def test_futures_fork_from_an_earlier_turn_beside_what_was_played(workshops, facilitator, game):
    game.resolve(facilitator)
    game.resolve(facilitator)  # now in turn 3 (month 6)
    first = game.world_at(facilitator, 1)
    assert first.month == 0 and first.human_seats == game.world.human_seats
    assert game.world_at(facilitator, 3).month == game.world.month == 6
    with pytest.raises(WorkshopError, match="turn: a turn from 1 to 3"):
        game.world_at(facilitator, 4)
    us = workshops.login(game.code(facilitator, "US"))
    with pytest.raises(Refused):
        game.world_at(us, 1)
    frame = futures(game.world_at(facilitator, 2), n=2, months=6, seed=0, workers=1)
    assert frame["month"].min() == 3 and frame["month"].max() == 8
    fig = fan_chart(frame, 3, game.snapshot(facilitator))
    price = fig.axes[0]
    dotted = [line for line in price.lines if line.get_linestyle() == ":"]
    assert dotted and all(list(line.get_xdata()) == [3, 4, 5] for line in dotted)
    # Forking from an earlier turn leaves the game where it is.
    assert game.turn == 3 and len(game.world.results()) > 0

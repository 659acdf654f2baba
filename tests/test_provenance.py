"""Provenance: the tracked origin's material (China by default) followed through the chain."""

from __future__ import annotations

import numpy as np
import pytest

from world import World, load_scenario
from world.scenario import scenario_from_dict


def _holders(world: World):
    for firm in world.firms:
        for c, stock in firm.inventory.items():
            yield firm.firm_id, float(np.sum(stock)), firm.tracked.get(c, 0.0)
    for user in world.end_users:
        yield f"user-{user.region}-{user.sector}", user.inventory, user.tracked
    for state in world.states:
        for c, stock in state.stockpile.items():
            yield f"state-{state.region}", float(np.sum(stock)), state.tracked[c]


@pytest.fixture(scope="module")
def baseline() -> World:
    world = World(load_scenario("baseline-2024"), seed=3)
    for _ in range(24):
        world.step()
        for name, stock, tracked in _holders(world):
            assert -1e-9 <= tracked <= stock + 1e-6, (world.month, name, stock, tracked)
    return world


def test_tracked_consumption_never_exceeds_consumption(baseline):
    consumed = baseline.recorder.array("consumption")
    tracked = baseline.recorder.array("consumption_tracked")
    assert np.all(tracked >= -1e-9)
    assert np.all(tracked <= consumed + 1e-6)


def test_china_consumes_only_chinese_material(baseline):
    mi, cn = baseline.commodity_index["magnet"], baseline.region_index["CN"]
    consumed = baseline.recorder.array("consumption")[:, mi, cn]
    tracked = baseline.recorder.array("consumption_tracked")[:, mi, cn]
    np.testing.assert_allclose(tracked, consumed, rtol=1e-9)


def test_us_magnets_are_almost_all_chinese_in_2024(baseline):
    mi, us = baseline.commodity_index["magnet"], baseline.region_index["US"]
    consumed = baseline.recorder.array("consumption")[:12, mi, us].sum()
    tracked = baseline.recorder.array("consumption_tracked")[:12, mi, us].sum()
    assert tracked / consumed > 0.9


def test_cutting_china_off_lowers_chinese_content():
    """With China's exports to Japan banned, Japan's magnets are made from what it can get
    elsewhere (Lynas's Malaysian oxide), so their Chinese content falls."""
    data = load_scenario("baseline-2024").model_dump(mode="json")
    free = World(scenario_from_dict(data), seed=0).run(36)
    data["policies"].append(
        {
            "id": "cut-japan",
            "kind": "export_ban",
            "issuer": "CN",
            "commodities": ["concentrate", "oxide_light", "oxide_heavy", "metal", "magnet"],
            "partners": ["JP"],
            "start": "2024-02",
        }
    )
    cut = World(scenario_from_dict(data), seed=0).run(36)
    mi, jp = free.commodity_index["magnet"], free.region_index["JP"]

    def share(world: World) -> float:
        consumed = world.recorder.array("consumption")[24:, mi, jp].sum()
        tracked = world.recorder.array("consumption_tracked")[24:, mi, jp].sum()
        return tracked / consumed

    assert share(cut) < share(free) - 0.2

"""Determinism (DESIGN.md): the same scenario, orders and seed give identical results, in any
process. The seed matters: it drives the jitter of investment lead times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from worlds import variant

from world import World
from world.instruments import trade

REPO = Path(__file__).resolve().parents[1]
MONTHS = 36
SEED = 7

#: Policies that exercise every branch of the clearing: quota room, licence books, wedges.
POLICIES = [
    {
        "id": "quota",
        "kind": "export_quota",
        "issuer": "CN",
        "commodities": ["oxide_light", "oxide_heavy", "metal"],
        "quota_t": 3000.0,
        "start": "2024-04",
    },
    {
        "id": "licence",
        "kind": "export_licence",
        "issuer": "CN",
        "commodities": ["magnet"],
        "partners": ["US", "EU"],
        "review_months": 2,
        "approval_share": 0.6,
        "start": "2024-07",
    },
    {
        "id": "tariff",
        "kind": "import_tariff",
        "issuer": "US",
        "commodities": ["magnet"],
        "partners": ["CN"],
        "rate": 0.25,
        "start": "2024-09",
    },
    {
        "id": "stockpile",
        "kind": "stockpile_target",
        "issuer": "JP",
        "commodities": ["magnet", "oxide_heavy"],
        "months_of_cover": 2.0,
        "start": "2024-02",
    },
]

SCRIPT = """
import json, sys
from world import World
from world.scenario import scenario_from_dict
data = json.loads(open(sys.argv[1]).read())
world = World(scenario_from_dict(data), seed=int(sys.argv[2]))
world.run(months=int(sys.argv[3]))
world.results().to_parquet(sys.argv[4])
"""


def results(seed: int = SEED, months: int = MONTHS) -> tuple[pd.DataFrame, World]:
    world = World(variant(*POLICIES), seed=seed)
    world.run(months=months)
    return world.results(), world


def test_same_seed_gives_identical_results_in_process():
    first, w1 = results()
    second, w2 = results()
    assert len(first) > 0
    assert_frame_equal(first, second, check_exact=True)
    assert w1.log == w2.log
    np.testing.assert_array_equal(w1.prices, w2.prices)


def test_stepping_month_by_month_equals_one_run():
    whole, _ = results()
    world = World(variant(*POLICIES), seed=SEED)
    world.run(months=MONTHS // 2)
    for _ in range(MONTHS - MONTHS // 2):
        world.step()
    assert_frame_equal(whole, world.results(), check_exact=True)


def test_same_seed_gives_identical_results_across_processes(tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(variant(*POLICIES).model_dump(mode="json")))
    frames = []
    for hash_seed in ("0", "12345"):
        out = tmp_path / f"results-{hash_seed}.parquet"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, "-c", SCRIPT, str(scenario), str(SEED), str(MONTHS), str(out)],
            cwd=REPO,
            env=env,
            check=True,
            timeout=120,
        )
        frames.append(pd.read_parquet(out))
    assert_frame_equal(frames[0], frames[1], check_exact=True)
    here, _ = results()
    here_file = tmp_path / "here.parquet"
    here.to_parquet(here_file)
    assert_frame_equal(pd.read_parquet(here_file), frames[0], check_exact=True)
    # And the values themselves, without the parquet round trip on our side.
    np.testing.assert_array_equal(here["value"].to_numpy(), frames[0]["value"].to_numpy())


def test_the_seed_drives_investment_timing():
    """trade.lead_time_extra draws from the seeded generator: reproducible, seed-dependent."""
    draws = {}
    for seed in (1, 1, 2):
        world = World(variant(), seed=seed)
        firm = world.firms[0]
        draws.setdefault(seed, []).append([trade.lead_time_extra(world, firm) for _ in range(32)])
    assert draws[1][0] == draws[1][1]
    assert draws[1][0] != draws[2][0]


def test_different_seeds_change_a_run_with_investment():
    runs = {}
    for seed in (1, 2):
        world = World(variant(), seed=seed)
        world.run(months=MONTHS)
        runs[seed] = world
    invest = {
        s: [e for e in w.log if e["kind"] == "firm" and " from " in e["text"]]
        for s, w in runs.items()
    }
    # The baseline invests within the horizon (China's mines expand in the first year), so the
    # seed's jitter of lead times has something to act on.
    assert invest[1] and invest[2], "no firm invested: the seed would have nothing to act on"
    assert invest[1] != invest[2], "investment timing does not depend on the seed"
    with pytest.raises(AssertionError):
        assert_frame_equal(runs[1].results(), runs[2].results(), check_exact=True)


def test_a_fork_runs_on_by_itself_and_leaves_the_original_alone():
    whole, _ = results()
    world = World(variant(*POLICIES), seed=SEED, human_seats=frozenset({"US"}))
    world.run(months=MONTHS // 2)
    before = world.results()
    same = world.fork()
    same.human_seats = frozenset()  # as the all-AI run above, from here on
    same.run(months=MONTHS - MONTHS // 2)
    assert_frame_equal(before, world.results(), check_exact=True)
    assert world.month == MONTHS // 2 and world.human_seats == {"US"}
    # Without a seed the fork draws what the original would: it finishes the all-AI run.
    # (US has no seat in this variant, so no doctrine was silenced.)
    assert "US" not in world.spec.seats
    assert_frame_equal(whole, same.results(), check_exact=True)

    game = World("alliance-vs-tariffs-2025", seed=1, human_seats=frozenset({"US"}))
    ai = game.fork(all_ai=True)
    assert game.human_seats == {"US"} and "US" in game.spec.seats and "US" not in game.doctrines
    assert ai.human_seats == frozenset() and list(ai.doctrines) == list(game.spec.seats)
    assert type(ai.doctrines["CN"]) is type(game.doctrines["CN"])
    assert ai.doctrines["CN"] is not game.doctrines["CN"]  # a copy, memory and all

    draws = {}
    for seed in ((3, 0), (3, 0), (3, 1)):
        fork = world.fork(seed)
        draws.setdefault(seed, []).append([fork.rng.integers(1 << 30) for _ in range(8)])
    assert draws[(3, 0)][0] == draws[(3, 0)][1] and draws[(3, 0)][0] != draws[(3, 1)][0]
    assert draws[(3, 0)][0] != [world.fork().rng.integers(1 << 30) for _ in range(8)]


def test_a_copy_taken_in_the_middle_of_a_step_steps_on_its_own_clock(monkeypatch):
    # An AI weighing a deal copies the world inside step(); Mesa schedules the next step only
    # in the original, so the copy needs a clock of its own (World.fork).
    copies: dict[int, list[World]] = {}
    wanted: set[int] = set()
    events = World.apply_events

    def apply_events(self):
        if id(self) in wanted:
            wanted.discard(id(self))
            copies[id(self)] = [self.fork(), self.fork()]
        events(self)

    monkeypatch.setattr(World, "apply_events", apply_events)
    world = World("alliance-vs-tariffs-2025", seed=1)
    world.run(months=4)
    wanted.add(id(world))
    world.step()
    first, second = copies[id(world)]
    assert first.month == second.month == 4 and world.month == 5
    for months in (1, 2, 3):
        first.step()
        second.step()
        assert first.month == 4 + months and first.steps == world.steps + months
    assert_frame_equal(first.results(), second.results(), check_exact=True)
    # A copy of the copy, taken in the middle of one of its steps, steps too.
    wanted.add(id(first))
    first.step()
    nested = copies[id(first)][0]
    nested.run(months=2)
    assert nested.month == 9 and first.month == 8

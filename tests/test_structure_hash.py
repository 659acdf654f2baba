"""Structure guard: restructuring the code must leave every result bit-identical.

This test hashes ``results()`` and ``orders()`` of fixed games (every bundled scenario at a fixed
seed with its own seats; a human seat playing orders of several kinds against doctrines; a
doctrine on every seat) and the outcomes of a small experiment batch, and compares them with
``tests/structure_hashes.json``. A refactor (moving code between modules, renaming private
helpers) must pass it unchanged.

An intended change of the economics (a new effect, a recalibrated scenario) changes the hashes.
Then regenerate them on purpose, and give the reason in the commit message::

    uv run python tests/test_structure_hash.py --write

Never regenerate them to make a refactor pass: a refactor that changes a hash changed behaviour.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script (--write), batch_specs must import
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from world import World, bundled_scenarios, load_scenario  # noqa: E402
from world.scenario import scenario_from_dict  # noqa: E402

HASHES = HERE / "structure_hashes.json"
SEED = 7

#: Orders a human US seat submits at the turn boundary before the given month: trade measures,
#: programmes, stockpiles, a firm's own order, an alliance, a deal and a lift.
HUMAN_ORDERS: dict[int, list[dict]] = {
    0: [
        {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"], "partners": ["CN"],
         "rate": 0.25},
        {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 500,
         "months": 6},
        {"kind": "capex_subsidy", "issuer": "US", "stages": ["magnet"], "share": 0.3},
    ],
    3: [
        {"kind": "price_floor", "issuer": "US", "firm": "mp-separation",
         "commodity": "oxide_light", "floor_usd_per_kg": 110, "duration_months": 60},
        {"kind": "production_subsidy", "issuer": "US", "stages": ["separator"], "usd_per_kg": 5},
        {"kind": "invest", "issuer": "mp-independence", "capacity_tpy": 1000},
        {"kind": "stockpile_buy", "issuer": "US", "commodity": "oxide_light", "tonnes": 60,
         "months": 3},
    ],
    6: [
        {"kind": "rnd_programme", "issuer": "US", "usd_per_year": 2e8, "duration_months": 24},
        {"kind": "equity_stake", "issuer": "US", "firm": "mp-separation", "usd": 4e8},
        {"kind": "stockpile_target", "issuer": "US", "commodities": ["oxide_heavy"],
         "months_of_cover": 2},
    ],
    9: [
        {"kind": "stockpile_release", "issuer": "US", "commodity": "oxide_light", "tonnes": 10},
    ],
    12: [
        {"kind": "alliance", "issuer": "US", "action": "form", "name": "minerals-club",
         "invite": ["JP", "EU", "AU"], "common_external_tariff": {"magnet": 0.2},
         "pooled_offtake_premium": 0.1, "fund_usd": 1e9, "shared_release": True},
        {"kind": "propose_deal", "issuer": "US", "recipients": ["CN"], "duration_months": 24,
         "commitments": [
             {"kind": "lift", "issuer": "CN", "measure": "export_licence", "partners": ["US"]},
             {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"],
              "partners": ["CN"], "rate": 0.1},
         ]},
    ],
    24: [
        {"kind": "lift", "issuer": "US", "measure": "import_tariff", "commodities": ["magnet"]},
    ],
}  # fmt: skip

#: A doctrine on every seat (covers the doctrines the bundled scenarios do not seat).
ALL_SEATS = {
    "baseline-2024": {
        "CN": "value-chain-upgrader",
        "US": "dealmaker-resilience",
        "JP": "japan-diversifier",
        "EU": "alliance-builder",
        "AU": "stockpiler",
    },
    "quota-2010": {
        "CN": "market-share-defender",
        "US": "tariff-hawk",
        "JP": "hedger",
        "EU": "dealmaker",
    },
}


def frame_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's columns, dtypes and every value's bits (floats exactly)."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps([list(map(str, frame.columns)), list(map(str, frame.dtypes))]).encode()
    )
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def _game(world: World) -> dict[str, str]:
    return {"results": frame_hash(world.results()), "orders": frame_hash(world.orders())}


def scenario_game(name: str) -> dict[str, str]:
    """A bundled scenario with its own seats, to its horizon."""
    return _game(World(name, seed=SEED).run())


def human_game() -> dict[str, str]:
    """alliance-vs-tariffs-2025 with US played by a person against the doctrines, 48 months."""
    world = World("alliance-vs-tariffs-2025", seed=SEED, human_seats={"US"})
    for month in range(48):
        for order in HUMAN_ORDERS.get(month, []):
            # A firm's own order is submitted from the firm's seat.
            seat = "US" if order["issuer"] == "US" else order["issuer"]
            result = world.submit(order, seat=seat)
            # Every order must be accepted, or the case would not exercise its instrument.
            assert result.status == "pending", (order["kind"], result.message)
        world.step()
    return _game(world)


def all_doctrines_game(name: str) -> dict[str, str]:
    """A bundled scenario with a doctrine on every state's seat, to its horizon."""
    data = copy.deepcopy(load_scenario(name).model_dump(mode="json"))
    data["seats"] = {region: {"doctrine": d} for region, d in ALL_SEATS[name].items()}
    return _game(World(scenario_from_dict(data), seed=SEED).run())


def batch_outcomes() -> dict[str, str]:
    """The tiny experiment batch (two levers, LHS samples, two seeds) run in this process."""
    from batch_specs import TINY

    from experiments.api import run_batch

    frame = run_batch(tomllib.loads(TINY), workers=1)
    frame = frame.sort_values("run_id").reset_index(drop=True)
    frame = frame.drop(columns=[c for c in ("wall_s",) if c in frame.columns])
    return {"outcomes": frame_hash(frame)}


def cases() -> dict[str, callable]:
    """Every guarded case by name."""
    out: dict[str, callable] = {
        f"scenario:{name}": (lambda n=name: scenario_game(n)) for name in bundled_scenarios()
    }
    out["human:alliance-vs-tariffs-2025"] = human_game
    for name in ALL_SEATS:
        out[f"doctrines:{name}"] = lambda n=name: all_doctrines_game(n)
    out["batch:tiny"] = batch_outcomes
    return out


def _recorded() -> dict:
    return json.loads(HASHES.read_text()) if HASHES.exists() else {}


@pytest.mark.parametrize("case", sorted(cases()))
def test_results_are_bit_identical(case):
    recorded = _recorded()
    assert case in recorded, f"{case} not in {HASHES.name}; run this file with --write"
    assert cases()[case]() == recorded[case], (
        f"{case} changed. A refactor must not change results; an intended economics change "
        f"regenerates {HASHES.name} with --write (say why in the commit message)."
    )


def test_every_recorded_case_still_exists():
    assert sorted(_recorded()) == sorted(cases())


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print(__doc__)
        return 2
    hashes = {name: run() for name, run in sorted(cases().items())}
    HASHES.write_text(json.dumps(hashes, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(hashes)} cases to {HASHES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

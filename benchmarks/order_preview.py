"""Order preview benchmark: how long the dry run behind the order form's Preview button takes
(two copies of the world run to the turn boundary and six months on), for a few orders at a few
points of a game.

    uv run python benchmarks/order_preview.py [--scenario NAME] [--repeat 3]

Target (issue 14): it should feel instant, well under a second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from world import World, load_scenario  # noqa: E402
from world.order_preview import preview_order  # noqa: E402

ORDERS = {
    "tariff": {"kind": "import_tariff", "issuer": "US", "commodities": ["magnet"],
               "partners": ["CN"], "rate": 0.5},
    "purchase": {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 500},
    "research": {"kind": "rnd_programme", "issuer": "US", "usd_per_year": 2e8},
}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="alliance-vs-tariffs-2025")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    spec = load_scenario(args.scenario)
    times = []
    for month in (0, 1, 12):
        world = World(spec, seed=0, human_seats=frozenset({"US"}))
        world.run(month)
        for name, order in ORDERS.items():
            for _ in range(args.repeat):
                seconds = preview_order(world, order, "US").seconds
                times.append(seconds)
            print(f"month {month:>2} {name:<9} {seconds * 1000:7.0f} ms")
    print(
        f"preview: median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {len(times)} dry runs ({args.scenario})"
    )


if __name__ == "__main__":
    main()

"""Server-side cost of one month's step in the game page, without a browser: the page is
rendered headless (``solara.render``) and its Step button clicked; each click runs the world's
step, the re-render and the widget updates, as the server does for a browser's click.

Timed in the thread's CPU time, which other programs on the machine barely change (the
browser benchmark, benchmarks/app.py, measures wall time and doubles under a load of 4 on 2
cores), and split into the world's step, the price chart (picture and hover layer) and the
news; the rest is Solara's re-render.

    uv run python benchmarks/app_server.py [--steps 12] [--scenario NAME]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import ipyvuetify as v  # noqa: E402
import solara  # noqa: E402

from play.session import GameSession  # noqa: E402
from ui import charts  # noqa: E402
from ui.components import Game  # noqa: E402

#: The parts timed apart: (label, owner, method name).
PARTS = [
    ("world step", GameSession, "step"),
    ("price chart", charts.LivePrices, "png"),
    ("hover layer", charts.LivePrices, "hover"),
    ("news", GameSession, "news"),
]


def _timed(spent: dict[str, float], label: str, method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        start = time.thread_time()
        try:
            return method(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - start

    return wrapper


def measure(scenario: str, steps: int) -> list[dict[str, float]]:
    """Each step's CPU time, ms: ``total`` and one entry per part of :data:`PARTS`."""
    spent: dict[str, float] = defaultdict(float)
    originals = [(owner, name, getattr(owner, name)) for _, owner, name in PARTS]
    for (label, owner, name), (_, _, method) in zip(PARTS, originals, strict=True):
        setattr(owner, name, _timed(spent, label, method))
    try:
        session = GameSession(scenario, seed=0, seat="US")
        _, rc = solara.render(Game(session), handle_error=False)
        rows = []
        for _ in range(steps):
            button = rc.find(v.Btn, children=["Step 1 month"]).widget
            spent.clear()
            start = time.thread_time()
            button.click()
            total = time.thread_time() - start
            rows.append({"total": 1000 * total} | {k: 1000 * s for k, s in spent.items()})
        return rows
    finally:
        for owner, name, method in originals:
            setattr(owner, name, method)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--scenario", default="alliance-vs-tariffs-2025")
    args = parser.parse_args()
    rows = measure(args.scenario, args.steps)
    labels = ["total"] + [label for label, _, _ in PARTS]
    print(f"server CPU per step, ms, over {args.steps} steps of {args.scenario}:")
    for label in labels:
        values = [row.get(label, 0.0) for row in rows]
        print(f"  {label:12s} median {statistics.median(values):6.1f}   max {max(values):6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

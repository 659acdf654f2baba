"""Server-side cost of one month's step in the game page, without a browser: the page is
rendered headless (``solara.render``) and its Step button clicked; each click runs the world's
step, the re-render and the widget updates, as the server does for a browser's click.

Timed in the thread's CPU time, which other programs on the machine barely change (the
browser benchmark, benchmarks/app.py, measures wall time and doubles under a load of 4 on 2
cores), and split into the world's step, the price chart (picture and hover layer) and the
news; the rest is Solara's re-render.

    uv run python benchmarks/app_server.py [--steps 12] [--late 60] [--scenario NAME]

The steps are timed twice: from the start, and from month ``--late`` (the charts, the news
and the order log then hold years of months).
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


def measure(scenario: str, steps: int, late: int = 0) -> tuple[list[dict], list[dict]]:
    """Each step's CPU time, ms (``total`` and one entry per part of :data:`PARTS`), for
    ``steps`` steps from the start and as many from month ``late``."""
    spent: dict[str, float] = defaultdict(float)
    originals = [(owner, name, getattr(owner, name)) for _, owner, name in PARTS]
    for (label, owner, name), (_, _, method) in zip(PARTS, originals, strict=True):
        setattr(owner, name, _timed(spent, label, method))
    try:
        session = GameSession(scenario, seed=0, seat="US")
        _, rc = solara.render(Game(session), handle_error=False)
        button = rc.find(v.Btn, children=["Step 1 month"]).widget
        rows = []
        while session.month < max(late, steps) + steps:
            spent.clear()
            start = time.thread_time()
            button.click()
            total = time.thread_time() - start
            rows.append({"total": 1000 * total} | {k: 1000 * s for k, s in spent.items()})
        return rows[:steps], rows[-steps:]
    finally:
        for owner, name, method in originals:
            setattr(owner, name, method)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--late", type=int, default=60, help="month to time late steps from")
    parser.add_argument("--scenario", default="alliance-vs-tariffs-2025")
    args = parser.parse_args()
    early, late = measure(args.scenario, args.steps, args.late)
    labels = ["total"] + [label for label, _, _ in PARTS]
    for when, rows in (("from the start", early), (f"from month {args.late}", late)):
        print(f"server CPU per step, ms, over {args.steps} steps of {args.scenario}, {when}:")
        for label in labels:
            values = [row.get(label, 0.0) for row in rows]
            print(f"  {label:12s} median {statistics.median(values):6.1f}   max {max(values):6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Regenerate the results table of docs/scenarios/april-2025-licensing.md from runs.

Runs ``april-2025-licensing`` (seed 0) as scripted and three times less one cause (China's
licence orders; MP's halt of shipments to China; the Myanmar shock), and writes the table of
prices and shortages between the ``<!-- april-results:start -->`` and
``<!-- april-results:end -->`` markers. The "reported" column is the scenario's own reference
series (facts §3e), so nothing here restates a figure by hand.

    uv run python docs/make_april_2025.py
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from world import World, load_scenario  # noqa: E402
from world.calendar import months_between  # noqa: E402
from world.scenario import scenario_from_dict  # noqa: E402

NAME = "april-2025-licensing"
DOC = REPO / "docs" / "scenarios" / f"{NAME}.md"
START, END = "<!-- april-results:start -->", "<!-- april-results:end -->"
MONTHS = 36
#: China's licence orders: what "without the licence orders" leaves out.
LICENCE_ORDERS = {
    "cn-licence-apr",
    "cn-licence-apr-magnet",
    "cn-licence-apr-end",
    "cn-licence-apr-magnet-end",
    "cn-licence-jul",
    "cn-licence-jul-magnet",
    "cn-busan-lift-licence",
    "cn-busan-lift-licence-magnet",
    "cn-licence-nov",
    "cn-licence-nov-magnet",
}
VARIANTS = {
    "model, scenario": {},
    "without the licence orders": {"orders": LICENCE_ORDERS},
    "without MP's halt": {"orders": {"mp-halts-china-shipments"}},
    "without the Myanmar shock": {"events": {"mm-kachin-seizure"}},
}


def _variant(drop: dict[str, set[str]]):
    """The scenario less the orders and events named in ``drop``."""
    scenario = load_scenario(NAME)
    if not drop:
        return scenario
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    for key, ids in drop.items():
        data[key] = [item for item in data[key] if item["id"] not in ids]
    return scenario_from_dict(data, f"{NAME} less {sorted(set().union(*drop.values()))}")


def _run(drop: dict[str, set[str]]) -> World:
    world = World(_variant(drop), seed=0)
    for _ in range(MONTHS):
        world.step()
    return world


def _rows(world: World) -> dict[str, str]:
    """The table's cells for one run, keyed by row label."""
    start = world.spec.start
    price = world.recorder.array("price")
    c, r = world.commodity_ids.index, world.region_ids.index
    cn, us, eu = r("CN"), r("US"), r("EU")
    abroad = [i for i in range(len(world.region_ids)) if i != cn]

    def at(date: str) -> int:
        return months_between(start, date)

    light, heavy, magnet = c("oxide_light"), c("oxide_heavy"), c("magnet")
    shortage = world.recorder.array("shortage")[: at("2026-01"), magnet][:, abroad].sum()
    demand = world.recorder.array("demand")[: at("2026-01"), magnet][:, abroad].sum()
    aug, dec, jun = at("2025-08"), at("2025-12"), at("2026-06")

    def pair(m: int) -> str:
        return f"{price[m, magnet, us]:,.0f} / {price[m, magnet, eu]:,.0f}"

    return {
        "NdPr oxide, China, Aug 2025": f"{price[aug, light, cn]:,.0f}",
        "NdPr oxide, China, Dec 2025": f"{price[dec, light, cn]:,.0f}",
        "Dy/Tb oxide, China, Dec 2025": f"{price[dec, heavy, cn]:,.0f}",
        "Dy/Tb oxide, ex-China mean, Dec 2025": f"{np.mean(price[dec, heavy, abroad]):,.0f}",
        "magnet, US / EU, Aug 2025": pair(aug),
        "magnet, US / EU, Jun 2026": pair(jun),
        "ex-China magnet shortage, 2025 (% of demand)": f"{100 * shortage / demand:.1f}%",
    }


def _reported() -> dict[str, str]:
    """The scenario's reference points (facts §3e) for the rows they cover."""
    refs = {s.id: s for s in load_scenario(NAME).references.series}
    ndpr = {p.date: p.value for p in refs["ndpr-price-2025"].points}
    dytb = {p.date: p.value for p in refs["dytb-price-2025"].points}
    return {
        "NdPr oxide, China, Aug 2025": f"{ndpr['2025-08']:,.0f}",
        "NdPr oxide, China, Dec 2025": f"{ndpr['2025-12']:,.0f}",
        "Dy/Tb oxide, China, Dec 2025": f"{dytb['2025-12']:,.0f}",
    }


def table() -> str:
    """The results table, one column per variant and one for what was reported."""
    columns = {label: _rows(_run(drop)) for label, drop in VARIANTS.items()}
    reported = _reported()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    labels = list(next(iter(columns.values())))
    lines = [
        "| USD/kg unless stated | " + " | ".join(columns) + " | reported (facts §3e) |",
        "| --- |" + " --- |" * (len(columns) + 1),
    ]
    for label in labels:
        cells = [columns[v][label] for v in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {reported.get(label, 'n/a')} |")
    lines.append("")
    lines.append(
        f"Generated by `uv run python docs/make_april_2025.py` at commit {commit or 'unknown'} "
        "(seed 0)."
    )
    return "\n".join(lines)


def main() -> int:
    text = DOC.read_text()
    if START not in text or END not in text:
        print(f"{DOC}: markers {START} / {END} not found", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{table()}\n{END}{tail}")
    print(f"wrote the results table of {DOC.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

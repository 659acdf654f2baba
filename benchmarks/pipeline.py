"""What happens to each announced ex-China project in a scenario (a diagnostic, not a test).

Runs the scenario month by month and prints, for every firm outside China that starts under
construction or as a candidate: its announced date and capacity, when the model commits and
brings it online, its utilisation in 2030, and, where it does not run, why: its expected margin
against the payback requirement, its trigger price against the expected price, or the inputs
(feed) or orders (buyers) it lacks.

    uv run python benchmarks/pipeline.py [--scenario baseline-2024] [--seed 0] [--write]

``--write`` also puts the table between the ``<!-- pipeline:start -->`` and
``<!-- pipeline:end -->`` markers of docs/model.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from world import World, load_scenario  # noqa: E402, I001
from agents.firms import CANDIDATE, CONSTRUCTION, OPERATING  # noqa: E402
from world.instruments import programmes  # noqa: E402

MODEL_MD = REPO / "docs" / "model.md"
START, END = "<!-- pipeline:start -->", "<!-- pipeline:end -->"
#: Year whose utilisation the table reports.
REPORT_YEAR = 2030


def _payback(world: World, firm) -> tuple[float, float]:
    """(expected margin, required margin) of a candidate, USD per kg of throughput.

    A project member reports its whole project (members' margins with internal material
    unpriced, members' capex added), as the commitment decision does.
    """
    p = world.params
    members = [firm]
    if firm.spec.project:
        members = [f for f in world.projects[firm.spec.project]]
    made = {c for f in members for c in f.output_commodities()}
    used = {c for f in members for c in f.inputs}
    internal = frozenset(made & used) if len(members) > 1 else frozenset()
    margin = sum(f.unit_margin(world.investor_prices, internal) for f in members)
    capex = sum(f.capex_per_tpy * programmes.capex_multiplier(world, f) for f in members)
    required = capex * (p.invest_hurdle + 1.0 / firm.life_years) / 1000.0
    return margin, required


def _trigger(world: World, firm) -> tuple[float | None, float]:
    """(trigger price, expected price of the main product), USD/kg."""
    product = firm.output_commodities()[0]
    price = float(world.expected_prices[world.commodity_index[product], firm.r])
    return firm.trigger_price(), price


def pipeline_table(scenario: str = "baseline-2024", seed: int = 0) -> list[dict]:
    """Run ``scenario`` and return one row per announced ex-China project."""
    world = World(load_scenario(scenario), seed=seed)
    firms = [
        f
        for f in world.firms
        if f.region != "CN" and f.spec.status in (CONSTRUCTION, CANDIDATE) and f.stage != "recycler"
    ]
    first, last = world.month_of(f"{REPORT_YEAR}-01"), world.month_of(f"{REPORT_YEAR}-12")
    made = {f.firm_id: 0.0 for f in firms}
    planned = {f.firm_id: 0.0 for f in firms}
    capacity = {f.firm_id: 0.0 for f in firms}
    online = {f.firm_id: None for f in firms}
    checks: dict[str, tuple] = {}
    while world.month < world.spec.months:
        world.step()
        m = world.month - 1
        for f in firms:
            if online[f.firm_id] is None and f.online_month is not None:
                online[f.firm_id] = world.date_of(f.online_month)
            if first <= m <= last:
                made[f.firm_id] += f.throughput
                planned[f.firm_id] += f.planned_throughput() if f.status == OPERATING else 0.0
                capacity[f.firm_id] += f.capacity_tpy / 12.0
            if m == last and f.status == CANDIDATE:
                checks[f.firm_id] = (*_payback(world, f), *_trigger(world, f))
    commits = {}
    for event in world.log:
        if event["kind"] == "firm" and "commits to build" in event["text"]:
            commits.setdefault(event["actor"], event["date"])
    rows = []
    for f in firms:
        cap = capacity[f.firm_id]
        use = made[f.firm_id] / cap if cap > 0 else None
        why = ""
        if f.firm_id in checks:
            margin, required, trigger, price = checks[f.firm_id]
            parts = [f"margin {margin:.1f} vs {required:.1f} USD/kg needed"]
            if trigger is not None:
                parts.append(f"trigger {trigger:.0f} vs expected {price:.0f} USD/kg")
            why = "; ".join(parts)
        elif use is not None and use < 0.7:
            plan = planned[f.firm_id] / cap
            why = (
                f"plans {plan:.0%} of capacity (too few orders)"
                if plan < 0.7
                else f"plans {plan:.0%} but runs {use:.0%} (short of feed)"
            )
        rows.append(
            {
                "firm": f.firm_id,
                "stage": f.stage,
                "region": f.region,
                "status": f.spec.status,
                "announced": f.spec.online or "",
                "capacity_tpy": f.spec.capacity_tpy,
                "committed": commits.get(f.firm_id, "" if f.spec.status == CANDIDATE else "—"),
                "online": online[f.firm_id] or "",
                "utilisation": use,
                "why": why,
            }
        )
    return rows


def markdown(rows: list[dict], scenario: str, seed: int) -> str:
    """The rows as a Markdown table."""
    lines = [
        f"Announced ex-China projects in `{scenario}` (seed {seed}); utilisation = "
        f"{REPORT_YEAR} output over {REPORT_YEAR} capacity:\n",
        "| firm | stage | status | announced | t/yr | committed | online | "
        f"use {REPORT_YEAR} | why not |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        use = "" if r["utilisation"] is None else f"{r['utilisation']:.0%}"
        lines.append(
            f"| {r['firm']} | {r['stage']} | {r['status']} | {r['announced']} | "
            f"{r['capacity_tpy']:,.0f} | {r['committed']} | {r['online']} | {use} | {r['why']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="baseline-2024")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="update docs/model.md")
    args = parser.parse_args(argv)
    table = markdown(pipeline_table(args.scenario, args.seed), args.scenario, args.seed)
    print(table)
    if args.write:
        text = MODEL_MD.read_text()
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        MODEL_MD.write_text(f"{head}{START}\n{table}{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The seed question: alliance or tariffs? Every US doctrine against every China doctrine.

Runs the ``alliance-vs-tariffs-2025`` scenario (ten years from 2025-01) with the US seat playing
each of its doctrines and China each of its own, allies as followers, over several seeds, and
writes a table and a figure:

- **years to resilience**: years until the US and its allies (JP, EU, AU) together meet at least
  80% of their own magnet demand with magnets containing no Chinese material, for twelve
  consecutive months (or "not within the horizon");
- mean and worst monthly **defence fill rate** of the US;
- **cumulative fiscal cost** of US policies (USD bn);
- the **magnet price paid by US end users** (USD/kg, mean over the horizon).

Usage::

    uv run python -m experiments.alliance_vs_tariffs [--seeds 20] [--workers 2] [--out DIR]

The same question, over uncertain lead times and elasticities, resumable and on any number of
workers or a Dask cluster, is the bundled batch spec ``experiments/specs/alliance-vs-tariffs.toml``
(``chokepoint batch`` and ``chokepoint report``); this script keeps the published table of
``docs/alliance-vs-tariffs`` reproducible. Its resilience measure is
:func:`experiments.outcomes.years_to_resilience`.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.outcomes import years_to_resilience as _years_to_resilience

SCENARIO = "alliance-vs-tariffs-2025"
US_DOCTRINES = ("tariff-hawk", "alliance-builder", "dealmaker-resilience", "stockpiler")
CN_DOCTRINES = ("value-chain-upgrader", "coercive-retaliator", "market-share-defender", "dealmaker")
ALLIES = ("JP", "EU", "AU")
BLOC = ("US", *ALLIES)
THRESHOLD = 0.8
STREAK_MONTHS = 12


def years_to_resilience(demand: np.ndarray, clean: np.ndarray) -> float:
    """Years until the bloc's magnet demand is met at least 80% by non-Chinese magnets for
    twelve consecutive months (counted when the twelfth month ends); NaN if never.

    Args:
        demand: bloc magnet demand per month, t.
        clean: bloc magnet consumption without Chinese material per month, t.
    """
    return _years_to_resilience(demand, clean, THRESHOLD, STREAK_MONTHS)


def run_one(us: str, cn: str, seed: int, months: int | None = None) -> dict:
    """One game: the US plays ``us``, China ``cn``, the allies follow; returns the outcomes."""
    from world import World, load_scenario
    from world.scenario import scenario_from_dict

    data = load_scenario(SCENARIO).model_dump(mode="json")
    seats = dict(data.get("seats") or {})
    seats["US"] = {**seats.get("US", {}), "doctrine": us}
    seats["CN"] = {**seats.get("CN", {}), "doctrine": cn}
    for ally in ALLIES:
        if any(s["region"] == ally for s in data["states"]):
            seats.setdefault(ally, {"doctrine": "follower"})
    data["seats"] = seats
    world = World(scenario_from_dict(data, f"{SCENARIO}[{us} vs {cn}]"), seed=seed)
    started = time.perf_counter()
    world.run(months)
    rec = world.recorder
    mi = world.commodity_index["magnet"]
    bloc = [world.region_index[r] for r in BLOC if r in world.region_index]
    demand = rec.array("demand")[:, mi, bloc].sum(axis=1)
    consumed = rec.array("consumption")[:, mi, bloc].sum(axis=1)
    tracked = rec.array("consumption_tracked")[:, mi, bloc].sum(axis=1)
    us_i = world.region_index["US"]
    fill = rec.array("fill_rate")[:, us_i, world.sector_index["defense"]]
    fiscal = rec.array("fiscal_cost")[:, us_i]
    price = rec.array("price")[:, mi, us_i]
    return {
        "us_doctrine": us,
        "cn_doctrine": cn,
        "seed": seed,
        "years_to_resilience": years_to_resilience(demand, consumed - tracked),
        "clean_share_last_year": float((consumed - tracked)[-12:].sum() / demand[-12:].sum()),
        "defense_fill_mean": float(np.nanmean(fill)),
        "defense_fill_worst": float(np.nanmin(fill)),
        "fiscal_cost_usd_bn": float(fiscal.sum() / 1e9),
        "us_magnet_price_usd_per_kg": float(price.mean()),
        "orders_applied": int((world.orders()["status"] == "applied").sum()),
        "wall_s": time.perf_counter() - started,
    }


def _run_args(args: tuple) -> dict:
    return run_one(*args)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per doctrine pair: the outcomes over seeds."""

    def reached(x: pd.Series) -> float:
        return float(x.notna().mean())

    def median_years(x: pd.Series) -> float:
        return float(x.median()) if x.notna().any() else float("nan")

    return (
        runs.groupby(["us_doctrine", "cn_doctrine"], sort=False)
        .agg(
            seeds=("seed", "count"),
            share_reaching_resilience=("years_to_resilience", reached),
            median_years_to_resilience=("years_to_resilience", median_years),
            clean_share_last_year=("clean_share_last_year", "mean"),
            defense_fill_mean=("defense_fill_mean", "mean"),
            defense_fill_worst=("defense_fill_worst", "min"),
            fiscal_cost_usd_bn=("fiscal_cost_usd_bn", "mean"),
            us_magnet_price_usd_per_kg=("us_magnet_price_usd_per_kg", "mean"),
        )
        .reset_index()
    )


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table of a small frame (numbers to two decimals)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "n/a" if np.isnan(value) else f"{value:.2f}"
        return str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def figure(summary: pd.DataFrame, path: Path) -> None:
    """Heat maps of the bloc's clean-magnet share in the last year and the US magnet price."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), constrained_layout=True)
    panels = [
        (
            "clean_share_last_year",
            "Bloc magnet demand met without Chinese\nmaterial, last year",
            "{:.0%}",
        ),
        (
            "us_magnet_price_usd_per_kg",
            "Magnet price paid in the US,\nmean over ten years (USD/kg)",
            "{:.0f}",
        ),
        ("fiscal_cost_usd_bn", "US fiscal cost, ten years\n(USD bn)", "{:.1f}"),
    ]
    for ax, (column, title, fmt) in zip(axes, panels, strict=True):
        table = summary.pivot(index="us_doctrine", columns="cn_doctrine", values=column)
        image = ax.imshow(table.to_numpy(), cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(table.columns)), table.columns, rotation=30, ha="right")
        ax.set_yticks(range(len(table.index)), table.index)
        ax.set_xlabel("China's doctrine")
        ax.set_ylabel("US doctrine")
        ax.set_title(title)
        for (i, j), value in np.ndenumerate(table.to_numpy()):
            ax.text(j, i, fmt.format(value), ha="center", va="center", color="white", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(f"{SCENARIO}: US doctrine against China's doctrine, allies follow")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--months", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("docs/alliance-vs-tariffs"))
    args = parser.parse_args(argv)
    jobs = [
        (us, cn, seed, args.months)
        for us in US_DOCTRINES
        for cn in CN_DOCTRINES
        for seed in range(args.seeds)
    ]
    started = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            rows = list(pool.map(_run_args, jobs, chunksize=4))
    else:
        rows = [_run_args(job) for job in jobs]
    runs = pd.DataFrame(rows)
    summary = summarise(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "runs.csv", index=False)
    summary.to_csv(args.out / "summary.csv", index=False)
    (args.out / "summary.md").write_text(markdown_table(summary))
    figure(summary, args.out / "alliance-vs-tariffs.png")
    (args.out / "run.json").write_text(
        json.dumps(
            {
                "scenario": SCENARIO,
                "seeds": args.seeds,
                "runs": len(rows),
                "wall_s": round(time.perf_counter() - started, 1),
            },
            indent=2,
        )
    )
    print(summary.to_string(index=False))
    print(f"{len(rows)} runs in {time.perf_counter() - started:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

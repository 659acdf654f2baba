"""docs/alliance-vs-tariffs.md, the seed question's study, from its batch's stored runs.

The study is the batch spec ``experiments/specs/alliance-vs-tariffs.toml``: every US doctrine
against every China doctrine, allies following the US, at equal tariff intensity, over the same
seeds. This script runs the spec's missing runs into ``docs/alliance-vs-tariffs/batch`` (the
batch runner: finished runs are kept and skipped, a changed spec or engine is refused unless
``--fresh``), reads their outcomes from the Parquet files there
(:func:`experiments.batch.load_outcomes`) and writes, from those numbers only:

- ``docs/alliance-vs-tariffs/summary.csv``: per doctrine pair, each outcome's mean, min and max
  over seeds (years to a share not reached within the horizon are +inf);
- ``docs/alliance-vs-tariffs/alliance-vs-tariffs.png``: heat maps of three outcomes;
- ``docs/alliance-vs-tariffs.md``: the note, its table and its answer in figures.

Usage::

    uv run python docs/make_alliance_vs_tariffs.py [--workers 2] [--stored] [--fresh]

``--stored`` runs nothing and rewrites the note from the runs already stored.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "experiments" / "specs" / "alliance-vs-tariffs.toml"
OUT = REPO / "docs" / "alliance-vs-tariffs"
DOC = REPO / "docs" / "alliance-vs-tariffs.md"
PAIR = ["doctrine.US", "doctrine.CN"]
#: Outcomes in years: a share never reached within the horizon is stored as NaN.
YEARS = ("years_to_half_clean", "years_to_resilience")
#: The note's table: (outcome, column heading, format of a value).
COLUMNS = (
    ("clean_share_year_5", "clean share, year 5", "{:.0%}"),
    ("clean_share_last_year", "clean share, year 10", "{:.0%}"),
    ("years_to_half_clean", "years to 50% clean", "{:.1f}"),
    ("years_to_resilience", "years to 80% clean", "{:.1f}"),
    ("fiscal_cost_usd_bn", "US fiscal cost (USD bn)", "{:.2f}"),
    ("us_magnet_price_mean", "US magnet price, mean (USD/kg)", "{:.1f}"),
    ("us_magnet_price_peak", "US magnet price, peak (USD/kg)", "{:.1f}"),
    ("bloc_magnet_shortage_t", "bloc magnet shortage (kt)", "{:.2f}"),
    ("us_civilian_fill_worst", "US civilian fill, worst month", "{:.2f}"),
    ("defense_fill_worst", "US defence fill, worst month", "{:.2f}"),
)
#: Values shown in thousands of the stored unit.
THOUSANDS = ("bloc_magnet_shortage_t",)


def per_run(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per stored run: its doctrines, seed and every outcome as a column."""
    wide = outcomes.pivot(
        index=["run_id", *PAIR, "seed"], columns="outcome", values="value"
    ).reset_index()
    wide.columns.name = None
    for column in YEARS:
        if column in wide:
            wide[column] = wide[column].fillna(math.inf)
    return wide


def summarise(outcomes: pd.DataFrame, order: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Per doctrine pair: the number of seeds and each outcome's mean, min and max over seeds
    (columns ``<outcome>``, ``<outcome>_min``, ``<outcome>_max``).

    Args:
        outcomes: the batch's stored rows (:func:`experiments.batch.load_outcomes`).
        order: per region, the doctrines in the order rows are listed (the spec's levers).
    """
    runs = per_run(outcomes)
    names = [c for c in runs.columns if c not in ("run_id", *PAIR, "seed")]
    grouped = runs.groupby(PAIR, sort=False)
    summary = grouped[names].mean()
    summary = summary.join(grouped[names].min().add_suffix("_min"))
    summary = summary.join(grouped[names].max().add_suffix("_max"))
    summary.insert(0, "seeds", grouped["seed"].count())
    summary = summary.reset_index()
    if order:
        for column in reversed(PAIR):
            ranks = {name: i for i, name in enumerate(order[column.removeprefix("doctrine.")])}
            summary = summary.sort_values(column, key=lambda s: s.map(ranks), kind="stable")
    return summary.reset_index(drop=True)


def _cell(value: float, fmt: str, low: float, high: float, thousands: bool) -> str:
    if math.isinf(value):
        return "not reached" + (f" (fastest seed {fmt.format(low)})" if math.isfinite(low) else "")
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    divide = 1e3 if thousands else 1.0
    text = fmt.format(value / divide)
    if not math.isclose(low, high, rel_tol=1e-9, abs_tol=1e-12) and not math.isinf(high):
        text += f" ({fmt.format(low / divide)}–{fmt.format(high / divide)})"
    return text


def markdown_table(summary: pd.DataFrame) -> str:
    """The note's table: the mean over seeds with the range over seeds in brackets where the
    seeds differ ("not reached": not within the horizon in some seed)."""
    head = ["US doctrine", "China doctrine", "seeds", *(title for _, title, _ in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in summary.to_dict("records"):
        cells = [row["doctrine.US"], row["doctrine.CN"], str(row["seeds"])]
        for name, _, fmt in COLUMNS:
            cells.append(
                _cell(row[name], fmt, row[f"{name}_min"], row[f"{name}_max"], name in THOUSANDS)
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(summary: pd.DataFrame, path: Path, title: str) -> None:
    """Heat maps of the clean-magnet share in year 10, the US magnet price and fiscal cost."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), constrained_layout=True)
    panels = [
        ("clean_share_last_year", "Bloc magnet demand met without Chinese\nmaterial, year 10"),
        ("us_magnet_price_mean", "Magnet price paid in the US,\nmean over ten years (USD/kg)"),
        ("fiscal_cost_usd_bn", "US fiscal cost, ten years\n(USD bn)"),
    ]
    formats = {name: fmt for name, _, fmt in COLUMNS}
    for ax, (column, label) in zip(axes, panels, strict=True):
        fmt = formats[column]
        table = summary.pivot(index="doctrine.US", columns="doctrine.CN", values=column)
        table = table.loc[summary["doctrine.US"].unique(), summary["doctrine.CN"].unique()]
        image = ax.imshow(table.to_numpy(), cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(table.columns)), table.columns, rotation=30, ha="right")
        ax.set_yticks(range(len(table.index)), table.index)
        ax.set_xlabel("China's doctrine")
        ax.set_ylabel("US doctrine")
        ax.set_title(label)
        for (i, j), value in np.ndenumerate(table.to_numpy()):
            ax.text(j, i, fmt.format(value), ha="center", va="center", color="white", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _years(value: float) -> str:
    return f"80% after {value:.1f} years" if math.isfinite(value) else "80% not reached"


def _outcome(row: pd.Series) -> str:
    return (
        f"{row['clean_share_last_year']:.0%} clean supply in year 10 "
        f"({_years(row['years_to_resilience'])}) at {row['fiscal_cost_usd_bn']:.2f} bn USD "
        f"and {row['us_magnet_price_mean']:.1f} USD/kg"
    )


def paired_gap(runs: pd.DataFrame, cn: str, outcome: str) -> pd.Series:
    """Per seed, the alliance builder's value of ``outcome`` minus the tariff hawk's against
    China's doctrine ``cn`` (the same seeds: common random numbers)."""

    def of(us: str) -> pd.Series:
        rows = runs[(runs["doctrine.US"] == us) & (runs["doctrine.CN"] == cn)]
        return rows.set_index("seed")[outcome]

    return (of("alliance-builder") - of("tariff-hawk")).dropna()


def findings(summary: pd.DataFrame, outcomes: pd.DataFrame) -> list[str]:
    """The answer in figures: per China doctrine, tariffs alone against the alliance (means,
    and the alliance's gain in clean supply paired by seed) and the US doctrine with the most
    clean supply in year 10; then against how many China doctrines the alliance gains in every
    seed, and what the doctrines without tariffs give.

    Args:
        summary: :func:`summarise` of ``outcomes``.
        outcomes: the batch's stored rows.
    """
    lines = []
    runs = per_run(outcomes)
    by_pair = summary.set_index(PAIR)
    china = list(summary["doctrine.CN"].unique())
    compared = {"tariff-hawk", "alliance-builder"} <= set(summary["doctrine.US"])
    wins, costs = 0, []
    for cn in china:
        rows = summary[summary["doctrine.CN"] == cn]
        best = rows.loc[rows["clean_share_last_year"].idxmax(), "doctrine.US"]
        if not compared:
            lines.append(f"- Against `{cn}`: most clean supply with `{best}`.")
            continue
        hawk, alliance = by_pair.loc[("tariff-hawk", cn)], by_pair.loc[("alliance-builder", cn)]
        gap = paired_gap(runs, cn, "clean_share_last_year")
        wins += bool(len(gap)) and bool((gap > 0).all())
        costs.append(alliance["fiscal_cost_usd_bn"])
        lines.append(
            f"- Against `{cn}`: tariffs alone give {_outcome(hawk)}; the alliance "
            f"{_outcome(alliance)}. Alliance minus tariffs in year 10, seed by seed: "
            f"{100 * gap.mean():+.0f} points ({100 * gap.min():+.0f} to {100 * gap.max():+.0f}). "
            f"Most clean supply: `{best}`."
        )
    if compared:
        lines.append(
            f"- The alliance gives more clean supply in year 10 than tariffs alone in every seed "
            f"against {wins} of China's {len(china)} doctrines, for "
            f"{min(costs):.2f}-{max(costs):.2f} bn USD over the horizon; tariffs cost the US "
            "state nothing."
        )
    others = summary[~summary["doctrine.US"].isin(["tariff-hawk", "alliance-builder"])]
    if not others.empty:
        names = ", ".join(f"`{n}`" for n in others["doctrine.US"].unique())
        lines.append(
            f"- Without a tariff ({names}): {others['clean_share_last_year'].min():.0%}-"
            f"{others['clean_share_last_year'].max():.0%} clean supply in year 10, US magnets "
            f"at {others['us_magnet_price_mean'].min():.1f}-"
            f"{others['us_magnet_price_mean'].max():.1f} USD/kg on average."
        )
    return lines


def note(summary: pd.DataFrame, outcomes: pd.DataFrame, manifest: dict) -> str:
    """The markdown note, every figure in it from the stored ``outcomes`` and their
    ``summary``."""
    counts = manifest["counts"]
    seeds = ", ".join(str(s) for s in manifest["seeds"])
    body = f"""\
# Alliance or tariffs? Every US doctrine against every China doctrine

`{manifest["scenario"]}`: the world of January 2025 (baseline-2024's calibrated world, with
Myanmar's heavy-element feed cut for two years) runs {manifest["months"] // 12} years. The US seat
plays each of its doctrines against each of China's; Japan, the EU and Australia follow the US.
The study is the batch spec `experiments/specs/alliance-vs-tariffs.toml`, run by the batch runner
({counts["runs_completed"]} runs: {counts["lever_settings"]} doctrine pairs x {counts["seeds"]}
seeds, the same seeds ({seeds}) for every pair, so pairs differ by their doctrines and not by
their draws). Every figure below is read from the runs stored in
`docs/alliance-vs-tariffs/batch` (spec hash `{manifest["spec_hash"]}`, engine hash
`{manifest["engine_hash"]}`). Regenerate the runs, the table and the figure with

```sh
uv run python docs/make_alliance_vs_tariffs.py --workers 2   # --stored: from the stored runs
```

or run the spec with `chokepoint batch` and read it with `chokepoint report` (docs/experiments.md).

**Equal intensities.** The two doctrines that set tariffs end at the same tariff: 50% on Chinese
magnets and metal (two 25% tranches, the Section 301 magnet rate from 2026). `tariff-hawk` adds
a tranche a quarter; `alliance-builder` sets it at once as the alliance's common external tariff
and adds its resilience programme (a 110 USD/kg NdPr floor paid as a contract for difference,
capex subsidies for separation and magnets, two months of stocks, pooled offtake and an
alliance fund). `dealmaker-resilience` cuts tariffs a step a turn and proposes
deals (its tariffs down against China's restrictions suspended) while subsidising capex and
holding stocks; `stockpiler` holds strategic stocks. Every China doctrine proposes deals, as
the scenario's China seat does.

**Outcomes**, each a number per run; the table gives the mean over seeds and, in brackets, the
range over seeds where they differ:

- **clean share**: the share of the bloc's (US, JP, EU, AU) magnet demand met with magnets that
  contain no Chinese material (traced through every stage, docs/model.md "Provenance"), over
  the fifth and the tenth year;
- **years to 50% / 80% clean**: years until that share holds for twelve consecutive months
  ("not reached": not within the horizon in at least one seed);
- **US fiscal cost**: US spending on its policies over the horizon (USD bn);
- **US magnet price**: the price US buyers pay, mean and peak month (USD/kg);
- **bloc magnet shortage**: magnet demand of the bloc not met, summed over the horizon (kt);
- **fill**: the worst month's share of US civilian (mean over sectors) and defence magnet
  demand met.

![US doctrine against China's doctrine](alliance-vs-tariffs/alliance-vs-tariffs.png)

{markdown_table(summary)}
**The answer in figures** (mean over seeds):

{chr(10).join(findings(summary, outcomes))}

These are the model's answers under its known limits (docs/model.md): no new Western mine can
come in within ten years without a doctrine that funds one, the heavy-oxide market is thin, and
the alliance's budgets are the doctrine's defaults, below the US commitments of 2025 (issue 12).
"""
    return body


def write_study(batch: Path, out: Path, doc: Path) -> pd.DataFrame:
    """The summary, figure and note from the runs stored in ``batch``; returns the summary.

    Raises:
        SystemExit: if ``batch`` holds no runs.
    """
    import json

    from experiments.batch import load_outcomes
    from experiments.spec import spec_from_dict

    outcomes = load_outcomes(batch)
    if outcomes.empty:
        raise SystemExit(f"{batch}: no stored runs; run this script without --stored first")
    manifest = json.loads((batch / "manifest.json").read_text(encoding="utf-8"))
    spec_json = json.loads((batch / "spec.json").read_text(encoding="utf-8"))
    spec = spec_from_dict(spec_json, str(batch / "spec.json"))
    summary = summarise(outcomes, spec.levers.doctrines)
    out.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out / "summary.csv", index=False)
    figure(
        summary,
        out / "alliance-vs-tariffs.png",
        f"{spec.scenario}: US doctrine against China's, allies follow",
    )
    doc.write_text(note(summary, outcomes, manifest), encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=SPEC, help="the study's batch spec")
    parser.add_argument("--out", type=Path, default=OUT, help="summary, figure and batch/ here")
    parser.add_argument("--doc", type=Path, default=DOC, help="the note written")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stored", action="store_true", help="run nothing; use stored runs")
    parser.add_argument("--fresh", action="store_true", help="delete the stored runs first")
    args = parser.parse_args(argv)
    batch = args.out / "batch"
    if not args.stored:
        from experiments.batch import BatchError, run_batch
        from experiments.spec import SpecError

        try:
            result = run_batch(
                args.spec, batch, workers=args.workers, progress=False, fresh=args.fresh
            )
        except (BatchError, SpecError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if result.failed:
            print(f"error: {result.failed} runs failed; see {batch / 'failures'}", file=sys.stderr)
            return 1
    summary = write_study(batch, args.out, args.doc)
    print(markdown_table(summary))
    print(f"{args.doc} written from {len(summary)} doctrine pairs stored in {batch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

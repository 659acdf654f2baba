"""docs/alliance-vs-tariffs.md, the seed question's study, from its batch's stored runs.

The study is the batch spec ``experiments/specs/alliance-vs-tariffs.toml``: each US strategy
(tariffs alone or the allied resilience programme, each with or without a parallel deal with
China) against each China doctrine, allies following the US, at equal tariff intensity, over a
Latin hypercube of sampled futures that every pairing meets (common random numbers). This
script runs the spec's missing runs into ``docs/alliance-vs-tariffs/batch`` (the batch runner:
finished runs are kept and skipped, a changed spec or engine is refused unless ``--fresh``),
reads their outcomes from the Parquet files there (:func:`experiments.batch.load_outcomes`)
and writes, from those numbers only:

- ``docs/alliance-vs-tariffs/summary.csv``: per strategy pair, each outcome's median, 10th and
  90th percentile over the sampled futures (years to a share not reached within the horizon
  are +inf);
- ``docs/alliance-vs-tariffs/alliance-vs-tariffs.png``: the distributions over futures of four
  outcomes, per pairing;
- ``docs/alliance-vs-tariffs.md``: the note: its tables, the paired differences, the
  scenario-discovery section (feature scores, a PRIM box of the spec's case) and its answer
  in figures.

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
#: The two US doctrines compared, and the suffix of their parallel-deal variants.
HAWK, ALLIANCE, DEAL = "tariff-hawk", "alliance-builder", "+deal"
#: Outcomes in years: a share never reached within the horizon is stored as NaN.
YEARS = ("years_to_half_clean", "years_to_resilience")
#: The note's table: (outcome, column heading, format of a value).
COLUMNS = (
    ("clean_share_year_5", "clean share, year 5", "{:.0%}"),
    ("clean_share_last_year", "clean share, year 10", "{:.0%}"),
    ("years_to_half_clean", "years to 50% clean", "{:.1f}"),
    ("years_to_resilience", "years to 80% clean", "{:.1f}"),
    ("fiscal_cost_usd_bn", "US fiscal cost (USD bn)", "{:.2f}"),
    ("us_magnet_price_mean", "US magnet price, mean (USD/kg)", "{:.0f}"),
    ("us_magnet_price_peak", "US magnet price, peak (USD/kg)", "{:.0f}"),
    ("bloc_magnet_shortage_t", "bloc magnet shortage (kt)", "{:.1f}"),
    ("us_civilian_fill_worst", "US civilian fill, worst month", "{:.2f}"),
    ("defense_fill_worst", "US defence fill, worst month", "{:.2f}"),
    ("us_china_deal_months", "months of a US-China deal", "{:.0f}"),
)
#: Values shown in thousands of the stored unit.
THOUSANDS = ("bloc_magnet_shortage_t", "us_magnet_shortage_t")
#: Paired differences shown: (outcome, heading, format, shown in thousands).
PAIRED = (
    ("clean_share_last_year", "clean share, year 10 (points)", "{:+.0f}", 100.0),
    ("bloc_magnet_shortage_t", "bloc magnet shortage (kt)", "{:+.1f}", 1e-3),
    ("us_magnet_price_mean", "US magnet price, mean (USD/kg)", "{:+.1f}", 1.0),
    ("fiscal_cost_usd_bn", "US fiscal cost (USD bn)", "{:+.2f}", 1.0),
)
#: Outcomes whose feature scores the note shows.
SCORED = (
    "clean_share_last_year",
    "bloc_magnet_shortage_t",
    "us_magnet_price_mean",
    "fiscal_cost_usd_bn",
)
#: Readable names of the sampled uncertainties and of the levers.
LABELS = {
    "end_users.*.growth_per_year": "demand growth (x the scenario's 8.7%/yr)",
    "uncertainty.project_delay_share.mode": "project delay (most likely slip, share of lead time)",
    "events.mm-kachin-seizure.months": "Myanmar cut, months",
    "events.mm-kachin-seizure.share": "Myanmar cut, change of its mines' capacity",
    "orders.cn-mining-quota.growth_per_year": "China's mining quota, growth a year",
    "orders.cn-ion-clay-quota.growth_per_year": "China's ion-clay quota, growth a year",
    "doctrine.US": "US strategy",
    "doctrine.CN": "China's doctrine",
    "seed": "seed",
}
#: Cases boxed with PRIM besides the spec's ``[discovery] case``: (expression, label).
EXTRA_CASES = (
    (
        "clean_share_last_year < 0.5 or bloc_magnet_shortage_t > 1000",
        "dependent or short: under half the bloc's magnets clean in year 10, or over 1 kt missing",
    ),
)
#: Civilian US sectors with a fill-rate outcome of their own.
SECTORS = ("ev", "wind", "electronics", "industrial", "other")


def per_run(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per stored run, in run-id order: its levers, sample, seed, sampled values and
    every outcome as a column (years never reached as NaN, as stored)."""
    from experiments.report import wide_runs

    return wide_runs(outcomes).sort_values("run_id", kind="mergesort").reset_index(drop=True)


def _with_inf(runs: pd.DataFrame) -> pd.DataFrame:
    runs = runs.copy()
    for column in YEARS:
        if column in runs:
            runs[column] = runs[column].fillna(math.inf)
    return runs


def _quantile(values: pd.Series, q: float) -> float:
    """A quantile with +inf allowed (the lower order statistic, as in ``method="lower"``,
    so a median of years never interpolates with infinity)."""
    return float(np.quantile(values.to_numpy(dtype=float), q, method="lower"))


def summarise(outcomes: pd.DataFrame, order: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Per strategy pair: the number of futures and each outcome's median, 10th and 90th
    percentile over them (columns ``<outcome>``, ``<outcome>_p10``, ``<outcome>_p90``), and for
    years how many futures reach the share (``<outcome>_reached``).

    Args:
        outcomes: the batch's stored rows (:func:`experiments.batch.load_outcomes`).
        order: per region, the doctrines in the order rows are listed (the spec's levers).
    """
    runs = _with_inf(per_run(outcomes))
    names = sorted(set(outcomes["outcome"]))
    rows = []
    for key, group in runs.groupby(PAIR, sort=False):
        row = dict(zip(PAIR, key, strict=True))
        row["futures"] = len(group)
        for name in names:
            row[name] = _quantile(group[name], 0.5)
            row[f"{name}_p10"] = _quantile(group[name], 0.1)
            row[f"{name}_p90"] = _quantile(group[name], 0.9)
            if name in YEARS:
                row[f"{name}_reached"] = int(np.isfinite(group[name]).sum())
        rows.append(row)
    summary = pd.DataFrame(rows)
    if order:
        for column in reversed(PAIR):
            ranks = {name: i for i, name in enumerate(order[column.removeprefix("doctrine.")])}
            summary = summary.sort_values(column, key=lambda s: s.map(ranks), kind="stable")
    return summary.reset_index(drop=True)


def _cell(row: dict, name: str, fmt: str) -> str:
    divide = 1e3 if name in THOUSANDS else 1.0
    median, low, high = row[name], row[f"{name}_p10"], row[f"{name}_p90"]

    def show(value: float) -> str:
        return "n/r" if math.isinf(value) else fmt.format(value / divide)

    if name in YEARS:
        reached = f"{row[f'{name}_reached']}/{row['futures']}"
        if math.isinf(low):
            return f"not reached ({reached})"
        return f"{show(median)} ({show(low)}–{show(high)}; {reached})"
    if math.isnan(median):
        return "n/a"
    text = show(median)
    if show(low) != show(high):
        text += f" ({show(low)}–{show(high)})"
    return text


def markdown_table(summary: pd.DataFrame) -> str:
    """The note's table: the median over futures with the 10th–90th percentile in brackets
    (years: also in how many futures the share is reached; "n/r": not reached)."""
    head = ["US strategy", "China doctrine", "futures", *(title for _, title, _ in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in summary.to_dict("records"):
        cells = [row["doctrine.US"], row["doctrine.CN"], str(row["futures"])]
        cells += [_cell(row, name, fmt) for name, _, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def paired(runs: pd.DataFrame, first: str, second: str, cn: str, outcome: str) -> pd.Series:
    """Per sampled future (sample, seed), ``second``'s value of ``outcome`` minus ``first``'s
    against China's doctrine ``cn``: the same futures and seeds (common random numbers)."""

    def of(us: str) -> pd.Series:
        rows = runs[(runs["doctrine.US"] == us) & (runs["doctrine.CN"] == cn)]
        return rows.set_index(["sample", "seed"])[outcome]

    return (of(second) - of(first)).dropna()


def comparisons(strategies: list[str]) -> list[tuple[str, str, str]]:
    """The paired comparisons the note shows: (label, first, second)."""
    pairs = [("alliance - tariffs", HAWK, ALLIANCE)]
    pairs += [
        (f"{base} with a deal - without", base, base + DEAL)
        for base in (HAWK, ALLIANCE)
        if base + DEAL in strategies
    ]
    if ALLIANCE + DEAL in strategies and HAWK + DEAL in strategies:
        pairs.append(("alliance - tariffs, both with a deal", HAWK + DEAL, ALLIANCE + DEAL))
    return [p for p in pairs if {p[1], p[2]} <= set(strategies)]


def listed(runs: pd.DataFrame, region: str, order: dict[str, list[str]] | None) -> list[str]:
    """The doctrines of ``region`` in the runs, in the spec's lever order where given."""
    found = set(runs[f"doctrine.{region}"])
    if order and region in order:
        return [d for d in order[region] if d in found]
    return sorted(found)


def paired_table(runs: pd.DataFrame, order: dict[str, list[str]] | None = None) -> str:
    """The paired differences (second minus first, same futures): mean over futures with the
    lowest and highest in brackets, per comparison and China doctrine."""
    strategies = listed(runs, "US", order)
    head = ["comparison", "China doctrine", *(title for _, title, _, _ in PAIRED)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for label, first, second in comparisons(strategies):
        for cn in listed(runs, "CN", order):
            cells = [label, cn]
            for name, _, fmt, factor in PAIRED:
                gap = paired(runs, first, second, cn, name) * factor
                cells.append(
                    f"{fmt.format(gap.mean())} ({fmt.format(gap.min())} to {fmt.format(gap.max())})"
                )
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(
    runs: pd.DataFrame, path: Path, title: str, order: dict[str, list[str]] | None = None
) -> None:
    """Box plots over the sampled futures: per China doctrine, one box per US strategy, for
    the clean share in year 10, the bloc's magnet shortage, the US magnet price and fiscal cost."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("clean_share_last_year", "Bloc magnet demand met without Chinese material, year 10", 1),
        ("bloc_magnet_shortage_t", "Bloc magnet shortage over ten years (kt)", 1e-3),
        ("us_magnet_price_mean", "US magnet price, ten-year mean (USD/kg)", 1),
        ("fiscal_cost_usd_bn", "US fiscal cost over ten years (USD bn)", 1),
    ]
    strategies, china = listed(runs, "US", order), listed(runs, "CN", order)
    colours = plt.cm.tab10.colors
    fig, axes = plt.subplots(2, 2, figsize=(15, 9), constrained_layout=True)
    width = 0.8 / len(strategies)
    for ax, (column, label, factor) in zip(axes.flat, panels, strict=True):
        for j, us in enumerate(strategies):
            data = [
                runs[(runs["doctrine.US"] == us) & (runs["doctrine.CN"] == cn)][column] * factor
                for cn in china
            ]
            positions = [i + (j - (len(strategies) - 1) / 2) * width for i in range(len(china))]
            box = ax.boxplot(
                data,
                positions=positions,
                widths=width * 0.9,
                patch_artist=True,
                whis=(0, 100),
                medianprops={"color": "black"},
            )
            for patch in box["boxes"]:
                patch.set_facecolor(colours[j % len(colours)])
                patch.set_alpha(0.75)
            ax.plot([], [], color=colours[j % len(colours)], lw=8, alpha=0.75, label=us)
        ax.set_xticks(range(len(china)), china, rotation=15)
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    axes.flat[0].legend(loc="best", fontsize=9)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _share(count: int, total: int) -> str:
    return f"{count} of {total}"


def findings(runs: pd.DataFrame, order: dict[str, list[str]] | None = None) -> list[str]:
    """The answer in figures, from the runs (paired by future where two strategies are
    compared): clean supply and years to resilience, shortages by sector, fiscal cost,
    consumer prices and the parallel deal.

    Args:
        runs: :func:`per_run` of the batch's stored rows.
        order: per region, the doctrines in the order they are listed (the spec's levers).
    """
    lines = []
    strategies, china = listed(runs, "US", order), listed(runs, "CN", order)
    full = _with_inf(runs)

    def of(us: str) -> pd.DataFrame:
        return full[full["doctrine.US"] == us]

    if {HAWK, ALLIANCE} <= set(strategies):
        gaps = pd.concat(
            [paired(runs, HAWK, ALLIANCE, cn, "clean_share_last_year") for cn in china]
        )
        hawk, alliance = of(HAWK), of(ALLIANCE)
        lines.append(
            f"- **Clean supply.** The alliance gives more of the bloc's magnets without Chinese "
            f"material in year 10 than tariffs alone in {_share(int((gaps > 0).sum()), len(gaps))} "
            f"paired futures (every China doctrine x every sampled future), by "
            f"{100 * gaps.mean():+.0f} points on average ({100 * gaps.min():+.0f} to "
            f"{100 * gaps.max():+.0f}); median clean share in year 10: "
            f"{alliance['clean_share_last_year'].median():.0%} against "
            f"{hawk['clean_share_last_year'].median():.0%}."
        )
        reach = {us: int(np.isfinite(of(us)["years_to_resilience"]).sum()) for us in strategies}
        half = {us: of(us)["years_to_half_clean"] for us in strategies}
        lines.append(
            "- **Years to resilience.** 80% clean supply for twelve months running is reached "
            "within ten years in "
            + "; ".join(
                f"{_share(reach[us], len(of(us)))} futures with `{us}`" for us in strategies
            )
            + ". Half the bloc's magnets are clean after a median of "
            + "; ".join(
                f"{_quantile(half[us], 0.5):.1f} years with `{us}`"
                if math.isfinite(_quantile(half[us], 0.5))
                else f"more than ten years with `{us}`"
                for us in strategies
            )
            + "."
        )
    sectors = [f"us_{s}_fill_worst" for s in SECTORS if f"us_{s}_fill_worst" in runs]
    if sectors:
        alike = int((runs[sectors].max(axis=1) - runs[sectors].min(axis=1) < 1e-9).sum())
        short = runs[runs["bloc_magnet_shortage_t"] > 1.0]
        by_cn = short.groupby("doctrine.CN").size().reindex(china, fill_value=0)
        lines.append(
            f"- **Shortages by sector.** The bloc goes short of magnets (over 1 t in ten years) "
            f"in {_share(len(short), len(runs))} runs: "
            + ", ".join(f"{n} against `{cn}`" for cn, n in by_cn.items())
            + f". US civilian sectors ({', '.join(SECTORS)}) are rationed alike (the same "
            f"worst-month fill in {_share(alike, len(runs))} runs): their worst month is "
            f"{runs['us_civilian_fill_worst'].min():.2f} of demand met at the lowest; defence, "
            f"served first, never falls below {runs['defense_fill_worst'].min():.2f}. US "
            f"magnets missing over ten years: median "
            f"{runs['us_magnet_shortage_t'].median() / 1e3:.2f} kt, at most "
            f"{runs['us_magnet_shortage_t'].max() / 1e3:.2f} kt."
        )
    cost = ", ".join(
        f"`{us}` {of(us)['fiscal_cost_usd_bn'].median():.2f} "
        f"({_quantile(of(us)['fiscal_cost_usd_bn'], 0.1):.2f}-"
        f"{_quantile(of(us)['fiscal_cost_usd_bn'], 0.9):.2f})"
        for us in strategies
    )
    bloc = ", ".join(
        f"`{us}` {of(us)['bloc_fiscal_cost_usd_bn'].median():.2f}" for us in strategies
    )
    lines.append(
        f"- **Fiscal cost** over ten years, median (10th-90th percentile) USD bn: US {cost}; the "
        f"bloc's states together: {bloc}."
    )
    price = ", ".join(
        f"`{us}` {of(us)['us_magnet_price_mean'].median():.1f} "
        f"(peak month {of(us)['us_magnet_price_peak'].median():.0f})"
        for us in strategies
    )
    allies = ", ".join(
        f"`{us}` {of(us)['allies_magnet_price_mean'].median():.1f}" for us in strategies
    )
    lines.append(
        f"- **Consumer prices.** Magnets in the US cost a median of {price} USD/kg over the "
        f"decade; in Japan and the EU: {allies} USD/kg."
    )
    if "us_china_deal_months" in runs:
        months = runs.groupby(PAIR)["us_china_deal_months"]
        dealt = [
            cn
            for cn in china
            if (runs[runs["doctrine.CN"] == cn]["us_china_deal_months"] > 0).any()
        ]
        parts = []
        for cn in dealt:
            held = ", ".join(
                f"`{us}` {months.median()[(us, cn)]:.0f} ({months.min()[(us, cn)]:.0f}-"
                f"{months.max()[(us, cn)]:.0f})"
                for us in strategies
            )
            parts.append(f"against `{cn}`: {held}")
        none = [f"`{cn}`" for cn in china if cn not in dealt]
        lines.append(
            "- **The parallel deal.** Months in which a US-China deal held, median (range) over "
            "the futures, "
            + ("; ".join(parts) if parts else "none in any run")
            + (f"; no US-China deal held in any run against {', '.join(none)}" if none else "")
            + ". China's doctrines propose deals too, so a US strategy that does not propose "
            "can still accept one; what the US's own proposals add is in the table of paired "
            "differences above."
        )
    return lines


def _label(factor: str) -> str:
    return LABELS.get(factor, factor)


def discovery_section(spec, runs: pd.DataFrame) -> str:
    """Which assumptions drive the results: extra-trees feature scores of the outcomes in
    :data:`SCORED` over the sampled uncertainties and the levers, and the PRIM box of the
    spec's ``[discovery] case`` (experiments/discovery.py, as ``chokepoint report`` does).

    The scores are the same in every process (fixed trees' seed, rows in canonical order).
    """
    from experiments import discovery

    x = discovery.factors(spec, runs)
    scores = discovery.feature_scores(x, runs, [n for n in SCORED if n in runs])
    order = scores.mean(axis=1).sort_values(ascending=False, kind="mergesort").index
    head = ["factor", *scores.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for factor in order:
        cells = [_label(factor), *(f"{scores.loc[factor, c]:.2f}" for c in scores.columns)]
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"

    cases = [spec]
    for case, case_label in EXTRA_CASES:
        if case != spec.discovery.case:
            terms = spec.discovery.model_copy(update={"case": case, "case_label": case_label})
            cases.append(spec.model_copy(update={"discovery": terms}))
    boxes = [f"- {prim_text(discovery, case_spec, x, runs)}" for case_spec in cases]
    return (
        "Extra-trees feature scores (each column sums to 1: the share of the outcome's spread "
        "over the runs each factor explains; experiments/discovery.py):\n\n"
        + table
        + "\nPRIM boxes (the densest box on the peeling trajectory that still holds at least "
        "half the cases; the first case is the spec's `[discovery]` case, which "
        "`chokepoint report` also boxes with CART):\n\n" + "\n".join(boxes) + "\n"
    )


def prim_text(discovery, spec, x: pd.DataFrame, runs: pd.DataFrame) -> str:
    """The PRIM box of ``spec``'s case of interest in words, with its statistics."""
    flag, label = discovery.case_of_interest(spec, runs)
    box, _ = discovery.prim_box(spec, x, flag)
    cases = f"{label} ({_share(int(flag.sum()), len(flag))} runs)"
    if box is None:
        return f"{cases}: PRIM finds no box (no run, or every run, is a case)."
    stats = box.stats
    limits = "; ".join(
        f"{_label(r['factor'])} in {r['limits']}" for r in box.limits.to_dict("records")
    )
    return (
        f"{cases}: **{limits or 'the whole space'}**. The box holds {stats['coverage']:.0%} of "
        f"the cases (coverage); {stats['density']:.0%} of the runs in it are cases (density), "
        f"against {flag.mean():.0%} of all runs; it holds {stats['mass']:.0%} of the runs."
    )


def _uncertainty_lines(spec) -> str:
    lines = []
    for path, unc in spec.uncertainties.items():
        how = "x the scenario's value" if unc.apply == "scale" else ""
        lines.append(f"- {_label(path)} (`{path}`): {unc.low:g} to {unc.high:g} {how}".rstrip())
    return "\n".join(lines)


def note(summary: pd.DataFrame, runs: pd.DataFrame, manifest: dict, spec) -> str:
    """The markdown note, every figure in it from the stored runs (``runs``: :func:`per_run`)
    and their ``summary``."""
    counts = manifest["counts"]
    order = spec.levers.doctrines
    strategies = ", ".join(f"`{s}`" for s in listed(runs, "US", order))
    china = ", ".join(f"`{s}`" for s in listed(runs, "CN", order))
    futures = counts["samples"] * counts["seeds"]
    body = f"""\
# Alliance or tariffs, with or without a deal? Each US strategy against each China doctrine

`{manifest["scenario"]}`: the world of January 2025 (baseline-2024's calibrated world, with
Myanmar's heavy-element feed cut by the Kachin seizure) runs {manifest["months"] // 12} years. The
US seat plays each strategy ({strategies}) against each of China's doctrines ({china}); Japan,
the EU and Australia follow the US. The study is the batch spec
`experiments/specs/alliance-vs-tariffs.toml`, run by the batch runner
({counts["runs_completed"]} runs: {counts["lever_settings"]} strategy pairs x {futures}
sampled futures, a Latin hypercube of {counts["samples"]} points x {counts["seeds"]} seed). Every
pairing meets the same futures with the same seed (common random numbers), so two strategies
differ by what they do and not by their draws. Every figure below is read from the runs stored
in `docs/alliance-vs-tariffs/batch` (spec hash `{manifest["spec_hash"]}`, engine hash
`{manifest["engine_hash"]}`). Regenerate the runs, the tables and the figure with

```sh
uv run python docs/make_alliance_vs_tariffs.py --workers 2   # --stored: from the stored runs
```

or run the spec with `chokepoint batch` and read it with `chokepoint report` (docs/experiments.md;
the report adds CART boxes, pair plots and regret).

**Strategies at equal intensity.** Both US doctrines end at the same tariff: 50% on Chinese
magnets and metal (two 25% tranches, the Section 301 magnet rate from 2026, facts §4e).
`tariff-hawk` adds a tranche a quarter and spends nothing. `alliance-builder` sets the tariff at
once as the alliance's common external tariff and runs the resilience programme at the budgets
of the 2025 US commitments (facts §4f, §7): 400 M USD of equity in MP Materials, a ten-year
110 USD/kg NdPr floor paid as a contract for difference to US NdPr producers, 30% of new
separation and magnet plants' capex, four months of strategic stocks (Project Vault's 60 days
plus the DLA's purchases), and an alliance fund of 1 bn USD a year (EXIM's 10 bn USD as ten
years of lending capacity, drawn only as projects commit); the DoD's 100% offtake of MP's
magnets is left out (the engine's offtake guarantee would take them off the market). The
`+deal` variants are the same doctrines proposing deals to China in parallel (their tariffs on
Chinese magnets and metal cut to 10% for a year against China's restrictions suspended or
purchase commitments, as in the Busan deal of October 2025, facts §4d). Every China doctrine
proposes deals too, as the scenario's China seat does. A proposer refused by the same partner
waits longer each time before it proposes again (6, 12, then 24 months; any agreed deal resets
the count): negotiators do not re-table a refused offer every quarter.

**Sampled futures** (uniform over the range, the same {futures} for every pairing):

{_uncertainty_lines(spec)}

**Outcomes**, each a number per run; the table gives the median over the futures and, in
brackets, the 10th to 90th percentile:

- **clean share**: the share of the bloc's (US, JP, EU, AU) magnet demand met with magnets that
  contain no Chinese material (traced through every stage, docs/model.md "Provenance"), over
  the fifth and the tenth year;
- **years to 50% / 80% clean**: years until that share holds for twelve consecutive months,
  and in how many futures it does within the horizon ("n/r": not reached);
- **US fiscal cost**: US spending on its policies over the horizon (USD bn);
- **US magnet price**: the price US buyers pay, mean and peak month (USD/kg);
- **bloc magnet shortage**: magnet demand of the bloc not met, summed over the horizon (kt);
- **fill**: the worst month's share of US civilian (mean over sectors) and defence magnet
  demand met;
- **months of a US-China deal**: months in which a deal between the two held.

![Distributions over the sampled futures](alliance-vs-tariffs/alliance-vs-tariffs.png)

{markdown_table(summary)}
**Paired differences** (the second strategy minus the first in the same future and seed: mean
over the {futures} futures, lowest and highest in brackets):

{paired_table(runs, order)}
**The answer in figures:**

{chr(10).join(findings(runs, order))}

## What drives the results

{discovery_section(spec, runs)}
**Two results that look odd, and why they are the model's economics** (traced run by run in
docs/notes/issue12-review.md):

- *Defence fill stays at 1 even against the coercive China*, whose licences refuse US defence
  users outright: US defence needs about 41 t of magnets a month (6% of US demand), is served
  first (DPAS rated orders) and holds six months of cover; in the run traced (tariffs against
  the coercive China, the first future), magnets from outside China reaching the US never fell
  below about 60 t a month. Civilians take the shortage. Allies' defence users are refused
  too wherever China licenses their imports (its licences screen end use at every
  destination), but with no priority order of their own they are served with their civilians,
  pro rata, from what arrives from elsewhere.
- *A parallel deal can lower the tariff strategy's clean share*: the deal cuts the tariff on
  Chinese metal as well as magnets, so for its year (and the quarters the tariff takes to climb
  back) Chinese NdPr metal undercuts the few metal makers outside China, which leave and do not
  come back. The bloc then makes more of its own magnets, from Chinese metal, which is not
  clean: the midstream chokepoint. The paired differences spread widely, since the deals also
  change the order of the allies' own deals with China.

These are the model's answers under its known limits (docs/model.md): no new Western mine can
come in within ten years without a doctrine that funds one, the heavy-oxide market is thin,
civilian sectors are rationed alike, and the futures are {futures} points of a Latin hypercube
with one seed each: the percentiles are those of a small sample.
"""
    return body


def write_study(batch: Path, out: Path, doc: Path, spec_path: Path = SPEC) -> pd.DataFrame:
    """The summary, figure and note from the runs stored in ``batch``; returns the summary.

    The spec is read from ``spec_path``, which must be the one the runs were made with up to its
    report-only keys (the ``[discovery]`` case, the ranking): those may change without a rerun.

    Raises:
        SystemExit: if ``batch`` holds no runs, or they were made with another spec.
    """
    import json

    from experiments.batch import load_outcomes, make_plan
    from experiments.spec import load_spec, results_hash

    outcomes = load_outcomes(batch)
    if outcomes.empty:
        raise SystemExit(f"{batch}: no stored runs; run this script without --stored first")
    manifest = json.loads((batch / "manifest.json").read_text(encoding="utf-8"))
    spec, text = load_spec(spec_path)
    if results_hash(make_plan(spec, text, spec_path.parent).text) != manifest["spec_hash"]:
        raise SystemExit(
            f"{batch}: its runs were made with another version of {spec_path}; run this script "
            "without --stored (add --fresh to start afresh)"
        )
    summary = summarise(outcomes, spec.levers.doctrines)
    runs = per_run(outcomes)
    out.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out / "summary.csv", index=False)
    figure(
        runs,
        out / "alliance-vs-tariffs.png",
        f"{spec.scenario}: US strategy against China's doctrine over "
        f"{manifest['counts']['samples'] * manifest['counts']['seeds']} sampled futures",
        spec.levers.doctrines,
    )
    doc.write_text(note(summary, runs, manifest, spec), encoding="utf-8")
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
    summary = write_study(batch, args.out, args.doc, args.spec)
    print(markdown_table(summary))
    print(f"{args.doc} written from {len(summary)} strategy pairs stored in {batch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

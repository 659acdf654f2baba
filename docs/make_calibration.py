"""Regenerate the calibration tables of docs/model.md from runs.

Runs each historical scenario (`world.history`: model beside the observed series and their
bands), and the baseline's ten-year path over several seeds (China's share of each stage and
each price's range against its start), then writes the tables between the
``<!-- calibration:start -->`` and ``<!-- calibration:end -->`` markers of docs/model.md.

    uv run python docs/make_calibration.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from world import World, load_scenario  # noqa: E402
from world.history import run_history  # noqa: E402

MODEL_MD = REPO / "docs" / "model.md"
START, END = "<!-- calibration:start -->", "<!-- calibration:end -->"
HISTORICAL = ("baseline-2024", "quota-2010", "april-2025-licensing")
STAGES = ("concentrate", "oxide_light", "oxide_heavy", "metal", "magnet")


def _number(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if unit == "year":
        year = int(value)
        return f"{year}-{round((value - year) * 12) + 1:02d}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def history_tables(seed: int) -> str:
    """One table per historical scenario: every observed point and check beside the model."""
    parts = []
    for name in HISTORICAL:
        _, _, table = run_history(name, seed=seed)
        scored = table[table["ok"].notna()]
        passed = int(scored["ok"].sum())
        parts.append(f"#### `{name}` (seed {seed}): {passed} of {len(scored)} checks in band\n")
        parts.append("| series | check | observed | model | band | |")
        parts.append("| --- | --- | --- | --- | --- | --- |")
        for row in table.itertuples(index=False):
            if row.ok is None or row.ok is np.nan or str(row.ok) == "<NA>":
                verdict, band = "shown", ""
            else:
                verdict = "ok" if bool(row.ok) else "**out**"
                band = f"{_number(row.low, row.unit)} .. {_number(row.high, row.unit)}"
            what = row.check if row.check != "point" else row.date
            parts.append(
                f"| {row.label} [{row.unit}] | {what} | {_number(row.observed, row.unit)} | "
                f"{_number(row.model, row.unit)} | {band} | {verdict} |"
            )
        parts.append("")
    return "\n".join(parts)


def baseline_path(seeds: int) -> str:
    """China's share of each stage by year, and each Chinese price's range over ten years."""
    shares = {c: [] for c in STAGES}
    ranges = {c: [] for c in STAGES}
    years = (2024, 2027, 2030, 2033)
    for seed in range(seeds):
        world = World(load_scenario("baseline-2024"), seed=seed).run()
        production = world.recorder.array("production")
        price = world.recorder.array("price")
        cn = world.region_index["CN"]
        for c in STAGES:
            ci = world.commodity_index[c]
            row = []
            for year in years:
                months = slice(world.month_of(f"{year}-01"), world.month_of(f"{year}-01") + 12)
                total = production[months, ci].sum()
                row.append(production[months, ci, cn].sum() / total if total > 0 else math.nan)
            shares[c].append(row)
            series = price[:, ci, cn]
            ranges[c].append((series.min() / series[0], series.max() / series[0]))
    lines = [
        f"China's share of production by year, mean of seeds 0–{seeds - 1} (min–max):\n",
        "| stage | " + " | ".join(str(y) for y in years) + " |",
        "| --- |" + " --- |" * len(years),
    ]
    for c in STAGES:
        values = np.array(shares[c])
        cells = [
            f"{values[:, i].mean():.2f} ({values[:, i].min():.2f}–{values[:, i].max():.2f})"
            for i in range(len(years))
        ]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Chinese prices over the ten years against their start (lowest and highest ratio), "
        "by seed:\n",
        "| commodity | " + " | ".join(f"seed {s}" for s in range(seeds)) + " |",
        "| --- |" + " --- |" * seeds,
    ]
    for c in STAGES:
        cells = [f"{lo:.2f}–{hi:.2f}" for lo, hi in ranges[c]]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="baseline seeds to run")
    args = parser.parse_args(argv)
    text = MODEL_MD.read_text()
    if START not in text or END not in text:
        print(f"{MODEL_MD}: the markers {START} and {END} are missing", file=sys.stderr)
        return 2
    body = (
        "\n_Generated by `uv run python docs/make_calibration.py`; do not edit by hand._\n\n"
        + history_tables(seed=0)
        + "\n#### `baseline-2024` over ten years\n\n"
        + baseline_path(args.seeds)
    )
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    MODEL_MD.write_text(head + START + "\n" + body + END + tail)
    print(f"wrote the calibration tables into {MODEL_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

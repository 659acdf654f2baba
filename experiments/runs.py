"""Headless runs: one scenario, one seed, results and metadata written to a directory.

A run directory holds two files:

- ``results.parquet``: the tidy results table of DESIGN.md (``World.results()``), written with
  pyarrow, no index;
- ``run.json``: what produced it (scenario name and content hash, seed, months, package and
  Python versions, wall time, creation time).

The world is driven through its public API only (``World``, ``load_scenario``, ``run``,
``results``), so the same function serves the CLI, notebooks and batch runners.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.version import package_version
from world import World, load_scenario
from world.calendar import add_months
from world.scenario import Scenario, scenario_hash

__all__ = ["RunError", "RunRecord", "package_version", "run_headless"]

RESULTS_FILE = "results.parquet"
METADATA_FILE = "run.json"


class RunError(Exception):
    """A run that cannot start or cannot be saved, for a reason the user can fix."""


def default_out_dir(scenario_name: str, seed: int, root: Path | str = "runs") -> Path:
    """Where a run goes unless told otherwise: ``runs/<scenario>-seed<seed>``."""
    return Path(root) / f"{scenario_name}-seed{seed}"


def prepare_out_dir(out: Path) -> Path:
    """Create ``out`` if needed and check that files can be written there.

    Raises:
        RunError: if the directory cannot be created or written to.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except (FileExistsError, NotADirectoryError):
        raise RunError(
            f"cannot use {out} as the output directory: a file of that name is in the way"
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise RunError(f"cannot write to output directory {out}: {reason}") from None
    return out


@dataclass
class RunRecord:
    """A finished headless run: where its files are and what it found."""

    out_dir: Path
    results_path: Path
    metadata_path: Path
    metadata: dict[str, Any]
    results: pd.DataFrame = field(repr=False)

    @property
    def wall_time_s(self) -> float:
        return float(self.metadata["wall_time_s"])


def run_headless(
    scenario: Scenario | str | Path,
    *,
    months: int | None = None,
    seed: int = 0,
    out: Path | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunRecord:
    """Run one scenario with one seed and write ``results.parquet`` and ``run.json``.

    Args:
        scenario: a loaded scenario, a bundled scenario's name or a path to a scenario file.
        months: months to run (default: the scenario's horizon).
        seed: the world's random seed.
        out: output directory (default: ``runs/<scenario>-seed<seed>``).
        progress: called with the month index after each month.

    Raises:
        world.ScenarioError: if the scenario cannot be found or is invalid.
        RunError: if ``months`` is negative or the output cannot be written.
    """
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    months = spec.months if months is None else months
    if months < 0:
        raise RunError(f"months must be 0 or more (got {months})")
    out_dir = prepare_out_dir(Path(out) if out is not None else default_out_dir(spec.name, seed))

    started = time.perf_counter()
    world = World(spec, seed=seed)
    world.run(months=months, progress=progress)
    results = world.results()
    wall_time_s = time.perf_counter() - started

    meta = {
        "scenario": spec.name,
        "scenario_version": spec.version,
        "scenario_hash": scenario_hash(spec),
        "seed": seed,
        "months": months,
        "start": spec.start,
        "end": add_months(spec.start, months - 1) if months > 0 else None,
        "chokepoint_version": package_version(),
        "python": platform.python_version(),
        "wall_time_s": round(wall_time_s, 3),
        "rows": len(results),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    results_path = out_dir / RESULTS_FILE
    metadata_path = out_dir / METADATA_FILE
    try:
        results.to_parquet(results_path, engine="pyarrow", index=False)
        metadata_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise RunError(f"cannot write the results to {out_dir}: {reason}") from None
    return RunRecord(out_dir, results_path, metadata_path, meta, results)


def last_month_values(
    results: pd.DataFrame, variable: str, commodity: str = "", region: str | None = None
) -> dict[str, float]:
    """One variable's values in the last recorded month, by region (empty if absent)."""
    if results.empty:
        return {}
    last = results["month"].max()
    rows = results[
        (results["month"] == last)
        & (results["variable"] == variable)
        & (results["commodity"] == commodity)
    ]
    if region is not None:
        rows = rows[rows["region"] == region]
    return rows.groupby("region", sort=False)["value"].sum().to_dict()

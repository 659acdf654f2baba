"""The in-memory Python API of experiments, for notebooks: a spec in, a DataFrame out.

    from experiments import run_batch

    runs = run_batch({
        "name": "notebook",
        "scenario": "alliance-vs-tariffs-2025",
        "months": 24,
        "seeds": 2,
        "levers": {"doctrines": {"US": ["tariff-hawk", "alliance-builder"]}},
        "outcomes": [{"name": "clean_share", "derived": "clean_share"}],
    }, workers=1)

The spec is a dictionary (as the TOML file would parse), an :class:`ExperimentSpec` or a path.
The runs are the same as ``chokepoint batch`` makes (same run ids, same values on every runner);
without ``out`` they go to a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from experiments import batch
from experiments.report import wide_runs
from experiments.spec import ExperimentSpec


def run_batch(
    spec: ExperimentSpec | dict | str | Path,
    out: Path | str | None = None,
    *,
    workers: int | None = None,
    dask: str | None = None,
    runner: Any = None,
    tidy: bool = False,
    progress: bool | None = False,
) -> pd.DataFrame:
    """Run every run of a spec and return its outcomes.

    Args:
        spec: a spec as a dictionary, an :class:`ExperimentSpec` or a spec file's path.
        out: keep the batch directory there (resumable, reportable); default: a temporary one.
        workers: local worker processes (default: one per core; 1 runs in this process).
        dask: ``"local"`` or a scheduler address, as ``chokepoint batch --dask``.
        runner: a ready ProcessRunner or DaskRunner to reuse.
        tidy: one row per run and outcome (as ``pandas.read_parquet(DIR / "outcomes")``)
            instead of one row per run with a column per outcome.
        progress: a progress bar (True), progress lines (None: lines off a terminal) or
            nothing (False).

    Returns:
        The outcomes of the finished runs: ``run_id``, ``lever``, ``sample``, ``seed``, a column
        per lever factor and per uncertainty, and the outcomes. Failed runs are left out and
        listed in ``frame.attrs["failures"]``.

    Raises:
        SpecError: if the spec or one of its design points is invalid (every problem listed).
    """
    with tempfile.TemporaryDirectory(prefix="chokepoint-batch-") as tmp:
        folder = Path(out) if out is not None else Path(tmp)
        batch.run_batch(
            spec,
            folder,
            workers=workers,
            dask=dask,
            runner=runner,
            progress=bool(progress) if progress is not None else None,
            # progress=False: no bar and no lines
            progress_every_s=float("inf") if progress is False else 5.0,
            announce=lambda _message: None,
        )
        outcomes = batch.load_outcomes(folder)
        failures = batch.load_failures(folder)
    frame = outcomes if tidy or outcomes.empty else wide_runs(outcomes)
    frame.attrs["failures"] = failures
    return frame

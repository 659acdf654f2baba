"""The experiments' Python API (a spec in, a DataFrame out), ``mesa.batch_run`` over the world,
and the packaging an analyst's tools read (licence, type marker, citation, a quiet and quick
``chokepoint``)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from experiments.spec import SpecError

REPO = Path(__file__).resolve().parents[1]

SPEC = {
    "name": "notebook",
    "scenario": "alliance-vs-tariffs-2025",
    "months": 3,
    "seeds": 2,
    "levers": {"doctrines": {"US": ["tariff-hawk", "alliance-builder"]}},
    "outcomes": [
        {"name": "clean_share", "derived": "clean_share"},
        {"name": "us_magnet_price", "variable": "price", "commodity": "magnet", "region": "US"},
        {"name": "fiscal_cost_usd_bn", "derived": "fiscal_cost", "scale": 1e-9},
    ],
}


def test_run_batch_takes_a_dict_or_a_spec_and_returns_a_frame(tmp_path):
    from experiments import run_batch
    from experiments.batch import load_outcomes
    from experiments.spec import spec_from_dict

    runs = run_batch(SPEC, workers=1)
    assert isinstance(runs, pd.DataFrame) and len(runs) == 2 * 2
    assert {"run_id", "lever", "seed", "doctrine.US", "clean_share", "us_magnet_price"} <= set(
        runs.columns
    )
    assert runs.attrs["failures"].empty
    # an ExperimentSpec object, kept in a directory: the same runs as the CLI's batch
    again = run_batch(spec_from_dict(SPEC), tmp_path / "kept", workers=2, tidy=True)
    assert set(again["run_id"]) == set(runs["run_id"])
    assert len(load_outcomes(tmp_path / "kept")) == len(again) == 4 * 3
    wide = again.pivot_table(index="run_id", columns="outcome", values="value")
    pd.testing.assert_series_equal(
        wide["us_magnet_price"].sort_index(),
        runs.set_index("run_id")["us_magnet_price"].sort_index(),
        check_names=False,
    )
    with pytest.raises(SpecError, match=r"levers\.doctrines\.US"):
        run_batch({**SPEC, "levers": {"doctrines": {"US": ["nobody"]}}})


def test_mesa_batch_run_runs_the_world_to_its_horizon():
    import mesa

    from experiments import BatchWorld, run_batch

    rows = pd.DataFrame(
        mesa.batch_run(
            BatchWorld,
            parameters={"US": ["tariff-hawk", "alliance-builder"], "months": 3},
            rng=[0, 1],
            max_steps=1000,
            data_collection_period=-1,
            number_processes=1,
            display_progress=False,
        )
    )
    assert len(rows) == 4
    assert set(rows["Step"]) == {3}  # stopped at the horizon, not at max_steps
    # the same outcomes, computed the same way, as the batch's for the same runs
    ours = run_batch(SPEC, workers=1).set_index(["doctrine.US", "seed"]).sort_index()
    theirs = rows.set_index(["US", "seed"]).sort_index()
    for name in ("clean_share", "us_magnet_price", "fiscal_cost_usd_bn"):
        assert theirs[name].to_numpy() == pytest.approx(ours[name].to_numpy(), rel=1e-12), name


def test_the_package_ships_a_licence_a_type_marker_and_a_citation():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    licence = (REPO / "LICENSE").read_text()
    assert project["license"] == "MIT" and licence.startswith("MIT License")
    assert "LICENSE" in project["license-files"]
    assert (REPO / "experiments" / "py.typed").is_file()
    import yaml

    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == project["version"] and citation["license"] == "MIT"


def test_uv_run_does_not_recompile_the_environment_each_time():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "compile-bytecode" not in pyproject.get("tool", {}).get("uv", {})
    # bytecode is still compiled, once, where the environment is installed
    assert "uv sync --frozen --compile-bytecode" in (REPO / ".ci" / "run").read_text()


def test_version_and_help_do_not_load_the_engine():
    code = (
        "import sys\n"
        "from experiments.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = [m for m in ('world', 'pandas', 'mesa', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
    version = subprocess.run(
        [sys.executable, "-m", "experiments", "--version"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.returncode == 0 and version.stdout.startswith("chokepoint ")

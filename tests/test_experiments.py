"""Experiments at scale: specs, batches on processes and Dask, resume, failures, reports."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from batch_specs import SOBOL, TINY, sorted_outcomes, write_spec

from experiments.batch import load_failures, load_outcomes, load_series, make_plan, run_batch
from experiments.cli import main
from experiments.spec import SpecError, load_spec, spec_from_dict

REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- specs


def test_spec_errors_name_their_field_paths():
    with pytest.raises(SpecError) as err:
        spec_from_dict(
            {
                "name": "bad",
                "scenario": "alliance-vs-tariffs-2025",
                "seeds": 0,
                "levers": {"doctrines": {"US": ["tarif-hawk"], "XX": ["passive"]}},
                "uncertainties": {
                    "dynamics.no_such": {"low": 0, "high": 1},
                    "dynamics.thrift_rate": {"low": 2, "high": 1},
                    "stages.mine.lead_time_months": {"distribution": "beta", "low": 1, "high": 2},
                },
                "outcomes": [{"name": "x", "variable": "price", "colour": "red"}],
            }
        )
    text = "\n".join(err.value.problems)
    assert "uncertainties.dynamics.thrift_rate: low (2) must be below high (1)" in text
    assert "uncertainties.stages.mine.lead_time_months.distribution: unknown distribution" in text
    assert "outcomes[0].colour: unknown key 'colour'" in text
    with pytest.raises(SpecError) as err:
        spec_from_dict(
            {
                "name": "bad",
                "scenario": "alliance-vs-tariffs-2025",
                "seeds": 0,
                "levers": {"doctrines": {"US": ["tarif-hawk"], "XX": ["passive"]}},
                "uncertainties": {"dynamics.no_such": {"low": 0, "high": 1}},
                "outcomes": [{"name": "x", "variable": "prices", "region": "ZZ"}],
            }
        )
    text = "\n".join(err.value.problems)
    assert "seeds: must be at least 1" in text
    with pytest.raises(SpecError) as err:
        spec_from_dict(
            {
                "name": "bad",
                "scenario": "alliance-vs-tariffs-2025",
                "levers": {"doctrines": {"US": ["tarif-hawk"], "XX": ["passive"]}},
                "uncertainties": {"dynamics.no_such": {"low": 0, "high": 1}},
                "outcomes": [{"name": "x", "variable": "prices", "region": "ZZ"}],
            }
        )
    text = "\n".join(err.value.problems)
    assert "levers.doctrines.US[0]: unknown doctrine 'tarif-hawk'" in text
    assert "levers.doctrines.XX: no state of region 'XX'" in text
    assert "uncertainties.dynamics.no_such: names nothing in the scenario" in text
    assert "outcomes[0].variable: unknown variable 'prices'" in text
    assert "outcomes[0].region: unknown region 'ZZ'" in text
    with pytest.raises(SpecError) as err:
        spec_from_dict({"name": "x", "scenario": "alliance-vs-tariffs-2025"})
    assert any(p.startswith("outcomes: required field is missing") for p in err.value.problems)


def test_bundled_specs_are_valid():
    counts = {}
    for path in sorted((REPO / "experiments" / "specs").glob("*.toml")):
        spec, text = load_spec(path)
        counts[path.stem] = len(make_plan(spec, text, path.parent).runs)
    assert counts == {
        "alliance-vs-tariffs": 16 * 12,  # strategy pairs x LHS futures (one seed)
        "discovery-resilience": 4 * 16 * 3,
        # a search's plan is its adversaries x futures x seeds (per candidate policy)
        "search-policy-mix": 2 * 4 * 1,
        "sobol-resilience": 32 * 7,
        "tournament": 25 * 10,
    }


def test_run_ids_are_stable_and_distinct(tmp_path):
    path = write_spec(tmp_path)
    spec, text = load_spec(path)
    first = [r.run_id for r in make_plan(spec, text).runs]
    again = [r.run_id for r in make_plan(*load_spec(path)).runs]
    assert first == again and len(set(first)) == len(first) == 2 * 2 * 2


# --------------------------------------------------------------------------- runners


def test_one_two_workers_and_dask_give_identical_results(tmp_path):
    from dask.distributed import Client, LocalCluster

    from experiments.batch import DaskRunner

    spec = write_spec(tmp_path)
    serial = run_batch(spec, tmp_path / "w1", workers=1, progress=False)
    assert (serial.executed, serial.failed) == (8, 0)
    run_batch(spec, tmp_path / "w2", workers=2, progress=False)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        runner = DaskRunner.from_client(client)
        dask_result = run_batch(spec, tmp_path / "dask", progress=False, runner=runner)
    assert dask_result.executed == 8
    reference = sorted_outcomes(tmp_path / "w1")
    assert len(reference) == 8 * 3
    for other in ("w2", "dask"):
        pd.testing.assert_frame_equal(reference, sorted_outcomes(tmp_path / other))
    series = load_series(tmp_path / "w1")
    assert len(series) == 8 * 4 and set(series["month"]) == {0, 1, 2, 3}
    manifest = json.loads((tmp_path / "w1" / "manifest.json").read_text())
    assert manifest["counts"]["runs_completed"] == 8 and manifest["seeds"] == [0, 1]
    assert (tmp_path / "w1" / "spec.toml").read_text() == spec.read_text()
    # the one-line load documented in the manifest
    assert len(pd.read_parquet(tmp_path / "w1" / "outcomes")) == 8 * 3


def test_resume_runs_only_what_is_missing(tmp_path):
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    first = run_batch(spec, out, workers=1, progress=False)
    assert first.executed == 8
    again = run_batch(spec, out, workers=1, progress=False)
    assert (again.executed, again.skipped) == (0, 8)
    parts = sorted((out / "outcomes").glob("part-*.parquet"))
    assert len(parts) == 4  # chunk_runs = 2
    parts[0].unlink()  # as if interrupted before that chunk was written
    resumed = run_batch(spec, out, workers=1, progress=False)
    assert resumed.executed == 2
    assert load_outcomes(out)["run_id"].nunique() == 8


def test_a_different_spec_cannot_reuse_the_directory(tmp_path):
    out = tmp_path / "out"
    run_batch(write_spec(tmp_path), out, workers=1, progress=False)
    other = write_spec(tmp_path, TINY.replace("seeds = 2", "seeds = 1"), "other.toml")
    assert main(["batch", str(other), "--out", str(out), "--workers", "1"]) == 2


def test_a_failing_run_is_recorded_and_the_batch_completes(tmp_path, monkeypatch):
    (tmp_path / "raising_outcome.py").write_text(
        "def raise_for_seed_one(world, outcome):\n"
        "    if world.seed == 1:\n"
        "        raise ValueError('an outcome that fails for seed 1')\n"
        "    return 0.0\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    text = TINY + '\n[[outcomes]]\nname = "r"\nfunction = "raising_outcome:raise_for_seed_one"\n'
    out = tmp_path / "out"
    result = run_batch(write_spec(tmp_path, text), out, workers=2, progress=False)
    assert (result.executed, result.failed) == (8, 4)
    failures = load_failures(out)
    assert len(failures) == 4
    assert failures["error"].str.contains("fails for seed 1").all()
    assert (failures["seed"] == 1).all()
    assert all("doctrine.US" in json.loads(p) for p in failures["parameters"])
    assert load_outcomes(out)["run_id"].nunique() == 4
    assert json.loads((out / "manifest.json").read_text())["counts"]["runs_failed"] == 4


def test_a_killed_worker_loses_only_its_runs_which_are_retried(tmp_path, monkeypatch):
    (tmp_path / "dying_outcome.py").write_text(
        textwrap.dedent(
            """
            import os
            from pathlib import Path

            def die_once(world, outcome):
                marker = Path(os.environ["CHOKEPOINT_TEST_MARKER"])
                if not marker.exists():
                    marker.write_text("died")
                    os._exit(1)
                return 1.0
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    marker = tmp_path / "marker"
    monkeypatch.setenv("CHOKEPOINT_TEST_MARKER", str(marker))
    text = TINY + '\n[[outcomes]]\nname = "dies"\nfunction = "dying_outcome:die_once"\n'
    out = tmp_path / "out"
    result = run_batch(write_spec(tmp_path, text), out, workers=2, progress=False)
    assert marker.exists(), "a worker died"
    assert result.failed == 0 and load_failures(out).empty
    outcomes = load_outcomes(out)
    assert outcomes["run_id"].nunique() == 8
    assert (outcomes.loc[outcomes["outcome"] == "dies", "value"] == 1.0).all()


# --------------------------------------------------------------------------- CLI and report


def test_cli_batch_and_report(tmp_path, capsys):
    spec = write_spec(tmp_path, SOBOL)
    out = tmp_path / "out"
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "16/16 runs stored" in printed and "pandas.read_parquet" in printed
    assert main(["report", str(out)]) == 0
    page = (out / "report" / "index.html").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec_hash"] in page and "manifest.json" in page
    for heading in (
        "Fan chart",
        "Years to resilience",
        "League table",
        "Sensitivity (sobol)",
        "Top runs",
        "Worst runs",
    ):
        assert heading in page, heading
    assert "data:image/png;base64," in page
    assert list((out / "report").glob("*.png"))
    # N = 4 is far too few for Sobol indices: the report says so
    assert "N = 4 is too small for Sobol indices" in page


def test_a_report_on_runs_stored_twice_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "out"
    run_batch(write_spec(tmp_path), out, workers=1, progress=False)
    part = sorted((out / "outcomes").glob("part-*.parquet"))[0]
    (out / "outcomes" / f"part-copy-{part.name[5:]}").write_bytes(part.read_bytes())
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds 2 runs twice" in err and "--fresh" in err and "Traceback" not in err


def test_cli_batch_reports_an_invalid_spec(tmp_path, capsys):
    spec = write_spec(tmp_path, TINY.replace("samples = 2", "samples = 0"))
    assert main(["batch", str(spec), "--out", str(tmp_path / "o")]) == 1
    assert "sampling.samples: must be between 1 and 100000 (got 0)" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nothing")]) == 2


def test_pool_workers_keep_the_inherited_objects_out_of_the_collector():
    import gc

    from experiments.batch import ProcessRunner

    runner = ProcessRunner(1)
    try:
        frozen = runner._pool().submit(gc.get_freeze_count).result()
    finally:
        runner.close()
    # fork shares the engine's ~150,000 objects; full collections no longer walk them
    assert frozen > gc.get_freeze_count() + 10_000

"""Batches that are never silently wrong or lost: unique run ids, specs checked before any run,
provenance of a batch directory, exit codes, SIGTERM, progress off a terminal, Dask failures."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from batch_specs import SOBOL, TINY, write_spec

from experiments.batch import BatchError, load_outcomes, make_plan, run_batch
from experiments.cli import main
from experiments.spec import SpecError, load_spec, spec_from_dict

REPO = Path(__file__).resolve().parents[1]

MORRIS = SOBOL.replace(
    'method = "sobol"\nsamples = 4', 'method = "morris"\nsamples = 3\nlevels = 4'
)


def _write_module(tmp_path: Path, monkeypatch, name: str, text: str) -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))


# --------------------------------------------------------------------------- run ids


def test_morris_design_points_each_get_a_run_and_the_report_works(tmp_path, capsys):
    spec = write_spec(tmp_path, MORRIS)
    plan = make_plan(*load_spec(spec))
    ids = [r.run_id for r in plan.runs]
    # Morris trajectories repeat values at different points: every point still needs a row
    values = [tuple(sorted(r.sample.items())) for r in plan.runs]
    assert len(values) == 3 * (2 + 1)
    assert len(set(ids)) == len(ids)
    out = tmp_path / "out"
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1"]) == 0
    assert f"{len(ids)}/{len(ids)} runs stored" in capsys.readouterr().out
    assert main(["report", str(out)]) == 0
    page = (out / "report" / "index.html").read_text()
    assert "Sensitivity (morris)" in page and "mu_star" in page


def test_sobol_on_a_narrow_whole_number_range_keeps_every_design_point(tmp_path):
    text = SOBOL.replace(
        '[uncertainties."dynamics.price_speed"]\nlow = 0.1\nhigh = 0.6',
        '[uncertainties."stages.magnet.lead_time_months"]\nlow = 24\nhigh = 25',
    )
    spec = write_spec(tmp_path, text)
    plan = make_plan(*load_spec(spec))
    values = {tuple(sorted(r.sample.items())) for r in plan.runs}
    assert len(values) < len(plan.runs) == 4 * (2 + 2)  # rounding makes points coincide
    assert len({r.run_id for r in plan.runs}) == len(plan.runs)
    result = run_batch(spec, tmp_path / "out", workers=1, progress=False)
    assert result.manifest["counts"]["runs_completed"] == len(plan.runs)


# --------------------------------------------------------------------------- spec checks


def _problems(**changes) -> list[str]:
    import tomllib

    data = tomllib.loads(TINY)
    data.update(changes)
    with pytest.raises(SpecError) as err:
        spec_from_dict(data)
    return err.value.problems


def test_a_path_that_is_both_lever_and_uncertainty_is_refused():
    problems = _problems(levers={"parameters": {"stages.magnet.lead_time_months": [30, 40]}})
    assert any(
        p.startswith("uncertainties.stages.magnet.lead_time_months: also set by the lever")
        for p in problems
    ), problems
    # a wildcard path overlaps one of its entries
    problems = _problems(levers={"parameters": {"end_users.0.elasticity": [-0.1]}})
    assert any("uncertainties.end_users.*.elasticity: also set" in p for p in problems), problems


def test_a_window_beyond_the_horizon_is_refused():
    problems = _problems(
        outcomes=[{"name": "p", "variable": "price", "region": "US", "window": [0, 12]}]
    )
    assert problems == [
        "outcomes[0].window: [0, 12) ends after the horizon of 4 months; use an end of at most 4"
    ]


def test_a_negative_seed_and_a_missing_function_module_are_refused():
    assert "seeds[1]: a seed must be from 0 to 4294967295 (got -1)" in _problems(seeds=[0, -1])
    problems = _problems(outcomes=[{"name": "f", "function": "no_such_module_here:f"}])
    assert any(
        p.startswith("outcomes[0].function: no module 'no_such_module_here'") for p in problems
    ), problems


def test_validate_refuses_a_non_positive_initial_price(tmp_path, capsys):
    path = tmp_path / "neg.toml"
    path.write_text(
        'extends = "alliance-vs-tariffs-2025"\nname = "neg"\n'
        "[commodities.magnet.price_usd_per_kg]\nUS = -5.0\n",
        encoding="utf-8",
    )
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "commodities.magnet.price_usd_per_kg: initial prices must be above 0 USD/kg" in out


def test_check_finds_bad_design_points_before_any_run(tmp_path, capsys):
    text = TINY.replace(
        "[uncertainties.",
        '[levers.parameters]\n"dynamics.choke_ratio" = [4.0, 0.5]\n\n[uncertainties.',
        1,
    ).replace("low = 0.5\nmode = 1.0\nhigh = 1.5", "low = 0.5\nmode = 1.0\nhigh = 40.0")
    spec = write_spec(tmp_path, text)
    out = tmp_path / "out"
    assert main(["batch", str(spec), "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert "design point: dynamics.choke_ratio" in err
    assert "dynamics.choke_ratio=0.5" in err  # the point is named
    assert "elasticity" in err  # a sampled value outside the scenario's bounds
    # nothing ran, and the batch itself refuses in the same way before any run
    assert not out.exists()
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1"]) == 1
    assert not (out / "outcomes").exists()
    good = write_spec(tmp_path, TINY, "good.toml")
    assert main(["batch", str(good), "--out", str(out), "--check"]) == 0
    assert "ok (8 runs, every design point valid)" in capsys.readouterr().out
    assert not out.exists()


# --------------------------------------------------------------------------- failures, provenance


def test_the_exit_code_says_how_many_runs_failed(tmp_path, monkeypatch, capsys):
    _write_module(
        tmp_path,
        monkeypatch,
        "failing_outcome",
        """
        def fail_for_seed_one(world, outcome):
            if world.seed == 1:
                raise RuntimeError("seed one fails")
            return 1.0
        """,
    )
    text = TINY + '\n[[outcomes]]\nname = "f"\nfunction = "failing_outcome:fail_for_seed_one"\n'
    out = tmp_path / "out"
    spec = write_spec(tmp_path, text)
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1"]) == 3
    captured = capsys.readouterr()
    assert "4 of 8 runs failed" in captured.err and "failures" in captured.err
    assert load_outcomes(out)["run_id"].nunique() == 4


def test_a_changed_scenario_is_not_mixed_into_the_stored_runs(tmp_path, capsys):
    scenario = tmp_path / "mine.toml"
    scenario.write_text('extends = "alliance-vs-tariffs-2025"\nname = "mine"\n', encoding="utf-8")
    spec = write_spec(tmp_path, TINY.replace('"alliance-vs-tariffs-2025"', '"mine.toml"'))
    out = tmp_path / "out"
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"spec_hash", "scenario_hash", "engine_hash"} <= set(manifest)
    scenario.write_text(
        'extends = "alliance-vs-tariffs-2025"\nname = "mine"\n[dynamics]\nprice_speed = 0.5\n',
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "the scenario" in err and "--fresh" in err
    assert load_outcomes(out)["run_id"].nunique() == 8  # untouched
    assert main(["batch", str(spec), "--out", str(out), "--workers", "1", "--fresh"]) == 0
    assert "8/8 runs stored (8 run now" in capsys.readouterr().out
    assert load_outcomes(out)["run_id"].nunique() == 8
    assert main(["report", str(out)]) == 0
    assert "Runs: 8 of 8 stored" in (out / "report" / "index.html").read_text()


def test_a_changed_spec_is_refused_with_how_to_start_afresh(tmp_path, capsys):
    out = tmp_path / "out"
    run_batch(write_spec(tmp_path), out, workers=1, progress=False)
    other = write_spec(tmp_path, TINY.replace("samples = 2", "samples = 3"), "other.toml")
    with pytest.raises(BatchError, match=r"the spec .*--fresh"):
        run_batch(other, out, workers=1, progress=False)


# --------------------------------------------------------------------------- signals, progress


SLOW = """
import os
import time
from pathlib import Path


def slow(world, outcome):
    folder = Path(os.environ["CHOKEPOINT_TEST_PIDS"])
    (folder / f"{os.getpid()}").touch()
    time.sleep(0.4)
    return 1.0
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_keeps_every_finished_run_and_ends_the_workers(tmp_path, signum):
    (tmp_path / "slow_outcome.py").write_text(SLOW, encoding="utf-8")
    pids = tmp_path / "pids"
    pids.mkdir()
    text = TINY.replace("seeds = 2", "seeds = 10").replace("chunk_runs = 2", "chunk_runs = 1000")
    spec = write_spec(
        tmp_path, text + '\n[[outcomes]]\nname = "s"\nfunction = "slow_outcome:slow"\n'
    )
    out = tmp_path / "out"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
        "CHOKEPOINT_TEST_PIDS": str(pids),
    }
    command = [sys.executable, "-m", "experiments", "batch", str(spec), "--out", str(out)]
    proc = subprocess.Popen(
        [*command, "--workers", "2"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    # wait until runs have finished (each worker has started at least two)
    while time.monotonic() < deadline and len(list(pids.iterdir())) < 2:
        time.sleep(0.2)
    time.sleep(2.0)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert "every finished run is saved" in err
    stored = load_outcomes(out)["run_id"].nunique()
    assert 1 <= stored < 40  # buffered runs were written, not lost
    assert json.loads((out / "manifest.json").read_text())["counts"]["runs_completed"] == stored
    workers = [int(p.name) for p in pids.iterdir()]
    assert workers
    time.sleep(0.5)
    alive = [pid for pid in workers if _alive(pid)]
    assert not alive, f"workers still running: {alive}"
    # and the same command resumes
    again = subprocess.run([*command, "--workers", "1"], cwd=REPO, env=env, capture_output=True)
    assert again.returncode == 0, again.stderr
    assert load_outcomes(out)["run_id"].nunique() == 40


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by a parent that is gone) is not running
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_progress_lines_are_printed_when_stderr_is_not_a_terminal(tmp_path, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    run_batch(write_spec(tmp_path), tmp_path / "out", workers=1, progress_every_s=0.0)
    lines = stream.getvalue().splitlines()
    assert "tiny: 1/8 runs (0 failed)" in lines[0]
    assert "tiny: 8/8 runs (0 failed)" in lines[-1] and "runs/min" in lines[-1]


def test_warnings_for_too_few_sobol_samples(tmp_path, capsys):
    spec = write_spec(tmp_path, SOBOL)
    assert main(["batch", str(spec), "--out", str(tmp_path / "o"), "--check"]) == 0
    assert "warning: sampling.samples: N = 4 is too small for Sobol" in capsys.readouterr().err


# --------------------------------------------------------------------------- Dask


def test_dask_without_workers_gives_up_with_a_clear_message(tmp_path):
    from dask.distributed import Client, LocalCluster

    from experiments.batch import DaskRunner

    with (
        LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        runner = DaskRunner.from_client(client, worker_timeout_s=1.0)
        with pytest.raises(BatchError, match=r"no Dask worker has been connected .* for 1 s"):
            run_batch(write_spec(tmp_path), tmp_path / "out", progress=False, runner=runner)


def test_a_bad_dask_address_is_a_clear_error(tmp_path, capsys):
    spec = write_spec(tmp_path)
    assert main(["batch", str(spec), "--out", str(tmp_path / "o"), "--dask", "foo"]) == 2
    err = capsys.readouterr().err
    assert "--dask 'foo': not a scheduler address" in err and "Traceback" not in err


def test_dask_workers_gone_mid_batch_give_up_keeping_the_finished_runs(tmp_path, monkeypatch):
    import threading

    from dask.distributed import Client, LocalCluster

    from experiments.batch import DaskRunner

    _write_module(
        tmp_path,
        monkeypatch,
        "sleepy_outcome",
        """
        import time

        def sleepy(world, outcome):
            time.sleep(0.3)
            return 1.0
        """,
    )
    text = TINY.replace("seeds = 2", "seeds = 10").replace("chunk_runs = 2", "chunk_runs = 1000")
    spec = write_spec(
        tmp_path, text + '\n[[outcomes]]\nname = "s"\nfunction = "sleepy_outcome:sleepy"\n'
    )
    out = tmp_path / "out"
    finished = threading.Event()
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        dask_runner = DaskRunner.from_client(client, worker_timeout_s=1.0)

        def runner(plan, todo):
            for count, item in enumerate(dask_runner(plan, todo), start=1):
                if count == 2:
                    finished.set()
                yield item

        def every_worker_leaves():
            if finished.wait(timeout=60):
                cluster.scale(0)

        leaving = threading.Thread(target=every_worker_leaves, daemon=True)
        leaving.start()
        with pytest.raises(BatchError, match=r"no Dask worker has been connected .* for 1 s"):
            run_batch(spec, out, progress=False, runner=runner)
        leaving.join(timeout=10)
    # the runs finished before the workers left were written, and a rerun resumes after them
    assert 2 <= load_outcomes(out)["run_id"].nunique() < 40

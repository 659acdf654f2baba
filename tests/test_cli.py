"""The ``chokepoint`` command: scenarios, validate and run, invoked in-process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from world import bundled_scenarios, load_scenario
from world.scenario import scenario_hash

REPO = Path(__file__).resolve().parents[1]
TIDY_COLUMNS = ["month", "date", "variable", "commodity", "region", "partner", "value"]
DESIGN_VARIABLES = {
    "price",
    "production",
    "exports",
    "demand",
    "shortage",
    "stock_commercial",
    "stock_strategic",
    "capacity",
    "fill_rate",
}
RUN_FIELDS = {
    "scenario",
    "scenario_hash",
    "seed",
    "months",
    "chokepoint_version",
    "wall_time_s",
    "start",
    "python",
    "created",
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- general


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: chokepoint" in err
    for command in ("scenarios", "validate", "run"):
        assert command in err


def test_python_m_experiments_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "experiments", "scenarios"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "baseline-2024" in done.stdout


# --------------------------------------------------------------------------- scenarios


def test_scenarios_lists_baseline_with_its_description(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    description = load_scenario("baseline-2024").description
    line = next(line for line in out.splitlines() if line.startswith("baseline-2024"))
    assert description in line
    assert len(out.splitlines()) == len(bundled_scenarios())


# --------------------------------------------------------------------------- validate


def test_validate_bundled_file_is_ok(capsys):
    path = bundled_scenarios()["baseline-2024"]
    spec = load_scenario(path)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == (
        f"{path}: ok ({len(spec.firms)} firms, {len(spec.end_users)} end users, "
        f"{len(spec.policies)} policies, horizon {spec.start} + {spec.months} months)"
    )


def test_validate_reports_the_field_path_and_exits_1(tmp_path, capsys):
    bad = write(tmp_path / "bad.toml", 'extends = "baseline-2024"\nmonths = -3\n')
    assert main(["validate", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = captured.out.splitlines()
    assert lines[0].startswith(f"{bad}: invalid")
    problems = [line.strip() for line in lines[1:]]
    assert any(p.startswith("months") for p in problems), problems


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("syntax.toml", "name = [unclosed\n", "not valid TOML"),
        ("parent.toml", 'extends = "no-such-parent"\n', "no-such-parent"),
        ("typo.toml", 'extends = "baseline-2024"\nmonthz = 12\n', "monthz"),
    ],
)
def test_validate_bad_input_never_gives_a_traceback(tmp_path, capsys, name, text, expected):
    path = write(tmp_path / name, text)
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert expected in captured.out
    assert "Traceback" not in captured.out + captured.err


def test_validate_missing_file(tmp_path, capsys):
    missing = tmp_path / "missing.toml"
    assert main(["validate", str(missing)]) == 1
    assert str(missing) in capsys.readouterr().out


def test_validate_checks_every_file(tmp_path, capsys):
    good = bundled_scenarios()["baseline-2024"]
    bad = write(tmp_path / "bad.toml", 'extends = "baseline-2024"\nmonths = 0\n')
    assert main(["validate", str(bad), str(good)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: invalid" in out
    assert f"{good}: ok" in out


# --------------------------------------------------------------------------- run


def test_run_writes_results_and_metadata(tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert (
        main(["run", "baseline-2024", "--months", "3", "--seed", "5", "--out", str(out_dir)]) == 0
    )
    printed = capsys.readouterr().out
    assert str(out_dir / "results.parquet") in printed
    assert str(out_dir / "run.json") in printed

    results = pd.read_parquet(out_dir / "results.parquet")
    assert list(results.columns) == TIDY_COLUMNS
    assert sorted(results["month"].unique()) == [0, 1, 2]
    assert sorted(results["date"].unique()) == ["2024-01", "2024-02", "2024-03"]
    assert set(results["variable"]) >= DESIGN_VARIABLES
    assert results.loc[results["variable"].isin(DESIGN_VARIABLES), "value"].notna().all()
    prices = results[(results["variable"] == "price") & (results["commodity"] == "magnet")]
    assert {"CN", "US"} <= set(prices["region"])

    meta = json.loads((out_dir / "run.json").read_text())
    assert set(meta) >= RUN_FIELDS
    assert meta["scenario"] == "baseline-2024"
    assert meta["seed"] == 5
    assert meta["months"] == 3
    assert meta["start"] == "2024-01"
    assert re.fullmatch(r"[0-9a-f]{16}", meta["scenario_hash"])
    assert meta["scenario_hash"] == scenario_hash(load_scenario("baseline-2024"))
    assert meta["wall_time_s"] >= 0
    assert meta["python"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["rows"] == len(results)


def test_run_is_reproducible_with_the_same_seed(tmp_path):
    for name in ("a", "b"):
        args = ["run", "baseline-2024", "--months", "3", "--seed", "11"]
        assert main([*args, "--out", str(tmp_path / name)]) == 0
    first = pd.read_parquet(tmp_path / "a" / "results.parquet")
    second = pd.read_parquet(tmp_path / "b" / "results.parquet")
    pd.testing.assert_frame_equal(first, second)


def test_run_default_out_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "baseline-2024", "--months", "1", "--seed", "4"]) == 0
    run_dir = tmp_path / "runs" / "baseline-2024-seed4"
    assert (run_dir / "results.parquet").is_file()
    assert json.loads((run_dir / "run.json").read_text())["months"] == 1


def test_run_accepts_a_scenario_file(tmp_path, capsys):
    path = write(tmp_path / "mine.toml", 'extends = "baseline-2024"\nname = "mine"\n')
    out_dir = tmp_path / "out"
    assert main(["run", str(path), "--months", "2", "--out", str(out_dir)]) == 0
    meta = json.loads((out_dir / "run.json").read_text())
    assert meta["scenario"] == "mine"
    assert meta["months"] == 2


def test_run_unknown_scenario_exits_2(tmp_path, capsys):
    assert main(["run", "no-such-scenario", "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert "no-such-scenario" in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out").exists()


def test_run_negative_months_exits_2(tmp_path, capsys):
    assert main(["run", "baseline-2024", "--months", "-2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "months" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["run", "baseline-2024", "--seed", "-1"],
            "argument --seed: from 0 to 4294967295 (got -1)",
        ),
        (["run", "baseline-2024", "--seed", "x"], "argument --seed: a whole number, not 'x'"),
        (["serve", "--port", "99999"], "argument --port: from 1 to 65535 (got 99999)"),
        (["play", "--port", "0"], "argument --port: from 1 to 65535 (got 0)"),
    ],
)
def test_out_of_range_numbers_exit_2_naming_the_option(capsys, argv, expected):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and expected in err and "Traceback" not in err


def test_run_invalid_scenario_exits_2(tmp_path, capsys):
    bad = write(tmp_path / "bad.toml", 'extends = "baseline-2024"\nmonths = -3\n')
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "months" in err
    assert "Traceback" not in err


def test_run_unwritable_out_dir_exits_2(tmp_path, capsys):
    blocker = write(tmp_path / "a-file", "")
    assert main(["run", "baseline-2024", "--months", "1", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert str(blocker / "sub") in err
    assert "Traceback" not in err

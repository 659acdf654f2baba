"""Scenario discovery, lever comparison and robust policy search.

The analyses are checked on data built here with a known answer; the report and the search are
then run end to end on small batches (their values come from the engine and are not fixed)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from batch_specs import TINY, write_spec

from experiments import discovery
from experiments.cli import main
from experiments.search import PARETO_FILE, robust_value, run_search
from experiments.spec import ExperimentSpec, spec_from_dict

SYNTHETIC = {
    "name": "synthetic",
    "scenario": "alliance-vs-tariffs-2025",
    "months": 4,
    "seeds": 2,
    "levers": {"doctrines": {"US": ["tariff-hawk", "alliance-builder"]}},
    "uncertainties": {
        "stages.magnet.lead_time_months": {"low": 24, "high": 48},
        "dynamics.thrift_rate": {"low": 0.01, "high": 0.06},
    },
    "sampling": {"method": "lhs", "samples": 40},
    "outcomes": [
        {"name": "shortage_kt", "derived": "cumulative_shortage"},
        {"name": "cost", "derived": "fiscal_cost"},
    ],
    "rank_by": "shortage_kt",
    "higher_is_better": False,
    "discovery": {"case": "shortage_kt > 10"},
}


def synthetic_runs() -> tuple[ExperimentSpec, pd.DataFrame]:
    """Runs whose shortage is high exactly when the magnet lead time is long; the hawk is
    always 1 kt worse than the alliance builder in the same future; thrifting does nothing."""
    spec = spec_from_dict(SYNTHETIC)
    rng = np.random.default_rng(0)
    lead = rng.uniform(24, 48, 40)
    thrift = rng.uniform(0.01, 0.06, 40)
    rows = []
    for lever in ("US=tariff-hawk", "US=alliance-builder"):
        for sample in range(40):
            for seed in (0, 1):
                base = 20.0 if lead[sample] > 40 else 2.0
                rows.append(
                    {
                        "run_id": f"{lever}-{sample}-{seed}",
                        "lever": lever,
                        "sample": sample,
                        "seed": seed,
                        "doctrine.US": lever.removeprefix("US="),
                        "stages.magnet.lead_time_months": lead[sample],
                        "dynamics.thrift_rate": thrift[sample],
                        "shortage_kt": base + (1.0 if "hawk" in lever else 0.0) + 0.01 * seed,
                        "cost": 1.0 if "alliance" in lever else 0.0,
                    }
                )
    return spec, pd.DataFrame(rows)


def test_feature_scores_find_the_driving_uncertainty():
    spec, runs = synthetic_runs()
    x = discovery.factors(spec, runs)
    assert set(x.columns) == {
        "stages.magnet.lead_time_months",
        "dynamics.thrift_rate",
        "doctrine.US",
        "seed",
    }
    scores = discovery.feature_scores(x, runs, ["shortage_kt", "cost"])
    assert scores["shortage_kt"].idxmax() == "stages.magnet.lead_time_months"
    assert scores["cost"].idxmax() == "doctrine.US"
    assert scores["shortage_kt"].sum() == pytest.approx(1.0)


def test_feature_scores_do_not_depend_on_the_order_of_runs_or_factors():
    # stored runs come back in the order the workers finished them, and a spec's JSON lists
    # its uncertainties in name order; extra trees draw their splits row by row and their
    # candidate features by position, so without a canonical order a reshuffle moves the scores
    spec, runs = synthetic_runs()
    shuffled = runs.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert not shuffled["run_id"].equals(runs["run_id"])
    scores = discovery.feature_scores(discovery.factors(spec, runs), runs, ["shortage_kt"])
    x = discovery.factors(spec, shuffled)
    x = x[list(reversed(x.columns))]  # the factors in another order, as a spec's JSON sorts them
    again = discovery.feature_scores(x, shuffled, ["shortage_kt"])
    pd.testing.assert_frame_equal(scores, again.loc[scores.index], check_exact=True)
    # and the rows' order does change what extra trees give when not canonical
    from ema_workbench.analysis import feature_scoring
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    def raw(frame):
        x = discovery.factors(spec, frame)
        table, _ = feature_scoring.get_ex_feature_scores(
            x, frame["shortage_kt"].to_numpy(), mode=RuleInductionType.REGRESSION, random_state=0
        )
        return table.iloc[:, 0]

    assert not raw(runs).loc[scores.index].equals(raw(shuffled).loc[scores.index])


def test_prim_and_cart_box_the_case_of_interest():
    spec, runs = synthetic_runs()
    x = discovery.factors(spec, runs)
    flag, label = discovery.case_of_interest(spec, runs)
    assert label.endswith("shortage_kt > 10")
    assert flag.sum() == (runs["stages.magnet.lead_time_months"] > 40).sum()
    box, trajectory = discovery.prim_box(spec, x, flag)
    assert box is not None and not trajectory.empty
    assert box.stats["coverage"] >= 0.5 and box.stats["density"] > 0.9
    limits = box.limits.set_index("factor")["limits"]
    assert "stages.magnet.lead_time_months" in limits.index
    low = float(limits["stages.magnet.lead_time_months"].split(" .. ")[0])
    assert 38 <= low <= 42
    leaves = discovery.cart_boxes(spec, x, flag)
    assert leaves[0].stats["density"] == pytest.approx(1.0)
    assert "stages.magnet.lead_time_months" in set(leaves[0].limits["factor"])


def test_the_90th_percentile_regret_of_never_reaching_is_infinite_not_missing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's inf - inf warning
        assert discovery.quantile(np.array([0.0, np.inf, np.inf, np.inf]), 0.9) == np.inf
        assert discovery.quantile(np.array([0.0, 1.0, 2.0, np.inf]), 0.5) == 1.5
        # between the last finite value and an infinite one: beyond every finite bound
        assert discovery.quantile(np.array([0.0, 1.0, 2.0, np.inf]), 0.9) == np.inf
        assert discovery.quantile(np.arange(11.0), 0.9) == pytest.approx(9.0)
    spec, runs = synthetic_runs()
    ytr = spec.outcomes[0].model_copy(update={"name": "ytr", "derived": "years_to_resilience"})
    spec = spec.model_copy(update={"outcomes": [ytr]})
    # the hawk never reaches resilience; the others reach it in year 3
    runs["ytr"] = np.where(runs["doctrine.US"] == "tariff-hawk", np.nan, 3.0)
    table = discovery.regret(spec, runs).set_index("lever")
    assert table.loc["US=tariff-hawk", "p90_regret"] == np.inf
    assert table.loc["US=alliance-builder", "p90_regret"] == 0.0


def test_a_case_that_cannot_be_evaluated_names_the_outcomes():
    spec, runs = synthetic_runs()
    bad = spec.model_copy(update={"discovery": spec.discovery.model_copy(update={"case": "x >"})})
    with pytest.raises(ValueError, match=r"discovery\.case 'x >' cannot be evaluated"):
        discovery.case_of_interest(bad, runs)


def test_regret_and_paired_differences_use_the_same_futures():
    spec, runs = synthetic_runs()
    regret = discovery.regret(spec, runs).set_index(["outcome", "lever"])
    assert regret.loc[("shortage_kt", "US=alliance-builder"), "max_regret"] == 0.0
    assert regret.loc[("shortage_kt", "US=tariff-hawk"), "mean_regret"] == pytest.approx(1.0)
    assert regret.loc[("shortage_kt", "US=tariff-hawk"), "best_in"] == 0.0
    diffs = discovery.paired_differences(spec, runs).set_index("outcome")
    row = diffs.loc["shortage_kt"]
    assert row["lever"] == "US=alliance-builder" and row["against"] == "US=tariff-hawk"
    # paired: the difference is exactly -1 in every future, so the interval has no width
    assert row["mean_diff"] == pytest.approx(-1.0)
    assert row["ci95_high"] - row["ci95_low"] == pytest.approx(0.0, abs=1e-9)
    assert row["better_in"] == 1.0 and row["futures"] == 80


def test_the_report_of_a_sampled_batch_has_scenario_discovery(tmp_path):
    text = TINY.replace("samples = 2", "samples = 6") + (
        '\n[discovery]\ncase = "us_magnet_price > 0"\ncase_label = "any price"\n'
    )
    out = tmp_path / "out"
    assert (
        main(["batch", str(write_spec(tmp_path, text)), "--out", str(out), "--workers", "2"]) == 0
    )
    assert main(["report", str(out)]) == 0
    page = (out / "report" / "index.html").read_text()
    for heading in (
        "Scenario discovery",
        "Feature scores",
        "The case of interest",
        "Pairs of the highest-scoring uncertainties",
        "Scatter:",
        "Regret over the sampled futures",
        "Paired differences under common random numbers",
    ):
        assert heading in page, heading
    assert "class='scroll'" in page  # wide tables scroll instead of overflowing
    assert "us_magnet_price (USD/kg)" in page or "USD/kg" in page


def test_a_resilience_chart_says_when_no_run_reaches_resilience(tmp_path):
    text = TINY + '\n[[outcomes]]\nname = "ytr"\nderived = "years_to_resilience"\n'
    out = tmp_path / "out"
    assert (
        main(["batch", str(write_spec(tmp_path, text)), "--out", str(out), "--workers", "1"]) == 0
    )
    assert main(["report", str(out)]) == 0
    page = (out / "report" / "index.html").read_text()
    # a 12-month streak cannot happen in a 4-month batch
    assert "No run reached resilience within the 4-month horizon." in page


def test_robust_value_takes_the_bad_side():
    values = np.array([1.0, 2.0, 3.0, np.nan, 10.0])
    assert robust_value(values, "minimize", "mean") == pytest.approx(4.0)
    assert robust_value(values, "minimize", "worst") == 10.0
    assert robust_value(values, "maximize", "worst") == 1.0
    assert robust_value(values, "minimize", "p90") > robust_value(values, "maximize", "p90")


SEARCH = (
    TINY.replace("seeds = 2", "seeds = 1").replace("samples = 2", "samples = 2")
    + """
[search]
evaluations = 6
population = 3
seed = 5

[search.levers."dynamics.price_speed"]
low = 0.1
high = 0.6

[[search.objectives]]
outcome = "us_magnet_price"
direction = "minimize"
robustness = "p90"

[[search.objectives]]
outcome = "fiscal_cost"
direction = "minimize"
robustness = "mean"
"""
)


def test_the_search_writes_a_pareto_set_the_same_on_every_runner(tmp_path):
    from dask.distributed import Client, LocalCluster

    from experiments.batch import DaskRunner

    spec = write_spec(tmp_path, SEARCH)
    local = run_search(spec, tmp_path / "local", workers=1, progress=False)
    pareto = pd.read_parquet(tmp_path / "local" / PARETO_FILE)
    assert list(pareto.columns) == [
        "dynamics.price_speed",
        "us_magnet_price_p90",
        "fiscal_cost_mean",
    ]
    assert len(local.evaluations) >= 6
    # every candidate ran against each US doctrine (the adversaries) and each future
    assert (local.evaluations["runs"] == 2 * 2 * 1).all()
    # nothing on the Pareto set is dominated by any evaluated candidate
    objectives = local.evaluations[["us_magnet_price_p90", "fiscal_cost_mean"]].to_numpy()
    for row in pareto[["us_magnet_price_p90", "fiscal_cost_mean"]].to_numpy():
        dominated = (objectives <= row).all(axis=1) & (objectives < row).any(axis=1)
        assert not dominated.any()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        on_dask = run_search(
            spec, tmp_path / "dask", runner=DaskRunner.from_client(client), progress=False
        )
    pd.testing.assert_frame_equal(local.pareto, on_dask.pareto)
    # the search's runs are a batch directory: the report draws the Pareto set
    assert main(["report", str(tmp_path / "local")]) == 0
    page = (tmp_path / "local" / "report" / "index.html").read_text()
    assert "Robust policy search: the Pareto set" in page
    manifest = json.loads((tmp_path / "local" / "manifest.json").read_text())
    assert manifest["counts"]["runs_completed"] == manifest["counts"]["runs_planned"] > 0


def test_search_refuses_a_spec_without_a_search_table(tmp_path, capsys):
    assert main(["search", str(write_spec(tmp_path)), "--out", str(tmp_path / "o")]) == 1
    assert "search: the spec has no [search] table" in capsys.readouterr().err

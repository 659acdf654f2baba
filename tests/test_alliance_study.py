"""The alliance-vs-tariffs study: its batch spec, the note written from the stored runs, and the
doctrine parameters that set the doctrines compared to equal intensities."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from experiments.batch import load_outcomes, make_plan
from experiments.outcomes import compute, years_to_resilience
from experiments.spec import SpecError, load_spec, results_hash, spec_from_dict

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "docs" / "make_alliance_vs_tariffs.py"
_spec = importlib.util.spec_from_file_location("make_alliance_vs_tariffs", SCRIPT)
study = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(study)


def study_spec() -> dict:
    return tomllib.loads(study.SPEC.read_text(encoding="utf-8"))


def test_years_to_resilience_counts_consecutive_months_at_the_threshold():
    demand = np.full(48, 100.0)
    clean = np.full(48, 50.0)
    clean[10:21] = 90.0  # eleven months: not enough
    clean[30:] = 85.0  # from month 30 on: the twelfth month is month 41
    assert years_to_resilience(demand, clean) == 42 / 12
    assert math.isnan(years_to_resilience(demand, np.full(48, 79.0)))
    assert years_to_resilience(demand, clean, threshold=0.5) == 12 / 12


def test_doctrine_params_reach_the_seat_and_the_run_id():
    data = study_spec()
    spec = spec_from_dict(data)
    plan = make_plan(spec)
    bare = copy.deepcopy(data)
    bare["levers"].pop("doctrine_params")
    bare_plan = make_plan(spec_from_dict(bare))
    # same runs in the same order; the ids differ exactly where a doctrine has parameters
    assert [r.lever for r in plan.runs] == [r.lever for r in bare_plan.runs]
    assert all(a.run_id != b.run_id for a, b in zip(plan.runs, bare_plan.runs, strict=True))
    from experiments.batch import _context, build_scenario

    spec_, base = _context(plan.text, plan.scenario_ref)
    run = next(r for r in plan.runs if r.lever["doctrine.US"] == "alliance-builder")
    seats = build_scenario(spec_, base, run).seats
    assert seats["US"].params == data["levers"]["doctrine_params"]["alliance-builder"]
    assert seats["CN"].params == {"diplomacy": {"propose": True}}


def test_a_doctrine_variant_plays_its_doctrine_with_more_parameters():
    from experiments.batch import _context, build_scenario

    data = study_spec()
    plan = make_plan(spec_from_dict(data))
    spec_, base = _context(plan.text, plan.scenario_ref)
    cn = "coercive-retaliator"

    def run_of(us: str):
        return next(r for r in plan.runs if r.lever == {"doctrine.US": us, "doctrine.CN": cn})

    bare, variant = run_of("alliance-builder"), run_of("alliance-builder+deal")
    bare_seat = build_scenario(spec_, base, bare).seats["US"]
    seat = build_scenario(spec_, base, variant).seats["US"]
    # the variant is its doctrine, with the doctrine's study parameters and its own on top
    assert seat.doctrine == bare_seat.doctrine == "alliance-builder"
    assert seat.params == {**bare_seat.params, "diplomacy": {"propose": True}}
    assert "diplomacy" not in bare_seat.params
    # the same future and seed, told apart by their ids and labels
    assert (variant.sample, variant.seed) == (bare.sample, bare.seed)
    assert variant.run_id != bare.run_id
    assert variant.row()["doctrine.US"] == "alliance-builder+deal"
    hawk = build_scenario(spec_, base, run_of("tariff-hawk+deal")).seats["US"]
    assert hawk.doctrine == "tariff-hawk"
    assert hawk.params == {
        **data["levers"]["doctrine_params"]["tariff-hawk"],
        "diplomacy": {"propose": True},
    }


def test_doctrine_variants_are_checked_like_doctrines():
    data = study_spec()
    data["levers"]["doctrine_variants"] = {
        "tariff-hawk": {"doctrine": "tariff-hawk", "params": {"step": 0.1}},
        "hawk+deal": {"doctrine": "tarif-hawk"},
        "alliance+deal": {"doctrine": "alliance-builder", "params": {"common_tarif": 0.5}},
    }
    data["levers"]["doctrines"]["US"] = ["tariff-hawk", "alliance+deal", "hawk-deal"]
    with pytest.raises(SpecError) as err:
        spec_from_dict(data)
    text = "\n".join(err.value.problems)
    assert (
        "levers.doctrine_variants.tariff-hawk: 'tariff-hawk' is a doctrine's own name; give the "
        "variant a name of its own" in text
    )
    assert "levers.doctrine_variants.hawk+deal.doctrine: unknown doctrine 'tarif-hawk'" in text
    assert (
        "levers.doctrine_variants.alliance+deal.params.common_tarif: alliance-builder has no "
        "parameter 'common_tarif'" in text
    )
    # a lever lists doctrines and variants; an unknown name lists both as allowed
    line = next(p for p in text.splitlines() if p.startswith("levers.doctrines.US[2]"))
    assert "unknown doctrine 'hawk-deal'" in line and "alliance+deal" in line
    assert "levers.doctrines.US[1]" not in text


def test_doctrine_params_name_a_known_doctrine_and_its_parameters():
    data = study_spec()
    data["levers"]["doctrine_params"] = {
        "tarif-hawk": {"max_rate": 0.5},
        "alliance-builder": {"common_tarif": 0.5, "diplomacy": {"propose": True}},
    }
    with pytest.raises(SpecError) as err:
        spec_from_dict(data)
    text = "\n".join(err.value.problems)
    assert "levers.doctrine_params.tarif-hawk: unknown doctrine 'tarif-hawk'; allowed:" in text
    assert (
        "levers.doctrine_params.alliance-builder.common_tarif: alliance-builder has no parameter "
        "'common_tarif'; allowed:" in text
    )
    assert "diplomacy" not in text.split("common_tarif'")[0]


def test_the_tariff_doctrines_compared_end_at_the_same_tariff():
    params = study_spec()["levers"]["doctrine_params"]
    hawk, alliance = params["tariff-hawk"], params["alliance-builder"]
    assert hawk["commodities"] == alliance["tariff_commodities"]
    assert hawk["max_rate"] == alliance["common_tariff"]


def test_the_alliance_budget_follows_the_2025_commitments():
    # equity 400 M USD in MP, a ten-year 110 USD/kg floor, an EXIM-sized fund (facts §4f, §7)
    params = study_spec()["levers"]["doctrine_params"]["alliance-builder"]
    assert params["equity_usd"] == {"mp-mountain-pass": 4.0e8}
    assert (params["floor_usd_per_kg"], params["floor_months"]) == (110.0, 120)
    assert params["fund_usd"] * 10 == pytest.approx(10e9)


def test_alliance_equity_is_bought_once_and_moves_the_money():
    from world import World, load_scenario
    from world.scenario import scenario_from_dict

    def world(params: dict) -> World:
        scenario = load_scenario("alliance-vs-tariffs-2025").model_dump(mode="json")
        scenario["seats"]["US"] = {"doctrine": "alliance-builder", "params": params}
        built = World(scenario_from_dict(scenario, "equity"), seed=0)
        built.run(7)  # three turn boundaries
        return built

    stake = {"mp-mountain-pass": 4.0e8}
    bare, funded = world({}), world({"equity_usd": stake})
    stakes = funded.measures.programmes("US", "equity_stake")
    assert [(p.params["firm"], p.params["usd"]) for p in stakes] == [("mp-mountain-pass", 4.0e8)]
    assert not bare.measures.programmes("US", "equity_stake")
    # the state's cost and the firm's cash move by the stake in the first month, and only then
    fiscal = funded.recorder.array("fiscal_cost")[:, funded.region_index["US"]]
    fiscal_bare = bare.recorder.array("fiscal_cost")[:, bare.region_index["US"]]
    assert fiscal[0] - fiscal_bare[0] == pytest.approx(4.0e8, rel=1e-6)
    assert np.allclose(fiscal[1:], fiscal_bare[1:], rtol=1e-9, atol=1.0)
    cash = funded.firms_by_id["mp-mountain-pass"].cash_usd
    assert cash - bare.firms_by_id["mp-mountain-pass"].cash_usd == pytest.approx(4.0e8, rel=1e-6)


def test_deal_months_count_the_months_a_deal_between_the_regions_held():
    from experiments.outcomes import deal_held
    from experiments.spec import Outcome
    from world import World, load_scenario
    from world.deals import Deal, deals_of

    world = World(load_scenario("baseline-2024"), seed=0)
    world.run(24)
    deals = deals_of(world).deals
    deals.clear()

    def deal(i, parties, start, end, status="expired"):
        deals[f"d{i}"] = Deal(
            f"d{i}",
            parties[0],
            parties[1:],
            [],
            12,
            start,
            start,
            status=status,
            start=start,
            end=end,
        )

    deal(1, ["US", "CN"], 2, 8)
    deal(2, ["CN", "US"], 6, 10, status="breached")  # overlaps the first: months 6-7 once
    deal(3, ["CN", "JP"], 12, 20)  # not between the US and China
    deal(4, ["US", "CN"], 20, 32, status="active")  # runs past the horizon
    deals["d5"] = Deal("d5", "US", ["CN"], [], 12, 14, 15, status="rejected")  # never held
    held = deal_held(world, ["US", "CN"])
    assert held.shape == (24,)
    assert held.sum() == (10 - 2) + (24 - 20)
    out = Outcome(name="m", derived="deal_months", region=["US", "CN"])
    assert compute(world, out) == 12.0
    windowed = Outcome(name="m", derived="deal_months", region=["US", "CN"], window=[0, 12])
    assert compute(world, windowed) == 8.0
    assert compute(world, Outcome(name="m", derived="deal_months", region=["JP", "CN"])) == 8.0


def test_the_note_is_written_from_the_stored_runs():
    batch = study.OUT / "batch"
    manifest = json.loads((batch / "manifest.json").read_text(encoding="utf-8"))
    spec, text = load_spec(study.SPEC)
    plan = make_plan(spec, text, study.SPEC.parent)
    assert manifest["spec_hash"] == results_hash(plan.text), "the spec changed: rerun the study"
    outcomes = load_outcomes(batch)
    assert set(outcomes["run_id"]) == {r.run_id for r in plan.runs}
    summary = study.summarise(outcomes, spec.levers.doctrines)
    runs = study.per_run(outcomes)
    note = study.DOC.read_text(encoding="utf-8")
    assert study.markdown_table(summary) in note
    assert study.paired_table(runs, spec.levers.doctrines) in note
    for line in study.findings(runs, spec.levers.doctrines):
        assert line in note
    # the feature scores and the PRIM box, computed again in this process
    assert study.discovery_section(spec, runs) in note
    assert len(summary) == 16 and set(summary["futures"]) == {12}


def test_a_short_batch_gives_the_note_of_direct_runs(tmp_path):
    from experiments.spec import scale_path, set_path
    from world import World, load_scenario
    from world.scenario import scenario_from_dict

    text = study.SPEC.read_text(encoding="utf-8")
    short = {
        "months = 120": "months = 12",
        'US = ["tariff-hawk", "tariff-hawk+deal", "alliance-builder", "alliance-builder+deal"]': (
            'US = ["tariff-hawk", "alliance-builder+deal"]'
        ),
        'CN = ["value-chain-upgrader", "coercive-retaliator", "market-share-defender", '
        '"dealmaker"]': 'CN = ["coercive-retaliator"]',
        "samples = 12": "samples = 3",
        # windows inside the short horizon
        "window = [48, 60]": "window = [6, 12]",
        "window = [0, 120]": "window = [0, 12]",
    }
    for old, new in short.items():
        assert old in text, old
        text = text.replace(old, new)
    spec_path = tmp_path / "short.toml"
    spec_path.write_text(text, encoding="utf-8")
    data = tomllib.loads(text)
    out, doc = tmp_path / "study", tmp_path / "note.md"
    args = ["--spec", str(spec_path), "--out", str(out), "--doc", str(doc), "--workers", "1"]
    assert study.main(args) == 0

    outcomes = load_outcomes(out / "batch")
    order = data["levers"]["doctrines"]
    summary = study.summarise(outcomes, order)
    note = doc.read_text(encoding="utf-8")
    assert study.markdown_table(summary) in note
    assert "## What drives the results" in note and "| US strategy |" in note
    assert list(summary["doctrine.US"]) == ["tariff-hawk", "alliance-builder+deal"]
    assert set(summary["futures"]) == {3}
    assert (out / "alliance-vs-tariffs.png").stat().st_size > 10_000
    # every pairing meets the same sampled futures (common random numbers)
    runs = study.per_run(outcomes)
    paths = list(data["uncertainties"])
    futures = {
        us: runs[runs["doctrine.US"] == us].sort_values("sample")[paths] for us in order["US"]
    }
    assert (
        futures["tariff-hawk"].to_numpy().tolist()
        == futures["alliance-builder+deal"].to_numpy().tolist()
    )
    # the report of the batch, with its scenario discovery
    from experiments.cli import main as cli

    assert cli(["report", str(out / "batch")]) == 0
    page = (out / "batch" / "report" / "index.html").read_text(encoding="utf-8")
    assert "alliance-builder+deal" in page and "Scenario discovery" in page

    # one stored run is the world's own figures for that pairing, its seat parameters, its
    # sampled future and seed, built here by hand
    spec = spec_from_dict(data)
    stored = runs[(runs["doctrine.US"] == "alliance-builder+deal") & (runs["sample"] == 1)]
    assert len(stored) == 1
    stored = stored.iloc[0]
    scenario = load_scenario("alliance-vs-tariffs-2025").model_dump(mode="json")
    params = data["levers"]["doctrine_params"]
    scenario["seats"]["US"] = {
        "doctrine": "alliance-builder",
        "params": {**params["alliance-builder"], "diplomacy": {"propose": True}},
    }
    scenario["seats"]["CN"]["params"] = params["coercive-retaliator"]
    for path, unc in data["uncertainties"].items():
        value = stored[path]
        if unc.get("apply") == "scale":
            scale_path(scenario, path, float(value))
        else:
            set_path(scenario, path, value.item() if hasattr(value, "item") else value)
    world = World(scenario_from_dict(scenario, "direct"), seed=int(stored["seed"]))
    world.run(12)
    for out_ in spec.outcomes:
        expected = compute(world, out_)
        if math.isnan(expected):
            assert math.isnan(stored[out_.name]), out_.name
        else:
            assert stored[out_.name] == pytest.approx(expected, rel=1e-12), out_.name
    assert stored["fiscal_cost_usd_bn"] >= 0.4, "the alliance's equity stake alone is 0.4 bn"

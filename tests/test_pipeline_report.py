"""benchmarks/pipeline.py: every announced ex-China project is accounted for, with a reason
wherever it does not run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from world import load_scenario

PIPELINE = Path(__file__).resolve().parents[1] / "benchmarks" / "pipeline.py"
_spec = importlib.util.spec_from_file_location("benchmark_pipeline", PIPELINE)
assert _spec is not None and _spec.loader is not None
pipeline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pipeline)


@pytest.fixture(scope="module")
def rows():
    return pipeline.pipeline_table("baseline-2024", seed=0)


def test_every_announced_ex_china_project_has_a_row(rows):
    spec = load_scenario("baseline-2024")
    expected = {
        f.id
        for f in spec.firms
        if f.region != "CN" and f.status in ("construction", "candidate") and f.stage != "recycler"
    }
    assert {r["firm"] for r in rows} == expected
    assert len(rows) == len(expected)


def test_plants_under_construction_come_online_no_earlier_than_announced(rows):
    for r in rows:
        if r["status"] == "construction":
            assert r["online"], r["firm"]
            assert r["online"] >= r["announced"], r["firm"]


def test_a_project_that_does_not_run_says_why(rows):
    for r in rows:
        running = r["utilisation"] is not None and r["utilisation"] >= 0.7
        assert running or r["why"], r["firm"]
        if r["online"] == "" and r["status"] == "candidate" and not r["committed"]:
            # A candidate still waiting gives its margin against the capex charge it needs.
            assert "USD/kg needed" in r["why"], r["firm"]


def test_markdown_lists_every_row(rows):
    text = pipeline.markdown(rows, "baseline-2024", 0)
    for r in rows:
        assert f"| {r['firm']} |" in text

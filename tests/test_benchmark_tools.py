"""The benchmark's firm-splitting helper: k identical smaller firms, the same world in total."""

from __future__ import annotations

import importlib.util
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from world import load_scenario

ENGINE = Path(__file__).resolve().parents[1] / "benchmarks" / "engine.py"
_spec = importlib.util.spec_from_file_location("benchmark_engine", ENGINE)
assert _spec is not None and _spec.loader is not None
engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engine)


def _capacity(scenario) -> dict[tuple[str, str, str], float]:
    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for firm in scenario.firms:
        totals[firm.stage, firm.region, firm.status] += firm.capacity_tpy
    return dict(totals)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_split_keeps_capacity_and_multiplies_firms(k):
    base = load_scenario("baseline-2024")
    split = engine.split_firms("baseline-2024", k)
    assert len(split.firms) == k * len(base.firms)
    ids = [f.id for f in split.firms]
    assert len(set(ids)) == len(ids)
    before, after = _capacity(base), _capacity(split)
    assert before.keys() == after.keys()
    for key, total in before.items():
        assert after[key] == pytest.approx(total, rel=1e-12)
    # Candidates and plants under construction are split too, with their dates.
    statuses = Counter(f.status for f in base.firms)
    assert Counter(f.status for f in split.firms) == {s: k * n for s, n in statuses.items()}
    online = sorted(f.online or "" for f in base.firms)
    assert sorted(f.online or "" for f in split.firms) == sorted(online * k)


def test_split_parts_are_identical_copies():
    base = load_scenario("baseline-2024")
    split = engine.split_firms(base, 4)
    original = base.firms[0]
    parts = [f for f in split.firms if f.id.startswith(f"{original.id}-")]
    assert [p.id for p in parts] == [f"{original.id}-{i}" for i in range(1, 5)]
    for part in parts:
        assert part.capacity_tpy == pytest.approx(original.capacity_tpy / 4)
        assert part.model_dump(exclude={"id", "name", "capacity_tpy", "cash_usd"}) == (
            original.model_dump(exclude={"id", "name", "capacity_tpy", "cash_usd"})
        )


def test_split_rejects_nonpositive_k():
    with pytest.raises(ValueError):
        engine.split_firms("baseline-2024", 0)

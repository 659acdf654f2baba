"""world/copying.py: the fork's fast copy is a deep copy, with sharing kept as deepcopy keeps it."""

from __future__ import annotations

import copy
from collections import deque

import numpy as np

from world import World
from world.copying import copy_state, copy_value


class _Holder:
    def __init__(self) -> None:
        shared = np.arange(3.0)
        self.stock = {"oxide": 2.0, "concentrate": shared}
        self.ledger = {"concentrate": shared}
        self.history = deque([np.float64(1.0), 2.0], maxlen=4)
        self.pairs = [(1, "a"), {"nested": [1.0, 2.0]}]
        self.cache = (shared, 3)


def test_copy_state_is_deep_and_keeps_sharing() -> None:
    """The copy is independent of the original, equal to it, and an array held twice in the
    original is one array in the copy (as copy.deepcopy leaves it)."""
    original = _Holder()
    clone = copy_state(original, {})
    assert clone is not original and type(clone) is _Holder
    assert clone.stock["concentrate"] is clone.ledger["concentrate"] is clone.cache[0]
    assert clone.stock["concentrate"] is not original.stock["concentrate"]
    assert clone.history.maxlen == 4 and list(clone.history) == list(original.history)
    # A tuple of atoms is immutable all the way down: shared, as copy.deepcopy shares it.
    assert clone.pairs[0] is original.pairs[0] and clone.cache is not original.cache
    clone.stock["concentrate"][0] = 99.0
    clone.pairs[1]["nested"].append(3.0)
    clone.history.append(5.0)
    assert original.stock["concentrate"][0] == 0.0
    assert original.pairs[1]["nested"] == [1.0, 2.0]
    assert len(original.history) == 2


def test_write_once_entries_are_shared_in_a_new_container() -> None:
    """``write_once`` attributes: a new list of the same entries; the copy may append."""
    original = _Holder()
    original.terms = [{"kind": "export_ban"}]
    clone = copy_state(original, {}, write_once=("terms",))
    assert clone.terms is not original.terms and clone.terms[0] is original.terms[0]
    clone.terms.append({"kind": "import_tariff"})
    assert len(original.terms) == 1


def test_copy_value_matches_deepcopy() -> None:
    """Plain containers come out equal to copy.deepcopy's copy, and memo entries are honoured."""
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": np.ones(2)}, "d": deque([1, 2])}
    ours, theirs = copy_value(value, {}), copy.deepcopy(value)
    assert ours.keys() == theirs.keys() and ours["a"] == theirs["a"]
    assert np.array_equal(ours["b"]["c"], theirs["b"]["c"]) and list(ours["d"]) == [1, 2]
    kept = [1.0]
    assert copy_value({"k": kept}, {id(kept): kept})["k"] is kept


def test_fork_copies_firms_independently() -> None:
    """A fork's firms are new objects with equal state; running the fork leaves the original's
    firms as they were."""
    world = World("baseline-2024", seed=0).run(months=2)
    before = [(f.firm_id, f.cash_usd, dict(f.sales_ema)) for f in world.firms]
    clone = world.fork()
    assert all(a is not b for a, b in zip(world.firms, clone.firms, strict=True))
    assert clone.firms[0].model is clone
    clone.run(months=2)
    assert [(f.firm_id, f.cash_usd, dict(f.sales_ema)) for f in world.firms] == before

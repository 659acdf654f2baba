"""Copying the world's objects for :meth:`World.fork`, faster than ``copy.deepcopy`` alone.

A fork deep-copies every firm, end user, state and deal. Their attributes are mostly numbers,
strings, small float arrays and flat dicts or lists of them, and ``copy.deepcopy`` spends a
call on every key, number and string in them. :func:`copy_state` copies those plain values
itself and hands anything else to ``copy.deepcopy`` with the same memo, so objects shared
between attributes stay shared in the copy (an array in two dicts is one array in the copy),
exactly as ``copy.deepcopy`` would leave them.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

import numpy as np

#: Immutable values a copy can share (numpy scalars are immutable too).
_ATOMS = frozenset(
    {int, float, bool, str, type(None), np.float64, np.int64, np.bool_, np.float32, np.int32}
)
_MISSING = object()


def copy_value(value: Any, memo: dict) -> Any:
    """A deep copy of ``value``, as ``copy.deepcopy(value, memo)`` makes it.

    Atoms are returned as they are; float arrays are copied; dicts, lists, deques and tuples
    are rebuilt element by element through this function; every other object goes to
    ``copy.deepcopy``. Each copy is entered in ``memo``, so shared objects stay shared.
    """
    kind = type(value)
    if kind in _ATOMS:
        return value
    found = memo.get(id(value), _MISSING)
    if found is not _MISSING:
        return found
    if kind is np.ndarray and value.dtype != object:
        out: Any = value.copy()
    elif kind is dict:
        out = {}
        memo[id(value)] = out
        for k, v in value.items():
            key = k if type(k) in _ATOMS else copy.deepcopy(k, memo)
            out[key] = copy_value(v, memo)
        return out
    elif kind is list:
        out = []
        memo[id(value)] = out
        out.extend(copy_value(v, memo) for v in value)
        return out
    elif kind is deque:
        out = deque((copy_value(v, memo) for v in value), maxlen=value.maxlen)
    elif kind is tuple:
        items = [copy_value(v, memo) for v in value]
        # As copy.deepcopy: a tuple that holds only what the copy shares is itself shared, and
        # one reached again while its items were copied is the copy made then.
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        found = memo.get(id(value), _MISSING)
        if found is not _MISSING:
            return found
        out = tuple(items)
    else:
        return copy.deepcopy(value, memo)
    memo[id(value)] = out
    return out


def copy_state(obj: Any, memo: dict, write_once: tuple[str, ...] = ()) -> Any:
    """A deep copy of ``obj`` (for its ``__deepcopy__``): a new instance whose attributes are
    :func:`copy_value` copies of the original's.

    ``write_once`` names list attributes (or dicts of lists) whose entries are never changed
    once put in: the copy gets new lists of the same entries (it may add its own).
    """
    clone = copy.copy(obj)
    memo[id(obj)] = clone
    state = clone.__dict__
    for name, value in vars(obj).items():
        if name in write_once:
            state[name] = (
                {k: list(v) for k, v in value.items()} if isinstance(value, dict) else list(value)
            )
        else:
            state[name] = copy_value(value, memo)
    return clone

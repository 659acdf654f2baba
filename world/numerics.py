"""Array arithmetic that gives the same bits on every CPU.

numpy picks its kernels at run time by what the CPU offers: with AVX-512, ``np.exp``,
``np.log``, ``np.log1p`` and ``np.power`` use vectorised approximations whose last bits differ
from the same functions on a CPU without it, and ``@`` goes to OpenBLAS, whose kernels (chosen
by CPU model) sum in different orders. A last-bit difference is enough to flip a firm's
investment years later, so the same scenario, orders and seed gave different games on two
machines (and on a Dask cluster of mixed machines). The engine uses these functions instead:
elementwise through the C library's ``exp``/``log``/``log1p`` (the same code on every x86-64
CPU of a given libc), and products through ``np.einsum``'s own loops, which numpy compiles for
its baseline only. The arrays are small (a value per region or deposit), so the Python loop
costs microseconds a call.

``tests/test_cpu_independence.py`` runs a game with numpy's optional CPU features switched off
and OpenBLAS set to its oldest kernels and checks the results are bit-identical, and fails if
``np.exp``, ``np.log``, ``np.log1p``, ``np.power`` or ``@`` come back into the engine.
"""

from __future__ import annotations

import math

import numpy as np
from numpy._core.multiarray import c_einsum

__all__ = ["exp", "log", "log1p", "matmul", "total"]


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _log(v: float) -> float:
    if v > 0:
        return math.log(v)
    return -math.inf if v == 0 else math.nan


def _log1p(v: float) -> float:
    if v > -1:
        return math.log1p(v)
    return -math.inf if v == -1 else math.nan


def _elementwise(fn, x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    out = np.fromiter(map(fn, a.ravel().tolist()), dtype=float, count=a.size)
    return out.reshape(a.shape)


def exp(x) -> np.ndarray:
    """``e ** x`` elementwise (``inf`` where it overflows), as ``np.exp``."""
    return _elementwise(_exp, x)


def log(x) -> np.ndarray:
    """Natural log elementwise (``-inf`` at 0, NaN below), as ``np.log``."""
    return _elementwise(_log, x)


def log1p(x) -> np.ndarray:
    """``log(1 + x)`` elementwise (``-inf`` at -1, NaN below), as ``np.log1p``."""
    return _elementwise(_log1p, x)


_SUBSCRIPTS = {(1, 1): "i,i->", (1, 2): "i,ij->j", (2, 1): "ij,j->i", (2, 2): "ij,jk->ik"}


def matmul(a, b) -> np.ndarray:
    """``a @ b`` for vectors and matrices, summed in numpy's own loops (never BLAS)."""
    # ``np.einsum`` without ``optimize`` is ``c_einsum`` behind a dispatch wrapper: called
    # directly (the same loops, so the same bits), a product costs half as long, which counts at
    # tens of thousands of small products a run.
    if type(a) is not np.ndarray or a.dtype != np.float64:
        a = np.asarray(a, dtype=float)
    if type(b) is not np.ndarray or b.dtype != np.float64:
        b = np.asarray(b, dtype=float)
    return c_einsum(_SUBSCRIPTS[(a.ndim, b.ndim)], a, b)


def total(values: list[float]) -> float:
    """The sum of a float vector's values (as a list) exactly as numpy's ``ndarray.sum`` adds
    them, as a Python float.

    numpy sums a vector pairwise: fewer than eight values one after another, up to 128 in
    eight running sums combined as a tree, then the rest one by one; longer vectors split in
    halves. Python's ``sum`` compensates its rounding (Python 3.12), so its last bits differ;
    this is for the many small vectors (a concentrate's deposits, a region's arcs) that the
    engine sums one at a time, where numpy's call costs more than the arithmetic.
    """
    # numpy's reduction starts from 0.0 and adds the pairwise sum (which starts from -0.0):
    # for fewer than eight values that is the plain running sum from 0.0.
    n = len(values)
    if n < 8:
        out = 0.0
        for v in values:
            out += v
        return out
    if n == 8:
        r0, r1, r2, r3, r4, r5, r6, r7 = values
        return 0.0 + (((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)))
    return 0.0 + _pairwise(values, 0, n)


def _pairwise(values: list[float], start: int, n: int) -> float:
    if n < 8:
        out = -0.0
        for v in values[start : start + n]:
            out += v
        return out
    if n <= 128:
        r0, r1, r2, r3, r4, r5, r6, r7 = values[start : start + 8]
        end = start + n - n % 8
        for i in range(start + 8, end, 8):
            r0 += values[i]
            r1 += values[i + 1]
            r2 += values[i + 2]
            r3 += values[i + 3]
            r4 += values[i + 4]
            r5 += values[i + 5]
            r6 += values[i + 6]
            r7 += values[i + 7]
        out = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for v in values[end : start + n]:
            out += v
        return out
    half = n // 2
    half -= half % 8
    return _pairwise(values, start, half) + _pairwise(values, start + half, n - half)

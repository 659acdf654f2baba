"""The same scenario, orders and seed give the same bits on every CPU (world/numerics.py).

numpy chooses SIMD kernels by what the CPU offers (AVX-512's exp, log and power round their last
bits differently) and ``@`` goes to OpenBLAS kernels chosen by CPU model; either was enough to
make two machines play different games. A game is run twice in fresh processes: as this CPU
runs it, and with every optional numpy CPU feature switched off and OpenBLAS on its oldest
x86-64 kernels, as the oldest supported CPU would; the results and orders must be identical.
"""

from __future__ import annotations

import ast
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from world import numerics

REPO = Path(__file__).resolve().parents[1]

GAME = """
import sys
sys.path[:0] = [{repo!r}, {tests!r}]
from test_structure_hash import frame_hash
from world import World
world = World("alliance-vs-tariffs-2025", seed=3)
world.run(24)
print(frame_hash(world.results()), frame_hash(world.orders()))
"""


def _optional_cpu_features() -> list[str]:
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]


def _play(env: dict[str, str]) -> str:
    code = GAME.format(repo=str(REPO), tests=str(REPO / "tests"))
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_a_game_is_bit_identical_without_the_cpus_optional_kernels():
    oldest = {
        "NPY_DISABLE_CPU_FEATURES": " ".join(_optional_cpu_features()),
        "OPENBLAS_CORETYPE": "Prescott",
    }
    assert _play({}) == _play(oldest)


VALUES = [0.0, -0.0, 1e-300, 0.3, 1.0, 2.5, 709.0, 710.0, -745.5, -1.0, -2.0, math.inf, -math.inf]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(numerics.exp, np.exp), (numerics.log, np.log), (numerics.log1p, np.log1p)],
    ids=["exp", "log", "log1p"],
)
def test_the_functions_are_numpys_to_the_last_bit_of_the_c_library(ours, theirs):
    x = np.array([VALUES, [v / 3 for v in VALUES]])
    with np.errstate(all="ignore"):
        expected = theirs(x)
    got = ours(x)
    assert got.shape == x.shape and got.dtype == np.float64
    # Same special values (inf, -inf, NaN) where numpy gives them ...
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    finite = np.isfinite(expected)
    assert np.array_equal(
        got[~finite & ~np.isnan(expected)], expected[~finite & ~np.isnan(expected)]
    )
    # ... and the C library's value, bit for bit, elsewhere (numpy's may differ by an ulp).
    for v, g in zip(x[finite].tolist(), got[finite].tolist(), strict=True):
        assert g == getattr(math, ours.__name__)(v)
    assert np.allclose(got[finite], expected[finite], rtol=1e-15, atol=0)


def test_matmul_is_numpys_product():
    rng = np.random.default_rng(1)
    a, b, v = rng.random((5, 4)), rng.random((4, 3)), rng.random(4)
    assert np.allclose(numerics.matmul(a, b), a @ b, rtol=1e-14)
    assert np.allclose(numerics.matmul(v, b), v @ b, rtol=1e-14)
    assert np.allclose(numerics.matmul(a, v), a @ v, rtol=1e-14)
    assert numerics.matmul(v, v) == pytest.approx(float(v @ v), rel=1e-14)


def test_total_is_numpys_sum_bit_for_bit():
    # numerics.total stands in for ndarray.sum on small vectors: it must add in numpy's order
    # (a running sum under eight values, eight-way pairwise from eight, halves above 128).
    rng = np.random.default_rng(2)
    for n in [*range(40), 127, 128, 129, 200, 257, 1000]:
        for _ in range(50):
            v = rng.random(n) * 10.0 ** rng.integers(-8, 8, n) * rng.choice([-1.0, 1.0], n)
            v[rng.random(n) < 0.2] = 0.0
            v[rng.random(n) < 0.05] = -0.0
            got, expected = numerics.total(v.tolist()), float(v.sum())
            assert got == expected and math.copysign(1, got) == math.copysign(1, expected), n
    for special in ([math.inf, 1.0], [math.inf, -math.inf], [math.nan, 1.0], [-0.0], []):
        expected = float(np.array(special, dtype=float).sum())
        got = numerics.total(special)
        assert got == expected or (math.isnan(got) and math.isnan(expected))


#: numpy calls whose kernels depend on the CPU.
CPU_DEPENDENT = {"exp", "log", "log1p", "expm1", "power", "float_power", "log2", "log10", "dot",
                 "matmul", "exp2"}  # fmt: skip


def test_the_engine_uses_no_cpu_dependent_numpy_kernel():
    found = []
    for folder in ("world", "agents"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path.name == "numerics.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                    found.append(f"{where}: @")
                elif (
                    isinstance(node, ast.Attribute)
                    and node.attr in CPU_DEPENDENT
                    and isinstance(node.value, ast.Name)
                    and node.value.id in ("np", "numpy")
                ):
                    found.append(f"{where}: np.{node.attr}")
    assert not found, "use world/numerics.py instead: " + ", ".join(found)

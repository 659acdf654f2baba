"""Headless experiments: batches over levers, uncertainties and seeds; reports; policy search.

``from experiments import run_batch`` is the in-memory API (:mod:`experiments.api`); the
``chokepoint`` command is :mod:`experiments.cli`. Submodules load on first use so that
``chokepoint --version`` does not import the engine.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BatchWorld", "run_batch", "run_search"]


def __getattr__(name: str) -> Any:
    if name == "run_batch":
        from experiments.api import run_batch

        return run_batch
    if name == "run_search":
        from experiments.search import run_search

        return run_search
    if name == "BatchWorld":
        from experiments.mesa_model import BatchWorld

        return BatchWorld
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")

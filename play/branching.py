"""Forks for the facilitator: "where could this game go from here?".

At a turn boundary the facilitator can ask for ``n`` futures of the live game. Each future is a
copy of the world in which every seat, human or not, is played by its scenario doctrine, with
its own random stream (firms' investment timing), run ``months`` months. The live world is never
touched. :func:`futures` returns a small tidy table of key curves per future; the workshop's
fan chart (ui/workshop/fan_chart.py) draws their median and 10-90% / 25-75% bands after "now",
with the game's history before it.

The key curves (variable, commodity, region -> unit):

- ``price``, ``magnet`` and ``oxide_light`` (NdPr-type oxide), per state region: USD/kg, the
  price a buyer there pays;
- ``china_share``, per commodity (stage), region ``CN``: China's share of world production, 0-1;
- ``defense_fill_rate``, region ``US``: share of US defence magnet demand met, 0-1;
- ``stock_strategic``, per stockpiled product (``oxide_light``, ``oxide_heavy``, ``magnet``)
  and state region: t in the state's stockpile (the fan chart sums the products per region).

Processes: with ``workers > 1`` the futures run on a process pool kept at module level (a fresh
worker costs about 2 s of imports, more than a whole batch of futures, so the pool is started
once and reused). Measured on the 2-core machine for n=20 x 24 months from month 12 of
``alliance-vs-tariffs-2025``: 3.5 s in this process, 3.4 s on a pool started by the call and
2.1-2.6 s on a warm pool; the pool also leaves the server's interpreter free meanwhile. So the
default (:data:`DEFAULT_WORKERS`) is the pool, one worker per core.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from play.lifeline import follow
from world import World

# Imported first in multiprocessing's forkserver (its preload list, below): the forkserver ends
# with the workshop server too. In any other process this does nothing.
follow()

#: Processes by default: one per core (see the module docstring for the measurement; the
#: pickled world sent to each worker is about 0.2 MB).
DEFAULT_WORKERS = max(1, min(4, os.cpu_count() or 1))
PRICE_COMMODITIES = ("magnet", "oxide_light")
STOCK_COMMODITIES = ("oxide_light", "oxide_heavy", "magnet")
COLUMNS = ["future", "month", "date", "variable", "commodity", "region", "value"]

_pool: ProcessPoolExecutor | None = None
_pool_workers = 0


def key_curves(world: World, start: int = 0, stop: int | None = None) -> pd.DataFrame:
    """The key curves (see the module docstring) for months ``start`` to ``stop`` (exclusive;
    default: every month recorded), as a tidy frame without the ``future`` column."""
    stop = world.month if stop is None else min(stop, world.month)
    months = np.arange(start, stop)
    if months.size == 0:
        return pd.DataFrame(columns=COLUMNS[1:])
    rec = world.recorder
    states = [s.region for s in world.spec.states if s.region in world.region_index]
    parts: list[tuple[str, str, str, np.ndarray]] = []
    price = rec.array("price")[start:stop]
    for c in PRICE_COMMODITIES:
        ci = world.commodity_index[c]
        for region in states:
            parts.append(("price", c, region, price[:, ci, world.region_index[region]]))
    production = rec.array("production")[start:stop]
    cn = world.region_index.get("CN")
    if cn is not None:
        for ci, c in enumerate(world.commodity_ids):
            total = production[:, ci, :].sum(axis=1)
            share = np.divide(
                production[:, ci, cn], total, out=np.full(total.shape, np.nan), where=total > 0
            )
            parts.append(("china_share", c, "CN", share))
    if "US" in world.region_index and "defense" in world.sector_index:
        fill = rec.array("fill_rate")[start:stop]
        us, defence = world.region_index["US"], world.sector_index["defense"]
        parts.append(("defense_fill_rate", "", "US", fill[:, us, defence]))
    strategic = rec.array("stock_strategic")[start:stop]
    for c in STOCK_COMMODITIES:
        ci = world.commodity_index[c]
        for region in states:
            parts.append(
                ("stock_strategic", c, region, strategic[:, ci, world.region_index[region]])
            )
    dates = [world.date_of(int(m)) for m in months]
    frames = [
        pd.DataFrame(
            {
                "month": months,
                "date": dates,
                "variable": variable,
                "commodity": commodity,
                "region": region,
                "value": np.asarray(values, dtype=float),
            }
        )
        for variable, commodity, region, values in parts
    ]
    return pd.concat(frames, ignore_index=True)


def _run_future(clone: World, index: int, months: int) -> pd.DataFrame:
    now = clone.month
    clone.run(months)
    frame = key_curves(clone, now)
    frame.insert(0, "future", index)
    return frame


def _run_pickled(blob: bytes, seed: int, indices: list[int], months: int) -> pd.DataFrame:
    """Worker side: the world is unpickled once per chunk and each future forks from it."""
    base = pickle.loads(blob)
    return pd.concat(
        [_run_future(base.fork((seed, i), all_ai=True), i, months) for i in indices],
        ignore_index=True,
    )


def _executor(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_workers
    if _pool is None or _pool_workers != workers:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        # forkserver, not fork: the server process runs threads, and forking a threaded process
        # can deadlock a child. Preloading the engine makes each worker's start cheap.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["world", "play.branching"])
        # Workers exit the moment the process that made the pool does, even after a kill -9
        # of it (play/lifeline.py): no orphan is left holding the resource tracker.
        _pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=follow, initargs=(os.getpid(),)
        )
        _pool_workers = workers
    return _pool


def futures(
    world: World, n: int, months: int, seed: int = 0, workers: int | None = None
) -> pd.DataFrame:
    """Run ``n`` futures of ``months`` months from the live world, leaving it untouched.

    Args:
        world: the live game, best at a turn boundary (orders pending in it apply in every
            future at the next boundary).
        n: number of futures.
        months: months each future runs from ``world.month``.
        seed: seeds the futures' random streams (future ``i`` uses ``SeedSequence([seed, i])``);
            the same arguments give the same table, in any process.
        workers: processes to use; None uses :data:`DEFAULT_WORKERS`. Above 1, futures run on a
            process pool kept for the next call.

    Returns:
        A tidy frame: future, month, date, variable, commodity, region, value (the key curves
        of the module docstring, for the months after ``world.month``).
    """
    workers = DEFAULT_WORKERS if workers is None else max(1, int(workers))
    if n <= 0 or months <= 0:
        return pd.DataFrame(columns=COLUMNS)
    if workers == 1 or n == 1:
        frames = [_run_future(world.fork((seed, i), all_ai=True), i, months) for i in range(n)]
    else:
        blob = pickle.dumps(world, protocol=pickle.HIGHEST_PROTOCOL)
        chunks = [list(range(n))[k::workers] for k in range(workers)]
        pool = _executor(workers)
        jobs = [pool.submit(_run_pickled, blob, seed, chunk, months) for chunk in chunks if chunk]
        frames = [job.result() for job in jobs]
    out = pd.concat(frames, ignore_index=True)
    # Each future's rows keep key_curves' order (scenario order of regions); only the futures
    # are put in order, since the pool returns them chunk by chunk.
    return out.sort_values("future", kind="stable", ignore_index=True)[COLUMNS]


# --------------------------------------------------------------------------- the chart

#: One panel per key curve: (variable, commodity or None for all, title, y label, scale).
PANELS = [
    ("price", "magnet", "magnet price", "USD/kg", 1.0),
    ("price", "oxide_light", "NdPr oxide (oxide_light) price", "USD/kg", 1.0),
    ("china_share", None, "China's share of world production", "% of world t/month", 100.0),
    ("defense_fill_rate", None, "US defence: share of magnet demand met", "fill rate, %", 100.0),
    ("stock_strategic", None, "strategic stockpiles (oxides + magnets)", "t", 1.0),
]

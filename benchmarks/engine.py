"""Engine benchmark: how long a run takes, and how the cost grows with the number of firms.

Times ``World(scenario, seed=0).run(months)`` (construction included) for a scenario and for the
same scenario with every firm split into k identical smaller firms. Each size runs in a fresh
subprocess pinned to one CPU (BLAS threads off), so sizes do not share caches, heaps or imports;
peak memory is measured with tracemalloc in a separate pass so that it does not slow the timed
runs.

    uv run python benchmarks/engine.py [--months 120] [--sizes 1,10,100] [--scenario NAME]

Each size also prints how many deals AI recipients weighed by look-ahead (each look-ahead forks
the world twice and runs both copies on; alliance-vs-tariffs-2025 has dozens in 120 months) and
the mean cost of one :meth:`World.fork` of the finished world.

Floors checked: the baseline runs 120 months in under 1 s on one core, and the cost grows no
worse than linearly in the number of firms.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``world`` importable without installing
    sys.path.insert(0, str(REPO))

from world import World, load_scenario  # noqa: E402
from world.scenario import Scenario, scenario_from_dict  # noqa: E402

#: The floors of the brief.
BASELINE_FLOOR_S = 1.0
FLOOR_MONTHS = 120
#: Slack on "no worse than linear": time ratio / firm multiplier may reach this (timing noise).
LINEAR_TOLERANCE = 1.10
#: Forks of the finished world timed for the mean cost of one.
FORK_REPEATS = 5
#: Extensive quantities of a firm that are divided among its k parts.
SPLIT_FIELDS = ("capacity_tpy", "cash_usd")


def split_firms(scenario: Scenario | str, k: int) -> Scenario:
    """The scenario with every firm split into ``k`` identical smaller firms.

    Each part has ``capacity_tpy / k`` (and ``cash_usd / k``), the id ``<id>-1`` .. ``<id>-k``
    and everything else of the original (stage, region, costs, status, online date, deposit,
    feed, utilisation), so candidates and plants under construction are split too; captive
    supply links (``feed_from``) join part i to part i. ``k = 1``
    returns the scenario unchanged.

    Args:
        scenario: a validated scenario, or a bundled scenario's name or a path to a file.
        k: number of parts per firm, >= 1.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1 (got {k})")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if k == 1:
        return scenario
    data = scenario.model_dump(mode="json")
    firms = []
    for firm in data["firms"]:
        for part in range(1, k + 1):
            piece = dict(firm)
            piece["id"] = f"{firm['id']}-{part}"
            piece["name"] = f"{firm['name']} ({part}/{k})"
            for field in SPLIT_FIELDS:
                if piece.get(field) is not None:
                    piece[field] = firm[field] / k
            # Part i of a plant is fed by part i of each of its captive suppliers.
            piece["feed_from"] = [f"{s}-{part}" for s in firm.get("feed_from") or []]
            firms.append(piece)
    data["firms"] = firms
    ids = {firm["id"] for firm in data["firms"]} | {f["id"] for f in scenario.model_dump()["firms"]}
    orders = []
    for order in data.get("orders", []):
        if order.get("issuer") not in ids:
            orders.append(order)
            continue
        # A firm's own order (an offtake contract) is split like the firm: part i to part i.
        for part in range(1, k + 1):
            piece = dict(order)
            piece["id"] = f"{order['id']}-{part}"
            piece["issuer"] = f"{order['issuer']}-{part}"
            if piece.get("supplier"):
                piece["supplier"] = f"{order['supplier']}-{part}"
            if piece.get("tonnes_per_year") is not None:
                piece["tonnes_per_year"] = order["tonnes_per_year"] / k
            orders.append(piece)
    data["orders"] = orders
    return scenario_from_dict(data, source=f"{scenario.name} x{k}")


# --------------------------------------------------------------------------- worker


def _pin_to_one_cpu() -> str:
    """Pin this process to one CPU where the OS allows it; say which."""
    if hasattr(os, "sched_getaffinity") and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def _run(scenario: Scenario, months: int) -> tuple[World, float, float]:
    started = time.perf_counter()
    world = World(scenario, seed=0)
    built = time.perf_counter()
    world.run(months=months)
    return world, built - started, time.perf_counter() - started


def worker(name: str, k: int, months: int, repeats: int) -> dict:
    """Time one size in this process; returns the measurements as plain data."""
    pinned = _pin_to_one_cpu()
    scenario = split_firms(name, k)
    # Warm-up: imports, first-call caches. Not timed.
    World(scenario, seed=0).run(months=min(months, 3))
    best_total, best_build, world = float("inf"), float("inf"), None
    for _ in range(repeats):
        gc.collect()
        world, build_s, total_s = _run(scenario, months)
        best_total, best_build = min(best_total, total_s), min(best_build, build_s)
    assert world is not None
    # Same economy whatever k: world magnet output in the last month, t/month.
    magnet_t = float(world.production_buffer[world.commodity_index["magnet"]].sum())
    # AI recipients that weighed a deal by look-ahead (two forks and their months each), and
    # what one fork of the finished world costs.
    lookaheads = sum(
        d.get("method") == "lookahead"
        for deal in world.desk.diplomacy.deals.values()
        for d in deal.decisions.values()
    )
    started = time.perf_counter()
    for _ in range(FORK_REPEATS):
        world.fork()
    fork_ms = 1000 * (time.perf_counter() - started) / FORK_REPEATS
    del world
    gc.collect()
    tracemalloc.start()
    _run(scenario, months)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "k": k,
        "firms": len(scenario.firms),
        "repeats": repeats,
        "build_s": best_build,
        "total_s": best_total,
        "peak_mib": peak / 2**20,
        "magnet_t": magnet_t,
        "lookaheads": lookaheads,
        "fork_ms": fork_ms,
        "pinned": pinned,
    }


# --------------------------------------------------------------------------- driver


def measure(name: str, k: int, months: int, repeats: int) -> dict:
    """Run :func:`worker` for one size in a fresh subprocess on one core."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--scenario",
        name,
        "--sizes",
        str(k),
        "--months",
        str(months),
        "--repeats",
        str(repeats),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark worker for x{k} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sizes(text: str) -> list[int]:
    sizes = [int(s) for s in text.split(",") if s.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes are firm multipliers >= 1, e.g. 1,10,100")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="baseline-2024", help="scenario name or path")
    parser.add_argument("--months", type=int, default=FLOOR_MONTHS, help="months per run")
    parser.add_argument(
        "--sizes", type=_sizes, default=[1, 10, 100], help="firm multipliers (default 1,10,100)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed runs per size, best kept (default: 3, or 1 above 50x firms)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        k = args.sizes[0]
        repeats = args.repeats or (1 if k > 50 else 3)
        print(json.dumps(worker(args.scenario, k, args.months, repeats)))
        return 0

    sizes = sorted(set(args.sizes))
    print(
        f"machine: {platform.platform()}; {platform.processor() or platform.machine()}; "
        f"Python {platform.python_version()} ({platform.python_implementation()}); "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"scenario {args.scenario}, {args.months} months, seed 0; each size runs in a fresh "
        "subprocess on one CPU (BLAS threads = 1); time = World construction + run, best of 3 "
        "(1 run above 50x firms); peak memory = tracemalloc peak in a separate untimed pass"
    )
    rows = []
    for k in sizes:
        row = measure(args.scenario, k, args.months, args.repeats or (1 if k > 50 else 3))
        rows.append(row)
        print(
            f"  x{k}: {row['firms']} firms, {row['total_s']:.3f} s, {row['lookaheads']} deal "
            f"look-aheads, {row['fork_ms']:.1f} ms per fork of the last month ({row['pinned']})",
            flush=True,
        )

    base = rows[0]
    header = (
        f"{'firms x':>7} {'firms':>6} {'runs':>4} {'build s':>8} {'total s':>8} "
        f"{'ms/month':>9} {'peak MiB':>9} {'time ratio':>10} {'ratio/x':>8} {'magnet t/mo':>12}"
    )
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        mult = row["k"] / base["k"]
        ratio = row["total_s"] / base["total_s"]
        print(
            f"{row['k']:>7} {row['firms']:>6} {row['repeats']:>4} {row['build_s']:>8.3f} "
            f"{row['total_s']:>8.3f} {1000 * row['total_s'] / args.months:>9.2f} "
            f"{row['peak_mib']:>9.1f} {ratio:>10.2f} {ratio / mult:>8.2f} {row['magnet_t']:>12.0f}"
        )
    print(
        "time ratio = total time / smallest size's; ratio/x = time ratio / firm multiplier "
        "(<= 1 is linear or better); magnet t/mo = world magnet output in the last month, a check "
        "that the split world is still the same economy (close, not equal: the engine is not "
        "exactly invariant to firm granularity)"
    )

    verdicts = []
    if base["k"] == 1:
        scaled = base["total_s"] * FLOOR_MONTHS / args.months
        ok = scaled < BASELINE_FLOOR_S
        note = "" if args.months == FLOOR_MONTHS else f" (scaled from {args.months} months)"
        verdicts.append(
            f"baseline {FLOOR_MONTHS} months {scaled:.3f} s{note} "
            f"{'<' if ok else '>='} {BASELINE_FLOOR_S:g} s: {'PASS' if ok else 'FAIL'}"
        )
    else:
        verdicts.append("baseline floor: not measured (sizes do not include 1)")
    if len(rows) > 1:
        worst = max(rows[1:], key=lambda r: (r["total_s"] / base["total_s"]) / (r["k"] / base["k"]))
        worst_r = (worst["total_s"] / base["total_s"]) / (worst["k"] / base["k"])
        ok_lin = worst_r <= LINEAR_TOLERANCE
        verdicts.append(
            f"growth no worse than linear: worst ratio/x = {worst_r:.2f} at x{worst['k']} "
            f"(limit {LINEAR_TOLERANCE:.2f}): {'PASS' if ok_lin else 'FAIL'}"
        )
    print("verdict: " + "; ".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())

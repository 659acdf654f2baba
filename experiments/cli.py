"""The ``chokepoint`` command.

Subcommands:

- ``chokepoint scenarios``: list the bundled scenarios with their descriptions;
- ``chokepoint validate FILE [FILE...]``: check scenario files and report every problem;
- ``chokepoint run SCENARIO [--months N] [--seed S] [--out DIR]``: a headless run that writes
  ``results.parquet`` and ``run.json``;
- ``chokepoint batch SPEC --out DIR [--workers N] [--dask ADDRESS|local]``: every run of an
  experiment spec (experiments/spec.py), resumable, into a Parquet dataset;
- ``chokepoint report DIR``: figures and a self-contained HTML summary of a batch;
- ``chokepoint search SPEC --out DIR [--workers N] [--dask ADDRESS|local]``: robust policy
  search over a spec's ``[search]`` levers (experiments/search.py), its Pareto set as Parquet;
- ``chokepoint play [--scenario NAME] [--port P] [--host H]``: the game in the browser;
- ``chokepoint serve [--host H] [--port P] [--data DIR] [--trusted-proxy ADDRESS]
  [--allowed-origin ORIGIN]``: a workshop server that teams join from their own browsers with
  a join code;
- ``chokepoint history [SCENARIO ...] [--seed S] [--out DIR]``: the model beside each
  historical scenario's observed series, a fit figure and a CSV; exit 1 if a series leaves
  its band.

Each subcommand is one ``_add_<name>`` function registered in :data:`SUBCOMMANDS`: it adds its
parser and sets ``handler`` (a function of the parsed arguments returning an exit code). New
subcommands (play, serve, batch, sweep, report) are added the same way.

Exit codes: 0 success; 1 a scenario or spec failed validation (or, for history, a series left
its band); 2 a usage error or a run that could not start or be saved (unknown scenario, negative
months, unwritable directory, a batch directory of another experiment, an unreachable Dask
scheduler); 3 a batch finished but some of its runs failed; 128 + the signal's number when
SIGINT (130) or SIGTERM (143) stopped a batch after saving its finished runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from experiments.version import package_version

if TYPE_CHECKING:
    import pandas as pd

# The engine, pandas and the web stack load inside the handlers that need them, so that
# `chokepoint --version` and `--help` answer at once.

PROG = "chokepoint"

Handler = Callable[[argparse.Namespace], int]
SubparserAdder = Callable[[argparse._SubParsersAction], None]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_RUNS_FAILED = 3
EXIT_INTERRUPTED = 130


def _error(message: str, stream: TextIO | None = None) -> None:
    print(f"{PROG}: error: {message}", file=stream or sys.stderr)


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high`` (argparse then names the
    option in its one-line error and exits with 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"from {low} to {high} (got {value})")
        return value

    parse.__name__ = "whole number"
    return parse


def SEED(text: str) -> int:
    """An argparse ``type``: a seed numpy and the run records accept (0 to MAX_SEED)."""
    from world.model import MAX_SEED

    return _whole_number(0, MAX_SEED)(text)


SEED.__name__ = "whole number"

#: A TCP port.
PORT = _whole_number(1, 65535)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- scenarios


def _add_scenarios(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "scenarios",
        help="list the bundled scenarios",
        description="List the scenarios shipped with Chokepoint, with their descriptions.",
    )
    parser.set_defaults(handler=_cmd_scenarios)


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from world import ScenarioError, bundled_scenarios, load_scenario

    bundled = bundled_scenarios()
    if not bundled:
        print("no bundled scenarios")
        return EXIT_OK
    width = max(len(name) for name in bundled)
    for name in bundled:
        try:
            text = load_scenario(name).description
        except ScenarioError as exc:
            text = f"(invalid: {exc.problems[0] if exc.problems else exc})"
        except (OSError, ValueError, TypeError) as exc:
            text = f"(invalid: {_first_line(exc)})"
        print(f"{name:<{width}}  {text}")
    return EXIT_OK


# --------------------------------------------------------------------------- validate


def _add_validate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "validate",
        help="check scenario files and report every problem",
        description="Load and validate scenario files (or bundled scenario names). "
        "Every problem is printed with its field path. Exit code 1 if any file is invalid.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario TOML file or name")
    parser.set_defaults(handler=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    from world import ScenarioError, load_scenario

    status = EXIT_OK
    for ref in args.files:
        try:
            spec = load_scenario(ref)
        except ScenarioError as exc:
            status = EXIT_INVALID
            problems = exc.problems or [str(exc)]
            print(f"{ref}: invalid ({len(problems)} problem{'s' if len(problems) != 1 else ''})")
            for problem in problems:
                print(f"  {problem}")
            continue
        except (OSError, ValueError, TypeError) as exc:
            status = EXIT_INVALID
            print(f"{ref}: invalid (1 problem)")
            print(f"  cannot load the file: {_first_line(exc)}")
            continue
        print(
            f"{ref}: ok ({len(spec.firms)} firms, {len(spec.end_users)} end users, "
            f"{len(spec.policies)} policies, horizon {spec.start} + {spec.months} months)"
        )
    return status


# --------------------------------------------------------------------------- run


def _add_run(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run",
        help="run a scenario headless and save its results",
        description="Run one scenario with one seed and write DIR/results.parquet (the tidy "
        "results table) and DIR/run.json (what produced it).",
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="bundled scenario name or TOML path")
    parser.add_argument(
        "--months",
        type=int,
        default=None,
        metavar="N",
        help="months to run (default: the scenario's horizon)",
    )
    parser.add_argument("--seed", type=SEED, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (default: runs/<scenario>-seed<S>)",
    )
    parser.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from experiments.runs import RunError, default_out_dir, run_headless
    from world import ScenarioError, load_scenario

    if args.months is not None and args.months < 0:
        _error(f"--months must be 0 or more (got {args.months})")
        return EXIT_USAGE
    try:
        spec = load_scenario(args.scenario)
    except ScenarioError as exc:
        problems = exc.problems or [str(exc)]
        if len(problems) == 1:
            _error(problems[0])
        else:
            _error(
                f"scenario {args.scenario} is invalid ({len(problems)} problems; "
                f"see `{PROG} validate {args.scenario}`): {problems[0]}"
            )
        return EXIT_USAGE
    except (OSError, ValueError, TypeError) as exc:
        _error(f"cannot load scenario {args.scenario}: {_first_line(exc)}")
        return EXIT_USAGE

    months = spec.months if args.months is None else args.months
    out = args.out if args.out is not None else default_out_dir(spec.name, args.seed)
    bar = _progress_bar(months, f"{spec.name} seed {args.seed}")
    try:
        record = run_headless(
            spec,
            months=months,
            seed=args.seed,
            out=out,
            progress=(lambda _month: bar.update(1)) if bar is not None else None,
        )
    except RunError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted; nothing was saved")
        return EXIT_INTERRUPTED
    finally:
        if bar is not None:
            bar.close()

    meta = record.metadata
    span = f", {meta['start']} .. {meta['end']}" if months > 0 else ""
    print(
        f"Ran {meta['scenario']} (seed {meta['seed']}): {months} months{span} "
        f"in {meta['wall_time_s']:.2f} s"
    )
    print(f"  results:  {record.results_path} ({meta['rows']:,} rows)")
    print(f"  metadata: {record.metadata_path}")
    _print_headlines(record.results)
    return EXIT_OK


def _progress_bar(total: int, desc: str):
    """A tqdm bar on stderr, or None when stderr is not a terminal."""
    if total <= 0 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="month", file=sys.stderr, leave=False)


def _print_headlines(results: pd.DataFrame) -> None:
    """A few headline numbers from the last recorded month."""
    from experiments.runs import last_month_values

    if results.empty:
        return
    last_date = results.loc[results["month"].idxmax(), "date"]
    regions = ("CN", "US")
    label = 30
    rows = []
    for commodity in ("oxide_light", "magnet"):
        prices = last_month_values(results, "price", commodity)
        if any(r in prices for r in regions):
            cells = "".join(f"{prices[r]:>9.1f}" if r in prices else f"{'-':>9}" for r in regions)
            rows.append(f"    {commodity + ' price, USD/kg':<{label}}{cells}")
    if rows:
        header = f"in {last_date}:"
        print(f"  {header:<{label + 2}}" + "".join(f"{r:>9}" for r in regions))
        for row in rows:
            print(row)
    shortage = last_month_values(results, "shortage", "magnet")
    if shortage:
        total = sum(shortage.values())
        print(f"    {'magnet shortage, t/month':<{label}}{total:>9,.0f} (all regions)")


# --------------------------------------------------------------------------- batch


def _add_runner_options(parser: argparse.ArgumentParser, workers_type: Callable) -> None:
    """--out, --workers and --dask: where a batch or a search runs and stores its results."""
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--workers",
        type=workers_type,
        default=None,
        metavar="N",
        help="worker processes (default: one per core; 1 runs in this process)",
    )
    parser.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run on Dask: 'local' starts a LocalCluster, or a scheduler address tcp://host:8786",
    )


def _add_batch(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "batch",
        help="run an experiment spec (sweeps, Monte Carlo, tournaments, sensitivity)",
        description="Run every (lever setting, uncertainty sample, seed) of an experiment spec "
        "and stream one row per run and outcome to DIR/outcomes (load it with "
        "pandas.read_parquet). Rerunning the same command skips finished runs; runs that raise "
        "are recorded in DIR/failures and the batch carries on.",
    )
    parser.add_argument("spec", type=Path, metavar="SPEC", help="experiment spec TOML file")
    _add_runner_options(parser, workers_type=int)
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the spec and every design point against the scenario; run nothing",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="delete the results already in DIR first (a changed spec, scenario or engine "
        "is refused otherwise)",
    )
    parser.set_defaults(handler=_cmd_batch)


def _print_spec_problems(source: object, problems: list[str]) -> None:
    print(f"{source}: invalid ({len(problems)} problem(s))", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def _stopped(exc: KeyboardInterrupt) -> int:
    """Say that a batch or search was stopped by a signal; its exit code (128 + signal)."""
    from experiments.batch import BatchInterrupted

    signum = exc.signum if isinstance(exc, BatchInterrupted) else signal.SIGINT
    _error(
        f"stopped by {signal.Signals(signum).name}; every finished run is saved and the "
        "workers are ended: rerun the same command to resume"
    )
    return 128 + signum


def _cmd_batch(args: argparse.Namespace) -> int:
    from experiments.batch import BatchError, run_batch
    from experiments.spec import SpecError

    if args.workers is not None and args.workers < 1:
        _error(f"--workers must be 1 or more (got {args.workers})")
        return EXIT_USAGE
    try:
        result = run_batch(
            args.spec,
            args.out,
            workers=args.workers,
            dask=args.dask,
            fresh=args.fresh,
            check_only=args.check,
        )
    except SpecError as exc:
        _print_spec_problems(args.spec, exc.problems)
        return EXIT_INVALID
    except (BatchError, OSError) as exc:
        _error(_first_line(exc))
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        return _stopped(exc)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.check:
        print(f"{args.spec}: ok ({result.planned} runs, every design point valid)")
        return EXIT_OK
    counts = result.manifest["counts"]
    print(
        f"{result.manifest['experiment']}: {counts['runs_completed']}/{counts['runs_planned']} "
        f"runs stored ({result.executed} run now, {result.skipped} skipped as done, "
        f"{result.failed} failed) in {result.wall_s:.1f} s"
    )
    print(f"  outcomes: pandas.read_parquet('{result.out / 'outcomes'}')")
    print(f"  manifest: {result.out / 'manifest.json'}")
    if counts["runs_failed"]:
        _error(
            f"{counts['runs_failed']} of {counts['runs_planned']} runs failed; their errors are "
            f"in {result.out / 'failures'} (pandas.read_parquet); rerun the same command to "
            "retry them"
        )
        return EXIT_RUNS_FAILED
    return EXIT_OK


# --------------------------------------------------------------------------- search


def _add_search(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "search",
        help="search lever parameters for policies robust over sampled futures",
        description="Many-objective search (NSGA-II) of the lever ranges in a spec's [search] "
        "table: each candidate policy runs over the spec's sampled futures and against each "
        "of its China doctrines, on the same runners as a batch. Writes DIR/search/pareto."
        "parquet and DIR/search/evaluations.parquet; `chokepoint report DIR` draws the Pareto "
        "set in parallel coordinates.",
    )
    parser.add_argument("spec", type=Path, metavar="SPEC", help="experiment spec with [search]")
    _add_runner_options(parser, workers_type=_whole_number(1, 1024))
    parser.add_argument(
        "--evaluations", type=_whole_number(2, 100_000), default=None, metavar="N",
        help="candidate policies to evaluate (default: the spec's search.evaluations)",
    )  # fmt: skip
    parser.add_argument("--fresh", action="store_true", help="delete the results in DIR first")
    parser.set_defaults(handler=_cmd_search)


def _cmd_search(args: argparse.Namespace) -> int:
    from experiments.batch import BatchError
    from experiments.search import PARETO_FILE, run_search
    from experiments.spec import SpecError

    try:
        result = run_search(
            args.spec,
            args.out,
            workers=args.workers or os.cpu_count() or 1,
            dask=args.dask,
            evaluations=args.evaluations,
            fresh=args.fresh,
        )
    except SpecError as exc:
        _print_spec_problems(args.spec, exc.problems)
        return EXIT_INVALID
    except (BatchError, OSError) as exc:
        _error(_first_line(exc))
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        return _stopped(exc)
    print(
        f"{args.spec}: {len(result.evaluations)} candidate policies in {result.generations} "
        f"generations ({result.batch.executed} runs now, {result.batch.skipped} reused); "
        f"{len(result.pareto)} on the Pareto set"
    )
    print(f"  Pareto set: pandas.read_parquet('{args.out / PARETO_FILE}')")
    print(f"  report:     {PROG} report {args.out}")
    return EXIT_OK


# --------------------------------------------------------------------------- report


def _add_report(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report",
        help="figures and an HTML summary of a batch",
        description="Write PNG figures and a self-contained DIR/report/index.html from a "
        "batch's results.",
    )
    parser.add_argument("out", type=Path, metavar="DIR", help="a batch's output directory")
    parser.set_defaults(handler=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from experiments.report import ReportError, write_report

    try:
        html = write_report(args.out)
    except ReportError as exc:
        _error(str(exc))
        return EXIT_USAGE
    print(f"report: {html}")
    return EXIT_OK


# --------------------------------------------------------------------------- the parser

#: Subcommands in the order ``--help`` lists them. Add new ones here.
# --------------------------------------------------------------------------- play


def _add_play(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "play",
        help="play in the browser (the Solara app)",
        description="Start the game's web server (app.py, the ui package) and print its URL. "
        "Each browser tab is a game of its own. The page's JS and CSS are served from this "
        "machine (fetched once from the npm registry if missing), so it runs offline.",
    )
    parser.add_argument(
        "--scenario",
        default=None,
        metavar="NAME",
        help="scenario the start screen proposes (default: alliance-vs-tariffs-2025)",
    )
    parser.add_argument("--port", type=PORT, default=8765, metavar="P", help="port (default 8765)")
    parser.add_argument(
        "--host", default="127.0.0.1", metavar="H", help="interface (default 127.0.0.1)"
    )
    parser.set_defaults(handler=_cmd_play)


def _cmd_play(args: argparse.Namespace) -> int:
    from world import ScenarioError, load_scenario

    if args.scenario is not None:
        try:
            load_scenario(args.scenario)
        except (ScenarioError, FileNotFoundError, ValueError) as exc:
            _error(f"cannot load scenario {args.scenario!r}: {_first_line(exc)}")
            return EXIT_USAGE
    from ui.serve import play  # the web stack loads only for this subcommand

    return play(args.scenario, args.host, args.port)


# --------------------------------------------------------------------------- serve

#: Where ``chokepoint serve`` reads the facilitator key from, if set.
KEY_ENV = "CHOKEPOINT_FACILITATOR_KEY"
MIN_KEY_CHARS = 12


def _add_serve(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve",
        help="run a workshop: teams join from their own browsers",
        description="Start the workshop server (ui/workshop). Teams open http://HOST:PORT/join "
        "and type their seat's join code; the facilitator types the facilitator key, taken "
        f"from {KEY_ENV} if set (at least {MIN_KEY_CHARS} characters), else generated and "
        "printed once here. Games are kept in a database under --data and survive a restart.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", metavar="H",
        help="interface (default 127.0.0.1; 0.0.0.0 lets the room's laptops in)",
    )  # fmt: skip
    parser.add_argument("--port", type=PORT, default=8766, metavar="P", help="port (default 8766)")
    parser.add_argument(
        "--data", type=Path, default=None, metavar="DIR",
        help="folder of the games' database (default: the per-user data folder)",
    )  # fmt: skip
    parser.add_argument(
        "--trusted-proxy", default=None, metavar="ADDRESS",
        help="the address of a reverse proxy (e.g. one that adds TLS) whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are believed; without it no forwarded header is, and failed "
        "logins are counted by each connection's own address",
    )  # fmt: skip
    parser.add_argument(
        "--allowed-origin", action="append", default=[], metavar="ORIGIN",
        help="an origin besides the server's own (e.g. https://workshop.example.org, the "
        "proxy's public address) whose pages may sign in, sign out and open the page's "
        "websocket; repeat for several",
    )  # fmt: skip
    parser.set_defaults(handler=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    # the web stack and the workshop load only for this subcommand
    from play.room import WorkshopError, default_data_dir
    from play.store import StoreError

    data = args.data if args.data is not None else default_data_dir()
    if data.exists() and not data.is_dir():
        _error(f"--data {data}: not a folder; pass the folder that holds (or will hold) the games")
        return EXIT_USAGE
    key = os.environ.get(KEY_ENV, "").strip()
    if key and len(key) < MIN_KEY_CHARS:
        _error(f"{KEY_ENV}: at least {MIN_KEY_CHARS} characters (or unset it to get one generated)")
        return EXIT_USAGE
    from ui.workshop.security import origin_of

    try:
        origins = tuple(origin_of(o) for o in args.allowed_origin)
    except ValueError as exc:
        _error(f"--allowed-origin {exc}")
        return EXIT_USAGE
    if args.trusted_proxy is not None:
        import ipaddress

        try:
            ipaddress.ip_address(args.trusted_proxy)
        except ValueError:
            _error(f"--trusted-proxy '{args.trusted_proxy}': an IP address, e.g. 127.0.0.1")
            return EXIT_USAGE
    generated = not key
    if generated:
        import secrets

        key = secrets.token_urlsafe(12)
    from ui.workshop.server import open_games, serve

    try:
        open_games(data, key)
    except (StoreError, WorkshopError, OSError) as exc:
        _error(f"--data {data}: {_first_line(exc)}")
        return EXIT_USAGE
    print(f"Chokepoint workshop at http://{args.host}:{args.port}/join (Ctrl-C stops it)")
    print(f"Games are kept in {data}")
    # the only place the key is ever written (the server logs no request); a key from the
    # environment is known to whoever set it, so it stays out of the terminal's scrollback
    print(f"Facilitator key: {key if generated else 'the one in ' + KEY_ENV}", flush=True)
    return serve(args.host, args.port, data, key, args.trusted_proxy, origins)


# --------------------------------------------------------------------------- history


def _add_history(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "history",
        help="compare historical scenarios with their observed series",
        description="Run each scenario over its horizon and print the model beside its "
        "observed series (references.series: sources and tolerance bands), per series. "
        "Writes DIR/<scenario>-history.png (the fit figure) and DIR/history.csv (every "
        "comparison). Exit code 1 if any series leaves its band.",
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="bundled scenario name or TOML path (default: every bundled scenario with "
        "observed series)",
    )
    parser.add_argument("--seed", type=SEED, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs") / "history",
        metavar="DIR",
        help="where the figures and the CSV go (default: runs/history)",
    )
    parser.set_defaults(handler=_cmd_history)


def _historical_scenarios() -> list[str]:
    """The bundled scenarios that load and carry observed series."""
    from world import ScenarioError, bundled_scenarios, load_scenario

    names = []
    for name in bundled_scenarios():
        try:
            if load_scenario(name).references.series:
                names.append(name)
        except (ScenarioError, OSError, ValueError, TypeError):
            continue
    return names


def _cmd_history(args: argparse.Namespace) -> int:
    from experiments.history import format_table, write_outputs
    from world import ScenarioError, bundled_scenarios, load_scenario
    from world.history import failed_series, run_history

    names = args.scenarios or list(bundled_scenarios())
    specs = []
    for ref in names:
        try:
            spec = load_scenario(ref)
        except ScenarioError as exc:
            problems = exc.problems or [str(exc)]
            _error(f"scenario {ref}: {problems[0]}" + (
                f" (and {len(problems) - 1} more; see `{PROG} validate {ref}`)"
                if len(problems) > 1 else ""
            ))  # fmt: skip
            return EXIT_USAGE
        except (OSError, ValueError, TypeError) as exc:
            _error(f"cannot load scenario {ref}: {_first_line(exc)}")
            return EXIT_USAGE
        if spec.references.series:
            specs.append(spec)
        elif args.scenarios:  # asked for by name: say which scenarios have a record
            _error(
                f"scenario {ref} has no observed series ([[references.series]]); "
                f"scenarios with some: {', '.join(_historical_scenarios()) or 'none'}"
            )
            return EXIT_USAGE
    results = []
    for spec in specs:
        spec, frame, table = run_history(spec, seed=args.seed)
        results.append((spec, frame, table))
        scored = table["ok"].dropna()
        print(
            f"{spec.name} (seed {args.seed}): {int(scored.sum())}/{len(scored)} checks within "
            f"their bands"
        )
        print(format_table(table))
    try:
        written = write_outputs(args.out, results)
    except OSError as exc:
        _error(f"--out {args.out}: {_first_line(exc)}")
        return EXIT_USAGE
    print(f"figures and table: {', '.join(str(p) for p in written)}")
    failed = [s for _, _, table in results for s in failed_series(table)]
    if failed:
        print(f"{len(failed)} series outside their bands: {', '.join(failed)}")
        return EXIT_INVALID
    print("every series within its band")
    return EXIT_OK


SUBCOMMANDS: dict[str, SubparserAdder] = {
    "scenarios": _add_scenarios,
    "validate": _add_validate,
    "run": _add_run,
    "batch": _add_batch,
    "report": _add_report,
    "search": _add_search,
    "play": _add_play,
    "serve": _add_serve,
    "history": _add_history,
}


def build_parser() -> argparse.ArgumentParser:
    """The ``chokepoint`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Chokepoint: an agent-based game of the rare-earth supply chain.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for add in SUBCOMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chokepoint`` command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into a command that stopped reading (e.g. `| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``school-exit`` command line.

    school-exit run SCENARIO.toml --out DIR [--replicates N] [--seed S] [--workers N]
                                   [--scale F] [--years Y] [--events] [--plot]
    school-exit check-targets [RESULTS_DIR] [--scenario FILE] [--replicates N] [--scale F]
    school-exit params [--kind uncertainty|lever]

Bad input (a missing or invalid scenario, an out-of-range option) prints one line
starting ``error:`` to stderr and exits with status 2, writing nothing. Everything is
validated before the first run starts and results are written only after every run
has finished, so ``--out`` is either untouched or complete.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from .params import ParameterError
from .scenario import ScenarioError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

HEADLINE_METRICS = [
    "ehe_census_pct",
    "cme_census_pct",
    "pex_rate",
    "persistent_absence_pct",
    "ehcp_timely_pct",
    "offrolled_per_1000",
    "unexplained_exit_cohort_pct",
]
DEFAULT_SCENARIO = Path("scenarios") / "baseline.toml"
MAX_SEED = 2**63 - 1


class UsageError(Exception):
    """A command-line problem; the message is one line."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports problems as one line (raised, so ``main`` prints and returns 2)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


# --- option types: each refuses bad values with a message naming the allowed range ----------


def _int_at_least(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            allowed = f"a whole number >= {low}" if high is None else f"a whole number {low} to {high}"
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed (allowed: {allowed})")
        return value

    return parse


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed (allowed: a number in (0, 1])")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="school-exit",
        description="Agent-based simulation of why children in England leave school rolls, "
        "and what policy changes that.",
        epilog="Run 'school-exit COMMAND --help' for the options of each command.",
    )
    from . import store

    parser.add_argument("--version", action="version", version=f"%(prog)s {store.package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser(
        "run",
        help="run a scenario and write result tables",
        description="Run SCENARIO.toml for N replicates and write the years, weeks and summary "
        "tables (Parquet and CSV) and manifest.json to --out. Nothing is written unless every "
        "run succeeds.",
    )
    run.add_argument("scenario", metavar="SCENARIO.toml", type=Path, help="scenario file")
    run.add_argument("--out", "-o", metavar="DIR", type=Path, required=True, help="output directory")
    _add_run_options(run)
    run.add_argument(
        "--seed",
        type=_int_at_least(0, MAX_SEED),
        metavar="S",
        help="base seed; replicate r uses S + r (default: the scenario's seed)",
    )
    run.add_argument(
        "--years",
        type=_int_at_least(1, 100),
        metavar="Y",
        help="evaluation years after burn-in (default: the scenario's years)",
    )
    run.add_argument("--events", action="store_true", help="also write the pupil-level event log (large)")
    run.add_argument("--plot", action="store_true", help="also draw figures into DIR/figures/")
    run.set_defaults(func=cmd_run)

    chk = sub.add_parser(
        "check-targets",
        help="compare results with published statistics",
        description="Compare model output with the published England targets: read "
        "RESULTS_DIR/years.parquet if given, otherwise run --scenario in memory. Prints a table "
        "and a count; exits 0 whatever the fit.",
    )
    chk.add_argument(
        "results",
        metavar="RESULTS_DIR",
        type=Path,
        nargs="?",
        help="directory written by 'school-exit run' (default: run --scenario now)",
    )
    chk.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        default=None,
        help=f"scenario to run when no RESULTS_DIR is given (default: {DEFAULT_SCENARIO})",
    )
    _add_run_options(chk)
    chk.add_argument(
        "--years",
        type=_int_at_least(1, 100),
        metavar="Y",
        help="evaluation years (default: the scenario's years)",
    )
    chk.set_defaults(func=cmd_check_targets)

    par = sub.add_parser(
        "params",
        help="list the model parameters",
        description="Print the parameter registry: name, default, bounds, unit, kind, source.",
    )
    par.add_argument("--kind", choices=["uncertainty", "lever"], help="only parameters of this kind")
    par.set_defaults(func=cmd_params)
    return parser


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--replicates",
        "-n",
        type=_int_at_least(1, 100_000),
        metavar="N",
        help="replicates (default: the scenario's replicates)",
    )
    p.add_argument(
        "--workers",
        "-j",
        type=_int_at_least(1),
        metavar="N",
        help="worker processes (default: number of cores)",
    )
    p.add_argument(
        "--scale",
        type=_scale,
        metavar="F",
        help="fraction of pupils simulated, in (0, 1] (default: the scenario's scale)",
    )


# --- shared steps -------------------------------------------------------------------------


def _prepare(path: Path, *, replicates=None, seed=None, scale=None, years=None):
    """Load and validate a scenario and apply command-line overrides; raises on bad input."""
    from .scenario import load_scenario

    scenario = load_scenario(path)
    changes = {
        k: v
        for k, v in {"replicates": replicates, "seed": seed, "scale": scale, "years": years}.items()
        if v is not None
    }
    for iv in scenario.interventions:
        if "years" in changes and iv.start_year >= changes["years"]:
            raise UsageError(
                f"{path}: --years {changes['years']}: intervention {iv.type!r} starts in evaluation "
                f"year {iv.start_year}, after the horizon (allowed: --years > {iv.start_year})"
            )
    if changes:
        scenario = scenario.with_(**changes)  # validates as a scenario file would
    if scenario.seed + scenario.replicates - 1 > MAX_SEED:
        raise UsageError(
            f"{path}: seed = {scenario.seed} leaves no room for {scenario.replicates} replicates "
            f"(allowed: seed + replicates - 1 <= {MAX_SEED})"
        )
    scenario.params()  # raises ParameterError naming the file and key
    return scenario


def _run_all(scenario, workers: int | None, events: bool = False) -> tuple[list, float]:
    """Every replicate, with a progress bar on stderr when there is more than one run."""
    from .runner import run_many

    n = scenario.replicates
    bar = None
    if n > 1:
        from tqdm import tqdm

        bar = tqdm(
            total=n,
            desc=f"{scenario.name}",
            unit="run",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
            leave=False,
        )

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    t0 = time.perf_counter()
    try:
        results = run_many(scenario, n, workers=workers, record_events=events, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    nw = min(workers or _cores(), n)
    print(
        f"{n} run{'s' if n != 1 else ''} of {scenario.name!r} finished in {wall:.1f} s "
        f"({nw} worker{'s' if nw != 1 else ''})",
        file=sys.stderr,
    )
    return results, wall


def _check_writable(out: Path) -> None:
    """Refuse an --out whose nearest existing ancestor cannot be written (before any run)."""
    import os

    probe = out.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot write in {probe}")


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def _fmt(v: float) -> str:
    from .targets import _fmt_cell

    return _fmt_cell(float(v), 3)


def headline_table(summary) -> str:
    """Mean and min-max across runs of the headline metrics, with units."""
    import pandas as pd

    from .observe import METRICS
    from .targets import format_table

    rows = []
    for m in HEADLINE_METRICS:
        if m not in summary.columns:
            continue
        col = pd.to_numeric(summary[m], errors="coerce").dropna()
        rng = f"{_fmt(col.min())} - {_fmt(col.max())}" if len(col) else "-"
        rows.append(
            {
                "metric": m,
                "mean": _fmt(col.mean()) if len(col) else "-",
                "min - max": rng,
                "unit": METRICS.get(m, ("", ""))[0],
            }
        )
    df = pd.DataFrame(rows, columns=["metric", "mean", "min - max", "unit"])
    return format_table(df, max_width=60, right=["mean", "min - max"])


# --- commands -----------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from . import store

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    _check_writable(out)
    scenario = _prepare(
        args.scenario,
        replicates=args.replicates,
        seed=args.seed,
        scale=args.scale,
        years=args.years,
    )
    file_bytes = args.scenario.read_bytes()
    seeds = [scenario.seed + r for r in range(scenario.replicates)]

    started = datetime.now(UTC)
    try:
        results, wall = _run_all(scenario, args.workers, events=args.events)
        from .runner import combine

        tables = combine(results)
    except Exception as exc:  # a failure inside the model, not bad input: show the traceback
        traceback.print_exc()
        print(
            f"error: {args.scenario}: run failed ({type(exc).__name__}: {exc}); nothing written to {out}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finished = datetime.now(UTC)

    names = ["years", "weeks", "summary"] + (["events"] if args.events else [])
    store.remove_outputs(out)  # a finished re-run replaces, never mixes with, an earlier one
    for name in names:
        if name in tables:
            store.write_table(tables[name], out, name)
    figures = {}
    if args.plot:
        from .plots import plot_out_of_school

        paths = plot_out_of_school(tables["weeks"], out / "figures" / "out_of_school")
        figures = {"out_of_school": {k: str(p.relative_to(out)) for k, p in paths.items()}}
    env = store.environment()
    manifest = {
        "command": ["school-exit", *args.argv],
        "scenario": scenario.to_dict(),
        "scenario_sha256": scenario.sha256,
        "scenario_file": str(args.scenario),
        "scenario_file_sha256": hashlib.sha256(file_bytes).hexdigest(),
        "package_version": env["package_version"],
        "git_commit": env["git_commit"],
        "environment": env,
        "replicates": scenario.replicates,
        "seeds": seeds,
        "workers": args.workers or _cores(),
        "record_events": bool(args.events),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "wall_seconds": round(wall, 3),
        "run_seconds": [round(r.seconds, 3) for r in results],
        "tables": [n for n in names if n in tables],
        "figures": figures,
    }
    store.write_json(manifest, out / "manifest.json")

    print(
        f"scenario {scenario.name!r}: {scenario.replicates} replicate(s), "
        f"{scenario.years} evaluation year(s), scale {scenario.scale:g}, "
        f"seeds {seeds[0]}-{seeds[-1]}"
    )
    print(headline_table(tables["summary"]))
    print(
        f"wrote {', '.join(manifest['tables'])} and manifest.json to {out}"
        + (f" (figures in {out / 'figures'})" if figures else "")
    )
    return EXIT_OK


def cmd_check_targets(args: argparse.Namespace) -> int:
    from .targets import compare_to_targets, count_line, format_table

    if args.results is not None:
        given = [
            o
            for o, v in (
                ("--scenario", args.scenario),
                ("--replicates", args.replicates),
                ("--scale", args.scale),
                ("--years", args.years),
            )
            if v is not None
        ]
        if given:
            raise UsageError(
                f"check-targets: {', '.join(given)} cannot be used with RESULTS_DIR "
                f"{args.results} (the results are read, not run)"
            )
        path = args.results / "years.parquet"
        if not args.results.is_dir():
            raise FileNotFoundError(f"{args.results}: results directory not found")
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found (expected a directory written by 'school-exit run')")
        import pandas as pd

        try:
            years = pd.read_parquet(path)
        except Exception as exc:  # corrupt or not Parquet
            raise ValueError(f"{path}: cannot read Parquet ({type(exc).__name__}: {exc})") from None
        where = str(args.results)
    else:
        scen_path = args.scenario or _default_scenario()
        scenario = _prepare(scen_path, replicates=args.replicates, scale=args.scale, years=args.years)
        from .runner import combine

        results, _ = _run_all(scenario, args.workers)
        years = combine(results)["years"]
        where = f"{scen_path} ({scenario.replicates} replicate(s), scale {scenario.scale:g}, run now)"
    comparison = compare_to_targets(years)
    n_runs = len(years.drop_duplicates([c for c in ("scenario", "replicate", "la") if c in years.columns]))
    print(
        f"model: {where}; {n_runs} run(s), {len(years)} run-year(s); model = mean over run-years, "
        f"p5/p95 across run-years"
    )
    print(format_table(comparison))
    print(count_line(comparison))
    return EXIT_OK


def _default_scenario() -> Path:
    if DEFAULT_SCENARIO.is_file():
        return DEFAULT_SCENARIO
    beside = Path(__file__).resolve().parent.parent / DEFAULT_SCENARIO
    return beside if beside.is_file() else DEFAULT_SCENARIO


def cmd_params(args: argparse.Namespace) -> int:
    import pandas as pd

    from .params import PARAMS
    from .targets import format_table

    rows = [
        {
            "name": p.name,
            "default": p.default,
            "low": p.low,
            "high": p.high,
            "unit": p.unit,
            "kind": p.kind,
            "source": p.source,
        }
        for p in PARAMS.values()
        if args.kind in (None, p.kind)
    ]
    df = pd.DataFrame(rows, columns=["name", "default", "low", "high", "unit", "kind", "source"])
    print(format_table(df, digits=4, max_width=60))
    print(f"{len(df)} parameter(s)" + (f" of kind {args.kind}" if args.kind else ""))
    return EXIT_OK


# --- entry point --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _error(str(exc))
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    args.argv = argv
    try:
        return args.func(args)
    except (UsageError, ScenarioError, ParameterError, ValueError, FileNotFoundError) as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `school-exit params | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _error(message: str) -> int:
    one_line = " ".join(message.split())
    print(f"error: {one_line}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())

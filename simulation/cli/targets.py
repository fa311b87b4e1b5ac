"""``school-exit check-targets``: model output against the published England targets, read
from a results directory or run in memory now."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import DEFAULT_SCENARIO, EXIT_OK, RunFailed, UsageError, add_run_options, cores, int_at_least, prepare


def add_parser(sub) -> None:
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
    add_run_options(chk)
    chk.add_argument(
        "--years",
        type=int_at_least(1, 100),
        metavar="Y",
        help="evaluation years (default: the scenario's years)",
    )
    chk.set_defaults(func=cmd_check_targets)


def _run_all(scenario, workers: int | None, events: bool = False) -> tuple[list, float]:
    """Every replicate in memory (for check-targets), with a progress bar on a terminal."""
    from simulation.research.executors import Task, make_executor, run_tasks
    from simulation.research.runner import run_specs, run_task

    specs = run_specs([scenario], scenario.replicates, record_events=events)
    tasks = [Task(str(i), run_task, spec) for i, spec in enumerate(specs)]
    executor = make_executor(min(workers or cores(), len(tasks)))
    report = run_tasks(tasks, executor, desc=scenario.name, progress=len(tasks) > 1)
    if report.failed:
        raise RunFailed(next(iter(report.failed.values())))
    n = len(tasks)
    print(
        f"{n} run{'s' if n != 1 else ''} of {scenario.name!r} finished in {report.wall_seconds:.1f} s "
        f"({executor.workers} worker{'s' if executor.workers != 1 else ''})",
        file=sys.stderr,
    )
    return [report.outcomes[t.key].value for t in tasks], report.wall_seconds


def cmd_check_targets(args: argparse.Namespace) -> int:
    from simulation.analysis.targets import compare_to_targets, count_line, format_table

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
        scenario = prepare(scen_path, replicates=args.replicates, scale=args.scale, years=args.years)
        from simulation.research.runner import combine

        results, _ = _run_all(scenario, args.workers)
        years = combine(results)["years"]
        where = f"{scen_path} ({scenario.replicates} replicate(s), scale {scenario.scale:g}, run now)"
    if "la" in years.columns and (years["la"] == "England").any():
        years = years[years["la"] == "England"]  # national rows of an England run, not 153 LAs
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
    beside = Path(__file__).resolve().parents[2] / DEFAULT_SCENARIO
    return beside if beside.is_file() else DEFAULT_SCENARIO

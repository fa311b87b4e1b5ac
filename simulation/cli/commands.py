"""The ``school-exit`` command line.

    school-exit run SCENARIO.toml --out DIR [--replicates N] [--seed S] [--workers N | --scheduler ADDRESS]
                                   [--scale F] [--years Y] [--events] [--plot] [--england | --las FILE]
    school-exit sweep EXPERIMENT.toml --out DIR [--workers N | --scheduler ADDRESS] [--no-plot]
    school-exit check-targets [RESULTS_DIR] [--scenario FILE] [--replicates N] [--scale F]
    school-exit params [--kind uncertainty|lever]
    school-exit compare BASELINE.toml OTHER.toml [...] --out DIR [--replicates N] [--workers N] [--scale F]
    school-exit calibrate CONFIG.toml --out DIR [--workers N | --scheduler ADDRESS] [--quiet]
    school-exit report RESULTS_DIR      (a compare or a calibrate directory)

Bad input (a missing or invalid scenario or experiment, an out-of-range option) prints one
line starting ``error:`` to stderr and exits with status 2, writing nothing. Everything is
validated before the first run starts.

Runs go through the run store in ``DIR/runs/`` (one file per finished run, written
atomically): the same command run again after a kill runs only what is missing. A run
that raises is recorded with its traceback in ``DIR/runs/failed/`` and the job goes on;
the command then exits with status 1. ``run`` writes its tables only when every run has
succeeded (so the tables are complete or absent); ``sweep`` analyses what it has and
reports the failures.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from simulation.model.params import ParameterError
from simulation.policy.scenario import ScenarioError


class RunFailed(RuntimeError):
    """A run of an in-memory job raised; the message is its traceback."""


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

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
    from simulation.research import store

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
    england = run.add_mutually_exclusive_group()
    england.add_argument(
        "--england",
        action="store_true",
        help="run every local authority of England (the packaged LA table) and add national rows (la = England)",
    )
    england.add_argument(
        "--las",
        type=Path,
        metavar="FILE",
        help="like --england, with the LAs of this CSV (one row per LA; see simulation/data/england_las.csv)",
    )
    _add_scheduler(run)
    run.set_defaults(func=cmd_run)

    swp = sub.add_parser(
        "sweep",
        help="run a sensitivity analysis (Morris or Sobol) described by an experiment file",
        description="Sample the parameters of EXPERIMENT.toml with SALib, run every point on common seeds, "
        "and write the samples, results, indices and noise tables (Parquet and CSV), figures and "
        "manifest.json to --out. Runs are kept in DIR/runs/: the same command resumes a killed sweep.",
    )
    swp.add_argument("experiment", metavar="EXPERIMENT.toml", type=Path, help="experiment file (see experiments/)")
    swp.add_argument("--out", "-o", metavar="DIR", type=Path, required=True, help="output directory")
    swp.add_argument(
        "--workers",
        "-j",
        type=_int_at_least(1),
        metavar="N",
        help="worker processes (default: number of cores)",
    )
    swp.add_argument("--no-plot", action="store_true", help="do not draw figures")
    _add_scheduler(swp)
    swp.set_defaults(func=cmd_sweep)

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
    _add_compare_and_report(sub)
    return parser


def _scheduler(text: str) -> str:
    import re

    if not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+(:\d+)?/?", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed (allowed: a scheduler address such as tcp://HOST:PORT)"
        )
    return text


def _add_scheduler(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scheduler",
        type=_scheduler,
        metavar="ADDRESS",
        help="run on this Dask cluster (tcp://HOST:PORT; needs the [dask] extra) instead of local processes",
    )


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
    from simulation.policy.scenario import load_scenario

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
    """Every replicate in memory (for check-targets), with a progress bar on a terminal."""
    from simulation.research.executors import Task, make_executor, run_tasks
    from simulation.research.runner import run_specs, run_task

    specs = run_specs([scenario], scenario.replicates, record_events=events)
    tasks = [Task(str(i), run_task, spec) for i, spec in enumerate(specs)]
    executor = make_executor(min(workers or _cores(), len(tasks)))
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


def _executor(args: argparse.Namespace, n_tasks: int):
    """The executor the options ask for; raises UsageError when Dask is missing or unreachable."""
    from simulation.research.executors import DaskError, make_executor

    if getattr(args, "scheduler", None) and args.workers:
        raise UsageError("--workers and --scheduler cannot be used together (a cluster has its own workers)")
    try:
        if getattr(args, "scheduler", None):
            return make_executor(scheduler=args.scheduler)
        return make_executor(min(args.workers or _cores(), max(1, n_tasks)))
    except DaskError as exc:
        raise UsageError(str(exc)) from None


def _peak_rss_mb() -> dict:
    """Peak resident memory of this process and of the largest worker process (Linux, macOS)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return {}
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return {"main_process": round(own, 1), "largest_worker": round(kids, 1)}


def _report_failures(report, store_dir: Path, what: str) -> None:
    key, text = next(iter(report.failed.items()))
    sys.stderr.write(f"first failed run ({key}):\n{text}")
    print(
        f"{len(report.failed)} of {report.total} runs failed ({what}); tracebacks in {store_dir / 'failed'}; "
        "running the same command again retries them and keeps the finished runs",
        file=sys.stderr,
    )


def _check_writable(out: Path) -> None:
    """Refuse an --out that is a file, or whose nearest existing ancestor cannot be written (before any run)."""
    import os

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    probe = out.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot write in {probe}")


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def _fmt(v: float) -> str:
    from simulation.analysis.targets import _fmt_cell

    return _fmt_cell(float(v), 3)


def headline_table(summary) -> str:
    """Mean and min-max across runs of the headline metrics, with units."""
    import pandas as pd

    from simulation.analysis.targets import format_table
    from simulation.model.metrics import METRICS, RUN_HEADLINE

    rows = []
    for m in RUN_HEADLINE:
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
    from simulation.research import store
    from simulation.research.executors import Task, run_tasks
    from simulation.research.runner import run_specs, run_task

    out: Path = args.out
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
    england = bool(args.england or args.las)
    if england:
        from simulation.research.england import england_specs, load_las

        las = load_las(args.las)
        specs = england_specs(scenario, las, record_events=args.events)
    else:
        las = None
        specs = run_specs([scenario], scenario.replicates, record_events=args.events)
    tasks = [Task(spec.key(), run_task, spec, float(spec.scenario.population.n_pupils)) for spec in specs]
    executor = _executor(args, len(tasks))

    started = datetime.now(UTC)
    runs = store.RunStore(out / "runs")
    job = {
        "command": ["school-exit", *args.argv],
        "scenario": scenario.to_dict(),
        "scenario_sha256": scenario.sha256,
        "england": england,
        "las_sha256": store.sha256_json(las.to_dict("list")) if las is not None else None,
        "runs": [t.key for t in tasks],
        "started": started.isoformat(),
        **store.environment(),
    }
    runs.open(job)
    desc = f"{scenario.name}" + (" (England)" if england else "")
    try:
        report = run_tasks(tasks, executor, store=runs, desc=desc, progress=len(tasks) > 1)
    finally:
        executor.close()
    wall = report.wall_seconds
    resumed = f", {report.already_done} already done" if report.already_done else ""
    print(
        f"{report.ran} run{'s' if report.ran != 1 else ''} of {desc!r} finished in {wall:.1f} s "
        f"({executor.workers} worker{'s' if executor.workers != 1 else ''}, {executor.name}{resumed})",
        file=sys.stderr,
    )
    if report.failed:
        _report_failures(report, runs.root, "no tables written")
        print(
            f"error: {args.scenario}: {len(report.failed)} of {report.total} runs failed; no tables written to {out}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    from simulation.research.runner import combine

    results = [runs.load(t.key)["value"] for t in tasks]
    tables = combine(results)
    if england:
        from simulation.research.england import add_national

        tables = add_national(tables, scenario.seed)
    finished = datetime.now(UTC)

    names = ["years", "weeks", "summary"] + (["events"] if args.events else [])
    store.remove_outputs(out)  # a finished re-run replaces, never mixes with, an earlier one
    for name in names:
        if name in tables:
            store.write_table(tables[name], out, name)
    figures = {}
    if args.plot:
        from simulation.present.plots import plot_out_of_school

        weeks = tables["weeks"]
        if england:
            weeks = weeks[weeks["la"] == "England"]
        paths = plot_out_of_school(weeks, out / "figures" / "out_of_school")
        figures = {"out_of_school": {k: str(p.relative_to(out)) for k, p in paths.items()}}
        if england:
            from simulation.model.metrics import RUN_HEADLINE
            from simulation.present.figures import england_figures

            for name, paths in england_figures(tables["years"], out / "figures", RUN_HEADLINE).items():
                figures[name] = {k: str(p.relative_to(out)) for k, p in paths.items()}
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
        "workers": executor.workers,
        "executor": executor.describe(),
        "record_events": bool(args.events),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "wall_seconds": round(wall, 3),
        "run_seconds": [round(r.seconds, 3) for r in results],
        "runs": len(tasks),
        "runs_already_done": report.already_done,
        "resumed": report.already_done > 0,  # finished runs of this same code were reused
        "peak_rss_mb": _peak_rss_mb(),
        "tables": [n for n in names if n in tables],
        "figures": figures,
    }
    if england:
        manifest["england"] = {
            "las": len(las),
            "la_table": str(args.las) if args.las else "simulation/data/england_las.csv (packaged)",
            "la_table_sha256": job["las_sha256"],
            "la_seeds": "seed of LA x, replicate r: simulation.england.la_seed(S + r, x)",
        }
    store.write_json(manifest, out / "manifest.json")

    where = f"{len(las)} LAs of England, " if england else ""
    print(
        f"scenario {scenario.name!r}: {where}{scenario.replicates} replicate(s), "
        f"{scenario.years} evaluation year(s), scale {scenario.scale:g}, "
        f"seeds {seeds[0]}-{seeds[-1]}"
    )
    summary = tables["summary"]
    if england:
        summary = summary[summary["la"] == "England"]
    print(headline_table(summary))
    print(
        f"wrote {', '.join(manifest['tables'])} and manifest.json to {out}"
        + (f" (figures in {out / 'figures'})" if figures else "")
    )
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    from simulation.present.figures import sweep_figures
    from simulation.research.sensitivity import prepare, run_sweep, top_table

    out: Path = args.out
    _check_writable(out)
    sweep = prepare(args.experiment)  # ExperimentError: exit 2, nothing written
    exp = sweep.exp
    executor = _executor(args, len(sweep.tasks))
    print(
        f"experiment {exp.name!r}: {exp.method}, {len(exp.names)} parameters, {exp.samples} "
        f"{'trajectories' if exp.method == 'morris' else 'base samples'}, {exp.n_points()} points x {exp.seeds} "
        f"seed(s) + {exp.noise_seeds} noise runs = {len(sweep.tasks)} runs",
        file=sys.stderr,
    )
    try:
        result = run_sweep(
            sweep, out, executor, command=["school-exit", *args.argv], plot=None if args.no_plot else sweep_figures
        )
    finally:
        executor.close()
    report = result.report
    hours = report.wall_seconds / 3600
    rate = f", {report.ran / hours:,.0f} runs/hour" if report.ran and hours > 0 else ""
    print(
        f"{report.ran} runs finished in {report.wall_seconds:.1f} s ({executor.workers} workers, {executor.name}"
        f"{rate}); {report.already_done} were already done",
        file=sys.stderr,
    )
    print(top_table(result))
    print(f"wrote samples, results, indices, noise, figures and manifest.json to {out}")
    if result.failures:
        print(
            f"{len(result.failures)} of {report.total} runs failed; tracebacks in {out / 'runs' / 'failed'}; the "
            "analysis used the complete trajectories or blocks (see n_used); the same command retries the failures",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


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
        scenario = _prepare(scen_path, replicates=args.replicates, scale=args.scale, years=args.years)
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


def cmd_params(args: argparse.Namespace) -> int:
    import pandas as pd

    from simulation.analysis.targets import format_table
    from simulation.model.params import PARAMS

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


# --- compare and report (logic in compare.py and report.py) ----------------------------------


def _add_compare_and_report(sub) -> None:
    cmp = sub.add_parser(
        "compare",
        help="compare scenarios with a baseline on common random numbers",
        description="Run BASELINE.toml and every OTHER.toml on the same replicate seeds (seed, replicates, "
        "scale, years and burn-in from the baseline unless given) and write paired differences with 90% "
        "intervals, exits averted and displaced by route, equality and cost tables (Parquet and CSV) and "
        "manifest.json to --out. Every file is validated before anything runs.",
    )
    cmp.add_argument("baseline", metavar="BASELINE.toml", type=Path, help="the baseline scenario")
    cmp.add_argument("others", metavar="OTHER.toml", type=Path, nargs="+", help="scenarios to compare with it")
    cmp.add_argument("--out", "-o", metavar="DIR", type=Path, required=True, help="output directory")
    cmp.add_argument(
        "--replicates",
        "-n",
        type=_int_at_least(2, 100_000),
        metavar="N",
        help="paired replicates (default: the baseline's; at least 2 for intervals)",
    )
    cmp.add_argument(
        "--workers", "-j", type=_int_at_least(1), metavar="N", help="worker processes (default: number of cores)"
    )
    cmp.add_argument("--scale", type=_scale, metavar="F", help="fraction of pupils simulated, in (0, 1]")
    cmp.add_argument("--years", type=_int_at_least(1, 100), metavar="Y", help="evaluation years")
    cmp.add_argument("--seed", type=_int_at_least(0, MAX_SEED), metavar="S", help="base seed (replicate r: S + r)")
    cmp.add_argument("--events", action="store_true", help="also write every run's event log (large)")
    _add_scheduler(cmp)
    cmp.set_defaults(func=cmd_compare)
    rep = sub.add_parser(
        "report",
        help="build the figure pack and an offline HTML report from compare results",
        description="Draw every comparison figure (PNG, SVG and CSV) into RESULTS_DIR/figures/ and write "
        "RESULTS_DIR/report.html, a single page with the figures embedded that opens offline.",
    )
    rep.add_argument(
        "results", metavar="RESULTS_DIR", type=Path, help="directory written by 'school-exit compare' or 'calibrate'"
    )
    rep.set_defaults(func=cmd_report)
    from .calibrate import add_parser

    add_parser(sub, _add_scheduler, _int_at_least)


def cmd_compare(args: argparse.Namespace) -> int:
    from simulation.analysis.compare import CompareFailed, cli_compare
    from simulation.research.executors import DaskError

    if args.scheduler and args.workers:
        raise UsageError("--workers and --scheduler cannot be used together (a cluster has its own workers)")
    try:
        return cli_compare(args)
    except DaskError as exc:
        raise UsageError(str(exc)) from None
    except CompareFailed as exc:
        print(str(exc), file=sys.stderr)
        print(f"error: a run failed (traceback above); nothing written to {args.out}", file=sys.stderr)
        return EXIT_FAILED


def cmd_report(args: argparse.Namespace) -> int:
    import json

    manifest = Path(args.results) / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("kind") == "calibration":
        from simulation.present.calibration_report import cli_report as calibration_report

        return calibration_report(args)
    from simulation.present.report import cli_report

    return cli_report(args)


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
    except RunFailed as exc:  # a failure inside the model (check-targets runs in memory)
        print(str(exc), file=sys.stderr)
        print("error: a run failed (traceback above)", file=sys.stderr)
        return EXIT_FAILED
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

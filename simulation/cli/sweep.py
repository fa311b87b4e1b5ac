"""``school-exit sweep``: the command-line side of a sensitivity analysis (the sampling,
running and analysis live in simulation.research.sensitivity)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_force,
    add_scheduler,
    check_out,
    check_writable,
    claim_out,
    cores,
    executor_for,
    int_at_least,
    job,
    scale,
)


def add_parser(sub) -> None:
    swp = sub.add_parser(
        "sweep",
        help="run a sensitivity analysis (Morris or Sobol) described by an experiment file",
        description="Sample the parameters of EXPERIMENT.toml with SALib, run every point on common seeds, "
        "and write the samples, results, indices and noise tables (Parquet and CSV), figures and "
        "manifest.json to --out. Runs are kept in DIR/runs/: the same command resumes a killed sweep. "
        "--samples, --scale and --years size the sweep without editing the file; --dry-run says how many "
        "runs that makes and how long they will take.",
    )
    swp.add_argument("experiment", metavar="EXPERIMENT.toml", type=Path, help="experiment file (see experiments/)")
    swp.add_argument("--out", "-o", metavar="DIR", type=Path, required=True, help="output directory")
    swp.add_argument(
        "--workers",
        "-j",
        type=int_at_least(1),
        metavar="N",
        help="worker processes (default: number of cores)",
    )
    swp.add_argument(
        "--samples",
        type=int_at_least(1),
        metavar="N",
        help="Morris trajectories (>= 2) or Sobol base sample (a power of 2, >= 8) (default: the file's samples)",
    )
    swp.add_argument(
        "--scale",
        type=scale,
        metavar="F",
        help="fraction of pupils simulated, in (0, 1] (default: the file's model.scale)",
    )
    swp.add_argument(
        "--years",
        type=int_at_least(1, 100),
        metavar="Y",
        help="evaluation years per run, 1 to 100, burn-in not included (default: the file's model.years)",
    )
    swp.add_argument(
        "--dry-run",
        action="store_true",
        help="print the points, the runs and an estimated time (from a short timed run), write nothing, and stop",
    )
    swp.add_argument("--no-plot", action="store_true", help="do not draw figures")
    add_scheduler(swp)
    add_force(swp)
    swp.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from simulation.present.figures import sweep_figures
    from simulation.research.sensitivity import noise_warning_text, prepare, run_sweep, top_table

    out: Path = args.out
    check_writable(out)
    # ExperimentError: exit 2, nothing written
    sweep = prepare(args.experiment, samples=args.samples, scale=args.scale, years=args.years)
    if args.dry_run:
        return dry_run(args, sweep)
    check_out(out, job("sweep", experiment=sweep.exp.name), force=args.force)
    executor = executor_for(args, len(sweep.tasks))
    print(size_line(sweep), file=sys.stderr)
    claim_out(out, job("sweep", experiment=sweep.exp.name))
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
    for warning in result.warnings:
        print(noise_warning_text(warning, school_exit=sweep.exp.function is None), file=sys.stderr)
    if result.failures:
        print(
            f"{len(result.failures)} of {report.total} runs failed; tracebacks in {out / 'runs' / 'failed'}; the "
            "analysis used the complete trajectories or blocks (see n_used); the same command retries the failures",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def size_line(sweep) -> str:
    """Parameters, points and runs in one line (printed before a sweep and by --dry-run)."""
    exp = sweep.exp
    unit = "trajectories" if exp.method == "morris" else "base samples"
    given = ", ".join(f"--{k} {v}" for k, v in exp.overrides.items())
    return (
        f"experiment {exp.name!r}: {exp.method}, {len(exp.names)} parameters, {exp.samples} {unit}, "
        f"{exp.n_points():,} points x {exp.seeds} seed(s) + {exp.noise_seeds} noise runs = {len(sweep.tasks):,} runs"
        + (f" ({given})" if given else "")
    )


def dry_run(args: argparse.Namespace, sweep) -> int:
    """Say how big the sweep is and how long it will take, from one short timed run; write nothing."""
    from simulation.research.sensitivity import time_one_run
    from simulation.research.store import RunStore

    if args.scheduler and args.workers:
        raise UsageError("--workers and --scheduler cannot be used together (a cluster has its own workers)")
    exp = sweep.exp
    print(size_line(sweep))
    if exp.function is None:
        sc = exp.scenario
        pupils = round(sc.population.n_pupils * sc.scale)
        print(
            f"model: {_shown(sc.source) or sc.name} at scale {sc.scale:g} (about {pupils:,} pupils), "
            f"{sc.burn_in} burn-in + {sc.years} evaluation year{'s' if sc.years != 1 else ''} per run"
        )
    else:
        print(f"model: {exp.function}")
    done = RunStore(args.out / "runs").done_keys()
    todo = sum(1 for t in sweep.tasks if t.key not in done)
    if todo < len(sweep.tasks):
        print(f"{len(sweep.tasks) - todo:,} of these runs are already in {args.out / 'runs'}: {todo:,} to run")
    print("timing a short run in this process ...", file=sys.stderr, flush=True)
    per_run, what = time_one_run(exp)
    print(f"timing: {what}")
    total = todo * per_run
    if args.scheduler:
        print(
            f"estimate: {todo:,} runs x {per_run:.3g} s = {_duration(total)} of run time, divided by the "
            "cluster's workers"
        )
    else:
        workers = min(args.workers or cores(), max(1, todo))
        print(
            f"estimate: {todo:,} runs x {per_run:.3g} s / {workers} worker(s) = {_duration(total / workers)}, "
            "plus a few seconds to start the workers and analyse (longer on a host shared with other jobs)"
        )
    print(f"dry run: nothing was written to {args.out}; run the same command without --dry-run to start")
    return EXIT_OK


def _shown(path: str) -> str:
    """A path relative to the working directory when it is below it (shorter to read)."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _duration(seconds: float) -> str:
    """A wall time as a person would say it: "under a second", "about 40 s", "about 17 min", "about 3.5 h"."""
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"

"""``school-exit sweep``: the command-line side of a sensitivity analysis (the sampling,
running and analysis live in simulation.research.sensitivity)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, add_scheduler, check_writable, executor_for, int_at_least


def add_parser(sub) -> None:
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
        type=int_at_least(1),
        metavar="N",
        help="worker processes (default: number of cores)",
    )
    swp.add_argument("--no-plot", action="store_true", help="do not draw figures")
    add_scheduler(swp)
    swp.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from simulation.present.figures import sweep_figures
    from simulation.research.sensitivity import prepare, run_sweep, top_table

    out: Path = args.out
    check_writable(out)
    sweep = prepare(args.experiment)  # ExperimentError: exit 2, nothing written
    exp = sweep.exp
    executor = executor_for(args, len(sweep.tasks))
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

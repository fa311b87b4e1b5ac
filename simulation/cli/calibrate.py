"""``school-exit calibrate CONFIG.toml --out DIR [--workers N | --scheduler ADDRESS]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import (
    EXIT_OK,
    add_force,
    add_scheduler,
    check_out,
    check_writable,
    claim_out,
    executor_for,
    int_at_least,
    job,
)


def add_parser(sub) -> None:
    cal = sub.add_parser(
        "calibrate",
        help="fit the uncertain parameters to published figures (ABC-SMC)",
        description="Likelihood-free Bayesian calibration (ABC-SMC) of the parameters named in CONFIG.toml "
        "against the 'fit' rows of its targets CSV; 'validation' rows are reported, never fitted. Writes each "
        "generation as it finishes (a killed job resumes from the last one and reruns no finished run), then "
        "posterior, posterior_summary, fit, predictive, history and scale_check tables and manifest.json to "
        "--out. 'school-exit report DIR' draws the calibration report.",
    )
    cal.add_argument("config", metavar="CONFIG.toml", type=Path, help="calibration file (see calibration/)")
    cal.add_argument("--out", "-o", metavar="DIR", type=Path, required=True, help="output directory")
    cal.add_argument(
        "--workers", "-j", type=int_at_least(1), metavar="N", help="worker processes (default: number of cores)"
    )
    cal.add_argument("--quiet", action="store_true", help="no progress lines")
    add_scheduler(cal)
    add_force(cal)
    cal.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from simulation.research.calibration import run_calibration
    from simulation.research.calibration_config import load_calibration

    out: Path = args.out
    check_writable(out)
    cal = load_calibration(args.config)  # CalibrationError: exit 2, nothing written
    this_job = job("calibrate", calibration=cal.name)
    check_out(out, this_job, force=args.force)
    executor = executor_for(args, cal.particles * cal.seeds)
    print(
        f"calibration {cal.name!r}: {len(cal.prior.names)} parameters, {int((cal.targets['role'] == 'fit').sum())} "
        f"targets fitted ({int((cal.targets['role'] != 'fit').sum())} held out), {cal.particles} particles x "
        f"{cal.seeds} seeds, at most {cal.generations} generations and {cal.max_runs} runs; "
        f"{executor.workers} workers ({executor.name})",
        file=sys.stderr,
    )
    claim_out(out, this_job)
    try:
        tables, manifest = run_calibration(
            cal, out, executor, command=["school-exit", *args.argv], progress=not args.quiet
        )
    finally:
        executor.close()
    fit = tables["fit"]
    fitted = fit[fit["role"] == "fit"]
    print(
        f"{manifest['generations']} generations, {manifest['runs']} runs (stopped by {manifest['stopped_by']}); "
        f"{int(fitted['in_range'].sum())} of {len(fitted)} fitted targets in range under the posterior-predictive "
        f"median; validation: {int(fit.loc[fit['role'] != 'fit', 'in_range'].sum())} of "
        f"{int((fit['role'] != 'fit').sum())}"
    )
    print(f"wrote posterior, posterior_summary, fit, predictive, history and manifest.json to {out}")
    return EXIT_OK

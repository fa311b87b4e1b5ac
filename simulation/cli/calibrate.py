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
        help="fit the uncertain parameters to published figures (neural posterior estimation, sbi)",
        description="Bayesian calibration of the parameters named in CONFIG.toml against the 'fit' rows of its "
        "targets CSV by neural posterior estimation (sbi) on one design of prior simulations; 'validation' rows are "
        "reported, never fitted. Every run is one file in DIR/runs (a killed job resumes and reruns no finished "
        "run), the trained network is kept in DIR/estimator.pt. Then a measured scale offset, the posterior, the "
        "posterior predictive at full scale and a simulation-based calibration check on held-out synthetic truths. "
        "Writes posterior, posterior_roles, posterior_summary, fit, scale_offset, coverage, sbc_ranks and summaries "
        "tables and manifest.json to --out. 'school-exit report DIR' draws the calibration report.",
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
    import importlib.util

    from simulation.research.npe_config import load_calibration
    from simulation.research.npe_job import run_npe

    from .common import UsageError

    out: Path = args.out
    check_writable(out)
    cal = load_calibration(args.config)  # checked first: a bad file is named even without the extra
    if importlib.util.find_spec("sbi") is None:
        raise UsageError(
            "calibrate needs sbi and torch: pip install -e '.[calibrate]' (make installs it)"
        )  # CalibrationError: exit 2, nothing written
    this_job = job("calibrate", calibration=cal.name)
    check_out(out, this_job, force=args.force)
    executor = executor_for(args, cal.simulations)
    print(
        f"calibration {cal.name!r}: {len(cal.names)} parameters, {len(cal.fit)} figures fitted "
        f"({len(cal.validation)} held out); {cal.simulations} design runs at scale {cal.scale:g} "
        f"({cal.sbc_truths} held out as synthetic truths), {2 * cal.offset_draws} scale-offset runs, "
        f"{cal.predictive_draws} predictive runs at scale {cal.predictive_scale:g}; "
        f"{executor.workers} workers ({executor.name})",
        file=sys.stderr,
    )
    claim_out(out, this_job)
    try:
        tables, manifest = run_npe(cal, out, executor, command=["school-exit", *args.argv], progress=not args.quiet)
    finally:
        executor.close()
    fit = tables["fit"]
    fitted, held = fit[fit["role"] == "fit"], fit[fit["role"] != "fit"]
    cov = tables["coverage"]
    print(
        f"{manifest['design_runs']} design runs; {len(manifest['fitted'])} of {len(cal.names)} parameters fitted "
        f"(the rest move no fitted figure enough and stay at their priors); posterior: {len(tables['posterior'])} "
        "draws, effective "
        f"sample size at least {manifest['ess_min']:.0f}.\n"
        f"fit at scale {cal.predictive_scale:g}: {int(fitted['in_range'].sum())} of {len(fitted)} fitted figures in "
        f"range under the posterior-predictive median; validation: {int(held['in_range'].sum())} of {len(held)}.\n"
        f"calibration check on {manifest['sbc_truths']} synthetic truths: 90% intervals cover the truth "
        f"{cov['coverage_90'].min():.0%}-{cov['coverage_90'].max():.0%} of the time "
        f"({int(cov['in_85_95'].sum())} of {len(cov)} parameters within 85-95%)."
    )
    print(f"wrote the tables and manifest.json to {out} (the report: school-exit report {out})")
    return EXIT_OK

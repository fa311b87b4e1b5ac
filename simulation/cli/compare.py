"""``school-exit compare`` and ``school-exit report``: the command-line side of a comparison
(the statistics live in simulation.analysis.compare, the figures in simulation.present)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import (
    EXIT_FAILED,
    MAX_SEED,
    UsageError,
    add_force,
    add_scheduler,
    check_out,
    claim_out,
    int_at_least,
    job,
    scale,
)


def add_parser(sub) -> None:
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
        type=int_at_least(2, 100_000),
        metavar="N",
        help="paired replicates (default: the baseline's; at least 2 for intervals; a multiple of 4 when the "
        "scenarios have a posterior, so chance, calibration and assumptions can be told apart)",
    )
    cmp.add_argument(
        "--workers", "-j", type=int_at_least(1), metavar="N", help="worker processes (default: number of cores)"
    )
    cmp.add_argument("--scale", type=scale, metavar="F", help="fraction of pupils simulated, in (0, 1]")
    cmp.add_argument("--years", type=int_at_least(1, 100), metavar="Y", help="evaluation years")
    cmp.add_argument("--seed", type=int_at_least(0, MAX_SEED), metavar="S", help="base seed (replicate r: S + r)")
    cmp.add_argument("--events", action="store_true", help="also write every run's event log (large)")
    cmp.add_argument(
        "--assumptions",
        action="store_true",
        help="also draw, in every pair of replicates, the uncertainty parameters the compared interventions act "
        "through from their ranges, and say how much of each effect's spread comes from them (needs an even "
        "number of replicates, at least 4)",
    )
    add_scheduler(cmp)
    add_force(cmp)
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


def cmd_compare(args: argparse.Namespace) -> int:
    from simulation.analysis.compare import CompareFailed
    from simulation.research.executors import DaskError

    if args.scheduler and args.workers:
        raise UsageError("--workers and --scheduler cannot be used together (a cluster has its own workers)")
    try:
        return _run_compare(args)
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


def _run_compare(args) -> int:
    """``school-exit compare``: validate every file, run, write tables to --out, print the headline."""
    import numpy as np

    from simulation.analysis.compare import align, compare, crn_line, format_cell, headline_table, load_all, write
    from simulation.analysis.targets import format_table

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory")
    loaded = load_all([args.baseline, *args.others])  # every file validated before anything runs
    scenarios = align(
        loaded[0], loaded[1:], replicates=args.replicates, seed=args.seed, scale=args.scale, years=args.years
    )
    drawn: tuple[str, ...] = ()
    if args.assumptions:
        scenarios, drawn = _with_assumptions(scenarios)
    posterior = _check_posterior_replicates(scenarios)
    this_job = job("compare", scenarios=[s.name for s in scenarios])
    check_out(out, this_job, force=args.force)
    n = len(scenarios) * scenarios[0].replicates
    print(
        f"compare: {len(scenarios)} scenarios x {scenarios[0].replicates} replicates = {n} runs, "
        f"scale {scenarios[0].scale:g}, {scenarios[0].years} evaluation years, seeds "
        f"{scenarios[0].seed}-{scenarios[0].seed + scenarios[0].replicates - 1}",
        file=sys.stderr,
    )
    comparison = compare(
        scenarios[0],
        scenarios[1:],
        workers=args.workers,
        keep_events=args.events,
        progress=sys.stderr.isatty(),
        scheduler=getattr(args, "scheduler", None),
    )
    if drawn:
        from simulation.analysis.assumptions import assumption_table
        from simulation.model.metrics import HEADLINE

        comparison.tables["assumptions"] = assumption_table(comparison["summary"], comparison.baseline, HEADLINE, drawn)
    if posterior:
        from simulation.analysis.sources import sources_table
        from simulation.model.metrics import HEADLINE

        comparison.tables["sources"] = sources_table(comparison["summary"], comparison.baseline, HEADLINE)
    claim_out(out, this_job)
    write(comparison, out, ["school-exit", *getattr(args, "argv", [])])
    table = headline_table(comparison["metrics"], comparison.baseline)
    print(format_table(table, max_width=60, right=["baseline", "scenario mean", "difference (90% CI)"]))
    print("\nCommon random numbers (headline metric, paired against unpaired 90% intervals):")
    for s in comparison.scenarios[1:]:
        print("  " + crn_line(comparison["metrics"], s.name))
    if "cost_summary" in comparison.tables:
        from simulation.present.report_text import money

        cs = comparison["cost_summary"]
        print(
            "\nChildren kept on a school roll a year (net: averted minus new, the paired difference of "
            "children_leaving_per_1000 times the population; 90% CI; negative: more children leave) and cost:"
        )
        for _, r in cs.iterrows():
            cost = (
                f"{money(r['cost_gbp_per_year'])} a year ({money(r['cost_gbp_lo'])} to {money(r['cost_gbp_hi'])})"
                if r["cost_estimated"]
                else "cost not estimated"
            )
            per = (
                f"; {money(r['gbp_per_exit_averted'])} per child kept on a roll ({money(r['gbp_per_exit_lo'])} to "
                f"{money(r['gbp_per_exit_hi'])})"
                if np.isfinite(r["gbp_per_exit_averted"])
                else ""
            )
            print(
                f"  {r['scenario']}: {format_cell(r['net_averted_per_year'])} ({format_cell(r['net_averted_lo'])} to "
                f"{format_cell(r['net_averted_hi'])}); {cost}{per}"
            )
    if drawn:
        from simulation.analysis.assumptions import describe
        from simulation.model.metrics import EXIT_METRIC

        a = comparison["assumptions"]
        print(
            f"\nDoes it survive the assumptions? {len(drawn)} parameters the interventions act through were drawn "
            f"from their ranges ({', '.join(drawn)}); {EXIT_METRIC}, paired effect:"
        )
        for _, r in a[a["metric"] == EXIT_METRIC].iterrows():
            print("  " + describe(r))
    if posterior:
        from simulation.analysis.sources import describe as describe_sources
        from simulation.model.metrics import EXIT_METRIC

        t = comparison["sources"]
        print(
            f"\nWhere the spread comes from ({EXIT_METRIC}, paired effect; chance: the seeds, calibration: the "
            "fitted parameters' posterior draws, assumptions: the parameters no data narrow):"
        )
        for _, r in t[t["metric"] == EXIT_METRIC].iterrows():
            print("  " + describe_sources(r))
    print(
        f"\n{n} runs in {comparison.wall_seconds:.1f} s on {comparison.workers} worker(s); wrote "
        f"{len(comparison.tables)} tables and manifest.json to {out} (make the figure pack with "
        f"'school-exit report {out}')"
    )
    return 0


def _with_assumptions(scenarios):
    """The scenarios with the parameters their interventions act through drawn in every replicate pair."""
    from simulation.policy.scenario import ASSUMPTION_SEEDS_PER_DRAW, acts_through_of

    k = ASSUMPTION_SEEDS_PER_DRAW
    n = scenarios[0].replicates
    if n < 2 * k or n % k:
        raise UsageError(
            f"--assumptions: --replicates {n} (allowed: an even number, at least {2 * k}: each draw of the "
            f"assumptions runs on {k} seeds, so chance can be told apart from them)"
        )
    drawn = acts_through_of(scenarios)
    if not drawn:
        raise UsageError("--assumptions: none of the compared scenarios has an intervention (nothing to draw)")
    return [s.with_(assumptions=drawn) for s in scenarios], drawn


def _check_posterior_replicates(scenarios) -> bool:
    """Whether the replicates draw from a posterior (then ``compare`` splits each effect's spread into
    chance, calibration and assumptions), refusing a number of replicates the split cannot use."""
    from simulation.policy.scenario import ASSUMPTION_SEEDS_PER_DRAW, CALIBRATION_SEEDS_PER_DRAW

    s = scenarios[0]
    if not s.posterior or s.particle is not None:
        return False
    k, n = CALIBRATION_SEEDS_PER_DRAW, s.replicates
    if n % k:
        raise UsageError(
            f"--replicates {n} (allowed: a multiple of {k} with a posterior, here {s.posterior}: each draw of its "
            f"fitted parameters runs on {k} replicates, {k // ASSUMPTION_SEEDS_PER_DRAW} draws of the assumed ones "
            f"on {ASSUMPTION_SEEDS_PER_DRAW} seeds each, so chance, calibration and assumptions can be told apart)"
        )
    return True

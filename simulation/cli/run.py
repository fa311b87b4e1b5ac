"""``school-exit run``: one scenario (or every LA of England) through the run store, then the
result tables, figures, manifest and headline table."""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    MAX_SEED,
    add_force,
    add_run_options,
    add_scheduler,
    check_out,
    check_writable,
    claim_out,
    executor_for,
    int_at_least,
    job,
    prepare,
)


def add_parser(sub) -> None:
    run = sub.add_parser(
        "run",
        help="run a scenario and write result tables",
        description="Run SCENARIO.toml for N replicates and write the years, weeks and summary "
        "tables (Parquet and CSV) and manifest.json to --out. Nothing is written unless every "
        "run succeeds.",
    )
    run.add_argument("scenario", metavar="SCENARIO.toml", type=Path, help="scenario file")
    run.add_argument("--out", "-o", metavar="DIR", type=Path, required=True, help="output directory")
    add_run_options(run)
    run.add_argument(
        "--seed",
        type=int_at_least(0, MAX_SEED),
        metavar="S",
        help="base seed; replicate r uses S + r (default: the scenario's seed)",
    )
    run.add_argument(
        "--years",
        type=int_at_least(1, 100),
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
    add_scheduler(run)
    add_force(run)
    run.set_defaults(func=cmd_run)


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


def cmd_run(args: argparse.Namespace) -> int:
    from simulation.research import store
    from simulation.research.executors import Task, run_tasks
    from simulation.research.runner import run_specs, run_task

    out: Path = args.out
    check_writable(out)
    scenario = prepare(
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
    area = "England" if args.england else f"LA table {args.las.name}" if args.las else "one LA"
    this_job = job("run", scenario=scenario.name, area=area)
    check_out(out, this_job, force=args.force)
    executor = executor_for(args, len(tasks))

    started = datetime.now(UTC)
    claim_out(out, this_job)
    runs = store.RunStore(out / "runs")
    job_record = {
        "command": ["school-exit", *args.argv],
        "scenario": scenario.to_dict(),
        "scenario_sha256": scenario.sha256,
        "england": england,
        "las_sha256": store.sha256_json(las.to_dict("list")) if las is not None else None,
        "runs": [t.key for t in tasks],
        "started": started.isoformat(),
        **store.environment(),
    }
    runs.open(job_record)
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
            "la_table_sha256": job_record["las_sha256"],
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

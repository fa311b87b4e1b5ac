"""The ``school-exit`` parser, assembled from the command modules, and ``main``: where every
error becomes one ``error:`` line and an exit status.

    school-exit run SCENARIO.toml --out DIR [--replicates N] [--seed S] [--workers N | --scheduler ADDRESS]
                                   [--scale F] [--years Y] [--events] [--plot] [--england | --las FILE] [--force]
    school-exit sweep EXPERIMENT.toml --out DIR [--workers N | --scheduler ADDRESS] [--no-plot]
                                   [--samples N] [--scale F] [--years Y] [--dry-run] [--force]
    school-exit check-targets [RESULTS_DIR] [--scenario FILE] [--replicates N] [--scale F]
    school-exit params [--kind uncertainty|lever]
    school-exit compare BASELINE.toml OTHER.toml [...] --out DIR [--replicates N] [--workers N] [--scale F]
                                   [--years Y] [--seed S] [--events] [--assumptions] [--force]
    school-exit calibrate CONFIG.toml --out DIR [--workers N | --scheduler ADDRESS] [--quiet] [--force]
    school-exit report RESULTS_DIR      (a compare or a calibrate directory)
    school-exit app [--port N] [--host ADDRESS] [--open]   (the live app; needs the [app] extra)

Bad input (a missing or invalid scenario or experiment, an out-of-range option) prints one
line starting ``error:`` to stderr and exits with status 2, writing nothing. Everything is
validated before the first run starts. An --out that holds another job's outputs is refused
unless ``--force``; the same job's --out resumes.

Runs go through the run store in ``DIR/runs/`` (one file per finished run, written
atomically): the same command run again after a kill runs only what is missing. A run
that raises is recorded with its traceback in ``DIR/runs/failed/`` and the job goes on;
the command then exits with status 1. ``run`` writes its tables only when every run has
succeeded (so the tables are complete or absent); ``sweep`` analyses what it has and
reports the failures.
"""

from __future__ import annotations

import argparse
import sys

from simulation.model.params import ParameterError
from simulation.policy.scenario import ScenarioError

from . import app, calibrate, compare, params, run, sweep, targets
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Parser, RunFailed, UsageError


def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="school-exit",
        description="Agent-based simulation of why children in England leave school rolls, "
        "and what policy changes that.",
        epilog="Run 'school-exit COMMAND --help' for the options of each command.",
    )
    from simulation.research import store

    parser.add_argument("--version", action="version", version=f"%(prog)s {store.package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    for command in (run, sweep, targets, params, compare, calibrate, app):
        command.add_parser(sub)
    return parser


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

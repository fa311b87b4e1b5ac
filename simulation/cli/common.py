"""What every command shares, so that options, checks and errors read the same in each: exit
statuses, option types, the run options, scenario loading, the executor and the --out checks
(writable, and not another job's: ``check_out``, ``claim_out``, ``--force``)."""

from __future__ import annotations

import argparse
from pathlib import Path


class RunFailed(RuntimeError):
    """A run of an in-memory job raised; the message is its traceback."""


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

DEFAULT_SCENARIO = Path("scenarios") / "baseline.toml"
MAX_SEED = 2**63 - 1


class UsageError(Exception):
    """A command-line problem; the message is one line."""


class Parser(argparse.ArgumentParser):
    """argparse that reports problems as one line (raised, so ``main`` prints and returns 2)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


# --- option types: each refuses bad values with a message naming the allowed range ----------


def int_at_least(low: int, high: int | None = None):
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


def scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed (allowed: a number in (0, 1])")
    return value


def _scheduler(text: str) -> str:
    import re

    if not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+(:\d+)?/?", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed (allowed: a scheduler address such as tcp://HOST:PORT)"
        )
    return text


def add_scheduler(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scheduler",
        type=_scheduler,
        metavar="ADDRESS",
        help="run on this Dask cluster (tcp://HOST:PORT; needs the [dask] extra) instead of local processes",
    )


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--replicates",
        "-n",
        type=int_at_least(1, 100_000),
        metavar="N",
        help="replicates (default: the scenario's replicates)",
    )
    p.add_argument(
        "--workers",
        "-j",
        type=int_at_least(1),
        metavar="N",
        help="worker processes (default: number of cores)",
    )
    p.add_argument(
        "--scale",
        type=scale,
        metavar="F",
        help="fraction of pupils simulated, in (0, 1] (default: the scenario's scale)",
    )


def prepare(path: Path, *, replicates=None, seed=None, scale=None, years=None):
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


def executor_for(args: argparse.Namespace, n_tasks: int):
    """The executor the options ask for; raises UsageError when Dask is missing or unreachable."""
    from simulation.research.executors import DaskError, make_executor

    if getattr(args, "scheduler", None) and args.workers:
        raise UsageError("--workers and --scheduler cannot be used together (a cluster has its own workers)")
    try:
        if getattr(args, "scheduler", None):
            return make_executor(scheduler=args.scheduler)
        return make_executor(min(args.workers or cores(), max(1, n_tasks)))
    except DaskError as exc:
        raise UsageError(str(exc)) from None


def check_writable(out: Path) -> None:
    """Refuse an --out that is a file, or whose nearest existing ancestor cannot be written (before any run)."""
    import os

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    probe = out.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot write in {probe}")


# --- whose outputs an --out holds --------------------------------------------------------------

JOB_FILE = "job.json"  # DIR/job.json: which job writes into DIR, so another job is not mixed into it
_ALLOWED_OUT = "allowed: a new or empty directory, this same job's --out to resume it, or --force to write there anyway"


def add_force(p: argparse.ArgumentParser) -> None:
    """``--force``, the same for every command that writes an --out."""
    p.add_argument(
        "--force",
        action="store_true",
        help="write into an --out that holds another job's outputs (or other files); its tables may be replaced",
    )


def job(command: str, **inputs) -> dict:
    """What identifies a job for its --out: the command and the names of what it runs.

    Names, not file hashes: the names are the ``scenario`` (or experiment) column of the tables, so
    two jobs mix exactly when their names differ, and a job re-run after a kill or with other
    --replicates is still the same job (its run store keys each run by content anyway)."""
    return {"command": command, **{k: list(v) if isinstance(v, tuple) else v for k, v in inputs.items()}}


def _describe(job: dict) -> str:
    """``school-exit run of scenario 'a' (one LA)``, whatever order the keys were stored in."""
    what = ", ".join(f"{k} {job[k]!r}" for k in sorted(job) if k not in ("command", "area"))
    area = f" ({job['area']})" if "area" in job else ""
    return f"school-exit {job.get('command', '?')}" + (f" of {what}" if what else "") + area


def check_out(out: Path, this: dict, *, force: bool = False) -> None:
    """Refuse (before anything runs or is written) an --out that cannot be written, or that holds
    files of another job: a different command or scenario, or files no school-exit job wrote.
    The same job's --out is accepted, so a killed job resumes; ``force`` accepts any directory."""
    import json

    check_writable(out)
    if force or not out.is_dir() or not any(out.iterdir()):
        return
    record = out / JOB_FILE
    if not record.is_file():
        earlier = (out / "manifest.json").is_file() or (out / "runs" / "manifest.json").is_file()
        what = (
            f"outputs of an earlier school-exit without a {JOB_FILE}"
            if earlier
            else f"files no school-exit job wrote (no {JOB_FILE})"
        )
        raise UsageError(f"--out {out}: not empty, holds {what} ({_ALLOWED_OUT})")
    try:
        held = json.loads(record.read_text()).get("job")
    except (OSError, ValueError, AttributeError):
        held = None
    if held != this:
        theirs = _describe(held) if isinstance(held, dict) else f"an unreadable {JOB_FILE}"
        raise UsageError(
            f"--out {out}: holds the outputs of another job ({theirs}; this is {_describe(this)}) ({_ALLOWED_OUT})"
        )


def claim_out(out: Path, this: dict) -> None:
    """Record in ``DIR/job.json`` which job writes into --out; call it just before the first write,
    after :func:`check_out` and every other check, so a refused run leaves nothing behind."""
    from simulation.research.store import write_json

    write_json(
        {"job": this, "note": "the job whose outputs this directory holds (see school-exit --force)"}, out / JOB_FILE
    )


def cores() -> int:
    import os

    return os.cpu_count() or 1

"""Performance figures beside the budget of DESIGN.md section 8, in one run (``make bench``).

Prints a table; nothing here asserts. The figures:

(i)   the reference LA (scenarios/baseline.toml, 80,000 pupils): model build plus the
      scenario's burn-in and 5 evaluation years of weekly steps, timed inside a fresh
      process; that process's peak resident memory (imports included) from ``wait4``;
(ii)  the whole command ``school-exit run scenarios/baseline.toml --years 5 --replicates 1``, and
      its split into the model run (from the manifest) and the rest (start-up, imports, writing);
(iii) a sweep-sized run: the same scenario at scale 0.125 (10,000 pupils), burn-in plus 5 years;
(iv)  the cost per pupil-week of the model's weekly step against the per-agent Mesa
      reference of the hot rules (``benchmarks/reference_mesa.py``);
(v)   with ``--compare`` only (it takes minutes): ``school-exit compare`` of the baseline and the
      three packages, 20 paired replicates at scale 0.25 on 2 workers, the analyst's usual job.
      It was a timed test (budget 2 minutes) until the baseline's spin-up grew to 8 years.

(i)-(iii) are the median of ``--repeats`` fresh processes (default 3); (iv) the fastest of as
many passes. Two host figures come first, because this machine's speed varies from hour to hour
(other tenants' memory traffic): compare runs only when those figures are close, and even then
expect 10% either way (to judge a change, use ``--against``).

``--quick`` shortens every run (one year, no burn-in, fewer weeks for (iv)) and scales
the time budgets pro rata by weeks, so it is a smoke test, not a measurement.

``--against REV`` judges a change instead: it checks REV out into a temporary git worktree and
times figure (i) for REV and for this working tree in turn, pair after pair, in fresh processes.
The host drifts by 10-20% within an hour, far more than most changes move the figure, so only
paired runs taken minutes apart can tell whether a change made the model faster.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "benchmarks") not in sys.path:  # reference_mesa, however this file is run
    sys.path.insert(0, str(ROOT / "benchmarks"))
SCENARIO = ROOT / "scenarios" / "baseline.toml"
WEEKS_PER_YEAR = 52  # as simulation.model.timeline.WEEKS_PER_YEAR

# DESIGN.md section 8.
BUDGET_REFERENCE_S = 2.0
BUDGET_CLI_S = 3.0
BUDGET_MEMORY_MIB = 1024.0
BUDGET_SWEEP_S = 0.3
BUDGET_RATIO = 50.0
SWEEP_SCALE = 0.125
REFERENCE_AGENT_SCALE = 0.05  # about 3,900 pupils on a school roll for the per-agent reference


# --- child processes ------------------------------------------------------------------------------


def run_shape(quick: bool) -> tuple[int, int | None]:
    """(evaluation years, burn-in) of the model runs; a burn-in of None keeps the scenario's.
    Figures (i)-(iii) and ``--against`` use the same shape, so their times are comparable."""
    return (1, 0) if quick else (5, None)


def child_run(scale: float, years: int, burn_in: int | None, scenario_path: Path = SCENARIO) -> None:
    """Build and run the model once in this (fresh) process; print the timings as JSON."""
    from simulation import SchoolExitModel, load_scenario

    scenario = load_scenario(scenario_path)
    changes = {"years": years, "scale": scale}
    if burn_in is not None:
        changes["burn_in"] = burn_in
    scenario = scenario.with_(**changes)
    weeks = (scenario.burn_in + scenario.years) * WEEKS_PER_YEAR
    t0 = time.perf_counter()
    model = SchoolExitModel(scenario, seed=scenario.seed)
    t1 = time.perf_counter()
    model.run_for(weeks)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "seconds": t2 - t0,
                "build_seconds": t1 - t0,
                "pupils": len(model.pupils),
                "weeks": weeks,
                "burn_in": scenario.burn_in,
                "years": scenario.years,
            }
        )
    )


@dataclass
class Finished:
    returncode: int
    seconds: float  # wall time of the whole process, seen from outside
    peak_mib: float  # the process's peak resident memory
    stdout: str
    stderr: str


def _last_line(text: str) -> str:
    """The last line of a failed process's output: the one that says what went wrong."""
    return (text.strip().splitlines() or ["no message"])[-1]


def run_process(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> Finished:
    """Run ``cmd`` to completion; ``wait4`` gives that process's own peak memory."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Finished(proc.returncode, seconds, usage.ru_maxrss / 1024.0, out.read(), err.read())


def one_child_run(scale: float, years: int, burn_in: int | None, tree: Path = ROOT) -> tuple[dict, float]:
    """One fresh process running the model of the source tree ``tree``: its timings and peak memory."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child-run",
        str(scale),
        str(years),
        "-1" if burn_in is None else str(burn_in),
        "--child-scenario",
        str(tree / SCENARIO.relative_to(ROOT)),
    ]
    # ``tree`` first on the path: its package, not the installed one, is imported.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}
    done = run_process(cmd, cwd=tree, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.peak_mib


def model_in_child(scale: float, years: int, burn_in: int | None, repeats: int) -> dict:
    """Median in-process seconds over ``repeats`` fresh processes, and the largest peak memory."""
    runs, peaks = [], []
    for _ in range(max(1, repeats)):
        run, peak = one_child_run(scale, years, burn_in)
        runs.append(run)
        peaks.append(peak)
    result = dict(runs[0])
    result["seconds"] = statistics.median(r["seconds"] for r in runs)
    result["build_seconds"] = statistics.median(r["build_seconds"] for r in runs)
    result["peak_mib"] = max(peaks)
    return result


def cli_run(years: int, repeats: int = 1) -> tuple[str, Finished | None, float | None]:
    """The whole ``school-exit run`` process (the run of median wall time over ``repeats``), the
    seconds its manifest says the model run took, or the reason it cannot run."""
    exe = Path(sys.executable).with_name("school-exit")
    if importlib.util.find_spec("simulation.cli") is None:
        return "not available (simulation.cli missing)", None, None
    if not exe.exists():
        return f"not available ({exe} missing: reinstall the package)", None, None
    runs = []
    for _ in range(max(1, repeats)):
        with tempfile.TemporaryDirectory() as out:
            cmd = [str(exe), "run", str(SCENARIO), "--years", str(years), "--replicates", "1", "--out", out]
            done = run_process(cmd)
            if done.returncode != 0:
                return f"failed (exit {done.returncode}): {_last_line(done.stderr)}", done, None
            run_s = json.loads((Path(out) / "manifest.json").read_text())["wall_seconds"]
        runs.append((done, run_s))
    runs.sort(key=lambda r: r[0].seconds)
    done, run_s = runs[(len(runs) - 1) // 2]
    return "", done, run_s


PACKAGES = ("package_childrens_commissioner.toml", "package_send_reform.toml", "package_enforcement_first.toml")


def compare_run() -> tuple[str, Finished | None]:
    """The whole ``school-exit compare`` process of figure (v), or the reason it cannot run."""
    exe = Path(sys.executable).with_name("school-exit")
    if not exe.exists():
        return f"not available ({exe} missing: reinstall the package)", None
    with tempfile.TemporaryDirectory() as tmp:
        scen = [str(ROOT / "scenarios" / name) for name in PACKAGES]
        cmd = [str(exe), "compare", str(SCENARIO), *scen, "--replicates", "20", "--scale", "0.25", "-j", "2"]
        done = run_process([*cmd, "--out", str(Path(tmp) / "out")])
    if done.returncode != 0:
        return f"failed (exit {done.returncode}): {_last_line(done.stderr)}", done
    return "", done


# --- per pupil-week: the model against the per-agent reference ----------------------------------


def per_pupil_week(weeks: int, passes: int) -> dict:
    """Seconds per pupil-week of: the Mesa reference, its vectorised twin, and the real model.

    Each is timed ``passes`` times, the four in turn and from a fresh start each time, and the
    fastest pass counts: on a shared machine the noise only ever adds time, so the minimum is
    the best estimate of what the code costs, and taking it on both sides keeps the ratio fair."""
    from reference_mesa import ExitDraws, ReferenceModel, build_state, vectorised_week

    from simulation import SchoolExitModel, load_scenario
    from simulation.model.params import defaults

    p = defaults()
    state = build_state(REFERENCE_AGENT_SCALE, seed=1, p=p)
    # The real model from the first week of a year (term weeks, observed: no burn-in).
    scenario = load_scenario(SCENARIO).with_(burn_in=0)
    timings = {"reference": [], "twin": [], "full": [], "small": []}
    pupils = {"reference": state.n_pupils}
    for _ in range(max(1, passes)):
        reference = ReferenceModel(state.copy(), p, seed=1)
        t0 = time.perf_counter()
        for _ in range(weeks):
            reference.step()
        timings["reference"].append((time.perf_counter() - t0) / (state.n_pupils * weeks))

        fast = state.copy()
        draws = ExitDraws(fast.n_pupils, seed=1)
        t0 = time.perf_counter()
        for _ in range(weeks):
            vectorised_week(fast, p, draws)
        timings["twin"].append((time.perf_counter() - t0) / (fast.n_pupils * weeks))

        for label, scale in (("full", 1.0), ("small", REFERENCE_AGENT_SCALE)):
            model = SchoolExitModel(scenario.with_(scale=scale), seed=scenario.seed)
            t0 = time.perf_counter()
            model.run_for(weeks)
            timings[label].append((time.perf_counter() - t0) / (len(model.pupils) * weeks))
            pupils[label] = len(model.pupils)
    return {
        "reference": min(timings["reference"]),
        "reference_pupils": pupils["reference"],
        "twin": min(timings["twin"]),
        "weeks": weeks,
        "passes": max(1, passes),
        "model_full": min(timings["full"]),
        "model_full_pupils": pupils["full"],
        "model_small": min(timings["small"]),
        "model_small_pupils": pupils["small"],
        "ratio_spread": (
            min(r / m for r, m in zip(timings["reference"], timings["full"], strict=True)),
            max(r / m for r, m in zip(timings["reference"], timings["full"], strict=True)),
        ),
    }


def host_check() -> tuple[float, float]:
    """Two figures that say how fast this machine is running right now, to compare benchmark runs by:
    seconds for ten million iterations of a Python loop, and GB/s of a numpy add over 8 MB arrays
    (memory traffic: the weekly step slows by about a third when another process streams memory)."""
    import numpy as np

    t0 = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    loop_s = time.perf_counter() - t0
    a, b = np.ones(1 << 20), np.ones(1 << 20)
    out = np.empty_like(a)
    np.add(a, b, out=out)
    t0 = time.perf_counter()
    for _ in range(50):
        np.add(a, b, out=out)
    add_gbs = 50 * 3 * a.nbytes / (time.perf_counter() - t0) / 1e9
    return loop_s, add_gbs


# --- the table ----------------------------------------------------------------------------------


class Table:
    def __init__(self, quick: bool):
        self.quick = quick
        self.rows: list[tuple[str, str, str, str]] = []

    def section(self, title: str) -> None:
        self.rows.append((title, "", "", ""))

    def row(self, label: str, value: str, budget: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("yes" if met else "NO")
        if met is not None and self.quick:
            verdict += "*"
        self.rows.append(("  " + label, value, budget, verdict))

    def print(self) -> None:
        header = ("figure", "value", "budget", "met")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        print(line)
        for r in self.rows:
            if not any(r[1:]):
                print(r[0])
            else:
                label, value, budget, met = r
                cells = (
                    label.ljust(widths[0]),
                    value.rjust(widths[1]),
                    budget.ljust(widths[2]),
                    met,
                )
                print("  ".join(cells))
        print(line)


def _rate(pupil_weeks: float, seconds: float) -> str:
    return f"{pupil_weeks / seconds / 1e6:.2f} M/s"


# --- a change against a git revision ------------------------------------------------------------


class CompareError(Exception):
    """--against cannot run; the message says why."""


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def _timed_run(rev: str, years: int, burn_in: int | None, tree: Path) -> float:
    try:
        return one_child_run(1.0, years, burn_in, tree)[0]["seconds"]
    except RuntimeError as exc:  # e.g. a revision older than the API the child run uses
        side = "this working tree" if tree == ROOT else rev
        raise CompareError(f"--against {rev}: the run of {side} failed: {_last_line(str(exc))}") from None


def compare_against(rev: str, pairs: int, quick: bool) -> None:
    """Figure (i) for ``rev`` and for this working tree, alternately, ``pairs`` times (after one
    uncounted run of each); print the pairs and the median of their ratios. The order within a
    pair alternates too, so that a drift of the host during a pair favours neither side."""
    found = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise CompareError(f"--against {rev}: not a commit of the git repository at {ROOT}")
    commit = found.stdout.strip()
    years, burn_in = run_shape(quick)
    with tempfile.TemporaryDirectory(prefix="bench-against-") as tmp:
        tree = Path(tmp) / "tree"
        _git("worktree", "prune")  # an earlier comparison killed part way left its entry behind
        added = _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        if added.returncode != 0:
            raise CompareError(f"--against {rev}: git could not check it out: {_last_line(added.stderr)}")
        try:
            for root in (tree, ROOT):  # as for the main figures: no process compiles the package
                compileall.compile_dir(root / "simulation", quiet=1)
            label = f"{rev} ({commit[:7]})"
            print(
                f"reference LA, build + {'1 year, no burn-in' if quick else 'burn-in + 5 years'}, in process: "
                f"{label} against this working tree, {pairs} pair{'s' if pairs != 1 else ''} of fresh processes"
            )
            print(f"{'pair':>4}  {label:>22}  {'working tree':>12}  ratio")
            for root in (tree, ROOT):  # not counted: the first run reads a fresh checkout's files from disk
                _timed_run(rev, years, burn_in, root)
            ratios = []
            for i in range(pairs):
                order = (tree, ROOT) if i % 2 == 0 else (ROOT, tree)
                seconds = {root: _timed_run(rev, years, burn_in, root) for root in order}
                ratios.append(seconds[ROOT] / seconds[tree])
                print(f"{i + 1:>4}  {seconds[tree]:>20.3f} s  {seconds[ROOT]:>10.3f} s  {ratios[-1]:.3f}", flush=True)
        finally:
            _git("worktree", "remove", "--force", str(tree))
    faster = sum(r < 1.0 for r in ratios)
    print(
        f"median ratio, working tree / {rev}: {statistics.median(ratios):.3f} "
        f"(range {min(ratios):.3f}-{max(ratios):.3f}; the working tree was faster in {faster} of {pairs} pairs)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke version; budgets pro rata")
    parser.add_argument(
        "--repeats", type=int, default=3, help="fresh processes per figure (median), and passes for (iv) (fastest)"
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="instead of the table: figure (i) for git revision REV and for this working tree, in alternating pairs",
    )
    parser.add_argument("--pairs", type=int, default=8, help="pairs of runs for --against (default 8)")
    parser.add_argument("--compare", action="store_true", help="also time figure (v), a 4-scenario compare")
    parser.add_argument("--child-run", nargs=3, metavar=("SCALE", "YEARS", "BURN_IN"), help=argparse.SUPPRESS)
    parser.add_argument("--child-scenario", type=Path, default=SCENARIO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_run:
        scale, years, burn_in = (
            float(args.child_run[0]),
            int(args.child_run[1]),
            int(args.child_run[2]),
        )
        child_run(scale, years, None if burn_in < 0 else burn_in, args.child_scenario)
        return 0
    if args.against is not None:
        if args.pairs < 1:
            parser.error(f"--pairs {args.pairs}: at least 1 is needed")
        try:
            compare_against(args.against, args.pairs, args.quick)
        except CompareError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0

    import mesa
    import numpy as np

    from simulation import load_scenario

    # Byte-compile the package first, as pip does for an installed one: an editable install under
    # PYTHONDONTWRITEBYTECODE=1 (set on the machines here) would otherwise compile every module
    # from source in every process, about 0.1 s of the whole-command figure (ii).
    compileall.compile_dir(ROOT / "simulation", quiet=1)

    quick = args.quick
    years, burn_in = run_shape(quick)
    # Weeks of the runs the budgets speak of: the scenario's burn-in plus 5 years.
    full_weeks = (load_scenario(SCENARIO).burn_in + 5) * WEEKS_PER_YEAR
    table = Table(quick)
    print(
        f"school-exit benchmarks{' (quick)' if quick else ''}: python {platform.python_version()}, "
        f"mesa {mesa.__version__}, numpy {np.__version__}, {os.cpu_count()} cores, "
        f"{args.repeats} process(es) per model figure"
    )
    loop_s, add_gbs = host_check()
    print(
        f"host now: a 10-million-iteration Python loop {loop_s:.2f} s; numpy add over 8 MB arrays {add_gbs:.1f} GB/s\n"
    )

    # (i) the reference LA in process
    ref = model_in_child(1.0, years, burn_in, args.repeats)
    pro_rata = ref["weeks"] / full_weeks
    budget_ref = BUDGET_REFERENCE_S * pro_rata
    table.section(
        f"(i) reference LA, {SCENARIO.name}, build + burn-in {ref['burn_in']} + {ref['years']} years, in process"
    )
    table.row("pupils", f"{ref['pupils']:,}")
    table.row("weeks", f"{ref['weeks']}")
    table.row(
        "wall seconds (build + steps)",
        f"{ref['seconds']:.2f} s",
        f"<= {budget_ref:.2g} s",
        ref["seconds"] <= budget_ref,
    )
    table.row("  of which model build", f"{ref['build_seconds']:.2f} s")
    table.row("pupil-weeks per second", _rate(ref["pupils"] * ref["weeks"], ref["seconds"]))
    table.row(
        "peak memory (whole process)",
        f"{ref['peak_mib']:.0f} MiB",
        "<= 1 GiB",
        ref["peak_mib"] <= BUDGET_MEMORY_MIB,
    )

    # (ii) the command line, as a whole process
    table.section(f"(ii) school-exit run {SCENARIO.relative_to(ROOT)} --years {years} --replicates 1")
    why, done, run_s = cli_run(years, args.repeats)
    budget_cli = BUDGET_CLI_S * pro_rata
    if done is None or done.returncode != 0:
        table.row("wall seconds (whole process)", why, f"<= {budget_cli:.2g} s")
    else:
        table.row(
            "wall seconds (whole process)",
            f"{done.seconds:.2f} s",
            f"<= {budget_cli:.2g} s",
            done.seconds <= budget_cli,
        )
        # Split within the same process, so host drift between (i) and (ii) does not blur it.
        table.row("  of which the model run (manifest)", f"{run_s:.2f} s")
        table.row("  of which the rest (start-up, imports, writing)", f"{done.seconds - run_s:.2f} s")
        table.row(
            "peak memory (whole process)",
            f"{done.peak_mib:.0f} MiB",
            "<= 1 GiB",
            done.peak_mib <= BUDGET_MEMORY_MIB,
        )

    # (iii) sweep-sized run
    sweep = model_in_child(SWEEP_SCALE, years, burn_in, args.repeats)
    budget_sweep = BUDGET_SWEEP_S * sweep["weeks"] / full_weeks
    table.section(
        f"(iii) sweep-sized run: scale {SWEEP_SCALE}, build + burn-in {sweep['burn_in']} + "
        f"{sweep['years']} years, in process"
    )
    table.row("pupils", f"{sweep['pupils']:,}")
    table.row("weeks", f"{sweep['weeks']}")
    table.row(
        "wall seconds (build + steps)",
        f"{sweep['seconds']:.3f} s",
        f"<= {budget_sweep:.2g} s",
        sweep["seconds"] <= budget_sweep,
    )
    table.row("pupil-weeks per second", _rate(sweep["pupils"] * sweep["weeks"], sweep["seconds"]))
    table.row("peak memory (whole process)", f"{sweep['peak_mib']:.0f} MiB")

    # (iv) per pupil-week against the per-agent Mesa reference
    cost = per_pupil_week(3 if quick else 8, args.repeats)
    ratio = cost["reference"] / cost["model_full"]
    table.section(
        f"(iv) weekly step per pupil-week, first {cost['weeks']} weeks of a year (term), "
        f"fastest of {cost['passes']} passes each"
    )
    table.row(
        f"per-agent Mesa reference, hot rules ({cost['reference_pupils']:,} pupils)",
        f"{cost['reference'] * 1e6:.2f} us",
    )
    table.row(
        f"same rules vectorised (benchmarks twin, {cost['reference_pupils']:,} pupils)",
        f"{cost['twin'] * 1e6:.3f} us",
    )
    table.row(
        f"SchoolExitModel, every phase ({cost['model_full_pupils']:,} pupils)",
        f"{cost['model_full'] * 1e6:.3f} us",
    )
    table.row(
        f"SchoolExitModel, every phase ({cost['model_small_pupils']:,} pupils)",
        f"{cost['model_small'] * 1e6:.3f} us",
    )
    table.row(
        "ratio reference / model (reference LA)",
        f"{ratio:.1f}x",
        f">= {BUDGET_RATIO:g}x",
        ratio >= BUDGET_RATIO,
    )
    if cost["passes"] > 1:
        low, high = cost["ratio_spread"]
        table.row("  the same ratio, pass by pass", f"{low:.1f}-{high:.1f}x")
    table.row("ratio reference / model (same size)", f"{cost['reference'] / cost['model_small']:.1f}x")
    table.row("ratio reference / vectorised twin", f"{cost['reference'] / cost['twin']:.0f}x")
    if args.compare:
        table.section(
            f"(v) school-exit compare: baseline and {len(PACKAGES)} packages, 20 replicates, scale 0.25, 2 workers"
        )
        why, done = compare_run()
        if done is None or done.returncode != 0:
            table.row("wall seconds (whole process)", why)
        else:
            table.row("wall seconds (whole process)", f"{done.seconds:.1f} s")
            table.row("seconds per run (80 runs)", f"{done.seconds / 80:.2f} s")
    table.print()
    if quick:
        print(
            "* quick: shortened runs (1 year, no burn-in; 3 weeks for (iv)), time budgets pro rata "
            "by weeks. Run without --quick for the real figures."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

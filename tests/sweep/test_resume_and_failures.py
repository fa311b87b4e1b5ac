"""The run store: a SIGKILLed sweep resumes and runs only what is missing; failures are recorded
with their traceback and the job finishes; `school-exit run` resumes too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest
from conftest import HERE, function_experiment

from simulation.cli import main
from simulation.research.executors import SerialExecutor, Task, run_tasks
from simulation.research.store import RunStore, RunStoreError

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("samples", "results", "indices", "noise")


def _sweep(exp: Path, out: Path, env: dict, workers: int = 2) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "simulation.cli", "sweep", str(exp), "--out", str(out), "--workers", str(workers)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _env(log: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    env["SWEEP_LOG"] = str(log)
    return env


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_sigkilled_sweep_resumes_and_equals_an_uninterrupted_one(write_experiment, tmp_path):
    # 64 x 5 = 320 runs of 20 ms, 2 workers: about 3.5 s of work; killed part way.
    exp = write_experiment(function_experiment("sweep_models:slow_ishigami", samples=64, extra="chunk_size = 2"))
    out, ref = tmp_path / "killed", tmp_path / "reference"
    log1, log2, log_ref = tmp_path / "first.log", tmp_path / "second.log", tmp_path / "ref.log"

    proc = _sweep(exp, out, _env(log1))
    deadline = time.monotonic() + 60
    while len(list((out / "runs").glob("*.pkl"))) < 60:
        assert proc.poll() is None, f"sweep ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "sweep made no progress"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # the parent: its workers die with it (PR_SET_PDEATHSIG)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.3)
    done_at_kill = len(list((out / "runs").glob("*.pkl")))
    assert 60 <= done_at_kill < 320
    assert not (out / "indices.parquet").exists()  # it died before the analysis

    again = _sweep(exp, out, _env(log2))
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    assert f"{320 - done_at_kill} runs finished" in stderr and f"{done_at_kill} were already done" in stderr
    assert len(_calls(log2)) == 320 - done_at_kill  # only what was missing ran
    assert len(list((out / "runs").glob("*.pkl"))) == 320  # nothing lost, nothing duplicated
    assert not list((out / "runs").glob(".*.tmp"))

    whole = _sweep(exp, ref, _env(log_ref))
    _, stderr = whole.communicate(timeout=120)
    assert whole.returncode == 0, stderr
    for name in TABLES:
        pdt.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), pd.read_parquet(ref / f"{name}.parquet"))

    done = main(["sweep", str(exp), "--out", str(out), "--workers", "2", "--no-plot"])  # a third time: nothing to do
    assert done == 0


def test_failing_runs_are_recorded_and_the_job_finishes(write_experiment, tmp_path, capsys):
    exp = write_experiment(function_experiment("sweep_models:flaky", samples=32))
    out = tmp_path / "o"
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "2"]) == 1  # finished, with failures
    err = capsys.readouterr().err
    failed = sorted((out / "runs" / "failed").glob("*.txt"))
    assert failed and f"{len(failed)} of 160 runs failed" in err
    text = failed[0].read_text()
    assert "Traceback" in text and "ValueError" in text and "too large for this model" in text
    results = pd.read_parquet(out / "results.parquet")
    assert (results["status"] == "failed").sum() == len(failed)
    assert results.loc[results["status"] == "failed", "y"].isna().all()
    idx = pd.read_parquet(out / "indices.parquet")
    assert 0 < idx["n_used"].iloc[0] < 32  # blocks with a failed run are left out
    assert idx["ST"].notna().all()
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs_failed"] == len(failed) and manifest["runs_total"] == 160

    # Running again retries only the failures (they fail again: the model is deterministic).
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--no-plot"]) == 1
    err = capsys.readouterr().err
    assert f"{len(failed)} runs finished" in err and f"{160 - len(failed)} were already done" in err


SMALL = """\
name = "small"
years = 1
burn_in = 0
seed = 11

[population]
n_pupils = 3000
n_primary = 8
n_secondary = 2
n_special = 1
"""


def test_run_command_resumes_from_its_store(tmp_path, capsys):
    scen = tmp_path / "small.toml"
    scen.write_text(SMALL)
    out, ref = tmp_path / "o", tmp_path / "ref"
    args = ["run", str(scen), "--replicates", "3", "--workers", "1"]
    assert main([*args, "--out", str(ref)]) == 0
    assert main([*args, "--out", str(out)]) == 0
    runs = sorted((out / "runs").glob("*.pkl"))
    assert len(runs) == 3
    runs[1].unlink()  # as if killed before the second run finished
    (out / "years.parquet").unlink()
    capsys.readouterr()
    assert main([*args, "--out", str(out)]) == 0
    assert "2 already done" in capsys.readouterr().err
    for name in ("years", "weeks", "summary"):
        pdt.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), pd.read_parquet(ref / f"{name}.parquet"))


def test_runs_of_other_code_are_not_reused(tmp_path, capsys, monkeypatch):
    # The version number stays 0.1.0 while the model changes: the run key carries a hash of the
    # package's files, so a store written by other code is run again, not resumed.
    scen = tmp_path / "small.toml"
    scen.write_text(SMALL)
    args = ["run", str(scen), "--replicates", "2", "--workers", "1", "--out", str(tmp_path / "o")]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    assert "2 already done" in capsys.readouterr().err
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["resumed"] is True
    monkeypatch.setattr("simulation.research.store.code_sha256", lambda: "0" * 64)  # as if a source file changed
    assert main(args) == 0
    assert "already done" not in capsys.readouterr().err
    assert len(list((tmp_path / "o" / "runs").glob("*.pkl"))) == 4  # the old runs are kept, not used
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["resumed"] is False and manifest["environment"]["code_sha256"] == "0" * 64


def test_code_hash_follows_the_files(tmp_path, monkeypatch):
    from simulation.research import store

    store.code_sha256.cache_clear()
    first = store.code_sha256()
    assert len(first) == 64 and store.code_version().endswith("+" + first[:16])
    fake = tmp_path / "simulation"
    (fake / "data").mkdir(parents=True)
    (fake / "research").mkdir()
    (fake / "research" / "store.py").write_text("x = 1\n")
    (fake / "data" / "t.csv").write_text("a\n1\n")
    monkeypatch.setattr(store, "__file__", str(fake / "research" / "store.py"))
    store.code_sha256.cache_clear()
    one = store.code_sha256()
    (fake / "data" / "t.csv").write_text("a\n2\n")
    store.code_sha256.cache_clear()
    two = store.code_sha256()
    assert two != one
    (fake / "model").mkdir()  # a module in another subpackage counts too
    (fake / "model" / "x.py").write_text("y = 2\n")
    store.code_sha256.cache_clear()
    assert store.code_sha256() != two
    monkeypatch.undo()
    store.code_sha256.cache_clear()
    assert store.code_sha256() == first


def test_failed_run_of_the_run_command_writes_no_tables(tmp_path, capsys, monkeypatch):
    scen = tmp_path / "small.toml"
    scen.write_text(SMALL)

    def boom(*args, **kwargs):
        raise RuntimeError("model fell over")

    monkeypatch.setattr("simulation.research.runner.run", boom)
    out = tmp_path / "o"
    assert main(["run", str(scen), "--out", str(out), "--replicates", "2", "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "model fell over" in err
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert not (out / "years.parquet").exists() and not (out / "manifest.json").exists()
    assert len(list((out / "runs" / "failed").glob("*.txt"))) == 2


# --- the store and the job loop as library functions ------------------------------------------


def _double(x: int) -> int:
    if x < 0:
        raise ValueError("negative")
    return 2 * x


def test_run_tasks_skips_done_runs_and_records_failures(tmp_path):
    store = RunStore(tmp_path / "runs")
    store.open({"job": "t"})
    tasks = [Task(f"k{i}", _double, i) for i in (1, 2, 3, -1)] + [Task("k1", _double, 1)]  # a duplicate key
    report = run_tasks(tasks, SerialExecutor(), store=store, progress=False)
    assert report.total == 4 and report.ran == 4 and set(report.failed) == {"k-1"}
    assert store.load("k2")["value"] == 4
    assert "ValueError: negative" in store.failures()["k-1"]
    again = run_tasks(tasks, SerialExecutor(), store=store, progress=False)
    assert again.already_done == 3 and again.ran == 1  # only the failure is retried
    store.write("k-1", 0)  # a later success clears the failure record
    assert store.failures() == {}


def test_unreadable_run_file_is_removed_and_named(tmp_path):
    store = RunStore(tmp_path / "runs")
    store.open({})
    store.path("bad").write_bytes(b"not a pickle")
    (store.root / ".bad.pkl.123.tmp").write_bytes(b"half")  # what a killed writer leaves
    with pytest.raises(RunStoreError, match=r"bad\.pkl"):
        store.load("bad")
    assert "bad" not in store.done_keys()
    store.open({})
    assert not list(store.root.glob(".*.tmp"))

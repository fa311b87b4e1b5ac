"""Dask: a local scheduler and two workers on 127.0.0.1 give the same tables as local processes,
and a lost worker does not lose the job."""

from __future__ import annotations

import json
import os
import shutil
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

distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[2]

SMALL = """\
name = "small"
years = 1
burn_in = 0
seed = 5

[population]
n_pupils = 3000
n_primary = 8
n_secondary = 2
n_special = 1
"""


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and two single-threaded worker processes, on 127.0.0.1 only."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as c:
        yield c


def test_dask_gives_the_same_tables_as_local_processes(cluster, write_experiment, tmp_path, capsys):
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    exp = write_experiment(function_experiment("simulation.research.sensitivity:noisy_ishigami", samples=16, seeds=2))
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert main(["sweep", str(exp), "--out", str(local), "--workers", "2", "--no-plot"]) == 0
    assert main(["sweep", str(exp), "--out", str(dask), "--scheduler", address, "--no-plot"]) == 0
    for name in ("samples", "results", "indices", "noise"):
        pdt.assert_frame_equal(pd.read_parquet(local / f"{name}.parquet"), pd.read_parquet(dask / f"{name}.parquet"))
    manifest = json.loads((dask / "manifest.json").read_text())
    assert manifest["executor"] == {"executor": "dask", "scheduler": address, "workers": 2}

    scen = tmp_path / "small.toml"
    scen.write_text(SMALL)
    args = ["run", str(scen), "--replicates", "2"]
    assert main([*args, "--out", str(tmp_path / "run_local"), "--workers", "1"]) == 0
    assert main([*args, "--out", str(tmp_path / "run_dask"), "--scheduler", address]) == 0
    for name in ("years", "weeks", "summary"):
        pdt.assert_frame_equal(
            pd.read_parquet(tmp_path / "run_local" / f"{name}.parquet"),
            pd.read_parquet(tmp_path / "run_dask" / f"{name}.parquet"),
        )


def test_unreachable_scheduler_is_refused_before_anything_is_written(tmp_path, capsys, monkeypatch):
    import simulation.research.executors as ex

    original = ex.DaskExecutor.__init__
    monkeypatch.setattr(ex.DaskExecutor, "__init__", lambda self, a, **k: original(self, a, timeout=1.0))
    exp = ROOT / "experiments" / "ishigami.toml"
    out = tmp_path / "o"
    assert main(["sweep", str(exp), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: --scheduler tcp://127.0.0.1:9: cannot connect")
    assert not out.exists()


@pytest.mark.slow
def test_a_lost_worker_does_not_lose_the_job(write_experiment, tmp_path):
    """Scheduler and two workers as separate processes; one worker is SIGKILLed mid-sweep."""
    dask_cli = shutil.which("dask", path=os.path.dirname(sys.executable))
    assert dask_cli, "the [dask] extra installs the `dask` command"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    sched_file = tmp_path / "scheduler.json"
    procs = []

    def start(*args):
        p = subprocess.Popen([dask_cli, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file))
        deadline = time.monotonic() + 60
        while not sched_file.exists():
            assert time.monotonic() < deadline, "scheduler did not start"
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker_args = ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"]
        victim = start(*worker_args)
        start(*worker_args)
        exp = write_experiment(function_experiment("sweep_models:slow_ishigami", samples=64, extra="chunk_size = 4"))
        out = tmp_path / "dask"
        cmd = [sys.executable, "-m", "simulation.cli", "sweep", str(exp), "--out", str(out), "--scheduler", address]
        job = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while len(list((out / "runs").glob("*.pkl"))) < 60:
            assert job.poll() is None, job.communicate()
            assert time.monotonic() < deadline + 60
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        _, stderr = job.communicate(timeout=180)
        assert job.returncode == 0, stderr  # no run failed: the lost worker's tasks ran elsewhere
        assert len(list((out / "runs").glob("*.pkl"))) == 320
        local = tmp_path / "local"
        assert main(["sweep", str(exp), "--out", str(local), "--workers", "2", "--no-plot"]) == 0
        for name in ("results", "indices"):
            pdt.assert_frame_equal(pd.read_parquet(local / f"{name}.parquet"), pd.read_parquet(out / f"{name}.parquet"))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

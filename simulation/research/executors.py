"""One run engine for every job: tasks in, outcomes out, on local processes or a Dask cluster.

A :class:`Task` is a deterministic key, a module-level function and its argument; the
function is pure (same argument, same value), so where it runs cannot change the result.
Executors run *chunks* of tasks (one task per chunk for model runs; many for cheap
functions, to save the per-task overhead) and yield their outcomes as chunks finish:

- :class:`SerialExecutor`: in this process (``workers=1``);
- :class:`LocalExecutor`: a pool of forked worker processes (``--workers N``, default the
  number of cores); workers die with their parent, so a killed job leaves no orphans;
- :class:`DaskExecutor`: a Dask cluster (``--scheduler tcp://HOST:PORT``, the ``[dask]``
  extra). Dask reschedules the tasks of a lost worker; each task may also be retried.

:func:`run_tasks` drives a job: it skips tasks whose run file is already in the
:class:`~simulation.research.store.RunStore`, writes each finished run (or its traceback) to the store
as it arrives, and shows progress (runs done, failures, ETA). A task that raises is an
outcome with an error, never the end of the job.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .store import RunStore


@dataclass(frozen=True)
class Task:
    key: str  # deterministic: a hash of what determines the result; names the run file
    fn: Callable[[Any], Any]  # module-level (picklable by reference)
    arg: Any
    cost: float = 1.0  # relative run time; dearest first (shorter jobs when tasks differ in size)


@dataclass
class Outcome:
    key: str
    value: Any = None
    error: str | None = None  # traceback text when the task raised
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def run_chunk(tasks: Sequence[Task]) -> list[Outcome]:
    """Run tasks one after another; an exception becomes the outcome's traceback."""
    outcomes = []
    for task in tasks:
        t0 = time.perf_counter()
        try:
            outcomes.append(Outcome(task.key, task.fn(task.arg), None, time.perf_counter() - t0))
        except Exception:
            outcomes.append(Outcome(task.key, None, traceback.format_exc(), time.perf_counter() - t0))
    return outcomes


def _lost(chunk: Sequence[Task], exc: BaseException, where: str) -> list[Outcome]:
    text = "".join(traceback.format_exception(exc))
    return [Outcome(t.key, None, f"{where}: the task did not finish\n{text}") for t in chunk]


class SerialExecutor:
    """Runs chunks in this process, in order."""

    name = "serial"
    workers = 1

    def map_chunks(self, chunks: Sequence[Sequence[Task]]) -> Iterator[list[Outcome]]:
        for chunk in chunks:
            yield run_chunk(chunk)

    def close(self) -> None:
        pass

    def describe(self) -> dict:
        return {"executor": self.name, "workers": 1}


def _die_with_parent() -> None:
    """Worker initialiser: on Linux, ask the kernel to kill this worker when its parent dies
    (a SIGKILLed job then leaves no orphan workers running)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _mp_context():
    """Fork where the platform has it: workers start with the parent's code already imported
    (Mesa sets the global start method to spawn, which re-imports the package in every worker)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class LocalExecutor:
    """A pool of local worker processes."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)

    def map_chunks(self, chunks: Sequence[Sequence[Task]]) -> Iterator[list[Outcome]]:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        if not chunks:
            return
        n = min(self.workers, len(chunks))
        with ProcessPoolExecutor(max_workers=n, mp_context=_mp_context(), initializer=_die_with_parent) as pool:
            futures = {pool.submit(run_chunk, chunk): chunk for chunk in chunks}
            try:
                for fut in as_completed(futures):
                    try:
                        yield fut.result()
                    except Exception as exc:  # a worker died (e.g. killed for memory): the pool is broken
                        yield _lost(futures[fut], exc, "local worker process")
            finally:
                for fut in futures:
                    fut.cancel()

    def close(self) -> None:
        pass

    def describe(self) -> dict:
        return {"executor": self.name, "workers": self.workers}


class DaskError(RuntimeError):
    """The Dask extra is missing or the scheduler cannot be reached; the message is one line."""


class DaskExecutor:
    """Tasks on a Dask cluster. Each chunk is one Dask task with a deterministic key; results
    come back to this process, which writes the run store (no shared file system needed)."""

    name = "dask"

    def __init__(self, address: str, *, retries: int = 2, timeout: float = 10.0):
        try:
            from distributed import Client
        except ImportError:
            raise DaskError("--scheduler needs Dask: install the extra with pip install 'school-exit[dask]'") from None
        self.address = address
        self.retries = retries
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise DaskError(f"--scheduler {address}: cannot connect ({type(exc).__name__}: {exc})") from None
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))

    def map_chunks(self, chunks: Sequence[Sequence[Task]]) -> Iterator[list[Outcome]]:
        from distributed import as_completed

        if not chunks:
            return
        futures = {}
        for i, chunk in enumerate(chunks):
            key = f"school-exit-{chunk[0].key}-{len(chunk)}"
            fut = self.client.submit(run_chunk, chunk, key=key, pure=False, retries=self.retries, priority=-i)
            futures[fut.key] = (fut, chunk)
        try:
            done = as_completed(
                [f for f, _ in futures.values()], loop=self.client.loop, with_results=True, raise_errors=False
            )
            for fut, result in done:
                chunk = futures[fut.key][1]
                if isinstance(result, BaseException):  # e.g. KilledWorker after repeated worker loss
                    yield _lost(chunk, result, f"Dask cluster {self.address}")
                else:
                    yield result
                fut.release()
        finally:
            for fut, _ in futures.values():
                fut.cancel()

    def close(self) -> None:
        self.client.close()

    def describe(self) -> dict:
        return {"executor": self.name, "scheduler": self.address, "workers": self.workers}


def make_executor(workers: int | None = None, scheduler: str | None = None):
    """Dask when a scheduler address is given, else local processes (serial for one worker)."""
    if scheduler:
        return DaskExecutor(scheduler)
    workers = workers or os.cpu_count() or 1
    return SerialExecutor() if workers == 1 else LocalExecutor(workers)


# --- driving a job ------------------------------------------------------------------------


class Progress:
    """Runs done, failures and an ETA: a tqdm bar on a terminal, else a line every 30 s."""

    def __init__(self, total: int, done: int, desc: str, enabled: bool = True):
        self.total, self.done, self.failed, self.desc = total, done, 0, desc
        self.start_done = done
        self.t0 = self.last = time.monotonic()
        self.bar = None
        self.enabled = enabled and total > done
        if self.enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=desc, unit="run", file=sys.stderr, leave=False)

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed, refresh=False)
        elif self.enabled and time.monotonic() - self.last >= 30:
            self.last = time.monotonic()
            print(self.line(), file=sys.stderr, flush=True)

    def line(self) -> str:
        ran = self.done - self.start_done
        elapsed = time.monotonic() - self.t0
        left = self.total - self.done
        eta = f"{elapsed / ran * left / 60:.1f} min" if ran else "?"
        return f"{self.desc}: {self.done}/{self.total} runs, {self.failed} failed, ETA {eta}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class JobReport:
    total: int  # distinct runs in the job
    already_done: int  # found in the store when the job started
    ran: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # key -> traceback, this time
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # only without a store
    wall_seconds: float = 0.0
    run_seconds: float = 0.0  # summed over the runs done this time

    @property
    def complete(self) -> bool:
        return not self.failed


def chunked(tasks: Sequence[Task], size: int) -> list[list[Task]]:
    size = max(1, size)
    return [list(tasks[i : i + size]) for i in range(0, len(tasks), size)]


def auto_chunk_size(n_tasks: int, workers: int, cheap: bool) -> int:
    """One task per chunk for model runs; for cheap functions, about 50 chunks per worker."""
    if not cheap:
        return 1
    return max(1, min(512, n_tasks // (workers * 50)))


def run_tasks(
    tasks: Iterable[Task],
    executor=None,
    *,
    store: RunStore | None = None,
    chunk_size: int = 1,
    desc: str = "runs",
    progress: bool | Callable[[int, int], None] = True,
) -> JobReport:
    """Run every task whose key the store does not hold yet; record each outcome as it arrives.

    Without a store, outcomes are kept in memory (``report.outcomes``). Tasks with the same key
    run once. The order of submission is dearest first, then job order; nothing about the
    results depends on it.
    """
    t0 = time.perf_counter()
    executor = executor or SerialExecutor()
    unique: dict[str, Task] = {}
    for task in tasks:
        unique.setdefault(task.key, task)
    done = store.done_keys() & set(unique) if store is not None else set()
    todo = [t for t in unique.values() if t.key not in done]
    todo.sort(key=lambda t: -t.cost)  # stable: equal costs keep job order
    report = JobReport(total=len(unique), already_done=len(done))
    callback = progress if callable(progress) else None
    bar = Progress(len(unique), len(done), desc, enabled=progress is True)
    try:
        for outcomes in executor.map_chunks(chunked(todo, chunk_size)):
            for o in outcomes:
                if store is not None:
                    if o.ok:
                        store.write(o.key, o.value, o.seconds)
                    else:
                        store.fail(o.key, o.error or "")
                else:
                    report.outcomes[o.key] = o
                if not o.ok:
                    report.failed[o.key] = o.error or ""
                report.ran += 1
                report.run_seconds += o.seconds
                bar.update(o.ok)
                if callback:
                    callback(bar.done, bar.total)
    finally:
        bar.close()
    report.wall_seconds = time.perf_counter() - t0
    return report

"""Writing results: tables as Parquet and CSV, a manifest, and the resumable run store.

Every file is written atomically (a temporary file beside it, flushed and fsynced, then
renamed over), so a reader never sees half a file, even after a SIGKILL or a power cut, and
ends with the mode the umask gives, as any other file would.

The run store (:class:`RunStore`) is one directory per job::

    runs/manifest.json        the job: what it runs, its hashes, the package version and commit
    runs/<key>.pkl            one file per finished run (its result), named by the run's key
    runs/failed/<key>.txt     the traceback of a run that raised

A run's key is a hash of everything that determines its result (model, parameters, seed),
so re-running a job skips every run whose file exists and runs only what is missing.
A failed run is retried when the job is run again (the failure may have been a lost
worker or a full disk); a run that succeeds removes its failure record.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import platform
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas costs 0.3 s to import, and `school-exit --help` needs this module
    import pandas as pd


def _file_mode() -> int:
    """The mode an ordinary ``open(path, "w")`` would give: 0o666 less the process's umask.

    ``mkstemp`` creates its file 0600 whatever the umask, so without this every result would be
    private to its owner and colleagues on a shared server could not open a report. The umask is
    read from /proc (Linux, a few microseconds) where it can be, since ``os.umask`` can only be
    read by setting it, which briefly changes it for every thread; that swap is the fallback,
    done once per process."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o666 & ~_swapped_umask()


@functools.cache
def _swapped_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers never see half a file.
    The file ends with the mode the umask gives (see :func:`_file_mode`), not mkstemp's 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # POSIX; on Windows the mode bits do not apply
            os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: fsync the directory entry (POSIX; a no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_table(df: pd.DataFrame, out: Path, name: str) -> None:
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    atomic_write_bytes(out / f"{name}.parquet", buf.getvalue())
    atomic_write_bytes(out / f"{name}.csv", df.to_csv(index=False).encode())


OUTPUT_TABLES = ("years", "weeks", "summary", "events")


def remove_outputs(out: Path) -> None:
    """Delete the files an earlier job wrote into ``out`` (tables, manifest, figures), nothing else."""
    for name in OUTPUT_TABLES:
        for ext in ("parquet", "csv"):
            (out / f"{name}.{ext}").unlink(missing_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    figures = out / "figures"
    if figures.is_dir():
        for f in figures.iterdir():
            if f.is_file():
                f.unlink()


def write_json(obj: dict, path: Path) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())


def _git(*args: str) -> str | None:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def git_commit() -> str | None:
    """HEAD of the package's checkout, with ``+dirty`` when the package has uncommitted changes."""
    head = _git("rev-parse", "HEAD")
    if not head:
        return None
    dirty = _git("status", "--porcelain", "--", ".")
    return f"{head}+dirty" if dirty else head


def package_version() -> str:
    try:
        return metadata.version("school-exit")
    except metadata.PackageNotFoundError:
        return "unknown"


# The files a run's result depends on: the model, the scenario layer, the data, and the modules
# that turn a run into the values a job stores. Reports, plots, the CLI and the samplers are left
# out, so that editing them does not make a resumed job redo finished runs.
RUN_CODE = (
    "model",
    "policy",
    "data",
    "research/runner.py",
    "research/sensitivity.py",
    "research/npe_runs.py",
)


@functools.cache
def code_sha256() -> str:
    """A hash of the source and data files that determine a run (:data:`RUN_CODE`), as on disk now.

    It is part of every run's key, so a resumed job never reuses a run that other code produced:
    the version number does not change when the model does (and a checkout may be uncommitted)."""
    root = Path(__file__).resolve().parents[1]  # the simulation package
    files = []
    for part in RUN_CODE:
        path = root / part
        files += [p for p in path.rglob("*") if p.suffix in (".py", ".csv")] if path.is_dir() else [path]
    digest = hashlib.sha256()
    for path in sorted(set(files)):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_version() -> str:
    """What run keys record of the code: the version number and the first 16 digits of :func:`code_sha256`."""
    return f"{package_version()}+{code_sha256()[:16]}"


def environment() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "package_version": package_version(),
        "code_sha256": code_sha256(),
        "git_commit": git_commit(),
    }


def sha256_json(obj) -> str:
    """A stable hash of a JSON-able object (keys sorted)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class RunStoreError(ValueError):
    """A run store that cannot be used (unreadable run file); the message names the file."""


class RunStore:
    """One directory per job: a manifest, one file per finished run, one per failed run."""

    RUN_SUFFIX = ".pkl"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.failed_dir = self.root / "failed"

    def open(self, manifest: dict) -> dict:
        """Create the directory, remove temporary files a killed writer left, and write the job
        manifest. Returns the manifest found there before (empty for a new store)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in [*self.root.glob(".*.tmp"), *self.failed_dir.glob(".*.tmp")]:
            leftover.unlink(missing_ok=True)
        path = self.root / "manifest.json"
        previous = {}
        if path.is_file():
            try:
                previous = json.loads(path.read_text())
            except (OSError, ValueError):
                previous = {}
        write_json(manifest, path)
        return previous

    def path(self, key: str) -> Path:
        return self.root / f"{key}{self.RUN_SUFFIX}"

    def done_keys(self) -> set[str]:
        """Keys of every finished run (one directory listing)."""
        if not self.root.is_dir():
            return set()
        n = len(self.RUN_SUFFIX)
        return {p.name[:-n] for p in self.root.iterdir() if p.name.endswith(self.RUN_SUFFIX) and p.is_file()}

    def write(self, key: str, value, seconds: float = 0.0) -> None:
        """Record a finished run (atomically), and drop any earlier failure record of it."""
        record = {"key": key, "seconds": seconds, "value": value}
        atomic_write_bytes(self.path(key), pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        (self.failed_dir / f"{key}.txt").unlink(missing_ok=True)

    def fail(self, key: str, error: str) -> None:
        atomic_write_bytes(self.failed_dir / f"{key}.txt", error.encode())

    def load(self, key: str) -> dict:
        """The record of a finished run: ``{"key", "seconds", "value"}``.

        An unreadable file (it cannot happen through this class, but disks fail) is deleted,
        so that running the job again redoes that run, and reported."""
        path = self.path(key)
        try:
            return pickle.loads(path.read_bytes())
        except Exception as exc:
            path.unlink(missing_ok=True)
            raise RunStoreError(
                f"{path}: unreadable run file ({type(exc).__name__}); it was removed: run the same command "
                "again to redo that run"
            ) from None

    def failures(self) -> dict[str, str]:
        """Traceback text of every failed run, by key."""
        if not self.failed_dir.is_dir():
            return {}
        return {p.stem: p.read_text() for p in sorted(self.failed_dir.glob("*.txt"))}

"""Writing results: tables as Parquet and CSV, and a manifest, each file written atomically."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def environment() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "package_version": package_version(),
        "git_commit": git_commit(),
    }

"""Helpers for the calibration tests: the small calibration file, copied and edited per test."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@pytest.fixture
def small_config(tmp_path: Path):
    """Write ``npe_small.toml`` with ``changes`` to its top-level keys into tmp_path, its paths
    still pointing at the repository's targets and scenario."""

    def write(name: str = "cal.toml", **changes) -> Path:
        lines = []
        for line in (HERE / "npe_small.toml").read_text().splitlines():
            key = line.split("=")[0].strip()
            if key in changes:
                line = f"{key} = {changes.pop(key)}"
            elif key in ("targets", "scenario"):
                line = (
                    f'{key} = "{(ROOT / "calibration" / (key + (".csv" if key == "targets" else ".toml"))).as_posix()}"'
                )
            lines.append(line)
        path = tmp_path / name
        path.write_text("\n".join([f"{k} = {v}" for k, v in changes.items()] + lines) + "\n")
        return path

    return write

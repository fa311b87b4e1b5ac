"""Helpers for the calibration tests: the toy problem's files, copied and edited per test."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def toy_config(tmp_path: Path):
    """Write the toy calibration file (with ``changes`` to its top-level keys) beside its targets."""

    def write(name: str = "toy.toml", **changes) -> Path:
        text = (HERE / "toy.toml").read_text()
        lines = []
        for line in text.splitlines():
            key = line.split("=")[0].strip()
            if key in changes:
                value = changes.pop(key)
                line = f"{key} = {value}"
            lines.append(line)
        extra = [f"{k} = {v}" for k, v in changes.items()]
        path = tmp_path / name
        path.write_text("\n".join(extra + lines) + "\n")
        (tmp_path / "toy_targets.csv").write_text((HERE / "toy_targets.csv").read_text())
        return path

    return write

"""Helpers for the sweep tests: experiment files written to a temporary directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # sweep_models, for in-process and forked runs
    sys.path.insert(0, str(HERE))

PI = 3.141592653589793

ISHIGAMI_BOUNDS = f"""
[parameters.bounds]
x1 = [-{PI}, {PI}]
x2 = [-{PI}, {PI}]
x3 = [-{PI}, {PI}]
"""


def function_experiment(function: str, *, method="sobol", samples=64, seeds=1, noise_seeds=0, extra="") -> str:
    return (
        f'name = "t"\nmethod = "{method}"\nsamples = {samples}\nseeds = {seeds}\nseed = 1\n'
        f'noise_seeds = {noise_seeds}\noutputs = ["y"]\n{extra}\n[model]\nfunction = "{function}"\n' + ISHIGAMI_BOUNDS
    )


@pytest.fixture
def write_experiment(tmp_path: Path):
    def write(text: str, name: str = "exp.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write

"""Speed budget of the issue: the baseline and three packages, 20 paired replicates each, on the reference
LA at scale 0.25, in under 2 minutes on 2 cores (run with `make test-slow` on an otherwise idle machine)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simulation.analysis.compare import compare

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
PACKAGES = ["package_childrens_commissioner.toml", "package_send_reform.toml", "package_enforcement_first.toml"]


@pytest.mark.slow
def test_baseline_and_three_packages_in_under_two_minutes_on_two_cores():
    t0 = time.perf_counter()
    c = compare(SCENARIOS / "baseline.toml", [SCENARIOS / p for p in PACKAGES], replicates=20, scale=0.25, workers=2)
    seconds = time.perf_counter() - t0
    print(f"compare: 80 runs in {seconds:.1f} s on 2 workers")
    assert len(c["summary"]) == 80
    assert seconds < 120

"""``benchmarks/bench.py --against REV``: paired timings of a git revision and the working tree.

Timings are not asserted (speed is measured by the benchmark, not by tests); what is checked is
that the comparison runs both trees, reports every pair and the median, refuses a revision that
is not a commit with one clear line, and leaves no git worktree behind either way.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench.py"


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


pytestmark = pytest.mark.skipif(
    git("rev-parse", "--verify", "--quiet", "HEAD").returncode != 0, reason="needs the git repository"
)


def worktrees() -> list[str]:
    return [line for line in git("worktree", "list", "--porcelain").stdout.splitlines() if line.startswith("worktree ")]


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_against_head_reports_each_pair_and_the_median_and_cleans_up():
    before = worktrees()
    done = bench("--against", "HEAD", "--pairs", "2", "--quick")
    assert done.returncode == 0, done.stderr
    pairs = re.findall(r"^\s+(\d+)\s+([\d.]+) s\s+([\d.]+) s\s+([\d.]+)$", done.stdout, re.MULTILINE)
    assert [p[0] for p in pairs] == ["1", "2"]
    for _, theirs, ours, ratio in pairs:
        a, b = float(ours), float(theirs)
        assert a > 0 and b > 0
        # All three are printed to 3 places (each off by up to 5e-4), so ours / theirs may differ from
        # the printed ratio by up to (a / b) * (5e-4 / a + 5e-4 / b) + 5e-4.
        assert abs(float(ratio) - a / b) <= (a / b) * (5e-4 / a + 5e-4 / b) + 5e-4 + 1e-9
    median = re.search(r"^median ratio, working tree / HEAD: ([\d.]+) ", done.stdout, re.MULTILINE)
    assert median, done.stdout
    assert float(median.group(1)) == pytest.approx(sum(float(p[3]) for p in pairs) / 2, abs=2e-3)
    assert worktrees() == before


def test_against_an_unknown_revision_fails_with_one_line_and_no_worktree():
    before = worktrees()
    done = bench("--against", "no-such-revision-here", "--quick")
    assert done.returncode == 2
    expected = f"error: --against no-such-revision-here: not a commit of the git repository at {ROOT}"
    assert done.stderr.strip() == expected
    assert done.stdout == ""
    assert worktrees() == before

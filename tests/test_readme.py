"""The README's commands and code run as written.

Every ```python block in README.md is executed, in order and in one namespace (later blocks may use
names from earlier ones), from the repository root so that paths such as ``scenarios/baseline.toml``
resolve. The quick start's ``make demo`` and ``make test`` must exist as Makefile targets, and CI
must run ``make test``.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def readme_text() -> str:
    assert README.is_file(), "README.md is missing: the quick start and user guide live there"
    return README.read_text(encoding="utf-8")


def python_blocks() -> list[str]:
    return FENCE.findall(readme_text())


def test_readme_has_python_examples():
    assert python_blocks(), "README.md has no ```python examples"


def test_readme_python_blocks_run(monkeypatch, tmp_path):
    blocks = python_blocks()
    assert blocks
    monkeypatch.chdir(ROOT)  # scenarios/ and calibration/ resolve as in the README
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__readme__"}
    for i, block in enumerate(blocks, start=1):
        try:
            exec(compile(block, f"README.md python block {i}", "exec"), namespace)
        except Exception as exc:  # name the block so a failure points at the README
            pytest.fail(f"README.md python block {i} failed: {type(exc).__name__}: {exc}\n---\n{block}")


def test_quick_start_commands_exist():
    text = readme_text()
    assert "make demo" in text
    assert "make test" in text
    # The two-command quick start comes first: both appear in the first 3,000 characters.
    head = text[:3000]
    assert "make demo" in head and "make test" in head


def test_makefile_has_the_quick_start_targets():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w-]*)\s*:", makefile, re.MULTILINE))
    assert {"demo", "test"} <= targets
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert phony and {"demo", "test"} <= set(phony.group(1).split())


def test_ci_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert ci.is_file()
    commands = [
        line.strip() for line in ci.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "make test" in commands


def test_module_map_names_every_module():
    """A newcomer finds code through the README's module map: a module missing from it is hidden.
    Modules are named by their room (``model/world.py``); a folder entry (``model/dynamics/``)
    covers the modules inside it."""
    table = readme_text().split("| module | owns |", 1)[1].split("\n\n", 1)[0]
    listed = {name.removeprefix("simulation/") for name in re.findall(r"`([\w/]+(?:\.py|/))`", table)}
    folders = {name for name in listed if name.endswith("/")}
    package = ROOT / "simulation"
    modules = {
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if p.name != "__init__.py" or p.parent == package
    } - {"__init__.py"}
    hidden = sorted(m for m in modules - listed if not any(m.startswith(f) for f in folders))
    assert not hidden, f"not in the README's module map: {hidden}"
    rooms = {p.parent.relative_to(package).as_posix() for p in package.glob("*/__init__.py")}
    assert rooms <= {f.rstrip("/") for f in folders}, "every subpackage has a row of its own"
    assert len(modules) > 30  # the map is checked against the real tree, not an empty glob

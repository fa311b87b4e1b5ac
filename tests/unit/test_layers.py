"""The package's rooms and the one way imports run between them (see each subpackage's docstring).

Every ``import`` in ``simulation/`` is read with ``ast``, lazy ones inside functions included, so
a deferred import cannot hide a dependency that runs the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "simulation"
LAYERS = ("model", "policy", "research", "analysis", "present", "cli")  # bottom to top
MESA_ADAPTERS = {"simulation.model.mesa_core", "simulation.model.agents", "simulation.model.mesa_model"}


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(module: str) -> set[str]:
    """Modules ``module`` imports: ``from pkg import sub`` counts as ``pkg.sub`` when that is a module."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return found


GRAPH = {m: {t for t in _imports(m) if t in MODULES} for m in MODULES}
EXTERNAL = {m: {t.partition(".")[0] for t in _imports(m) if not t.startswith("simulation")} for m in MODULES}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_lives_in_a_room():
    homeless = [m for m in MODULES if m != "simulation" and _layer(m) is None]
    assert not homeless, f"modules outside the subpackages {LAYERS}: {homeless}"
    for room in LAYERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / room / "__init__.py").read_text()))
        assert doc and "May import" in doc, f"simulation/{room}/__init__.py must say what it may import"


def test_imports_run_downward_only():
    upward = [
        f"{src} (layer {LAYERS[_layer(src)]}) imports {dst} (layer {LAYERS[_layer(dst)]})"
        for src, targets in GRAPH.items()
        if _layer(src) is not None
        for dst in targets
        if _layer(dst) is not None and _layer(dst) > _layer(src)
    ]
    assert not upward, "\n".join(upward)


def test_the_facade_is_imported_by_no_module_of_the_package():
    users = [m for m, targets in GRAPH.items() if "simulation" in targets and m != "simulation"]
    assert not users, f"import from the room, not from the top-level facade: {users}"


def _cycle() -> list[str] | None:
    """One import cycle among modules (package ``__init__`` files re-exporting their own
    submodules excepted: Python loads those in order), or None."""
    edges = {
        m: {t for t in ts if not (MODULES[m].name == "__init__.py" and t.startswith(m + "."))}
        for m, ts in GRAPH.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                return [*stack[stack.index(t) :], t]
            if t not in state and (found := visit(t)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycles():
    cycle = _cycle()
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_check_can_fail():
    GRAPH["simulation.model.state"].add("simulation.model.world")  # world imports state
    try:
        assert _cycle() is not None
    finally:
        GRAPH["simulation.model.state"].discard("simulation.model.world")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("simulation.model.")))
def test_model_phases_know_nothing_of_mesa(module):
    """Only the Mesa adapters import Mesa or each other; the phases take a World."""
    if module in MESA_ADAPTERS:
        return
    assert "mesa" not in EXTERNAL[module], f"{module} imports Mesa"
    assert not GRAPH[module] & MESA_ADAPTERS, f"{module} imports {sorted(GRAPH[module] & MESA_ADAPTERS)}"


def test_function_paths_written_before_the_split_still_resolve():
    """Experiment and calibration files name functions by module path; files written against the
    flat package keep loading."""
    from simulation.research.experiment import resolve_function
    from simulation.research.sensitivity import ishigami

    assert resolve_function("simulation.sensitivity:ishigami") is ishigami

"""The scenario files: one per lever, three packages, all valid, and a README catalogue that is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.analysis.compare import validate_file
from simulation.policy.registry import REGISTRY, find_conflict
from simulation.present.report import CATALOGUE_BEGIN, CATALOGUE_END, scenario_catalogue

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_file_is_valid_and_extends_the_baseline(path):
    s = validate_file(path)
    assert s.description and s.name == path.stem.removeprefix("package_")
    if path.stem != "baseline":
        assert 'extends = "baseline.toml"' in path.read_text()
        # a change: interventions, or the parent's parameters replaced by posterior draws (or their draws
        # switched off: baseline_handset.toml)
        assert s.interventions or "posterior = " in path.read_text(), f"{path.name} changes nothing"
    assert find_conflict(s.interventions) is None


def test_one_file_per_lever_and_three_packages():
    singles = {validate_file(p).interventions[0].type for p in FILES if not p.stem.startswith(("package", "baseline"))}
    assert set(REGISTRY) <= singles, f"levers without a file: {sorted(set(REGISTRY) - singles)}"
    packages = [validate_file(p) for p in FILES if p.stem.startswith("package_")]
    assert len(packages) >= 3 and all(len(p.interventions) >= 3 for p in packages)
    assert len({s.name for s in map(validate_file, FILES)}) == len(FILES)


def test_every_intervention_documents_fields_source_and_cost():
    for kind, cls in REGISTRY.items():
        d = cls.describe()
        assert d["title"] and d["source"] and d["what"], kind
        assert d["cost_basis"], kind
        for name, f in d["fields"].items():  # every field has bounds around its default
            assert f["default"] is None or f["low"] <= f["default"] <= f["high"], (kind, name)
            assert f["unit"] and f["meaning"], (kind, name)
    not_costed = {k for k, c in REGISTRY.items() if not c.cost_basis}
    # enforcement rules: LA time against notice revenue, with no published net cost
    assert not_costed == {"accountability_reform", "penalty_notice_tightening"}


def test_readme_catalogue_is_current():
    text = (SCENARIOS / "README.md").read_text()
    generated = text[text.index(CATALOGUE_BEGIN) + len(CATALOGUE_BEGIN) : text.index(CATALOGUE_END)].strip()
    assert generated == scenario_catalogue(SCENARIOS), "run: python -m simulation.present.report scenarios"
    for path in FILES:
        assert f"`{path.name}`" in text
    for kind in REGISTRY:
        assert f"| `{kind}` |" in text

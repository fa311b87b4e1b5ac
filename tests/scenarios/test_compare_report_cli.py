"""`school-exit compare` then `school-exit report`, end to end on a tiny LA, and the API it mirrors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from simulation.analysis.compare import compare
from simulation.cli import main

BASE = """name = "base"
description = "A tiny LA."
years = 2
burn_in = 0
replicates = 3
seed = 5
[population]
n_pupils = 2500
n_primary = 6
n_secondary = 2
n_special = 1
"""
POLICY = """extends = "base.toml"
name = "mentors_and_funding"
description = "Mentors and more support."
[[interventions]]
type = "attendance_mentors"
start_year = 0
places_per_10k = 200
[[interventions]]
type = "support_funding"
start_year = 0
change = 0.2
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "base.toml").write_text(BASE)
    (folder / "policy.toml").write_text(POLICY)
    out = folder / "out"
    assert (
        main(["compare", str(folder / "base.toml"), str(folder / "policy.toml"), "--out", str(out), "--workers", "2"])
        == 0
    )
    assert main(["report", str(out)]) == 0
    return out


def test_compare_prints_the_headline_and_crn(tmp_path, capsys):
    (tmp_path / "base.toml").write_text(BASE.replace("replicates = 3", "replicates = 2"))
    (tmp_path / "policy.toml").write_text(POLICY)
    assert (
        main(
            [
                "compare",
                str(tmp_path / "base.toml"),
                str(tmp_path / "policy.toml"),
                "--out",
                str(tmp_path / "o"),
                "--years",
                "1",
                "-j",
                "1",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "difference (90% CI)" in text and "children_leaving_per_1000" in text
    # the CRN line: how much narrower the paired interval is (or that it has zero width)
    assert re.search(r"paired interval [\d.]+x narrower|zero-width paired interval", text)
    # the cost line, rounded with its interval; a cost per child kept on a roll only where the net is positive
    cost = re.search(
        r"mentors_and_funding: (-?[\d.,]+) \(.*?\); GBP [\d.,]+(?: \w+)? a year \(GBP .*? to GBP .*?\)"
        r"(; GBP [\d.,]+(?: \w+)? per child kept on a roll \(GBP .*? to GBP .*?\))?",
        text,
    )
    assert cost, text
    assert (cost.group(2) is not None) == (float(cost.group(1).replace(",", "")) > 0)


def test_compare_writes_tables_and_manifest(results):
    manifest = json.loads((results / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["baseline"] == "base"
    assert manifest["seeds"] == [5, 6, 7] and manifest["replicates"] == 3
    described = manifest["scenarios"][1]["interventions_described"]
    assert [d["type"] for d in described] == ["attendance_mentors", "support_funding"]
    assert described[0]["settings"]["places_per_10k"] == 200 and "York Consulting" in described[0]["source"]
    for name in (
        "metrics",
        "summary",
        "years",
        "weeks",
        "exit_routes",
        "averted",
        "averted_summary",
        "displacement_summary",
        "equality_summary",
        "costs",
        "cost_summary",
        "ehcp_waits",
    ):
        assert (results / f"{name}.parquet").exists() and (results / f"{name}.csv").exists(), name


def test_the_python_api_mirrors_the_command_line(results):
    folder = results.parent
    api = compare(folder / "base.toml", [folder / "policy.toml"], workers=1)
    written = pd.read_parquet(results / "metrics.parquet")
    pd.testing.assert_frame_equal(api["metrics"].reset_index(drop=True), written, check_dtype=False)


def test_report_is_one_offline_page_with_every_figure(results):
    page = (results / "report.html").read_text()
    figures = sorted((results / "figures").glob("*.png"))
    names = {p.stem for p in figures}
    assert {
        "forest",
        "exit_routes",
        "waterfall_mentors_and_funding",
        "ehcp_waits",
        "equality",
        "effect_children_leaving_per_1000",
    } <= names
    for p in figures:  # each figure also as SVG with the CSV of its numbers
        assert p.with_suffix(".svg").exists() and p.with_suffix(".csv").exists()
    assert page.count("src='data:image/png;base64,") == len(figures)
    # Nothing is fetched: no external scripts, styles, images or fonts.
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)
    assert "<script" not in page and "@import" not in page
    for text in (
        "Caveats",
        "assumption",
        "hand-tuned",
        "targets in range",
        "Mentors and more support.",
        "York Consulting",
        "paired difference",
        "Glossary",
        "net averted",
        "In plain words",
        "children a year stay on a school roll",
        "Mentors and funding",  # the scenario's title for people, not its snake_case name
    ):
        assert text in page, text

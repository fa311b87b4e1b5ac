"""The report's words come from the model: its parameter counts are the README's, its glossary is
the count catalogue, and its summary's numbers are the cost table's."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from simulation.model.metrics import COUNTS
from simulation.present import report_text

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_caveats_counts_are_the_readmes():
    text = README.read_text()
    m = re.search(r"Each of the (\d+) parameters .*?\((\d+) uncertain, (\d+) policy levers\).*? (\d+) of them", text)
    assert m, "README no longer states the parameter counts in the expected sentence"
    stated = dict(zip(("parameters", "uncertain", "levers", "assumption"), map(int, m.groups()), strict=True))
    counts = report_text.parameter_counts()
    assert {k: counts[k] for k in stated} == stated


def test_the_glossary_is_the_count_catalogue():
    page = report_text.glossary()
    for name in COUNTS:
        assert f"<b>{name}</b>" in page


def test_the_summary_says_the_cost_tables_numbers_in_words():
    cs = pd.DataFrame(
        [
            {
                "scenario": "childrens_commissioner",
                "net_averted_per_year": 156.4,
                "net_averted_lo": 121.0,
                "net_averted_hi": 190.2,
                "cost_estimated": True,
                "cost_gbp_per_year": 5_547_230.0,
                "gbp_per_exit_averted": 35_468.0,
            },
            {
                "scenario": "enforcement_first",
                "net_averted_per_year": -78.0,
                "net_averted_lo": -120.0,
                "net_averted_hi": 4.0,
                "cost_estimated": False,
                "cost_gbp_per_year": 0.0,
                "gbp_per_exit_averted": float("nan"),
            },
        ]
    )
    years = pd.DataFrame({"scenario": ["baseline"] * 2, "n_pupils": [80_000.0, 80_000.0]})
    page = report_text.summary(
        {"cost_summary": cs, "years": years},
        {
            "baseline": "baseline",
            "scenarios": [
                {"name": "childrens_commissioner", "source": "scenarios/package_childrens_commissioner.toml"}
            ],
        },
    )
    assert "<b>Children&#x27;s Commissioner package.</b>" in page  # its title for people, HTML-escaped
    assert "In an authority of 80,000 pupils, about <b>160 more children a year stay on a school roll</b>" in page
    assert "(90% interval 120 to 190 net children kept; the whole interval is on this side of zero)" in page
    assert "GBP 5.5 million a year" in page and "GBP 35 thousand for each child kept on a roll" in page
    assert "about <b>78 fewer children a year" in page and "the interval includes zero" in page


def test_money_and_titles_for_people():
    assert report_text.money(5_547_230) == "GBP 5.5 million"
    assert report_text.money(157_934) == "GBP 160 thousand"
    assert report_text.money(950) == "GBP 950"
    assert report_text.count(1021.0) == "1,000" and report_text.count(-98.8) == "-99" and report_text.count(7.4) == "7"


def _manifest(types: list[str], posterior: bool = False) -> dict:
    from simulation.policy.registry import REGISTRY

    policy = {
        "name": "policy",
        "scale": 0.5,
        "interventions_described": [{**REGISTRY[t].describe(), "settings": {}} for t in types],
    }
    base = {"name": "baseline", "scale": 0.5}
    if posterior:
        base["posterior"] = policy["posterior"] = {"sha256": "ab" * 32, "particle": None}
    return {"baseline": "baseline", "scenarios": [base, policy]}


def test_the_caveats_are_built_from_the_registry_the_manifest_and_the_levers():
    from simulation.policy.registry import REGISTRY

    years = pd.DataFrame({"scenario": ["baseline"], "academic_year": [2023], "ehe_census_pct": [1.2]})
    types = ["support_first_attendance", "penalty_notice_tightening"]  # the levers issue 20 found missing
    page = report_text.caveats({"years": years}, _manifest(types))
    c = report_text.parameter_counts()
    assert (
        f"{c['assumption']} of the model's {c['parameters']} parameters ({c['uncertain']} uncertain,\n"
        f"{c['levers']} policy levers)" in page
    )
    for t in types:
        cls = REGISTRY[t]
        assert cls.title in page
        for p in cls.acts_through:  # what the lever's effect rests on, from the registry
            assert f"<code>{p}</code>" in page, (t, p)
    assert "No scenario compared here names a calibrated posterior" in page
    assert "chance only" in page  # nothing drawn: the intervals are chance
    with_posterior = report_text.caveats({"years": years}, _manifest(types, posterior=True))
    assert "calibrated posterior (sha256 abababababab)" in with_posterior
    assert "No scenario compared here" not in with_posterior

"""The model's outputs for a fixed small case and seed, against a committed baseline.

The model is deterministic, so the tolerance is tight (relative 1e-9). When a change is meant to
move the numbers, regenerate the baseline deliberately with
``python tests/regression/update_baseline.py`` and commit it with the change.
"""

import importlib.util
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPDATE = "python tests/regression/update_baseline.py"


def _load_case_module():
    spec = importlib.util.spec_from_file_location("update_baseline", HERE / "update_baseline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


case = _load_case_module()


def test_baseline_file_describes_the_case_the_test_runs():
    assert case.BASELINE.exists(), f"no regression baseline: run `{UPDATE}` to create it"
    stored = json.loads(case.BASELINE.read_text())
    expected = json.loads(json.dumps({"scenario": case.CASE.to_dict(), "seed": case.SEED}))
    assert stored["case"] == expected, (
        f"the regression case changed since the baseline was written; if intended, run `{UPDATE}`"
    )


def test_outputs_match_the_baseline():
    stored = json.loads(case.BASELINE.read_text())
    now = json.loads(json.dumps(case.current()))
    diffs = case.differences(stored, now, rtol=1e-9)
    listing = "\n".join(f"  {key}: baseline {old!r}, now {new!r}" for key, old, new in diffs[:25])
    more = f"\n  ... and {len(diffs) - 25} more" if len(diffs) > 25 else ""
    assert not diffs, (
        f"{len(diffs)} output(s) differ from tests/regression/baseline.json:\n{listing}{more}\n"
        f"If this change is intended, regenerate the baseline with `{UPDATE}` "
        "and commit it with the change."
    )


def test_the_comparison_catches_a_change():
    # The comparison itself must not be vacuous: a change in the 10th significant digit is caught.
    stored = json.loads(case.BASELINE.read_text())
    tweaked = json.loads(json.dumps(stored))
    key = next(k for k, v in tweaked["summary"].items() if isinstance(v, float) and v != 0)
    tweaked["summary"][key] *= 1 + 1e-8
    assert [d[0] for d in case.differences(stored, tweaked)] == [f"summary.{key}"]
    assert case.differences(stored, stored) == []

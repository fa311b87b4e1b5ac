"""Published statistics the model is checked against, and the comparison table.

The targets live in ``data/england_targets.csv`` (one row per published figure:
``id, metric, value, low, high, unit, period, source, url, notes``). ``metric`` names
a column of the ``years`` (or ``summary``) table, so a comparison is a lookup.

A model value is *in range* when it lies in ``[low, high]``, else *BELOW* or *ABOVE* the
range; ``off_by_pct`` says how far, from the nearest end of the range, in % of the published
value (0 in range). Only "in range" is a fit: there is no "nearly". A metric the table does not
have (or has only as missing values) is *not modelled*.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

TARGETS_CSV = Path(__file__).resolve().parents[1] / "data" / "england_targets.csv"
TARGET_COLUMNS = [
    "id",
    "metric",
    "value",
    "low",
    "high",
    "unit",
    "period",
    "source",
    "url",
    "notes",
]

NEAREST_YEARS = 2  # a target this many years from a reported year is compared with it
IN_RANGE = "in range"
BELOW = "BELOW range"
ABOVE = "ABOVE range"
NOT_MODELLED = "not modelled"
STATUSES = (IN_RANGE, BELOW, ABOVE, NOT_MODELLED)

COMPARISON_COLUMNS = [
    "id",
    "metric",
    "value",
    "low",
    "high",
    "model_mean",
    "model_p5",
    "model_p95",
    "n_rows",
    "status",
    "off_by_pct",
    "unit",
    "period",
]


@cache
def _load(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"id": str, "metric": str})
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    return df


def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """The published targets, one row per figure (a fresh copy)."""
    return _load(str(path or TARGETS_CSV)).copy()


def status_of(model: float, value: float, low: float, high: float) -> str:
    if model is None or not np.isfinite(model):
        return NOT_MODELLED
    if model < low:
        return BELOW
    if model > high:
        return ABOVE
    return IN_RANGE


def off_by_pct(model: float, value: float, low: float, high: float) -> float:
    """Distance from the nearest end of the range in % of the published value (negative below)."""
    if model is None or not np.isfinite(model):
        return float("nan")
    gap = min(model - low, 0.0) + max(model - high, 0.0)
    return 100.0 * gap / abs(value) if value else float("nan")


def compare_to_targets(years_or_summary: pd.DataFrame, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each target against the model: mean, 5th and 95th percentile over all rows, and a status.

    A target with an ``academic_year`` (2023 for 2023/24) is compared with the model's rows for
    that year (a census in autumn 2023 with the 2023/24 year); for a year the run did not report
    (a 2022/23 figure against a run reporting from 2023/24) with the nearest reported year if it is
    at most ``NEAREST_YEARS`` away, else the target is not modelled by that run: the drivers make
    the years differ. A target without a year, or a table without years, uses all rows.

    ``years_or_summary`` is a ``years`` table (rows are run-years) or a ``summary`` table
    (rows are runs); missing values (e.g. a ratio with an empty denominator) are skipped.
    """
    targets = load_targets() if targets is None else targets
    rows = []
    has_years = "academic_year" in years_or_summary.columns
    for t in targets.itertuples(index=False):
        rows_for = years_or_summary
        year = getattr(t, "academic_year", np.nan)
        if has_years and pd.notna(year):
            reported = years_or_summary["academic_year"].to_numpy()
            nearest = reported[np.argmin(np.abs(reported - int(year)))]
            near = abs(int(nearest) - int(year)) <= NEAREST_YEARS
            rows_for = years_or_summary[(reported == nearest) & near]
        col = rows_for[t.metric] if t.metric in rows_for.columns else None
        vals = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float) if col is not None else np.array([])
        vals = vals[np.isfinite(vals)]
        if len(vals):
            mean, p5, p95 = float(vals.mean()), *(float(x) for x in np.percentile(vals, [5, 95]))
        else:
            mean = p5 = p95 = np.nan
        rows.append(
            {
                "id": t.id,
                "metric": t.metric,
                "value": float(t.value),
                "low": float(t.low),
                "high": float(t.high),
                "model_mean": mean,
                "model_p5": p5,
                "model_p95": p95,
                "n_rows": len(vals),
                "status": status_of(mean, float(t.value), float(t.low), float(t.high)),
                "off_by_pct": off_by_pct(mean, float(t.value), float(t.low), float(t.high)),
                "unit": t.unit,
                "period": t.period,
            }
        )
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def count_line(comparison: pd.DataFrame) -> str:
    """One line: ``14 of 20 targets in range; 6 out of range (4 below, 2 above)`` (and any not modelled)."""
    counts = comparison["status"].value_counts()
    n = len(comparison)
    below, above = counts.get(BELOW, 0), counts.get(ABOVE, 0)
    line = (
        f"{counts.get(IN_RANGE, 0)} of {n} targets in range; "
        f"{below + above} out of range ({below} below, {above} above)"
    )
    if counts.get(NOT_MODELLED, 0):
        line += f", {counts[NOT_MODELLED]} not modelled"
    return line


def _fmt_cell(v: object, digits: int) -> str:
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        v = float(v)
        if not np.isfinite(v):
            return "-" if np.isnan(v) else str(v)
        if v == 0:
            return "0"
        if abs(v) >= 10**digits:
            return f"{v:,.0f}"
        decimals = min(6, max(0, digits - 1 - int(np.floor(np.log10(abs(v))))))
        text = f"{v:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    s = str(v)
    return "" if s == "nan" else s


def format_table(
    df: pd.DataFrame,
    columns: list[str] | None = None,
    *,
    digits: int = 3,
    max_width: int = 40,
    headers: dict[str, str] | None = None,
    right: list[str] | None = None,
) -> str:
    """A fixed-width text table: numbers right-aligned to ``digits`` significant figures,
    text left-aligned (unless named in ``right``) and cut to ``max_width`` characters.

    By default a comparison table from :func:`compare_to_targets` shows its key columns;
    any other frame shows all its columns.
    """
    if columns is None:
        key = [
            "id",
            "metric",
            "value",
            "low",
            "high",
            "model_mean",
            "model_p5",
            "model_p95",
            "status",
            "off_by_pct",
        ]
        columns = key if set(key) <= set(df.columns) else list(df.columns)
    headers = {
        "value": "published",
        "model_mean": "model",
        "model_p5": "p5",
        "model_p95": "p95",
        "off_by_pct": "off by %",
        **(headers or {}),
    }
    cells: list[list[str]] = []
    numeric = []
    for c in columns:
        col = df[c]
        is_num = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        numeric.append(is_num or c in (right or ()))
        texts = [_fmt_cell(v, digits) for v in col.tolist()]
        cells.append([t if len(t) <= max_width else t[: max_width - 1] + "…" for t in texts])
    names = [headers.get(c, c) for c in columns]
    widths = [max([len(n), *(len(t) for t in col)]) for n, col in zip(names, cells, strict=True)]

    def line(items: list[str]) -> str:
        parts = [t.rjust(w) if num else t.ljust(w) for t, w, num in zip(items, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out += [line([col[i] for col in cells]) for i in range(len(df))]
    return "\n".join(out)


def published_points(metric: str, academic_years=None, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published figures for ``metric`` (``academic_year``, ``value``, ``low``, ``high``, ``period``,
    ``source``), those with a year, and only the ``academic_years`` given (all if None), to draw
    beside the model's numbers. Empty when nothing is published for it."""
    t = load_targets() if targets is None else targets
    if "academic_year" not in t.columns:
        return t.iloc[0:0]
    d = t[(t["metric"] == metric) & t["academic_year"].notna()].copy()
    d["academic_year"] = d["academic_year"].astype(int)
    if academic_years is not None:
        d = d[d["academic_year"].isin({int(y) for y in academic_years})]
    return d[["id", "metric", "academic_year", "value", "low", "high", "unit", "period", "source"]].reset_index(
        drop=True
    )

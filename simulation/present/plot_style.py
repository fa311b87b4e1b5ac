"""The house style every figure shares: colours, slide sizes, and how a figure is saved.

Every figure is saved as PNG and SVG with a CSV of the plotted numbers. Colours are the
Okabe-Ito palette (safe for the common forms of colour blindness) and sizes are set for a
slide. matplotlib runs with the non-interactive Agg backend. Kept in one module so that the
figure families (and the figures and calibration reports) cannot drift apart in look.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
SCENARIO_COLOURS = [
    OKABE_ITO[c] for c in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue")
]
_LINESTYLES = ["-", "--", ":", "-."]
_SLIDE_RC = {
    "font.size": 14,
    "axes.titlesize": 17,
    "axes.labelsize": 15,
    "legend.fontsize": 12,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path_stem: Path) -> tuple[Path, Path]:
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = path_stem.with_suffix(".png"), path_stem.with_suffix(".svg")
    fig.savefig(png, dpi=150, bbox_inches="tight")
    fig.savefig(svg, bbox_inches="tight")
    return png, svg


def scenario_colours(scenarios: list[str]) -> dict[str, str]:
    """The baseline (first) in black, then the Okabe-Ito colours in order."""
    out = {scenarios[0]: OKABE_ITO["black"]} if scenarios else {}
    for i, s in enumerate(scenarios[1:]):
        out[s] = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
    return out


def _finish(fig, ax_list, path_stem: Path, data: pd.DataFrame) -> dict:
    for ax in ax_list:
        ax.spines[["top", "right"]].set_visible(False)
    png, svg = _save(fig, path_stem)
    csv = path_stem.with_suffix(".csv")
    data.to_csv(csv, index=False)
    _pyplot().close(fig)
    return {"png": png, "svg": svg, "csv": csv, "figure": fig}


def _need(df: pd.DataFrame, columns: set[str], what: str) -> None:
    missing = sorted(columns - set(df.columns))
    if missing:
        raise ValueError(f"{what} table: missing columns {', '.join(missing)}")
    if df.empty:
        raise ValueError(f"{what} table: no rows to plot")


def _year_label(year: int) -> str:
    return f"{int(year)}/{(int(year) + 1) % 100:02d}"

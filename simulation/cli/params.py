"""``school-exit params``: the parameter registry as a table."""

from __future__ import annotations

import argparse

from .common import EXIT_OK


def add_parser(sub) -> None:
    par = sub.add_parser(
        "params",
        help="list the model parameters",
        description="Print the parameter registry: name, default, bounds, unit, kind, source.",
    )
    par.add_argument("--kind", choices=["uncertainty", "lever"], help="only parameters of this kind")
    par.set_defaults(func=cmd_params)


def cmd_params(args: argparse.Namespace) -> int:
    import pandas as pd

    from simulation.analysis.targets import format_table
    from simulation.model.params import PARAMS

    rows = [
        {
            "name": p.name,
            "default": p.default,
            "low": p.low,
            "high": p.high,
            "unit": p.unit,
            "kind": p.kind,
            "source": p.source,
        }
        for p in PARAMS.values()
        if args.kind in (None, p.kind)
    ]
    df = pd.DataFrame(rows, columns=["name", "default", "low", "high", "unit", "kind", "source"])
    print(format_table(df, digits=4, max_width=60))
    print(f"{len(df)} parameter(s)" + (f" of kind {args.kind}" if args.kind else ""))
    return EXIT_OK

"""``school-exit app``: serve the live app (Mesa's SolaraViz page of :mod:`simulation.present.app`).

The process becomes the Solara server (``python -m solara run simulation.present.app:Page
--production``), with Solara's usage telemetry and its version check against PyPI switched off.
It needs the ``[app]`` extra; without it the command says so in one line and exits 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from .common import EXIT_OK, UsageError, int_at_least

DEFAULT_PORT = 8765


def add_parser(sub) -> None:
    par = sub.add_parser(
        "app",
        help="serve the live app in a browser",
        description="Serve the live app: choose a scenario and its levers, run it against the baseline on "
        "the same seed at a reduced scale, and watch the paired charts update week by week. Open the "
        "address it prints in a browser; Ctrl-C stops it. Needs the [app] extra "
        "(pip install -e '.[app]'). The same page runs with 'solara run app.py' in the repository.",
    )
    par.add_argument(
        "--port", type=int_at_least(0, 65535), default=DEFAULT_PORT, metavar="N", help="port (default: %(default)s)"
    )
    par.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default: %(default)s, this machine only; 0.0.0.0 to share it on the network)",
    )
    par.add_argument("--open", action="store_true", help="open the page in the default browser")
    par.set_defaults(func=cmd_app)


def solara_command(host: str, port: int, *, open_browser: bool = False) -> list[str]:
    """The server's command line."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "simulation.present.app:Page",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--open" if open_browser else "--no-open",
        "--no-check-version",
    ]


def cmd_app(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("solara") is None or importlib.util.find_spec("altair") is None:
        raise UsageError("the app needs the [app] extra (Solara and Altair): .venv/bin/pip install -e '.[app]'")
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    shown = "localhost" if args.host in ("127.0.0.1", "localhost") else args.host
    print(f"school-exit app: serving at http://{shown}:{args.port}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    cmd = solara_command(args.host, args.port, open_browser=args.open)
    os.execve(cmd[0], cmd, env)  # the process becomes the server: signals reach it directly
    return EXIT_OK  # not reached

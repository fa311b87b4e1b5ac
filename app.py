"""The live app, Mesa's way: ``solara run app.py`` (or ``school-exit app``) from the repository root.

Needs the ``[app]`` extra: ``.venv/bin/pip install -e '.[app]'``. The page is built in
:mod:`simulation.present.app`; see its docstring for what the app runs and shows.
"""

from simulation.present.app import Page

__all__ = ["Page"]

"""``python -m simulation.cli``: the ``school-exit`` command."""

from . import main

raise SystemExit(main())

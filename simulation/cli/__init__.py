"""The ``school-exit`` command: one module per command, sharing option parsing and error handling.

May import: every layer. Nothing in ``simulation`` imports it.
"""

from .main import main

__all__ = ["main"]

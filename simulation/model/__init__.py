"""The model: one local authority's children, families, schools and LA, stepped a school week at a time.

Owns the parameter registry, the metric catalogue, the calendar, the state arrays and their codes,
the random streams, the synthetic population, the mechanisms (``dynamics/``), the weekly phases,
observation, and the Mesa model and agents that compose them.

May import: numpy, scipy, Mesa (only ``mesa_core``, ``agents`` and ``mesa_model``), and nothing else
in ``simulation``. Everything else builds on this layer.
"""

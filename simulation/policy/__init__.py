"""Policy: what a scenario changes. Scenario files, interventions and their registry, the weekly
programmes, and posterior files (a scenario may draw its parameters from a calibrated posterior).

May import: ``simulation.model``. Not research, analysis, present or cli.
"""

from . import registry  # noqa: F401  (registers every intervention, levers before programmes)

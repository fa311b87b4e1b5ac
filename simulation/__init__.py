"""School-exit simulator: why children in England leave school rolls, and what policy changes that.

Quick use::

    from simulation import load_scenario, run
    result = run(load_scenario("scenarios/baseline.toml"), seed=1)
    result.summary
"""

from .agents import Family, LocalAuthority, Pupil, School
from .model import SchoolExitModel
from .observe import METRICS
from .params import PARAMS, Param, ParameterError
from .population import REFERENCE_LA, PopulationSpec
from .runner import RunResult, combine, run, run_many, simulate
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "METRICS",
    "PARAMS",
    "REFERENCE_LA",
    "Family",
    "LocalAuthority",
    "Param",
    "ParameterError",
    "PopulationSpec",
    "Pupil",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "School",
    "SchoolExitModel",
    "combine",
    "load_scenario",
    "run",
    "run_many",
    "simulate",
]

"""School-exit simulator: why children in England leave school rolls, and what policy changes that.

Quick use::

    from simulation import load_scenario, run
    result = run(load_scenario("scenarios/baseline.toml"), seed=1)
    result.summary

Names are imported on first use (PEP 562), so ``school-exit --help`` does not pay for
pandas and Mesa.
"""

from importlib import import_module

_EXPORTS = {
    "Family": "agents",
    "LocalAuthority": "agents",
    "Pupil": "agents",
    "School": "agents",
    "SchoolExitModel": "model",
    "METRICS": "observe",
    "PARAMS": "params",
    "Param": "params",
    "ParameterError": "params",
    "REFERENCE_LA": "population",
    "PopulationSpec": "population",
    "RunResult": "runner",
    "combine": "runner",
    "run": "runner",
    "run_many": "runner",
    "simulate": "runner",
    "Scenario": "scenario",
    "ScenarioError": "scenario",
    "load_scenario": "scenario",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__

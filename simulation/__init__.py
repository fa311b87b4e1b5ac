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
    "Family": "model.agents",
    "LocalAuthority": "model.agents",
    "Pupil": "model.agents",
    "School": "model.agents",
    "SchoolExitModel": "model.mesa_model",
    "METRICS": "model.metrics",
    "PARAMS": "model.params",
    "Param": "model.params",
    "ParameterError": "model.params",
    "REFERENCE_LA": "model.population",
    "PopulationSpec": "model.population",
    "RunResult": "research.runner",
    "combine": "research.runner",
    "run": "research.runner",
    "run_many": "research.runner",
    "simulate": "research.runner",
    "Scenario": "policy.scenario",
    "ScenarioError": "policy.scenario",
    "load_scenario": "policy.scenario",
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

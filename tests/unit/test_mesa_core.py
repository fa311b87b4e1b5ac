"""simulation.model.mesa_core: building a model does not import mesa.experimental (nor scipy.spatial),
and everything in mesa.experimental is still there for whoever reads it. Each case runs in a fresh
interpreter, because the test process has imported Mesa long before."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_model_is_built_and_stepped_without_mesa_experimental():
    out = _python(
        """
        import sys
        from simulation import SchoolExitModel, load_scenario
        model = SchoolExitModel(load_scenario("scenarios/baseline.toml").with_(scale=0.01), seed=1)
        model.step()
        print(sorted(m for m in ("mesa", "mesa.experimental", "scipy.spatial") if m in sys.modules))
        """
    )
    assert out == "['mesa']"


def test_mesa_experimental_loads_on_first_use_by_attribute_or_by_import():
    out = _python(
        """
        import sys
        import simulation.model.mesa_model
        import mesa
        devs = mesa.experimental.devs
        print(devs.__name__, sys.modules["mesa.experimental"] is mesa.experimental)
        from mesa.experimental.continuous_space import ContinuousSpace
        print(ContinuousSpace.__module__, "scipy.spatial" in sys.modules)
        """
    )
    assert out.splitlines() == [
        "mesa.experimental.devs True",
        "mesa.experimental.continuous_space.continuous_space True",
    ]


def test_a_mesa_imported_first_is_used_as_it_is():
    out = _python(
        """
        import mesa
        real = mesa.experimental
        import simulation.model.mesa_model
        from simulation.model.mesa_core import mesa as ours
        print(ours is mesa, mesa.experimental is real, type(real).__name__)
        """
    )
    assert out == "True True module"


def test_a_mesa_whose_import_needs_an_experimental_submodule_is_imported_whole(tmp_path):
    """Mesa 3.3 does not do this, but a later 3.3.x might: the stand-in must then step aside,
    not break the import."""
    pkg = tmp_path / "mesa"
    (pkg / "experimental").mkdir(parents=True)
    (pkg / "__init__.py").write_text("import mesa.experimental.sub as sub\n")
    (pkg / "experimental" / "__init__.py").write_text("X = 1\n")
    (pkg / "experimental" / "sub.py").write_text("Y = 2\n")
    out = _python(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from simulation.model.mesa_core import mesa
        print(mesa.__file__.startswith({str(tmp_path)!r}), mesa.sub.Y, mesa.experimental.X,
              type(sys.modules["mesa.experimental"]).__name__)
        """
    )
    assert out == "True 2 1 module"

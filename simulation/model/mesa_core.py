"""Mesa, imported without loading ``mesa.experimental`` until something uses it.

Mesa 3.3's ``__init__`` imports ``mesa.experimental``, which imports ``scipy.spatial`` and
Mesa's experimental spaces, signals and event scheduler: about 0.3 s of every process that
builds a model (the whole-command budget of DESIGN.md section 8 is 3 s), for code this model
never calls. While ``import mesa`` runs, ``mesa.experimental`` is a stand-in module; the first
attribute read on it (``mesa.experimental.devs``) or any ``import mesa.experimental...``
afterwards imports the real package, so nothing that uses it sees a difference.

If Mesa was imported before this module, it is used as it is; if Mesa's own import needs a
submodule of ``mesa.experimental`` (not so in 3.3), it is imported the ordinary way.
"""

from __future__ import annotations

import importlib
import sys
import types

_EXPERIMENTAL = "mesa.experimental"


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is read."""

    def __getattr__(self, name: str):
        if name.startswith("__"):  # probes of module metadata (copy, pickle, inspect) do not load it
            raise AttributeError(name)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, name)


def _import_mesa() -> types.ModuleType:
    if "mesa" in sys.modules:
        return sys.modules["mesa"]
    stand_in = _Deferred(_EXPERIMENTAL)
    before = set(sys.modules)
    sys.modules[_EXPERIMENTAL] = stand_in
    try:
        import mesa
    except ImportError:  # a Mesa whose own import reaches into mesa.experimental: import it whole
        for name in set(sys.modules) - before:
            if name.partition(".")[0] == "mesa":
                del sys.modules[name]
        mesa = None
    finally:  # from here on, ``import mesa.experimental...`` finds and runs the real package
        if sys.modules.get(_EXPERIMENTAL) is stand_in:
            del sys.modules[_EXPERIMENTAL]
    if mesa is None:
        import mesa
    return mesa


mesa = _import_mesa()

"""Mesa agents. Pupils and families are views onto a row of the model's arrays;
schools are views onto the school table; the local authority holds its own state.

Reading ``pupil.stress`` reads ``model.pupils.stress[pupil.slot]``; assigning to it
writes the array, so Mesa tools and the vectorised step see one state.
"""

from __future__ import annotations

from .mesa_core import mesa
from .state import FAMILY_COLUMNS, PUPIL_COLUMNS, SCHOOL_COLUMNS, Status


def _column_property(table: str, column: str, cast) -> property:
    def get(self):
        return cast(getattr(self.model, table).columns[column][self._row])

    def set_(self, value):
        getattr(self.model, table).columns[column][self._row] = value

    return property(get, set_, doc=f"{column} (row view onto model.{table})")


def _cast(dtype) -> type:
    kind = dtype(0).dtype.kind
    return bool if kind == "b" else float if kind == "f" else int


class _RowView(mesa.Agent):
    def __init__(self, model, row: int):
        super().__init__(model)
        self._row = row


class Pupil(_RowView):
    """A child: one row of ``model.pupils``. ``slot`` is the row; ``uid`` the child."""

    @property
    def slot(self) -> int:
        return self._row

    @property
    def status_name(self) -> str:
        return Status.name_of(self.status)

    def __repr__(self) -> str:
        return f"Pupil(uid={self.uid}, Y{self.year_group}, {self.status_name}, stress={self.stress:.2f})"


class Family(_RowView):
    """A family: one row of ``model.families``; siblings share it."""

    @property
    def children(self) -> list[int]:
        return [int(i) for i in (self.model.pupils.family == self._row).nonzero()[0]]


class School(_RowView):
    """A school: one row of ``model.schools``."""

    @property
    def roll(self) -> int:
        return int(((self.model.pupils.school == self._row) & (self.model.pupils.status <= Status.SPECIAL)).sum())


for _name, _dtype in PUPIL_COLUMNS.items():
    setattr(Pupil, _name, _column_property("pupils", _name, _cast(_dtype)))
for _name, _dtype in FAMILY_COLUMNS.items():
    setattr(Family, _name, _column_property("families", _name, _cast(_dtype)))
for _name, _dtype in SCHOOL_COLUMNS.items():
    setattr(School, _name, _column_property("schools", _name, _cast(_dtype)))


class LocalAuthority(mesa.Agent):
    """The LA as a Mesa agent: a view onto ``model.world.la`` (its capacities and carried state);
    its duties run in :mod:`simulation.model.la`."""

    @property
    def initial_special_roll(self) -> int:
        return self.model.world.la.initial_special_roll

    @property
    def assessment_carry(self) -> float:
        return self.model.world.la.assessment_carry

    @property
    def special_places(self) -> int:
        return self.model.world.la.special_places

    @property
    def ap_places(self) -> int:
        return self.model.world.la.ap_places

    def assessments_per_week(self) -> float:
        return self.model.world.la.assessments_per_week()

"""The :class:`Problem`: what analyses need besides the :class:`LinearProgram`.

Incentives, design menus and caps, the shared-state variables, names and provenance,
taken from the spec once.  It is small and picklable, so a worker process or a Dask worker
gets ``(program, problem, options)`` and never the YAML source map.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..spec import ModelSpec, PlanSpec
from ..spec.model import run_label
from .program import LinearProgram

__all__ = ["Problem", "StateVariable", "TodayPlan", "file_digest"]


def file_digest(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True, eq=False)
class TodayPlan:
    """Today's plan as values of the program's columns: ``values[i]`` is given for column
    ``columns[i]`` (in the plan file's order); the columns not named are not given.
    ``source`` is the plan file it was read from."""

    source: str
    columns: np.ndarray  # int64 column indices of the LinearProgram
    values: np.ndarray  # float64, one per column

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TodayPlan)
            and self.source == other.source
            and np.array_equal(self.columns, other.columns)
            and np.array_equal(self.values, other.values)
        )

    def __hash__(self) -> int:
        return hash((self.source, self.columns.tobytes(), self.values.tobytes()))

    def __len__(self) -> int:
        return int(self.columns.size)

    @classmethod
    def of(cls, plan: PlanSpec, lp: LinearProgram) -> TodayPlan:
        """The columns of ``lp`` that the plan's (variable, index) entries name.  Names and
        indices were checked when the plan was read, so every entry has its column."""
        wanted = {name for name, _ in plan.values}
        column_of: dict[tuple[str, tuple], int] = {}
        for name in wanted:
            for j in lp.columns_of(name):
                column_of[name, _index_tuple(lp.col_indices[j])] = int(j)
        columns = np.array([column_of[key] for key in plan.values], dtype=np.int64)
        values = np.fromiter(plan.values.values(), dtype=float, count=len(plan.values))
        return cls(str(plan.file), columns, values)


def _index_tuple(index: Any) -> tuple:
    """A column's index as a tuple of members (``()`` for a scalar variable)."""
    if index is None:
        return ()
    return index if isinstance(index, tuple) else (index,)


@dataclass(frozen=True)
class StateVariable:
    """How a shared-state variable is read: its index sets, the time-like one its
    per-period measures run over (``per``, at position ``axis`` of ``over``; the last
    integer set it is indexed over, None when it has none) and its ``unit:``."""

    name: str
    over: tuple[str, ...] = ()
    per: str | None = None
    axis: int | None = None
    unit: str | None = None

    @classmethod
    def of(cls, spec: ModelSpec, name: str) -> StateVariable:
        """The variable ``name`` of ``spec`` (time-like set: the last integer set)."""
        var = spec.variables[name]
        timed = [i for i, s in enumerate(var.over) if spec.sets[s].integer]
        axis = timed[-1] if timed else None
        per = None if axis is None else var.over[axis]
        return cls(name, tuple(var.over), per, axis, var.unit)


@dataclass(frozen=True)
class Problem:
    """Names, incentives, design menus, caps and provenance of one model and scenario.

    ``incentives``: department -> {qualified KPI: status-quo weight}; ``menus``:
    department -> the qualified KPIs KPI design may use; ``caps``: department ->
    {qualified KPI: largest weight}; ``state``: the shared-state variables, and
    ``state_variables`` how each is read (:class:`StateVariable`); ``inputs``: (file,
    digest) of every file read; ``today``: today's plan as column values (``today:`` of the
    model or scenario, or ``--start-plan``), None without one.
    """

    model: str
    scenario: str
    variant: str | None
    incentives: dict[str, dict[str, float]]
    menus: dict[str, tuple[str, ...]]
    caps: dict[str, dict[str, float]]
    state: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...] = ()
    state_variables: dict[str, StateVariable] = dataclasses.field(default_factory=dict)
    today: TodayPlan | None = None

    @property
    def label(self) -> str:
        """``scenario`` or ``scenario[variant]``, as messages name the problem."""
        return run_label(self.scenario, self.variant)

    def cap(self, department: str, kpi: str) -> float:
        """The largest weight KPI design may give ``kpi`` (1 when not capped)."""
        return self.caps.get(department, {}).get(kpi, 1.0)

    def reading(self, *files: Path) -> Problem:
        """This problem with more input files (a scheme file) in its provenance."""
        more = tuple((str(f), file_digest(Path(f))) for f in files)
        return dataclasses.replace(self, inputs=self.inputs + more)

    @classmethod
    def from_spec(cls, spec: ModelSpec, lp: LinearProgram | None = None) -> Problem:
        """The problem of a loaded spec, with a digest of every file it was read from;
        with its compiled ``lp``, today's plan (if the spec names one) as column values."""
        today = None
        if lp is not None and spec.today is not None:
            today = TodayPlan.of(spec.today, lp)
        return cls(
            model=spec.name,
            scenario=spec.scenario,
            variant=spec.variant,
            incentives={d.name: dict(d.weights) for d in spec.departments.values()},
            menus={d.name: tuple(d.design_menu) for d in spec.departments.values()},
            caps={d.name: dict(d.max_weight) for d in spec.departments.values()},
            state=tuple(v.name for v in spec.variables.values() if v.owner is None),
            inputs=tuple((str(f), file_digest(f)) for f in spec.input_files),
            state_variables={
                v.name: StateVariable.of(spec, v.name)
                for v in spec.variables.values()
                if v.owner is None
            },
            today=today,
        )

    def state_variable(self, name: str) -> StateVariable:
        """How shared-state variable ``name`` is read (untimed, no unit if not known)."""
        return self.state_variables.get(name) or StateVariable(name)

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

from ..spec import ModelSpec
from ..spec.model import run_label

__all__ = ["Problem", "StateVariable", "file_digest"]


def file_digest(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


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
    digest) of every file read.
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
    def from_spec(cls, spec: ModelSpec) -> Problem:
        """The problem of a loaded spec, with a digest of every file it was read from."""
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
        )

    def state_variable(self, name: str) -> StateVariable:
        """How shared-state variable ``name`` is read (untimed, no unit if not known)."""
        return self.state_variables.get(name) or StateVariable(name)

"""What a model contains, as plain data: the ``validate`` command's summary."""

from __future__ import annotations

import math

import numpy as np

from ..model.problem import Problem
from ..model.program import LinearProgram
from ..results.summary import DepartmentSummary, ModelSummary, ResourceSummary
from ..solver import Statistics
from ..spec import ModelSpec
from .common import run_info


def summarize(spec: ModelSpec, lp: LinearProgram) -> ModelSummary:
    """What ``spec``, assembled into ``lp``, contains: the summary ``kpidesign validate``
    prints."""

    def entries(variable: str) -> int:
        return math.prod(len(spec.sets[s].members) for s in spec.variables[variable].over)

    rows = np.bincount(lp.row_component, minlength=len(lp.row_components))
    departments = {}
    for d in spec.departments.values():
        departments[d.name] = DepartmentSummary(
            variables={v: entries(v) for v in d.variables},
            kpis={
                k: ("ratio " if lp.kpis[kpi.qualified].is_ratio else "") + kpi.sense
                for k, kpi in d.kpis.items()
            },
            incentive=dict(d.weights),
            allocation=dict(d.allocation),
        )
    return ModelSummary(
        model=spec.name,
        scenario=spec.scenario,
        variant=spec.variant,
        file=str(spec.scenario_file or spec.model_file),
        sets={s.name: len(s.members) for s in spec.sets.values()},
        departments=departments,
        shared_state={v.name: entries(v.name) for v in spec.variables.values() if v.owner is None},
        constraints={c: int(rows[lp.row_components.index(c)]) for c in lp.constraint_components},
        resources={
            r.name: ResourceSummary(r.total, r.reserve, r.max_shift)
            for r in spec.resources.values()
        },
        objective=f"{spec.objective.sense} {spec.objective.text.strip()}",
        n_variables=lp.num_cols,
        n_constraints=lp.num_rows,
        notes=[],
        run=run_info(Problem.from_spec(spec, lp), spec.objective.sense, None, Statistics(), None),
    )

"""What a built model contains, as plain data: the ``validate`` command's summary."""

from __future__ import annotations

import pyomo.environ as pyo

from ..model.build import BuiltModel
from ..model.problem import Problem
from ..results.summary import DepartmentSummary, ModelSummary, ResourceSummary
from ..solver import Statistics
from .common import run_info


def _count(component: pyo.Component) -> int:
    return len(component) if component.is_indexed() else 1


def summarize(built: BuiltModel) -> ModelSummary:
    """What ``built`` contains: the summary ``kpidesign validate`` prints."""
    spec, m = built.spec, built.model
    departments = {}
    for d in spec.departments.values():
        departments[d.name] = DepartmentSummary(
            variables={v: _count(getattr(m, v)) for v in d.variables},
            kpis={
                k: ("ratio " if built.kpis[kpi.qualified].is_ratio else "") + kpi.sense
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
        shared_state={
            v.name: _count(getattr(m, v.name)) for v in spec.variables.values() if v.owner is None
        },
        constraints={c: _count(getattr(m, c)) for c in built.constraint_names},
        resources={
            r.name: ResourceSummary(r.total, r.reserve, r.max_shift)
            for r in spec.resources.values()
        },
        objective=f"{spec.objective.sense} {spec.objective.text.strip()}",
        n_variables=sum(1 for _ in m.component_data_objects(pyo.Var)),
        n_constraints=sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True)),
        notes=[],
        run=run_info(Problem.from_spec(spec), spec.objective.sense, None, Statistics(), None),
    )

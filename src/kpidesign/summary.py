"""What a built model contains, as plain data: the `validate` report."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd
import pyomo.environ as pyo

from .build import BuiltModel

__all__ = ["ModelSummary", "summarize"]


@dataclass(frozen=True)
class ModelSummary:
    model: str
    scenario: str
    variant: str | None
    file: str
    sets: dict[str, int]
    departments: dict[str, dict]
    shared_state: dict[str, int]
    constraints: dict[str, int]
    resources: dict[str, dict]
    objective: str
    n_variables: int
    n_constraints: int
    notes: list[str]

    def to_dict(self) -> dict:
        """The summary as the JSON of ``validate --format json``."""
        return {"status": "valid", **asdict(self)}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Long-format tables for ``--format csv``: sets, variables, KPIs, constraints."""
        variables = [
            {"variable": v, "owner": d, "size": n}
            for d, info in self.departments.items()
            for v, n in info["variables"].items()
        ] + [{"variable": v, "owner": "", "size": n} for v, n in self.shared_state.items()]
        kpis = [
            {"department": d, "kpi": k, "sense": sense, "weight": info["incentive"].get(k, 0.0)}
            for d, info in self.departments.items()
            for k, sense in info["kpis"].items()
        ]
        return {
            "sets": pd.DataFrame(
                [{"set": k, "size": n} for k, n in self.sets.items()], columns=["set", "size"]
            ),
            "variables": pd.DataFrame(variables, columns=["variable", "owner", "size"]),
            "kpis": pd.DataFrame(kpis, columns=["department", "kpi", "sense", "weight"]),
            "constraints": pd.DataFrame(
                [{"constraint": k, "rows": n} for k, n in self.constraints.items()],
                columns=["constraint", "rows"],
            ),
        }


def _count(component: pyo.Component) -> int:
    return len(component) if component.is_indexed() else 1


def summarize(built: BuiltModel) -> ModelSummary:
    spec, m = built.spec, built.model
    departments = {}
    for d in spec.departments.values():
        departments[d.name] = {
            "variables": {v: _count(getattr(m, v)) for v in d.variables},
            "kpis": {
                k: ("ratio " if built.kpis[f"{d.name}.{k}"].is_ratio else "") + kpi.sense
                for k, kpi in d.kpis.items()
            },
            "incentive": dict(d.weights),
            "allocation": dict(d.allocation),
        }
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
            r.name: {"total": r.total, "reserve": r.reserve, "max_shift": r.max_shift}
            for r in spec.resources.values()
        },
        objective=f"{spec.objective.sense} {spec.objective.text.strip()}",
        n_variables=sum(1 for _ in m.component_data_objects(pyo.Var)),
        n_constraints=sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True)),
        notes=list(built.notes),
    )

"""The summary of a built model that ``kpidesign validate`` prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from .common import RunInfo


@dataclass(frozen=True)
class DepartmentSummary:
    """A department: its variables (with sizes), KPIs (``max``, ``ratio min``, …), current
    incentive weights and baseline allocations."""

    variables: dict[str, int]
    kpis: dict[str, str]
    incentive: dict[str, float]
    allocation: dict[str, float]


@dataclass(frozen=True)
class ResourceSummary:
    """A resource: its total, the reserve share held back, the largest shift allowed."""

    total: float
    reserve: float
    max_shift: float | None


@dataclass(frozen=True)
class ModelSummary:
    """What a built model contains: sets, departments, shared state, constraints,
    resources, the objective, and its size."""

    model: str
    scenario: str
    variant: str | None
    file: str
    sets: dict[str, int]
    departments: dict[str, DepartmentSummary]
    shared_state: dict[str, int]
    constraints: dict[str, int]
    resources: dict[str, ResourceSummary]
    objective: str
    n_variables: int
    n_constraints: int
    notes: list[str]
    run: RunInfo | None = None

    def to_dict(self) -> dict:
        """The summary as the JSON of ``validate --format json``."""
        out = {"status": "valid", **asdict(self)}
        out["run"] = None if self.run is None else self.run.to_dict()
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """Long-format tables for ``--format csv``: sets, variables, KPIs, constraints."""
        variables = [
            {"variable": v, "owner": d, "size": n}
            for d, info in self.departments.items()
            for v, n in info.variables.items()
        ] + [{"variable": v, "owner": "", "size": n} for v, n in self.shared_state.items()]
        kpis = [
            {"department": d, "kpi": k, "sense": sense, "weight": info.incentive.get(k, 0.0)}
            for d, info in self.departments.items()
            for k, sense in info.kpis.items()
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

"""The result of ``sensitivity``: shadow prices and costs with the ranges they hold over."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..types import Diagnosis
from .common import Outcome, RunInfo, clean, figure

__all__ = ["MOVE_COLUMNS", "SLACK_PRICE_COLUMNS", "SensitivityResult"]

#: the columns of ``slack_prices`` and of ``reallocation``
SLACK_PRICE_COLUMNS = ["margin", "rows", "resolve", "first_order"]
MOVE_COLUMNS = ["resource", "from", "to", "amount", "gain", "objective"]

_COLUMNS = (
    [
        *("constraint", "index", "activity", "dual", "rhs", "slack"),
        *("rhs_lower", "rhs_upper", "binding", "degenerate"),
    ],
    ["variable", "index", "value", "reduced_cost", "cost", "cost_lower", "cost_upper"],
    ["department", "resource", "allocation", "dual", "lower", "upper"],
    ["resource", "available", "dual", "lower", "upper"],
)


def _bound(x: float) -> float | None:
    """A range end for JSON: ``None`` for an unbounded side."""
    return None if math.isinf(x) else clean(x)


def _number(x: float) -> float | None:
    """A figure for JSON: ``None`` for NaN (a re-solve without an optimum)."""
    return None if math.isnan(x) else clean(x)


def _keyed(frame: pd.DataFrame, name: str, fields: dict[str, bool]) -> dict:
    """``{name: {field: value}}`` for a scalar component, ``{name: {index: {...}}}`` for
    an indexed one, as ``duals`` in ``solve``; ``fields`` maps each field to whether it is
    a range end (``None`` where unbounded)."""
    out: dict[str, dict] = {}
    for row in frame.itertuples(index=False):
        entry = {
            f: (_bound(getattr(row, f)) if is_end else clean(getattr(row, f)))
            for f, is_end in fields.items()
        }
        key = getattr(row, name)
        if row.index == "":
            out[key] = entry
        else:
            out.setdefault(key, {})[row.index] = entry
    return out


@dataclass(frozen=True)
class SensitivityResult(Outcome):
    """Shadow prices with the right-hand-side ranges over which they hold, and costs with
    the ranges over which the plan stays optimal, at plan B (``at="today"``: allocations at
    their baselines) or at the system optimum C (``at="optimum"``).

    DataFrames (long format):

    ``constraints``  constraint, index, activity, dual, rhs, slack, rhs_lower, rhs_upper,
                     binding, degenerate
    ``variables``    variable, index, value, reduced_cost, cost, cost_lower, cost_upper
    ``allocations``  department, resource, allocation, dual, lower, upper
    ``resources``    resource, available (total x (1 - reserve), what may be allocated),
                     dual and its range, per unit of what is available
    ``reallocation`` resource, from (None: its unallocated part), to, amount, gain (the
                     improvement, verified by a re-solve), objective (after the move)
    ``slack_prices`` margin (a constraint's name, ``resources.R.reserve`` or ``total``),
                     rows, resolve (the objective's change with the margin at 0, by a
                     re-solve), first_order (the duals' estimate of it)

    A dual is the change of the objective per unit increase of the right-hand side (of the
    allocation, of the resource's total); ``inf`` ends a range that is unbounded.
    """

    run: RunInfo
    objective: float
    at: str
    constraints: pd.DataFrame
    variables: pd.DataFrame
    allocations: pd.DataFrame
    resources: pd.DataFrame
    slack_prices: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=SLACK_PRICE_COLUMNS)
    )
    reallocation: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MOVE_COLUMNS))
    degenerate: bool = False
    notes: list[str] = field(default_factory=list)
    diagnosis: Diagnosis | None = None

    @classmethod
    def failed(cls, run: RunInfo, diagnosis: Diagnosis) -> SensitivityResult:
        """The result of a problem without an optimum: its diagnosis, no numbers."""
        empty = (pd.DataFrame(columns=c) for c in _COLUMNS)
        return cls(run, float("nan"), "", *empty, notes=[], diagnosis=diagnosis)

    def slack_price_total(self) -> dict[str, float | None] | None:
        """What all margins together cost (the one margin's price where there is one;
        None where the model has none)."""
        p = self.slack_prices
        if p.empty:
            return None
        row = p[p.margin == "total"].iloc[0] if len(p) > 1 else p.iloc[0]
        return {"resolve": _number(row.resolve), "first_order": _number(row.first_order)}

    def to_dict(self) -> dict:
        """The JSON contract: constraints, variables, allocation, resources (ranges with
        ``null`` for an unbounded side)."""
        allocation: dict[str, dict[str, dict]] = {}
        for a in self.allocations.itertuples(index=False):
            allocation.setdefault(a.department, {})[a.resource] = {
                "value": clean(a.allocation),
                "dual": clean(a.dual),
                "lower": _bound(a.lower),
                "upper": _bound(a.upper),
            }
        return self.finish(
            {
                **self.header(),
                "at": self.at or None,
                "objective": clean(self.objective),
                "degenerate": self.degenerate,
                "constraints": _keyed(
                    self.constraints,
                    "constraint",
                    {"dual": False, "slack": False, "rhs": True}
                    | {"rhs_lower": True, "rhs_upper": True},
                ),
                "variables": _keyed(
                    self.variables,
                    "variable",
                    {"value": False, "reduced_cost": False, "cost": False}
                    | {"cost_lower": True, "cost_upper": True},
                ),
                "allocation": allocation,
                "resources": {
                    r.resource: {
                        "available": clean(r.available),
                        "dual": clean(r.dual),
                        "lower": _bound(r.lower),
                        "upper": _bound(r.upper),
                    }
                    for r in self.resources.itertuples(index=False)
                },
                "slack_price": {
                    p.margin: {"resolve": _number(p.resolve), "first_order": _number(p.first_order)}
                    for p in self.slack_prices.itertuples(index=False)
                    if p.margin != "total"
                },
                "slack_price_total": self.slack_price_total(),
                "reallocation": [
                    {
                        "resource": m["resource"],
                        "from": m["from"],
                        "to": m["to"],
                        "amount": clean(m["amount"]),
                        "gain": clean(m["gain"]),
                        "objective": clean(m["objective"]),
                    }
                    for m in self.reallocation.to_dict("records")
                ],
                "notes": list(self.notes),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
        summary = pd.DataFrame(
            [
                {
                    **self.summary_row(),
                    "at": self.at,
                    "objective": clean(self.objective),
                }
            ]
        )
        return {
            "summary": summary,
            "constraints": self.constraints,
            "variables": self.variables,
            "allocations": self.allocations,
            "resources": self.resources,
            "slack_prices": self.slack_prices,
            "reallocation": self.reallocation,
        }

    def advice(self) -> list[str]:
        """Each reallocation move in words: "move 1 of budget from (unallocated) to
        production: +3 (objective 18)"."""
        out = []
        for m in self.reallocation.to_dict("records"):
            source = f"the unallocated {m['resource']}" if m["from"] is None else m["from"]
            out.append(
                f"move {figure(m['amount'])} of {m['resource']} from {source} to {m['to']}: "
                f"{'+' if self.sense == 'max' else '-'}{figure(m['gain'])} "
                f"(objective {figure(m['objective'])})"
            )
        return out

"""The Python API: one call per analysis, each taking a path or an already loaded spec.

Every analysis takes its settings as one :class:`~kpidesign.options.Options`
(``options=``) or as keyword overrides of its fields (``tol=1e-7``), and returns its
result whatever the solver says: ``result.status`` is ``optimal`` when the analysis has
its answer, and otherwise ``result.diagnosis`` says why not (``result.raise_if_failed()``
turns that into a :class:`~kpidesign.errors.SolveError`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analyses.compare import compare_plans
from .analyses.design import design_schemes
from .analyses.frontier import bound_of, value_frontier
from .analyses.prices import resolve_prices
from .analyses.sensitivity import sensitivity_report
from .analyses.system import solve_system
from .errors import KpiDesignError, Location
from .model.build import build
from .model.compile import compile_model
from .model.problem import Problem
from .model.program import LinearProgram
from .options import Options
from .results import (
    CompareResult,
    DesignResult,
    FrontierResult,
    SensitivityResult,
    SystemResult,
)
from .spec import ModelSpec, load
from .spec.model import margins, with_margin, with_total, without_margins
from .spec.plan import with_today
from .spec.scheme import resolve_allocations, resolve_scheme, split_scheme
from .types import Plan

__all__ = ["compare", "design", "evaluate", "frontier", "prepare", "sensitivity", "solve"]

Model = str | Path | ModelSpec


def _spec(model: Model, variant: str | None, start_plan: str | Path | None = None) -> ModelSpec:
    if not isinstance(model, ModelSpec):
        return load(model, variant, start_plan=start_plan)
    return model if start_plan is None else with_today(model, Path(start_plan))


def prepare(
    model: Model, variant: str | None = None, *, start_plan: str | Path | None = None
) -> tuple[ModelSpec, LinearProgram]:
    """Load (if given a path), build and compile: the spec and its LinearProgram.
    ``start_plan`` (a plan file) replaces the file's ``today:``."""
    spec = _spec(model, variant, start_plan)
    return spec, compile_model(build(spec))


def _problem(model: Model, variant: str | None) -> tuple[Problem, LinearProgram]:
    spec, lp = prepare(model, variant)
    return Problem.from_spec(spec, lp), lp


def solve(
    model: Model,
    variant: str | None = None,
    *,
    options: Options | None = None,
    **settings: Any,
) -> SystemResult:
    """The system optimum, allocations optimized, with KPIs, state totals and duals."""
    problem, lp = _problem(model, variant)
    return solve_system(lp, problem, Options.of(options, **settings))


def sensitivity(
    model: Model,
    variant: str | None = None,
    *,
    at: str = "today",
    options: Options | None = None,
    **settings: Any,
) -> SensitivityResult:
    """Shadow prices with the right-hand-side ranges over which they hold, and costs with
    the ranges over which the plan stays optimal: at today's allocations (``at="today"``,
    plan B, the default: what one more unit is worth given today's budgets) or at the
    system optimum (``at="optimum"``, plan C); and what each intentional margin (a
    constraint's ``slack``, a resource's ``reserve``) costs there."""
    spec, lp = prepare(model, variant)
    released = compile_model(build(without_margins(spec)))
    return sensitivity_report(
        lp, Problem.from_spec(spec, lp), Options.of(options, **settings), at=at, released=released
    )


def frontier(
    model: Model,
    resource: str | None = None,
    variant: str | None = None,
    *,
    constraint: str | None = None,
    margin: str | None = None,
    start: float | None = None,
    stop: float | None = None,
    analysis: str = "solve",
    grid: int = 9,
    options: Options | None = None,
    **settings: Any,
) -> FrontierResult:
    """The company objective (allocations optimized) as a function of ``resource``'s total
    (or of the right-hand side of one ``constraint`` row, ``capacity`` or ``capacity[3]``)
    or of one ``margin`` (a constraint's ``slack``, its whole family together, or
    ``resources.R.reserve``, a fraction 0 <= f < 1) from ``start`` to ``stop``, exact: every
    breakpoint of the piecewise-linear value function and the slope between them (the
    shadow price). Defaults: half to one and a half times the file's value (for a total,
    at least what the allocations' lower bounds need; for a margin, 0 to twice the file's,
    0.1 where it has none, at most 0.95). ``analysis="compare"`` adds the status quo and
    the misalignment cost at ``grid`` evenly spaced totals, today's allocations scaled
    pro rata (not piecewise linear in general, so a grid); ``analysis="design"`` the
    designed scheme's worst computed path there."""
    if analysis not in ("solve", "compare", "design"):
        msg = f"analysis must be solve, compare or design, not {analysis!r}"
        raise ValueError(msg)
    if margin is not None:
        if resource is not None or constraint is not None:
            msg = "give a resource, a constraint or a margin, one of them"
            raise ValueError(msg)
        if analysis != "solve":
            msg = f"{analysis} along a frontier needs a resource (--resource)"
            raise ValueError(msg)
        return _margin_frontier(
            _spec(model, variant, None), margin, start, stop, Options.of(options, **settings)
        )
    if analysis != "solve" and resource is None:
        msg = f"{analysis} along a frontier needs a resource (--resource)"
        raise ValueError(msg)
    if grid < 2:
        msg = f"grid needs at least 2 points, not {grid}"
        raise ValueError(msg)
    spec, lp = prepare(model, variant)
    problem = Problem.from_spec(spec, lp)
    opts = Options.of(options, **settings)
    value = bound_of(lp, resource, constraint)  # one of them, and known to the model
    if resource is None:
        lo, hi = sorted((0.5 * value, 1.5 * value)) if value != 0 else (-1.0, 1.0)
        return value_frontier(
            lp, problem, opts, constraint=constraint,
            start=lo if start is None else float(start),
            stop=hi if stop is None else float(stop),
        )  # fmt: skip
    r = spec.resources[resource]
    share = 1.0 - r.reserve
    # below the allocations' own lower bounds (max_shift) no total is feasible
    floor = sum(float(lp.col_lower[a.column]) for a in lp.allocations if a.resource == resource)
    result = value_frontier(
        lp,
        problem,
        opts,
        resource=resource,
        start=max(0.5 * r.total, floor / share) if start is None else float(start),
        stop=1.5 * r.total if stop is None else float(stop),
        share=share,
    )
    if analysis == "solve" or not result.ok:
        return result
    lo, hi = float(result.points.total.iloc[0]), float(result.points.total.iloc[-1])
    rows = []
    for total in np.linspace(lo, hi, grid):
        at = with_total(spec, resource, float(total))
        if analysis == "compare":
            rows.append(_status_quo_row(float(total), compare(at, options=opts)))
        else:
            rows.append(_design_row(float(total), design(at, options=opts)))
    if analysis == "compare":
        return dataclasses.replace(result, status_quo=pd.DataFrame(rows, columns=_SQ_COLUMNS))
    return dataclasses.replace(result, designs=pd.DataFrame(rows, columns=_DESIGN_COLUMNS))


def _margin_frontier(
    spec: ModelSpec, name: str, start: float | None, stop: float | None, opts: Options
) -> FrontierResult:
    """The frontier of one margin: the model built with it at 0 and at 1/2 (the rest as in
    the file) differs only in the bounds of the margin's rows; their change per unit of
    margin is the direction the walk moves them along."""
    file_value = margins(spec).get(name)
    probe = 0.5
    base = compile_model(build(with_margin(spec, name, 0.0)))  # unknown names stop here
    if name in spec.constraints:
        rows = base.constraint_rows()
        rows = rows[base.row_component[rows] == base.row_components.index(name)]
        if np.all(base.row_lower[rows] == base.row_upper[rows]):
            msg = f"{name} is an equality: it has no margin"
            raise ValueError(msg)
    try:
        moved = compile_model(build(with_margin(spec, name, probe)))
    except KpiDesignError as exc:  # its right-hand side is not data
        msg = f"the margin of {name} cannot vary: {exc}"
        raise ValueError(msg) from None
    if moved.A.shape != base.A.shape:
        msg = f"the model with another margin of {name} has other rows or columns"
        raise ValueError(msg)
    with np.errstate(invalid="ignore"):  # inf - inf where a side is open
        up = np.nan_to_num(moved.row_upper - base.row_upper, nan=0.0, posinf=0.0, neginf=0.0)
        low = np.nan_to_num(moved.row_lower - base.row_lower, nan=0.0, posinf=0.0, neginf=0.0)
    ranged = np.isfinite(base.row_upper) & np.isfinite(base.row_lower)
    if np.any(ranged & (up != low)):
        msg = f"the margin of {name} moves one side of a row bounded on both"
        raise ValueError(msg)
    change = np.where(np.isfinite(base.row_upper), up, low) / probe
    if not np.any(change):
        msg = f"the margin of {name} moves nothing: its right-hand side is 0 in every row"
        raise ValueError(msg)
    if start is None:
        start = 0.0
    if stop is None:
        stop = min(2.0 * file_value if file_value else 0.1, 0.95)
    if not 0.0 <= start < stop < 1.0:
        msg = f"a margin is a fraction 0 <= from < to < 1, not {start:g} .. {stop:g}"
        raise ValueError(msg)
    problem = Problem.from_spec(spec, base)
    return value_frontier(
        base, problem, opts, margin=name, change=change, start=float(start), stop=float(stop)
    )


_SQ_COLUMNS = [
    "total", "status", "system", "aligned", "status_quo", "status_quo_min", "status_quo_max",
    "misalignment_cost", "misalignment_cost_min", "misalignment_cost_max",
]  # fmt: skip


def _status_quo_row(total: float, c: CompareResult) -> dict[str, Any]:
    """One point of the status quo along a frontier: compare's figures at ``total``."""
    nan = float("nan")
    if not c.ok:
        return dict.fromkeys(_SQ_COLUMNS, nan) | {"total": total, "status": str(c.status)}
    ranged = c.status_quo_range
    low, high = (ranged.low, ranged.high) if ranged is not None else (nan, nan)
    m_low, m_high = ranged.misalignment_cost if ranged is not None else (nan, nan)
    return {
        "total": total,
        "status": str(c.status),
        "system": c.objectives[Plan.SYSTEM],
        "aligned": c.objectives[Plan.ALIGNED],
        "status_quo": c.objectives[Plan.STATUS_QUO],
        "status_quo_min": low,
        "status_quo_max": high,
        "misalignment_cost": c.misalignment_cost,
        "misalignment_cost_min": m_low,
        "misalignment_cost_max": m_high,
    }


_DESIGN_COLUMNS = ["total", "status", "system", "status_quo", "designed", "designed_share"]


def _design_row(total: float, d: DesignResult) -> dict[str, Any]:
    """One point of the designs along a frontier: design's figures at ``total`` (the
    designed scheme on its worst computed path)."""
    if not d.ok:
        nan = float("nan")
        return dict.fromkeys(_DESIGN_COLUMNS, nan) | {"total": total, "status": str(d.status)}
    return {
        "total": total,
        "status": str(d.status),
        "system": d.optimum,
        "status_quo": d.status_quo,
        "designed": d.chosen.objective,
        "designed_share": d.chosen.share_of_optimum,
    }


def compare(
    model: Model,
    variant: str | None = None,
    *,
    scheme: dict[str, dict[str, float]] | None = None,
    locations: dict[tuple[str, ...], Location] | None = None,
    scheme_file: str | Path | None = None,
    start_plan: str | Path | None = None,
    options: Options | None = None,
    **settings: Any,
) -> CompareResult:
    """Status quo vs aligned vs system optimum, per department and for the company.

    ``scheme`` (department -> {kpi: weight}, see :func:`evaluate`) replaces the named
    departments' status-quo incentives; its ``allocations`` section (department ->
    {resource: amount}) adds the scheme's verification at those allocations;
    ``locations`` lets its errors name a file's lines;
    ``scheme_file``, the file it was read from, joins the run's provenance;
    ``start_plan``, a plan file, replaces the file's ``today:`` (``problem.today``).
    """
    spec, lp = prepare(model, variant, start_plan=start_plan)
    weights, allocations, price_section = (
        split_scheme(scheme) if scheme is not None else (None, None, None)
    )
    resolved = None if weights is None else resolve_scheme(spec, weights, locations)
    amounts = None
    if allocations is not None:
        named = resolve_allocations(spec, allocations, locations)
        amounts = np.array(
            [named.get((a.department, a.resource), a.baseline) for a in lp.allocations]
        )
    prices, centres = None, None
    if price_section is not None and weights is not None:
        # a price scheme: the departments the scheme does not name are profit centres
        prices = resolve_prices(lp, price_section, locations)
        centres = [d for d in lp.departments if d not in weights]
    problem = Problem.from_spec(spec, lp)
    if scheme_file is not None:
        problem = problem.reading(Path(scheme_file))
    return compare_plans(
        lp,
        problem,
        Options.of(options, **settings),
        scheme=resolved,
        allocations=amounts,
        prices=prices,
        profit_centres=centres,
    )


def design(
    model: Model,
    variant: str | None = None,
    *,
    max_kpis: int | None = None,
    step: float | None = None,
    lever: str = "weights",
    options: Options | None = None,
    **settings: Any,
) -> DesignResult:
    """Scorecards under which the system optimum is each department's own best choice:
    at most ``max_kpis`` KPIs each, weights in multiples of ``step`` if given; beside them
    transfer prices (the prices lever).  ``lever`` (``weights`` or ``prices``) is the one
    headlined, verified as ``result.verification`` and written as the scheme."""
    if lever not in ("weights", "prices"):
        msg = f"lever must be 'weights' or 'prices', not {lever!r}"
        raise ValueError(msg)
    if step is not None and not (0 < step <= 1 and abs(round(1 / step) * step - 1) <= 1e-9):
        msg = f"step must be 1/N for a whole N (e.g. 0.05), not {step!r}"
        raise ValueError(msg)
    if max_kpis is not None and max_kpis < 1:
        msg = f"max_kpis must be at least 1, not {max_kpis!r}"
        raise ValueError(msg)
    problem, lp = _problem(model, variant)
    return design_schemes(
        lp, problem, Options.of(options, **settings), max_kpis=max_kpis, step=step, lever=lever
    )


def evaluate(
    model: Model,
    scheme: dict[str, dict[str, float]],
    variant: str | None = None,
    *,
    locations: dict[tuple[str, ...], Location] | None = None,
    scheme_file: str | Path | None = None,
    start_plan: str | Path | None = None,
    options: Options | None = None,
    **settings: Any,
) -> CompareResult:
    """The comparison under ``scheme`` instead of the status-quo incentives.

    ``scheme`` maps a department to ``{kpi: weight}``; a KPI is the department's own
    (``volume`` or ``sales.volume``) or company-wide (``company_profit``).  Departments not
    named keep their current scheme.  A scheme with an ``allocations`` section (department
    -> {resource: amount}, as ``design`` writes it) is also verified there exactly as
    ``design`` verifies its own: ``result.verification``.  A ``prices`` entry
    (``{constraint: price}`` or ``{constraint: {index: price}}``) is a price scheme: every
    department the scheme does not name becomes a profit centre at those transfer prices.
    ``locations`` (from
    :func:`~kpidesign.spec.scheme.read_scheme`) lets errors name the scheme file's lines;
    ``start_plan`` as in :func:`compare`.
    """
    return compare(
        model,
        variant,
        scheme=scheme,
        locations=locations,
        scheme_file=scheme_file,
        start_plan=start_plan,
        options=options,
        **settings,
    )

"""The Python API: one call per analysis, each taking a path or an already loaded spec.

Every analysis takes its settings as one :class:`~kpidesign.options.Options`
(``options=``) or as keyword overrides of its fields (``tol=1e-7``), and returns its
result whatever the solver says: ``result.status`` is ``optimal`` when the analysis has
its answer, and otherwise ``result.diagnosis`` says why not (``result.raise_if_failed()``
turns that into a :class:`~kpidesign.errors.SolveError`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .analyses.compare import compare_plans
from .analyses.design import design_schemes
from .analyses.frontier import bound_of, value_frontier
from .analyses.prices import resolve_prices
from .analyses.sensitivity import sensitivity_report
from .analyses.system import solve_system
from .errors import KpiDesignError, Location
from .model.assemble import program
from .model.problem import Problem, file_digest
from .model.program import LinearProgram
from .options import Options
from .results import (
    CompareResult,
    DesignResult,
    DiffResult,
    FrontierResult,
    SensitivityResult,
    SweepResult,
    SystemResult,
)
from .spec import ModelSpec, load
from .spec.model import (
    DEFAULT_MAX_SIZE,
    margins,
    own_name,
    with_margin,
    with_total,
    without_margins,
)
from .spec.plan import with_today
from .spec.scheme import resolve_allocations, resolve_scheme, split_scheme
from .spec.sources import did_you_mean
from .types import Plan, Sense

if TYPE_CHECKING:
    from .analyses.monitor import Observed
    from .model.build import BuiltModel
    from .results.contract import ContractResult
    from .results.monitor import MonitorResult
    from .results.report import ReportResult
    from .results.reveal import RevealResult
    from .results.stress import StressResult
    from .spec.model import PlanSpec
    from .spec.shocks import Shocks

__all__ = [
    "Prepared",
    "compare",
    "contract",
    "design",
    "diff",
    "evaluate",
    "frontier",
    "monitor",
    "prepare",
    "report",
    "reveal",
    "sensitivity",
    "solve",
    "stress",
    "sweep",
]  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A spec with its compiled program, for analyses that need not build it again (a
    sweep's points that share a program); ``lp`` must be ``spec``'s program."""

    spec: ModelSpec
    lp: LinearProgram


Model = str | Path | ModelSpec | Prepared


def _spec(model: Model, variant: str | None, start_plan: str | Path | None = None) -> ModelSpec:
    if isinstance(model, Prepared):
        model = model.spec
    if not isinstance(model, ModelSpec):
        return load(model, variant, start_plan=start_plan)
    return model if start_plan is None else with_today(model, Path(start_plan))


def prepare(
    model: Model, variant: str | None = None, *, start_plan: str | Path | None = None
) -> tuple[ModelSpec, LinearProgram]:
    """Load (if given a path), build and compile: the spec and its LinearProgram.
    ``start_plan`` (a plan file) replaces the file's ``today:``."""
    if isinstance(model, Prepared) and start_plan is None:
        return model.spec, model.lp
    spec = _spec(model, variant, start_plan)
    return spec, program(spec)


def build(model: Model, variant: str | None = None) -> BuiltModel:
    """The Pyomo model of a model (a path or spec), built on demand: for inspection,
    extension, or writing as LP/MPS (``built.model.write("model.lp")``).  Analyses never
    need it: they solve the program :func:`prepare` assembles, which equals this model's
    standard form entry by entry."""
    from .model.build import build as build_pyomo

    return build_pyomo(_spec(model, variant))


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
    released = program(without_margins(spec))
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
    if margin is not None and (resource is not None or constraint is not None):
        msg = "give a resource, a constraint or a margin, one of them"
        raise ValueError(msg)
    if analysis != "solve" and resource is None:
        msg = f"{analysis} along a frontier needs a resource (--resource)"
        raise ValueError(msg)
    if margin is not None:
        return _margin_frontier(
            _spec(model, variant, None), margin, start, stop, Options.of(options, **settings)
        )
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
    base = program(with_margin(spec, name, 0.0))  # unknown names stop here
    if name in spec.constraints:
        rows = base.constraint_rows()
        rows = rows[base.row_component[rows] == base.row_components.index(name)]
        if np.all(base.row_lower[rows] == base.row_upper[rows]):
            msg = f"{name} is an equality: it has no margin"
            raise ValueError(msg)
    try:
        moved = program(with_margin(spec, name, probe))
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


_SQ_COLUMNS = ["total", "status", *CompareResult.FIGURES]
_DESIGN_COLUMNS = ["total", "status", *DesignResult.FIGURES]


def _status_quo_row(total: float, c: CompareResult) -> dict[str, Any]:
    """One point of the status quo along a frontier: compare's figures at ``total``."""
    return {"total": total, "status": str(c.status), **c.figures()}


def _design_row(total: float, d: DesignResult) -> dict[str, Any]:
    """One point of the designs along a frontier: design's figures at ``total`` (the
    designed scheme on its worst computed path)."""
    return {"total": total, "status": str(d.status), **d.figures()}


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


def _analyse_point(
    analysis: str,
    options: Options,
    scheme: dict[str, Any] | None,
    scheme_file: str | None,
    spec: ModelSpec,
    lp: LinearProgram,
) -> Any:
    """One sweep point's ``analysis`` of ``spec`` with its compiled program ``lp``."""
    model = Prepared(spec, lp)
    if analysis == "solve":
        return solve(model, options=options)
    if analysis == "compare":
        return compare(model, options=options)
    if analysis == "design":
        return design(model, options=options)
    assert scheme is not None
    return evaluate(model, scheme, scheme_file=scheme_file, options=options)


def sweep(
    file: str | Path,
    sets: list[str] | None = None,
    scales: list[str] | None = None,
    *,
    paired: bool = False,
    variants: list[str | None] | None = None,
    analysis: str = "solve",
    scheme_file: str | Path | None = None,
    workers: int | None = 1,
    engine: str = "local",
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    max_size: int = DEFAULT_MAX_SIZE,
    verbose: bool = False,
    progress: Any = None,
    options: Options | None = None,
    **settings: Any,
) -> SweepResult:
    """``analysis`` (solve, compare, design, evaluate with ``scheme_file``) at every point of a
    grid of ``sets`` (``"PATH=a:b:n"`` or ``"PATH=v1,v2"``: any path a scenario's ``set``
    accepts) and ``scales`` (``"params.demand=0.8:1.2:5"``), or with ``paired`` the i-th
    values together; each of ``variants`` (a scenario's, ``None`` for the file's own) as one
    more axis (``workers`` None: one per core). Every point is validated before any solving
    (a ``SpecError`` naming the points). Points run in chunks of a fixed size on ``workers``
    processes (``engine="local"``) or on Dask (``engine="dask"``: a cluster at
    ``scheduler``, else a LocalCluster), and the result does not depend on which; with
    ``out`` finished chunks are kept there, and ``resume`` continues a sweep kept there. A
    point without an optimum is a row with its status and diagnosis."""
    from .runners.plan import fingerprint, parse_axis, sweep_points
    from .runners.points import ANALYSES, HEADLINES, SweepTask
    from .runners.sweep import default_workers, point_specs, run_chunks
    from .spec.load import CachedReader
    from .spec.scheme import read_scheme

    if analysis not in ANALYSES:
        msg = f"analysis must be one of {', '.join(ANALYSES)}, not {analysis!r}"
        raise ValueError(msg)
    if (analysis == "evaluate") != (scheme_file is not None):
        msg = "evaluate needs a scheme (--scheme), and only evaluate takes one"
        raise ValueError(msg)
    axes = [parse_axis(t, "set") for t in sets or []] + [
        parse_axis(t, "scale") for t in scales or []
    ]
    if not axes and not variants:
        msg = "nothing to sweep: give --set PATH=VALUES, --scale PATH=VALUES or --variants"
        raise ValueError(msg)
    points = sweep_points(axes, paired=paired, variants=variants)
    path = Path(file)
    reader = CachedReader()
    base = {v: load(path, v, max_size=max_size, reader=reader) for v in variants or [None]}
    specs = point_specs(path, points, max_size, reader)
    scheme = None
    if scheme_file is not None:
        scheme, _ = read_scheme(Path(scheme_file))
    # the sweep's workers run points; each point's analysis runs in one process (HiGHS's
    # threads stay at the caller's setting: a process that has solved with its default
    # cannot switch a later instance to one thread)
    opts = dataclasses.replace(Options.of(options, **settings), workers=1)
    named = None if scheme_file is None else str(scheme_file)
    analyse = functools.partial(_analyse_point, analysis, opts, scheme, named)
    task = SweepTask(analysis, analyse, base)
    first = next(iter(base.values()))
    files = sorted({f for spec in base.values() for f in spec.input_files})
    key = fingerprint(
        [(str(f), file_digest(f)) for f in files],
        [(a.path, a.kind, list(a.values)) for a in axes], paired, variants, analysis,
        dataclasses.asdict(opts), scheme,
    )  # fmt: skip
    rows = run_chunks(
        task, list(zip(points, specs, strict=True)), workers=workers or default_workers(),
        engine=engine,
        scheduler=scheduler, out=None if out is None else Path(out), resume=resume, key=key,
        verbose=verbose, progress=progress,
    )  # fmt: skip
    return SweepResult.of_rows(
        model=first.name,
        scenario=first.scenario,
        analysis=analysis,
        axes=[{"path": a.path, "kind": a.kind, "values": list(a.values)} for a in axes],
        points=[(p.index, p.variant, p.labels()) for p in points],
        rows=rows,
        figures=HEADLINES[analysis],
    )


def diff(
    a: Model,
    b: Model | None = None,
    *,
    variants: tuple[str | None, str | None] = (None, None),
    analysis: str = "solve",
    everything: bool = False,
    options: Options | None = None,
    **settings: Any,
) -> DiffResult:
    """``analysis`` (solve, compare or design) of two scenarios, models or variants side by
    side: ``a`` with ``variants[0]`` against ``b`` (``a`` if None) with ``variants[1]``.
    Every figure of the two results' JSON is paired by its path (objective, allocations,
    every KPI, shared state, duals; for design the weights); ``changes`` holds those that
    differ (all of them with ``everything``), each with ``b - a`` for numbers."""
    from .results.diff import pair_figures

    runs = {"solve": solve, "compare": compare, "design": design}
    if analysis not in runs:
        msg = f"analysis must be one of {', '.join(runs)}, not {analysis!r}"
        raise ValueError(msg)
    sides = [(a, variants[0]), (a if b is None else b, variants[1])]
    opts = Options.of(options, **settings)
    results, described = [], []
    for model, variant in sides:
        spec = _spec(model, variant)
        results.append(runs[analysis](spec, options=opts).to_dict())
        described.append(
            {"file": str(spec.scenario_file or spec.model_file), "scenario": spec.scenario,
             "variant": spec.variant}
        )  # fmt: skip
    paired = pair_figures(results[0], results[1])
    changed = [row for row, differs in paired if differs]
    rows = [row for row, _ in paired] if everything else changed
    notes = [] if changed else ["the two runs agree on every figure"]
    return DiffResult(
        analysis=analysis,
        a=described[0],
        b=described[1],
        changes=pd.DataFrame(rows, columns=["section", "key", "a", "b", "delta"], dtype=object),
        compared=len(paired),
        everything=everything,
        notes=notes,
    )


def _own_names(scheme: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """A scheme with each department's own KPIs by their own names (``volume``, not
    ``sales.volume``), as design writes them."""
    return {d: {own_name(k, d): w for k, w in ws.items()} for d, ws in scheme.items()}


def _shocks(spec: ModelSpec) -> Shocks | None:
    """The ``shocks:`` of the spec's scenario file, checked (None without)."""
    from .spec.shocks import read_shocks

    return None if spec.scenario_file is None else read_shocks(spec.scenario_file, spec)


#: the steps of :func:`report`, for a progress bar (one more per resource's frontier)
REPORT_STEPS = ("build", "compare", "recommend", "sensitivity")


def report(
    model: Model,
    variant: str | None = None,
    *,
    scheme: dict[str, dict[str, float]] | None = None,
    locations: dict[tuple[str, ...], Location] | None = None,
    scheme_file: str | Path | None = None,
    title: str | None = None,
    actuals: str | Path | None = None,
    through: Any = None,
    time_set: str | None = None,
    keep_allocations: bool = False,
    progress: Callable[[str], None] | None = None,
    options: Options | None = None,
    **settings: Any,
) -> ReportResult:
    """Everything the consultant's report shows, on one compiled program: ``compare``,
    the recommended scheme (``design``'s, or ``scheme`` evaluated, as :func:`evaluate`
    takes it; for partner firms, a model with a ``contract:``, :func:`contract`'s terms),
    ``sensitivity`` at today's allocations and a value frontier over each resource; where
    the scenario declares ``shocks:``, :func:`stress` too (its futures on
    ``options.workers`` processes); with ``actuals`` (a plan file), :func:`monitor` (with
    ``through``, ``time_set``, ``keep_allocations``) and :func:`reveal` of the same
    periods.  ``progress`` is called with each step's name before it runs (``build``,
    ``compare``, ``recommend``, ``sensitivity``, ``frontier R`` per resource, ``stress``,
    ``monitor``, ``reveal``).  A step without an optimum raises
    :class:`~kpidesign.errors.SolveError`."""
    from .analyses.common import share_of_optimum
    from .analyses.summary import summarize
    from .results.report import Recommendation, ReportResult

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    opts = Options.of(options, **settings)
    step("build")
    spec = _spec(model, variant)
    here = Prepared(spec, program(spec))
    step("compare")
    compared = compare(here, options=opts).raise_if_failed()
    current = _own_names(compared.incentives)
    step("recommend")
    designed: DesignResult | None = None
    contracted: ContractResult | None = None
    if scheme is None and spec.contract:  # partner firms: the contract is the lever
        contracted = contract(here, options=opts)
        checked = contracted.verification
        recommendation = Recommendation(
            source="contract",
            weights=current,
            current=current,
            worst=checked.objective,
            worst_share=checked.share_of_optimum,
            best=checked.optimistic.objective,
            best_share=checked.optimistic.share_of_optimum,
            start=checked.start,
            paths=checked.paths,
        )
        runs = [compared.run, contracted.run]
    elif scheme is None:
        designed = design(here, options=opts).raise_if_failed()
        chosen = designed.chosen
        recommendation = Recommendation(
            source="design",
            weights=_own_names(designed.scheme),
            current=current,
            worst=chosen.objective,
            worst_share=chosen.share_of_optimum,
            best=chosen.optimistic.objective,
            best_share=chosen.optimistic.share_of_optimum,
            start=chosen.start,
            paths=chosen.paths,
            allocation=designed.allocation(),
            allocation_changes=tuple(designed.allocation_changes()),
        )
        runs = [compared.run, designed.run]
    else:
        evaluated = evaluate(
            here, scheme, locations=locations, scheme_file=scheme_file, options=opts
        ).raise_if_failed()
        weights, allocations, _ = split_scheme(scheme)
        optimum, sense = evaluated.objectives[Plan.SYSTEM], str(evaluated.sense)
        checked = evaluated.verification
        if checked is not None:  # at the scheme's allocations: its verification
            worst, best = checked.objective, checked.optimistic.objective
            worst_share = checked.share_of_optimum
            best_share = checked.optimistic.share_of_optimum
            start, paths = checked.start, checked.paths
        else:  # at today's allocations: the status quo's range under the scheme
            ranged = evaluated.status_quo_range
            low, high = (ranged.low, ranged.high) if ranged else (np.nan, np.nan)
            worst, best = (low, high) if evaluated.sense is Sense.MAX else (high, low)
            worst_share = share_of_optimum(sense, worst, optimum)
            best_share = share_of_optimum(sense, best, optimum)
            start = "today's allocations, the aligned plan B and today's plan if given"
            paths = ranged.paths if ranged else 1
        recommendation = Recommendation(
            source=str(scheme_file) if scheme_file is not None else "scheme",
            weights={**current, **_own_names(weights or {})},
            current=current,
            worst=worst,
            worst_share=worst_share,
            best=best,
            best_share=best_share,
            start=start,
            paths=paths,
            allocation={d: dict(a) for d, a in (allocations or {}).items()},
        )
        runs = [compared.run, evaluated.run]
    step("sensitivity")
    priced = sensitivity(here, options=opts).raise_if_failed()
    runs.append(priced.run)
    frontiers = {}
    for name in spec.resources:
        step(f"frontier {name}")
        frontiers[name] = frontier(here, name, options=opts).raise_if_failed()
        runs.append(frontiers[name].run)
    stressed = None
    if (shocks := _shocks(spec)) is not None:
        step("stress")
        stressed = stress(spec, shocks=shocks, workers=opts.workers, options=opts)
        runs.append(stressed.run)
    monitored = revealed = None
    if actuals is not None:
        step("monitor")
        monitored = monitor(
            here,
            actuals=actuals,
            through=through,
            time_set=time_set,
            keep_allocations=keep_allocations,
            options=opts,
        )
        step("reveal")
        revealed = reveal(
            here,
            actuals=actuals,
            through=monitored.through,
            time_set=monitored.time_set,
            options=opts,
        )
        runs += [monitored.run, revealed.run]
    inputs = dict(kv for r in runs for kv in r.inputs)
    run = dataclasses.replace(
        compared.run,
        solves=sum(r.solves for r in runs),
        iterations=sum(r.iterations for r in runs),
        seconds=sum(r.seconds for r in runs),
        inputs=tuple(inputs.items()),
    )
    return ReportResult(
        title=title
        or f"{spec.name}: {spec.scenario}" + (f" ({spec.variant})" if spec.variant else ""),
        run=run,
        summary=summarize(spec, here.lp),
        margins=margins(spec),
        compare=compared,
        recommendation=recommendation,
        sensitivity=priced,
        frontiers=frontiers,
        design=designed,
        contract=contracted,
        stress=stressed,
        monitor=monitored,
        reveal=revealed,
    )


def _actuals(spec: ModelSpec, csv_path: Path) -> PlanSpec:
    """The plan file of actuals ``csv_path``, checked against ``spec`` (a
    :class:`~kpidesign.errors.SpecError` with every error of the file)."""
    from .errors import ErrorCollector
    from .spec.plan import read_plan

    errors = ErrorCollector()
    read = read_plan(
        csv_path, Location(None, None, "--actuals"), spec.variables, spec.sets, errors,
        spec.max_size,
    )  # fmt: skip
    errors.raise_if_any()
    assert read is not None
    return read


def _observed(
    spec: ModelSpec, lp: LinearProgram, read: PlanSpec, through: Any, time_set: str | None
) -> Observed:
    """The actuals ``read`` of the periods of the model's time set (``time_set`` where the
    lags do not say) up to ``through`` (default: the last period they give)."""
    from .analyses.monitor import observe
    from .spec.time import member_of
    from .spec.time import time_set as find_time_set

    period_set = find_time_set(spec, time_set)
    members = tuple(spec.sets[period_set].members)
    over = {n: v.over for n, v in spec.variables.items()}
    if through is None:
        given = {
            idx[over[name].index(period_set)]
            for name, idx in read.values
            if period_set in over[name]
        }
        if not given:
            msg = (
                f"{read.file}: the actuals give no value of a variable over {period_set}: "
                "say which periods they cover with --through"
            )
            raise KpiDesignError(msg)
        through = max(given, key=members.index)
    else:
        through = member_of(spec, period_set, str(through), "--through")
    return observe(lp, over, members, read, period_set, through)


def monitor(
    model: Model,
    variant: str | None = None,
    *,
    actuals: str | Path,
    through: Any = None,
    time_set: str | None = None,
    keep_allocations: bool = False,
    redesign: bool = False,
    scheme: dict[str, dict[str, float]] | None = None,
    locations: dict[tuple[str, ...], Location] | None = None,
    scheme_file: str | Path | None = None,
    options: Options | None = None,
    **settings: Any,
) -> MonitorResult:
    """The year so far against the plan (see :mod:`kpidesign.analyses.monitor`): the
    ``actuals`` (a plan file) of the periods of the model's time set (the set its lags
    run over; ``time_set`` where there are several) up to ``through`` (default: the last
    period the actuals give) fixed, the rest and the allocations (unless
    ``keep_allocations``) re-optimized: the value lost, each department's part of it
    (Shapley values), the drift of decisions and KPIs, the re-planned allocations; with
    ``redesign``, the KPI design for the periods from here (``result.redesign``).  With
    ``scheme`` (as :func:`evaluate` takes it; ``scheme_file`` its file), the plan is its
    predicted outcome (compare's status quo under it) instead of the optimum."""
    from .analyses.compare import status_quo_plan
    from .analyses.monitor import fixed_program, monitor_year

    spec, lp = prepare(model, variant)
    csv_path = Path(actuals)
    read = _actuals(spec, csv_path)
    observed = _observed(spec, lp, read, through, time_set)
    problem = Problem.from_spec(spec, lp).reading(csv_path)
    opts = Options.of(options, **settings)
    predicted, source = None, "system optimum"
    notes = []
    if scheme is not None:
        weights, allocations, prices = split_scheme(scheme)
        if prices is not None:
            msg = (
                f"{scheme_file or 'scheme'}: a prices: section: monitor predicts a scheme of "
                "weights only (evaluate runs a price scheme)"
            )
            raise KpiDesignError(msg)
        if allocations is not None:
            notes.append(
                "the scheme's allocations: section is not used: its prediction is at "
                "today's allocations, as compare's status quo"
            )
        resolved = resolve_scheme(spec, weights or {}, locations)
        if scheme_file is not None:
            problem = problem.reading(Path(scheme_file))
        predicted = status_quo_plan(lp, problem, resolved, opts)
        source = f"the prediction of {scheme_file or 'the scheme'} at today's allocations"
    result = monitor_year(
        lp, problem, observed, opts, keep_allocations=keep_allocations, predicted=predicted
    )
    result = dataclasses.replace(result, plan_source=source, notes=[*notes, *result.notes])
    if not redesign:
        return result
    fixed = fixed_program(lp, observed, keep_allocations)
    return dataclasses.replace(result, redesign=design_schemes(fixed, problem, opts))


def contract(
    model: Model,
    variant: str | None = None,
    *,
    split: str = "equal",
    options: Options | None = None,
    **settings: Any,
) -> ContractResult:
    """The contract terms (the model's ``contract:`` params, within their bounds) under
    which each partner's own optimum is the alliance optimum, with a margin against ties;
    fixed payments that split the surplus over today's status quo (``split``: ``equal``
    or ``proportional``); and the decentralized outcome under the new terms, verified on
    both tie-breaks (see :mod:`kpidesign.analyses.contract`)."""
    from .analyses.contract import contract_terms

    spec, lp = prepare(model, variant)
    problem = Problem.from_spec(spec, lp)
    return contract_terms(lp, problem, Options.of(options, **settings), spec=spec, split=split)


def reveal(
    model: Model,
    variant: str | None = None,
    *,
    actuals: str | Path,
    departments: list[str] | None = None,
    through: Any = None,
    time_set: str | None = None,
    options: Options | None = None,
    **settings: Any,
) -> RevealResult:
    """The incentives each department acts on, read from the ``actuals`` (a plan file;
    see :mod:`kpidesign.analyses.reveal`): per department the weights over its KPIs under
    which its observed decisions are its best choice or closest to it, the interval of
    weights that fit as well per KPI, the fit ρ in [0, 1], and its official scheme's fit;
    ``departments`` (default: all) limits it to those; ``through`` (and ``time_set``, as
    :func:`monitor` takes them) uses the actuals of the periods up to it only."""
    from .analyses.reveal import reveal_weights
    from .model.problem import TodayPlan

    spec, lp = prepare(model, variant)
    for d in departments or []:
        if d not in spec.departments:
            hint = did_you_mean(d, spec.departments, otherwise="")
            msg = f"--department: unknown department '{d}'{hint}"
            raise KpiDesignError(msg)
    csv_path = Path(actuals)
    read = _actuals(spec, csv_path)
    problem = Problem.from_spec(spec, lp).reading(csv_path)
    observed = TodayPlan.of(read, lp)
    notes = []
    if through is not None or time_set is not None:
        seen = _observed(spec, lp, read, through, time_set)
        observed = TodayPlan(observed.source, seen.columns, seen.values)
        if seen.ignored:
            notes.append(
                f"{seen.ignored} value(s) of the actuals are for periods after "
                f"{seen.time_set} {seen.through} and were not used"
            )
    if not len(observed):
        msg = f"{csv_path}: the actuals give no value to reveal anything from"
        raise KpiDesignError(msg)
    result = reveal_weights(
        lp, problem, observed, Options.of(options, **settings), departments=departments
    )
    return dataclasses.replace(result, notes=[*notes, *result.notes])


def stress(
    model: Model,
    variant: str | None = None,
    *,
    samples: int | str | None = None,
    seed: int | None = None,
    commit: int | str = 0,
    per_margin: bool = False,
    analysis: str = "solve",
    scheme: dict[str, Any] | None = None,
    locations: dict[tuple[str, ...], Location] | None = None,
    shocks: Shocks | None = None,
    workers: int | None = 1,
    engine: str = "local",
    scheduler: str | None = None,
    progress: Callable[[str], None] | None = None,
    options: Options | None = None,
    **settings: Any,
) -> StressResult:
    """The scenario's plans lived through futures drawn from its ``shocks:``: the plan made
    with the model's margins, without them, for the average future, and the robust
    allocation, each re-solved in every future with the margins released (see
    :mod:`kpidesign.analyses.stress`).  ``samples`` and ``seed`` override the file's;
    ``commit`` (0, a number of periods, or ``all``) fixes more than the allocations;
    ``per_margin`` adds a plan per margin made with it alone (its own value);
    ``analysis="compare"`` adds the decentralized outcome in every future: today's
    schemes (compare's status quo) against the scheme design makes for the forecast
    (evaluated there at its allocations; ``scheme``, as :func:`evaluate` takes it, in its
    place) and the system optimum, each future planned afresh (no first stage); the
    futures run in chunks serially, on a pool of ``workers`` processes (None: one per
    core) or on Dask (``engine``), with the same result on any of them.  The fresh
    futures of the out-of-sample figures are drawn with ``seed + 1``.  ``shocks``: the
    scenario's, if already read (:func:`~kpidesign.spec.shocks.read_shocks`)."""
    from .analyses.stress import run_futures, stress_test
    from .runners.sweep import default_workers, map_chunks
    from .spec.shocks import draw

    spec = _spec(model, variant)
    shocks = shocks or _shocks(spec)
    if shocks is None:
        where = spec.scenario_file or spec.model_file
        msg = f"{where}: no shocks: section (a scenario's shocks: declare the futures)"
        raise KpiDesignError(msg)
    base = shocks.seed if seed is None else seed
    workers = workers or default_workers()
    futures = draw(shocks, spec, samples=samples, seed=base)
    given = futures.exact or shocks.table is not None  # nothing fresh to draw
    fresh = futures if given else draw(shocks, spec, samples=samples, seed=base + 1)

    def evaluate(task: Any, chunks: list[list[int]]) -> list:
        done: dict[int, list] = {}
        map_chunks(
            functools.partial(run_futures, task),
            dict(enumerate(chunks)),
            done.__setitem__,
            workers=workers,
            engine=engine,
            scheduler=scheduler,
        )
        return [row for i in range(len(chunks)) for row in done[i]]

    if analysis not in ("solve", "compare"):
        msg = f"analysis must be solve or compare, not {analysis!r}"
        raise ValueError(msg)
    result = stress_test(
        spec,
        dataclasses.replace(shocks, seed=base),
        futures,
        fresh,
        Options.of(options, **settings),
        commit=commit,
        per_margin=per_margin,
        evaluate=evaluate,
        progress=progress,
    )
    if analysis == "compare":
        if progress is not None:
            progress("decentralized")
        if scheme is not None:  # every name checked once, located in its file
            weights, allocations, _ = split_scheme(scheme)
            resolve_scheme(spec, weights or {}, locations)
            resolve_allocations(spec, allocations or {}, locations)
        else:
            here = Prepared(spec, program(spec))
            designed = design(here, options=result.run.options).raise_if_failed()
            scheme = {**designed.scheme, "allocations": designed.allocation()}
        job = (spec, futures, scheme, result.run.options)
        indices = list(range(futures.size))
        chunks = {i: indices[k : k + 5] for i, k in enumerate(range(0, len(indices), 5))}
        done: dict[int, list] = {}
        map_chunks(
            functools.partial(_decentralized_chunk, job),
            chunks,
            done.__setitem__,
            workers=workers,
            engine=engine,
            scheduler=scheduler,
        )
        rows = [row for i in range(len(chunks)) for row in done[i]]
        frame = pd.DataFrame(rows)
        frame.insert(0, "weight", futures.weights)
        frame.insert(0, "future", indices)
        result = dataclasses.replace(result, decentralized=frame)
    return result


def _decentralized_chunk(job: tuple, indices: list[int]) -> list[dict[str, float]]:
    """compare (today's schemes) and evaluate (the designed scheme, at its allocations) in
    each future of ``indices``: the objectives, NaN where a future has no optimum."""
    spec, futures, scheme, options = job
    rows = []
    for s in indices:
        future = futures.spec(spec, s)
        here = Prepared(future, program(future))
        figures = compare(here, options=options).figures()
        checked = evaluate(here, scheme, options=options).verification
        worst = checked.objective if checked is not None else np.nan
        best = checked.optimistic.objective if checked is not None else np.nan
        rows.append(
            {
                "system": figures["system"],
                "aligned": figures["aligned"],
                "status_quo": figures["status_quo"],
                "status_quo_min": figures["status_quo_min"],
                "status_quo_max": figures["status_quo_max"],
                "designed": worst,
                "designed_optimistic": best,
            }
        )
    return rows

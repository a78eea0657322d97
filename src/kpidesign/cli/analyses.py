"""The analysis commands: ``solve``, ``compare``, ``design`` and ``evaluate``.

Each loads FILE, calls the Python API with one :class:`~kpidesign.options.Options`, turns
a result without an optimum into its diagnosis (one error line, exit status 2), and
renders the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .failures import handle_errors
from .options import (
    FILE,
    dynamics_options,
    model_options,
    output_options,
    solver_options,
    start_plan_option,
)

if TYPE_CHECKING:
    from ..options import Options

__all__ = ["compare", "design", "evaluate", "frontier", "sensitivity", "solve"]


def _run(
    name: str,
    file: Path,
    variant: str | None,
    max_size: int,
    fmt: str,
    out: Path | None,
    options: Options,
    start_plan: Path | None = None,
    **settings: object,
) -> None:
    """Load FILE (today's plan from ``start_plan`` if given), run the API's analysis
    ``name`` (with its own ``settings``) and render it with its table printer; a result
    without an optimum becomes its one-line error (exit status 2)."""
    from .. import api
    from ..render import table
    from ..render.files import emit
    from ..spec import load

    analysis = getattr(api, name)
    printer = getattr(table, _PRINTERS[name])
    spec = load(file, variant, max_size=max_size, start_plan=start_plan)
    result = analysis(spec, options=options, **settings)
    emit(result.raise_if_failed(), fmt, out, name, printer)


_PRINTERS = {
    "solve": "print_system",
    "sensitivity": "print_sensitivity",
    "frontier": "print_frontier",
    "compare": "print_compare",
    "design": "print_design",
}


@click.command()
@FILE
@model_options
@output_options
@solver_options
@handle_errors
def solve(
    file: Path, variant: str | None, max_size: int, fmt: str, out: Path | None, options: Options
) -> None:
    """The system optimum of FILE with allocations optimized: objective, allocations,
    KPIs, shared state and shadow prices."""
    _run("solve", file, variant, max_size, fmt, out, options)


@click.command()
@FILE
@model_options
@click.option(
    "--at",
    type=click.Choice(["today", "optimum"]),
    default="today",
    show_default=True,
    help="Where the report is taken: at today's allocations (plan B: what one more unit "
    "is worth given today's budgets) or at the system optimum (plan C).",
)
@output_options
@solver_options
@handle_errors
def sensitivity(
    file: Path,
    variant: str | None,
    max_size: int,
    at: str,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """Shadow prices with the ranges over which they hold, and costs with the ranges over
    which the plan stays optimal (a sensitivity report)."""
    _run("sensitivity", file, variant, max_size, fmt, out, options, at=at)


@click.command()
@FILE
@model_options
@click.option("--resource", default=None, help="The resource whose total varies.")
@click.option(
    "--constraint",
    default=None,
    help="Instead, the constraint row whose right-hand side varies (capacity or capacity[3]).",
)
@click.option(
    "--margin",
    default=None,
    help="Instead, the margin that varies, a fraction: a constraint's slack (its whole "
    "family together) or resources.R.reserve (default from 0 to twice the file's).",
)
@click.option(
    "--from",
    "start",
    type=float,
    default=None,
    help="The smallest value (default: half the file's, or for a total the least the "
    "allocations' lower bounds need).",
)
@click.option(
    "--to", "stop", type=float, default=None, help="The largest value (default: 1.5x the file's)."
)
@click.option(
    "--analysis",
    type=click.Choice(["solve", "compare", "design"]),
    default="solve",
    show_default=True,
    help="compare: also the status quo and the misalignment cost along the totals (a "
    "grid); design: the designed scheme's worst computed path there.",
)
@click.option(
    "--grid",
    type=click.IntRange(min=2),
    default=9,
    show_default=True,
    help="Totals compare or design run at with --analysis.",
)
@output_options
@dynamics_options
@handle_errors
def frontier(
    file: Path,
    variant: str | None,
    max_size: int,
    resource: str | None,
    constraint: str | None,
    margin: str | None,
    start: float | None,
    stop: float | None,
    analysis: str,
    grid: int,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """The company objective (allocations optimized) as a function of a resource's total
    (--resource), of a constraint's right-hand side (--constraint) or of a margin
    (--margin): every breakpoint of the exact value curve and the slope between them."""
    try:
        _run(
            "frontier", file, variant, max_size, fmt, out, options,
            resource=resource, constraint=constraint, margin=margin, start=start, stop=stop,
            analysis=analysis, grid=grid,
        )  # fmt: skip
    except ValueError as exc:  # an unknown resource, or totals out of order
        raise click.UsageError(str(exc)) from None


@click.command()
@FILE
@model_options
@start_plan_option
@output_options
@dynamics_options
@handle_errors
def compare(
    file: Path,
    variant: str | None,
    max_size: int,
    start_plan: Path | None,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """Status quo (each department at its own optimum) vs aligned vs system optimum."""
    _run("compare", file, variant, max_size, fmt, out, options, start_plan)


def _step(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    """``--round STEP``: a share that divides 1 into whole steps (0.05, 0.1, 0.25, ...)."""
    if value is None:
        return None
    units = round(1.0 / value) if 0 < value <= 1 else 0
    if units < 1 or abs(units * value - 1.0) > 1e-9:
        msg = f"{value:g} is not 1/N for a whole N (e.g. 0.05, 0.1, 0.25)"
        raise click.BadParameter(msg)
    return 1.0 / units


@click.command()
@FILE
@model_options
@click.option(
    "--max-kpis",
    type=click.IntRange(min=1),
    default=None,
    help="At most N KPIs with a positive weight per department.",
)
@click.option(
    "--round",
    "step",
    type=float,
    default=None,
    callback=_step,
    metavar="STEP",
    help="Weights in multiples of STEP (e.g. 0.05); the rounded scheme is the one verified "
    "and written.",
)
@click.option(
    "--lever",
    type=click.Choice(["weights", "prices"]),
    default="weights",
    show_default=True,
    help="The lever headlined and written to scheme.yaml: KPI weights, or transfer prices "
    "(every department a profit centre). Both are computed and shown.",
)
@output_options
@dynamics_options
@handle_errors
def design(
    file: Path,
    variant: str | None,
    max_size: int,
    max_kpis: int | None,
    step: float | None,
    lever: str,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """Design KPI weights that make the system optimum each department's own best choice,
    at allocations chosen for it; with --out DIR, also DIR/scheme.yaml, which `evaluate
    --scheme` reproduces."""
    _run(
        "design",
        file,
        variant,
        max_size,
        fmt,
        out,
        options,
        max_kpis=max_kpis,
        step=step,
        lever=lever,
    )


@click.command()
@FILE
@model_options
@click.option(
    "--scheme",
    "scheme_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="YAML file mapping department -> {kpi: weight}, with optional sections "
    "allocations: (what design --out writes) and prices: (the departments it does not name "
    "become profit centres at those transfer prices).",
)
@click.option(
    "--incentive",
    "incentives",
    multiple=True,
    metavar="DEPT.KPI=W",
    help="A weight in a department's scheme (repeatable); replaces its current scheme.",
)
@start_plan_option
@output_options
@dynamics_options
@handle_errors
def evaluate(
    file: Path,
    variant: str | None,
    max_size: int,
    scheme_file: Path | None,
    incentives: tuple[str, ...],
    start_plan: Path | None,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """The decentralized outcome under another incentive scheme, against the optimum."""
    from .. import api
    from ..errors import KpiDesignError
    from ..render.files import emit
    from ..render.table import print_compare
    from ..spec import load
    from ..spec.scheme import parse_incentives, read_scheme

    if scheme_file is None and not incentives:
        msg = "give --scheme FILE or at least one --incentive DEPT.KPI=W"
        raise KpiDesignError(msg)
    scheme, where = read_scheme(scheme_file) if scheme_file is not None else ({}, {})
    for dept, weights in parse_incentives(incentives).items():
        scheme[dept] = weights  # the command line replaces that department's file entry
    spec = load(file, variant, max_size=max_size, start_plan=start_plan)
    result = api.evaluate(spec, scheme, options=options, locations=where, scheme_file=scheme_file)
    emit(result.raise_if_failed(), fmt, out, "evaluate", print_compare)

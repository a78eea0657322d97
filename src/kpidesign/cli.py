"""The command line: parse options, call the pipeline, render.  Nothing else lives here."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from .errors import KpiDesignError

__all__ = ["main"]

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(messages: list[str]) -> None:
    for line in messages:
        _err.print(f"[red]error:[/red] {escape(line)}", markup=True, highlight=False)


def handle_errors(fn: Callable) -> Callable:
    """Turn user errors into one red line each and exit status 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except KpiDesignError as exc:
            if debug:
                raise
            _fail(exc.messages)
            sys.exit(2)
        except KeyboardInterrupt:
            _fail(["interrupted"])
            sys.exit(130)
        except Exception as exc:
            if debug:
                raise
            _fail([f"internal error ({type(exc).__name__}): {exc} (run with --debug for details)"])
            sys.exit(1)

    return wrapper


def variant_option(fn: Callable) -> Callable:
    return click.option(
        "--variant", "-V", default=None, help="Apply this variant of the scenario."
    )(fn)


FILE = click.argument("file", type=click.Path(path_type=Path, dir_okay=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(package_name="kpidesign")
def main(debug: bool) -> None:
    """Design KPIs and allocations that make an organization pull in one direction."""


def output_options(fn: Callable) -> Callable:
    fn = click.option(
        "--out",
        "-o",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Also write the result (in --format) to this directory.",
    )(fn)
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
        help="Output format.",
    )(fn)


def solver_options(fn: Callable) -> Callable:
    fn = click.option(
        "--solver",
        type=click.Choice(["choose", "simplex", "ipm", "pdlp"]),
        default="choose",
        show_default=True,
        help="HiGHS algorithm (ipm: interior point, for the largest models).",
    )(fn)
    return click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="Solver time limit in seconds, per solve.",
    )(fn)


def _dynamics_options(fn: Callable) -> Callable:
    fn = solver_options(fn)
    fn = click.option(
        "--tol",
        type=click.FloatRange(min=0, min_open=True),
        default=1e-6,
        show_default=True,
        help="Convergence tolerance of the dynamics.",
    )(fn)
    return click.option(
        "--max-rounds",
        type=click.IntRange(min=1),
        default=50,
        show_default=True,
        help="Round limit of the best-response dynamics.",
    )(fn)


@main.command()
@FILE
@variant_option
@output_options
@handle_errors
def validate(file: Path, variant: str | None, fmt: str, out: Path | None) -> None:
    """Load and build FILE (a model or scenario), then summarize it."""
    from .build import build
    from .output import emit
    from .render import print_summary
    from .spec import load
    from .summary import summarize

    emit(summarize(build(load(file, variant))), fmt, out, "validate", print_summary)


@main.command()
@FILE
@variant_option
@output_options
@solver_options
@handle_errors
def solve(
    file: Path,
    variant: str | None,
    fmt: str,
    out: Path | None,
    time_limit: float | None,
    solver: str,
) -> None:
    """The system optimum of FILE with allocations optimized: objective, allocations,
    KPIs, shared state and shadow prices."""
    from .api import solve as solve_api
    from .output import emit
    from .render import print_system

    result = solve_api(file, variant, time_limit=time_limit, solver=solver)
    emit(result, fmt, out, "solve", print_system)


@main.command()
@FILE
@variant_option
@output_options
@_dynamics_options
@handle_errors
def compare(
    file: Path,
    variant: str | None,
    fmt: str,
    out: Path | None,
    max_rounds: int,
    tol: float,
    time_limit: float | None,
    solver: str,
) -> None:
    """Status quo (each department at its own optimum) vs aligned vs system optimum."""
    from .api import compare as compare_api
    from .output import emit
    from .render import print_compare

    result = compare_api(
        file, variant, tol=tol, max_rounds=max_rounds, time_limit=time_limit, solver=solver
    )
    emit(result, fmt, out, "compare", print_compare)


@main.command()
@FILE
@variant_option
@output_options
@_dynamics_options
@handle_errors
def design(
    file: Path,
    variant: str | None,
    fmt: str,
    out: Path | None,
    max_rounds: int,
    tol: float,
    time_limit: float | None,
    solver: str,
) -> None:
    """Design KPI weights that make the system optimum each department's own best choice."""
    from .api import design as design_api
    from .output import emit
    from .render import print_design

    result = design_api(
        file, variant, tol=tol, max_rounds=max_rounds, time_limit=time_limit, solver=solver
    )
    emit(result, fmt, out, "design", print_design)


@main.command()
@FILE
@variant_option
@click.option(
    "--scheme",
    "scheme_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="YAML file mapping department -> {kpi: weight}.",
)
@click.option(
    "--incentive",
    "incentives",
    multiple=True,
    metavar="DEPT.KPI=W",
    help="A weight in a department's scheme (repeatable); replaces its current scheme.",
)
@output_options
@_dynamics_options
@handle_errors
def evaluate(
    file: Path,
    variant: str | None,
    scheme_file: Path | None,
    incentives: tuple[str, ...],
    fmt: str,
    out: Path | None,
    max_rounds: int,
    tol: float,
    time_limit: float | None,
    solver: str,
) -> None:
    """The decentralized outcome under another incentive scheme, against the optimum."""
    from .api import evaluate as evaluate_api
    from .errors import KpiDesignError
    from .output import emit
    from .render import print_compare
    from .scheme import parse_incentives, read_scheme

    if scheme_file is None and not incentives:
        msg = "give --scheme FILE or at least one --incentive DEPT.KPI=W"
        raise KpiDesignError(msg)
    scheme, where = read_scheme(scheme_file) if scheme_file is not None else ({}, {})
    for dept, weights in parse_incentives(incentives).items():
        scheme[dept] = weights  # the command line replaces that department's file entry
    result = evaluate_api(
        file,
        scheme,
        variant,
        tol=tol,
        max_rounds=max_rounds,
        time_limit=time_limit,
        solver=solver,
        locations=where,
    )
    emit(result, fmt, out, "evaluate", print_compare)

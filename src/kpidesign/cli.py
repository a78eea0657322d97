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
from .spec import DEFAULT_MAX_SIZE

__all__ = ["main"]

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(messages: list[str]) -> None:
    for line in messages:
        _err.print(f"[red]error:[/red] {escape(one_line(line))}", markup=True, highlight=False)


def one_line(text: str) -> str:
    """``text`` as one printable line: line breaks, escape sequences and other control or
    format characters (a user's file may hold any) shown as escapes, never acted on."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


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


def model_options(fn: Callable) -> Callable:
    """``--variant`` and ``--max-size``: how FILE is read."""
    fn = click.option(
        "--max-size",
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_SIZE,
        show_default=True,
        help="Largest set, variable, constraint family or sum, and total variables; "
        "a bigger model is refused before anything is allocated.",
    )(fn)
    return click.option(
        "--variant", "-V", default=None, help="Apply this variant of the scenario."
    )(fn)


# no checks by click here: the loader says what is wrong in the contract's one-line form
FILE = click.argument("file", type=click.Path(path_type=Path))


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
@model_options
@output_options
@handle_errors
def validate(file: Path, variant: str | None, max_size: int, fmt: str, out: Path | None) -> None:
    """Load and build FILE (a model or scenario), then summarize it."""
    from .build import build
    from .output import emit
    from .render import print_summary
    from .spec import load
    from .summary import summarize

    spec = load(file, variant, max_size=max_size)
    emit(summarize(build(spec)), fmt, out, "validate", print_summary)


@main.command()
@FILE
@model_options
@output_options
@solver_options
@handle_errors
def solve(
    file: Path,
    variant: str | None,
    max_size: int,
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
    from .spec import load

    spec = load(file, variant, max_size=max_size)
    result = solve_api(spec, time_limit=time_limit, solver=solver)
    emit(result, fmt, out, "solve", print_system)


@main.command()
@FILE
@model_options
@output_options
@_dynamics_options
@handle_errors
def compare(
    file: Path,
    variant: str | None,
    max_size: int,
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
    from .spec import load

    spec = load(file, variant, max_size=max_size)
    result = compare_api(spec, tol=tol, max_rounds=max_rounds, time_limit=time_limit, solver=solver)
    emit(result, fmt, out, "compare", print_compare)


@main.command()
@FILE
@model_options
@output_options
@_dynamics_options
@handle_errors
def design(
    file: Path,
    variant: str | None,
    max_size: int,
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
    from .spec import load

    spec = load(file, variant, max_size=max_size)
    result = design_api(spec, tol=tol, max_rounds=max_rounds, time_limit=time_limit, solver=solver)
    emit(result, fmt, out, "design", print_design)


@main.command()
@FILE
@model_options
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
    max_size: int,
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
    from .spec import load

    if scheme_file is None and not incentives:
        msg = "give --scheme FILE or at least one --incentive DEPT.KPI=W"
        raise KpiDesignError(msg)
    scheme, where = read_scheme(scheme_file) if scheme_file is not None else ({}, {})
    for dept, weights in parse_incentives(incentives).items():
        scheme[dept] = weights  # the command line replaces that department's file entry
    result = evaluate_api(
        load(file, variant, max_size=max_size),
        scheme,
        tol=tol,
        max_rounds=max_rounds,
        time_limit=time_limit,
        solver=solver,
        locations=where,
    )
    emit(result, fmt, out, "evaluate", print_compare)

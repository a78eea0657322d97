"""Options shared by several commands, as click decorators.  The solver and dynamics
options arrive in the command as one :class:`~kpidesign.options.Options` (``options``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..options import Options
from ..render.files import FORMATS
from ..solver.status import SOLVERS
from ..spec import DEFAULT_MAX_SIZE

__all__ = [
    "FILE",
    "actuals_option",
    "dynamics_options",
    "keep_allocations_option",
    "max_size_option",
    "model_options",
    "output_options",
    "path_options",
    "solver_options",
    "start_plan_option",
    "through_option",
]

# no checks by click here: the loader says what is wrong in the contract's one-line form
FILE = click.argument("file", type=click.Path(path_type=Path))

_DEFAULTS = Options()


def max_size_option(fn: Callable) -> Callable:
    """``--max-size``: the largest model read."""
    return click.option(
        "--max-size",
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_SIZE,
        show_default=True,
        help="Largest set, variable, constraint family or sum, and total variables; "
        "a bigger model is refused before anything is allocated.",
    )(fn)


def model_options(fn: Callable) -> Callable:
    """``--variant`` and ``--max-size``: how FILE is read."""
    fn = max_size_option(fn)
    return click.option(
        "--variant", "-V", default=None, help="Apply this variant of the scenario."
    )(fn)


def start_plan_option(fn: Callable) -> Callable:
    """``--start-plan CSV``: today's plan, instead of the file's ``today:``."""
    return click.option(
        "--start-plan",
        type=click.Path(path_type=Path),
        default=None,
        metavar="CSV",
        help="Today's plan (a plan file: variable,index,value), instead of the file's "
        "today:; a partial plan is completed, an infeasible one projected.",
    )(fn)


def scheme_option(fn: Callable) -> Callable:
    """``--scheme FILE``: a scheme file, as ``evaluate`` and ``report`` read it."""
    return click.option(
        "--scheme",
        "scheme_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="YAML file mapping department -> {kpi: weight}, with optional sections "
        "allocations: (what design --out writes) and prices: (the departments it does not "
        "name become profit centres at those transfer prices).",
    )(fn)


def actuals_option(*, required: bool, help: str) -> Callable[[Callable], Callable]:
    """``--actuals CSV``: a plan file of what was done (``monitor``, ``reveal``, ``report``)."""
    return click.option(
        "--actuals", type=click.Path(path_type=Path), required=required, default=None, help=help
    )


def through_option(fn: Callable) -> Callable:
    """``--through PERIOD`` and ``--time-set S``: the periods the actuals cover."""
    fn = click.option(
        "--time-set",
        default=None,
        help="The model's time set, where its lags run over several sets (or none).",
    )(fn)
    return click.option(
        "--through",
        default=None,
        metavar="PERIOD",
        help="The last period the actuals cover (default: the last one they give).",
    )(fn)


def keep_allocations_option(fn: Callable) -> Callable:
    """``--keep-allocations``: re-plan at the allocations in force."""
    return click.option(
        "--keep-allocations",
        is_flag=True,
        help="Re-plan at the allocations in force (the file's baselines) instead of "
        "re-optimizing them.",
    )(fn)


def engine_options(fn: Callable) -> Callable:
    """``--workers``, ``--engine`` and ``--scheduler``: where a sweep's points (a stress
    test's futures) run; the result does not depend on them."""
    fn = click.option(
        "--workers",
        "engine_workers",
        type=click.IntRange(min=1),
        default=None,
        help="Processes (or Dask workers) the work runs on [default: the cores].",
    )(fn)
    fn = click.option(
        "--engine",
        type=click.Choice(["local", "dask"]),
        default="local",
        show_default=True,
        help="local: a process pool; dask: a Dask cluster (pip install 'kpidesign[dask]').",
    )(fn)
    return click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="With --engine dask: an existing cluster's scheduler (tcp://host:8786); "
        "without it kpidesign starts and stops a LocalCluster.",
    )(fn)


def output_options(fn: Callable) -> Callable:
    """``--format`` and ``--out``."""
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
        type=click.Choice(list(FORMATS)),
        default="table",
        show_default=True,
        help="Output format.",
    )(fn)


def _collect_options(fn: Callable) -> Callable:
    """Gather the parameters named like :class:`Options` fields into ``options=``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = {k: kwargs.pop(k) for k in Options.fields() if k in kwargs}
        return fn(*args, options=Options(**settings), **kwargs)

    return wrapper


def solver_options(fn: Callable) -> Callable:
    """``--solver`` and ``--time-limit``."""
    fn = _collect_options(fn)
    fn = click.option(
        "--solver",
        type=click.Choice(list(SOLVERS)),
        default=_DEFAULTS.solver,
        show_default=True,
        help="HiGHS algorithm (ipm: interior point, for the largest models).",
    )(fn)
    return click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        default=_DEFAULTS.time_limit,
        help="Solver time limit in seconds, per solve.",
    )(fn)


def _orders(value: str | int) -> str | int:
    """``all``, ``file`` or a positive number of sampled orders."""
    if isinstance(value, int) or value in ("all", "file"):
        return value
    if value.isdigit() and int(value) >= 1:
        return int(value)
    msg = f"'{value}' is not 'all', 'file' or a positive number"
    raise click.BadParameter(msg)


def dynamics_options(fn: Callable) -> Callable:
    """:func:`solver_options` plus ``--tol``, ``--max-rounds``, ``--orders`` and
    ``--workers``."""
    fn = click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=_DEFAULTS.workers,
        show_default=True,
        help="Processes the dynamics' paths run on (the result does not depend on it).",
    )(fn)
    return path_options(fn)


def path_options(fn: Callable) -> Callable:
    """:func:`solver_options` plus the dynamics' ``--tol``, ``--max-rounds`` and
    ``--orders`` (not ``--workers``: a sweep's workers run points)."""
    fn = solver_options(fn)
    fn = click.option(
        "--orders",
        callback=lambda _ctx, _param, value: _orders(value),
        default=str(_DEFAULTS.orders),
        show_default=True,
        metavar="all|file|N",
        help="Department orders the status-quo dynamics run in: every order (up to "
        "6 departments; a sample of 720 beyond), the file's order alone, or a seeded "
        "sample of N orders. The status quo is reported as the range over them.",
    )(fn)
    fn = click.option(
        "--tol",
        type=click.FloatRange(min=0, min_open=True),
        default=_DEFAULTS.tol,
        show_default=True,
        help="Convergence tolerance of the dynamics.",
    )(fn)
    return click.option(
        "--max-rounds",
        type=click.IntRange(min=1),
        default=_DEFAULTS.max_rounds,
        show_default=True,
        help="Round limit of the best-response dynamics.",
    )(fn)

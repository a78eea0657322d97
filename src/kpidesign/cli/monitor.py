"""``kpidesign monitor`` (the year so far against the plan, who caused the gap, the best
plan from here) and ``kpidesign reveal`` (which incentives a department acts on)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .failures import handle_errors
from .options import (
    FILE,
    actuals_option,
    keep_allocations_option,
    model_options,
    output_options,
    path_options,
    scheme_option,
    solver_options,
    through_option,
)

if TYPE_CHECKING:
    from ..options import Options

__all__ = ["monitor", "reveal"]


@click.command()
@FILE
@model_options
@actuals_option(
    required=True,
    help="A plan file (variable,index,value) of what was done in the periods so far.",
)
@through_option
@keep_allocations_option
@scheme_option
@click.option(
    "--redesign",
    is_flag=True,
    help="Also design the scorecards for the periods from here (the re-plan as target).",
)
@output_options
@path_options
@handle_errors
def monitor(
    file: Path,
    variant: str | None,
    max_size: int,
    actuals: Path,
    through: str | None,
    time_set: str | None,
    keep_allocations: bool,
    scheme_file: Path | None,
    redesign: bool,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """The actuals of FILE's periods so far against the plan: the re-plan from here, the
    value lost, each department's part of it (Shapley values) and the drift."""
    from .. import api
    from ..render.files import emit
    from ..render.table import print_monitor
    from ..spec import load
    from ..spec.scheme import read_scheme

    scheme, where = read_scheme(scheme_file) if scheme_file is not None else (None, None)
    spec = load(file, variant, max_size=max_size)
    result = api.monitor(
        spec,
        actuals=actuals,
        through=through,
        time_set=time_set,
        keep_allocations=keep_allocations,
        redesign=redesign,
        scheme=scheme,
        locations=where,
        scheme_file=scheme_file,
        options=options,
    )
    emit(result, fmt, out, "monitor", print_monitor)


@click.command()
@FILE
@model_options
@actuals_option(
    required=True, help="A plan file (variable,index,value) of what the departments did."
)
@click.option(
    "--department",
    "departments",
    multiple=True,
    help="Only this department (repeat for several; default: every one).",
)
@through_option
@output_options
@solver_options
@handle_errors
def reveal(
    file: Path,
    variant: str | None,
    max_size: int,
    actuals: Path,
    departments: tuple[str, ...],
    through: str | None,
    time_set: str | None,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """The incentives each department of FILE acts on, read from the actuals: the KPI
    weights under which its observed decisions are its best choice (or closest to it),
    their fit, and its official scheme's fit."""
    from .. import api
    from ..render.files import emit
    from ..render.table import print_reveal
    from ..spec import load

    spec = load(file, variant, max_size=max_size)
    result = api.reveal(
        spec,
        actuals=actuals,
        departments=list(departments) or None,
        through=through,
        time_set=time_set,
        options=options,
    )
    emit(result, fmt, out, "reveal", print_reveal)

"""``kpidesign stress``: plans made for the forecast, lived through the futures a
scenario's ``shocks:`` declare."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from .failures import handle_errors
from .options import (
    FILE,
    engine_options,
    model_options,
    output_options,
    path_options,
    scheme_option,
)

if TYPE_CHECKING:
    from ..options import Options

__all__ = ["stress"]


def _samples(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | str | None:
    """``--samples N`` (a positive number) or ``all``."""
    if value is None or value == "all":
        return value
    if value.isdigit() and 1 <= int(value) <= 100_000:
        return int(value)
    msg = f"'{value}' is not a number of futures from 1 to 100000, or 'all'"
    raise click.BadParameter(msg)


def _commit(_ctx: click.Context, _param: click.Parameter, value: str) -> int | str:
    """``--commit K`` (periods, 0 for the allocations only) or ``all``."""
    if value == "all":
        return value
    if value.isdigit():
        return int(value)
    msg = f"'{value}' is not a number of periods or 'all'"
    raise click.BadParameter(msg)


@click.command()
@FILE
@model_options
@click.option(
    "--samples",
    callback=_samples,
    default=None,
    metavar="N|all",
    help="Futures to draw (default: the file's shocks.samples); all enumerates discrete shocks.",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed of the draws.")
@click.option(
    "--commit",
    callback=_commit,
    default="0",
    show_default=True,
    metavar="K|all",
    help="Besides the allocations, fix the decisions of the first K periods (all: every "
    "decision) at the plan's.",
)
@click.option(
    "--per-margin",
    is_flag=True,
    help="Also a plan per margin (a constraint's slack, a reserve) made with it alone: "
    "the value of each margin.",
)
@click.option(
    "--analysis",
    type=click.Choice(["solve", "compare"]),
    default="solve",
    show_default=True,
    help="compare: also each future planned afresh by the departments, under today's "
    "schemes and under the scheme design makes for the forecast, against the optimum.",
)
@scheme_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@engine_options
@output_options
@path_options
@handle_errors
def stress(
    file: Path,
    variant: str | None,
    max_size: int,
    samples: int | str | None,
    seed: int | None,
    commit: int | str,
    per_margin: bool,
    analysis: str,
    scheme_file: Path | None,
    quiet: bool,
    engine_workers: int | None,
    engine: str,
    scheduler: str | None,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """Plans made for the forecast (with the model's margins, without them, for the
    average future, and the robust allocation), re-solved in every future FILE's shocks:
    declare with the margins released: the distribution of the objective, the value of
    the slack, the value of the stochastic solution."""
    from .. import api
    from ..errors import KpiDesignError
    from ..render.files import emit
    from ..render.table import print_stress
    from ..spec import load
    from ..spec.scheme import read_scheme

    if scheme_file is not None and analysis != "compare":
        msg = "--scheme is the scheme --analysis compare runs in each future: add it"
        raise KpiDesignError(msg)
    scheme, where = read_scheme(scheme_file) if scheme_file is not None else (None, None)
    spec = load(file, variant, max_size=max_size)
    console = Console(stderr=True)
    show = console.is_terminal and not quiet
    with contextlib.ExitStack() as stack:
        progress = None
        if show:  # a terminal gets a spinner naming the step; a pipe or a log nothing
            status = stack.enter_context(console.status("stress: plans"))
            progress = lambda step: status.update(f"stress: {step}")  # noqa: E731
        result = api.stress(
            spec,
            samples=samples,
            seed=seed,
            commit=commit,
            per_margin=per_margin,
            analysis=analysis,
            scheme=scheme,
            locations=where,
            workers=engine_workers,
            engine=engine,
            scheduler=scheduler,
            progress=progress,
            options=options,
        )
    emit(result, fmt, out, "stress", print_stress)

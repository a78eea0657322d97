"""``kpidesign contract``: the terms that align partner firms, and who pays whom."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .failures import handle_errors
from .options import FILE, model_options, output_options, path_options

if TYPE_CHECKING:
    from ..options import Options

__all__ = ["contract"]


@click.command()
@FILE
@model_options
@click.option(
    "--split",
    type=click.Choice(["equal", "proportional"]),
    default="equal",
    show_default=True,
    help="How fixed payments share the alliance's gain over today: equally (the Nash "
    "bargaining solution with side payments), or in proportion to today's profits.",
)
@output_options
@path_options
@handle_errors
def contract(
    file: Path,
    variant: str | None,
    max_size: int,
    split: str,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """The contract terms of FILE (its contract: params, within their bounds) under which
    each partner's own optimum is the alliance optimum, fixed payments that leave every
    partner better off than today, and the outcome under them."""
    from .. import api
    from ..render.files import emit
    from ..render.table import print_contract
    from ..spec import load

    spec = load(file, variant, max_size=max_size)
    emit(api.contract(spec, split=split, options=options), fmt, out, "contract", print_contract)

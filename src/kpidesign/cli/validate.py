"""``kpidesign validate``: load and build a file, then summarize it."""

from __future__ import annotations

from pathlib import Path

import click

from .failures import handle_errors
from .options import FILE, model_options, output_options

__all__ = ["validate"]


@click.command()
@FILE
@model_options
@output_options
@handle_errors
def validate(file: Path, variant: str | None, max_size: int, fmt: str, out: Path | None) -> None:
    """Load and build FILE (a model or scenario), then summarize it."""
    from ..analyses.summary import summarize
    from ..model.assemble import program
    from ..render.files import emit
    from ..render.validate import print_summary
    from ..spec import load

    spec = load(file, variant, max_size=max_size)
    emit(summarize(spec, program(spec)), fmt, out, "validate", print_summary)
